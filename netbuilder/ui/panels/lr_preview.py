"""A plot of the learning rate over the planned run, redrawn as the schedule, the optimizer's
base rate, the epochs or the batch size change.

The plotting library loads the first time the plot is shown (it costs half a second), so the
window opens without it.
"""
from __future__ import annotations

import math

from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from .labels import hint_label

# Training-split sizes of the built-in datasets (before the validation split).
KNOWN_TRAIN_SIZES = {"fashion-mnist": 60_000, "mnist": 60_000, "kmnist": 60_000, "cifar10": 50_000}
ASSUMED_STEPS = 100
_MAX_POINTS = 4000


def estimate_steps_per_epoch(settings: dict) -> tuple[int, str]:
    """Batches per epoch for the project's data and batch size, and how that was worked out."""
    data, training = settings["data"], settings["training"]
    if data["dataset"] == "toy-2d":
        samples = data["toy_points"]
    else:
        samples = KNOWN_TRAIN_SIZES.get(data["dataset"])
    if samples is None:
        return ASSUMED_STEPS, f"dataset size unknown until loaded: {ASSUMED_STEPS} batches per epoch assumed"
    samples = round(samples * (1 - data["validation_fraction"]))
    if data["limit"] is not None:
        samples = min(samples, data["limit"])
    steps = max(1, math.ceil(samples / training["batch_size"]))
    return steps, f"{steps:,} batches per epoch ({samples:,} samples, batch {training['batch_size']})"


def planned_curve(settings: dict) -> tuple[list[float], list[float], str] | None:
    """(x in epochs, lr, note) for the planned run, or None when no planner is available."""
    try:
        from ...train import schedules
    except ImportError:
        return None
    schedule = settings["schedule"]
    base_lr = settings["optimizer"]["lr"]
    epochs = settings["training"]["epochs"]
    steps, how = estimate_steps_per_epoch(settings)
    by_batch = schedule.get("interval") == "batch" and schedule["type"] != "plateau"
    if not by_batch:
        # One value per epoch: the rate is constant within an epoch.
        per_epoch = schedules.planned_lr_curve(schedule, base_lr, epochs, 1)
        xs, lrs = [], []
        for epoch, lr in enumerate(per_epoch):  # drawn as steps: flat across each epoch
            xs += [epoch, epoch + 1]
            lrs += [lr, lr]
    elif epochs * steps <= _MAX_POINTS:
        lrs = schedules.planned_lr_curve(schedule, base_lr, epochs, steps)
        xs = [i / steps for i in range(len(lrs))]
    else:
        # A long run: sample the same formula at evenly spaced batches instead of listing every one.
        total = epochs * steps
        ts = [round(i * (total - 1) / (_MAX_POINTS - 1)) for i in range(_MAX_POINTS)]
        lrs = [base_lr * schedules.lr_factor(schedule, t, total) for t in ts]
        xs = [t / steps for t in ts]
    note = schedules.plateau_note(schedule) if hasattr(schedules, "plateau_note") else None
    return xs, lrs, note or how


class LearningRatePreview(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.plot = None
        self.curve = None
        self._pending: dict | None = None
        self._layout = layout
        self.log_y = QCheckBox("Logarithmic rate axis", self)
        self.log_y.setToolTip("Show the learning rate on a log scale (decays become straight lines)")
        self.log_y.toggled.connect(self._on_log_toggled)
        self.summary = hint_label("", self)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.log_y)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        self.xs: list[float] = []
        self.lrs: list[float] = []

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.plot is None:
            self._make_plot()
            if self._pending is not None:
                self.set_settings(self._pending)

    def _make_plot(self) -> None:
        import pyqtgraph as pg

        self.plot = pg.PlotWidget(self)
        self.plot.setFixedHeight(190)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        item = self.plot.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setLabel("bottom", "epoch")
        item.setLabel("left", "learning rate")
        item.getAxis("left").enableAutoSIPrefix(False)  # "×0.001" on a learning-rate axis only confuses
        self.curve = self.plot.plot([], [])
        self._layout.insertWidget(0, self.plot)
        self._apply_colors()
        self._on_log_toggled(self.log_y.isChecked())

    def _apply_colors(self) -> None:
        if self.plot is None:
            return
        import pyqtgraph as pg

        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        accent = palette.color(QPalette.ColorRole.Highlight)
        self.plot.setBackground(background)
        for name in ("left", "bottom"):
            axis = self.plot.getPlotItem().getAxis(name)
            axis.setPen(pg.mkPen(QColor(text.red(), text.green(), text.blue(), 110)))
            axis.setTextPen(pg.mkPen(text))
        fill = QColor(accent)
        fill.setAlpha(40)
        self.curve.setPen(pg.mkPen(accent, width=2))
        self.curve.setBrush(pg.mkBrush(fill))
        self.curve.setFillLevel(None)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_colors()

    def _on_log_toggled(self, on: bool) -> None:
        if self.plot is not None:
            self.plot.getPlotItem().setLogMode(x=False, y=on)
            self._redraw()

    def set_settings(self, settings: dict) -> None:
        """Plan the run described by the project settings and draw it."""
        self._pending = settings
        try:
            planned = planned_curve(settings)
        except ValueError as exc:  # e.g. a piecewise schedule being edited into shape
            self.xs, self.lrs = [], []
            self.summary.setText(str(exc))
            self._redraw()
            return
        if planned is None:
            self.xs, self.lrs = [], []
            self.summary.setText("The preview appears once the training module is installed.")
            self._redraw()
            return
        self.xs, self.lrs, note = planned
        if self.lrs:
            self.summary.setText(f"Starts at {self.lrs[0]:.3g}, peaks at {max(self.lrs):.3g}, "
                                 f"ends at {self.lrs[-1]:.3g}. {note[0].upper()}{note[1:].rstrip('.')}.")
        else:
            self.summary.setText(note)
        self._redraw()

    def _redraw(self) -> None:
        if self.curve is None:
            return
        log = self.log_y.isChecked()
        # A log axis cannot show 0 (a warm-up's first rate, a floor of 0): draw those at a tiny value.
        floor = min((v for v in self.lrs if v > 0), default=1e-12) * 1e-2
        ys = [max(v, floor) for v in self.lrs] if log else list(self.lrs)
        self.curve.setData(self.xs, ys, fillLevel=None if log else 0.0)

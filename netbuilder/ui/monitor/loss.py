"""Loss per iteration: the raw values (thin), their moving average (thick), the training and
validation loss of each epoch as markers, an epoch scale on top, a log-scale toggle and the
chance level ln(C) as a guide — the first loss of a healthy classifier starts there."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSlider

from . import style
from .buffer import smooth
from .panel import IterationPanel, label


class LossPanel(IterationPanel):
    title = "Loss"
    object_name = "loss"
    families = ("run", "loss", "overlay")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.header.addWidget(label("Smoothing", self, "Weight of the moving average drawn as the thick line"))
        self.smoothing = QSlider(Qt.Orientation.Horizontal, self)
        self.smoothing.setRange(0, 99)
        self.smoothing.setValue(90)
        self.smoothing.setFixedWidth(80)
        self.smoothing.setToolTip("0 = no smoothing; 0.99 = very smooth")
        self.smoothing.valueChanged.connect(self._on_smoothing)
        self.header.addWidget(self.smoothing)
        self.add_log_toggle("A logarithmic loss axis shows progress late in training")
        self.finish_header()

        area = self.graphics()
        self.iteration_plot(area, "loss", legend=True)
        self.chance = pg.InfiniteLine(angle=0, movable=False, pen=style.pen(style.GUIDE, 1, Qt.PenStyle.DotLine),
                                      label="", labelOpts={"position": 0.02, "color": style.GUIDE, "anchors": [(0, 1), (0, 1)]})
        self.chance.setVisible(False)
        self.plot.addItem(self.chance, ignoreBounds=True)
        self.raw = style.curve(self.plot, style.TRAIN, 1.0, None, alpha=0.35)  # each batch: thin, no legend entry
        self.smooth_curve = style.curve(self.plot, style.TRAIN, 2.5, "training (smoothed)")
        self.train_epochs = style.curve(self.plot, style.TRAIN, 1.0, "training (epoch mean)", style=Qt.PenStyle.DashLine,
                                        symbol="o", symbol_size=7)
        self.val_epochs = style.curve(self.plot, style.VALIDATION, 2.0, "validation", symbol="s", symbol_size=7)
        for z, item in enumerate((self.raw, self.smooth_curve, self.train_epochs, self.val_epochs)):
            item.setZValue(3 + z)  # the current run over the runs it is compared with
        self.overlay_items: list = []
        self._overlay_cache: dict = {}
        self.empty = style.EmptyState("Train to see the loss curve", area)
        self._symbol_size = 7

    # ------------------------------------------------------------------ options
    def _on_smoothing(self, value: int) -> None:
        if self.buffer is not None:
            self.buffer.set_smoothing(value / 100.0)
            self._overlay_cache.clear()
            self.seen = {}

    # ------------------------------------------------------------------ drawing
    def refresh(self, buffer) -> None:
        if self.new_run(buffer):
            self.y_range.reset()
        self.epoch_axis.set_steps_per_epoch(buffer.steps_per_epoch)
        steps = buffer.steps.view()
        positive = self._log
        x, y = style.finite(steps, buffer.losses.view(), positive)
        self.raw.setData(x, y)
        shown = [y] if len(y) else []
        x, y = style.finite(steps, buffer.smoothed.view(), positive)
        self.smooth_curve.setData(x, y)
        epochs = buffer.epochs
        ex = np.array([e.get("step", 0) for e in epochs], dtype=np.float64)
        # the epoch's mean training loss sits in the middle of its iterations; validation comes at its end
        mid = ex - buffer.steps_per_epoch / 2.0
        self.train_epochs.setData(*style.finite(mid, np.array([_num(e.get("train_loss")) for e in epochs]), positive))
        val = style.finite(ex, np.array([_num(e.get("val_loss")) for e in epochs]), positive)
        self.val_epochs.setData(*val)
        if len(val[1]):
            shown.append(val[1])
        size = 7 if len(epochs) <= 20 else 5 if len(epochs) <= 60 else 3
        if size != self._symbol_size:  # many epochs: smaller markers
            for item in (self.train_epochs, self.val_epochs):
                item.setSymbolSize(size)
            self._symbol_size = size
        k = len(buffer.classes)
        level = None
        if k > 1 and buffer.info.get("classes") is not None:
            level = math.log(k)
            self.chance.setPos(math.log10(level) if self._log else level)
            self.chance.label.setFormat(f"chance: ln {k} = {level:.2f}")
            self.chance.setVisible(True)
        else:
            self.chance.setVisible(False)
        shown += self._draw_overlays(buffer)
        if shown:
            values = np.concatenate(shown)
            lo, hi = float(values.min()), float(values.max())
            if level is not None and hi >= 0.7 * level:
                # Room above the chance line for its label: a healthy first loss sits right on it.
                hi = max(hi, 1.15 * level)
            if self._log:
                lo, hi = np.log10(lo), np.log10(hi)
            self.y_range.update(lo, hi)
        longest = max([float(np.max(o.steps)) for o in buffer.overlays if len(o.steps)] or [0.0])
        self.span_run(self.plot, buffer, longest)
        has_data = len(steps) > 0 or bool(buffer.overlays)
        self.empty.set_visible(not has_data, buffer.status or "Train to see the loss curve")
        if len(steps):
            last = buffer.losses.view()[-1]
            smoothed = buffer.smoothed.view()[-1]
            text = f"loss <b style='color:{style.TRAIN}'>{smoothed:.4g}</b> (last batch {last:.4g})"
            if epochs and epochs[-1].get("val_loss") is not None:
                text += f" · validation <b style='color:{style.VALIDATION}'>{epochs[-1]['val_loss']:.4g}</b>"
            self.set_readout(text)
        else:
            self.set_readout("")

    def _draw_overlays(self, buffer) -> list:
        overlays = buffer.overlays
        key = tuple(id(o) for o in overlays)
        if key != getattr(self, "_overlay_key", None):
            for item in self.overlay_items:
                self.plot.removeItem(item)
            self.overlay_items = []
            for run in overlays:
                line = style.curve(self.plot, run.color, 1.5, f"{run.label}", style=Qt.PenStyle.DashLine)
                marks = style.curve(self.plot, run.color, 1.0, None, style=Qt.PenStyle.NoPen, symbol="s", symbol_size=5)
                self.overlay_items += [line, marks]
            self._overlay_key = key
            self._overlay_cache.clear()
        shown = []
        for i, run in enumerate(overlays):
            line, marks = self.overlay_items[2 * i], self.overlay_items[2 * i + 1]
            cached = self._overlay_cache.get(id(run))
            if cached is None:
                values = smooth(np.asarray(run.loss, dtype=np.float64), buffer.smoothing) if len(run.loss) else run.loss
                cached = self._overlay_cache[id(run)] = values
            curve = style.finite(np.asarray(run.steps, dtype=np.float64), np.asarray(cached, dtype=np.float64),
                                 self._log)
            points = style.finite(np.asarray(run.epoch_steps, dtype=np.float64),
                                  np.asarray(run.val_loss, dtype=np.float64), self._log)
            line.setData(*curve)
            marks.setData(*points)
            shown += [v for v in (curve[1], points[1]) if len(v)]
        return shown

    def export_target(self):
        return self.plot


def _num(value) -> float:
    return float("nan") if value is None else float(value)

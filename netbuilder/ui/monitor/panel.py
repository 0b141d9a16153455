"""What every monitor panel shares: a slim header row (its own controls on the left, an export
button on the right), a plot area, redraw bookkeeping and theme changes."""
from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QMessageBox, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from . import style
from .axes import EpochAxis


class TimedGraphics(pg.GraphicsLayoutWidget):
    """A plot area that measures how long it takes to paint (the monitor's drawing budget)."""

    def __init__(self, panel: "Panel", parent=None):
        super().__init__(parent)
        self._panel = panel

    def paintEvent(self, event) -> None:
        start = time.perf_counter()
        super().paintEvent(event)
        self._panel.note_cost(time.perf_counter() - start)


class Panel(QWidget):
    """Base of the monitor panels. Subclasses set `title`, `families` and implement `refresh`."""

    title = "Plot"
    object_name = "plot"
    families: tuple = ()
    min_interval = 0.0  # seconds between redraws (heavy panels use more)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName(f"monitor_{self.object_name}")
        self.buffer = None
        self.seen: dict = {}
        self.last_draw = 0.0
        self.cost = 0.0  # seconds one redraw takes (refresh and paint), a moving average
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.setSpacing(2)
        self.header = QHBoxLayout()
        self.header.setContentsMargins(2, 0, 0, 0)
        self.header.setSpacing(8)
        layout.addLayout(self.header)
        self._header_end = QLabel(self)  # a readout on the right: latest values
        self._header_end.setObjectName("monitorReadout")
        self._header_end.setTextFormat(Qt.TextFormat.RichText)
        self._header_end.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        # a long readout is cut, never widens the dock (docks side by side would push the window wider)
        self._header_end.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._header_end.setMinimumWidth(40)
        self.export_action = QAction("Export Plot…", self)
        self.export_action.setToolTip(f"Save the {self.title.lower()} plot as PNG or SVG")
        self.export_action.triggered.connect(self.export_dialog)
        self.export_button = QToolButton(self)
        self.export_button.setDefaultAction(self.export_action)
        self.export_button.setText("Export…")
        self.export_button.setAutoRaise(True)
        self.export_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.body = QVBoxLayout()
        self.body.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.body, 1)

    def finish_header(self) -> None:
        self.header.addWidget(self._header_end, 1)
        self.header.addWidget(self.export_button)

    def set_readout(self, html: str) -> None:
        if html != self._header_end.text():
            self._header_end.setText(html)
            self._header_end.setToolTip(html)

    def add_layer_chooser(self, tooltip: str) -> QComboBox:
        """A "Layer" combo box in the header; the layer chosen is kept in `_wanted` (the panel may
        not have that layer's data yet) and the panel redrawn."""
        self._wanted: str | None = None
        self.header.addWidget(label("Layer", self))
        chooser = QComboBox(self)
        chooser.setMinimumContentsLength(8)
        chooser.setToolTip(tooltip)
        chooser.currentTextChanged.connect(self._on_layer)
        self.header.addWidget(chooser)
        return chooser

    def _on_layer(self, name: str) -> None:
        if name:
            self._wanted = name
        self.redraw_all()

    def redraw_all(self) -> None:
        """Draw everything again at the next refresh (after an option changed)."""
        self.seen = {}
        if self.buffer is not None:
            self.buffer.request(self)

    def new_run(self, buffer) -> bool:
        """True the first time this panel draws a new run's data (to reset its axes)."""
        run = buffer.versions["run"]
        if getattr(self, "_run_version", None) != run:
            self._run_version = run
            return True
        return False

    def span_run(self, plot: pg.PlotItem, buffer, extra: float = 0.0) -> None:
        """Fix the iteration axis to the whole planned run (and earlier runs drawn beside it):
        the axis then stays still while the curve grows into it, which is both easier to read
        and far cheaper to draw than an axis that rescales with every new point."""
        spe = buffer.steps_per_epoch
        epochs = int(buffer.info.get("epochs") or 0)
        total = float(max(spe * epochs, extra))
        if total > 0 and total != getattr(self, "_span", None):
            plot.enableAutoRange(x=False)
            plot.setXRange(0, total, padding=0.02)
            self._span = total
        elif total <= 0 and getattr(self, "_span", None) is not None:
            plot.enableAutoRange(x=True)
            self._span = None

    def note_cost(self, seconds: float) -> None:
        """Time spent drawing this panel, for the buffer's scheduling."""
        self._pending_cost = getattr(self, "_pending_cost", 0.0) + seconds

    def settle_cost(self) -> None:
        """Fold the last redraw's refresh and paint time into the moving average."""
        spent = getattr(self, "_pending_cost", 0.0)
        if spent > 0:
            self.cost = spent if self.cost == 0 else 0.7 * self.cost + 0.3 * spent
            self._pending_cost = 0.0

    def graphics(self) -> pg.GraphicsLayoutWidget:
        """A plot area (several plots in a grid) added to the body."""
        widget = TimedGraphics(self, self)
        widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        widget.ci.setContentsMargins(2, 2, 6, 2)
        self.body.addWidget(widget, 1)
        self._graphics = widget
        self._restyle_background()
        return widget

    def sizeHint(self) -> QSize:
        return QSize(520, 280)

    # ------------------------------------------------------------------ redraw bookkeeping
    def is_shown(self) -> bool:
        return self.isVisible()

    def refresh(self, buffer) -> None:  # pragma: no cover - every panel overrides it
        raise NotImplementedError

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.buffer is not None:
            self.buffer.request(self)

    # ------------------------------------------------------------------ look
    def _restyle_background(self) -> None:
        widget = getattr(self, "_graphics", None)
        if widget is not None:
            widget.setBackground(style.colors()["background"])

    def restyle(self) -> None:
        """Re-colour axes and texts for the current palette (subclasses extend)."""
        self._restyle_background()
        widget = getattr(self, "_graphics", None)
        if widget is not None:
            for item in widget.ci.items:
                if isinstance(item, pg.PlotItem):
                    style.style_plot(item)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.restyle()
            if self.buffer is not None:
                self.buffer.request(self)
        super().changeEvent(event)

    # ------------------------------------------------------------------ export
    def export_target(self):
        """The graphics item to export (default: the whole plot area)."""
        widget = getattr(self, "_graphics", None)
        return widget.ci if widget is not None else None

    def export(self, path) -> Path:
        if self.buffer is not None:
            self.buffer.redraw_all()
        return style.export_item(self.export_target(), path, widget=self)

    def default_export_name(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-") + ".png"

    def export_dialog(self) -> None:
        try:
            path = style.ask_export(self, self.title, self.export_target(), self.default_export_name(), widget=self)
        except (OSError, ValueError, RuntimeError) as exc:
            QMessageBox.warning(self, f"Export {self.title}", f"The plot could not be saved: {exc}")
            return
        if path is not None and self.window() is not None and hasattr(self.window(), "statusBar"):
            self.window().statusBar().showMessage(f"Saved {path}", 5000)


class StableRange:
    """Axis limits that follow the data without twitching: they widen at once when the data
    leaves them, narrow only when the data fills less than `shrink` of them, and sit on round
    numbers. A plot whose axes stay put redraws in a fraction of the time (its tick labels are
    kept as a picture), and the eye can follow a curve against still axes.

    A user who zooms or pans takes the axis over; the plot's "A" (auto-range) button hands it back."""

    def __init__(self, plot: pg.PlotItem, axis: int, shrink: float = 0.45, pad: float = 0.04,
                 include_zero: bool = False):
        self.plot, self.axis, self.shrink, self.pad, self.include_zero = plot, axis, shrink, pad, include_zero
        self.current: tuple | None = None
        self.manual = False
        plot.vb.sigRangeChangedManually.connect(self._on_manual)
        plot.enableAutoRange(axis="xy"[axis], enable=False)

    def _on_manual(self, mask) -> None:
        if mask[self.axis]:
            self.manual = True

    def reset(self) -> None:
        self.current = None
        self.manual = False

    def update(self, lo: float, hi: float) -> None:
        vb = self.plot.vb
        if vb.autoRangeEnabled()[self.axis]:  # the "A" button: ours again
            self.manual = False
            self.current = None
            self.plot.enableAutoRange(axis="xy"[self.axis], enable=False)
        if self.manual or not (np.isfinite(lo) and np.isfinite(hi)):
            return
        if self.include_zero:
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        if hi <= lo:
            lo, hi = lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
        cur = self.current
        if cur is not None and cur[0] <= lo and hi <= cur[1] and (hi - lo) >= self.shrink * (cur[1] - cur[0]):
            return
        span = hi - lo
        step = 10 ** np.floor(np.log10(span)) / 2 if span > 0 else 1.0
        new_lo = np.floor((lo - self.pad * span) / step) * step
        new_hi = np.ceil((hi + self.pad * span) / step) * step
        if self.include_zero and lo >= 0:
            new_lo = max(new_lo, 0.0)
        self.current = (float(new_lo), float(new_hi))
        if self.axis == 0:
            self.plot.setXRange(new_lo, new_hi, padding=0)
        else:
            self.plot.setYRange(new_lo, new_hi, padding=0)


def label(text: str, parent=None, tip: str = "") -> QLabel:
    widget = QLabel(text, parent)
    if tip:
        widget.setToolTip(tip)
    return widget


class IterationPanel(Panel):
    """A panel that plots a value per iteration: an epoch scale on top, the run's whole length on
    the x axis, a y axis that keeps still, and a log-scale toggle."""

    def add_log_toggle(self, tooltip: str) -> None:
        self._log = False
        self.log_scale = QCheckBox("Log scale", self)
        self.log_scale.setToolTip(tooltip)
        self.log_scale.toggled.connect(self._on_log)
        self.header.addWidget(self.log_scale)

    def iteration_plot(self, area: pg.GraphicsLayoutWidget, left: str, legend: bool = False) -> pg.PlotItem:
        self.epoch_axis = EpochAxis("top")
        self.plot = area.addPlot(axisItems={"top": self.epoch_axis})
        style.setup_plot(self.plot, left=left, bottom="iteration", legend=legend)
        self.plot.showAxis("top")
        self.plot.setLabel("top", "epochs")
        self.plot.showGrid(x=False, y=True, alpha=0.15)
        self.epoch_axis.setGrid(40)
        self.y_range = StableRange(self.plot, 1)
        return self.plot

    def _on_log(self, on: bool) -> None:
        self._log = on
        self.plot.setLogMode(y=on)
        self.y_range.reset()
        self.redraw_all()

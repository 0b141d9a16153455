"""Training and validation accuracy per epoch. The gap between them is overfitting; no gap
and both low is too little capacity. The best epoch (lowest validation loss, the one early
stopping keeps) and an early stop are marked."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from . import style
from .axes import IntegerAxis
from .panel import Panel, StableRange


class AccuracyPanel(Panel):
    title = "Accuracy"
    object_name = "accuracy"
    families = ("run", "accuracy", "overlay")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.finish_header()
        area = self.graphics()
        self.plot = area.addPlot(axisItems={"bottom": IntegerAxis("bottom")})
        style.setup_plot(self.plot, left="accuracy (%)", bottom="epoch", legend=True)
        self.plot.legend.setOffset((-8, -8))  # bottom right: accuracy climbs towards the top
        self.plot.setDownsampling(auto=False)
        self.train = style.curve(self.plot, style.TRAIN, 2.0, "training", symbol="o", symbol_size=7)
        self.train.setZValue(3)
        self.val = style.curve(self.plot, style.VALIDATION, 2.0, "validation", symbol="s", symbol_size=7)
        self.val.setZValue(3)  # the current run over the ones it is compared with
        self.best_mark = pg.ScatterPlotItem(symbol="star", size=18, pen=pg.mkPen(style.BEST, width=1.5),
                                            brush=style.brush(style.BEST, 0.85), name="best epoch")
        self.plot.addItem(self.best_mark)
        self.best_line = pg.InfiniteLine(angle=90, movable=False, pen=style.pen(style.BEST, 1, Qt.PenStyle.DashLine),
                                         label="best", labelOpts={"position": 0.97, "color": style.BEST,
                                                                  "anchors": [(0, 0), (0, 0)]})
        self.stop_line = pg.InfiniteLine(angle=90, movable=False, pen=style.pen(style.EARLY_STOP, 1.5, Qt.PenStyle.DashDotLine),
                                         label="early stop", labelOpts={"position": 0.86, "color": style.EARLY_STOP,
                                                                        "anchors": [(0, 0), (0, 0)]})
        for line in (self.best_line, self.stop_line):
            line.setVisible(False)
            self.plot.addItem(line, ignoreBounds=True)
        self.overlay_items: list = []
        self.y_range = StableRange(self.plot, 1, shrink=0.3)
        self._overlay_key = None
        self._look = 7
        self.empty = style.EmptyState("Train to see the accuracy of each epoch", area)
        self.plot.setYRange(0, 100, padding=0.02)  # the empty plot already speaks in percent

    def refresh(self, buffer) -> None:
        if self.new_run(buffer):
            self.y_range.reset()
        epochs = buffer.epochs
        x = np.array([e["epoch"] for e in epochs], dtype=np.float64)
        train = np.array([_pct(e.get("train_accuracy")) for e in epochs])
        val = np.array([_pct(e.get("val_accuracy")) for e in epochs])
        self.train.setData(*style.finite(x, train))
        self.val.setData(*style.finite(x, val))
        look = 7 if len(epochs) <= 20 else 5 if len(epochs) <= 60 else 0  # many epochs: smaller markers, then none
        if look != self._look:
            for item, symbol in ((self.train, "o"), (self.val, "s")):
                item.setSymbol(symbol if look else None)
                item.setSymbolSize(look or 1)
            self._look = look
        has_accuracy = bool(np.isfinite(train).any() or np.isfinite(val).any())
        best = buffer.best_epoch() if epochs else None
        if best is not None and has_accuracy:
            row = next((e for e in epochs if e["epoch"] == best), None)
            value = _pct(row.get("val_accuracy")) if row else float("nan")
            if not np.isfinite(value) and row:
                value = _pct(row.get("train_accuracy"))
            self.best_mark.setData([best], [value]) if np.isfinite(value) else self.best_mark.setData([], [])
            self.best_line.setPos(best)
            self.best_line.label.setFormat(f"best: epoch {best}")
            self.best_line.setVisible(len(epochs) > 1)
        else:
            self.best_mark.setData([], [])
            self.best_line.setVisible(False)
        stop = buffer.early_stop_epoch()
        self.stop_line.setVisible(stop is not None)
        if stop is not None:
            self.stop_line.setPos(stop)
            self.stop_line.label.setFormat(f"early stop: epoch {stop}")
        planned = int(buffer.info.get("epochs") or 0)
        shown = self._draw_overlays(buffer) + [v[np.isfinite(v)] for v in (train, val)]
        shown = [v for v in shown if len(v)]
        if shown:
            values = np.concatenate(shown)
            self.y_range.update(float(values.min()), min(float(values.max()), 100.0))
        top = max([planned, len(epochs)] + [len(o.epochs) for o in buffer.overlays] + [1])
        self.plot.setXRange(0.5, top + 0.5, padding=0.02)
        if buffer.info and not has_accuracy and epochs:
            self.empty.set_visible(True, "No accuracy for this loss: see the loss plot")
        else:
            self.empty.set_visible(not epochs and not buffer.overlays, "Train to see the accuracy of each epoch")
        if epochs and has_accuracy:
            last = epochs[-1]
            text = f"training <b style='color:{style.TRAIN}'>{_fmt(last.get('train_accuracy'))}</b>"
            if last.get("val_accuracy") is not None:
                gap = (last["train_accuracy"] or 0) - last["val_accuracy"]
                text += (f" · validation <b style='color:{style.VALIDATION}'>{_fmt(last['val_accuracy'])}</b>"
                         f" · gap {gap * 100:+.1f} pts")
            self.set_readout(text)
        else:
            self.set_readout("")

    def _draw_overlays(self, buffer) -> list:
        key = tuple(id(o) for o in buffer.overlays)
        if key != self._overlay_key:
            for item in self.overlay_items:
                self.plot.removeItem(item)
            self.overlay_items = [style.curve(self.plot, run.color, 1.5, f"{run.label} (validation)",
                                              style=Qt.PenStyle.DashLine, symbol="s", symbol_size=4, alpha=0.8)
                                  for run in buffer.overlays]
            self._overlay_key = key
        shown = []
        for item, run in zip(self.overlay_items, buffer.overlays):
            values = np.asarray(run.val_accuracy, dtype=np.float64)
            if not np.isfinite(values).any():
                values = np.asarray(run.train_accuracy, dtype=np.float64)
            x, y = style.finite(np.asarray(run.epochs, dtype=np.float64), values * 100)
            item.setData(x, y)
            shown.append(y)
        return shown

    def export_target(self):
        return self.plot


def _pct(value) -> float:
    return float("nan") if value is None else float(value) * 100.0


def _fmt(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"

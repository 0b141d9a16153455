"""Weight, gradient and activation histograms of one chosen layer, from the latest probe.

What to look for: tanh/sigmoid activations spread over their range (not all 0, not piled at
±1); ReLU activations not all zero (dead units); gradients that neither vanish (a spike at 0)
nor explode (a wide spread growing each probe)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox

from . import style
from .panel import Panel, StableRange

KINDS = (("weights", "Weights", style.TRAIN), ("gradients", "Gradients", "#d62728"),
         ("activations", "Activations", "#2ca02c"))


def prepare_histograms(probe: dict) -> dict:
    """Regroup the probe's histograms by layer, in forward order (worker side, plain data)."""
    order: list[str] = []
    for kind in ("activations", "weights", "gradients"):
        for name in (probe.get(kind) or {}):
            if name not in order:
                order.append(name)
    by_layer = {name: {kind: (probe.get(kind) or {}).get(name) for kind, _, _ in KINDS} for name in order}
    return {"layers": order, "hist": by_layer}


class HistogramPanel(Panel):
    title = "Histograms"
    object_name = "histograms"
    families = ("run", "probe")
    min_interval = 0.2

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layer = self.add_layer_chooser("The layer whose weights, gradients and outputs are shown")
        self.log_counts = QCheckBox("Log counts", self)
        self.log_counts.setToolTip("A logarithmic count axis shows the tails of peaked distributions")
        self.log_counts.toggled.connect(self._on_log)
        self.header.addWidget(self.log_counts)
        self.finish_header()
        area = self.graphics()
        self.plots, self.curves, self.stats, self.ranges = {}, {}, {}, {}
        self._titles: dict = {}
        for col, (kind, title, color) in enumerate(KINDS):
            plot = area.addPlot(row=0, col=col)
            style.setup_plot(plot, left="count" if col == 0 else "", bottom="value", title=title)
            plot.setDownsampling(auto=False)
            plot.setClipToView(False)
            item = plot.plot([], [], stepMode="center", fillLevel=0, pen=style.pen(color, 1.5),
                             brush=style.brush(color, 0.35))
            stats = pg.TextItem("", anchor=(0, 0), color=style.colors()["faint"])
            stats.setParentItem(plot.vb)  # in the box's pixels: it never moves with the data, nor widens the plot
            stats.setPos(4, 0)
            self.plots[kind], self.curves[kind], self.stats[kind] = plot, item, stats
            self.ranges[kind] = (StableRange(plot, 0), StableRange(plot, 1, include_zero=True))
        self.empty = style.EmptyState("Train to see weight, gradient and activation histograms", area)
        self._layers: list[str] = []

    def _on_log(self, on: bool) -> None:
        for kind, plot in self.plots.items():
            plot.setLogMode(y=on)
            self.ranges[kind][1].reset()
        self._on_layer(self.layer.currentText())

    def _title(self, kind: str, text: str) -> None:
        if self._titles.get(kind) != text:
            style.set_title(self.plots[kind], text)
            self._titles[kind] = text

    def select_layer(self, name: str) -> None:
        self._wanted = name
        index = self.layer.findText(name)
        if index >= 0:
            self.layer.setCurrentIndex(index)

    def restyle(self) -> None:
        super().restyle()
        for item in self.stats.values():
            item.setColor(style.colors()["faint"])
        self._titles.clear()

    def refresh(self, buffer) -> None:
        if self.new_run(buffer):
            for x_range, y_range in self.ranges.values():
                x_range.reset()
                y_range.reset()
        probe = buffer.probe
        data = probe.get("histograms") if probe else None
        if not data or not data["layers"]:
            for kind, title, _ in KINDS:
                self.curves[kind].setData([0, 1], [0])
                self.stats[kind].setText("")
                self._title(kind, title)
            self.layer.clear()
            self._layers = []
            self.empty.set_visible(True, "Train to see weight, gradient and activation histograms")
            self.set_readout("")
            return
        layers = data["layers"]
        if layers != self._layers:
            self.layer.blockSignals(True)
            self.layer.clear()
            self.layer.addItems(layers)
            wanted = self._wanted if self._wanted in layers else _default_layer(data)
            self.layer.setCurrentIndex(layers.index(wanted))
            self.layer.blockSignals(False)
            self._layers = list(layers)
        name = self.layer.currentText()
        hists = data["hist"].get(name, {})
        log = self.log_counts.isChecked()
        for kind, title, _ in KINDS:
            h = hists.get(kind)
            if h is None:
                self.curves[kind].setData([0, 1], [0])
                self.stats[kind].setText("")
                self._title(kind, f"{title}: none")
                continue
            counts = np.asarray(h["counts"], dtype=np.float64)
            edges = np.asarray(h["edges"], dtype=np.float64)
            if log:
                counts = np.maximum(counts, 0.5)
            self.curves[kind].setData(edges, counts)
            x_range, y_range = self.ranges[kind]
            x_range.update(float(edges[0]), float(edges[-1]))
            if log:
                y_range.update(np.log10(0.5), float(np.log10(counts.max())))
            else:
                y_range.update(0.0, float(counts.max()))
            mean, std = h.get("mean"), h.get("std")
            self.stats[kind].setText(f"mean {mean:.3g}\nstd {std:.3g}" if mean is not None and std is not None else "")
            self._title(kind, title)
        self.empty.set_visible(False)
        self.set_readout(f"step {probe.get('step', 0):,} · epoch {probe.get('epoch', 0)}")

    def export_target(self):
        return self._graphics.ci


def _default_layer(data: dict) -> str:
    """The first layer with weights (its three histograms are all meaningful)."""
    for name in data["layers"]:
        if data["hist"][name].get("weights") is not None:
            return name
    return data["layers"][0]

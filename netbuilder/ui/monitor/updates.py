"""Update-to-weight ratio per layer, ‖Δw‖/‖w‖ of one step, on a log axis. Around 1e-3 is
healthy; far above, the learning rate is too high for that layer; far below, it barely learns."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from . import style
from .panel import Panel, StableRange

GUIDE_RATIO = 1e-3


class UpdateRatioPanel(Panel):
    title = "Update Ratio"
    object_name = "updates"
    families = ("run", "updates")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.finish_header()
        area = self.graphics()
        self.plot = area.addPlot()
        style.setup_plot(self.plot, left="update / weight  ‖Δw‖/‖w‖", bottom="iteration", legend=True)
        self.plot.setLogMode(y=True)
        self.plot.getAxis("left").setStyle(maxTextLevel=0)  # label the decades only
        self.plot.setDownsampling(auto=False)
        self.band = pg.LinearRegionItem(values=(-4, -2), orientation="horizontal", movable=False,
                                        brush=pg.mkBrush(*style.HEALTHY_BAND), pen=pg.mkPen(None))
        self.band.setZValue(-20)
        self.plot.addItem(self.band, ignoreBounds=True)
        self.guide = pg.InfiniteLine(pos=np.log10(GUIDE_RATIO), angle=0, movable=False,
                                     pen=style.pen(style.BEST, 1.5, Qt.PenStyle.DashLine),
                                     label="1e-3 healthy", labelOpts={"position": 0.03, "color": style.BEST,
                                                                      "anchors": [(0, 1), (0, 1)]})
        self.plot.addItem(self.guide)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.y_range = StableRange(self.plot, 1, shrink=0.3)
        self.empty = style.EmptyState("Train to see how much each layer's weights change per step", area)

    def refresh(self, buffer) -> None:
        if self.new_run(buffer):
            self.y_range.reset()
        if not buffer.ratios and self.curves:
            for item in self.curves.values():
                self.plot.removeItem(item)
            self.curves.clear()
        steps = buffer.ratio_steps.view()
        lo, hi = np.log10(GUIDE_RATIO), np.log10(GUIDE_RATIO)  # the 1e-3 guide always in view
        for name, column in buffer.ratios.items():
            item = self.curves.get(name)
            if item is None:
                item = self.curves[name] = style.curve(self.plot, style.series_color(len(self.curves)), 2.0, name,
                                                       symbol="o", symbol_size=4)
            x, y = style.finite(steps, column.view(), positive=True)
            item.setData(x, y)
            if len(y):
                lo, hi = min(lo, float(np.log10(y.min()))), max(hi, float(np.log10(y.max())))
        self.y_range.update(lo, hi)
        self.span_run(self.plot, buffer)
        self.empty.set_visible(len(steps) == 0, "Train to see how much each layer's weights change per step")
        if len(steps):
            latest = {n: c.view()[-1] for n, c in buffer.ratios.items() if np.isfinite(c.view()[-1])}
            off = [n for n, v in latest.items() if v > 1e-2 or v < 1e-4]
            self.set_readout("outside 1e-4…1e-2: " + ", ".join(off) if off else "every layer near 1e-3")
        else:
            self.set_readout("")

    def export_target(self):
        return self.plot

"""First-layer filters as images: the kernels of the first convolution, or the rows of a first
Linear layer reshaped to the input image. Smooth, varied patterns mean the layer has learnt
features; salt-and-pepper noise means it has not converged (or the learning rate or the
regularization is off). For 2-D inputs each hidden unit's weights are a direction in the plane,
drawn as arrows."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from . import style
from .panel import Panel

MAX_FILTERS = 64
CELL_PIXELS = 24  # small kernels are magnified to about this many pixels per side
MAX_CELL = 48     # large ones (a first Linear layer's rows on big images) are shrunk to at most this


def prepare_filters(filters: np.ndarray | None, max_filters: int = MAX_FILTERS) -> dict | None:
    """(N, C, kh, kw) weights -> a tiled RGBA mosaic (uint8), each filter scaled to its own range.

    Runs on the worker thread; the GUI only uploads the finished image."""
    if filters is None:
        return None
    w = np.asarray(filters, dtype=np.float32)
    if w.ndim != 4 or w.shape[0] == 0:
        return None
    w = w[:max_filters]
    n, c, kh, kw = w.shape
    if c == 1 and kh == 1 and kw == 2:  # units of a 2-D input: directions in the plane
        return {"kind": "vectors", "vectors": w.reshape(n, 2).copy(), "count": n}
    kernel = (kh, kw)
    shrink = int(math.ceil(max(kh, kw) / MAX_CELL))
    if shrink > 1:  # keep the image small: every shrink-th weight of each row and column
        w = w[:, :, ::shrink, ::shrink]
        kh, kw = w.shape[2:]
    if c == 3:
        cells = np.transpose(w, (0, 2, 3, 1))                     # N, kh, kw, 3
    else:
        cells = w.mean(axis=1)[..., None].repeat(3, axis=3)       # N, kh, kw, 3 (grey)
    lo = cells.reshape(n, -1).min(1)[:, None, None, None]
    hi = cells.reshape(n, -1).max(1)[:, None, None, None]
    span = np.where(hi - lo > 1e-12, hi - lo, 1.0)
    cells = (cells - lo) / span
    scale = max(1, CELL_PIXELS // max(kh, kw))
    if scale > 1:
        cells = cells.repeat(scale, axis=1).repeat(scale, axis=2)
    ch, cw = cells.shape[1], cells.shape[2]
    target = math.sqrt(n * ch / cw * 1.4)  # a little wider than tall: docks are wide
    candidates = range(max(1, int(target * 0.7)), max(2, int(target * 1.5) + 2))
    cols = min(candidates, key=lambda c: ((-n) % c, abs(c - target)))  # fewest empty cells, then nearest
    cols = max(1, min(cols, n))
    rows = int(math.ceil(n / cols))
    gap = max(1, scale // 4)
    mosaic = np.zeros((rows * (ch + gap) - gap, cols * (cw + gap) - gap, 4), dtype=np.uint8)
    for i in range(n):
        r, q = divmod(i, cols)
        y, x = r * (ch + gap), q * (cw + gap)
        mosaic[y:y + ch, x:x + cw, :3] = (cells[i] * 255).astype(np.uint8)
        mosaic[y:y + ch, x:x + cw, 3] = 255
    return {"kind": "mosaic", "image": mosaic, "count": n, "kernel": kernel, "channels": c, "grid": (rows, cols),
            "spread": float(np.std(w))}


class FilterPanel(Panel):
    title = "Filters"
    object_name = "filters"
    families = ("run", "probe")
    min_interval = 0.25

    def __init__(self, parent=None):
        super().__init__(parent)
        self.finish_header()
        self.area = self.graphics()
        self.view = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.setToolTip("Light pixels are a filter's largest weights, dark ones its smallest (most negative)")
        self.view.setMouseEnabled(True, True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self.caption = pg.LabelItem("", size="9pt")
        self.vectors = pg.PlotItem()
        style.setup_plot(self.vectors, left="weight from x₂", bottom="weight from x₁",
                         title="Hidden units' input weights (one arrow per unit)")
        self.vectors.setAspectLocked(True)
        self.vectors.setDownsampling(auto=False)
        self.vectors.setClipToView(False)
        self.vector_lines = self.vectors.plot([], [], connect="pairs", pen=style.pen(style.TRAIN, 1.5))
        self.vector_tips = pg.ScatterPlotItem(size=6, brush=style.brush(style.TRAIN), pen=pg.mkPen(None))
        self.vectors.addItem(self.vector_tips)
        self._mode = None
        self._set_mode("mosaic")
        self.empty = style.EmptyState("Train to see the first layer's filters", self.area)

    def _set_mode(self, mode: str) -> None:
        if mode == self._mode:
            return
        self.area.ci.clear()
        if mode == "mosaic":
            self.area.ci.addItem(self.caption, row=0, col=0)
            self.area.ci.addItem(self.view, row=1, col=0)
        else:
            self.area.ci.addItem(self.vectors, row=0, col=0)
        self._mode = mode

    def refresh(self, buffer) -> None:
        probe = buffer.probe
        prepared = probe.get("filters") if probe else None
        if prepared is None:
            self.image.clear()
            self.caption.setText("")
            has_probe = probe is not None
            self.empty.set_visible(True, "This network's first layer has no image-like weights"
                                   if has_probe else "Train to see the first layer's filters")
            self.set_readout("")
            return
        self.empty.set_visible(False)
        layer = probe.get("first_layer") or "first layer"
        if prepared["kind"] == "vectors":
            self._set_mode("vectors")
            v = prepared["vectors"]
            segments = np.zeros((2 * len(v), 2), dtype=np.float32)
            segments[1::2] = v
            self.vector_lines.setData(segments[:, 0], segments[:, 1])
            self.vector_tips.setData(v[:, 0], v[:, 1])
            self.set_readout(f"{layer}: {prepared['count']} units · step {probe.get('step', 0):,}")
            return
        self._set_mode("mosaic")
        image = prepared["image"]
        first = self.image.image is None or self.image.image.shape != image.shape
        self.image.setImage(image, autoLevels=False, levels=(0, 255))
        if first:
            self.view.autoRange(padding=0.02)
        kh, kw = prepared["kernel"]
        ch = prepared["channels"]
        what = (f"{prepared['count']} filters {kh}×{kw}" + (f" × {ch} channels" if ch > 1 else "")
                if kh * kw < 100 else f"{prepared['count']} units' weights as {kh}×{kw} images")
        self.caption.setText(f"<span style='color:{style.colors()['text'].name()}'>{layer}: {what}, "
                             f"each scaled to its own range</span>")
        self.set_readout(f"step {probe.get('step', 0):,} · epoch {probe.get('epoch', 0)}")

    def restyle(self) -> None:
        super().restyle()
        style.style_plot(self.vectors)

    def export_target(self):
        return self.area.ci

"""The decision boundary of a network on 2-D data: every point of the input plane coloured by
the class the network predicts there (paler where it is unsure), the 50 % line between two
classes, and the training points on top — the playground view."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from . import style
from .panel import Panel

MAX_POINTS = 2000


def prepare_boundary(boundary: dict | None) -> dict | None:
    """Class probabilities (R, R, K) over the plane -> an RGB image and the 50 % contour.

    Runs on the worker thread. Row i of the grid is y, column j is x."""
    if not boundary:
        return None
    probs = np.asarray(boundary["probabilities"], dtype=np.float32)
    if probs.ndim != 3:
        return None
    probs = np.nan_to_num(probs, nan=0.0, posinf=1.0, neginf=0.0)  # a diverging network still draws
    r_y, r_x, k = probs.shape
    if k == 1:  # one sigmoid output: probability of class 1
        probs = np.concatenate([1 - probs, probs], axis=2)
        k = 2
    colours = style.class_colors(k)
    rgb = probs @ colours                                              # expected colour
    confidence = (probs.max(axis=2, keepdims=True) - 1.0 / k) / (1 - 1.0 / k)
    strength = 0.25 + 0.55 * np.clip(confidence, 0, 1)                 # pale where unsure
    image = (1 - strength) + strength * rgb
    image = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    (x0, x1), (y0, y1) = boundary["x_range"], boundary["y_range"]
    dx, dy = (x1 - x0) / max(r_x - 1, 1), (y1 - y0) / max(r_y - 1, 1)
    contour = None
    if k == 2:
        lines = pg.functions.isocurve(probs[:, :, 1], 0.5, connected=True)
        xs, ys = [], []
        for line in lines:
            pts = np.asarray(line, dtype=np.float64)
            if len(pts) < 2:
                continue
            ys.append(y0 + (pts[:, 0] - 0.5) * dy)
            xs.append(x0 + (pts[:, 1] - 0.5) * dx)
            xs.append([np.nan])
            ys.append([np.nan])
        if xs:
            contour = (np.concatenate(xs), np.concatenate(ys))
    return {"image": image, "rect": (x0 - dx / 2, y0 - dy / 2, (x1 - x0) + dx, (y1 - y0) + dy), "classes": k,
            "contour": contour}


class DecisionBoundaryPanel(Panel):
    title = "Decision Boundary"
    object_name = "decision_boundary"
    families = ("run", "probe")
    min_interval = 0.1

    def __init__(self, parent=None):
        super().__init__(parent)
        self.finish_header()
        area = self.graphics()
        self.plot = area.addPlot()
        style.setup_plot(self.plot, left="x₂", bottom="x₁", grid=0)
        self.plot.setAspectLocked(True)
        self.plot.setDownsampling(auto=False)
        self.plot.setClipToView(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.contour = self.plot.plot([], [], connect="finite", pen=style.pen("#202020", 2.0))
        self.point_items: list[pg.ScatterPlotItem] = []
        self._points_key = None
        self._rect = None
        self._key_html = ""
        self.empty = style.EmptyState("Train on 2-D data (the playground) to see the decision boundary", area)

    def refresh(self, buffer) -> None:
        probe = buffer.probe
        prepared = probe.get("boundary") if probe else None
        if prepared is None:
            self.image.clear()
            self.contour.setData([], [])
            self._set_points(None, None, [])
            self.empty.set_visible(True, "Train on 2-D data (the playground) to see the decision boundary")
            self.set_readout("")
            return
        self.empty.set_visible(False)
        self.image.setImage(prepared["image"], autoLevels=False, levels=(0, 255))
        rect = prepared["rect"]
        if rect != self._rect:
            self.image.setRect(QRectF(*rect))
            self.plot.setRange(QRectF(*rect), padding=0)
            self._rect = rect
        if prepared["contour"] is not None:
            self.contour.setData(*prepared["contour"])
        else:
            self.contour.setData([], [])
        self._set_points(buffer.points, buffer.labels, buffer.classes)
        acc = ""
        if buffer.epochs and buffer.epochs[-1].get("train_accuracy") is not None:
            acc = f" · training accuracy {buffer.epochs[-1]['train_accuracy'] * 100:.1f}%"
        self.set_readout(f"{self._key_html} · epoch {probe.get('epoch', 0)}{acc}")

    def _set_points(self, points, labels, classes) -> None:
        key = None if points is None else (id(points), len(points))
        if key == self._points_key:
            return
        self._points_key = key
        for item in self.point_items:
            self.plot.removeItem(item)
        self.point_items = []
        self._key_html = ""
        if points is None or labels is None:
            return
        points = np.asarray(points)[:MAX_POINTS]
        labels = np.asarray(labels)[:MAX_POINTS].astype(int)
        k = int(max(labels.max() + 1 if len(labels) else 0, len(classes)))
        colours = style.CLASSES
        outline = pg.mkPen("#ffffff", width=0.8)
        for c in range(k):
            mask = labels == c
            if not mask.any():
                continue
            name = classes[c] if c < len(classes) else f"class {c}"
            item = pg.ScatterPlotItem(points[mask, 0], points[mask, 1], size=6, pen=outline,
                                      brush=pg.mkBrush(colours[c % len(colours)]), name=str(name))
            self.plot.addItem(item)
            self.point_items.append(item)
        self.contour.setZValue(5)
        swatches = " ".join(f"<span style='color:{colours[c % len(colours)]}'>●</span> "
                            f"{classes[c] if c < len(classes) else f'class {c}'}" for c in range(k))
        self._key_html = f"{swatches} · <b>—</b> 50 % line"

    def export_target(self):
        return self.plot

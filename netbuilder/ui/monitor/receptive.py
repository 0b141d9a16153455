"""Receptive fields of a chosen layer's centre unit: the theoretical one (from the layer sizes,
strides and padding: a box on the input) and the effective one (mean |∂unit/∂input| over a
batch of validation images: where the unit actually looks). The effective field is usually
much smaller than the box and concentrated in its middle — and it grows as training goes on."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsRectItem

from . import style
from .panel import Panel

BOX = "#00c853"
MASS = 0.9


def prepare_fields(fields: dict | None, sample) -> dict | None:
    """ERF maps scaled to [0, 1] plus the side of the centred square holding 90 % of each map's
    mass, and the sample as an RGB image (worker side)."""
    if not fields:
        return None
    maps, extent = {}, {}
    for name, erf in fields.items():
        erf = np.asarray(erf, dtype=np.float32)
        if erf.ndim != 2:
            continue
        top = float(erf.max())
        maps[name] = erf / top if top > 0 else erf
        extent[name] = _mass_square(erf, MASS)
    image = None
    if sample is not None:
        s = np.asarray(sample, dtype=np.float32)
        if s.ndim == 2:
            s = s[None]
        rgb = np.transpose(s[:3], (1, 2, 0)) if s.shape[0] == 3 else s[:1].transpose(1, 2, 0).repeat(3, axis=2)
        lo, hi = float(rgb.min()), float(rgb.max())
        rgb = (rgb - lo) / (hi - lo if hi > lo else 1.0)
        image = np.ascontiguousarray((rgb * 255).astype(np.uint8))
    return {"maps": maps, "extent": extent, "sample": image, "layers": list(maps)}


def _mass_square(erf: np.ndarray, fraction: float) -> int:
    """Side of the smallest square centred on the map's peak region holding `fraction` of its mass."""
    total = float(erf.sum())
    if total <= 0:
        return 0
    h, w = erf.shape
    cy, cx = h // 2, w // 2
    for r in range(0, max(h, w)):
        part = erf[max(cy - r, 0):cy + r + 1, max(cx - r, 0):cx + r + 1].sum()
        if part >= fraction * total:
            return 2 * r + 1
    return max(h, w)


def theoretical_box(geometry: dict) -> tuple | None:
    """(x, y, w, h) of the centre unit's theoretical field in input pixels (pixel i spans [i, i+1])."""
    if not geometry or geometry.get("global") or geometry.get("jump") is None:
        return None
    size, jump, start, out = geometry["size"], geometry["jump"], geometry["start"], geometry["out"]
    cy = start[0] + jump[0] * (out[0] // 2)
    cx = start[1] + jump[1] * (out[1] // 2)
    return (cx - size[1] / 2, cy - size[0] / 2, float(size[1]), float(size[0]))


class ReceptiveFieldPanel(Panel):
    title = "Receptive Field"
    object_name = "receptive_field"
    families = ("run", "epoch")
    min_interval = 0.2

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layer = self.add_layer_chooser("The layer whose centre unit is examined")
        self.finish_header()
        self.area = self.graphics()
        self.left_title = pg.LabelItem("", size="9pt")
        self.right_title = pg.LabelItem("", size="9pt")
        self.area.ci.addItem(self.left_title, row=0, col=0)
        self.area.ci.addItem(self.right_title, row=0, col=1)
        self.views = []
        for col in range(2):
            view = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
            self.area.ci.addItem(view, row=1, col=col)
            self.views.append(view)
        self.sample = pg.ImageItem(axisOrder="row-major")
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.overlay.setLookupTable(style.lookup_table("inferno", alpha_ramp=True))
        self.views[0].addItem(self.sample)
        self.views[0].addItem(self.overlay)
        self.heat = pg.ImageItem(axisOrder="row-major")
        self.heat.setLookupTable(style.lookup_table("viridis"))
        self.views[1].addItem(self.heat)
        self.boxes = []
        for view in self.views:
            box = QGraphicsRectItem()
            pen = style.pen(BOX, 2.0, Qt.PenStyle.DashLine)
            box.setPen(pen)
            box.setZValue(10)
            view.addItem(box)
            self.boxes.append(box)
        self.empty = style.EmptyState("Train a convolutional network on images to see receptive fields "
                                      "(refreshed after each epoch)", self.area)
        self._layers: list[str] = []
        self._shape = None

    def select_layer(self, name: str) -> None:
        self._wanted = name
        index = self.layer.findText(name)
        if index >= 0:
            self.layer.setCurrentIndex(index)

    def refresh(self, buffer) -> None:
        record = buffer.record
        prepared = record.get("fields_prepared") if record else None
        if not prepared or not prepared["layers"]:
            for item in (self.sample, self.overlay, self.heat):
                item.clear()
            for box in self.boxes:
                box.setVisible(False)
            self.left_title.setText("")
            self.right_title.setText("")
            self.layer.clear()
            self._layers = []
            self.empty.set_visible(True, "Train a convolutional network on images to see receptive fields "
                                   "(refreshed after each epoch)")
            self.set_readout("")
            return
        self.empty.set_visible(False)
        layers = prepared["layers"]
        if layers != self._layers:
            self.layer.blockSignals(True)
            self.layer.clear()
            self.layer.addItems(layers)
            wanted = self._wanted if self._wanted in layers else layers[-1]
            self.layer.setCurrentIndex(layers.index(wanted))
            self.layer.blockSignals(False)
            self._layers = list(layers)
        name = self.layer.currentText()
        erf = prepared["maps"][name]
        h, w = erf.shape
        if prepared["sample"] is not None:
            self.sample.setImage(prepared["sample"], autoLevels=False, levels=(0, 255))
        self.overlay.setImage(erf, autoLevels=False, levels=(0, 1))
        self.heat.setImage(erf, autoLevels=False, levels=(0, 1))
        if self._shape != (h, w):
            for view in self.views:
                view.setRange(QRectF(0, 0, w, h), padding=0.04)
            self._shape = (h, w)
        box = theoretical_box(buffer.rf_geometry.get(name))
        for item in self.boxes:
            item.setVisible(box is not None)
            if box is not None:
                item.setRect(QRectF(*box))
        text = style.colors()["text"].name()
        side = prepared["extent"].get(name, 0)
        self.left_title.setText(f"<span style='color:{text}'>Validation sample with the effective field</span>")
        self.right_title.setText(f"<span style='color:{text}'>Effective field: mean |∂unit/∂input| over 16 images</span>")
        if box is not None:
            bw, bh = int(round(box[2])), int(round(box[3]))
            self.set_readout(f"theoretical <b style='color:{BOX}'>{bh}×{bw} px</b> (dashed box) · "
                             f"effective: {int(MASS * 100)}% of the gradient within {side}×{side} px · "
                             f"epoch {record.get('epoch')}")
        else:
            self.set_readout(f"effective: {int(MASS * 100)}% of the gradient within {side}×{side} px · "
                             f"epoch {record.get('epoch')}")

    def export_target(self):
        return self.area.ci

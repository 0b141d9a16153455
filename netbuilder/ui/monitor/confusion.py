"""The confusion matrix of the validation split after each epoch (rows: true class, columns:
predicted class; each row coloured by its share, so a class's recall reads off the diagonal)
and a gallery of misclassified validation samples with what was predicted and what was true."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (QCheckBox, QLabel, QListView, QListWidget, QListWidgetItem, QSizePolicy, QSplitter,
                               QVBoxLayout, QWidget)

from . import style
from .axes import CategoryAxis
from .panel import Panel, TimedGraphics

MAX_GALLERY = 32
THUMB = 56
TEXT_LIMIT = 12  # counts are printed in the cells up to this many classes


def prepare_misclassified(mis: dict | None, limit: int = MAX_GALLERY, max_side: int = 64) -> dict | None:
    """Misclassified samples -> small uint8 RGB thumbnails (worker side)."""
    if not mis or mis.get("images") is None or len(mis["images"]) == 0:
        return {"thumbs": np.zeros((0, 1, 1, 3), np.uint8), "predicted": np.zeros(0, int), "actual": np.zeros(0, int),
                "index": np.zeros(0, int)} if mis is not None else None
    images = np.asarray(mis["images"][:limit])
    if images.ndim == 3:                     # (n, H, W)
        images = images[:, None]
    if images.ndim != 4:                     # not images (vectors, sequences): nothing to show
        return None
    images = images.astype(np.float32)
    n, c, h, w = images.shape
    step = max(1, int(np.ceil(max(h, w) / max_side)))
    images = images[:, :, ::step, ::step]
    if c == 3:
        rgb = np.transpose(images, (0, 2, 3, 1))
    else:
        rgb = images[:, :1].transpose(0, 2, 3, 1).repeat(3, axis=3)
    lo = rgb.reshape(n, -1).min(1)[:, None, None, None]
    hi = rgb.reshape(n, -1).max(1)[:, None, None, None]
    rgb = (rgb - lo) / np.where(hi - lo > 1e-12, hi - lo, 1.0)
    return {"thumbs": np.ascontiguousarray((rgb * 255).astype(np.uint8)),
            "predicted": np.asarray(mis["predicted"][:limit]).astype(int),
            "actual": np.asarray(mis["actual"][:limit]).astype(int),
            "index": np.asarray(mis.get("index", np.arange(n))[:limit]).astype(int)}


def thumbnail(rgb: np.ndarray, size: int = THUMB) -> QPixmap:
    h, w, _ = rgb.shape
    data = np.ascontiguousarray(rgb)
    image = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.FastTransformation))


class ConfusionPanel(Panel):
    title = "Confusion"
    object_name = "confusion"
    families = ("run", "epoch")
    min_interval = 0.2

    def __init__(self, parent=None):
        super().__init__(parent)
        self.as_share = QCheckBox("Row %", self)
        self.as_share.setToolTip("Print each cell as a share of its true class instead of a count")
        self.as_share.toggled.connect(lambda _on: self.redraw_all())
        self.header.addWidget(self.as_share)
        self.finish_header()
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setChildrenCollapsible(False)
        self.area = TimedGraphics(self, splitter)
        self._graphics = self.area
        self._restyle_background()
        self.bottom_axis = CategoryAxis("bottom")
        self.left_axis = CategoryAxis("left")
        self.plot = self.area.addPlot(axisItems={"bottom": self.bottom_axis, "left": self.left_axis})
        style.setup_plot(self.plot, left="true class", bottom="predicted class", grid=0)
        self.plot.setDownsampling(auto=False)
        self.plot.setClipToView(False)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.texts: list[pg.TextItem] = []
        self._k = 0
        self._font_size = None
        gallery_box = QWidget(splitter)
        box = QVBoxLayout(gallery_box)
        box.setContentsMargins(4, 0, 0, 0)
        box.setSpacing(2)
        self.gallery_title = QLabel("Misclassified validation samples", gallery_box)
        self.gallery_title.setWordWrap(True)
        self.gallery_title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        box.addWidget(self.gallery_title)
        self.gallery = QListWidget(gallery_box)
        self.gallery.setObjectName("misclassifiedGallery")
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(THUMB, THUMB))
        self.gallery.setGridSize(QSize(THUMB + 74, THUMB + 34))
        self.gallery.setMinimumWidth(THUMB + 88)
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setWordWrap(True)
        self.gallery.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        font = QFont(self.gallery.font())
        font.setPointSizeF(max(font.pointSizeF() - 1.5, 7))
        self.gallery.setFont(font)
        box.addWidget(self.gallery, 1)
        splitter.addWidget(self.area)
        splitter.addWidget(gallery_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([600, 400])
        self.body.addWidget(splitter, 1)
        self.empty = style.EmptyState("Train a classifier to see its confusion matrix after each epoch", self.area)
        self._gallery_key = None

    def _make_texts(self, k: int) -> None:
        for item in self.texts:
            self.plot.removeItem(item)
        self.texts = []
        if k <= TEXT_LIMIT:
            for r in range(k):
                for c in range(k):
                    item = pg.TextItem("", anchor=(0.5, 0.5))
                    item.setPos(c, r)
                    self.plot.addItem(item)
                    self.texts.append(item)
        self._k = k
        self._font_size = None

    def _fit_text(self, digits: int) -> None:
        """Cell numbers as large as the cells allow (7-10 pt)."""
        if not self.texts:
            return
        pixel = self.plot.vb.viewPixelSize()[0]
        cell = 1.0 / pixel if pixel > 0 else 40.0
        size = float(np.clip(cell / (0.75 * max(digits, 2) + 0.6), 6.5, 10.0))
        size = round(size * 2) / 2
        if size != self._font_size:
            font = QFont()
            font.setPointSizeF(size)
            for item in self.texts:
                item.setFont(font)
            self._font_size = size

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.redraw_all()

    def refresh(self, buffer) -> None:
        record = buffer.record
        matrix = record.get("confusion") if record else None
        if matrix is None:
            self.image.clear()
            self._make_texts(0)
            self.empty.set_visible(True, "Train a classifier to see its confusion matrix after each epoch"
                                   if record is None else "No confusion matrix: this run has no validation split")
            self.gallery.clear()
            self._gallery_key = None
            self.gallery_title.setText("Misclassified validation samples")
            self.set_readout("")
            return
        self.empty.set_visible(False)
        matrix = np.asarray(matrix, dtype=np.int64)
        k = matrix.shape[0]
        names = buffer.classes if len(buffer.classes) == k else [str(i) for i in range(k)]
        if k != self._k:
            self._make_texts(k)
            self.plot.setRange(QRectF(-0.5, -0.5, k, k), padding=0.02)
        numbered = k > 6 and max(len(n) for n in names) > 3
        self.bottom_axis.set_names(names, numbered=numbered)
        self.left_axis.set_names([f"{i} {n}" if numbered else n for i, n in enumerate(names)])
        totals = matrix.sum(axis=1, keepdims=True)
        share = matrix / np.maximum(totals, 1)
        dark = style.is_dark()
        self.image.setImage(share.astype(np.float32), levels=(0, 1), lut=style.blues_lut(dark))
        self.image.setRect(QRectF(-0.5, -0.5, k, k))  # after the image: the rect scales its pixels
        if self.texts:
            self._fit_text(3 if self.as_share.isChecked() else len(str(int(matrix.max()))))
            light_text, dark_text = QColor("#ffffff"), QColor("#1f2328" if not dark else "#e3e6ea")
            as_share = self.as_share.isChecked()
            for r in range(k):
                for c in range(k):
                    item = self.texts[r * k + c]
                    value = matrix[r, c]
                    item.setText(f"{share[r, c] * 100:.0f}" if as_share else f"{value}")
                    item.setColor(light_text if share[r, c] > 0.55 else dark_text)
        total = int(matrix.sum())
        correct = int(np.trace(matrix))
        self.set_readout(f"validation · epoch {record.get('epoch')} · <b>{correct / max(total, 1) * 100:.1f}%</b> "
                         f"correct ({correct:,} / {total:,})")
        self._fill_gallery(record, names)

    def _fill_gallery(self, record: dict, names: list[str]) -> None:
        prepared = record.get("misclassified_prepared")
        key = id(prepared)
        if key == self._gallery_key:
            return
        self._gallery_key = key
        self.gallery.setUpdatesEnabled(False)
        self.gallery.clear()
        if prepared is not None:
            n = len(prepared["thumbs"])
            for i in range(n):
                pred, true = int(prepared["predicted"][i]), int(prepared["actual"][i])
                pn = names[pred] if pred < len(names) else str(pred)
                tn = names[true] if true < len(names) else str(true)
                item = QListWidgetItem(QIcon(thumbnail(prepared["thumbs"][i])), f"{pn}\n({tn})")
                item.setToolTip(f"validation sample {int(prepared['index'][i])}: predicted {pn}, actually {tn}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
                self.gallery.addItem(item)
            self.gallery_title.setText(f"Misclassified validation samples (first {n}): predicted (true class)"
                                       if n else "No misclassified validation samples")
        else:
            self.gallery_title.setText("Misclassified samples are shown for image data")
        self.gallery.setUpdatesEnabled(True)

    def restyle(self) -> None:
        super().restyle()
        self.seen = {}

    def export_target(self):
        return self.plot

"""A live preview of augmentation: a few training images as they are, and as two random
augmentations would change them.

Augmenting needs torch and the data, so nothing loads until the user asks for the preview. The
first preview loads torch (a few seconds, under a busy cursor: loading it on a worker thread
while the window runs is not safe); later ones take milliseconds, so the preview follows every
augmentation edit.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QImage, QPainter, QPalette
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from .. import icons
from .labels import hint_label

SAMPLE_COUNT = 6


def pattern_samples(count: int = SAMPLE_COUNT, size: int = 28) -> np.ndarray:
    """Simple asymmetric shapes (N, 1, H, W) in [0, 1], for when the dataset is not at hand.
    Asymmetric on purpose: flips and rotations must be visible."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    shapes = [
        ((xx - 0.35) ** 2 + (yy - 0.4) ** 2 < 0.06) | ((xx > 0.55) & (xx < 0.7) & (yy > 0.2) & (yy < 0.85)),  # "o|"
        (np.abs(xx - 0.3) < 0.08) | ((np.abs(yy - 0.75) < 0.08) & (xx < 0.75)),                       # "L"
        (yy > xx * 0.9 + 0.05) & (yy < 0.9) & (xx > 0.15),                                             # triangle
        (np.abs(yy - 0.3) < 0.07) | ((np.abs(xx - 0.5) < 0.07) & (yy > 0.3)),                          # "T"
        ((xx - 0.5) ** 2 + (yy - 0.5) ** 2 < 0.12) & ((xx - 0.6) ** 2 + (yy - 0.4) ** 2 > 0.03),       # moon
        (np.abs(xx - 0.25) < 0.07) | (np.abs(xx - 0.75) < 0.07) | (np.abs(yy - 0.2) < 0.07),           # "n"
    ]
    images = np.stack([shapes[i % len(shapes)].astype(np.float32) for i in range(count)])
    return images[:, None, :, :]


def load_samples(data: dict, project_dir: Path | None, count: int = SAMPLE_COUNT) -> tuple[np.ndarray, str]:
    """(images (N, C, H, W), where they came from): the first training images of the project's
    dataset, or test patterns when it cannot be read. Runs on a worker thread."""
    try:
        from ...train.data import preview_samples
    except ImportError:
        preview_samples = None
    if preview_samples is not None:
        try:
            images = np.asarray(preview_samples(data, count=count, project_dir=project_dir), dtype=np.float32)
            if images.ndim == 3:
                images = images[:, None]
            return images[:count], "the first training images"
        except (OSError, ValueError, LookupError, RuntimeError) as exc:
            return pattern_samples(count), f"test patterns: the data could not be read ({exc})"
    return pattern_samples(count), "test patterns"


def augment_samples(augmentation: dict, images: np.ndarray, seed: int) -> np.ndarray:
    from ...train.augment import preview
    out = np.asarray(preview(augmentation, images, seed=seed), dtype=np.float32)
    return out[:, None] if out.ndim == 3 else out


def to_image(sample: np.ndarray) -> QImage:
    """One (C, H, W) or (H, W, C) array as an 8-bit image, contrast-stretched for display."""
    array = np.asarray(sample, dtype=np.float32)
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
        array = np.transpose(array, (1, 2, 0))
    elif array.ndim == 2:
        array = array[:, :, None]
    low, high = float(array.min()), float(array.max())
    scaled = np.zeros_like(array) if high - low < 1e-12 else (array - low) / (high - low)
    pixels = np.ascontiguousarray((scaled * 255).round().astype(np.uint8))
    h, w, c = pixels.shape
    if c == 1:
        image = QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        rgb = np.ascontiguousarray(pixels[:, :, :3])
        image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return image.copy()  # own the pixels: the array goes away


class SampleGrid(QWidget):
    """Rows of small images with a caption above each row, scaled to the available width."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[tuple[str, list[QImage]]] = []
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def set_rows(self, rows: list[tuple[str, list[QImage]]]) -> None:
        self.rows = rows
        self.updateGeometry()
        self.update()

    def _tile(self, width: int) -> float:
        columns = max((len(images) for _, images in self.rows), default=SAMPLE_COUNT)
        return max(16.0, (width - 4 * (columns - 1)) / max(columns, 1))

    def _caption_height(self) -> int:
        return self.fontMetrics().height() + 4

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return int(len(self.rows) * (self._tile(width) + self._caption_height() + 6))

    def sizeHint(self) -> QSize:
        return QSize(300, self.heightForWidth(300))

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)  # crisp pixels
        tile = self._tile(self.width())
        caption = self._caption_height()
        y = 0.0
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText)
        border = self.palette().color(QPalette.ColorRole.Mid)
        for title, images in self.rows:
            painter.setPen(muted)
            painter.drawText(QRectF(0, y, self.width(), caption), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             title)
            y += caption
            for i, image in enumerate(images):
                target = QRectF(i * (tile + 4), y, tile, tile)
                painter.drawImage(target, image)
                painter.setPen(border)
                painter.drawRect(target.adjusted(0, 0, -1, -1))
            y += tile + 6
        painter.end()


class AugmentationPreview(QWidget):
    def __init__(self, parent=None, sampler=load_samples, augmenter=augment_samples):
        super().__init__(parent)
        self.sampler = sampler
        self.augmenter = augmenter
        self.active = False
        self.seed = 0
        self._data: dict | None = None
        self._project_dir: Path | None = None
        self._samples = None  # (key, images, origin): read once per data source
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(6)
        buttons = QHBoxLayout()
        self.show_button = QPushButton(icons.icon("preview"), "Preview Augmentation", self)
        self.show_button.setToolTip("Show a few training images and two random augmentations of each")
        self.show_button.clicked.connect(self.start)
        self.again_button = QPushButton(icons.icon("refresh"), "Draw Again", self)
        self.again_button.setToolTip("Draw new random augmentations")
        self.again_button.clicked.connect(self.draw_again)
        self.again_button.setVisible(False)
        buttons.addWidget(self.show_button)
        buttons.addWidget(self.again_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.grid = SampleGrid(self)
        self.grid.setVisible(False)
        layout.addWidget(self.grid)
        self.status = hint_label("", self)
        self.status.setVisible(False)
        layout.addWidget(self.status)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self._render)

    def set_source(self, data: dict, project_dir: Path | None) -> None:
        """Follow the project's data settings; once started, the preview redraws on changes."""
        changed = data != self._data or project_dir != self._project_dir
        self._data = dict(data, augmentation=dict(data["augmentation"]))
        self._project_dir = project_dir
        if self.active and changed:
            self._debounce.start()

    def start(self) -> None:
        self.active = True
        self.show_button.setVisible(False)
        self.again_button.setVisible(True)
        self.status.setVisible(True)
        self.status.setText("Preparing the preview…")
        # Let the message paint before the first preview loads torch.
        QTimer.singleShot(30, self._render)

    def draw_again(self) -> None:
        self.seed += 1
        self._render()

    def _sample_key(self, data: dict) -> tuple:
        return tuple((k, str(v)) for k, v in sorted(data.items()) if k != "augmentation") + (str(self._project_dir),)

    def _render(self) -> None:
        if self._data is None or not self.active:
            return
        data, seed = self._data, self.seed
        key = self._sample_key(data)
        QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        try:
            if self._samples is None or self._samples[0] != key:
                images, origin = self.sampler(data, self._project_dir)
                self._samples = (key, images, origin)
            _key, images, origin = self._samples
            first = self.augmenter(data["augmentation"], images, seed * 2)
            second = self.augmenter(data["augmentation"], images, seed * 2 + 1)
        except Exception as exc:  # a preview must never take the window down; say what went wrong
            self._failed(f"{type(exc).__name__}: {exc}")
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        self._show(images, origin, first, second)

    def _show(self, images, origin, first, second) -> None:
        self.grid.set_rows([
            ("Original", [to_image(x) for x in images]),
            ("Augmented", [to_image(x) for x in first]),
            ("Augmented again", [to_image(x) for x in second]),
        ])
        self.grid.setVisible(True)
        aug = self._data["augmentation"]
        if not any(v for k, v in aug.items() if k != "mixup"):
            note = "No augmentation is switched on: the images train unchanged."
        else:
            note = "Each epoch draws new random changes."
        if aug.get("mixup"):
            note += " Mixup blends pairs within a batch and is not shown here."
        self.status.setText(f"Showing {origin}. {note}")

    def _failed(self, message: str) -> None:
        self.status.setText(f"The preview is not available: {message}")

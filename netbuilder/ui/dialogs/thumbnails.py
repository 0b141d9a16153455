"""Small architecture pictures of a network for the template gallery: one block per layer, left
to right in execution order, as tall as its feature map is large and as wide as it has
channels, coloured by layer category (activations are left out: they do not change the shape)."""
from __future__ import annotations

import math

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap

from ...core.shapes import analyze
from ..editor.style import category_color

_SKIPPED = ("Activation",)


def _block_size(shape) -> tuple[float, float]:
    """(width, height) in arbitrary units for an output shape."""
    if not shape:
        return 2.0, 8.0
    if len(shape) >= 2:  # (C, H, W) or (C, L) or a sequence (T, F)
        channels, extent = shape[0], shape[1]
        return 2.0 + 1.6 * math.log2(max(channels, 1)), 8.0 + 7.0 * math.log2(max(extent, 1))
    features = shape[0]
    return 3.0, 6.0 + 3.2 * math.log2(max(features, 1))


def architecture_blocks(graph) -> list[tuple[float, float, QColor]]:
    analysis = analyze(graph)
    blocks = []
    for nid in analysis.order or list(graph.nodes):
        node = graph.nodes[nid]
        category = node.spec.category
        if category in _SKIPPED and len(graph.nodes) > 6:
            continue
        width, height = _block_size(analysis.nodes[nid].output_shape)
        blocks.append((width, height, category_color(category)))
    return blocks


def architecture_pixmap(graph, width: int, height: int, ratio: float = 1.0, background: QColor | None = None) -> QPixmap:
    pixmap = QPixmap(round(width * ratio), round(height * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(background or QColor(Qt.GlobalColor.transparent))
    blocks = architecture_blocks(graph)
    if not blocks:
        return pixmap
    gap = 2.0
    margin = 8.0
    total_width = sum(b[0] for b in blocks) + gap * (len(blocks) - 1)
    tallest = max(b[1] for b in blocks)
    scale = min((width - 2 * margin) / total_width, (height - 2 * margin) / tallest)
    # Few layers should not grow into giant slabs.
    scale = min(scale, 3.2)
    x = (width - total_width * scale) / 2
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for w, h, color in blocks:
        rect = QRectF(x, (height - h * scale) / 2, max(w * scale, 1.5), h * scale)
        fill = QColor(color)
        fill.setAlphaF(0.85)
        painter.setPen(QPen(color.darker(125), 0.8))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 1.5, 1.5)
        x += (w + gap) * scale
    painter.end()
    return pixmap

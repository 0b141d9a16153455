"""A node on the canvas: a card with the layer's name, type and key settings, output shape,
parameter count and receptive field; red when it has an error, amber with a warning.

The card holds only display text. The scene fills it from the graph and the analysis and
calls `set_content` with what changed, so a 500-node canvas repaints only what it must.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyle

from ...core import catalogue
from .port_item import PortItem
from .style import ERROR_COLOR, WARNING_COLOR, CanvasStyle, category_color

CARD_WIDTH = 200.0
CARD_HEIGHT = 96.0
_RADIUS = 8.0
_STRIPE = 6.0
_PAD = 12.0
# Below this zoom the text is unreadable anyway: draw plain cards, much faster on big graphs.
_DETAIL_ZOOM = 0.35


@dataclass(frozen=True)
class CardContent:
    title: str
    subtitle: str
    shape: str
    stats: str
    severity: str | None  # "error" | "warning" | None
    problems: str         # every message, so a changed message repaints even if the first line does not


class NodeItem(QGraphicsItem):
    def __init__(self, node_id: str, type_name: str, style: CanvasStyle):
        super().__init__()
        self.node_id = node_id
        self.style = style
        spec = catalogue.get(type_name)
        self.color = category_color(spec.category)
        self.content = CardContent("", type_name, "", "", None, "")
        self.dimmed = False
        self.target_highlight = False
        # No itemChange override: the scene re-routes edges itself after moving cards, because a
        # Python itemChange that hands back None corrupts None's reference count in the bindings.
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)
        self.setZValue(1.0)
        self.input_port = None
        if spec.inputs != 0:
            self.input_port = PortItem(self, PortItem.INPUT, multi=spec.inputs == catalogue.MULTI)
            self.input_port.setPos(0, -CARD_HEIGHT / 2)
        self.output_port = None
        if spec.outputs != 0:
            self.output_port = PortItem(self, PortItem.OUTPUT)
            self.output_port.setPos(0, CARD_HEIGHT / 2)
        # Builds the tooltip on demand: composing 500 rich tooltips after every edit would cost more
        # than the whole analysis.
        self.tooltip_source = None

    # ------------------------------------------------------------------ content
    def set_content(self, content: CardContent) -> bool:
        if content == self.content:
            return False
        self.content = content
        self.update()
        return True

    def set_dimmed(self, dimmed: bool) -> None:
        if dimmed != self.dimmed:
            self.dimmed = dimmed
            self.setOpacity(0.3 if dimmed else 1.0)

    def set_target_highlight(self, on: bool) -> None:
        if on != self.target_highlight:
            self.target_highlight = on
            if self.input_port is not None:
                self.input_port.highlighted = on
                self.input_port.update()
            self.update()

    def tooltip_text(self) -> str:
        return self.tooltip_source(self.node_id) if self.tooltip_source else ""

    def hoverEnterEvent(self, event):
        self.setToolTip(self.tooltip_text())
        super().hoverEnterEvent(event)

    # ------------------------------------------------------------------ geometry
    @staticmethod
    def card_rect() -> QRectF:
        return QRectF(-CARD_WIDTH / 2, -CARD_HEIGHT / 2, CARD_WIDTH, CARD_HEIGHT)

    def boundingRect(self) -> QRectF:
        return self.card_rect().adjusted(-4, -4, 4, 6)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.card_rect(), _RADIUS, _RADIUS)
        return path

    # ------------------------------------------------------------------ drawing
    def paint(self, painter, option, widget=None):
        style = self.style
        rect = self.card_rect()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        severity = self.content.severity

        if lod >= _DETAIL_ZOOM:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(style.shadow)
            painter.drawRoundedRect(rect.translated(0, 2.5), _RADIUS, _RADIUS)

        if selected or self.target_highlight:
            border, width = style.accent, 2.4
        elif severity == "error":
            border, width = ERROR_COLOR, 2.2
        elif severity == "warning":
            border, width = WARNING_COLOR, 2.0
        else:
            border, width = style.card_border, 1.0
        card = QPainterPath()
        card.addRoundedRect(rect, _RADIUS, _RADIUS)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(style.card)
        painter.drawPath(card)

        # Category stripe down the left edge, clipped to the rounded card.
        painter.save()
        painter.setClipPath(card)
        painter.setBrush(self.color)
        painter.drawRect(QRectF(rect.left(), rect.top(), _STRIPE, rect.height()))
        if severity == "error":
            tint = QColor(ERROR_COLOR)
            tint.setAlpha(28)
            painter.setBrush(tint)
            painter.drawRect(rect)
        painter.restore()

        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(border, width))
        painter.drawRoundedRect(rect, _RADIUS, _RADIUS)
        if lod < _DETAIL_ZOOM:
            return

        left = rect.left() + _STRIPE + _PAD - 2
        text_width = rect.right() - _PAD - left
        content = self.content
        y = rect.top() + 8

        painter.setFont(style.title_font)
        painter.setPen(style.text)
        badge = 20 if severity else 0
        self._draw_line(painter, QRectF(left, y, text_width - badge, 20), content.title, style.title_font)
        if severity:
            self._draw_badge(painter, QPointF(rect.right() - _PAD - 6, y + 10), severity)
        y += 21
        painter.setFont(style.body_font)
        painter.setPen(style.muted)
        self._draw_line(painter, QRectF(left, y, text_width, 17), content.subtitle, style.body_font)
        y += 20
        painter.setFont(style.shape_font)
        painter.setPen(ERROR_COLOR if severity == "error" and content.shape == "—" else style.text)
        self._draw_line(painter, QRectF(left, y, text_width, 18), content.shape, style.shape_font)
        y += 19
        painter.setFont(style.body_font)
        painter.setPen(ERROR_COLOR if severity == "error" and content.shape == "—" else style.muted)
        self._draw_line(painter, QRectF(left, y, text_width, 17), content.stats, style.body_font)

    @staticmethod
    def _draw_line(painter, rect: QRectF, text: str, font) -> None:
        metrics = QFontMetricsF(font)
        if metrics.horizontalAdvance(text) > rect.width():
            text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)

    def _draw_badge(self, painter, centre: QPointF, severity: str) -> None:
        color = ERROR_COLOR if severity == "error" else WARNING_COLOR
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(color))
        painter.drawEllipse(centre, 7.5, 7.5)
        painter.setPen(QColor("white"))
        font = self.style.title_font
        painter.setFont(font)
        painter.drawText(QRectF(centre.x() - 7.5, centre.y() - 8, 15, 16), Qt.AlignmentFlag.AlignCenter, "!")

"""Edges on the canvas: smooth curves from an output port to an input port, labelled with the
shape of the tensor they carry; red when the node they feed has an error."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainterPath, QPainterPathStroker, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyle

from .style import ERROR_COLOR, CanvasStyle

_ARROW = 7.0
_LABEL_ZOOM = 0.45


# An edge that skips rows within this horizontal distance would run straight through the cards
# between its ends (a residual skip in a column): it detours beside them instead.
DETOUR_WIDTH = 240.0
_DETOUR_MIN_DROP = 120.0
_DETOUR_OFFSET = 130.0


def curve(start: QPointF, end: QPointF) -> QPainterPath:
    """A vertical S-curve: leaves downwards, arrives from above, whatever the relative positions."""
    dx, dy = end.x() - start.x(), end.y() - start.y()
    path = QPainterPath(start)
    if dy > _DETOUR_MIN_DROP and abs(dx) < DETOUR_WIDTH:
        side = 1.0 if dx >= 0 else -1.0
        lane = (max(start.x(), end.x()) if side > 0 else min(start.x(), end.x())) + side * _DETOUR_OFFSET
        turn = min(60.0, dy / 3)
        path.cubicTo(QPointF(start.x(), start.y() + turn), QPointF(lane, start.y()), QPointF(lane, start.y() + turn))
        path.lineTo(QPointF(lane, end.y() - turn))
        path.cubicTo(QPointF(lane, end.y()), QPointF(end.x(), end.y() - turn), end)
        return path
    bend = max(40.0, abs(dy) * 0.5, abs(dx) * 0.15)
    path.cubicTo(QPointF(start.x(), start.y() + bend), QPointF(end.x(), end.y() - bend), end)
    return path


class EdgeItem(QGraphicsItem):
    def __init__(self, edge, style: CanvasStyle):
        super().__init__()
        self.edge = edge
        self.style = style
        self.label = ""
        self.error = False
        self._path = QPainterPath()
        self._hit = QPainterPath()
        self._label_rect = QRectF()
        self._end = QPointF()
        self._bounds = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0.0)
        self.setAcceptHoverEvents(True)
        self._hovered = False

    def set_endpoints(self, start: QPointF, end: QPointF) -> None:
        self.prepareGeometryChange()
        self._path = curve(start, end)
        self._end = end
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        self._hit = stroker.createStroke(self._path)
        self._place_label()

    @property
    def end(self) -> QPointF:
        """Where the edge arrives (just above its input port)."""
        return QPointF(self._end)

    def set_label(self, text: str, error: bool) -> bool:
        if (text, error) == (self.label, self.error):
            return False
        self.prepareGeometryChange()
        self.label, self.error = text, error
        self.setToolTip(f"Carries {text} per sample" if text else "")
        self._place_label()
        self.update()
        return True

    def _place_label(self) -> None:
        if self.label:
            metrics = QFontMetricsF(self.style.label_font)
            w = metrics.horizontalAdvance(self.label) + 12
            h = metrics.height() + 4
            mid = self._path.pointAtPercent(0.5)
            self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h / 2, w, h)
        else:
            self._label_rect = QRectF()
        self._bounds = self._hit.boundingRect().united(self._label_rect).adjusted(-_ARROW, -_ARROW, _ARROW, _ARROW)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        path = QPainterPath(self._hit)
        if not self._label_rect.isNull():
            path.addRect(self._label_rect)
        return path

    def hoverEnterEvent(self, event):
        self._hovered = True
        self.update()

    def hoverLeaveEvent(self, event):
        self._hovered = False
        self.update()

    def paint(self, painter, option, widget=None):
        style = self.style
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            color, width = style.accent, 2.6
        elif self.error:
            color, width = ERROR_COLOR, 1.8
        else:
            color, width = (style.accent if self._hovered else style.edge), 1.6
        painter.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)

        # Arrow head along the curve's final direction.
        angle = math.radians(self._path.angleAtPercent(0.98))
        tip = self._end
        back = QPointF(math.cos(angle), -math.sin(angle)) * -_ARROW
        side = QPointF(math.sin(angle), math.cos(angle)) * (_ARROW * 0.55)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawPolygon(QPolygonF([tip, tip + back + side, tip + back - side]))

        if self.label and option.levelOfDetailFromTransform(painter.worldTransform()) >= _LABEL_ZOOM:
            painter.setBrush(style.label_background)
            painter.setPen(QPen(color if (selected or self.error) else style.card_border, 1.0))
            radius = self._label_rect.height() / 2
            painter.drawRoundedRect(self._label_rect, radius, radius)
            painter.setPen(ERROR_COLOR if self.error else style.text)
            painter.setFont(style.label_font)
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)


class DraftEdge(QGraphicsPathItem):
    """The dashed curve that follows the mouse while a connection is being drawn."""

    def __init__(self, style: CanvasStyle):
        super().__init__()
        pen = QPen(style.accent, 2.0, Qt.PenStyle.DashLine, Qt.PenCapStyle.RoundCap)
        self.setPen(pen)
        self.setZValue(3.0)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_endpoints(self, start: QPointF, end: QPointF) -> None:
        self.setPath(curve(start, end))

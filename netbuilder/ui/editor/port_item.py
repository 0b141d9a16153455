"""The connection points of a node card: inputs on top, the output at the bottom.

A merge node (Add, Concatenate) has one wide input port that takes any number of edges;
their end points spread across it in port order.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPen
from PySide6.QtWidgets import QGraphicsItem

PORT_RADIUS = 5.0
MULTI_PORT_WIDTH = 96.0


class PortItem(QGraphicsItem):
    INPUT = "in"
    OUTPUT = "out"

    def __init__(self, node_item, direction: str, multi: bool = False):
        super().__init__(node_item)
        self.node_item = node_item
        self.direction = direction
        self.multi = multi
        self.highlighted = False
        self._hovered = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Drag to another node to connect" if direction == self.OUTPUT
                        else "Drag to a node's output to connect" + (" (takes any number of inputs)" if multi else ""))

    @property
    def node_id(self) -> str:
        return self.node_item.node_id

    def _half_width(self) -> float:
        return MULTI_PORT_WIDTH / 2 if self.multi else PORT_RADIUS

    def boundingRect(self) -> QRectF:
        # Generous hit area: ports are small targets.
        w = self._half_width() + 5
        return QRectF(-w, -PORT_RADIUS - 5, 2 * w, 2 * PORT_RADIUS + 10)

    def endpoint(self, slot: int = 0, slots: int = 1) -> QPointF:
        """Scene position where an edge attaches; merge ports spread `slots` edges across their width."""
        x = 0.0
        if self.multi and slots > 1:
            span = MULTI_PORT_WIDTH - 2 * PORT_RADIUS - 8
            x = -span / 2 + span * slot / (slots - 1)
        return self.mapToScene(QPointF(x, 0.0))

    def hoverEnterEvent(self, event):
        self._hovered = True
        self.update()

    def hoverLeaveEvent(self, event):
        self._hovered = False
        self.update()

    def paint(self, painter, option, widget=None):
        style = self.node_item.style
        color = style.accent if (self._hovered or self.highlighted) else style.port
        painter.setPen(QPen(style.card, 2.0))
        painter.setBrush(QBrush(color))
        r = PORT_RADIUS + (1.5 if self._hovered or self.highlighted else 0)
        if self.multi:
            w = self._half_width()
            painter.drawRoundedRect(QRectF(-w, -r, 2 * w, 2 * r), r, r)
        else:
            painter.drawEllipse(QPointF(0, 0), r, r)

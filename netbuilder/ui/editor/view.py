"""The canvas viewport: zoom with the wheel, pan with the middle button or Space + drag,
rubber-band selection, and drops of layers from the palette."""
from __future__ import annotations

import math

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QPainter
from PySide6.QtWidgets import QFrame, QGraphicsView, QMenu

LAYER_MIME_TYPE = "application/x-netbuilder-layer"
MIN_ZOOM, MAX_ZOOM = 0.08, 3.0
_GRID = 20.0
_SCENE_EXTENT = 1e6  # panning is never stopped by the edge of the drawing


class GraphView(QGraphicsView):
    layer_dropped = Signal(str, QPointF)   # type name, scene position
    zoom_changed = Signal(float)

    def __init__(self, scene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        scene.setSceneRect(QRectF(-_SCENE_EXTENT, -_SCENE_EXTENT, 2 * _SCENE_EXTENT, 2 * _SCENE_EXTENT))
        self._pan_from: QPointF | None = None
        self._space_held = False
        self.context_menu_actions = None  # callable(scene_pos, over_item) -> list of QAction / None

    # ------------------------------------------------------------------ zoom
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, zoom: float, anchor_under_mouse: bool = False) -> None:
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        factor = zoom / self.zoom
        if math.isclose(factor, 1.0):
            return
        if not anchor_under_mouse:
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.scale(factor, factor)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.zoom_changed.emit(self.zoom)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * 1.25)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / 1.25)

    def zoom_reset(self) -> None:
        self.set_zoom(1.0)

    def wheelEvent(self, event):
        delta = event.angleDelta().y()
        if delta:
            self.set_zoom(self.zoom * math.pow(1.0015, delta), anchor_under_mouse=True)
            event.accept()
        else:
            super().wheelEvent(event)

    def fit_rect(self, rect: QRectF, max_zoom: float = 1.0, min_zoom: float = MIN_ZOOM) -> None:
        """Show `rect` whole, zooming in no further than `max_zoom` (small graphs stay life-size).

        With a `min_zoom`, a drawing too big to show readably is shown from its top instead.
        """
        if rect.isNull():
            self.set_zoom(1.0)
            self.centerOn(QPointF(0, 0))
            return
        margin = 40.0
        rect = rect.adjusted(-margin, -margin, margin, margin)
        viewport = self.viewport().rect()
        zoom = min(viewport.width() / rect.width(), viewport.height() / rect.height(), max_zoom)
        self.set_zoom(max(zoom, min_zoom))
        if zoom >= min_zoom:
            self.centerOn(rect.center())
        else:
            visible_height = viewport.height() / self.zoom
            self.centerOn(QPointF(rect.center().x(), rect.top() + visible_height / 2))

    def center_on_item(self, item) -> None:
        # Zoom in to readable size when the whole graph is shown too small to read the card.
        if self.zoom < 0.6:
            self.set_zoom(0.8)
        self.centerOn(item)

    # ------------------------------------------------------------------ pan
    def _start_pan(self, pos: QPointF) -> None:
        self._pan_from = pos
        self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.MiddleButton or (
                event.button() == Qt.MouseButton.LeftButton and self._space_held):
            self._start_pan(event.position())
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space_held else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event):
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event):
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    # ------------------------------------------------------------------ drops from the palette
    def dragEnterEvent(self, event):
        if event.mimeData().hasFormat(LAYER_MIME_TYPE):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event):
        if event.mimeData().hasFormat(LAYER_MIME_TYPE):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event):
        mime = event.mimeData()
        if not mime.hasFormat(LAYER_MIME_TYPE):
            super().dropEvent(event)
            return
        type_name = bytes(mime.data(LAYER_MIME_TYPE)).decode("utf-8")
        self.layer_dropped.emit(type_name, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()

    # ------------------------------------------------------------------ context menu
    def contextMenuEvent(self, event):
        if self.context_menu_actions is None:
            return
        scene_pos = self.mapToScene(event.pos())
        item = self.itemAt(event.pos())
        if item is not None:
            item = item.topLevelItem()  # a port stands for its node
        if item is not None and not item.isSelected():
            self.scene().clearSelection()
            item.setSelected(True)
        actions = self.context_menu_actions(scene_pos, item is not None)
        if actions:
            menu = QMenu(self)
            for action in actions:
                if action is None:
                    menu.addSeparator()
                else:
                    menu.addAction(action)
            menu.exec(event.globalPos())

    # ------------------------------------------------------------------ drawing
    def drawBackground(self, painter, rect):
        style = self.scene().style
        painter.fillRect(rect, style.background)
        step = _GRID if self.zoom >= 0.9 else _GRID * 5
        if self.zoom * step < 6:
            return
        left = math.floor(rect.left() / step) * step
        top = math.floor(rect.top() / step) * step
        major = step * 5
        minor_lines, major_lines = [], []
        x = left
        while x <= rect.right():
            (major_lines if math.isclose(x % major, 0.0, abs_tol=0.5) else minor_lines).append(
                QLineF(x, rect.top(), x, rect.bottom()))
            x += step
        y = top
        while y <= rect.bottom():
            (major_lines if math.isclose(y % major, 0.0, abs_tol=0.5) else minor_lines).append(
                QLineF(rect.left(), y, rect.right(), y))
            y += step
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(style.grid_minor)
        painter.drawLines(minor_lines)
        painter.setPen(style.grid)
        painter.drawLines(major_lines)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)

    def drawForeground(self, painter, rect):
        scene = self.scene()
        if scene.node_items:
            return
        # An empty canvas explains how to start.
        painter.save()
        painter.resetTransform()
        painter.setPen(scene.style.muted)
        font = QFont(scene.style.title_font)
        font.setPointSizeF(12)
        painter.setFont(font)
        painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter,
                         "Drag layers here from the palette\nor double-click one to add it")
        painter.restore()

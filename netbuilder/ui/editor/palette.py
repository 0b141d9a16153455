"""The layer palette: every layer type grouped by category, searchable, with its help text.

Drag a layer onto the canvas to add it there, or double-click (or press Enter) to add it at
the centre of the view; the text box below the list explains the highlighted layer.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import QMimeData, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QLabel, QLineEdit, QSizePolicy, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from ...core import catalogue
from .labels import layer_tooltip
from .style import category_color
from .view import LAYER_MIME_TYPE

_TYPE_ROLE = Qt.ItemDataRole.UserRole


def _swatch(color: QColor, size: int = 14) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(QRectF(1, 1, size - 2, size - 2), 3, 3)
    painter.end()
    return QIcon(pixmap)


class _LayerTree(QTreeWidget):
    """A tree whose layer rows drag out as layer types."""

    def mimeTypes(self):
        return [LAYER_MIME_TYPE]

    def mimeData(self, items):
        types = [item.data(0, _TYPE_ROLE) for item in items if item.data(0, _TYPE_ROLE)]
        if not types:
            return None
        mime = QMimeData()
        mime.setData(LAYER_MIME_TYPE, types[0].encode("utf-8"))
        mime.setText(types[0])
        return mime


class PaletteWidget(QWidget):
    add_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._add_first_match)

        self.tree = _LayerTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(8)
        self.tree.setIconSize(QSize(14, 14))
        self.tree.setUniformRowHeights(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setExpandsOnDoubleClick(False)  # a single click folds a category
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        self.tree.itemActivated.connect(self._on_double_click)
        self.tree.currentItemChanged.connect(self._show_help)
        self.tree.itemClicked.connect(self._toggle_category)

        self.help = QLabel(self)
        self.help.setWordWrap(True)
        self.help.setTextFormat(Qt.TextFormat.RichText)
        self.help.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.help.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.help.setMinimumHeight(96)
        self.help.setMargin(6)
        self.help.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.help)

        self._category_items: dict[str, QTreeWidgetItem] = {}
        self._layer_items: dict[str, QTreeWidgetItem] = {}
        self._populate()
        self._show_help(None)

    def _populate(self) -> None:
        bold = self.tree.font()
        bold.setBold(True)
        for category, specs in catalogue.by_category().items():
            if not specs:
                continue
            header = QTreeWidgetItem(self.tree, [category.upper()])
            header.setFont(0, bold)
            header.setFlags(Qt.ItemFlag.ItemIsEnabled)
            header.setForeground(0, self.palette().brush(QPalette.ColorRole.PlaceholderText))
            self._category_items[category] = header
            icon = _swatch(category_color(category))
            for spec in specs:
                item = QTreeWidgetItem(header, [spec.type])
                item.setData(0, _TYPE_ROLE, spec.type)
                item.setIcon(0, icon)
                item.setToolTip(0, layer_tooltip(spec))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
                self._layer_items[spec.type] = item
            header.setExpanded(True)

    # ------------------------------------------------------------------ search
    def filter(self, text: str) -> None:
        """Show only layers whose name, category, summary or help mention every word of `text`."""
        words = text.lower().split()
        matches = []
        for header in self._category_items.values():
            visible = 0
            for i in range(header.childCount()):
                item = header.child(i)
                spec = catalogue.get(item.data(0, _TYPE_ROLE))
                haystack = f"{spec.type} {spec.category} {spec.summary} {spec.help}".lower()
                hit = all(w in haystack for w in words)
                item.setHidden(not hit)
                if hit:
                    visible += 1
                    matches.append(item)
            header.setHidden(visible == 0)
            if words:
                header.setExpanded(True)
        if words and matches:
            # A layer whose name matches comes first, so Enter adds what the user most likely meant.
            by_name = [m for m in matches if words[0] in m.text(0).lower()]
            self.tree.setCurrentItem((by_name or matches)[0])

    def visible_types(self) -> list[str]:
        return [t for t, item in self._layer_items.items() if not item.isHidden() and not item.parent().isHidden()]

    def _add_first_match(self) -> None:
        item = self.tree.currentItem()
        if item is not None and item.data(0, _TYPE_ROLE) and not item.isHidden():
            self.add_requested.emit(item.data(0, _TYPE_ROLE))

    # ------------------------------------------------------------------ items
    def _on_double_click(self, item, column=0) -> None:
        type_name = item.data(0, _TYPE_ROLE)
        if type_name:
            self.add_requested.emit(type_name)

    def _toggle_category(self, item, column=0) -> None:
        if item.data(0, _TYPE_ROLE) is None:
            item.setExpanded(not item.isExpanded())

    def _show_help(self, item, previous=None) -> None:
        type_name = item.data(0, _TYPE_ROLE) if item is not None else None
        if not type_name:
            self.help.setText("<p>Drag a layer onto the canvas, or double-click it to add it in the middle of "
                              "the view. Hover a layer for its formula.</p>")
            return
        spec = catalogue.get(type_name)
        self.help.setText(f"<p><b>{escape(spec.type)}</b> — {escape(spec.summary)}</p><p>{escape(spec.help)}</p>")

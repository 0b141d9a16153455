"""New from a template: every built-in design with a picture of its architecture, its one-line
description, its size and the data it trains on; or an empty network."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem,
                               QStyle, QStyledItemDelegate, QVBoxLayout)

from ...core import templates
from ...core.settings import OPTIMIZERS
from ..panels.data_panel import DATASET_LABELS
from .thumbnails import architecture_pixmap

EMPTY = ""  # the name the gallery returns for "an empty network"
_THUMB = QSize(168, 76)
_ROW_HEIGHT = 96
_NAME_ROLE = Qt.ItemDataRole.UserRole
_TITLE_ROLE = Qt.ItemDataRole.UserRole + 1
_DESCRIPTION_ROLE = Qt.ItemDataRole.UserRole + 2
_FACTS_ROLE = Qt.ItemDataRole.UserRole + 3
_PICTURE_ROLE = Qt.ItemDataRole.UserRole + 4


def gallery_entries() -> list[dict]:
    """name, title, description, facts and project of each template (the empty network first)."""
    entries = [{"name": EMPTY, "title": "Empty network", "description": "Start from a blank canvas and drag layers in "
                "from the palette.", "facts": "", "project": None}]
    for name, tpl in templates.TEMPLATES.items():
        project = templates.build(name)
        settings = project.settings
        dataset = DATASET_LABELS.get(settings["data"]["dataset"], settings["data"]["dataset"])
        optimizer = OPTIMIZERS[settings["optimizer"]["type"]][0]
        epochs = settings["training"]["epochs"]
        facts = (f"{len(project.graph.nodes)} layers · {dataset} · {optimizer}, "
                 f"{epochs} epoch{'s' if epochs != 1 else ''}")
        entries.append({"name": name, "title": tpl.title, "description": tpl.description, "facts": facts,
                        "project": project})
    return entries


class _EntryDelegate(QStyledItemDelegate):
    """Picture on the left; title, description and facts to its right."""

    def sizeHint(self, option, index) -> QSize:
        return QSize(560, _ROW_HEIGHT)

    def paint(self, painter: QPainter, option, index) -> None:
        painter.save()
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect = option.rect.adjusted(6, 4, -6, -4)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if selected or option.state & QStyle.StateFlag.State_MouseOver:
            fill = QColor(palette.color(QPalette.ColorRole.Highlight))
            fill.setAlphaF(0.16 if selected else 0.07)
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 1.2) if selected else Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(QRectF(rect), 8, 8)

        picture_rect = QRect(rect.left() + 10, rect.top() + (rect.height() - _THUMB.height()) // 2,
                             _THUMB.width(), _THUMB.height())
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(QRectF(picture_rect), 6, 6)
        picture = index.data(_PICTURE_ROLE)
        if isinstance(picture, QIcon):
            picture.paint(painter, picture_rect)

        text_left = picture_rect.right() + 16
        text_rect = QRect(text_left, rect.top() + 10, rect.right() - text_left - 10, rect.height() - 20)
        title_font = QFont(option.font)
        title_font.setBold(True)
        title_font.setPointSizeF(option.font.pointSizeF() * 1.1)
        painter.setFont(title_font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        line = painter.fontMetrics().height()
        painter.drawText(QRect(text_rect.left(), text_rect.top(), text_rect.width(), line),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, index.data(_TITLE_ROLE))
        painter.setFont(option.font)
        body_top = text_rect.top() + line + 3
        facts = index.data(_FACTS_ROLE)
        facts_height = painter.fontMetrics().height() if facts else 0
        painter.drawText(QRect(text_rect.left(), body_top, text_rect.width(), text_rect.bottom() - body_top - facts_height),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                         index.data(_DESCRIPTION_ROLE))
        if facts:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(QRect(text_rect.left(), text_rect.bottom() - facts_height, text_rect.width(), facts_height),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, facts)
        painter.restore()


def _empty_picture(palette: QPalette, ratio: float) -> QIcon:
    pixmap = QPixmap(round(_THUMB.width() * ratio), round(_THUMB.height() * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(palette.color(QPalette.ColorRole.PlaceholderText), 1.6)
    painter.setPen(pen)
    cx, cy = _THUMB.width() / 2, _THUMB.height() / 2
    painter.drawLine(QPointF(cx - 10, cy), QPointF(cx + 10, cy))
    painter.drawLine(QPointF(cx, cy - 10), QPointF(cx, cy + 10))
    painter.end()
    return QIcon(pixmap)


class TemplateGallery(QDialog):
    """`exec()` → Accepted with `chosen` = a template name, or "" for an empty network."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("New Network")
        self.chosen: str | None = None
        heading = QLabel("Start from a template", self)
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        heading.setFont(font)
        sub = QLabel("Each template is ready to train as it is; change anything afterwards.", self)
        sub.setProperty("role", "hint")
        self.list = QListWidget(self)
        self.list.setItemDelegate(_EntryDelegate(self.list))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setMouseTracking(True)
        self.list.setSpacing(0)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        ratio = self.devicePixelRatioF() if hasattr(self, "devicePixelRatioF") else 1.0
        palette = self.palette()
        for entry in gallery_entries():
            item = QListWidgetItem(entry["title"])
            item.setData(_NAME_ROLE, entry["name"])
            item.setData(_TITLE_ROLE, entry["title"])
            item.setData(_DESCRIPTION_ROLE, entry["description"])
            item.setData(_FACTS_ROLE, entry["facts"])
            item.setToolTip(entry["description"])
            if entry["project"] is not None:
                picture = QIcon(architecture_pixmap(entry["project"].graph, _THUMB.width(), _THUMB.height(), max(ratio, 2.0)))
            else:
                picture = _empty_picture(palette, max(ratio, 2.0))
            item.setData(_PICTURE_ROLE, picture)
            self.list.addItem(item)
        self.list.setCurrentRow(1 if self.list.count() > 1 else 0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.create_button = buttons.addButton("Create", QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(8)
        layout.addWidget(heading)
        layout.addWidget(sub)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(640, 620)

    def select(self, name: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(_NAME_ROLE) == name:
                self.list.setCurrentRow(row)
                return
        raise KeyError(name)

    def accept(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        self.chosen = item.data(_NAME_ROLE)
        super().accept()

"""The issues list: every error and warning of the network; clicking one selects its node and
brings it into view."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap, QPolygonF
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from .labels import problems_text
from .style import ERROR_COLOR, WARNING_COLOR

_NODE_ROLE = Qt.ItemDataRole.UserRole


def _severity_icon(severity: str, size: int = 16) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    if severity == "error":
        painter.setBrush(ERROR_COLOR)
        painter.drawEllipse(QRectF(1, 1, size - 2, size - 2))
        mark = "!"
    else:
        painter.setBrush(WARNING_COLOR)
        painter.drawPolygon(QPolygonF([QPointF(size / 2, 1), QPointF(size - 1, size - 1.5), QPointF(1, size - 1.5)]))
        mark = "!"
    painter.setPen(QColor("white"))
    font = painter.font()
    font.setBold(True)
    font.setPixelSize(int(size * 0.7))
    painter.setFont(font)
    painter.drawText(QRectF(0, 1 if severity == "error" else 2.5, size, size - 1), Qt.AlignmentFlag.AlignCenter, mark)
    painter.end()
    return QIcon(pixmap)


class IssuesWidget(QWidget):
    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = None
        self.summary = QLabel(self)
        self.summary.setContentsMargins(6, 4, 6, 2)
        self.list = QListWidget(self)
        self.list.setWordWrap(True)
        self.list.setIconSize(QSize(16, 16))
        self.list.setUniformItemSizes(False)
        self.list.itemClicked.connect(self._on_item_activated)
        self.list.itemActivated.connect(self._on_item_activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        self._icons = {"error": _severity_icon("error"), "warning": _severity_icon("warning")}
        self._shown: list | None = None
        self.set_document(document)

    def set_document(self, document) -> None:
        if self.document is not None:
            self.document.analysis_changed.disconnect(self.show_analysis)
        self.document = document
        if document is not None:
            document.analysis_changed.connect(self.show_analysis)
            self.show_analysis(document.analysis)
        else:
            self.list.clear()
            self.summary.clear()

    def show_analysis(self, analysis) -> None:
        # Errors first: they block training; warnings only advise.
        problems = analysis.errors + analysis.warnings
        key = [(p.severity, p.message, p.node_id) for p in problems]
        if key == self._shown:
            return
        self._shown = key
        self.list.clear()
        for problem in problems:
            item = QListWidgetItem(self._icons[problem.severity], problem.message)
            item.setData(_NODE_ROLE, problem.node_id)
            item.setToolTip(problem.message + ("\n\nClick to show the layer." if problem.node_id else ""))
            self.list.addItem(item)
        errors, warnings = len(analysis.errors), len(analysis.warnings)
        if not problems:
            self.summary.setText("No problems: the network is ready to train.")
        else:
            self.summary.setText(problems_text(errors, warnings))

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        node_id = item.data(_NODE_ROLE)
        if node_id and self.document is not None:
            self.document.focus(node_id)

"""The summary: one row per layer, as `netbuilder info` prints it (output shape, parameters,
multiply-adds, receptive field, problems), with the network's totals underneath.

Clicking a row selects that layer on the canvas; selecting on the canvas highlights its row.
"""
from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from .. import icons

COLUMNS = ("#", "Layer", "Type", "Output", "Parameters", "Multiply-adds", "Receptive field", "Status")
_NUMERIC = (0, 4, 5)
_NAME_COLUMN = 1
_ID_ROLE = Qt.ItemDataRole.UserRole
ERROR_COLOR = QColor("#e53935")
WARNING_COLOR = QColor("#d97706")


def shape_text(shape) -> str:
    if shape is None:
        return "?"
    return "×".join(str(d) for d in shape) if shape else "scalar"


def field_text(rf) -> str:
    if rf is None:
        return "—"
    size = "×".join(str(int(v)) if float(v).is_integer() else f"{v:g}" for v in rf.size)
    return f"{size} (all)" if rf.is_global else size


def compact_count(n: int) -> str:
    """12,345,678 → 12.3 M: the status bar's short form."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:,}"


def summary_rows(document) -> list[dict]:
    """The table's content: one dict per node in execution order."""
    graph, analysis = document.graph, document.analysis
    rows = []
    for nid in analysis.order or list(graph.nodes):
        node, info = graph.nodes[nid], analysis.nodes[nid]
        status = "error" if info.errors else ("warning" if info.warnings else "")
        rows.append({"id": nid, "name": node.name, "type": node.type, "output": shape_text(info.output_shape),
                     "params": info.params, "macs": info.macs, "rf": field_text(info.receptive_field),
                     "status": status, "problems": info.errors + info.warnings})
    return rows


class _NumberItem(QTableWidgetItem):
    """Sorts by the number, shows it with thousands separators."""

    def __init__(self, value: int):
        super().__init__(f"{value:,}")
        self.number = value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other):
        return self.number < getattr(other, "number", 0)


class SummaryPanel(QWidget):
    code_requested = Signal()

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = None
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_rows_selected)
        self.table.setSortingEnabled(True)
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)  # execution order until the user sorts

        self.totals = QLabel(self)
        self.totals.setWordWrap(True)  # a long line of totals must not widen the dock
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code_button = QPushButton(icons.icon("code"), "View Code", self)
        self.code_button.setToolTip("Show the PyTorch module this network compiles to")
        self.code_button.clicked.connect(self.code_requested)
        self.copy_button = QPushButton(icons.icon("copy"), "Copy Table", self)
        self.copy_button.setToolTip("Copy the table as text, as `netbuilder info` prints it")
        self.copy_button.clicked.connect(self.copy_as_text)
        footer = QHBoxLayout()
        footer.setContentsMargins(8, 4, 8, 6)
        footer.addWidget(self.totals, 1)
        footer.addWidget(self.copy_button)
        footer.addWidget(self.code_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.table, 1)
        layout.addLayout(footer)
        self.set_document(document)

    def set_document(self, document) -> None:
        if self.document is not None:
            self.document.analysis_changed.disconnect(self.refresh)
            self.document.selection_changed.disconnect(self._show_selection)
        self.document = document
        if document is not None:
            document.analysis_changed.connect(self.refresh)
            document.selection_changed.connect(self._show_selection)
        self.refresh()

    def refresh(self, *_args) -> None:
        doc = self.document
        with QSignalBlocker(self.table):
            self.table.setSortingEnabled(False)
            self.table.setRowCount(0)
            if doc is None:
                self.totals.clear()
                return
            rows = summary_rows(doc)
            self.table.setRowCount(len(rows))
            for r, row in enumerate(rows):
                cells = [_NumberItem(r + 1), QTableWidgetItem(row["name"]), QTableWidgetItem(row["type"]),
                         QTableWidgetItem(row["output"]), _NumberItem(row["params"]), _NumberItem(row["macs"]),
                         QTableWidgetItem(row["rf"]), QTableWidgetItem(row["status"])]
                cells[_NAME_COLUMN].setData(_ID_ROLE, row["id"])
                if row["status"]:
                    color = ERROR_COLOR if row["status"] == "error" else WARNING_COLOR
                    cells[-1].setForeground(color)
                    cells[-1].setIcon(icons.colored_icon(row["status"], color))
                    tip = "\n".join(row["problems"])
                    for cell in cells:
                        cell.setToolTip(tip)
                for c, cell in enumerate(cells):
                    self.table.setItem(r, c, cell)
            self.table.setSortingEnabled(True)
        analysis = doc.analysis
        non_trainable = analysis.total_params - analysis.trainable_params
        split = (f"{analysis.trainable_params:,} trainable, {non_trainable:,} running statistics" if non_trainable
                 else "all trainable")
        self.totals.setText(f"<b>{analysis.total_params:,}</b> parameters ({split}) · "
                            f"<b>{analysis.total_macs:,}</b> multiply-adds per sample")
        self._show_selection(doc.selected_ids)

    def _row_ids(self) -> list[str]:
        return [self.table.item(r, _NAME_COLUMN).data(_ID_ROLE) for r in range(self.table.rowCount())]

    def _on_rows_selected(self) -> None:
        if self.document is None:
            return
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        ids = [self.table.item(r, _NAME_COLUMN).data(_ID_ROLE) for r in rows]
        if ids and ids != self.document.selected_ids:
            if len(ids) == 1:
                self.document.focus(ids[0])
            else:
                self.document.select(ids)

    def _show_selection(self, node_ids: list) -> None:
        wanted = set(node_ids)
        with QSignalBlocker(self.table):
            self.table.clearSelection()
            model = self.table.selectionModel()
            for r, nid in enumerate(self._row_ids()):
                if nid in wanted:
                    model.select(self.table.model().index(r, 0),
                                 model.SelectionFlag.Select | model.SelectionFlag.Rows)
        self.table.viewport().update()

    def as_text(self) -> str:
        """The table as aligned plain text, the way `netbuilder info` prints it."""
        rows = [list(COLUMNS)]
        for r in range(self.table.rowCount()):
            rows.append([self.table.item(r, c).text() for c in range(len(COLUMNS))])
        widths = [max(len(row[c]) for row in rows) for c in range(len(COLUMNS))]
        lines = []
        for i, row in enumerate(rows):
            lines.append("  ".join(cell.rjust(w) if c in _NUMERIC and i else cell.ljust(w)
                                   for c, (cell, w) in enumerate(zip(row, widths))).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        if self.document is not None:
            a = self.document.analysis
            lines += ["", f"total parameters:     {a.total_params:,}", f"  trainable:          {a.trainable_params:,}",
                      f"multiply-adds/sample: {a.total_macs:,}"]
        return "\n".join(lines)

    def copy_as_text(self) -> None:
        QGuiApplication.clipboard().setText(self.as_text())

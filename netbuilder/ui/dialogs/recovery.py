"""The offer after a crash: the unsaved work that autosave kept, one entry per lost session."""
from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout

from .. import icons

RECOVER, DISCARD, LATER = "recover", "discard", "later"


def describe(recovery) -> str:
    when = datetime.fromtimestamp(recovery.saved_at).strftime("%Y-%m-%d %H:%M")
    where = str(recovery.original_path) if recovery.original_path else "never saved"
    return f"{recovery.name} — {where}, autosaved {when}"


class RecoveryDialog(QDialog):
    """`exec()`, then `choice` is RECOVER (with `selected`), DISCARD (all of them) or LATER."""

    def __init__(self, recoveries: list, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Recover Unsaved Work")
        self.recoveries = list(recoveries)
        self.choice = LATER
        self.selected = None
        heading = QLabel("NetBuilder did not close normally last time.", self)
        font = heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        heading.setFont(font)
        text = QLabel("These changes were autosaved but never saved to their project file. Recover one to continue "
                      "where you left off; save it to keep it.", self)
        text.setWordWrap(True)
        self.list = QListWidget(self)
        for recovery in self.recoveries:
            item = QListWidgetItem(icons.icon("project"), describe(recovery))
            item.setData(Qt.ItemDataRole.UserRole, recovery)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self._finish(RECOVER))
        buttons = QDialogButtonBox(self)
        recover = buttons.addButton("Recover", QDialogButtonBox.ButtonRole.AcceptRole)
        recover.setDefault(True)
        discard = buttons.addButton("Discard All", QDialogButtonBox.ButtonRole.DestructiveRole)
        later = buttons.addButton("Not Now", QDialogButtonBox.ButtonRole.RejectRole)
        recover.clicked.connect(lambda: self._finish(RECOVER))
        discard.clicked.connect(lambda: self._finish(DISCARD))
        later.clicked.connect(lambda: self._finish(LATER))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        layout.addWidget(heading)
        layout.addWidget(text)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(560, 300)

    def _finish(self, choice: str) -> None:
        self.choice = choice
        item = self.list.currentItem()
        self.selected = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if choice == LATER:
            self.reject()
        else:
            self.accept()

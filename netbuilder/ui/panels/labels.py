"""The small text styles the panels share: section headers, hints and status lines. Their
colours come from the stylesheet (by the `role` property), so both looks restyle them."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel


def section_header(text: str, parent=None) -> QLabel:
    label = QLabel(text.upper(), parent)
    label.setProperty("role", "section")
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 0.85)
    font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 106)
    label.setFont(font)
    return label


def hint_label(text: str = "", parent=None, role: str = "hint") -> QLabel:
    label = QLabel(text, parent)
    label.setProperty("role", role)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def set_role(label: QLabel, role: str) -> None:
    """Change a label's look (hint, status-ok, status-warning, status-error) after creation."""
    if label.property("role") != role:
        label.setProperty("role", role)
        label.style().unpolish(label)
        label.style().polish(label)

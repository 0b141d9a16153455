"""About NetBuilder: what it is and which versions it runs on."""
from __future__ import annotations

import platform
from importlib import metadata

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout

from ... import __version__
from .. import icons


def _installed(name: str) -> str:
    # Read from the package metadata: importing torch just to print its version would take seconds.
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> list[tuple[str, str]]:
    return [("NetBuilder", __version__), ("Python", platform.python_version()), ("Qt", qVersion()),
            ("PySide6", PySide6.__version__), ("PyTorch", _installed("torch")), ("pyqtgraph", _installed("pyqtgraph"))]


class AboutDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("About NetBuilder")
        logo = QLabel(self)
        logo.setPixmap(icons.app_pixmap(72, self.devicePixelRatioF()))
        logo.setAlignment(Qt.AlignmentFlag.AlignTop)
        title = QLabel("NetBuilder", self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        blurb = QLabel("Design neural networks visually, watch them learn, and take them anywhere.", self)
        blurb.setWordWrap(True)
        table = "".join(f"<tr><td style='padding-right:14px'>{name}</td><td>{version}</td></tr>"
                        for name, version in versions())
        details = QLabel(f"<table>{table}</table>", self)
        details.setProperty("role", "hint")
        details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text = QVBoxLayout()
        text.setSpacing(6)
        text.addWidget(title)
        text.addWidget(blurb)
        text.addSpacing(6)
        text.addWidget(details)
        top = QHBoxLayout()
        top.setSpacing(18)
        top.addWidget(logo)
        top.addLayout(text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 20, 20, 14)
        layout.addLayout(top)
        layout.addWidget(buttons)
        self.setFixedWidth(460)

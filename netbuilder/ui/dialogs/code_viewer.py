"""View code: the PyTorch module the network compiles to, exactly the text that trains, kept
up to date while the network is edited; copy it or save it as a .py file."""
from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QPalette, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QLabel, QMessageBox, QPlainTextEdit,
                               QVBoxLayout)

from .. import icons
from ..panels.labels import set_role

_KEYWORDS = ("import from as class def return if else elif for in while with not and or is None True False "
             "self super lambda pass raise try except yield").split()


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, names after def/class, strings, numbers and comments, in colours for the look."""

    def __init__(self, document, dark: bool):
        super().__init__(document)
        self.set_dark(dark)

    def set_dark(self, dark: bool) -> None:
        def fmt(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
            f = QTextCharFormat()
            f.setForeground(QColor(color))
            if bold:
                f.setFontWeight(QFont.Weight.DemiBold)
            f.setFontItalic(italic)
            return f

        c = ({"keyword": "#c792ea", "name": "#82aaff", "string": "#c3e88d", "number": "#f78c6c", "comment": "#7f8694"}
             if dark else
             {"keyword": "#7c3aed", "name": "#1d4ed8", "string": "#15803d", "number": "#b45309", "comment": "#6b7280"})
        self.rules = [
            (re.compile(r"\b(" + "|".join(_KEYWORDS) + r")\b"), fmt(c["keyword"], bold=True)),
            (re.compile(r"\b\d+(\.\d*)?([eE][-+]?\d+)?\b"), fmt(c["number"])),
            (re.compile(r"(?<=\bdef )\w+|(?<=\bclass )\w+"), fmt(c["name"], bold=True)),
            (re.compile(r"\bnn\.\w+"), fmt(c["name"])),
            (re.compile(r"'[^'\n]*'|\"[^\"\n]*\""), fmt(c["string"])),
            (re.compile(r"#[^\n]*"), fmt(c["comment"], italic=True)),
        ]
        self.docstring = fmt(c["string"])
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        for pattern, style in self.rules:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), style)
        # Triple-quoted strings may span lines: state 1 = inside one.
        start = 0 if self.previousBlockState() == 1 else text.find('"""')
        self.setCurrentBlockState(0)
        while start >= 0:
            end = text.find('"""', start + (0 if self.previousBlockState() == 1 and start == 0 else 3))
            if end < 0:
                self.setCurrentBlockState(1)
                self.setFormat(start, len(text) - start, self.docstring)
                break
            self.setFormat(start, end + 3 - start, self.docstring)
            start = text.find('"""', end + 3)


def module_code(document) -> tuple[str | None, str | None]:
    """(source, None) for a valid network, (None, why not) otherwise."""
    from ...compile.codegen import CompileError, generate_code
    try:
        return generate_code(document.graph, class_name="Net", analysis=document.analysis,
                             title=document.project.name), None
    except CompileError as exc:
        return None, str(exc)


class CodeViewer(QDialog):
    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.setWindowTitle("PyTorch Code")
        self.setWindowFlag(Qt.WindowType.WindowContextHelpButtonHint, False)
        self.document = None
        self.banner = QLabel(self)
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        self.editor = QPlainTextEdit(self)
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.editor.setFont(font)
        self.editor.setTabStopDistance(self.editor.fontMetrics().horizontalAdvance(" ") * 4)
        self.highlighter = PythonHighlighter(self.editor.document(), _is_dark(self.palette()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setIcon(icons.icon("copy"))
        self.copy_button.clicked.connect(self.copy)
        self.save_button = buttons.addButton("Save As…", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_button.setIcon(icons.icon("save-as"))
        self.save_button.clicked.connect(lambda: self.save_as())
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self.banner)
        layout.addWidget(self.editor, 1)
        layout.addWidget(buttons)
        self.resize(760, 680)
        self.set_document(document)

    def set_document(self, document) -> None:
        if self.document is not None:
            self.document.analysis_changed.disconnect(self.refresh)
            self.document.project_renamed.disconnect(self.refresh)
        self.document = document
        if document is not None:
            document.analysis_changed.connect(self.refresh)
            document.project_renamed.connect(self.refresh)
        self.refresh()

    @property
    def code(self) -> str:
        return self.editor.toPlainText()

    def refresh(self, *_args) -> None:
        if self.document is None:
            return
        source, problem = module_code(self.document)
        if source is None:
            set_role(self.banner, "status-error")
            self.banner.setText(f"The network cannot compile yet — {problem}. Fix the issues listed under Issues; "
                                "the last valid code stays below.")
            self.banner.setVisible(True)
            self.editor.setEnabled(bool(self.code))
            self.save_button.setEnabled(False)
            return
        self.banner.setVisible(False)
        self.editor.setEnabled(True)
        self.save_button.setEnabled(True)
        if source != self.code:
            scroll = self.editor.verticalScrollBar().value()
            self.editor.setPlainText(source)
            self.editor.verticalScrollBar().setValue(scroll)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.code)

    def save_as(self, path: str | None = None) -> bool:
        if path is None:
            stem = re.sub(r"\W+", "_", self.document.project.name).strip("_").lower() or "model"
            path, _ = QFileDialog.getSaveFileName(self, "Save the Code", f"{stem}.py", "Python files (*.py)")
            if not path:
                return False
        try:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(self.code)
        except OSError as exc:
            QMessageBox.critical(self, "Save the Code", f"{path} could not be written: {exc.strerror or exc}")
            return False
        return True

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self.highlighter.set_dark(_is_dark(self.palette()))

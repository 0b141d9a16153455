"""One input widget per ParamSpec kind, for the configuration panels.

A field shows a value with `set_value` (silently) and emits `changed(value)` only when the user
edits it, with a value its spec accepts. Ranges, units, log-scale stepping, "none" values and
file pickers all come from the spec, so a new setting in core/settings.py needs no UI code.
"""
from __future__ import annotations


from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QFileDialog, QHBoxLayout,
                               QLineEdit, QMenu, QToolButton, QWidget)

from ...core.params import ParamSpec, ValidationError
from .. import icons
from ..spin_boxes import CompactSpinBox, NumberSpinBox

_INT_LIMIT = 2**31 - 1


class Field(QWidget):
    changed = Signal(object)

    def __init__(self, spec: ParamSpec, parent=None):
        super().__init__(parent)
        self.spec = spec
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(4)
        self.setToolTip(spec.help)
        self._value = spec.default

    def value(self):
        return self._value

    def set_value(self, value) -> None:
        self._value = value
        blockers = [QSignalBlocker(child) for child in self.findChildren(QWidget)]
        self._show(value)
        del blockers

    def _show(self, value) -> None:
        raise NotImplementedError

    def _commit(self, value) -> None:
        """Check a value the user entered and announce it if it is new and valid."""
        try:
            value = self.spec.coerce(value)
        except ValidationError as exc:
            self.set_error(exc.message)
            return
        self.set_error(None)
        if value != self._value:
            self._value = value
            self.changed.emit(value)

    def set_error(self, message: str | None) -> None:
        self.setToolTip(f"{message}\n\n{self.spec.help}" if message else self.spec.help)


class _IntSpinBox(CompactSpinBox):
    hint_digits = 9   # a settings column is wider than the inspector


class _NumberSpinBox(NumberSpinBox):
    hint_digits = 9


class IntField(Field):
    """A spin box; a spec that allows "none" shows it as the value below the minimum."""

    def __init__(self, spec, parent=None, none_text: str = "none"):
        super().__init__(spec, parent)
        self.spin = _IntSpinBox(self)
        low = int(spec.minimum) if spec.minimum is not None else -_INT_LIMIT
        high = int(spec.maximum) if spec.maximum is not None else _INT_LIMIT
        self._none_at = low - 1 if spec.allow_none else None
        self.spin.setRange(self._none_at if spec.allow_none else low, high)
        if spec.allow_none:
            self.spin.setSpecialValueText(none_text)
        if spec.unit:
            self.spin.setSuffix(f" {spec.unit}")
        self.spin.setKeyboardTracking(False)
        self.spin.setAccelerated(True)
        self.spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.spin.valueChanged.connect(self._on_spin)
        self.row.addWidget(self.spin, 1)

    def _on_spin(self, value: int) -> None:
        self._commit(None if value == self._none_at else value)

    def _show(self, value) -> None:
        self.spin.setValue(self._none_at if value is None else int(value))


class FloatField(Field):
    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.spin = _NumberSpinBox(spec, self)
        self.spin.valueChanged.connect(self._commit)
        self.row.addWidget(self.spin, 1)

    def _show(self, value) -> None:
        self.spin.setValue(float(value))


class BoolField(Field):
    """A check box carrying its own label (the form gives it the whole row)."""

    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.check = QCheckBox(spec.title, self)
        self.check.toggled.connect(self._commit)
        self.row.addWidget(self.check, 1)

    def _show(self, value) -> None:
        self.check.setChecked(bool(value))


class ChoiceField(Field):
    def __init__(self, spec, parent=None, labels: dict | None = None):
        super().__init__(spec, parent)
        self.combo = QComboBox(self)
        # Long choice names must not make the whole panel wider than its dock: elide instead.
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(8)
        labels = labels or {}
        for choice in spec.choices:
            self.combo.addItem(labels.get(choice, str(choice)), choice)
        self.combo.currentIndexChanged.connect(lambda _: self._commit(self.combo.currentData()))
        self.row.addWidget(self.combo, 1)

    def _show(self, value) -> None:
        index = self.combo.findData(value)
        if index >= 0:
            self.combo.setCurrentIndex(index)


def _parse_numbers(text: str, kind: str) -> list:
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    convert = int if kind == "int_list" else float
    return [convert(p) for p in parts]


class ListField(Field):
    """Numbers separated by commas, checked when the user finishes typing."""

    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("e.g. 10, 20" if spec.kind == "int_list" else "e.g. 1, 0.1, 0.01")
        self.edit.editingFinished.connect(self._on_edited)
        self.row.addWidget(self.edit, 1)

    def _on_edited(self) -> None:
        try:
            values = _parse_numbers(self.edit.text(), self.spec.kind)
        except ValueError:
            self.set_error("expected numbers separated by commas")
            return
        self._commit(values)

    def set_error(self, message: str | None) -> None:
        super().set_error(message)
        self.edit.setProperty("invalid", bool(message))
        self.edit.style().unpolish(self.edit)
        self.edit.style().polish(self.edit)
        self.edit.setToolTip(message or "")

    def _show(self, value) -> None:
        self.edit.setText(", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in (value or [])))
        self.set_error(None)


class TextField(Field):
    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.edit = QLineEdit(self)
        self.edit.editingFinished.connect(self._on_edited)
        self.row.addWidget(self.edit, 1)

    def _on_edited(self) -> None:
        text = self.edit.text().strip()
        self._commit(None if (not text and self.spec.allow_none) else text)

    def _show(self, value) -> None:
        self.edit.setText(value or "")


class PathField(TextField):
    """A path typed or picked; `mode` is "folder", "file" or "any" (a menu offers both)."""

    def __init__(self, spec, parent=None, mode: str = "any", placeholder: str = ""):
        super().__init__(spec, parent)
        self.mode = mode
        self.file_filter = "All files (*)"
        self.edit.setClearButtonEnabled(True)
        self.edit.setPlaceholderText(placeholder or ("not set" if spec.allow_none else ""))
        self.browse = QToolButton(self)
        self.browse.setIcon(icons.icon("folder"))
        self.browse.setToolTip(f"Choose {spec.title.lower()}…")
        self.browse.clicked.connect(self._on_browse)
        self.row.addWidget(self.browse)
        self.start_folder = ""

    def set_mode(self, mode: str, file_filter: str = "All files (*)") -> None:
        self.mode = mode
        self.file_filter = file_filter

    def _on_browse(self) -> None:
        if self.mode == "any":
            menu = QMenu(self)
            menu.addAction(icons.icon("file"), "Choose a File…", lambda: self._pick("file"))
            menu.addAction(icons.icon("folder"), "Choose a Folder…", lambda: self._pick("folder"))
            menu.exec(self.browse.mapToGlobal(self.browse.rect().bottomLeft()))
        else:
            self._pick(self.mode)

    def _pick(self, mode: str) -> None:
        start = self.edit.text() or self.start_folder
        if mode == "folder":
            path = QFileDialog.getExistingDirectory(self, self.spec.title, start)
        else:
            path, _ = QFileDialog.getOpenFileName(self, self.spec.title, start, self.file_filter)
        if path:
            self.edit.setText(path)
            self._on_edited()


def make_field(spec: ParamSpec, parent=None, *, labels: dict | None = None, none_text: str = "none",
               path_mode: str = "any", placeholder: str = "") -> Field:
    kind = spec.kind
    if kind == "int":
        return IntField(spec, parent, none_text=none_text)
    if kind == "float":
        return FloatField(spec, parent)
    if kind == "bool":
        return BoolField(spec, parent)
    if kind == "choice":
        return ChoiceField(spec, parent, labels)
    if kind in ("int_list", "float_list", "ints"):
        return ListField(spec, parent)
    if kind == "path":
        return PathField(spec, parent, path_mode, placeholder)
    return TextField(spec, parent)

"""One editor widget per parameter kind, built from its ParamSpec.

Every editor emits `edited(value)` with a value its spec accepts, only when the user changes
it; `set_value` shows a value from the model without emitting. Where the spec allows "auto",
an auto check box sits beside the editor and the editor shows the value inference resolved.
"""
from __future__ import annotations


from PySide6.QtCore import QRectF, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QIcon, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QFileDialog, QHBoxLayout,
                               QLabel, QLineEdit, QSpinBox, QToolButton, QWidget)

from ...core.params import AUTO, ParamSpec, ValidationError
from ..spin_boxes import CompactSpinBox, NumberSpinBox

_INT_LIMIT = 2**31 - 1


class ParamEditor(QWidget):
    edited = Signal(object)

    def __init__(self, spec: ParamSpec, parent=None):
        super().__init__(parent)
        self.spec = spec
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(4)
        self.setToolTip(spec.help)
        self._special: QCheckBox | None = None  # the "auto" / "none" box
        self._value = None

    def value(self):
        return self._value

    def set_value(self, value, resolved=None) -> None:
        """Show `value` (and, for auto, the `resolved` value) without emitting `edited`."""
        self._value = value
        blockers = [QSignalBlocker(w) for w in self.findChildren(QWidget)]
        special = self._special_value()
        is_special = special is not None and value == special
        if self._special is not None:
            self._special.setChecked(is_special)
        shown = resolved if is_special else value
        self._show(shown, enabled=not is_special)
        del blockers

    # Subclasses: put the plain editor in the layout, show a value, read it back.
    def _show(self, value, enabled: bool) -> None:
        raise NotImplementedError

    def _read(self):
        raise NotImplementedError

    def _special_value(self):
        if self.spec.allow_auto:
            return AUTO
        if self.spec.allow_none:
            return None
        return "__no_special__"

    def _add_special_box(self) -> None:
        if not (self.spec.allow_auto or self.spec.allow_none):
            return
        self._special = QCheckBox("auto" if self.spec.allow_auto else "none", self)
        self._special.setToolTip("Take the value from the incoming shape" if self.spec.allow_auto
                                 else "Leave unset")
        self._special.toggled.connect(self._on_special_toggled)
        self.layout_.addWidget(self._special)

    def _on_special_toggled(self, checked: bool) -> None:
        if checked:
            self._emit(self._special_value())
        else:
            self._emit_current()

    def _emit_current(self) -> None:
        try:
            value = self._read()
        except (ValueError, ValidationError):
            return
        self._emit(value)

    def _emit(self, value) -> None:
        try:
            value = self.spec.coerce(value)
        except ValidationError as exc:
            self.setToolTip(f"{exc.message}\n\n{self.spec.help}")
            return
        self.setToolTip(self.spec.help)
        if value != self._value:
            self._value = value
            self._set_enabled(value != self._special_value())
            self.edited.emit(value)

    def _set_enabled(self, enabled: bool) -> None:
        pass


def _int_spin(spec: ParamSpec, parent) -> QSpinBox:
    box = CompactSpinBox(parent)
    box.setRange(int(spec.minimum) if spec.minimum is not None else -_INT_LIMIT,
                 int(spec.maximum) if spec.maximum is not None else _INT_LIMIT)
    box.setKeyboardTracking(False)
    box.setAccelerated(True)
    box.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
    if spec.unit:
        box.setSuffix(f" {spec.unit}")
    return box


class IntEditor(ParamEditor):
    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.spin = _int_spin(spec, self)
        self.spin.valueChanged.connect(lambda _: self._emit_current())
        self.layout_.addWidget(self.spin, 1)
        self._add_special_box()

    def _show(self, value, enabled):
        self.spin.setEnabled(enabled)
        if isinstance(value, int):
            self.spin.setValue(value)
        else:
            self.spin.clear()

    def _read(self):
        return self.spin.value()

    def _set_enabled(self, enabled):
        self.spin.setEnabled(enabled)


class FloatEditor(ParamEditor):
    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.spin = NumberSpinBox(spec, self)
        self.spin.valueChanged.connect(lambda _: self._emit_current())
        self.layout_.addWidget(self.spin, 1)
        self._add_special_box()

    def _show(self, value, enabled):
        self.spin.setEnabled(enabled)
        if isinstance(value, (int, float)):
            self.spin.setValue(float(value))

    def _read(self):
        return self.spin.value()

    def _set_enabled(self, enabled):
        self.spin.setEnabled(enabled)


class BoolEditor(ParamEditor):
    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.check = QCheckBox(self)
        self.check.toggled.connect(lambda _: self._emit_current())
        self.layout_.addWidget(self.check, 1)

    def _show(self, value, enabled):
        self.check.setChecked(bool(value))

    def _read(self):
        return self.check.isChecked()


class ChoiceEditor(ParamEditor):
    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.combo = QComboBox(self)
        for choice in spec.choices:
            self.combo.addItem(str(choice), choice)
        self.combo.currentIndexChanged.connect(lambda _: self._emit_current())
        self.layout_.addWidget(self.combo, 1)
        self._add_special_box()

    def _show(self, value, enabled):
        self.combo.setEnabled(enabled)
        index = self.combo.findData(value)
        if index >= 0:
            self.combo.setCurrentIndex(index)

    def _read(self):
        return self.combo.currentData()

    def _set_enabled(self, enabled):
        self.combo.setEnabled(enabled)


def _link_icon(palette: QPalette) -> QIcon:
    """Two chain links: joined when on (sizes linked), apart when off."""
    icon = QIcon()
    for state, joined in ((QIcon.State.On, True), (QIcon.State.Off, False)):
        pixmap = QPixmap(16, 16)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        role = QPalette.ColorRole.Highlight if joined else QPalette.ColorRole.PlaceholderText
        painter.setPen(QPen(palette.color(role), 1.6))
        gap = 0.0 if joined else 2.5
        painter.drawRoundedRect(QRectF(4.5, 1.0 - gap / 2, 7, 8), 3, 3)
        painter.drawRoundedRect(QRectF(4.5, 7.0 + gap / 2, 7, 8), 3, 3)
        painter.end()
        icon.addPixmap(pixmap, QIcon.Mode.Normal, state)
    return icon


class IntsEditor(ParamEditor):
    """Paired spin boxes for kernel / stride / padding (height × width) with a link toggle:
    linked, changing one changes both, which is what square kernels want."""

    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.spins = []
        for i in range(spec.length or 1):
            if i:
                times = QLabel("×", self)
                self.layout_.addWidget(times)
            spin = _int_spin(spec, self)
            spin.setSuffix("")
            spin.valueChanged.connect(lambda value, index=i: self._on_spin(index, value))
            self.spins.append(spin)
            self.layout_.addWidget(spin, 1)
        self.link = None
        if len(self.spins) > 1:
            self.link = QToolButton(self)
            self.link.setCheckable(True)
            self.link.setIcon(_link_icon(self.palette()))
            self.link.setAutoRaise(True)
            self.link.setToolTip("Linked: editing one size edits all (square windows)")
            self.link.toggled.connect(self._on_link_toggled)
            self.layout_.addWidget(self.link)
        self._add_special_box()

    def _on_link_toggled(self, linked: bool) -> None:
        self.link.setToolTip("Linked: editing one size edits all (square windows)" if linked
                             else "Unlinked: height and width are set separately")
        if linked:
            self._on_spin(0, self.spins[0].value())

    def _on_spin(self, index: int, value: int) -> None:
        if self.link is not None and self.link.isChecked():
            for spin in self.spins:
                if spin.value() != value:
                    with QSignalBlocker(spin):
                        spin.setValue(value)
        self._emit_current()

    def _show(self, value, enabled):
        values = value if isinstance(value, (list, tuple)) else [value] * len(self.spins)
        for spin, v in zip(self.spins, values):
            spin.setEnabled(enabled)
            if isinstance(v, int):
                spin.setValue(v)
        if self.link is not None:
            # Equal sizes start linked; a rectangular window starts unlinked.
            self.link.setChecked(len(set(values)) == 1)

    def _read(self):
        return [spin.value() for spin in self.spins]

    def _set_enabled(self, enabled):
        for spin in self.spins:
            spin.setEnabled(enabled)


class ListEditor(ParamEditor):
    """A comma-separated list of numbers, checked when the user finishes typing."""

    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("e.g. 28, 28" if spec.kind == "int_list" else "e.g. 1, 0.1, 0.01")
        self.edit.editingFinished.connect(self._emit_current)
        self.layout_.addWidget(self.edit, 1)

    def _show(self, value, enabled):
        self.edit.setText(", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in (value or [])))

    def _read(self):
        parts = [p for p in self.edit.text().replace(";", ",").replace(" ", ",").split(",") if p]
        convert = int if self.spec.kind == "int_list" else float
        return [convert(p) for p in parts]

    def _emit_current(self):
        try:
            value = self.spec.coerce(self._read())
        except (ValueError, ValidationError) as exc:
            message = exc.message if isinstance(exc, ValidationError) else "expected numbers separated by commas"
            self.edit.setToolTip(message)
            self.edit.setStyleSheet("QLineEdit { border: 1px solid #e53935; }")
            return
        self.edit.setToolTip("")
        self.edit.setStyleSheet("")
        self._emit(value)


class TextEditor(ParamEditor):
    def __init__(self, spec, parent=None):
        super().__init__(spec, parent)
        self.edit = QLineEdit(self)
        self.edit.editingFinished.connect(self._emit_current)
        self.layout_.addWidget(self.edit, 1)
        if spec.kind == "path":
            browse = QToolButton(self)
            browse.setText("…")
            browse.setToolTip("Choose a file")
            browse.clicked.connect(self._browse)
            self.layout_.addWidget(browse)
        self._add_special_box()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.spec.title, self.edit.text())
        if path:
            self.edit.setText(path)
            self._emit_current()

    def _show(self, value, enabled):
        self.edit.setEnabled(enabled)
        self.edit.setText(value if isinstance(value, str) else "")

    def _read(self):
        text = self.edit.text()
        return None if (text == "" and self.spec.allow_none) else text

    def _set_enabled(self, enabled):
        self.edit.setEnabled(enabled)


_EDITORS = {"int": IntEditor, "float": FloatEditor, "bool": BoolEditor, "choice": ChoiceEditor, "ints": IntsEditor,
            "int_list": ListEditor, "float_list": ListEditor, "str": TextEditor, "path": TextEditor}


def make_editor(spec: ParamSpec, parent=None) -> ParamEditor:
    return _EDITORS[spec.kind](spec, parent)

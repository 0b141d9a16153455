"""A form of parameter editors for a list of ParamSpecs, showing only the rows whose
`visible_if` conditions hold for the current values."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from ...core.params import ParamSpec
from .param_editors import ParamEditor, make_editor


class ParamForm(QWidget):
    edited = Signal(str, object)  # parameter name, new value

    def __init__(self, specs: list[ParamSpec], parent=None):
        super().__init__(parent)
        self.specs = list(specs)
        self.editors: dict[str, ParamEditor] = {}
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.form.setHorizontalSpacing(10)
        self.form.setVerticalSpacing(6)
        for spec in self.specs:
            editor = make_editor(spec, self)
            editor.edited.connect(lambda value, name=spec.name: self.edited.emit(name, value))
            label = QLabel(spec.title, self)
            label.setToolTip(spec.help)
            label.setBuddy(editor)
            self.form.addRow(label, editor)
            self.editors[spec.name] = editor

    def set_values(self, values: dict, resolved: dict | None = None) -> None:
        """Show the model's values (auto fields show `resolved`) and the rows that apply to them."""
        resolved = resolved or {}
        for spec in self.specs:
            editor = self.editors[spec.name]
            editor.set_value(values.get(spec.name), resolved.get(spec.name))
            self.form.setRowVisible(editor, spec.is_visible(values))

    def visible_names(self) -> list[str]:
        return [s.name for s in self.specs if self.form.isRowVisible(self.editors[s.name])]

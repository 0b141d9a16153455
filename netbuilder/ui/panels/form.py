"""A form built from a list of ParamSpecs: a labelled field per spec, rows shown or hidden by
their `visible_if` conditions, and one `changed(name, value)` signal for every user edit."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from ...core.params import ParamSpec
from .fields import Field, make_field
from .labels import section_header


class SettingsForm(QWidget):
    changed = Signal(str, object)

    def __init__(self, specs: list[ParamSpec], parent=None, *, labels: dict | None = None,
                 none_texts: dict | None = None, path_modes: dict | None = None, placeholders: dict | None = None,
                 titles: dict | None = None):
        """`labels`: {spec name: {choice: shown text}}; `none_texts`, `path_modes`, `placeholders`,
        `titles` (row labels other than the spec's own): {spec name: text or mode}."""
        super().__init__(parent)
        self.specs = list(specs)
        self.fields: dict[str, Field] = {}
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.form.setHorizontalSpacing(12)
        self.form.setVerticalSpacing(7)
        labels, none_texts = labels or {}, none_texts or {}
        path_modes, placeholders, titles = path_modes or {}, placeholders or {}, titles or {}
        self._values: dict = {}
        self._headers: list[tuple[QLabel, str]] = []  # (header, name of the first field under it)
        for spec in self.specs:
            field = make_field(spec, self, labels=labels.get(spec.name), none_text=none_texts.get(spec.name, "none"),
                               path_mode=path_modes.get(spec.name, "any"), placeholder=placeholders.get(spec.name, ""))
            field.changed.connect(lambda value, name=spec.name: self._on_field_changed(name, value))
            if spec.kind == "bool":
                self.form.addRow(field)  # the check box carries the label
            else:
                label = QLabel(titles.get(spec.name, spec.title), self)
                label.setToolTip(spec.help)
                label.setBuddy(field)
                self.form.addRow(label, field)
            self.fields[spec.name] = field

    def insert_row(self, widget: QWidget, *, before: str | None = None, after: str | None = None) -> None:
        """Put a full-width widget (a header, a note) before or after a field's row."""
        anchor = self.fields[before or after]
        row, _role = self.form.getWidgetPosition(anchor)
        self.form.insertRow(row if before else row + 1, widget)

    def add_header(self, title: str, before: str) -> QLabel:
        """A section header above a field; it hides when every row under it is hidden."""
        header = section_header(title, self)
        self.insert_row(header, before=before)
        self._headers.append((header, before))
        return header

    def label_width(self) -> int:
        return max((self.form.labelForField(f).sizeHint().width() for f in self.fields.values()
                    if self.form.labelForField(f) is not None), default=0)

    def set_label_width(self, width: int) -> None:
        """Line this form's field column up with other forms of the same panel."""
        for field in self.fields.values():
            label = self.form.labelForField(field)
            if label is not None:
                label.setMinimumWidth(width)

    def _on_field_changed(self, name: str, value) -> None:
        self._values[name] = value
        self.update_visibility(self._values)
        self.changed.emit(name, value)

    def set_values(self, values: dict) -> None:
        """Show the model's values (without emitting) and the rows that apply to them."""
        self._values = dict(values)
        for spec in self.specs:
            if spec.name in values:
                self.fields[spec.name].set_value(values[spec.name])
        self.update_visibility(values)

    def update_visibility(self, values: dict) -> None:
        for spec in self.specs:
            self.form.setRowVisible(self.fields[spec.name], spec.is_visible(values))
        names = [s.name for s in self.specs]
        starts = sorted((names.index(first), header) for header, first in self._headers)
        for i, (start, header) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else len(names)
            shown = any(self.form.isRowVisible(self.fields[n]) for n in names[start:end])
            self.form.setRowVisible(header, shown)

    def values(self) -> dict:
        return {name: field.value() for name, field in self.fields.items()}

    def visible_names(self) -> list[str]:
        return [s.name for s in self.specs if self.form.isRowVisible(self.fields[s.name])]

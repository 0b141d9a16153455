"""The shared shape of the optimizer and schedule panels: a type picker, the chosen type's
formula, and a form with that type's own hyperparameters (built from `variant_specs`)."""
from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from ...core.params import ParamSpec
from ...core.settings import TAGGED_SECTIONS, variant_specs
from .form import SettingsForm
from .labels import hint_label, section_header
from .section_panel import SettingsPanel


class TaggedSectionPanel(SettingsPanel):
    """Subclasses set `section` ("optimizer" or "schedule") and `default_for(kind)`."""

    section = ""
    type_label = "Type"

    def __init__(self, document, parent=None):
        super().__init__(document, parent)
        table = TAGGED_SECTIONS[self.section]
        type_spec = ParamSpec("type", "choice", next(iter(table)), self.type_label,
                              f"Which {self.section} to use.", choices=tuple(table))
        self.type_form = SettingsForm([type_spec], self, labels={"type": {k: v[0] for k, v in table.items()}})
        self.type_form.changed.connect(self._on_type_chosen)
        self.type_combo = self.type_form.fields["type"].combo
        self.body.addWidget(self.type_form)
        self.formula = hint_label("", self, role="formula")
        self.body.addWidget(self.formula)
        self.params_header = section_header("Hyperparameters", self)
        self.body.addWidget(self.params_header)
        self.forms_box = QWidget(self)
        self.forms_layout = QVBoxLayout(self.forms_box)
        self.forms_layout.setContentsMargins(0, 0, 0, 0)
        self.body.addWidget(self.forms_box)
        self.forms: dict[str, SettingsForm] = {}
        self.no_params = hint_label("This type has no hyperparameters.", self)
        self.forms_layout.addWidget(self.no_params)

    def default_for(self, kind: str) -> dict:
        raise NotImplementedError

    def shown_sections(self) -> set:
        return super().shown_sections() | {self.section}

    @property
    def form(self) -> SettingsForm | None:
        """The form of the current type's hyperparameters."""
        if self.document is None:
            return None
        return self.forms.get(self.settings(self.section)["type"])

    def _form_for(self, kind: str) -> SettingsForm:
        if kind not in self.forms:
            form = SettingsForm(variant_specs(self.section, kind), self.forms_box, **self.form_options(kind))
            form.changed.connect(lambda name, value: self.write(self.section, {name: value}))
            self.forms_layout.addWidget(form)
            self.forms[kind] = form
            self.align_forms()
        return self.forms[kind]

    def form_options(self, kind: str) -> dict:
        return {}

    def _on_type_chosen(self, _name: str, kind: str) -> None:
        if self.document is not None and kind != self.settings(self.section)["type"]:
            self.document.set_settings(self.section, self.default_for(kind))

    def refresh(self) -> None:
        if self.document is None:
            return
        value = self.settings(self.section)
        kind = value["type"]
        self.type_form.set_values({"type": kind})
        self.formula.setText(TAGGED_SECTIONS[self.section][kind][1])
        current = self._form_for(kind)
        for name, form in self.forms.items():
            form.setVisible(name == kind)
        current.set_values(value)
        self.no_params.setVisible(not current.specs)

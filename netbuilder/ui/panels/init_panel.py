"""Initialization: how every layer's weights and biases start (layers may override it in the
inspector). The help under the scheme says what each choice does to the activations."""
from __future__ import annotations

from ...core.settings import INIT_HELP, INIT_SPECS
from .labels import hint_label, section_header
from .section_panel import SettingsPanel

SCHEME_LABELS = {
    "default": "PyTorch default", "zeros": "Zeros", "constant": "Constant", "normal": "Normal (fixed std)",
    "uniform": "Uniform ±r", "xavier-normal": "Xavier / Glorot normal", "xavier-uniform": "Xavier / Glorot uniform",
    "kaiming-normal": "Kaiming / He normal", "kaiming-uniform": "Kaiming / He uniform", "orthogonal": "Orthogonal",
    "lecun-normal": "LeCun normal",
}
BIAS_LABELS = {"zeros": "Zeros", "constant": "Constant", "default": "PyTorch default"}


class InitializationPanel(SettingsPanel):
    title = "Initialization"
    icon_name = "initialization"

    def __init__(self, document, parent=None):
        super().__init__(document, parent)
        self.body.addWidget(section_header("Weights", self))
        self.form = self.add_form(INIT_SPECS, "initialization",
                                  labels={"weight": SCHEME_LABELS, "bias": BIAS_LABELS},
                                  titles={"weight": "Scheme", "bias": "Scheme", "bias_value": "Value"})
        self.scheme_help = hint_label("", self)
        self.form.insert_row(self.scheme_help, after="weight")
        self.form.add_header("Biases", before="bias")
        self.body.addWidget(hint_label("These are the defaults for every layer; a layer can override them in "
                                       "the inspector.", self))
        self.body.addStretch(1)
        self.align_forms()
        self.set_document(document)

    def refresh(self) -> None:
        super().refresh()
        if self.document is not None:
            self.scheme_help.setText(INIT_HELP.get(self.settings("initialization")["weight"], ""))

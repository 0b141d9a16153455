"""Regularization: weight penalties (L1, L2, elastic net), decoupled weight decay, early
stopping, gradient clipping, max-norm, label smoothing, input noise and mixup.

Mixup is stored with the augmentation settings (it transforms batches); it is offered here too,
because this is where one looks for it.
"""
from __future__ import annotations

from ...core.settings import AUGMENTATION_SPECS, REGULARIZATION_SPECS
from .labels import hint_label
from .section_panel import SettingsPanel

_ADAPTIVE = ("adam", "adamw", "nadam", "radam", "adamax", "rmsprop", "adagrad", "adadelta")
CLIP_LABELS = {"none": "Off", "norm": "By global norm", "value": "By value"}
METRIC_LABELS = {"val_loss": "Validation loss", "val_accuracy": "Validation accuracy"}


class RegularizationPanel(SettingsPanel):
    title = "Regularization"
    icon_name = "regularization"
    watched = ("optimizer",)

    def __init__(self, document, parent=None):
        super().__init__(document, parent)
        self.form = self.add_form(REGULARIZATION_SPECS, "regularization",
                                  labels={"clip_mode": CLIP_LABELS, "es_metric": METRIC_LABELS})
        self.penalty_note = hint_label("", self)
        self.form.insert_row(self.penalty_note, after="exclude_bias_and_norm")
        for before, title in (("l2", "Weight penalties"), ("early_stopping", "Early stopping"),
                              ("clip_mode", "Gradients and weights"), ("label_smoothing", "Targets and inputs")):
            self.form.add_header(title, before=before)
        mixup = [s for s in AUGMENTATION_SPECS if s.name == "mixup"]
        self.mixup_form = self.add_form(mixup, "data", key="augmentation")
        self.body.addStretch(1)
        self.align_forms()
        self.set_document(document)

    def refresh(self) -> None:
        super().refresh()
        if self.document is None:
            return
        reg = self.settings("regularization")
        optimizer = self.settings("optimizer")["type"]
        notes = []
        if reg["l1"] > 0 and reg["l2"] > 0:
            notes.append("L1 and L2 together form an elastic net.")
        if reg["l2"] > 0 and optimizer in _ADAPTIVE:
            notes.append(f"Under {optimizer.upper() if optimizer != 'adamw' else 'AdamW'} the L2 penalty's gradient is "
                         "rescaled per weight, so strongly-updated weights are barely regularized; decoupled weight "
                         "decay shrinks all weights evenly.")
        if reg["weight_decay"] > 0 and optimizer == "adam":
            notes.append("Adam with decoupled weight decay is AdamW.")
        if not notes:
            notes.append("L2 adds λ/2·‖w‖² to the loss; decoupled weight decay shrinks w after each step "
                         "instead. They agree for plain SGD, not for Adam.")
        self.penalty_note.setText(" ".join(notes))

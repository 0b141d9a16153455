"""Optimizer: SGD (momentum, Nesterov), AdaGrad, RMSProp, AdaDelta, Adam, AdamW and relatives,
each with its own hyperparameters; the learning rate steps along 1-2-5 per decade."""
from __future__ import annotations

from ...core.settings import default_optimizer
from .tagged_panel import TaggedSectionPanel


class OptimizerPanel(TaggedSectionPanel):
    title = "Optimizer"
    icon_name = "optimizer"
    section = "optimizer"
    type_label = "Optimizer"

    def __init__(self, document, parent=None):
        super().__init__(document, parent)
        self.body.addStretch(1)
        self.set_document(document)

    def default_for(self, kind: str) -> dict:
        # A new optimizer starts from its own defaults: Adam's 1e-3 is far too small for SGD.
        return default_optimizer(kind)

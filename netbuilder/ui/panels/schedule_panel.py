"""Schedule: how the learning rate changes over the run, with a preview of the planned curve."""
from __future__ import annotations

from ...core.settings import default_schedule
from .lr_preview import LearningRatePreview
from .labels import section_header
from .tagged_panel import TaggedSectionPanel

INTERVAL_LABELS = {"epoch": "Epoch", "batch": "Batch"}


class SchedulePanel(TaggedSectionPanel):
    title = "Schedule"
    icon_name = "schedule"
    section = "schedule"
    type_label = "Schedule"
    # The preview also depends on the base rate, the run length and the data size.
    watched = ("schedule", "optimizer", "training", "data")

    def __init__(self, document, parent=None):
        super().__init__(document, parent)
        self.body.addWidget(section_header("Planned learning rate", self))
        self.preview = LearningRatePreview(self)
        self.body.addWidget(self.preview)
        self.body.addStretch(1)
        self.set_document(document)

    def form_options(self, kind: str) -> dict:
        return {"labels": {"interval": INTERVAL_LABELS, "metric": {"val_loss": "Validation loss",
                                                                  "val_accuracy": "Validation accuracy"}}}

    def default_for(self, kind: str) -> dict:
        # The interval is a property of the run, not of the formula: keep it across types.
        value = default_schedule(kind)
        value["interval"] = self.settings("schedule").get("interval", value["interval"])
        return value

    def write(self, section: str, changes: dict, key: str | None = None) -> bool:
        current = self.settings("schedule") if self.document is not None else {}
        if section == "schedule" and current.get("type") == "piecewise":
            if "milestones" in changes:
                # Keep one more factor than milestones, so editing milestones alone stays valid.
                factors = list(current["factors"])
                wanted = len(changes["milestones"]) + 1
                while len(factors) < wanted:
                    factors.append(round(factors[-1] * 0.1, 12) if factors else 1.0)
                changes = {**changes, "factors": factors[:wanted]}
            elif "factors" in changes and len(changes["factors"]) != len(current["milestones"]) + 1:
                field = self.form.fields["factors"]
                field.set_error(f"needs {len(current['milestones']) + 1} factors: one more than the milestones")
                return False
        return super().write(section, changes, key)

    def refresh(self) -> None:
        super().refresh()
        if self.document is not None:
            self.preview.set_settings(self.document.project.settings)

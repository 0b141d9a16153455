"""Live plots of a training run. The worker's signals feed one MonitorBuffer; its timer redraws
only the panels that are on screen and have new data."""
from __future__ import annotations

from PySide6.QtCore import QObject

from .accuracy import AccuracyPanel
from .boundary import DecisionBoundaryPanel
from .buffer import MonitorBuffer, RunCurves
from .confusion import ConfusionPanel
from .filters import FilterPanel
from .histograms import HistogramPanel
from .loss import LossPanel
from .panel import Panel
from .rate import LearningRatePanel
from .receptive import ReceptiveFieldPanel
from .updates import UpdateRatioPanel

PANEL_TYPES = (LossPanel, AccuracyPanel, LearningRatePanel, UpdateRatioPanel, HistogramPanel, FilterPanel,
               ReceptiveFieldPanel, DecisionBoundaryPanel, ConfusionPanel)


class Monitor(QObject):
    """The buffer and one panel of each kind, by `object_name` (loss, accuracy, ...)."""

    def __init__(self, parent=None, hz: float = 20.0):
        super().__init__(parent)
        self.buffer = MonitorBuffer(self, hz=hz)
        self.panels: dict[str, Panel] = {}
        for cls in PANEL_TYPES:
            panel = cls()
            self.panels[cls.object_name] = panel
            self.buffer.add_view(panel)

    def __getitem__(self, name: str) -> Panel:
        return self.panels[name]


__all__ = ["Monitor", "MonitorBuffer", "RunCurves", "Panel", "PANEL_TYPES", *[c.__name__ for c in PANEL_TYPES]]

"""Configuration panels for every settings section of a project, and the layer summary.

Each panel is built from the section's ParamSpecs (core/settings.py) and writes through the
Document's undoable `set_settings`; none keeps settings of its own.
"""
from .data_panel import DataPanel
from .init_panel import InitializationPanel
from .optimizer_panel import OptimizerPanel
from .regularization_panel import RegularizationPanel
from .schedule_panel import SchedulePanel
from .settings_panels import PANEL_CLASSES, SettingsPanels
from .summary_panel import SummaryPanel
from .training_panel import TrainingPanel

__all__ = ["DataPanel", "InitializationPanel", "OptimizerPanel", "RegularizationPanel", "SchedulePanel",
           "SettingsPanels", "SummaryPanel", "TrainingPanel", "PANEL_CLASSES"]

"""The training setup: the six configuration panels behind one section switcher.

Six tabs do not fit a side panel's width, so the sections are a grid of toggle buttons above a
scrolling page; one section is shown at a time.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QFrame, QGridLayout, QScrollArea, QSizePolicy, QToolButton, QVBoxLayout,
                               QWidget)

from .. import icons
from .data_panel import DataPanel
from .init_panel import InitializationPanel
from .optimizer_panel import OptimizerPanel
from .regularization_panel import RegularizationPanel
from .schedule_panel import SchedulePanel
from .section_panel import SettingsPanel
from .training_panel import TrainingPanel

PANEL_CLASSES = {"data": DataPanel, "optimizer": OptimizerPanel, "schedule": SchedulePanel,
                 "initialization": InitializationPanel, "regularization": RegularizationPanel,
                 "training": TrainingPanel}
_COLUMNS = 3


class SettingsPanels(QWidget):
    section_shown = Signal(str)

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.panels: dict[str, SettingsPanel] = {}
        self.buttons: dict[str, QToolButton] = {}
        switcher = QWidget(self)
        switcher.setObjectName("sectionSwitcher")
        grid = QGridLayout(switcher)
        grid.setContentsMargins(10, 10, 10, 6)
        grid.setSpacing(4)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        # Hidden pages take no room in a layout (a stacked widget would be as tall as its tallest
        # page, and every section would scroll as long as the data panel).
        self.pages = QWidget(self)
        pages_layout = QVBoxLayout(self.pages)
        pages_layout.setContentsMargins(0, 0, 0, 0)
        self._current = ""
        for i, (name, cls) in enumerate(PANEL_CLASSES.items()):
            panel = cls(document, self.pages)
            panel.setVisible(False)
            self.panels[name] = panel
            pages_layout.addWidget(panel)
            button = QToolButton(switcher)
            button.setText(panel.title)
            button.setIcon(icons.icon(panel.icon_name))
            button.setIconSize(QSize(18, 18))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            button.setCheckable(True)
            button.setAutoRaise(False)
            button.setToolTip(f"{panel.title} settings")
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _=False, n=name: self.show_section(n))
            self.group.addButton(button)
            self.buttons[name] = button
            grid.addWidget(button, i // _COLUMNS, i % _COLUMNS)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.pages)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(switcher)
        layout.addWidget(self.scroll, 1)
        self.show_section("data")

    def sizeHint(self) -> QSize:
        return QSize(360, 640)

    @property
    def current_section(self) -> str:
        return self._current

    def show_section(self, name: str) -> None:
        self.buttons[name].setChecked(True)
        for other, panel in self.panels.items():
            if other != name:
                panel.setVisible(False)
        self.panels[name].setVisible(True)
        self._current = name
        self.scroll.verticalScrollBar().setValue(0)
        self.section_shown.emit(name)

    def check_on_screen(self) -> None:
        """Called when the dock's tab comes to the front: that shows no widget anew, so the
        current page is told here that it is now seen."""
        if self._current:
            self.panels[self._current].check_on_screen()

    def set_document(self, document) -> None:
        for panel in self.panels.values():
            panel.set_document(document)

    def refresh_icons(self) -> None:
        for name, button in self.buttons.items():
            button.setIcon(icons.icon(self.panels[name].icon_name))

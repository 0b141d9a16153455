"""The shared base of the configuration panels: forms bound to sections of the project settings.

A panel never keeps settings of its own. A user edit copies the section, changes one value and
hands it to `Document.set_settings` (one undoable step); the panel then redraws from the
document whenever a section it shows changes, so undo, redo and loading all show at once.
"""
from __future__ import annotations

import copy

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ...core.params import ValidationError
from .form import SettingsForm


class _Binding:
    def __init__(self, form: SettingsForm, section: str, key: str | None):
        self.form, self.section, self.key = form, section, key


class SettingsPanel(QWidget):
    """Subclasses set `title`, `icon_name` and `watched` (sections whose changes they show),
    build their forms with `add_form`, and may extend `refresh`."""

    title = ""
    icon_name = ""
    watched: tuple = ()

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = None
        self._bindings: list[_Binding] = []
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(12, 6, 12, 12)
        self.body.setSpacing(4)

    # ------------------------------------------------------------------ building
    def add_form(self, specs, section: str, key: str | None = None, **options) -> SettingsForm:
        """A form for `specs`, bound to settings[section] (or settings[section][key])."""
        form = SettingsForm(specs, self, **options)
        binding = _Binding(form, section, key)
        form.changed.connect(lambda name, value, b=binding: self.write(b.section, {name: value}, b.key))
        self._bindings.append(binding)
        self.body.addWidget(form)
        return form

    def align_forms(self) -> None:
        """Give all forms of the panel one label column, so their fields line up."""
        forms = self.findChildren(SettingsForm)
        width = max((f.label_width() for f in forms), default=0)
        for form in forms:
            form.set_label_width(width)

    # ------------------------------------------------------------------ on screen
    def on_screen(self) -> bool:
        """Really visible: a dock behind another dock's tab counts as visible to Qt, but is not seen."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self.check_on_screen)  # the region is known once the layout has run

    def check_on_screen(self) -> None:
        if self.on_screen():
            self.shown_on_screen()

    def shown_on_screen(self) -> None:
        """Slow work that only matters to someone looking (subclasses: find data, probe devices)."""

    # ------------------------------------------------------------------ document
    def set_document(self, document) -> None:
        if self.document is not None:
            self.document.settings_changed.disconnect(self._on_settings_changed)
        self.document = document
        if document is not None:
            document.settings_changed.connect(self._on_settings_changed)
            self.refresh()

    def settings(self, section: str) -> dict:
        return self.document.project.settings[section]

    def shown_sections(self) -> set:
        """The settings sections whose changes this panel must show."""
        return set(self.watched) | {b.section for b in self._bindings}

    def _on_settings_changed(self, section: str) -> None:
        if section in self.shown_sections():
            self.refresh()

    def refresh(self) -> None:
        """Show the document's values in every form (subclasses add their own views)."""
        if self.document is None:
            return
        for b in self._bindings:
            values = self.settings(b.section)
            b.form.set_values(values[b.key] if b.key else values)

    def write(self, section: str, changes: dict, key: str | None = None) -> bool:
        """Apply `changes` to one section (or its `key` sub-object) as one undoable step."""
        if self.document is None:
            return False
        value = copy.deepcopy(self.settings(section))
        (value[key] if key else value).update(changes)
        try:
            self.document.set_settings(section, value)
        except ValidationError as exc:
            self.document.message.emit(str(exc))
            self.refresh()
            return False
        return True

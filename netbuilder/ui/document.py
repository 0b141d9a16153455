"""An open project as the interface sees it: the model, its latest analysis, the undo stack,
the selection and the file it came from.

Every widget talks to the same Document. It listens to the graph's events and re-analyses
shapes after each change; inside an undo command the analysis runs once when the command
ends, so a paste of fifty nodes is analysed once, not fifty times.
"""
from __future__ import annotations

import copy
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from ..core import shapes
from ..core.project import Project
from ..core.settings import SECTION_TITLES, validate_settings
from .editor.commands import RenameProjectCommand, SetSettingsCommand


class Document(QObject):
    analysis_changed = Signal(object)   # shapes.Analysis
    settings_changed = Signal(str)      # section name
    dirty_changed = Signal(bool)
    path_changed = Signal(object)       # Path | None
    selection_changed = Signal(list)    # node ids
    message = Signal(str)               # short status-bar text
    project_renamed = Signal(str)
    focus_requested = Signal(str)       # a node id the canvas should centre on
    history_changed = Signal()          # the undo stack moved: undo/redo texts and availability changed

    def __init__(self, project: Project, path: Path | None = None, parent=None):
        super().__init__(parent)
        self.project = project
        self.path = Path(path) if path is not None else None
        self.undo_stack = QUndoStack(self)
        # Bound methods, not lambdas: Qt drops them before the stack is destroyed with this object,
        # so a dying stack never signals into a half-destroyed document.
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.undo_stack.indexChanged.connect(self._on_index_changed)
        self._selection: list[str] = []
        self._batch_depth = 0
        self._stale = False
        self._analysis = shapes.analyze(project.graph)
        # Changes made outside an undo command are analysed once per event-loop turn.
        self._deferred_analysis = QTimer(self)
        self._deferred_analysis.setSingleShot(True)
        self._deferred_analysis.setInterval(0)
        self._deferred_analysis.timeout.connect(self._refresh_analysis)
        events = project.graph.events
        events.structure_changed.subscribe(self._on_structure_changed)
        events.node_removed.subscribe(self._on_node_removed)

    def _on_clean_changed(self, clean: bool) -> None:
        self.dirty_changed.emit(not clean)

    def _on_index_changed(self, _index: int) -> None:
        self.history_changed.emit()

    # ------------------------------------------------------------------ model
    @property
    def graph(self):
        return self.project.graph

    @property
    def analysis(self) -> shapes.Analysis:
        if self._stale:
            self._refresh_analysis()
        return self._analysis

    @property
    def is_dirty(self) -> bool:
        return not self.undo_stack.isClean()

    @contextmanager
    def batch(self):
        """Group graph edits so that shapes are re-analysed once, when the outermost batch ends."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._stale:
                self._refresh_analysis()

    def _on_structure_changed(self) -> None:
        self._stale = True
        if self._batch_depth == 0:
            self._deferred_analysis.start()

    def _refresh_analysis(self) -> None:
        self._deferred_analysis.stop()
        if not self._stale:
            return
        self._stale = False
        self._analysis = shapes.analyze(self.project.graph)
        self.analysis_changed.emit(self._analysis)

    def detach(self) -> None:
        """Stop following the graph (when this document is closed or replaced)."""
        events = self.project.graph.events
        events.structure_changed.unsubscribe(self._on_structure_changed)
        events.node_removed.unsubscribe(self._on_node_removed)
        self._deferred_analysis.stop()

    # ------------------------------------------------------------------ settings and project
    def set_settings(self, section: str, value: dict) -> None:
        """Replace one settings section (validated; raises ValidationError) as an undoable step."""
        if section not in SECTION_TITLES:
            raise KeyError(f"unknown settings section {section!r}")
        checked = validate_settings({**self.project.settings, section: value})[section]
        if checked == self.project.settings[section]:
            return
        self.undo_stack.push(SetSettingsCommand(self, section, copy.deepcopy(self.project.settings[section]), checked))

    def apply_settings(self, section: str, value: dict) -> None:
        """Store an already validated section and announce it (used by the undo command)."""
        self.project.settings[section] = copy.deepcopy(value)
        self.settings_changed.emit(section)

    def set_project_name(self, name: str) -> None:
        name = name.strip()
        if name and name != self.project.name:
            self.undo_stack.push(RenameProjectCommand(self, self.project.name, name))

    def apply_project_name(self, name: str) -> None:
        self.project.name = name
        self.project_renamed.emit(name)

    def mark_saved(self, path) -> None:
        path = Path(path) if path is not None else None
        self.undo_stack.setClean()
        if path != self.path:
            self.path = path
            self.path_changed.emit(path)

    # ------------------------------------------------------------------ selection
    @property
    def selected_ids(self) -> list[str]:
        return list(self._selection)

    def select(self, node_ids: list[str]) -> None:
        wanted = [nid for nid in dict.fromkeys(node_ids) if nid in self.graph.nodes]
        if wanted != self._selection:
            self._selection = wanted
            self.selection_changed.emit(list(wanted))

    def focus(self, node_id: str) -> None:
        """Select one node and ask the canvas to bring it into view (e.g. from the issues list)."""
        if node_id in self.graph.nodes:
            self.select([node_id])
            self.focus_requested.emit(node_id)

    def _on_node_removed(self, node) -> None:
        if node.id in self._selection:
            self.select([nid for nid in self._selection if nid != node.id])

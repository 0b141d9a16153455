"""The network editor: the canvas and the editing actions the main window puts in its menus."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ...core import catalogue
from ...core.layout import layered_positions
from . import clipboard
from .commands import AddNodesCommand, MoveNodesCommand, add_node_command
from .scene import GraphScene
from .view import GraphView

_PASTE_STEP = 30.0
_READABLE_ZOOM = 0.7


class EditorWidget(QWidget):
    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = None
        self.scene = GraphScene(self)
        self.view = GraphView(self.scene, self)
        self.view.layer_dropped.connect(self.add_node_at)
        self.view.context_menu_actions = self._context_menu_actions
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.actions: dict[str, QAction] = {}
        self._make_actions()
        self._paste_count = 0
        QGuiApplication.clipboard().dataChanged.connect(self._update_paste_action)
        self.set_document(document)

    # ------------------------------------------------------------------ actions
    def _make_actions(self) -> None:
        specs = [
            ("undo", "&Undo", [QKeySequence.StandardKey.Undo], self._undo, "Undo the last edit"),
            ("redo", "&Redo", [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")], self._redo, "Redo the undone edit"),
            ("delete", "&Delete", [QKeySequence.StandardKey.Delete, QKeySequence(Qt.Key.Key_Backspace)],
             self.delete_selection, "Delete the selected layers and connections"),
            ("copy", "&Copy", [QKeySequence.StandardKey.Copy], self.copy_selection, "Copy the selected layers"),
            ("paste", "&Paste", [QKeySequence.StandardKey.Paste], self.paste, "Paste layers"),
            ("duplicate", "D&uplicate", [QKeySequence("Ctrl+D")], self.duplicate_selection,
             "Duplicate the selected layers and the connections among them"),
            ("select_all", "Select &All", [QKeySequence.StandardKey.SelectAll], self.select_all, "Select every layer"),
            ("fit", "&Fit to View", [QKeySequence("F")], self.fit_to_view, "Show the whole network"),
            ("zoom_in", "Zoom &In", [QKeySequence.StandardKey.ZoomIn, QKeySequence("Ctrl+=")], self._zoom_in, "Zoom in"),
            ("zoom_out", "Zoom &Out", [QKeySequence.StandardKey.ZoomOut], self._zoom_out, "Zoom out"),
            ("zoom_reset", "&Actual Size", [QKeySequence("Ctrl+0")], self._zoom_reset, "Zoom to 100%"),
            ("arrange", "Arrange &Layout", [QKeySequence("Ctrl+L")], self.arrange,
             "Lay the network out in rows from input to output"),
        ]
        for key, text, keys, slot, tip in specs:
            action = QAction(text, self)
            shortcuts = []
            for k in keys:
                for seq in (QKeySequence.keyBindings(k) if isinstance(k, QKeySequence.StandardKey) else [k]):
                    if not seq.isEmpty() and seq not in shortcuts:
                        shortcuts.append(seq)
            action.setShortcuts(shortcuts)
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({shortcuts[0].toString(QKeySequence.SequenceFormat.NativeText)})")
            action.triggered.connect(slot)
            self.actions[key] = action
        # The canvas answers the shortcuts itself too, so they work before the main window adds them to menus.
        self.addActions(list(self.actions.values()))

    def _undo(self) -> None:
        if self.document is not None:
            self.scene.cancel_connection()
            self.document.undo_stack.undo()

    def _redo(self) -> None:
        if self.document is not None:
            self.document.undo_stack.redo()

    def _zoom_in(self) -> None:
        self.view.zoom_in()

    def _zoom_out(self) -> None:
        self.view.zoom_out()

    def _zoom_reset(self) -> None:
        self.view.zoom_reset()

    def _update_actions(self, *_) -> None:
        doc = self.document
        stack = doc.undo_stack if doc is not None else None
        self.actions["undo"].setEnabled(bool(stack and stack.canUndo()))
        self.actions["redo"].setEnabled(bool(stack and stack.canRedo()))
        undo_text = stack.undoText() if stack else ""
        redo_text = stack.redoText() if stack else ""
        self.actions["undo"].setText(f"&Undo {undo_text}" if undo_text else "&Undo")
        self.actions["redo"].setText(f"&Redo {redo_text}" if redo_text else "&Redo")
        has_selection = bool(doc and (doc.selected_ids or self.scene.selected_edges()))
        has_nodes = bool(doc and doc.selected_ids)
        self.actions["delete"].setEnabled(has_selection)
        self.actions["copy"].setEnabled(has_nodes)
        self.actions["duplicate"].setEnabled(has_nodes)
        self._update_paste_action()
        for key in ("select_all", "fit", "arrange"):
            self.actions[key].setEnabled(bool(doc and doc.graph.nodes))

    def _update_paste_action(self) -> None:
        # Only the format is checked here; the content is validated when pasting.
        mime = QGuiApplication.clipboard().mimeData()
        self.actions["paste"].setEnabled(self.document is not None and mime is not None
                                         and mime.hasFormat(clipboard.MIME_TYPE))

    # ------------------------------------------------------------------ document
    def set_document(self, document) -> None:
        old = self.document
        if old is not None:
            old.history_changed.disconnect(self._update_actions)
            old.selection_changed.disconnect(self._update_actions)
            old.focus_requested.disconnect(self.center_on_node)
        self.document = document
        self._paste_count = 0
        self.scene.set_document(document)
        if document is not None:
            document.history_changed.connect(self._update_actions)
            document.selection_changed.connect(self._update_actions)
            document.focus_requested.connect(self.center_on_node)
        self.scene.selectionChanged.connect(self._update_actions, Qt.ConnectionType.UniqueConnection)
        self._update_actions()
        self.show_start()

    # ------------------------------------------------------------------ view
    def _nodes_rect(self) -> QRectF:
        rect = QRectF()
        for item in self.scene.node_items.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def fit_to_view(self) -> None:
        self.view.fit_rect(self._nodes_rect())

    def show_start(self) -> None:
        """The opening view: the whole network if it is readable that way, else its top at a readable size."""
        self.view.fit_rect(self._nodes_rect(), min_zoom=_READABLE_ZOOM)

    def center_on_node(self, node_id: str) -> None:
        item = self.scene.node_items.get(node_id)
        if item is not None:
            self.view.center_on_item(item)

    def showEvent(self, event):
        super().showEvent(event)
        # The first fit happened before the widget had its real size.
        if not getattr(self, "_fitted_once", False):
            self._fitted_once = True
            self.show_start()

    # ------------------------------------------------------------------ edits
    def add_node_at(self, type_name: str, scene_pos: QPointF) -> str | None:
        """Add a layer with its centre at `scene_pos`, select it and return its id."""
        if self.document is None or type_name not in catalogue.LAYERS:
            return None
        command = add_node_command(self.document, type_name, (scene_pos.x(), scene_pos.y()))
        self.document.undo_stack.push(command)
        node_id = command.node_ids[0]
        self.document.select([node_id])
        self.view.setFocus()
        return node_id

    def add_node_at_center(self, type_name: str) -> str | None:
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        # Step aside from a card already sitting there, so repeated adds do not stack invisibly.
        taken = [item.pos() for item in self.scene.node_items.values()]
        while any(abs(p.x() - centre.x()) < 30 and abs(p.y() - centre.y()) < 30 for p in taken):
            centre += QPointF(_PASTE_STEP, _PASTE_STEP)
        return self.add_node_at(type_name, centre)

    def delete_selection(self) -> None:
        if self.document is not None:
            self.scene.cancel_connection()
            self.scene.delete_selection()

    def select_all(self) -> None:
        if self.document is not None:
            self.document.select(list(self.document.graph.nodes))

    def copy_selection(self) -> bool:
        if self.document is None or not self.document.selected_ids:
            return False
        QGuiApplication.clipboard().setMimeData(clipboard.to_mime(
            clipboard.fragment(self.document.graph, self.document.selected_ids)))
        self._paste_count = 0
        return True

    def paste(self) -> list[str]:
        data = clipboard.from_mime(QGuiApplication.clipboard().mimeData()) if self.document is not None else None
        if data is None:
            return []
        self._paste_count += 1
        return self._insert_fragment(data, self._paste_count * _PASTE_STEP, "Paste")

    def duplicate_selection(self) -> list[str]:
        if self.document is None or not self.document.selected_ids:
            return []
        data = clipboard.fragment(self.document.graph, self.document.selected_ids)
        return self._insert_fragment(data, _PASTE_STEP, "Duplicate")

    def _insert_fragment(self, data: dict, offset: float, verb: str) -> list[str]:
        records, edges = clipboard.paste_records(self.document.graph, data, (offset, offset))
        what = records[0]["name"] if len(records) == 1 else f"{len(records)} layers"
        command = AddNodesCommand(self.document, records, edges, f"{verb} {what}")
        self.document.undo_stack.push(command)
        self.document.select(command.node_ids)
        return command.node_ids

    def arrange(self) -> None:
        """Automatic layered layout, as one undoable step, keeping the drawing where it was."""
        if self.document is None or not self.document.graph.nodes:
            return
        graph = self.document.graph
        positions = layered_positions(graph)
        # Anchor the layout on the first source so the network does not jump across the canvas.
        first = next(iter(graph.nodes))
        dx = graph.nodes[first].position[0] - positions[first][0]
        dy = graph.nodes[first].position[1] - positions[first][1]
        moves = {nid: (graph.nodes[nid].position, (x + dx, y + dy)) for nid, (x, y) in positions.items()
                 if graph.nodes[nid].position != (x + dx, y + dy)}
        if moves:
            self.document.undo_stack.push(MoveNodesCommand(self.document, moves, "Arrange layout"))
        self.fit_to_view()

    def _context_menu_actions(self, scene_pos, over_item: bool):
        a = self.actions
        if over_item:
            return [a["copy"], a["duplicate"], a["delete"]]
        return [a["paste"], a["select_all"], None, a["arrange"], a["fit"]]

"""The canvas model: one card per node and one curve per edge, kept in step with the graph.

The scene follows graph events (node added, edge connected, node moved ...) item by item and
takes its texts from the document's analysis, updating only the cards whose text changed.
Mouse gestures become undo commands: a drag from a port draws a connection (targets that
cannot take it are dimmed), a drag of cards becomes one move command when the button is released.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QGraphicsScene

from .commands import ConnectCommand, MoveNodesCommand, RemoveItemsCommand
from .edge_item import DraftEdge, EdgeItem
from .labels import key_params_text, node_tooltip, params_text, rf_text, shape_text
from .node_item import CardContent, NodeItem
from .port_item import PORT_RADIUS, PortItem
from .style import CanvasStyle


class GraphScene(QGraphicsScene):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.style = CanvasStyle()
        self.document = None
        self.node_items: dict[str, NodeItem] = {}
        self.edge_items: dict = {}                  # Edge -> EdgeItem
        self._edges_at: dict[str, set] = {}         # node id -> EdgeItems touching it
        self._syncing_selection = False
        self._press_positions: dict[str, QPointF] | None = None
        self._connection: tuple[str, str] | None = None  # (node id, port direction) while drawing
        self._draft: DraftEdge | None = None
        self._hover_target: NodeItem | None = None
        self.selectionChanged.connect(self._on_scene_selection_changed)

    # ------------------------------------------------------------------ document
    def set_document(self, document) -> None:
        if self.document is not None:
            self._unfollow(self.document)
        self.cancel_connection()
        self._syncing_selection = True
        self.clear()
        self._syncing_selection = False
        self.node_items.clear()
        self.edge_items.clear()
        self._edges_at.clear()
        self.document = document
        if document is None:
            return
        graph = document.graph
        for node in graph.nodes.values():
            self._on_node_added(node)
        for edge in graph.edges:
            self._on_edge_connected(edge)
        self._follow(document)
        self.apply_analysis(document.analysis)
        self._on_document_selection_changed(document.selected_ids)

    def _graph_handlers(self):
        return (("node_added", self._on_node_added), ("node_removed", self._on_node_removed),
                ("edge_connected", self._on_edge_connected), ("edge_disconnected", self._on_edge_disconnected),
                ("node_moved", self._on_node_moved))

    def _follow(self, document) -> None:
        for name, handler in self._graph_handlers():
            getattr(document.graph.events, name).subscribe(handler)
        document.analysis_changed.connect(self.apply_analysis)
        document.selection_changed.connect(self._on_document_selection_changed)

    def _unfollow(self, document) -> None:
        for name, handler in self._graph_handlers():
            getattr(document.graph.events, name).unsubscribe(handler)
        document.analysis_changed.disconnect(self.apply_analysis)
        document.selection_changed.disconnect(self._on_document_selection_changed)

    # ------------------------------------------------------------------ graph events
    def _on_node_added(self, node) -> None:
        item = NodeItem(node.id, node.type, self.style)
        item.setPos(QPointF(*node.position))
        item.tooltip_source = self._tooltip_for
        self.node_items[node.id] = item
        self._edges_at[node.id] = set()
        item.set_content(self._card_content(node, None))
        self.addItem(item)

    def _on_node_removed(self, node) -> None:
        if self._hover_target is self.node_items.get(node.id):
            self._hover_target = None
        item = self.node_items.pop(node.id, None)
        self._edges_at.pop(node.id, None)
        if item is not None:
            self.removeItem(item)

    def _on_edge_connected(self, edge) -> None:
        item = EdgeItem(edge, self.style)
        self.edge_items[edge] = item
        self._edges_at[edge.src].add(item)
        self._edges_at[edge.dst].add(item)
        self.addItem(item)
        self._route_into(edge.dst)

    def _on_edge_disconnected(self, edge) -> None:
        item = self.edge_items.pop(edge, None)
        if item is None:
            return
        for nid in (edge.src, edge.dst):
            self._edges_at.get(nid, set()).discard(item)
        self.removeItem(item)
        if edge.dst in self.node_items:
            self._route_into(edge.dst)

    def _on_node_moved(self, node) -> None:
        item = self.node_items.get(node.id)
        target = QPointF(*node.position)
        if item is not None and item.pos() != target:
            item.setPos(target)
            self._on_item_moved(item)

    # ------------------------------------------------------------------ routing
    def _on_item_moved(self, item: NodeItem) -> None:
        for edge_item in self._edges_at.get(item.node_id, ()):
            self._route(edge_item)

    def _incoming_items(self, node_id: str) -> list[EdgeItem]:
        return sorted((e for e in self._edges_at.get(node_id, ()) if e.edge.dst == node_id),
                      key=lambda e: (e.edge.port, e.edge.src))

    def _route_into(self, node_id: str) -> None:
        for edge_item in self._incoming_items(node_id):
            self._route(edge_item)

    def _route(self, edge_item: EdgeItem) -> None:
        src = self.node_items[edge_item.edge.src]
        dst = self.node_items[edge_item.edge.dst]
        if src.output_port is None or dst.input_port is None:
            return
        slot, slots = 0, 1
        if dst.input_port.multi:
            incoming = self._incoming_items(dst.node_id)
            slot, slots = incoming.index(edge_item), len(incoming)
        end = dst.input_port.endpoint(slot, slots)
        # Stop at the top of the port so the arrow head is not hidden under it.
        edge_item.set_endpoints(src.output_port.endpoint(), QPointF(end.x(), end.y() - PORT_RADIUS - 1))

    # ------------------------------------------------------------------ analysis
    def _card_content(self, node, info) -> CardContent:
        subtitle = key_params_text(node.type, node.spec, node.params)
        if info is None:
            return CardContent(node.name, subtitle, "—", "", None, "")
        shape = shape_text(info.output_shape)
        stats = ""
        if info.output_shape is not None:
            rf = rf_text(info.receptive_field)
            stats = params_text(info.params) + (f"  ·  {rf}" if rf else "")
        severity = "error" if info.errors else ("warning" if info.warnings else None)
        # The first problem doubles as the line under the shape, so the cause is visible at a glance.
        if info.errors and info.output_shape is None:
            stats = _first_problem(node.name, info.errors[0])
        return CardContent(node.name, subtitle, shape, stats, severity,
                           "\n".join(info.errors + info.warnings))

    def _tooltip_for(self, node_id: str) -> str:
        if self.document is None or node_id not in self.document.graph.nodes:
            return ""
        return node_tooltip(self.document.graph.nodes[node_id], self.document.analysis.nodes.get(node_id))

    def apply_analysis(self, analysis) -> int:
        """Refresh texts and colours from an analysis; returns how many items changed."""
        graph = self.document.graph
        infos = analysis.nodes
        changed = 0
        for nid, item in self.node_items.items():
            changed += item.set_content(self._card_content(graph.nodes[nid], infos.get(nid)))
        for edge, item in self.edge_items.items():
            src, dst = infos.get(edge.src), infos.get(edge.dst)
            label = shape_text(src.output_shape) if src is not None and src.output_shape is not None else ""
            changed += item.set_label(label, bool(dst is not None and dst.errors))
        return changed

    # ------------------------------------------------------------------ selection
    def _on_scene_selection_changed(self) -> None:
        if self._syncing_selection or self.document is None:
            return
        chosen = {item.node_id for item in self.selectedItems() if isinstance(item, NodeItem)}
        self.document.select([nid for nid in self.document.graph.nodes if nid in chosen])

    def _on_document_selection_changed(self, node_ids: list) -> None:
        wanted = set(node_ids)
        self._syncing_selection = True
        try:
            for nid, item in self.node_items.items():
                if item.isSelected() != (nid in wanted):
                    item.setSelected(nid in wanted)
        finally:
            self._syncing_selection = False

    def selected_edges(self) -> list:
        return [item.edge for item in self.selectedItems() if isinstance(item, EdgeItem)]

    def delete_selection(self) -> bool:
        node_ids = self.document.selected_ids
        edges = self.selected_edges()
        if not node_ids and not edges:
            return False
        self.document.undo_stack.push(RemoveItemsCommand(self.document, node_ids, edges))
        return True

    # ------------------------------------------------------------------ connections
    def begin_connection(self, node_id: str, direction: str) -> None:
        """Start drawing an edge from a port; nodes that cannot take part in it are dimmed."""
        graph = self.document.graph
        self._connection = (node_id, direction)
        for nid, item in self.node_items.items():
            if nid == node_id:
                continue
            src, dst = (node_id, nid) if direction == PortItem.OUTPUT else (nid, node_id)
            item.set_dimmed(not graph.can_connect(src, dst)[0])
        self._draft = DraftEdge(self.style)
        self.addItem(self._draft)
        start = self._port_position(node_id, direction)
        self._draft.set_endpoints(start, start)

    def _port_position(self, node_id: str, direction: str) -> QPointF:
        item = self.node_items[node_id]
        port = item.output_port if direction == PortItem.OUTPUT else item.input_port
        return port.endpoint()

    def update_connection(self, scene_pos: QPointF) -> None:
        if self._connection is None:
            return
        node_id, direction = self._connection
        anchor = self._port_position(node_id, direction)
        if direction == PortItem.OUTPUT:
            self._draft.set_endpoints(anchor, scene_pos)
        else:
            self._draft.set_endpoints(scene_pos, anchor)
        target = self._node_at(scene_pos, exclude=node_id)
        if target is not None and target.dimmed:
            target = None
        if target is not self._hover_target:
            if self._hover_target is not None:
                self._hover_target.set_target_highlight(False)
            if target is not None:
                target.set_target_highlight(True)
            self._hover_target = target

    def finish_connection(self, scene_pos: QPointF) -> bool:
        """Connect to the node under `scene_pos`, or say why not; True if an edge was added."""
        if self._connection is None:
            return False
        node_id, direction = self._connection
        target = self._node_at(scene_pos, exclude=node_id)
        self.cancel_connection()
        if target is None:
            return False
        src, dst = (node_id, target.node_id) if direction == PortItem.OUTPUT else (target.node_id, node_id)
        return self.connect_nodes(src, dst)

    def connect_nodes(self, src: str, dst: str) -> bool:
        ok, reason = self.document.graph.can_connect(src, dst)
        if not ok:
            self.document.message.emit(f"Cannot connect: {reason}")
            return False
        self.document.undo_stack.push(ConnectCommand(self.document, src, dst))
        return True

    def cancel_connection(self) -> None:
        if self._connection is None:
            return
        self._connection = None
        for item in self.node_items.values():
            item.set_dimmed(False)
        if self._hover_target is not None:
            self._hover_target.set_target_highlight(False)
            self._hover_target = None
        if self._draft is not None:
            self.removeItem(self._draft)
            self._draft = None

    @property
    def is_connecting(self) -> bool:
        return self._connection is not None

    def _node_at(self, scene_pos: QPointF, exclude: str | None = None) -> NodeItem | None:
        for item in self.items(scene_pos):
            if isinstance(item, PortItem):
                item = item.node_item
            if isinstance(item, NodeItem) and item.node_id != exclude:
                return item
        return None

    def _port_at(self, scene_pos: QPointF) -> PortItem | None:
        for item in self.items(scene_pos):
            if isinstance(item, PortItem):
                return item
            if isinstance(item, NodeItem):
                return None
        return None

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton and self.document is not None:
            port = self._port_at(event.scenePos())
            if port is not None:
                self.begin_connection(port.node_id, port.direction)
                event.accept()
                return
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self._press_positions = {nid: item.pos() for nid, item in self.node_items.items() if item.isSelected()}

    def mouseMoveEvent(self, event):
        if self._connection is not None:
            self.update_connection(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)
        if self._press_positions:
            # Cards being dragged: their edges follow.
            for nid in self._press_positions:
                item = self.node_items.get(nid)
                if item is not None:
                    self._on_item_moved(item)

    def mouseReleaseEvent(self, event):
        if self._connection is not None and event.button() == Qt.MouseButton.LeftButton:
            self.finish_connection(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self.commit_moves()

    def commit_moves(self) -> None:
        """Turn the cards dragged since the mouse press into one undoable move."""
        before, self._press_positions = self._press_positions, None
        if not before or self.document is None:
            return
        moves = {}
        for nid, old in before.items():
            item = self.node_items.get(nid)
            if item is not None and item.pos() != old:
                moves[nid] = ((old.x(), old.y()), (item.pos().x(), item.pos().y()))
        if moves:
            self.document.undo_stack.push(MoveNodesCommand(self.document, moves))

    def keyPressEvent(self, event):
        if event.key() == Qt.Key.Key_Escape and self._connection is not None:
            self.cancel_connection()
            event.accept()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------------ theme
    def event(self, event):
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.refresh_style()
        return super().event(event)

    def refresh_style(self) -> None:
        self.style.refresh(self.palette())
        for item in self.items():
            item.update()


def _first_problem(name: str, message: str) -> str:
    prefix = f"{name}: "
    return message[len(prefix):] if message.startswith(prefix) else message

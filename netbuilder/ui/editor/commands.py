"""Every edit a user can make, as an undoable command that calls the core model.

Each command changes the graph only through its methods and runs inside `document.batch()`,
so shapes are re-analysed once per command. Repeated small edits of the same thing (spinning
a spin box, nudging a setting) merge into one undo step.
"""
from __future__ import annotations

import copy

from PySide6.QtGui import QUndoCommand

from ...core.settings import SECTION_TITLES

# Merge ids: QUndoStack merges consecutive commands with the same id when mergeWith agrees.
_SET_PARAM_ID = 1001
_SET_OVERRIDES_ID = 1002
_SET_SETTINGS_ID = 1003


class DocumentCommand(QUndoCommand):
    """Base: runs `_redo`/`_undo` inside one analysis batch of the document."""

    def __init__(self, document, text: str):
        super().__init__(text)
        self.document = document

    @property
    def graph(self):
        return self.document.graph

    def redo(self) -> None:
        with self.document.batch():
            self._redo()

    def undo(self) -> None:
        with self.document.batch():
            self._undo()

    def _redo(self) -> None:
        raise NotImplementedError

    def _undo(self) -> None:
        raise NotImplementedError


def _node_record(node) -> dict:
    """Everything needed to re-create a node exactly, id included."""
    return {"id": node.id, "type": node.type, "name": node.name, "params": copy.deepcopy(node.params),
            "position": tuple(node.position), "init": copy.deepcopy(node.init), "l2_multiplier": node.l2_multiplier}


def _add_from_record(graph, record: dict) -> None:
    graph.add_node(record["type"], name=record["name"], params=record["params"], position=record["position"],
                   node_id=record["id"], init=record["init"], l2_multiplier=record["l2_multiplier"])


class AddNodesCommand(DocumentCommand):
    """Adds nodes (records with ids already chosen) and the edges among them: new layers, pastes."""

    def __init__(self, document, records: list[dict], edges: list[tuple[str, str, int]], text: str):
        super().__init__(document, text)
        self.records = records
        self.edges = edges

    @property
    def node_ids(self) -> list[str]:
        return [r["id"] for r in self.records]

    def _redo(self) -> None:
        for record in self.records:
            _add_from_record(self.graph, record)
        for src, dst, port in self.edges:
            self.graph.connect(src, dst, port)

    def _undo(self) -> None:
        for record in reversed(self.records):
            self.graph.remove_node(record["id"])


def add_node_command(document, type_name: str, position) -> AddNodesCommand:
    """A command adding one fresh layer of `type_name` at `position` with default parameters."""
    from ...core import catalogue
    from ...core.params import defaults
    graph = document.graph
    spec = catalogue.get(type_name)
    record = {"id": graph.new_id(), "type": type_name, "name": graph.unique_name(spec.prefix),
              "params": defaults(spec.params), "position": (float(position[0]), float(position[1])),
              "init": None, "l2_multiplier": 1.0}
    return AddNodesCommand(document, [record], [], f"Add {type_name}")


class RemoveItemsCommand(DocumentCommand):
    """Deletes nodes (with every edge touching them) and single edges; undo puts all back."""

    def __init__(self, document, node_ids: list[str], edges: list):
        graph = document.graph
        node_ids = [nid for nid in node_ids if nid in graph.nodes]
        doomed = set(node_ids)
        touching = [e for e in graph.edges if e.src in doomed or e.dst in doomed]
        loose = [e for e in edges if e in graph.edges and e not in touching]
        count = len(node_ids) + len(loose)
        if len(node_ids) == 1 and not loose:
            text = f"Delete {graph.nodes[node_ids[0]].name}"
        elif not node_ids and len(loose) == 1:
            text = "Delete connection"
        else:
            text = f"Delete {count} items"
        super().__init__(document, text)
        self.records = [_node_record(graph.nodes[nid]) for nid in node_ids]
        # Edges in graph order, so undo restores ports and merge order exactly.
        self.edges = [e for e in graph.edges if e in touching or e in loose]

    def _redo(self) -> None:
        for edge in self.edges:
            if edge in self.graph.edges:
                self.graph.disconnect(edge)
        for record in self.records:
            self.graph.remove_node(record["id"])

    def _undo(self) -> None:
        for record in self.records:
            _add_from_record(self.graph, record)
        for edge in self.edges:
            self.graph.connect(edge.src, edge.dst, edge.port)


class ConnectCommand(DocumentCommand):
    def __init__(self, document, src: str, dst: str):
        graph = document.graph
        super().__init__(document, f"Connect {graph.nodes[src].name} → {graph.nodes[dst].name}")
        self.src, self.dst = src, dst
        self.edge = None

    def _redo(self) -> None:
        port = None if self.edge is None else self.edge.port
        self.edge = self.graph.connect(self.src, self.dst, port)

    def _undo(self) -> None:
        self.graph.disconnect(self.edge)


class SetParamCommand(DocumentCommand):
    """Raises ValidationError on construction for a value the parameter does not accept, so a
    bad value never reaches the undo stack."""

    def __init__(self, document, node_id: str, key: str, value):
        node = document.graph.nodes[node_id]
        spec = node.spec.param(key)
        super().__init__(document, f"Change {node.name} {spec.title.lower()}")
        self.node_id, self.key = node_id, key
        self.old = copy.deepcopy(node.params[key])
        # In the graph's normal form (3 → [3, 3]), so merged steps compare truly.
        self.new = spec.coerce(copy.deepcopy(value), f"{node.name}.{key}")

    def id(self) -> int:
        return _SET_PARAM_ID

    def mergeWith(self, other) -> bool:
        if not isinstance(other, SetParamCommand) or (other.node_id, other.key) != (self.node_id, self.key):
            return False
        self.new = other.new
        self.setObsolete(self.new == self.old)
        return True

    def _redo(self) -> None:
        self.graph.set_param(self.node_id, self.key, self.new)

    def _undo(self) -> None:
        self.graph.set_param(self.node_id, self.key, self.old)


class RenameNodeCommand(DocumentCommand):
    def __init__(self, document, node_id: str, name: str):
        old = document.graph.nodes[node_id].name
        super().__init__(document, f"Rename {old} to {name}")
        self.node_id, self.old, self.new = node_id, old, name

    def _redo(self) -> None:
        self.graph.rename(self.node_id, self.new)

    def _undo(self) -> None:
        self.graph.rename(self.node_id, self.old)


class SetOverridesCommand(DocumentCommand):
    """A node's initialization override (None = project default) and L2 multiplier."""

    def __init__(self, document, node_id: str, init: dict | None, l2_multiplier: float):
        node = document.graph.nodes[node_id]
        super().__init__(document, f"Change {node.name} {'initialization' if init != node.init else 'L2 multiplier'}")
        self.node_id = node_id
        self.old = (copy.deepcopy(node.init), node.l2_multiplier)
        self.new = (copy.deepcopy(init), float(l2_multiplier))

    def _aspect(self):
        """What this step changes: switching the override on/off, some init keys, or the multiplier."""
        (old_init, old_l2), (new_init, new_l2) = self.old, self.new
        if old_init != new_init:
            if old_init is None or new_init is None:
                return "switch"
            return tuple(sorted(k for k in set(old_init) | set(new_init) if old_init.get(k) != new_init.get(k)))
        return "l2" if old_l2 != new_l2 else None

    def id(self) -> int:
        return _SET_OVERRIDES_ID

    def mergeWith(self, other) -> bool:
        if not isinstance(other, SetOverridesCommand) or other.node_id != self.node_id:
            return False
        aspect = self._aspect()
        if aspect == "switch" or aspect != other._aspect():
            return False
        self.new = other.new
        self.setObsolete(self.new == self.old)
        return True

    def _redo(self) -> None:
        self.graph.set_overrides(self.node_id, self.new[0], self.new[1])

    def _undo(self) -> None:
        self.graph.set_overrides(self.node_id, self.old[0], self.old[1])


class MoveNodesCommand(DocumentCommand):
    """Moves nodes to new positions: one command per drag, or for a whole automatic layout."""

    def __init__(self, document, moves: dict[str, tuple[tuple, tuple]], text: str | None = None):
        graph = document.graph
        if text is None:
            text = f"Move {graph.nodes[next(iter(moves))].name}" if len(moves) == 1 else f"Move {len(moves)} nodes"
        super().__init__(document, text)
        self.moves = moves  # node id -> (old position, new position)

    def _redo(self) -> None:
        for nid, (_, new) in self.moves.items():
            self.graph.move(nid, new)

    def _undo(self) -> None:
        for nid, (old, _) in self.moves.items():
            self.graph.move(nid, old)


class SetSettingsCommand(DocumentCommand):
    """Replaces one project settings section; successive edits of the same keys merge."""

    def __init__(self, document, section: str, old: dict, new: dict):
        super().__init__(document, f"Change {SECTION_TITLES[section].lower()}")
        self.section, self.old, self.new = section, old, new

    def _changed_keys(self) -> set:
        return {k for k in set(self.old) | set(self.new) if self.old.get(k) != self.new.get(k)}

    def id(self) -> int:
        return _SET_SETTINGS_ID

    def mergeWith(self, other) -> bool:
        if not isinstance(other, SetSettingsCommand) or other.section != self.section:
            return False
        # Switching the optimizer or schedule type stays its own step.
        keys = self._changed_keys()
        if other._changed_keys() != keys or "type" in keys:
            return False
        self.new = other.new
        self.setObsolete(self.new == self.old)
        return True

    def redo(self) -> None:
        self.document.apply_settings(self.section, self.new)

    def undo(self) -> None:
        self.document.apply_settings(self.section, self.old)


class RenameProjectCommand(DocumentCommand):
    def __init__(self, document, old: str, new: str):
        super().__init__(document, f"Rename project to {new}")
        self.old, self.new = old, new

    def redo(self) -> None:
        self.document.apply_project_name(self.new)

    def undo(self) -> None:
        self.document.apply_project_name(self.old)

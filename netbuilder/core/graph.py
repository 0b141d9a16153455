"""The network as a graph of layer nodes joined by edges, with events for every change.

A node has exactly one output; its inputs are numbered ports. Most layers take one input;
merges (Add, Concatenate) take any number, in port order. The graph accepts any wiring so
that a half-built design can be saved; `validate()` says what is wrong and on which node,
and `can_connect()` is what an editor asks before it lets a user draw an edge.
"""
from __future__ import annotations

import copy
import difflib
import keyword
import math
import re
from dataclasses import dataclass, field

from . import catalogue
from .events import Event
from .params import ValidationError, coerce_all

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class GraphError(ValueError):
    """An edit that the graph refuses; `node_id` names the node concerned when there is one."""

    def __init__(self, message: str, node_id: str | None = None):
        super().__init__(message)
        self.node_id = node_id


@dataclass
class Node:
    id: str
    type: str
    name: str
    params: dict
    position: tuple[float, float] = (0.0, 0.0)
    # Per-node overrides of the project's settings: an initialization dict (settings.INIT_SPECS)
    # or None for the project default, and a multiplier on the L2 / L1 penalty.
    init: dict | None = None
    l2_multiplier: float = 1.0

    @property
    def spec(self) -> catalogue.LayerSpec:
        return catalogue.get(self.type)


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    port: int = 0


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" | "warning"
    message: str
    node_id: str | None = None


@dataclass
class GraphEvents:
    node_added: Event = field(default_factory=lambda: Event("node_added"))          # (node)
    node_removed: Event = field(default_factory=lambda: Event("node_removed"))      # (node)
    edge_connected: Event = field(default_factory=lambda: Event("edge_connected"))  # (edge)
    edge_disconnected: Event = field(default_factory=lambda: Event("edge_disconnected"))  # (edge)
    param_changed: Event = field(default_factory=lambda: Event("param_changed"))    # (node, key, old, new)
    node_renamed: Event = field(default_factory=lambda: Event("node_renamed"))      # (node, old, new)
    node_moved: Event = field(default_factory=lambda: Event("node_moved"))          # (node)
    override_changed: Event = field(default_factory=lambda: Event("override_changed"))  # (node)
    # Fired after every change that can alter shapes or problems, so views re-infer once.
    structure_changed: Event = field(default_factory=lambda: Event("structure_changed"))  # ()


class Graph:
    def __init__(self):
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.events = GraphEvents()
        self._next_id = 1
        # Edges grouped by endpoint, rebuilt lazily after any wiring change: without it every
        # incoming()/outgoing() scans all edges and analysing a large graph becomes quadratic.
        self._adjacency: tuple[dict, dict, int] | None = None

    # ------------------------------------------------------------------ queries
    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphError(f"no node with id {node_id!r}") from None

    def node_by_name(self, name: str) -> Node | None:
        return next((n for n in self.nodes.values() if n.name == name), None)

    def incoming(self, node_id: str) -> list[Edge]:
        return list(self._edges_by_endpoint()[0].get(node_id, ()))

    def outgoing(self, node_id: str) -> list[Edge]:
        return list(self._edges_by_endpoint()[1].get(node_id, ()))

    def _edges_by_endpoint(self) -> tuple[dict, dict]:
        """(edges into each node sorted by port, edges out of each node in insertion order)."""
        # The length check also catches code that appends to `edges` directly.
        if self._adjacency is None or self._adjacency[2] != len(self.edges):
            into: dict[str, list[Edge]] = {}
            out: dict[str, list[Edge]] = {}
            for e in self.edges:
                into.setdefault(e.dst, []).append(e)
                out.setdefault(e.src, []).append(e)
            for edges in into.values():
                edges.sort(key=lambda e: e.port)
            self._adjacency = (into, out, len(self.edges))
        return self._adjacency[0], self._adjacency[1]

    def predecessors(self, node_id: str) -> list[str]:
        return [e.src for e in self.incoming(node_id)]

    def successors(self, node_id: str) -> list[str]:
        return [e.dst for e in self.outgoing(node_id)]

    def input_nodes(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.type == "Input"]

    def output_nodes(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.type == "Output"]

    def topological_order(self) -> list[str]:
        """Node ids with every node after its inputs; ties keep insertion order (deterministic).

        Raises GraphError naming a node on a cycle if there is one.
        """
        indegree = {nid: 0 for nid in self.nodes}
        for e in self.edges:
            indegree[e.dst] += 1
        order_index = {nid: i for i, nid in enumerate(self.nodes)}
        ready = [nid for nid, d in indegree.items() if d == 0]
        out: list[str] = []
        while ready:
            ready.sort(key=order_index.__getitem__)
            nid = ready.pop(0)
            out.append(nid)
            for e in self.outgoing(nid):
                indegree[e.dst] -= 1
                if indegree[e.dst] == 0:
                    ready.append(e.dst)
        if len(out) != len(self.nodes):
            cyclic = self._cycle_members(set(self.nodes) - set(out))
            names = " → ".join(self.nodes[n].name for n in cyclic)
            raise GraphError(f"the graph has a cycle: {names}", cyclic[0] if cyclic else None)
        return out

    def _cycle_members(self, remaining: set[str]) -> list[str]:
        # Walk backwards from any leftover node until a node repeats: that stretch is a cycle.
        start = min(remaining, key=list(self.nodes).index)
        path, seen = [start], {start: 0}
        current = start
        while True:
            preds = [p for p in self.predecessors(current) if p in remaining]
            if not preds:
                return [start]
            current = preds[0]
            if current in seen:
                cycle = path[seen[current]:]
                return list(reversed(cycle))
            seen[current] = len(path)
            path.append(current)

    def reaches(self, src: str, dst: str) -> bool:
        """True if a path of edges leads from src to dst."""
        stack, seen = [src], set()
        while stack:
            nid = stack.pop()
            if nid == dst:
                return True
            if nid in seen:
                continue
            seen.add(nid)
            stack.extend(self.successors(nid))
        return False

    def can_connect(self, src: str, dst: str) -> tuple[bool, str]:
        """Whether an edge src → dst may be drawn, and why not."""
        if src not in self.nodes or dst not in self.nodes:
            return False, "unknown node"
        a, b = self.nodes[src], self.nodes[dst]
        if src == dst:
            return False, f"{a.name} cannot feed itself"
        if a.spec.outputs == 0:
            return False, f"{a.name} ({a.type}) has no output to connect from"
        if b.spec.inputs == 0:
            return False, f"{b.name} ({b.type}) takes no input"
        if any(e.src == src and e.dst == dst for e in self.edges):
            return False, f"{a.name} is already connected to {b.name}"
        if b.spec.inputs == 1 and self.incoming(dst):
            other = self.nodes[self.incoming(dst)[0].src].name
            return False, f"{b.name} takes a single input and already receives {other}; use Add or Concatenate to merge"
        if self.reaches(dst, src):
            return False, f"connecting {a.name} to {b.name} would make a cycle"
        return True, ""

    # ------------------------------------------------------------------ edits
    def new_id(self) -> str:
        while f"n{self._next_id}" in self.nodes:
            self._next_id += 1
        nid = f"n{self._next_id}"
        self._next_id += 1
        return nid

    def unique_name(self, base: str) -> str:
        taken = {n.name for n in self.nodes.values()}
        i = 1
        while f"{base}{i}" in taken:
            i += 1
        return f"{base}{i}"

    def add_node(self, type_name: str, name: str | None = None, params: dict | None = None,
                 position: tuple[float, float] = (0.0, 0.0), node_id: str | None = None,
                 init: dict | None = None, l2_multiplier: float = 1.0) -> Node:
        from .settings import validate_init
        spec = catalogue.get(type_name)
        values = coerce_all(spec.params, params or {}, path=name or type_name)
        # Overrides are normalised as set_overrides() and loading do, so a saved node reloads unchanged.
        init = None if init is None else validate_init(copy.deepcopy(init), f"{name or type_name}.init")
        if not _is_finite_number(l2_multiplier) or l2_multiplier < 0:
            raise GraphError(f"{name or type_name}: the L2 multiplier must be a number ≥ 0, got {l2_multiplier!r}")
        node_id = node_id or self.new_id()
        if node_id in self.nodes:
            raise GraphError(f"a node with id {node_id!r} already exists", node_id)
        node = Node(node_id, type_name, name or self.unique_name(spec.prefix), values,
                    (float(position[0]), float(position[1])), init, float(l2_multiplier))
        self.nodes[node_id] = node
        self.events.node_added.emit(node)
        self.events.structure_changed.emit()
        return node

    def remove_node(self, node_id: str) -> Node:
        node = self.node(node_id)
        for edge in [e for e in self.edges if node_id in (e.src, e.dst)]:
            self.disconnect(edge, notify=False)
        del self.nodes[node_id]
        self.events.node_removed.emit(node)
        self.events.structure_changed.emit()
        return node

    def connect(self, src: str, dst: str, port: int | None = None) -> Edge:
        """Add an edge. For merge nodes `port` defaults to the next free position."""
        self.node(src), self.node(dst)
        if port is None:
            ports = [e.port for e in self.incoming(dst)]
            port = (max(ports) + 1 if ports else 0) if self.nodes[dst].spec.inputs == catalogue.MULTI else 0
        edge = Edge(src, dst, port)
        if edge in self.edges:
            raise GraphError(f"{self.nodes[src].name} is already connected to {self.nodes[dst].name}", dst)
        self.edges.append(edge)
        self._adjacency = None
        self.events.edge_connected.emit(edge)
        self.events.structure_changed.emit()
        return edge

    def disconnect(self, edge: Edge, notify: bool = True) -> None:
        if edge not in self.edges:
            raise GraphError("that edge is not in the graph")
        self.edges.remove(edge)
        self._adjacency = None
        self.events.edge_disconnected.emit(edge)
        if notify:
            self.events.structure_changed.emit()

    def set_param(self, node_id: str, key: str, value) -> None:
        node = self.node(node_id)
        specs = {s.name: s for s in node.spec.params}
        if key not in specs:
            raise GraphError(f"{node.name} ({node.type}) has no parameter {key!r}", node_id)
        try:
            value = specs[key].coerce(value, f"{node.name}.{key}")
        except ValidationError as exc:
            raise GraphError(str(exc), node_id) from None
        old = node.params.get(key)
        if old == value:
            return
        node.params[key] = value
        self.events.param_changed.emit(node, key, old, value)
        self.events.structure_changed.emit()

    def rename(self, node_id: str, name: str) -> None:
        node = self.node(node_id)
        problem = name_problem(name)
        if problem is not None:
            raise GraphError(f"{name!r} is not a valid name: {problem}", node_id)
        other = self.node_by_name(name)
        if other is not None and other.id != node_id:
            raise GraphError(f"the name {name!r} is already used by another node", node_id)
        old, node.name = node.name, name
        if old != name:
            self.events.node_renamed.emit(node, old, name)
            self.events.structure_changed.emit()

    def move(self, node_id: str, position: tuple[float, float]) -> None:
        node = self.node(node_id)
        node.position = (float(position[0]), float(position[1]))
        self.events.node_moved.emit(node)

    def set_overrides(self, node_id: str, init: dict | None = None, l2_multiplier: float | None = None) -> None:
        """Set a node's initialization override (None = project default) and/or L2 multiplier."""
        from .settings import validate_init
        node = self.node(node_id)
        node.init = None if init is None else validate_init(init, f"{node.name}.init")
        if l2_multiplier is not None:
            if not _is_finite_number(l2_multiplier) or l2_multiplier < 0:
                raise GraphError(f"{node.name}: the L2 multiplier must be a number ≥ 0, got {l2_multiplier!r}", node_id)
            node.l2_multiplier = float(l2_multiplier)
        self.events.override_changed.emit(node)

    def clear(self) -> None:
        for nid in list(self.nodes):
            self.remove_node(nid)
        self._next_id = 1

    # ------------------------------------------------------------------ checks
    def validate(self) -> list[Problem]:
        """Structural problems, each naming its node. Shape problems come from shapes.infer()."""
        problems: list[Problem] = []
        err = lambda msg, nid=None: problems.append(Problem("error", msg, nid))  # noqa: E731
        warn = lambda msg, nid=None: problems.append(Problem("warning", msg, nid))  # noqa: E731

        inputs, outputs = self.input_nodes(), self.output_nodes()
        if not inputs:
            err("the network has no Input node: add one from the palette")
        if not outputs:
            err("the network has no Output node: add one after the last layer")
        for extra in inputs[1:]:
            err(f"{extra.name}: only one Input node is supported", extra.id)
        for extra in outputs[1:]:
            err(f"{extra.name}: only one Output node is supported", extra.id)

        seen_names: dict[str, str] = {}
        for node in self.nodes.values():
            problem = name_problem(node.name)
            if problem is not None:
                err(f"{node.name!r} is not a valid name: {problem}; rename it", node.id)
            if node.name in seen_names:
                err(f"two nodes are named {node.name!r}: names must be unique", node.id)
            seen_names.setdefault(node.name, node.id)

        try:
            self.topological_order()
        except GraphError as exc:
            err(str(exc), exc.node_id)

        starved: set[str] = set()  # nodes with nothing connected to their input
        for node in self.nodes.values():
            arity = node.spec.inputs
            incoming = self.incoming(node.id)
            if arity == 0 and incoming:
                names = ", ".join(self.nodes[e.src].name for e in incoming)
                err(f"{node.name} ({node.type}) takes no input but receives {names}; remove that connection", node.id)
            if node.spec.outputs == 0 and self.outgoing(node.id):
                names = ", ".join(self.nodes[e.dst].name for e in self.outgoing(node.id))
                err(f"{node.name} ({node.type}) ends the network and cannot feed {names}; remove that connection",
                    node.id)
            if arity == 1 and len(incoming) == 0:
                starved.add(node.id)
                err(f"{node.name}: its input is not connected", node.id)
            elif arity == 1 and len(incoming) > 1:
                names = ", ".join(self.nodes[e.src].name for e in incoming)
                err(f"{node.name} takes one input but receives {len(incoming)} ({names}); merge them with Add or Concatenate",
                    node.id)
            elif arity == catalogue.MULTI and len(incoming) < 2:
                if not incoming:
                    starved.add(node.id)
                err(f"{node.name} ({node.type}) merges several inputs but has {len(incoming)}; connect at least two",
                    node.id)

        reachable = set()
        for start in inputs:
            stack = [start.id]
            while stack:
                nid = stack.pop()
                if nid not in reachable:
                    reachable.add(nid)
                    stack.extend(self.successors(nid))
        useful = set()
        for end in outputs:
            stack = [end.id]
            while stack:
                nid = stack.pop()
                if nid not in useful:
                    useful.add(nid)
                    stack.extend(self.predecessors(nid))
        for node in self.nodes.values():
            if inputs and node.id not in reachable and node.type != "Input":
                if node.id in starved:
                    continue  # "its input is not connected" already says it
                # Name the unconnected nodes upstream: connecting them is the fix.
                causes, stack, seen = [], list(self.predecessors(node.id)), set()
                while stack:
                    nid = stack.pop()
                    if nid in seen or nid in reachable:
                        continue
                    seen.add(nid)
                    if nid in starved:
                        causes.append(self.nodes[nid].name)
                    stack.extend(self.predecessors(nid))
                hint = f"; connect the input of {', '.join(sorted(causes))}" if causes else ""
                err(f"{node.name} is not reachable from the Input node{hint}", node.id)
            elif outputs and node.id not in useful and node.type != "Output":
                warn(f"{node.name}'s output is not used on the way to the Output node", node.id)
        return problems

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict:
        nodes = []
        for n in self.nodes.values():
            entry = {"id": n.id, "type": n.type, "name": n.name, "params": copy.deepcopy(n.params),
                     "position": [n.position[0], n.position[1]]}
            if n.init is not None:
                entry["init"] = copy.deepcopy(n.init)
            if n.l2_multiplier != 1.0:
                entry["l2_multiplier"] = n.l2_multiplier
            nodes.append(entry)
        return {"nodes": nodes, "edges": [{"src": e.src, "dst": e.dst, "port": e.port} for e in self.edges]}

    @classmethod
    def from_dict(cls, data: dict, path: str = "graph") -> "Graph":
        """Build a graph from its JSON form; bad content raises ValidationError with its path."""
        from .settings import validate_init
        graph = cls()
        if not isinstance(data, dict):
            raise ValidationError(path, "expected an object with 'nodes' and 'edges'")
        nodes = data.get("nodes")
        if not isinstance(nodes, list):
            raise ValidationError(f"{path}.nodes", "expected a list of nodes")
        for i, raw in enumerate(nodes):
            where = f"{path}.nodes[{i}]"
            if not isinstance(raw, dict):
                raise ValidationError(where, "expected an object")
            for key in ("id", "type", "name"):
                if not isinstance(raw.get(key), str):
                    raise ValidationError(f"{where}.{key}", f"expected text, got {raw.get(key)!r}")
            if raw["type"] not in catalogue.LAYERS:
                close = difflib.get_close_matches(raw["type"], list(catalogue.LAYERS), n=1)
                hint = f"; did you mean {close[0]}?" if close else f" (known types: {', '.join(catalogue.LAYERS)})"
                raise ValidationError(f"{where}.type", f"unknown layer type {raw['type']!r}{hint}")
            if raw["id"] in graph.nodes:
                raise ValidationError(f"{where}.id", f"duplicate node id {raw['id']!r}")
            position = raw.get("position", [0, 0])
            if (not isinstance(position, list) or len(position) != 2
                    or not all(_is_finite_number(v) for v in position)):
                raise ValidationError(f"{where}.position", f"expected [x, y] with two numbers, got {position!r}")
            spec = catalogue.get(raw["type"])
            params = coerce_all(spec.params, raw.get("params", {}), f"{where}.params")
            init = raw.get("init")
            if init is not None:
                init = validate_init(init, f"{where}.init")
            mult = raw.get("l2_multiplier", 1.0)
            if not _is_finite_number(mult) or mult < 0:
                raise ValidationError(f"{where}.l2_multiplier", f"expected a number ≥ 0, got {mult!r}")
            unknown = set(raw) - {"id", "type", "name", "params", "position", "init", "l2_multiplier"}
            if unknown:
                raise ValidationError(f"{where}.{sorted(unknown)[0]}", "unknown field")
            graph.nodes[raw["id"]] = Node(raw["id"], raw["type"], raw["name"], params,
                                          (float(position[0]), float(position[1])), init, float(mult))
        edges = data.get("edges", [])
        if not isinstance(edges, list):
            raise ValidationError(f"{path}.edges", "expected a list of edges")
        for i, raw in enumerate(edges):
            where = f"{path}.edges[{i}]"
            if not isinstance(raw, dict):
                raise ValidationError(where, "expected an object with src, dst, port")
            for key in ("src", "dst"):
                if not isinstance(raw.get(key), str) or raw[key] not in graph.nodes:
                    raise ValidationError(f"{where}.{key}", f"no node with id {raw.get(key)!r}")
            port = raw.get("port", 0)
            if isinstance(port, bool) or not isinstance(port, int) or port < 0:
                raise ValidationError(f"{where}.port", "expected an integer ≥ 0")
            edge = Edge(raw["src"], raw["dst"], port)
            if edge in graph.edges:
                raise ValidationError(where, "duplicate edge")
            graph.edges.append(edge)
        numbers = [int(nid[1:]) for nid in graph.nodes if re.fullmatch(r"n\d+", nid)]
        graph._next_id = max(numbers, default=0) + 1
        return graph

    def copy(self) -> "Graph":
        return Graph.from_dict(self.to_dict())


def is_valid_name(name: str) -> bool:
    return name_problem(name) is None


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a node (it becomes an attribute and a variable in generated code), or None."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        return "use letters, digits and _, starting with a letter"
    if keyword.iskeyword(name):
        return "it is a Python keyword"
    if name in _RESERVED_NAMES:
        return "it is reserved by PyTorch modules or the generated code"
    return None


def _is_finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# Names that would clash with nn.Module attributes or the generated forward()'s own variables.
# Names starting with "_" are refused as a whole: torch keeps its internals there and Python
# mangles "__name" inside a class body, so the submodule would not carry the node's name.
_RESERVED_NAMES = {
    # generated code
    "self", "x", "torch", "nn", "F", "Maxout", "netbuilder_source", "Ellipsis",
    # public attributes and methods of torch.nn.Module
    "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init", "children", "compile", "cpu",
    "cuda", "double", "dump_patches", "eval", "extra_repr", "float", "forward", "get_buffer", "get_extra_state",
    "get_parameter", "get_submodule", "half", "ipu", "load_state_dict", "modules", "mtia", "named_buffers",
    "named_children", "named_modules", "named_parameters", "parameters", "register_backward_hook",
    "register_buffer", "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
    "register_full_backward_pre_hook", "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook",
    "register_module", "register_parameter", "register_state_dict_post_hook", "register_state_dict_pre_hook",
    "requires_grad_", "set_extra_state", "set_submodule", "share_memory", "state_dict", "to", "to_empty", "train",
    "training", "type", "xpu", "zero_grad",
}

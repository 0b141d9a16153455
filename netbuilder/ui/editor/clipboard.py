"""Copy and paste of graph fragments: the selected nodes and the edges among them, as JSON in
the graph's own format, so a fragment can travel between windows and projects."""
from __future__ import annotations

import json
import re

from PySide6.QtCore import QMimeData

from ...core.graph import Graph
from ...core.params import ValidationError

MIME_TYPE = "application/x-netbuilder-fragment"


def fragment(graph: Graph, node_ids: list[str]) -> dict:
    """The nodes (in graph order) and the edges that join two of them, in Graph.to_dict() form."""
    chosen = set(node_ids)
    whole = graph.to_dict()
    return {"nodes": [n for n in whole["nodes"] if n["id"] in chosen],
            "edges": [e for e in whole["edges"] if e["src"] in chosen and e["dst"] in chosen]}


def to_mime(data: dict) -> QMimeData:
    mime = QMimeData()
    text = json.dumps(data, ensure_ascii=False)
    mime.setData(MIME_TYPE, text.encode("utf-8"))
    mime.setText(text)
    return mime


def from_mime(mime: QMimeData | None) -> dict | None:
    """The fragment on the clipboard, or None when it holds nothing valid to paste."""
    if mime is None or not mime.hasFormat(MIME_TYPE):
        return None
    try:
        data = json.loads(bytes(mime.data(MIME_TYPE)).decode("utf-8"))
        Graph.from_dict(data, "clipboard")  # validates types, parameters and edges
    except (ValueError, UnicodeDecodeError, ValidationError):
        return None
    return data if data.get("nodes") else None


def _base_name(name: str) -> str:
    return re.sub(r"_?\d+$", "", name) or "node"


def paste_records(graph: Graph, data: dict, offset: tuple[float, float]) -> tuple[list[dict], list[tuple]]:
    """Node records with fresh ids and unique names, shifted by `offset`, and the edges between them.

    A name is kept when it is free in `graph`; otherwise it gets the next free number
    (conv1 → conv3), so a pasted copy never collides with the original.
    """
    taken = {n.name for n in graph.nodes.values()}
    new_ids: dict[str, str] = {}
    records = []
    for raw in data["nodes"]:
        node_id = graph.new_id()
        while node_id in new_ids.values():
            node_id = graph.new_id()
        new_ids[raw["id"]] = node_id
        name = raw["name"]
        if name in taken:
            base, i = _base_name(name), 1
            while f"{base}{i}" in taken:
                i += 1
            name = f"{base}{i}"
        taken.add(name)
        x, y = raw.get("position", (0.0, 0.0))
        records.append({"id": node_id, "type": raw["type"], "name": name, "params": dict(raw.get("params", {})),
                        "position": (float(x) + offset[0], float(y) + offset[1]), "init": raw.get("init"),
                        "l2_multiplier": float(raw.get("l2_multiplier", 1.0))})
    edges = [(new_ids[e["src"]], new_ids[e["dst"]], int(e.get("port", 0))) for e in data.get("edges", [])]
    return records, edges

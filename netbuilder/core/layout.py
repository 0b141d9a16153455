"""Automatic layered layout: top-to-bottom rows by longest path, ordered to reduce crossings.

A side branch (a residual block's downsampling path) is then pulled down to sit just above the
node it feeds, beside the branch it runs parallel to; left at the top, its long edge into the
merge would run down through the other branch's cards.

Pure geometry on the graph model, used by templates and by the editor's "Arrange" action.
"""
from __future__ import annotations

from .graph import Graph, GraphError

ROW_GAP = 150.0
COLUMN_GAP = 260.0


def layered_positions(graph: Graph) -> dict[str, tuple[float, float]]:
    """Positions for every node: row = longest path from a source, columns centred on x = 0."""
    try:
        order = graph.topological_order()
    except GraphError:
        order = list(graph.nodes)
    row: dict[str, int] = {}
    for nid in order:
        preds = [p for p in graph.predecessors(nid) if p in row]
        row[nid] = 1 + max((row[p] for p in preds), default=-1)
    for nid in reversed(order):
        succs = [s for s in graph.successors(nid) if s in row and row[s] > row[nid]]
        if succs and graph.predecessors(nid):
            row[nid] = max(row[nid], min(row[s] for s in succs) - 1)
    rows: dict[int, list[str]] = {}
    for nid in order:
        rows.setdefault(row[nid], []).append(nid)
    x: dict[str, float] = {}
    positions = {}
    for r in sorted(rows):
        members = rows[r]
        # Barycentre of the predecessors' columns keeps branches beside their sources.
        def barycentre(nid):
            xs = [x[p] for p in graph.predecessors(nid) if p in x]
            return sum(xs) / len(xs) if xs else 0.0
        members.sort(key=barycentre)
        width = (len(members) - 1) * COLUMN_GAP
        for i, nid in enumerate(members):
            x[nid] = i * COLUMN_GAP - width / 2 + (barycentre(nid) if len(members) == 1 else 0.0)
            positions[nid] = (x[nid], r * ROW_GAP)
    return positions


def apply_layout(graph: Graph) -> None:
    for nid, pos in layered_positions(graph).items():
        graph.move(nid, pos)

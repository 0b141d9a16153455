"""Automatic layout: rows follow the edges, branches sit side by side, nothing overlaps."""
from netbuilder.core import templates
from netbuilder.core.graph import Graph
from netbuilder.core.layout import COLUMN_GAP, ROW_GAP, apply_layout, layered_positions
from netbuilder.core.templates import Chain


def test_rows_follow_the_longest_path():
    graph = templates.build("resnet18").graph
    positions = layered_positions(graph)
    assert set(positions) == set(graph.nodes)
    for e in graph.edges:
        assert positions[e.dst][1] > positions[e.src][1]
    assert len(set(positions.values())) == len(positions)


def test_branches_sit_side_by_side():
    graph = Graph()
    c = Chain(graph)
    inp = c.add("Input", "input", kind="vector", features=3)
    a = c.add("Linear", "a", out_features=3)
    b = c.add("Tanh", "b", after=inp)
    m = c.merge("Add", [a, b], "sum")
    pos = layered_positions(graph)
    assert pos[a][1] == pos[b][1] == ROW_GAP
    assert abs(pos[a][0] - pos[b][0]) == COLUMN_GAP
    assert pos[m][1] == 2 * ROW_GAP and pos[inp] == (0.0, 0.0)


def test_apply_layout_moves_nodes_and_survives_cycles():
    graph = Graph()
    a, b = graph.add_node("ReLU"), graph.add_node("ReLU")
    graph.connect(a.id, b.id)
    graph.connect(b.id, a.id)
    moved = []
    graph.events.node_moved.subscribe(moved.append)
    apply_layout(graph)
    assert len(moved) == 2


def test_a_side_branch_sits_just_above_the_merge_it_feeds():
    # ResNet's downsampling path (conv + norm) is two layers beside a five-layer main path: drawn
    # at the top of the block, its long edge into the Add would cross the main path's cards.
    graph = templates.build("resnet18").graph
    by_name = {n.name: n.id for n in graph.nodes.values()}
    pos = layered_positions(graph)
    for block in ("layer2_0", "layer3_0", "layer4_0"):
        add, down_bn, main_bn = (pos[by_name[f"{block}_{part}"]] for part in ("add", "down_bn", "bn2"))
        assert down_bn[1] == main_bn[1] == add[1] - ROW_GAP
        assert down_bn[0] != main_bn[0]
    assert pos[by_name["input"]] == (0.0, 0.0)

"""Undo and redo: every edit is a command, undo restores the model exactly, the document
tracks dirtiness and settings changes."""
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netbuilder.core import templates
from netbuilder.core.params import ValidationError
from netbuilder.ui.document import Document
from netbuilder.ui.editor.commands import (AddNodesCommand, ConnectCommand, MoveNodesCommand, RemoveItemsCommand,
                                           RenameNodeCommand, SetOverridesCommand, SetParamCommand, add_node_command)


def canonical(graph) -> dict:
    """The graph's content regardless of insertion order (undo of a delete re-adds at the end)."""
    data = graph.to_dict()
    return {"nodes": sorted((n["id"], repr(n)) for n in data["nodes"]),
            "edges": sorted((e["src"], e["dst"], e["port"]) for e in data["edges"])}


def test_each_command_undoes_and_redoes_exactly(document, node_id):
    doc = document
    conv1, relu1, pool1 = (node_id(doc, n) for n in ("conv1", "relu1", "pool1"))
    commands = [
        lambda: add_node_command(doc, "Dropout", (10, 20)),
        lambda: SetParamCommand(doc, conv1, "padding", [1, 1]),
        lambda: RenameNodeCommand(doc, relu1, "act1"),
        lambda: SetOverridesCommand(doc, conv1, {"weight": "orthogonal"}, 0.5),
        lambda: MoveNodesCommand(doc, {pool1: (doc.graph.nodes[pool1].position, (5.0, 6.0))}),
        lambda: RemoveItemsCommand(doc, [relu1], []),
        lambda: RemoveItemsCommand(doc, [], [doc.graph.incoming(pool1)[0]] if doc.graph.incoming(pool1) else []),
    ]
    for make in commands:
        before = canonical(doc.graph)
        command = make()
        doc.undo_stack.push(command)
        after = canonical(doc.graph)
        doc.undo_stack.undo()
        assert canonical(doc.graph) == before, command.text()
        doc.undo_stack.redo()
        assert canonical(doc.graph) == after, command.text()


def test_connect_and_paste_commands_round_trip(empty_document):
    doc = empty_document
    records = [{"id": f"n{i}", "type": t, "name": f"x{i}", "params": {}, "position": (0.0, 100.0 * i), "init": None,
                "l2_multiplier": 1.0} for i, t in enumerate(("Input", "ReLU", "Output"), start=1)]
    doc.undo_stack.push(AddNodesCommand(doc, records, [("n1", "n2", 0)], "Paste 3 layers"))
    assert len(doc.graph.nodes) == 3 and len(doc.graph.edges) == 1
    doc.undo_stack.push(ConnectCommand(doc, "n2", "n3"))
    assert doc.analysis.nodes["n3"].errors  # cross-entropy needs class scores, not an image
    doc.undo_stack.undo()
    assert len(doc.graph.edges) == 1
    doc.undo_stack.undo()
    assert not doc.graph.nodes
    doc.undo_stack.redo()
    doc.undo_stack.redo()
    assert [(e.src, e.dst) for e in doc.graph.edges] == [("n1", "n2"), ("n2", "n3")]


def test_one_analysis_per_command(document, node_id):
    seen = []
    document.analysis_changed.connect(seen.append)
    conv2 = node_id(document, "conv2")
    document.undo_stack.push(RemoveItemsCommand(document, [conv2], []))  # a node and two edges
    assert len(seen) == 1 and seen[0] is document.analysis
    document.undo_stack.undo()
    assert len(seen) == 2


def test_dirty_state_and_saving(qtbot, document, tmp_path, node_id):
    assert not document.is_dirty
    with qtbot.waitSignal(document.dirty_changed) as dirty:
        document.undo_stack.push(SetParamCommand(document, node_id(document, "fc1"), "out_features", 100))
    assert dirty.args == [True] and document.is_dirty
    target = tmp_path / "net.nbproj"
    with qtbot.waitSignal(document.path_changed) as moved:
        document.mark_saved(target)
    assert moved.args == [Path(target)] and document.path == target and not document.is_dirty
    with qtbot.waitSignal(document.dirty_changed) as dirty:
        document.undo_stack.undo()
    assert dirty.args == [True]
    document.undo_stack.redo()
    assert not document.is_dirty


def test_settings_changes_are_undoable_validated_and_merged(qtbot, document):
    optimizer = dict(document.project.settings["optimizer"])
    with qtbot.waitSignal(document.settings_changed) as changed:
        document.set_settings("optimizer", {**optimizer, "lr": 0.01})
    assert changed.args == ["optimizer"]
    assert document.undo_stack.undoText() == "Change optimizer"
    document.set_settings("optimizer", {**optimizer, "lr": 0.02})
    assert document.undo_stack.count() == 1  # successive edits of the learning rate merge
    document.set_settings("optimizer", {"type": "sgd"})
    assert document.project.settings["optimizer"]["momentum"] == 0.9  # defaults filled in
    assert document.undo_stack.count() == 2
    with pytest.raises(ValidationError):
        document.set_settings("optimizer", {**optimizer, "lr": -1})
    with qtbot.waitSignal(document.settings_changed):
        document.undo_stack.undo()
    assert document.project.settings["optimizer"]["lr"] == 0.02
    document.undo_stack.undo()
    assert document.project.settings["optimizer"] == optimizer


def test_project_name_is_undoable(qtbot, document):
    with qtbot.waitSignal(document.project_renamed):
        document.set_project_name("My LeNet")
    assert document.project.name == "My LeNet"
    document.undo_stack.undo()
    assert document.project.name == "LeNet-5"


def test_selection_drops_deleted_nodes(qtbot, document, node_id):
    conv1 = node_id(document, "conv1")
    document.select([conv1, "no-such-node"])
    assert document.selected_ids == [conv1]
    with qtbot.waitSignal(document.selection_changed) as changed:
        document.undo_stack.push(RemoveItemsCommand(document, [conv1], []))
    assert changed.args == [[]]


# ---------------------------------------------------------------------------- random edit sequences
_TYPES = ["Conv2d", "ReLU", "MaxPool2d", "Linear", "Add", "Flatten", "BatchNorm", "Dropout"]
_edit = st.tuples(st.sampled_from(["add", "connect", "param", "delete", "move", "rename", "override"]),
                  st.integers(0, 10_000), st.integers(0, 10_000), st.sampled_from(_TYPES))


def _apply(doc, op, a, b, type_name) -> None:
    graph = doc.graph
    ids = list(graph.nodes)
    pick = lambda k: ids[k % len(ids)]  # noqa: E731
    push = doc.undo_stack.push
    if op == "add" or not ids:
        push(add_node_command(doc, type_name, (a % 500, b % 500)))
    elif op == "connect":
        src, dst = pick(a), pick(b)
        if graph.can_connect(src, dst)[0]:
            push(ConnectCommand(doc, src, dst))
    elif op == "param":
        node = graph.nodes[pick(a)]
        ints = [p for p in node.spec.params if p.kind == "int" and not p.allow_auto and p.maximum]
        if ints:
            spec = ints[b % len(ints)]
            push(SetParamCommand(doc, node.id, spec.name, int(spec.minimum or 0) + b % 7 + 1))
    elif op == "delete":
        push(RemoveItemsCommand(doc, [pick(a)], []))
    elif op == "move":
        nid = pick(a)
        push(MoveNodesCommand(doc, {nid: (graph.nodes[nid].position, (float(a % 300), float(b % 300)))}))
    elif op == "rename":
        nid = pick(a)
        name = f"layer_{b}"
        if graph.node_by_name(name) is None:
            push(RenameNodeCommand(doc, nid, name))
    else:
        push(SetOverridesCommand(doc, pick(a), {"weight": "xavier-uniform"} if b % 2 else None, (b % 5) / 2))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(_edit, min_size=1, max_size=15))
def test_any_edit_sequence_undoes_to_the_start_and_redoes_to_the_end(qtbot, edits):
    doc = Document(templates.build("mlp"))
    start = canonical(doc.graph)
    for edit in edits:
        _apply(doc, *edit)
    end = canonical(doc.graph)
    end_analysis = [(p.severity, p.message) for p in doc.analysis.problems]
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    assert canonical(doc.graph) == start
    assert doc.analysis.ok
    while doc.undo_stack.canRedo():
        doc.undo_stack.redo()
    assert canonical(doc.graph) == end
    assert sorted(p.message for p in doc.analysis.problems) == sorted(m for _, m in end_analysis)
    doc.detach()

"""The canvas: adding layers from the palette, connecting ports, editing, selection and view."""
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent, QGuiApplication
from PySide6.QtTest import QTest

from netbuilder.ui.editor import LAYER_MIME_TYPE, PaletteWidget
from netbuilder.ui.editor.commands import SetParamCommand, add_node_command


def _drop(view, mime: QMimeData, pos: QPoint) -> QDropEvent:
    event = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    view.dropEvent(event)
    return event


def _add(document, type_name, x, y, **params):
    command = add_node_command(document, type_name, (x, y))
    document.undo_stack.push(command)
    nid = command.node_ids[0]
    for key, value in params.items():
        document.undo_stack.push(SetParamCommand(document, nid, key, value))
    return nid


def _drag(viewport, start: QPoint, end: QPoint, steps: int = 4):
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, steps + 1):
        QTest.mouseMove(viewport, start + (end - start) * (i / steps))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


# ---------------------------------------------------------------------------- palette
def test_dragging_from_the_palette_creates_a_node(qtbot, editor, document):
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    mime = palette.tree.mimeData([palette._layer_items["Conv2d"]])
    assert mime.hasFormat(LAYER_MIME_TYPE)
    before = set(document.graph.nodes)
    target = editor.view.viewport().rect().center() + QPoint(150, 40)
    event = _drop(editor.view, mime, target)

    assert event.isAccepted()
    added = set(document.graph.nodes) - before
    assert len(added) == 1
    node = document.graph.nodes[added.pop()]
    assert node.type == "Conv2d"
    expected = editor.view.mapToScene(target)
    assert abs(node.position[0] - expected.x()) < 1 and abs(node.position[1] - expected.y()) < 1
    assert document.selected_ids == [node.id]
    assert node.id in editor.scene.node_items
    document.undo_stack.undo()
    assert node.id not in document.graph.nodes and node.id not in editor.scene.node_items


def test_double_click_in_the_palette_adds_at_the_view_centre(qtbot, editor, document):
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    palette.show()
    palette.add_requested.connect(editor.add_node_at_center)
    item = palette._layer_items["Linear"]
    palette.tree.scrollToItem(item)
    rect = palette.tree.visualItemRect(item)
    with qtbot.waitSignal(palette.add_requested) as signal:
        # Item views act on a double click only after the press that starts it.
        QTest.mouseClick(palette.tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         rect.center())
        QTest.mouseDClick(palette.tree.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                          rect.center())
    assert signal.args == ["Linear"]
    node = document.graph.nodes[document.selected_ids[0]]
    centre = editor.view.mapToScene(editor.view.viewport().rect().center())
    assert node.type == "Linear"
    assert abs(node.position[0] - centre.x()) <= 61 and abs(node.position[1] - centre.y()) <= 61


def test_palette_is_grouped_searchable_and_explains_layers(qtbot):
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    assert list(palette._category_items) == ["Input/Output", "Convolution", "Pooling", "Dense", "Recurrent",
                                             "Normalization", "Activation", "Regularization", "Merge"]
    assert "floor((in + 2p" in palette._layer_items["Conv2d"].toolTip(0)

    palette.search.setText("pool")
    visible = palette.visible_types()
    assert "MaxPool2d" in visible and "AdaptiveAvgPool2d" in visible and "Conv2d" not in visible
    assert palette._category_items["Recurrent"].isHidden()
    with qtbot.waitSignal(palette.add_requested) as signal:
        QTest.keyClick(palette.search, Qt.Key.Key_Return)
    assert "Pool" in signal.args[0]
    palette.search.clear()
    assert "Conv2d" in palette.visible_types()


def test_empty_canvas_accepts_drops(qtbot, empty_document):
    from netbuilder.ui.editor import EditorWidget
    editor = EditorWidget(empty_document)
    qtbot.addWidget(editor)
    mime = QMimeData()
    mime.setData(LAYER_MIME_TYPE, b"Input")
    _drop(editor.view, mime, QPoint(50, 50))
    assert [n.type for n in empty_document.graph.nodes.values()] == ["Input"]


# ---------------------------------------------------------------------------- connecting
def test_connecting_ports_by_mouse_adds_an_edge_and_updates_shapes(qtbot, editor, empty_document, port_pos):
    editor.set_document(empty_document)
    doc = empty_document
    source = _add(doc, "Input", 0, 0)
    conv = _add(doc, "Conv2d", 0, 200)
    editor.fit_to_view()
    conv_item = editor.scene.node_items[conv]
    assert conv_item.content.shape == "—"

    _drag(editor.view.viewport(), port_pos(editor, "input1", "out"), port_pos(editor, "conv1", "in"))

    assert [(e.src, e.dst) for e in doc.graph.edges] == [(source, conv)]
    edge_item = next(iter(editor.scene.edge_items.values()))
    assert edge_item.label == "1×28×28"
    assert conv_item.content.shape == "16×26×26"
    assert doc.undo_stack.undoText().startswith("Connect input1")
    doc.undo_stack.undo()
    assert not doc.graph.edges and not editor.scene.edge_items
    assert conv_item.content.shape == "—"


def test_illegal_targets_are_dimmed_while_dragging(qtbot, editor, document, node_id, port_pos):
    viewport = editor.view.viewport()
    editor.view.set_zoom(0.5)
    editor.center_on_node(node_id(document, "relu2"))
    start = port_pos(editor, "conv2", "out")
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, start + QPoint(40, 30))
    items = {document.graph.nodes[nid].name: item for nid, item in editor.scene.node_items.items()}
    assert editor.scene.is_connecting
    assert items["input"].dimmed          # no input at all
    assert items["conv1"].dimmed          # would make a cycle
    assert items["relu2"].dimmed          # already connected / single input taken
    assert items["output"].dimmed         # single input already taken
    assert not items["conv2"].dimmed      # the source itself stays lit
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(40, 30))
    assert not editor.scene.is_connecting
    assert not any(item.dimmed for item in items.values())


def test_an_illegal_connection_is_refused_with_a_message(qtbot, editor, document, node_id, port_pos):
    edges_before = list(document.graph.edges)
    count_before = document.undo_stack.count()
    editor.view.set_zoom(0.5)
    editor.center_on_node(node_id(document, "relu1"))
    with qtbot.waitSignal(document.message) as signal:
        _drag(editor.view.viewport(), port_pos(editor, "conv1", "out"), port_pos(editor, "pool1", "in"))
    assert "takes a single input and already receives relu1" in signal.args[0]
    assert document.graph.edges == edges_before
    assert document.undo_stack.count() == count_before

    # A cycle is refused too, through the same path the mouse takes.
    with qtbot.waitSignal(document.message) as signal:
        assert not editor.scene.connect_nodes(node_id(document, "relu1"), node_id(document, "conv1"))
    assert "cycle" in signal.args[0] or "single input" in signal.args[0]


def test_dragging_from_an_input_port_connects_backwards(qtbot, editor, empty_document, port_pos):
    editor.set_document(empty_document)
    doc = empty_document
    source = _add(doc, "Input", 0, 0, kind="vector", features=20)
    dense = _add(doc, "Linear", 250, 200)
    editor.fit_to_view()
    _drag(editor.view.viewport(), port_pos(editor, "fc1", "in"), port_pos(editor, "input1", "out"))
    assert [(e.src, e.dst) for e in doc.graph.edges] == [(source, dense)]


def test_merge_nodes_take_many_edges_on_one_port(qtbot, editor, empty_document):
    editor.set_document(empty_document)
    doc = empty_document
    a = _add(doc, "Input", 0, 0, kind="vector", features=8)
    b = _add(doc, "Linear", -150, 150, out_features=8)
    c = _add(doc, "Linear", 150, 150, out_features=8)
    add = _add(doc, "Add", 0, 300)
    for src, dst in ((a, b), (a, c), (b, add), (c, add)):
        assert editor.scene.connect_nodes(src, dst)
    merge_item = editor.scene.node_items[add]
    assert merge_item.input_port.multi
    ends = sorted(item.boundingRect().center().x() for e, item in editor.scene.edge_items.items() if e.dst == add)
    assert len(ends) == 2 and ends[0] < ends[1]
    assert merge_item.content.shape == "8"


# ---------------------------------------------------------------------------- editing
def test_delete_removes_nodes_with_their_edges_and_undo_restores_them(editor, document, node_id):
    before = document.graph.to_dict()
    conv2 = node_id(document, "conv2")
    document.select([conv2])
    editor.actions["delete"].trigger()
    assert conv2 not in document.graph.nodes
    assert all(conv2 not in (e.src, e.dst) for e in document.graph.edges)
    assert conv2 not in editor.scene.node_items
    assert len(editor.scene.edge_items) == len(document.graph.edges)
    assert document.selected_ids == []
    editor.actions["undo"].trigger()
    edge_set = lambda d: {(e["src"], e["dst"], e["port"]) for e in d["edges"]}  # noqa: E731
    assert edge_set(document.graph.to_dict()) == edge_set(before)
    assert {n["id"] for n in document.graph.to_dict()["nodes"]} == {n["id"] for n in before["nodes"]}
    assert len(editor.scene.edge_items) == len(before["edges"])


def test_a_selected_edge_can_be_deleted(editor, document, node_id):
    edge = document.graph.incoming(node_id(document, "relu1"))[0]
    editor.scene.edge_items[edge].setSelected(True)
    editor.actions["delete"].trigger()
    assert edge not in document.graph.edges
    assert document.undo_stack.undoText() == "Delete connection"
    assert "input is not connected" in " ".join(document.analysis.nodes[edge.dst].errors)


def test_copy_paste_and_duplicate_give_new_ids_unique_names_and_keep_inner_edges(editor, document, node_id):
    conv1, relu1 = node_id(document, "conv1"), node_id(document, "relu1")
    count = len(document.graph.nodes)
    document.select([conv1, relu1])
    assert editor.copy_selection()
    assert editor.actions["paste"].isEnabled()
    pasted = editor.paste()
    assert len(pasted) == 2 and not set(pasted) & {conv1, relu1}
    names = [document.graph.nodes[n].name for n in pasted]
    assert names == ["conv3", "relu5"]
    assert [(e.src, e.dst) for e in document.graph.edges if e.dst in pasted] == [(pasted[0], pasted[1])]
    assert document.graph.nodes[pasted[0]].params == document.graph.nodes[conv1].params
    assert document.selected_ids == pasted
    original = document.graph.nodes[conv1].position
    assert document.graph.nodes[pasted[0]].position == (original[0] + 30, original[1] + 30)

    duplicated = editor.duplicate_selection()
    assert [document.graph.nodes[n].name for n in duplicated] == ["conv4", "relu6"]
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert len(document.graph.nodes) == count


def test_pasting_foreign_clipboard_content_does_nothing(editor, document):
    QGuiApplication.clipboard().setText("not a network")
    assert editor.paste() == []
    assert not editor.actions["paste"].isEnabled()


def test_dragging_a_card_is_one_undoable_move(qtbot, editor, document, node_id):
    conv1 = node_id(document, "conv1")
    item = editor.scene.node_items[conv1]
    old = document.graph.nodes[conv1].position
    start = editor.view.mapFromScene(item.pos() + QPointF(-40, -25))
    _drag(editor.view.viewport(), start, start + QPoint(120, 10), steps=6)
    new = document.graph.nodes[conv1].position
    assert new != old and abs(new[0] - old[0] - 120 / editor.view.zoom) < 2
    # Its edges followed the card while it moved.
    into = editor.scene.edge_items[document.graph.incoming(conv1)[0]]
    port = item.input_port.mapToScene(QPointF(0, 0))
    assert abs(into.end.x() - port.x()) < 1 and abs(into.end.y() - port.y()) < 8
    assert document.undo_stack.count() == 1 and document.undo_stack.undoText() == "Move conv1"
    document.undo_stack.undo()
    assert document.graph.nodes[conv1].position == old
    assert item.pos() == QPointF(*old)


def test_rubber_band_selects_several_nodes(qtbot, editor, document, node_id):
    editor.view.set_zoom(0.5)
    editor.center_on_node(node_id(document, "relu1"))
    top = editor.view.mapFromScene(editor.scene.node_items[node_id(document, "conv1")].pos())
    bottom = editor.view.mapFromScene(editor.scene.node_items[node_id(document, "relu1")].pos())
    start = QPoint(top.x() - 150, top.y() - 10)
    end = QPoint(bottom.x() + 10, bottom.y() + 10)
    _drag(editor.view.viewport(), start, end, steps=8)
    assert set(document.selected_ids) == {node_id(document, "conv1"), node_id(document, "relu1")}
    editor.actions["select_all"].trigger()
    assert document.selected_ids == list(document.graph.nodes)


def test_zoom_fit_and_arrange(qtbot, editor, document, node_id):
    editor.actions["zoom_reset"].trigger()
    assert editor.view.zoom == 1.0
    editor.actions["zoom_in"].trigger()
    assert editor.view.zoom > 1.0
    editor.actions["zoom_out"].trigger()
    editor.actions["zoom_out"].trigger()
    assert editor.view.zoom < 1.0
    editor.actions["fit"].trigger()
    visible = editor.view.mapToScene(editor.view.viewport().rect()).boundingRect()
    for item in editor.scene.node_items.values():
        assert visible.contains(item.sceneBoundingRect())

    conv1 = node_id(document, "conv1")
    document.graph.move(conv1, (900.0, 900.0))
    editor.actions["arrange"].trigger()
    assert document.undo_stack.undoText() == "Arrange layout"
    assert document.graph.nodes[conv1].position != (900.0, 900.0)
    document.undo_stack.undo()
    assert document.graph.nodes[conv1].position == (900.0, 900.0)


def test_wheel_zooms_and_middle_drag_pans(qtbot, editor):
    from PySide6.QtGui import QWheelEvent
    view = editor.view
    view.zoom_reset()
    centre = QPointF(view.viewport().rect().center())
    wheel = QWheelEvent(centre, view.viewport().mapToGlobal(centre), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    view.wheelEvent(wheel)
    assert view.zoom > 1.3
    before = view.mapToScene(view.viewport().rect().center())
    viewport = view.viewport()
    start = viewport.rect().center()
    QTest.mousePress(viewport, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, start + QPoint(100, 0))
    QTest.mouseRelease(viewport, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, start + QPoint(100, 0))
    after = view.mapToScene(view.viewport().rect().center())
    assert after.x() < before.x() - 50 / view.zoom


def test_actions_carry_shortcuts(editor):
    expected = {"undo", "redo", "delete", "copy", "paste", "duplicate", "select_all", "fit", "zoom_in",
                "zoom_out", "zoom_reset", "arrange"}
    assert set(editor.actions) == expected
    for key, action in editor.actions.items():
        assert action.shortcuts(), key
    assert "Ctrl+Shift+Z" in [s.toString() for s in editor.actions["redo"].shortcuts()]
    assert editor.actions["duplicate"].shortcut().toString() == "Ctrl+D"
    assert editor.actions["fit"].shortcut().toString() == "F"


# ---------------------------------------------------------------------------- analysis on the canvas
def test_cards_and_edges_follow_every_change(editor, document, node_id):
    conv1 = node_id(document, "conv1")
    card = editor.scene.node_items[conv1]
    assert card.content.subtitle == "Conv2d 6@5×5 s1 p2"
    assert card.content.shape == "6×28×28"
    assert card.content.stats == "156 params  ·  RF 5×5"
    document.undo_stack.push(SetParamCommand(document, conv1, "out_channels", 8))
    assert card.content.subtitle == "Conv2d 8@5×5 s1 p2"
    assert card.content.shape == "8×28×28"
    out_edge = document.graph.outgoing(conv1)[0]
    assert editor.scene.edge_items[out_edge].label == "8×28×28"
    document.undo_stack.undo()
    assert editor.scene.edge_items[out_edge].label == "6×28×28"


def test_errors_are_red_on_the_node_with_the_message_in_its_tooltip(editor, document, node_id):
    conv2 = node_id(document, "conv2")
    document.undo_stack.push(SetParamCommand(document, conv2, "kernel_size", [30, 30]))
    card = editor.scene.node_items[conv2]
    assert card.content.severity == "error"
    assert "does not fit" in card.tooltip_text()
    downstream = document.graph.outgoing(conv2)[0]
    assert editor.scene.edge_items[downstream].error is False  # relu2 has no error of its own
    incoming = document.graph.incoming(conv2)[0]
    assert editor.scene.edge_items[incoming].error is True


def test_warnings_are_amber(editor, document, node_id):
    conv1 = node_id(document, "conv1")
    document.undo_stack.push(SetParamCommand(document, conv1, "stride", [4, 4]))
    assert editor.scene.node_items[conv1].content.severity == "warning"
    assert "never seen" in editor.scene.node_items[conv1].tooltip_text()


def test_issues_list_selects_and_centres_the_node(qtbot, editor, document, node_id):
    from netbuilder.ui.editor import IssuesWidget
    issues = IssuesWidget(document)
    qtbot.addWidget(issues)
    assert issues.list.count() == 0 and "No problems" in issues.summary.text()
    conv2 = node_id(document, "conv2")
    document.undo_stack.push(SetParamCommand(document, conv2, "kernel_size", [30, 30]))
    assert issues.list.count() >= 1 and "1 error" in issues.summary.text()
    item = issues.list.item(0)
    assert "conv2" in item.text()
    editor.view.set_zoom(0.3)
    with qtbot.waitSignal(document.focus_requested):
        issues.list.itemClicked.emit(item)
    assert document.selected_ids == [conv2]
    assert editor.scene.node_items[conv2].isSelected()
    visible = editor.view.mapToScene(editor.view.viewport().rect()).boundingRect()
    assert visible.contains(editor.scene.node_items[conv2].pos())


def test_changes_made_outside_commands_are_analysed_once_per_event_loop_turn(qtbot, editor, document, node_id):
    conv1 = node_id(document, "conv1")
    analyses = []
    document.analysis_changed.connect(analyses.append)
    document.graph.set_param(conv1, "out_channels", 4)
    document.graph.set_param(conv1, "out_channels", 5)
    assert analyses == []
    assert document.analysis.nodes[conv1].output_shape == (5, 28, 28)  # fresh on demand
    qtbot.waitUntil(lambda: editor.scene.node_items[conv1].content.shape == "5×28×28")
    assert len(analyses) == 1


def test_set_document_replaces_the_canvas(editor, empty_document, document):
    editor.set_document(empty_document)
    assert editor.scene.node_items == {}
    _add(empty_document, "Input", 0, 0)
    assert len(editor.scene.node_items) == 1
    # The old document no longer drives the canvas.
    document.graph.add_node("ReLU")
    assert len(editor.scene.node_items) == 1

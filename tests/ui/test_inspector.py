"""The inspector edits the selected node through undoable commands and follows the model."""
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from netbuilder.core.params import AUTO
from netbuilder.ui.editor.commands import SetParamCommand
from netbuilder.ui.editor.inspector import NodePage, SummaryPage


def _page(inspector, document, node_id, name) -> NodePage:
    document.select([node_id(document, name)])
    assert isinstance(inspector.page, NodePage)
    return inspector.page


def test_an_inspector_edit_changes_the_model_and_undo_restores_it(inspector, document, node_id):
    page = _page(inspector, document, node_id, "conv1")
    conv1 = page.node_id
    spin = page.form.editors["out_channels"].spin
    assert spin.value() == 6
    spin.setValue(12)
    assert document.graph.nodes[conv1].params["out_channels"] == 12
    assert document.analysis.nodes[conv1].output_shape == (12, 28, 28)
    assert page.fact_labels["output"].text().startswith("12×28×28")
    assert document.undo_stack.undoText() == "Change conv1 filters"
    document.undo_stack.undo()
    assert document.graph.nodes[conv1].params["out_channels"] == 6
    assert spin.value() == 6
    assert page.fact_labels["output"].text().startswith("6×28×28")


def test_typing_into_a_spin_box_commits_on_enter(qtbot, inspector, document, node_id):
    page = _page(inspector, document, node_id, "fc1")
    spin = page.form.editors["out_features"].spin
    spin.setFocus()
    spin.selectAll()
    QTest.keyClicks(spin, "64")
    assert document.graph.nodes[page.node_id].params["out_features"] == 120  # not while typing
    QTest.keyClick(spin, Qt.Key.Key_Return)
    assert document.graph.nodes[page.node_id].params["out_features"] == 64


def test_repeated_steps_of_one_spin_box_are_one_undo_step(inspector, document, node_id):
    page = _page(inspector, document, node_id, "fc1")
    spin = page.form.editors["out_features"].spin
    for _ in range(5):
        spin.stepBy(1)
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert document.graph.nodes[page.node_id].params["out_features"] == 120


def test_auto_fields_show_the_resolved_value_and_can_be_set(inspector, document, node_id):
    page = _page(inspector, document, node_id, "fc1")
    editor = page.form.editors["in_features"]
    assert editor._special.isChecked() and not editor.spin.isEnabled()
    assert editor.spin.value() == 400  # 16×5×5 flattened
    editor._special.setChecked(False)
    assert document.graph.nodes[page.node_id].params["in_features"] == 400
    assert editor.spin.isEnabled()
    editor._special.setChecked(True)
    assert document.graph.nodes[page.node_id].params["in_features"] == AUTO
    # The resolved value follows upstream changes.
    document.undo_stack.push(SetParamCommand(document, node_id(document, "conv2"), "out_channels", 8))
    assert editor.spin.value() == 200


def test_kernel_pairs_are_linked_until_unlinked(inspector, document, node_id):
    page = _page(inspector, document, node_id, "conv2")
    kernel = page.form.editors["kernel_size"]
    assert kernel.link.isChecked()
    kernel.spins[0].setValue(3)
    assert document.graph.nodes[page.node_id].params["kernel_size"] == [3, 3]
    kernel.link.setChecked(False)
    kernel.spins[1].setValue(5)
    assert document.graph.nodes[page.node_id].params["kernel_size"] == [3, 5]
    assert document.analysis.nodes[page.node_id].output_shape == (16, 12, 10)
    # Successive edits of one parameter are one undo step.
    document.undo_stack.undo()
    assert document.graph.nodes[page.node_id].params["kernel_size"] == [5, 5]
    assert kernel.link.isChecked() and [s.value() for s in kernel.spins] == [5, 5]


def test_rows_follow_visible_if(inspector, document, node_id):
    page = _page(inspector, document, node_id, "input")
    assert page.form.visible_names() == ["kind", "channels", "height", "width"]
    combo = page.form.editors["kind"].combo
    combo.setCurrentIndex(combo.findData("sequence"))
    assert document.graph.nodes[page.node_id].params["kind"] == "sequence"
    assert page.form.visible_names() == ["kind", "features", "length"]
    document.undo_stack.undo()
    assert page.form.visible_names() == ["kind", "channels", "height", "width"]


def test_errors_show_in_the_inspector(inspector, document, node_id):
    page = _page(inspector, document, node_id, "conv2")
    assert page.problems.isHidden()
    page.form.editors["kernel_size"].spins[0].setValue(30)
    assert not page.problems.isHidden() and "does not fit" in page.problems.text()


def test_rename_is_undoable_and_bad_names_are_refused(qtbot, inspector, document, node_id):
    page = _page(inspector, document, node_id, "conv1")
    page.name_edit.setText("features")
    page.name_edit.editingFinished.emit()
    assert document.graph.nodes[page.node_id].name == "features"
    with qtbot.waitSignal(document.message) as signal:
        page.name_edit.setText("relu1")
        page.name_edit.editingFinished.emit()
    assert "already used" in signal.args[0]
    assert page.name_edit.text() == "features"
    with qtbot.waitSignal(document.message):
        page.name_edit.setText("2fast")
        page.name_edit.editingFinished.emit()
    document.undo_stack.undo()
    assert document.graph.nodes[page.node_id].name == "conv1"
    assert page.name_edit.text() == "conv1"


def test_initialization_and_l2_overrides_are_undoable(inspector, document, node_id):
    page = _page(inspector, document, node_id, "fc1")
    node = document.graph.nodes[page.node_id]
    assert not page.overrides.isHidden() and page.init_form.isHidden()
    page.custom_init.setChecked(True)
    assert node.init == document.project.settings["initialization"]
    assert not page.init_form.isHidden()
    weight = page.init_form.editors["weight"].combo
    weight.setCurrentIndex(weight.findData("kaiming-normal"))
    assert node.init["weight"] == "kaiming-normal"
    assert "mode" in page.init_form.visible_names()
    page.l2_spin.setValue(0.0)
    assert node.l2_multiplier == 0.0
    document.undo_stack.undo()
    assert node.l2_multiplier == 1.0 and page.l2_spin.value() == 1.0
    document.undo_stack.undo()
    assert node.init["weight"] == "default"
    document.undo_stack.undo()
    assert node.init is None and not page.custom_init.isChecked() and page.init_form.isHidden()


def test_overrides_are_hidden_for_layers_without_weights(inspector, document, node_id):
    page = _page(inspector, document, node_id, "relu1")
    assert page.overrides.isHidden()


def test_no_selection_shows_the_network_summary(inspector, document, node_id):
    document.select([])
    assert isinstance(inspector.page, SummaryPage)
    assert "61,706 parameters" in inspector.page.body.text()
    document.select([node_id(document, "conv1"), node_id(document, "conv2")])
    assert "2 layers selected" in inspector.page.title.text()
    # Deleting the shown node leaves the page cleanly.
    document.select([node_id(document, "conv1")])
    from netbuilder.ui.editor.commands import RemoveItemsCommand
    document.undo_stack.push(RemoveItemsCommand(document, [node_id(document, "conv1")], []))
    assert isinstance(inspector.page, SummaryPage)


def test_float_spin_boxes_read_scientific_notation(inspector, document, node_id):
    from netbuilder.ui.editor.commands import add_node_command
    command = add_node_command(document, "BatchNorm", (0, 0))
    document.undo_stack.push(command)
    page = _page(inspector, document, lambda d, n: command.node_ids[0], None)
    eps = page.form.editors["eps"].spin
    assert eps.text() == "1e-05"
    eps.lineEdit().setText("2e-3")
    eps.interpretText()
    assert document.graph.nodes[page.node_id].params["eps"] == 0.002
    eps.stepBy(1)
    assert document.graph.nodes[page.node_id].params["eps"] == 0.005

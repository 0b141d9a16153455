"""The configuration panels: every project setting has a widget, a widget edit writes its
section through one undoable step, undo restores both the model and the widget, and the
previews (learning-rate curve, augmentation, devices, data location) show what they should."""
import copy

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from netbuilder.core import templates
from netbuilder.core.settings import OPTIMIZERS, SCHEDULES, default_settings, variant_specs
from netbuilder.ui.devices import DeviceReport
from netbuilder.ui.document import Document
from netbuilder.ui.panels import PANEL_CLASSES, SettingsPanels, SummaryPanel
from netbuilder.ui.panels.augmentation_preview import AugmentationPreview
from netbuilder.ui.panels.data_panel import DataPanel
from netbuilder.ui.panels.fields import (BoolField, ChoiceField, FloatField, IntField, ListField, PathField,
                                         TextField)
from netbuilder.ui.panels.form import SettingsForm
from netbuilder.ui.panels.lr_preview import estimate_steps_per_epoch
from netbuilder.ui.panels.training_panel import TrainingPanel
from netbuilder.ui.spin_boxes import nice_step


@pytest.fixture
def doc(qtbot):
    document = Document(templates.build("lenet5"))
    yield document
    document.detach()


@pytest.fixture
def panels(qtbot, doc):
    widget = SettingsPanels(doc)
    qtbot.addWidget(widget)
    widget.resize(380, 900)
    return widget


def bound_forms(panel):
    """(form, section, key) for every form of a panel bound to the project settings."""
    return [(b.form, b.section, b.key) for b in panel._bindings]


def edit_like_a_user(field, spec, current):
    """Change `field` through its widget to a valid value other than `current`; return that value."""
    if isinstance(field, BoolField):
        field.check.click()
        return not current
    if isinstance(field, ChoiceField):
        index = (field.combo.currentIndex() + 1) % field.combo.count()
        field.combo.setCurrentIndex(index)
        return field.combo.itemData(index)
    if isinstance(field, IntField):
        if current is None:
            new = int(spec.minimum if spec.minimum is not None else 0) + 7
        else:
            new = current + 1 if spec.maximum is None or current + 1 <= spec.maximum else current - 1
        field.spin.setValue(new)
        return new
    if isinstance(field, FloatField):
        high = spec.maximum if spec.maximum is not None else current + 2
        new = round((current + high) / 2, 6) if high > current else round(current / 2, 6)
        field.spin.setValue(new)
        return field.spin.value()
    if isinstance(field, ListField):
        new = [3, 6] if spec.kind == "int_list" else [1.0, 0.5]
        field.edit.setText(", ".join(str(v) for v in new))
        field.edit.editingFinished.emit()
        return new
    if isinstance(field, (PathField, TextField)):
        new = "/data/somewhere" if isinstance(field, PathField) else f"{current or ''}x"
        field.edit.setText(new)
        field.edit.editingFinished.emit()
        return new
    raise AssertionError(f"no way to edit {type(field).__name__}")


def read(doc, section, key, name):
    value = doc.project.settings[section]
    return (value[key] if key else value)[name]


# --------------------------------------------------------------------------- coverage of the schema
def test_every_project_setting_has_a_widget(panels):
    shown = {}
    for panel in panels.panels.values():
        for form, section, key in bound_forms(panel):
            shown.setdefault((section, key), set()).update(form.fields)
    defaults = default_settings()
    for section, value in defaults.items():
        if section in ("optimizer", "schedule"):
            continue  # tagged: checked per type below
        plain = {k for k in value if k != "augmentation"}
        assert plain <= shown.get((section, None), set()), f"{section} lacks widgets for {plain - shown[(section, None)]}"
    assert set(defaults["data"]["augmentation"]) <= shown[("data", "augmentation")]
    for section, table in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES)):
        panel = panels.panels[section]
        for kind in table:
            form = panel._form_for(kind)
            assert {s.name for s in variant_specs(section, kind)} == set(form.fields)
            assert panel.type_combo.findData(kind) >= 0


# --------------------------------------------------------------------------- every widget writes, undo restores
def _plain_cases():
    cases = []
    panel_classes = {name: cls for name, cls in PANEL_CLASSES.items() if name not in ("optimizer", "schedule")}
    from netbuilder.core.settings import (AUGMENTATION_SPECS, DATA_SPECS, INIT_SPECS, REGULARIZATION_SPECS,
                                          TRAINING_SPECS)
    specs = {"data": DATA_SPECS, "initialization": INIT_SPECS, "regularization": REGULARIZATION_SPECS,
             "training": TRAINING_SPECS}
    for panel_name in panel_classes:
        for spec in specs[panel_name]:
            cases.append((panel_name, "data" if panel_name == "data" else panel_name, None, spec.name))
    cases += [("data", "data", "augmentation", s.name) for s in AUGMENTATION_SPECS]
    cases.append(("regularization", "data", "augmentation", "mixup"))
    return cases


@pytest.mark.parametrize("panel_name,section,key,name", _plain_cases())
def test_a_widget_edit_writes_its_section_and_undo_restores_it(panels, doc, panel_name, section, key, name):
    panel = panels.panels[panel_name]
    form = next(f for f, s, k in bound_forms(panel) if s == section and k == key and name in f.fields)
    field = form.fields[name]
    before = copy.deepcopy(doc.project.settings[section])
    old = read(doc, section, key, name)
    new = edit_like_a_user(field, field.spec, old)
    assert read(doc, section, key, name) == new, f"{section}.{name} did not change"
    assert doc.is_dirty
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert doc.project.settings[section] == before
    assert field.value() == old
    doc.undo_stack.redo()
    assert read(doc, section, key, name) == new


@pytest.mark.parametrize("section,table", [("optimizer", OPTIMIZERS), ("schedule", SCHEDULES)])
def test_tagged_sections_switch_type_and_edit_each_hyperparameter(panels, doc, section, table):
    panel = panels.panels[section]
    for kind in table:
        if doc.project.settings[section]["type"] != kind:
            before = copy.deepcopy(doc.project.settings[section])
            panel.type_combo.setCurrentIndex(panel.type_combo.findData(kind))
            assert doc.project.settings[section]["type"] == kind
            doc.undo_stack.undo()
            assert doc.project.settings[section] == before
            assert panel.type_combo.currentData() == before["type"]
            doc.undo_stack.redo()
        assert panel.form is panel.forms[kind] and panel.form.isVisibleTo(panel)
        for spec in variant_specs(section, kind):
            if kind == "piecewise" and spec.name == "factors":
                continue  # their count follows the milestones: tested below
            field = panel.form.fields[spec.name]
            old = doc.project.settings[section][spec.name]
            new = edit_like_a_user(field, spec, old)
            assert doc.project.settings[section][spec.name] == new, f"{kind}.{spec.name}"
            doc.undo_stack.undo()
            assert doc.project.settings[section][spec.name] == old
            assert field.value() == old


def test_switching_optimizer_takes_its_own_defaults(panels, doc):
    panel = panels.panels["optimizer"]
    panel.type_combo.setCurrentIndex(panel.type_combo.findData("sgd"))
    assert doc.project.settings["optimizer"] == {"type": "sgd", "lr": 0.01, "momentum": 0.9, "dampening": 0.0,
                                                 "nesterov": False}
    assert doc.undo_stack.undoText() == "Change optimizer"


def test_learning_rate_steps_along_one_two_five(panels, doc):
    field = panels.panels["optimizer"].form.fields["lr"]
    assert field.spin.value() == pytest.approx(0.001)
    field.spin.stepBy(1)
    assert doc.project.settings["optimizer"]["lr"] == pytest.approx(0.002)
    field.spin.stepBy(2)
    assert doc.project.settings["optimizer"]["lr"] == pytest.approx(0.01)
    assert nice_step(0.01, -1) == pytest.approx(0.005)
    # Successive steps of one setting merge into one undo step.
    doc.undo_stack.undo()
    assert doc.project.settings["optimizer"]["lr"] == pytest.approx(0.001)


def test_typing_a_learning_rate_in_scientific_notation(qtbot, panels, doc):
    panels.show_section("optimizer")
    panels.show()
    spin = panels.panels["optimizer"].form.fields["lr"].spin
    spin.setFocus()
    spin.selectAll()
    QTest.keyClicks(spin, "3e-4")
    assert doc.project.settings["optimizer"]["lr"] == pytest.approx(0.001)  # not while typing
    QTest.keyClick(spin, Qt.Key.Key_Return)
    assert doc.project.settings["optimizer"]["lr"] == pytest.approx(3e-4)


def test_rows_follow_visible_if(panels, doc):
    form = panels.panels["regularization"].form
    assert "patience" not in form.visible_names()
    form.fields["early_stopping"].check.click()
    assert {"patience", "es_metric", "min_delta", "restore_best"} <= set(form.visible_names())
    doc.undo_stack.undo()
    assert "patience" not in form.visible_names()
    data_form = panels.panels["data"].form
    assert "toy_points" not in data_form.visible_names() and "root" in data_form.visible_names()
    data_form.fields["dataset"].combo.setCurrentIndex(data_form.fields["dataset"].combo.findData("toy-2d"))
    assert {"toy_generator", "toy_points", "toy_noise", "toy_seed"} <= set(data_form.visible_names())
    assert "root" not in data_form.visible_names()


def test_none_values_show_and_write(panels, doc):
    limit = panels.panels["data"].form.fields["limit"]
    assert limit.spin.text() == "all"
    limit.spin.setValue(500)
    assert doc.project.settings["data"]["limit"] == 500
    limit.spin.setValue(limit.spin.minimum())
    assert doc.project.settings["data"]["limit"] is None
    root = panels.panels["data"].form.fields["root"]
    root.edit.setText("/some/folder")
    root.edit.editingFinished.emit()
    assert doc.project.settings["data"]["root"] == "/some/folder"
    root.edit.clear()
    root.edit.editingFinished.emit()
    assert doc.project.settings["data"]["root"] is None


def test_an_invalid_list_is_flagged_not_written(panels, doc):
    panel = panels.panels["schedule"]
    panel.type_combo.setCurrentIndex(panel.type_combo.findData("piecewise"))
    milestones = panel.form.fields["milestones"]
    milestones.edit.setText("5, x")
    milestones.edit.editingFinished.emit()
    assert milestones.edit.property("invalid") is True
    assert doc.project.settings["schedule"]["milestones"] == [10, 20]


def test_piecewise_factors_follow_the_milestones(panels, doc):
    panel = panels.panels["schedule"]
    panel.type_combo.setCurrentIndex(panel.type_combo.findData("piecewise"))
    milestones = panel.form.fields["milestones"]
    milestones.edit.setText("5, 10, 15")
    milestones.edit.editingFinished.emit()
    assert doc.project.settings["schedule"]["milestones"] == [5, 10, 15]
    assert doc.project.settings["schedule"]["factors"] == pytest.approx([1.0, 0.1, 0.01, 0.001])
    factors = panel.form.fields["factors"]
    factors.edit.setText("1, 0.5")
    factors.edit.editingFinished.emit()
    assert doc.project.settings["schedule"]["factors"] == pytest.approx([1.0, 0.1, 0.01, 0.001])
    assert factors.edit.property("invalid") is True
    factors.edit.setText("1, 0.5, 0.25, 0.125")
    factors.edit.editingFinished.emit()
    assert doc.project.settings["schedule"]["factors"] == [1.0, 0.5, 0.25, 0.125]


def test_panels_follow_the_document_and_a_new_document(panels, doc, qtbot):
    doc.set_settings("training", {**doc.project.settings["training"], "epochs": 33})
    assert panels.panels["training"].form.fields["epochs"].spin.value() == 33
    other = Document(templates.build("playground"))
    panels.set_document(other)
    assert panels.panels["data"].form.fields["dataset"].combo.currentData() == "toy-2d"
    other.set_settings("optimizer", {**other.project.settings["optimizer"], "lr": 0.5})
    assert panels.panels["optimizer"].form.fields["lr"].spin.value() == 0.5
    doc.set_settings("training", {**doc.project.settings["training"], "epochs": 44})  # the old one no longer shows
    assert panels.panels["training"].form.fields["epochs"].spin.value() == other.project.settings["training"]["epochs"]
    other.detach()


# --------------------------------------------------------------------------- previews
def test_schedule_preview_plots_the_planned_run(qtbot, panels, doc):
    panels.show_section("schedule")
    panels.show()
    qtbot.waitExposed(panels)
    panel = panels.panels["schedule"]
    preview = panel.preview
    assert preview.curve is not None
    xs, ys = preview.curve.getData()
    assert xs[-1] == pytest.approx(10) and set(np.round(ys, 9)) == {0.001}
    panel.type_combo.setCurrentIndex(panel.type_combo.findData("step"))
    xs, ys = preview.curve.getData()
    assert ys[0] == pytest.approx(0.001) and ys[-1] == pytest.approx(0.001 * 0.5 ** 1)
    doc.set_settings("training", {**doc.project.settings["training"], "epochs": 20})
    xs, ys = preview.curve.getData()
    assert xs[-1] == pytest.approx(20) and ys[-1] == pytest.approx(0.001 * 0.5 ** 3)
    # Per-batch cosine with warm-up: starts near 0, peaks at the base rate, ends at the floor.
    schedule = {"type": "cosine", "interval": "batch", "warmup": 100, "min_fraction": 0.1}
    doc.set_settings("schedule", schedule)
    xs, ys = preview.curve.getData()
    assert ys[0] < 1e-4 and max(ys) == pytest.approx(0.001, rel=1e-3) and ys[-1] == pytest.approx(1e-4, rel=0.05)
    assert "batches per epoch" in preview.summary.text()
    preview.log_y.setChecked(True)
    assert preview.plot.getPlotItem().ctrl.logYCheck.isChecked()


def test_steps_per_epoch_estimate():
    settings = templates.build("lenet5").settings
    steps, how = estimate_steps_per_epoch(settings)
    assert steps == 844 and "54,000 samples" in how
    settings["data"]["limit"] = 640
    assert estimate_steps_per_epoch(settings)[0] == 10


def test_device_list_shows_what_this_computer_has(qtbot, doc):
    report = DeviceReport(available={"cpu": "CPU, 2 cores"}, auto="cpu")
    panel = TrainingPanel(doc, device_probe=lambda: report)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.devices is not None)
    combo = panel.device_combo
    texts = {combo.itemData(i): combo.itemText(i) for i in range(combo.count())}
    assert texts["auto"] == "Automatic (CPU here)"
    assert "not on this computer" in texts["cuda"] and "not on this computer" in texts["mps"]
    assert "CPU, 2 cores" in panel.device_status.text()
    combo.setCurrentIndex(combo.findData("cuda"))
    assert doc.project.settings["training"]["device"] == "cuda"
    assert "not available" in panel.device_status.text()


def test_device_probe_finds_the_cpu(qtbot, doc):
    panel = TrainingPanel(doc)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.devices is not None, timeout=30_000)
    assert "cpu" in panel.devices.available


def test_data_panel_says_whether_the_data_was_found(qtbot, doc):
    seen = []

    def locator(data, project_dir):
        seen.append(data["dataset"])
        return ("ok", "Found in /data/fm") if data["dataset"] == "fashion-mnist" else ("missing", "Not here.")

    panel = DataPanel(doc, locator=locator)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: "Found in /data/fm" in panel.location.text())
    panel.form.fields["dataset"].combo.setCurrentIndex(panel.form.fields["dataset"].combo.findData("mnist"))
    qtbot.waitUntil(lambda: "Not here." in panel.location.text())
    assert panel.location.property("role") == "status-warning"


def test_augmentation_preview_shows_originals_and_augmentations(qtbot, doc):
    calls = []

    def sampler(data, project_dir):
        return np.zeros((4, 1, 8, 8), np.float32) + np.arange(8, dtype=np.float32), "the first training images"

    def augmenter(augmentation, images, seed):
        calls.append((dict(augmentation), seed))
        return images[:, :, :, ::-1] if augmentation["hflip"] else images

    preview = AugmentationPreview(sampler=sampler, augmenter=augmenter)
    qtbot.addWidget(preview)
    preview.set_source(doc.project.settings["data"], None)
    preview.show()
    assert not preview.grid.isVisibleTo(preview)  # nothing loads until asked
    preview.start()
    qtbot.waitUntil(lambda: bool(preview.grid.rows))
    assert [title for title, _ in preview.grid.rows] == ["Original", "Augmented", "Augmented again"]
    assert len(preview.grid.rows[0][1]) == 4
    assert "No augmentation is switched on" in preview.status.text()
    data = copy.deepcopy(doc.project.settings["data"])
    data["augmentation"]["hflip"] = True
    preview.set_source(data, None)
    qtbot.waitUntil(lambda: any(a["hflip"] for a, _ in calls))
    assert "new random changes" in preview.status.text()
    preview.draw_again()
    qtbot.waitUntil(lambda: calls[-1][1] >= 2)


# --------------------------------------------------------------------------- summary
def test_summary_lists_every_layer_with_totals(qtbot, doc):
    panel = SummaryPanel(doc)
    qtbot.addWidget(panel)
    assert panel.table.rowCount() == len(doc.graph.nodes)
    names = [panel.table.item(r, 1).text() for r in range(panel.table.rowCount())]
    assert names[0] == "input" and names[-1] == "output"
    conv1 = names.index("conv1")
    assert panel.table.item(conv1, 3).text() == "6×28×28"
    assert panel.table.item(conv1, 4).text() == "156"
    assert panel.table.item(conv1, 6).text() == "5×5"
    assert "61,706" in panel.totals.text()
    assert "total parameters:     61,706" in panel.as_text()
    panel.table.selectRow(conv1)
    assert doc.selected_ids == [doc.graph.node_by_name("conv1").id]
    doc.select([doc.graph.node_by_name("fc1").id])
    selected = panel.table.selectionModel().selectedRows()
    assert [panel.table.item(i.row(), 1).text() for i in selected] == ["fc1"]


def test_summary_follows_edits(qtbot, doc):
    from netbuilder.ui.editor.commands import SetParamCommand
    panel = SummaryPanel(doc)
    qtbot.addWidget(panel)
    conv1 = doc.graph.node_by_name("conv1").id
    doc.undo_stack.push(SetParamCommand(doc, conv1, "out_channels", 3))
    qtbot.waitUntil(lambda: "61,706" not in panel.totals.text())
    row = [panel.table.item(r, 1).text() for r in range(panel.table.rowCount())].index("conv1")
    assert panel.table.item(row, 3).text() == "3×28×28"


def test_form_builds_one_field_per_kind(qtbot):
    from netbuilder.core.params import ParamSpec as P
    specs = [P("a", "int", 1, minimum=0), P("b", "float", 0.5), P("c", "bool", True), P("d", "choice", "x", choices=("x", "y")),
             P("e", "int_list", [1]), P("f", "float_list", [1.0]), P("g", "str", "s"), P("h", "path", None, allow_none=True)]
    form = SettingsForm(specs)
    qtbot.addWidget(form)
    kinds = [type(form.fields[s.name]).__name__ for s in specs]
    assert kinds == ["IntField", "FloatField", "BoolField", "ChoiceField", "ListField", "ListField", "TextField",
                     "PathField"]
    form.set_values({"a": 3, "b": 0.25, "c": False, "d": "y", "e": [4, 5], "f": [0.5], "g": "t", "h": None})
    assert form.values() == {"a": 3, "b": 0.25, "c": False, "d": "y", "e": [4, 5], "f": [0.5], "g": "t", "h": None}


def test_augmentation_preview_of_the_real_data(qtbot, doc):
    pytest.importorskip("netbuilder.train.augment")
    from netbuilder.train.data import find_dataset_root
    try:
        find_dataset_root("fashion-mnist")
    except ValueError:
        pytest.skip("Fashion-MNIST is not on this computer")
    data = copy.deepcopy(doc.project.settings["data"])
    data["augmentation"].update(rotation=30.0, hflip=True)
    preview = AugmentationPreview()
    qtbot.addWidget(preview)
    preview.set_source(data, None)
    preview.start()
    qtbot.waitUntil(lambda: bool(preview.grid.rows) or "not available" in preview.status.text(), timeout=30_000)
    assert "first training images" in preview.status.text()
    originals = preview.grid.rows[0][1]
    assert len(originals) == 6 and originals[0].width() == 28


def test_the_probe_answers_from_a_child_process(qtbot, tmp_path):
    """Until torch is loaded, device and data questions go to a short-lived child process."""
    from netbuilder.ui import probe
    answers = []
    probe.ProbeProcess(["locate", '{"dataset": "npz", "path": "missing.npz"}', str(tmp_path)], answers.append,
                       answers.append)
    qtbot.waitUntil(lambda: bool(answers), timeout=30_000)
    assert answers[0] == {"status": "missing", "message": f"{tmp_path / 'missing.npz'} does not exist."}
    failures = []
    probe.ProbeProcess(["nonsense"], failures.append, failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=30_000)
    assert "usage" in failures[0]

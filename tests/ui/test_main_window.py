"""The main window: files (new, open, save, save as, recent, unsaved changes), the title, menus
and shortcuts, the status bar, the code viewer and the theme."""
import json

import pytest
from PySide6.QtGui import QKeySequence, QPalette
from PySide6.QtWidgets import QApplication

from netbuilder.core import templates
from netbuilder.core.project import Project
from netbuilder.ui import files
from netbuilder.ui import main_window as mw
from netbuilder.ui.dialogs import EMPTY, TemplateGallery
from netbuilder.ui.document import Document
from netbuilder.ui.editor.commands import SetParamCommand
from netbuilder.ui.theme import ThemeManager


def keep(qtbot, win):
    """Register a window for closing after the test, without the unsaved-changes question."""
    qtbot.addWidget(win, before_close_func=lambda w: setattr(w, "_skip_unsaved_prompt", True))
    return win


@pytest.fixture
def window(qtbot):
    win = keep(qtbot, mw.MainWindow(Document(templates.build("lenet5"))))
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def answers(window, monkeypatch):
    """Scripted answers to the window's questions; records which were asked."""
    asked = []
    replies = {"unsaved": mw.CANCEL}

    def ask_unsaved():
        asked.append("unsaved")
        return replies["unsaved"]

    monkeypatch.setattr(window, "ask_unsaved", ask_unsaved)
    monkeypatch.setattr(window, "show_error", lambda title, text: asked.append(("error", text)))
    return replies, asked


def edit(document, name="conv1", key="out_channels", value=12):
    document.undo_stack.push(SetParamCommand(document, document.graph.node_by_name(name).id, key, value))


# --------------------------------------------------------------------------- save and open
def test_save_then_open_is_lossless(window, tmp_path, qtbot):
    doc = window.document
    setup = window.setup.panels
    setup["optimizer"].type_combo.setCurrentIndex(setup["optimizer"].type_combo.findData("sgd"))
    setup["optimizer"].form.fields["nesterov"].check.click()
    setup["schedule"].type_combo.setCurrentIndex(setup["schedule"].type_combo.findData("piecewise"))
    setup["regularization"].form.fields["l2"].spin.setValue(5e-4)
    setup["data"].augmentation_form.fields["rotation"].spin.setValue(12.5)
    setup["data"].form.fields["limit"].spin.setValue(2000)
    setup["initialization"].form.fields["weight"].combo.setCurrentIndex(
        setup["initialization"].form.fields["weight"].combo.findData("kaiming-normal"))
    setup["training"].form.fields["device"].combo.setCurrentIndex(
        setup["training"].form.fields["device"].combo.findData("cpu"))
    edit(doc)
    doc.set_project_name("My LeNet")
    expected = doc.project.to_dict()
    path = tmp_path / "mine"
    assert window.save_as(path)
    saved = tmp_path / "mine.nbproj"
    assert saved.exists() and not doc.is_dirty
    assert json.loads(saved.read_text())["optimizer"]["nesterov"] is True
    other = mw.MainWindow()
    keep(qtbot, other)
    assert other.open_file(saved)
    assert other.document.project.to_dict() == expected
    assert other.document.path == saved.resolve()
    # The panels show what was loaded.
    assert other.setup.panels["optimizer"].form.fields["nesterov"].check.isChecked()
    assert other.setup.panels["data"].augmentation_form.fields["rotation"].spin.value() == 12.5
    assert other.windowTitle() == "NetBuilder — mine.nbproj"


@pytest.mark.parametrize("name", templates.names())
def test_every_template_survives_save_and_open(window, tmp_path, name):
    window.new_from_template(name)
    expected = window.document.project.to_dict()
    assert window.save_as(tmp_path / f"{name}.nbproj")
    assert window.open_file(tmp_path / f"{name}.nbproj")
    assert window.document.project.to_dict() == expected


def test_save_uses_the_known_path_and_save_as_asks(window, tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(window, "ask_save_path", lambda: asked.append(1) or str(tmp_path / "picked.nbproj"))
    edit(window.document)
    assert window.save()
    assert asked == [1] and window.document.path == (tmp_path / "picked.nbproj").resolve()
    edit(window.document, value=20)
    assert window.save()
    assert asked == [1]
    assert Project.load(tmp_path / "picked.nbproj").graph.node_by_name("conv1").params["out_channels"] == 20
    monkeypatch.setattr(window, "ask_save_path", lambda: "")
    assert not window.save_as()  # cancelled


def test_an_unreadable_file_is_reported_not_opened(window, tmp_path, answers):
    _replies, asked = answers
    bad = tmp_path / "bad.nbproj"
    bad.write_text('{"format": "netbuilder-project", "schema_version": 1, "graph": {"nodes": 3}}')
    before = window.document
    assert not window.open_file(bad)
    assert window.document is before
    assert asked and asked[0][0] == "error" and "bad.nbproj" in asked[0][1]


def test_title_names_the_file_and_shows_unsaved_changes(window, tmp_path):
    assert window.windowTitle() == "NetBuilder — LeNet-5"
    edit(window.document)
    assert window.windowTitle() == "NetBuilder — LeNet-5*"
    window.save_as(tmp_path / "lenet.nbproj")
    assert window.windowTitle() == "NetBuilder — lenet.nbproj"
    window.document.undo_stack.undo()
    assert window.windowTitle() == "NetBuilder — lenet.nbproj*"
    window.document.undo_stack.redo()
    assert window.windowTitle() == "NetBuilder — lenet.nbproj"


# --------------------------------------------------------------------------- unsaved changes
def test_unsaved_changes_are_asked_about_before_they_are_lost(window, tmp_path, answers):
    replies, asked = answers
    other = tmp_path / "other.nbproj"
    templates.build("mlp").save(other)
    window.open_file(other)
    assert asked == []  # nothing unsaved: no question
    edit_doc = window.document
    edit_doc.set_settings("training", {**edit_doc.project.settings["training"], "epochs": 2})
    replies["unsaved"] = mw.CANCEL
    assert not window.new_from_template("cnn")
    assert window.document is edit_doc and asked == ["unsaved"]
    replies["unsaved"] = mw.DISCARD_CHANGES
    assert window.new_from_template("cnn")
    assert window.document.project.name == "CNN"
    assert Project.load(other).settings["training"]["epochs"] == 10  # discarded, not saved


def test_choosing_save_in_the_prompt_saves_first(window, tmp_path, answers):
    replies, asked = answers
    path = tmp_path / "keep.nbproj"
    window.save_as(path)
    edit(window.document, value=9)
    replies["unsaved"] = mw.SAVE
    assert window.new_from_template(EMPTY)
    assert Project.load(path).graph.node_by_name("conv1").params["out_channels"] == 9
    assert window.document.graph.nodes == {} and window.document.path is None


def test_closing_with_unsaved_changes_can_be_cancelled(window, answers):
    replies, asked = answers
    edit(window.document)
    replies["unsaved"] = mw.CANCEL
    assert not window.close()
    assert window.isVisible()
    replies["unsaved"] = mw.DISCARD_CHANGES
    assert window.close()


# --------------------------------------------------------------------------- new, recent, undo
def test_template_gallery_offers_every_template(qtbot):
    gallery = TemplateGallery()
    qtbot.addWidget(gallery)
    from netbuilder.ui.dialogs.template_gallery import _NAME_ROLE, _PICTURE_ROLE
    names = [gallery.list.item(i).data(_NAME_ROLE) for i in range(gallery.list.count())]
    assert names == [EMPTY, *templates.names()]
    assert all(not gallery.list.item(i).data(_PICTURE_ROLE).isNull() for i in range(gallery.list.count()))
    gallery.select("resnet18")
    gallery.accept()
    assert gallery.chosen == "resnet18"


def test_new_asks_the_gallery(window, monkeypatch):
    class Chooser:
        def __init__(self, parent=None):
            self.chosen = "alexnet"

        def exec(self):
            return 1

    monkeypatch.setattr(mw, "TemplateGallery", Chooser)
    window.actions["new"].trigger()
    assert window.document.project.name == "AlexNet"
    assert window.document.path is None and not window.document.is_dirty


def test_recent_menu_lists_saved_projects(window, tmp_path):
    window.save_as(tmp_path / "a.nbproj")
    window.save_as(tmp_path / "b.nbproj")
    texts = [a.text() for a in window.recent_menu.actions() if not a.isSeparator()]
    assert texts[:2] == ["&1  b.nbproj", "&2  a.nbproj"]
    window.new_from_template("mlp")
    next(a for a in window.recent_menu.actions() if a.text().endswith("a.nbproj")).trigger()
    assert window.document.path == (tmp_path / "a.nbproj").resolve()


def test_undo_and_redo_reach_panel_edits_from_the_edit_menu(window):
    doc = window.document
    window.setup.panels["training"].form.fields["epochs"].spin.setValue(25)
    assert window.editor.actions["undo"].isEnabled()
    assert window.editor.actions["undo"].text() == "&Undo Change training"
    window.editor.actions["undo"].trigger()
    assert doc.project.settings["training"]["epochs"] == 10
    window.editor.actions["redo"].trigger()
    assert doc.project.settings["training"]["epochs"] == 25


def test_shortcuts(window):
    def keys(action):
        return {k.toString() for k in action.shortcuts()}

    e, a = window.editor.actions, window.actions
    assert "Ctrl+Z" in keys(e["undo"])
    assert "Ctrl+Shift+Z" in keys(e["redo"])
    assert "Del" in keys(e["delete"])
    assert "Ctrl+C" in keys(e["copy"]) and "Ctrl+V" in keys(e["paste"]) and "Ctrl+D" in keys(e["duplicate"])
    assert "F" in keys(e["fit"])
    assert "Ctrl+N" in keys(a["new"]) and "Ctrl+O" in keys(a["open"]) and "Ctrl+S" in keys(a["save"])
    assert "Ctrl+Shift+S" in keys(a["save_as"])
    assert "Ctrl+E" in keys(a["export"])
    # Every shortcut belongs to exactly one action (no ambiguous key presses).
    seen = {}
    for action in [*window.actions.values(), *window.editor.actions.values()]:
        for key in keys(action):
            assert seen.setdefault(key, action) is action, f"{key} is bound twice"
    menus = {m.title(): m for m in (act.menu() for act in window.menuBar().actions())}
    assert set(menus) == {"&File", "&Edit", "&View", "&Setup", "&Help"}
    assert e["undo"] in menus["&Edit"].actions() and e["delete"] in menus["&Edit"].actions()


def test_setup_menu_opens_each_section(window):
    window.actions["setup_schedule"].trigger()
    assert window.setup.current_section == "schedule"
    assert not window.setup_dock.visibleRegion().isEmpty()
    assert window.actions["setup_schedule"].shortcut() == QKeySequence("Ctrl+3")


def test_toolbar_holds_the_file_edit_and_view_actions(window):
    toolbar = window.toolbar.actions()
    for action in (window.actions["new"], window.actions["open"], window.actions["save"], window.actions["export"],
                   window.editor.actions["undo"],
                   window.editor.actions["redo"], window.editor.actions["fit"], window.editor.actions["arrange"]):
        assert action in toolbar
        assert not action.icon().isNull()


# --------------------------------------------------------------------------- status, code, theme
def test_status_bar_shows_totals_and_problems(window, qtbot):
    assert window.params_label.text() == "61,706 parameters"
    assert window.macs_label.text() == "429 k multiply-adds"
    assert window.problems_button.text() == "No problems"
    doc = window.document
    doc.graph.disconnect(doc.graph.incoming(doc.graph.node_by_name("fc1").id)[0])
    qtbot.waitUntil(lambda: "error" in window.problems_button.text())
    window.problems_button.click()
    assert not window.issues_dock.visibleRegion().isEmpty()


def test_code_viewer_shows_and_follows_the_module(window, qtbot, tmp_path, answers):
    window.actions["code"].trigger()
    viewer = window.code_viewer
    assert viewer.isVisible()
    assert "class Net(nn.Module)" in viewer.code and "nn.Conv2d(1, 6, kernel_size=5, padding=2)" in viewer.code
    edit(window.document)
    qtbot.waitUntil(lambda: "nn.Conv2d(1, 12" in viewer.code)
    assert viewer.save_as(str(tmp_path / "net.py"))
    assert (tmp_path / "net.py").read_text(encoding="utf-8") == viewer.code
    doc = window.document
    doc.graph.disconnect(doc.graph.incoming(doc.graph.node_by_name("fc1").id)[0])
    qtbot.waitUntil(lambda: viewer.banner.isVisible())
    assert "cannot compile" in viewer.banner.text()
    answers[0]["unsaved"] = mw.DISCARD_CHANGES
    window.new_from_template("mlp")
    qtbot.waitUntil(lambda: "nn.Linear(784, 128)" in viewer.code)
    assert not viewer.banner.isVisible()


def restore_look(app, style_name: str) -> None:
    """Undo a theme test's changes to the application, so later tests see the usual look."""
    app.setStyleSheet("")
    app.setStyle(style_name)
    app.setPalette(app.style().standardPalette())


def test_theme_follows_the_choice_and_is_remembered(qtbot):
    app = QApplication.instance()
    original = app.style().name()
    theme = ThemeManager(app)
    win = mw.MainWindow(theme=theme)
    keep(qtbot, win)
    try:
        win.set_theme("dark")
        assert app.palette().color(QPalette.ColorRole.Window).lightnessF() < 0.3
        sheet = app.styleSheet()
        assert "QToolBar" in sheet
        app.setStyleSheet("")  # with a style sheet, style() is the sheet's wrapper around Fusion
        assert app.style().name().lower() == "fusion"
        assert files.app_settings().value("view/theme") == "dark"
        assert ThemeManager(app).preference == "dark"
        checked = [a.data() for a in win.theme_group.actions() if a.isChecked()]
        assert checked == ["dark"]
        win.set_theme("light")
        assert app.palette().color(QPalette.ColorRole.Window).lightnessF() > 0.8
    finally:
        restore_look(app, original)


def test_the_window_remembers_its_layout(qtbot):
    first = mw.MainWindow()
    keep(qtbot, first)
    first.summary_dock.hide()
    first.close()
    second = mw.MainWindow()
    keep(qtbot, second)
    assert second.summary_dock.isHidden()
    second.reset_layout()
    assert not second.summary_dock.isHidden()


def test_start_document_reopens_the_last_project(qtbot, tmp_path):
    win = mw.MainWindow()
    keep(qtbot, win)
    win.open_start_document(None, "playground")
    assert win.document.project.name == "Playground" and win.document.path is None
    assert win.save_as(tmp_path / "last.nbproj")
    again = mw.MainWindow()
    keep(qtbot, again)
    again.open_start_document(None, "playground")
    assert again.document.path == (tmp_path / "last.nbproj").resolve()


def test_theme_follows_the_system_when_asked(qtbot, monkeypatch):
    from netbuilder.ui import theme as theme_module
    app = QApplication.instance()
    original = app.style().name()
    manager = theme_module.ThemeManager(app)
    dark_system = {"on": False}
    monkeypatch.setattr(theme_module, "system_prefers_dark", lambda: dark_system["on"])
    seen = []
    manager.changed.connect(seen.append)
    try:
        manager.set_preference("system")
        assert not manager.is_dark
        dark_system["on"] = True
        manager._on_system_scheme_changed(None)  # what the desktop's scheme change triggers
        assert manager.is_dark and seen[-1] is True
        manager.set_preference("light")
        manager._on_system_scheme_changed(None)  # an explicit choice ignores the desktop
        assert not manager.is_dark
    finally:
        restore_look(app, original)


def test_every_icon_drawing_renders(qtbot):
    from PySide6.QtSvg import QSvgRenderer

    from netbuilder.ui import icons
    drawings = [*icons.ICONS.glob("*.svg"), *icons.ICONS.glob("categories/*.svg"), icons.APP_ICON]
    assert len(drawings) > 40
    for path in drawings:
        assert QSvgRenderer(str(path)).isValid(), path
    for name in icons.icon_names():
        assert not icons.icon(name).pixmap(20, 20).isNull()
    for category in icons.CATEGORY_ICONS:
        assert not icons.category_icon(category, "#8b5cf6").isNull()


def test_desktop_entry_starts_the_gui():
    import configparser
    from pathlib import Path
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(Path(__file__).resolve().parents[2] / "packaging" / "netbuilder.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"].startswith("netbuilder gui") and desktop["Type"] == "Application"
    assert desktop["Icon"] == "netbuilder" and desktop["Name"] == "NetBuilder"


def test_slow_lookups_wait_until_their_panel_is_in_front(qtbot, monkeypatch):
    from netbuilder.ui import probe
    looked = []

    def ask_location(data, folder, on_result, on_error, parent=None):
        looked.append(data["dataset"])
        on_result(("ok", "here"))

    monkeypatch.setattr(probe, "ask_location", ask_location)
    win = keep(qtbot, mw.MainWindow(Document(templates.build("lenet5"))))
    win.show()
    qtbot.waitExposed(win)
    qtbot.wait(250)
    assert looked == []  # the training setup is behind the inspector's tab: nothing to look for yet
    win.setup_dock.raise_()
    qtbot.waitUntil(lambda: looked == ["fashion-mnist"])
    qtbot.waitUntil(lambda: "here" in win.setup.panels["data"].location.text())


# --------------------------------------------------------------------------- training in the window
@pytest.fixture
def training_window(qtbot):
    win = keep(qtbot, mw.MainWindow(Document(templates.build("lenet5")), with_training=True))
    win.show()
    qtbot.waitExposed(win)
    return win


def shown_panels(win):
    return {name for name, dock in win.training.dock_by_name.items() if not dock.isHidden()}


def test_the_window_has_training_controls_and_the_monitor(training_window):
    win = training_window
    titles = [a.text().replace("&", "") for a in win.menuBar().actions()]
    assert titles.index("Training") == titles.index("Help") - 1
    toolbar_actions = win.toolbar.actions()
    assert all(a in toolbar_actions for a in win.training.actions.values())
    monitor_menu = next(a.menu() for a in win.panels_menu.actions() if a.menu() and "Monitor" in a.text())
    assert len(monitor_menu.actions()) == len(win.training.docks)


def test_monitor_panels_follow_the_kind_of_input(training_window, qtbot):
    win = training_window
    image_panels = shown_panels(win)
    assert {"loss", "accuracy", "filters", "receptive_field", "confusion"} <= image_panels
    assert "decision_boundary" not in image_panels
    win.set_document(Document(templates.build("playground")))
    plane_panels = shown_panels(win)
    assert "decision_boundary" in plane_panels
    assert not {"filters", "receptive_field"} & plane_panels


def test_reset_panels_brings_the_monitor_back(training_window):
    win = training_window
    win.training.dock_by_name["loss"].close()
    win.reset_layout()
    assert "loss" in shown_panels(win)


def test_the_training_controller_has_its_say_on_closing(training_window, monkeypatch):
    win = training_window
    asked = []
    answer = {"close": False}

    def confirm_close(ask=True):
        asked.append(ask)
        return answer["close"]

    monkeypatch.setattr(win.training, "confirm_close", confirm_close)
    win._skip_unsaved_prompt = False
    monkeypatch.setattr(win, "maybe_save", lambda: True)
    assert not win.close()  # a run that may not be stopped keeps the window open
    answer["close"] = True
    assert win.close() and asked == [True, True]


# --------------------------------------------------------------------------- export from the window
def test_file_export_opens_one_dialog_on_the_open_network_and_reports_in_the_status_bar(window, qtbot, tmp_path):
    window.save_as(tmp_path / "lenet.nbproj")
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    assert window.actions["export"] in file_menu.actions()
    window.actions["export"].trigger()
    dialog = window.export_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.heading.text() == "Export LeNet-5"
    dialog.set_format("pt")
    assert dialog.output_path() == tmp_path / "lenet-5.pt"   # named after the project
    assert dialog.start_export()
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=120_000)
    assert (tmp_path / "lenet-5.pt").is_file()
    assert window.statusBar().currentMessage() == f"Exported and verified {tmp_path / 'lenet-5.pt'}"
    dialog.close()
    window.actions["export"].trigger()
    assert window.export_dialog is dialog and dialog.isVisible()  # one dialog, kept with its choices


def test_a_layer_the_export_names_is_shown_in_the_editor(window):
    window.show_export()
    conv2 = window.document.graph.node_by_name("conv2").id
    focused = []
    window.document.focus_requested.connect(focused.append)
    window.export_dialog.show_node_requested.emit(conv2)
    assert window.document.selected_ids == [conv2] and focused == [conv2]


def test_model_exports_wait_while_training_runs(training_window):
    win = training_window
    win.show_export()
    dialog = win.export_dialog
    dialog.set_format("pt")
    assert dialog.export_button.isEnabled(), dialog.export_button.toolTip()
    controller = win.training
    controller._running = True     # as a started run sets it
    controller._update_actions()
    assert not dialog.export_button.isEnabled()
    assert dialog.export_button.toolTip() == win.MODEL_EXPORT_WAITS
    controller._running = False
    controller._update_actions()
    assert dialog.export_button.isEnabled(), dialog.export_button.toolTip()


def playground_window(qtbot):
    project = templates.build("playground")
    project.settings["data"].update(toy_points=400)
    win = keep(qtbot, mw.MainWindow(Document(project), with_training=True))
    win.show()
    qtbot.waitExposed(win)
    return win, project


def test_sanity_checks_run_in_the_background_and_wait_for_training(qtbot):
    win, project = playground_window(qtbot)
    assert win.actions["sanity"] in win.training_menu.actions()
    before = project.to_dict()
    win.actions["sanity"].trigger()            # opening the dialog starts a pass at once
    dialog = win.sanity_dialog
    assert dialog.is_running and not dialog.run_button.isEnabled()
    win.training.show_dialogs = False
    assert not win.training.start()             # a run would share the checks' random generator
    assert win.training.last_error.kind == "busy" and "sanity checks" in win.training.last_error.message
    with qtbot.waitSignal(dialog.finished_checks, timeout=60_000) as finished:
        pass
    results = finished.args[0]
    assert [r.verdict for r in results] == ["pass"] * 4, [r.summary for r in results]
    assert [label.text().lower() for _mark, label in dialog.rows] == [r.summary.lower() for r in results]
    assert "Every check passed" in dialog.status.text()
    assert win.document.project.to_dict() == before   # the checks work on a copy
    controller = win.training
    controller._running = True                 # as a started run sets it
    controller._update_actions()
    assert not dialog.run_button.isEnabled() and dialog.status.text() == win.SANITY_WAITS
    assert not dialog.run_checks()
    controller._running = False
    controller._update_actions()
    assert dialog.run_button.isEnabled()


def test_hyperparameter_search_ranks_trials_and_applies_the_best_as_one_undoable_step(qtbot):
    win, project = playground_window(qtbot)
    win.actions["search"].trigger()
    dialog = win.search_dialog
    assert [r.name for r in dialog.chosen_ranges()] == ["lr", "l2"]
    assert not dialog.range_rows["dropout"][0].isEnabled()        # the playground has no Dropout layer
    dialog.trials_box.setValue(3)
    dialog.epochs_box.setValue(2)
    with qtbot.waitSignal(dialog.search_finished, timeout=120_000) as finished:
        assert dialog.start() and dialog.is_running and not dialog.start_button.isEnabled()
    trials = finished.args[0]
    assert len(trials) == 3 and dialog.table.rowCount() == 3
    assert [t.score for t in trials] == sorted((t.score for t in trials), reverse=True)
    assert dialog.table.item(0, 1).text() == str(trials[0].number)
    assert "Best: trial" in dialog.status.text()
    old_lr = project.settings["optimizer"]["lr"]
    assert dialog.apply_best()
    assert win.document.project.settings["optimizer"]["lr"] == pytest.approx(trials[0].values["lr"])
    assert win.document.project.settings["regularization"]["l2"] == pytest.approx(trials[0].values["l2"])
    win.document.undo_stack.undo()                                 # one step takes both back
    assert win.document.project.settings["optimizer"]["lr"] == old_lr
    assert win.document.project.settings["regularization"]["l2"] == templates.build("playground").settings["regularization"]["l2"]
    controller = win.training
    controller._running = True
    controller._update_actions()
    assert not dialog.start_button.isEnabled() and not dialog.start()
    controller._running = False
    controller._update_actions()
    assert dialog.start_button.isEnabled()


def test_initialization_explorer_draws_a_row_per_scheme(qtbot, training_window):
    from netbuilder.ui.dialogs import InitializationExplorer
    win = training_window
    assert win.actions["init_explorer"] in win.menuBar().actions()[3].menu().actions()
    explorer = win.init_explorer = InitializationExplorer(win)
    explorer.width_box.setCurrentIndex(0)          # 512 units: the same story, sooner
    explorer.layers_box.setValue(4)
    with qtbot.waitSignal(explorer.computed, timeout=60_000) as drawn:
        win.actions["init_explorer"].trigger()      # opening it computes at once
    results = drawn.args[0]
    assert list(results) == list(explorer.rows)
    for scheme, (label, plots) in explorer.rows.items():
        stats, words = results[scheme]
        assert len(stats) == 4 and words in label.text()
        curves = [item for item in plots.ci.items if hasattr(item, "listDataItems")]
        assert len(curves) == 4 and all(len(c.listDataItems()[0].getData()[0]) > 0 for c in curves)
    assert "symmetric" in explorer.rows["constant"][0].text()
    with qtbot.waitSignal(explorer.computed, timeout=60_000) as drawn:
        explorer.nonlinearity.setCurrentIndex(1)   # ReLU recomputes
    assert drawn.args[0]["kaiming"][1].startswith("healthy")

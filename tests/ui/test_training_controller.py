"""Training from the window: a real run fills every plot, Stop and Pause/Resume steer it,
closing during training is clean, failures are named in a dialog, and the headless
--train --screenshot flow works."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox

from netbuilder.core import templates
from netbuilder.core.graph import Graph
from netbuilder.core.project import Project
from netbuilder.core.settings import default_optimizer, default_schedule
from netbuilder.ui import headless_run
from netbuilder.ui.devices import DeviceReport
from netbuilder.ui.training import TrainingController

FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(),
                                   reason="Fashion-MNIST is not installed")


class Host(QMainWindow):
    """A stand-in for the main window, wired the way the main window wires the controller."""

    def __init__(self, project: Project, path: Path | None = None):
        super().__init__()
        self.project, self.path = project, path
        if path is not None:
            project.save(path)
        self.setCentralWidget(QLabel("canvas"))
        self.controller = TrainingController(self, lambda: self.project, lambda: self.path)
        toolbar = self.addToolBar("Training")
        toolbar.addActions(list(self.controller.actions.values()))
        toolbar.addWidget(self.controller.device_chooser)
        self.controller.install_docks()
        self.statusBar().addPermanentWidget(self.controller.progress_widget)
        self.resize(1280, 800)

    def closeEvent(self, event):
        if not self.controller.confirm_close():
            event.ignore()
            return
        event.accept()


def fashion_project(template="lenet5", limit=2000, epochs=1, **training) -> Project:
    project = templates.build(template)
    project.settings["data"].update(root=str(FASHION), limit=limit, validation_fraction=0.02)
    project.settings["training"].update({"epochs": epochs, "batch_size": 64, "log_every": 4, "probe_every": 8,
                                         "device": "cpu", **training})
    return project


def playground(points=600, epochs=3, **training) -> Project:
    project = templates.build("playground")
    project.settings["data"].update(toy_points=points)
    project.settings["training"].update({"epochs": epochs, "log_every": 5, "probe_every": 10, **training})
    return project


@pytest.fixture
def host(qtbot, tmp_path):
    made = []

    def make(project, saved=True):
        window = Host(project, tmp_path / "net.nbproj" if saved else None)
        qtbot.addWidget(window)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:  # never leave a thread running past a test
        if window.controller.is_running:
            window.controller.stop()
            window.controller.wait(15)


def steps_seen(controller) -> int:
    return len(controller.buffer.steps)


@needs_fashion
def test_one_epoch_fills_every_plot(host, qtbot, tmp_path):
    window = host(fashion_project())
    c = window.controller
    with qtbot.waitSignal(c.run_finished, timeout=90_000) as finished:
        assert c.start()
        assert c.is_running and not c.actions["train"].isEnabled() and c.actions["stop"].isEnabled()
    summary = finished.args[0]
    assert summary["epochs"] == 1 and not summary["stopped"]
    assert not c.is_running and c.actions["train"].isEnabled() and not c.actions["stop"].isEnabled()
    b = c.buffer
    b.redraw_all()
    p = c.monitor.panels
    spe = b.info["steps_per_epoch"]
    assert len(p["loss"].raw.getData()[0]) == spe and len(p["loss"].smooth_curve.getData()[0]) == spe
    assert len(p["loss"].val_epochs.getData()[0]) == 1
    assert len(p["accuracy"].train.getData()[0]) == 1 and len(p["accuracy"].val.getData()[0]) == 1
    assert len(p["accuracy"].best_mark.data) == 1
    assert len(p["learning_rate"].curve.getData()[0]) == spe
    assert p["updates"].curves and all(len(curve.getData()[0]) >= 2 for curve in p["updates"].curves.values())
    for kind in ("weights", "gradients", "activations"):
        assert p["histograms"].curves[kind].getData()[1].sum() > 0, kind
    mosaic = p["filters"].image.image
    assert mosaic is not None and mosaic[..., :3].std() > 20, "filter images are not constant"
    assert "conv1" in p["filters"].caption.text
    confusion = b.record["confusion"]
    assert confusion.sum() == b.info["val_samples"]
    assert p["confusion"].image.image.shape == (10, 10) and p["confusion"].gallery.count() > 0
    rf = p["receptive_field"]
    assert rf.layer.count() >= 2 and rf.heat.image is not None and rf.heat.image.max() == pytest.approx(1.0)
    assert rf.boxes[0].isVisible()
    for name, panel in p.items():
        if name != "decision_boundary":
            assert not panel.empty.isVisible(), f"{name} is still empty"
    assert "Finished" in c.progress_widget.bar.format()
    # the run is recorded beside the project and listed
    run_dirs = list((tmp_path / "runs").iterdir())
    assert len(run_dirs) == 1
    for name in ("metrics.csv", "summary.json", "project.nbproj", "iterations.csv", "run.json"):
        assert (run_dirs[0] / name).exists(), name
    assert c.runs.tree.topLevelItemCount() == 1
    assert c.export_plot("loss", tmp_path / "loss.svg").exists()


def test_playground_draws_the_decision_boundary(host, qtbot):
    window = host(playground(epochs=2))
    c = window.controller
    with qtbot.waitSignal(c.run_finished, timeout=60_000):
        c.start()
    assert c.dock_by_name["decision_boundary"].isVisible(), "2-D data brings its plot forward"
    c.buffer.redraw_all()
    panel = c.monitor.panels["decision_boundary"]
    assert panel.image.image is not None and panel.image.image.std() > 5
    assert sum(len(item.data) for item in panel.point_items) > 0
    assert c.monitor.panels["filters"]._mode == "vectors"
    c.project_changed()  # another project in the window: its own (empty) plots
    assert panel.empty.isVisible() and c.monitor.panels["loss"].empty.isVisible()


def test_the_plots_are_fed_on_the_gui_thread_only(host, qtbot, monkeypatch):
    import threading
    from netbuilder.ui.monitor.buffer import MonitorBuffer
    threads = set()
    for name in ("on_started", "on_batches", "on_probe", "on_epoch", "on_finished"):
        original = getattr(MonitorBuffer, name)
        monkeypatch.setattr(MonitorBuffer, name, lambda self, *a, _o=original, **k: (
            threads.add(threading.get_ident()), _o(self, *a, **k))[1])
    window = host(playground(epochs=2))
    with qtbot.waitSignal(window.controller.run_finished, timeout=60_000):
        window.controller.start()
    assert threads == {threading.get_ident()}


def test_stop_mid_epoch_returns_within_a_second(host, qtbot):
    window = host(playground(points=20_000, epochs=50, probe_every=50), saved=False)
    c = window.controller
    c.start()
    qtbot.waitUntil(lambda: steps_seen(c) >= 40, timeout=60_000)
    assert c.buffer.epochs == [], "still inside the first epoch"
    started = time.perf_counter()
    with qtbot.waitSignal(c.run_finished, timeout=1000) as finished:
        c.stop()
    assert time.perf_counter() - started < 1.0
    assert finished.args[0]["stopped"]
    assert not c.is_running and c.actions["train"].isEnabled()


def test_pause_and_resume_continue_the_same_run(host, qtbot, tmp_path):
    window = host(playground(points=3000, epochs=3))
    c = window.controller
    c.start()
    qtbot.waitUntil(lambda: steps_seen(c) >= 20, timeout=60_000)
    c.actions["pause"].trigger()
    assert c.is_paused and c.actions["pause"].text() == "Resume" and c.actions["train"].text() == "Resume"
    qtbot.wait(300)
    held = steps_seen(c)
    qtbot.wait(500)
    assert steps_seen(c) == held, "paused: no steps"
    assert "Paused" in c.progress_widget.bar.format()
    with qtbot.waitSignal(c.run_finished, timeout=60_000) as finished:
        c.actions["train"].trigger()  # F5 resumes a paused run
        assert not c.is_paused
    assert finished.args[0]["epochs"] == 3 and not finished.args[0]["stopped"]
    np.testing.assert_array_equal(c.buffer.steps.view(), np.arange(steps_seen(c)))
    assert len(list((tmp_path / "runs").iterdir())) == 1, "one run, not two"


def test_closing_during_training_asks_then_stops_cleanly(host, qtbot, monkeypatch):
    window = host(playground(points=20_000, epochs=50, probe_every=50), saved=False)
    c = window.controller
    c.start()
    qtbot.waitUntil(lambda: steps_seen(c) >= 10, timeout=60_000)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.No)
    window.close()
    assert asked and window.isVisible() and c.is_running, "No keeps the window and the run"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    started = time.perf_counter()
    window.close()
    assert time.perf_counter() - started < 5
    assert not window.isVisible()
    assert not c.is_running and c.thread is None


def test_divergence_is_shown_in_a_dialog_and_the_window_stays_usable(host, qtbot):
    project = playground(epochs=5)
    project.settings["optimizer"] = {**default_optimizer("sgd"), "lr": 100.0}
    project.settings["schedule"] = default_schedule("constant")
    project.settings["initialization"].update(weight="normal", std=10.0)
    window = host(project)
    c = window.controller
    with qtbot.waitSignal(c.run_failed, timeout=60_000) as failed:
        c.start()
    assert "diverged" in failed.args[0]
    qtbot.waitUntil(lambda: not c.is_running, timeout=5000)
    dialog = c.error_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.windowTitle() == "Training diverged" and "learning rate" in dialog.informativeText()
    assert "Failed" in c.progress_widget.bar.format()
    dialog.close()
    project.settings["optimizer"] = {**default_optimizer("adam"), "lr": 0.01}
    project.settings["initialization"].update(weight="default")
    with qtbot.waitSignal(c.run_finished, timeout=60_000):
        assert c.start(), "a new run starts after a failure"


def test_a_network_with_errors_does_not_start(host, qtbot):
    graph = Graph()
    graph.add_node("Input", params={"kind": "vector", "features": 2})
    window = host(Project(name="Broken", graph=graph))
    c = window.controller
    with qtbot.waitSignal(c.run_failed, timeout=2000) as failed:
        assert not c.start()
    assert "errors" in failed.args[0]
    assert c.error_dialog is not None and c.error_dialog.isVisible()
    assert not c.is_running
    c.error_dialog.close()


def test_missing_data_names_the_cause(host, qtbot, tmp_path):
    window = host(fashion_project())
    c = window.controller
    c.show_dialogs = False
    with qtbot.waitSignal(c.run_failed, timeout=60_000) as failed:
        c.start({"dataset": "mnist", "data_root": str(tmp_path / "nowhere")})
    assert c.last_error.kind == "data" and c.last_error.title.startswith("Data")
    assert failed.args[0].startswith("Data")


def test_actions_shortcuts_docks_and_devices(host, qtbot):
    window = host(playground())
    c = window.controller
    a = c.actions
    assert set(a) == {"train", "pause", "stop"}
    assert a["train"].shortcut() == QKeySequence("F5") and a["stop"].shortcut() == QKeySequence("Shift+F5")
    assert not a["train"].icon().isNull() and not a["stop"].icon().isNull()
    assert not a["pause"].isEnabled() and not a["stop"].isEnabled()
    titles = [d.windowTitle() for d in c.docks]
    assert titles[:4] == ["Loss", "Learning Rate", "Update Ratio", "Histograms"]
    assert {"Accuracy", "Filters", "Receptive Field", "Decision Boundary", "Confusion", "Runs"} <= set(titles)
    assert all(d.objectName() for d in c.docks)
    tabs = window.tabifiedDockWidgets(c.dock_by_name["loss"])
    assert c.dock_by_name["learning_rate"] in tabs
    chooser = c.device_chooser
    assert chooser.available() == ["auto", "cpu"]
    chooser._on_report(DeviceReport({"cpu": "CPU, 2 cores", "cuda": "A GPU"}, "cuda", "2"))
    assert chooser.available() == ["auto", "cpu", "cuda"] and chooser.itemText(0) == "Auto (CUDA GPU)"
    chooser.set_device("cpu")
    assert chooser.device() == "cpu"


def test_headless_train_and_screenshot(host, qtbot, tmp_path, monkeypatch):
    window = host(playground(epochs=40))
    exits = []
    from PySide6.QtWidgets import QApplication
    monkeypatch.setattr(QApplication, "exit", lambda code=0: exits.append(code))
    shot = tmp_path / "shots" / "window.png"
    parser = argparse.ArgumentParser()
    headless_run.add_arguments(parser)
    options = parser.parse_args(["--train", "--exit-after-epochs", "2", "--screenshot", str(shot), "--device", "cpu"])
    run = headless_run.schedule(window, window.controller, options)
    assert run is not None
    qtbot.waitUntil(lambda: bool(exits), timeout=60_000)
    assert exits == [0]
    assert shot.exists() and shot.stat().st_size > 20_000
    assert window.controller.last_summary["epochs"] == 2
    assert not window.isVisible()
    assert headless_run.schedule(window, window.controller, parser.parse_args([])) is None


def test_command_line_options_do_not_load_qt():
    import subprocess
    import sys
    code = ("import argparse, sys; from netbuilder.ui import headless_run; p = argparse.ArgumentParser(); "
            "headless_run.add_arguments(p); o = p.parse_args(['--train', '--exit-after-epochs', '1', '--limit', '500']); "
            "print(o.train, o.exit_after_epochs, o.limit, 'PySide6' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True", "1", "500", "False"], out.stderr

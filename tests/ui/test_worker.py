"""The training worker: engine callbacks become queued signals with small, plain payloads;
failures arrive as named causes; the run folder gets the per-iteration record."""
from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QObject, QThread

from netbuilder.core import templates
from netbuilder.core.settings import default_optimizer
from netbuilder.ui import run_history
from netbuilder.ui.training import GuiThreadCollector
from netbuilder.ui.worker import RunError, TrainingWorker, describe_error


def playground(points=300, epochs=2, **training):
    project = templates.build("playground")
    project.settings["data"].update(toy_points=points)
    project.settings["training"].update(epochs=epochs, log_every=5, probe_every=10, **training)
    return project


class Recorder(QObject):
    """Collects the worker's signals on the GUI thread (a QObject living there makes the
    connections queued, as the window's are), noting the thread each arrived on."""

    def __init__(self, worker):
        super().__init__()
        self.events, self.rows, self.probes, self.records = [], [], [], []
        self.threads = set()
        self.info = self.summary = self.error = None
        worker.started.connect(self.on_started)
        worker.batches.connect(self.on_batches)
        worker.probe.connect(self.on_probe)
        worker.epoch_ended.connect(self.on_epoch)
        worker.finished.connect(self.on_finished)
        worker.failed.connect(self.on_failed)
        worker.done.connect(self.on_done)

    def _note(self, name):
        self.events.append(name)
        self.threads.add(threading.get_ident())

    def on_started(self, info):
        self._note("started")
        self.info = info

    def on_batches(self, rows):
        self._note("batches")
        self.rows.append(rows)

    def on_probe(self, probe):
        self._note("probe")
        self.probes.append(probe)

    def on_epoch(self, record):
        self._note("epoch")
        self.records.append(record)

    def on_finished(self, summary):
        self._note("finished")
        self.summary = summary

    def on_failed(self, error):
        self._note("failed")
        self.error = error

    def on_done(self):
        self._note("done")


@pytest.fixture(autouse=True)
def collector():
    """As the window does: Python's cycle collector runs on the GUI thread only during runs."""
    c = GuiThreadCollector()
    c.start()
    yield c
    c.stop()


def run_worker(qtbot, worker, timeout=60_000):
    """Run a worker on its own thread, the way the window does, and wait for it."""
    rec = Recorder(worker)
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.done.connect(thread.quit)
    with qtbot.waitSignal(thread.finished, timeout=timeout):
        thread.start()
    thread.wait(2000)
    qtbot.wait(20)  # deliver what is still queued
    assert worker.thread() is QCoreApplication.instance().thread(), "the worker comes back to be deleted here"
    return rec


def test_a_run_arrives_as_queued_signals_with_small_payloads(qtbot, tmp_path):
    worker = TrainingWorker(playground(), run_dir=tmp_path / "run")
    rec = run_worker(qtbot, worker)
    assert rec.error is None, rec.error
    assert rec.threads == {threading.get_ident()}, "every signal is handled on the GUI thread"
    assert rec.events[0] == "started" and rec.events[-2:] == ["finished", "done"]
    assert rec.events.count("epoch") == 2
    rows = np.concatenate(rec.rows)
    spe = rec.info["steps_per_epoch"]
    np.testing.assert_array_equal(rows[:, 0], np.arange(2 * spe)), "every step, in order"
    assert rows.shape[1] == 5 and np.isfinite(rows[:, 3]).all()
    assert max(len(r) for r in rec.rows) <= 5, "one signal per engine burst (log_every = 5)"
    probe = rec.probes[0]
    assert probe["boundary"]["image"].dtype == np.uint8 and probe["boundary"]["image"].ndim == 3
    assert probe["points"].shape[1] == 2 and len(probe["labels"]) == len(probe["points"])
    assert "points" not in rec.probes[1], "the training points are sent once"
    assert probe["filters"]["kind"] == "vectors"
    assert probe["histograms"]["layers"][0] == "hidden"
    assert set(probe["update_ratios"]) == {"hidden", "scores"}
    record = rec.records[-1]
    assert record["confusion"].sum() == rec.info["val_samples"]
    assert "effective_rf" not in record and record["fields_prepared"] is None
    assert rec.summary["epochs"] == 2 and not rec.summary["stopped"]
    # the run folder: the engine's files plus every iteration and how the run went
    run = run_history.read_run(tmp_path / "run")
    assert run.status == "finished" and run.epochs == 2
    assert len(run_history.read_iterations(tmp_path / "run")) == 2 * spe
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["steps_per_epoch"] == spe


def test_stop_before_the_first_batch(qtbot, tmp_path):
    worker = TrainingWorker(playground(epochs=50), run_dir=tmp_path / "run")
    worker.request_stop()
    rec = run_worker(qtbot, worker)
    assert rec.summary["stopped"] and rec.error is None


def test_pause_holds_the_run_and_resume_continues_it(qtbot):
    worker = TrainingWorker(playground(points=2000, epochs=3))
    rec = Recorder(worker)
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.done.connect(thread.quit)
    thread.start()
    qtbot.waitUntil(lambda: len(rec.rows) >= 2, timeout=30_000)
    worker.pause()
    qtbot.wait(300)
    held = sum(len(r) for r in rec.rows)
    qtbot.wait(400)
    assert sum(len(r) for r in rec.rows) == held, "no steps while paused"
    with qtbot.waitSignal(thread.finished, timeout=60_000):
        worker.resume()
    thread.wait(2000)
    qtbot.wait(20)
    rows = np.concatenate(rec.rows)
    np.testing.assert_array_equal(rows[:, 0], np.arange(len(rows)))
    assert rec.summary["epochs"] == 3 and not rec.summary["stopped"]


def test_missing_data_is_named(qtbot, tmp_path):
    project = templates.build("lenet5")
    project.settings["data"].update(root=str(tmp_path / "nowhere"))
    rec = run_worker(qtbot, TrainingWorker(project, overrides={"dataset": "mnist"}))
    assert rec.events[-2:] == ["failed", "done"]
    assert isinstance(rec.error, RunError) and rec.error.kind == "data"
    assert "not found" in rec.error.title.lower() or "data" in rec.error.title.lower()


def test_divergence_is_named(qtbot):
    project = playground(epochs=5)
    project.settings["optimizer"] = {**default_optimizer("sgd"), "lr": 100.0}
    project.settings["schedule"] = {"type": "constant"}
    project.settings["initialization"].update(weight="normal", std=10.0)
    rec = run_worker(qtbot, TrainingWorker(project))
    assert rec.error is not None and rec.error.kind == "divergence", rec.error
    assert rec.error.title == "Training diverged"
    assert "learning rate" in rec.error.message


@pytest.mark.parametrize("exc, kind", [
    (MemoryError(), "memory"),
    (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), "memory"),
    (FileNotFoundError("train-images-idx3-ubyte.gz"), "data"),
    (ImportError("No module named torch"), "setup"),
    (ValueError("something odd"), "internal"),
])
def test_errors_are_classified(exc, kind):
    error = describe_error(exc)
    assert error.kind == kind and error.title and error.message


def test_engine_error_types_are_classified():
    from netbuilder.train.datasets import DataError
    from netbuilder.train.engine import CheckpointError, DivergenceError, TrainingError
    assert describe_error(DivergenceError("loss became nan")).kind == "divergence"
    assert describe_error(DataError("mnist: not found in /x")).title == "Data not found"
    assert describe_error(CheckpointError("bad")).kind == "checkpoint"
    assert describe_error(TrainingError("3 scores, 10 classes")).kind == "training"


def test_collection_happens_on_the_gui_thread_during_runs(collector):
    import gc
    assert not gc.isenabled()
    collector.stop()
    assert gc.isenabled()


def test_worker_module_does_not_import_torch():
    import subprocess
    import sys
    code = "import sys, netbuilder.ui.worker, netbuilder.ui.training, netbuilder.ui.monitor; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.stdout.strip() == "False", out.stderr

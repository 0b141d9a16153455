"""The training loop: callbacks, stop/pause, checkpoints, resume, divergence, real-data accuracy."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch

from netbuilder.core import templates
from netbuilder.train.callbacks import Callback, RunControl
from netbuilder.train.engine import (CheckpointError, DivergenceError, Overrides, Trainer, load_checkpoint)

FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(),
                                   reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")


def playground(epochs=3, **training):
    project = templates.build("playground")
    project.settings["training"].update(epochs=epochs, **training)
    project.settings["data"].update(toy_points=400)
    return project


def small_lenet(limit=512, epochs=1):
    project = templates.build("lenet5")
    project.settings["data"].update(root=str(FASHION), limit=limit)
    project.settings["training"].update(epochs=epochs, batch_size=64, log_every=4, probe_every=4)
    return project


class Recorder(Callback):
    def __init__(self):
        self.events = []
        self.losses = []
        self.epochs = []
        self.probes = []

    def on_train_start(self, info):
        self.events.append("start")
        self.info = info

    def on_batch_end(self, step, epoch, batch, loss, lr):
        self.losses.append((step, epoch, batch, loss, lr))

    def on_probe(self, probe):
        self.probes.append(probe)

    def on_epoch_end(self, record):
        self.events.append(f"epoch{record['epoch']}")
        self.epochs.append(record)

    def on_checkpoint(self, path, epoch):
        self.events.append(f"checkpoint{epoch}")

    def on_train_end(self, summary):
        self.events.append("end")
        self.summary = summary

    def on_exception(self, error):
        self.events.append(f"error:{type(error).__name__}")


def test_hooks_arrive_in_order_with_every_step(tmp_path):
    rec = Recorder()
    summary = Trainer(playground(epochs=2, log_every=5), callbacks=[rec], run_dir=tmp_path).run()
    assert rec.events == ["start", "epoch1", "checkpoint1", "epoch2", "checkpoint2", "end"]
    steps = [s for s, *_ in rec.losses]
    assert steps == list(range(len(steps))), "every step's loss is delivered, in order"
    assert len(steps) == 2 * rec.info["steps_per_epoch"]
    assert summary["epochs"] == 2
    assert (tmp_path / "metrics.csv").read_text().count("\n") == 3
    assert (tmp_path / "model.pt").exists() and (tmp_path / "summary.json").exists()


def test_the_monitor_ends_on_the_trained_model():
    # Periodic probes land wherever the step count says; the last step is probed as well, so the
    # filters, histograms and decision boundary on screen show the final weights.
    rec = Recorder()
    Trainer(playground(epochs=2, probe_every=1000), callbacks=[rec]).run()
    last_step = 2 * rec.info["steps_per_epoch"] - 1
    assert [p["step"] for p in rec.probes] == [0, last_step]
    assert rec.probes[-1]["epoch"] == 2 and "decision_boundary" in rec.probes[-1]


def test_playground_learns_the_spiral():
    project = templates.build("playground")
    summary = Trainer(project).run()
    assert summary["final_train_accuracy"] >= 0.98, summary


def test_stop_lands_within_one_batch():
    control = RunControl()
    seen = []

    class StopAtTen(Callback):
        def on_batch_end(self, step, epoch, batch, loss, lr):
            seen.append(step)
            if step == 10:
                control.request_stop()

    summary = Trainer(playground(epochs=50, log_every=1), callbacks=[StopAtTen()], control=control).run()
    assert summary["stopped"]
    assert max(seen) <= 11


def test_pause_blocks_until_resume():
    control = RunControl()
    steps = []

    class PauseOnce(Callback):
        def on_batch_end(self, step, epoch, batch, loss, lr):
            steps.append(step)
            if step == 3:
                control.pause()

    result = {}
    thread = threading.Thread(target=lambda: result.update(Trainer(playground(epochs=1, log_every=1),
                                                                    callbacks=[PauseOnce()], control=control).run()))
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive(), "a paused run waits"
    paused_at = len(steps)
    assert paused_at <= 5
    control.resume()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert result["epochs"] == 1 and not result["stopped"]


def test_resumed_run_equals_uninterrupted(tmp_path):
    # The template's one-cycle schedule depends on the planned length: the interrupted run must
    # plan two epochs too, and pick up mid-schedule.
    straight = Trainer(playground(epochs=2), run_dir=tmp_path / "a")
    straight.run()
    control = RunControl()

    class StopAfterFirstEpoch(Callback):
        def on_epoch_end(self, record):
            control.request_stop()

    first = Trainer(playground(epochs=2), run_dir=tmp_path / "b", callbacks=[StopAfterFirstEpoch()], control=control)
    assert first.run()["stopped"]
    resumed = Trainer(playground(epochs=2), run_dir=tmp_path / "b")
    resumed.run(resume_from=tmp_path / "b" / "checkpoints" / "last.pt")
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    assert [r["train_loss"] for r in straight.history] == [r["train_loss"] for r in resumed.history]


def test_divergence_stops_and_keeps_the_checkpoint(tmp_path):
    holder = {}

    class Poison(Callback):
        def on_batch_end(self, step, epoch, batch, loss, lr):
            if epoch == 2 and batch == 0:
                with torch.no_grad():
                    for p in holder["trainer"].model.parameters():
                        p.fill_(float("nan"))

    rec = Recorder()
    trainer = Trainer(playground(epochs=3, log_every=1), callbacks=[Poison(), rec], run_dir=tmp_path)
    holder["trainer"] = trainer
    with pytest.raises(DivergenceError, match="diverged"):
        trainer.run()
    assert rec.events[-1] == "error:DivergenceError"
    state = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert state["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


def test_corrupt_checkpoint_is_reported(tmp_path):
    bad = tmp_path / "last.pt"
    bad.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    with pytest.raises(CheckpointError, match="last.pt"):
        load_checkpoint(bad)
    with pytest.raises(CheckpointError, match="no such"):
        load_checkpoint(tmp_path / "missing.pt")


@needs_fashion
def test_lenet_epoch_reports_probes_and_confusion(tmp_path):
    rec = Recorder()
    Trainer(small_lenet(), callbacks=[rec], run_dir=tmp_path).run()
    record = rec.epochs[0]
    assert record["confusion"].sum() == rec.info["val_samples"]
    probe = rec.probes[-1]
    assert probe["filters"].shape[1:] == (1, 5, 5) and probe["filters"].std() > 0
    assert {"conv1", "conv2", "fc1", "fc2", "fc3"} <= set(probe["weights"])
    assert all(v > 0 for v in probe["update_ratios"].values())
    assert "conv1" in record["effective_rf"] and record["effective_rf"]["conv2"].shape == (28, 28)


@needs_fashion
def test_class_count_mismatch_names_the_layer():
    project = small_lenet()
    fc3 = project.graph.node_by_name("fc3")
    project.graph.set_param(fc3.id, "out_features", 7)
    with pytest.raises(Exception, match="fc3.*7.*10"):
        Trainer(project).run()


def test_overrides_change_only_the_run():
    project = playground(epochs=5)
    settings = Overrides(epochs=1, batch_size=7, limit=50).apply(project.settings)
    assert settings["training"]["epochs"] == 1 and settings["training"]["batch_size"] == 7
    assert settings["data"]["limit"] == 50
    assert project.settings["training"]["epochs"] == 5

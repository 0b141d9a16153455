"""Stopping and pausing during evaluation, what a run writes down, and what the per-step bookkeeping counts."""
from __future__ import annotations

import ast
import json
import threading
from pathlib import Path

import pytest
import torch

from netbuilder.core import templates
from netbuilder.core.project import Project
from netbuilder.train.callbacks import Callback, RunControl
from netbuilder.train.engine import (EVALUATION_BATCH, Overrides, Trainer, checkpoint_project, load_checkpoint,
                                     source_title)


def playground(points=400, epochs=1, validation_fraction=0.2, **training):
    project = templates.build("playground")
    project.settings["data"].update(toy_points=points, validation_fraction=validation_fraction)
    project.settings["training"].update(epochs=epochs, **training)
    return project


class EvaluationWatch(Callback):
    """Counts the model's forward passes in evaluation mode and acts on the first one."""

    def __init__(self, act):
        self.act = act
        self.passes = 0
        self.epochs = []

    def on_train_start(self, info):
        self.trainer.model.register_forward_hook(self._forward)

    def _forward(self, module, inputs, output):
        if not module.training:
            self.passes += 1
            if self.passes == 1:
                self.act()

    def on_epoch_end(self, record):
        self.epochs.append(record)


def watched_trainer(project, act, **kwargs):
    watch = EvaluationWatch(act)
    trainer = Trainer(project, callbacks=[watch], **kwargs)
    watch.trainer = trainer
    return trainer, watch


def test_stop_during_validation_lands_within_one_batch(tmp_path):
    control = RunControl()
    project = playground(points=25_000, epochs=3, batch_size=500)   # 5,000 validation samples: 5 batches
    trainer, watch = watched_trainer(project, control.request_stop, control=control, run_dir=tmp_path)
    summary = trainer.run()
    assert len(trainer.data.val) > 3 * EVALUATION_BATCH
    assert watch.passes == 1, "no validation batch after the one during which the stop came"
    assert summary["stopped"] and summary["epochs"] == 0 and watch.epochs == []
    assert summary["test_accuracy"] is None, "a stopped run skips the test split"
    assert not (tmp_path / "checkpoints" / "last.pt").exists(), "an epoch stopped in validation is not recorded"
    assert json.loads((tmp_path / "summary.json").read_text())["stopped"] is True


def test_stop_during_the_test_pass_lands_within_one_batch(tmp_path):
    control = RunControl()
    project = playground(points=5_000, batch_size=500, validation_fraction=0.0)   # test split: 5 batches
    trainer, watch = watched_trainer(project, control.request_stop, control=control, run_dir=tmp_path)
    summary = trainer.run()
    assert watch.passes == 1
    assert summary["stopped"] and summary["epochs"] == 1 and summary["test_accuracy"] is None
    assert load_checkpoint(tmp_path / "checkpoints" / "last.pt")["epoch"] == 1, "the finished epoch is kept"


def test_pause_during_validation_holds_the_pass_until_resumed():
    control = RunControl()
    paused = threading.Event()

    def pause():
        control.pause()
        paused.set()

    project = playground(points=25_000, batch_size=500)
    trainer, watch = watched_trainer(project, pause, control=control)
    result = {}
    thread = threading.Thread(target=lambda: result.update(trainer.run()))
    thread.start()
    assert paused.wait(timeout=60)
    thread.join(timeout=0.5)
    assert thread.is_alive(), "a pause during validation holds it"
    assert watch.passes == 1, "no further validation batch while paused"
    control.resume()
    thread.join(timeout=60)
    assert not thread.is_alive() and not result["stopped"]
    assert watch.epochs[0]["confusion"].sum() == len(trainer.data.val), "the whole split was validated"


def test_summary_holds_the_settings_the_run_used(tmp_path):
    project = playground(points=600, epochs=4)
    before = json.dumps(project.settings, sort_keys=True)
    overrides = Overrides(epochs=1, batch_size=50, device="cpu", limit=300)
    returned = Trainer(project, run_dir=tmp_path, overrides=overrides).run()
    written = json.loads((tmp_path / "summary.json").read_text())
    expected = overrides.apply(project.settings)
    assert written["settings"] == expected == returned["settings"]
    assert written["settings"]["training"]["epochs"] == 1 and written["settings"]["training"]["batch_size"] == 50
    assert written["settings"]["data"]["limit"] == 300 and written["settings"]["training"]["device"] == "cpu"
    assert written["settings"]["optimizer"] == project.settings["optimizer"], "what was not overridden is the project's"
    assert json.dumps(project.settings, sort_keys=True) == before, "the project itself is left as it was"
    # The limit keeps 300 of 480 training samples; validation (120) and test (600) are cut to their share,
    # but not below 500: validation keeps all 120, test 500.
    assert written["samples"] == {"train": 300, "val": 120, "test": 500}


@pytest.mark.parametrize("name,shown", [
    ('My "net" \\ 1', 'My "net" \\ 1'), ('ends with a quote"', 'ends with a quote"'), ('"""triple"""', '"""triple"""'),
    ("back\\", "back\\"), ("tab\tand\nnewline", "tab and newline"), ("nul\x00byte", "nul byte"),
    ("\x1b[1mbold", "[1mbold"),
])
def test_any_project_name_is_safe_wherever_the_run_writes_it(tmp_path, name, shown):
    project = playground(points=200)
    project.name = name
    trainer = Trainer(project, run_dir=tmp_path)
    trainer.run()
    source = trainer.model.netbuilder_source
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring.startswith(f"{shown} — "), "the generated module parses and names the project"
    assert Project.load(tmp_path / "project.nbproj").name == name
    assert json.loads((tmp_path / "summary.json").read_text())["settings"] == trainer.settings
    assert checkpoint_project(load_checkpoint(tmp_path / "checkpoints" / "last.pt")).name == name


def test_names_python_source_cannot_hold_are_replaced_in_the_model_source():
    assert source_title("lone \ud800 surrogate") == "lone ? surrogate"
    assert source_title("nul\x00byte\x07") == "nul byte "


class ProbeRecorder(Callback):
    def __init__(self):
        self.probes = []

    def on_probe(self, probe):
        self.probes.append(probe)


def test_probes_run_only_when_listened_to_and_never_change_the_run():
    listened = ProbeRecorder()
    with_probes = Trainer(playground(epochs=2, probe_every=1), callbacks=[listened])
    with_probes.run()
    without = Trainer(playground(epochs=2, probe_every=1), callbacks=[Callback()])
    without.run()
    steps = 2 * len(with_probes.loader)
    assert [p["step"] for p in listened.probes] == list(range(steps))
    for key, value in with_probes.model.state_dict().items():
        assert torch.equal(value, without.model.state_dict()[key]), key
    assert [r["train_loss"] for r in with_probes.history] == [r["train_loss"] for r in without.history]


def test_training_loss_and_accuracy_count_every_sample_of_the_epoch():
    # With a zero learning rate the network does not change during the epoch, so the epoch's
    # running loss and accuracy must equal one evaluation of the whole training split.
    project = playground(points=1_003, batch_size=32, log_every=7)   # a short last batch and a short last burst
    project.settings["optimizer"]["lr"] = 0.0
    trainer = Trainer(project)
    trainer.run()
    record = trainer.history[0]
    whole = trainer.evaluate(trainer.data.train)
    assert record["train_accuracy"] == pytest.approx(whole["accuracy"], abs=1e-12)
    assert record["train_loss"] == pytest.approx(whole["loss"], rel=1e-5)


def test_mixed_targets_count_their_larger_share():
    project = playground(points=600)
    project.settings["data"]["augmentation"]["mixup"] = 0.4
    trainer = Trainer(project)
    summary = trainer.run()
    assert 0.0 <= summary["final_train_accuracy"] <= 1.0


FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(), reason="Fashion-MNIST is not installed")
def test_a_convolutional_run_resumes_exactly_and_saves_plain_weights(tmp_path):
    # On the CPU the engine trains convolutions channels-last with a fused optimizer; what it saves
    # must still load anywhere, and a resumed run must continue exactly.
    def lenet():
        project = templates.build("lenet5")
        project.settings["data"].update(root=str(FASHION), limit=256)
        project.settings["training"].update(epochs=2, device="cpu")
        return project

    straight = Trainer(lenet(), run_dir=tmp_path / "a")
    straight.run()
    control = RunControl()

    class StopAfterFirstEpoch(Callback):
        def on_epoch_end(self, record):
            control.request_stop()

    Trainer(lenet(), run_dir=tmp_path / "b", callbacks=[StopAfterFirstEpoch()], control=control).run()
    resumed = Trainer(lenet(), run_dir=tmp_path / "b")
    resumed.run(resume_from=tmp_path / "b" / "checkpoints" / "last.pt")
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    saved = torch.load(tmp_path / "a" / "model.pt", weights_only=True)
    assert all(tensor.is_contiguous() for tensor in saved.values())
    assert torch.equal(saved["conv2.weight"], straight.model.conv2.weight.detach())

"""Sanity checks before training: each passes on a healthy network and catches the fault it is for."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from netbuilder.cli import main
from netbuilder.core import templates
from netbuilder.train.engine import Trainer
from netbuilder.train.sanity import (check_gradients, check_initial_loss, check_overfit_small_sample,
                                     check_regularization_raises_loss, run_checks)


def playground(**optimizer):
    project = templates.build("playground")
    project.settings["data"].update(toy_points=400)
    project.settings["optimizer"].update(optimizer)
    return project


def test_every_check_passes_on_lenet_with_fashion_mnist(fashion_bundle):
    results = run_checks(templates.build("lenet5"), data=fashion_bundle)
    assert [r.verdict for r in results] == ["pass"] * 4, [r.summary for r in results]
    initial = results[0].details
    assert initial["expected"] == pytest.approx(2.302585, abs=1e-6)
    assert abs(initial["loss"] - initial["expected"]) < 0.1
    assert results[1].details["with_l2"] > results[1].details["data_loss"]
    assert results[2].details["max_relative_error"] < 1e-4 and results[2].details["entries"] >= 10
    assert results[3].details["accuracy"] == 1.0 and results[3].details["loss"] <= 0.05


class _TwiceTheGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return 2 * grad


class _BrokenBackward(nn.Module):
    def forward(self, x):
        return _TwiceTheGradient.apply(x)


def test_gradient_check_catches_a_wrong_backward():
    trainer = Trainer(playground()).prepare()
    assert check_gradients(trainer).verdict == "pass"
    trainer.model = nn.Sequential(trainer.model, _BrokenBackward())
    result = check_gradients(trainer)
    assert result.verdict == "fail"
    assert result.details["median_relative_error"] == pytest.approx(0.5, abs=1e-3)   # |2g − g| / 2g


def test_initial_loss_warns_when_the_weights_start_too_large():
    trainer = Trainer(playground()).prepare()
    with torch.no_grad():
        trainer.model.scores.weight.mul_(200)
    result = check_initial_loss(trainer)
    assert result.verdict == "warn" and "too large" in result.summary
    assert result.details["loss"] > 2 * result.details["expected"]


def test_a_learning_rate_far_too_small_cannot_overfit_twenty_samples():
    result = check_overfit_small_sample(Trainer(playground(lr=1e-7)).prepare(), steps=50)
    assert result.verdict == "warn" and "learning rate" in result.summary
    assert result.details["samples"] == 20 and result.details["steps"] == 50


def test_regularization_check_and_a_regression_network_skip_what_does_not_apply():
    trainer = Trainer(playground()).prepare()
    assert check_regularization_raises_loss(trainer).verdict == "pass"
    trainer.loss_name = "mse"
    assert check_initial_loss(trainer).verdict == "skip"


def test_the_check_command(tmp_path, capsys):
    project = playground()
    path = tmp_path / "p.nbproj"
    project.save(path)
    assert main(["check", str(path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("ok") for line in lines)
    assert main(["check", str(path), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in results] == ["initial loss", "regularization", "gradient check", "overfit 20 samples"]


def test_overfitting_that_runs_out_of_time_says_so():
    result = check_overfit_small_sample(Trainer(playground(lr=1e-7)).prepare(), seconds=0.0)
    assert result.verdict == "warn" and "ran out" in result.summary and result.details["steps"] == 1

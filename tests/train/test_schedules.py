"""Schedules: each formula, agreement with torch's schedulers, the planned curve equals the live one."""
from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch

from netbuilder.core.settings import SCHEDULES, default_schedule
from netbuilder.train.schedules import Scheduler, lr_factor, planned_lr_curve, plateau_note


def sched(kind, **changes):
    s = default_schedule(kind)
    s.update(changes)
    return s


def optimizer(lr=0.1, groups=1):
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr * (i + 1)} for i in range(groups)]
    return torch.optim.SGD(params, lr=lr)


# --------------------------------------------------------------------------- formulas
def test_constant():
    assert [lr_factor(sched("constant"), t, 10) for t in range(10)] == [1.0] * 10


def test_step_halves_every_five():
    s = sched("step", step_size=5, gamma=0.5)
    assert [lr_factor(s, t, 20) for t in (0, 4, 5, 9, 10, 19)] == [1, 1, 0.5, 0.5, 0.25, 0.125]


def test_piecewise_uses_the_number_of_milestones_passed():
    # The course example: 0.3 to 500, 0.05 to 900, 0.01 after — as factors of lr0 = 0.3.
    s = sched("piecewise", milestones=[500, 900], factors=[1.0, 0.05 / 0.3, 0.01 / 0.3])
    lrs = [0.3 * lr_factor(s, t, 1000) for t in (0, 499, 500, 899, 900, 999)]
    assert lrs == pytest.approx([0.3, 0.3, 0.05, 0.05, 0.01, 0.01])


def test_piecewise_with_mismatched_lists_is_an_error():
    with pytest.raises(ValueError, match="one more factor"):
        lr_factor(sched("piecewise", milestones=[3, 6], factors=[1.0, 0.1]), 0, 10)


def test_exponential_and_inverse_time():
    for t in (0, 1, 7, 30):
        assert lr_factor(sched("exponential", k=0.2), t, 50) == pytest.approx(math.exp(-0.2 * t))
        assert lr_factor(sched("inverse-time", k=0.2), t, 50) == pytest.approx(1 / (1 + 0.2 * t))


def test_linear_reaches_the_floor_at_tau_and_stays():
    s = sched("linear", tau=10, floor_fraction=0.01)
    assert lr_factor(s, 0, 100) == 1.0
    assert lr_factor(s, 5, 100) == pytest.approx(0.5 + 0.5 * 0.01)
    assert lr_factor(s, 10, 100) == pytest.approx(0.01)
    assert lr_factor(s, 60, 100) == pytest.approx(0.01)
    values = [lr_factor(s, t, 100) for t in range(11)]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_cosine_with_warmup():
    s = sched("cosine", warmup=4, min_fraction=0.1)
    total = 24
    assert [lr_factor(s, t, total) for t in range(4)] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert lr_factor(s, 4, total) == pytest.approx(1.0)
    assert lr_factor(s, 14, total) == pytest.approx(0.1 + 0.9 * 0.5)  # half way: cos(π/2) = 0
    for t in range(4, total):
        expected = 0.1 + 0.9 * (1 + math.cos(math.pi * (t - 4) / (total - 4))) / 2
        assert lr_factor(s, t, total) == pytest.approx(expected)


def test_cosine_without_warmup_matches_torch():
    opt = optimizer(0.1)
    reference = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20, eta_min=0.1 * 0.05)
    s = sched("cosine", warmup=0, min_fraction=0.05)
    for t in range(20):
        assert 0.1 * lr_factor(s, t, 20) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9)
        opt.step()
        reference.step()


def test_one_cycle_matches_torch_with_the_peak_at_lr0():
    total, peak, div, final_div = 50, 0.1, 25.0, 1e4
    s = sched("one-cycle", pct_start=0.3, div_factor=div, final_div_factor=final_div)
    opt = optimizer(peak)
    # torch ends at peak/(div·final_div); ours ends at peak/final_div, so hand torch final_div/div.
    reference = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=peak, total_steps=total, pct_start=0.3,
                                                    div_factor=div, final_div_factor=final_div / div,
                                                    anneal_strategy="cos", cycle_momentum=False)
    for t in range(total):
        assert peak * lr_factor(s, t, total) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9)
        opt.step()
        if t < total - 1:
            reference.step()
    assert lr_factor(s, 0, total) == pytest.approx(1 / div)
    assert lr_factor(s, 14, total) == pytest.approx(1.0)  # the peak: step pct_start·total − 1
    assert lr_factor(s, total - 1, total) == pytest.approx(1 / final_div)


def test_step_and_piecewise_and_exponential_match_torch():
    cases = [
        (sched("step", step_size=3, gamma=0.3),
         lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.3)),
        (sched("piecewise", milestones=[4, 9], factors=[1.0, 0.1, 0.01]),
         lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[4, 9], gamma=0.1)),
        (sched("exponential", k=0.25), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=math.exp(-0.25))),
    ]
    for schedule, make in cases:
        opt = optimizer(0.2)
        reference = make(opt)
        for t in range(15):
            assert 0.2 * lr_factor(schedule, t, 15) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9)
            opt.step()
            reference.step()


# --------------------------------------------------------------------------- the planned curve
ALL_PLANNABLE = [k for k in SCHEDULES if k != "plateau"]


@pytest.mark.parametrize("interval", ["epoch", "batch"])
@pytest.mark.parametrize("kind", ALL_PLANNABLE)
def test_planned_curve_is_what_the_scheduler_applies(kind, interval):
    epochs, steps = 6, 7
    schedule = sched(kind, interval=interval)
    if kind == "cosine":
        schedule["warmup"] = 2
    if kind == "piecewise":
        schedule.update(milestones=[2, 4] if interval == "epoch" else [10, 25])
    planned = planned_lr_curve(schedule, 0.5, epochs, steps)
    opt = optimizer(0.5)
    scheduler = Scheduler(opt, schedule, epochs, steps)
    applied = []
    for _ in range(epochs):
        for _ in range(steps):
            applied.append(scheduler.current_lr)
            opt.step()
            scheduler.step_batch()
        scheduler.step_epoch({"val_loss": 1.0, "val_accuracy": 0.5})
    assert len(planned) == epochs * steps
    assert applied == pytest.approx(planned, rel=1e-12)
    if kind != "constant":
        assert len(set(round(v, 12) for v in planned)) > 1
    if interval == "epoch":  # constant within an epoch
        assert all(len(set(planned[e * steps:(e + 1) * steps])) == 1 for e in range(epochs))


def test_batch_interval_counts_batches_and_epoch_interval_counts_epochs():
    per_batch = planned_lr_curve(sched("step", step_size=3, gamma=0.5, interval="batch"), 1.0, 2, 4)
    per_epoch = planned_lr_curve(sched("step", step_size=1, gamma=0.5, interval="epoch"), 1.0, 2, 4)
    assert per_batch == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]
    assert per_epoch == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]


def test_scheduler_scales_every_group_from_its_own_base():
    opt = optimizer(0.1, groups=2)
    scheduler = Scheduler(opt, sched("exponential", k=1.0, interval="epoch"), 3, 2)
    scheduler.step_epoch({})
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.1 / math.e, 0.2 / math.e])


def test_plateau_is_flat_in_the_plan_and_says_why():
    assert planned_lr_curve(sched("plateau"), 0.01, 3, 5) == [0.01] * 15
    assert "validation" in plateau_note(sched("plateau"))
    assert plateau_note(sched("cosine")) is None


@pytest.mark.parametrize("metric,mode", [("val_loss", "min"), ("val_accuracy", "max")])
def test_plateau_matches_torchs_reduce_on_plateau(metric, mode):
    values = [1.0, 0.9, 0.9, 0.95, 0.91, 0.89, 0.8999, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 1.0, 0.7, 0.7, 0.71]
    if mode == "max":
        values = [1 - v for v in values]
    schedule = sched("plateau", metric=metric, factor=0.5, patience=2, threshold=1e-3, min_lr=0.02)
    ours_opt, torch_opt = optimizer(0.1), optimizer(0.1)
    ours = Scheduler(ours_opt, schedule, 20, 3)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, mode=mode, factor=0.5, patience=2,
                                                           threshold=1e-3, min_lr=0.02)
    seen = []
    for v in values:
        for _ in range(3):
            ours.step_batch()  # plateau ignores batches
        ours.step_epoch({metric: v, "other": 123.0})
        reference.step(v)
        assert ours.current_lr == pytest.approx(torch_opt.param_groups[0]["lr"], rel=1e-12)
        seen.append(ours.current_lr)
    assert seen[-1] == pytest.approx(0.02)  # reduced several times, then held at min_lr
    assert len(set(seen)) >= 3


def test_plateau_without_the_metric_changes_nothing():
    opt = optimizer(0.1)
    scheduler = Scheduler(opt, sched("plateau", metric="val_accuracy", patience=0), 5, 2)
    for _ in range(5):
        scheduler.step_epoch({"val_loss": 1.0, "val_accuracy": None})
    assert scheduler.current_lr == 0.1


@pytest.mark.parametrize("kind", ["cosine", "plateau"])
def test_state_dict_resumes_the_schedule(kind):
    schedule = sched(kind, interval="batch", warmup=3) if kind == "cosine" else sched(kind, patience=0)
    metrics = [{"val_loss": v} for v in (1.0, 2.0, 3.0, 0.5, 0.6, 0.7)]

    def run(opt, scheduler, epochs):
        lrs = []
        for m in epochs:
            for _ in range(4):
                lrs.append(scheduler.current_lr)
                scheduler.step_batch()
            scheduler.step_epoch(m)
        return lrs

    opt = optimizer(0.3)
    straight = run(opt, Scheduler(opt, schedule, 6, 4), metrics)
    first_opt = optimizer(0.3)
    first = Scheduler(first_opt, schedule, 6, 4)
    head = run(first_opt, first, metrics[:3])
    resumed_opt = optimizer(0.3)
    resumed = Scheduler(resumed_opt, schedule, 6, 4)
    resumed_opt.load_state_dict(first_opt.state_dict())
    resumed.load_state_dict(first.state_dict())
    assert head + run(resumed_opt, resumed, metrics[3:]) == pytest.approx(straight)


def test_unknown_schedule_is_an_error():
    with pytest.raises(ValueError, match="unknown schedule"):
        lr_factor({"type": "zigzag"}, 0, 1)


def test_the_module_does_not_import_torch():
    code = ("import sys; import netbuilder.train.schedules as s; "
            "s.planned_lr_curve({'type': 'cosine', 'warmup': 2}, 0.1, 3, 4); "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)

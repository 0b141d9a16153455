"""Learning-rate schedules: the formulas, the planned curve, and a scheduler for a live optimizer.

Pure Python: the configuration panel imports this module to preview the curve while the user
edits, so nothing here may pull in torch. `Scheduler` only touches `optimizer.param_groups`.

Semantics shared by every schedule:

* `t` counts intervals from 0 — epochs when the section's `interval` is "epoch", batches when
  it is "batch". The first batch of a run trains with the rate for t = 0.
* `total` is the number of intervals in the run: `epochs`, or `epochs * steps_per_epoch`.
* Every formula gives a factor on the base learning rate `lr0` (the optimizer's `lr`).

The formulas (`lr_factor`):

* constant:      1
* step:          γ^floor(t / step_size)
* piecewise:     factors[i], i = number of milestones ≤ t
* exponential:   exp(−k·t)
* inverse-time:  1 / (1 + k·t)
* linear:        (1 − t/τ) + (t/τ)·floor_fraction for t < τ, then floor_fraction
* cosine:        (t + 1)/warmup for t < warmup (linear warm-up from 0, never exactly 0),
                 then min_fraction + (1 − min_fraction)·(1 + cos(π·(t − warmup)/(total − warmup)))/2
* one-cycle:     the shape of PyTorch's OneCycleLR with cosine annealing, with lr0 as the peak:
                 rises from 1/div_factor to 1 over the first pct_start·total intervals, then falls
                 to 1/final_div_factor at the last interval. (PyTorch ends at 1/(div·final_div);
                 the settings here define the end rate as lr0/final_div, and that is what it is.)
* plateau:       PyTorch's ReduceLROnPlateau: after more than `patience` epochs without a relative
                 improvement of `threshold` in the metric (minimised for val_loss, maximised for
                 val_accuracy), lr ← max(lr·factor, min_lr). It depends on the metrics, so it is
                 evaluated at the end of each epoch whatever `interval` says, and it cannot be
                 planned: `planned_lr_curve` draws it flat (see `plateau_note`).
"""
from __future__ import annotations

import math

from ..core.settings import SCHEDULES, default_schedule

PLATEAU_NOTE = ("Reduce-on-plateau depends on the validation metric, so the curve cannot be planned: "
                "it is drawn at the base rate and drops by the factor whenever the metric stalls.")


def complete(schedule: dict) -> dict:
    """The schedule with every missing hyperparameter at its default; unknown types are an error."""
    kind = schedule.get("type")
    if kind not in SCHEDULES:
        raise ValueError(f"unknown schedule {kind!r}; expected one of: {', '.join(SCHEDULES)}")
    full = default_schedule(kind)
    full.update(schedule)
    if kind == "piecewise" and len(full["factors"]) != len(full["milestones"]) + 1:
        raise ValueError(f"a piecewise schedule needs one more factor than milestones: "
                         f"{len(full['milestones'])} milestones, {len(full['factors'])} factors")
    if full["interval"] not in ("epoch", "batch"):
        raise ValueError(f"schedule interval must be 'epoch' or 'batch', got {full['interval']!r}")
    return full


def plateau_note(schedule: dict) -> str | None:
    """A sentence for the preview when the schedule cannot be planned ahead, else None."""
    return PLATEAU_NOTE if schedule.get("type") == "plateau" else None


def _cosine_between(start: float, end: float, progress: float) -> float:
    """Half a cosine from `start` (progress 0) to `end` (progress 1)."""
    return end + (start - end) * (1.0 + math.cos(math.pi * progress)) / 2.0


def lr_factor(schedule: dict, t: int, total: int) -> float:
    """The multiplier on the base learning rate at interval `t` (from 0) of a run of `total` intervals.

    `schedule` is a settings section ({"type": ..., hyperparameters...}); missing keys take their
    defaults. See the module docstring for each formula. Plateau returns 1: its reductions depend
    on metrics and are applied by `Scheduler`.
    """
    return _factor(complete(schedule), t, total)


def _factor(s: dict, t: int, total: int) -> float:
    """`lr_factor` for a schedule already passed through `complete` (the per-batch hot path)."""
    kind = s["type"]
    total = max(int(total), 1)
    if kind in ("constant", "plateau"):
        return 1.0
    if kind == "step":
        return s["gamma"] ** (t // s["step_size"])
    if kind == "piecewise":
        # Counting rather than bisecting keeps "milestones ≤ t" literal even if the list is unsorted.
        return float(s["factors"][sum(1 for m in s["milestones"] if m <= t)])
    if kind == "exponential":
        return math.exp(-s["k"] * t)
    if kind == "inverse-time":
        return 1.0 / (1.0 + s["k"] * t)
    if kind == "linear":
        tau, floor = s["tau"], s["floor_fraction"]
        if t >= tau:
            return float(floor)
        return (1.0 - t / tau) + (t / tau) * floor
    if kind == "cosine":
        warmup, floor = s["warmup"], s["min_fraction"]
        if t < warmup:
            return (t + 1) / warmup
        span = total - warmup
        progress = 1.0 if span <= 0 else min((t - warmup) / span, 1.0)
        return _cosine_between(1.0, floor, progress)
    if kind == "one-cycle":
        start, end = 1.0 / s["div_factor"], 1.0 / s["final_div_factor"]
        # Same phase boundaries as PyTorch's OneCycleLR: the peak sits at step pct_start·total − 1
        # and the floor at the last step, total − 1.
        peak_at = s["pct_start"] * total - 1.0
        last = total - 1.0
        if t <= peak_at:
            return _cosine_between(start, 1.0, t / peak_at if peak_at > 0 else 1.0)
        span = last - peak_at
        progress = 1.0 if span <= 0 else min((t - peak_at) / span, 1.0)
        return _cosine_between(1.0, end, progress)
    raise AssertionError(f"schedule {kind!r} has no formula")  # complete() admits only known types


def planned_lr_curve(schedule: dict, base_lr: float, epochs: int, steps_per_epoch: int) -> list[float]:
    """The learning rate of every batch of the run, in order, without training.

    Equals what `Scheduler` applies batch by batch. A plateau schedule is drawn flat at `base_lr`:
    when it reduces depends on the validation metric (see `plateau_note`).
    """
    s = complete(schedule)
    epochs, steps = max(int(epochs), 0), max(int(steps_per_epoch), 0)
    if s["type"] == "plateau":
        return [float(base_lr)] * (epochs * steps)
    if s["interval"] == "batch":
        total = epochs * steps
        return [base_lr * _factor(s, t, total) for t in range(total)]
    curve: list[float] = []
    for epoch in range(epochs):
        curve.extend([base_lr * _factor(s, epoch, epochs)] * steps)
    return curve


class Scheduler:
    """Drives the learning rate of a torch optimizer through a run.

    Call `step_batch()` after every optimizer step and `step_epoch(metrics)` at the end of every
    epoch; the one that matches the schedule's `interval` advances it, the other does nothing
    (plateau listens to `step_epoch` only). Each param group keeps its own base rate (its `lr`
    when the scheduler was made) and gets base · factor.
    """

    def __init__(self, optimizer, schedule: dict, epochs: int, steps_per_epoch: int):
        self.optimizer = optimizer
        self.schedule = complete(schedule)
        self.kind = self.schedule["type"]
        self.interval = self.schedule["interval"]
        self.total = epochs * steps_per_epoch if self.interval == "batch" else epochs
        self.t = 0
        self.base_lrs = [float(group["lr"]) for group in optimizer.param_groups]
        if self.kind == "plateau":
            self.mode = "max" if self.schedule["metric"] == "val_accuracy" else "min"
            self.best = -math.inf if self.mode == "max" else math.inf
            self.bad_epochs = 0
        self._apply()

    @property
    def current_lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def factor(self) -> float:
        """The planned factor at the current interval (plateau: the reductions so far)."""
        if self.kind == "plateau":
            return self.current_lr / self.base_lrs[0] if self.base_lrs[0] else 1.0
        return _factor(self.schedule, self.t, self.total)

    def _apply(self) -> None:
        if self.kind == "plateau":
            return
        f = _factor(self.schedule, self.t, self.total)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * f

    def step_batch(self) -> None:
        if self.interval == "batch" and self.kind != "plateau":
            self.t += 1
            self._apply()

    def step_epoch(self, metrics: dict | None = None) -> None:
        if self.kind == "plateau":
            self._plateau_step(metrics or {})
        elif self.interval == "epoch":
            self.t += 1
            self._apply()

    def _improved(self, value: float) -> bool:
        # Relative threshold, as ReduceLROnPlateau's default threshold_mode="rel".
        threshold = self.schedule["threshold"]
        if self.mode == "min":
            return value < self.best * (1.0 - threshold)
        return value > self.best * (1.0 + threshold)

    def _plateau_step(self, metrics: dict) -> None:
        value = metrics.get(self.schedule["metric"])
        if value is None:
            return  # the run has no such metric (e.g. accuracy of a regression): nothing to judge
        value = float(value)
        self.t += 1
        if self._improved(value):
            self.best = value
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        if self.bad_epochs > self.schedule["patience"]:
            for group in self.optimizer.param_groups:
                old = group["lr"]
                new = max(old * self.schedule["factor"], self.schedule["min_lr"])
                if old - new > 1e-8:  # PyTorch's eps: ignore changes too small to matter
                    group["lr"] = new
            self.bad_epochs = 0

    def state_dict(self) -> dict:
        state = {"t": self.t, "base_lrs": list(self.base_lrs),
                 "lrs": [float(g["lr"]) for g in self.optimizer.param_groups]}
        if self.kind == "plateau":
            state.update(best=self.best, bad_epochs=self.bad_epochs)
        return state

    def load_state_dict(self, state: dict) -> None:
        self.t = int(state["t"])
        self.base_lrs = [float(v) for v in state["base_lrs"]]
        for group, lr in zip(self.optimizer.param_groups, state["lrs"]):
            group["lr"] = float(lr)
        if self.kind == "plateau":
            self.best = float(state["best"])
            self.bad_epochs = int(state["bad_epochs"])

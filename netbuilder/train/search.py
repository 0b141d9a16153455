"""Random hyperparameter search, the way the course recommends it: random search beats a grid
(each trial tries a new value of every parameter); learning rates and regularization strengths
are drawn log-uniformly (10**uniform(a, b)), dropout uniformly; search coarsely first (short runs,
wide ranges), then narrow the ranges around the best trials and search again with more epochs;
an optimum at the edge of a range means the range should move.

    space = parse_ranges(["lr=1e-4:1e-1", "l2=1e-6:1e-2", "dropout=0:0.5"])
    trials = run_search(project, space, trials=10, overrides=Overrides(epochs=1, limit=5000))
    best = trials[0]                    # sorted best first
    edge_notes(space, best)             # "lr 0.093 is near the top of its range ..."
    apply_values(project, best.values)  # a project with the best values
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field
from typing import Callable

# What can be searched: where the value lives and how it is drawn.
SEARCHABLE = {
    "lr": ("optimizer.lr", "log"),
    "l2": ("regularization.l2", "log"),
    "l1": ("regularization.l1", "log"),
    "weight_decay": ("regularization.weight_decay", "log"),
    "momentum": ("optimizer.momentum", "linear"),
    "label_smoothing": ("regularization.label_smoothing", "linear"),
    "dropout": ("every Dropout / Dropout2d node's p", "linear"),
}
EDGE_SHARE = 0.1   # the outer tenth of a range (on its own scale) counts as its edge


class SearchError(ValueError):
    """A range that cannot be searched, with a message naming it."""


@dataclass
class Range:
    name: str
    low: float
    high: float
    scale: str   # "log" or "linear"

    def sample(self, rng: random.Random) -> float:
        if self.scale == "log":
            return 10 ** rng.uniform(math.log10(self.low), math.log10(self.high))
        return rng.uniform(self.low, self.high)

    def position(self, value: float) -> float:
        """Where value sits in the range, 0 (low end) to 1 (high end), on the range's own scale."""
        if self.high == self.low:
            return 0.5
        if self.scale == "log":
            return (math.log10(value) - math.log10(self.low)) / (math.log10(self.high) - math.log10(self.low))
        return (value - self.low) / (self.high - self.low)


@dataclass
class Trial:
    number: int
    values: dict
    score: float | None = None          # what the trials are ranked by (higher is better)
    metric: str = ""
    val_accuracy: float | None = None
    val_loss: float | None = None
    train_loss: float | None = None
    seconds: float = 0.0
    error: str | None = None
    history: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"trial": self.number, "values": self.values, "score": self.score, "metric": self.metric,
                "val_accuracy": self.val_accuracy, "val_loss": self.val_loss, "train_loss": self.train_loss,
                "seconds": self.seconds, "error": self.error}


def parse_ranges(specs: list[str]) -> list[Range]:
    """"lr=1e-4:1e-1" → a log-uniform range for the learning rate (see SEARCHABLE)."""
    ranges = []
    for spec in specs:
        name, _, bounds = spec.partition("=")
        name = name.strip()
        if name not in SEARCHABLE:
            raise SearchError(f"{name!r} cannot be searched; choose from {', '.join(SEARCHABLE)}")
        low_text, sep, high_text = bounds.partition(":")
        try:
            low, high = float(low_text), float(high_text)
        except ValueError:
            raise SearchError(f"{spec!r}: write the range as {name}=LOW:HIGH, e.g. lr=1e-4:1e-1") from None
        if not sep or low > high:
            raise SearchError(f"{spec!r}: write the range as {name}=LOW:HIGH with LOW ≤ HIGH")
        scale = SEARCHABLE[name][1]
        if scale == "log" and low <= 0:
            raise SearchError(f"{spec!r}: {name} is drawn log-uniformly, so both ends must be above 0")
        if name == "dropout" and not 0 <= low <= high < 1:
            raise SearchError(f"{spec!r}: dropout must lie in [0, 1)")
        if any(r.name == name for r in ranges):
            raise SearchError(f"{name} is given twice")
        ranges.append(Range(name, low, high, scale))
    return ranges


def default_ranges(project) -> list[Range]:
    """Without ranges: the learning rate a decade and a half either side of the project's, and L2."""
    lr = float(project.settings["optimizer"]["lr"])
    return [Range("lr", lr / 30, min(lr * 30, 10.0), "log"), Range("l2", 1e-6, 1e-2, "log")]


def apply_values(project, values: dict):
    """A copy of the project with the trial's values set."""
    project = project.copy()
    for name, value in values.items():
        if name == "dropout":
            for node in project.graph.nodes.values():
                if node.type in ("Dropout", "Dropout2d"):
                    project.graph.set_param(node.id, "p", float(value))
            continue
        section, key = SEARCHABLE[name][0].split(".")
        project.settings[section][key] = float(value)
    return project


def _score(trial: Trial, history: list[dict]) -> None:
    last = history[-1] if history else {}
    trial.val_accuracy = last.get("val_accuracy")
    trial.val_loss = last.get("val_loss")
    trial.train_loss = last.get("train_loss")
    if trial.val_accuracy is not None:
        trial.score, trial.metric = trial.val_accuracy, "validation accuracy"
    elif trial.val_loss is not None and math.isfinite(trial.val_loss):
        trial.score, trial.metric = -trial.val_loss, "validation loss"
    elif trial.train_loss is not None and math.isfinite(trial.train_loss):
        trial.score, trial.metric = -trial.train_loss, "training loss"


def run_search(project, ranges: list[Range], *, trials: int = 10, overrides=None, project_dir=None, seed: int = 0,
               data=None, progress: Callable[[Trial, int], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> list[Trial]:
    """Train `trials` short runs with values drawn from `ranges`; best first. A trial that fails
    (diverges, say) is kept with its error and ranked last. The data are loaded once."""
    from .engine import Trainer, TrainingError
    if not ranges:
        raise SearchError("nothing to search: give at least one range")
    if "dropout" in {r.name for r in ranges} and not any(
            n.type in ("Dropout", "Dropout2d") for n in project.graph.nodes.values()):
        raise SearchError("dropout is searched but the network has no Dropout layer")
    for r in ranges:
        section, _, key = SEARCHABLE[r.name][0].partition(".")
        if section == "optimizer" and key not in project.settings["optimizer"]:
            raise SearchError(f"{r.name} is searched but the {project.settings['optimizer']['type']} optimizer has "
                              f"no {key}")
    rng = random.Random(seed)
    done: list[Trial] = []
    for number in range(1, trials + 1):
        if should_stop is not None and should_stop():
            break
        values = {r.name: r.sample(rng) for r in ranges}
        trial = Trial(number, values)
        started = time.perf_counter()
        trainer = Trainer(apply_values(project, values), overrides=overrides, project_dir=project_dir, data=data)
        try:
            trainer.run()
        except TrainingError as exc:   # divergence and the like: a result too, for this trial
            trial.error = str(exc)
        data = trainer.data            # loaded by the first trial, shared by the rest
        trial.history = list(trainer.history)
        _score(trial, trial.history)
        trial.seconds = time.perf_counter() - started
        done.append(trial)
        if progress is not None:
            progress(trial, trials)
    return sorted(done, key=lambda t: (t.score is None, -(t.score if t.score is not None else 0.0), t.number))


def edge_notes(ranges: list[Range], best: Trial) -> list[str]:
    """Where the best trial's value sits at the edge of its range: the range should move."""
    notes = []
    for r in ranges:
        value = best.values.get(r.name)
        if value is None or r.high == r.low:
            continue
        where = r.position(value)
        if where >= 1 - EDGE_SHARE:
            notes.append(f"{r.name} = {value:.3g} is near the top of its range ({r.low:g} to {r.high:g}): "
                         f"search higher values too")
        elif where <= EDGE_SHARE:
            notes.append(f"{r.name} = {value:.3g} is near the bottom of its range ({r.low:g} to {r.high:g}): "
                         f"search lower values too")
    return notes

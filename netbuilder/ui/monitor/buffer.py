"""The monitor's memory: everything a run has reported so far, kept on the GUI thread, and the
one timer that redraws the plots.

The worker's signals land here (`on_started`, `on_batches`, `on_probe`, `on_epoch`, `on_finished`).
Storing is cheap (numbers are appended to preallocated arrays; heavy payloads replace the
previous one, so only the latest probe is ever drawn). Each kind of data has a version number;
on every tick the timer redraws only the panels that are visible and whose data changed since
they last drew, so a run with nine panels costs about as much as the one on screen.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

@dataclass
class RunCurves:
    """An earlier run's curves, drawn beside the current run for comparison."""
    label: str
    color: str
    steps: np.ndarray = field(default_factory=lambda: np.empty(0))        # iteration index
    loss: np.ndarray = field(default_factory=lambda: np.empty(0))         # per-iteration training loss
    epochs: np.ndarray = field(default_factory=lambda: np.empty(0))       # 1, 2, ...
    epoch_steps: np.ndarray = field(default_factory=lambda: np.empty(0))  # iteration at each epoch's end
    train_loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    val_loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    train_accuracy: np.ndarray = field(default_factory=lambda: np.empty(0))
    val_accuracy: np.ndarray = field(default_factory=lambda: np.empty(0))


FAMILIES = ("run", "loss", "lr", "accuracy", "updates", "probe", "epoch", "overlay")


class GrowingArray:
    """A float64 column that grows by doubling; `view()` is the filled part, without copying."""

    def __init__(self, capacity: int = 4096):
        self.data = np.empty(capacity, dtype=np.float64)
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
        n = len(values)
        if self.size + n > len(self.data):
            grown = np.empty(max(len(self.data) * 2, self.size + n), dtype=np.float64)
            grown[:self.size] = self.data[:self.size]
            self.data = grown
        self.data[self.size:self.size + n] = values
        self.size += n

    def view(self) -> np.ndarray:
        return self.data[:self.size]

    def clear(self) -> None:
        self.size = 0

    def __len__(self) -> int:
        return self.size


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """Exponential moving average with bias correction (the first values are not pulled to 0)."""
    out = np.empty_like(values)
    state, correction = 0.0, 1.0
    for i, v in enumerate(values):
        if not np.isfinite(v):
            out[i] = np.nan
            continue
        state = weight * state + (1 - weight) * v
        correction *= weight
        out[i] = state / (1 - correction) if correction < 1 else v
    return out


class MonitorBuffer(QObject):
    """Data of the current run plus the redraw timer. Views register with `add_view`.

    While a run trains, drawing gets a budget: the panels on screen together may use about
    `budget` of one processor (5 %). Each panel's cost (refresh plus paint, measured) sets how
    often it may redraw, so a cheap loss curve updates several times a second while an
    expensive set of histograms waits its turn — and training, which shares the processor,
    is not slowed by the plots. The latest data is always what gets drawn."""

    budget = 0.05

    changed = Signal(str)  # a family whose data changed (for listeners other than views)

    def __init__(self, parent=None, hz: float = 20.0):
        super().__init__(parent)
        self.views: list = []
        self.smoothing = 0.9
        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / hz))
        self.timer.timeout.connect(self.tick)
        self._idle_ticks = 0
        self.live = False
        self.overlays: list = []
        self.redraw_seconds = 0.0  # time spent drawing (for the benchmark)
        self.redraws = 0
        self.clear()

    # ------------------------------------------------------------------ state
    def clear(self) -> None:
        self.info: dict = {}
        self.settings: dict = {}
        self.rf_geometry: dict = {}
        self.steps = GrowingArray()
        self.epoch_of_step = GrowingArray()
        self.losses = GrowingArray()
        self.smoothed = GrowingArray()
        self.lrs = GrowingArray()
        self._ema = 0.0
        self._ema_correction = 1.0
        self.epochs: list[dict] = []
        self.ratio_steps = GrowingArray(256)
        self.ratios: dict[str, GrowingArray] = {}
        self.probe: dict | None = None
        self.points: np.ndarray | None = None
        self.labels: np.ndarray | None = None
        self.record: dict | None = None
        self.summary: dict | None = None
        self.error: str | None = None
        self.status = ""
        # Versions only grow, so a view never mistakes new data for what it drew before.
        old = getattr(self, "versions", {})
        self.versions = {f: old.get(f, 0) + 1 for f in FAMILIES}

    def bump(self, *families: str) -> None:
        for family in families:
            self.versions[family] += 1
            self.changed.emit(family)
        self._idle_ticks = 0
        if not self.timer.isActive():
            self.timer.start()

    @property
    def classes(self) -> list[str]:
        return list(self.info.get("classes") or [])

    @property
    def steps_per_epoch(self) -> int:
        return int(self.info.get("steps_per_epoch") or 0)

    # ------------------------------------------------------------------ from the worker
    def on_started(self, info: dict, settings: dict | None = None, rf_geometry: dict | None = None) -> None:
        self.clear()
        self.info = dict(info)
        self.settings = dict(settings or {})
        self.rf_geometry = dict(rf_geometry or {})
        self.live = True
        self.bump("run")

    def on_batches(self, rows: np.ndarray) -> None:
        """rows: (n, 5) float64 — step, epoch, batch, loss, lr."""
        if rows is None or len(rows) == 0:
            return
        self.steps.extend(rows[:, 0])
        self.epoch_of_step.extend(rows[:, 1])
        losses = rows[:, 3]
        self.losses.extend(losses)
        self.lrs.extend(rows[:, 4])
        w = self.smoothing
        out = np.empty(len(losses))
        state, correction = self._ema, self._ema_correction
        for i, v in enumerate(losses.tolist()):
            if v != v or v in (float("inf"), float("-inf")):
                out[i] = np.nan
                continue
            state = w * state + (1 - w) * v
            correction *= w
            out[i] = state / (1 - correction) if correction < 1 else v
        self._ema, self._ema_correction = state, correction
        self.smoothed.extend(out)
        self.bump("loss", "lr")

    def set_smoothing(self, weight: float) -> None:
        weight = float(min(max(weight, 0.0), 0.999))
        if weight == self.smoothing:
            return
        self.smoothing = weight
        values = smooth(self.losses.view(), weight)
        self.smoothed.clear()
        self.smoothed.extend(values)
        finite = np.isfinite(self.losses.view())
        self._ema_correction = weight ** int(finite.sum())
        self._ema = (values[finite][-1] * (1 - self._ema_correction)) if finite.any() else 0.0
        self.bump("loss")

    def on_probe(self, probe: dict) -> None:
        ratios = probe.get("update_ratios") or {}
        if ratios:
            n = len(self.ratio_steps)
            self.ratio_steps.extend(np.array([probe.get("step", n)], dtype=np.float64))
            for name, value in ratios.items():
                column = self.ratios.get(name)
                if column is None:
                    column = self.ratios[name] = GrowingArray(256)
                    if n:
                        column.extend(np.full(n, np.nan))
                column.extend(np.array([value], dtype=np.float64))
            for name, column in self.ratios.items():
                if len(column) < n + 1:
                    column.extend(np.array([np.nan]))
            self.bump("updates")
        if probe.get("points") is not None:
            self.points, self.labels = probe["points"], probe.get("labels")
        self.probe = probe
        self.bump("probe")

    def on_epoch(self, record: dict) -> None:
        light = {k: v for k, v in record.items() if k not in ("confusion", "misclassified", "effective_rf", "rf_sample")}
        self.epochs.append(light)
        self.record = record
        self.bump("loss", "accuracy", "epoch")

    def on_finished(self, summary: dict) -> None:
        self.summary = dict(summary)
        if not len(self.steps):
            self.status = "The run stopped before its first batch"
        self.live = False
        self.bump("accuracy", "run")

    def on_failed(self, message: str) -> None:
        self.error = message
        self.status = f"The run failed — {message}"
        self.live = False
        self.bump("run", "loss")

    def set_status(self, message: str) -> None:
        """What the run is doing before its first batch (shown where the loss curve will be)."""
        if message != self.status:
            self.status = message
            self.bump("loss")

    def set_overlays(self, overlays: list) -> None:
        """Curves of earlier runs to draw beside the current one (see run_history.RunCurves)."""
        self.overlays = list(overlays)
        self.bump("overlay")

    # ------------------------------------------------------------------ derived values
    def best_epoch(self) -> int | None:
        if self.summary and self.summary.get("best_epoch") is not None:
            return int(self.summary["best_epoch"])
        scored = [(e["val_loss"], e["epoch"]) for e in self.epochs if e.get("val_loss") is not None]
        if not scored:
            scored = [(e["train_loss"], e["epoch"]) for e in self.epochs if e.get("train_loss") is not None]
        return min(scored)[1] if scored else None

    def early_stop_epoch(self) -> int | None:
        for e in self.epochs:
            if e.get("early_stop"):
                return int(e["epoch"])
        return None

    # ------------------------------------------------------------------ drawing
    def add_view(self, view) -> None:
        view.seen = {}
        self.views.append(view)
        view.buffer = self

    def request(self, view=None) -> None:
        """Redraw soon (a view that just became visible, a changed option)."""
        if view is not None:
            view.seen = {}
        self._idle_ticks = 0
        if not self.timer.isActive():
            self.timer.start()

    def interval(self, view, shown: int) -> float:
        """Seconds this view waits between redraws now."""
        interval = view.min_interval
        if self.live:
            view.settle_cost()
            interval = max(interval, shown * getattr(view, "cost", 0.0) / self.budget)
        return interval

    def tick(self) -> None:
        drew = False
        now = time.perf_counter()
        due = [v for v in self.views if not all(v.seen.get(f) == self.versions[f] for f in v.families)]
        shown = sum(1 for v in self.views if v.is_shown())
        for view in due:
            if not view.is_shown():
                continue
            if now - getattr(view, "last_draw", 0.0) < self.interval(view, shown):
                drew = True  # still owes a redraw: keep ticking
                continue
            start = time.perf_counter()
            view.seen = {f: self.versions[f] for f in view.families}
            view.refresh(self)
            view.last_draw = time.perf_counter()
            spent = view.last_draw - start
            if hasattr(view, "note_cost"):
                view.note_cost(spent)
            self.redraw_seconds += spent
            self.redraws += 1
            drew = True
        if not drew and not self.live:
            self._idle_ticks += 1
            if self._idle_ticks > 5:
                self.timer.stop()

    def redraw_all(self) -> None:
        """Draw every view now, visible or not (before a screenshot or an export)."""
        for view in self.views:
            view.seen = {f: self.versions[f] for f in view.families}
            view.refresh(self)
            view.last_draw = time.perf_counter()

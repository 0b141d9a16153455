"""Runs the training engine on a worker thread and turns its callbacks into Qt signals.

The engine knows nothing of Qt: it calls `Callback` hooks on the worker thread with plain
numbers and numpy arrays. `TrainingWorker` (a QObject moved to a QThread) runs it and owns the
RunControl the window uses to stop, pause and resume. Its bridge callback emits signals that
Qt queues to the GUI thread, with only small arrays: per-iteration values go out once per
burst (the engine reads them off the device every `log_every` steps), and the big probe
payloads (histograms, filters, decision boundaries, receptive fields) are turned here, off the
GUI thread, into the small images and arrays the plots show.

PyTorch is imported on the worker thread when the first run starts, never when this module loads.
"""
from __future__ import annotations

import os
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from ..train.callbacks import Callback, RunControl
from . import run_history
from .monitor.boundary import prepare_boundary
from .monitor.confusion import prepare_misclassified
from .monitor.filters import prepare_filters
from .monitor.histograms import prepare_histograms
from .monitor.receptive import prepare_fields

HEAVY_RECORD_KEYS = ("confusion", "misclassified", "effective_rf", "rf_sample")
_ALLOCATOR_TUNED = False


def prepare_process() -> None:
    """Settings for training beside a window, made before PyTorch loads (they cannot change later).

    PyTorch's worker threads normally spin on the processor between operations; next to a GUI
    thread on a small machine that spinning takes the cores the window and the training thread
    need (the scheduler often pauses the training thread rather than the spinner), so here they
    wait passively. A value the user set in the environment is kept."""
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    tune_allocator()


def tune_allocator() -> None:
    """Keep training on a worker thread as fast as on the main thread (Linux, glibc).

    A network's activations are megabytes each and are freed and re-allocated every step. On the
    main thread the C allocator soon keeps such blocks for reuse; a second thread gets its own,
    smaller memory arena that maps and unmaps them from the kernel every time, which costs about
    a tenth of the training speed. One arena, with large blocks kept, makes both threads equal.
    Called once, before the first training thread starts."""
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED or not sys.platform.startswith("linux"):
        return
    _ALLOCATOR_TUNED = True
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
    mallopt(M_ARENA_MAX, 1)
    mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024)
    mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024)


# --------------------------------------------------------------------------- errors
@dataclass
class RunError:
    """Why a run failed, for a dialog: a kind, a title naming the cause, the engine's message
    (what to do about it) and the technical details."""
    kind: str
    title: str
    message: str
    details: str = ""

    def __str__(self) -> str:
        return f"{self.title}: {self.message}"


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def describe_error(exc: BaseException) -> RunError:
    """Name the cause of an engine failure: divergence, memory, data, the network, a checkpoint."""
    names = _class_names(exc)
    text = str(exc) or type(exc).__name__
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    lowered = text.lower()
    if "DivergenceError" in names:
        return RunError("divergence", "Training diverged", text, details)
    if "OutOfMemoryError" in names or isinstance(exc, MemoryError) or "out of memory" in lowered:
        return RunError("memory", "Out of memory",
                        f"{text.splitlines()[0] if text else 'the device ran out of memory'}\n\nLower the batch size, "
                        f"use a smaller network, or train on another device.", details)
    if "DataError" in names or isinstance(exc, FileNotFoundError):
        missing = isinstance(exc, FileNotFoundError) or any(w in lowered for w in ("not found", "no such", "missing",
                                                                                    "cannot find", "could not find"))
        return RunError("data", "Data not found" if missing else "Data problem", text, details)
    if "CompileError" in names:
        return RunError("model", "The network cannot be built", text, details)
    if "CheckpointError" in names:
        return RunError("checkpoint", "Checkpoint problem", text, details)
    if "TrainingError" in names:
        return RunError("training", "Training cannot continue", text, details)
    if isinstance(exc, ImportError):
        return RunError("setup", "Training is not available", f"{text}\n\nIs PyTorch installed?", details)
    return RunError("internal", "Training failed", f"{type(exc).__name__}: {text}", details)


# --------------------------------------------------------------------------- payloads
def prepare_probe(probe: dict, send_points: bool) -> dict:
    """The monitor's view of an engine probe: histograms by layer, a filter mosaic, a coloured
    decision boundary. Small arrays only."""
    out = {
        "step": int(probe.get("step", 0)), "epoch": int(probe.get("epoch", 0)), "batch": int(probe.get("batch", 0)),
        "update_ratios": {k: float(v) for k, v in (probe.get("update_ratios") or {}).items()},
        "histograms": prepare_histograms(probe),
        "filters": prepare_filters(probe.get("filters")),
        "first_layer": next(iter(probe.get("weights") or {}), None),
        "boundary": prepare_boundary(probe.get("decision_boundary")),
    }
    if send_points and probe.get("points") is not None:
        out["points"] = np.asarray(probe["points"], dtype=np.float32)[:2000].copy()
        labels = probe.get("labels")
        out["labels"] = None if labels is None else np.asarray(labels)[:2000].astype(np.int64)
    return out


def prepare_record(record: dict) -> dict:
    out = {k: v for k, v in record.items() if k not in HEAVY_RECORD_KEYS}
    for key, value in list(out.items()):
        if isinstance(value, np.generic):
            out[key] = value.item()
    confusion = record.get("confusion")
    out["confusion"] = None if confusion is None else np.array(confusion, dtype=np.int64)
    out["misclassified_prepared"] = prepare_misclassified(record.get("misclassified"))
    out["fields_prepared"] = prepare_fields(record.get("effective_rf"), record.get("rf_sample"))
    return out


def _plain_dict(data: dict) -> dict:
    out = {}
    for key, value in data.items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


class _Bridge(Callback):
    """The engine's callback on the worker thread: collects, prepares, emits."""

    FLUSH_SECONDS = 0.1

    def __init__(self, worker: "TrainingWorker"):
        self.worker = worker
        self.log_every = 20
        self.steps_per_epoch = 0
        self.pending: list[tuple] = []
        self.rows: list[tuple] = []  # every iteration, for the run folder
        self.last_emit = time.perf_counter()
        self.points_sent = False
        self.probe_seconds = 0.0

    def flush(self) -> None:
        if self.pending:
            rows = np.array(self.pending, dtype=np.float64)
            self.pending = []
            self.worker.batches.emit(rows)
        self.last_emit = time.perf_counter()

    def on_status(self, message, fraction):
        self.worker.status.emit(str(message), None if fraction is None else float(fraction))

    def on_train_start(self, info):
        self.steps_per_epoch = int(info.get("steps_per_epoch") or 0)
        self.worker.info = dict(info)
        self.worker.started.emit(_plain_dict(info))

    def on_batch_end(self, step, epoch, batch, loss, lr):
        row = (step, epoch, batch, loss, lr)
        self.pending.append(row)
        self.rows.append(row)
        if (len(self.pending) >= self.log_every or batch == self.steps_per_epoch - 1
                or time.perf_counter() - self.last_emit > self.FLUSH_SECONDS):
            self.flush()

    def on_probe(self, probe):
        start = time.perf_counter()
        prepared = prepare_probe(probe, send_points=not self.points_sent)
        self.points_sent = self.points_sent or "points" in prepared
        self.probe_seconds += time.perf_counter() - start
        self.worker.probe.emit(prepared)

    def on_epoch_end(self, record):
        self.flush()
        self.worker.epoch_ended.emit(prepare_record(record))

    def on_checkpoint(self, path, epoch):
        self.worker.checkpoint.emit(str(path), int(epoch))

    def on_train_end(self, summary):
        self.flush()

    def on_exception(self, error):
        self.flush()


class TrainingWorker(QObject):
    """Trains one project once. Move it to a QThread, connect its signals, start the thread
    with `thread.started.connect(worker.run)`. Every signal carries plain Python or numpy data."""

    status = Signal(str, object)      # message, fraction in [0, 1] or None
    started = Signal(object)          # the engine's info: epochs, steps_per_epoch, classes, device, ...
    batches = Signal(object)          # (n, 5) float64: step, epoch, batch, loss, lr
    probe = Signal(object)            # prepare_probe(...)
    epoch_ended = Signal(object)      # prepare_record(...)
    checkpoint = Signal(str, int)
    finished = Signal(object)         # the summary (also after a stop)
    failed = Signal(object)           # RunError
    done = Signal()                   # always last

    def __init__(self, project, overrides: dict | None = None, run_dir: Path | None = None,
                 project_dir: Path | None = None, data=None):
        super().__init__()
        prepare_process()
        self.project = project
        self.overrides = dict(overrides or {})
        self.run_dir = Path(run_dir) if run_dir else None
        self.project_dir = Path(project_dir) if project_dir else None
        self.data = data
        self.control = RunControl()
        self.info: dict = {}
        self.summary: dict | None = None
        self.error: RunError | None = None
        self.bridge = _Bridge(self)
        self.trainer = None

    # control, callable from any thread
    def request_stop(self) -> None:
        self.control.request_stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    @Slot()
    def run(self) -> None:
        started = datetime.now()
        status = "failed"
        try:
            self.status.emit("Loading PyTorch…", None)
            from ..train.engine import Overrides, Trainer
            overrides = Overrides(**{k: v for k, v in self.overrides.items() if v is not None})
            trainer = Trainer(self.project, callbacks=[self.bridge], control=self.control, run_dir=self.run_dir,
                              project_dir=self.project_dir, overrides=overrides, data=self.data)
            self.trainer = trainer
            self.bridge.log_every = int(trainer.settings["training"].get("log_every") or 20)
            if self.control.stop_requested:  # stopped before it began
                raise _Cancelled()
            self.status.emit("Preparing data and network…", None)
            summary = trainer.run()
            self.bridge.flush()
            self.summary = _plain_dict(summary)
            status = "stopped" if summary.get("stopped") else "finished"
            self.finished.emit(self.summary)
        except _Cancelled:
            status = "stopped"
            self.summary = {"epochs": 0, "stopped": True, "early_stopped": False, "best_epoch": None}
            self.finished.emit(self.summary)
        except BaseException as exc:  # every failure reaches the window as a named cause
            self.bridge.flush()
            self.error = describe_error(exc)
            self.failed.emit(self.error)
        finally:
            self._write_run_files(started, status)
            self.trainer = None
            app = QCoreApplication.instance()
            if app is not None:
                # Back to the GUI thread, so that this object is also deleted there: Qt objects must
                # not be destroyed on the training thread while the GUI thread holds Python's lock.
                self.moveToThread(app.thread())
            self.done.emit()

    def _write_run_files(self, started: datetime, status: str) -> None:
        if self.run_dir is None or not (self.bridge.rows or self.info):
            return
        try:
            if self.bridge.rows:
                run_history.write_iterations(self.run_dir, np.array(self.bridge.rows, dtype=np.float64))
            info = {"started": started.isoformat(timespec="seconds"), "ended": datetime.now().isoformat(timespec="seconds"),
                    "status": status, **_plain_dict(self.info), "overrides": self.overrides}
            if self.error is not None:
                info["error"] = str(self.error)
            run_history.write_run_info(self.run_dir, info)
        except OSError:
            traceback.print_exc()


class _Cancelled(Exception):
    pass

"""The training loop: compile the graph, load the data, train, validate, checkpoint, test.

Qt-free. The GUI runs `Trainer.run()` on a worker thread and the CLI runs it directly; both
observe it through callbacks (plain numbers and numpy arrays) and steer it through a
RunControl (stop within one batch of training or evaluation, pause, resume). Values are read
off the device every `log_every` steps, never every step: a step only keeps its loss and scores
for the next read, so the loop runs as fast as a hand-written one (benchmarks/bench_epoch.py
measures both).
"""
from __future__ import annotations

import copy
import csv
import io
import json
import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..compile import build_module
from ..core.project import Project, save_json_atomic
from ..core.shapes import analyze
from . import probes
from .callbacks import Callback, CallbackList, RunControl


class TrainingError(RuntimeError):
    """A run that cannot start or continue; the message names the cause."""


class DivergenceError(TrainingError):
    """The loss became NaN or infinite."""


class CheckpointError(TrainingError):
    """A checkpoint that cannot be read or does not fit the project."""


def resolve_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise TrainingError("device 'cuda' was requested but no CUDA GPU is available; use --device cpu or auto")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise TrainingError("device 'mps' was requested but Apple's Metal backend is not available; use cpu or auto")
    return torch.device(requested)


def available_devices() -> list[str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def place_model(model: nn.Module, device: torch.device) -> nn.Module:
    """Move the model to `device`, in the memory layout its layers train fastest in there."""
    model.to(device)
    if device.type == "cpu" and any(isinstance(m, nn.Conv2d) for m in model.modules()):
        # oneDNN's convolutions run 15-25% faster on channels-last tensors (LeNet-5 and the CNN
        # template, forward and backward); the layout changes neither the maths nor saved weights.
        model.to(memory_format=torch.channels_last)
    return model


def fused_optimizer(device: torch.device) -> bool:
    """Whether to ask for torch's fused optimizer kernels on `device`. On the CPU they update every
    parameter in one pass instead of a Python loop over them: a seventh of a small network's step.
    GPUs keep torch's default (multi-tensor) implementation."""
    return device.type == "cpu"


def source_title(name: str) -> str:
    """A project name as generated source can hold it: characters Python source cannot contain (a
    NUL, unpaired surrogates) or that would garble a docstring (control characters) are replaced;
    quotes and backslashes are escaped by the code generator itself."""
    text = name.encode("utf-8", "replace").decode("utf-8")
    return "".join(c if c.isprintable() else " " for c in text)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


@dataclass
class Overrides:
    """Command-line or GUI overrides of the project's settings for one run."""
    epochs: int | None = None
    batch_size: int | None = None
    device: str | None = None
    dataset: str | None = None
    data_root: str | None = None
    limit: int | None = None

    def apply(self, settings: dict) -> dict:
        settings = copy.deepcopy(settings)
        if self.epochs is not None:
            settings["training"]["epochs"] = self.epochs
        if self.batch_size is not None:
            settings["training"]["batch_size"] = self.batch_size
        if self.device is not None:
            settings["training"]["device"] = self.device
        if self.dataset is not None:
            settings["data"]["dataset"] = self.dataset
        if self.data_root is not None:
            settings["data"]["root"] = self.data_root
        if self.limit is not None:
            settings["data"]["limit"] = self.limit
        return settings


METRIC_COLUMNS = ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds", "samples_per_second"]
EVALUATION_BATCH = 1000


class _PendingSteps:
    """Steps whose values are still on the device: read together, every `log_every` steps."""

    __slots__ = ("first_step", "losses", "sizes", "scores", "targets")

    def __init__(self, first_step: int):
        self.first_step = first_step
        self.losses: list[torch.Tensor] = []
        self.sizes: list[int] = []
        self.scores: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []

    def add(self, loss: torch.Tensor, size: int, scores: torch.Tensor | None, target: torch.Tensor) -> None:
        self.losses.append(loss)
        self.sizes.append(size)
        if scores is not None:
            self.scores.append(scores)
            self.targets.append(target)

    def __len__(self) -> int:
        return len(self.losses)


class _EpochTally:
    """Training loss and accuracy of one epoch, summed a burst of steps at a time."""

    def __init__(self, device: torch.device):
        self.loss_sum = 0.0
        self.seen = 0
        self.correct = torch.zeros((), device=device, dtype=torch.long)   # read once, at the epoch's end

    def add(self, losses: list[float], pending: _PendingSteps) -> None:
        self.loss_sum += sum(value * size for value, size in zip(losses, pending.sizes))
        self.seen += sum(pending.sizes)
        if pending.scores:
            target = torch.cat(pending.targets)
            if target.is_floating_point():   # soft targets (mixup): the class with the largest share
                target = target.argmax(1)
            self.correct += (torch.cat(pending.scores).argmax(1) == target).sum()


class Trainer:
    def __init__(self, project: Project, *, callbacks=(), control: RunControl | None = None,
                 run_dir: str | os.PathLike | None = None, project_dir: str | os.PathLike | None = None,
                 overrides: Overrides | None = None, data=None):
        self.project = project
        self.settings = (overrides or Overrides()).apply(project.settings)
        self.callbacks = CallbackList(callbacks if isinstance(callbacks, (list, tuple)) else [callbacks])
        self.control = control or RunControl()
        self.run_dir = Path(run_dir) if run_dir else None
        self.project_dir = Path(project_dir) if project_dir else None
        self.data = data
        self.history: list[dict] = []
        self.model: nn.Module | None = None
        self.device: torch.device | None = None
        self.stopped = False
        self.early_stopped = False

    # ------------------------------------------------------------------ set-up
    def prepare(self) -> "Trainer":
        """Build the model, data, loader, optimizer and schedule as a run would, without training
        (the sanity checks start from here)."""
        self._prepare(None)
        return self

    def _prepare(self, resume: dict | None):
        from .data import load_data
        from .init import initialize
        from .optim import build_optimizer
        from .regularize import EarlyStopping, make_loss
        from .schedules import Scheduler
        from .loader import TensorLoader
        from .augment import Augmenter

        graph = self.project.graph
        analysis = analyze(graph)
        settings = self.settings
        training = settings["training"]
        self.device = resolve_device(training["device"])
        seed_everything(training["seed"])
        self.model = build_module(graph, analysis, title=source_title(self.project.name))
        overrides = {n.name: n.init for n in graph.nodes.values() if n.init is not None}
        initialize(self.model, settings["initialization"], overrides)
        place_model(self.model, self.device)

        input_node = graph.input_nodes()[0]
        self.input_kind = input_node.params["kind"]
        self.input_shape = analysis.nodes[input_node.id].output_shape
        self.loss_name = graph.output_nodes()[0].params["loss"]
        if self.data is None:
            self.data = load_data(settings["data"], self.input_kind, self.input_shape,
                                  project_dir=self.project_dir, device=self.device, progress=self._data_progress)
        data = self.data
        self.num_classes = len(data.classes) if data.classes else None
        output_shape = analysis.nodes[graph.output_nodes()[0].id].output_shape
        if self.loss_name == "cross-entropy" and self.num_classes and output_shape[-1] != self.num_classes:
            out_node = graph.nodes[graph.incoming(graph.output_nodes()[0].id)[0].src]
            raise TrainingError(f"{out_node.name} gives {output_shape[-1]} scores but the data has {self.num_classes} "
                                f"classes; set its units to {self.num_classes}")

        self.augment = Augmenter(settings["data"]["augmentation"], self.input_kind, self.num_classes or 1,
                                 seed=training["seed"])
        self.loader = TensorLoader(data.train, training["batch_size"], normalizer=data.normalizer, shuffle=True,
                                   seed=training["seed"], augment=self.augment if self.augment.active else None,
                                   device=self.device)
        multipliers = {n.name: n.l2_multiplier for n in graph.nodes.values() if n.l2_multiplier != 1.0}
        self.optimizer = build_optimizer(self.model, settings["optimizer"], settings["regularization"], multipliers,
                                         fused=fused_optimizer(self.device))
        self.scheduler = Scheduler(self.optimizer, settings["schedule"], training["epochs"], len(self.loader))
        self.criterion = make_loss(self.loss_name, settings["regularization"]["label_smoothing"])
        self.early_stopping = EarlyStopping(settings["regularization"]) if settings["regularization"]["early_stopping"] else None
        self.multipliers = multipliers
        self.start_epoch = 1
        self.step = 0
        if resume is not None:
            self._restore(resume)

    def _data_progress(self, message, fraction=None):
        self.callbacks.on_status(message, fraction)

    # ------------------------------------------------------------------ the run
    def run(self, resume_from: str | os.PathLike | None = None) -> dict:
        started = time.perf_counter()
        try:
            resume = load_checkpoint(resume_from) if resume_from else None
            self._prepare(resume)
            return self._train(started)
        except BaseException as exc:
            self.callbacks.on_exception(exc)
            raise

    def _train(self, started: float) -> dict:
        from .regularize import apply_max_norm, clip_gradients, penalty, add_input_noise

        training = self.settings["training"]
        reg = self.settings["regularization"]
        epochs = training["epochs"]
        log_every = training["log_every"]
        # Probes exist for the monitor; with nobody listening (the command line) they are skipped.
        probe_every = training["probe_every"] if self.callbacks.listens("on_probe") else 0
        model, optimizer, scheduler, criterion = self.model, self.optimizer, self.scheduler, self.criterion
        steps_per_epoch = len(self.loader)
        self.callbacks.on_train_start({
            "epochs": epochs, "start_epoch": self.start_epoch, "steps_per_epoch": steps_per_epoch,
            "device": str(self.device), "train_samples": len(self.data.train.y),
            "val_samples": len(self.data.val.y) if self.data.val is not None else 0,
            "classes": list(self.data.classes or []), "input_shape": tuple(self.input_shape),
            "input_kind": self.input_kind, "source": self.data.source,
            "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        })
        if self.run_dir:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            save_json_atomic(self.run_dir / "project.nbproj", self.project.to_dict())

        needs_penalty = reg["l1"] > 0 or reg["l2"] > 0
        clip = reg["clip_mode"] != "none"
        max_norm = reg["max_norm"] > 0
        input_noise = reg["input_noise"] > 0
        counts_correct = self.loss_name == "cross-entropy"
        control = self.control
        epoch = self.start_epoch
        for epoch in range(self.start_epoch, epochs + 1):
            model.train()
            epoch_start = time.perf_counter()
            tally = _EpochTally(self.device)
            pending = _PendingSteps(self.step)
            for batch_index, (x, y) in enumerate(self.loader):
                if control.stop_requested:
                    break
                if control.paused:
                    control.wait_while_paused()
                    if control.stop_requested:
                        break
                if input_noise:
                    x = add_input_noise(x, reg)
                # The run's last step is probed too, so the monitor ends on the trained model.
                probing = probe_every and (self.step % probe_every == 0 or (
                    epoch == epochs and batch_index == steps_per_epoch - 1))
                recorder = probes.ActivationRecorder(model) if probing else None
                out = model(x)
                if recorder is not None:
                    recorder.close()
                loss = criterion(out, y)
                # Kept on the device until the next read: the loss, and for classification the scores,
                # which are compared with the targets a burst at a time.
                pending.add(loss.detach(), x.shape[0], out.detach() if counts_correct else None, y)
                if needs_penalty:
                    extra = penalty(model, reg, self.multipliers)
                    if extra is not None:
                        loss = loss + extra
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if clip:
                    clip_gradients(model, reg)
                before = probes.snapshot_weights(model) if probing else None
                optimizer.step()
                if max_norm:
                    apply_max_norm(model, reg)
                if probing:
                    self._probe(epoch, batch_index, recorder, before, x)
                self.step += 1
                scheduler.step_batch()
                if len(pending) >= log_every:
                    self._flush(pending, tally, epoch, steps_per_epoch)
                    pending = _PendingSteps(self.step)
            if len(pending):
                self._flush(pending, tally, epoch, steps_per_epoch)
            if control.stop_requested:
                self.stopped = True
                break
            record = self._end_epoch(epoch, tally, time.perf_counter() - epoch_start)
            if record is None:   # stopped while validating
                self.stopped = True
                break
            if self.early_stopping is not None and self.early_stopping.update(epoch, record, model):
                self.early_stopped = True
                record["early_stop"] = True
                break
        return self._finish(epoch, started)

    def _flush(self, pending: _PendingSteps, tally: _EpochTally, epoch: int, steps_per_epoch: int) -> None:
        """Read a burst of steps off the device (one transfer), add it to the epoch's tally and
        hand every step's loss to the callbacks."""
        values = torch.stack(pending.losses).float().cpu().tolist()
        lr = self.scheduler.current_lr
        for i, value in enumerate(values):
            if not math.isfinite(value):
                step = pending.first_step + i
                raise DivergenceError(
                    f"the loss became {value} at step {step} (epoch {epoch}): training diverged. Lower the learning "
                    f"rate ({self.settings['optimizer']['lr']:g}), enable gradient clipping, or check the "
                    f"initialization; the last good checkpoint is kept")
        tally.add(values, pending)
        for i, value in enumerate(values):
            step = pending.first_step + i
            self.callbacks.on_batch_end(step, epoch, step % steps_per_epoch if steps_per_epoch else 0, value, lr)

    def _probe(self, epoch, batch_index, recorder, before, x):
        model = self.model
        weights, grads = probes.weight_and_grad_histograms(model)
        probe = {
            "step": self.step, "epoch": epoch, "batch": batch_index,
            "weights": weights, "gradients": grads, "activations": recorder.histograms if recorder else {},
            "update_ratios": probes.update_ratios(model, before) if before else {},
            "filters": probes.first_layer_filters(model, self.input_shape),
        }
        if self.input_kind == "vector" and tuple(self.input_shape) == (2,) and self.loss_name == "cross-entropy":
            probe["decision_boundary"] = probes.decision_boundary(model, self.data.normalizer, self.data.train.x)
            probe["points"] = self.data.train.x[:2000].float().cpu().numpy()
            probe["labels"] = self.data.train.y[:2000].cpu().numpy()
        self.callbacks.on_probe(probe)

    @torch.no_grad()
    def evaluate(self, split, batch_size: int = EVALUATION_BATCH) -> dict | None:
        """Loss, accuracy, confusion matrix and a few misclassified samples of a split, or None
        when a stop is requested before the pass is through (it is checked before every batch,
        and a pause holds the pass there as it holds training)."""
        model = self.model
        was_training = model.training
        model.eval()
        total_loss = torch.zeros((), device=self.device)
        predictions = []
        n = len(split.y)
        for start in range(0, n, batch_size):
            if self._stop_noticed():
                model.train(was_training)
                return None
            xb = split.x[start:start + batch_size].to(self.device, non_blocking=True)
            yb = split.y[start:start + batch_size].to(self.device, non_blocking=True)
            out = model(self.data.normalizer(xb))
            total_loss += self.criterion(out, yb) * len(yb)
            if self.loss_name == "cross-entropy":
                predictions.append(out.argmax(1))
        model.train(was_training)
        result = {"loss": float(total_loss) / max(n, 1)}
        if predictions:
            pred = torch.cat(predictions).cpu()
            truth = split.y.cpu()
            k = self.num_classes or int(max(pred.max(), truth.max()) + 1)
            confusion = torch.bincount(truth * k + pred, minlength=k * k).reshape(k, k)
            result["accuracy"] = int((pred == truth).sum()) / n if n else 0.0
            result["confusion"] = confusion.numpy()
            wrong = torch.nonzero(pred != truth).flatten()[:32]
            result["misclassified"] = {"index": wrong.numpy(), "predicted": pred[wrong].numpy(),
                                       "actual": truth[wrong].numpy(),
                                       "images": split.x[wrong.to(split.x.device)].cpu().numpy()}
        return result

    def _stop_noticed(self) -> bool:
        """Wait here while the run is paused; then whether a stop was requested."""
        control = self.control
        if control.paused:
            control.wait_while_paused()
        return control.stop_requested

    def _effective_fields(self, samples: int = 16, max_layers: int = 12):
        """Effective receptive field of the centre unit of each spatial layer, on a few validation images."""
        split = self.data.val if self.data.val is not None and len(self.data.val.y) else self.data.train
        raw = split.x[:samples].to(self.device)
        x = self.data.normalizer(raw)
        fields = {}
        spatial = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ConvTranspose2d)
        for name, module in self.model.named_children():
            if len(fields) >= max_layers:
                break
            if not isinstance(module, spatial):
                continue
            erf = probes.effective_receptive_field(self.model, name, x)
            if erf is not None:
                fields[name] = erf
        return fields, raw[0].float().cpu().numpy()

    def _end_epoch(self, epoch, tally: _EpochTally, seconds) -> dict | None:
        """Validate, report and checkpoint a finished epoch; None when a stop came during validation
        (the epoch is then neither recorded nor checkpointed, like an epoch stopped mid-way)."""
        seen = tally.seen
        train_loss = tally.loss_sum / max(seen, 1)
        if not math.isfinite(train_loss):
            raise DivergenceError(f"the training loss became {train_loss} in epoch {epoch}: training diverged; "
                                  f"the last good checkpoint is kept")
        record = {"epoch": epoch, "train_loss": train_loss,
                  "train_accuracy": int(tally.correct) / max(seen, 1) if self.loss_name == "cross-entropy" else None,
                  "lr": self.scheduler.current_lr, "seconds": seconds, "samples_per_second": seen / max(seconds, 1e-9),
                  "step": self.step}
        if self.data.val is not None and len(self.data.val.y):
            val = self.evaluate(self.data.val)
            if val is None:
                return None
            record.update(val_loss=val["loss"], val_accuracy=val.get("accuracy"), confusion=val.get("confusion"),
                          misclassified=val.get("misclassified"))
        else:
            record.update(val_loss=None, val_accuracy=None)
        if self._stop_noticed():
            return None
        if self.input_kind == "image":
            record["effective_rf"], record["rf_sample"] = self._effective_fields()
        self.scheduler.step_epoch({"val_loss": record["val_loss"] if record["val_loss"] is not None else train_loss,
                                   "val_accuracy": record["val_accuracy"] if record["val_accuracy"] is not None
                                   else record["train_accuracy"]})
        self.history.append({k: record.get(k) for k in METRIC_COLUMNS})
        self.callbacks.on_epoch_end(record)
        if self.run_dir:
            self._write_metrics()
            if self.settings["training"]["checkpoint"]:
                path = self.run_dir / "checkpoints" / "last.pt"
                self.save_checkpoint(path, epoch)
                self.callbacks.on_checkpoint(str(path), epoch)
        return record

    def _finish(self, last_epoch: int, started: float) -> dict:
        restored = False
        if self.early_stopping is not None and self.early_stopping.best_epoch is not None:
            restored = bool(self.settings["regularization"]["restore_best"])
            if restored:
                self.early_stopping.restore(self.model)
        summary = {"epochs": len(self.history), "last_epoch": last_epoch if self.history else 0,
                   "stopped": self.stopped, "early_stopped": self.early_stopped,
                   "best_epoch": self._best_epoch(), "restored_best": restored,
                   "device": str(self.device), "test_accuracy": None, "test_loss": None}
        if not self.stopped and self.data.test is not None and len(self.data.test.y):
            test = self.evaluate(self.data.test)
            if test is None:
                self.stopped = summary["stopped"] = True
            else:
                summary.update(test_loss=test["loss"], test_accuracy=test.get("accuracy"))
                confusion = test.get("confusion")
                summary["test_confusion"] = confusion.tolist() if confusion is not None else None
        summary["seconds"] = time.perf_counter() - started
        summary["samples"] = {name: len(split.y) if split is not None else 0
                              for name, split in (("train", self.data.train), ("val", self.data.val),
                                                  ("test", self.data.test))}
        # What this run actually used: the project's settings after the command line's or the
        # window's overrides (epochs, batch size, device, data folder, limit).
        summary["settings"] = copy.deepcopy(self.settings)
        if self.history:
            summary["final_train_accuracy"] = self.history[-1]["train_accuracy"]
            summary["final_val_accuracy"] = self.history[-1]["val_accuracy"]
        if self.run_dir:
            model_path = self.run_dir / "model.pt"
            torch.save(_portable_weights(self.model), _tmp_path(model_path))
            os.replace(_tmp_path(model_path), model_path)
            save_json_atomic(self.run_dir / "summary.json", summary)
        self.callbacks.on_train_end(summary)
        return summary

    def _best_epoch(self):
        if self.early_stopping is not None and self.early_stopping.best_epoch is not None:
            return self.early_stopping.best_epoch
        scored = [(r["val_loss"], r["epoch"]) for r in self.history if r.get("val_loss") is not None]
        if not scored:
            scored = [(r["train_loss"], r["epoch"]) for r in self.history]
        return min(scored)[1] if scored else None

    def _write_metrics(self):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=METRIC_COLUMNS)
        writer.writeheader()
        for row in self.history:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in METRIC_COLUMNS})
        path = self.run_dir / "metrics.csv"
        tmp = _tmp_path(path)
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
        os.replace(tmp, path)

    # ------------------------------------------------------------------ checkpoints
    def save_checkpoint(self, path: str | os.PathLike, epoch: int) -> None:
        """Everything needed to continue exactly: written to a temporary file, then renamed."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "format": "netbuilder-checkpoint", "version": 1, "epoch": epoch, "step": self.step,
            "model": _portable_weights(self.model), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(), "loader": self.loader.state_dict(),
            "early_stopping": self.early_stopping.state_dict() if self.early_stopping else None,
            "rng": {"torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else []},
            "history": json.dumps(self.history),
            "project": json.dumps(self.project.to_dict()),
            "settings": json.dumps(self.settings),
        }
        tmp = _tmp_path(path)
        torch.save(state, tmp)
        os.replace(tmp, path)

    def _restore(self, state: dict) -> None:
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.loader.load_state_dict(state["loader"])
            if self.early_stopping is not None and state.get("early_stopping"):
                self.early_stopping.load_state_dict(state["early_stopping"])
            torch.set_rng_state(state["rng"]["torch"])
            if self.device.type == "cuda" and state["rng"]["cuda"]:
                torch.cuda.set_rng_state_all(state["rng"]["cuda"])
            self.history = json.loads(state["history"])
        except (KeyError, RuntimeError, ValueError) as exc:
            raise CheckpointError(f"the checkpoint does not fit this project: {exc}") from None
        self.start_epoch = int(state["epoch"]) + 1
        self.step = int(state["step"])


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint safely (weights only, no pickled code) or raise CheckpointError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for damaged files
        raise CheckpointError(f"{path}: not a readable checkpoint (damaged or truncated?): "
                              f"{str(exc).splitlines()[0][:200]}") from None
    if not isinstance(state, dict) or state.get("format") != "netbuilder-checkpoint":
        raise CheckpointError(f"{path}: not a NetBuilder checkpoint")
    return state


def checkpoint_project(state: dict) -> Project:
    return Project.from_dict(json.loads(state["project"]))


def _portable_weights(model: nn.Module) -> dict:
    """The model's state dict in the standard (contiguous) memory layout, whatever layout it trains
    in (see place_model): files that tools such as safetensors can write and read as they are."""
    return {key: value.contiguous() for key, value in model.state_dict().items()}


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def train(project: Project, callbacks=(), **kwargs) -> dict:
    """Convenience: run a whole training and return its summary."""
    return Trainer(project, callbacks=callbacks, **kwargs).run()


__all__ = ["Trainer", "train", "TrainingError", "DivergenceError", "CheckpointError", "Overrides", "RunControl",
           "Callback", "load_checkpoint", "resolve_device", "available_devices", "place_model", "fused_optimizer"]

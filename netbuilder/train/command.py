"""`netbuilder train`: headless training with a progress bar per epoch and a run folder."""
from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

from .callbacks import Callback


class ProgressPrinter(Callback):
    """One live progress line per epoch on stderr, then a summary line per epoch."""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.steps_per_epoch = 1
        self.epochs = 1
        self.last_draw = 0.0
        self.epoch_start = time.perf_counter()
        self.interactive = hasattr(self.stream, "isatty") and self.stream.isatty()

    def on_status(self, message, fraction):
        if self.interactive or fraction in (None, 1.0):
            suffix = f" {fraction:4.0%}" if fraction is not None else ""
            print(f"\r{message}{suffix}\033[K" if self.interactive else f"{message}{suffix}", file=self.stream,
                  end="" if self.interactive and fraction not in (None, 1.0) else "\n", flush=True)

    def on_train_start(self, info):
        self.steps_per_epoch = max(info["steps_per_epoch"], 1)
        self.epochs = info["epochs"]
        self.epoch_start = time.perf_counter()
        print(f"training on {info['device']}: {info['train_samples']:,} samples ({info['val_samples']:,} validation), "
              f"{info['parameters']:,} parameters; data: {info['source']}", file=self.stream, flush=True)

    def on_batch_end(self, step, epoch, batch, loss, lr):
        if batch == 0:
            self.epoch_start = time.perf_counter()
        now = time.perf_counter()
        if not self.interactive or now - self.last_draw < 0.1:
            return
        self.last_draw = now
        done = (batch + 1) / self.steps_per_epoch
        bar = "█" * int(done * self.width) + "·" * (self.width - int(done * self.width))
        elapsed = now - self.epoch_start
        eta = elapsed / done - elapsed if done > 0 else 0
        print(f"\repoch {epoch}/{self.epochs} {bar} {batch + 1}/{self.steps_per_epoch} loss {loss:.4f} "
              f"lr {lr:.2e} eta {eta:4.0f}s\033[K", end="", file=self.stream, flush=True)

    def on_epoch_end(self, record):
        def pct(v):
            return "—" if v is None else f"{v:.2%}"
        val = "" if record.get("val_loss") is None else f"  val loss {record['val_loss']:.4f} acc {pct(record['val_accuracy'])}"
        prefix = "\r" if self.interactive else ""
        print(f"{prefix}epoch {record['epoch']}/{self.epochs}  loss {record['train_loss']:.4f} acc "
              f"{pct(record['train_accuracy'])}{val}  {record['seconds']:.1f}s\033[K" if self.interactive else
              f"epoch {record['epoch']}/{self.epochs}  loss {record['train_loss']:.4f} acc {pct(record['train_accuracy'])}"
              f"{val}  {record['seconds']:.1f}s", file=self.stream, flush=True)


def default_run_dir(project_file: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return project_file.parent / "runs" / f"{project_file.stem}-{stamp}"


def cmd_train(args) -> int:
    from ..cli import CommandError
    from ..core.project import Project
    from .data import DataError
    from .engine import CheckpointError, Overrides, Trainer, TrainingError, checkpoint_project, load_checkpoint
    from ..compile import CompileError

    project_file = Path(args.file)
    try:
        if args.resume:
            state = load_checkpoint(args.resume)
            project = Project.load(project_file) if project_file.suffix == ".nbproj" else checkpoint_project(state)
        else:
            project = Project.load(project_file)
        out = Path(args.out) if args.out else default_run_dir(project_file)
        overrides = Overrides(epochs=args.epochs, batch_size=args.batch_size, device=args.device, dataset=args.dataset,
                              data_root=args.data_root, limit=args.limit)
        trainer = Trainer(project, callbacks=[ProgressPrinter()], run_dir=out, project_dir=project_file.parent,
                          overrides=overrides)
        summary = trainer.run(resume_from=args.resume)
    except (TrainingError, DataError, CompileError, CheckpointError) as exc:
        raise CommandError(str(exc)) from None
    epochs = f"{summary['epochs']} epoch{'' if summary['epochs'] == 1 else 's'}"
    if summary["test_accuracy"] is not None:
        print(f"test accuracy {summary['test_accuracy']:.4f} (loss {summary['test_loss']:.4f}) after "
              f"{epochs} in {summary['seconds']:.1f}s — run folder {out}")
    else:
        acc = summary.get("final_val_accuracy") or summary.get("final_train_accuracy")
        shown = f"final accuracy {acc:.4f}" if acc is not None else "done"
        print(f"{shown} (no test split) after {epochs} in {summary['seconds']:.1f}s — run folder {out}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("train", help="train a project headless and write a run folder")
    p.add_argument("file", help="project file (.nbproj)")
    p.add_argument("--epochs", type=int, help="override the number of epochs")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), help="where to train (default: the project's)")
    p.add_argument("--dataset", help="override the dataset (fashion-mnist, mnist, kmnist, cifar10, toy-2d, ...)")
    p.add_argument("--data-root", help="folder holding the dataset files")
    p.add_argument("--limit", type=int, metavar="N",
                   help="use at most N training samples; the validation and test splits shrink in the same "
                        "proportion, to no fewer than 500 samples each (or all they have), so a short run is not "
                        "spent evaluating")
    p.add_argument("--batch-size", type=int, help="override the batch size")
    p.add_argument("--out", help="run folder (default: runs/NAME-TIMESTAMP beside the project)")
    p.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint (RUN/checkpoints/last.pt)")
    p.set_defaults(func=cmd_train)


VERDICT_MARKS = {"pass": "ok  ", "warn": "WARN", "fail": "FAIL", "skip": "--  "}


def cmd_check(args) -> int:
    """Sanity checks before training; exit status 1 when one fails."""
    import json

    from ..cli import CommandError
    from ..compile import CompileError
    from ..core.project import Project
    from .data import DataError
    from .engine import Overrides, TrainingError
    from .sanity import run_checks

    project_file = Path(args.file)
    project = Project.load(project_file)
    overrides = Overrides(device=args.device, dataset=args.dataset, data_root=args.data_root, limit=args.limit)
    progress = None if args.json else (lambda message: print(f"… {message}", file=sys.stderr, flush=True))
    try:
        results = run_checks(project, overrides=overrides, project_dir=project_file.parent, progress=progress)
    except (TrainingError, DataError, CompileError) as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        width = max(len(r.name) for r in results)
        for r in results:
            print(f"{VERDICT_MARKS[r.verdict]}  {r.name:<{width}}  {r.summary}")
    return 1 if any(r.verdict == "fail" for r in results) else 0


def register_check(sub) -> None:
    p = sub.add_parser("check", help="sanity checks before training: initial loss, regularization, gradients, "
                                     "overfitting a tiny sample",
                       description="Run the checks worth doing before a long training run: the initial loss "
                                   "against ln C, that L2 raises the loss, backpropagation against centred "
                                   "differences in float64, and that the network can overfit 20 training samples. "
                                   "Exit status 1 when a check fails.")
    p.add_argument("file", help="project file (.nbproj)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), help="where to run (default: the project's)")
    p.add_argument("--dataset", help="override the dataset")
    p.add_argument("--data-root", help="folder holding the dataset files")
    p.add_argument("--limit", type=int, metavar="N", help="load at most N training samples (the checks use a few hundred)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_check)


def cmd_search(args) -> int:
    """Random search over hyperparameter ranges; prints the trials best first."""
    import json

    from ..cli import CommandError
    from ..compile import CompileError
    from ..core.project import Project
    from .data import DataError
    from .engine import Overrides, TrainingError
    from .search import SearchError, apply_values, default_ranges, edge_notes, parse_ranges, run_search

    project_file = Path(args.file)
    project = Project.load(project_file)
    try:
        ranges = parse_ranges(args.param) if args.param else default_ranges(project)
    except SearchError as exc:
        raise CommandError(str(exc)) from None
    overrides = Overrides(epochs=args.epochs, batch_size=args.batch_size, device=args.device, dataset=args.dataset,
                          data_root=args.data_root, limit=args.limit)
    width = max(len(r.name) for r in ranges)

    def show(trial, total):
        if args.json:
            return
        shown = "  ".join(f"{k}={v:.3g}" for k, v in trial.values.items())
        result = trial.error or (f"{trial.metric} {abs(trial.score):.4f}"
                                 if trial.score is not None else "no result")
        print(f"trial {trial.number:>3}/{total}  {shown}  →  {result}  ({trial.seconds:.1f}s)", file=sys.stderr,
              flush=True)

    if not args.json:
        described = ", ".join(f"{r.name} {r.low:g}…{r.high:g} ({'log-uniform' if r.scale == 'log' else 'uniform'})"
                              for r in ranges)
        print(f"random search: {args.trials} trials over {described}", file=sys.stderr, flush=True)
    try:
        trials = run_search(project, ranges, trials=args.trials, overrides=overrides, project_dir=project_file.parent,
                            seed=args.seed, progress=show)
    except (SearchError, TrainingError, DataError, CompileError) as exc:
        raise CommandError(str(exc)) from None
    best = trials[0]
    notes = edge_notes(ranges, best) if best.score is not None else []
    if args.save_best and best.score is not None:
        out = Path(args.save_best)
        best_project = apply_values(project, best.values)
        best_project.save(out)
    if args.json:
        print(json.dumps({"trials": [t.to_dict() for t in trials], "best": best.to_dict(), "notes": notes}, indent=2))
        return 0 if best.score is not None else 1
    print(f"{'rank':>4}  {'trial':>5}  " + "  ".join(f"{r.name:>{max(width, 9)}}" for r in ranges) + "  result")
    for rank, t in enumerate(trials, 1):
        values = "  ".join(f"{t.values[r.name]:>{max(width, 9)}.3g}" for r in ranges)
        result = t.error or (f"{t.metric} {abs(t.score):.4f}" if t.score is not None else "no result")
        print(f"{rank:>4}  {t.number:>5}  {values}  {result}")
    if best.score is None:
        print("no trial produced a result", file=sys.stderr)
        return 1
    for note in notes:
        print(f"note: {note}")
    if args.save_best:
        print(f"wrote {args.save_best} with the best values")
    return 0


def register_search(sub) -> None:
    from .search import SEARCHABLE
    names = ", ".join(SEARCHABLE)
    p = sub.add_parser("search", help="random hyperparameter search over short runs",
                       description="Train short runs with hyperparameters drawn at random from ranges (learning "
                                   "rates and strengths log-uniformly, dropout uniformly) and rank them by "
                                   "validation accuracy. Search coarsely first (1 epoch, a data subset), then narrow "
                                   "the ranges and search again with more epochs.")
    p.add_argument("file", help="project file (.nbproj)")
    p.add_argument("--param", action="append", metavar="NAME=LOW:HIGH",
                   help=f"a range to search, repeatable (e.g. lr=1e-4:1e-1); names: {names}. Default: the learning "
                        f"rate 30× either side of the project's, and l2=1e-6:1e-2")
    p.add_argument("--trials", type=int, default=10, help="how many runs (default 10)")
    p.add_argument("--epochs", type=int, default=1, help="epochs per run (default 1: a coarse search)")
    p.add_argument("--limit", type=int, metavar="N", help="train on at most N samples per run")
    p.add_argument("--batch-size", type=int, help="override the batch size")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), help="where to train")
    p.add_argument("--dataset", help="override the dataset")
    p.add_argument("--data-root", help="folder holding the dataset files")
    p.add_argument("--seed", type=int, default=0, help="seed of the random draws (default 0)")
    p.add_argument("--save-best", metavar="FILE", help="write a copy of the project with the best values")
    p.add_argument("--json", action="store_true", help="print the trials as JSON")
    p.set_defaults(func=cmd_search)

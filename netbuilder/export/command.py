"""`netbuilder export`: a network in a deployable format, or a training run's artifacts.

    netbuilder export model.nbproj --format onnx -o model.onnx
    netbuilder export runs/lenet-20250101-120000 --format python -o lenet.py
    netbuilder export runs/lenet-20250101-120000 --format report -o report/
    netbuilder export model.nbproj --format torchscript --checkpoint runs/x/checkpoints/last.pt

SOURCE is a project file, a run folder (its project and trained weights: model.pt, or the last
checkpoint of a run that did not finish) or a checkpoint file (which stores its project).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

MODEL_FORMATS = ("pt", "safetensors", "torchscript", "onnx", "python", "script")
RUN_ARTIFACTS = ("metrics-csv", "metrics-json", "plots", "card", "report")


def _resolve_source(source: Path, checkpoint: str | None):
    """(project, weights file or None, run folder or None, notes)."""
    from ..cli import CommandError
    from ..core.project import Project
    from .common import ExportError, load_weights
    from .report import is_run_folder

    notes: list[str] = []
    if source.is_dir():
        if not is_run_folder(source):
            raise CommandError(f"{source} is a folder but not a run folder (it has no project.nbproj or summary.json)")
        if not (source / "project.nbproj").is_file():
            raise CommandError(f"{source} has no project.nbproj, so the network it trained is unknown")
        project = Project.load(source / "project.nbproj")
        weights = checkpoint
        if weights is None:
            if (source / "model.pt").is_file():
                weights = source / "model.pt"
            elif (source / "checkpoints" / "last.pt").is_file():
                weights = source / "checkpoints" / "last.pt"
                notes.append("the run has no model.pt (it did not finish): exporting its last checkpoint")
        return project, weights, source, notes
    if not source.exists():
        raise CommandError(f"{source}: no such file or folder")
    if source.suffix == ".nbproj":
        return Project.load(source), checkpoint, None, notes
    try:
        _, project = load_weights(source)
    except ExportError as exc:
        raise CommandError(f"{exc} (expected a project file, a run folder or a checkpoint)") from None
    if project is None:
        raise CommandError(f"{source} holds weights but no project; export the project file with "
                           f"--checkpoint {source}")
    return project, checkpoint or source, None, notes


def _default_output(fmt: str, project, source: Path, run_dir: Path | None) -> Path:
    from . import RUN_FORMATS, default_file_name
    from .common import file_stem_for
    base = run_dir / "export" if run_dir is not None else (source.parent if source.is_file() else source)
    if fmt in RUN_FORMATS:
        stem = file_stem_for(project) if project is not None else "run"
        return {"metrics-csv": base / f"{stem}-metrics.csv", "metrics-json": base / f"{stem}-metrics.json",
                "plots": base / "plots", "card": base / f"{stem}-model-card.md",
                "report": base / "report"}[fmt]
    return base / default_file_name(project, fmt)


def cmd_export(args) -> int:
    from ..cli import CommandError
    from ..train.engine import CheckpointError
    from . import ExportError, export_model, export_run

    source = Path(args.source)
    project, weights, run_dir, notes = _resolve_source(source, args.checkpoint)
    if args.format in RUN_ARTIFACTS and run_dir is None:
        raise CommandError(f"--format {args.format} exports a training run's artifacts; give a run folder "
                           f"(runs/NAME-TIMESTAMP), not {source}")
    out = Path(args.output) if args.output else _default_output(args.format, project, source, run_dir)
    if source.is_file() and out.resolve() == source.resolve():
        raise CommandError(f"the output {out} is the file being exported; choose another name")
    if args.batch is not None and args.batch < 1:
        raise CommandError("--batch must be at least 1")
    try:
        if not out.suffix and args.format not in ("plots", "report"):
            out.mkdir(parents=True, exist_ok=True)  # a folder: the format's default file name goes inside
        if args.format in RUN_ARTIFACTS:
            report = export_run(run_dir, args.format, out)
        else:
            report = export_model(project, args.format, out, checkpoint=weights, batch=args.batch)
    except (ExportError, CheckpointError) as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
    report.messages[:0] = notes
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
        return 0
    print(report.summary())
    for message in report.messages:
        print(f"  {message}", file=sys.stderr)
    return 0


def register(sub) -> None:
    """Add `netbuilder export` to the CLI's subcommands."""
    import argparse

    from . import FORMATS, RUN_FORMATS
    lines = [f"  {name:<13} {title} ({suffix or 'folder'})" for name, (title, suffix, _) in FORMATS.items()]
    lines += [f"  {name:<13} {title} (from a run folder)" for name, (title, _, _) in RUN_FORMATS.items()]
    p = sub.add_parser(
        "export", help="export a network (weights, TorchScript, ONNX, Python, training script) or a run's artifacts",
        description="Export a network or a training run. Every model export reloads what it wrote, compares its "
                    "outputs with the network's on a batch and reports the largest difference (tolerance 1e-4); "
                    "nothing is written when that check fails.",
        epilog="formats:\n" + "\n".join(lines), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="FILE_OR_RUN_DIR",
                   help="project file (.nbproj), run folder, or checkpoint file")
    p.add_argument("-f", "--format", required=True, choices=(*MODEL_FORMATS, *RUN_ARTIFACTS), metavar="FORMAT",
                   help="one of: " + ", ".join((*MODEL_FORMATS, *RUN_ARTIFACTS)))
    p.add_argument("-o", "--output", metavar="OUT",
                   help="file (or folder) to write; default: beside the project, or RUN/export/ for a run")
    p.add_argument("--checkpoint", metavar="CKPT",
                   help="weights to export: a checkpoint (RUN/checkpoints/last.pt) or a state dict (RUN/model.pt)")
    p.add_argument("--batch", type=int, metavar="N", help="samples to verify the export on (default 2; 1 for "
                                                          "ImageNet-size networks)")
    p.add_argument("--json", action="store_true", help="print the export report as JSON")
    p.set_defaults(func=cmd_export)

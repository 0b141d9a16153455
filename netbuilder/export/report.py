"""A training run's artifacts: metrics as CSV or JSON, plots as PNG, and a model card in Markdown.

A run folder (written by the training engine) holds project.nbproj, summary.json, metrics.csv
(one row per epoch), model.pt and checkpoints/. Plots are drawn with matplotlib when it is
installed (its Agg canvas, no GUI toolkit) and otherwise with Pillow, which torchvision brings.
Every artifact is written through a staging folder and read back before it is reported.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .common import ExportError, ExportReport, Staging, file_stem_for

COLUMNS = ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds", "samples_per_second"]


@dataclass
class Run:
    folder: Path
    project: object | None
    summary: dict
    history: list[dict]

    @property
    def name(self) -> str:
        return self.project.name if self.project is not None else self.folder.name


def is_run_folder(path: str | os.PathLike) -> bool:
    path = Path(path)
    return path.is_dir() and any((path / name).exists() for name in ("summary.json", "metrics.csv", "project.nbproj"))


def _number(text: str):
    if text is None or text.strip() == "":
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def read_metrics_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]


def load_run(folder: str | os.PathLike) -> Run:
    """Read a run folder; ExportError when it is not one."""
    from ..core.project import Project, ProjectError
    folder = Path(folder)
    if not folder.is_dir():
        raise ExportError(f"{folder}: no such run folder")
    if not is_run_folder(folder):
        raise ExportError(f"{folder} is not a run folder (it has no summary.json, metrics.csv or project.nbproj)")
    project = None
    if (folder / "project.nbproj").is_file():
        try:
            project = Project.load(folder / "project.nbproj")
        except ProjectError as exc:
            raise ExportError(str(exc)) from None
    summary = {}
    if (folder / "summary.json").is_file():
        try:
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ExportError(f"{folder / 'summary.json'} is unreadable ({exc})") from None
    if project is not None and (folder / "checkpoints" / "last.pt").is_file():
        settings = _run_settings(folder / "checkpoints" / "last.pt")
        if settings is not None:  # as the run used them, command-line overrides included
            project.settings = settings
    history = []
    if (folder / "metrics.csv").is_file():
        try:
            history = read_metrics_csv(folder / "metrics.csv")
        except (OSError, csv.Error, UnicodeDecodeError) as exc:
            raise ExportError(f"{folder / 'metrics.csv'} is unreadable ({exc})") from None
    return Run(folder, project, summary, history)


def _run_settings(checkpoint: Path) -> dict | None:
    """The settings a run actually used (with its overrides), as its checkpoint records them; the
    tensors are memory-mapped, not read."""
    import torch
    from ..core.settings import validate_settings
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)
        return validate_settings(json.loads(state["settings"]))
    except Exception:  # an unreadable or older checkpoint: keep the project's own settings
        return None


# --------------------------------------------------------------------------- metrics
def metrics_csv(run: Run) -> str:
    columns = [c for c in COLUMNS if any(row.get(c) is not None for row in run.history)] or COLUMNS[:1]
    extra = [k for row in run.history for k in row if k not in COLUMNS]
    columns += list(dict.fromkeys(extra))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in run.history:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return buffer.getvalue()


def metrics_json(run: Run) -> dict:
    return {"name": run.name, "run": str(run.folder), "summary": run.summary, "epochs": run.history}


def _finite(value):
    """JSON-safe: NaN and infinities (a diverged run) become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _check_metrics(run: Run, rows: list[dict], what: str) -> float:
    """Largest difference between the written and the recorded per-epoch values."""
    if len(rows) != len(run.history):
        raise ExportError(f"{what} holds {len(rows)} epochs where the run has {len(run.history)}")
    worst = 0.0
    for written, original in zip(rows, run.history):
        for key, value in original.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                other = written.get(key)
                if not isinstance(other, (int, float)):
                    raise ExportError(f"{what} lost {key} of epoch {original.get('epoch')}")
                if math.isfinite(value) or math.isfinite(other):
                    worst = max(worst, abs(float(other) - float(value)))
    if worst > 1e-9:
        raise ExportError(f"{what} does not reproduce the run's metrics (differences up to {worst:.3g})")
    return worst


# --------------------------------------------------------------------------- plots
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"]


def plot_specs(run: Run) -> list[tuple[str, str, str, list[tuple[str, list]]]]:
    """(file stem, title, y label, [(series label, [(epoch, value)])]) for each plot the run supports."""
    def series(key):
        return [(row["epoch"], row[key]) for row in run.history
                if isinstance(row.get(key), (int, float)) and isinstance(row.get("epoch"), (int, float))
                and math.isfinite(row[key])]

    specs = []
    loss = [(label, series(key)) for label, key in (("training", "train_loss"), ("validation", "val_loss"))]
    if any(points for _, points in loss):
        specs.append(("loss", f"{run.name}: loss per epoch", "loss", [s for s in loss if s[1]]))
    acc = [(label, [(e, 100 * v) for e, v in series(key)])
           for label, key in (("training", "train_accuracy"), ("validation", "val_accuracy"))]
    if any(points for _, points in acc):
        specs.append(("accuracy", f"{run.name}: accuracy per epoch", "accuracy (%)", [s for s in acc if s[1]]))
    lr = series("lr")
    if lr:
        specs.append(("learning-rate", f"{run.name}: learning rate", "learning rate", [("learning rate", lr)]))
    return specs


def render_plot(path: Path, title: str, ylabel: str, series: list, xlabel: str = "epoch") -> None:
    """One PNG line chart (matplotlib when installed, else Pillow)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        _render_with_pillow(path, title, ylabel, series, xlabel)
        return
    figure = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for i, (label, points) in enumerate(series):
        xs, ys = zip(*points)
        axes.plot(xs, ys, marker="o", markersize=3, linewidth=1.5, color=PALETTE[i % len(PALETTE)], label=label)
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(True, color="#dddddd", linewidth=0.8)
    if len(series) > 1:
        axes.legend()
    figure.tight_layout()
    figure.savefig(path, format="png")


def _nice_step(span: float, target: int = 5) -> float:
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _ticks(low: float, high: float, integer: bool = False) -> tuple[float, float, list[float]]:
    """A padded range and the tick values inside it."""
    if high - low < 1e-12:
        pad = abs(high) * 0.1 or 1.0
        low, high = low - pad, high + pad
    step = _nice_step(high - low)
    if integer:
        step = max(1.0, round(step))
    start = math.floor(low / step) * step
    end = math.ceil(high / step) * step
    ticks, value = [], start
    while value <= end + step * 1e-9:
        ticks.append(value)
        value += step
    return start, end, ticks


def _tick_labels(ticks: list[float], step: float) -> list[str]:
    """Labels with one shared format: the fewest decimals (or significant digits in scientific
    notation for tiny and huge values) that tell every tick apart exactly."""
    biggest = max((abs(t) for t in ticks), default=0.0)
    scientific = biggest >= 1e5 or (biggest < 1e-3 and biggest > 0)
    for digits in range(0, 10):
        if scientific:
            labels = [f"{t:.{digits}e}" for t in ticks]
        else:
            labels = [f"{t:.{digits}f}" for t in ticks]
        if all(abs(float(label) - t) <= step * 1e-6 for label, t in zip(labels, ticks)):
            break
    return ["0" if abs(t) <= step * 1e-9 else label for label, t in zip(labels, ticks)]


def _font(size: int, bold: bool = False):
    from PIL import ImageFont
    for name in (("DejaVuSans-Bold.ttf",) if bold else ()) + ("DejaVuSans.ttf",):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow before 10.1 has one fixed-size bitmap font
        return ImageFont.load_default()


def _render_with_pillow(path: Path, title: str, ylabel: str, series: list, xlabel: str) -> None:
    from PIL import Image, ImageDraw

    scale = 2  # drawn at twice the size and shrunk: smooth lines without an antialiasing API
    width, height = 800 * scale, 500 * scale
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    small, label_font, title_font = _font(13 * scale), _font(14 * scale), _font(16 * scale, bold=True)

    xs = [x for _, points in series for x, _ in points]
    ys = [y for _, points in series for _, y in points]
    x0, x1, xticks = _ticks(min(xs), max(xs), integer=True)
    y0, y1, yticks = _ticks(min(ys), max(ys))
    ystep = yticks[1] - yticks[0] if len(yticks) > 1 else 1.0
    ylabels = _tick_labels(yticks, ystep)
    label_room = max(draw.textlength(text, font=small) for text in ylabels)
    left = int(40 * scale + label_room + 10 * scale)
    right, top, bottom = 30 * scale, 60 * scale, 70 * scale
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x, y):
        return (left + (x - x0) / (x1 - x0) * plot_w, top + (1 - (y - y0) / (y1 - y0)) * plot_h)

    # grid, ticks and labels
    for y, text in zip(yticks, ylabels):
        _, yy = px(x0, y)
        draw.line([(left, yy), (left + plot_w, yy)], fill="#e3e3e3", width=scale)
        tw = draw.textlength(text, font=small)
        draw.text((left - 8 * scale - tw, yy - 8 * scale), text, fill="#333333", font=small)
    shown_x = xticks if len(xticks) <= 12 else xticks[::math.ceil(len(xticks) / 12)]
    xstep = shown_x[1] - shown_x[0] if len(shown_x) > 1 else 1.0
    for x, text in zip(shown_x, _tick_labels(shown_x, xstep)):
        xx, _ = px(x, y0)
        draw.line([(xx, top), (xx, top + plot_h)], fill="#f0f0f0", width=scale)
        tw = draw.textlength(text, font=small)
        draw.text((xx - tw / 2, top + plot_h + 8 * scale), text, fill="#333333", font=small)
    draw.rectangle([left, top, left + plot_w, top + plot_h], outline="#888888", width=scale)

    # series
    for i, (label, points) in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        coords = [px(x, y) for x, y in points]
        if len(coords) > 1:
            draw.line(coords, fill=color, width=3 * scale, joint="curve")
        r = 4 * scale
        for cx, cy in coords:
            draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=color)

    # title, axis labels, legend
    tw = draw.textlength(title, font=title_font)
    draw.text(((width - tw) / 2, 18 * scale), title, fill="black", font=title_font)
    tw = draw.textlength(xlabel, font=label_font)
    draw.text((left + (plot_w - tw) / 2, height - 34 * scale), xlabel, fill="#333333", font=label_font)
    label_w = int(draw.textlength(ylabel, font=label_font)) + 4 * scale
    rotated = Image.new("RGBA", (label_w, 24 * scale), (255, 255, 255, 0))
    ImageDraw.Draw(rotated).text((2 * scale, 2 * scale), ylabel, fill="#333333", font=label_font)
    rotated = rotated.rotate(90, expand=True)
    image.paste(rotated, (10 * scale, int(top + (plot_h - rotated.height) / 2)), rotated)
    if len(series) > 1:
        entry_h = 22 * scale
        box_w = max(int(draw.textlength(label, font=small)) for label, _ in series) + 44 * scale
        bx, by = left + plot_w - box_w - 10 * scale, top + 10 * scale
        draw.rectangle([bx, by, bx + box_w, by + entry_h * len(series) + 8 * scale], fill="white", outline="#bbbbbb",
                       width=scale)
        for i, (label, _) in enumerate(series):
            ly = by + 4 * scale + i * entry_h + entry_h / 2
            draw.line([(bx + 8 * scale, ly), (bx + 30 * scale, ly)], fill=PALETTE[i % len(PALETTE)], width=3 * scale)
            draw.text((bx + 36 * scale, ly - 8 * scale), label, fill="#222222", font=small)
    image = image.resize((width // scale, height // scale), Image.Resampling.LANCZOS)
    image.save(path, format="PNG", optimize=True)


def _check_png(path: Path, what: str) -> None:
    from PIL import Image
    try:
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            img.load()
            if img.format != "PNG" or min(img.size) < 50:
                raise ExportError(f"{what} is not a proper PNG image")
    except ExportError:
        raise
    except Exception as exc:
        raise ExportError(f"{what} cannot be read back as a PNG image ({exc})") from None


# --------------------------------------------------------------------------- model card
def _fmt(value, kind: str = "") -> str:
    if value is None:
        return "—"
    if kind == "pct":
        return f"{100 * value:.2f}%"
    if isinstance(value, float):
        return f"{value:.4f}" if kind != "g" else f"{value:g}"
    return str(value)


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _settings_rows(project) -> list[tuple[str, str]]:
    from ..core.settings import OPTIMIZERS, SCHEDULES
    from ..train.init import describe
    s = project.settings
    data, opt, sched, reg, training = s["data"], s["optimizer"], s["schedule"], s["regularization"], s["training"]
    dataset = data["dataset"]
    source = dataset
    if dataset in ("csv", "npz", "image-folder") and data["path"]:
        source += f" ({data['path']})"
    if dataset == "toy-2d":
        source += f" ({data['toy_generator']}, {data['toy_points']:,} points, noise {data['toy_noise']:g}, " \
                  f"seed {data['toy_seed']})"
    split = f"{data['validation_fraction']:.0%} held out for validation (split seed {data['split_seed']})"
    if data["limit"]:
        split += f"; training limited to {data['limit']:,} samples"
    aug = [f"{k} {v:g}" if not isinstance(v, bool) else k for k, v in data["augmentation"].items() if v]
    def value(v):
        if isinstance(v, bool):
            return "on" if v else "off"
        return f"{v:g}" if isinstance(v, float) else str(v)

    hyper = ", ".join(f"{k} {value(v)}" for k, v in opt.items() if k != "type")
    sched_params = ", ".join(f"{k} {value(v)}" for k, v in sched.items()
                             if k != "type" and not (k == "interval" and sched["type"] in ("constant", "plateau")))
    regs = []
    for key, label in (("l2", "L2"), ("l1", "L1"), ("weight_decay", "decoupled weight decay"),
                       ("max_norm", "max-norm"), ("label_smoothing", "label smoothing"), ("input_noise", "input noise")):
        if reg[key]:
            regs.append(f"{label} {reg[key]:g}")
    if reg["clip_mode"] != "none":
        regs.append(f"gradient clipping by {reg['clip_mode']} at {reg['clip_value']:g}")
    if reg["early_stopping"]:
        regs.append(f"early stopping on {reg['es_metric']} (patience {reg['patience']})")
    dropout = [n.name for n in project.graph.nodes.values() if n.type.startswith("Dropout")]
    if dropout:
        regs.append(f"dropout layers: {', '.join(dropout)}")
    overrides = [n.name for n in project.graph.nodes.values() if n.init is not None]
    init = describe(s["initialization"]) + (f"; own schemes for {', '.join(overrides)}" if overrides else "")
    multipliers = [f"{n.name} ×{n.l2_multiplier:g}" for n in project.graph.nodes.values() if n.l2_multiplier != 1.0]
    if multipliers:
        regs.append("penalty multipliers: " + ", ".join(multipliers))
    loss = project.graph.output_nodes()[0].params["loss"] if project.graph.output_nodes() else "—"
    return [
        ("Dataset", source),
        ("Split", split),
        ("Preprocessing", f"{data['preprocessing']} (statistics from the training split)"),
        ("Augmentation", ", ".join(aug) or "none"),
        ("Loss", loss),
        ("Optimizer", f"{OPTIMIZERS[opt['type']][0]} ({hyper})"),
        ("Schedule", SCHEDULES[sched["type"]][0] + (f" ({sched_params})" if sched_params else "")),
        ("Initialization", init),
        ("Regularization", "; ".join(regs) or "none"),
        ("Epochs", str(training["epochs"])),
        ("Batch size", str(training["batch_size"])),
        ("Seed", str(training["seed"])),
    ]


def model_card(run: Run, plots: dict[str, str] | None = None) -> str:
    """The model card as Markdown; `plots` maps plot titles to image paths relative to the card."""
    from ..core.shapes import analyze
    lines = [f"# {run.name} — model card", ""]
    project = run.project
    if project is not None and project.description.strip():
        lines += [project.description.strip(), ""]
    lines += [f"Trained by NetBuilder; run folder `{run.folder.name}`.", ""]

    if project is not None:
        analysis = analyze(project.graph)
        lines += ["## Architecture", "", "| # | Layer | Type | Output shape | Parameters |",
                  "|---:|---|---|---|---:|"]
        for i, nid in enumerate(analysis.order or list(project.graph.nodes), start=1):
            node, info = project.graph.nodes[nid], analysis.nodes[nid]
            shape = "×".join(str(d) for d in info.output_shape) if info.output_shape else "—"
            lines.append(f"| {i} | {_md(node.name)} | {node.type} | {shape} | {info.params:,} |")
        frozen = analysis.total_params - analysis.trainable_params
        lines += ["", f"**Parameters:** {analysis.trainable_params:,} trainable"
                  + (f", {frozen:,} non-trainable (running statistics)" if frozen else "")
                  + f". **Multiply-adds per sample:** {analysis.total_macs:,}.", ""]
        lines += ["## Training configuration", "", "| Setting | Value |", "|---|---|"]
        settings = dict(_settings_rows(project))
        summary = run.summary
        if summary.get("device"):
            settings["Device"] = summary["device"]
        for key, value in settings.items():
            lines.append(f"| {key} | {_md(value)} |")
        lines.append("")

    s = run.summary
    results = [
        ("Test accuracy", _fmt(s.get("test_accuracy"), "pct")),
        ("Test loss", _fmt(s.get("test_loss"))),
        ("Final training accuracy", _fmt(s.get("final_train_accuracy"), "pct")),
        ("Final validation accuracy", _fmt(s.get("final_val_accuracy"), "pct")),
        ("Epochs run", _fmt(s.get("epochs", len(run.history)))),
        ("Best epoch", _fmt(s.get("best_epoch"))),
        ("Training time", f"{s['seconds']:.1f} s" if isinstance(s.get("seconds"), (int, float)) else "—"),
    ]
    if run.history:
        last = run.history[-1]
        if s.get("final_train_accuracy") is None and last.get("train_loss") is not None:
            results.insert(2, ("Final training loss", _fmt(last.get("train_loss"))))
        if last.get("val_loss") is not None:
            results.insert(3, ("Final validation loss", _fmt(last.get("val_loss"))))
    lines += ["## Results", "", "| Metric | Value |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in results if v != "—"]
    notes = []
    if s.get("stopped"):
        notes.append("The run was stopped before it finished.")
    if s.get("early_stopped"):
        notes.append(f"Early stopping ended the run; the weights of epoch {s.get('best_epoch')} were "
                     f"{'restored' if s.get('restored_best') else 'not restored'}.")
    if s.get("test_accuracy") is None and s.get("test_loss") is None:
        notes.append("The data have no test split: the validation metrics are the best estimate of generalisation.")
    lines += ["", *notes, ""] if notes else [""]

    if run.history:
        columns = [c for c in ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")
                   if any(row.get(c) is not None for row in run.history)]
        titles = {"epoch": "Epoch", "train_loss": "Train loss", "train_accuracy": "Train acc.", "val_loss": "Val. loss",
                  "val_accuracy": "Val. acc.", "lr": "LR", "seconds": "Seconds"}
        rows = run.history
        if len(rows) > 40:  # keep the card short: every k-th epoch and the last
            k = math.ceil(len(rows) / 40)
            rows = rows[::k] + ([rows[-1]] if (len(rows) - 1) % k else [])
        lines += ["## Metrics per epoch", "", "| " + " | ".join(titles[c] for c in columns) + " |",
                  "|" + "|".join("---:" for _ in columns) + "|"]
        for row in rows:
            cells = []
            for c in columns:
                v = row.get(c)
                if v is None:
                    cells.append("—")
                elif c.endswith("accuracy"):
                    cells.append(f"{100 * v:.2f}%")
                elif c == "lr":
                    cells.append(f"{v:.3g}")
                elif c == "seconds":
                    cells.append(f"{v:.1f}")
                elif c == "epoch":
                    cells.append(str(v))
                else:
                    cells.append(f"{v:.4f}")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if plots:
        lines += ["## Plots", ""]
        lines += [f"![{title}]({path})" for title, path in plots.items()]
        lines.append("")
    lines.append(f"_Generated by NetBuilder on {datetime.now():%Y-%m-%d %H:%M}._")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- exporting
def _target(out: Path, default_name: str) -> Path:
    return out / default_name if out.is_dir() else out


def export_run(run_dir: str | os.PathLike, fmt: str, out: str | os.PathLike) -> ExportReport:
    """Write one of RUN_FORMATS for the run in `run_dir` to `out` (a file, or a folder for plots and report)."""
    from . import RUN_FORMATS
    if fmt not in RUN_FORMATS:
        raise ExportError(f"unknown run artifact {fmt!r}; choose one of: {', '.join(RUN_FORMATS)}")
    run = load_run(run_dir)
    out = Path(out)
    stem = file_stem_for(run.project) if run.project is not None else "run"
    if fmt in ("metrics-csv", "metrics-json", "plots", "report") and not run.history:
        raise ExportError(f"{run.folder} has no per-epoch metrics (metrics.csv) yet: the run ended before its first "
                          f"epoch")
    if fmt == "metrics-csv":
        target = _target(out, f"{stem}-metrics.csv")
        with Staging(target) as stage:
            tmp = stage.path(target)
            tmp.write_text(metrics_csv(run), encoding="utf-8")
            diff = _check_metrics(run, read_metrics_csv(tmp), "the CSV file")
            paths = stage.commit()
        return ExportReport(fmt, paths, diff, True, [f"{len(run.history)} epochs"])
    if fmt == "metrics-json":
        target = _target(out, f"{stem}-metrics.json")
        with Staging(target) as stage:
            tmp = stage.path(target)
            tmp.write_text(json.dumps(_finite(metrics_json(run)), indent=2, allow_nan=False) + "\n", encoding="utf-8")
            diff = _check_metrics(run, json.loads(tmp.read_text(encoding="utf-8"))["epochs"], "the JSON file")
            paths = stage.commit()
        return ExportReport(fmt, paths, diff, True, [f"{len(run.history)} epochs"])
    if fmt == "card":
        target = _target(out, f"{stem}-model-card.md")
        text = model_card(run)
        with Staging(target) as stage:
            tmp = stage.path(target)
            tmp.write_text(text, encoding="utf-8")
            if tmp.read_text(encoding="utf-8") != text:
                raise ExportError(f"{target} does not read back as written")
            paths = stage.commit()
        return ExportReport(fmt, paths, None, True, [])
    # plots and report write into a folder
    folder = out
    if folder.exists() and not folder.is_dir():
        raise ExportError(f"{folder} is a file; {RUN_FORMATS[fmt][0]} needs a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create {folder}: {exc.strerror or exc}") from None
    plot_folder = folder / "plots" if fmt == "report" else folder
    plot_folder.mkdir(exist_ok=True)
    paths: list[Path] = []
    plots: dict[str, str] = {}
    with Staging(plot_folder / "x") as stage:
        for stem_name, title, ylabel, series in plot_specs(run):
            target = plot_folder / f"{stem_name}.png"
            tmp = stage.path(target)
            render_plot(tmp, title, ylabel, series)
            _check_png(tmp, target.name)
            plots[title.split(": ", 1)[-1].capitalize()] = os.path.relpath(target, folder).replace(os.sep, "/")
        paths += stage.commit()
    if fmt == "plots":
        return ExportReport(fmt, paths, None, True, [f"{len(paths)} plot{'s' if len(paths) != 1 else ''}"])
    for sub_fmt, name in (("metrics-csv", "metrics.csv"), ("metrics-json", "metrics.json")):
        paths += export_run(run.folder, sub_fmt, folder / name).paths
    card = folder / "model-card.md"
    text = model_card(run, plots)
    with Staging(card) as stage:
        tmp = stage.path(card)
        tmp.write_text(text, encoding="utf-8")
        paths = stage.commit() + paths
    return ExportReport(fmt, paths, None, True, [f"model card, metrics and {len(plots)} plots in {folder}"])

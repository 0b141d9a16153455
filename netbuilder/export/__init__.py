"""Export a network (weights, TorchScript, ONNX, safetensors, Python code, a training script) and a
training run's artifacts (metrics, plots, a model card).

Every model export checks itself before it reports success: the written file is read back with
the format's own reader (torch.load with weights_only, torch.jit.load, ONNX Runtime,
safetensors), run on a batch, and compared with the network's own outputs; the largest
absolute difference is reported (tolerance 1e-4). A layer a format cannot express gives an
ExportError naming the node, and nothing is written.

    from netbuilder.export import FORMATS, export_model
    report = export_model(project, "onnx", Path("lenet.onnx"), checkpoint="runs/x/checkpoints/last.pt")
    print(report.summary())

Importing this package does not import torch; the exporters load it when they run.
"""
from __future__ import annotations

import os
from pathlib import Path

from .common import ExportError, ExportReport

# format → (title, file suffix, description): what the Export dialog offers.
FORMATS: dict[str, tuple[str, str, str]] = {
    "pt": ("PyTorch state dict", ".pt",
           "The weights as a PyTorch state dict; load with model.load_state_dict(torch.load(path, weights_only=True))."),
    "safetensors": ("safetensors", ".safetensors",
                    "The weights in the safe, framework-neutral safetensors format, with the project in its metadata."),
    "torchscript": ("TorchScript", ".torchscript.pt",
                    "A self-contained compiled module: torch.jit.load(path) runs it without any Python code "
                    "(C++ LibTorch too)."),
    "onnx": ("ONNX", ".onnx",
             "A portable graph for ONNX Runtime, TensorRT, OpenVINO and browsers; dynamic batch size."),
    "python": ("Python code", ".py",
               "One readable .py file defining the network as an nn.Module, plus its weights (.pt) beside it; "
               "needs only torch."),
    "script": ("Training script", ".py",
               "A standalone train.py that reproduces the project's data, preprocessing, optimizer, schedule, "
               "initialization and regularization; runs with python or torchrun (DistributedDataParallel)."),
}

# Artifacts of a training run (export_run): format → (title, suffix or "" for a folder, description).
RUN_FORMATS: dict[str, tuple[str, str, str]] = {
    "metrics-csv": ("Metrics (CSV)", ".csv", "One row per epoch: losses, accuracies, learning rate, speed."),
    "metrics-json": ("Metrics (JSON)", ".json", "The per-epoch metrics and the run's summary as JSON."),
    "plots": ("Plots (PNG)", "", "Loss, accuracy and learning-rate curves as PNG images, into a folder."),
    "card": ("Model card (Markdown)", ".md",
             "Architecture table, parameters, training configuration and final metrics."),
    "report": ("Run report (folder)", "",
               "Everything above in one folder: model card, metrics CSV and JSON, plots."),
}

_EXPORTERS = {
    "pt": ("state", "export_pt"),
    "safetensors": ("state", "export_safetensors"),
    "torchscript": ("torchscript", "export_torchscript"),
    "onnx": ("onnx_export", "export_onnx"),
    "python": ("python_code", "export_python"),
    "script": ("script", "export_script"),
}


def default_file_name(project, fmt: str) -> str:
    """A file name for `fmt` from the project's name, e.g. "lenet-5.onnx" (Python files use _)."""
    from .common import file_stem_for
    stem = file_stem_for(project)
    if fmt == "python":
        stem = stem.replace("-", "_")
        if not stem.isidentifier():
            stem = "model"
    if fmt == "script":
        return "train.py"
    return stem + FORMATS[fmt][1]


def export_model(project, fmt: str, out: str | os.PathLike, *, state_dict: dict | None = None,
                 checkpoint: str | os.PathLike | None = None, batch: int | None = None) -> ExportReport:
    """Export the project's network in format `fmt` to `out` and verify the result.

    Weights: `state_dict` if given, else the model weights stored in `checkpoint` (a training
    checkpoint or a state-dict file), else the initial weights training would start from.
    `batch`: samples the outputs are compared on (default 2, or 1 for ImageNet-size networks).
    `out` may be a folder, which then receives `default_file_name(project, fmt)`.

    Returns an ExportReport (paths written, max_abs_diff, verified, messages); raises
    ExportError (with node_id/node_name when a layer is at fault) and writes nothing on failure.
    """
    import importlib

    from .common import preserved_rng, prepare
    from .verify import verification_batch

    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    out = Path(out)
    if out.is_dir():
        out = out / default_file_name(project, fmt)
    if out.suffix == ".nbproj":
        raise ExportError(f"{out} is a project file name; choose a file name ending in {FORMATS[fmt][1]}")
    if checkpoint is not None:
        written = [out, out.with_suffix(".pt")] if fmt == "python" else [out]
        if any(Path(checkpoint).resolve() == path.resolve() for path in written):
            raise ExportError(f"exporting to {out} would overwrite the weights being exported ({checkpoint}); "
                              f"choose another file name")
    module_name, function = _EXPORTERS[fmt]
    module = importlib.import_module(f"{__name__}.{module_name}")
    with preserved_rng():
        prep = prepare(project, state_dict=state_dict, checkpoint=checkpoint)
        return getattr(module, function)(prep, out, batch or verification_batch(prep.analysis))


def export_run(run_dir: str | os.PathLike, fmt: str, out: str | os.PathLike) -> ExportReport:
    """Export a training run's artifacts (RUN_FORMATS) from its folder; see report.py."""
    from .report import export_run as _export_run
    return _export_run(run_dir, fmt, out)


__all__ = ["FORMATS", "RUN_FORMATS", "ExportError", "ExportReport", "export_model", "export_run",
           "default_file_name"]

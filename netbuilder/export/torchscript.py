"""TorchScript: the module compiled to a self-contained archive that runs without its Python code.

    model = torch.jit.load("model.torchscript.pt")

The module is scripted (forward() kept as code); if scripting fails it is traced on an example
batch instead, and the report says so. The archive carries the project as an extra file
(`netbuilder_project.json`) so NetBuilder can tell what it was made from.
"""
from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import torch

from . import verify
from .common import ExportError, ExportReport, Prepared, Staging, find_failing_node, first_line


def _script(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.jit.script(module)


def _trace(module, example):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.jit.trace(module, (example,), check_trace=False)


def _compile(prep: Prepared, example) -> tuple[object, list[str]]:
    """A ScriptModule for the network, scripted if possible, else traced."""
    try:
        return _script(prep.model), []
    except Exception as script_error:  # scripting raises many types
        try:
            traced = _trace(prep.model, example)
        except Exception:
            failing = find_failing_node(prep, lambda module, x: _trace(module, x))
            if failing is None:
                failing = find_failing_node(prep, lambda module, x: _script(module))
            if failing is not None:
                node, exc = failing
                raise ExportError(f"TorchScript cannot express {node.name} ({node.type}): {first_line(exc)}",
                                  node.id, node.name) from None
            raise ExportError(f"TorchScript cannot express this network: {first_line(script_error)}") from None
        return traced, [f"scripting failed ({first_line(script_error)}); the network was traced on an example "
                        f"batch instead, so any input-dependent control flow is fixed to that example"]


def export_torchscript(prep: Prepared, out: Path, batch: int) -> ExportReport:
    x = verify.sample_batch(prep.graph, prep.analysis, batch)
    # A different batch size for the check proves that no batch size was baked in.
    check_x = verify.sample_batch(prep.graph, prep.analysis, batch + 1, seed=1)
    expected = verify.run(prep.model, check_x)
    compiled, notes = _compile(prep, x)
    extra = {"netbuilder_project.json": json.dumps(prep.project.to_dict())}
    with Staging(out) as stage:
        tmp = stage.path(out)
        try:
            buffer = io.BytesIO()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.jit.save(compiled, buffer, _extra_files=extra)
            tmp.write_bytes(buffer.getvalue())
        except OSError as exc:
            raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
        except Exception as exc:
            raise ExportError(f"TorchScript cannot save this network: {first_line(exc)}") from None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reloaded = torch.jit.load(str(tmp), map_location="cpu")
        except Exception as exc:
            raise verify.VerificationError(f"the TorchScript file cannot be loaded back: {first_line(exc)}") from None
        diff = verify.check(expected, verify.run(reloaded, check_x), "the TorchScript module")
        paths = stage.commit()
    return ExportReport("torchscript", paths, diff, True, [*prep.messages, *notes], batch + 1)

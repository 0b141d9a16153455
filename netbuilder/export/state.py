"""Weights only: a PyTorch state dict (.pt) or a safetensors file.

Either loads into the module that the `python` export (or NetBuilder) builds:

    model.load_state_dict(torch.load("model.pt", weights_only=True))
    model.load_state_dict(safetensors.torch.load_file("model.safetensors"))
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from . import verify
from .common import ExportError, ExportReport, Prepared, Staging, first_line


def _outputs_with(prep: Prepared, weights: dict, x: torch.Tensor, what: str) -> torch.Tensor:
    """The network's outputs on x computed from `weights` (what the file holds) in place of its own.

    The weights must name exactly the network's parameters and buffers with their shapes, as
    load_state_dict(strict=True) demands; the module's own tensors are not touched.
    """
    expected = prep.model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise verify.VerificationError(f"{what} does not load back into the network (missing: "
                                       f"{', '.join(missing[:5]) or 'none'}; unexpected: "
                                       f"{', '.join(unexpected[:5]) or 'none'})")
    for key, tensor in expected.items():
        if tuple(weights[key].shape) != tuple(tensor.shape) or weights[key].dtype != tensor.dtype:
            raise verify.VerificationError(f"{what} stores {key} as {weights[key].dtype} "
                                           f"{tuple(weights[key].shape)}, the network has {tensor.dtype} "
                                           f"{tuple(tensor.shape)}")
    with torch.no_grad():
        out = torch.func.functional_call(prep.model.eval(), weights, (x,), strict=True)
    return out.detach()


def export_pt(prep: Prepared, out: Path, batch: int) -> ExportReport:
    x = verify.sample_batch(prep.graph, prep.analysis, batch)
    expected = verify.run(prep.model, x)
    with Staging(out) as stage:
        tmp = stage.path(out)
        try:
            torch.save(prep.state_dict, tmp)
        except OSError as exc:
            raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
        try:
            reloaded = torch.load(tmp, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise verify.VerificationError(f"the written state dict cannot be read back: {first_line(exc)}") from None
        diff = verify.check(expected, _outputs_with(prep, reloaded, x, "the state dict"), "the state dict")
        paths = stage.commit()
    return ExportReport("pt", paths, diff, True, list(prep.messages), batch)


def _metadata(prep: Prepared) -> dict[str, str]:
    """safetensors metadata (strings only): enough to rebuild the network from the file alone."""
    return {"format": "pt", "producer": "NetBuilder", "name": prep.project.name, "class_name": prep.class_name,
            "netbuilder_project": json.dumps(prep.project.to_dict(), separators=(",", ":"))}


def export_safetensors(prep: Prepared, out: Path, batch: int) -> ExportReport:
    try:
        from safetensors.torch import load_file, save_file
    except ImportError:
        raise ExportError("the safetensors format needs the 'safetensors' package: "
                          "pip install 'netbuilder[export]'") from None
    x = verify.sample_batch(prep.graph, prep.analysis, batch)
    expected = verify.run(prep.model, x)
    tensors = {k: v.contiguous() for k, v in prep.state_dict.items()}
    with Staging(out) as stage:
        tmp = stage.path(out)
        try:
            save_file(tensors, str(tmp), metadata=_metadata(prep))
        except RuntimeError:
            # Tensors that share memory must be stored as separate copies.
            save_file({k: v.clone() for k, v in tensors.items()}, str(tmp), metadata=_metadata(prep))
        except OSError as exc:
            raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
        try:
            reloaded = load_file(str(tmp), device="cpu")
        except Exception as exc:
            raise verify.VerificationError(f"the written safetensors file cannot be read back: {first_line(exc)}") \
                from None
        diff = verify.check(expected, _outputs_with(prep, reloaded, x, "the safetensors file"),
                            "the safetensors file")
        paths = stage.commit()
    return ExportReport("safetensors", paths, diff, True, list(prep.messages), batch)

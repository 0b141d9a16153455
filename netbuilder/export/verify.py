"""Numerical verification shared by every exporter.

An exporter reloads what it wrote with the format's own reader, runs it on a batch, and
compares the result with the live module's output on the same batch. The largest absolute
difference is reported; above TOLERANCE the export fails and nothing is left on disk.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .common import ExportError

TOLERANCE = 1e-4

# Networks above this many multiply-adds per sample are checked on a batch of one sample
# (ImageNet-size models: a forward pass of a larger batch costs seconds on a CPU).
LARGE_MACS = 500_000_000


class VerificationError(ExportError):
    """The reloaded artifact does not reproduce the module's outputs."""


def verification_batch(analysis) -> int:
    """How many samples to check on: 2 for ordinary networks, 1 for ImageNet-size ones."""
    return 1 if analysis.total_macs > LARGE_MACS else 2


def sample_batch(graph, analysis, batch: int, seed: int = 0) -> torch.Tensor:
    """A deterministic random batch shaped like the Input node (token ids for token inputs)."""
    from ..compile.build import example_input
    generator = torch.Generator().manual_seed(seed)
    return example_input(graph, analysis, batch=batch, generator=generator)


@torch.no_grad()
def run(model, x: torch.Tensor) -> torch.Tensor:
    """The model's output on x in evaluation mode, detached on the CPU."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        out = model(x)
    finally:
        if was_training:
            model.train()
    if isinstance(out, (tuple, list)):
        out = out[0]
    return out.detach().cpu()


def _as_array(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().to(torch.float64).numpy()
    return np.asarray(value, dtype=np.float64)


def max_abs_diff(expected, actual) -> float:
    """max |expected − actual| over all entries; inf when the shapes differ or only one side is
    NaN/inf at some position (equal non-finite values count as equal)."""
    a, b = _as_array(expected), _as_array(actual)
    if a.shape != b.shape:
        return math.inf
    if a.size == 0:
        return 0.0
    finite = np.isfinite(a) & np.isfinite(b)
    if not np.array_equal(a[~finite], b[~finite], equal_nan=True):
        return math.inf
    return float(np.max(np.abs(a[finite] - b[finite]))) if finite.any() else 0.0


def check(expected, actual, what: str, tolerance: float = TOLERANCE) -> float:
    """The max absolute difference, or VerificationError naming `what` when it exceeds the tolerance."""
    a, b = _as_array(expected), _as_array(actual)
    if a.shape != b.shape:
        raise VerificationError(f"{what} gives outputs of shape {tuple(b.shape)} where the network gives "
                                f"{tuple(a.shape)}")
    diff = max_abs_diff(a, b)
    if not diff <= tolerance:
        raise VerificationError(f"{what} does not reproduce the network: the outputs differ by up to {diff:.3g} "
                                f"(tolerance {tolerance:g})")
    return diff

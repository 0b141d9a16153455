"""Snapshots of a model's inner state for the monitor: first-layer filters, weight/gradient/
activation histograms, update-to-weight ratios, decision boundaries, effective receptive
fields. Everything returned is numpy; nothing here knows about Qt.

Probes run every `probe_every` steps, so each does a bounded amount of work on the device
(histograms of large tensors are taken from a strided sample) and moves only small arrays
(histogram counts, a filter grid) to the host. They draw no random numbers, so probing more or
less often never changes a run's results.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import torch
from torch import nn

HISTOGRAM_BINS = 40
HISTOGRAM_SAMPLES = 1 << 14   # about 400 values a bin: the shape of any distribution, at a fraction of a step
WEIGHT_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d, nn.RNNBase, nn.Embedding)


def layer_modules(model: nn.Module) -> dict[str, nn.Module]:
    """Top-level submodules by node name, in forward order."""
    return dict(model.named_children())


def weighted_layers(model: nn.Module) -> dict[str, nn.Module]:
    out = {}
    for name, module in model.named_children():
        if isinstance(module, WEIGHT_TYPES) or any(isinstance(m, WEIGHT_TYPES) for m in module.modules()):
            out[name] = module
    return out


def main_weight(module: nn.Module) -> torch.Tensor | None:
    """The weight matrix/kernel that characterises a layer (first weight parameter)."""
    for name, param in module.named_parameters():
        if "weight" in name and param.dim() >= 2:
            return param
    return None


def histogram(values: torch.Tensor, bins: int = HISTOGRAM_BINS) -> dict:
    """Counts over `bins` equal bins between the smallest and largest finite value, with the
    mean and standard deviation. A tensor of more than HISTOGRAM_SAMPLES values is histogrammed
    from an evenly strided sample of them (`sampled` is then True) and its counts are scaled to
    the whole tensor: a probe's cost then stays below a training step's even for the outputs of
    a wide convolution, and the shape of the distribution is all the monitor shows."""
    flat = _in_memory_order(values.detach())
    total = flat.numel()
    stride = _sample_stride(total)
    sample = (flat[::stride] if stride > 1 else flat).float()
    if sample.device.type == "cpu":
        # numpy's reductions cost a microsecond each where torch's dispatch costs several, and a
        # probe takes dozens of them.
        found = _numpy_histogram(sample.contiguous().numpy(), bins)
    else:
        found = _device_histogram(sample, bins)
    if found is None:
        return {"counts": np.zeros(bins, dtype=np.int64), "edges": np.linspace(-1, 1, bins + 1)}
    counts, lo, hi, mean, std, used = found
    if stride > 1:
        counts = np.rint(counts * (total / used))
    return {"counts": counts.astype(np.int64), "edges": lo + (hi - lo) * _unit_edges(bins), "mean": mean,
            "std": std, "sampled": stride > 1}


def _numpy_histogram(values: np.ndarray, bins: int):
    """(counts, lo, hi, mean, std, values counted) of the finite values, or None when there are none."""
    lo, hi = float(values.min()), float(values.max())
    if not (math.isfinite(lo) and math.isfinite(hi)):
        values = values[np.isfinite(values)]
        if values.size == 0:
            return None
        lo, hi = float(values.min()), float(values.max())
    n = values.size
    mean = float(values.mean(dtype=np.float64))
    # Two passes for the deviation (mean first), in float64: a one-pass sum of squares loses a
    # narrow spread around a large mean, and float32 squares of diverging weights overflow. No
    # np.dot: it would wake OpenBLAS's threads, which then contend with PyTorch's for the cores
    # and slowed a whole epoch of training by a third to a half.
    centred = values.astype(np.float64) - mean
    std = math.sqrt(float(np.square(centred).sum()) / (n - 1)) if n > 1 else 0.0
    lo, hi = _widened(lo, hi)
    positions = ((values - np.float32(lo)) * np.float32(bins / (hi - lo))).astype(np.intp)
    np.minimum(positions, bins - 1, out=positions)   # the maximum belongs to the last bin
    return np.bincount(positions, minlength=bins), lo, hi, mean, std, n


def _device_histogram(values: torch.Tensor, bins: int):
    """As _numpy_histogram, on the tensor's device, reading its results off in two transfers."""
    lo, hi = torch.aminmax(values)
    mean = values.mean()
    centred = values - mean
    lo, hi, mean, squares = torch.stack([lo, hi, mean, centred.dot(centred)]).tolist()
    if not (math.isfinite(lo) and math.isfinite(hi)):
        values = values[torch.isfinite(values)]
        if values.numel() == 0:
            return None
        return _device_histogram(values, bins)
    n = values.numel()
    std = math.sqrt(squares / (n - 1)) if n > 1 else 0.0   # infinite when float32 squares overflow
    lo, hi = _widened(lo, hi)
    # bincount of bin numbers: histc's counts, two to three times faster.
    positions = (values - lo).mul_(bins / (hi - lo)).int().clamp_(max=bins - 1)
    return torch.bincount(positions, minlength=bins).cpu().numpy(), lo, hi, mean, std, n


def _widened(lo: float, hi: float) -> tuple[float, float]:
    """A range of width 1 around a single value, so that its histogram has a bin to fall in."""
    return (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)


@functools.lru_cache(maxsize=8)
def _unit_edges(bins: int) -> np.ndarray:
    edges = np.linspace(0.0, 1.0, bins + 1)
    edges.flags.writeable = False   # shared between calls
    return edges


def _in_memory_order(values: torch.Tensor) -> torch.Tensor:
    """The values as one flat view, in the order they lie in memory (a channels-last activation
    is flattened without a copy); a histogram does not care about the order."""
    if values.dim() > 1 and not values.is_contiguous():
        dims = sorted(range(values.dim()), key=lambda d: values.stride(d), reverse=True)
        values = values.permute(dims)
    return values.reshape(-1)


@functools.lru_cache(maxsize=512)
def _sample_stride(n: int, target: int | None = None) -> int:
    """1 for small tensors; otherwise the smallest prime at least n / target that does not divide n.
    Such a stride is coprime with every dimension of the tensor, so the sample walks through all
    rows, columns and channels alike instead of hitting the same few columns again and again."""
    target = target or HISTOGRAM_SAMPLES
    if n <= target:
        return 1
    stride = max(2, -(-n // target))
    while not _is_prime(stride) or n % stride == 0:
        stride += 1
    return stride


def _is_prime(k: int) -> bool:
    if k < 4:
        return k >= 2
    if k % 2 == 0:
        return False
    return all(k % d for d in range(3, math.isqrt(k) + 1, 2))


def first_layer_filters(model: nn.Module, input_shape: tuple, max_filters: int = 64) -> np.ndarray | None:
    """First-layer weights as images: (N, C, kh, kw) for a convolution, or the first Linear's
    rows reshaped to the input image when the network starts by flattening an image."""
    for module in model.children():
        if isinstance(module, nn.Conv2d):
            return module.weight.detach()[:max_filters].float().cpu().numpy()
        if isinstance(module, nn.Linear):
            w = module.weight.detach()[:max_filters].float().cpu()
            if len(input_shape) == 3 and w.shape[1] == int(np.prod(input_shape)):
                return w.reshape(-1, *input_shape).numpy()
            if w.shape[1] == 2:  # 2-D inputs: each unit's weight vector is a direction in the plane
                return w.reshape(-1, 1, 1, 2).numpy()
            return None
        if isinstance(module, (nn.Conv1d, nn.RNNBase, nn.Embedding)):
            return None
    return None


class ActivationRecorder:
    """Forward hooks that keep a histogram of each layer's output for one forward pass."""

    def __init__(self, model: nn.Module):
        self.histograms: dict[str, dict] = {}
        self._handles = []
        for name, module in model.named_children():
            self._handles.append(module.register_forward_hook(self._hook(name)))

    def _hook(self, name):
        def record(module, inputs, output):
            if isinstance(output, tuple):
                output = output[0]
            if isinstance(output, torch.Tensor) and output.is_floating_point():
                self.histograms[name] = histogram(output)
        return record

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


def snapshot_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: w.detach().clone() for name, m in weighted_layers(model).items() if (w := main_weight(m)) is not None}


def update_ratios(model: nn.Module, before: dict[str, torch.Tensor]) -> dict[str, float]:
    """‖Δw‖/‖w‖ per layer for the step just taken (≈ 1e-3 is healthy)."""
    layers = weighted_layers(model)
    norms = []
    names = []
    for name, old in before.items():
        w = main_weight(layers[name])
        names.append(name)
        norms.append(torch.stack([(w.detach() - old).norm(), old.norm().clamp_min(1e-12)]))
    if not norms:
        return {}
    values = torch.stack(norms).cpu()
    return {name: float(v[0] / v[1]) for name, v in zip(names, values)}


def weight_and_grad_histograms(model: nn.Module) -> tuple[dict, dict]:
    weights, grads = {}, {}
    for name, module in weighted_layers(model).items():
        w = main_weight(module)
        if w is None:
            continue
        weights[name] = histogram(w)
        if w.grad is not None:
            grads[name] = histogram(w.grad)
    return weights, grads


@torch.no_grad()
def decision_boundary(model: nn.Module, normalizer, points: torch.Tensor, resolution: int = 80) -> dict:
    """Class probabilities over a grid spanning the 2-D training points (raw coordinates)."""
    lo = points.min(0).values.float().cpu()
    hi = points.max(0).values.float().cpu()
    pad = (hi - lo) * 0.1 + 1e-3
    lo, hi = lo - pad, hi + pad
    xs = torch.linspace(lo[0], hi[0], resolution)
    ys = torch.linspace(lo[1], hi[1], resolution)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    grid = torch.stack([gx.flatten(), gy.flatten()], 1).to(points.device)
    was_training = model.training
    model.eval()
    scores = model(normalizer(grid))
    model.train(was_training)
    probs = torch.softmax(scores.float(), 1) if scores.shape[1] > 1 else torch.sigmoid(scores.float())
    return {"x_range": (float(lo[0]), float(hi[0])), "y_range": (float(lo[1]), float(hi[1])),
            "probabilities": probs.reshape(resolution, resolution, -1).cpu().numpy()}


def effective_receptive_field(model: nn.Module, layer: str, x: torch.Tensor) -> np.ndarray | None:
    """Mean |∂(centre unit of `layer`)/∂input| over a batch: where the unit actually looks.

    Returns an (H, W) map, or None when the layer's output has no spatial centre.
    """
    modules = dict(model.named_children())
    if layer not in modules or x.dim() != 4:
        return None
    captured = {}

    def grab(module, inputs, output):
        captured["out"] = output[0] if isinstance(output, tuple) else output

    handle = modules[layer].register_forward_hook(grab)
    was_training = model.training
    model.eval()
    try:
        x = x.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            model(x)
            out = captured.get("out")
            if out is None or out.dim() != 4:
                return None
            h, w = out.shape[2] // 2, out.shape[3] // 2
            out[:, :, h, w].sum().backward()
        grad = x.grad.detach().abs().mean(dim=(0, 1))
    finally:
        handle.remove()
        model.train(was_training)
        model.zero_grad(set_to_none=True)
    return grad.cpu().numpy()

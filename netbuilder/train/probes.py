"""Snapshots of a model's inner state for the monitor: first-layer filters, weight/gradient/
activation histograms, update-to-weight ratios, decision boundaries, effective receptive
fields. Everything returned is numpy; nothing here knows about Qt.

Probes run every `probe_every` steps, so each does a bounded amount of work on the device
and moves only small arrays (histogram counts, a filter grid) to the host.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

HISTOGRAM_BINS = 40
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
    values = values.detach().float().flatten()
    finite = values[torch.isfinite(values)]
    if finite.numel() == 0:
        return {"counts": np.zeros(bins, dtype=np.int64), "edges": np.linspace(-1, 1, bins + 1)}
    lo, hi = finite.min().item(), finite.max().item()
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(finite, bins=bins, min=lo, max=hi)
    return {"counts": counts.cpu().numpy().astype(np.int64), "edges": np.linspace(lo, hi, bins + 1),
            "mean": float(finite.mean()), "std": float(finite.std()) if finite.numel() > 1 else 0.0}


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

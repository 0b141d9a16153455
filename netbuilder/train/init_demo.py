"""The classic initialization experiment: feed Gaussian input through a deep stack of equally wide
fully connected layers and look at each layer's activations under different initial weights.

With tanh, weights of std 0.01 shrink the signal at every layer until it vanishes, std 0.05 blows
it up until the units saturate at ±1, Xavier (std = 1/√fan_in) keeps it alive. With ReLU, Xavier
halves the variance at every layer and Kaiming (std = √(2/fan_in)) keeps it. Constant weights give
every unit of a layer the same input and the same gradient: the units never differentiate
(symmetry), however long the network trains.

    layers = activation_statistics("xavier", "tanh")   # one LayerStats per hidden layer
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

SCHEMES = {
    "normal-0.01": "Gaussian, std 0.01",
    "normal-0.05": "Gaussian, std 0.05",
    "xavier": "Xavier: std 1/√fan_in",
    "kaiming": "Kaiming: std √(2/fan_in)",
    "constant": "Constant 0.01 (symmetric)",
}
NONLINEARITIES = ("tanh", "relu")
SATURATED = 0.99   # |tanh| above this passes almost no gradient
BINS = 41


@dataclass
class LayerStats:
    layer: int
    mean: float
    std: float
    saturated: float        # share of tanh units with |a| > 0.99
    dead: float             # share of ReLU outputs that are exactly 0
    distinct_units: int     # how many different units the layer really has (1 under symmetric weights)
    counts: np.ndarray      # histogram of the activations
    edges: np.ndarray


def weight_std(scheme: str, fan_in: int, nonlinearity: str) -> float | None:
    """The std the scheme draws weights with (None for constant weights)."""
    if scheme == "normal-0.01":
        return 0.01
    if scheme == "normal-0.05":
        return 0.05
    if scheme == "xavier":
        return 1.0 / math.sqrt(fan_in)
    if scheme == "kaiming":
        return math.sqrt(2.0 / fan_in)
    if scheme == "constant":
        return None
    raise ValueError(f"unknown initialization scheme {scheme!r}; choose from {', '.join(SCHEMES)}")


def activation_statistics(scheme: str, nonlinearity: str = "tanh", *, layers: int = 7, width: int = 4096,
                          samples: int = 200, seed: int = 0) -> list[LayerStats]:
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}; choose from {', '.join(NONLINEARITIES)}")
    generator = torch.Generator().manual_seed(seed)
    h = torch.randn(samples, width, generator=generator)
    act = torch.tanh if nonlinearity == "tanh" else torch.relu
    results = []
    with torch.no_grad():
        for layer in range(1, layers + 1):
            std = weight_std(scheme, width, nonlinearity)
            if std is None:
                w = torch.full((width, width), 0.01)
            else:
                w = torch.randn(width, width, generator=generator) * std
            h = act(h @ w)
            values = h.flatten()
            if nonlinearity == "tanh":
                low, high = -1.0, 1.0
            else:
                low, high = 0.0, max(float(values.max()), 1e-12)
            counts = torch.histc(values, bins=BINS, min=low, max=high).numpy()
            distinct = int(torch.unique(h[: min(64, samples)].T.contiguous(), dim=0).shape[0])
            results.append(LayerStats(
                layer=layer, mean=float(values.mean()), std=float(values.std()),
                saturated=float((values.abs() > SATURATED).float().mean()) if nonlinearity == "tanh" else 0.0,
                dead=float((values == 0).float().mean()) if nonlinearity == "relu" else 0.0,
                distinct_units=distinct, counts=counts, edges=np.linspace(low, high, BINS + 1)))
    return results


def verdict(stats: list[LayerStats], nonlinearity: str) -> str:
    """What the last layer says about the scheme, in a few words."""
    last, first = stats[-1], stats[0]
    if last.distinct_units == 1:
        return "symmetric: every unit of a layer computes the same thing"
    ratio = last.std / first.std if first.std > 0 else 0.0
    if last.std < 1e-3 or ratio < 1e-2:
        return f"activations vanish (std {first.std:.2g} → {last.std:.1e} by layer {last.layer})"
    if nonlinearity == "tanh" and last.saturated > 0.2:
        return f"units saturate ({last.saturated:.0%} at ±1 in layer {last.layer}): their gradients die"
    if ratio < 0.25:
        return f"activations shrink layer by layer (std {first.std:.2g} → {last.std:.2g})"
    if ratio > 4:
        return f"activations grow layer by layer (std {first.std:.2g} → {last.std:.2g})"
    return f"healthy: the spread holds (std {first.std:.2g} → {last.std:.2g})"

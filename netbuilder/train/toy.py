"""Two-class point sets in the plane for the 2-D playground.

Every generator draws a clean shape roughly inside [-1, 1]² and then adds isotropic Gaussian
noise of standard deviation `noise` in the same units, so one noise setting means the same
thing for every shape. Classes are balanced and the output is deterministic for a seed.
"""
from __future__ import annotations

import math

import numpy as np
import torch

SPIRAL_TURNS = 1.5
TOY_CLASSES = ["0", "1"]


def _spiral(rng, n0, n1):
    """Two interleaved arms of SPIRAL_TURNS turns each, the second rotated by half a turn."""
    points = []
    for arm, n in enumerate((n0, n1)):
        # sqrt spreads the points evenly along the arm, which is longer far from the centre.
        t = np.sqrt(rng.uniform(0.0, 1.0, n))
        radius = 0.05 + 0.95 * t
        angle = 2 * math.pi * SPIRAL_TURNS * t + arm * math.pi
        points.append(np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1))
    return points


def _xor(rng, n0, n1):
    """Quadrants: class 1 where x·y > 0. A small margin keeps clean points off the axes."""
    def quadrant(n, signs):
        corner = signs[rng.integers(0, 2, n)]
        return corner * (0.05 + 0.95 * rng.uniform(0.0, 1.0, (n, 2)))
    return [quadrant(n0, np.array([[1.0, -1.0], [-1.0, 1.0]])), quadrant(n1, np.array([[1.0, 1.0], [-1.0, -1.0]]))]


def _circles(rng, n0, n1):
    """A disc of radius 0.5 inside a ring from 0.7 to 1."""
    def ring(n, inner, outer):
        radius = np.sqrt(rng.uniform(inner ** 2, outer ** 2, n))  # uniform over the area
        angle = rng.uniform(0, 2 * math.pi, n)
        return np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
    return [ring(n0, 0.0, 0.5), ring(n1, 0.7, 1.0)]


def _gaussians(rng, n0, n1):
    """Two round clusters of spread 0.25 around (−0.5, −0.5) and (0.5, 0.5)."""
    return [rng.normal(-0.5, 0.25, (n0, 2)), rng.normal(0.5, 0.25, (n1, 2))]


def _moons(rng, n0, n1):
    """Two interleaved half circles, scaled into [-1, 1] × [-0.5, 0.5]."""
    a = rng.uniform(0, math.pi, n0)
    b = rng.uniform(0, math.pi, n1)
    upper = np.stack([np.cos(a), np.sin(a)], 1)
    lower = np.stack([1 - np.cos(b), 0.5 - np.sin(b)], 1)
    shift = np.array([0.5, 0.25])
    return [(upper - shift) / 1.5, (lower - shift) / 1.5]


GENERATORS = {"spiral": _spiral, "xor": _xor, "circles": _circles, "gaussians": _gaussians, "moons": _moons}


def make_toy(generator: str, points: int, noise: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(x float32 (N, 2), y int64 (N,)) with N = points, classes alternating so any prefix is balanced."""
    if generator not in GENERATORS:
        raise ValueError(f"unknown toy generator {generator!r}; choose one of {', '.join(GENERATORS)}")
    rng = np.random.default_rng(seed)
    n1 = points // 2
    n0 = points - n1
    clean = GENERATORS[generator](rng, n0, n1)
    x = np.empty((points, 2))
    y = np.empty(points, dtype=np.int64)
    # Interleave the classes (0, 1, 0, 1, ...) so the first points shown are a fair sample.
    x[0::2], y[0::2] = clean[0], 0
    x[1::2], y[1::2] = clean[1], 1
    x += rng.normal(0.0, noise, x.shape)
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y)

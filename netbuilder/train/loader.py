"""Batches cut from tensors that already live on the training device.

The whole split stays on the device in its compact form; each epoch draws one permutation, and
batches are index gathers of it, normalised a few at a time and augmented one by one. There is no
per-sample Python and no worker process: on a GPU an epoch of Fashion-MNIST is a few hundred
kernel launches, on a CPU a few tens of milliseconds.

The permutation and the augmentation randomness of epoch e depend only on (seed, e), so a run
resumed from a checkpoint at an epoch boundary sees exactly the batches it would have seen.
"""
from __future__ import annotations

import math

import numpy as np
import torch

CHUNK_ELEMENTS = 1 << 20   # values standardized together: 4 MB of float32, a few dozen small batches


def epoch_seed(seed: int, epoch: int) -> int:
    """A well-mixed 63-bit seed for one epoch of a run seeded with `seed`."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(2, np.uint64)[0] >> np.uint64(1))


class TensorLoader:
    """Iterates (x, y) batches: x float32 shaped like the Input node, y int64 labels, float
    regression targets, or float soft targets (N, C) when the augmentation mixes samples."""

    def __init__(self, split, batch_size: int, *, normalizer, shuffle: bool = True, seed: int = 0, augment=None,
                 drop_last: bool = False, device=None):
        if batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {batch_size}")
        self.device = torch.device(device) if device is not None else split.x.device
        # Moving is a no-op when the split is already there, which is how load_data leaves it.
        self.x = split.x.to(self.device)
        self.y = split.y.to(self.device)
        self.normalizer = normalizer.to(self.device)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.augment = augment if augment is not None and getattr(augment, "active", True) else None
        self.drop_last = drop_last
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.y)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        epoch = self.epoch
        self.epoch += 1   # counted when the epoch starts, so a stopped epoch is not replayed on resume
        n = len(self.y)
        order = None
        if self.shuffle:
            generator = torch.Generator().manual_seed(epoch_seed(self.seed, epoch))
            order = torch.randperm(n, generator=generator).to(self.device)
        if self.augment is not None and hasattr(self.augment, "set_epoch"):
            self.augment.set_epoch(epoch)
        normalizer, augment, size = self.normalizer, self.augment, self.batch_size
        end = min(len(self) * size, n)
        # Several batches are gathered and standardized at once, then cut into views: on a small
        # network the fixed cost of each gather and elementwise pass would otherwise be a tenth of
        # the step. The values are exactly those of batch-by-batch preparation.
        per_sample = max(1, self.x[0].numel()) if n else 1
        chunk = size * max(1, CHUNK_ELEMENTS // (size * per_sample))
        for chunk_start in range(0, end, chunk):
            chunk_end = min(chunk_start + chunk, end)
            if order is None:
                xs, ys = self.x[chunk_start:chunk_end], self.y[chunk_start:chunk_end]
            else:
                # index_select, not x[index]: the same gather without advanced indexing's overhead.
                index = order[chunk_start:chunk_end]
                xs, ys = self.x.index_select(0, index), self.y.index_select(0, index)
            xs = normalizer.standardize(xs)
            for start in range(0, chunk_end - chunk_start, size):
                xb, yb = xs[start:start + size], ys[start:start + size]
                if augment is not None:
                    xb, yb = augment(xb, yb, fill=normalizer.fill)
                yield normalizer.to_input(xb), yb

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        self.epoch = int(state["epoch"])
        self.seed = int(state.get("seed", self.seed))

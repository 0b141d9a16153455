"""Input preprocessing: statistics from the training split, applied cheaply to every batch.

The data stays compact on the device (uint8 images, float32 features); a Normalizer turns a
batch into what the network sees in two steps the loader can put augmentation between:

    standardize(x)  -> float32, still in the stored layout (images stay N×C×H×W)
    to_input(x)     -> reshaped to the Input node's shape (flattened, rows as steps, ...)

Modes (`preprocessing` setting); 8-bit data is read as [0, 1] intensities first:
    standardize   (x − mean_c) / std_c per channel (per feature for tabular data); the default
    zero-center   x − mean_c
    minmax        (x − min_c) / (max_c − min_c), into [0, 1]
    pca-whiten    ZCA whitening: decorrelate and scale every principal direction to unit variance,
                  then rotate back so images still look like images to a convolution
    none          values as stored (8-bit data as [0, 1])
"""
from __future__ import annotations

import math

import torch

from .datasets import DataError

MODES = ("standardize", "zero-center", "minmax", "pca-whiten", "none")
MAX_WHITEN_FEATURES = 4096
WHITEN_SAMPLES = 10_000  # enough for a stable covariance of up to 4096 features, and fast
_CHUNK = 8192


class Normalizer:
    """Maps stored batches to float32 network inputs; all its tensors sit on one device.

    `fill` is what a stored zero (black, or an absent feature) becomes after standardizing:
    augmentation pads with it so that rotated-in corners look like background, not grey.
    """

    def __init__(self, mode: str, stored_shape: tuple, input_shape: tuple, input_kind: str, *,
                 offset: torch.Tensor | None = None, scale: torch.Tensor | None = None,
                 whiten: torch.Tensor | None = None, device="cpu"):
        self.mode = mode
        self.device = torch.device(device)
        self.stored_shape = tuple(stored_shape)
        self.input_shape = tuple(input_shape)
        self.input_kind = input_kind
        self.offset = offset    # in stored units, broadcast against one sample
        self.scale = scale      # multiplies (x − offset)
        self.whiten = whiten    # (F, F) applied to flattened samples after offset/scale
        self.tokens = input_kind == "tokens"
        # (x − offset)·scale as one fused multiply-add per batch: x·scale + bias.
        self._bias = None
        if offset is not None and whiten is None:
            self._bias = -offset * scale if scale is not None else -offset
        if self.tokens:
            self.fill = None
        else:
            self.fill = self.standardize(torch.zeros((1, *self.stored_shape), device=self.device))[0]

    def to(self, device) -> "Normalizer":
        device = torch.device(device)
        if device == self.device:
            return self
        move = (lambda t: None if t is None else t.to(device))
        return Normalizer(self.mode, self.stored_shape, self.input_shape, self.input_kind,
                          offset=move(self.offset), scale=move(self.scale), whiten=move(self.whiten), device=device)

    def standardize(self, x: torch.Tensor) -> torch.Tensor:
        if self.tokens:
            return x.long()
        if x.device != self.device:
            x = x.to(self.device)
        # A conversion makes a new tensor that may be changed in place; a float32 batch may be a
        # view of the stored split, which must stay as it is.
        owned = x.dtype != torch.float32
        x = x.float()
        if self._bias is not None:
            # Multiply, then add in place: two passes over the batch, yet quicker than one addcmul,
            # whose broadcasting of per-channel statistics is not vectorised on the CPU.
            if self.scale is not None:
                x = x.mul_(self.scale) if owned else x * self.scale
                return x.add_(self._bias)
            return x.add_(self._bias) if owned else x + self._bias
        if self.offset is not None:
            x = x - self.offset
        if self.scale is not None:
            x = x * self.scale
        if self.whiten is not None:
            x = (x.reshape(len(x), -1) @ self.whiten).reshape(x.shape)
        return x

    def to_input(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[1:]) == self.input_shape:
            return x
        if self.input_kind == "sequence" and len(self.stored_shape) == 3 and self.stored_shape[0] > 1:
            # Colour image rows as steps: each step holds a row's pixels, channel values side by side.
            return x.permute(0, 2, 3, 1).reshape(len(x), *self.input_shape)
        return x.reshape(len(x), *self.input_shape)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_input(self.standardize(x))

    def state_dict(self) -> dict:
        """Everything needed to preprocess new samples the same way (for export and inference)."""
        return {"mode": self.mode, "stored_shape": list(self.stored_shape), "input_shape": list(self.input_shape),
                "input_kind": self.input_kind, "offset": self.offset, "scale": self.scale, "whiten": self.whiten}

    @classmethod
    def from_state_dict(cls, state: dict) -> "Normalizer":
        tensors = [state[k] for k in ("offset", "scale", "whiten") if state[k] is not None]
        return cls(state["mode"], tuple(state["stored_shape"]), tuple(state["input_shape"]), state["input_kind"],
                   offset=state["offset"], scale=state["scale"], whiten=state["whiten"],
                   device=tensors[0].device if tensors else "cpu")


def channel_axes(layout: str, ndim: int) -> tuple[int, ...]:
    """The batch axes statistics are pooled over: everything but the channel (images, signals)
    or the feature (vectors, sequences)."""
    if layout in ("image", "signal"):
        return (0, *range(2, ndim))
    return tuple(range(ndim - 1))


def fit_normalizer(mode: str, x_train: torch.Tensor, layout: str, input_shape: tuple, input_kind: str,
                   progress=None) -> Normalizer:
    """Statistics from the training samples only (`x_train`, stored layout), for `mode`."""
    if mode not in MODES:
        raise DataError(f"unknown preprocessing {mode!r}; choose one of {', '.join(MODES)}")
    stored = tuple(x_train.shape[1:])
    device = x_train.device

    def make(**tensors):
        return Normalizer(mode, stored, input_shape, input_kind, device=device, **tensors)

    if input_kind == "tokens":
        return Normalizer("none", stored, input_shape, input_kind, device=device)
    unit = 1.0 / 255.0 if x_train.dtype == torch.uint8 else 1.0
    axes = channel_axes(layout, x_train.dim())
    keep = [1 if i in axes else size for i, size in enumerate(x_train.shape)][1:]   # one sample's broadcast shape
    if mode == "none":
        return make(scale=torch.full(keep, unit, device=device)) if unit != 1.0 else make()
    if len(x_train) == 0:
        raise DataError("the training split is empty, so no preprocessing statistics can be computed; "
                        "lower the validation fraction or raise the limit")
    if progress:
        progress("Computing preprocessing statistics", None)
    if mode == "pca-whiten":
        return _fit_whitening(x_train, make, unit)

    def as_stat(values):
        return values.to(device=device, dtype=torch.float32).reshape(keep)

    per_channel_bytes = x_train.dtype == torch.uint8 and layout in ("image", "signal")
    histograms = _channel_histograms(x_train) if per_channel_bytes else None
    if mode == "minmax":
        lo, hi = _value_range(x_train, axes, histograms)
        span = hi - lo
        span[span == 0] = 1.0
        return make(offset=as_stat(lo), scale=as_stat(1.0 / span))
    mean, std = _moments(x_train, axes, keep, histograms)
    if mode == "zero-center":
        return make(offset=as_stat(mean), scale=torch.full(keep, unit, device=device))
    std[std < 1e-8 * max(float(std.max()), 1.0)] = 1.0   # a constant channel stays as it is
    return make(offset=as_stat(mean), scale=as_stat(1.0 / std))


def _channel_histograms(x: torch.Tensor) -> torch.Tensor:
    """(C, 256) value counts per channel of uint8 data: exact statistics from one fast pass."""
    return torch.stack([torch.bincount(x[:, c].reshape(-1), minlength=256) for c in range(x.shape[1])]).double()


def _value_range(x, axes, histograms) -> tuple[torch.Tensor, torch.Tensor]:
    if histograms is not None:
        present = histograms > 0
        values = torch.arange(256, dtype=torch.float64, device=histograms.device)
        lo = torch.where(present, values, torch.full_like(values, 256)).amin(1)
        hi = torch.where(present, values, torch.full_like(values, -1)).amax(1)
        return lo, hi
    lo = torch.stack([c.amin(dim=axes) for c in _chunks(x)]).amin(0).double()
    hi = torch.stack([c.amax(dim=axes) for c in _chunks(x)]).amax(0).double()
    return lo, hi


def _moments(x, axes, keep, histograms) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and (sample) standard deviation, in float64."""
    if histograms is not None:
        values = torch.arange(256, dtype=torch.float64, device=histograms.device)
        count = histograms.sum(1)
        mean = (histograms * values).sum(1) / count
        variance = (histograms * (values - mean[:, None]) ** 2).sum(1) / (count - 1).clamp_min(1)
        return mean, variance.sqrt()
    # Two passes (mean, then squared deviations) stay accurate for features far from zero;
    # float32 sums within a chunk (pairwise, so accurate), float64 across chunks.
    pooled = x.numel() // max(1, math.prod(keep))
    mean = sum(c.float().sum(dim=axes).double() for c in _chunks(x)) / pooled
    centre = mean.float().reshape(keep)
    squares = sum((c.float() - centre).square_().sum(dim=axes).double() for c in _chunks(x))
    return mean, (squares / max(pooled - 1, 1)).sqrt()


def _chunks(x: torch.Tensor):
    for i in range(0, len(x), _CHUNK):
        yield x[i:i + _CHUNK]


def _fit_whitening(x_train: torch.Tensor, make, unit: float) -> Normalizer:
    stored = tuple(x_train.shape[1:])
    features = x_train[0].numel()
    if features > MAX_WHITEN_FEATURES:
        raise DataError(f"PCA whitening needs a {features}×{features} covariance matrix for inputs of "
                        f"{'×'.join(map(str, stored))} = {features} values; it is offered for at most "
                        f"{MAX_WHITEN_FEATURES} values. Choose standardize, or a smaller Input size")
    device = x_train.device
    flat = x_train.reshape(len(x_train), -1)
    mean = sum(c.double().sum(0) for c in _chunks(flat)) / len(flat)
    # The covariance from a seeded subsample: the mean uses every sample, the directions need far fewer.
    pick = torch.randperm(len(flat), generator=torch.Generator().manual_seed(0))[:WHITEN_SAMPLES].to(device)
    sample = ((flat[pick].double() - mean) * unit).float()
    covariance = (sample.T @ sample).double().cpu() / max(len(sample) - 1, 1)
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
    eigenvalues = eigenvalues.clamp(min=0)
    # ε = 0.1% of the average variance, so directions with next to no variance (constant image
    # borders) are not blown up into noise.
    epsilon = 1e-3 * float(eigenvalues.mean()) + 1e-12
    whiten = (eigenvectors * (eigenvalues + epsilon).rsqrt()) @ eigenvectors.T
    return make(offset=mean.float().reshape(stored).to(device), scale=torch.tensor(unit, device=device),
                whiten=whiten.float().to(device))

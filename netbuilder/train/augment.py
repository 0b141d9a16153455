"""Data augmentation on whole batches of normalised tensors, on their device.

Every sample gets its own random flip, rotation, shift, zoom, colour change and cutout, drawn
as small per-sample tensors; the geometric part is one affine resampling of the batch. (Batch
transforms from image libraries draw one set of parameters per call, i.e. per batch, which is
a much weaker augmentation.)

Inputs arrive already normalised (the loader augments between standardizing and reshaping to
the Input node), so noise σ is in normalised units, and the caller's `fill` — what a black
pixel became — pads rotated-in corners and cutout squares so they look like background.

Images (N, C, H, W) get everything; signals (N, C, L) get time reversal (horizontal flip),
shift, stretch, cutout, noise and mixup; feature vectors and sequences get noise and mixup.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..core.params import defaults
from ..core.settings import AUGMENTATION_SPECS
from .loader import epoch_seed


class Augmenter:
    """The `augmentation` settings as a callable on (x, y) batches; `active` is False when every
    option is off, and the loader then leaves it out."""

    def __init__(self, settings: dict, input_kind: str, num_classes: int, seed: int = 0):
        self.settings = {**defaults(AUGMENTATION_SPECS), **(settings or {})}
        s = self.settings
        self.input_kind = input_kind
        self.num_classes = int(num_classes)
        self.seed = int(seed)
        self.geometric = bool(s["hflip"] or s["vflip"] or s["rotation"] > 0 or s["shift"] > 0 or s["scale"] > 0)
        any_option = self.geometric or s["noise"] > 0 or s["color_jitter"] > 0 or s["cutout"] > 0 or s["mixup"] > 0
        self.active = bool(any_option) and input_kind != "tokens"   # token ids cannot be blended or shifted
        self._epoch = 0
        self._generator: torch.Generator | None = None
        self._rng: np.random.Generator | None = None

    # -- randomness: one stream per epoch, so resumed runs repeat themselves exactly
    def set_epoch(self, epoch: int) -> None:
        self._epoch = int(epoch)
        self._generator = None
        self._rng = None

    def _streams(self, device: torch.device):
        if self._generator is None or self._generator.device != device:
            seed = epoch_seed(self.seed, self._epoch)
            self._generator = torch.Generator(device=device).manual_seed(seed)
            self._rng = np.random.default_rng(seed)
        return self._generator, self._rng

    def _uniform(self, n: int, low: float, high: float, device) -> torch.Tensor:
        generator, _ = self._streams(device)
        return torch.rand(n, generator=generator, device=device) * (high - low) + low

    # -- the pipeline
    def __call__(self, x: torch.Tensor, y: torch.Tensor, *, fill=None):
        if not self.active or len(x) == 0:
            return x, y
        s = self.settings
        fill = torch.zeros((), device=x.device) if fill is None else fill.to(x.device, x.dtype)
        if x.dim() == 4:
            if self.geometric:
                x = self._image_geometry(x, fill)
            if s["color_jitter"] > 0:
                x = self._colour(x, fill)
            if s["cutout"] > 0:
                x = self._cutout(x, fill, s["cutout"])
        elif x.dim() == 3 and self.input_kind == "signal":
            if self.geometric:
                x = self._signal_geometry(x, fill)
            if s["cutout"] > 0:
                x = self._cutout(x.unsqueeze(2), fill.unsqueeze(-2) if fill.dim() >= 2 else fill, s["cutout"],
                                 rows=False).squeeze(2)
        if s["noise"] > 0:
            generator, _ = self._streams(x.device)
            x = x + s["noise"] * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        if s["mixup"] > 0:
            x, y = self._mixup(x, y, s["mixup"])
        return x, y

    def _flip_mask(self, n, device) -> torch.Tensor:
        return self._uniform(n, 0, 1, device) < 0.5

    def _image_geometry(self, x: torch.Tensor, fill) -> torch.Tensor:
        s = self.settings
        n, _, h, w = x.shape
        device = x.device
        if s["hflip"]:
            x = torch.where(self._flip_mask(n, device).view(n, 1, 1, 1), x.flip(-1), x)
        if s["vflip"]:
            x = torch.where(self._flip_mask(n, device).view(n, 1, 1, 1), x.flip(-2), x)
        if not (s["rotation"] > 0 or s["shift"] > 0 or s["scale"] > 0):
            return x
        angle = self._uniform(n, -s["rotation"], s["rotation"], device) * (math.pi / 180)
        zoom = self._uniform(n, 1 - s["scale"], 1 + s["scale"], device)
        # A shift of `shift` of the image size is 2·shift in the [-1, 1] grid coordinates.
        tx = self._uniform(n, -2 * s["shift"], 2 * s["shift"], device)
        ty = self._uniform(n, -2 * s["shift"], 2 * s["shift"], device)
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        # Output pixel -> input pixel, rotating in pixel space: the aspect factors keep a
        # non-square image from shearing.
        theta = torch.stack([torch.stack([cos, -sin * (h / w), tx], 1),
                             torch.stack([sin * (w / h), cos, ty], 1)], 1)
        return self._resample(x, theta, fill)

    def _signal_geometry(self, x: torch.Tensor, fill) -> torch.Tensor:
        s = self.settings
        n = len(x)
        device = x.device
        if s["hflip"]:
            x = torch.where(self._flip_mask(n, device).view(n, 1, 1), x.flip(-1), x)
        if not (s["shift"] > 0 or s["scale"] > 0):
            return x
        stretch = 1 / self._uniform(n, 1 - s["scale"], 1 + s["scale"], device)
        tx = self._uniform(n, -2 * s["shift"], 2 * s["shift"], device)
        zeros, ones = torch.zeros_like(tx), torch.ones_like(tx)
        theta = torch.stack([torch.stack([stretch, zeros, tx], 1), torch.stack([zeros, ones, zeros], 1)], 1)
        signal_fill = fill.unsqueeze(-2) if fill.dim() >= 2 else fill
        return self._resample(x.unsqueeze(2), theta, signal_fill).squeeze(2)

    @staticmethod
    def _resample(x: torch.Tensor, theta: torch.Tensor, fill) -> torch.Tensor:
        grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
        # Sampling x − fill with zero padding and adding fill back pads with `fill`.
        return F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + fill

    def _colour(self, x: torch.Tensor, fill) -> torch.Tensor:
        """Brightness scales away from black (`fill`), contrast away from each image's mean,
        saturation away from each pixel's grey value."""
        j = self.settings["color_jitter"]
        n = len(x)
        shape = (n, 1, 1, 1)
        brightness = self._uniform(n, max(0.0, 1 - j), 1 + j, x.device).view(shape)
        x = fill + (x - fill) * brightness
        contrast = self._uniform(n, max(0.0, 1 - j), 1 + j, x.device).view(shape)
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = mean + (x - mean) * contrast
        if x.shape[1] == 3:
            saturation = self._uniform(n, max(0.0, 1 - j), 1 + j, x.device).view(shape)
            grey = x.mean(dim=1, keepdim=True)
            x = grey + (x - grey) * saturation
        return x

    def _cutout(self, x: torch.Tensor, fill, size: int, rows: bool = True) -> torch.Tensor:
        """Blank a size×size square (a size-long segment for signals) at a random centre; the
        square may hang over the border, as in the original method."""
        n, _, h, w = x.shape
        device = x.device
        cy = (self._uniform(n, 0, h, device).floor() if rows else torch.zeros(n, device=device)).view(n, 1, 1, 1)
        cx = self._uniform(n, 0, w, device).floor().view(n, 1, 1, 1)
        ys = torch.arange(h, device=device).view(1, 1, h, 1)
        xs = torch.arange(w, device=device).view(1, 1, 1, w)
        low = size // 2
        inside_x = (xs >= cx - low) & (xs < cx - low + size)
        inside = inside_x & ((ys >= cy - low) & (ys < cy - low + size) if rows else True)
        return torch.where(inside, fill, x)

    def _mixup(self, x: torch.Tensor, y: torch.Tensor, alpha: float):
        """x = λ·x_i + (1−λ)·x_j with λ ~ Beta(α, α) per sample and j a shuffled partner; targets
        become the same blend of one-hot vectors (or of regression targets)."""
        n = len(x)
        generator, rng = self._streams(x.device)
        lam = torch.from_numpy(rng.beta(alpha, alpha, n).astype(np.float32)).to(x.device)
        partner = torch.randperm(n, generator=generator, device=x.device)
        x = lam.view(-1, *([1] * (x.dim() - 1))) * x + (1 - lam).view(-1, *([1] * (x.dim() - 1))) * x[partner]
        if not y.is_floating_point():
            classes = self.num_classes if self.num_classes > 1 else int(y.max()) + 1   # avoids a device sync
            y = F.one_hot(y, num_classes=classes).float()
        lam_y = lam.view(-1, *([1] * (y.dim() - 1)))
        return x, lam_y * y + (1 - lam_y) * y[partner]


def preview(settings: dict, samples, seed: int = 0) -> np.ndarray:
    """`samples` (N, C, H, W) or (N, H, W), uint8 or float in [0, 1], augmented as training would
    augment them, in the same layout and range as float32 (for the GUI's live preview)."""
    x = torch.as_tensor(np.asarray(samples))
    squeeze = x.dim() == 3
    if squeeze:
        x = x.unsqueeze(1)
    x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
    if x.dim() != 4 or len(x) == 0:
        raise ValueError(f"preview needs images (N, C, H, W) or (N, H, W), got shape {tuple(x.shape)}")
    # Normalise as training would (per channel, from these samples), so noise σ means the same.
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    std = x.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    augmenter = Augmenter(settings, "image", num_classes=len(x), seed=seed)
    out, _ = augmenter((x - mean) / std, torch.arange(len(x)), fill=((0 - mean) / std)[0])
    out = (out * std + mean).clamp(0.0, 1.0)
    return (out.squeeze(1) if squeeze else out).numpy().astype(np.float32)

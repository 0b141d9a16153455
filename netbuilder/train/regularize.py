"""Regularization pieces the training loop calls: loss penalties, gradient clipping, max-norm,
input noise, early stopping, and the loss function (with label smoothing).

Each function takes settings["regularization"] and does nothing costly when its setting is off,
so the loop can call them unconditionally. Which parameters are penalised, and how strongly, is
decided in one place (optim.parameter_groups) and shared with the optimizer's decoupled decay.
"""
from __future__ import annotations

import math
import weakref

import torch
import torch.nn.functional as F
from torch import nn

from .optim import parameter_groups

# model → (grouping key, [(factor, params)]): the penalty runs every step, and a built module's
# parameters never change, so the grouping is worked out once per model and settings.
_PENALISED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _penalised(model: nn.Module, regularization: dict, l2_multipliers: dict | None) -> list:
    key = (bool(regularization.get("exclude_bias_and_norm", True)),
           tuple(sorted((l2_multipliers or {}).items())))
    cached = _PENALISED.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    groups = [(g["l2_factor"], g["params"]) for g in parameter_groups(model, regularization, l2_multipliers)
              if g["l2_factor"] > 0]
    _PENALISED[model] = (key, groups)
    return groups


# --------------------------------------------------------------------------- penalties
def penalty(model: nn.Module, regularization: dict, l2_multipliers: dict[str, float] | None = None):
    """λ2/2 · Σ m·‖w‖² + λ1 · Σ m·|w|, to add to the loss (coupled: it reaches the weights as a
    gradient, λ2·m·w + λ1·m·sign(w), and so goes through the optimizer's rescaling).

    m is the node's multiplier (0 for biases and norm layers when they are excluded). Both
    λ1 and λ2 set = elastic net. Returns None when both are 0 or nothing is penalised, so the
    caller adds nothing and autograd records nothing.
    """
    l2 = float(regularization.get("l2", 0.0))
    l1 = float(regularization.get("l1", 0.0))
    if l2 == 0.0 and l1 == 0.0:
        return None
    total = None
    for factor, params in _penalised(model, regularization, l2_multipliers):
        if l2:
            term = (0.5 * l2 * factor) * torch.stack([p.square().sum() for p in params]).sum()
            total = term if total is None else total + term
        if l1:
            term = (l1 * factor) * torch.stack([p.abs().sum() for p in params]).sum()
            total = term if total is None else total + term
    return total


# --------------------------------------------------------------------------- gradients and weights
def _total_norm(params: list[torch.Tensor]) -> torch.Tensor:
    if not params:
        return torch.zeros(())
    norms = torch.stack([torch.linalg.vector_norm(p.grad.detach()).to(params[0].device) for p in params])
    return torch.linalg.vector_norm(norms)


def clip_gradients(model: nn.Module, regularization: dict):
    """Clip the gradients in place: "norm" rescales all of them together so their global L2 norm
    is at most clip_value (direction kept); "value" clamps each entry to ±clip_value.

    Returns the global gradient norm before clipping (a 0-dim tensor, read by the monitor when it
    wants to — no device sync here), or None when clipping is off.
    """
    mode = regularization.get("clip_mode", "none")
    if mode == "none":
        return None
    limit = float(regularization.get("clip_value", 1.0))
    params = [p for p in model.parameters() if p.grad is not None]
    if mode == "norm":
        return torch.nn.utils.clip_grad_norm_(params, limit)
    if mode == "value":
        before = _total_norm(params)
        torch.nn.utils.clip_grad_value_(params, limit)
        return before
    raise ValueError(f"unknown clip_mode {mode!r}; expected none, norm or value")


_CONV_TYPES = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_CONV_TRANSPOSE_TYPES = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def _shrink_factors(norms: torch.Tensor, limit: float) -> torch.Tensor:
    # Vectors already inside the ball keep factor 1 exactly, so max-norm never grows a weight.
    return (limit / norms.clamp_min(1e-12)).clamp(max=1.0)


@torch.no_grad()
def apply_max_norm(model: nn.Module, regularization: dict) -> None:
    """Rescale each unit's incoming weight vector to norm ≤ max_norm (a no-op at 0).

    A unit is an output feature of a Linear (a row of its weight, Maxout's inner Linear included)
    or an output channel of a convolution (a whole filter, all input channels and taps). For
    transposed convolutions the incoming vector of output channel j is weight[:, j] within its
    group. Recurrent and embedding weights are left alone (their rows are not incoming vectors of
    one unit). Biases are never constrained.
    """
    limit = float(regularization.get("max_norm", 0.0))
    if limit <= 0:
        return
    for module in model.modules():
        if isinstance(module, (nn.Linear, *_CONV_TYPES)):
            w = module.weight
            norms = torch.linalg.vector_norm(w.reshape(w.shape[0], -1), dim=1)
            w.mul_(_shrink_factors(norms, limit).view(-1, *([1] * (w.dim() - 1))))
        elif isinstance(module, _CONV_TRANSPOSE_TYPES):
            w = module.weight  # (in, out / groups, *kernel)
            groups = module.groups
            in_per_group, out_per_group = w.shape[0] // groups, w.shape[1]
            grouped = w.reshape(groups, in_per_group, out_per_group, -1)
            norms = grouped.square().sum(dim=(1, 3)).sqrt()  # (groups, out_per_group)
            scale = _shrink_factors(norms, limit).repeat_interleave(in_per_group, dim=0)
            w.mul_(scale.view(w.shape[0], out_per_group, *([1] * (w.dim() - 2))))


def add_input_noise(x: torch.Tensor, regularization: dict, generator: torch.Generator | None = None) -> torch.Tensor:
    """x + σ·N(0, 1) for training inputs (σ = input_noise). Token ids (integer inputs) are returned
    unchanged: adding noise to an index has no meaning."""
    sigma = float(regularization.get("input_noise", 0.0))
    if sigma <= 0 or not x.is_floating_point():
        return x
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x + sigma * noise


# --------------------------------------------------------------------------- early stopping
class EarlyStopping:
    """Stop when the monitored metric has not improved for `patience` epochs in a row.

    Improvement means below best − min_delta for val_loss, above best + min_delta for
    val_accuracy. Without a validation split the matching training metric is watched instead.
    With restore_best, a CPU copy of the model's state (parameters and buffers such as batch-norm
    statistics) is kept at each new best, and `restore` rolls the model back to it.
    """

    def __init__(self, regularization: dict):
        self.metric = regularization.get("es_metric", "val_loss")
        self.patience = int(regularization.get("patience", 5))
        self.min_delta = float(regularization.get("min_delta", 0.0))
        self.restore_best = bool(regularization.get("restore_best", True))
        self.mode = "max" if self.metric.endswith("accuracy") else "min"
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self.wait = 0
        self._best_state: dict | None = None

    def _value(self, metrics: dict) -> float | None:
        value = metrics.get(self.metric)
        if value is None and self.metric.startswith("val_"):
            value = metrics.get("train_" + self.metric[len("val_"):])
        return None if value is None else float(value)

    def _improves(self, value: float) -> bool:
        if self.best_value is None:
            return math.isfinite(value)
        if self.mode == "min":
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    def update(self, epoch: int, metrics: dict, model: nn.Module) -> bool:
        """Record this epoch's metrics; True means stop now."""
        value = self._value(metrics)
        if value is None:
            return False
        if self._improves(value):
            self.best_value, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self._best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            return False
        self.wait += 1
        return self.wait >= self.patience

    def restore(self, model: nn.Module) -> bool:
        """Load the best epoch's weights into the model; False when none were kept."""
        if self._best_state is None:
            return False
        model.load_state_dict(self._best_state)
        return True

    def state_dict(self) -> dict:
        return {"best_value": self.best_value, "best_epoch": self.best_epoch, "wait": self.wait,
                "best_state": self._best_state}

    def load_state_dict(self, state: dict) -> None:
        self.best_value = state["best_value"]
        self.best_epoch = state["best_epoch"]
        self.wait = int(state["wait"])
        self._best_state = state.get("best_state")


# --------------------------------------------------------------------------- losses
LOSSES = ("cross-entropy", "mse", "bce-with-logits")


def _smooth_one_hot(labels: torch.Tensor, classes: int, eps: float, dtype) -> torch.Tensor:
    """1 − ε on the true class, ε/(k − 1) on each other class (sums to 1)."""
    off = eps / (classes - 1) if classes > 1 else 0.0
    target = torch.full((*labels.shape, classes), off, dtype=dtype, device=labels.device)
    return target.scatter_(-1, labels.unsqueeze(-1), 1.0 - eps if classes > 1 else 1.0)


def make_loss(loss_name: str, label_smoothing: float = 0.0):
    """The criterion for the Output node's loss: a callable (outputs, targets) → mean loss.

    Label smoothing ε follows the course notes: the true class gets 1 − ε and each of the other
    k − 1 classes ε/(k − 1). (PyTorch's own `label_smoothing` spreads ε/k over all k classes,
    the true one included.) The two are the same linear map on targets with
    ε_torch = ε·k/(k − 1), so cross-entropy hands that to PyTorch's fused kernel; it applies to
    both integer labels and soft (N, C) float targets such as mixup's.

    * cross-entropy: logits (N, C[, ...]); targets int64 class indices or float class
      probabilities of the logits' shape.
    * mse: integer class labels become (smoothed) one-hot vectors when there are several outputs;
      float targets are regression values and are not smoothed (ε has no meaning there).
    * bce-with-logits: binary or multi-label targets in [0, 1]; smoothing maps t to
      t·(1 − ε) + (1 − t)·ε (k = 2 per output). Integer class labels with several outputs
      become one-hot first.
    """
    eps = float(label_smoothing)
    if not 0.0 <= eps < 1.0:
        raise ValueError(f"label smoothing must be in [0, 1), got {eps}")

    if loss_name == "cross-entropy":
        def cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            classes = outputs.shape[1]
            torch_eps = eps * classes / (classes - 1) if classes > 1 else 0.0
            if targets.is_floating_point() and targets.shape != outputs.shape:
                targets = targets.long()  # class indices that arrived as floats
            return F.cross_entropy(outputs, targets, label_smoothing=torch_eps)
        return cross_entropy

    if loss_name == "mse":
        def mse(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            if not targets.is_floating_point() and outputs.dim() == 2 and outputs.shape[1] > 1:
                targets = _smooth_one_hot(targets.long(), outputs.shape[1], eps, outputs.dtype)
            else:
                targets = targets.to(outputs.dtype)
                if targets.shape != outputs.shape and targets.numel() == outputs.numel():
                    targets = targets.reshape(outputs.shape)
            return F.mse_loss(outputs, targets)
        return mse

    if loss_name == "bce-with-logits":
        def bce(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            if not targets.is_floating_point() and outputs.dim() == 2 and outputs.shape[1] > 1 \
                    and targets.dim() == 1:
                targets = F.one_hot(targets.long(), outputs.shape[1])
            targets = targets.to(outputs.dtype)
            if targets.shape != outputs.shape and targets.numel() == outputs.numel():
                targets = targets.reshape(outputs.shape)
            if eps:
                targets = targets * (1.0 - 2.0 * eps) + eps
            return F.binary_cross_entropy_with_logits(outputs, targets)
        return bce

    raise ValueError(f"unknown loss {loss_name!r}; expected one of: {', '.join(LOSSES)}")

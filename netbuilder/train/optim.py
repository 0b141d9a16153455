"""Optimizers from the project's settings, with parameters grouped for regularization.

`settings["optimizer"]` is a tagged union ({"type": "adam", "lr": ..., ...}); every key maps
onto the matching argument of the torch.optim class, so a built optimizer takes exactly the
steps of a hand-made torch.optim one with the same hyperparameters.

Parameters are split into groups by their regularization factor (see `parameter_groups`).
Each group carries two extra keys that torch ignores but keeps in its state dict:
`param_names` (the parameters' names in the model) and `l2_factor` (the multiplier on the
L2/L1 penalty and on decoupled weight decay; 0 = not penalised).

Coupled L2 and L1 are not handled here: they are terms of the loss (regularize.penalty), so
they reach the weights through the gradient — and therefore, under Adam, through its
per-parameter rescaling. Decoupled weight decay (regularization["weight_decay"]) never touches
the gradient: AdamW gets it natively; every other optimizer gets it from a step pre-hook that
applies w ← w − lr·wd·w to the weights the gradient was computed at, just before the update.
That is the decoupled rule of Loshchilov & Hutter (and what AdamW does internally), so the step
is w_t = w_{t−1} − lr·update − lr·wd·w_{t−1} for every optimizer.
"""
from __future__ import annotations

import torch
from torch import nn

from ..core.settings import OPTIMIZERS, default_optimizer

# Normalization layers: their scale and shift set a layer's output statistics, and shrinking them
# toward 0 fights the normalization instead of limiting capacity, so they are not penalised.
_NORM_TYPES = tuple(t for t in (
    getattr(nn, name, None) for name in (
        "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "InstanceNorm1d", "InstanceNorm2d",
        "InstanceNorm3d", "LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm",
    )) if t is not None)

# Group key holding the decoupled decay rate for optimizers without native support. Named apart
# from torch's own `decoupled_weight_decay` flag (Adam, NAdam, RAdam), which is a bool.
DECAY_KEY = "decoupled_decay"


def is_norm_layer(module: nn.Module) -> bool:
    return isinstance(module, _NORM_TYPES)


def node_of(param_name: str) -> str:
    """The graph node a parameter belongs to: the model's top-level child it sits in."""
    return param_name.split(".", 1)[0]


def _is_penalisable(module: nn.Module, local_name: str, param: torch.Tensor) -> bool:
    """Weight matrices and kernels only: not biases (RNNs have bias_ih/bias_hh), not norm layers,
    and not 1-element-per-channel vectors such as PReLU slopes."""
    if is_norm_layer(module) or local_name.startswith("bias"):
        return False
    return param.dim() >= 2


def parameter_groups(model: nn.Module, regularization: dict,
                     l2_multipliers: dict[str, float] | None = None) -> list[dict]:
    """The model's trainable parameters grouped by penalty factor.

    Returns a list of {"params": [tensors], "param_names": [names], "l2_factor": float}, one per
    distinct factor, in the order the factors first appear in the model. A parameter's factor is
    the multiplier of its node (l2_multipliers[node], default 1); with
    regularization["exclude_bias_and_norm"] (default True) biases, norm-layer parameters and
    other vectors get 0. Every trainable parameter is in exactly one group, so the list can be
    handed to a torch optimizer as is.
    """
    exclude = (regularization or {}).get("exclude_bias_and_norm", True)
    multipliers = l2_multipliers or {}
    by_factor: dict[float, dict] = {}
    seen: set[int] = set()
    for module_name, module in model.named_modules():
        for local_name, param in module.named_parameters(recurse=False):
            if not param.requires_grad or id(param) in seen:
                continue  # frozen, or shared with a module already visited
            seen.add(id(param))
            name = f"{module_name}.{local_name}" if module_name else local_name
            factor = float(multipliers.get(node_of(name), 1.0))
            if exclude and not _is_penalisable(module, local_name, param):
                factor = 0.0
            group = by_factor.setdefault(factor, {"params": [], "param_names": [], "l2_factor": factor})
            group["params"].append(param)
            group["param_names"].append(name)
    return list(by_factor.values())


def _torch_arguments(kind: str, s: dict) -> tuple[type, dict]:
    """The torch.optim class and its keyword arguments for a completed settings section."""
    betas = lambda: (s["beta1"], s["beta2"])  # noqa: E731
    if kind == "sgd":
        if s["nesterov"] and (s["momentum"] <= 0 or s["dampening"] != 0):
            raise ValueError("Nesterov momentum needs a momentum above 0 and a dampening of 0")
        return torch.optim.SGD, dict(lr=s["lr"], momentum=s["momentum"], dampening=s["dampening"],
                                     nesterov=s["nesterov"])
    if kind == "adagrad":
        return torch.optim.Adagrad, dict(lr=s["lr"], lr_decay=s["lr_decay"],
                                         initial_accumulator_value=s["initial_accumulator_value"], eps=s["eps"])
    if kind == "rmsprop":
        return torch.optim.RMSprop, dict(lr=s["lr"], alpha=s["alpha"], eps=s["eps"], momentum=s["momentum"],
                                         centered=s["centered"])
    if kind == "adadelta":
        return torch.optim.Adadelta, dict(lr=s["lr"], rho=s["rho"], eps=s["eps"])
    if kind in ("adam", "adamw"):
        cls = torch.optim.AdamW if kind == "adamw" else torch.optim.Adam
        return cls, dict(lr=s["lr"], betas=betas(), eps=s["eps"], amsgrad=s["amsgrad"])
    if kind == "nadam":
        return torch.optim.NAdam, dict(lr=s["lr"], betas=betas(), eps=s["eps"], momentum_decay=s["momentum_decay"])
    if kind == "radam":
        return torch.optim.RAdam, dict(lr=s["lr"], betas=betas(), eps=s["eps"])
    if kind == "adamax":
        return torch.optim.Adamax, dict(lr=s["lr"], betas=betas(), eps=s["eps"])
    raise AssertionError(f"optimizer {kind!r} has no torch translation")


def _complete(optimizer_settings: dict) -> dict:
    kind = optimizer_settings.get("type")
    if kind not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {kind!r}; expected one of: {', '.join(OPTIMIZERS)}")
    full = default_optimizer(kind)
    full.update(optimizer_settings)
    return full


@torch.no_grad()
def _decoupled_decay_hook(optimizer: torch.optim.Optimizer, args, kwargs) -> None:
    """w ← w·(1 − lr·wd) before the update, on the parameters this step will update."""
    for group in optimizer.param_groups:
        rate = group.get(DECAY_KEY, 0.0)
        if not rate:
            continue
        params = [p for p in group["params"] if p.grad is not None]
        if params:
            torch._foreach_mul_(params, 1.0 - group["lr"] * rate)


# torch.optim classes with a fused implementation (one kernel over all parameters) on the CPU and GPUs.
FUSED_KINDS = ("sgd", "adam", "adamw", "adagrad")


def build_optimizer(model: nn.Module, optimizer_settings: dict, regularization: dict,
                    l2_multipliers: dict[str, float] | None = None, *, fused: bool = False) -> torch.optim.Optimizer:
    """A torch optimizer for the model's trainable parameters.

    optimizer_settings: settings["optimizer"] (missing keys take their defaults).
    regularization: settings["regularization"]; only `weight_decay` and `exclude_bias_and_norm`
        matter here (L2/L1 are loss terms, see regularize.penalty).
    l2_multipliers: node name → multiplier on that node's penalties and decay.
    fused: use torch's fused kernel where the optimizer has one (FUSED_KINDS): the same update
        rule, with rounding that may differ in the last bit from the default implementation.
    """
    s = _complete(optimizer_settings)
    kind = s["type"]
    cls, kwargs = _torch_arguments(kind, s)
    if fused and kind in FUSED_KINDS:
        kwargs["fused"] = True
    decay = float((regularization or {}).get("weight_decay", 0.0))
    groups = parameter_groups(model, regularization, l2_multipliers)
    if not groups:
        raise ValueError("the network has no trainable parameters: add a layer with weights (Linear, Conv, ...)")
    for group in groups:
        rate = decay * group["l2_factor"]
        if kind == "adamw":
            group["weight_decay"] = rate
        else:
            group[DECAY_KEY] = rate
    # AdamW's own default decay (0.01) must not sneak in for groups the user left undecayed.
    optimizer = cls(groups, weight_decay=0.0, **kwargs)
    if kind != "adamw" and decay > 0:
        optimizer.register_step_pre_hook(_decoupled_decay_hook)
    return optimizer

"""Weight initialization: a project-wide scheme plus per-node overrides.

Randomness comes from torch's global generator, so the caller seeds it (torch.manual_seed) and
equal seeds give equal weights. `describe` is pure Python and torch is imported only when
weights are actually set, so the inspector can show descriptions without loading torch.

Fans are the layer's own, not the storage layout's: for a convolution fan_in = k·k·in_ch/groups
and fan_out = k·k·out_ch/groups; for a transposed convolution (stored in × out) the same formulas
hold with in and out meaning the layer's input and output channels (PyTorch's helper swaps them
there); recurrent weights are initialised one gate block at a time (fan_in = input or hidden
size, fan_out = hidden size), so orthogonal makes each gate's recurrent matrix orthogonal; an
embedding table uses PyTorch's convention (fan_in = embedding_dim).
"""
from __future__ import annotations

import math

from ..core.settings import INIT_SCHEMES, INIT_SPECS
from ..core.params import defaults

_INIT_DEFAULTS = defaults(INIT_SPECS)

# The gain that keeps activations' scale through each nonlinearity (PyTorch's calculate_gain;
# leaky ReLU at its default slope 0.01), with the text `describe` shows for it.
_GAINS = {
    "relu": (math.sqrt(2.0), "√2"),
    "leaky_relu": (math.sqrt(2.0 / (1 + 0.01 ** 2)), "√(2/(1+0.01²))"),
    "tanh": (5.0 / 3.0, "5/3"),
    "sigmoid": (1.0, "1"),
    "linear": (1.0, "1"),
    "selu": (3.0 / 4.0, "3/4"),
}


def complete(init: dict | None) -> dict:
    """An initialization dict with every missing key at its default."""
    full = dict(_INIT_DEFAULTS)
    full.update(init or {})
    if full["weight"] not in INIT_SCHEMES:
        raise ValueError(f"unknown initialization {full['weight']!r}; expected one of: {', '.join(INIT_SCHEMES)}")
    if full["bias"] not in ("zeros", "constant", "default"):
        raise ValueError(f"unknown bias initialization {full['bias']!r}; expected zeros, constant or default")
    if full["nonlinearity"] not in _GAINS:
        raise ValueError(f"unknown nonlinearity {full['nonlinearity']!r}; expected one of: {', '.join(_GAINS)}")
    return full


def describe(init: dict | None) -> str:
    """One line for the GUI, e.g. "Kaiming normal (fan_in, relu): std = √2/√fan; biases 0"."""
    s = complete(init)
    w = s["weight"]
    if w == "default":
        text = "PyTorch default for each layer type"
    elif w == "zeros":
        text = "All zeros: every unit stays identical (symmetry is never broken)"
    elif w == "constant":
        text = f"Constant {s['value']:g}: every unit stays identical (symmetry is never broken)"
    elif w == "normal":
        text = f"Normal: std = {s['std']:g}"
    elif w == "uniform":
        text = f"Uniform: U(−{s['r']:g}, {s['r']:g})"
    elif w == "xavier-normal":
        text = f"Xavier normal (gain {s['gain']:g}): std = gain·√(2/(fan_in+fan_out))"
    elif w == "xavier-uniform":
        text = f"Xavier uniform (gain {s['gain']:g}): U(±gain·√(6/(fan_in+fan_out)))"
    elif w in ("kaiming-normal", "kaiming-uniform"):
        gain = _GAINS[s["nonlinearity"]][1]
        head = f"Kaiming {w.split('-')[1]} ({s['mode']}, {s['nonlinearity']})"
        if w == "kaiming-normal":
            text = f"{head}: std = {gain}/√fan"
        else:
            text = f"{head}: U(±{gain}·√(3/fan))"
    elif w == "orthogonal":
        text = f"Orthogonal (gain {s['gain']:g}): a (semi-)orthogonal matrix × gain, norms kept through depth"
    else:  # lecun-normal
        text = "LeCun normal: std = 1/√fan_in"
    bias = {"zeros": "biases 0", "constant": f"biases {s['bias_value']:g}",
            "default": "biases PyTorch default"}[s["bias"]]
    return f"{text}; {bias}"


# --------------------------------------------------------------------------- applying a scheme
def _conv_types() -> tuple:
    from torch import nn
    return nn.Conv1d, nn.Conv2d, nn.Conv3d


def _conv_transpose_types() -> tuple:
    from torch import nn
    return nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d


def _weight_blocks(module):
    """(tensor view, fan_in, fan_out) for each block of a module that is initialised as a unit."""
    from torch import nn

    conv, conv_t = _conv_types(), _conv_transpose_types()
    if isinstance(module, nn.Linear):
        w = module.weight
        yield w, w.shape[1], w.shape[0]
    elif isinstance(module, conv):
        w = module.weight  # (out, in / groups, *kernel)
        taps = math.prod(w.shape[2:])
        yield w, w.shape[1] * taps, w.shape[0] // module.groups * taps
    elif isinstance(module, conv_t):
        w = module.weight  # (in, out / groups, *kernel)
        taps = math.prod(w.shape[2:])
        yield w, w.shape[0] // module.groups * taps, w.shape[1] * taps
    elif isinstance(module, nn.RNNBase):
        gates = {"LSTM": 4, "GRU": 3}.get(module.mode, 1)
        for name, w in module.named_parameters(recurse=False):
            if not name.startswith("weight"):
                continue
            if name.startswith("weight_hr"):  # LSTM projection: one plain matrix
                yield w, w.shape[1], w.shape[0]
                continue
            rows = w.shape[0] // gates
            for g in range(gates):
                yield w[g * rows:(g + 1) * rows], w.shape[1], rows
    elif isinstance(module, nn.Embedding):
        w = module.weight
        yield w, w.shape[1], w.shape[0]


def _biases(module):
    """Bias tensors of a weighted module, with the value share each gets (see `_set_biases`)."""
    from torch import nn

    if isinstance(module, nn.RNNBase):
        for name, b in module.named_parameters(recurse=False):
            if name.startswith("bias_ih"):
                yield b, 1.0
            elif name.startswith("bias_hh"):
                yield b, 0.0
    elif isinstance(module, (nn.Linear, *_conv_types(), *_conv_transpose_types())) and module.bias is not None:
        yield module.bias, 1.0


def _fill_block(block, scheme: dict, fan_in: int, fan_out: int) -> None:
    import torch

    w = scheme["weight"]
    if w == "zeros":
        block.zero_()
    elif w == "constant":
        block.fill_(scheme["value"])
    elif w == "normal":
        block.normal_(0.0, scheme["std"])
    elif w == "uniform":
        block.uniform_(-scheme["r"], scheme["r"])
    elif w == "xavier-normal":
        block.normal_(0.0, scheme["gain"] * math.sqrt(2.0 / (fan_in + fan_out)))
    elif w == "xavier-uniform":
        bound = scheme["gain"] * math.sqrt(6.0 / (fan_in + fan_out))
        block.uniform_(-bound, bound)
    elif w in ("kaiming-normal", "kaiming-uniform"):
        fan = fan_in if scheme["mode"] == "fan_in" else fan_out
        std = _GAINS[scheme["nonlinearity"]][0] / math.sqrt(fan)
        if w == "kaiming-normal":
            block.normal_(0.0, std)
        else:
            block.uniform_(-math.sqrt(3.0) * std, math.sqrt(3.0) * std)
    elif w == "orthogonal":
        # Slices of RNN weights are views; orthogonal_ needs a real tensor, so fill a copy.
        fresh = torch.empty(block.shape, dtype=block.dtype, device=block.device)
        torch.nn.init.orthogonal_(fresh, gain=scheme["gain"])
        block.copy_(fresh)
    elif w == "lecun-normal":
        block.normal_(0.0, 1.0 / math.sqrt(fan_in))


def _init_module(module, scheme: dict) -> None:
    from torch import nn

    if scheme["weight"] != "default":
        for block, fan_in, fan_out in _weight_blocks(module):
            _fill_block(block, scheme, max(fan_in, 1), max(fan_out, 1))
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            module.weight[module.padding_idx].zero_()  # the padding token must stay a zero vector
    if scheme["bias"] != "default":
        value = scheme["bias_value"] if scheme["bias"] == "constant" else 0.0
        # Recurrent layers add bias_ih and bias_hh; the value goes to bias_ih alone so each unit's
        # total bias is the value asked for.
        for bias, share in _biases(module):
            bias.fill_(value * share)


def initialize(model, global_init: dict | None, overrides: dict[str, dict] | None = None) -> None:
    """Initialise the weights of every Linear, Conv*, ConvTranspose*, RNN/LSTM/GRU and Embedding in
    the model (modules nested in a node, such as Maxout's inner Linear, included).

    global_init: settings["initialization"]; overrides: node name → init dict for that node (the
    model's top-level child of that name). "default" keeps the weights PyTorch gave the layer.
    Normalization layers are always reset to weight 1, bias 0 (the identity transform).
    """
    import torch
    from .optim import is_norm_layer

    base = complete(global_init)
    per_node = {name: complete(init) for name, init in (overrides or {}).items() if init is not None}
    with torch.no_grad():
        for node_name, child in model.named_children():
            scheme = per_node.get(node_name, base)
            for module in child.modules():
                if is_norm_layer(module):
                    if getattr(module, "weight", None) is not None:
                        module.weight.fill_(1.0)
                    if getattr(module, "bias", None) is not None:
                        module.bias.zero_()
                else:
                    _init_module(module, scheme)

"""The layer catalogue: for every layer type its parameters, ports, help text with the formula,
and the rule that turns input shapes into an output shape, parameter counts and multiply-adds.

Shapes exclude the batch dimension: an image is (C, H, W), a vector (F,), a sequence (T, F),
a 1-D signal (C, L), token ids (T,). Rules raise ShapeError with a sentence a student can act
on; shapes.py attaches it to the node. Receptive-field behaviour is declared per layer
(`rf`: "window", "pointwise", "global", "reset") and computed in shapes.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from .params import AUTO, ParamSpec

P = ParamSpec
MULTI = -1  # a port that takes any number of inputs (merges)

CATEGORIES = ("Input/Output", "Convolution", "Pooling", "Dense", "Recurrent", "Normalization",
              "Activation", "Regularization", "Merge")


class ShapeError(ValueError):
    """The layer cannot take the shapes it receives; the message says what to change."""


@dataclass
class Inferred:
    shape: tuple
    trainable: int = 0
    non_trainable: int = 0
    macs: int = 0
    warnings: list = field(default_factory=list)
    resolved: dict = field(default_factory=dict)  # parameter values with `auto` filled in
    window: tuple | None = None  # (kernel, stride, padding, dilation) per spatial dim, for the RF
    tokens: bool = False  # the output holds integer token ids


@dataclass
class InContext:
    """What a rule knows about its inputs beyond their shapes."""
    shapes: list
    names: list            # names of the source nodes, for messages at merges
    descriptions: list     # readable sizes, e.g. "16×5×5 = 400" for a flattened feature map
    tokens: list           # whether each input holds token ids


@dataclass(frozen=True)
class LayerSpec:
    type: str
    category: str
    prefix: str
    summary: str
    help: str
    params: list
    infer: Callable[[dict, InContext], Inferred]
    inputs: int = 1
    outputs: int = 1
    rf: str = "pointwise"
    key_params: tuple = ()

    def param(self, name: str) -> ParamSpec:
        return next(p for p in self.params if p.name == name)


LAYERS: dict[str, LayerSpec] = {}


def get(type_name: str) -> LayerSpec:
    try:
        return LAYERS[type_name]
    except KeyError:
        raise KeyError(f"unknown layer type {type_name!r}") from None


def by_category() -> dict[str, list[LayerSpec]]:
    groups = {c: [] for c in CATEGORIES}
    for spec in LAYERS.values():
        groups[spec.category].append(spec)
    return groups


def _register(spec: LayerSpec) -> None:
    LAYERS[spec.type] = spec


def fmt_shape(shape) -> str:
    return "×".join(str(d) for d in shape) if shape else "scalar"


def _prod(values) -> int:
    return math.prod(values) if values else 1


def _single(ctx: InContext, layer: str, rank: tuple, what: str) -> tuple:
    shape = ctx.shapes[0]
    if ctx.tokens[0] and layer != "Embedding":
        raise ShapeError(f"{layer} receives token ids; put an Embedding first to turn them into vectors")
    if len(shape) not in rank:
        described = ctx.descriptions[0]
        hint = ""
        if len(shape) == 1:
            if "=" in described:  # a flattened feature map
                hint = "; place it before the Flatten, or use Reshape to give the values that layout"
            else:
                hint = "; use Reshape to give the values that layout"
            described = f"the flat vector {described}"
        elif len(shape) == 3 and 1 in rank:
            hint = "; add a Flatten layer before it"
        raise ShapeError(f"{layer} expects {what} but receives {described}{hint}")
    return shape


# --------------------------------------------------------------------------- Input / Output
INPUT_KINDS = ("image", "vector", "sequence", "signal", "tokens")


def _infer_input(p, ctx):
    kind = p["kind"]
    if kind == "image":
        return Inferred((p["channels"], p["height"], p["width"]))
    if kind == "vector":
        return Inferred((p["features"],))
    if kind == "sequence":
        return Inferred((p["length"], p["features"]))
    if kind == "signal":
        return Inferred((p["channels"], p["length"]))
    return Inferred((p["length"],), tokens=True)


_register(LayerSpec(
    "Input", "Input/Output", "input", "The network's input sample.",
    "One sample as the network sees it, without the batch dimension: an image C×H×W, a vector of F features, "
    "a sequence of T steps of F features, a 1-D signal C×L, or T token ids for an Embedding.",
    [P("kind", "choice", "image", "Kind", "What one sample is.", choices=INPUT_KINDS),
     P("channels", "int", 1, "Channels", "Colour channels (1 grey, 3 RGB).", minimum=1, maximum=4096,
       visible_if={"kind": ("image", "signal")}),
     P("height", "int", 28, "Height", unit="px", minimum=1, maximum=8192, visible_if={"kind": ("image",)}),
     P("width", "int", 28, "Width", unit="px", minimum=1, maximum=8192, visible_if={"kind": ("image",)}),
     P("features", "int", 784, "Features", "Values per sample (vector) or per step (sequence).", minimum=1,
       maximum=10_000_000, visible_if={"kind": ("vector", "sequence")}),
     P("length", "int", 28, "Length", "Steps (sequence, tokens) or samples (signal).", minimum=1, maximum=10_000_000,
       visible_if={"kind": ("sequence", "signal", "tokens")})],
    _infer_input, inputs=0, rf="window", key_params=("kind",)))

LOSSES = ("cross-entropy", "mse", "bce-with-logits")


def _infer_output(p, ctx):
    shape = ctx.shapes[0]
    if ctx.tokens[0]:
        raise ShapeError("Output receives token ids; the network needs layers that produce scores")
    if p["loss"] == "cross-entropy":
        if len(shape) != 1:
            raise ShapeError(f"Output with cross-entropy expects a vector of class scores but receives "
                             f"{ctx.descriptions[0]}; add Flatten and a Linear layer with one unit per class")
        if shape[0] < 2:
            raise ShapeError("cross-entropy needs at least 2 class scores; for one score use bce-with-logits")
    if p["loss"] == "bce-with-logits" and len(shape) != 1:
        raise ShapeError(f"Output with bce-with-logits expects a vector but receives {ctx.descriptions[0]}")
    return Inferred(shape)


_register(LayerSpec(
    "Output", "Input/Output", "output", "The network's output and its loss.",
    "The scores the network produces and the loss that compares them with the targets. Cross-entropy "
    "−log softmax(z)_y for classes (its initial value is ≈ ln C), MSE (z − y)² for regression, "
    "binary cross-entropy on logits for independent yes/no outputs.",
    [P("loss", "choice", "cross-entropy", "Loss", "How outputs are compared with targets.", choices=LOSSES)],
    _infer_output, inputs=1, outputs=0, key_params=("loss",)))


# --------------------------------------------------------------------------- Convolution
def _window_out(size, k, s, p, d, ceil_mode=False):
    """(output size, input rows that no window covers) for one spatial dimension, as torch computes it.

    Only real rows count as lost: when the uncovered tail lies in the padding, nothing is dropped.
    """
    eff = d * (k - 1) + 1
    span = size + 2 * p - eff
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1  # floor division, as torch rounds
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1  # the last window must start inside the input or its left padding
    if out <= 0:
        return None, 0
    covered = (out - 1) * s + eff  # in padded coordinates, from the first padding row
    return out, max(0, p + size - covered)


def _spatial(ctx, layer, dims):
    what = "an image C×H×W" if dims == 2 else "a signal C×L"
    return _single(ctx, layer, (dims + 1,), what)


def _tuple(v, dims):
    return tuple(v) if isinstance(v, (list, tuple)) else (v,) * dims


def _window_shape(layer, shape, dims, k, s, p, d, ceil_mode=False, pooling=False):
    """Output spatial sizes, or ShapeError; plus warnings about dropped rows/cols."""
    names = ("rows", "columns") if dims == 2 else ("samples",)
    outs, warnings, lost = [], [], []
    for axis in range(dims):
        size = shape[1 + axis]
        # torch refuses pooling padding above half the kernel (convolutions accept any padding).
        if pooling and 2 * p[axis] > k[axis]:
            raise ShapeError(f"{layer}: padding {p[axis]} is more than half the kernel {k[axis]}; "
                             f"pooling allows at most {k[axis] // 2}")
        out, dropped = _window_out(size, k[axis], s[axis], p[axis], d[axis], ceil_mode)
        if out is None or out <= 0:
            eff = d[axis] * (k[axis] - 1) + 1
            window = f"{eff}-wide window (kernel {k[axis]}, dilation {d[axis]})" if d[axis] > 1 else f"{eff}-wide kernel"
            raise ShapeError(f"{layer}: the {window} does not fit in the {fmt_shape(shape[1:])} input "
                             f"(padding {p[axis]}); use a smaller kernel or more padding, or downsample less before it")
        # A window narrower than the stride skips rows between windows by design (strided 1×1
        # shortcuts); the lost tail is then no news, so only wider windows are warned about.
        if dropped and d[axis] * (k[axis] - 1) + 1 >= s[axis]:
            lost.append(f"{dropped} {names[axis] if dropped > 1 else names[axis][:-1]}")
        outs.append(out)
    if lost:
        strides = "×".join(str(v) for v in s)
        warnings.append(f"stride {strides} does not fit the {fmt_shape(shape[1:])} input evenly "
                        f"((in + 2·padding − kernel) is not a multiple of the stride): the last {' and '.join(lost)} "
                        f"of the input are never seen; change the padding or the input size to keep them")
    return tuple(outs), warnings


def _conv_params(dims, transposed=False):
    k = P("kernel_size", "ints", [3] * dims if dims > 1 else [3], "Kernel", "Window size.", unit="px", minimum=1,
          maximum=1024, length=dims)
    specs = [
        P("in_channels", "int", AUTO, "In channels", "Channels of the input; auto takes them from the incoming shape.",
          minimum=1, allow_auto=True),
        P("out_channels", "int", 16, "Filters", "Number of kernels = output channels.", minimum=1, maximum=65536),
        k,
        P("stride", "ints", [1] * dims, "Stride", "Step between windows.", minimum=1, maximum=1024, length=dims),
        P("padding", "ints", [0] * dims, "Padding", "Zeros added on each side.", minimum=0, maximum=1024, length=dims),
    ]
    if transposed:
        specs.append(P("output_padding", "ints", [0] * dims, "Output padding", "Extra rows/cols on one side of the output.",
                       minimum=0, maximum=1024, length=dims))
    specs += [
        P("dilation", "ints", [1] * dims, "Dilation", "Gap between kernel taps: effective kernel d·(k−1)+1.", minimum=1,
          maximum=1024, length=dims),
        P("groups", "int", 1, "Groups", "Split channels into independent groups (depthwise = in_channels).", minimum=1),
        P("bias", "bool", True, "Bias", "Add a learned offset per filter (off when BatchNorm follows)."),
    ]
    return specs


def _make_conv_rule(layer, dims):
    def rule(p, ctx):
        shape = _spatial(ctx, layer, dims)
        c_in = shape[0]
        declared = p["in_channels"]
        if declared != AUTO and declared != c_in:
            raise ShapeError(f"{layer} expects {declared} input channels but receives {c_in} "
                             f"({ctx.descriptions[0]}); set in_channels to {c_in} or auto")
        g, c_out = p["groups"], p["out_channels"]
        if c_in % g or c_out % g:
            raise ShapeError(f"{layer}: groups = {g} must divide both the input channels ({c_in}) and the filters ({c_out})")
        k, s, pad, d = (_tuple(p[n], dims) for n in ("kernel_size", "stride", "padding", "dilation"))
        outs, warnings = _window_shape(layer, shape, dims, k, s, pad, d)
        weights = _prod(k) * (c_in // g) * c_out
        n_out = c_out * _prod(outs)
        return Inferred((c_out, *outs), weights + (c_out if p["bias"] else 0), 0, n_out * _prod(k) * (c_in // g),
                        warnings, {"in_channels": c_in}, (k, s, pad, d))
    return rule


_CONV_HELP = ("Slides {n} learned kernels over the input: out = floor((in + 2p − d·(k−1) − 1)/s) + 1 per spatial "
              "dimension, parameters = k{kk}·(C_in/groups)·C_out + C_out.")
_register(LayerSpec("Conv2d", "Convolution", "conv", "2-D convolution.",
                    _CONV_HELP.format(n="C_out", kk="_h·k_w") + " Each output unit sees a k×k window: the receptive field grows by (k−1)·jump.",
                    _conv_params(2), _make_conv_rule("Conv2d", 2), rf="window",
                    key_params=("out_channels", "kernel_size", "stride", "padding")))
_register(LayerSpec("Conv1d", "Convolution", "conv", "1-D convolution over a signal or sequence.",
                    _CONV_HELP.format(n="C_out", kk=""), _conv_params(1), _make_conv_rule("Conv1d", 1), rf="window",
                    key_params=("out_channels", "kernel_size", "stride")))


def _infer_convtranspose(p, ctx):
    shape = _spatial(ctx, "ConvTranspose2d", 2)
    c_in = shape[0]
    declared = p["in_channels"]
    if declared != AUTO and declared != c_in:
        raise ShapeError(f"ConvTranspose2d expects {declared} input channels but receives {c_in}; set in_channels to {c_in} or auto")
    g, c_out = p["groups"], p["out_channels"]
    if c_in % g or c_out % g:
        raise ShapeError(f"ConvTranspose2d: groups = {g} must divide both {c_in} and {c_out}")
    k, s, pad, op, d = (_tuple(p[n], 2) for n in ("kernel_size", "stride", "padding", "output_padding", "dilation"))
    outs = []
    for axis in range(2):
        if op[axis] >= max(s[axis], d[axis]):
            raise ShapeError("ConvTranspose2d: output_padding must be smaller than the stride or the dilation")
        out = (shape[1 + axis] - 1) * s[axis] - 2 * pad[axis] + d[axis] * (k[axis] - 1) + op[axis] + 1
        if out <= 0:
            raise ShapeError("ConvTranspose2d: the padding removes the whole output; use less padding")
        outs.append(out)
    weights = c_in * (c_out // g) * _prod(k)
    return Inferred((c_out, *outs), weights + (c_out if p["bias"] else 0), 0, c_in * _prod(shape[1:]) * (c_out // g) * _prod(k),
                    [], {"in_channels": c_in}, None)


_register(LayerSpec("ConvTranspose2d", "Convolution", "deconv", "Transposed (up-sampling) convolution.",
                    "Spreads each input value over a k×k patch of the output: out = (in − 1)·s − 2p + d·(k−1) + "
                    "output_padding + 1; parameters = C_in·(C_out/groups)·k_h·k_w + C_out. Used to up-sample in decoders.",
                    _conv_params(2, transposed=True), _infer_convtranspose, rf="reset",
                    key_params=("out_channels", "kernel_size", "stride")))


# --------------------------------------------------------------------------- Pooling
def _pool_params(dims, maxpool):
    specs = [
        P("kernel_size", "ints", [2] * dims, "Kernel", "Window size.", unit="px", minimum=1, maximum=1024, length=dims),
        P("stride", "ints", [2] * dims, "Stride", "Step between windows (usually = kernel).", minimum=1, maximum=1024,
          length=dims),
        P("padding", "ints", [0] * dims, "Padding", "Padding on each side.", minimum=0, maximum=512, length=dims),
        P("ceil_mode", "bool", False, "Ceil mode", "Round the output size up, keeping a partial last window."),
    ]
    if maxpool:
        specs.insert(3, P("dilation", "ints", [1] * dims, "Dilation", "Gap between window taps.", minimum=1, maximum=64,
                          length=dims))
    return specs


def _make_pool_rule(layer, dims, maxpool):
    def rule(p, ctx):
        shape = _spatial(ctx, layer, dims)
        k, s, pad = (_tuple(p[n], dims) for n in ("kernel_size", "stride", "padding"))
        d = _tuple(p["dilation"], dims) if maxpool else (1,) * dims
        outs, warnings = _window_shape(layer, shape, dims, k, s, pad, d, p["ceil_mode"], pooling=True)
        return Inferred((shape[0], *outs), 0, 0, shape[0] * _prod(outs) * _prod(k), warnings, {}, (k, s, pad, d))
    return rule


_register(LayerSpec("MaxPool2d", "Pooling", "pool", "Max over each window.",
                    "Keeps the largest value of each k×k window: out = floor((in + 2p − d·(k−1) − 1)/s) + 1. No parameters; "
                    "adds (k−1)·jump to the receptive field and multiplies the jump by s.",
                    _pool_params(2, True), _make_pool_rule("MaxPool2d", 2, True), rf="window",
                    key_params=("kernel_size", "stride")))
_register(LayerSpec("AvgPool2d", "Pooling", "pool", "Mean over each window.",
                    "Averages each k×k window: out = floor((in + 2p − k)/s) + 1. No parameters.",
                    _pool_params(2, False), _make_pool_rule("AvgPool2d", 2, False), rf="window",
                    key_params=("kernel_size", "stride")))
_register(LayerSpec("MaxPool1d", "Pooling", "pool", "Max over each window of a signal.",
                    "Keeps the largest value of each window of k samples: out = floor((L + 2p − d·(k−1) − 1)/s) + 1.",
                    _pool_params(1, True), _make_pool_rule("MaxPool1d", 1, True), rf="window",
                    key_params=("kernel_size", "stride")))
_register(LayerSpec("AvgPool1d", "Pooling", "pool", "Mean over each window of a signal.",
                    "Averages each window of k samples: out = floor((L + 2p − k)/s) + 1.",
                    _pool_params(1, False), _make_pool_rule("AvgPool1d", 1, False), rf="window",
                    key_params=("kernel_size", "stride")))


def _widest_adaptive_window(size, out):
    return max(-(-(i + 1) * size // out) - (i * size // out) for i in range(out))


def _infer_adaptive(p, ctx):
    shape = _spatial(ctx, "AdaptiveAvgPool2d", 2)
    out = tuple(p["output_size"])
    # torch's window i spans [floor(i·in/out), ceil((i+1)·in/out)); the receptive field uses the widest.
    k = tuple(_widest_adaptive_window(shape[1 + a], out[a]) for a in range(2))
    s = tuple(max(1, shape[1 + a] // out[a]) for a in range(2))
    return Inferred((shape[0], *out), 0, 0, shape[0] * _prod(shape[1:]), [], {}, (k, s, (0, 0), (1, 1)))


_register(LayerSpec("AdaptiveAvgPool2d", "Pooling", "gap", "Average down to a fixed size.",
                    "Averages the input down to a fixed H×W whatever its size (1×1 = global average pooling, "
                    "which replaces large Linear layers in modern nets). No parameters.",
                    [P("output_size", "ints", [1, 1], "Output size", "Target H×W.", minimum=1, maximum=4096, length=2)],
                    _infer_adaptive, rf="window", key_params=("output_size",)))


# --------------------------------------------------------------------------- Dense
def _infer_linear(p, ctx):
    shape = _single(ctx, "Linear", (1, 2), "a vector")
    features = shape[-1]
    declared = p["in_features"]
    if declared != AUTO and declared != features:
        raise ShapeError(f"Linear expects {declared} inputs but receives {ctx.descriptions[0]}; "
                         f"set in_features to {features} or auto")
    out = p["out_features"]
    positions = _prod(shape[:-1])
    return Inferred((*shape[:-1], out), features * out + (out if p["bias"] else 0), 0, positions * features * out,
                    [], {"in_features": features})


_register(LayerSpec("Linear", "Dense", "fc", "Fully connected layer.",
                    "y = W·x + b: every output sees every input. Parameters = in·out + out. Applied to the last "
                    "dimension, so a sequence T×F gives T×out; an image must be flattened first.",
                    [P("in_features", "int", AUTO, "In features", "Inputs per sample; auto takes them from the incoming shape.",
                       minimum=1, allow_auto=True),
                     P("out_features", "int", 10, "Units", "Outputs per sample.", minimum=1, maximum=10_000_000),
                     P("bias", "bool", True, "Bias", "Add a learned offset per unit.")],
                    _infer_linear, rf="global", key_params=("out_features",)))


def _infer_flatten(p, ctx):
    shape = ctx.shapes[0]
    if ctx.tokens[0]:
        raise ShapeError("Flatten receives token ids; put an Embedding first")
    return Inferred((_prod(shape),))


_register(LayerSpec("Flatten", "Dense", "flatten", "Flatten to a vector.",
                    "Lays C×H×W out as one vector of C·H·W values so a Linear layer can follow. No parameters.",
                    [], _infer_flatten, rf="pointwise"))


def _infer_reshape(p, ctx):
    shape = ctx.shapes[0]
    target = list(p["shape"])
    total = _prod(shape)
    if target.count(-1) > 1:
        raise ShapeError("Reshape: at most one dimension may be −1")
    if any(t == 0 or t < -1 for t in target):
        raise ShapeError("Reshape: sizes must be positive (or −1 for 'the rest')")
    known = _prod([t for t in target if t != -1])
    if -1 in target:
        if total % known:
            raise ShapeError(f"Reshape cannot split {fmt_shape(shape)} = {total} values into {known}-sized pieces")
        target[target.index(-1)] = total // known
    elif known != total:
        raise ShapeError(f"Reshape to {fmt_shape(target)} = {known} values, but the input {fmt_shape(shape)} holds {total}")
    return Inferred(tuple(target), tokens=ctx.tokens[0])


_register(LayerSpec("Reshape", "Dense", "reshape", "Change the shape, keep the values.",
                    "Rearranges the values into a new shape with the same count (−1 = whatever remains); e.g. a "
                    "1×28×28 image as a 28×28 sequence for an RNN. No parameters.",
                    [P("shape", "int_list", [28, 28], "Shape", "Target shape without the batch dimension.", minimum=-1)],
                    _infer_reshape, rf="reset", key_params=("shape",)))


def _infer_identity(p, ctx):
    return Inferred(ctx.shapes[0], tokens=ctx.tokens[0])


_register(LayerSpec("Identity", "Dense", "identity", "Pass the input through.",
                    "y = x. A placeholder, or a named tap point on a skip connection.", [], _infer_identity))


def _infer_embedding(p, ctx):
    shape = ctx.shapes[0]
    if not ctx.tokens[0]:
        raise ShapeError(f"Embedding expects token ids (an Input of kind 'tokens') but receives {ctx.descriptions[0]}")
    return Inferred((*shape, p["embedding_dim"]), p["num_embeddings"] * p["embedding_dim"], 0, 0)


_register(LayerSpec("Embedding", "Dense", "embed", "Look up a vector per token.",
                    "Row t of a learned V×D table for each token id t: turns T ids into a T×D sequence. "
                    "Parameters = V·D.",
                    [P("num_embeddings", "int", 1000, "Vocabulary", "Number of distinct token ids V.", minimum=1),
                     P("embedding_dim", "int", 64, "Dimension", "Vector size D.", minimum=1)],
                    _infer_embedding, rf="reset", key_params=("embedding_dim",)))


# --------------------------------------------------------------------------- Recurrent
def _make_rnn_rule(layer, gates):
    def rule(p, ctx):
        shape = _single(ctx, layer, (2,), "a sequence T×F (steps × features)")
        steps, features = shape
        declared = p["input_size"]
        if declared != AUTO and declared != features:
            raise ShapeError(f"{layer} expects {declared} features per step but receives {features}; "
                             f"set input_size to {features} or auto")
        h, layers = p["hidden_size"], p["num_layers"]
        dirs = 2 if p["bidirectional"] else 1
        params, macs, width = 0, 0, features
        for _ in range(layers):
            per_dir = gates * (width * h + h * h + 2 * h)
            params += dirs * per_dir
            macs += dirs * steps * gates * (width * h + h * h)
            width = h * dirs
        warnings = []
        if p["dropout"] > 0 and layers == 1:
            warnings.append(f"{layer} dropout acts between stacked layers; with one layer it does nothing")
        out = (steps, h * dirs) if p["return_sequences"] else (h * dirs,)
        return Inferred(out, params, 0, macs, warnings, {"input_size": features})
    return rule


def _rnn_params(with_nonlinearity):
    specs = [
        P("input_size", "int", AUTO, "Input size", "Features per step; auto takes them from the incoming shape.",
          minimum=1, allow_auto=True),
        P("hidden_size", "int", 128, "Hidden size", "State units per layer.", minimum=1, maximum=65536),
        P("num_layers", "int", 1, "Layers", "Stacked recurrent layers.", minimum=1, maximum=64),
        P("bidirectional", "bool", False, "Bidirectional", "Also read the sequence backwards; doubles the output."),
        P("dropout", "float", 0.0, "Dropout", "Dropout between stacked layers.", minimum=0, maximum=0.99),
        P("return_sequences", "bool", False, "Return sequence", "Output every step (T×H) instead of the last one (H)."),
    ]
    if with_nonlinearity:
        specs.insert(3, P("nonlinearity", "choice", "tanh", "Nonlinearity", "h_t = f(W·x_t + U·h_{t−1} + b).",
                          choices=("tanh", "relu")))
    return specs


_register(LayerSpec("RNN", "Recurrent", "rnn", "Simple (Elman) recurrent layer.",
                    "h_t = tanh(W·x_t + U·h_{t−1} + b): one state carried across steps. Parameters per layer = "
                    "H·(F + H) + 2H. Long sequences make gradients vanish or explode (→ LSTM/GRU, clipping).",
                    _rnn_params(True), _make_rnn_rule("RNN", 1), rf="reset", key_params=("hidden_size", "num_layers")))
_register(LayerSpec("LSTM", "Recurrent", "lstm", "Long short-term memory.",
                    "Input, forget and output gates control a cell state c_t = f⊙c_{t−1} + i⊙g, so gradients survive "
                    "long sequences. Parameters per layer = 4·(H·(F + H) + 2H).",
                    _rnn_params(False), _make_rnn_rule("LSTM", 4), rf="reset", key_params=("hidden_size", "num_layers")))
_register(LayerSpec("GRU", "Recurrent", "gru", "Gated recurrent unit.",
                    "Update and reset gates blend the old state with a candidate: h_t = (1−z)⊙n + z⊙h_{t−1}. "
                    "Lighter than LSTM: parameters per layer = 3·(H·(F + H) + 2H).",
                    _rnn_params(False), _make_rnn_rule("GRU", 3), rf="reset", key_params=("hidden_size", "num_layers")))


# --------------------------------------------------------------------------- Normalization
def _infer_batchnorm(p, ctx):
    shape = _single(ctx, "BatchNorm", (1, 2, 3), "a vector, a signal or an image")
    c = shape[0]
    declared = p["num_features"]
    if declared != AUTO and declared != c:
        raise ShapeError(f"BatchNorm expects {declared} channels but receives {c}; set num_features to {c} or auto")
    return Inferred(shape, 2 * c if p["affine"] else 0, 2 * c if p["track_running_stats"] else 0, 2 * _prod(shape), [],
                    {"num_features": c})


_register(LayerSpec("BatchNorm", "Normalization", "bn", "Batch normalization.",
                    "Normalises each channel over the batch, x̂ = (x − μ_B)/√(σ²_B + ε), then y = γ·x̂ + β. 2·C learnable "
                    "parameters plus running mean and variance used at test time. Speeds training and regularises.",
                    [P("num_features", "int", AUTO, "Channels", "Channels; auto takes them from the incoming shape.",
                       minimum=1, allow_auto=True),
                     P("eps", "float", 1e-5, "ε", minimum=0, maximum=1, log_scale=True),
                     P("momentum", "float", 0.1, "Momentum", "Update rate of the running statistics.", minimum=0, maximum=1),
                     P("affine", "bool", True, "Learn γ, β"),
                     P("track_running_stats", "bool", True, "Running statistics", "Keep averages for evaluation.")],
                    _infer_batchnorm, key_params=()))


def _infer_layernorm(p, ctx):
    shape = _single(ctx, "LayerNorm", (1, 2, 3), "a vector, a sequence or an image")
    normalized = shape if p["over"] == "all" else shape[-1:]
    n = _prod(normalized)
    return Inferred(shape, 2 * n if p["elementwise_affine"] else 0, 0, 2 * _prod(shape), [],
                    {"normalized_shape": list(normalized)})


_register(LayerSpec("LayerNorm", "Normalization", "ln", "Layer normalization.",
                    "Normalises each sample over its features, x̂ = (x − μ)/√(σ² + ε), y = γ⊙x̂ + β; independent of the "
                    "batch, so it suits sequences and small batches. Parameters = 2 × normalised size.",
                    [P("over", "choice", "last", "Normalise over", "The last dimension, or the whole sample.",
                       choices=("last", "all")),
                     P("eps", "float", 1e-5, "ε", minimum=0, maximum=1, log_scale=True),
                     P("elementwise_affine", "bool", True, "Learn γ, β")],
                    _infer_layernorm))


def _infer_lrn(p, ctx):
    shape = _single(ctx, "LocalResponseNorm", (2, 3), "an image C×H×W")
    return Inferred(shape, 0, 0, p["size"] * _prod(shape))


_register(LayerSpec("LocalResponseNorm", "Normalization", "lrn", "Local response normalization (AlexNet).",
                    "b_c = a_c / (k + α/n · Σ a²_{c'})^β over n neighbouring channels: lateral inhibition as in AlexNet. "
                    "No parameters; replaced by BatchNorm in modern nets.",
                    [P("size", "int", 5, "Neighbours n", minimum=1, maximum=1024),
                     P("alpha", "float", 1e-4, "α", minimum=0, log_scale=True),
                     P("beta", "float", 0.75, "β", minimum=0),
                     P("k", "float", 2.0, "k", minimum=0)],
                    _infer_lrn, key_params=("size",)))


# --------------------------------------------------------------------------- Activation
def _activation(type_name, summary, help_text, params=(), extra=None):
    def rule(p, ctx):
        shape = _single(ctx, type_name, (1, 2, 3), "a tensor")
        trainable = extra(p, shape) if extra else 0
        return Inferred(shape, trainable, 0, _prod(shape))
    _register(LayerSpec(type_name, "Activation", type_name.lower(), summary, help_text, list(params), rule))


_activation("ReLU", "max(0, x).", "f(x) = max(0, x): cheap, does not saturate for x > 0, the default. Units stuck "
            "below zero stop learning (dead ReLU).")
_activation("Sigmoid", "1/(1+e^−x).", "σ(x) = 1/(1 + e^−x) squashes to (0, 1). Saturates and kills gradients at "
            "both ends (σ' ≤ 0.25), and is not zero-centred.")
_activation("Tanh", "tanh(x).", "tanh(x) squashes to (−1, 1): zero-centred, but still saturates and kills gradients "
            "for large |x|.")
_activation("LeakyReLU", "max(αx, x).", "f(x) = x for x > 0, αx otherwise: a small slope keeps dead units alive.",
            [P("negative_slope", "float", 0.01, "Slope α", minimum=0, maximum=1)])


def _prelu_params(p, shape):
    return shape[0] if p["per_channel"] else 1


_activation("PReLU", "Learned leaky slope.", "f(x) = x for x > 0, a·x otherwise, with a learned (one per layer or per "
            "channel): fixes dying ReLUs at the cost of a few parameters.",
            [P("per_channel", "bool", False, "Per channel", "One slope per channel instead of one in all."),
             P("init", "float", 0.25, "Initial slope", minimum=0, maximum=1)], _prelu_params)
_activation("ELU", "x or α(e^x − 1).", "f(x) = x for x > 0, α·(e^x − 1) otherwise: smooth, negative outputs push "
            "mean activations towards zero, no dead units.", [P("alpha", "float", 1.0, "α", minimum=0, maximum=10)])
_activation("SELU", "Scaled ELU.", "λ·ELU(x) with λ ≈ 1.0507, α ≈ 1.6733: with LeCun-normal initialisation the "
            "activations self-normalise to mean 0, variance 1.")
_activation("GELU", "x·Φ(x).", "f(x) = x·Φ(x) (Φ = normal CDF): a smooth ReLU used by transformers.",
            [P("approximate", "choice", "none", "Approximation", "tanh is a faster approximation.", choices=("none", "tanh"))])


def _infer_softmax(p, ctx):
    shape = _single(ctx, "Softmax", (1, 2, 3), "a tensor")
    return Inferred(shape, 0, 0, 3 * _prod(shape))


_register(LayerSpec("Softmax", "Activation", "softmax", "Turn scores into probabilities.",
                    "softmax(z)_i = e^{z_i} / Σ_j e^{z_j}: positive, sums to 1. Do not put it before a cross-entropy "
                    "Output, which applies log-softmax itself.",
                    [P("dim", "choice", "last", "Over", "Normalise over the last dimension or the channels.",
                       choices=("last", "channels"))], _infer_softmax))


def _infer_maxout(p, ctx):
    shape = _single(ctx, "Maxout", (1,), "a vector")
    f, out, k = shape[0], p["out_features"], p["pieces"]
    return Inferred((out,), k * (f * out + out), 0, k * f * out, [], {"in_features": f})


_register(LayerSpec("Maxout", "Activation", "maxout", "Max of k linear pieces.",
                    "y_j = max_i (W_i·x + b_i)_j over k pieces: generalises ReLU and Leaky ReLU, never saturates or "
                    "dies, but multiplies the parameters by k (doubles them for k = 2).",
                    [P("out_features", "int", 64, "Units", minimum=1),
                     P("pieces", "int", 2, "Pieces k", minimum=2, maximum=16)], _infer_maxout, rf="global",
                    key_params=("out_features", "pieces")))


# --------------------------------------------------------------------------- Regularization
def _infer_dropout(p, ctx):
    return Inferred(_single(ctx, "Dropout", (1, 2, 3), "a tensor"))


def _infer_dropout2d(p, ctx):
    return Inferred(_single(ctx, "Dropout2d", (3,), "an image C×H×W"))


_register(LayerSpec("Dropout", "Regularization", "dropout", "Randomly zero units while training.",
                    "Each unit is kept with probability 1 − p and scaled by 1/(1 − p) (inverted dropout), so nothing "
                    "changes at test time. p = 0.5 is typical for Linear layers; an ensemble of thinned networks.",
                    [P("p", "float", 0.5, "Drop probability p", minimum=0, maximum=0.99)], _infer_dropout, key_params=("p",)))
_register(LayerSpec("Dropout2d", "Regularization", "dropout", "Randomly zero whole channels.",
                    "Drops entire feature maps with probability p (scaled by 1/(1 − p)): neighbouring pixels are "
                    "correlated, so dropping single ones regularises little.",
                    [P("p", "float", 0.2, "Drop probability p", minimum=0, maximum=0.99)], _infer_dropout2d, key_params=("p",)))


# --------------------------------------------------------------------------- Merge
def _infer_add(p, ctx):
    shapes = ctx.shapes
    first = shapes[0]
    for name, shape in zip(ctx.names[1:], shapes[1:]):
        if shape != first:
            raise ShapeError(f"Add needs equal shapes but {ctx.names[0]} gives {fmt_shape(first)} and {name} gives "
                             f"{fmt_shape(shape)}; match them (e.g. a 1×1 convolution with stride on the skip path)")
    return Inferred(first, 0, 0, (len(shapes) - 1) * _prod(first))


_register(LayerSpec("Add", "Merge", "add", "Element-wise sum (residual connection).",
                    "y = x₁ + x₂ + …: all inputs must have the same shape. A residual block adds its input back, "
                    "y = F(x) + x, which lets gradients flow through very deep nets (ResNet).",
                    [], _infer_add, inputs=MULTI))


def _infer_concat(p, ctx):
    shapes = ctx.shapes
    rank = len(shapes[0])
    axis = 0 if p["dim"] == "channels" else rank - 1
    for name, shape in zip(ctx.names[1:], shapes[1:]):
        if len(shape) != rank or any(a != b for i, (a, b) in enumerate(zip(shape, shapes[0])) if i != axis):
            raise ShapeError(f"Concatenate along {p['dim']} needs the other dimensions equal but {ctx.names[0]} gives "
                             f"{fmt_shape(shapes[0])} and {name} gives {fmt_shape(shape)}")
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    return Inferred(tuple(out))


_register(LayerSpec("Concatenate", "Merge", "concat", "Join inputs along channels or features.",
                    "Stacks the inputs along the channel dimension (images) or the last dimension, in port order; "
                    "the other dimensions must match (Inception, DenseNet, U-Net skips).",
                    [P("dim", "choice", "channels", "Along", "channels = first dimension of C×H×W; last = features.",
                       choices=("channels", "last"))], _infer_concat, inputs=MULTI, key_params=("dim",)))

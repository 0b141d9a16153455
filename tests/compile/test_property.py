"""Property tests: random stacks of Conv/Pool/Linear/Flatten/activation layers.

PyTorch is the oracle. A valid stack is grown one layer at a time, keeping only layers that
torch itself accepts on the running tensor; the analysis must then agree with torch on every
shape and parameter count, and the compiled module must too. An invalid stack is a valid
prefix plus one layer that cannot take its input; the analysis and the compiler must put the
error on exactly that node, by name.
"""
import math

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn

from netbuilder.compile import CompileError, build_module, generate_code
from netbuilder.core.graph import Graph
from netbuilder.core.shapes import analyze
from netbuilder.core.templates import Chain

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ACTIVATIONS = {"ReLU": nn.ReLU, "Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid, "ELU": nn.ELU, "GELU": nn.GELU,
               "LeakyReLU": nn.LeakyReLU, "SELU": nn.SELU}


def _pair(draw, strategy):
    """A square (int) or rectangular ([h, w]) setting."""
    if draw(st.booleans()):
        return draw(strategy)
    return [draw(strategy), draw(strategy)]


def _torch_pair(v):
    return tuple(v) if isinstance(v, list) else v


def draw_layer(draw, shape):
    """(type, params, torch module) for a layer that might follow `shape` (valid or not)."""
    if len(shape) == 3:
        kind = draw(st.sampled_from(["Conv2d", "Conv2d", "MaxPool2d", "AvgPool2d", "activation", "BatchNorm",
                                     "Flatten"]))
    else:
        kind = draw(st.sampled_from(["Linear", "Linear", "activation", "Dropout"]))
    if kind == "Conv2d":
        c_in = shape[0]
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if c_in % g == 0]))
        params = dict(out_channels=groups * draw(st.integers(1, 3)), kernel_size=_pair(draw, st.integers(1, 5)),
                      stride=_pair(draw, st.integers(1, 3)), padding=_pair(draw, st.integers(0, 2)),
                      dilation=_pair(draw, st.integers(1, 2)), groups=groups, bias=draw(st.booleans()))
        module = nn.Conv2d(c_in, params["out_channels"], _torch_pair(params["kernel_size"]),
                           _torch_pair(params["stride"]), _torch_pair(params["padding"]),
                           _torch_pair(params["dilation"]), groups, params["bias"])
    elif kind in ("MaxPool2d", "AvgPool2d"):
        k = draw(st.integers(1, 4))
        params = dict(kernel_size=k, stride=draw(st.integers(1, 3)), padding=draw(st.integers(0, k // 2)),
                      ceil_mode=draw(st.booleans()))
        if kind == "MaxPool2d":
            params["dilation"] = draw(st.integers(1, 2))
            module = nn.MaxPool2d(k, params["stride"], params["padding"], params["dilation"],
                                  ceil_mode=params["ceil_mode"])
        else:
            module = nn.AvgPool2d(k, params["stride"], params["padding"], ceil_mode=params["ceil_mode"])
    elif kind == "activation":
        kind = draw(st.sampled_from(sorted(ACTIVATIONS)))
        params, module = {}, ACTIVATIONS[kind]()
    elif kind == "BatchNorm":
        params, module = {}, nn.BatchNorm2d(shape[0])
    elif kind == "Flatten":
        params, module = {}, nn.Flatten()
    elif kind == "Dropout":
        params, module = {"p": 0.5}, nn.Dropout(0.5)
    else:
        params = dict(out_features=draw(st.integers(1, 12)), bias=draw(st.booleans()))
        module = nn.Linear(shape[0], params["out_features"], params["bias"])
    return kind, params, module


def torch_accepts(module, x):
    try:
        with torch.no_grad():
            return module.eval()(x)
    except RuntimeError:
        return None


@st.composite
def valid_stacks(draw, max_layers=7):
    """(input shape, [(type, params, module, output shape)]) where torch accepts every layer."""
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 20)), draw(st.integers(1, 20)))
    x = torch.zeros(1, *shape)
    layers = []
    for _ in range(draw(st.integers(1, max_layers))):
        for _attempt in range(8):
            kind, params, module = draw_layer(draw, tuple(x.shape[1:]))
            y = torch_accepts(module, x)
            if y is not None and y.numel() > 0:
                break
        else:
            kind, params, module = "ReLU", {}, nn.ReLU()
            y = module(x)
        layers.append((kind, params, module, tuple(y.shape[1:])))
        x = y
    return shape, layers


def build(shape, layers):
    graph = Graph()
    c = Chain(graph)
    c.add("Input", "input", kind="image", channels=shape[0], height=shape[1], width=shape[2])
    ids = [c.add(kind, f"layer{i}", **params) for i, (kind, params, *_rest) in enumerate(layers)]
    c.add("Output", "output", loss="mse")
    return graph, ids


@SETTINGS
@given(valid_stacks())
def test_random_valid_stacks_agree_with_torch(stack):
    shape, layers = stack
    graph, ids = build(shape, layers)
    analysis = analyze(graph)
    assert analysis.ok, [p.message for p in analysis.errors]
    for nid, (kind, params, module, out_shape) in zip(ids, layers):
        info = analysis.nodes[nid]
        assert info.output_shape == out_shape, (kind, params)
        assert info.trainable == sum(p.numel() for p in module.parameters()), (kind, params)
        assert info.activations == math.prod(out_shape)
    # The compiled module agrees too, submodule by submodule.
    compiled = build_module(graph, analysis).eval()
    children = dict(compiled.named_children())
    for nid, (kind, params, module, out_shape) in zip(ids, layers):
        name = graph.nodes[nid].name
        assert type(children[name]) is type(module)
        assert sum(p.numel() for p in children[name].parameters()) == sum(p.numel() for p in module.parameters())
    with torch.no_grad():
        y = compiled(torch.randn(2, *shape))
    assert tuple(y.shape) == (2, *layers[-1][3])
    # Stride warnings sit only on windowed layers and never block compilation.
    for problem in analysis.warnings:
        assert graph.nodes[problem.node_id].type in ("Conv2d", "MaxPool2d", "AvgPool2d")
        assert "stride" in problem.message


@st.composite
def invalid_stacks(draw):
    """(input shape, layers, index of the bad layer, whether torch also refuses it)."""
    shape, prefix = draw(valid_stacks(max_layers=4))
    current = prefix[-1][3]
    if len(current) == 3:
        c, h, w = current
        choice = draw(st.sampled_from(["big_kernel", "pool_padding", "in_channels", "linear_on_map"]))
        if choice == "big_kernel":
            p = draw(st.integers(0, 2))
            k = max(h, w) + 2 * p + draw(st.integers(1, 3))
            bad = ("Conv2d", dict(out_channels=2, kernel_size=k, padding=p), nn.Conv2d(c, 2, k, padding=p))
        elif choice == "pool_padding":
            k = draw(st.integers(1, 4))
            p = k // 2 + draw(st.integers(1, 2))
            bad = ("MaxPool2d", dict(kernel_size=k, stride=1, padding=p), nn.MaxPool2d(k, 1, p))
        elif choice == "in_channels":
            declared = c + draw(st.integers(1, 3))
            bad = ("Conv2d", dict(in_channels=declared, out_channels=2, kernel_size=1), nn.Conv2d(declared, 2, 1))
        else:
            bad = ("Linear", dict(out_features=3), None)  # by design: a feature map must be flattened first
    else:
        f = current[0]
        choice = draw(st.sampled_from(["in_features", "conv_on_vector", "pool_on_vector"]))
        if choice == "in_features":
            declared = f + draw(st.integers(1, 50))
            bad = ("Linear", dict(in_features=declared, out_features=3), nn.Linear(declared, 3))
        elif choice == "conv_on_vector":
            bad = ("Conv2d", dict(out_channels=2, kernel_size=1), nn.Conv2d(f, 2, 1))
        else:
            bad = ("MaxPool2d", dict(kernel_size=2), nn.MaxPool2d(2))
    suffix = [(kind, {}, None, None) for kind in draw(st.lists(st.sampled_from(["ReLU", "Tanh"]), max_size=2))]
    layers = [*prefix, (*bad, None), *suffix]
    return shape, layers, len(prefix), choice


def torch_refuses(module, shape):
    x = torch.zeros(1, *shape)
    try:
        with torch.no_grad():
            y = module.eval()(x)
    except RuntimeError:
        return True
    return y.numel() == 0


@SETTINGS
@given(invalid_stacks())
def test_random_invalid_stacks_name_the_bad_node(case):
    shape, layers, bad_index, choice = case
    graph, ids = build(shape, layers)
    bad_id = ids[bad_index]
    bad_name = graph.nodes[bad_id].name
    kind, params, module, _ = layers[bad_index]
    if module is not None:  # torch agrees that this layer cannot take its input
        before = layers[bad_index - 1][3] if bad_index else shape
        assert torch_refuses(module, before), (kind, params, before)
    analysis = analyze(graph)
    assert not analysis.ok
    assert {p.node_id for p in analysis.errors} == {bad_id}, [p.message for p in analysis.errors]
    message = analysis.errors[0].message
    assert message.startswith(f"{bad_name}: ")
    assert analysis.nodes[bad_id].errors == [message]
    for nid in ids[:bad_index]:
        assert analysis.nodes[nid].output_shape is not None
    for nid in ids[bad_index:]:
        assert analysis.nodes[nid].output_shape is None
    with pytest.raises(CompileError) as err:
        generate_code(graph)
    assert err.value.node_name == bad_name and err.value.node_id == bad_id


@st.composite
def window_stacks(draw):
    """Single-channel stacks of convolutions and average pools on a square image."""
    size = draw(st.integers(24, 72))
    layers = []
    x = torch.zeros(1, 1, size, size)
    for _ in range(draw(st.integers(1, 5))):
        if draw(st.booleans()):
            k, s, d = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
            p = draw(st.integers(0, 2))
            params = dict(out_channels=1, kernel_size=k, stride=s, padding=p, dilation=d, bias=False)
            module = nn.Conv2d(1, 1, k, s, p, d, bias=False)
            kind = "Conv2d"
        else:
            k = draw(st.integers(1, 4))
            params = dict(kernel_size=k, stride=draw(st.integers(1, 3)), padding=draw(st.integers(0, k // 2)))
            module = nn.AvgPool2d(k, params["stride"], params["padding"], count_include_pad=False)
            kind = "AvgPool2d"
        y = torch_accepts(module, x)
        if y is None or y.shape[-1] < 1:
            break
        layers.append((kind, params, module, tuple(y.shape[1:])))
        x = y
    return size, layers


@SETTINGS
@given(window_stacks())
def test_receptive_fields_agree_with_gradients(stack):
    """Size, jump and start of the analytic field equal the input pixels that a unit's gradient reaches."""
    size, layers = stack
    assume(layers)
    graph, ids = build((1, size, size), layers)
    analysis = analyze(graph)
    assert analysis.ok
    rf = analysis.nodes[ids[-1]].receptive_field
    out = analysis.nodes[ids[-1]].output_shape[-1]
    # Pick the output unit whose analytic field lies inside the image (padding would clip it).
    inside = [i for i in range(out) if rf.start[0] + i * rf.jump[0] - rf.size[0] / 2 >= 0
              and rf.start[0] + i * rf.jump[0] + rf.size[0] / 2 <= size]
    assume(inside)
    i = inside[len(inside) // 2]
    x = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = x
    for _kind, _params, module, _shape in layers:
        module = module.double()
        if isinstance(module, nn.Conv2d):
            with torch.no_grad():
                module.weight.fill_(1.0)
        y = module(y)
    y[0, 0, i, i].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(dim=1)).flatten()
    lo, hi = int(rows.min()), int(rows.max()) + 1
    assert hi - lo == rf.size[0]
    assert (lo + hi) / 2 == rf.start[0] + i * rf.jump[0]
    assert rf.size[0] == rf.size[1] and rf.jump[0] == rf.jump[1]

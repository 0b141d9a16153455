"""Every layer type: analytic inference on a fitting input agrees with the compiled PyTorch module
(output shape, trainable parameters, running statistics), and the catalogue's own data is sane."""
import math

import pytest
import torch

from netbuilder.compile import build_module
from netbuilder.compile.build import example_input
from netbuilder.core import catalogue
from netbuilder.core.graph import Graph, is_valid_name
from netbuilder.core.params import AUTO, ParamSpec, ValidationError, coerce_all, defaults
from netbuilder.core.shapes import analyze
from netbuilder.core.templates import Chain

IMG = dict(kind="image", channels=3, height=9, width=9)
SIGNAL = dict(kind="signal", channels=2, length=17)
VECTOR = dict(kind="vector", features=12)
SEQUENCE = dict(kind="sequence", length=6, features=5)
TOKENS = dict(kind="tokens", length=5)


# One or more small cases per layer type: (input, [(type, params), ...]); the layer under test is the
# last one, and every layer before it is a prelude that gives it a fitting input.
CASES = {
    "Input": [(IMG, []), (SEQUENCE, []), (SIGNAL, []), (VECTOR, [])],
    "Output": [(VECTOR, [("Output", {"loss": "cross-entropy"})]),
               (VECTOR, [("Output", {"loss": "bce-with-logits"})])],
    "Conv2d": [(IMG, [("Conv2d", dict(out_channels=4, kernel_size=3, stride=2, padding=1))]),
               (IMG, [("Conv2d", dict(out_channels=6, kernel_size=[3, 2], stride=[1, 2], dilation=[2, 1],
                                      groups=3, bias=False))]),
               (IMG, [("Conv2d", dict(in_channels=3, out_channels=2, kernel_size=1, padding=1))])],
    "Conv1d": [(SIGNAL, [("Conv1d", dict(out_channels=4, kernel_size=5, stride=2, padding=1))]),
               (SIGNAL, [("Conv1d", dict(out_channels=4, kernel_size=3, dilation=3, groups=2, bias=False))])],
    "ConvTranspose2d": [(IMG, [("ConvTranspose2d", dict(out_channels=4, kernel_size=3, stride=2, padding=1,
                                                        output_padding=1))]),
                        (IMG, [("ConvTranspose2d", dict(out_channels=6, kernel_size=[2, 3], groups=3, bias=False,
                                                        dilation=2))])],
    "MaxPool2d": [(IMG, [("MaxPool2d", dict(kernel_size=2, stride=2))]),
                  (IMG, [("MaxPool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True))]),
                  (IMG, [("MaxPool2d", dict(kernel_size=2, stride=[2, 1], dilation=2, padding=1))])],
    "AvgPool2d": [(IMG, [("AvgPool2d", dict(kernel_size=3, stride=2))]),
                  (IMG, [("AvgPool2d", dict(kernel_size=2, stride=2, ceil_mode=True, padding=1))])],
    "MaxPool1d": [(SIGNAL, [("MaxPool1d", dict(kernel_size=3, stride=2))]),
                  (SIGNAL, [("MaxPool1d", dict(kernel_size=2, stride=3, ceil_mode=True))])],
    "AvgPool1d": [(SIGNAL, [("AvgPool1d", dict(kernel_size=4, stride=4, padding=2))])],
    "AdaptiveAvgPool2d": [(IMG, [("AdaptiveAvgPool2d", dict(output_size=[3, 2]))]),
                          (IMG, [("AdaptiveAvgPool2d", dict(output_size=[1, 1]))])],
    "Linear": [(VECTOR, [("Linear", dict(out_features=7))]),
               (SEQUENCE, [("Linear", dict(out_features=3, bias=False))]),
               (VECTOR, [("Linear", dict(in_features=12, out_features=2))])],
    "Flatten": [(IMG, [("Flatten", {})]), (SEQUENCE, [("Flatten", {})])],
    "Reshape": [(IMG, [("Reshape", dict(shape=[27, 9]))]), (IMG, [("Reshape", dict(shape=[-1, 3]))])],
    "Identity": [(IMG, [("Identity", {})])],
    "Embedding": [(TOKENS, [("Embedding", dict(num_embeddings=50, embedding_dim=8))])],
    "RNN": [(SEQUENCE, [("RNN", dict(hidden_size=7, num_layers=2, bidirectional=True))]),
            (SEQUENCE, [("RNN", dict(hidden_size=4, nonlinearity="relu", return_sequences=True))])],
    "LSTM": [(SEQUENCE, [("LSTM", dict(hidden_size=6, num_layers=2, dropout=0.1))]),
             (SEQUENCE, [("LSTM", dict(hidden_size=3, bidirectional=True, return_sequences=True))])],
    "GRU": [(SEQUENCE, [("GRU", dict(hidden_size=5))]),
            (TOKENS, [("Embedding", dict(num_embeddings=20, embedding_dim=4)), ("GRU", dict(hidden_size=3))])],
    "BatchNorm": [(IMG, [("BatchNorm", {})]), (VECTOR, [("BatchNorm", dict(affine=False))]),
                  (SIGNAL, [("BatchNorm", dict(track_running_stats=False))])],
    "LayerNorm": [(IMG, [("LayerNorm", dict(over="all"))]), (SEQUENCE, [("LayerNorm", {})]),
                  (VECTOR, [("LayerNorm", dict(elementwise_affine=False))])],
    "LocalResponseNorm": [(IMG, [("LocalResponseNorm", dict(size=3))])],
    "ReLU": [(IMG, [("ReLU", {})])],
    "Sigmoid": [(VECTOR, [("Sigmoid", {})])],
    "Tanh": [(SEQUENCE, [("Tanh", {})])],
    "LeakyReLU": [(IMG, [("LeakyReLU", dict(negative_slope=0.2))])],
    "PReLU": [(IMG, [("PReLU", dict(per_channel=True))]), (VECTOR, [("PReLU", {})])],
    "ELU": [(IMG, [("ELU", dict(alpha=0.5))])],
    "SELU": [(VECTOR, [("SELU", {})])],
    "GELU": [(VECTOR, [("GELU", dict(approximate="tanh"))])],
    "Softmax": [(VECTOR, [("Softmax", {})]), (IMG, [("Softmax", dict(dim="channels"))])],
    "Maxout": [(VECTOR, [("Maxout", dict(out_features=4, pieces=3))])],
    "Dropout": [(VECTOR, [("Dropout", dict(p=0.3))])],
    "Dropout2d": [(IMG, [("Dropout2d", {})])],
    "Add": [(IMG, [("Add", {})])],
    "Concatenate": [(IMG, [("Concatenate", {})]), (SEQUENCE, [("Concatenate", dict(dim="last"))])],
}

MERGES = {"Add", "Concatenate"}


def build_case(inp, layers):
    """Graph for one case; returns (graph, id of the layer under test)."""
    graph = Graph()
    c = Chain(graph)
    c.add("Input", "input", **inp)
    target = c.last
    for i, (type_name, params) in enumerate(layers):
        if type_name in MERGES:
            # Two branches of different widths (Concatenate) or equal shapes (Add) from the input.
            entry = c.last
            a = c.add("ReLU", "left", after=entry)
            if type_name == "Concatenate" and inp["kind"] == "image":
                b = c.add("Conv2d", "right", after=entry, out_channels=5, kernel_size=3, padding=1)
            else:
                b = c.add("Tanh", "right", after=entry)
            target = c.merge(type_name, [a, b], f"layer{i}", **params)
        else:
            target = c.add(type_name, f"layer{i}", **params)
    if graph.nodes[target].type != "Output":
        c.add("Output", "output", loss="mse")
    return graph, target


def running_stats(module):
    return sum(b.numel() for name, b in module.named_buffers() if name.rsplit(".", 1)[-1] in ("running_mean",
                                                                                            "running_var"))


CASE_IDS = [(t, i) for t, cases in CASES.items() for i in range(len(cases))]


def test_every_layer_type_has_a_case():
    assert set(CASES) == set(catalogue.LAYERS)


@pytest.mark.parametrize("type_name,index", CASE_IDS, ids=[f"{t}-{i}" for t, i in CASE_IDS])
def test_layer_matches_torch(type_name, index):
    graph, target = build_case(*CASES[type_name][index])
    analysis = analyze(graph)
    assert analysis.ok, [p.message for p in analysis.problems]
    assert graph.nodes[target].type == type_name
    module = build_module(graph, analysis).eval()
    # The layer's own submodule carries exactly the analytic parameters.
    info = analysis.nodes[target]
    name = graph.nodes[target].name
    sub = dict(module.named_children()).get(name)
    if sub is not None:
        assert sum(p.numel() for p in sub.parameters()) == info.trainable
        assert running_stats(sub) == info.non_trainable
    else:
        assert info.trainable == info.non_trainable == 0
    assert sum(p.numel() for p in module.parameters()) == analysis.trainable_params
    assert running_stats(module) == analysis.total_params - analysis.trainable_params
    # Every intermediate value has the analytic shape: hook each submodule.
    seen = {}
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: seen.__setitem__(n, o))
             for n, m in module.named_children()]
    x = example_input(graph, analysis, batch=2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = module(x)
    for h in hooks:
        h.remove()
    assert tuple(x.shape[1:]) == analysis.nodes[graph.input_nodes()[0].id].output_shape
    assert tuple(y.shape) == (2, *analysis.nodes[graph.output_nodes()[0].id].output_shape)
    for nid, node in graph.nodes.items():
        if node.name in seen and not isinstance(seen[node.name], tuple):
            assert tuple(seen[node.name].shape[1:]) == analysis.nodes[nid].output_shape, node.name
    assert info.activations == math.prod(info.output_shape)


@pytest.mark.parametrize("spec", list(catalogue.LAYERS.values()), ids=list(catalogue.LAYERS))
def test_spec_metadata(spec):
    assert spec.category in catalogue.CATEGORIES
    assert spec.summary and spec.help and len(spec.help) > 20
    assert is_valid_name(spec.prefix + "1")
    names = [p.name for p in spec.params]
    assert len(names) == len(set(names))
    assert set(spec.key_params) <= set(names)
    assert spec.rf in ("window", "pointwise", "global", "reset")
    # The defaults validate against the layer's own schema.
    assert coerce_all(spec.params, defaults(spec.params), spec.type) == defaults(spec.params)
    for p in spec.params:
        assert spec.param(p.name) is p
        assert p.title


def test_by_category_covers_every_layer_once():
    groups = catalogue.by_category()
    listed = [s.type for specs in groups.values() for s in specs]
    assert sorted(listed) == sorted(catalogue.LAYERS)


def test_get_unknown_type():
    with pytest.raises(KeyError, match="Conv3d"):
        catalogue.get("Conv3d")


def test_field_guide_layers_are_present():
    for name in ["Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
                 "Flatten", "Reshape", "Dropout", "Dropout2d", "BatchNorm", "LayerNorm", "LocalResponseNorm",
                 "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "SELU", "GELU", "Softmax", "Maxout",
                 "RNN", "LSTM", "GRU", "Embedding", "Add", "Concatenate", "Identity"]:
        assert name in catalogue.LAYERS


@pytest.mark.parametrize("type_name,word", [("Sigmoid", "saturat"), ("Tanh", "saturat"), ("ReLU", "dead"),
                                            ("Sigmoid", "zero-centred"), ("Maxout", "doubles"),
                                            ("SELU", "self-normalise"), ("Dropout", "inverted")])
def test_activation_help_explains_trade_offs(type_name, word):
    assert word in catalogue.get(type_name).help.lower()


def test_auto_parameters_are_resolved():
    graph = Graph()
    c = Chain(graph)
    c.add("Input", "input", **IMG)
    conv = c.add("Conv2d", "conv", out_channels=4, kernel_size=3)
    bn = c.add("BatchNorm", "bn")
    c.add("Flatten", "flat")
    fc = c.add("Linear", "fc", out_features=2)
    c.add("Output", "output")
    a = analyze(graph)
    assert graph.nodes[conv].params["in_channels"] == AUTO
    assert a.nodes[conv].resolved["in_channels"] == 3
    assert a.nodes[bn].resolved["num_features"] == 4
    assert a.nodes[fc].resolved["in_features"] == 4 * 7 * 7


def test_param_spec_rejects_unknown_kind():
    with pytest.raises(ValueError, match="unknown parameter kind"):
        ParamSpec("x", "complex", 0)


def test_layer_params_report_their_path():
    graph = Graph()
    with pytest.raises(ValidationError) as err:
        graph.add_node("Conv2d", "conv1", params={"kernel_size": [3, 3, 3]})
    assert err.value.path == "conv1.kernel_size"
    with pytest.raises(ValidationError) as err:
        graph.add_node("Linear", "fc", params={"out_features": 0})
    assert err.value.path == "fc.out_features" and "minimum" in err.value.message
    with pytest.raises(ValidationError) as err:
        graph.add_node("Linear", "fc", params={"units": 3})
    assert err.value.path == "fc.units" and "unknown setting" in err.value.message

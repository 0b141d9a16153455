"""Initialization: each scheme's distribution and fans, per-node overrides, and the classic demos."""
from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch
from torch import nn

from netbuilder.core.params import defaults
from netbuilder.core.settings import INIT_SCHEMES, INIT_SPECS
from netbuilder.train.init import describe, initialize


def init(weight, **changes):
    d = defaults(INIT_SPECS)
    d.update(weight=weight, **changes)
    return d


def one(module, scheme, seed=0):
    """A model whose only node is `module`, initialised with `scheme` (from a fresh seed)."""
    torch.manual_seed(seed)
    model = nn.Module()
    model.layer = module
    initialize(model, scheme)
    return module


def built(factory, scheme, seed=0):
    """Like `one`, but the layer is constructed after seeding, so its PyTorch defaults are reproducible."""
    torch.manual_seed(seed)
    model = nn.Module()
    model.layer = factory()
    initialize(model, scheme)
    return model.layer


def close(a, b, rel=0.03):
    return abs(a - b) <= rel * abs(b)


# --------------------------------------------------------------------------- distributions
def test_zeros_and_constant():
    assert torch.all(one(nn.Linear(20, 10), init("zeros")).weight == 0)
    layer = one(nn.Conv2d(3, 4, 3), init("constant", value=0.25, bias="constant", bias_value=-0.5))
    assert torch.all(layer.weight == 0.25) and torch.all(layer.bias == -0.5)


def test_normal_has_the_requested_std():
    w = one(nn.Linear(500, 500), init("normal", std=0.05)).weight
    assert close(w.std().item(), 0.05, 0.01) and abs(w.mean().item()) < 1e-3


def test_uniform_stays_within_r():
    w = one(nn.Linear(500, 400), init("uniform", r=0.2)).weight
    assert w.abs().max() <= 0.2 and w.abs().max() > 0.199
    assert close(w.var().item(), 0.2 ** 2 / 3, 0.02)


def test_xavier_uses_both_fans_and_the_gain():
    fan_in, fan_out = 16 * 3 * 3, 32 * 3 * 3  # conv: k·k·channels
    w = one(nn.Conv2d(16, 32, 3), init("xavier-normal", gain=2.0)).weight
    assert close(w.std().item(), 2.0 * math.sqrt(2 / (fan_in + fan_out)))
    w = one(nn.Linear(300, 200), init("xavier-uniform")).weight
    bound = math.sqrt(6 / 500)
    assert w.abs().max() <= bound and w.abs().max() > 0.99 * bound


@pytest.mark.parametrize("nonlinearity,gain", [("relu", math.sqrt(2)), ("tanh", 5 / 3), ("linear", 1.0),
                                               ("selu", 0.75), ("leaky_relu", math.sqrt(2 / (1 + 0.01 ** 2)))])
def test_kaiming_normal_std_is_gain_over_root_fan_in(nonlinearity, gain):
    w = one(nn.Conv2d(16, 64, 3), init("kaiming-normal", nonlinearity=nonlinearity)).weight
    assert close(w.std().item(), gain / math.sqrt(3 * 3 * 16))  # fan_in = k·k·in_ch


def test_kaiming_fan_out_and_uniform():
    w = one(nn.Linear(100, 400), init("kaiming-normal", mode="fan_out")).weight
    assert close(w.std().item(), math.sqrt(2 / 400))
    w = one(nn.Linear(400, 300), init("kaiming-uniform")).weight
    bound = math.sqrt(6 / 400)
    assert w.abs().max() <= bound and w.abs().max() > 0.99 * bound


def test_kaiming_agrees_with_torch_on_the_same_draws():
    layer = built(lambda: nn.Conv2d(8, 16, 5), init("kaiming-normal"), seed=7)
    reference = torch.empty(16, 8, 5, 5)
    torch.manual_seed(7)
    nn.Conv2d(8, 16, 5)  # consume the same random numbers as the layer's own construction
    nn.init.kaiming_normal_(reference, mode="fan_in", nonlinearity="relu")
    assert torch.equal(layer.weight, reference)


def test_lecun_normal():
    w = one(nn.Linear(250, 400), init("lecun-normal")).weight
    assert close(w.std().item(), 1 / math.sqrt(250))


def test_orthogonal_rows_are_orthonormal_times_gain():
    w = one(nn.Linear(64, 32), init("orthogonal", gain=1.5)).weight
    torch.testing.assert_close(w @ w.T, 1.5 ** 2 * torch.eye(32), atol=1e-4, rtol=0)


def test_recurrent_weights_are_initialised_per_gate():
    lstm = one(nn.LSTM(10, 8), init("orthogonal", bias="constant", bias_value=1.0))
    for g in range(4):
        block = lstm.weight_hh_l0[g * 8:(g + 1) * 8]
        torch.testing.assert_close(block @ block.T, torch.eye(8), atol=1e-5, rtol=0)
    # each unit's total bias (bias_ih + bias_hh) is the value asked for
    torch.testing.assert_close(lstm.bias_ih_l0 + lstm.bias_hh_l0, torch.ones(32))
    gru = one(nn.GRU(64, 100), init("kaiming-normal", mode="fan_out"))
    assert close(gru.weight_ih_l0.std().item(), math.sqrt(2 / 100))  # fan_out of a gate = hidden size


def test_transposed_conv_fans_are_the_layers_own():
    layer = one(nn.ConvTranspose2d(64, 8, 3), init("kaiming-normal"))  # stored (in, out, k, k)
    assert close(layer.weight.std().item(), math.sqrt(2 / (64 * 9)))


def test_embedding_keeps_its_padding_row_zero():
    emb = one(nn.Embedding(50, 16, padding_idx=0), init("normal", std=1.0))
    assert torch.all(emb.weight[0] == 0) and emb.weight[1:].std() > 0.5


# --------------------------------------------------------------------------- biases, defaults, overrides
def test_bias_options():
    assert torch.all(one(nn.Linear(5, 5), init("default")).bias == 0)  # biases 0 is the default
    torch.manual_seed(0)
    untouched = nn.Linear(5, 5).bias.detach().clone()
    assert torch.equal(built(lambda: nn.Linear(5, 5), init("default", bias="default")).bias, untouched)
    assert torch.all(one(nn.Linear(5, 5), init("normal", bias="constant", bias_value=0.1)).bias == 0.1)


def test_default_keeps_pytorchs_weights():
    torch.manual_seed(0)
    reference = nn.Conv2d(3, 4, 3).weight.detach().clone()
    assert torch.equal(built(lambda: nn.Conv2d(3, 4, 3), init("default")).weight, reference)


def test_per_node_overrides_and_nested_layers():
    class Maxout(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(8, 12)

    model = nn.Module()
    model.fc1 = nn.Linear(8, 8)
    model.mx = Maxout()
    model.bn1 = nn.BatchNorm1d(8)
    model.fc2 = nn.Linear(8, 4)
    with torch.no_grad():
        model.bn1.weight.fill_(3.0)
        model.bn1.bias.fill_(2.0)
    initialize(model, init("constant", value=0.5), {"fc2": init("zeros", bias="constant", bias_value=1.0),
                                                     "relu9": init("normal")})  # a node with no weights
    assert torch.all(model.fc1.weight == 0.5) and torch.all(model.mx.linear.weight == 0.5)
    assert torch.all(model.fc2.weight == 0) and torch.all(model.fc2.bias == 1.0)
    assert torch.all(model.bn1.weight == 1) and torch.all(model.bn1.bias == 0)  # norm layers: identity


def test_equal_seeds_give_equal_weights():
    a = one(nn.Linear(30, 30), init("xavier-normal"), seed=5).weight
    b = one(nn.Linear(30, 30), init("xavier-normal"), seed=5).weight
    c = one(nn.Linear(30, 30), init("xavier-normal"), seed=6).weight
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_unknown_scheme_is_an_error():
    with pytest.raises(ValueError, match="unknown initialization"):
        initialize(nn.Sequential(nn.Linear(2, 2)), {"weight": "magic"})


# --------------------------------------------------------------------------- the course's demonstrations
def test_constant_init_never_breaks_symmetry():
    torch.manual_seed(0)
    model = nn.Sequential()
    model.fc1 = nn.Linear(4, 6)
    model.act = nn.Tanh()
    model.fc2 = nn.Linear(6, 3)
    initialize(model, init("constant", value=0.1))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    for _ in range(20):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    w = model.fc1.weight
    assert not torch.equal(w, torch.full_like(w, 0.1))  # it trained...
    assert torch.allclose(w, w[0].expand_as(w))  # ...but every hidden unit is still the same unit


def deep_tanh_activation_std(scheme, depth=7, width=512):
    torch.manual_seed(0)
    model = nn.Sequential()
    for i in range(depth):
        model.add_module(f"fc{i}", nn.Linear(width, width))
    initialize(model, scheme)
    x = torch.randn(64, width)
    with torch.no_grad():
        for layer in model:
            x = torch.tanh(layer(x))
    return x.std().item()


def test_deep_tanh_net_activations_vanish_with_small_normal_and_stay_healthy_with_xavier():
    assert deep_tanh_activation_std(init("normal", std=0.01)) < 1e-3
    assert deep_tanh_activation_std(init("xavier-normal", gain=5 / 3)) > 0.3
    assert deep_tanh_activation_std(init("kaiming-normal", nonlinearity="tanh")) > 0.3


# --------------------------------------------------------------------------- descriptions
def test_describe_gives_one_distinct_line_per_scheme():
    lines = [describe(init(w)) for w in INIT_SCHEMES]
    assert len(set(lines)) == len(INIT_SCHEMES) and all("\n" not in line for line in lines)
    assert describe(init("kaiming-normal")).startswith("Kaiming normal (fan_in, relu): std = √2/√fan")
    assert "0.03" in describe(init("normal", std=0.03))
    assert "biases 0.2" in describe(init("zeros", bias="constant", bias_value=0.2))


def test_describe_does_not_need_torch():
    code = ("import sys; from netbuilder.train.init import describe; describe({'weight': 'orthogonal'}); "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)

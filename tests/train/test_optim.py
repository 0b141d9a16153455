"""Optimizers: each matches torch.optim step for step; grouping, decoupled decay, Adam+L2 vs AdamW."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from netbuilder.core.params import defaults
from netbuilder.core.settings import OPTIMIZERS, REGULARIZATION_SPECS, default_optimizer
from netbuilder.train.optim import build_optimizer, parameter_groups
from netbuilder.train.regularize import penalty


class Net(nn.Module):
    """Top-level children named like graph nodes: a conv, a norm layer, a PReLU, two Linears."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 3)
        self.bn1 = nn.BatchNorm2d(3)
        self.flat = nn.Flatten()
        self.fc1 = nn.Linear(3 * 4 * 4, 5)
        self.act = nn.PReLU()
        self.fc2 = nn.Linear(5, 3)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(self.flat(self.bn1(self.conv1(x))))))


def make_net(seed=0):
    torch.manual_seed(seed)
    return Net()


def batches(n=8, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(6, 1, 6, 6, generator=g), torch.randint(0, 3, (6,), generator=g)) for _ in range(n)]


def reg(**changes):
    r = defaults(REGULARIZATION_SPECS)
    r.update(changes)
    return r


def train(model, optimizer, data, regularization=None):
    for x, y in data:
        loss = nn.functional.cross_entropy(model(x), y)
        if regularization is not None:
            extra = penalty(model, regularization)
            if extra is not None:
                loss = loss + extra
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def params_of(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def assert_same(a, b, exact=True):
    assert a.keys() == b.keys()
    for k in a:
        if exact:
            assert torch.equal(a[k], b[k]), k
        else:
            torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-7, msg=k)


# Non-default hyperparameters for each optimizer, and the torch.optim equivalent built by hand.
MATCHES = {
    "sgd": ({"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "nesterov": False},
            lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.3)),
    "sgd-nesterov": ({"lr": 0.05, "momentum": 0.7, "dampening": 0.0, "nesterov": True},
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.7, nesterov=True)),
    "adagrad": ({"lr": 0.05, "lr_decay": 0.01, "initial_accumulator_value": 0.1, "eps": 1e-6},
                lambda p: torch.optim.Adagrad(p, lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1, eps=1e-6)),
    "rmsprop": ({"lr": 0.01, "alpha": 0.9, "eps": 1e-6, "momentum": 0.5, "centered": True},
                lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6, momentum=0.5, centered=True)),
    "adadelta": ({"lr": 0.5, "rho": 0.8, "eps": 1e-5},
                 lambda p: torch.optim.Adadelta(p, lr=0.5, rho=0.8, eps=1e-5)),
    "adam": ({"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "amsgrad": True},
             lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, amsgrad=True)),
    "adamw": ({"lr": 0.01, "beta1": 0.85, "beta2": 0.995, "eps": 1e-7, "amsgrad": False},
              lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.85, 0.995), eps=1e-7, weight_decay=0.1)),
    "nadam": ({"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "momentum_decay": 0.01},
              lambda p: torch.optim.NAdam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, momentum_decay=0.01)),
    "radam": ({"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
              lambda p: torch.optim.RAdam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    "adamax": ({"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
               lambda p: torch.optim.Adamax(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
}


@pytest.mark.parametrize("case", MATCHES)
def test_each_optimizer_matches_torch_optim(case):
    settings, reference = MATCHES[case]
    kind = case.split("-")[0]
    regularization = reg(weight_decay=0.1 if kind == "adamw" else 0.0, exclude_bias_and_norm=False)
    ours, theirs = make_net(), make_net()
    data = batches(8)  # 8 steps: RAdam's rectified branch starts after step 5
    train(ours, build_optimizer(ours, {"type": kind, **settings}, regularization), data)
    train(theirs, reference(theirs.parameters()), data)
    assert_same(params_of(ours), params_of(theirs))
    assert not torch.equal(ours.fc1.weight, make_net().fc1.weight)  # it did train


def test_defaults_are_the_field_guide_values():
    adam = build_optimizer(make_net(), default_optimizer("adam"), reg())
    group = adam.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"]) == (1e-3, (0.9, 0.999), 1e-8)
    sgd = build_optimizer(make_net(), {"type": "sgd"}, reg())  # partial settings take defaults
    assert sgd.param_groups[0]["momentum"] == 0.9
    assert isinstance(build_optimizer(make_net(), {"type": "adamw"}, reg()), torch.optim.AdamW)


# Another value for each hyperparameter key; CONTEXT sets both runs so a key can show within 8 steps
# (AMSGrad only matters once the second-moment average falls, which a short β2 makes happen).
EFFECTS = {
    "lr": lambda v: v * 3,
    "momentum": lambda v: 0.5,
    "dampening": lambda v: 0.5,
    "nesterov": lambda v: True,
    "lr_decay": lambda v: 0.5,
    "initial_accumulator_value": lambda v: 1.0,
    "eps": lambda v: 0.1,
    "alpha": lambda v: 0.5,
    "centered": lambda v: True,
    "rho": lambda v: 0.5,
    "beta1": lambda v: 0.5,
    "beta2": lambda v: 0.5,
    "amsgrad": lambda v: True,
    "momentum_decay": lambda v: 0.5,
}
CONTEXT = {("adam", "amsgrad"): {"beta2": 0.3}, ("adamw", "amsgrad"): {"beta2": 0.3}}

EFFECT_CASES = [(kind, spec.name) for kind, (_, _, specs) in OPTIMIZERS.items() for spec in specs]


@pytest.mark.parametrize("kind,key", EFFECT_CASES, ids=[f"{k}.{n}" for k, n in EFFECT_CASES])
def test_every_hyperparameter_changes_the_trajectory(kind, key):
    base = {**default_optimizer(kind), **CONTEXT.get((kind, key), {})}
    changed = {**base, key: EFFECTS[key](base[key])}
    assert changed[key] != base[key]
    data = batches(8)
    a, b = make_net(), make_net()
    train(a, build_optimizer(a, base, reg()), data)
    train(b, build_optimizer(b, changed, reg()), data)
    assert not torch.equal(a.fc1.weight, b.fc1.weight)


def test_sgd_momentum_follows_the_course_formula():
    # v ← a·v − lr·g, θ ← θ + v (constant lr); Nesterov: gradient at the look-ahead point θ + a·v.
    lr, a = 0.1, 0.9
    for nesterov in (False, True):
        w = nn.Parameter(torch.tensor([1.0, -2.0]))
        opt = build_optimizer(nn.ParameterDict({"w": w}), {"type": "sgd", "lr": lr, "momentum": a,
                                                            "nesterov": nesterov}, reg())
        theta, v = torch.tensor([1.0, -2.0]), torch.zeros(2)
        grad = lambda t: 2 * t + torch.tensor([0.5, 0.0])  # noqa: E731  f = ‖θ‖² + 0.5·θ0
        for _ in range(4):
            opt.zero_grad()
            ((w ** 2).sum() + 0.5 * w[0]).backward()
            opt.step()
            if nesterov:
                # The look-ahead rule written for the look-ahead point itself (the form optimizers
                # store): v' = a·v − lr·g(θ), θ' = θ + a·v' − lr·g(θ).
                g = grad(theta)
                v_new = a * v - lr * g
                theta = theta + a * v_new - lr * g
                v = v_new
            else:
                v = a * v - lr * grad(theta)
                theta = theta + v
            torch.testing.assert_close(w.detach(), theta)


# --------------------------------------------------------------------------- grouping
def test_parameter_groups_exclude_biases_norms_and_vectors():
    groups = parameter_groups(make_net(), reg(), {"fc2": 0.5})
    by_factor = {g["l2_factor"]: g["param_names"] for g in groups}
    assert by_factor[1.0] == ["conv1.weight", "fc1.weight"]
    assert by_factor[0.5] == ["fc2.weight"]
    assert set(by_factor[0.0]) == {"conv1.bias", "bn1.weight", "bn1.bias", "fc1.bias", "act.weight", "fc2.bias"}
    everything = parameter_groups(make_net(), reg(exclude_bias_and_norm=False), {"conv1": 0.0})
    by_factor = {g["l2_factor"]: set(g["param_names"]) for g in everything}
    assert by_factor[0.0] == {"conv1.weight", "conv1.bias"}
    assert len(by_factor[1.0]) == 7


def test_parameter_groups_handle_recurrent_nested_and_frozen_parameters():
    class Maxout(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 6)

    model = nn.Module()
    model.rnn = nn.LSTM(4, 3, batch_first=True)
    model.mx = Maxout()
    model.emb = nn.Embedding(5, 4)
    model.emb.weight.requires_grad_(False)
    groups = parameter_groups(model, reg(), {"mx": 2.0})
    by_factor = {g["l2_factor"]: set(g["param_names"]) for g in groups}
    assert by_factor == {1.0: {"rnn.weight_ih_l0", "rnn.weight_hh_l0"}, 0.0: {"rnn.bias_ih_l0", "rnn.bias_hh_l0",
                                                                                 "mx.linear.bias"},
                         2.0: {"mx.linear.weight"}}


def test_optimizer_groups_carry_names_and_factors_through_a_state_dict():
    opt = build_optimizer(make_net(), {"type": "adam"}, reg(), {"fc1": 3.0})
    state = opt.state_dict()
    factors = sorted(g["l2_factor"] for g in state["param_groups"])
    assert factors == [0.0, 1.0, 3.0]
    assert any("fc1.weight" in g["param_names"] for g in state["param_groups"])


def test_invalid_settings_are_explained():
    with pytest.raises(ValueError, match="unknown optimizer"):
        build_optimizer(make_net(), {"type": "lbfgs"}, reg())
    with pytest.raises(ValueError, match="Nesterov"):
        build_optimizer(make_net(), {"type": "sgd", "momentum": 0.0, "nesterov": True}, reg())
    with pytest.raises(ValueError, match="no trainable parameters"):
        build_optimizer(nn.Sequential(nn.Flatten()), {"type": "sgd"}, reg())


# --------------------------------------------------------------------------- decoupled weight decay
def linear_loss_run(kind, settings, regularization, steps=5):
    """Train one Linear on a loss whose gradient does not depend on the weights, so the optimizer's
    own update (from the gradient history) is the same with and without weight decay."""
    torch.manual_seed(3)
    model = nn.Module()
    model.fc = nn.Linear(4, 3)
    g = torch.Generator().manual_seed(4)
    coefficients = [(torch.randn(3, 4, generator=g), torch.randn(3, generator=g)) for _ in range(steps)]
    opt = build_optimizer(model, {"type": kind, **settings}, regularization)
    trajectory = [params_of(model)]
    for cw, cb in coefficients:
        opt.zero_grad()
        ((cw * model.fc.weight).sum() + (cb * model.fc.bias).sum()).backward()
        opt.step()
        trajectory.append(params_of(model))
    return trajectory


@pytest.mark.parametrize("kind", [k for k in OPTIMIZERS if k != "adamw"] + ["adamw"])
def test_decoupled_weight_decay_is_lr_wd_w_on_top_of_the_update(kind):
    lr, wd = 0.05, 0.3
    settings = {"lr": lr}
    plain = linear_loss_run(kind, settings, reg(weight_decay=0.0))
    decayed = linear_loss_run(kind, settings, reg(weight_decay=wd))
    for t in range(1, len(plain)):
        update = plain[t - 1]["fc.weight"] - plain[t]["fc.weight"]
        expected = decayed[t - 1]["fc.weight"] * (1 - lr * wd) - update
        torch.testing.assert_close(decayed[t]["fc.weight"], expected, rtol=1e-5, atol=1e-6)
        # biases are excluded by default: not decayed at all
        assert torch.equal(decayed[t]["fc.bias"], plain[t]["fc.bias"])
    assert not torch.equal(decayed[-1]["fc.weight"], plain[-1]["fc.weight"])


@pytest.mark.parametrize("cls,kind", [(torch.optim.NAdam, "nadam"), (torch.optim.RAdam, "radam")])
def test_decoupled_decay_matches_torchs_own_decoupled_variants(cls, kind):
    ours, theirs = make_net(), make_net()
    data = batches(6)
    train(ours, build_optimizer(ours, {"type": kind, "lr": 0.01}, reg(weight_decay=0.2, exclude_bias_and_norm=False)),
          data)
    train(theirs, cls(theirs.parameters(), lr=0.01, weight_decay=0.2, decoupled_weight_decay=True), data)
    assert_same(params_of(ours), params_of(theirs), exact=False)


def test_decay_follows_node_multipliers_exactly():
    model = make_net()
    before = params_of(model)
    opt = build_optimizer(model, {"type": "sgd", "lr": 0.1, "momentum": 0.0}, reg(weight_decay=0.5),
                          {"fc1": 2.0, "fc2": 0.0})
    for p in model.parameters():
        p.grad = torch.zeros_like(p)  # no gradient: only the decay moves the weights
    opt.step()
    after = params_of(model)
    torch.testing.assert_close(after["conv1.weight"], before["conv1.weight"] * (1 - 0.1 * 0.5))
    torch.testing.assert_close(after["fc1.weight"], before["fc1.weight"] * (1 - 0.1 * 0.5 * 2.0))
    assert torch.equal(after["fc2.weight"], before["fc2.weight"])
    assert torch.equal(after["fc1.bias"], before["fc1.bias"]) and torch.equal(after["bn1.weight"], before["bn1.weight"])


def test_decay_survives_a_checkpoint_round_trip():
    data = batches(6)
    straight = make_net()
    settings, regularization = {"type": "sgd", "lr": 0.05}, reg(weight_decay=0.1)
    opt = build_optimizer(straight, settings, regularization)
    train(straight, opt, data)

    first = make_net()
    opt1 = build_optimizer(first, settings, regularization)
    train(first, opt1, data[:3])
    resumed = copy.deepcopy(first)
    opt2 = build_optimizer(resumed, settings, regularization)
    opt2.load_state_dict(opt1.state_dict())
    train(resumed, opt2, data[3:])
    assert_same(params_of(resumed), params_of(straight))


# --------------------------------------------------------------------------- coupled L2
def test_coupled_l2_under_sgd_equals_torchs_weight_decay_on_the_penalised_groups():
    data = batches(5)
    regularization = reg(l2=0.05)
    ours = make_net()
    train(ours, build_optimizer(ours, {"type": "sgd", "lr": 0.05, "momentum": 0.9}, regularization), data,
          regularization)
    theirs = make_net()
    weights = [theirs.conv1.weight, theirs.fc1.weight, theirs.fc2.weight]
    others = [p for p in theirs.parameters() if all(p is not w for w in weights)]
    train(theirs, torch.optim.SGD([{"params": weights, "weight_decay": 0.05}, {"params": others}],
                                  lr=0.05, momentum=0.9), data)
    assert_same(params_of(ours), params_of(theirs), exact=False)


def test_adam_with_l2_rescales_the_decay_per_parameter_while_adamw_shrinks_by_lr_wd_w():
    """With no data gradient the difference is stark. Adam sees g = λ·w, so its first step is
    lr·m̂/(√v̂+ε) = lr·λw/(|λw|+ε) ≈ lr·sign(w): every weight moves by lr, big or small — the decay
    has been divided by the per-parameter scale √v̂. AdamW moves each weight by exactly lr·wd·w."""
    lr, lam, eps = 0.01, 0.1, 1e-8
    w0 = torch.tensor([[2.0, -0.5, 0.05, -0.001]], dtype=torch.float64)

    def one_step(kind, regularization):
        model = nn.Module()
        model.fc = nn.Linear(4, 1, bias=False).double()
        with torch.no_grad():
            model.fc.weight.copy_(w0)
        opt = build_optimizer(model, {"type": kind, "lr": lr, "eps": eps}, regularization)
        opt.zero_grad()
        loss = 0.0 * model.fc(torch.ones(1, 4, dtype=torch.float64)).sum()  # zero data gradient
        extra = penalty(model, regularization)
        (loss + extra if extra is not None else loss).backward()
        opt.step()
        return model.fc.weight.detach()

    adam_l2 = one_step("adam", reg(l2=lam))
    adamw = one_step("adamw", reg(weight_decay=lam))
    torch.testing.assert_close(adam_l2, w0 - lr * (lam * w0) / ((lam * w0).abs() + eps), rtol=0, atol=1e-15)
    torch.testing.assert_close(adamw, w0 * (1 - lr * lam), rtol=0, atol=1e-15)
    shrink_adam = (w0 - adam_l2) / w0
    shrink_adamw = (w0 - adamw) / w0
    # AdamW: the same relative shrink lr·wd for every weight. Adam+L2: ≈ lr/|w|, 2000× apart here.
    torch.testing.assert_close(shrink_adamw, torch.full_like(w0, lr * lam))
    assert shrink_adam.max() / shrink_adam.min() > 1000


def test_adam_with_l2_and_adamw_differ_with_a_data_gradient_over_several_steps():
    """AdamW = Adam's update from the data gradient alone − lr·wd·w; Adam + L2 is not that."""
    lr, lam = 0.01, 0.1
    plain = linear_loss_run("adam", {"lr": lr}, reg())
    adamw = linear_loss_run("adamw", {"lr": lr}, reg(weight_decay=lam))
    for t in range(1, len(plain)):
        update = plain[t - 1]["fc.weight"] - plain[t]["fc.weight"]
        torch.testing.assert_close(adamw[t]["fc.weight"], adamw[t - 1]["fc.weight"] * (1 - lr * lam) - update)

    torch.manual_seed(3)
    model = nn.Module()
    model.fc = nn.Linear(4, 3)
    regularization = reg(l2=lam)
    opt = build_optimizer(model, {"type": "adam", "lr": lr}, regularization)
    g = torch.Generator().manual_seed(4)
    for _ in range(len(plain) - 1):
        cw, cb = torch.randn(3, 4, generator=g), torch.randn(3, generator=g)
        opt.zero_grad()
        ((cw * model.fc.weight).sum() + (cb * model.fc.bias).sum() + penalty(model, regularization)).backward()
        opt.step()
    assert (model.fc.weight - adamw[-1]["fc.weight"]).abs().max() > 1e-3

"""Regularization: penalties, clipping, max-norm, input noise, early stopping and the losses."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from netbuilder.core.params import defaults
from netbuilder.core.settings import REGULARIZATION_SPECS
from netbuilder.train.regularize import (EarlyStopping, add_input_noise, apply_max_norm, clip_gradients, make_loss,
                                         penalty)


def reg(**changes):
    r = defaults(REGULARIZATION_SPECS)
    r.update(changes)
    return r


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3)
        self.bn1 = nn.BatchNorm2d(4)
        self.flat = nn.Flatten()
        self.fc1 = nn.Linear(4 * 3 * 3, 6)
        self.fc2 = nn.Linear(6, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(self.flat(self.bn1(self.conv1(x))))))


def make_net(seed=0):
    torch.manual_seed(seed)
    net = Net()
    with torch.no_grad():
        net.bn1.weight.uniform_(0.5, 1.5)  # non-trivial norm parameters, so excluding them shows
        net.bn1.bias.uniform_(-1, 1)
    return net


def data(seed=1, n=16):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, 5, 5, generator=g), torch.randint(0, 3, (n,), generator=g)


# --------------------------------------------------------------------------- penalties
def test_no_penalty_costs_nothing():
    assert penalty(make_net(), reg()) is None
    assert penalty(make_net(), reg(l2=0.1), {"conv1": 0, "fc1": 0, "fc2": 0}) is None


def test_l2_and_l1_follow_their_formulas_with_exclusions_and_multipliers():
    net = make_net()
    l2, l1 = 0.3, 0.02
    weights = {"conv1": (net.conv1.weight, 1.0), "fc1": (net.fc1.weight, 2.0), "fc2": (net.fc2.weight, 0.5)}
    expected_l2 = l2 / 2 * sum(m * (w ** 2).sum() for w, m in weights.values())
    expected_l1 = l1 * sum(m * w.abs().sum() for w, m in weights.values())
    mult = {"fc1": 2.0, "fc2": 0.5}
    torch.testing.assert_close(penalty(net, reg(l2=l2), mult), expected_l2)
    torch.testing.assert_close(penalty(net, reg(l1=l1), mult), expected_l1)
    torch.testing.assert_close(penalty(net, reg(l1=l1, l2=l2), mult), expected_l1 + expected_l2)  # elastic net
    everything = sum((p ** 2).sum() for p in net.parameters())
    torch.testing.assert_close(penalty(net, reg(l2=l2, exclude_bias_and_norm=False)), l2 / 2 * everything)


def test_penalty_gradient_is_lambda_m_w_plus_lambda_m_sign_w():
    net = make_net()
    penalty(net, reg(l2=0.4, l1=0.1), {"fc1": 3.0}).backward()
    w = net.fc1.weight.detach()
    torch.testing.assert_close(net.fc1.weight.grad, 3.0 * (0.4 * w + 0.1 * w.sign()))
    assert net.fc1.bias.grad is None and net.bn1.weight.grad is None  # excluded: not in the graph


def test_penalty_follows_changed_settings_on_the_same_model():
    net = make_net()
    a = penalty(net, reg(l2=1.0))
    b = penalty(net, reg(l2=1.0), {"fc1": 0.0})
    c = penalty(net, reg(l2=1.0, exclude_bias_and_norm=False))
    assert b < a < c


def test_raising_regularization_raises_the_loss():
    net = make_net()
    x, y = data()
    with torch.no_grad():
        loss = nn.functional.cross_entropy(net(x), y)
        values = [float(loss + (penalty(net, reg(l2=lam)) if lam else 0)) for lam in (0, 1e-3, 1e-2, 1e-1)]
    assert values == sorted(values) and values[0] < values[-1]


# --------------------------------------------------------------------------- gradients
def grads_after_backward(scale=100.0):
    net = make_net()
    x, y = data()
    (scale * nn.functional.cross_entropy(net(x), y)).backward()
    return net


def total_norm(net):
    return torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in net.parameters()]))


def test_clip_by_norm_caps_the_global_norm_and_returns_the_norm_before():
    net = grads_after_backward()
    before = total_norm(net)
    direction = torch.cat([p.grad.flatten() for p in net.parameters()]) / before
    reported = clip_gradients(net, reg(clip_mode="norm", clip_value=1.0))
    torch.testing.assert_close(reported, before)
    assert before > 1.0
    torch.testing.assert_close(total_norm(net), torch.tensor(1.0), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(torch.cat([p.grad.flatten() for p in net.parameters()]), direction, rtol=1e-4,
                               atol=1e-6)  # the direction is kept


def test_clip_by_value_clamps_each_entry():
    net = grads_after_backward()
    before = total_norm(net)
    largest = max(p.grad.abs().max() for p in net.parameters())
    reported = clip_gradients(net, reg(clip_mode="value", clip_value=0.05))
    torch.testing.assert_close(reported, before)
    assert largest > 0.05
    assert max(p.grad.abs().max() for p in net.parameters()) <= 0.05


def test_no_clipping_leaves_gradients_alone():
    net = grads_after_backward()
    copies = [p.grad.clone() for p in net.parameters()]
    assert clip_gradients(net, reg(clip_mode="none")) is None
    assert all(torch.equal(a, p.grad) for a, p in zip(copies, net.parameters()))


# --------------------------------------------------------------------------- max-norm
def test_max_norm_caps_each_units_incoming_vector_and_leaves_small_ones():
    net = make_net()
    with torch.no_grad():
        net.fc1.weight[0] *= 100  # one unit far outside the ball
        net.conv1.weight[1] *= 100
    small_row = net.fc1.weight[1].detach().clone()
    limit = float(net.fc1.weight[0].detach().norm() / 10)
    assert small_row.norm() < limit
    apply_max_norm(net, reg(max_norm=limit))
    fc_norms = net.fc1.weight.norm(dim=1)
    conv_norms = net.conv1.weight.flatten(1).norm(dim=1)
    assert fc_norms.max() <= limit * (1 + 1e-5) and conv_norms.max() <= limit * (1 + 1e-5)
    assert math.isclose(fc_norms[0].item(), limit, rel_tol=1e-5)
    assert torch.equal(net.fc1.weight[1], small_row)


def test_max_norm_on_grouped_transposed_convolution():
    model = nn.Module()
    model.up = nn.ConvTranspose2d(4, 6, 3, groups=2)  # weight (4, 3, 3, 3): in × out/groups
    with torch.no_grad():
        model.up.weight.mul_(50)
    apply_max_norm(model, reg(max_norm=0.5))
    w = model.up.weight
    # output channel j of group g receives weight[g·2:(g+1)·2, j]
    for g in range(2):
        for j in range(3):
            assert w[g * 2:(g + 1) * 2, j].norm() <= 0.5 * (1 + 1e-5)


def test_max_norm_off_is_a_no_op():
    net = make_net()
    before = [p.detach().clone() for p in net.parameters()]
    apply_max_norm(net, reg(max_norm=0.0))
    assert all(torch.equal(a, p) for a, p in zip(before, net.parameters()))


# --------------------------------------------------------------------------- input noise
def test_input_noise():
    x = torch.zeros(200, 50)
    assert add_input_noise(x, reg()) is x
    noisy = add_input_noise(x, reg(input_noise=0.3), torch.Generator().manual_seed(0))
    assert math.isclose(noisy.std().item(), 0.3, rel_tol=0.03)
    again = add_input_noise(x, reg(input_noise=0.3), torch.Generator().manual_seed(0))
    assert torch.equal(noisy, again)
    tokens = torch.randint(0, 9, (4, 7))
    assert add_input_noise(tokens, reg(input_noise=1.0)) is tokens


# --------------------------------------------------------------------------- early stopping
def es(**changes):
    return EarlyStopping(reg(early_stopping=True, **changes))


def test_early_stopping_restores_the_best_weights():
    net = make_net()
    stopper = es(patience=3)
    losses = [1.0, 0.8, 0.6, 0.65, 0.7, 0.9, 0.5]  # best at epoch 3, then three epochs without gain
    snapshots = {}
    stopped_at = None
    for epoch, loss in enumerate(losses, start=1):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(0.1 * epoch)  # "training" changes every weight each epoch
            net.bn1.running_mean.add_(epoch)
        snapshots[epoch] = {k: v.clone() for k, v in net.state_dict().items()}
        if stopper.update(epoch, {"val_loss": loss}, net):
            stopped_at = epoch
            break
    assert stopped_at == 6 and stopper.best_epoch == 3 and stopper.best_value == 0.6
    assert stopper.restore(net)
    for key, value in net.state_dict().items():
        assert torch.equal(value, snapshots[3][key]), key  # weights and batch-norm statistics


def test_early_stopping_respects_min_delta_and_accuracy_mode():
    stopper = es(es_metric="val_accuracy", patience=2, min_delta=0.01)
    net = make_net()
    results = [stopper.update(e, {"val_accuracy": a}, net) for e, a in enumerate([0.5, 0.6, 0.605, 0.609], 1)]
    assert results == [False, False, False, True]  # +0.005 and +0.009 are below min_delta
    assert stopper.best_epoch == 2


def test_early_stopping_patience_zero_and_fallback_to_training_metrics():
    stopper = es(patience=0)
    net = make_net()
    assert not stopper.update(1, {"val_loss": None, "train_loss": 1.0}, net)
    assert stopper.update(2, {"val_loss": None, "train_loss": 1.2}, net)
    assert stopper.best_epoch == 1


def test_early_stopping_without_restore_keeps_no_copy():
    stopper = es(restore_best=False)
    net = make_net()
    stopper.update(1, {"val_loss": 1.0}, net)
    assert not stopper.restore(net)


def test_early_stopping_state_round_trip():
    net = make_net()
    stopper = es(patience=2)
    stopper.update(1, {"val_loss": 1.0}, net)
    stopper.update(2, {"val_loss": 2.0}, net)
    resumed = es(patience=2)
    resumed.load_state_dict(stopper.state_dict())
    assert resumed.best_epoch == 1 and resumed.update(3, {"val_loss": 3.0}, net)
    fresh = make_net(seed=9)
    assert resumed.restore(fresh)
    assert torch.equal(fresh.fc1.weight, net.fc1.weight)


# --------------------------------------------------------------------------- losses
def field_guide_smoothed_ce(logits, labels, eps):
    k = logits.shape[1]
    target = torch.full_like(logits, eps / (k - 1))
    target[torch.arange(len(labels)), labels] = 1 - eps
    return -(target * logits.log_softmax(1)).sum(1).mean()


def test_cross_entropy_label_smoothing_is_eps_over_k_minus_one():
    g = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(10, 5, generator=g), torch.randint(0, 5, (10,), generator=g)
    loss = make_loss("cross-entropy", 0.2)
    torch.testing.assert_close(loss(logits, labels), field_guide_smoothed_ce(logits, labels, 0.2))
    assert not torch.isclose(loss(logits, labels), nn.functional.cross_entropy(logits, labels, label_smoothing=0.2))
    torch.testing.assert_close(make_loss("cross-entropy", 0.0)(logits, labels),
                               nn.functional.cross_entropy(logits, labels))


def test_cross_entropy_accepts_soft_targets():
    g = torch.Generator().manual_seed(1)
    logits, labels = torch.randn(8, 4, generator=g), torch.randint(0, 4, (8,), generator=g)
    one_hot = nn.functional.one_hot(labels, 4).float()
    for eps in (0.0, 0.1):
        loss = make_loss("cross-entropy", eps)
        torch.testing.assert_close(loss(logits, one_hot), loss(logits, labels))
    lam = 0.7  # mixup: a blend of two label sets is the blend of the two losses
    other = torch.roll(labels, 1)
    mixed = lam * one_hot + (1 - lam) * nn.functional.one_hot(other, 4).float()
    loss = make_loss("cross-entropy", 0.1)
    torch.testing.assert_close(loss(logits, mixed), lam * loss(logits, labels) + (1 - lam) * loss(logits, other))


def test_initial_cross_entropy_is_log_of_the_class_count():
    assert math.isclose(make_loss("cross-entropy", 0.0)(torch.zeros(4, 10), torch.arange(4)).item(),
                        math.log(10), rel_tol=1e-6)


def test_mse_and_bce_targets_and_smoothing():
    out = torch.tensor([[0.2, 0.9, -0.1], [0.5, 0.1, 0.3]])
    labels = torch.tensor([1, 2])
    target = torch.tensor([[0.05, 0.9, 0.05], [0.05, 0.05, 0.9]])  # ε = 0.1 over k − 1 = 2 others
    torch.testing.assert_close(make_loss("mse", 0.1)(out, labels), nn.functional.mse_loss(out, target))
    regression = make_loss("mse", 0.1)(torch.tensor([[1.0], [2.0]]), torch.tensor([1.5, 2.0]))
    torch.testing.assert_close(regression, torch.tensor(0.125))  # not smoothed, shapes aligned

    logits = torch.tensor([[0.3], [-1.2], [2.0]])
    y = torch.tensor([1, 0, 1])
    smoothed = torch.tensor([[0.9], [0.1], [0.9]])
    torch.testing.assert_close(make_loss("bce-with-logits", 0.1)(logits, y),
                               nn.functional.binary_cross_entropy_with_logits(logits, smoothed))
    torch.testing.assert_close(make_loss("bce-with-logits", 0.0)(logits, y.float()),
                               nn.functional.binary_cross_entropy_with_logits(logits, y.float()[:, None]))


def test_unknown_loss_is_an_error():
    with pytest.raises(ValueError, match="unknown loss"):
        make_loss("hinge", 0.0)

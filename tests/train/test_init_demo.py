"""The initialization experiment tells the course's story: vanish, saturate, healthy, symmetric."""
from __future__ import annotations

import pytest

from netbuilder.train.init_demo import SCHEMES, activation_statistics, verdict, weight_std


def run(scheme, nonlinearity, width=1024):
    stats = activation_statistics(scheme, nonlinearity, width=width, samples=50)
    return stats, verdict(stats, nonlinearity)


def test_tiny_gaussian_weights_shrink_the_signal_layer_by_layer():
    stats, words = run("normal-0.01", "tanh")
    stds = [s.std for s in stats]
    assert stds == sorted(stds, reverse=True) and stds[-1] < stds[0] / 100
    assert "vanish" in words


def test_large_gaussian_weights_saturate_tanh():
    stats, words = run("normal-0.05", "tanh", width=4096)
    assert stats[-1].saturated > 0.2 and "saturate" in words


@pytest.mark.parametrize("scheme, nonlinearity", [("xavier", "tanh"), ("kaiming", "relu")])
def test_the_matching_scheme_keeps_the_spread(scheme, nonlinearity):
    stats, words = run(scheme, nonlinearity)
    assert 0.2 < stats[-1].std / stats[0].std < 2 and words.startswith("healthy")


def test_xavier_halves_relu_variance_at_every_layer():
    stats, words = run("xavier", "relu")
    ratios = [b.std ** 2 / a.std ** 2 for a, b in zip(stats, stats[1:])]
    assert all(0.4 < r < 0.6 for r in ratios), ratios
    assert "shrink" in words


def test_constant_weights_leave_one_distinct_unit_per_layer():
    stats, words = run("constant", "tanh")
    assert all(s.distinct_units == 1 for s in stats) and words.startswith("symmetric")
    assert run("xavier", "tanh")[0][-1].distinct_units > 40


def test_histograms_cover_every_activation_and_unknown_names_are_refused():
    stats, _ = run("kaiming", "tanh")
    assert all(s.counts.sum() == 50 * 1024 and len(s.edges) == len(s.counts) + 1 for s in stats)
    assert weight_std("kaiming", 1024, "relu") == pytest.approx((2 / 1024) ** 0.5)
    with pytest.raises(ValueError, match="choose from"):
        activation_statistics("he", "tanh")
    with pytest.raises(ValueError, match="choose from"):
        activation_statistics("xavier", "sigmoid")
    assert set(SCHEMES) == {"normal-0.01", "normal-0.05", "xavier", "kaiming", "constant"}

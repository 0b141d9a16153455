"""Histograms for the monitor: exact for small tensors, a fair sample of large ones, the same on every device."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from netbuilder.train import probes


def test_small_tensors_are_counted_exactly():
    values = torch.randn(5_000, generator=torch.Generator().manual_seed(0)) * 3 + 100
    found = probes.histogram(values)
    expected = torch.histc(values, bins=probes.HISTOGRAM_BINS, min=float(values.min()), max=float(values.max()))
    assert np.array_equal(found["counts"], expected.numpy().astype(np.int64)) and not found["sampled"]
    assert found["edges"][0] == float(values.min()) and found["edges"][-1] == float(values.max())
    assert found["mean"] == pytest.approx(float(values.double().mean()), rel=1e-6)
    assert found["std"] == pytest.approx(float(values.double().std()), rel=1e-5), "narrow spread, large mean"


def test_large_tensors_are_sampled_across_every_row_and_column():
    # Each column has its own constant: a sample that kept hitting the same columns would miss most values.
    columns = torch.arange(28, dtype=torch.float32)
    activations = columns.expand(64, 32, 28, 28).contiguous()
    found = probes.histogram(activations)
    assert found["sampled"] and found["counts"].sum() == pytest.approx(activations.numel(), rel=1e-4)
    filled = found["counts"] > 0
    assert filled.sum() == 28, "all 28 column values appear"
    shares = found["counts"][filled] / found["counts"].sum()
    assert np.allclose(shares, 1 / 28, rtol=0.05), "in equal shares"


def test_channels_last_tensors_need_no_copy():
    x = torch.randn(8, 6, 5, 5).to(memory_format=torch.channels_last)
    flat = probes._in_memory_order(x)
    assert flat.data_ptr() == x.data_ptr() and flat.numel() == x.numel()
    assert np.array_equal(probes.histogram(x)["counts"], probes.histogram(x.contiguous())["counts"])


@pytest.mark.parametrize("n", [16_385, 50_176, 1_605_632, 3 * 5 * 7 * 11 * 13 * 17 * 3])
def test_sample_strides_are_prime_and_coprime_with_the_size(n):
    stride = probes._sample_stride(n)
    assert stride >= n / probes.HISTOGRAM_SAMPLES and n % stride != 0
    assert all(stride % d for d in range(2, math.isqrt(stride) + 1))


def test_the_device_path_agrees_with_the_cpu_path():
    values = torch.randn(12_345, generator=torch.Generator().manual_seed(1))
    cpu = probes._numpy_histogram(values.numpy(), 40)
    device = probes._device_histogram(values, 40)
    assert np.array_equal(cpu[0], device[0])
    assert cpu[1:3] == device[1:3] and cpu[5] == device[5]
    assert cpu[3] == pytest.approx(device[3], abs=1e-6) and cpu[4] == pytest.approx(device[4], rel=1e-5)


def test_non_finite_values_are_left_out_and_constants_get_a_bin():
    for path in (lambda v: probes._numpy_histogram(v.numpy(), 10), lambda v: probes._device_histogram(v, 10)):
        counts, lo, hi, mean, std, used = path(torch.tensor([1.0, float("nan"), 3.0, float("inf"), -float("inf")]))
        assert counts.sum() == used == 2 and (lo, hi, mean) == (1.0, 3.0, 2.0)
        assert path(torch.full((4,), float("nan"))) is None
        counts, lo, hi, *_ = path(torch.full((3,), 2.0))
        assert (lo, hi) == (1.5, 2.5) and counts.sum() == 3
    assert probes.histogram(torch.full((3,), float("nan")))["counts"].sum() == 0

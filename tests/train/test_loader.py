"""The tensor-resident loader: every sample once per epoch, seeded order, resumable."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from netbuilder.train.augment import Augmenter
from netbuilder.train.data import Split
from netbuilder.train.loader import TensorLoader
from netbuilder.train.preprocess import fit_normalizer

FASHION = Path("/usr/share/datasets/fashion-mnist")


def numbered(n=103, kind="vector"):
    """Samples whose single feature is their own index, so batches reveal which samples they hold."""
    x = torch.arange(n, dtype=torch.float32).unsqueeze(1)
    split = Split(x, torch.arange(n) % 5)
    return split, fit_normalizer("none", x, kind, (1,), kind)


def indices_of(loader) -> list[list[int]]:
    return [x[:, 0].long().tolist() for x, _ in loader]


def test_an_epoch_covers_every_sample_exactly_once():
    split, normalizer = numbered(103)
    loader = TensorLoader(split, 10, normalizer=normalizer, seed=3)
    batches = indices_of(loader)
    assert len(loader) == len(batches) == 11 and [len(b) for b in batches][-1] == 3
    assert sorted(i for b in batches for i in b) == list(range(103))
    assert batches != sorted(batches), "shuffled"


def test_drop_last_and_sequential_order():
    split, normalizer = numbered(103)
    dropping = TensorLoader(split, 10, normalizer=normalizer, drop_last=True)
    assert len(dropping) == 10 and all(len(b) == 10 for b in indices_of(dropping))
    plain = TensorLoader(split, 10, normalizer=normalizer, shuffle=False)
    assert [i for b in indices_of(plain) for i in b] == list(range(103))


def test_labels_travel_with_their_samples():
    split, normalizer = numbered(50)
    for x, y in TensorLoader(split, 8, normalizer=normalizer, seed=1):
        assert torch.equal(y, x[:, 0].long() % 5) and y.dtype == torch.int64


def test_each_epoch_reshuffles_and_a_resumed_loader_repeats_the_run():
    split, normalizer = numbered(60)
    straight = TensorLoader(split, 7, normalizer=normalizer, seed=11)
    epochs = [indices_of(straight) for _ in range(3)]
    assert epochs[0] != epochs[1] != epochs[2]
    first = TensorLoader(split, 7, normalizer=normalizer, seed=11)
    indices_of(first)
    resumed = TensorLoader(split, 7, normalizer=normalizer, seed=11)
    resumed.load_state_dict(first.state_dict())
    assert indices_of(resumed) == epochs[1] and indices_of(resumed) == epochs[2]
    other_seed = TensorLoader(split, 7, normalizer=normalizer, seed=12)
    assert indices_of(other_seed) != epochs[0]


def test_uint8_batches_are_normalised_per_batch_into_the_input_shape():
    x = torch.randint(0, 256, (40, 1, 6, 6), dtype=torch.uint8)
    split = Split(x, torch.zeros(40, dtype=torch.int64))
    normalizer = fit_normalizer("standardize", x, "image", (36,), "vector")
    loader = TensorLoader(split, 16, normalizer=normalizer, shuffle=False)
    xb, _ = next(iter(loader))
    assert xb.dtype == torch.float32 and xb.shape == (16, 36)
    expected = (x[:16].float() - x.float().mean()) / x.float().std()
    assert torch.allclose(xb, expected.flatten(1), atol=1e-4)
    assert split.x.dtype == torch.uint8, "the stored data stays compact"


def test_mixup_gives_soft_targets_and_augmentation_repeats_on_resume():
    x = torch.randint(0, 256, (64, 1, 8, 8), dtype=torch.uint8)
    split = Split(x, torch.arange(64) % 4)
    normalizer = fit_normalizer("standardize", x, "image", (1, 8, 8), "image")
    settings = {"hflip": True, "rotation": 15, "noise": 0.1, "cutout": 3, "mixup": 0.4}

    def loader():
        return TensorLoader(split, 16, normalizer=normalizer, seed=5, augment=Augmenter(settings, "image", 4, seed=5))

    straight = loader()
    epochs = [[(xb.clone(), yb.clone()) for xb, yb in straight] for _ in range(2)]
    for xb, yb in epochs[0]:
        assert xb.shape == (16, 1, 8, 8) and yb.shape == (16, 4) and yb.dtype == torch.float32
        assert torch.allclose(yb.sum(1), torch.ones(16))
    resumed = loader()
    resumed.load_state_dict({"epoch": 1, "seed": 5})
    for (xa, ya), (xb, yb) in zip(epochs[1], resumed):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)


def test_inactive_augmenter_is_skipped():
    split, normalizer = numbered(20)
    loader = TensorLoader(split, 5, normalizer=normalizer, augment=Augmenter({}, "vector", 5))
    assert loader.augment is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_split_moves_to_the_device_once():
    split, normalizer = numbered(30)
    loader = TensorLoader(split, 8, normalizer=normalizer, device="cuda")
    assert loader.x.is_cuda and all(x.is_cuda and y.is_cuda for x, y in loader)


@pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(), reason="Fashion-MNIST is not installed")
def test_a_fashion_mnist_epoch_visits_every_sample_once_in_normalized_batches(fashion_bundle):
    # Speed is the benchmark's business (benchmarks/bench_epoch.py); here: every sample, once, normalized.
    loader = TensorLoader(fashion_bundle.train, 64, normalizer=fashion_bundle.normalizer, seed=0)
    counts = torch.zeros(10, dtype=torch.long)
    seen = 0
    for x, y in loader:
        assert x.dtype == torch.float32 and len(x) <= 64
        seen += len(y)
        counts += torch.bincount(y.long().cpu(), minlength=10)
    assert seen == 54_000
    assert torch.equal(counts, torch.bincount(fashion_bundle.train.y.long().cpu(), minlength=10))

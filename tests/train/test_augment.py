"""Batched augmentation: shapes and dtype kept, all-off is the identity, each option does what it says."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from netbuilder.train.augment import Augmenter, preview

ALL_ON = {"hflip": True, "vflip": True, "rotation": 20.0, "shift": 0.1, "scale": 0.1, "noise": 0.1,
          "color_jitter": 0.3, "cutout": 4, "mixup": 0.4}
SINGLE_OPTIONS = [{"hflip": True}, {"vflip": True}, {"rotation": 30.0}, {"shift": 0.2}, {"scale": 0.3},
                  {"noise": 0.5}, {"color_jitter": 0.5}, {"cutout": 5}, {"mixup": 1.0}, ALL_ON]


def images(n=16, c=3, h=12, w=10, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, h, w, generator=generator), torch.arange(n) % 4


def test_all_options_off_is_inactive_and_the_identity():
    augmenter = Augmenter({}, "image", 4)
    x, y = images()
    out_x, out_y = augmenter(x, y)
    assert not augmenter.active and out_x is x and out_y is y
    assert not Augmenter(ALL_ON, "tokens", 4).active, "token ids are never augmented"


@pytest.mark.parametrize("settings", SINGLE_OPTIONS, ids=lambda s: "+".join(s) if len(s) > 1 else next(iter(s)))
@pytest.mark.parametrize("shape,kind", [((16, 3, 12, 10), "image"), ((16, 1, 9, 9), "image"),
                                        ((16, 2, 30), "signal"), ((16, 5), "vector"), ((16, 7, 3), "sequence")])
def test_every_option_keeps_shape_dtype_and_device(settings, shape, kind):
    augmenter = Augmenter(settings, kind, 4, seed=1)
    x = torch.randn(shape)
    y = torch.arange(16) % 4
    out, targets = augmenter(x, y, fill=torch.zeros(shape[1:]))
    assert augmenter.active
    assert out.shape == x.shape and out.dtype == torch.float32 and out.device == x.device
    if settings.get("mixup"):
        assert targets.shape == (16, 4) and torch.allclose(targets.sum(1), torch.ones(16))
    else:
        assert torch.equal(targets, y)


def test_flips_mirror_some_samples_and_leave_the_rest():
    x, y = images(64)
    out, _ = Augmenter({"hflip": True}, "image", 4, seed=2)(x, y)
    mirrored = [torch.equal(o, s.flip(-1)) for o, s in zip(out, x)]
    kept = [torch.equal(o, s) for o, s in zip(out, x)]
    assert all(m or k for m, k in zip(mirrored, kept))
    assert 10 < sum(mirrored) < 54


def test_rotation_pads_with_the_fill_value():
    x = torch.full((8, 1, 21, 21), 5.0)
    out, _ = Augmenter({"rotation": 180.0}, "image", 2, seed=0)(x, torch.zeros(8, dtype=torch.long),
                                                                fill=torch.full((1, 21, 21), -1.0))
    assert torch.allclose(out[:, :, 10, 10], torch.full((8, 1), 5.0)), "the centre stays"
    corners = out[:, 0, [0, 0, -1, -1], [0, -1, 0, -1]]
    assert (corners < 5.0).any() and corners.min() >= -1.0 - 1e-5, "rotated-in corners are background"


def test_shift_moves_content():
    x = torch.zeros(32, 1, 20, 20)
    x[:, :, 8:12, 8:12] = 1.0
    out, _ = Augmenter({"shift": 0.25}, "image", 2, seed=3)(x, torch.zeros(32, dtype=torch.long))
    centres = [(o[0] * torch.arange(20.0).view(1, 20)).sum() / o[0].sum() for o in out]
    assert torch.tensor(centres).std() > 1.0 and torch.allclose(out.sum((1, 2, 3)), x.sum((1, 2, 3)), rtol=0.3)


def test_cutout_blanks_a_square_with_the_fill_value():
    x = torch.ones(32, 3, 16, 16)
    out, _ = Augmenter({"cutout": 6}, "image", 2, seed=4)(x, torch.zeros(32, dtype=torch.long),
                                                         fill=torch.full((3, 16, 16), -2.0))
    blanked = (out == -2.0).all(1).sum((1, 2))
    assert (blanked >= 9).all() and (blanked <= 36).all(), "between a corner quarter and the full 6×6 square"
    assert ((out == 1.0) | (out == -2.0)).all()


def test_noise_has_the_requested_spread():
    x, y = images(64)
    out, _ = Augmenter({"noise": 0.3}, "image", 4, seed=5)(x, y)
    assert float((out - x).std()) == pytest.approx(0.3, rel=0.05)


def test_colour_jitter_draws_a_change_per_image():
    x = torch.rand(16, 3, 8, 8)
    out, _ = Augmenter({"color_jitter": 0.4}, "image", 2, seed=6)(x, torch.zeros(16, dtype=torch.long))
    change = (out / x).mean((1, 2, 3))
    assert change.std() > 0.02, "each image gets its own brightness, contrast and saturation"


def test_mixup_blends_samples_and_labels_with_the_same_weights():
    n = 12
    x = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 4, 4).contiguous()
    y = torch.arange(n)   # every sample its own class: the soft target says which samples were blended
    out, targets = Augmenter({"mixup": 0.5}, "image", n, seed=7)(x, y)
    assert targets.shape == (n, n) and (targets >= 0).all() and torch.allclose(targets.sum(1), torch.ones(n))
    assert torch.allclose(out[:, 0, 0, 0], targets @ torch.arange(n, dtype=torch.float32), atol=1e-5)
    assert (targets.max(1).values < 1).any()


def test_mixup_of_regression_targets_is_the_same_blend():
    x = torch.arange(10, dtype=torch.float32).view(10, 1)
    out, targets = Augmenter({"mixup": 1.0}, "vector", 1, seed=8)(x, x[:, 0] * 2)
    assert targets.shape == (10,) and torch.allclose(targets, out[:, 0] * 2, atol=1e-5)


def test_same_seed_and_epoch_repeat_and_a_new_epoch_differs():
    x, y = images()
    first = Augmenter(ALL_ON, "image", 4, seed=9)
    second = Augmenter(ALL_ON, "image", 4, seed=9)
    a, ta = first(x, y)
    b, tb = second(x, y)
    assert torch.equal(a, b) and torch.equal(ta, tb)
    second.set_epoch(1)
    c, _ = second(x, y)
    assert not torch.equal(a, c)


def test_preview_returns_augmented_images_in_the_input_layout():
    samples = (np.random.default_rng(0).random((4, 28, 28)) * 255).astype(np.uint8)
    same = preview({}, samples)
    assert same.shape == (4, 28, 28) and same.dtype == np.float32
    assert np.allclose(same, samples / 255, atol=1e-5), "nothing on: the images come back unchanged"
    turned = preview({"rotation": 90.0, "cutout": 8}, samples / 255.0, seed=1)
    assert turned.shape == (4, 28, 28) and 0 <= turned.min() and turned.max() <= 1
    assert not np.allclose(turned, same)
    colour = preview({"color_jitter": 0.5}, np.random.default_rng(1).random((3, 3, 16, 16)), seed=2)
    assert colour.shape == (3, 3, 16, 16)

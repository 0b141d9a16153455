"""Data loading: real Fashion-MNIST, the other formats from tiny files, and every error naming its file."""
from __future__ import annotations

import gzip
import math
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from netbuilder.train import data as data_module
from netbuilder.train.data import (DataError, describe_search_paths, find_dataset_root, load_data,
                                   preview_samples)
from netbuilder.train.datasets import read_idx
from netbuilder.train.toy import SPIRAL_TURNS, make_toy

FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(not (FASHION / "train-images-idx3-ubyte.gz").exists(),
                                   reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
FASHION_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


# --------------------------------------------------------------------------- helpers
def idx_bytes(array: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.tobytes()


def write_idx_dataset(folder, n_train=30, n_test=10, gz=True, size=28):
    """A tiny MNIST-like dataset whose image i has every pixel equal to i (mod 256)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = (np.arange(n, dtype=np.uint8)[:, None, None] * np.ones((1, size, size), np.uint8))
        labels = rng.integers(0, 10, n).astype(np.uint8)
        for stem, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
            payload = idx_bytes(array)
            if gz:
                (folder / f"{stem}.gz").write_bytes(gzip.compress(payload))
            else:
                (folder / stem).write_bytes(payload)
    return folder


def write_cifar(folder, per_batch=8):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for name in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"):
        batch = {"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 "labels": rng.integers(0, 10, per_batch).tolist(), "batch_label": name}
        (folder / name).write_bytes(pickle.dumps(batch))
    return folder


def link_fashion(folder):
    folder.mkdir(parents=True, exist_ok=True)
    for name in FASHION_FILES:
        (folder / name).symlink_to(FASHION / name)
    return folder


def fails_naming(fragment, call, *args, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        call(*args, **kwargs)
    assert fragment in str(info.value), str(info.value)
    return str(info.value)


# --------------------------------------------------------------------------- Fashion-MNIST
@needs_fashion
def test_fashion_mnist_is_held_as_uint8_with_official_test_split(fashion_bundle):
    b = fashion_bundle
    assert (len(b.train), len(b.val), len(b.test)) == (54_000, 6_000, 10_000)
    assert b.train.x.dtype == torch.uint8 and b.train.x.shape == (54_000, 1, 28, 28)
    assert b.train.x.nbytes == 54_000 * 784, "one byte per pixel, nothing more"
    assert b.train.y.dtype == torch.int64 and set(b.train.y.unique().tolist()) == set(range(10))
    assert b.classes[0] == "T-shirt/top" and b.classes[9] == "Ankle boot" and len(b.classes) == 10
    assert b.input_shape == (1, 28, 28) and b.task == "classification"
    assert str(FASHION) in b.source and "Fashion-MNIST" in b.source


@needs_fashion
def test_statistics_come_from_the_training_split_only(fashion_bundle):
    b = fashion_bundle
    def total(x):
        return int(x.sum(dtype=torch.int64))

    train_mean = total(b.train.x) / b.train.x.numel() / 255
    everything = sum(total(s.x) for s in (b.train, b.val, b.test)) / (70_000 * 784) / 255
    assert abs(train_mean - everything) > 1e-4, "the splits differ enough for the check to mean something"
    x = b.normalizer(b.train.x[:20_000])
    assert x.dtype == torch.float32 and x.shape == (20_000, 1, 28, 28)
    offset = float(b.normalizer.offset.flatten()[0]) / 255
    assert offset == pytest.approx(train_mean, abs=1e-6)
    assert float(x.std()) == pytest.approx(1.0, abs=0.02)


@needs_fashion
def test_limit_and_validation_split_are_seeded(offline):
    settings = {"dataset": "fashion-mnist", "root": str(FASHION), "limit": 300, "validation_fraction": 0.1}
    a = load_data(settings, "image", (1, 28, 28))
    b = load_data(settings, "image", (1, 28, 28))
    assert len(a.train) == 300 and len(a.val) == len(a.test) == data_module.MIN_EVALUATION_SAMPLES
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.val.y, b.val.y) and torch.equal(a.test.x, b.test.x)
    c = load_data({**settings, "split_seed": 1}, "image", (1, 28, 28))
    assert not torch.equal(a.val.x, c.val.x)


@needs_fashion
def test_a_limit_shrinks_validation_and_test_in_proportion(offline):
    whole = load_data({"dataset": "fashion-mnist", "root": str(FASHION)}, "image", (1, 28, 28))
    assert (len(whole.train), len(whole.val), len(whole.test)) == (54_000, 6_000, 10_000), "no limit: all of them"
    limited = load_data({"dataset": "fashion-mnist", "root": str(FASHION), "limit": 13_500}, "image", (1, 28, 28))
    # A quarter of the training split keeps a quarter of each evaluation split.
    assert (len(limited.train), len(limited.val), len(limited.test)) == (13_500, 1_500, 2_500)
    assert set(limited.test.y.tolist()) == set(range(10)), "a seeded sample of the test split, every class in it"
    test_images = {image.numpy().tobytes() for image in whole.test.x}
    assert all(image.numpy().tobytes() in test_images for image in limited.test.x[:100])
    above = load_data({"dataset": "fashion-mnist", "root": str(FASHION), "limit": 60_000}, "image", (1, 28, 28))
    assert (len(above.val), len(above.test)) == (6_000, 10_000), "a limit above the training split changes nothing"


def test_evaluation_share_rule():
    share = data_module.evaluation_share
    assert share(6_000, None, 54_000) == 6_000
    assert share(6_000, 54_000, 54_000) == 6_000 and share(6_000, 10**6, 54_000) == 6_000
    assert share(6_000, 27_000, 54_000) == 3_000
    assert share(6_000, 2_000, 54_000) == data_module.MIN_EVALUATION_SAMPLES, "never below the floor"
    assert share(120, 10, 1_000) == 120, "nor above what there is"


def test_split_positions_partition_the_training_set():
    train, val = data_module._split_indices(1000, 0.2, None, seed=3)
    assert len(train) == 800 and len(val) == 200
    assert sorted(torch.cat([train, val]).tolist()) == list(range(1000))
    small, val_small = data_module._split_indices(1000, 0.2, 50, seed=3)
    assert set(small.tolist()) <= set(train.tolist()) and len(small) == 50
    assert torch.equal(val_small, val), "200 validation samples are under the floor: all are kept"
    big = data_module._split_indices(100_000, 0.1, 9_000, seed=3)
    bigger = data_module._split_indices(100_000, 0.1, 18_000, seed=3)
    assert (len(big[1]), len(bigger[1])) == (1_000, 2_000)
    assert torch.equal(bigger[1][:1_000], big[1]), "a smaller limit validates on a subset of a larger one's samples"


@needs_fashion
@pytest.mark.parametrize("kind,shape,stored,seen", [
    ("vector", (784,), (1, 28, 28), (784,)),
    ("sequence", (28, 28), (1, 28, 28), (28, 28)),
    ("image", (3, 32, 32), (3, 32, 32), (3, 32, 32)),
    ("image", (3, 28, 28), (3, 28, 28), (3, 28, 28)),
    ("vector", (256,), (1, 16, 16), (256,)),
])
def test_images_adapt_to_the_input_node_once(kind, shape, stored, seen):
    b = load_data({"dataset": "fashion-mnist", "root": str(FASHION), "limit": 64, "validation_fraction": 0.0},
                  kind, shape)
    assert b.train.x.shape[1:] == stored and b.train.x.dtype == torch.uint8
    assert b.test.x.shape[1:] == stored
    assert b.normalizer(b.train.x[:5]).shape == (5, *seen)
    if kind == "vector" and shape == (784,):
        image = load_data({"dataset": "fashion-mnist", "root": str(FASHION), "limit": 64, "validation_fraction": 0.0},
                          "image", (1, 28, 28))
        assert torch.equal(b.normalizer(b.train.x[:5]), image.normalizer(image.train.x[:5]).flatten(1))
    if stored[0] == 3:
        grey = b.train.x[:, 0]
        assert torch.equal(grey, b.train.x[:, 1]) and torch.equal(grey, b.train.x[:, 2])


def test_vector_that_cannot_hold_the_images_is_explained(offline):
    folder = write_idx_dataset(offline / "mnist")
    fails_naming("784", load_data, {"dataset": "mnist", "root": str(folder)}, "vector", (500,))
    fails_naming("tokens", load_data, {"dataset": "mnist", "root": str(folder)}, "tokens", (28,))


# --------------------------------------------------------------------------- where datasets are found
def test_search_order_is_project_env_user_then_system(offline, monkeypatch):
    monkeypatch.setenv("NETBUILDER_DATA", str(offline / "env"))
    paths = describe_search_paths("kmnist", project_dir=offline / "project")
    assert paths == [offline / "project" / "data" / "kmnist", offline / "project" / "data",
                     offline / "env" / "kmnist", offline / "env",
                     offline / "user-data" / "netbuilder" / "datasets" / "kmnist",
                     offline / "user-data" / "netbuilder" / "datasets",
                     offline / "system-datasets" / "kmnist"]


def test_project_folder_wins_over_later_places(offline, monkeypatch):
    write_idx_dataset(offline / "system-datasets" / "mnist")
    assert find_dataset_root("mnist") == offline / "system-datasets" / "mnist"
    monkeypatch.setenv("NETBUILDER_DATA", str(offline / "env"))
    write_idx_dataset(offline / "env" / "MNIST" / "raw")   # torchvision's layout below a general folder
    assert find_dataset_root("mnist") == offline / "env" / "MNIST" / "raw"
    write_idx_dataset(offline / "project" / "data" / "mnist", gz=False)
    assert find_dataset_root("mnist", project_dir=offline / "project") == offline / "project" / "data" / "mnist"


def test_general_folder_with_loose_files_is_not_taken_for_a_dataset(offline, monkeypatch):
    """MNIST and Fashion-MNIST share file names: loose files only count in a folder named after the dataset."""
    monkeypatch.setenv("NETBUILDER_DATA", str(offline / "env"))
    write_idx_dataset(offline / "env")
    fails_naming("not found", find_dataset_root, "fashion-mnist")


@needs_fashion
def test_debian_and_torchvision_layouts_load(offline):
    link_fashion(offline / "tv" / "FashionMNIST" / "raw")
    b = load_data({"dataset": "fashion-mnist", "root": str(offline / "tv"), "limit": 10}, "image", (1, 28, 28))
    assert "FashionMNIST/raw" in b.source
    assert len(b.test) == data_module.MIN_EVALUATION_SAMPLES, "all 10,000 read, a limited run keeps its share"
    relative = load_data({"dataset": "fashion-mnist", "root": "tv", "limit": 10}, "image", (1, 28, 28),
                         project_dir=offline)
    assert torch.equal(relative.train.x, b.train.x)


def test_missing_dataset_lists_every_place_and_says_where_to_put_it(offline):
    message = fails_naming("KMNIST was not found", load_data, {"dataset": "kmnist"}, "image", (1, 28, 28),
                           project_dir=offline / "project")
    for place in describe_search_paths("kmnist", offline / "project"):
        assert str(place) in message
    assert f"into {offline / 'project' / 'data' / 'kmnist'}" in message
    assert "train-images-idx3-ubyte.gz" in message and "--data-root" in message
    assert "Downloading it failed" in message


def test_missing_root_is_named(offline):
    fails_naming(str(offline / "nowhere"), load_data, {"dataset": "mnist", "root": str(offline / "nowhere")},
                 "image", (1, 28, 28))
    (offline / "empty").mkdir()
    fails_naming(f"{offline / 'empty'} does not hold MNIST", find_dataset_root, "mnist", str(offline / "empty"))


def test_a_folder_of_another_dataset_is_not_taken_for_this_one(offline):
    folder = write_idx_dataset(offline / "FashionMNIST" / "raw")
    fails_naming("looks like Fashion-MNIST", load_data, {"dataset": "mnist", "root": str(folder)}, "image", (1, 28, 28))
    assert find_dataset_root("fashion-mnist", str(offline)) == folder
    fails_naming("does not hold MNIST", find_dataset_root, "mnist", str(offline))


# --------------------------------------------------------------------------- IDX files
def test_plain_and_gzipped_idx_give_the_same_arrays(offline):
    plain = write_idx_dataset(offline / "plain", gz=False)
    zipped = write_idx_dataset(offline / "zipped", gz=True)
    a = read_idx(plain / "train-images-idx3-ubyte")
    b = read_idx(zipped / "train-images-idx3-ubyte.gz")
    assert a.dtype == np.uint8 and a.shape == (30, 28, 28) and np.array_equal(a, b)
    assert read_idx(zipped / "train-images-idx3-ubyte.gz", max_items=4).shape == (4, 28, 28)


def test_folder_lacking_a_file_names_the_file(offline):
    folder = write_idx_dataset(offline / "mnist")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    message = fails_naming("t10k-labels-idx1-ubyte", load_data, {"dataset": "mnist", "root": str(folder)},
                           "image", (1, 28, 28))
    assert str(folder) in message


@pytest.mark.parametrize("damage,fragment", [
    (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "cannot be read"),     # cut-off gzip
    (lambda p: p.write_bytes(gzip.compress(gzip.decompress(p.read_bytes())[:500])), "truncated"),
    (lambda p: p.write_bytes(gzip.compress(b"<html>not found</html>")), "not an IDX file"),
    (lambda p: p.write_bytes(b"not gzip at all"), "cannot be read"),
])
def test_malformed_idx_file_is_named(offline, damage, fragment):
    folder = write_idx_dataset(offline / "mnist")
    bad = folder / "train-images-idx3-ubyte.gz"
    damage(bad)
    message = fails_naming(fragment, load_data, {"dataset": "mnist", "root": str(folder)}, "image", (1, 28, 28))
    assert str(bad) in message


def test_labels_that_do_not_match_the_images_are_named(offline):
    folder = write_idx_dataset(offline / "mnist")
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(7, np.uint8))))
    fails_naming("train-labels-idx1-ubyte.gz holds 7 labels", load_data, {"dataset": "mnist", "root": str(folder)},
                 "image", (1, 28, 28))


# --------------------------------------------------------------------------- CIFAR-10
def test_cifar_batches_load_as_uint8_colour_images(offline):
    write_cifar(offline / "data" / "cifar-10-batches-py")
    b = load_data({"dataset": "cifar10", "validation_fraction": 0.25}, "image", (3, 32, 32), project_dir=offline)
    assert b.train.x.dtype == torch.uint8 and b.train.x.shape == (30, 3, 32, 32) and len(b.val) == 10
    assert len(b.test) == 8 and b.classes[0] == "airplane"
    assert b.train.x[0].numel() * 50_000 < 200e6, "the full training set fits in under 200 MB"
    grey = load_data({"dataset": "cifar10", "validation_fraction": 0.0}, "image", (1, 32, 32), project_dir=offline)
    assert grey.train.x.shape == (40, 1, 32, 32) and grey.train.x.dtype == torch.uint8


def test_cifar_batch_that_would_run_code_is_refused_and_named(offline):
    folder = write_cifar(offline / "cifar")

    class Exploit:
        def __reduce__(self):
            return (shutil.rmtree, (str(offline / "victim"),))

    (offline / "victim").mkdir()
    (folder / "data_batch_3").write_bytes(pickle.dumps({"data": Exploit()}))
    fails_naming(str(folder / "data_batch_3"), load_data, {"dataset": "cifar10", "root": str(folder)},
                 "image", (3, 32, 32))
    assert (offline / "victim").exists()


def test_cifar_batch_with_wrong_content_is_named(offline):
    folder = write_cifar(offline / "cifar")
    (folder / "test_batch").write_bytes(pickle.dumps({"data": np.zeros((4, 10), np.uint8), "labels": [0] * 4}))
    fails_naming(str(folder / "test_batch"), load_data, {"dataset": "cifar10", "root": str(folder)},
                 "image", (3, 32, 32))


# --------------------------------------------------------------------------- image folders
def write_images(folder, classes=("cat", "dog"), per_class=3, size=(20, 12), mode="RGB"):
    from PIL import Image
    rng = np.random.default_rng(2)
    for cls in classes:
        (folder / cls).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            Image.fromarray(pixels).convert(mode).save(folder / cls / f"{i}.png")
    return folder


def test_image_folder_is_resized_to_the_input_node(offline):
    write_images(offline / "pets")
    (offline / "pets" / "dog" / "notes.txt").write_text("not an image, and not an image suffix: skipped")
    b = load_data({"dataset": "image-folder", "path": "pets", "validation_fraction": 0.0}, "image", (1, 16, 16),
                  project_dir=offline)
    assert b.train.x.shape == (6, 1, 16, 16) and b.train.x.dtype == torch.uint8
    assert b.classes == ["cat", "dog"] and b.test is None
    assert sorted(b.train.y.tolist()) == [0, 0, 0, 1, 1, 1]


def test_image_folder_with_train_and_test_subfolders(offline):
    write_images(offline / "pets" / "train")
    write_images(offline / "pets" / "test", per_class=2, mode="L")
    b = load_data({"dataset": "image-folder", "path": str(offline / "pets"), "validation_fraction": 0.0},
                  "image", (3, 8, 8))
    assert len(b.train) == 6 and len(b.test) == 4 and b.test.x.shape == (4, 3, 8, 8)


@pytest.mark.parametrize("breakage,fragment", [
    (lambda root: (root / "cat" / "2.png").write_bytes(b"\x89PNG broken"), "2.png"),
    (lambda root: (root / "bird").mkdir(), "bird"),
    (lambda root: [shutil.rmtree(root / c) for c in ("cat", "dog")], "no class subfolders"),
])
def test_malformed_image_folder_is_named(offline, breakage, fragment):
    root = write_images(offline / "pets")
    breakage(root)
    message = fails_naming(fragment, load_data, {"dataset": "image-folder", "path": str(root)}, "image", (3, 8, 8))
    assert str(root) in message


def test_missing_image_folder_is_named(offline):
    fails_naming(str(offline / "absent"), load_data, {"dataset": "image-folder", "path": str(offline / "absent")},
                 "image", (3, 8, 8))
    fails_naming("File or folder", load_data, {"dataset": "image-folder"}, "image", (3, 8, 8))


# --------------------------------------------------------------------------- CSV and NPZ
def test_csv_with_text_labels(offline):
    path = offline / "iris.csv"
    path.write_text("a,b,species,c\n1,2,setosa,3\n4,5,virginica,6\n7,8,setosa,9\n1.5,2.5,versicolor,-1\n")
    b = load_data({"dataset": "csv", "path": str(path), "label_column": "species", "validation_fraction": 0.0},
                  "vector", (3,))
    assert b.classes == ["setosa", "versicolor", "virginica"] and b.task == "classification"
    assert b.train.x.dtype == torch.float32 and b.train.x.shape == (4, 3) and b.test is None
    row = (b.train.y == 1).nonzero()[0, 0]
    assert b.train.x[row].tolist() == [1.5, 2.5, -1.0]


def test_csv_with_fractional_targets_is_regression(offline):
    path = offline / "houses.csv"
    path.write_text("rooms;area;price\n3;70;1.5\n4;90;2.25\n2;40;0.75\n")
    b = load_data({"dataset": "csv", "path": str(path), "label_column": "price", "validation_fraction": 0.0,
                   "preprocessing": "none"}, "vector", (2,))
    assert b.task == "regression" and b.classes == [] and b.train.y.dtype == torch.float32


@pytest.mark.parametrize("text,fragment", [
    ("a,b,label\n1,2,0\n3,x,1\n", "line 3, column 'b'"),
    ("a,b,label\n1,2,0\n3,4\n", "line 3"),
    ("a,b,target\n1,2,0\n", "no column 'label'"),
    ("", "empty"),
])
def test_malformed_csv_is_named(offline, text, fragment):
    path = offline / "table.csv"
    path.write_text(text)
    message = fails_naming(fragment, load_data, {"dataset": "csv", "path": str(path)}, "vector", (2,))
    assert str(path) in message


def test_npz_with_official_test_split_and_image_arrays(offline):
    path = offline / "digits.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x_train=rng.integers(0, 256, (20, 8, 8), dtype=np.uint8), y_train=np.arange(20) % 3,
             x_test=rng.integers(0, 256, (5, 8, 8), dtype=np.uint8), y_test=np.arange(5) % 3)
    b = load_data({"dataset": "npz", "path": str(path), "validation_fraction": 0.0}, "image", (1, 8, 8))
    assert b.train.x.dtype == torch.uint8 and b.train.x.shape == (20, 1, 8, 8) and len(b.test) == 5
    assert b.classes == ["0", "1", "2"]
    flat = load_data({"dataset": "npz", "path": str(path)}, "vector", (64,))
    assert flat.normalizer(flat.train.x[:2]).shape == (2, 64)


def test_npz_token_ids_stay_whole_numbers(offline):
    path = offline / "tokens.npz"
    np.savez(path, x=np.random.default_rng(0).integers(0, 1000, (12, 6)), y=np.arange(12) % 2)
    b = load_data({"dataset": "npz", "path": str(path)}, "tokens", (6,))
    assert not b.train.x.is_floating_point() and b.train.x.element_size() == 2
    assert b.normalizer(b.train.x[:3]).dtype == torch.int64


@pytest.mark.parametrize("arrays,fragment", [
    ({"inputs": np.zeros((3, 2)), "targets": np.zeros(3)}, "inputs, targets"),
    ({"x": np.zeros((3, 2)), "y": np.zeros(4)}, "one row per sample"),
    ({"x_train": np.zeros((3, 2)), "y_train": np.zeros(3), "x_test": np.zeros((2, 2))}, "without y_test"),
])
def test_malformed_npz_is_named(offline, arrays, fragment):
    path = offline / "bad.npz"
    np.savez(path, **arrays)
    message = fails_naming(fragment, load_data, {"dataset": "npz", "path": str(path)}, "vector", (2,))
    assert str(path) in message


def test_npz_that_does_not_fit_the_input_is_explained(offline):
    path = offline / "wide.npz"
    np.savez(path, x=np.zeros((4, 10), np.float32), y=np.arange(4) % 2)
    fails_naming("(10,)", load_data, {"dataset": "npz", "path": str(path)}, "vector", (3,))


# --------------------------------------------------------------------------- toy-2d
@pytest.mark.parametrize("generator", ["spiral", "xor", "circles", "gaussians", "moons"])
def test_toy_generators_are_seeded_balanced_and_in_the_unit_square(generator):
    x, y = make_toy(generator, 401, 0.0, seed=4)
    assert x.dtype == torch.float32 and x.shape == (401, 2) and y.dtype == torch.int64
    assert set(y.tolist()) == {0, 1} and abs(int(y.sum()) - 200) <= 1
    assert float(x.abs().max()) <= 1.6
    again, _ = make_toy(generator, 401, 0.0, seed=4)
    other, _ = make_toy(generator, 401, 0.0, seed=5)
    assert torch.equal(x, again) and not torch.equal(x, other)
    noisy, _ = make_toy(generator, 401, 0.2, seed=4)
    assert float((noisy - x).std()) == pytest.approx(0.2, rel=0.15), "noise is a std in the points' own units"


def test_spiral_arms_turn_at_least_one_and_a_half_times():
    x, y = make_toy("spiral", 2000, 0.0, seed=0)
    arm = x[y == 0].double()
    order = arm.norm(dim=1).argsort()
    angles = np.unwrap(torch.atan2(arm[order, 1], arm[order, 0]).numpy())
    assert SPIRAL_TURNS >= 1.5 and abs(angles[-1] - angles[0]) >= 1.45 * 2 * math.pi


def test_toy_bundle_has_a_test_set_from_the_next_seed():
    settings = {"dataset": "toy-2d", "toy_generator": "moons", "toy_points": 200, "toy_seed": 7,
                "validation_fraction": 0.25}
    b = load_data(settings, "vector", (2,))
    assert (len(b.train), len(b.val), len(b.test)) == (150, 50, 200)
    assert torch.equal(b.test.x, make_toy("moons", 200, 0.1, seed=8)[0])
    fails_naming("(2,)", load_data, settings, "vector", (3,))


# --------------------------------------------------------------------------- preprocessing
def correlated_npz(path, n=600, features=6):
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(features, features))
    x = (rng.normal(size=(n, features)) @ mixing + 5).astype(np.float32)
    np.savez(path, x=x, y=np.arange(n) % 2)
    return path


@pytest.mark.parametrize("mode", ["standardize", "zero-center", "minmax", "pca-whiten", "none"])
def test_preprocessing_modes_on_the_training_split(offline, mode):
    path = correlated_npz(offline / "table.npz")
    b = load_data({"dataset": "npz", "path": str(path), "preprocessing": mode}, "vector", (6,))
    raw = b.train.x
    x = b.normalizer(raw).double()
    if mode == "standardize":
        assert torch.allclose(x.mean(0), torch.zeros(6, dtype=torch.double), atol=1e-4)
        assert torch.allclose(x.std(0), torch.ones(6, dtype=torch.double), atol=1e-3)
    elif mode == "zero-center":
        assert torch.allclose(x.mean(0), torch.zeros(6, dtype=torch.double), atol=1e-4)
        assert torch.allclose(x.std(0), raw.double().std(0), atol=1e-3)
    elif mode == "minmax":
        assert torch.allclose(x.min(0).values, torch.zeros(6, dtype=torch.double), atol=1e-5)
        assert torch.allclose(x.max(0).values, torch.ones(6, dtype=torch.double), atol=1e-5)
    elif mode == "pca-whiten":
        covariance = torch.cov(x.T)
        off_diagonal = covariance - torch.diag(covariance.diag())
        assert off_diagonal.abs().max() < 0.02 and covariance.diag().min() > 0.8
    else:
        assert torch.equal(x, raw.double())


def test_uint8_images_become_unit_range_without_preprocessing(offline):
    folder = write_idx_dataset(offline / "mnist", n_train=300)
    b = load_data({"dataset": "mnist", "root": str(folder), "preprocessing": "none"}, "image", (1, 28, 28))
    x = b.normalizer(b.train.x)
    assert float(x.min()) >= 0 and float(x.max()) <= 1 and x.dtype == torch.float32
    assert float(b.normalizer.fill.max()) == 0.0, "a black pixel stays 0"


def test_pca_whitening_refuses_large_inputs(offline):
    folder = write_cifar(offline / "cifar")
    fails_naming("4096", load_data, {"dataset": "cifar10", "root": str(folder), "preprocessing": "pca-whiten"},
                 "image", (3, 64, 64))


# --------------------------------------------------------------------------- progress and previews
def test_progress_is_reported_with_growing_fractions(offline):
    folder = write_idx_dataset(offline / "mnist")
    seen = []
    load_data({"dataset": "mnist", "root": str(folder)}, "image", (1, 28, 28),
              progress=lambda message, fraction: seen.append((message, fraction)))
    fractions = [f for _, f in seen if f is not None]
    assert any("train-images-idx3-ubyte.gz" in m for m, _ in seen)
    assert fractions == sorted(fractions) and 0 <= fractions[0] and fractions[-1] == 1.0
    assert "Loaded" in seen[-1][0]


def test_preview_samples_reads_only_a_few_images(offline):
    folder = write_idx_dataset(offline / "mnist")
    images = preview_samples({"dataset": "mnist", "root": str(folder)}, count=4)
    assert images.shape == (4, 1, 28, 28) and images.dtype == np.float32
    assert images[3].max() == pytest.approx(3 / 255)
    write_images(offline / "pets")
    pets = preview_samples({"dataset": "image-folder", "path": "pets"}, count=2, project_dir=offline)
    assert pets.shape[:2] == (2, 3) and 0 <= pets.min() and pets.max() <= 1
    fails_naming("no images", preview_samples, {"dataset": "toy-2d"})

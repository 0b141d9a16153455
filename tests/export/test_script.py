"""The `script` export: a standalone train.py that reproduces the project's data, preprocessing,
initialization, optimizer, schedule and regularization, and trains plainly and under torchrun
with DistributedDataParallel, without NetBuilder."""
from __future__ import annotations

import ast
import csv
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from netbuilder.compile.build import build_module
from netbuilder.core import templates
from netbuilder.core.graph import Graph
from netbuilder.core.project import Project
from netbuilder.core.settings import INIT_SCHEMES, OPTIMIZERS, SCHEDULES, default_optimizer, default_schedule
from netbuilder.core.shapes import analyze
from netbuilder.export import ExportError, export_model
from netbuilder.export.python_code import import_file

from export_helpers import FASHION, image_zoo, sequence_zoo

STDLIB_AND_TORCH = {"argparse", "csv", "gzip", "json", "math", "os", "random", "sys", "time", "pathlib", "numpy",
                    "torch"}


def export_script(project, folder: Path):
    report = export_model(project, "script", folder / "train.py")
    assert report.verified and report.paths == [folder / "train.py"]
    return import_file(folder / "train.py"), report


def args(**values):
    base = dict(limit=None, data_root=None, data_path=None, download=False)
    base.update(values)
    return types.SimpleNamespace(**base)


def nb_data(project, limit=None):
    from netbuilder.train.data import load_data
    node = project.graph.input_nodes()[0]
    shape = analyze(project.graph).nodes[node.id].output_shape
    settings = dict(project.settings["data"], limit=limit)
    return load_data(settings, node.params["kind"], shape)


def assert_same_data(script, project, script_args, limit=None):
    splits, normalizer, _ = script.load_data(script_args)
    bundle = nb_data(project, limit)
    for name in ("train", "val", "test"):
        ours = getattr(bundle, name)
        if ours is None:
            assert name not in splits
            continue
        x, y = splits[name]
        assert torch.equal(x, ours.x) and torch.equal(y, ours.y), name
        got, expected = normalizer(x[:300]), bundle.normalizer(ours.x[:300])
        assert got.shape == expected.shape and float((got - expected).abs().max()) <= 1e-5, name


# --------------------------------------------------------------------------- the file itself
def test_script_is_standalone_readable_and_inert_on_import(tmp_path):
    project = templates.build("cnn")
    script, report = export_script(project, tmp_path)
    text = (tmp_path / "train.py").read_text()
    tree = ast.parse(text)
    top_imports = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top_imports |= {node.module.split(".")[0] for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert top_imports <= STDLIB_AND_TORCH
    for needle in ("class CNN(nn.Module):", "def build_optimizer(net):", "torch.optim.Adam(", "EpochSampler(",
                   "DistributedDataParallel(net", 'dist.init_process_group(backend="nccl" if device.type == "cuda" '
                   'else "gloo")', "if __name__ == \"__main__\":"):
        assert needle in text, needle
    assert script.EPOCHS == 10 and script.BATCH_SIZE == 64 and script.DATASET == "fashion-mnist"
    assert any("initial weights and learning-rate schedule match" in m for m in report.messages)


def test_unsupported_data_is_refused_before_anything_is_written(tmp_path):
    project = templates.build("mlp")
    project.settings["data"]["dataset"] = "image-folder"
    with pytest.raises(ExportError, match="no file or folder"):
        export_model(project, "script", tmp_path / "train.py")
    g = Graph()
    a = g.add_node("Input", "input", {"kind": "vector", "features": 101})
    b = g.add_node("Linear", "fc", {"out_features": 10})
    c = g.add_node("Output", "output", {})
    g.connect(a.id, b.id)
    g.connect(b.id, c.id)
    with pytest.raises(ExportError, match="the data do not fit the network"):
        export_model(Project(name="Odd", graph=g), "script", tmp_path / "train.py")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- data, as NetBuilder reads it
@pytest.mark.parametrize("template,preprocessing", [("lenet5", "standardize"), ("rnn", "minmax")])
def test_fashion_mnist_data_match_netbuilder(tmp_path, template, preprocessing):
    project = templates.build(template)
    project.settings["data"].update(root=str(FASHION), preprocessing=preprocessing)
    script, _ = export_script(project, tmp_path)
    assert_same_data(script, project, args(limit=2000), limit=2000)


def test_toy_csv_and_npz_data_match_netbuilder(tmp_path):
    project = templates.build("playground")
    script, _ = export_script(project, tmp_path)
    assert_same_data(script, project, args())

    rng = np.random.default_rng(0)
    table = tmp_path / "table.csv"
    with open(table, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "c", "d", "kind"])
        for i in range(300):
            writer.writerow([*np.round(rng.normal(size=4) * [1, 10, 100, 0.1], 4), ["cat", "dog", "eel"][i % 3]])
    g = Graph()
    nodes = [g.add_node("Input", "input", {"kind": "vector", "features": 4}),
             g.add_node("Linear", "fc", {"out_features": 3}), g.add_node("Output", "output", {})]
    for x, y in zip(nodes, nodes[1:]):
        g.connect(x.id, y.id)
    tabular = Project(name="Table", graph=g)
    tabular.settings["data"].update(dataset="csv", path=str(table), label_column="kind", preprocessing="zero-center")
    (tmp_path / "csv").mkdir()
    script, _ = export_script(tabular, tmp_path / "csv")
    assert_same_data(script, tabular, args())

    archive = tmp_path / "digits.npz"
    np.savez(archive, x_train=rng.integers(0, 256, (400, 8, 8), dtype=np.uint8), y_train=rng.integers(0, 4, 400),
             x_test=rng.integers(0, 256, (50, 8, 8), dtype=np.uint8), y_test=rng.integers(0, 4, 50))
    g = Graph()
    nodes = [g.add_node("Input", "input", {"kind": "image", "channels": 1, "height": 8, "width": 8}),
             g.add_node("Flatten", "flatten", {}), g.add_node("Linear", "fc", {"out_features": 4}),
             g.add_node("Output", "output", {})]
    for x, y in zip(nodes, nodes[1:]):
        g.connect(x.id, y.id)
    images = Project(name="Digits", graph=g)
    images.settings["data"].update(dataset="npz", path=str(archive), preprocessing="pca-whiten",
                                   validation_fraction=0.2, split_seed=3)
    (tmp_path / "npz").mkdir()
    script, _ = export_script(images, tmp_path / "npz")
    assert_same_data(script, images, args(limit=250), limit=250)


def test_augmentation_matches_netbuilder(tmp_path):
    from netbuilder.train.augment import Augmenter
    project = templates.build("cnn")
    aug = dict(hflip=True, vflip=True, rotation=15.0, shift=0.1, scale=0.2, noise=0.1, color_jitter=0.3, cutout=6,
               mixup=0.4)
    project.settings["data"]["augmentation"].update(aug)
    script, _ = export_script(project, tmp_path)
    x = torch.randn(16, 1, 28, 28)
    y = torch.arange(16) % 10
    fill = torch.full((1, 28, 28), -0.8)
    theirs = Augmenter(aug, "image", 10, seed=4)
    ours = script.Augmenter(4)
    for epoch in (0, 3):
        theirs.set_epoch(epoch)
        ours.set_epoch(epoch)
        (x1, y1), (x2, y2) = theirs(x, y, fill=fill), ours(x, y, fill)
        assert torch.allclose(x1, x2, atol=1e-6) and torch.allclose(y1, y2)


# --------------------------------------------------------------------------- the training recipe
# Three projects that together put every scheme on convolutions, dense layers and recurrent gates:
# the global scheme plus per-node overrides.
INIT_CASES = [
    ("image", "xavier-uniform", {"conv1": "zeros", "conv2": "constant", "deconv": "normal", "fc1": "uniform",
                                 "maxout": "kaiming-normal", "scores": "lecun-normal"}),
    ("image", "kaiming-uniform", {"conv1": "orthogonal", "conv2": "xavier-normal", "deconv": "default"}),
    ("sequence", "orthogonal", {"gru": "kaiming-normal", "rnn": "xavier-uniform", "fc": "default"}),
]


@pytest.mark.parametrize("zoo,scheme,overrides", INIT_CASES)
def test_initialization_matches_netbuilder(tmp_path, zoo, scheme, overrides):
    from netbuilder.train.engine import seed_everything
    from netbuilder.train.init import initialize
    project = image_zoo() if zoo == "image" else sequence_zoo()
    project.settings["initialization"].update(weight=scheme, bias="constant", bias_value=0.1, mode="fan_out",
                                              nonlinearity="leaky_relu")
    for name, node_scheme in overrides.items():
        project.graph.set_overrides(project.graph.node_by_name(name).id,
                                    {"weight": node_scheme, "bias": "zeros", "std": 0.2, "value": 0.3, "gain": 2.0})
    script, _ = export_script(project, tmp_path)
    ours = script.build_model().state_dict()
    seed_everything(project.settings["training"]["seed"])
    model = build_module(project.graph)
    initialize(model, project.settings["initialization"],
               {n.name: n.init for n in project.graph.nodes.values() if n.init is not None})
    assert all(torch.equal(ours[k], v) for k, v in model.state_dict().items())


def test_every_initialization_scheme_is_covered():
    assert {s for _, scheme, overrides in INIT_CASES for s in (scheme, *overrides.values())} == set(INIT_SCHEMES)


@pytest.mark.parametrize("kind", list(SCHEDULES))
def test_schedule_matches_netbuilder(tmp_path, kind):
    from netbuilder.train.schedules import Scheduler
    project = templates.build("playground")
    project.settings["schedule"] = default_schedule(kind)
    if kind in ("cosine", "one-cycle", "linear"):
        project.settings["schedule"]["interval"] = "batch"
    if kind == "cosine":
        project.settings["schedule"]["warmup"] = 7
    script, _ = export_script(project, tmp_path)
    opt_a = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.3)
    opt_b = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.3)
    theirs = Scheduler(opt_a, project.settings["schedule"], epochs=12, steps_per_epoch=5)
    ours = script.Scheduler(opt_b, 12, 5)
    metric = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
    for epoch in range(12):
        for _ in range(5):
            assert opt_a.param_groups[0]["lr"] == pytest.approx(opt_b.param_groups[0]["lr"], rel=1e-12, abs=1e-15)
            theirs.step_batch()
            ours.step_batch()
        theirs.step_epoch({"val_loss": metric[epoch], "val_accuracy": 1 - metric[epoch]})
        ours.step_epoch({"val_loss": metric[epoch], "val_accuracy": 1 - metric[epoch]})


def small_convnet() -> Project:
    g = Graph()
    nodes = [g.add_node("Input", "input", {"kind": "image", "channels": 1, "height": 8, "width": 8}),
             g.add_node("Conv2d", "conv", {"out_channels": 4, "kernel_size": 3}),
             g.add_node("BatchNorm", "bn", {}), g.add_node("ReLU", "relu", {}), g.add_node("Flatten", "flatten", {}),
             g.add_node("Linear", "fc1", {"out_features": 12}), g.add_node("Tanh", "tanh", {}),
             g.add_node("Linear", "fc2", {"out_features": 10}), g.add_node("Output", "output", {})]
    for a, b in zip(nodes, nodes[1:]):
        g.connect(a.id, b.id)
    return Project(name="Small", graph=g)


@pytest.mark.parametrize("kind", list(OPTIMIZERS))
def test_optimizer_steps_match_netbuilder(tmp_path, kind):
    """The optimizer with its hyperparameters, parameter groups (multipliers, no penalty on biases and
    norm layers), L2 + L1 penalties, decoupled weight decay, clipping and max-norm take NetBuilder's steps."""
    from netbuilder.train.optim import build_optimizer
    from netbuilder.train.regularize import apply_max_norm, clip_gradients, penalty
    project = small_convnet()
    project.settings["optimizer"] = default_optimizer(kind)
    if kind == "sgd":
        project.settings["optimizer"].update(nesterov=True)
    reg = project.settings["regularization"]
    reg.update(l2=1e-3, l1=1e-4, weight_decay=0.05, clip_mode="value", clip_value=0.5, max_norm=2.0)
    project.graph.set_overrides(project.graph.node_by_name("fc1").id, l2_multiplier=3.0)
    script, _ = export_script(project, tmp_path)
    net = script.build_model()
    model = build_module(project.graph)
    model.load_state_dict(net.state_dict())
    ours = script.build_optimizer(net)
    theirs = build_optimizer(model, project.settings["optimizer"], reg, {"fc1": 3.0})
    assert [len(g["params"]) for g in ours.param_groups] == [len(g["params"]) for g in theirs.param_groups]
    penalised = [(g["l2_factor"], g["params"]) for g in script.parameter_groups(net) if g["l2_factor"] > 0]
    x = torch.randn(8, 1, 8, 8)
    y = torch.arange(8)
    for _ in range(3):
        for m, opt, extra in ((net, ours, lambda: script.penalty(penalised)),
                              (model, theirs, lambda: penalty(model, reg, {"fc1": 3.0}))):
            loss = torch.nn.functional.cross_entropy(m(x), y) + extra()
            opt.zero_grad()
            loss.backward()
            if m is net:
                torch.nn.utils.clip_grad_value_(net.parameters(), 0.5)
            else:
                clip_gradients(model, reg)
            opt.step()
            (script.apply_max_norm(net) if m is net else apply_max_norm(model, reg))
    for (name, a), b in zip(net.state_dict().items(), model.state_dict().values()):
        assert torch.allclose(a.float(), b.float(), atol=1e-6, rtol=1e-5), name


# --------------------------------------------------------------------------- training runs
def _run(command, cwd, env, timeout=240):
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-4000:])
    return result


def _metrics(path: Path) -> dict:
    with open(path, newline="") as f:
        return {k: float(v) for k, v in next(csv.DictReader(f)).items() if v}


@pytest.fixture(scope="module")
def exported_run(lenet_run, tmp_path_factory):
    """train.py exported from the engine's run, and the engine's first-epoch metrics."""
    folder, _, history = lenet_run
    out = tmp_path_factory.mktemp("script")
    export_model(Project.load(folder / "project.nbproj"), "script", out / "train.py")
    return out, history[0], folder


def test_plain_run_reproduces_netbuilders_run(exported_run, no_netbuilder_env, tmp_path):
    folder, engine, run_folder = exported_run
    result = _run([sys.executable, str(folder / "train.py"), "--epochs", "1", "--limit", "2000",
                   "--data-root", str(FASHION), "--device", "cpu", "--out", str(tmp_path / "plain")],
                  tmp_path, no_netbuilder_env)
    assert "epoch 1/1" in result.stdout and "test loss" in result.stdout
    ours = _metrics(tmp_path / "plain" / "metrics.csv")
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert ours[key] == pytest.approx(engine[key], abs=2e-4), key
    trained = torch.load(tmp_path / "plain" / "model.pt", weights_only=True)
    reference = torch.load(run_folder / "model.pt", weights_only=True)
    assert max(float((trained[k] - reference[k]).abs().max()) for k in reference) < 1e-3


@pytest.mark.skipif(shutil.which("torchrun", path=str(Path(sys.executable).parent)) is None,
                    reason="torchrun is not installed beside this Python")
def test_torchrun_two_processes_with_ddp(exported_run, no_netbuilder_env, tmp_path):
    folder, engine, _ = exported_run
    torchrun = str(Path(sys.executable).parent / "torchrun")
    result = _run([torchrun, "--nproc_per_node=2", "--standalone", str(folder / "train.py"), "--epochs", "1",
                   "--limit", "2000", "--data-root", str(FASHION), "--device", "cpu", "--out", str(tmp_path / "ddp")],
                  tmp_path, no_netbuilder_env)
    assert "on cpu × 2" in result.stdout
    assert result.stdout.count("epoch 1/1") == 1  # only rank 0 prints
    assert sorted(p.name for p in (tmp_path / "ddp").iterdir()) == ["checkpoint.pt", "metrics.csv", "model.pt",
                                                                    "summary.json"]
    ours = _metrics(tmp_path / "ddp" / "metrics.csv")
    # Two processes with half the batch each and averaged gradients take the same steps as one.
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert ours[key] == pytest.approx(engine[key], abs=2e-3), key


def test_image_folder_and_cifar10_data_match_netbuilder(tmp_path, monkeypatch):
    from PIL import Image
    rng = np.random.default_rng(1)
    root = tmp_path / "pictures"
    for split, count in (("train", 6), ("val", 2), ("test", 2)):
        for label in ("ant", "bee", "cow"):
            folder = root / split / label
            folder.mkdir(parents=True)
            for i in range(count):
                size = (12 + i, 10 + 2 * i)
                Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    g = Graph()
    nodes = [g.add_node("Input", "input", {"kind": "image", "channels": 1, "height": 9, "width": 9}),
             g.add_node("Flatten", "flatten", {}), g.add_node("Linear", "fc", {"out_features": 3}),
             g.add_node("Output", "output", {})]
    for a, b in zip(nodes, nodes[1:]):
        g.connect(a.id, b.id)
    project = Project(name="Pictures", graph=g)
    project.settings["data"].update(dataset="image-folder", path=str(root))
    (tmp_path / "folder").mkdir()
    script, _ = export_script(project, tmp_path / "folder")
    assert_same_data(script, project, args(limit=10), limit=10)

    # A miniature CIFAR-10 in its python-batch layout (torchvision's checksums switched off).
    import pickle

    import torchvision.datasets.cifar as tv_cifar
    batches = tmp_path / "cifar" / "cifar-10-batches-py"
    batches.mkdir(parents=True)
    for name in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"):
        entry = {"data": rng.integers(0, 256, (20, 3072), dtype=np.uint8), "labels": rng.integers(0, 10, 20).tolist()}
        with open(batches / name, "wb") as f:
            pickle.dump(entry, f)
    with open(batches / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [str(i) for i in range(10)]}, f)
    monkeypatch.setattr(tv_cifar, "check_integrity", lambda *a, **k: True)
    monkeypatch.setattr(tv_cifar.CIFAR10, "_check_integrity", lambda self: True)
    project = templates.build("cnn")
    project.graph.set_param(project.graph.node_by_name("input").id, "channels", 3)
    project.settings["data"].update(dataset="cifar10", root=str(tmp_path / "cifar"))
    (tmp_path / "c10").mkdir()
    script, _ = export_script(project, tmp_path / "c10")
    assert_same_data(script, project, args())

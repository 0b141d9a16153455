"""Every format round-trips: the file is read back here with the format's own reader (not the
exporter's), run on a batch, and must reproduce the network's outputs. Formats that cannot
express a layer fail with a message naming the node and leave nothing on disk."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

from netbuilder.cli import main
from netbuilder.compile.build import build_module, example_input
from netbuilder.core import templates
from netbuilder.core.shapes import analyze
from netbuilder.export import FORMATS, RUN_FORMATS, ExportError, default_file_name, export_model
from netbuilder.export import onnx_export, torchscript
from netbuilder.export.common import prepare
from netbuilder.export.verify import TOLERANCE, VerificationError

from export_helpers import ZOO, image_zoo

SMALL_TEMPLATES = ["lenet5", "mlp", "cnn", "rnn", "playground"]
WEIGHT_FORMATS = ["pt", "safetensors", "torchscript", "onnx"]


def trained_like(project, seed=1):
    """A state dict with every parameter and statistic moved off its initial value, so the outputs
    depend on what the file really stores."""
    torch.manual_seed(seed)
    model = build_module(project.graph)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                tensor.add_(0.05 * torch.randn_like(tensor))
                if "running_var" in name:
                    tensor.abs_().add_(0.5)
    return model.eval(), {k: v.clone() for k, v in model.state_dict().items()}


def reloaded_outputs(fmt, path, project, x):
    """The outputs of the exported file on x, read back with the format's own reader."""
    if fmt in ("pt", "safetensors"):
        if fmt == "pt":
            weights = torch.load(path, map_location="cpu", weights_only=True)
        else:
            from safetensors.torch import load_file
            weights = load_file(str(path))
        model = build_module(project.graph).eval()
        model.load_state_dict(weights)
        with torch.no_grad():
            return model(x)
    if fmt == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            module = torch.jit.load(str(path))
        with torch.no_grad():
            return module(x)
    import onnxruntime
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(None, {session.get_inputs()[0].name: x.numpy()})[0])


def project_for(name):
    return ZOO[name[4:]]() if name.startswith("zoo-") else templates.build(name)


@pytest.mark.parametrize("fmt", WEIGHT_FORMATS)
@pytest.mark.parametrize("name", SMALL_TEMPLATES + [f"zoo-{k}" for k in ZOO])
def test_round_trip(tmp_path, name, fmt):
    project = project_for(name)
    model, weights = trained_like(project)
    out = tmp_path / default_file_name(project, fmt)
    report = export_model(project, fmt, out, state_dict=weights)
    assert report.verified and report.paths == [out] and out.is_file()
    assert report.max_abs_diff is not None and report.max_abs_diff <= TOLERANCE
    # A batch size other than the ones the exporter used: the batch dimension is not baked in.
    x = example_input(project.graph, analyze(project.graph), batch=5, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        expected = model(x)
    got = reloaded_outputs(fmt, out, project, x)
    assert got.shape == expected.shape
    assert float((got - expected).abs().max()) <= TOLERANCE
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no staging leftovers
    if name == "zoo-image" and fmt == "onnx":
        # The first exporter cannot express this network's adaptive pooling; the second one can.
        assert any("written by the torch.export-based exporter" in m for m in report.messages)


@pytest.mark.parametrize("name,formats", [
    ("resnet18", WEIGHT_FORMATS),
    ("alexnet", ["onnx"]),
    # VGG-11 has 133M parameters: its state dict is checked here; its TorchScript and ONNX exports
    # (a 531 MB ONNX file, ~10 s on two cores) are exercised by benchmarks/bench_export.py.
    ("vgg11", ["pt"]),
])
def test_imagenet_templates(tmp_path, name, formats):
    # Frugal: a batch of one sample, and the exporter's own check (the format's reader against the
    # network) except for ONNX, which is also re-run here in ONNX Runtime on another sample.
    project = templates.build(name)
    for fmt in formats:
        out = tmp_path / default_file_name(project, fmt)
        report = export_model(project, fmt, out, batch=1)
        assert report.verified and report.max_abs_diff <= TOLERANCE, (fmt, report)
        assert report.batch <= 2 and out.is_file()
        if fmt == "onnx":
            # No weights were given: the file holds the initial weights for the project's seed.
            model = prepare(project).model
            x = example_input(project.graph, analyze(project.graph), batch=1,
                              generator=torch.Generator().manual_seed(3))
            with torch.no_grad():
                expected = model(x)
            assert float((reloaded_outputs(fmt, out, project, x) - expected).abs().max()) <= TOLERANCE
        out.unlink()


def test_formats_table_describes_every_exporter():
    assert set(FORMATS) == {"pt", "safetensors", "torchscript", "onnx", "python", "script"}
    for fmt, (title, suffix, description) in FORMATS.items():
        assert title and suffix.startswith(".") and len(description) > 20
    assert {"metrics-csv", "metrics-json", "plots", "card", "report"} == set(RUN_FORMATS)


def test_export_into_a_folder_uses_the_default_name(tmp_path):
    project = templates.build("lenet5")
    report = export_model(project, "safetensors", tmp_path)
    assert report.path == tmp_path / "lenet-5.safetensors"
    assert "initial weights" in report.messages[0]  # no weights given: said so, not hidden


def test_safetensors_carries_the_project(tmp_path):
    from safetensors import safe_open
    project = templates.build("mlp")
    out = export_model(project, "safetensors", tmp_path / "mlp.safetensors").path
    with safe_open(str(out), "pt") as f:
        meta = f.metadata()
    assert meta["class_name"] == "MLP" and json.loads(meta["netbuilder_project"])["name"] == "MLP"


def test_weights_come_from_a_checkpoint_or_a_state_dict_file(tmp_path):
    project = templates.build("mlp")
    model, weights = trained_like(project, seed=5)
    checkpoint = tmp_path / "last.pt"
    torch.save({"format": "netbuilder-checkpoint", "version": 1, "model": weights,
                "project": json.dumps(project.to_dict())}, checkpoint)
    plain = tmp_path / "model.pt"
    torch.save(weights, plain)
    for source in (checkpoint, plain):
        out = tmp_path / f"from-{source.stem}.pt"
        report = export_model(project, "pt", out, checkpoint=source)
        assert not any("initial weights" in m for m in report.messages)
        exported = torch.load(out, weights_only=True)
        assert all(torch.equal(exported[k], weights[k]) for k in weights)
    with pytest.raises(ExportError, match="would overwrite the weights being exported"):
        export_model(project, "python", tmp_path / "last.py", checkpoint=checkpoint)


def test_weights_that_do_not_fit_are_refused(tmp_path):
    _, weights = trained_like(templates.build("cnn"))
    with pytest.raises(ExportError, match="do not fit this network"):
        export_model(templates.build("mlp"), "onnx", tmp_path / "x.onnx", state_dict=weights)
    assert list(tmp_path.iterdir()) == []


def test_an_invalid_graph_names_its_node(tmp_path):
    project = templates.build("mlp")
    fc2 = project.graph.node_by_name("fc2")
    project.graph.disconnect(project.graph.incoming(fc2.id)[0])
    with pytest.raises(ExportError) as info:
        export_model(project, "pt", tmp_path / "x.pt")
    assert info.value.node_name == "fc2" and "fc2" in str(info.value)


def test_onnx_names_the_layer_it_cannot_express_and_writes_nothing(tmp_path, monkeypatch):
    # The TorchScript-based exporter cannot express this adaptive pooling (the input size is not
    # known statically after the concatenation); alone, it must fail naming the node.
    project = image_zoo()
    monkeypatch.setattr(onnx_export, "EXPORTERS", onnx_export.EXPORTERS[:1])
    out = tmp_path / "zoo.onnx"
    out.write_bytes(b"previous export")
    with pytest.raises(ExportError) as info:
        export_model(project, "onnx", out)
    assert info.value.node_name == "gap"
    assert str(info.value).startswith("ONNX cannot express gap (AdaptiveAvgPool2d)")
    assert "adaptive_avg_pool2d" in str(info.value)
    assert out.read_bytes() == b"previous export"  # the earlier file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zoo.onnx"]


def test_torchscript_names_the_layer_it_cannot_express(tmp_path, monkeypatch):
    def refuse(module, *args):
        if any(isinstance(m, torch.nn.LocalResponseNorm) for m in module.modules()):
            raise RuntimeError("LocalResponseNorm is not supported")
        return original_script(module, *args)

    original_script = torchscript._script
    monkeypatch.setattr(torchscript, "_script", refuse)
    monkeypatch.setattr(torchscript, "_trace", lambda module, x: refuse(module))
    with pytest.raises(ExportError) as info:
        export_model(image_zoo(), "torchscript", tmp_path / "zoo.torchscript.pt")
    assert info.value.node_name == "lrn"
    assert "TorchScript cannot express lrn (LocalResponseNorm)" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_does_not_reproduce_the_network_is_not_kept(tmp_path, monkeypatch):
    from netbuilder.export import state
    real_load = torch.load

    def corrupting_load(*args, **kwargs):
        weights = real_load(*args, **kwargs)
        return {k: v + 1e-2 if v.is_floating_point() else v for k, v in weights.items()}

    monkeypatch.setattr(state.torch, "load", corrupting_load)
    with pytest.raises(VerificationError, match="outputs differ by up to"):
        export_model(templates.build("mlp"), "pt", tmp_path / "mlp.pt")
    assert list(tmp_path.iterdir()) == []


def test_the_callers_random_state_is_left_alone(tmp_path):
    torch.manual_seed(123)
    np.random.seed(123)
    export_model(templates.build("lenet5"), "onnx", tmp_path / "a.onnx")
    after = torch.rand(3), np.random.rand()
    torch.manual_seed(123)
    np.random.seed(123)
    assert torch.equal(after[0], torch.rand(3)) and after[1] == np.random.rand()


# --------------------------------------------------------------------------- the command line
def test_cli_exports_a_project_and_reports_the_check(tmp_path, capsys):
    project_file = tmp_path / "lenet.nbproj"
    templates.build("lenet5").save(project_file)
    assert main(["export", str(project_file), "--format", "onnx", "-o", str(tmp_path / "out.onnx")]) == 0
    printed = capsys.readouterr()
    assert (tmp_path / "out.onnx").is_file()
    assert "verified: max |Δ|" in printed.out and "≤ 1e-04" in printed.out
    assert main(["export", str(project_file), "-f", "torchscript", "-o", str(tmp_path / "ts"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["verified"] and report["paths"] == [str(tmp_path / "ts" / "lenet-5.torchscript.pt")]


def test_cli_exports_a_run_folder_with_its_trained_weights(lenet_run, tmp_path, capsys):
    folder, _, _ = lenet_run
    out = tmp_path / "lenet.safetensors"
    assert main(["export", str(folder), "-f", "safetensors", "-o", str(out)]) == 0
    assert "initial weights" not in capsys.readouterr().err
    from safetensors.torch import load_file
    trained = torch.load(folder / "model.pt", weights_only=True)
    exported = load_file(str(out))
    assert all(torch.equal(exported[k], trained[k]) for k in trained)
    # The checkpoint file alone is a valid source too (it stores its project).
    assert main(["export", str(folder / "checkpoints" / "last.pt"), "-f", "pt", "-o", str(tmp_path / "c.pt")]) == 0


@pytest.mark.parametrize("argv,message", [
    (["export", "missing.nbproj", "-f", "pt"], "no such file"),
    (["export", "{project}", "-f", "report"], "give a run folder"),
    (["export", "{project}", "-f", "pt", "--checkpoint", "nothing.pt"], "no such weights file"),
])
def test_cli_errors_are_one_readable_line(tmp_path, capsys, monkeypatch, argv, message):
    project_file = tmp_path / "mlp.nbproj"
    templates.build("mlp").save(project_file)
    monkeypatch.chdir(tmp_path)
    code = main([a.replace("{project}", str(project_file)) for a in argv])
    err = capsys.readouterr().err
    assert code == 1 and message in err and err.count("\n") == 1 and "Traceback" not in err

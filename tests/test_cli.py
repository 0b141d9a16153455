"""The `netbuilder` command: templates, new, info (table and JSON), and one readable line for bad input."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from netbuilder import cli
from netbuilder.core import templates
from netbuilder.core.project import Project

REPO = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *words):
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("netbuilder: error: ") and "Traceback" not in err
    for word in words:
        assert word in lines[0]


@pytest.fixture
def lenet_file(tmp_path, capsys):
    path = tmp_path / "lenet.nbproj"
    code, out, _ = run(capsys, "new", "--template", "lenet5", "-o", str(path))
    assert code == 0
    return path


# --------------------------------------------------------------------------- templates / new
def test_templates_lists_every_template(capsys):
    code, out, err = run(capsys, "templates")
    assert code == 0 and not err
    listed = [line.split()[0] for line in out.strip().splitlines()]
    assert listed == templates.names()


def test_templates_verbose_shows_counts(capsys):
    code, out, _ = run(capsys, "templates", "-v")
    assert code == 0
    assert any(line.startswith("lenet5") and "61,706" in line.split("Two")[0] for line in out.splitlines())


def test_new_writes_a_loadable_project(lenet_file, capsys):
    project = Project.load(lenet_file)
    assert project.to_dict() == templates.build("lenet5").to_dict()


def test_new_adds_the_suffix(tmp_path, capsys):
    code, out, _ = run(capsys, "new", "-t", "mlp", "-o", str(tmp_path / "mine"))
    assert code == 0 and (tmp_path / "mine.nbproj").exists() and "mine.nbproj" in out


def test_new_refuses_to_overwrite_without_force(lenet_file, capsys):
    before = lenet_file.read_bytes()
    code, _, err = run(capsys, "new", "-t", "mlp", "-o", str(lenet_file))
    assert_one_line_error(code, err, "already exists", "--force")
    assert lenet_file.read_bytes() == before
    code, _, _ = run(capsys, "new", "-t", "mlp", "-o", str(lenet_file), "--force")
    assert code == 0 and Project.load(lenet_file).name == "MLP"


def test_new_with_unknown_template(tmp_path, capsys):
    code, _, err = run(capsys, "new", "-t", "googlenet", "-o", str(tmp_path / "g.nbproj"))
    assert_one_line_error(code, err, "unknown template 'googlenet'", "lenet5")
    assert not list(tmp_path.iterdir())


def test_new_into_a_missing_folder(tmp_path, capsys):
    code, _, err = run(capsys, "new", "-t", "mlp", "-o", str(tmp_path / "no" / "such" / "x.nbproj"))
    assert_one_line_error(code, err, "cannot be saved")


# --------------------------------------------------------------------------- info
def test_info_prints_a_table_with_totals(lenet_file, capsys):
    code, out, err = run(capsys, "info", str(lenet_file))
    assert code == 0 and not err
    lines = out.splitlines()
    assert lines[0].split() == ["name", "type", "output", "params", "RF"]
    rows = {line.split()[0]: line.split() for line in lines[2:] if line and not line.startswith(" ")}
    graph = templates.build("lenet5").graph
    for node in graph.nodes.values():
        assert rows[node.name][1] == node.type
    assert rows["conv1"][2:5] == ["6×28×28", "156", "5×5"]
    assert rows["pool2"][2] == "16×5×5" and rows["pool2"][4] == "16×16"
    assert rows["fc1"][2:] == ["120", "48,120", "28×28", "(all)"]
    assert "total parameters:     61,706" in out
    assert "trainable:          61,706" in out


def test_info_json_has_the_documented_shape(tmp_path, capsys):
    path = tmp_path / "resnet.nbproj"
    run(capsys, "new", "-t", "resnet18", "-o", str(path))
    code, out, err = run(capsys, "info", str(path), "--json")
    assert code == 0 and not err
    report = json.loads(out)
    assert report["total_params"] == 11_699_112 and report["trainable_params"] == 11_689_512
    graph = templates.build("resnet18").graph
    assert [n["name"] for n in report["nodes"]] == [graph.nodes[nid].name for nid in graph.topological_order()]
    for entry in report["nodes"]:
        assert {"name", "type", "output_shape", "params", "receptive_field", "errors", "warnings"} <= set(entry)
        assert all(type(d) is int for d in entry["output_shape"])
        assert type(entry["params"]) is int
        assert entry["errors"] == [] and entry["warnings"] == []
        rf = entry["receptive_field"]
        assert rf is None or {"size", "jump"} <= set(rf)
    by_name = {n["name"]: n for n in report["nodes"]}
    assert by_name["input"]["output_shape"] == [3, 224, 224]
    assert by_name["layer4_1_out"]["output_shape"] == [512, 7, 7]
    assert by_name["fc"]["output_shape"] == [1000]
    assert by_name["bn1"]["params"] == 4 * 64  # γ, β + running mean, var
    assert by_name["conv1"]["receptive_field"]["size"] == 7 and by_name["conv1"]["receptive_field"]["jump"] == 2
    assert by_name["fc"]["receptive_field"]["jump"] is None
    assert sum(n["params"] for n in report["nodes"]) == report["total_params"]


def test_info_json_of_alexnet_reports_the_195_field(tmp_path, capsys):
    path = tmp_path / "alexnet.nbproj"
    run(capsys, "new", "-t", "alexnet", "-o", str(path))
    report = json.loads(run(capsys, "info", str(path), "--json")[1])
    pool5 = next(n for n in report["nodes"] if n["name"] == "pool5")
    assert pool5["receptive_field"]["size"] == 195 and pool5["output_shape"] == [256, 6, 6]
    assert report["total_params"] == 61_100_840


def test_info_on_a_graph_with_errors(lenet_file, capsys):
    data = json.loads(lenet_file.read_text(encoding="utf-8"))
    fc1 = next(n for n in data["graph"]["nodes"] if n["name"] == "fc1")
    fc1["params"]["in_features"] = 784
    lenet_file.write_text(json.dumps(data), encoding="utf-8")
    code, out, _ = run(capsys, "info", str(lenet_file))
    assert code == 1
    assert "error: fc1: Linear expects 784 inputs but receives 16×5×5 = 400; set in_features to 400 or auto" in out
    assert "so far" in out
    code, out, _ = run(capsys, "info", str(lenet_file), "--json")
    report = json.loads(out)
    entry = next(n for n in report["nodes"] if n["name"] == "fc1")
    assert code == 1 and entry["errors"] and entry["output_shape"] is None


def test_info_reports_warnings(tmp_path, capsys):
    project = templates.build("cnn")
    graph = project.graph
    graph.set_param(graph.node_by_name("pool1").id, "kernel_size", 3)
    project.save(tmp_path / "w.nbproj")
    code, out, _ = run(capsys, "info", str(tmp_path / "w.nbproj"), "--json")
    pool1 = next(n for n in json.loads(out)["nodes"] if n["name"] == "pool1")
    assert code == 0 and pool1["warnings"] and "stride" in pool1["warnings"][0]


# --------------------------------------------------------------------------- bad files
def corrupt(path, how):
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    if how == "truncated":
        path.write_text(text[: len(text) // 3], encoding="utf-8")
    elif how == "wrong-type":
        data["graph"]["nodes"][1]["params"]["out_channels"] = "six"
        path.write_text(json.dumps(data), encoding="utf-8")
    elif how == "unknown-layer":
        data["graph"]["nodes"][1]["type"] = "Conv3d"
        path.write_text(json.dumps(data), encoding="utf-8")
    elif how == "future-version":
        data["schema_version"] = 99
        path.write_text(json.dumps(data), encoding="utf-8")
    elif how == "not-a-project":
        path.write_text('{"hello": "world"}', encoding="utf-8")
    return path.read_bytes()


@pytest.mark.parametrize("how,words", [
    ("truncated", ["not valid JSON", "truncated"]),
    ("wrong-type", ["graph.nodes[1].params.out_channels", "expected an integer"]),
    ("unknown-layer", ["graph.nodes[1].type", "unknown layer type 'Conv3d'"]),
    ("future-version", ["schema_version", "newer NetBuilder"]),
    ("not-a-project", ["not a NetBuilder project"]),
])
@pytest.mark.parametrize("as_json", [False, True])
def test_bad_files_give_one_line_and_stay_untouched(lenet_file, capsys, how, words, as_json):
    before = corrupt(lenet_file, how)
    code, out, err = run(capsys, "info", str(lenet_file), *(["--json"] if as_json else []))
    assert code == 1 and out == ""
    assert_one_line_error(code, err, str(lenet_file), *words)
    assert lenet_file.read_bytes() == before


def test_missing_file(tmp_path, capsys):
    code, _, err = run(capsys, "info", str(tmp_path / "ghost.nbproj"))
    assert_one_line_error(code, err, "no such file")


def test_subprocess_bad_file_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.nbproj"
    bad.write_text('{"format": "netbuilder-project", "schema_version": 1, "graph": {"nodes": [{"id": ',
                   encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "netbuilder", "info", "bad.nbproj"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("netbuilder: error: bad.nbproj: is not valid JSON")


def test_subprocess_info_json_and_new(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    made = subprocess.run([sys.executable, "-m", "netbuilder", "new", "--template", "cnn", "-o", "c.nbproj"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    shown = subprocess.run([sys.executable, "-m", "netbuilder", "info", "c.nbproj", "--json"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["trainable_params"] == 421_642


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["info"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        cli.main(["frobnicate"])
    assert exc.value.code == 2
    capsys.readouterr()


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("netbuilder ")

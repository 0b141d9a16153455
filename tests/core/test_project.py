"""Project files: lossless JSON round trips, clear errors naming the bad field, refusal of newer
schemas, and atomic saves that never damage the previous file."""
import json
import os
import stat

import pytest

from netbuilder.core import project as project_module
from netbuilder.core import templates
from netbuilder.core.graph import Graph
from netbuilder.core.params import ValidationError
from netbuilder.core.project import FORMAT, SCHEMA_VERSION, Project, ProjectError, save_json_atomic


@pytest.fixture
def lenet():
    return templates.build("lenet5")


@pytest.fixture
def saved(tmp_path, lenet):
    path = tmp_path / "lenet.nbproj"
    lenet.save(path)
    return path


def write_json(path, data):
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def load_error(path) -> ProjectError:
    before = path.read_bytes()
    with pytest.raises(ProjectError) as err:
        Project.load(path)
    assert path.read_bytes() == before  # loading never touches the file
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    return err.value


# --------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("name", templates.names())
def test_round_trip_is_lossless(tmp_path, name):
    original = templates.build(name)
    path = tmp_path / f"{name}.nbproj"
    original.save(path)
    first = path.read_bytes()
    loaded = Project.load(path)
    assert loaded.to_dict() == original.to_dict()
    assert list(loaded.graph.nodes) == list(original.graph.nodes)
    loaded.save(path)
    assert path.read_bytes() == first  # save → load → save is byte-identical


def test_round_trip_keeps_every_kind_of_value(tmp_path):
    p = Project(name="Ünïcode ✓", description="line one\nline two")
    g = p.graph
    a = g.add_node("Input", "input", {"kind": "signal", "channels": 2, "length": 40}, position=(1.25, -3.5))
    b = g.add_node("Conv1d", "conv", {"kernel_size": 5, "stride": 2, "in_channels": 2}, init={"weight": "orthogonal",
                                                                                            "gain": 1.5})
    c = g.add_node("Output", "output", {"loss": "mse"}, l2_multiplier=0.25)
    g.connect(a.id, b.id)
    g.connect(b.id, c.id)
    p.settings["optimizer"] = {"type": "sgd", "lr": 0.05, "momentum": 0.99, "dampening": 0.0, "nesterov": True}
    p.settings["schedule"] = {"type": "piecewise", "interval": "batch", "milestones": [500, 900],
                              "factors": [1.0, 0.17, 0.03]}
    p.settings["data"]["limit"] = 20
    path = tmp_path / "all.nbproj"
    p.save(path)
    q = Project.load(path)
    assert q.to_dict() == p.to_dict()
    assert q.name == "Ünïcode ✓" and q.description == "line one\nline two"
    assert q.graph.nodes[b.id].init["gain"] == 1.5 and q.graph.nodes[c.id].l2_multiplier == 0.25
    assert q.graph.nodes[a.id].position == (1.25, -3.5)
    assert q.copy().to_dict() == p.to_dict()


def test_file_is_readable_json_with_format_and_version(saved):
    data = json.loads(saved.read_text(encoding="utf-8"))
    assert data["format"] == FORMAT and data["schema_version"] == SCHEMA_VERSION
    assert data["graph"]["nodes"][0]["type"] == "Input"
    assert saved.read_bytes().endswith(b"\n")


def test_missing_sections_take_defaults(tmp_path):
    path = write_json(tmp_path / "min.nbproj", {"format": FORMAT, "schema_version": 1,
                                                "graph": {"nodes": [], "edges": []}})
    p = Project.load(path)
    assert p.name == "Untitled" and p.settings["training"]["epochs"] == 10 and not p.graph.nodes


# --------------------------------------------------------------------------- bad files
def test_truncated_file(saved):
    saved.write_bytes(saved.read_bytes()[: len(saved.read_bytes()) // 2])
    err = load_error(saved)
    assert "not valid JSON" in str(err) and "truncated" in str(err) and "line" in str(err)


def test_every_truncation_is_a_clear_error(saved, tmp_path):
    full = saved.read_bytes()
    cut = tmp_path / "cut.nbproj"
    for length in range(0, len(full) - 2, max(1, len(full) // 60)):
        cut.write_bytes(full[:length])
        with pytest.raises(ProjectError) as err:
            Project.load(cut)
        assert str(cut) in str(err.value)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.nbproj"
    path.write_bytes(b"")
    assert "not valid JSON" in str(load_error(path))


def test_binary_garbage(tmp_path):
    path = tmp_path / "junk.nbproj"
    path.write_bytes(b"\xff\xfe\x00\x01garbage")
    assert "cannot be read" in str(load_error(path)) or "not valid JSON" in str(load_error(path))


def test_absurd_numbers_and_nesting(tmp_path):
    path = tmp_path / "digits.nbproj"
    path.write_text('{"schema_version": ' + "9" * 5000 + "}", encoding="utf-8")
    load_error(path)
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    load_error(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ProjectError, match="no such file"):
        Project.load(tmp_path / "nope.nbproj")
    with pytest.raises(ProjectError, match="folder"):
        Project.load(tmp_path)


@pytest.mark.parametrize("mutate,path,words", [
    (lambda d: d["graph"]["nodes"][1]["params"].update(out_channels="six"), "graph.nodes[1].params.out_channels",
     "expected an integer"),
    (lambda d: d["graph"]["nodes"][1]["params"].update(kernel_size=[5, 5, 5]), "graph.nodes[1].params.kernel_size",
     "list of 2 integers"),
    (lambda d: d["graph"]["nodes"][3].update(type="Conv3d"), "graph.nodes[3].type", "unknown layer type 'Conv3d'"),
    (lambda d: d["graph"]["nodes"][3].update(type=None), "graph.nodes[3].type", "expected text"),
    (lambda d: d["graph"]["edges"][0].update(src="n404"), "graph.edges[0].src", "no node with id 'n404'"),
    (lambda d: d["graph"]["edges"][0].update(dst=3), "graph.edges[0].dst", "no node with id 3"),
    (lambda d: d.update(graph=[]), "graph", "expected an object"),
    (lambda d: d.pop("graph"), "graph", "missing"),
    (lambda d: d.update(optimizer={"type": "adam", "lr": "fast"}), "optimizer.lr", "expected a number"),
    (lambda d: d.update(optimizer={"type": {"name": "adam"}}), "optimizer.type", "not one of"),
    (lambda d: d["training"].update(batch_size=0), "training.batch_size", "below the minimum"),
    (lambda d: d["data"].update(dataset=3), "data.dataset", "not one of"),
    (lambda d: d.update(name=42), "name", "expected text"),
    (lambda d: d.update(extras={}), "extras", "unknown section"),
    (lambda d: d.update(format="something-else"), "format", "not a NetBuilder project"),
    (lambda d: d.update(schema_version="1"), "schema_version", "positive integer"),
    (lambda d: d.update(schema_version=0), "schema_version", "positive integer"),
    (lambda d: d.update(schema_version=True), "schema_version", "positive integer"),
])
def test_bad_field_is_reported_with_its_path(saved, mutate, path, words):
    data = json.loads(saved.read_text(encoding="utf-8"))
    mutate(data)
    write_json(saved, data)
    err = load_error(saved)
    assert err.field_path == path
    assert f"'{path}'" in str(err) and words in str(err)


def test_not_an_object(tmp_path):
    err = load_error(write_json(tmp_path / "list.nbproj", [1, 2, 3]))
    assert "JSON object" in str(err)


def test_newer_schema_is_refused_clearly(saved):
    data = json.loads(saved.read_text(encoding="utf-8"))
    data["schema_version"] = SCHEMA_VERSION + 1
    data["graph"]["nodes"][0]["type"] = "SomethingFromTheFuture"  # not even looked at
    write_json(saved, data)
    err = load_error(saved)
    assert err.field_path == "schema_version"
    assert "newer NetBuilder" in str(err) and "update" in str(err) and str(SCHEMA_VERSION + 1) in str(err)


def test_from_dict_raises_validation_error_with_path():
    with pytest.raises(ValidationError) as err:
        Project.from_dict({"format": FORMAT, "schema_version": 1, "graph": {"nodes": "x"}})
    assert err.value.path == "graph.nodes"


# --------------------------------------------------------------------------- atomic saves
def assert_untouched(path, before):
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left


def test_failed_replace_leaves_the_old_file(saved, monkeypatch):
    before = saved.read_bytes()
    project = Project.load(saved)
    project.name = "changed"

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(project_module.os, "replace", refuse)
    with pytest.raises(ProjectError, match="cannot be saved: Permission denied"):
        project.save(saved)
    assert_untouched(saved, before)


def test_failed_serialisation_leaves_the_old_file(saved, monkeypatch):
    before = saved.read_bytes()

    def explode(*args, **kwargs):
        raise ValueError("simulated failure")
    monkeypatch.setattr(project_module.json, "dumps", explode)
    with pytest.raises(ProjectError, match="simulated failure"):
        templates.build("mlp").save(saved)
    assert_untouched(saved, before)


def test_failed_write_leaves_the_old_file(saved, monkeypatch):
    before = saved.read_bytes()

    def no_space(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(project_module.os, "fsync", no_space)
    with pytest.raises(ProjectError, match="No space left"):
        templates.build("mlp").save(saved)
    assert_untouched(saved, before)


def test_interrupted_save_cleans_up(saved, monkeypatch):
    before = saved.read_bytes()

    def interrupt(src, dst):
        raise KeyboardInterrupt
    monkeypatch.setattr(project_module.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        templates.build("mlp").save(saved)
    assert_untouched(saved, before)


@pytest.mark.parametrize("poison", [{1, 2}, float("nan"), object()])
def test_unserialisable_value_leaves_the_old_file(saved, poison):
    before = saved.read_bytes()
    project = Project.load(saved)
    project.settings["training"]["epochs"] = poison
    with pytest.raises(ProjectError, match="cannot be saved"):
        project.save(saved)
    assert_untouched(saved, before)


def test_text_that_cannot_be_encoded_leaves_the_old_file(saved):
    before = saved.read_bytes()
    project = Project.load(saved)
    project.description = "broken \ud800 surrogate"
    with pytest.raises(ProjectError, match="cannot be saved"):
        project.save(saved)
    assert_untouched(saved, before)


def test_save_into_a_missing_folder(tmp_path, lenet):
    with pytest.raises(ProjectError, match="cannot be saved"):
        lenet.save(tmp_path / "missing" / "x.nbproj")


def test_save_keeps_the_file_permissions(saved, lenet):
    os.chmod(saved, 0o640)
    lenet.save(saved)
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o640


def test_new_file_is_not_private(tmp_path, lenet):
    old = os.umask(0o022)
    try:
        lenet.save(tmp_path / "new.nbproj")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.nbproj").st_mode) == 0o644


def test_save_json_atomic_writes_plain_json(tmp_path):
    path = tmp_path / "data.json"
    save_json_atomic(path, {"a": [1, 2], "b": "ü"})
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": [1, 2], "b": "ü"}
    save_json_atomic(path, {"a": 3})
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": 3}
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]


def test_saving_a_half_built_graph_works(tmp_path):
    p = Project()
    p.graph.add_node("Linear", "dangling")
    p.save(tmp_path / "half.nbproj")
    assert list(Project.load(tmp_path / "half.nbproj").graph.nodes.values())[0].name == "dangling"
    assert isinstance(p.graph, Graph)


# --------------------------------------------------------------------------- fuzzing
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8) | st.sampled_from(["auto", "Conv2d", "n1", "image", "sgd", "piecewise"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))


_BASE = templates.build("cnn").to_dict()
_BASE["graph"]["nodes"][1]["init"] = {"weight": "normal", "std": 0.02}
_BASE["schedule"] = {"type": "piecewise", "milestones": [5], "factors": [1.0, 0.1]}
_PATHS = [p for p in _paths(_BASE) if p]


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_PATHS), JSON_VALUES, st.booleans()), min_size=1, max_size=3))
def test_any_corruption_gives_a_validation_error_or_a_sound_project(edits):
    import copy as _copy
    data = _copy.deepcopy(_BASE)
    for path, value, delete in edits:
        parent, ok = data, True
        for key in path[:-1]:
            try:
                parent = parent[key]
            except (KeyError, IndexError, TypeError):
                ok = False
                break
        if not ok or not isinstance(parent, (dict, list)):
            continue
        try:
            if delete and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
        except (IndexError, TypeError):
            continue
    try:
        project = Project.from_dict(data)
    except ValidationError as exc:
        assert isinstance(exc.path, str) and exc.message
        return
    # Whatever loads must save and reload unchanged.
    text = json.dumps(project.to_dict(), allow_nan=False)
    assert Project.from_dict(json.loads(text)).to_dict() == project.to_dict()

"""Typed parameter schemas and the project's training settings: coercion, ranges, and the exact
path of every bad value."""
import copy
import math

import pytest

from netbuilder.core import settings
from netbuilder.core.params import AUTO, ParamSpec, ValidationError, coerce_all, defaults


def spec(kind, default=None, **kw):
    return ParamSpec("value", kind, default, **kw)


# --------------------------------------------------------------------------- ParamSpec.coerce
@pytest.mark.parametrize("kind,raw,expected", [
    ("int", 3, 3), ("int", 3.0, 3), ("float", 2, 2.0), ("float", 0.5, 0.5), ("bool", True, True),
    ("str", "hi", "hi"), ("path", "/tmp/x", "/tmp/x"), ("int_list", [1, 2.0], [1, 2]),
    ("float_list", [1, 0.5], [1.0, 0.5]),
])
def test_coerce_accepts(kind, raw, expected):
    value = spec(kind).coerce(raw)
    assert value == expected and type(value) is type(expected)
    if isinstance(expected, list):
        assert all(type(v) is type(e) for v, e in zip(value, expected))


@pytest.mark.parametrize("kind,raw,words", [
    ("int", 2.5, "expected an integer"), ("int", "3", "expected an integer"), ("int", True, "expected an integer"),
    ("float", "0.1", "expected a number"), ("float", True, "expected a number"),
    ("float", math.inf, "finite"), ("float", math.nan, "finite"), ("bool", 1, "true or false"),
    ("str", 5, "expected text"), ("int_list", 3, "list of integers"), ("int_list", [1, "2"], "integer"),
    ("float_list", [1, None], "list of numbers"), ("float_list", "1,2", "list of numbers"),
    ("int", None, "a value is required"),
])
def test_coerce_rejects_with_a_reason(kind, raw, words):
    with pytest.raises(ValidationError) as err:
        spec(kind).coerce(raw, "section.value")
    assert err.value.path == "section.value"
    assert words in err.value.message
    assert str(err.value).startswith("section.value: ")


def test_ints_repeat_a_single_value_and_check_length():
    s = spec("ints", [1, 1], length=2, minimum=1)
    assert s.coerce(3) == [3, 3]
    assert s.coerce((2, 4)) == [2, 4]
    with pytest.raises(ValidationError, match="list of 2 integers"):
        s.coerce([1, 2, 3])
    with pytest.raises(ValidationError, match="below the minimum 1"):
        s.coerce([0, 1])


def test_range_limits_are_inclusive():
    s = spec("float", 0.5, minimum=0, maximum=1)
    assert s.coerce(0) == 0.0 and s.coerce(1) == 1.0
    with pytest.raises(ValidationError, match="above the maximum 1"):
        s.coerce(1.5)
    with pytest.raises(ValidationError, match="below the minimum 0"):
        s.coerce(-0.1)


def test_auto_none_and_choices():
    s = spec("int", AUTO, allow_auto=True, minimum=1)
    assert s.coerce("auto") == AUTO and s.coerce(4) == 4
    with pytest.raises(ValidationError, match="integer or 'auto'"):
        s.coerce("Auto")
    assert spec("int", None, allow_none=True).coerce(None) is None
    c = spec("choice", "a", choices=("a", "b"))
    assert c.coerce("b") == "b"
    with pytest.raises(ValidationError, match="'c' is not one of: a, b"):
        c.coerce("c")
    with pytest.raises(ValidationError):
        c.coerce(["a"])


def test_title_and_visibility():
    s = ParamSpec("out_features", "int", 1, visible_if={"kind": ("image", "signal")})
    assert s.title == "Out features"
    assert ParamSpec("lr", "float", 1.0, label="Learning rate").title == "Learning rate"
    assert s.is_visible({"kind": "image"}) and not s.is_visible({"kind": "vector"}) and not s.is_visible({})


def test_defaults_are_fresh_copies():
    specs = [spec("int_list", [1, 2])]
    first = defaults(specs)
    first["value"].append(3)
    assert defaults(specs) == {"value": [1, 2]}


def test_coerce_all_paths():
    specs = [ParamSpec("a", "int", 1), ParamSpec("b", "bool", False)]
    assert coerce_all(specs, {"a": 2}, "sec") == {"a": 2, "b": False}
    assert coerce_all(specs, {"a": 2}, "sec", fill_defaults=False) == {"a": 2}
    with pytest.raises(ValidationError) as err:
        coerce_all(specs, {"c": 1}, "sec")
    assert err.value.path == "sec.c" and "known: a, b" in err.value.message
    with pytest.raises(ValidationError) as err:
        coerce_all(specs, {"b": "yes"}, "sec")
    assert err.value.path == "sec.b"
    with pytest.raises(ValidationError) as err:
        coerce_all(specs, [], "sec")
    assert err.value.path == "sec" and "expected an object, got list" in err.value.message


# --------------------------------------------------------------------------- settings
def test_default_settings_validate_unchanged():
    default = settings.default_settings()
    assert settings.validate_settings(copy.deepcopy(default)) == default
    assert set(default) == set(settings.SECTION_TITLES)
    assert default["optimizer"]["type"] == "adam" and default["optimizer"]["lr"] == 0.001


@pytest.mark.parametrize("kind", list(settings.OPTIMIZERS))
def test_every_optimizer_default_validates(kind):
    value = settings.default_optimizer(kind)
    assert settings.validate_tagged("optimizer", value, "optimizer") == value
    assert "lr" in value


@pytest.mark.parametrize("kind", list(settings.SCHEDULES))
def test_every_schedule_default_validates(kind):
    value = settings.default_schedule(kind)
    assert settings.validate_tagged("schedule", value, "schedule") == value
    assert value["interval"] == "epoch"


def test_tagged_sections_report_paths():
    with pytest.raises(ValidationError) as err:
        settings.validate_tagged("optimizer", {"type": "lbfgs"}, "optimizer")
    assert err.value.path == "optimizer.type" and "adam" in err.value.message
    with pytest.raises(ValidationError) as err:
        settings.validate_tagged("optimizer", {"type": ["sgd"]}, "optimizer")
    assert err.value.path == "optimizer.type"
    with pytest.raises(ValidationError) as err:
        settings.validate_tagged("optimizer", {"type": "sgd", "lr": -1}, "optimizer")
    assert err.value.path == "optimizer.lr"
    with pytest.raises(ValidationError) as err:
        settings.validate_tagged("optimizer", {"type": "sgd", "beta1": 0.9}, "optimizer")
    assert err.value.path == "optimizer.beta1"  # Adam's setting on SGD
    with pytest.raises(ValidationError) as err:
        settings.validate_tagged("schedule", "step", "schedule")
    assert err.value.path == "schedule"


def test_piecewise_needs_one_more_factor_than_milestones():
    raw = {"schedule": {"type": "piecewise", "milestones": [500, 900], "factors": [1.0, 0.17, 0.03]}}
    assert settings.validate_settings(raw)["schedule"]["factors"] == [1.0, 0.17, 0.03]
    raw["schedule"]["factors"] = [1.0, 0.1]
    with pytest.raises(ValidationError) as err:
        settings.validate_settings(raw)
    assert err.value.path == "schedule.factors" and "one more factor" in err.value.message


def test_sections_fill_defaults_and_report_nested_paths():
    out = settings.validate_settings({"training": {"epochs": 3}, "data": {"augmentation": {"hflip": True}}})
    assert out["training"]["epochs"] == 3 and out["training"]["batch_size"] == 64
    assert out["data"]["augmentation"]["hflip"] is True and out["data"]["dataset"] == "fashion-mnist"
    for raw, path in [({"training": {"epochs": 0}}, "training.epochs"),
                      ({"data": {"augmentation": {"rotation": 400}}}, "data.augmentation.rotation"),
                      ({"data": {"augmentation": []}}, "data.augmentation"),
                      ({"data": "mnist"}, "data"),
                      ({"regularization": {"l2": "a lot"}}, "regularization.l2"),
                      ({"initialization": {"weight": "he"}}, "initialization.weight"),
                      ({"data": {"dataset": "imagenet"}}, "data.dataset")]:
        with pytest.raises(ValidationError) as err:
            settings.validate_settings(raw)
        assert err.value.path == path, raw


def test_nested_prefix_is_used():
    with pytest.raises(ValidationError) as err:
        settings.validate_settings({"training": {"epochs": -1}}, path="project")
    assert err.value.path == "project.training.epochs"


def test_init_schemes_have_help_and_validate():
    assert set(settings.INIT_HELP) == set(settings.INIT_SCHEMES)
    value = settings.validate_init({"weight": "kaiming-normal", "mode": "fan_out"}, "n.init")
    assert value["mode"] == "fan_out" and value["bias"] == "zeros"
    with pytest.raises(ValidationError) as err:
        settings.validate_init({"std": -1}, "n.init")
    assert err.value.path == "n.init.std"


def test_variant_specs_of_schedules_include_the_interval():
    names = [s.name for s in settings.variant_specs("schedule", "step")]
    assert names[0] == "interval" and "step_size" in names
    assert [s.name for s in settings.variant_specs("optimizer", "sgd")][0] == "lr"


def test_copy_settings_is_deep():
    a = settings.default_settings()
    b = settings.copy_settings(a)
    b["data"]["augmentation"]["hflip"] = True
    assert a["data"]["augmentation"]["hflip"] is False


def test_adam_defaults_match_the_lecture():
    adam = settings.default_optimizer("adam")
    assert (adam["lr"], adam["beta1"], adam["beta2"], adam["eps"]) == (1e-3, 0.9, 0.999, 1e-8)

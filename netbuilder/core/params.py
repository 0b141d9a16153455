"""Typed parameter schemas shared by layers and project settings.

One `ParamSpec` describes one setting: its type, default, range or choices, unit and help.
Layers (catalogue.py) and project sections (settings.py) both use it, so the inspector and
the configuration panels can build fitting widgets from the same description, and project
loading can report the exact path of a bad value.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

AUTO = "auto"

# The kinds a ParamSpec may have. "ints" is a fixed-length tuple of ints (kernel h×w) stored
# as a list; a single int is accepted and repeated, as torch does.
KINDS = ("int", "float", "bool", "choice", "ints", "int_list", "float_list", "str", "path")


class ValidationError(ValueError):
    """A value that does not fit its schema; `path` names where it sits (e.g. "optimizer.lr")."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: str
    default: Any
    label: str = ""
    help: str = ""
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    length: int | None = None
    allow_auto: bool = False
    allow_none: bool = False
    log_scale: bool = False
    # Shown only when another parameter of the same owner has one of these values,
    # e.g. Input.height only for kind == "image": {"kind": ("image",)}.
    visible_if: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown parameter kind {self.kind!r} for {self.name}")

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def is_visible(self, values: dict) -> bool:
        return all(values.get(key) in allowed for key, allowed in self.visible_if.items())

    def coerce(self, value: Any, path: str = "") -> Any:
        """Return `value` normalised to this spec's type, or raise ValidationError naming `path`."""
        path = path or self.name
        if value is None:
            if self.allow_none:
                return None
            raise ValidationError(path, "a value is required")
        if self.allow_auto and value == AUTO:
            return AUTO
        kind = self.kind
        if kind == "bool":
            if isinstance(value, bool):
                return value
            raise ValidationError(path, f"expected true or false, got {value!r}")
        if kind == "int":
            if self.allow_auto and isinstance(value, str):
                raise ValidationError(path, f"expected an integer or {AUTO!r}, got {value!r}")
            return self._check_range(_as_int(value, path), path)
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValidationError(path, f"expected a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise ValidationError(path, f"expected a finite number, got {value!r}")
            return self._check_range(value, path)
        if kind == "choice":
            if value not in self.choices:
                options = ", ".join(str(c) for c in self.choices)
                raise ValidationError(path, f"{value!r} is not one of: {options}")
            return value
        if kind == "ints":
            items = [value] * (self.length or 1) if isinstance(value, int) and not isinstance(value, bool) else value
            if not isinstance(items, (list, tuple)) or len(items) != self.length:
                raise ValidationError(path, f"expected an integer or a list of {self.length} integers, got {value!r}")
            return [self._check_range(_as_int(item, path), path) for item in items]
        if kind == "int_list":
            if not isinstance(value, (list, tuple)):
                raise ValidationError(path, f"expected a list of integers, got {value!r}")
            return [self._check_range(_as_int(item, path), path) for item in value]
        if kind == "float_list":
            if not isinstance(value, (list, tuple)):
                raise ValidationError(path, f"expected a list of numbers, got {value!r}")
            out = []
            for item in value:
                if isinstance(item, bool) or not isinstance(item, (int, float)):
                    raise ValidationError(path, f"expected a list of numbers, got {value!r}")
                out.append(self._check_range(float(item), path))
            return out
        # str / path
        if not isinstance(value, str):
            raise ValidationError(path, f"expected text, got {value!r}")
        return value

    def _check_range(self, value, path):
        if self.minimum is not None and value < self.minimum:
            raise ValidationError(path, f"{value} is below the minimum {self.minimum:g}")
        if self.maximum is not None and value > self.maximum:
            raise ValidationError(path, f"{value} is above the maximum {self.maximum:g}")
        return value


def _as_int(value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(path, f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValidationError(path, f"expected an integer, got {value!r}")


def defaults(specs: list[ParamSpec]) -> dict:
    """Fresh default values for a list of specs (lists copied so callers may mutate them)."""
    return {s.name: list(s.default) if isinstance(s.default, (list, tuple)) else s.default for s in specs}


def coerce_all(specs: list[ParamSpec], values: dict, path: str, fill_defaults: bool = True) -> dict:
    """Validate a dict against specs: unknown keys and bad values raise with their full path."""
    if not isinstance(values, dict):
        raise ValidationError(path, f"expected an object, got {type(values).__name__}")
    by_name = {s.name: s for s in specs}
    for key in values:
        if key not in by_name:
            known = f"known: {', '.join(by_name)}" if by_name else "there are no settings here"
            raise ValidationError(f"{path}.{key}" if path else key, f"unknown setting ({known})")
    out = {}
    for spec in specs:
        sub = f"{path}.{spec.name}" if path else spec.name
        if spec.name in values:
            out[spec.name] = spec.coerce(values[spec.name], sub)
        elif fill_defaults:
            out[spec.name] = defaults([spec])[spec.name]
    return out

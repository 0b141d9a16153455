"""The short texts the editor shows: a layer's key settings, counts, shapes, fields and tooltips."""
from __future__ import annotations

from functools import lru_cache
from html import escape

from ...core.catalogue import LayerSpec, fmt_shape
from ...core.params import AUTO
from .style import ERROR_COLOR, WARNING_COLOR


def count(n: int) -> str:
    """1234 → "1.2k", 61706 → "61.7k", 11689512 → "11.7M"."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= limit:
            value = n / limit
            return f"{value:.1f}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return str(n)


def problems_text(errors: int, warnings: int) -> str:
    """"2 errors · 1 warning"; empty when there are none."""
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return " · ".join(parts)


def params_text(n: int) -> str:
    if n == 0:
        return "no params"
    return f"{count(n)} param" + ("" if n == 1 else "s")


# Cached: after each edit every card asks again, and a network repeats few distinct shapes.
@lru_cache(maxsize=4096)
def shape_text(shape) -> str:
    return "—" if shape is None else fmt_shape(shape)


def _square(values, sep: str = "×") -> str:
    """[3, 3] → "3", [3, 5] → "3×5" (for strides and paddings, where one number reads better)."""
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    return str(values[0]) if len(set(values)) == 1 else sep.join(str(v) for v in values)


def _window(values) -> str:
    values = list(values) if isinstance(values, (list, tuple)) else [values]
    return "×".join(str(v) for v in values)


def key_params_text(type_name: str, spec: LayerSpec, params: dict) -> str:
    """The type and its telling settings, e.g. "Conv2d 16@5×5 s1 p2", "Linear 120", "Dropout p=0.5"."""
    parts: list[str] = []
    keys = spec.key_params
    if "out_channels" in keys and "kernel_size" in keys:
        parts.append(f"{params['out_channels']}@{_window(params['kernel_size'])}")
    elif "kernel_size" in keys:
        parts.append(_window(params["kernel_size"]))
    for key in keys:
        value = params.get(key)
        if key in ("out_channels", "kernel_size"):
            if "kernel_size" not in keys:
                parts.append(str(value))
        elif key == "stride":
            parts.append(f"s{_square(value)}")
        elif key == "padding":
            parts.append(f"p{_square(value)}")
        elif key == "num_layers":
            if value != 1:
                parts.append(f"×{value}")
        elif key == "pieces":
            parts.append(f"k={value}")
        elif key == "p":
            parts.append(f"p={value:g}")
        elif key == "size":
            parts.append(f"n={value}")
        elif isinstance(value, (list, tuple)):
            parts.append(_window(value))
        elif value == AUTO:
            continue
        else:
            parts.append(str(value))
    return " ".join([type_name, *parts])


@lru_cache(maxsize=4096)
def rf_text(field) -> str:
    if field is None:
        return ""
    if field.is_global:
        return "RF all"
    return "RF " + "×".join(f"{s:g}" for s in field.size)


def layer_tooltip(spec: LayerSpec) -> str:
    """Palette tooltip: the summary, the help text with its formula, the ports."""
    ports = {0: "no input", 1: "one input"}.get(spec.inputs, "any number of inputs (merged in port order)")
    return (f"<p style='white-space:pre'><b>{escape(spec.type)}</b> — {escape(spec.summary)}</p>"
            f"<p>{escape(spec.help)}</p>"
            f"<p><i>{escape(spec.category)} · {ports}</i></p>")


def node_tooltip(node, info) -> str:
    """Canvas tooltip: what the node computes, its numbers and every problem on it."""
    rows = [f"<b>{escape(node.name)}</b> — {escape(key_params_text(node.type, node.spec, node.params))}"]
    if info is not None:
        if info.output_shape is not None:
            rows.append(f"Output {escape(shape_text(info.output_shape))} ({count(info.activations)} values per sample)")
            detail = f"{info.trainable:,} trainable"
            if info.non_trainable:
                detail += f", {info.non_trainable:,} fixed"
            rows.append(f"Parameters: {detail}")
            if info.macs:
                rows.append(f"Multiply-adds: {count(info.macs)}")
            if info.receptive_field is not None:
                rows.append(f"Receptive field: {escape(info.receptive_field.describe())}")
        rows += [f"<span style='color:{ERROR_COLOR.name()}'>✖ {escape(m)}</span>" for m in info.errors]
        rows += [f"<span style='color:{WARNING_COLOR.darker(115).name()}'>⚠ {escape(m)}</span>" for m in info.warnings]
    rows.append(f"<i>{escape(node.spec.summary)}</i>")
    return "<br>".join(rows)

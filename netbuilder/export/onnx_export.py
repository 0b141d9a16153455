"""ONNX: the network as a portable graph for ONNX Runtime, TensorRT, OpenVINO, browsers...

    import onnxruntime
    session = onnxruntime.InferenceSession("model.onnx")
    scores = session.run(None, {"input": batch})[0]

The batch dimension is dynamic. Two exporters are tried in turn: the TorchScript-based one
(fast, mature) and the torch.export-based one (handles some layers the first rejects, such as
adaptive pooling to sizes that do not divide the input). The file is checked with ONNX Runtime
before it is kept.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import warnings
from pathlib import Path

import torch

from . import verify
from .common import ExportError, ExportReport, Prepared, Staging, find_failing_node, first_line

OPSET = 18
INPUT_NAME = "input"
OUTPUT_NAME = "output"


@contextlib.contextmanager
def _quiet():
    """The exporters print progress, warnings and whole graphs (some from C++, straight to the
    process's stdout); keep the user's terminal clean while they run."""
    sys.stdout.flush()
    saved = None
    try:
        saved = os.dup(1)
        with open(os.devnull, "wb") as sink:
            os.dup2(sink.fileno(), 1)
    except OSError:  # no real stdout (some GUI launches): nothing to silence at that level
        saved = None
    try:
        with warnings.catch_warnings(), open(os.devnull, "w") as sink, \
                contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            yield
    finally:
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def _export_legacy(module, example, target: Path) -> None:
    torch.onnx.export(module, (example,), str(target), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                      opset_version=OPSET, dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                      dynamo=False)


def _export_dynamo(module, example, target: Path) -> None:
    batch = torch.export.Dim("batch")
    program = torch.onnx.export(module, (example,), None, input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                opset_version=OPSET, dynamic_shapes=({0: batch},), dynamo=True, verbose=False,
                                report=False)
    program.save(str(target))


# (name, function): tried in this order; the first file that verifies is kept.
EXPORTERS = [("TorchScript-based exporter", _export_legacy), ("torch.export-based exporter", _export_dynamo)]


def _session(path_or_bytes):
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(path_or_bytes, options, providers=["CPUExecutionProvider"])


def _require_packages() -> None:
    missing = []
    for name in ("onnx", "onnxruntime"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ExportError(f"the ONNX format needs the package(s) {', '.join(missing)}: pip install 'netbuilder[export]'")


class _FirstOutput(torch.nn.Module):
    """A layer alone, keeping its first output (recurrent layers also return their state)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        y = self.inner(x)
        return y[0] if isinstance(y, tuple) else y


def _probe_attempt(exporter):
    """Export one layer alone (used to find the layer an exporter rejects)."""
    def attempt(module, example):
        with tempfile.TemporaryDirectory() as folder, _quiet():
            exporter(_FirstOutput(module).eval(), example, Path(folder) / "layer.onnx")
    return attempt


def export_onnx(prep: Prepared, out: Path, batch: int) -> ExportReport:
    _require_packages()
    # Exported on 2 samples (torch.export treats a dimension of size 1 as fixed), checked on a
    # different number so that a batch size baked into the graph shows up.
    x = verify.sample_batch(prep.graph, prep.analysis, 2)
    check_batch = 3 if batch > 1 else 1
    check_x = verify.sample_batch(prep.graph, prep.analysis, check_batch, seed=1)
    expected = verify.run(prep.model, check_x)
    failures: list[tuple[str, BaseException]] = []
    with Staging(out) as stage:
        tmp = stage.path(out)
        for name, exporter in EXPORTERS:
            if tmp.exists():
                tmp.unlink()
            try:
                with _quiet():
                    exporter(prep.model, x, tmp)
            except Exception as exc:  # the exporters raise many types
                failures.append((name, exc))
                continue
            try:
                session = _session(str(tmp))
                got = session.run(None, {session.get_inputs()[0].name: check_x.numpy()})[0]
            except Exception as exc:
                failures.append((name, verify.VerificationError(f"ONNX Runtime cannot run the file: {first_line(exc)}")))
                continue
            try:
                diff = verify.check(expected, got, "the ONNX model (in ONNX Runtime)")
            except verify.VerificationError as exc:
                failures.append((name, exc))
                continue
            paths = stage.commit()
            notes = [f"written by the {name} after the {failures[0][0]} failed: {first_line(failures[0][1])}"] \
                if failures else []
            return ExportReport("onnx", paths, diff, True, [*prep.messages, *notes], check_batch)
    raise _explain(prep, failures)


def _explain(prep: Prepared, failures: list[tuple[str, BaseException]]) -> ExportError:
    """An error naming the layer ONNX cannot express, or the exporters' reasons."""
    mismatches = [exc for _, exc in failures if isinstance(exc, verify.VerificationError)]
    if mismatches and len(mismatches) == len(failures):
        return verify.VerificationError(str(mismatches[0]))
    for name, exporter in EXPORTERS:
        failing = find_failing_node(prep, _probe_attempt(exporter))
        if failing is None:
            break  # this exporter takes every layer alone: the layers are not the problem
    else:
        node, exc = failing
        return ExportError(f"ONNX cannot express {node.name} ({node.type}): {first_line(exc)}", node.id, node.name)
    # Every layer exports alone; the exporters name the operator they stopped at, which the
    # layer types' names still reveal (adaptive_avg_pool2d → AdaptiveAvgPool2d).
    reasons = "; ".join(f"{name}: {first_line(exc)}" for name, exc in failures)
    nodes = _nodes_of_operators(prep, [str(exc) for _, exc in failures])
    if nodes:
        names = ", ".join(f"{n.name} ({n.type})" for n in nodes)
        return ExportError(f"ONNX cannot express {names} in this network: {first_line(failures[-1][1])}",
                           nodes[0].id, nodes[0].name)
    return ExportError(f"ONNX cannot express this network ({reasons})")


_OPERATOR_TYPES = {"cat": "Concatenate", "add": "Add", "reshape": "Reshape", "view": "Reshape",
                   "_convolution": None, "rnn_tanh": "RNN", "rnn_relu": "RNN", "batch_norm": "BatchNorm",
                   "native_batch_norm": "BatchNorm", "local_response_norm": "LocalResponseNorm"}


def _nodes_of_operators(prep: Prepared, messages: list[str]) -> list:
    """The nodes whose layer type matches an operator named in the exporters' messages."""
    operators = set()
    for message in messages:
        operators |= set(re.findall(r"(?:operator|aten[.:]+)\s*'?([A-Za-z_0-9]+)", message))
    types = set()
    for op in operators:
        op = op.split(".")[0]
        if op in _OPERATOR_TYPES:
            if _OPERATOR_TYPES[op]:
                types.add(_OPERATOR_TYPES[op])
            continue
        types |= {t for t in {n.type for n in prep.graph.nodes.values()} if t.lower() == op.replace("_", "")}
    return [prep.graph.nodes[nid] for nid in prep.analysis.order if prep.graph.nodes[nid].type in types]

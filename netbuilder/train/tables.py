"""Readers for tabular datasets: CSV files and NPZ archives, returning compact tensors.

Like the image readers in `datasets.py`, every check names the file, line, column or array at
fault and says what to change.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from .datasets import DataError, RawData, _report


def labels_from(values: np.ndarray, where: str, classes: list[str] | None = None):
    """(targets, class names, task) from a column or array. Text labels become classes in sorted
    order; whole numbers become classes (kept as indices when they already run 0..K-1); other
    numbers, or several per sample, are regression targets. `classes` reuses a training split's
    names for its test split."""
    values = np.asarray(values)
    if values.dtype.kind == "b":
        values = values.astype(np.int64)
    if values.dtype.kind not in "iufUS":
        raise DataError(f"{where} holds {values.dtype} labels; use numbers or text")
    if values.dtype.kind in "f" and not np.all(np.isfinite(values)):
        raise DataError(f"{where} holds missing or infinite targets")
    whole = values.dtype.kind in "iu" or (values.dtype.kind == "f" and np.all(values == np.round(values)))
    if values.dtype.kind == "f" and (values.ndim != 1 or not whole):
        return torch.from_numpy(values.astype(np.float32)), [], "regression"
    if values.ndim != 1:
        raise DataError(f"{where} has shape {values.shape}; class labels need one value per sample")
    if whole:
        values = values.astype(np.int64)
    if classes is None:
        names = np.unique(values)
        if whole and np.array_equal(names, np.arange(len(names))):
            return torch.from_numpy(values), [str(i) for i in range(len(names))], "classification"
        classes = [str(n) for n in names]
    lookup = {name: i for i, name in enumerate(classes)}
    texts = values.astype(str)
    unknown = sorted(set(texts.tolist()) - set(lookup))
    if unknown:
        raise DataError(f"{where} holds labels {', '.join(unknown[:5])} that the training split lacks")
    return torch.tensor([lookup[t] for t in texts.tolist()], dtype=torch.int64), list(classes), "classification"


def _sniff_delimiter(header: str) -> str:
    for delimiter in (",", ";", "\t"):
        if delimiter in header:
            return delimiter
    return ","


def read_csv(path: Path, label_column: str, progress=None) -> RawData:
    """Numeric feature columns plus one label column (see `labels_from`) after a header row."""
    if not path.is_file():
        raise DataError(f"CSV file {path} does not exist; choose the file under Data ▸ File or folder")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            header_line = f.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} cannot be read as text ({exc})") from None
    delimiter = _sniff_delimiter(header_line)
    header = [h.strip() for h in next(csv.reader([header_line], delimiter=delimiter), [])]
    if not header or header == [""]:
        raise DataError(f"{path} is empty; it needs a header row naming the columns")
    if label_column not in header:
        shown = ", ".join(header[:12]) + (", …" if len(header) > 12 else "")
        raise DataError(f"{path} has no column '{label_column}' (its columns: {shown}); set Data ▸ Label column "
                        f"to the one holding the labels")
    label_index = header.index(label_column)
    feature_index = [i for i in range(len(header)) if i != label_index]
    if not feature_index:
        raise DataError(f"{path} has no feature columns besides '{label_column}'")
    _report(progress, f"Reading {path.name}", 0.0)
    options = dict(delimiter=delimiter, skiprows=1, encoding="utf-8-sig", quotechar='"', comments=None)
    try:
        x = np.loadtxt(path, usecols=feature_index, dtype=np.float32, ndmin=2, **options)
        raw_labels = np.char.strip(np.loadtxt(path, usecols=[label_index], dtype=str, ndmin=1, **options))
    except ValueError as exc:
        raise DataError(_first_bad_cell(path, delimiter, header, label_index) or f"{path} is not a regular table: {exc}") \
            from None
    if len(x) == 0:
        raise DataError(f"{path} has a header but no rows")
    if not np.all(np.isfinite(x)):
        row = int(np.nonzero(~np.isfinite(x).all(1))[0][0])
        raise DataError(f"{path}, line {row + 2}: missing or infinite values; fill or drop that row")
    numeric = all(_is_number(v) for v in raw_labels.tolist())
    y, classes, task = labels_from(raw_labels.astype(np.float64) if numeric else raw_labels,
                                   f"{path} column '{label_column}'")
    _report(progress, f"Read {path.name}", 1.0)
    return RawData(torch.from_numpy(np.ascontiguousarray(x)), y, classes, f"{path.name} ({len(x):,} rows)", task=task)


def _first_bad_cell(path: Path, delimiter: str, header: list[str], label_index: int) -> str | None:
    """Where a table stops being regular, in words (only run once loading has failed)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        for line, row in enumerate(csv.reader(f, delimiter=delimiter), start=1):
            if line == 1:
                continue
            if len(row) != len(header):
                return f"{path}, line {line}: {len(row)} values where the header names {len(header)} columns"
            for col, cell in enumerate(row):
                if col != label_index and not _is_number(cell.strip()):
                    return (f"{path}, line {line}, column '{header[col]}': {cell!r} is not a number; every column "
                            f"except '{header[label_index]}' must hold numbers")
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _compact(array: np.ndarray, where: str) -> torch.Tensor:
    """uint8 stays uint8, integers become the smallest type holding them, the rest float32."""
    if array.dtype in (np.uint8, np.bool_):
        return torch.from_numpy(array.astype(np.uint8, copy=False))
    if array.dtype.kind in "iu":
        lo, hi = (int(array.min()), int(array.max())) if array.size else (0, 0)
        for dtype in (np.uint8, np.int16, np.int32, np.int64):
            info = np.iinfo(dtype)
            if info.min <= lo and hi <= info.max:
                return torch.from_numpy(array.astype(dtype))
    if array.dtype.kind == "f":
        out = array.astype(np.float32)
        if not np.all(np.isfinite(out)):
            raise DataError(f"{where} holds missing or infinite values")
        return torch.from_numpy(out)
    raise DataError(f"{where} holds {array.dtype} values; it needs numbers")


def read_npz(path: Path, progress=None) -> RawData:
    """Arrays x/y, or x_train/y_train with optional x_test/y_test (key case does not matter)."""
    if not path.is_file():
        raise DataError(f"NPZ file {path} does not exist; choose the file under Data ▸ File or folder")
    _report(progress, f"Reading {path.name}", 0.0)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {k.lower(): archive[k] for k in archive.files}
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path} is not a readable .npz archive ({exc})") from None
    keys = next(((xk, yk) for xk, yk in (("x_train", "y_train"), ("x", "y")) if xk in arrays and yk in arrays), None)
    if keys is None:
        raise DataError(f"{path} holds arrays {', '.join(sorted(arrays)) or '(none)'}; it needs x and y "
                        f"(or x_train and y_train, with x_test and y_test optional)")
    splits = {"train": keys}
    if "x_test" in arrays or "y_test" in arrays:
        splits["test"] = ("x_test", "y_test")
    parts = {}
    for split, (xk, yk) in splits.items():
        if xk not in arrays or yk not in arrays:
            raise DataError(f"{path} holds {xk if xk in arrays else yk} without {yk if xk in arrays else xk}")
        x, y = arrays[xk], arrays[yk]
        if x.ndim < 2 or y.ndim < 1 or len(x) != len(y):
            raise DataError(f"{path}: {xk} has shape {x.shape} but {yk} has shape {y.shape}; "
                            f"they need one row per sample")
        parts[split] = (_compact(x, f"{path} array {xk}"), y)
    x, y_raw = parts["train"]
    y, classes, task = labels_from(y_raw, f"{path} array {keys[1]}")
    x_test = y_test = None
    if "test" in parts:
        x_test = parts["test"][0]
        y_test, _, test_task = labels_from(parts["test"][1], f"{path} array y_test", classes or None)
        if test_task != task:
            raise DataError(f"{path}: y_test holds {test_task} targets but {keys[1]} holds {task} targets")
    _report(progress, f"Read {path.name}", 1.0)
    return RawData(x, y, classes, f"{path.name} ({len(x):,} samples)", x_test, y_test, task=task)

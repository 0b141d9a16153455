"""Every training run, kept beside its project, listed and compared.

A run folder `<project folder>/runs/<project>-<timestamp>/` holds what the engine writes
(project.nbproj: the exact design and settings; metrics.csv: one row per epoch; summary.json;
model.pt; checkpoints/) plus what the window adds: iterations.csv (the loss and learning rate of
every iteration) and run.json (how the run went: device, sizes, finished / stopped / failed).

The Runs panel lists them with their results and what they changed against the current design;
ticking runs overlays their curves on the loss and accuracy plots.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QMessageBox, QPushButton,
                               QSizePolicy, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from ..core.settings import SECTION_TITLES
from .monitor import style
from .monitor.buffer import RunCurves

ITERATIONS_FILE = "iterations.csv"
RUN_INFO_FILE = "run.json"
ITERATION_COLUMNS = ["step", "epoch", "batch", "loss", "lr"]


# --------------------------------------------------------------------------- folders
def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "run"


def runs_folder(project_path: Path | None, project_name: str = "Untitled") -> Path:
    """Where a project's runs live: beside its file, or in the settings folder while it is unsaved."""
    if project_path is not None:
        return Path(project_path).parent / "runs"
    from . import files
    return files.config_folder() / "runs"


def run_prefix(project_path: Path | None, project_name: str = "Untitled") -> str:
    return (Path(project_path).stem if project_path is not None else _safe(project_name)) + "-"


def new_run_dir(project_path: Path | None, project_name: str = "Untitled") -> Path:
    """A fresh, unused run folder name (not created yet)."""
    folder = runs_folder(project_path, project_name)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = folder / f"{run_prefix(project_path, project_name)}{stamp}"
    path, n = base, 2
    while path.exists():
        path = base.with_name(f"{base.name}-{n}")
        n += 1
    return path


# --------------------------------------------------------------------------- files the window adds
def write_iterations(run_dir: Path, rows: np.ndarray) -> None:
    """rows: (n, 5) step, epoch, batch, loss, lr."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / f".{ITERATIONS_FILE}.tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(ITERATION_COLUMNS)
        for step, epoch, batch, loss, lr in np.asarray(rows).reshape(-1, 5).tolist():
            writer.writerow([int(step), int(epoch), int(batch), repr(float(loss)), repr(float(lr))])
    os.replace(tmp, run_dir / ITERATIONS_FILE)


def write_run_info(run_dir: Path, info: dict) -> None:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / f".{RUN_INFO_FILE}.tmp"
    tmp.write_text(json.dumps(info, indent=2, default=_plain), encoding="utf-8")
    os.replace(tmp, run_dir / RUN_INFO_FILE)


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


# --------------------------------------------------------------------------- reading runs
@dataclass
class RunRecord:
    path: Path
    started: datetime | None = None
    summary: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    metrics: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def status(self) -> str:
        if self.info.get("status"):
            return self.info["status"]
        if self.summary:
            return "stopped" if self.summary.get("stopped") else "finished"
        return "incomplete"

    @property
    def epochs(self) -> int:
        return len(self.metrics)

    def best_val_accuracy(self) -> float | None:
        values = [m["val_accuracy"] for m in self.metrics if m.get("val_accuracy") is not None]
        return max(values) if values else None

    def final(self, key: str) -> float | None:
        for m in reversed(self.metrics):
            if m.get(key) is not None:
                return m[key]
        return None

    @property
    def seconds(self) -> float | None:
        if self.summary.get("seconds") is not None:
            return float(self.summary["seconds"])
        total = sum(m.get("seconds") or 0 for m in self.metrics)
        return total or None

    def steps_per_epoch(self) -> int:
        return int(self.info.get("steps_per_epoch") or 0)


def _float(text):
    if text in ("", None):
        return None
    try:
        return float(text)
    except ValueError:
        return None


def read_metrics(path: Path) -> list[dict]:
    file = Path(path) / "metrics.csv"
    if not file.is_file():
        return []
    with open(file, encoding="utf-8") as f:
        rows = []
        for row in csv.DictReader(f):
            parsed = {k: _float(v) for k, v in row.items()}
            if parsed.get("epoch") is not None:
                parsed["epoch"] = int(parsed["epoch"])
                rows.append(parsed)
        return rows


def read_iterations(path: Path) -> np.ndarray:
    file = Path(path) / ITERATIONS_FILE
    if not file.is_file():
        return np.zeros((0, 5))
    try:
        data = np.loadtxt(file, delimiter=",", skiprows=1, ndmin=2)
    except ValueError:
        return np.zeros((0, 5))
    return data.reshape(-1, 5) if data.size else np.zeros((0, 5))


def _json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def read_run(path: Path) -> RunRecord | None:
    path = Path(path)
    if not path.is_dir():
        return None
    summary = _json(path / "summary.json")
    info = _json(path / RUN_INFO_FILE)
    metrics = read_metrics(path)
    if not (summary or info or metrics or (path / "project.nbproj").exists()):
        return None
    project = _json(path / "project.nbproj")
    started = None
    if info.get("started"):
        try:
            started = datetime.fromisoformat(info["started"])
        except ValueError:
            started = None
    if started is None:
        match = re.search(r"(\d{8}-\d{6})", path.name)
        if match:
            started = datetime.strptime(match.group(1), "%Y%m%d-%H%M%S")
    settings = {k: project[k] for k in SECTION_TITLES if isinstance(project.get(k), dict)}
    return RunRecord(path, started, summary, info, metrics, settings)


def list_runs(folder: Path, prefix: str | None = None) -> list[RunRecord]:
    """Runs in a folder, newest first (only those named `prefix…` when given)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    runs = []
    for child in folder.iterdir():
        if prefix and not child.name.startswith(prefix):
            continue
        record = read_run(child)
        if record is not None:
            runs.append(record)
    runs.sort(key=lambda r: (r.started or datetime.min, r.name), reverse=True)
    return runs


def curves(record: RunRecord, color: str, label: str | None = None) -> RunCurves:
    """A run's curves for the overlays: per-iteration loss when recorded, per-epoch metrics."""
    rows = read_iterations(record.path)
    metrics = record.metrics
    epochs = np.array([m["epoch"] for m in metrics], dtype=np.float64)
    spe = record.steps_per_epoch()
    if not spe and len(rows):
        spe = int(np.sum(rows[:, 1] == rows[0, 1]))
    epoch_steps = epochs * spe if spe else epochs

    def column(key):
        return np.array([np.nan if m.get(key) is None else m[key] for m in metrics], dtype=np.float64)

    return RunCurves(label=label or short_label(record), color=color,
                     steps=rows[:, 0] if len(rows) else np.empty(0), loss=rows[:, 3] if len(rows) else np.empty(0),
                     epochs=epochs, epoch_steps=epoch_steps, train_loss=column("train_loss"),
                     val_loss=column("val_loss"), train_accuracy=column("train_accuracy"),
                     val_accuracy=column("val_accuracy"))


# --------------------------------------------------------------------------- what changed
def flatten(settings: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in (settings or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


_IGNORED = {"training.device", "training.log_every", "training.probe_every", "training.checkpoint", "data.root"}


def differences(run_settings: dict, current: dict, limit: int = 4) -> list[str]:
    """Settings in which a run differs from the current design, as 'lr 0.3' phrases."""
    a, b = flatten(run_settings), flatten(current)
    out = []
    for key in sorted(set(a) | set(b)):
        if key in _IGNORED or a.get(key) == b.get(key) or key not in a:
            continue
        out.append(f"{key.split('.')[-1]} {_short(a.get(key))}")
    if len(out) > limit:
        out = out[:limit] + [f"+{len(out) - limit} more"]
    return out


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return "none"
    return str(value)


def short_label(record: RunRecord) -> str:
    return record.started.strftime("%H:%M:%S") if record.started else record.name


def overlay_label(record: RunRecord, current: dict) -> str:
    """A legend entry that says what the run changed ("lr 0.3 · 14:02:10"), or just when it ran."""
    diffs = [d for d in differences(record.settings, current, limit=2) if not d.startswith("+")] \
        if record.settings else []
    when = record.started.strftime("%H:%M:%S") if record.started else record.name
    return f"{', '.join(diffs)} · {when}" if diffs else f"run {when}"


def describe_settings(settings: dict) -> str:
    opt = settings.get("optimizer", {})
    training = settings.get("training", {})
    reg = settings.get("regularization", {})
    parts = []
    if opt:
        parts.append(f"{opt.get('type', opt.get('name', 'optimizer'))} lr {_short(opt.get('lr'))}")
    if training:
        parts.append(f"batch {training.get('batch_size')}")
    if reg.get("l2"):
        parts.append(f"L2 {_short(reg['l2'])}")
    return ", ".join(parts)


# --------------------------------------------------------------------------- the panel
class RunHistoryPanel(QWidget):
    """The project's runs, newest first; ticked runs are overlaid on the loss and accuracy plots."""

    overlays_changed = Signal(list)
    title = "Runs"
    object_name = "runs"
    COLUMNS = ["Run", "Status", "Epochs", "Best val. acc.", "Final val. loss", "Time", "Setup", "Changed vs. now"]

    def __init__(self, get_project, get_project_path, parent=None):
        super().__init__(parent)
        self.setObjectName("monitor_runs")
        self.get_project = get_project
        self.get_project_path = get_project_path
        self.records: list[RunRecord] = []
        self.current_run: Path | None = None
        self._checked: set[str] = set()
        self._colors: dict[str, str] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 4)
        layout.setSpacing(2)
        header = QHBoxLayout()
        self.caption = QLabel("Tick runs to compare their curves with this one", self)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.caption.setMinimumWidth(60)
        header.addWidget(self.caption, 1)
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button = QPushButton("Open Folder", self)
        self.open_button.setToolTip("Show the selected run's files")
        self.open_button.clicked.connect(self.open_selected)
        self.delete_button = QPushButton("Delete…", self)
        self.delete_button.setToolTip("Delete the selected runs' folders")
        self.delete_button.clicked.connect(self.delete_selected)
        for button in (self.refresh_button, self.open_button, self.delete_button):
            header.addWidget(button)
        layout.addLayout(header)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("runsTable")
        self.tree.setHeaderLabels(self.COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.tree.itemChanged.connect(self._on_item_changed)
        layout.addWidget(self.tree, 1)

    def sizeHint(self) -> QSize:
        return QSize(520, 220)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()  # runs may have been added or removed outside the window

    # ------------------------------------------------------------------ listing
    def folder(self) -> Path:
        project = self.get_project()
        return runs_folder(self.get_project_path(), project.name if project else "Untitled")

    def refresh(self) -> None:
        project = self.get_project()
        path = self.get_project_path()
        self.records = list_runs(self.folder(), run_prefix(path, project.name if project else "Untitled"))
        current = project.settings if project is not None else {}
        names = {r.name for r in self.records}
        if self._checked - names:
            self._emitted = None  # a compared run is gone
        self._checked &= names
        self.tree.blockSignals(True)
        self.tree.clear()
        for i, record in enumerate(self.records):
            item = QTreeWidgetItem(self.tree)
            item.setData(0, Qt.ItemDataRole.UserRole, record.name)
            when = record.started.strftime("%Y-%m-%d %H:%M:%S") if record.started else record.name
            is_current = self.current_run is not None and record.path == self.current_run
            item.setText(0, when + ("  (this run)" if is_current else ""))
            item.setToolTip(0, str(record.path))
            item.setText(1, record.status)
            item.setText(2, str(record.epochs))
            best = record.best_val_accuracy()
            item.setText(3, "—" if best is None else f"{best * 100:.1f}%")
            loss = record.final("val_loss")
            item.setText(4, "—" if loss is None else f"{loss:.4f}")
            seconds = record.seconds
            item.setText(5, "—" if seconds is None else _duration(seconds))
            item.setText(6, describe_settings(record.settings))
            diffs = differences(record.settings, current) if record.settings else []
            item.setText(7, ", ".join(diffs) if diffs else "same settings")
            for col in (2, 3, 4, 5):
                item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if not is_current:
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Checked if record.name in self._checked else Qt.CheckState.Unchecked)
                item.setIcon(0, _swatch(self._color(record.name)))
        self.tree.blockSignals(False)
        n = len(self.records)
        self.caption.setText(f"{n} run{'s' if n != 1 else ''} — tick runs to overlay their curves on Loss and Accuracy"
                             if n else "No runs yet: each run is kept here for comparison")
        self.caption.setToolTip(f"Run folders: {self.folder()}")
        self._emit()

    def _color(self, name: str) -> str:
        if name not in self._colors:
            self._colors[name] = style.series_color(len(self._colors))
        return self._colors[name]

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if column != 0:
            return
        name = item.data(0, Qt.ItemDataRole.UserRole)
        if item.checkState(0) == Qt.CheckState.Checked:
            self._checked.add(name)
        else:
            self._checked.discard(name)
        self._emit()

    def set_checked(self, names: list[str]) -> None:
        self._checked = set(names)
        self.refresh()

    def checked_records(self) -> list[RunRecord]:
        return [r for r in self.records if r.name in self._checked
                and not (self.current_run is not None and r.path == self.current_run)]

    def _emit(self, force: bool = False) -> None:
        key = tuple(sorted(r.name for r in self.checked_records()))
        if key == getattr(self, "_emitted", None) and not force:
            return
        self._emitted = key
        project = self.get_project()
        current = project.settings if project is not None else {}
        overlays = [curves(r, self._color(r.name), overlay_label(r, current)) for r in self.checked_records()]
        self.overlays_changed.emit(overlays)

    # ------------------------------------------------------------------ actions
    def selected_records(self) -> list[RunRecord]:
        names = {item.data(0, Qt.ItemDataRole.UserRole) for item in self.tree.selectedItems()}
        return [r for r in self.records if r.name in names]

    def open_selected(self) -> None:
        chosen = self.selected_records()
        target = chosen[0].path if chosen else self.folder()
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))

    def delete_selected(self) -> None:
        chosen = [r for r in self.selected_records() if r.path != self.current_run]
        if not chosen:
            return
        answer = QMessageBox.question(self, "Delete Runs",
                                      f"Delete {len(chosen)} run folder{'s' if len(chosen) != 1 else ''} with their "
                                      f"checkpoints and models? This cannot be undone.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        for record in chosen:
            shutil.rmtree(record.path, ignore_errors=True)
            self._checked.discard(record.name)
        self.refresh()


def _swatch(color: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds // 60 % 60:02d}m"

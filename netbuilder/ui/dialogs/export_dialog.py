"""File ▸ Export…: the network in a deployable format (weights, TorchScript, ONNX, safetensors,
Python code, a training script), or a training run's metrics, plots and model card.

Weights come from where `netbuilder export` takes them: a run folder's model.pt (its last
checkpoint when the run did not finish), a checkpoint file, or the initial weights training
would start from. What can be checked without PyTorch (the network compiles, the run has what
the format needs, the output does not overwrite its own source) is checked while the choices
are made, so the Export button says up front why it cannot run.

The export itself runs on a worker thread: building the module, tracing it for ONNX and reading
the file back to verify it take seconds. The worker gets a snapshot of the project and hands
back plain data; closing the dialog meanwhile lets the export finish in the background, and its
file is written (or not) exactly as if the dialog had stayed open.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QMessageBox, QProgressBar,
                               QPushButton, QRadioButton, QSizePolicy, QVBoxLayout, QWidget)

from ...core.project import Project, ProjectError
from ...export import FORMATS, RUN_FORMATS, default_file_name
from ...export.common import file_stem_for
from ...export.report import is_run_folder
from .. import background, files, icons, run_history
from ..panels.labels import set_role

MODEL, RUN = "model", "run"
LATEST_RUN, OTHER_RUN, CHECKPOINT, UNTRAINED = "latest", "run-folder", "checkpoint", "untrained"

OK_COLOR, ERROR_COLOR = "#16a34a", "#e53935"
_FORMAT_KEY = "export/format"
_WHAT_KEY = "export/what"

# How each model format's file is read back before the export counts as done (see the exporters).
_READERS = {
    "pt": "reloaded with torch.load (weights only)",
    "safetensors": "reloaded with safetensors",
    "torchscript": "reloaded with torch.jit.load",
    "onnx": "reloaded with ONNX Runtime",
    "python": "imported the generated code and loaded its weights",
    "script": "imported the training script and ran its network",
}
# Run artifacts written into a folder, and the files they put there (for the overwrite check).
_FOLDER_ARTIFACTS = {"plots": ("loss.png", "accuracy.png", "learning-rate.png"),
                     "report": ("model-card.md", "metrics.csv", "metrics.json", "plots")}


# --------------------------------------------------------------------------- the work (no widgets)
@dataclass
class ExportJob:
    """Everything the worker needs, fixed when Export is pressed."""
    what: str
    fmt: str
    out: Path
    project: Project | None = None        # a snapshot: the design may change while the worker runs
    run_dir: Path | None = None
    weights: Path | None = None
    weights_from_checkpoint_file: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class ExportOutcome:
    job: ExportJob
    report: object | None = None          # ExportReport
    error: str | None = None
    node_id: str | None = None
    node_name: str | None = None
    sizes: list[tuple[Path, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.report is not None


def _same_network(a: Project, b: Project) -> bool:
    from ...compile.codegen import CompileError, generate_code
    try:
        return generate_code(a.graph) == generate_code(b.graph)
    except CompileError:
        return False


def perform_export(job: ExportJob) -> ExportOutcome:
    """Run one export (on a worker thread); failures the user can act on come back as text."""
    from ...export import ExportError, export_model, export_run
    from ...export.common import load_weights
    from ...train.engine import CheckpointError

    try:
        if job.what == RUN:
            report = export_run(job.run_dir, job.fmt, job.out)
        else:
            project, state_dict = job.project, None
            if job.weights is not None:
                state_dict, stored_project = load_weights(job.weights)
                # A checkpoint names the network its weights were trained for; the current design
                # may have changed since, and its weights would not fit.
                if job.weights_from_checkpoint_file and stored_project is not None:
                    if project is not None and not _same_network(project, stored_project):
                        job.notes.append("the checkpoint's own network was exported: it differs from the "
                                         "current design")
                    project = stored_project
            report = export_model(project, job.fmt, job.out, state_dict=state_dict)
    except (ExportError, CheckpointError) as exc:
        return ExportOutcome(job, error=str(exc), node_id=getattr(exc, "node_id", None),
                             node_name=getattr(exc, "node_name", None))
    except OSError as exc:
        return ExportOutcome(job, error=f"cannot write {job.out}: {exc.strerror or exc}")
    report.messages[:0] = job.notes
    return ExportOutcome(job, report=report, sizes=[(path, _size_on_disk(path)) for path in report.paths])


def _size_on_disk(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0


# --------------------------------------------------------------------------- wording
def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value, unit = float(size), "bytes"
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024:
            break
    return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"


def scientific(value: float) -> str:
    """3.14e-07 → "3.1e-7", 0.0001 → "1e-4": two digits say enough about a rounding difference."""
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return "∞"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def verification_text(report) -> str:
    if report.format in FORMATS:
        reader = _READERS.get(report.format, "reloaded")
        if report.max_abs_diff is not None and report.batch:
            return (f"Verified: {reader}, max |difference| {scientific(report.max_abs_diff)} ≤ "
                    f"{scientific(report.tolerance)} on a batch of {report.batch}.")
        return f"Verified: {reader}." if report.verified else "Not verified."
    if report.max_abs_diff is not None:
        return (f"Verified: read back; every recorded value matches the run (max |difference| "
                f"{scientific(report.max_abs_diff)}).")
    return "Verified: read back and checked." if report.verified else "Not verified."


def sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def describe_run(record) -> str:
    """"2025-01-01 14:02 · test accuracy 97.1%": when a run started and how well it did."""
    parts = [record.started.strftime("%Y-%m-%d %H:%M") if record.started else record.name]
    summary = record.summary or {}
    if isinstance(summary.get("test_accuracy"), (int, float)):
        parts.append(f"test accuracy {summary['test_accuracy'] * 100:.1f}%")
    elif record.best_val_accuracy() is not None:
        parts.append(f"best validation accuracy {record.best_val_accuracy() * 100:.1f}%")
    elif record.final("val_loss") is not None:
        parts.append(f"validation loss {record.final('val_loss'):.4f}")
    if record.status != "finished":
        parts.append(f"{record.status}, {record.epochs} epoch{'s' if record.epochs != 1 else ''}")
    return " · ".join(parts)


def run_weights(run_dir: Path) -> tuple[Path | None, str | None]:
    """The weights a run folder holds (as `netbuilder export RUN` takes them) and a note when they
    are not the final ones."""
    if (run_dir / "model.pt").is_file():
        return run_dir / "model.pt", None
    if (run_dir / "checkpoints" / "last.pt").is_file():
        return (run_dir / "checkpoints" / "last.pt",
                "the run has no model.pt (it did not finish): exported its last checkpoint")
    return None, None


def _short_path(path: Path) -> str:
    parts = path.parts
    return str(Path(*parts[-2:])) if len(parts) > 2 else str(path)


def _swap_suffix(name: str, old: str, new: str) -> str:
    if old and name.endswith(old):
        name = name[: -len(old)]
    elif not old and new and "." in name:
        name = name.rsplit(".", 1)[0]
    return name + new


# --------------------------------------------------------------------------- the dialog
class WrappedText(QLabel):
    """Wrapping text whose height follows its width: form and grid layouts size rows by
    sizeHint(), which for a wrapping QLabel assumes a narrow column and leaves gaps."""

    def __init__(self, text: str = "", parent=None, role: str = "hint"):
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setProperty("role", role)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        if self.width() > hint.width():
            return QSize(hint.width(), self.heightForWidth(self.width()))
        return hint

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(hint.width(), min(hint.height(), self.sizeHint().height()))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()


class ExportDialog(QDialog):
    """Choose what to export, where its weights come from and where it goes; run it in the
    background and show how the result was verified.

    `project_getter()` gives the open Project (or None), `project_path_getter()` its file (or
    None while unsaved); `run_dir` is the run to offer first (default: the newest run of the
    project beside its file).
    """

    exported = Signal(str)              # the main file (or folder) written, after it verified
    export_failed = Signal(str)         # why an export failed: one sentence, never a traceback
    show_node_requested = Signal(str)   # a node id: the layer a format cannot express

    def __init__(self, project_getter, project_path_getter, parent=None, run_dir=None):
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setWindowFlag(Qt.WindowType.WindowContextHelpButtonHint, False)
        self.setWindowIcon(icons.icon("export"))
        self.project_getter = project_getter
        self.project_path_getter = project_path_getter
        self.given_run_dir = Path(run_dir) if run_dir else None
        self.latest_run = None                 # RunRecord
        self.other_run_dir: Path | None = None
        self.checkpoint_path: Path | None = None
        self.last_outcome: ExportOutcome | None = None
        self.last_error: str | None = None     # the failure shown, when the last export failed
        self._busy = False
        self._auto_path: Path | None = None    # the output path last filled in by the dialog itself
        self._failed_node: str | None = None
        self._model_block: str | None = None   # why model exports must wait (set_model_exports_blocked)
        # The format and files of the last export: not worth a warning, the user has just made them.
        self._just_written: tuple[str, set[Path]] = ("", set())

        self._build()
        self.model_radio.setChecked(True)
        self.refresh_runs()
        settings = files.app_settings()
        # Run artifacts were exported last time; without a run now, the model is what can be exported.
        if settings.value(_WHAT_KEY, MODEL) == RUN and self.latest_run is not None:
            self.run_radio.setChecked(True)
        self._fill_formats()
        remembered = settings.value(_FORMAT_KEY, "")
        self.format_combo.setCurrentIndex(max(0, self.format_combo.findData(
            remembered if remembered in self._current_formats() else self._preferred_format())))
        self._shown_format = self.fmt
        self._reset_output_path()
        self._connect()
        self._update()
        self.resize(660, 10)
        self._fit_height()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.heading = QLabel(self)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.heading.setFont(font)
        self.subheading = WrappedText("Every model export is read back with the format's own reader and "
                                      "compared with the network before it counts as done.", self)

        self.model_radio = QRadioButton("&Model", self)
        self.model_radio.setToolTip("The network: its weights, a compiled module, an ONNX graph, Python code "
                                    "or a training script")
        self.run_radio = QRadioButton("&Training run", self)
        self.run_radio.setToolTip("A training run's metrics, plots and model card")
        self.what_group = QButtonGroup(self)
        self.what_group.addButton(self.model_radio)
        self.what_group.addButton(self.run_radio)
        what_row = QWidget(self)
        what_layout = QHBoxLayout(what_row)
        what_layout.setContentsMargins(0, 0, 0, 0)
        what_layout.setSpacing(18)
        what_layout.addWidget(self.model_radio)
        what_layout.addWidget(self.run_radio)
        what_layout.addStretch(1)

        self.format_combo = QComboBox(self)
        self.format_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.format_combo.setMinimumContentsLength(24)
        self.format_description = WrappedText("", self)
        self.format_description.setContentsMargins(0, 0, 0, 6)

        # Where the weights (or the run) come from.
        source = QWidget(self)
        grid = QGridLayout(source)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        self.latest_radio = QRadioButton("&Latest run", source)
        self.latest_radio.setEnabled(False)  # until refresh_runs finds one
        self.other_run_radio = QRadioButton("A&nother run folder", source)
        self.checkpoint_radio = QRadioButton("C&heckpoint file", source)
        self.untrained_radio = QRadioButton("&Untrained (freshly initialised) weights", source)
        self.source_group = QButtonGroup(self)
        for kind, radio in ((LATEST_RUN, self.latest_radio), (OTHER_RUN, self.other_run_radio),
                            (CHECKPOINT, self.checkpoint_radio), (UNTRAINED, self.untrained_radio)):
            radio.setProperty("source", kind)
            self.source_group.addButton(radio)
        self.latest_detail = WrappedText("", source)
        self.other_run_detail = WrappedText("", source)
        self.checkpoint_detail = WrappedText("", source)
        for label in (self.latest_detail, self.other_run_detail, self.checkpoint_detail):
            label.setWordWrap(False)
            label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.choose_run_button = QPushButton("Choose…", source)
        self.choose_run_button.setToolTip("Pick a run folder (runs/NAME-TIMESTAMP)")
        self.choose_checkpoint_button = QPushButton("Choose…", source)
        self.choose_checkpoint_button.setToolTip("Pick a training checkpoint (RUN/checkpoints/last.pt) or a saved "
                                                 "state dict (RUN/model.pt)")
        grid.addWidget(self.latest_radio, 0, 0)
        grid.addWidget(self.latest_detail, 0, 1, 1, 2)
        grid.addWidget(self.other_run_radio, 1, 0)
        grid.addWidget(self.other_run_detail, 1, 1)
        grid.addWidget(self.choose_run_button, 1, 2)
        grid.addWidget(self.checkpoint_radio, 2, 0)
        grid.addWidget(self.checkpoint_detail, 2, 1)
        grid.addWidget(self.choose_checkpoint_button, 2, 2)
        grid.addWidget(self.untrained_radio, 3, 0, 1, 3)
        self.source_note = WrappedText("", source)
        grid.addWidget(self.source_note, 4, 0, 1, 3)
        grid.setColumnStretch(1, 1)
        # Rows with and without a Choose… button are spaced alike.
        for row in range(4):
            grid.setRowMinimumHeight(row, self.choose_run_button.sizeHint().height())
        self.source_widget = source

        self.path_edit = QLineEdit(self)
        self.path_edit.setClearButtonEnabled(True)
        self.path_edit.setMinimumWidth(320)
        self.browse_button = QPushButton("&Browse…", self)
        self.browse_button.setIcon(icons.icon("folder"))
        path_row = QWidget(self)
        path_layout = QHBoxLayout(path_row)
        path_layout.setContentsMargins(0, 0, 0, 0)
        path_layout.setSpacing(6)
        path_layout.addWidget(self.path_edit, 1)
        path_layout.addWidget(self.browse_button)
        self.path_note = WrappedText("", self)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(10)
        what_label = QLabel("Export:", self)
        format_label = QLabel("&Format:", self)
        format_label.setBuddy(self.format_combo)
        self.source_label = QLabel("Weights:", self)
        path_label = QLabel("&Save to:", self)
        path_label.setBuddy(self.path_edit)
        form.addRow(what_label, what_row)
        form.addRow(format_label, self.format_combo)
        form.addRow("", self.format_description)
        form.addRow(self.source_label, source)
        form.addRow(path_label, path_row)
        form.addRow("", self.path_note)
        # A label beside a column of radio buttons lines up with the first of them.
        for label in (what_label, self.source_label):
            label.setFixedHeight(self.model_radio.sizeHint().height())
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.result_card = self._build_result_card()

        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton("&Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setDefault(True)
        self.export_button.setAutoDefault(True)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setAutoDefault(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 14)
        layout.setSpacing(6)
        layout.addWidget(self.heading)
        layout.addWidget(self.subheading)
        layout.addSpacing(10)
        layout.addLayout(form)
        layout.addSpacing(6)
        layout.addWidget(self.result_card)
        layout.addStretch(1)
        layout.addSpacing(6)
        layout.addWidget(self.buttons)

        order = [self.model_radio, self.run_radio, self.format_combo, self.latest_radio, self.other_run_radio,
                 self.choose_run_button, self.checkpoint_radio, self.choose_checkpoint_button, self.untrained_radio,
                 self.path_edit, self.browse_button, self.open_folder_button, self.show_node_button,
                 self.export_button, self.close_button]
        for first, second in zip(order, order[1:]):
            QWidget.setTabOrder(first, second)

    def _build_result_card(self) -> QFrame:
        card = QFrame(self)
        card.setObjectName("panelCard")
        grid = QGridLayout(card)
        grid.setContentsMargins(14, 12, 14, 12)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        self.result_icon = QLabel(card)
        self.result_icon.setFixedSize(QSize(28, 28))
        self.result_icon.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.result_title = QLabel(card)
        font = self.result_title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.08)
        self.result_title.setFont(font)
        self.progress = QProgressBar(card)
        self.progress.setRange(0, 0)  # busy: how long tracing and checking take is unknown
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.result_detail = WrappedText("", card, role="status-ok")
        self.result_files = WrappedText("", card, role="files")
        self.result_files.setTextFormat(Qt.TextFormat.PlainText)
        self.result_notes = WrappedText("", card)
        self.open_folder_button = QPushButton("&Open Folder", card)
        self.open_folder_button.setIcon(icons.icon("open"))
        self.open_folder_button.setToolTip("Show the exported files in the file manager")
        self.show_node_button = QPushButton("Show La&yer", card)
        self.show_node_button.setToolTip("Select the layer at fault in the canvas")
        actions = QHBoxLayout()
        actions.setContentsMargins(0, 6, 0, 0)
        actions.addWidget(self.open_folder_button)
        actions.addWidget(self.show_node_button)
        actions.addStretch(1)
        grid.addWidget(self.result_icon, 0, 0, 5, 1, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.result_title, 0, 1)
        grid.addWidget(self.progress, 1, 1)
        grid.addWidget(self.result_detail, 2, 1)
        grid.addWidget(self.result_files, 3, 1)
        grid.addWidget(self.result_notes, 4, 1)
        grid.addLayout(actions, 5, 1)
        grid.setColumnStretch(1, 1)
        card.setVisible(False)
        return card

    def _connect(self) -> None:
        self.what_group.buttonToggled.connect(self._on_what_toggled)
        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        self.source_group.buttonToggled.connect(self._on_source_toggled)
        self.choose_run_button.clicked.connect(lambda: self.choose_run_folder())
        self.choose_checkpoint_button.clicked.connect(lambda: self.choose_checkpoint())
        self.path_edit.textChanged.connect(self._update)
        self.browse_button.clicked.connect(lambda: self.browse())
        self.export_button.clicked.connect(self.start_export)
        self.close_button.clicked.connect(self.reject)
        self.open_folder_button.clicked.connect(self.open_folder)
        self.show_node_button.clicked.connect(self._show_node)

    def _fit_height(self) -> None:
        """Grow to show what was added (notes, the result); wrapped text needs more height than the
        dialog had when it was laid out."""
        layout = self.layout()
        layout.activate()
        needed = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else layout.sizeHint().height()
        if needed > self.height():
            self.resize(self.width(), needed)

    # ------------------------------------------------------------------ state
    @property
    def what(self) -> str:
        return RUN if self.run_radio.isChecked() else MODEL

    @property
    def fmt(self) -> str:
        return self.format_combo.currentData() or ""

    @property
    def source(self) -> str:
        checked = self.source_group.checkedButton()
        return checked.property("source") if checked is not None else UNTRAINED

    def is_busy(self) -> bool:
        return self._busy

    def _current_formats(self) -> dict:
        return RUN_FORMATS if self.what == RUN else FORMATS

    def _preferred_format(self) -> str:
        return "report" if self.what == RUN else "onnx"

    def _suffix(self, fmt: str | None = None) -> str:
        fmt = fmt or self.fmt
        return (FORMATS.get(fmt) or RUN_FORMATS.get(fmt) or ("", ""))[1]

    def _project(self) -> Project | None:
        return self.project_getter()

    def _project_path(self) -> Path | None:
        path = self.project_path_getter()
        return Path(path) if path else None

    def output_path(self) -> Path | None:
        text = self.path_edit.text().strip()
        if not text:
            return None
        path = Path(text).expanduser()
        if self.fmt in _FOLDER_ARTIFACTS:
            return path
        if path.is_dir():
            return path / self._default_name()
        if not path.suffix and self._suffix():
            path = path.with_name(path.name + self._suffix())  # "lenet" means lenet.onnx
        return path

    def _stem(self) -> str:
        project = self._project()
        return file_stem_for(project) if project is not None else "model"

    def _default_name(self, fmt: str | None = None) -> str:
        fmt = fmt or self.fmt
        project = self._project()
        if fmt in FORMATS:
            return default_file_name(project, fmt) if project is not None else "model" + FORMATS[fmt][1]
        return {"metrics-csv": f"{self._stem()}-metrics.csv", "metrics-json": f"{self._stem()}-metrics.json",
                "plots": f"{self._stem()}-plots", "card": f"{self._stem()}-model-card.md",
                "report": f"{self._stem()}-report"}.get(fmt, self._stem())

    def _default_folder(self) -> Path:
        path = self._project_path()
        return path.parent if path is not None else Path.home()

    # ------------------------------------------------------------------ choices
    def set_what(self, what: str) -> None:
        (self.run_radio if what == RUN else self.model_radio).setChecked(True)

    def set_format(self, fmt: str) -> None:
        if fmt in RUN_FORMATS and self.what != RUN:
            self.set_what(RUN)
        elif fmt in FORMATS and self.what != MODEL:
            self.set_what(MODEL)
        index = self.format_combo.findData(fmt)
        if index < 0:
            raise KeyError(fmt)
        self.format_combo.setCurrentIndex(index)

    def set_source(self, kind: str, path: str | Path | None = None) -> None:
        """LATEST_RUN, OTHER_RUN (with a run folder), CHECKPOINT (with a file) or UNTRAINED."""
        if kind == OTHER_RUN and path is not None:
            self.other_run_dir = Path(path)
        elif kind == CHECKPOINT and path is not None:
            self.checkpoint_path = Path(path)
        radio = {LATEST_RUN: self.latest_radio, OTHER_RUN: self.other_run_radio, CHECKPOINT: self.checkpoint_radio,
                 UNTRAINED: self.untrained_radio}[kind]
        radio.setChecked(True)
        self._update()

    def set_output(self, path: str | Path) -> None:
        self.path_edit.setText(str(path))

    def set_run_dir(self, run_dir: str | Path | None) -> None:
        """The run to offer as the latest (a dialog kept between uses learns of new runs here)."""
        self.given_run_dir = Path(run_dir) if run_dir else None
        self.refresh_runs()
        self._update()

    def set_model_exports_blocked(self, reason: str | None) -> None:
        """Hold model exports back (with `reason` shown where the Export button explains itself),
        or let them go again with None. Run artifacts stay exportable."""
        self._model_block = reason
        self._update()

    def refresh_runs(self) -> None:
        """Find the run to offer first: the one given, else the newest beside the project."""
        record = None
        if self.given_run_dir is not None:
            record = run_history.read_run(self.given_run_dir)
        if record is None:
            project = self._project()
            name = project.name if project is not None else "Untitled"
            path = self._project_path()
            records = run_history.list_runs(run_history.runs_folder(path, name), run_history.run_prefix(path, name))
            record = records[0] if records else None
        self.latest_run = record
        if record is not None:
            self.latest_detail.setText(describe_run(record))
            self.latest_detail.setToolTip(str(record.path))
            newly_available = not self.latest_radio.isEnabled()
            self.latest_radio.setEnabled(True)
            # Trained weights are the better default, but a choice the user made stays made.
            if newly_available and self.source_group.checkedButton() in (None, self.untrained_radio):
                self.latest_radio.setChecked(True)
        else:
            self.latest_detail.setText("none yet — train the network to get one")
            self.latest_detail.setToolTip("")
            self.latest_radio.setEnabled(False)
            if self.source_group.checkedButton() in (None, self.latest_radio):
                (self.other_run_radio if self.what == RUN else self.untrained_radio).setChecked(True)

    def _fill_formats(self) -> None:
        self.format_combo.clear()
        for fmt, (title, suffix, _description) in self._current_formats().items():
            self.format_combo.addItem(f"{title}  ({suffix or 'folder'})", fmt)

    def _on_what_toggled(self, button, checked: bool) -> None:
        if not checked:
            return
        previous = self.fmt
        self.format_combo.blockSignals(True)
        self._fill_formats()
        self.format_combo.setCurrentIndex(max(0, self.format_combo.findData(self._preferred_format())))
        self.format_combo.blockSignals(False)
        if self.what == RUN and self.source in (CHECKPOINT, UNTRAINED):
            (self.latest_radio if self.latest_radio.isEnabled() else self.other_run_radio).setChecked(True)
        elif self.what == MODEL and self.source == OTHER_RUN and self.other_run_dir is None:
            (self.latest_radio if self.latest_radio.isEnabled() else self.untrained_radio).setChecked(True)
        self._follow_format(previous)
        files.app_settings().setValue(_WHAT_KEY, self.what)

    def _on_format_changed(self, _index: int) -> None:
        self._follow_format(self._shown_format)
        if self.fmt:
            files.app_settings().setValue(_FORMAT_KEY, self.fmt)

    def _follow_format(self, previous: str | None) -> None:
        """Keep the output path in step with the format: a name the dialog chose follows it; a name
        the user typed keeps its stem and gets the new suffix."""
        self._shown_format = self.fmt
        if not self.fmt or previous == self.fmt:
            self._update()
            return
        text = self.path_edit.text().strip()
        if not text or (self._auto_path is not None and Path(text) == self._auto_path):
            self._reset_output_path()
        elif previous:
            path = Path(text)
            self.path_edit.setText(str(path.with_name(_swap_suffix(path.name, self._suffix(previous),
                                                                     self._suffix()))))
        self._update()

    def _reset_output_path(self, folder: Path | None = None) -> None:
        current = self.path_edit.text().strip()
        if folder is None:
            folder = Path(current).expanduser().parent if current else self._default_folder()
        self._auto_path = folder / self._default_name()
        self.path_edit.setText(str(self._auto_path))

    def _on_source_toggled(self, button, checked: bool) -> None:
        # No picker pops up here: arrowing through the options would open one at every step.
        if checked:
            self._update()

    def choose_run_folder(self) -> bool:
        project = self._project()
        start = self.other_run_dir or run_history.runs_folder(self._project_path(),
                                                              project.name if project else "Untitled")
        if not Path(start).is_dir():
            start = self._default_folder()
        folder = QFileDialog.getExistingDirectory(self, "Choose a Run Folder", str(start))
        if not folder:
            return False
        self.other_run_dir = Path(folder)
        self.other_run_radio.setChecked(True)
        self._update()
        return True

    def choose_checkpoint(self) -> bool:
        start = self.checkpoint_path.parent if self.checkpoint_path else (
            self.latest_run.path if self.latest_run is not None else self._default_folder())
        path, _ = QFileDialog.getOpenFileName(self, "Choose a Checkpoint", str(start),
                                              "Checkpoints and state dicts (*.pt *.pth);;All files (*)")
        if not path:
            return False
        self.checkpoint_path = Path(path)
        self.checkpoint_radio.setChecked(True)
        self._update()
        return True

    def browse(self) -> bool:
        current = self.output_path() or (self._default_folder() / self._default_name())
        if self.fmt in _FOLDER_ARTIFACTS:
            start = current.parent if not current.is_dir() else current
            folder = QFileDialog.getExistingDirectory(self, "Export Into Folder", str(start))
            if not folder:
                return False
            chosen = Path(folder)
            # A folder that already holds other things gets the artifacts in a subfolder of their own.
            if chosen.is_dir() and any(chosen.iterdir()) and not self._holds_artifacts(chosen):
                chosen = chosen / self._default_name()
            self.path_edit.setText(str(chosen))
            return True
        title, suffix, _ = self._current_formats()[self.fmt]
        pattern = f"*{suffix}" if suffix else "*"
        # The overwrite question comes once, when exporting, for files picked and typed alike.
        path, _ = QFileDialog.getSaveFileName(self, "Export As", str(current), f"{title} ({pattern});;All files (*)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if not path:
            return False
        self.path_edit.setText(path)
        return True

    def _holds_artifacts(self, folder: Path) -> bool:
        return any((folder / name).exists() for name in _FOLDER_ARTIFACTS.get(self.fmt, ()))

    # ------------------------------------------------------------------ checks
    def _run_for_source(self) -> Path | None:
        if self.source == LATEST_RUN and self.latest_run is not None:
            return self.latest_run.path
        if self.source == OTHER_RUN:
            return self.other_run_dir
        return None

    def _plan(self) -> tuple[ExportJob | None, str | None, list[tuple[str, bool]]]:
        """(the job Export would run, why it cannot run, notes to show as (text, is a warning)) from
        the current choices. The job's project may be the live one; start_export snapshots it."""
        notes: list[tuple[str, bool]] = []
        out = self.output_path()
        fmt = self.fmt
        if not fmt:
            return None, "Choose a format.", notes
        if self.what == RUN:
            run_dir = self._run_for_source()
            if run_dir is None:
                return None, "Choose the run folder to export.", notes
            if not is_run_folder(run_dir):
                return None, f"{run_dir} is not a run folder (it has no summary.json, metrics.csv or " \
                             f"project.nbproj).", notes
            if fmt != "card" and not (run_dir / "metrics.csv").is_file():
                return None, "The run ended before its first epoch: it has no metrics to export yet.", notes
            if out is None:
                return None, "Choose where to save the export.", notes
            return ExportJob(RUN, fmt, out, run_dir=run_dir), None, notes

        project = self._project()
        if project is None:
            return None, "No network is open.", notes
        if self._model_block:
            return None, self._model_block, notes
        job = ExportJob(MODEL, fmt, out or Path())
        if fmt == "script":
            # A training script trains from scratch: the weights chosen play no part.
            job.project = project
            notes.append(("The training script starts from the initial weights; it needs no trained ones.", False))
        elif self.source in (LATEST_RUN, OTHER_RUN):
            run_dir = self._run_for_source()
            if run_dir is None:
                return None, "Choose the run folder whose weights to export.", notes
            if not (run_dir / "project.nbproj").is_file():
                return None, f"{run_dir.name} has no project.nbproj, so the network it trained is unknown.", notes
            weights, note = run_weights(run_dir)
            if weights is None:
                return None, f"{run_dir.name} holds no weights: the run ended before its first checkpoint.", notes
            try:
                job.project = Project.load(run_dir / "project.nbproj")
            except ProjectError as exc:
                return None, sentence(str(exc)), notes
            job.run_dir, job.weights = run_dir, weights
            if note:
                job.notes.append(note)
                notes.append((sentence(note), True))
            if not _same_network(job.project, project):
                notes.append(("The run trained another version of the design: the network it trained is exported, "
                              "with its weights.", False))
        elif self.source == CHECKPOINT:
            if self.checkpoint_path is None:
                return None, "Choose the checkpoint file to export.", notes
            if not self.checkpoint_path.is_file():
                return None, f"{self.checkpoint_path}: no such file.", notes
            job.project = project
            job.weights = self.checkpoint_path
            job.weights_from_checkpoint_file = True
        else:
            job.project = project
            notes.append(("The exported model is untrained: its weights are the initial ones training would start "
                          "from, so its predictions are random.", True))
        if job.weights is None or not job.weights_from_checkpoint_file:
            from ...compile.codegen import CompileError, check
            try:
                check(job.project.graph)
            except CompileError as exc:
                return None, (f"The network has errors and cannot be exported: {exc}. Fix the issues listed under "
                              f"Issues first."), notes
        if out is None:
            return None, "Choose where to save the export.", notes
        if out.suffix == ".nbproj":
            return None, f"{out.name} is a project file name; choose a name ending in {FORMATS[fmt][1]}.", notes
        if fmt in ("python", "script") and out.suffix != ".py":
            return None, f"{FORMATS[fmt][0]} needs a file name ending in .py.", notes
        if job.weights is not None and any(path.resolve() == job.weights.resolve() for path in self._targets(out)):
            return None, "The output would overwrite the weights being exported; choose another file name.", notes
        job.out = out
        return job, None, notes

    def _targets(self, out: Path) -> list[Path]:
        """The files an export to `out` writes (those an existing copy of would be replaced)."""
        if self.fmt in _FOLDER_ARTIFACTS:
            return [out / name for name in _FOLDER_ARTIFACTS[self.fmt]]
        if self.fmt == "python":
            return [out, out.with_suffix(".pt")]
        return [out]

    def _update(self, *_args) -> None:
        model = self.what == MODEL
        project = self._project()
        self.heading.setText(f"Export {project.name}" if project is not None and project.name else "Export")
        formats = self._current_formats()
        if self.fmt in formats:
            self.format_description.setText(formats[self.fmt][2])
        self.source_label.setText("Weights:" if model else "Run:")
        self.checkpoint_radio.setVisible(model)
        self.checkpoint_detail.setVisible(model)
        self.choose_checkpoint_button.setVisible(model)
        self.untrained_radio.setVisible(model)
        self.source_widget.setEnabled(not self._busy and not (model and self.fmt == "script"))
        self.other_run_detail.setText(self._run_label(self.other_run_dir) if self.other_run_dir else "none chosen")
        self.other_run_detail.setToolTip(str(self.other_run_dir or ""))
        self.checkpoint_detail.setText(_short_path(self.checkpoint_path) if self.checkpoint_path else "none chosen")
        self.checkpoint_detail.setToolTip(str(self.checkpoint_path or ""))

        job, problem, notes = self._plan()
        self.source_note.setText("\n".join(text for text, _warning in notes))
        self.source_note.setVisible(bool(notes))
        set_role(self.source_note, "status-warning" if any(warning for _text, warning in notes) else "hint")

        targets = self._targets(job.out) if job is not None else []
        just_written = self._just_written[1] if self._just_written[0] == self.fmt else set()
        existing = [path for path in targets if path.exists() and path not in just_written]
        if problem:
            self.path_note.setText(problem)
            set_role(self.path_note, "status-error")
        elif existing:
            self.path_note.setText(f"{existing[0].name} already exists in {existing[0].parent}; exporting replaces it."
                                   if len(existing) == 1 else
                                   f"{', '.join(p.name for p in existing)} already exist in {existing[0].parent}; "
                                   f"exporting replaces them.")
            set_role(self.path_note, "status-warning")
        else:
            self.path_note.setText("")
        self.path_note.setVisible(bool(self.path_note.text()))
        self.export_button.setEnabled(problem is None and not self._busy)
        self.export_button.setToolTip(problem or "Export and verify the result")
        for widget in (self.model_radio, self.run_radio, self.format_combo, self.path_edit, self.browse_button):
            widget.setEnabled(not self._busy)
        self._fit_height()

    def _run_label(self, run_dir: Path) -> str:
        record = run_history.read_run(run_dir)
        return f"{run_dir.name} · {describe_run(record).split(' · ', 1)[-1]}" if record is not None else run_dir.name

    # ------------------------------------------------------------------ exporting
    def start_export(self) -> bool:
        """Check the choices, confirm replacing existing files, and start the export in the background."""
        if self._busy:
            return False
        self._update()
        job, problem, _notes = self._plan()
        if job is None:
            self._show_failure(problem or "Nothing to export.", None)
            return False
        existing = [path for path in self._targets(job.out) if path.exists()]
        if existing:
            names = "\n".join(str(path) for path in existing)
            answer = QMessageBox.question(
                self, "Replace Existing Files?" if len(existing) > 1 else "Replace Existing File?",
                f"{'These files already exist' if len(existing) > 1 else 'This file already exists'}:\n\n{names}\n\n"
                "Replace with the export?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        if job.project is not None and job.project is self._project():
            job.project = job.project.copy()
        self._set_busy(True, job)
        background.run_in_background(lambda: perform_export(job), self._on_done, self._on_crash, receiver=self)
        return True

    def _set_busy(self, busy: bool, job: ExportJob | None = None) -> None:
        self._busy = busy
        if busy:
            title = (self._current_formats().get(job.fmt) or (job.fmt,))[0]
            self.result_icon.clear()
            self.result_title.setText(f"Exporting {title}…")
            set_role(self.result_detail, "hint")
            self.result_detail.setText("Building the network, writing the file and reading it back to check it."
                                       if job.what == MODEL else "Reading the run and writing its files.")
            self.result_files.setText(str(job.out))
            self.result_notes.setVisible(False)
            self.open_folder_button.setVisible(False)
            self.show_node_button.setVisible(False)
            self.progress.setVisible(True)
            self.result_card.setVisible(True)
            self.setCursor(Qt.CursorShape.BusyCursor)
            self.close_button.setToolTip("Close: the export goes on in the background and still writes its file")
        else:
            self.progress.setVisible(False)
            self.unsetCursor()
            self.close_button.setToolTip("")
        self._update()

    def _on_done(self, outcome: ExportOutcome) -> None:
        if outcome.ok:
            self._just_written = (outcome.job.fmt, set(self._targets(outcome.job.out)))
        self._set_busy(False)
        self.last_outcome = outcome
        if outcome.ok:
            self._show_success(outcome)
            self.exported.emit(str(outcome.report.path))
        else:
            self._show_failure(sentence(outcome.error), outcome.node_id, outcome.node_name)

    def _on_crash(self, message: str) -> None:
        self._set_busy(False)
        self.last_outcome = None
        first = (message.strip().splitlines() or ["unknown error"])[0]
        self._show_failure(f"The export stopped unexpectedly: {first[:300]}", None)

    def _show_success(self, outcome: ExportOutcome) -> None:
        report = outcome.report
        self.last_error = None
        self.result_icon.setPixmap(icons.colored_icon("check", OK_COLOR).pixmap(QSize(26, 26)))
        title = (FORMATS.get(report.format) or RUN_FORMATS.get(report.format) or (report.format,))[0]
        self.result_title.setText(f"Exported {title}")
        set_role(self.result_detail, "status-ok")
        self.result_detail.setText(verification_text(report))
        lines = []
        for path, size in outcome.sizes:
            kind = " (folder)" if path.is_dir() else ""
            lines.append(f"{path}{kind} — {human_size(size)}")
        if len(lines) > 4:  # a report folder: its folder and how much it holds says enough
            total = sum(size for _, size in outcome.sizes)
            lines = lines[:3] + [f"… and {len(lines) - 3} more files ({human_size(total)} in all)"]
        self.result_files.setText("\n".join(lines))
        notes = [sentence(message) for message in report.messages]
        self.result_notes.setText("\n".join(notes))
        self.result_notes.setVisible(bool(notes))
        untrained = outcome.job.what == MODEL and outcome.job.weights is None and report.format != "script"
        diverged = any("NaN" in message for message in report.messages)
        set_role(self.result_notes, "status-warning" if untrained or diverged else "hint")
        self.open_folder_button.setVisible(True)
        self.show_node_button.setVisible(False)
        self.result_card.setVisible(True)
        self._fit_height()

    def _show_failure(self, message: str, node_id: str | None, node_name: str | None = None) -> None:
        self.last_error = message
        self.result_icon.setPixmap(icons.colored_icon("error", ERROR_COLOR).pixmap(QSize(26, 26)))
        self.result_title.setText("Export failed")
        set_role(self.result_detail, "status-error")
        self.result_detail.setText(message)
        self.result_files.setText("Nothing was written; any existing file was left as it was.")
        self.result_notes.setVisible(False)
        self.open_folder_button.setVisible(False)
        self._failed_node = node_id
        self.show_node_button.setVisible(node_id is not None)
        self.show_node_button.setText(f"Show La&yer {node_name}" if node_name else "Show La&yer")
        self.result_card.setVisible(True)
        self._fit_height()
        self.export_failed.emit(message)

    def _show_node(self) -> None:
        if self._failed_node:
            self.show_node_requested.emit(self._failed_node)

    def open_folder(self) -> None:
        if self.last_outcome is None or not self.last_outcome.ok:
            return
        path = self.last_outcome.report.path
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path if path.is_dir() else path.parent)))

    # ------------------------------------------------------------------ look
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._busy:
            self.refresh_runs()  # a run may have finished since the dialog was last shown
            # Another project may be open now, or this one saved elsewhere: a path the dialog chose
            # follows it; one the user chose stays.
            if self._auto_path is not None and self.path_edit.text().strip() == str(self._auto_path):
                self._reset_output_path(self._default_folder())
            self._update()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self.setWindowIcon(icons.icon("export", self.palette()))
            self.browse_button.setIcon(icons.icon("folder", self.palette()))
            self.open_folder_button.setIcon(icons.icon("open", self.palette()))

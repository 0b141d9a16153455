"""Training ▸ Hyperparameter Search…: random search over short runs (train/search.py) with the
ranges, trial count and run length chosen here; trials are listed best first as they finish, an
optimum at the edge of its range is pointed out, and "Apply Best" writes the winning values into
the project as one undoable step.

The runs happen on a worker thread on a copy of the project; each finished trial arrives as plain
data through a signal.
"""
from __future__ import annotations

import threading

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QGridLayout, QGroupBox,
                               QHBoxLayout, QHeaderView, QLabel, QPushButton, QSpinBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout)

from ...core.params import ParamSpec
from ...train.search import SEARCHABLE, Range, apply_values, edge_notes
from .. import background
from ..spin_boxes import NumberSpinBox

# The ranges offered, with their starting bounds (the learning rate's follow the project's).
STARTING_RANGES = {"lr": None, "l2": (1e-6, 1e-2), "weight_decay": (1e-6, 1e-2), "l1": (1e-7, 1e-3),
                   "momentum": (0.5, 0.99), "label_smoothing": (0.0, 0.2), "dropout": (0.0, 0.6)}
TITLES = {"lr": "Learning rate", "l2": "L2 (λ)", "weight_decay": "Weight decay", "l1": "L1 (λ)",
          "momentum": "Momentum", "label_smoothing": "Label smoothing", "dropout": "Dropout p (every layer)"}


class SearchDialog(QDialog):
    trial_done = Signal(object, int)   # a Trial and the planned count, from the worker thread
    search_finished = Signal(list)     # the trials, best first (empty after an error)

    def __init__(self, document_getter, path_getter, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Hyperparameter Search")
        self.setObjectName("searchDialog")
        self.get_document = document_getter
        self.get_path = path_getter
        self._stop = threading.Event()
        self._running = False
        self._blocked: str | None = None
        self._ranges: list[Range] = []
        self.trials: list = []

        layout = QVBoxLayout(self)
        intro = QLabel("Random search: every trial trains a short run with each checked value drawn at random "
                       "(rates and strengths log-uniformly, the rest uniformly) and is ranked by validation "
                       "accuracy. Search coarsely first (1 epoch, a subset, wide ranges), then narrow the ranges "
                       "around the best trials and search again with more epochs.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        ranges_box = QGroupBox("Ranges", self)
        grid = QGridLayout(ranges_box)
        self.range_rows: dict[str, tuple[QCheckBox, NumberSpinBox, NumberSpinBox]] = {}
        for row, name in enumerate(SEARCHABLE):
            scale = SEARCHABLE[name][1]
            check = QCheckBox(TITLES[name], ranges_box)
            spec = ParamSpec(name, "float", 0.0, minimum=0.0, maximum=0.99 if name == "dropout" else 10.0,
                             log_scale=scale == "log")
            low, high = NumberSpinBox(spec, ranges_box), NumberSpinBox(spec, ranges_box)
            for box in (low, high):
                box.setMinimumWidth(110)
            grid.addWidget(check, row, 0)
            grid.addWidget(low, row, 1)
            grid.addWidget(QLabel("to", ranges_box), row, 2)
            grid.addWidget(high, row, 3)
            grid.addWidget(QLabel("log-uniform" if scale == "log" else "uniform", ranges_box), row, 4)
            grid.setColumnStretch(5, 1)   # the editors keep their size; the room goes to the right
            check.toggled.connect(self._update_buttons)
            self.range_rows[name] = (check, low, high)
        layout.addWidget(ranges_box)

        run_box = QGroupBox("Runs", self)
        form = QFormLayout(run_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.trials_box = QSpinBox(run_box)
        self.trials_box.setRange(1, 500)
        self.trials_box.setValue(10)
        self.epochs_box = QSpinBox(run_box)
        self.epochs_box.setRange(1, 1000)
        self.epochs_box.setValue(1)
        self.limit_box = QSpinBox(run_box)
        self.limit_box.setRange(0, 10_000_000)
        self.limit_box.setSingleStep(1000)
        self.limit_box.setSpecialValueText("all")
        self.limit_box.setValue(5000)
        for box in (self.trials_box, self.epochs_box, self.limit_box):
            box.setMinimumWidth(110)
        self.limit_box.setToolTip("Training samples per run: a subset keeps a coarse search quick")
        form.addRow("Trials", self.trials_box)
        form.addRow("Epochs per trial", self.epochs_box)
        form.addRow("Training samples", self.limit_box)
        layout.addWidget(run_box)

        self.table = QTableWidget(0, 0, self)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.start_button = QPushButton("Start", self)
        self.stop_button = QPushButton("Stop", self)
        self.apply_button = QPushButton("Apply Best", self)
        self.apply_button.setToolTip("Write the best trial's values into the project (undoable)")
        row = QHBoxLayout()
        for button in (self.start_button, self.stop_button, self.apply_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(buttons)
        layout.addLayout(row)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.apply_button.clicked.connect(self.apply_best)
        buttons.rejected.connect(self.reject)
        self.trial_done.connect(self._on_trial)
        self.resize(760, 720)
        self.reset_ranges()

    # ------------------------------------------------------------------ ranges
    def reset_ranges(self) -> None:
        """Offer what the project has: dropout only with Dropout layers, momentum only where the
        optimizer has one; the learning rate 30× either side of the project's."""
        document = self.get_document()
        project = document.project if document is not None else None
        lr = float(project.settings["optimizer"]["lr"]) if project is not None else 1e-3
        has_dropout = project is not None and any(n.type in ("Dropout", "Dropout2d")
                                                  for n in project.graph.nodes.values())
        has_momentum = project is not None and "momentum" in project.settings["optimizer"]
        for name, (check, low, high) in self.range_rows.items():
            bounds = STARTING_RANGES[name] or (float(f"{lr / 30:.1g}"), float(f"{min(lr * 30, 10.0):.1g}"))
            low.setValue(bounds[0])
            high.setValue(bounds[1])
            available = {"dropout": has_dropout, "momentum": has_momentum}.get(name, True)
            for widget in (check, low, high):
                widget.setEnabled(available)
            check.setToolTip("" if available else ("The network has no Dropout layer" if name == "dropout"
                                                   else "This optimizer has no momentum"))
            check.setChecked(available and name in ("lr", "l2"))
        self._update_buttons()

    def chosen_ranges(self) -> list[Range]:
        ranges = []
        for name, (check, low, high) in self.range_rows.items():
            if check.isChecked() and check.isEnabled():
                lo, hi = sorted((low.value(), high.value()))
                ranges.append(Range(name, lo, hi, SEARCHABLE[name][1]))
        return ranges

    # ------------------------------------------------------------------ state
    @property
    def is_running(self) -> bool:
        return self._running

    def set_blocked(self, reason: str | None) -> None:
        """Hold new searches back (while training runs: both would draw from PyTorch's random generator)."""
        self._blocked = reason
        if reason and not self._running:
            self.status.setText(reason)
        self._update_buttons()

    def _update_buttons(self, *_args) -> None:
        self.start_button.setEnabled(not self._running and not self._blocked and bool(self.chosen_ranges()))
        self.stop_button.setEnabled(self._running)
        self.apply_button.setEnabled(not self._running and any(t.score is not None for t in self.trials))

    # ------------------------------------------------------------------ running
    def start(self) -> bool:
        if self._running or self._blocked:
            return False
        document = self.get_document()
        ranges = self.chosen_ranges()
        if document is None or not ranges:
            return False
        for r in ranges:
            if r.scale == "log" and r.low <= 0:
                self.status.setText(f"{TITLES[r.name]} is drawn log-uniformly: both ends must be above 0.")
                return False
        if not document.analysis.ok:
            self.status.setText("Fix the network's errors first (see the Issues list).")
            return False
        from ...train.engine import Overrides
        snapshot = document.project.copy()
        path = self.get_path()
        project_dir = path.parent if path else None
        overrides = Overrides(epochs=self.epochs_box.value(), limit=self.limit_box.value() or None)
        trials = self.trials_box.value()
        self._ranges = ranges
        self.trials = []
        self._fill_table()
        self._stop.clear()
        self._running = True
        self._update_buttons()
        self.status.setText("Loading the data for the first trial…")
        stop, emit = self._stop, self.trial_done.emit

        def work():
            from ...train.search import run_search
            return run_search(snapshot, ranges, trials=trials, overrides=overrides, project_dir=project_dir,
                              progress=emit, should_stop=stop.is_set)

        background.run_in_background(work, self._on_done, self._on_error, receiver=self)
        return True

    def stop(self) -> None:
        """End the search after the trial in progress."""
        if self._running:
            self._stop.set()
            self.status.setText("Stopping after the trial in progress…")
            self.stop_button.setEnabled(False)

    def _on_trial(self, trial, total: int) -> None:
        self.trials.append(trial)
        self.trials.sort(key=lambda t: (t.score is None, -(t.score or 0.0), t.number))
        self._fill_table()
        if self._running and not self._stop.is_set():
            self.status.setText(f"Trial {len(self.trials)} of {total} done ({trial.seconds:.1f} s).")

    def _on_done(self, trials: list) -> None:
        self._running = False
        self.trials = list(trials)
        self._fill_table()
        best = self.trials[0] if self.trials and self.trials[0].score is not None else None
        if best is None:
            self.status.setText("No trial produced a result." if self.trials else "Stopped before the first trial.")
        else:
            shown = ", ".join(f"{TITLES[k].lower()} {v:.3g}" for k, v in best.values.items())
            notes = edge_notes(self._ranges, best)
            self.status.setText(f"Best: trial {best.number} ({shown}) with {best.metric} {abs(best.score):.4f}."
                                + "".join(f"\nNote: {n}." for n in notes))
        self._update_buttons()
        self.search_finished.emit(self.trials)

    def _on_error(self, message: str) -> None:
        self._running = False
        self.status.setText(f"The search stopped: {message}")
        self._update_buttons()
        self.search_finished.emit([])

    def _fill_table(self) -> None:
        names = [r.name for r in self._ranges]
        headers = ["Rank", "Trial", *[TITLES[n] for n in names], "Time", "Result"]
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(self.trials))
        for row, t in enumerate(self.trials):
            result = t.error or (f"{t.metric} {abs(t.score):.4f}" if t.score is not None else "no result")
            cells = [str(row + 1), str(t.number), *[f"{t.values[n]:.3g}" for n in names], f"{t.seconds:.1f} s", result]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column < len(cells) - 1:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)

    # ------------------------------------------------------------------ applying
    def apply_best(self) -> bool:
        """The best trial's values into the project, as one undoable step."""
        from ..editor.commands import SetParamCommand
        document = self.get_document()
        best = self.trials[0] if self.trials and self.trials[0].score is not None else None
        if document is None or best is None:
            return False
        tuned = apply_values(document.project, best.values)
        stack = document.undo_stack
        stack.beginMacro(f"Apply search trial {best.number}")
        try:
            for section in ("optimizer", "regularization"):
                if tuned.settings[section] != document.project.settings[section]:
                    document.set_settings(section, tuned.settings[section])
            with document.batch():
                for node_id, node in tuned.graph.nodes.items():
                    if node.type in ("Dropout", "Dropout2d") and node.params["p"] != document.graph.nodes[node_id].params["p"]:
                        stack.push(SetParamCommand(document, node_id, "p", node.params["p"]))
        finally:
            stack.endMacro()
        self.status.setText(f"Applied trial {best.number}'s values to the project (Edit ▸ Undo takes them back).")
        return True

    # ------------------------------------------------------------------ closing
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._running and not self.trials:
            self.reset_ranges()

    def done(self, result: int) -> None:
        self._stop.set()   # a search still running ends after its current trial
        super().done(result)

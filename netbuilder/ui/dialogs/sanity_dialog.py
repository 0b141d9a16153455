"""Training ▸ Sanity Checks…: the checks worth running before a long run (initial loss against
ln C, L2 raising the loss, a float64 gradient check, overfitting 20 samples), run on a worker
thread with their verdicts and explanations listed as they arrive.

The checks work on a copy of the project; the worker hands back plain CheckResults and progress
text through signals, never touching a widget.
"""
from __future__ import annotations

import threading

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QGridLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout,
                               QWidget)

from .. import background, icons

CHECK_TITLES = ("Initial loss", "Regularization", "Gradient check", "Overfit 20 samples")
VERDICT_STYLE = {"pass": ("check", "#16a34a", "Passed"), "warn": ("warning", "#d97706", "Look at this"),
                 "fail": ("error", "#e53935", "Failed"), "skip": ("info", "#6b7280", "Does not apply")}


class SanityDialog(QDialog):
    progress = Signal(str)           # emitted by the worker thread; delivered queued on the GUI thread
    finished_checks = Signal(list)   # the CheckResults of a completed pass (for tests and callers)

    def __init__(self, get_project, get_project_path, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Sanity Checks")
        self.setObjectName("sanityDialog")
        self.get_project = get_project
        self.get_project_path = get_project_path
        self._stop = threading.Event()
        self._running = False
        self._blocked: str | None = None
        self.results: list = []

        layout = QVBoxLayout(self)
        intro = QLabel("Checks worth running before a long training run. They prepare the network and data as "
                       "training would and work on a copy; the project is not changed.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        grid_host = QWidget(self)
        self.grid = QGridLayout(grid_host)
        self.grid.setContentsMargins(0, 8, 0, 8)
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(12)
        self.grid.setColumnStretch(2, 1)
        self.rows = []
        for i, title in enumerate(CHECK_TITLES):
            mark, name, text = QLabel(grid_host), QLabel(f"<b>{title}</b>", grid_host), QLabel(grid_host)
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            for column, widget in enumerate((mark, name, text)):
                self.grid.addWidget(widget, i, column, Qt.AlignmentFlag.AlignTop)
            self.rows.append((mark, text))
        layout.addWidget(grid_host)
        layout.addStretch(1)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.run_button = QPushButton("Run Checks", self)
        self.run_button.setToolTip("Run every check again on the network as it is now")
        self.run_button.clicked.connect(self.run_checks)
        buttons.addButton(self.run_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.progress.connect(self.status.setText)
        self.resize(720, 420)
        self._clear_rows("Not run yet.")

    # ------------------------------------------------------------------ state
    @property
    def is_running(self) -> bool:
        return self._running

    def set_blocked(self, reason: str | None) -> None:
        """Hold the checks back (while training runs: they reseed PyTorch's random generator)."""
        self._blocked = reason
        self._update_button()
        if reason and not self._running:
            self.status.setText(reason)

    def _update_button(self) -> None:
        self.run_button.setEnabled(not self._running and not self._blocked)

    def _clear_rows(self, text: str) -> None:
        for mark, label in self.rows:
            mark.setPixmap(icons.colored_icon("info", "#9ca3af").pixmap(18, 18))
            label.setText(text)

    # ------------------------------------------------------------------ running
    def run_checks(self) -> bool:
        if self._running or self._blocked:
            return False
        project = self.get_project()
        if project is None:
            self.status.setText("Open or create a network first.")
            return False
        from ...core.shapes import analyze
        analysis = analyze(project.graph)
        if not analysis.ok:
            first = analysis.errors[0]
            node = project.graph.nodes.get(first.node_id) if first.node_id else None
            self.status.setText(f"Fix the network first: {node.name + ': ' if node else ''}{first.message}")
            return False
        snapshot = project.copy()
        path = self.get_project_path()
        project_dir = path.parent if path else None
        self._stop.clear()
        self._running = True
        self._update_button()
        self._clear_rows("Waiting…")
        self.status.setText("Preparing the network and data…")
        stop, emit = self._stop, self.progress.emit

        def work():
            from ...train.sanity import run_checks
            return run_checks(snapshot, project_dir=project_dir, progress=emit, should_stop=stop.is_set)

        background.run_in_background(work, self._on_done, self._on_error, receiver=self)
        return True

    def _on_done(self, results: list) -> None:
        self._running = False
        self._update_button()
        self.results = list(results)
        for (mark, label), result in zip(self.rows, results):
            icon_name, color, word = VERDICT_STYLE.get(result.verdict, VERDICT_STYLE["skip"])
            mark.setPixmap(icons.colored_icon(icon_name, color).pixmap(18, 18))
            mark.setToolTip(word)
            label.setText(result.summary[:1].upper() + result.summary[1:])
        for mark, label in self.rows[len(results):]:
            label.setText("Not run (stopped).")
        counts = {v: sum(r.verdict == v for r in results) for v in ("pass", "warn", "fail")}
        if len(results) < len(self.rows):
            self.status.setText("Stopped.")
        elif counts["fail"]:
            self.status.setText(f"{counts['fail']} check{'s' if counts['fail'] != 1 else ''} failed: fix the cause "
                                f"before training.")
        elif counts["warn"]:
            self.status.setText("Every check ran; read the warnings before a long run.")
        else:
            self.status.setText("Every check passed: the network is ready for a long run.")
        self.finished_checks.emit(self.results)

    def _on_error(self, message: str) -> None:
        self._running = False
        self._update_button()
        self._clear_rows("Not run.")
        self.status.setText(f"The checks could not run: {message}")
        self.finished_checks.emit([])

    # ------------------------------------------------------------------ closing
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._running and not self.results and not self._blocked:
            self.run_checks()

    def done(self, result: int) -> None:
        self._stop.set()   # a pass still running ends after its current check; its result is dropped
        super().done(result)

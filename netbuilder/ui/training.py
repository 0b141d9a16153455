"""Train from the window: the Train / Pause / Stop actions, the device chooser, the progress
readout for the status bar, the monitor docks and the run history.

The main window installs one controller:

    controller = TrainingController(window, lambda: window.document.project, lambda: window.document.path)
    toolbar.addActions(controller.actions.values()); toolbar.addWidget(controller.device_chooser)
    controller.install_docks()                      # or addDockWidget(...) for each of controller.docks
    window.statusBar().addPermanentWidget(controller.progress_widget)
    # in closeEvent: if not controller.confirm_close(): event.ignore(); return

A run trains a copy of the project on a worker thread (see worker.py); the window stays
responsive and the plots redraw from buffered data. Stop returns within one batch; Pause holds
the run between two batches and Resume continues the same run.
"""
from __future__ import annotations

import collections
import gc
import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (QApplication, QComboBox, QDockWidget, QHBoxLayout, QLabel, QMainWindow, QMessageBox,
                               QProgressBar, QWidget)

from ..core.shapes import analyze
from . import icons, run_history
from .monitor import Monitor
from .worker import RunError, TrainingWorker, prepare_process

GREEN, RED = "#2e9d4a", "#d64541"
STOP_WAIT_SECONDS = 10.0

# Dock titles and the two tab groups they are arranged in (left: over iterations; right: per epoch/layer).
DOCK_TITLES = {"loss": "Loss", "learning_rate": "Learning Rate", "updates": "Update Ratio", "histograms": "Histograms",
               "runs": "Runs", "accuracy": "Accuracy", "filters": "Filters", "receptive_field": "Receptive Field",
               "decision_boundary": "Decision Boundary", "confusion": "Confusion"}
LEFT_GROUP = ("loss", "learning_rate", "updates", "histograms", "runs")
RIGHT_GROUP = ("accuracy", "filters", "receptive_field", "decision_boundary", "confusion")


def panels_for(project) -> set[str]:
    """The monitor panels that show something for this project's kind of input: the decision
    boundary needs points in a plane, filters and receptive fields need images."""
    panels = set(LEFT_GROUP) | set(RIGHT_GROUP)
    inputs = [n for n in project.graph.nodes.values() if n.type == "Input"] if project is not None else []
    kind = inputs[0].params.get("kind") if len(inputs) == 1 else None
    if kind != "image":
        panels -= {"receptive_field", "filters"}
    if not (kind == "vector" and int(inputs[0].params.get("features") or 0) == 2):
        panels -= {"decision_boundary"}
    return panels


def rf_geometry(project, analysis=None) -> dict:
    """Theoretical receptive field of each spatial layer's units, by layer (node) name."""
    analysis = analysis or analyze(project.graph)
    out = {}
    for nid, info in analysis.nodes.items():
        rf = info.receptive_field
        shape = info.output_shape
        if rf is None or shape is None or len(rf.size) != 2:
            continue
        node = project.graph.nodes[nid]
        entry = {"size": tuple(rf.size), "jump": tuple(rf.jump) if rf.jump else None,
                 "start": tuple(rf.start) if rf.start else None, "global": rf.is_global,
                 "out": tuple(shape[-2:]) if len(shape) >= 3 else None}
        if entry["out"] is None and not rf.is_global:
            continue
        out[node.name] = entry
    return out


def action_icon(name: str, color: str | None = None) -> QIcon:
    """A toolbar icon in a signal colour (green Train, red Stop) that greys out when disabled."""
    if color is None:
        return icons.icon(name)
    coloured, plain = icons.colored_icon(name, color), icons.icon(name)
    icon = QIcon()
    for size in (16, 20, 24, 32, 40):
        icon.addPixmap(coloured.pixmap(size, size), QIcon.Mode.Normal)
        icon.addPixmap(plain.pixmap(size, size, QIcon.Mode.Disabled), QIcon.Mode.Disabled)
    return icon


def _format_seconds(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


class GuiThreadCollector(QObject):
    """While a run trains, Python's cycle collector runs only here, on the GUI thread.

    Left automatic, it runs in whichever thread happens to allocate, often the training thread;
    collecting a discarded plot item's Qt objects there deadlocks against the GUI thread. So
    automatic collection is paused during the run and done on a timer instead (the way
    pyqtgraph recommends), then restored."""

    FULL_EVERY_S = 60.0  # a full collection scans every object: tens of milliseconds, so rarely

    def __init__(self, parent=None, interval_ms: int = 500):
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self._was_enabled = None
        self._last_full = 0.0

    def start(self) -> None:
        if self._was_enabled is None:
            gc.collect()  # what is already garbage goes now, here
            gc.freeze()   # and what lives now is not scanned again during the run
            self._was_enabled = gc.isenabled()
            gc.disable()
            self._last_full = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        if self._was_enabled is not None:
            gc.unfreeze()
            if self._was_enabled:
                gc.enable()
            self._was_enabled = None

    def check(self) -> None:
        thresholds = gc.get_threshold()
        counts = gc.get_count()
        now = time.perf_counter()
        if counts[2] > thresholds[2] and now - self._last_full > self.FULL_EVERY_S:
            gc.collect(2)
            self._last_full = now
        elif counts[1] > thresholds[1]:
            gc.collect(1)
        elif counts[0] > thresholds[0]:
            gc.collect(0)


class ProgressWidget(QWidget):
    """For the status bar: a progress bar (epoch and batch), throughput and time left."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("trainingProgress")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(10)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("trainingProgressBar")
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setTextVisible(True)
        self.bar.setFixedWidth(250)
        self.bar.setMaximumHeight(18)
        self.bar.setFormat("Ready to train")
        self.speed = QLabel(self)
        self.speed.setToolTip("Training throughput over the last seconds")
        self.eta = QLabel(self)
        self.eta.setToolTip("Estimated time until the run ends")
        layout.addWidget(self.bar)
        layout.addWidget(self.speed)
        layout.addWidget(self.eta)

    def set_state(self, text: str, fraction: float | None = None, speed: str = "", eta: str = "") -> None:
        if fraction is None:
            self.bar.setRange(0, 0)  # busy
        else:
            if self.bar.maximum() == 0:
                self.bar.setRange(0, 1000)
            self.bar.setValue(int(min(max(fraction, 0.0), 1.0) * 1000))
        self.bar.setFormat(text)
        self.speed.setText(speed)
        self.eta.setText(eta)


class DeviceChooser(QComboBox):
    """Where to train: Auto, the CPU, and the GPUs this computer actually has (found in the
    background, because asking needs PyTorch)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("deviceChooser")
        self.setToolTip("Where to train: Auto picks a CUDA GPU, then Apple's GPU, then the CPU")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.addItem("Auto", "auto")
        self.addItem("CPU", "cpu")
        self.report = None
        self._probing = False

    def probe(self) -> None:
        """Ask which devices exist (once, on a worker thread)."""
        if self._probing or self.report is not None:
            return
        self._probing = True
        # A child process answers until torch is loaded here: importing it on a thread is unsafe.
        from .probe import ask_devices
        self._question = ask_devices(self._on_report, self._on_probe_failed, self)

    def _on_probe_failed(self, _message: str) -> None:
        self._probing = False  # the next look at the list asks again

    def _on_report(self, report) -> None:
        self.report = report
        current = self.device()
        self.blockSignals(True)
        self.clear()
        auto_name = {"cuda": "CUDA GPU", "mps": "Apple GPU"}.get(report.auto, "CPU")
        self.addItem(f"Auto ({auto_name})", "auto")
        for kind, description in report.available.items():
            title = {"cpu": "CPU", "cuda": "CUDA", "mps": "Apple GPU"}.get(kind, kind)
            self.addItem(f"{title}", kind)
            self.setItemData(self.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        self.set_device(current)
        self.blockSignals(False)

    def showPopup(self) -> None:
        self.probe()
        super().showPopup()

    def device(self) -> str:
        return self.currentData() or "auto"

    def set_device(self, kind: str) -> None:
        index = self.findData(kind)
        self.setCurrentIndex(index if index >= 0 else 0)

    def available(self) -> list[str]:
        return [self.itemData(i) for i in range(self.count())]


class TrainingController(QObject):
    """Runs training for a main window and owns the monitor docks. See the module notes."""

    run_started = Signal(dict)
    run_finished = Signal(dict)
    run_failed = Signal(str)
    running_changed = Signal(bool)   # a run started (True) or its thread ended (False)

    def __init__(self, main_window: QMainWindow, get_project: Callable, get_project_path: Callable, parent=None):
        super().__init__(parent or main_window)
        prepare_process()  # before anything loads PyTorch
        self.window = main_window
        self.get_project = get_project
        self.get_project_path = get_project_path
        self.show_dialogs = True          # False: failures are only signalled (headless runs, tests)
        self.error_dialog: QMessageBox | None = None
        self.last_error: RunError | None = None
        self.last_summary: dict | None = None
        self.run_dir: Path | None = None
        self.thread: QThread | None = None
        self.worker: TrainingWorker | None = None
        self.headless_run = None  # the --train / --screenshot flow, when one is scheduled
        # Asked before a run starts: a reason to wait (the window's sanity checks or search are
        # drawing from PyTorch's random generator), or None.
        self.start_blocker: Callable[[], str | None] | None = None
        self._running = False
        self._paused = False
        self._stopping = False
        self._announced_running = False
        self._batch_size = 1
        self._epochs = 1
        self._info: dict = {}
        self._last_rows = None
        self._rate_window: collections.deque = collections.deque()
        self._active_seconds = 0.0
        self._resumed_at: float | None = None
        self._last_progress = 0.0

        self.collector = GuiThreadCollector(self)
        self.monitor = Monitor(self)
        self.buffer = self.monitor.buffer
        self.runs = run_history.RunHistoryPanel(get_project, get_project_path)
        self.runs.overlays_changed.connect(self.buffer.set_overlays)

        self.actions: dict[str, QAction] = {}
        self._make_actions()
        self.device_chooser = DeviceChooser(main_window)
        # Name the device behind "Auto" soon, but after the window is up and drawn.
        QTimer.singleShot(1500, self.device_chooser.probe)
        self.progress_widget = ProgressWidget(main_window)
        self.docks: list[QDockWidget] = self._make_docks()
        self.dock_by_name = {d.property("panel"): d for d in self.docks}
        QTimer.singleShot(0, self.runs.refresh)
        self._update_actions()
        main_window.installEventFilter(self)  # a new look (light / dark) re-tints the icons

    def eventFilter(self, watched, event) -> bool:
        if watched is self.window and event.type() == QEvent.Type.PaletteChange:
            self.refresh_icons()
        return False

    # ------------------------------------------------------------------ construction
    def _make_actions(self) -> None:
        def action(key, text, icon, shortcut, tip, slot, checkable=False):
            a = QAction(icon, text, self.window)
            a.setObjectName(f"training_{key}")
            a.setShortcuts([QKeySequence(s) for s in shortcut])
            keys = a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            a.setToolTip(f"{tip} ({keys})")
            a.setStatusTip(tip)
            a.setCheckable(checkable)
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.triggered.connect(slot)
            self.window.addAction(a)
            self.actions[key] = a
            return a

        action("train", "Train", action_icon("train-start", GREEN), ["F5"],
               "Train the network and watch it learn", lambda _c=False: self._on_train())
        action("pause", "Pause", action_icon("train-pause"), ["F6"], "Pause training between two batches; "
               "press again to resume", self._on_pause_toggled, checkable=True)
        action("stop", "Stop", action_icon("train-stop", RED), ["Shift+F5"],
               "Stop training after the current batch (the run keeps what it learnt)", lambda _c=False: self.stop())
        self._icon_colors = {"train": ("train-start", GREEN), "pause": ("train-pause", None),
                             "stop": ("train-stop", RED)}

    def refresh_icons(self) -> None:
        """Re-tint the actions' icons after the look changed (light / dark)."""
        for key, (name, color) in self._icon_colors.items():
            self.actions[key].setIcon(action_icon(name, color))

    def _make_docks(self) -> list[QDockWidget]:
        docks = []
        widgets = dict(self.monitor.panels)
        widgets["runs"] = self.runs
        for name in (*LEFT_GROUP, *RIGHT_GROUP):
            widget = widgets[name]
            dock = QDockWidget(DOCK_TITLES[name], self.window)
            dock.setObjectName(f"monitor_{name}_dock")
            dock.setProperty("panel", name)
            dock.setWidget(widget)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                             QDockWidget.DockWidgetFeature.DockWidgetClosable |
                             QDockWidget.DockWidgetFeature.DockWidgetFloatable)
            if hasattr(widget, "export_action"):
                dock.addAction(widget.export_action)  # right-click on the dock's title: Export Plot…
                dock.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
            docks.append(dock)
        return docks

    def install_docks(self, area: Qt.DockWidgetArea = Qt.DockWidgetArea.BottomDockWidgetArea,
                      beside: QDockWidget | None = None) -> None:
        """Add the docks in two tab groups side by side: iteration plots | epoch and layer views.

        With `beside` (a dock already in the window, e.g. Issues), the first group joins its tabs."""
        w = self.window
        left = [self.dock_by_name[n] for n in LEFT_GROUP]
        right = [self.dock_by_name[n] for n in RIGHT_GROUP]
        if beside is not None:
            # (a tabbed dock cannot be split: the right group goes beside the whole tab group)
            w.addDockWidget(w.dockWidgetArea(beside), right[0], Qt.Orientation.Horizontal)
            w.tabifyDockWidget(beside, left[0])
        else:
            w.addDockWidget(area, left[0])
            w.splitDockWidget(left[0], right[0], Qt.Orientation.Horizontal)
        for group in (left, right):
            for dock in group[1:]:
                w.tabifyDockWidget(group[0], dock)
            group[0].raise_()
        height = max(int(w.height() * 0.42), 340)
        w.resizeDocks([left[0], right[0]], [height, height], Qt.Orientation.Vertical)
        width = max(int(w.width() * 0.4), 420)
        w.resizeDocks([beside or left[0], right[0]], [width, width], Qt.Orientation.Horizontal)

    def show_panels_for(self, project, force: bool = False) -> None:
        """Show the panels that apply to the project's input and hide the rest — only when that set
        changes (or when forced), so a panel the user opened by hand stays open while they edit."""
        wanted = panels_for(project)
        if wanted == getattr(self, "_shown_panels", None) and not force:
            return
        self._shown_panels = wanted
        for name, dock in self.dock_by_name.items():
            dock.setVisible(name in wanted)
        for group in (LEFT_GROUP, RIGHT_GROUP):
            first = next((self.dock_by_name[n] for n in group if n in wanted), None)
            if first is not None:
                first.raise_()

    def project_changed(self) -> None:
        """The window now shows another project: list its runs; clear the plots unless training."""
        self.show_panels_for(self.get_project())
        self.runs.current_run = self.run_dir if self._running else None
        self.runs.refresh()
        if not self._running:
            self.buffer.set_overlays([])
            self.buffer.clear()
            self.buffer.request()
            self.buffer.redraw_all()
            self.progress_widget.set_state("Ready to train", 0.0)

    def panel(self, name: str):
        return self.runs if name == "runs" else self.monitor.panels[name]

    def show_panel(self, name: str) -> None:
        dock = self.dock_by_name.get(name)
        if dock is not None:
            dock.show()
            dock.raise_()

    def export_plot(self, name: str, path) -> Path:
        """Write one panel's plot to PNG or SVG (by the suffix)."""
        return self.monitor.panels[name].export(path)

    # ------------------------------------------------------------------ state
    @property
    def is_running(self) -> bool:
        return self._running

    @property
    def is_paused(self) -> bool:
        return self._running and self._paused

    def _update_actions(self) -> None:
        a = self.actions
        a["train"].setEnabled(not self._running or self._paused)
        a["train"].setText("Resume" if self._paused else "Train")
        a["pause"].setEnabled(self._running and not self._stopping)
        a["pause"].blockSignals(True)
        a["pause"].setChecked(self._paused)
        a["pause"].blockSignals(False)
        a["pause"].setText("Resume" if self._paused else "Pause")
        a["stop"].setEnabled(self._running and not self._stopping)
        self.device_chooser.setEnabled(not self._running)
        if self._running != self._announced_running:
            self._announced_running = self._running
            self.running_changed.emit(self._running)

    # ------------------------------------------------------------------ commands
    def _on_train(self) -> None:
        if self._paused:
            self.resume()
        else:
            self.start()

    def _on_pause_toggled(self, checked: bool) -> None:
        if checked:
            self.pause()
        else:
            self.resume()

    def start(self, overrides: dict | None = None, data=None) -> bool:
        """Start a run of the current project (a copy: editing during training is safe).

        overrides: epochs, batch_size, device, dataset, data_root, limit (None = the project's).
        Returns False when the run could not start (the reason is signalled and shown)."""
        if self._running:
            return False
        try:
            return self._start(overrides, data)
        except Exception as exc:  # a project that cannot even be copied or analysed: say why
            self._running = False
            self._update_actions()
            self._fail(RunError("model", "Training cannot start", f"{type(exc).__name__}: {exc}"))
            return False

    def _start(self, overrides: dict | None, data) -> bool:
        project = self.get_project()
        if project is None:
            self._fail(RunError("model", "Nothing to train", "Open or create a network first."))
            return False
        wait = self.start_blocker() if self.start_blocker is not None else None
        if wait:
            self._fail(RunError("busy", "Training must wait", wait))
            return False
        analysis = analyze(project.graph)
        if not analysis.ok:
            problems = []
            for p in analysis.errors[:5]:
                node = project.graph.nodes.get(p.node_id) if p.node_id else None
                problems.append(f"• {node.name + ': ' if node is not None else ''}{p.message}")
            self._fail(RunError("model", "The network has errors", "Fix these before training:\n" + "\n".join(problems)))
            return False
        overrides = {k: v for k, v in dict(overrides or {}).items() if v is not None}
        overrides.setdefault("device", self.device_chooser.device())
        snapshot = project.copy()
        path = self.get_project_path()
        path = Path(path) if path else None
        self.run_dir = run_history.new_run_dir(path, snapshot.name)
        training = snapshot.settings["training"]
        self._batch_size = int(overrides.get("batch_size") or training["batch_size"])
        self._epochs = int(overrides.get("epochs") or training["epochs"])
        self._geometry = rf_geometry(snapshot, analysis)
        self._settings = snapshot.settings

        self.worker = TrainingWorker(snapshot, overrides, self.run_dir, path.parent if path else None, data=data)
        self.thread = QThread()
        self.thread.setObjectName("trainingThread")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.worker.status.connect(self._on_status)
        self.worker.started.connect(self._on_started)
        self.worker.batches.connect(self._on_batches)
        self.worker.probe.connect(self._on_probe)
        self.worker.epoch_ended.connect(self._on_epoch)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.done.connect(self._on_done)
        self.thread.finished.connect(self._on_thread_finished)

        self._running, self._paused, self._stopping = True, False, False
        self._info = {}
        self._last_rows = None
        self._rate_window.clear()
        self._active_seconds, self._resumed_at = 0.0, None
        self.last_error = None
        self.last_summary = None
        self.runs.current_run = self.run_dir
        self.buffer.on_started({}, snapshot.settings, self._geometry)
        self.buffer.set_status("Preparing…")
        self.progress_widget.set_state("Starting…", None)
        self._update_actions()
        self.collector.start()
        self.thread.start()
        return True

    def pause(self) -> None:
        if not self._running or self._paused or self._stopping:
            self._update_actions()
            return
        self.worker.pause()
        self._paused = True
        if self._resumed_at is not None:
            self._active_seconds += time.perf_counter() - self._resumed_at
            self._resumed_at = None
        self._rate_window.clear()
        self._show_progress(force=True)
        self._update_actions()

    def resume(self) -> None:
        if not self._running or not self._paused:
            self._update_actions()
            return
        self.worker.resume()
        self._paused = False
        if self._info:
            self._resumed_at = time.perf_counter()
        self._show_progress(force=True)
        self._update_actions()

    def stop(self) -> None:
        """Ask the run to stop after the current batch; `run_finished` follows within one batch."""
        if not self._running or self._stopping:
            return
        self._stopping = True
        self.worker.request_stop()
        self._paused = False
        self.progress_widget.set_state("Stopping…", None)
        self._update_actions()

    def wait(self, timeout: float = STOP_WAIT_SECONDS) -> bool:
        """Process events until the run's thread has ended; False on timeout."""
        deadline = time.perf_counter() + timeout
        while self.thread is not None and time.perf_counter() < deadline:
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            if self.thread is not None and self.thread.wait(10):
                QApplication.processEvents()
        return self.thread is None or not self.thread.isRunning()

    def confirm_close(self, ask: bool = True) -> bool:
        """For the window's closeEvent: True when it may close. A running run is (after asking)
        stopped and waited for, so no thread outlives the window."""
        if not self._running:
            return True
        if ask:
            answer = QMessageBox.question(
                self.window, "Training in Progress",
                "A network is training. Stop the run and close?\n\nWhat it has learnt so far is kept in its run folder.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.stop()
        finished = self.wait(STOP_WAIT_SECONDS)
        if not finished and self.thread is not None:
            # Still busy (a dataset being read): let the thread end on its own, detached from the window.
            thread, worker = self.thread, self.worker
            _ORPHANS.add((thread, worker))
            thread.setParent(None)
            thread.finished.connect(lambda: _ORPHANS.discard((thread, worker)))
        return True

    # ------------------------------------------------------------------ from the worker (GUI thread)
    @Slot(str, object)
    def _on_status(self, message: str, fraction) -> None:
        self.buffer.set_status(message)
        if not self._info:
            self.progress_widget.set_state(message if fraction is None else f"{message} {fraction:.0%}", fraction)

    @Slot(object)
    def _on_started(self, info: dict) -> None:
        self._info = dict(info)
        self._epochs = int(info.get("epochs") or self._epochs)
        self._resumed_at = None if self._paused else time.perf_counter()
        self._active_seconds = 0.0
        self.buffer.on_started(info, self._settings, self._geometry)
        self.device_chooser.probe()  # PyTorch is loaded now: asking is quick
        kind = info.get("input_kind")
        if kind == "vector" and tuple(info.get("input_shape") or ()) == (2,):
            self.show_panel("decision_boundary")
        elif kind == "image":
            self.show_panel("filters")
        self._show_progress(force=True)
        self.run_started.emit(dict(info))

    @Slot(object)
    def _on_batches(self, rows) -> None:
        self.buffer.on_batches(rows)
        self._last_rows = rows[-1]
        now = time.perf_counter()
        self._rate_window.append((now, float(rows[-1][0])))
        while len(self._rate_window) > 2 and now - self._rate_window[0][0] > 4.0:
            self._rate_window.popleft()
        self._show_progress()

    @Slot(object)
    def _on_probe(self, probe: dict) -> None:
        self.buffer.on_probe(probe)

    @Slot(object)
    def _on_epoch(self, record: dict) -> None:
        self.buffer.on_epoch(record)
        self._show_progress(force=True)

    @Slot(object)
    def _on_finished(self, summary: dict) -> None:
        self.last_summary = dict(summary)
        self.buffer.on_finished(summary)
        self._stopping = False
        acc = summary.get("final_val_accuracy")
        acc = summary.get("final_train_accuracy") if acc is None else acc
        seconds = summary.get("seconds")
        parts = ["Stopped" if summary.get("stopped") else "Early stop" if summary.get("early_stopped") else "Finished"]
        if summary.get("epochs") is not None:
            parts.append(f"{summary['epochs']} epoch{'s' if summary['epochs'] != 1 else ''}")
        if acc is not None:
            parts.append(f"{acc * 100:.1f}%")
        test = summary.get("test_accuracy")
        self.progress_widget.set_state(" · ".join(parts), 1.0 if not summary.get("stopped") else
                                       self.progress_widget.bar.value() / 1000,
                                       speed=f"test accuracy {test * 100:.1f}%" if test is not None else "",
                                       eta=f"in {_format_seconds(seconds)}" if seconds else "")
        self.progress_widget.bar.setToolTip(f"Run folder: {self.run_dir}")

    @Slot(object)
    def _on_failed(self, error: RunError) -> None:
        self._stopping = False
        self.buffer.on_failed(str(error))
        self.progress_widget.set_state(f"Failed: {error.title}", 0.0)
        self._fail(error)

    @Slot()
    def _on_done(self) -> None:
        if self.thread is not None:
            self.thread.quit()

    @Slot()
    def _on_thread_finished(self) -> None:
        thread, worker = self.thread, self.worker
        self.thread, self.worker = None, None
        self.collector.stop()
        self._running, self._paused, self._stopping = False, False, False
        self._update_actions()
        if worker is not None:
            worker.deleteLater()
        if thread is not None:
            thread.deleteLater()
        self.runs.refresh()
        if self.last_summary is not None and self.last_error is None:
            self.run_finished.emit(dict(self.last_summary))

    # ------------------------------------------------------------------ readouts
    def _show_progress(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last_progress < 0.2:
            return
        self._last_progress = now
        info = self._info
        if not info:
            return
        spe = max(int(info.get("steps_per_epoch") or 1), 1)
        start_epoch = int(info.get("start_epoch") or 1)
        total = spe * max(self._epochs - start_epoch + 1, 1)
        if self._last_rows is not None:
            step, epoch, batch = int(self._last_rows[0]), int(self._last_rows[1]), int(self._last_rows[2])
            done_in_run = step + 1 - (start_epoch - 1) * spe
        else:
            step, epoch, batch, done_in_run = -1, start_epoch, -1, 0
        fraction = done_in_run / total
        state = "Paused · " if self._paused else ""
        text = f"{state}Epoch {epoch}/{self._epochs} · batch {batch + 1}/{spe}"
        speed = ""
        if len(self._rate_window) >= 2 and not self._paused:
            (t0, s0), (t1, s1) = self._rate_window[0], self._rate_window[-1]
            if t1 > t0:
                speed = f"{(s1 - s0) / (t1 - t0) * self._batch_size:,.0f} samples/s"
        active = self._active_seconds + ((now - self._resumed_at) if self._resumed_at is not None else 0.0)
        eta = ""
        if 0 < done_in_run < total and active > 0.5:
            eta = f"ETA {_format_seconds(active / done_in_run * (total - done_in_run))}"
        self.progress_widget.set_state(text, fraction, speed, eta)

    def _fail(self, error: RunError) -> None:
        self.last_error = error
        self.run_failed.emit(str(error))
        if not self.show_dialogs:
            return
        if self.error_dialog is not None:
            self.error_dialog.close()
        box = QMessageBox(QMessageBox.Icon.Critical, error.title, error.title, QMessageBox.StandardButton.Ok, self.window)
        box.setObjectName("trainingErrorDialog")
        box.setInformativeText(error.message)
        if error.details:
            box.setDetailedText(error.details)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r: setattr(self, "error_dialog", None))
        self.error_dialog = box
        box.open()


_ORPHANS: set = set()

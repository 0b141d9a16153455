"""The main window: the canvas in the middle, the layer palette on the left, the inspector and the
training setup on the right, issues and the layer summary below; menus, toolbar and status bar.

The window holds one Document at a time. New, Open and crash recovery replace it (after asking
to save unsaved changes); every widget is handed the new document, so none keeps a stale one.
"""
from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QByteArray, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QInputDialog, QLabel, QMainWindow, QMenu, QMessageBox,
                               QTabWidget, QToolButton, QWidget)

from ..core import templates
from ..core.graph import Graph
from ..core.project import SUFFIX, Project, ProjectError
from . import files, icons
from .dialogs import (EMPTY, AboutDialog, CodeViewer, ExportDialog, InitializationExplorer, RecoveryDialog,
                      SanityDialog, SearchDialog, TemplateGallery)
from .dialogs.recovery import DISCARD, RECOVER
from .document import Document
from .editor import EditorWidget, InspectorWidget, IssuesWidget, PaletteWidget
from .panels import SettingsPanels, SummaryPanel
from .editor.labels import problems_text
from .panels.summary_panel import compact_count
from .theme import THEME_TITLES, THEMES, ThemeManager

APP_NAME = "NetBuilder"
FILE_FILTER = f"NetBuilder projects (*{SUFFIX});;All files (*)"
_STATE_VERSION = 1
SAVE, DISCARD_CHANGES, CANCEL = "save", "discard", "cancel"

# Toolbar and menu icons of the editor's actions.
EDITOR_ICONS = {"undo": "undo", "redo": "redo", "delete": "delete", "copy": "copy", "paste": "paste",
                "duplicate": "duplicate", "select_all": "select-all", "fit": "fit", "zoom_in": "zoom-in",
                "zoom_out": "zoom-out", "zoom_reset": "zoom-reset", "arrange": "arrange"}


def display_name(document: Document) -> str:
    return document.path.name if document.path is not None else document.project.name


class MainWindow(QMainWindow):
    def __init__(self, document: Document | None = None, theme: ThemeManager | None = None,
                 autosave_folder: Path | None = None, autosave_interval_ms: int = files.AUTOSAVE_INTERVAL_MS,
                 with_training: bool = False):
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowIcon(icons.app_icon())
        self.theme = theme
        self.recent = files.RecentFiles(self)
        self.autosaver = files.Autosaver(autosave_folder, autosave_interval_ms, self)
        self.code_viewer: CodeViewer | None = None
        self.export_dialog: ExportDialog | None = None
        self.sanity_dialog: SanityDialog | None = None
        self.search_dialog: SearchDialog | None = None
        self.init_explorer: InitializationExplorer | None = None
        self.training = None  # the training controller, once installed (see install_training)
        self._skip_unsaved_prompt = False
        self.document = document or Document(Project(name="Untitled", graph=Graph()), parent=self)
        if self.document.parent() is None:
            self.document.setParent(self)

        self.editor = EditorWidget(self.document, self)
        self.setCentralWidget(self.editor)
        self.palette_widget = PaletteWidget(self)
        self.palette_widget.add_requested.connect(self.editor.add_node_at_center)
        self.inspector = InspectorWidget(self.document, self)
        self.setup = SettingsPanels(self.document, self)
        self.issues = IssuesWidget(self.document, self)
        self.summary = SummaryPanel(self.document, self)
        self.summary.code_requested.connect(self.show_code)
        self._make_docks()
        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self._make_status_bar()
        self.recent.changed.connect(self._fill_recent_menu)
        self._connect_document(self.document)
        self.autosaver.set_document(self.document)
        if theme is not None:
            theme.changed.connect(self._on_theme_changed)
        if with_training:
            # Imported here: the monitor loads the plotting library, which editor-only uses never need.
            from .training import TrainingController
            self.install_training(TrainingController(self, lambda: self.document.project, lambda: self.document.path))
        self._default_state = self.saveState(_STATE_VERSION)
        self._restore_window_state()

    # ------------------------------------------------------------------ construction
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea, icon_name: str,
              tabbed: bool = False) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # restoreState finds docks by object name
        dock.setWindowIcon(icons.icon(icon_name))  # shown on its tab when docks share a place
        dock.setProperty("icon_name", icon_name)
        dock.setWidget(widget)
        if tabbed:
            # Its tab already names it: a title bar under the tab would say the same again.
            dock.setTitleBarWidget(QWidget(dock))
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                         QDockWidget.DockWidgetFeature.DockWidgetClosable |
                         QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _make_docks(self) -> None:
        self.setDockNestingEnabled(True)
        self.setTabPosition(Qt.DockWidgetArea.RightDockWidgetArea, QTabWidget.TabPosition.North)
        self.setTabPosition(Qt.DockWidgetArea.BottomDockWidgetArea, QTabWidget.TabPosition.North)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.palette_dock = self._dock("Layers", "layersDock", self.palette_widget, Qt.DockWidgetArea.LeftDockWidgetArea,
                                       "layers")
        self.inspector_dock = self._dock("Inspector", "inspectorDock", self.inspector,
                                         Qt.DockWidgetArea.RightDockWidgetArea, "inspector", tabbed=True)
        self.setup_dock = self._dock("Training Setup", "setupDock", self.setup, Qt.DockWidgetArea.RightDockWidgetArea,
                                     "training", tabbed=True)
        self.tabifyDockWidget(self.inspector_dock, self.setup_dock)
        self.setup_dock.visibilityChanged.connect(
            lambda shown: shown and QTimer.singleShot(0, self.setup.check_on_screen))
        self.issues_dock = self._dock("Issues", "issuesDock", self.issues, Qt.DockWidgetArea.BottomDockWidgetArea,
                                      "issues", tabbed=True)
        self.summary_dock = self._dock("Summary", "summaryDock", self.summary, Qt.DockWidgetArea.BottomDockWidgetArea,
                                       "summary", tabbed=True)
        self.tabifyDockWidget(self.issues_dock, self.summary_dock)
        self.inspector_dock.raise_()
        self.issues_dock.raise_()
        self._sized = False  # the docks get their default sizes when first shown (if none were restored)

    def _apply_default_dock_sizes(self) -> None:
        # Only once the window is shown at its real size: before that, the layout has no width to share
        # out yet, and the side panels end up at their minimum.
        self.resizeDocks([self.palette_dock, self.inspector_dock], [220, 370], Qt.Orientation.Horizontal)
        if self.training is None:
            self.resizeDocks([self.issues_dock], [160], Qt.Orientation.Vertical)
        else:
            # The monitor shares the bottom with Issues and Summary: half the width each side, and
            # enough height for a readable plot while the canvas keeps the larger part.
            right = self.training.dock_by_name["accuracy"]
            self.resizeDocks([self.issues_dock], [max(280, int(self.height() * 0.36))], Qt.Orientation.Vertical)
            self.resizeDocks([self.issues_dock, right], [self.width() // 2, self.width() // 2],
                             Qt.Orientation.Horizontal)
        # The canvas has its final size only now: frame the network again for it.
        QTimer.singleShot(0, self.editor.show_start)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            # After this event: the layout takes the window's size only once it is shown.
            QTimer.singleShot(0, self._apply_default_dock_sizes)

    def _action(self, key: str, text: str, icon_name: str | None, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.setObjectName(key)
        if icon_name:
            action.setIcon(icons.icon(icon_name))
            action.setProperty("icon_name", icon_name)
        if shortcut is not None:
            action.setShortcuts(QKeySequence.keyBindings(shortcut) if isinstance(shortcut, QKeySequence.StandardKey)
                                else [QKeySequence(shortcut)])
        if tip:
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({keys})" if keys else tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.actions[key] = action
        return action

    def _make_actions(self) -> None:
        self.actions: dict[str, QAction] = {}
        SK = QKeySequence.StandardKey
        self._action("new", "&New…", "new", self.new_from_template, SK.New, "Start a new network from a template")
        self._action("open", "&Open…", "open", self.open_file, SK.Open, "Open a project file")
        self._action("save", "&Save", "save", self.save, SK.Save, "Save the project")
        self._action("save_as", "Save &As…", "save-as", self.save_as, "Ctrl+Shift+S", "Save the project under a new name")
        self._action("export", "&Export…", "export", self.show_export, "Ctrl+E",
                     "Export the network (weights, TorchScript, ONNX, safetensors, PyTorch code, a training "
                     "script) or a run's metrics, plots and model card")
        self._action("rename", "&Rename Project…", None, self.rename_project, None, "Change the project's name")
        self._action("quit", "&Quit", "quit", self.close, SK.Quit, "Close NetBuilder")
        self._action("code", "PyTorch &Code…", "code", self.show_code, "Ctrl+Shift+C",
                     "Show the PyTorch module this network compiles to")
        self._action("summary", "Layer &Summary", "summary", self.show_summary, "Ctrl+Shift+I",
                     "Show the table of layers with their shapes, parameters and receptive fields")
        self._action("reset_layout", "Reset &Panels", None, self.reset_layout, None, "Put every panel back in its place")
        self._action("about", "&About NetBuilder", "info", self.show_about, None, "Versions and credits")
        for key, icon_name in EDITOR_ICONS.items():
            action = self.editor.actions[key]
            action.setIcon(icons.icon(icon_name))
            action.setProperty("icon_name", icon_name)
        # The window answers the editor's shortcuts wherever the focus is (the canvas also does).
        self.addActions(list(self.editor.actions.values()))

    def _make_menus(self) -> None:
        bar = self.menuBar()
        a, e = self.actions, self.editor.actions
        file_menu = bar.addMenu("&File")
        file_menu.addActions([a["new"], a["open"]])
        self.recent_menu = file_menu.addMenu(icons.icon("recent"), "Open &Recent")
        self.recent_menu.setObjectName("recentMenu")
        self._fill_recent_menu()
        file_menu.addSeparator()
        file_menu.addActions([a["save"], a["save_as"]])
        file_menu.addSeparator()
        file_menu.addAction(a["export"])
        file_menu.addSeparator()
        file_menu.addAction(a["rename"])
        file_menu.addSeparator()
        file_menu.addAction(a["quit"])

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([e["undo"], e["redo"]])
        edit_menu.addSeparator()
        edit_menu.addActions([e["copy"], e["paste"], e["duplicate"], e["delete"]])
        edit_menu.addSeparator()
        edit_menu.addAction(e["select_all"])

        view_menu = bar.addMenu("&View")
        view_menu.addActions([e["fit"], e["zoom_in"], e["zoom_out"], e["zoom_reset"]])
        view_menu.addSeparator()
        view_menu.addAction(e["arrange"])
        view_menu.addSeparator()
        view_menu.addActions([a["summary"], a["code"]])
        view_menu.addSeparator()
        panels = view_menu.addMenu("&Panels")
        for dock in (self.palette_dock, self.inspector_dock, self.setup_dock, self.issues_dock, self.summary_dock):
            panels.addAction(dock.toggleViewAction())
        panels.addSeparator()
        panels.addAction(a["reset_layout"])
        self.panels_menu = panels
        self.theme_menu = view_menu.addMenu(icons.icon("theme"), "&Theme")
        self.theme_group = QActionGroup(self)
        for name in THEMES:
            action = QAction(THEME_TITLES[name], self, checkable=True)
            action.setData(name)
            action.setChecked(self.theme is not None and self.theme.preference == name)
            action.triggered.connect(lambda _checked=False, n=name: self.set_theme(n))
            self.theme_group.addAction(action)
            self.theme_menu.addAction(action)
        self.theme_menu.setEnabled(self.theme is not None)

        setup_menu = bar.addMenu("&Setup")
        for index, (name, panel) in enumerate(self.setup.panels.items(), start=1):
            action = QAction(icons.icon(panel.icon_name), f"{panel.title}…", self)
            action.setProperty("icon_name", panel.icon_name)
            action.setShortcut(QKeySequence(f"Ctrl+{index}"))
            action.setStatusTip(f"Show the {panel.title.lower()} settings")
            action.triggered.connect(lambda _checked=False, n=name: self.show_setup(n))
            self.actions[f"setup_{name}"] = action
            setup_menu.addAction(action)
        setup_menu.addSeparator()
        setup_menu.addAction(self._action(
            "init_explorer", "Initialization &Explorer…", "initialization", self.show_init_explorer, None,
            "See how the initial weights decide whether a deep network's activations vanish, saturate or stay healthy"))

        self.help_menu = bar.addMenu("&Help")
        self.help_menu.addAction(a["about"])

    def _make_toolbar(self) -> None:
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setIconSize(QSize(20, 20))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        a, e = self.actions, self.editor.actions
        toolbar.addActions([a["new"], a["open"], a["save"], a["export"]])
        toolbar.addSeparator()
        toolbar.addActions([e["undo"], e["redo"]])
        toolbar.addSeparator()
        toolbar.addActions([e["zoom_out"], e["zoom_in"], e["fit"], e["arrange"]])
        toolbar.addSeparator()
        toolbar.addActions([a["summary"], a["code"]])
        self.toolbar = toolbar

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setSizeGripEnabled(False)
        self.params_label = QLabel(self)
        self.params_label.setToolTip("Parameters of the whole network (trainable and running statistics)")
        self.macs_label = QLabel(self)
        self.macs_label.setToolTip("Multiply-adds for one sample's forward pass")
        self.problems_button = QToolButton(self)
        self.problems_button.setObjectName("statusProblems")
        self.problems_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.problems_button.setAutoRaise(True)
        self.problems_button.setIconSize(QSize(14, 14))
        self.problems_button.setToolTip("Show the issues list")
        self.problems_button.clicked.connect(self.show_issues)
        for widget in (self.params_label, self.macs_label, self.problems_button):
            widget.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(widget)

    def install_training(self, controller) -> None:
        """Add a training controller (ui/training.py): its actions in the toolbar and a Training
        menu, its monitor docks, its progress readout in the status bar, and its say on closing."""
        self.training = controller
        actions = list(controller.actions.values())
        self.toolbar.addSeparator()
        self.toolbar.addActions(actions)
        if getattr(controller, "device_chooser", None) is not None:
            self.toolbar.addWidget(controller.device_chooser)
        menu = QMenu("&Training", self)
        menu.addActions(actions)
        menu.addSeparator()
        menu.addAction(self._action("sanity", "&Sanity Checks…", "check", self.show_sanity_checks, "Ctrl+Shift+K",
                                    "Before a long run: initial loss against ln C, L2 raising the loss, a gradient "
                                    "check, and overfitting 20 samples"))
        menu.addAction(self._action("search", "Hyperparameter &Search…", "preview", self.show_search, None,
                                    "Random search over learning rate, regularization and dropout with short runs"))
        self.menuBar().insertMenu(self.help_menu.menuAction(), menu)
        self.training_menu = menu
        # The monitor needs width more than the palette needs height: the bottom area spans the window.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        controller.install_docks(beside=self.issues_dock)
        self.issues_dock.raise_()
        monitor_menu = self.panels_menu.addMenu("&Monitor")
        for dock in controller.docks:
            monitor_menu.addAction(dock.toggleViewAction())
        controller.show_panels_for(self.document.project)
        self.statusBar().insertPermanentWidget(0, controller.progress_widget)
        controller.running_changed.connect(self._on_training_running)
        controller.start_blocker = self._training_must_wait

    # ------------------------------------------------------------------ document
    def _connect_document(self, doc: Document) -> None:
        doc.dirty_changed.connect(self.update_title)
        doc.path_changed.connect(self.update_title)
        doc.project_renamed.connect(self.update_title)
        doc.analysis_changed.connect(self.update_status)
        doc.analysis_changed.connect(self._follow_input_kind)
        doc.message.connect(self._show_message)
        self.update_title()
        self.update_status()

    def _follow_input_kind(self, *_args) -> None:
        # An image input brings the filter and receptive-field panels, a 2-D one the decision boundary.
        if self.training is not None:
            self.training.show_panels_for(self.document.project)

    def _disconnect_document(self, doc: Document) -> None:
        doc.dirty_changed.disconnect(self.update_title)
        doc.path_changed.disconnect(self.update_title)
        doc.project_renamed.disconnect(self.update_title)
        doc.analysis_changed.disconnect(self.update_status)
        doc.analysis_changed.disconnect(self._follow_input_kind)
        doc.message.disconnect(self._show_message)

    def set_document(self, document: Document) -> None:
        """Show another document everywhere; the previous one is closed."""
        old = self.document
        if document.parent() is None:
            document.setParent(self)
        self._disconnect_document(old)
        self.document = document
        self.editor.set_document(document)
        self.inspector.set_document(document)
        self.setup.set_document(document)
        self.issues.set_document(document)
        self.summary.set_document(document)
        if self.code_viewer is not None:
            self.code_viewer.set_document(document)
        self.autosaver.set_document(document)
        self._connect_document(document)
        if self.training is not None:
            self.training.project_changed()
        old.detach()
        old.deleteLater()

    def update_title(self, *_args) -> None:
        doc = self.document
        self.setWindowTitle(f"{APP_NAME} — {display_name(doc)}{'*' if doc.is_dirty else ''}")

    def update_status(self, *_args) -> None:
        analysis = self.document.analysis
        self.params_label.setText(f"{analysis.total_params:,} parameters")
        self.macs_label.setText(f"{compact_count(analysis.total_macs)} multiply-adds")
        errors, warnings = len(analysis.errors), len(analysis.warnings)
        if not errors and not warnings:
            self.problems_button.setText("No problems")
            self.problems_button.setIcon(icons.colored_icon("check", "#16a34a"))
        else:
            self.problems_button.setText(problems_text(errors, warnings))
            self.problems_button.setIcon(icons.colored_icon("error" if errors else "warning",
                                                            "#e53935" if errors else "#d97706"))

    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    # ------------------------------------------------------------------ questions (replaceable in tests)
    def ask_unsaved(self) -> str:
        """SAVE, DISCARD_CHANGES or CANCEL for the document's unsaved changes."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(APP_NAME)
        box.setText(f"Save the changes to “{display_name(self.document)}”?")
        box.setInformativeText("Your changes are lost if you don't save them.")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard |
                               QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: SAVE,
                QMessageBox.StandardButton.Discard: DISCARD_CHANGES}.get(QMessageBox.StandardButton(answer), CANCEL)

    def show_error(self, title: str, text: str) -> None:
        QMessageBox.critical(self, title, text)

    def ask_open_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, "Open Project", self._last_folder(), FILE_FILTER)
        return path

    def ask_save_path(self) -> str:
        # A project name may hold characters no file name can ("CNN 3/4"): suggest a safe one.
        stem = re.sub(r'[\\/:*?"<>|]+', "-", self.document.project.name).strip(" .-") or "Untitled"
        suggested = self.document.path or Path(self._last_folder()) / f"{stem}{SUFFIX}"
        path, _ = QFileDialog.getSaveFileName(self, "Save Project As", str(suggested), FILE_FILTER)
        return path

    def _last_folder(self) -> str:
        return str(files.app_settings().value("files/last_folder", str(Path.home())))

    def _remember_folder(self, path: Path) -> None:
        files.app_settings().setValue("files/last_folder", str(path.parent))

    # ------------------------------------------------------------------ file commands
    def maybe_save(self) -> bool:
        """True when it is fine to drop the current document (saved, discarded, or unchanged)."""
        if self._skip_unsaved_prompt or not self.document.is_dirty:
            return True
        answer = self.ask_unsaved()
        if answer == SAVE:
            return self.save()
        return answer == DISCARD_CHANGES

    def new_from_template(self, name: str | None = None) -> bool:
        """Replace the document with a template (`EMPTY` for a blank network); asks when `name` is None."""
        if name is None:
            gallery = TemplateGallery(self)
            if not gallery.exec():
                return False
            name = gallery.chosen
        if not self.maybe_save():
            return False
        project = Project(name="Untitled", graph=Graph()) if name == EMPTY else templates.build(name)
        self.set_document(Document(project, parent=self))
        self._show_message(f"New network: {project.name}")
        return True

    def open_file(self, path: str | Path | None = None) -> bool:
        if path is None:
            path = self.ask_open_path()
            if not path:
                return False
        path = Path(path)
        if self.document.path is not None and path.resolve() == self.document.path.resolve() and not self.document.is_dirty:
            return True
        try:
            project = Project.load(path)
        except ProjectError as exc:
            self.show_error("Open Project", str(exc))
            if not path.exists():
                self.recent.remove(path)
            return False
        if not self.maybe_save():
            return False
        self.set_document(Document(project, path.resolve(), parent=self))
        self.recent.add(path)
        self._remember_folder(path)
        self._show_message(f"Opened {path.name}")
        return True

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._write(self.document.path)

    def save_as(self, path: str | Path | None = None) -> bool:
        if path is None:
            path = self.ask_save_path()
            if not path:
                return False
        path = Path(path)
        if path.suffix != SUFFIX:
            path = path.with_name(path.name + SUFFIX)
        return self._write(path)

    def _write(self, path: Path) -> bool:
        try:
            self.document.project.save(path)
        except ProjectError as exc:
            self.show_error("Save Project", str(exc))
            return False
        self.document.mark_saved(path.resolve())
        self.autosaver.discard()
        self.recent.add(path)
        self._remember_folder(path)
        self._show_message(f"Saved {path.name}")
        self.update_title()
        return True

    def rename_project(self) -> None:
        name, ok = QInputDialog.getText(self, "Rename Project", "Project name:", text=self.document.project.name)
        if ok:
            self.document.set_project_name(name)

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        paths = self.recent.existing()
        for index, path in enumerate(paths, start=1):
            action = menu.addAction(f"&{index}  {path.name}" if index < 10 else path.name)
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _checked=False, p=path: self.open_file(p))
        if not paths:
            empty = menu.addAction("No recent projects")
            empty.setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("Clear Recent Projects")
        clear.setEnabled(bool(paths))
        clear.triggered.connect(self.recent.clear)

    # ------------------------------------------------------------------ start-up and recovery
    def open_start_document(self, path: str | Path | None, first_launch_example: str) -> None:
        """What the window shows first: the given file, else the last project, else an example."""
        if path is not None and self.open_file(path):
            return
        if path is None:
            recent = self.recent.existing()
            if recent and files.app_settings().value("files/reopen_last", True, type=bool):
                if self.open_file(recent[0]):
                    return
        self.new_from_template(first_launch_example)
        self._show_message("An example to start with: press F to fit, or File ▸ New for another design.")

    def offer_recovery(self, recoveries: list | None = None) -> bool:
        """Offer the unsaved work of sessions that crashed; True when one was recovered."""
        if recoveries is None:
            recoveries = files.pending_recoveries(self.autosaver.folder, exclude=self.autosaver.file)
        if not recoveries:
            return False
        dialog = RecoveryDialog(recoveries, self)
        dialog.exec()
        if dialog.choice == DISCARD:
            for recovery in recoveries:
                recovery.discard()
            return False
        if dialog.choice == RECOVER and dialog.selected is not None:
            return self.recover(dialog.selected)
        return False

    def recover(self, recovery) -> bool:
        try:
            project = recovery.load()
        except ProjectError as exc:
            self.show_error("Recover Unsaved Work", str(exc))
            return False
        if not self.maybe_save():
            return False
        document = Document(project, recovery.original_path, parent=self)
        document.undo_stack.resetClean()  # recovered work is unsaved until the user saves it
        self.set_document(document)
        recovery.discard()
        self.autosaver.save_now()  # this session now guards it
        self._show_message(f"Recovered {project.name}: save it to keep it.")
        return True

    # ------------------------------------------------------------------ views
    def show_code(self) -> None:
        if self.code_viewer is None:
            self.code_viewer = CodeViewer(self.document, self)
        self._present(self.code_viewer)

    # Exporting a model builds it, drawing from PyTorch's global random generator; a running
    # training draws its dropout masks from the same generator, so an export then would make the
    # run irreproducible. Run artifacts (metrics, plots, model card) draw nothing and stay available.
    MODEL_EXPORT_WAITS = "Model exports wait until training ends: they would disturb the run's random numbers."

    def show_export(self) -> None:
        if self.export_dialog is None:
            self.export_dialog = ExportDialog(lambda: self.document.project, lambda: self.document.path, self)
            self.export_dialog.exported.connect(lambda path: self._show_message(f"Exported and verified {path}"))
            self.export_dialog.show_node_requested.connect(self.show_node)
        training = self.training
        if training is not None:
            if training.run_dir is not None:
                self.export_dialog.set_run_dir(training.run_dir)
            self.export_dialog.set_model_exports_blocked(self.MODEL_EXPORT_WAITS if training.is_running else None)
        self._present(self.export_dialog)

    def show_init_explorer(self) -> None:
        if self.init_explorer is None:
            self.init_explorer = InitializationExplorer(self)
        self._present(self.init_explorer)

    def _present(self, dialog) -> None:
        """Show a modeless dialog in front, with the keyboard."""
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _training_is_running(self) -> bool:
        return self.training is not None and self.training.is_running

    # The checks seed PyTorch's global random generator (as a run's start does): they wait until
    # training ends, like model exports.
    SANITY_WAITS = "The checks wait until training ends: they would disturb the run's random numbers."

    def show_sanity_checks(self) -> None:
        if self.sanity_dialog is None:
            self.sanity_dialog = SanityDialog(lambda: self.document.project, lambda: self.document.path, self)
        self.sanity_dialog.set_blocked(self.SANITY_WAITS if self._training_is_running() else None)
        self._present(self.sanity_dialog)

    SEARCH_WAITS = "A search waits until training ends: both would draw from PyTorch's random generator."

    def show_search(self) -> None:
        if self.search_dialog is None:
            self.search_dialog = SearchDialog(lambda: self.document, lambda: self.document.path, self)
        self.search_dialog.set_blocked(self.SEARCH_WAITS if self._training_is_running() else None)
        self._present(self.search_dialog)

    def _training_must_wait(self) -> str | None:
        """Why training cannot start now: checks or a search share PyTorch's random generator."""
        if self.sanity_dialog is not None and self.sanity_dialog.is_running:
            return "The sanity checks are still running; train once they have finished."
        if self.search_dialog is not None and self.search_dialog.is_running:
            return "A hyperparameter search is running; stop it or let it finish, then train."
        return None

    def _on_training_running(self, running: bool) -> None:
        if self.sanity_dialog is not None:
            self.sanity_dialog.set_blocked(self.SANITY_WAITS if running else None)
        if self.search_dialog is not None:
            self.search_dialog.set_blocked(self.SEARCH_WAITS if running else None)
        if self.export_dialog is not None:
            self.export_dialog.set_model_exports_blocked(self.MODEL_EXPORT_WAITS if running else None)
            if not running and self.training.run_dir is not None:
                self.export_dialog.set_run_dir(self.training.run_dir)

    def show_node(self, node_id: str) -> None:
        """Select a node and centre the canvas on it (from a message that names it)."""
        if node_id in self.document.graph.nodes:
            self.document.focus(node_id)
            self.raise_()
            self.activateWindow()

    def show_summary(self) -> None:
        self.summary_dock.show()
        self.summary_dock.raise_()

    def show_issues(self) -> None:
        self.issues_dock.show()
        self.issues_dock.raise_()

    def show_setup(self, section: str) -> None:
        self.setup_dock.show()
        self.setup_dock.raise_()
        self.setup.show_section(section)

    def show_about(self) -> None:
        AboutDialog(self).exec()

    def set_theme(self, name: str) -> None:
        if self.theme is not None:
            self.theme.set_preference(name)
            for action in self.theme_group.actions():
                action.setChecked(action.data() == name)

    def _on_theme_changed(self, _dark: bool) -> None:
        self.refresh_icons()

    def refresh_icons(self) -> None:
        """Re-tint every icon for the new look."""
        for action in [*self.actions.values(), *self.editor.actions.values()]:
            name = action.property("icon_name")
            if name:
                action.setIcon(icons.icon(name))
        for dock in self.findChildren(QDockWidget):
            if dock.property("icon_name"):
                dock.setWindowIcon(icons.icon(dock.property("icon_name")))
        self.recent_menu.setIcon(icons.icon("recent"))
        self.theme_menu.setIcon(icons.icon("theme"))
        self.setup.refresh_icons()
        self.update_status()

    def reset_layout(self) -> None:
        for dock in (self.palette_dock, self.inspector_dock, self.setup_dock, self.issues_dock, self.summary_dock):
            dock.setFloating(False)
            dock.show()
        self.restoreState(self._default_state, _STATE_VERSION)
        self.inspector_dock.raise_()
        self.issues_dock.raise_()
        if self.training is not None:
            self.training.show_panels_for(self.document.project, force=True)
        self._apply_default_dock_sizes()

    # ------------------------------------------------------------------ window state
    def _restore_window_state(self) -> None:
        settings = files.app_settings()
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            screen = self.screen().availableGeometry() if self.screen() is not None else None
            if screen is not None:
                self.resize(min(1440, int(screen.width() * 0.92)), min(920, int(screen.height() * 0.92)))
            else:
                self.resize(1360, 860)
        state = settings.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self._sized = self.restoreState(state, _STATE_VERSION)

    def _save_window_state(self) -> None:
        settings = files.app_settings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState(_STATE_VERSION))

    def close_without_prompt(self) -> None:
        """Close even with unsaved changes (the recovery copy is kept for next time)."""
        self._skip_unsaved_prompt = True
        self.autosaver.save_now()
        self.close()

    def closeEvent(self, event) -> None:
        if self.training is not None and not self.training.confirm_close(ask=not self._skip_unsaved_prompt):
            event.ignore()
            return
        if not self.maybe_save():
            event.ignore()
            return
        self._save_window_state()
        if not self._skip_unsaved_prompt:
            self.autosaver.stop()
        else:
            self.autosaver.timer.stop()
        if self.code_viewer is not None:
            self.code_viewer.close()
        event.accept()


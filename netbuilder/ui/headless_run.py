"""`netbuilder gui FILE --train --exit-after-epochs N --screenshot PNG`: open the real window,
train, save a picture of the whole window and quit — for the README and for tests.

    from .ui import headless_run
    headless_run.add_arguments(gui_parser)            # the options below
    ...
    window.show()
    headless_run.schedule(window, controller, args)   # returns at once; the event loop does the rest

Options: --train (start training once the window is up), --exit-after-epochs N (train N epochs,
at most the project's number, then quit), --screenshot PNG (save the window when training has
ended, or at once without --train), and train's overrides --dataset, --data-root, --limit,
--device, --batch-size. The application's exit status is 0 after a finished run and 1 when
training failed (the reason is printed on stderr).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Qt is imported inside the functions that need it: the command line can add these options
# without loading the GUI libraries for commands that never open a window.

START_DELAY_MS = 300      # let the window lay itself out first
SETTLE_MS = 400           # after the run: final redraw before the picture


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("training from the command line")
    group.add_argument("--train", action="store_true", help="start training as soon as the window is open")
    group.add_argument("--exit-after-epochs", type=int, metavar="N",
                       help="train N epochs (at most the project's), then close the window")
    group.add_argument("--screenshot", metavar="PNG", help="save a picture of the whole window when training ends")
    group.add_argument("--dataset", help="override the dataset (fashion-mnist, mnist, toy-2d, ...)")
    group.add_argument("--data-root", help="folder holding the dataset files")
    group.add_argument("--limit", type=int, help="use at most N training samples")
    group.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), help="where to train")
    group.add_argument("--batch-size", type=int, help="override the batch size")


def overrides_from(options, project=None) -> dict:
    """Engine overrides from the parsed options (None = the project's own setting)."""
    epochs = getattr(options, "exit_after_epochs", None)
    if epochs is not None and project is not None:
        epochs = max(1, min(int(epochs), int(project.settings["training"]["epochs"])))
    return {"epochs": epochs, "device": getattr(options, "device", None), "dataset": getattr(options, "dataset", None),
            "data_root": getattr(options, "data_root", None), "limit": getattr(options, "limit", None),
            "batch_size": getattr(options, "batch_size", None)}


def save_screenshot(window, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    return path


class HeadlessRun:
    """Drives one scheduled run; the controller keeps it alive."""

    def __init__(self, window, controller, options):
        self.window = window
        self.controller = controller
        self.options = options
        self.exit_code = 0
        self.finished = False

    def start(self) -> None:
        from PySide6.QtCore import QTimer
        c = self.controller
        if not getattr(self.options, "train", False):
            if getattr(self.options, "screenshot", None):
                QTimer.singleShot(SETTLE_MS, self._finish)
            return
        c.show_dialogs = False
        c.run_finished.connect(self._on_finished)
        c.run_failed.connect(self._on_failed)
        project = c.get_project()
        if not c.start(overrides_from(self.options, project)):
            if c.last_error is None:  # already running: nothing to do
                return

    def _on_finished(self, summary: dict) -> None:
        from PySide6.QtCore import QTimer
        self.exit_code = 0
        QTimer.singleShot(SETTLE_MS, self._finish)

    def _on_failed(self, message: str) -> None:
        from PySide6.QtCore import QTimer
        print(f"netbuilder: training failed: {message}", file=sys.stderr, flush=True)
        self.exit_code = 1
        QTimer.singleShot(SETTLE_MS, self._finish)

    def _finish(self) -> None:
        from PySide6.QtWidgets import QApplication
        if self.finished:
            return
        self.finished = True
        self.controller.buffer.redraw_all()
        QApplication.processEvents()
        shot = getattr(self.options, "screenshot", None)
        if shot:
            try:
                path = save_screenshot(self.window, shot)
                print(f"saved {path}", file=sys.stderr, flush=True)
            except OSError as exc:
                print(f"netbuilder: {exc}", file=sys.stderr, flush=True)
                self.exit_code = 1
        if getattr(self.options, "train", False) or shot:
            close = getattr(self.window, "close_without_prompt", None) or self.window.close
            close()
            QApplication.exit(self.exit_code)


def schedule(window, controller, options) -> HeadlessRun | None:
    """Arrange the --train / --screenshot flow once the event loop runs. Returns None when the
    options ask for neither."""
    from PySide6.QtCore import QTimer
    if not (getattr(options, "train", False) or getattr(options, "screenshot", None)):
        return None
    run = HeadlessRun(window, controller, options)
    controller.headless_run = run  # kept alive as long as the controller
    QTimer.singleShot(START_DELAY_MS, run.start)
    return run

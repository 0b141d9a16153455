"""Start the desktop application: `run()` makes the QApplication, applies the look, shows the
main window with a project and runs the event loop.

Start-up stays light (the window is up in well under two seconds): torch loads later, on a
background thread or the first time something needs it.

The first launch opens an example that trains offline at once: LeNet-5 when Fashion-MNIST is on
this computer, otherwise the 2-D playground on generated spirals. Later launches reopen the last
project (or the example again when there is none).

`--train --exit-after-epochs N --screenshot PNG` train in the real window, save a picture of it
and quit (see headless_run.py).

For automated runs, `--quit-after MS` (or NETBUILDER_QUIT_AFTER_MS) closes the window and ends
the event loop after MS milliseconds with exit status 0.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from . import background, files, headless_run, icons, probe
from .main_window import MainWindow
from .theme import ThemeManager

QUIT_AFTER_ENV = "NETBUILDER_QUIT_AFTER_MS"


# Fashion-MNIST's first training file and the folders the data module searches, in its order
# (project data/ aside: there is no project yet). Checked here without the data module, which
# loads torch and would double the start-up time.
_FASHION_FILE = "train-images-idx3-ubyte"


def _fashion_mnist_folders() -> list[Path]:
    if sys.platform.startswith("win"):
        user = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "NetBuilder"
    elif sys.platform == "darwin":
        user = Path.home() / "Library" / "Application Support" / "NetBuilder"
    else:
        user = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "netbuilder"
    bases = [Path(os.environ["NETBUILDER_DATA"]).expanduser()] if os.environ.get("NETBUILDER_DATA") else []
    bases.append(user / "datasets")
    folders = []
    for base in bases:
        folders += [base / "fashion-mnist", base / "FashionMNIST" / "raw", base / "FashionMNIST"]
    return folders + [Path("/usr/share/datasets/fashion-mnist")]


def example_template() -> str:
    """The design the first launch opens: LeNet-5 when Fashion-MNIST is here, else the playground."""
    for folder in _fashion_mnist_folders():
        if (folder / _FASHION_FILE).is_file() or (folder / f"{_FASHION_FILE}.gz").is_file():
            return "lenet5"
    return "playground"


def _quit_after(options) -> int | None:
    value = getattr(options, "quit_after", None)
    if value is None:
        value = os.environ.get(QUIT_AFTER_ENV) or None
    return int(value) if value is not None else None


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, named so that settings and the desktop entry find it."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(list(argv) if argv else [sys.argv[0] if sys.argv else "netbuilder"])
    app.setOrganizationName(files.ORGANIZATION)
    app.setApplicationName(files.APPLICATION)
    app.setApplicationDisplayName("NetBuilder")
    app.setDesktopFileName("netbuilder")
    app.setWindowIcon(icons.app_icon())
    return app


def run(path: str | None = None, argv: list[str] | None = None, options=None) -> int:
    """Open the main window (with the project at `path`, if given) and run until it closes."""
    files.redirect_settings_from_environment()
    app = make_application(argv)
    theme = ThemeManager(app)
    theme.apply()
    window = MainWindow(theme=theme, with_training=True)
    # The given file, else the last project, else (as on the first launch) the example.
    window.open_start_document(Path(path) if path else None, example_template())
    window.show()
    scripted = headless_run.schedule(window, window.training, options) if options is not None else None
    if scripted is None:
        # After the window is on screen: offer what a crashed session left behind (a scripted run
        # has nobody to answer).
        QTimer.singleShot(0, window.offer_recovery)
    quit_after = _quit_after(options)
    if quit_after is not None:
        QTimer.singleShot(quit_after, lambda: (window.close_without_prompt(), app.quit()))
    status = app.exec()
    # Let background work (a torch import, a device probe) end before the interpreter does.
    background.wait_for_all()
    probe.abandon_all()
    return status

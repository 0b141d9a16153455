"""Questions whose answer needs torch (which devices exist, where a dataset is), answered
without loading torch into the window's process before it is needed.

Loading torch takes seconds, and loading it on a worker thread while the interface runs is not
safe (it can stall or crash the interpreter), so until torch is loaded anyway the question goes
to a short-lived Python process:

    python -m netbuilder.ui.probe devices
    python -m netbuilder.ui.probe locate '<data settings as JSON>' [PROJECT_FOLDER]

which prints one JSON object. Once torch is loaded (training, the augmentation preview), the
same functions run in-process, where they take milliseconds.
"""
from __future__ import annotations

import atexit
import json
import sys
from pathlib import Path
from typing import Callable

from .devices import DeviceReport, probe_devices


def torch_loaded() -> bool:
    return "torch" in sys.modules


def device_answer() -> dict:
    report = probe_devices()
    return {"available": report.available, "auto": report.auto, "torch_version": report.torch_version}


def locate_answer(data: dict, project_dir: str | None) -> dict:
    from .data_location import locate_dataset
    status, message = locate_dataset(data, Path(project_dir) if project_dir else None)
    return {"status": status, "message": message}


def main(argv: list[str]) -> int:
    if argv[:1] == ["devices"]:
        answer = device_answer()
    elif argv[:1] == ["locate"] and len(argv) >= 2:
        answer = locate_answer(json.loads(argv[1]), argv[2] if len(argv) > 2 else None)
    else:
        print("usage: probe devices | probe locate DATA_JSON [PROJECT_FOLDER]", file=sys.stderr)
        return 2
    print(json.dumps(answer))
    return 0


_asking: set = set()  # questions in flight keep themselves alive until answered


def abandon_all() -> None:
    """Drop every question still in flight and end its process: at exit, before the interpreter
    tears down the objects an answer would arrive in."""
    for question in list(_asking):
        question.kill()


atexit.register(abandon_all)


def _alive(qt_object) -> bool:
    from shiboken6 import isValid
    return isValid(qt_object)


class ProbeProcess:
    """One question asked of a child process; the answer (a dict) or an error message arrives on
    the GUI thread through the event loop."""

    def __init__(self, args: list[str], on_answer: Callable[[dict], None], on_error: Callable[[str], None],
                 parent=None):
        from PySide6.QtCore import QProcess

        self.on_answer, self.on_error = on_answer, on_error
        # Not a child of `parent`: a QProcess destroyed with its parent while the child still runs
        # reports "finished" from inside its own destructor. The asker's end drops the question.
        self.process = QProcess()
        if parent is not None:
            parent.destroyed.connect(self.kill)
        self.process.setProgram(sys.executable)
        self.process.setArguments(["-m", "netbuilder.ui.probe", *args])
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._failed_to_start)
        _asking.add(self)
        self.process.start()

    def _failed_to_start(self, error) -> None:
        from PySide6.QtCore import QProcess
        if error == QProcess.ProcessError.FailedToStart:
            _asking.discard(self)
            self.on_error(f"could not start {sys.executable}")

    def _finished(self, code: int, _status) -> None:
        _asking.discard(self)
        if not _alive(self.process):
            return
        out = bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace").strip()
        err = bytes(self.process.readAllStandardError()).decode("utf-8", "replace").strip()
        if code != 0 or not out:
            self.on_error(err.splitlines()[-1] if err else f"the probe ended with status {code}")
            return
        try:
            self.on_answer(json.loads(out.splitlines()[-1]))
        except ValueError:
            self.on_error("the probe's answer could not be read")

    def kill(self, *_args) -> None:
        """Drop the question (its answer is no longer wanted)."""
        self.on_answer = self.on_error = lambda _value: None
        if _alive(self.process) and self.process.state() != self.process.ProcessState.NotRunning:
            self.process.kill()
            self.process.waitForFinished(2000)
        _asking.discard(self)


def ask_devices(on_report: Callable[[DeviceReport], None], on_error: Callable[[str], None], parent=None):
    """Report the devices: at once when torch is loaded, else from a child process."""
    if torch_loaded():
        on_report(probe_devices())
        return None
    return ProbeProcess(["devices"], lambda a: on_report(DeviceReport(a["available"], a["auto"], a["torch_version"])),
                        on_error, parent)


def ask_location(data: dict, project_dir: Path | None, on_result: Callable[[tuple], None],
                 on_error: Callable[[str], None], parent=None):
    """(status, message) for where the data is read from; in-process when torch is loaded."""
    from .data_location import needs_torch, locate_dataset
    if torch_loaded() or not needs_torch(data):
        on_result(locate_dataset(data, project_dir))
        return None
    return ProbeProcess(["locate", json.dumps(data), str(project_dir or "")],
                        lambda a: on_result((a["status"], a["message"])), on_error, parent)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

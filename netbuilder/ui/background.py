"""Run slow, Qt-free work (importing torch, probing devices, reading a dataset) off the GUI
thread and get the result back on it.

`run_in_background(fn, on_done, on_error)` returns at once; `on_done(result)` or
`on_error(message)` is later called on the GUI thread. Results that arrive after their
receiver was deleted are dropped.

Plain Python threads carry the work: the Python objects involved stay referenced for the whole
run, which a runnable handed to Qt's thread pool does not guarantee.
"""
from __future__ import annotations

import threading
import traceback
from typing import Callable

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

_lock = threading.Lock()
_running: set = set()  # threads of unfinished calls
_undelivered: set = set()  # relays whose result has not reached the GUI thread yet (keeps them alive)


class _Relay(QObject):
    """Made on the GUI thread: signals emitted by the worker reach its slots queued, on that thread."""

    done = Signal(object)
    failed = Signal(str)

    def __init__(self, on_done, on_error, receiver):
        super().__init__()
        self.on_done, self.on_error, self.receiver = on_done, on_error, receiver
        self.done.connect(self._deliver_result)
        self.failed.connect(self._deliver_error)

    @Slot(object)
    def _deliver_result(self, value) -> None:
        self._deliver(self.on_done, value)

    @Slot(str)
    def _deliver_error(self, message: str) -> None:
        self._deliver(self.on_error, message)

    def _deliver(self, callback, value) -> None:
        _undelivered.discard(self)
        if callback is not None and (self.receiver is None or shiboken6.isValid(self.receiver)):
            callback(value)


def run_in_background(fn: Callable, on_done: Callable, on_error: Callable | None = None,
                      receiver: QObject | None = None) -> threading.Thread:
    """Call `fn()` on a worker thread; deliver its result to `on_done` on the GUI thread.

    With `receiver`, the callbacks run only while that object is still alive.
    """
    relay = _Relay(on_done, on_error, receiver)
    _undelivered.add(relay)

    def work():
        try:
            result = fn()
        except Exception as exc:  # reported to the caller as text; the GUI keeps running
            traceback.print_exc()
            relay.failed.emit(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        else:
            relay.done.emit(result)
        finally:
            with _lock:
                _running.discard(thread)

    thread = threading.Thread(target=work, name="netbuilder-background", daemon=True)
    with _lock:
        _running.add(thread)
    thread.start()
    return thread


def wait_for_all(timeout: float = 30.0) -> bool:
    """Wait for unfinished background calls (before the interpreter exits); True if all ended."""
    with _lock:
        threads = list(_running)
    for thread in threads:
        thread.join(timeout)
    return not any(thread.is_alive() for thread in threads)

"""What the engine tells its observers, and how observers tell the engine to stop or pause.

Callbacks receive plain Python numbers and numpy arrays only, so a GUI can forward them
across threads and a CLI can print them; none of them may touch the model.
"""
from __future__ import annotations

import threading


class Callback:
    """Override the hooks you need. Order: on_status (while preparing), on_train_start, then per epoch on_batch_end (in
    bursts every `log_every` steps) and on_probe (every `probe_every` steps, and only when some
    callback overrides it: probes cost time), on_epoch_end, on_checkpoint; finally on_train_end,
    or on_exception if the run failed."""

    def on_status(self, message: str, fraction: float | None) -> None: ...  # data loading, preparation
    def on_train_start(self, info: dict) -> None: ...
    def on_batch_end(self, step: int, epoch: int, batch: int, loss: float, lr: float) -> None: ...
    def on_probe(self, probe: dict) -> None: ...
    def on_epoch_end(self, record: dict) -> None: ...
    def on_checkpoint(self, path: str, epoch: int) -> None: ...
    def on_train_end(self, summary: dict) -> None: ...
    def on_exception(self, error: BaseException) -> None: ...


class CallbackList(Callback):
    def __init__(self, callbacks=()):
        self.callbacks = [c for c in callbacks if c is not None]

    def listens(self, hook: str) -> bool:
        """Whether any callback does something in `hook`, i.e. does not inherit Callback's no-op.
        The engine skips work whose only product is a hook nobody listens to (probes, headless)."""
        idle = getattr(Callback, hook)
        return any(getattr(getattr(c, hook, None), "__func__", None) is not idle for c in self.callbacks)

    def __getattribute__(self, name):
        if name.startswith("on_"):
            targets = object.__getattribute__(self, "callbacks")
            return lambda *args, **kwargs: [getattr(c, name)(*args, **kwargs) for c in targets]
        return object.__getattribute__(self, name)


class RunControl:
    """Thread-safe stop/pause flags the training loop checks once per batch."""

    def __init__(self):
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def request_stop(self) -> None:
        self._stop.set()
        self._running.set()  # a paused loop must wake up to notice the stop

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> None:
        while not self._running.wait(timeout=0.1):
            pass

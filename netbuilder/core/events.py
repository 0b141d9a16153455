"""A minimal publish/subscribe signal so views can follow the model without the model knowing them."""
from __future__ import annotations

from typing import Callable


class Event:
    def __init__(self, name: str):
        self.name = name
        self._handlers: list[Callable] = []

    def subscribe(self, handler: Callable) -> None:
        if handler not in self._handlers:
            self._handlers.append(handler)

    def unsubscribe(self, handler: Callable) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    def emit(self, *args) -> None:
        # Copy: a handler may unsubscribe itself while we iterate.
        for handler in list(self._handlers):
            handler(*args)

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {len(self._handlers)} handlers)"

"""Protection against a reference-counting fault in the Qt bindings on CPython before 3.12.

The bindings hand back `None`, `True` and `False` without taking a reference to them (void
methods return None; `Signal.emit` returns True; Python overrides of void virtuals lose one
too). That is harmless on CPython 3.12+, where these objects are immortal, but on 3.10 and 3.11
every such call takes a reference away, and after some thousands of calls (a large network on
the canvas makes that many in a second) the interpreter aborts with "deallocating None".
Giving the singletons a vast reference cushion makes them as good as immortal, which is
exactly what 3.12 does.
"""
from __future__ import annotations

import sys

_CUSHION = 1 << 40  # far more calls than any session makes


def make_singletons_immortal() -> None:
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return
    import ctypes
    for singleton in (None, True, False, NotImplemented, Ellipsis):
        # ob_refcnt is the first field of every CPython object.
        refcount = ctypes.c_ssize_t.from_address(id(singleton))
        if refcount.value < _CUSHION:
            refcount.value += _CUSHION

"""The desktop interface: the only package that imports PySide6 and pyqtgraph.

Widgets observe the model (netbuilder.core) through its events and change it only through
undo commands, so the core stays the single source of truth and every edit can be undone.
"""
from .refcount_guard import make_singletons_immortal

# Before any Qt call: see refcount_guard for the fault this works around.
make_singletons_immortal()

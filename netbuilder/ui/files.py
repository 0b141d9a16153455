"""Where the application keeps its own files: user settings, recent projects and the
recovery copies that survive a crash.

Settings go through QSettings. Setting NETBUILDER_CONFIG_DIR (or QSettings.setPath for the
INI format) moves them, and the recovery folder with them, so tests and portable installs never
touch the user's real configuration.

Autosave writes the open project, when it has unsaved changes, to a recovery file every minute.
Each running window holds a lock beside its recovery file; a recovery file whose lock nobody
holds belongs to a session that ended without cleaning up (a crash), and is offered back on the
next start.
"""
from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QSettings, QTimer, Signal

from ..core.project import Project, ProjectError, save_json_atomic

ORGANIZATION = "NetBuilder"
APPLICATION = "NetBuilder"
CONFIG_DIR_ENV = "NETBUILDER_CONFIG_DIR"
RECOVERY_SUFFIX = ".recovery.json"
AUTOSAVE_INTERVAL_MS = 60_000
MAX_RECENT = 10
_RECENT_KEY = "files/recent"


def redirect_settings_from_environment() -> Path | None:
    """Honour NETBUILDER_CONFIG_DIR: keep every setting (and recovery file) in that folder."""
    folder = os.environ.get(CONFIG_DIR_ENV)
    if not folder:
        return None
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, folder)
    return Path(folder)


def app_settings() -> QSettings:
    """The user's NetBuilder settings (in the default format and place, redirectable as above)."""
    return QSettings(QSettings.defaultFormat(), QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def config_folder() -> Path:
    return Path(app_settings().fileName()).parent


def recovery_folder() -> Path:
    return config_folder() / "recovery"


# --------------------------------------------------------------------------- recent files
class RecentFiles(QObject):
    """Most recently opened or saved projects, newest first, kept in the user's settings."""

    changed = Signal()

    def paths(self) -> list[Path]:
        value = app_settings().value(_RECENT_KEY, [])
        if isinstance(value, str):  # a single entry comes back as a plain string
            value = [value]
        return [Path(p) for p in (value or []) if p]

    def existing(self) -> list[Path]:
        return [p for p in self.paths() if p.is_file()]

    def _store(self, paths: list[Path]) -> None:
        app_settings().setValue(_RECENT_KEY, [str(p) for p in paths[:MAX_RECENT]])
        self.changed.emit()

    def add(self, path) -> None:
        path = Path(path).resolve()
        self._store([path] + [p for p in self.paths() if p != path])

    def remove(self, path) -> None:
        path = Path(path).resolve()
        self._store([p for p in self.paths() if p != path])

    def clear(self) -> None:
        self._store([])


# --------------------------------------------------------------------------- recovery
@dataclass
class Recovery:
    """One recovery file left behind by a session that did not end normally."""

    file: Path
    name: str
    original_path: Path | None
    saved_at: float

    def load(self) -> Project:
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
            return Project.from_dict(data["project"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ProjectError(f"the recovered copy cannot be read ({exc})", self.file) from None

    def discard(self) -> None:
        for path in (self.file, _lock_path(self.file)):
            try:
                path.unlink()
            except FileNotFoundError:
                pass


def _lock_path(recovery_file: Path) -> Path:
    return recovery_file.with_name(recovery_file.name[: -len(RECOVERY_SUFFIX)] + ".lock")


def write_recovery(file: Path, project: Project, original_path: Path | None) -> None:
    """Write a recovery file (atomically: a crash while writing keeps the previous copy)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    save_json_atomic(file, {
        "recovery": {"original_path": str(original_path) if original_path else None, "saved_at": time.time(),
                     "pid": os.getpid()},
        "project": project.to_dict(),
    })


def _read_header(file: Path) -> Recovery | None:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        header = data["recovery"]
        original = header.get("original_path")
        return Recovery(file, str(data["project"].get("name", "Untitled")), Path(original) if original else None,
                        float(header.get("saved_at", file.stat().st_mtime)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def pending_recoveries(folder: Path | None = None, exclude: Path | None = None) -> list[Recovery]:
    """Recovery files whose session is gone, newest first (`exclude`: this session's own file)."""
    folder = folder or recovery_folder()
    if not folder.is_dir():
        return []
    found = []
    for file in folder.glob(f"*{RECOVERY_SUFFIX}"):
        if exclude is not None and file == exclude:
            continue
        lock = QLockFile(str(_lock_path(file)))
        lock.setStaleLockTime(0)  # stale only when its process is gone, however old the lock
        # A live session holds its lock; a crashed one left a stale lock that tryLock takes over.
        if not lock.tryLock(0):
            continue
        lock.unlock()
        recovery = _read_header(file)
        if recovery is not None:
            found.append(recovery)
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


class Autosaver(QObject):
    """Keeps a recovery copy of the document's unsaved changes, refreshed on a timer."""

    saved = Signal(object)  # Path of the recovery file

    def __init__(self, folder: Path | None = None, interval_ms: int = AUTOSAVE_INTERVAL_MS, parent=None):
        super().__init__(parent)
        self.folder = Path(folder) if folder is not None else recovery_folder()
        session = uuid.uuid4().hex[:12]
        self.file = self.folder / f"{session}{RECOVERY_SUFFIX}"
        self._lock: QLockFile | None = None
        self.document = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()

    def set_document(self, document) -> None:
        """Follow another document; the previous one's recovery copy is no longer needed."""
        self.discard()
        self.document = document

    def save_now(self) -> Path | None:
        """Write the recovery copy if there are unsaved changes; remove it if there are none."""
        doc = self.document
        if doc is None or not doc.is_dirty:
            self.discard()
            return None
        if self._lock is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock = QLockFile(str(_lock_path(self.file)))
            if lock.tryLock(0):
                self._lock = lock
        try:
            write_recovery(self.file, doc.project, doc.path)
        except ProjectError:
            return None  # a failed autosave must never interrupt the user; the next tick tries again
        self.saved.emit(self.file)
        return self.file

    def discard(self) -> None:
        """Remove this session's recovery copy (after a save, or on a clean exit)."""
        try:
            self.file.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            return
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def stop(self) -> None:
        self.timer.stop()
        self.discard()

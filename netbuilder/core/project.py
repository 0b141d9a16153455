"""A project = the graph + every training setting, saved as JSON (`.nbproj`), never pickle.

Loading validates everything and names the file and the path of the first bad field;
saving writes a temporary file beside the target and renames it over, so a failed save
never damages the previous file.
"""
from __future__ import annotations

import copy
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .graph import Graph
from .params import ValidationError
from .settings import default_settings, validate_settings

FORMAT = "netbuilder-project"
SCHEMA_VERSION = 1
SUFFIX = ".nbproj"


class ProjectError(Exception):
    """A project file that cannot be read or written; the message names the file and the cause."""

    def __init__(self, message: str, file: str | os.PathLike | None = None, field_path: str | None = None):
        self.file = str(file) if file is not None else None
        self.field_path = field_path
        super().__init__(f"{file}: {message}" if file is not None else message)


@dataclass
class Project:
    name: str = "Untitled"
    graph: Graph = field(default_factory=Graph)
    settings: dict = field(default_factory=default_settings)
    description: str = ""

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "description": self.description,
            "graph": self.graph.to_dict(),
            **copy.deepcopy(self.settings),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Project":
        """Build from JSON data; raises ValidationError with the path of the bad field."""
        if not isinstance(data, dict):
            raise ValidationError("", "the file does not hold a JSON object")
        if data.get("format") != FORMAT:
            raise ValidationError("format", f"not a NetBuilder project (expected format {FORMAT!r})")
        version = data.get("schema_version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValidationError("schema_version", f"expected a positive integer, got {version!r}")
        if version > SCHEMA_VERSION:
            raise ValidationError("schema_version", f"saved by a newer NetBuilder (schema {version}); this version reads "
                                                    f"schema {SCHEMA_VERSION} and older — please update NetBuilder")
        data = migrate(data, version)
        known = {"format", "schema_version", "name", "description", "graph", "data", "optimizer", "schedule",
                 "initialization", "regularization", "training"}
        for key in data:
            if key not in known:
                raise ValidationError(key, "unknown section")
        for key in ("name", "description"):
            if key in data and not isinstance(data[key], str):
                raise ValidationError(key, "expected text")
        if "graph" not in data:
            raise ValidationError("graph", "missing")
        graph = Graph.from_dict(data["graph"])
        settings = validate_settings(data)
        return cls(data.get("name", "Untitled"), graph, settings, data.get("description", ""))

    def copy(self) -> "Project":
        return Project.from_dict(self.to_dict())

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike) -> None:
        save_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Project":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ProjectError("no such file", path) from None
        except IsADirectoryError:
            raise ProjectError("is a folder, not a project file", path) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ProjectError(f"cannot be read ({exc})", path) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProjectError(f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                               f"the file may be truncated or not a project", path) from None
        except (ValueError, RecursionError) as exc:  # e.g. a number with thousands of digits, absurd nesting
            raise ProjectError(f"is not a readable project ({exc})", path) from None
        try:
            return cls.from_dict(data)
        except ValidationError as exc:
            where = f"field '{exc.path}'" if exc.path else "content"
            raise ProjectError(f"bad {where}: {exc.message}", path, exc.path) from None


def migrate(data: dict, version: int) -> dict:
    """Bring older schema versions up to SCHEMA_VERSION (there is only version 1 so far)."""
    return data


def save_json_atomic(path: str | os.PathLike, data) -> None:
    """Write JSON to a temporary file in the same folder, then rename it over `path`.

    Everything that can fail (serialising, encoding, writing, syncing) happens before the
    rename, so on any failure the previous file is left exactly as it was and no temporary
    file is left behind.
    """
    path = Path(path)
    try:
        text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        payload = text.encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise ProjectError(f"cannot be saved: {exc}", path) from None
    folder = path.parent if str(path.parent) else Path(".")
    try:
        mode = path.stat().st_mode & 0o777 if path.exists() else _default_file_mode()
    except OSError:
        mode = _default_file_mode()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ProjectError(f"cannot be saved: {exc.strerror or exc}", path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.chmod(tmp, mode)  # the temporary file is private; give the result the usual permissions
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise ProjectError(f"cannot be saved: {exc.strerror or exc}", path) from None
        raise


def _default_file_mode() -> int:
    """rw for everyone the umask allows, as a plain open() would create the file."""
    if os.name != "posix":
        return 0o666
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o644

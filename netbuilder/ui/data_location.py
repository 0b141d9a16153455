"""Where the project's data would be read from, in words for the Data panel. Qt-free, so a
child process can answer it (see probe.py)."""
from __future__ import annotations

from pathlib import Path

BUILT_IN = ("fashion-mnist", "mnist", "kmnist", "cifar10")


def needs_torch(data: dict) -> bool:
    """Only the built-in datasets are looked up through the data module (which loads torch)."""
    return data["dataset"] in BUILT_IN


def locate_dataset(data: dict, project_dir: Path | None) -> tuple[str, str]:
    """(status, message): status is "ok", "missing" or "unknown"."""
    dataset = data["dataset"]
    if dataset == "toy-2d":
        return "ok", "Generated on the fly: nothing to download."
    if dataset not in BUILT_IN:
        path = data.get("path")
        if not path:
            what = "folder" if dataset == "image-folder" else "file"
            return "missing", f"Choose the {what} to read below."
        full = Path(path) if Path(path).is_absolute() or project_dir is None else project_dir / path
        return ("ok", f"Reads {full}") if full.exists() else ("missing", f"{full} does not exist.")
    try:
        from ..train.data import find_dataset_root
    except ImportError:
        return "unknown", "Where the data is will be known when training starts."
    try:
        root = find_dataset_root(dataset, root=data.get("root"), project_dir=project_dir)
    except (OSError, ValueError, LookupError) as exc:  # the message lists where it looked and what to do
        return "missing", str(exc)
    return "ok", f"Found in {root}"

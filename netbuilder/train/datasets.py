"""Readers for image datasets, each returning compact tensors.

IDX (MNIST, Fashion-MNIST, KMNIST; gzipped or not), the CIFAR-10 python batches and a folder
of images with one subfolder per class (CSV and NPZ tables are in `tables.py`). Every reader
checks what it reads and raises a DataError that names the file or folder at fault and what
to do about it.

Images come back as uint8 (N, C, H, W) and labels as int64; nothing here knows about the
network's Input node: `data.py` adapts what is read to it.
"""
from __future__ import annotations

import gzip
import importlib
import os
import pickle
import socket
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch


class DataError(ValueError):
    """Data that is missing or cannot be read; the message names the file, folder or field at
    fault and says how to fix it."""


@dataclass
class RawData:
    """What a reader found, before splitting and adaptation: images (N, C, H, W) or feature rows."""
    x: torch.Tensor
    y: torch.Tensor
    classes: list[str]
    description: str
    x_test: torch.Tensor | None = None
    y_test: torch.Tensor | None = None
    x_val: torch.Tensor | None = None   # an image folder's own validation subfolder, when it has one
    y_val: torch.Tensor | None = None
    task: str = "classification"


def _report(progress, message, fraction=None):
    if progress is not None:
        progress(message, fraction)


# --------------------------------------------------------------------------- built-in datasets
@dataclass(frozen=True)
class BuiltIn:
    key: str
    title: str
    folder: str            # the folder torchvision keeps it in below its root
    files: tuple[str, ...]  # the files that must be there (IDX names without .gz)
    classes: tuple[str, ...]


_DIGITS = tuple(str(i) for i in range(10))
_IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")

BUILT_IN = {
    "fashion-mnist": BuiltIn("fashion-mnist", "Fashion-MNIST", "FashionMNIST", _IDX_FILES,
                             ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                              "Bag", "Ankle boot")),
    "mnist": BuiltIn("mnist", "MNIST", "MNIST", _IDX_FILES, _DIGITS),
    "kmnist": BuiltIn("kmnist", "KMNIST", "KMNIST", _IDX_FILES, ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
    "cifar10": BuiltIn("cifar10", "CIFAR-10", CIFAR_FOLDER, CIFAR_FILES,
                       ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")),
}


def holds_files(folder: Path, name: str) -> bool:
    """Whether `folder` directly holds (part of) dataset `name`: its first training file."""
    first = BUILT_IN[name].files[0]
    return (folder / first).is_file() or (folder / f"{first}.gz").is_file()


def where_to_put(name: str) -> str:
    """The files a user must place for `name`, in words."""
    if name == "cifar10":
        return (f"the {CIFAR_FOLDER} folder unpacked from cifar-10-python.tar.gz "
                f"({', '.join(CIFAR_FILES)}, batches.meta)")
    return ", ".join(f"{f}.gz" for f in BUILT_IN[name].files) + " (gzipped or not)"


def read_built_in(name: str, folder: Path, progress=None) -> RawData:
    spec = BUILT_IN[name]
    if name == "cifar10":
        return _read_cifar(folder, spec, progress)
    return _read_idx_dataset(folder, spec, progress)


# --------------------------------------------------------------------------- IDX
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_CHUNK = 1 << 22


def idx_file(folder: Path, stem: str) -> Path | None:
    """The plain file when present (it reads faster), else the gzipped one, else None."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path: Path, progress=None, max_items: int | None = None) -> np.ndarray:
    """One IDX array (gzipped or not). `max_items` reads only the first items (for previews)."""
    path = Path(path)
    total = path.stat().st_size
    try:
        with open(path, "rb") as raw:
            stream = gzip.GzipFile(fileobj=raw) if path.suffix == ".gz" else raw
            header = stream.read(4)
            if len(header) < 4 or header[0] != 0 or header[1] != 0 or header[2] not in _IDX_TYPES or header[3] == 0:
                raise DataError(f"{path} is not an IDX file (it starts with {header[:4].hex() or 'nothing'}); "
                                f"replace it with an intact copy")
            dtype = np.dtype(_IDX_TYPES[header[2]])
            dims_bytes = stream.read(4 * header[3])
            if len(dims_bytes) < 4 * header[3]:
                raise DataError(f"{path} ends inside its header; replace it with an intact copy")
            dims = [int(d) for d in np.frombuffer(dims_bytes, dtype=">u4")]
            if max_items is not None:
                dims[0] = min(dims[0], max_items)
            expected = int(np.prod(dims)) * dtype.itemsize
            buffer = bytearray(expected)
            view = memoryview(buffer)
            filled = 0
            while filled < expected:
                got = stream.readinto(view[filled:filled + _CHUNK])
                if not got:
                    break
                filled += got
                _report(progress, f"Reading {path.name}", min(raw.tell() / max(total, 1), 1.0))
    except (OSError, EOFError) as exc:  # gzip's BadGzipFile is an OSError
        raise DataError(f"{path} cannot be read ({exc}); replace it with an intact copy") from None
    if filled < expected:
        raise DataError(f"{path} is truncated: {filled:,} of {expected:,} data bytes; replace it with an intact copy")
    return np.frombuffer(buffer, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="), copy=False)


def _read_idx_dataset(folder: Path, spec: BuiltIn, progress=None) -> RawData:
    paths = {stem: idx_file(folder, stem) for stem in spec.files}
    missing = [f"{stem}(.gz)" for stem, p in paths.items() if p is None]
    if missing:
        raise DataError(f"{folder} holds part of {spec.title} but lacks {', '.join(missing)}; "
                        f"put all of {where_to_put(spec.key)} there")
    arrays = {}
    sizes = {stem: p.stat().st_size for stem, p in paths.items()}
    done, total = 0, sum(sizes.values())
    for stem, path in paths.items():
        share = sizes[stem] / total
        arrays[stem] = read_idx(path, lambda m, f, d=done, s=share: _report(progress, m, d + (f or 0) * s))
        done += share
    parts = []
    for images, labels in ((spec.files[0], spec.files[1]), (spec.files[2], spec.files[3])):
        x, y = arrays[images], arrays[labels]
        if x.ndim != 3 or x.dtype != np.uint8:
            raise DataError(f"{paths[images]} holds {x.dtype} data of shape {x.shape}, not 8-bit images N×H×W")
        if y.ndim != 1 or len(y) != len(x):
            raise DataError(f"{paths[labels]} holds {y.shape[0] if y.ndim else 0} labels but {paths[images].name} "
                            f"holds {len(x)} images; the two files do not belong together")
        if len(y) and (y.min() < 0 or y.max() >= len(spec.classes)):
            raise DataError(f"{paths[labels]} holds label {int(y.max())}, outside 0–{len(spec.classes) - 1}")
        parts.append((torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y.astype(np.int64))))
    (x, y), (x_test, y_test) = parts
    return RawData(x, y, list(spec.classes), f"{spec.title} from {folder}", x_test, y_test)


# --------------------------------------------------------------------------- CIFAR-10
class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists and numpy arrays only: a batch file cannot run code on load."""
    _ALLOWED = {("multiarray", "_reconstruct"), ("numeric", "_frombuffer"), ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module, name):
        short = module.rsplit(".", 1)[-1]
        if module.split(".")[0] == "numpy" and (short, name) in self._ALLOWED:
            # Files written by numpy 1 name numpy.core, which numpy 2 keeps only as a deprecated alias.
            for candidate in (module.replace("numpy.core", "numpy._core"), module):
                try:
                    return getattr(importlib.import_module(candidate), name)
                except (ImportError, AttributeError):
                    continue
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _load_batch(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            entry = _ArrayUnpickler(f, encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError) as exc:
        raise DataError(f"{path} is not a CIFAR-10 batch file ({exc}); replace it with an intact copy") from None
    if not isinstance(entry, dict):
        raise DataError(f"{path} is not a CIFAR-10 batch file (it holds a {type(entry).__name__}, not a dict)")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in entry.items()}


def read_cifar_batch(folder: Path, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch file: uint8 images (N, 3, 32, 32) and int64 labels."""
    path = folder / name
    entry = _load_batch(path)
    data, labels = entry.get("data"), entry.get("labels", entry.get("fine_labels"))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        found = f"{data.dtype} data of shape {data.shape}" if isinstance(data, np.ndarray) else "none"
        raise DataError(f"{path} has no 'data' array of 8-bit 32×32 colour images (found {found}); "
                        f"replace it with an intact copy")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        labels = np.zeros(0, dtype=np.int64)
    if labels.shape != (len(data),) or (len(labels) and (labels.min() < 0 or labels.max() > 9)):
        raise DataError(f"{path} does not hold one label in 0–9 for each of its {len(data)} images; "
                        f"replace it with an intact copy")
    return torch.from_numpy(data).reshape(-1, 3, 32, 32), torch.from_numpy(labels)


def _read_cifar(folder: Path, spec: BuiltIn, progress=None) -> RawData:
    if (folder / CIFAR_FOLDER).is_dir():
        folder = folder / CIFAR_FOLDER
    missing = [name for name in CIFAR_FILES if not (folder / name).is_file()]
    if missing:
        raise DataError(f"{folder} lacks {', '.join(missing)}; put {where_to_put('cifar10')} there")
    parts = []
    for i, name in enumerate(CIFAR_FILES):
        _report(progress, f"Reading {name}", i / len(CIFAR_FILES))
        parts.append(read_cifar_batch(folder, name))
    x = torch.cat([x for x, _ in parts[:-1]])
    y = torch.cat([y for _, y in parts[:-1]])
    x_test, y_test = parts[-1]
    return RawData(x, y, list(spec.classes), f"CIFAR-10 from {folder}", x_test, y_test)


# --------------------------------------------------------------------------- downloading
def download_built_in(name: str, destination: Path, timeout: float = 3.0) -> Path:
    """Fetch a built-in dataset with torchvision into `destination`; returns the folder holding the
    files. Raises OSError with the reason when there is no network or the download fails."""
    if os.environ.get("NETBUILDER_OFFLINE"):
        raise OSError("downloads are switched off ($NETBUILDER_OFFLINE is set)")
    from torchvision import datasets

    cls = {"fashion-mnist": datasets.FashionMNIST, "mnist": datasets.MNIST, "kmnist": datasets.KMNIST,
           "cifar10": datasets.CIFAR10}[name]
    url = cls.url if name == "cifar10" else cls.mirrors[0]
    _check_reachable(url, timeout)
    destination.mkdir(parents=True, exist_ok=True)
    try:
        for train in (True, False):
            cls(root=str(destination), train=train, download=True)
    except Exception as exc:  # torchvision raises whatever its mirrors and checks raise
        raise OSError(f"the download failed: {exc}") from None
    return destination / BUILT_IN[name].folder / ("" if name == "cifar10" else "raw")


def _check_reachable(url: str, timeout: float) -> None:
    """Fail within `timeout` seconds when the host cannot be reached: name lookups can hang far
    longer than socket timeouts when offline, so the probe runs on a throwaway thread."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    outcome: list = []

    def probe():
        try:
            socket.create_connection((parts.hostname, port), timeout=timeout).close()
            outcome.append(None)
        except OSError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    if not outcome:
        raise OSError(f"no network: {parts.hostname} did not answer within {timeout:g} s")
    if outcome[0] is not None:
        raise OSError(f"no network: {parts.hostname} cannot be reached ({outcome[0]})")


# --------------------------------------------------------------------------- image folders
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
_SPLIT_FOLDERS = {"train": ("train", "training"), "val": ("val", "valid", "validation"), "test": ("test", "testing")}


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _class_files(folder: Path) -> dict[str, list[Path]]:
    classes = _visible_dirs(folder)
    if not classes:
        raise DataError(f"{folder} has no class subfolders; put each class's images in a subfolder of its own "
                        f"(e.g. {folder / 'cat' / '001.png'})")
    out = {}
    for cls in classes:
        files = sorted(p for p in cls.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                       and not p.name.startswith("."))
        if not files:
            raise DataError(f"class folder {cls} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); "
                            f"add images or remove the folder")
        out[cls.name] = files
    return out


def image_folder_layout(root: Path) -> dict[str, Path]:
    """{'train': folder, 'val'?: folder, 'test'?: folder}: train/ val/ test/ subfolders when the
    folder is split already, else the folder itself as the training split."""
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist; choose a folder with one subfolder per class")
    names = {p.name.lower(): p for p in _visible_dirs(root)}
    found = {split: names[a] for split, aliases in _SPLIT_FOLDERS.items() for a in aliases if a in names}
    if "train" not in found:
        return {"train": root}
    return found


def read_image_folder(root: Path, channels: int, size: tuple[int, int], progress=None, max_items=None) -> RawData:
    """Images resized to `size` (H, W) with `channels` (1 grey, 3 RGB, 4 RGBA) at load time."""
    from PIL import Image, UnidentifiedImageError

    mode = {1: "L", 3: "RGB", 4: "RGBA"}.get(channels)
    if mode is None:
        raise DataError(f"images can be read with 1, 3 or 4 channels, not {channels}; change the Input node")
    layout = image_folder_layout(root)
    listings = {split: _class_files(folder) for split, folder in layout.items()}
    classes = list(listings["train"])
    for split, listing in listings.items():
        extra = sorted(set(listing) - set(classes))
        if extra:
            raise DataError(f"{layout[split]} has class folders {', '.join(extra)} that {layout['train']} lacks; "
                            f"every split needs the same classes")
    total = sum(len(f) for listing in listings.values() for f in listing.values())
    read, bad = 0, []
    arrays = {}
    h, w = size
    for split, listing in listings.items():
        images, labels = [], []
        for label, cls in enumerate(classes):
            for path in listing.get(cls, []):
                if max_items is not None and len(images) >= max_items:
                    break
                try:
                    with Image.open(path) as img:
                        img = img.convert(mode)
                        if img.size != (w, h):
                            img = img.resize((w, h), Image.Resampling.BILINEAR, reducing_gap=3.0)
                        images.append(np.asarray(img, dtype=np.uint8).reshape(h, w, channels))
                        labels.append(label)
                except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
                    bad.append(f"{path} ({exc.__class__.__name__})")
                read += 1
                if read % 256 == 0:
                    _report(progress, f"Reading images in {layout[split]}", read / total)
        arrays[split] = (torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous() if images
                         else torch.zeros(0, channels, h, w, dtype=torch.uint8),
                         torch.tensor(labels, dtype=torch.int64))
    if bad:
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise DataError(f"{len(bad)} file(s) in {root} are not readable images: {'; '.join(bad[:5])}{more}; "
                        f"fix or remove them")
    x, y = arrays["train"]
    x_val, y_val = arrays.get("val", (None, None))
    x_test, y_test = arrays.get("test", (None, None))
    return RawData(x, y, classes, f"images from {root}", x_test, y_test, x_val, y_val)

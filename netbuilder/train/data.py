"""The training data as compact tensors on the training device, shaped for the network's Input node.

`load_data` reads the dataset the project names (see `datasets.py` for the file formats and
`toy.py` for the 2-D point sets), holds out a seeded validation split (a `limit` on the training
samples shrinks it and the test split in proportion: `evaluation_share`), adapts the samples to
the Input node once (resizing, grey↔colour, flattening is a free reshape per batch), fits the
preprocessing statistics on the training split only and puts everything on the device.

Built-in datasets are looked for, in order, in the project's data folder, $NETBUILDER_DATA,
the user's data folder and /usr/share/datasets/<name>; each place may hold the files directly
or in torchvision's own layout. When none has them they are downloaded (when online, and
unless $NETBUILDER_OFFLINE is set); when that fails too, the error lists every place looked in
and says where to put the files.
"""
from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..core.params import defaults
from ..core.settings import DATA_SPECS
from . import datasets, tables
from .datasets import BUILT_IN, DataError, RawData
from .preprocess import Normalizer, fit_normalizer
from .toy import TOY_CLASSES, make_toy

__all__ = ["DataError", "Split", "DataBundle", "Normalizer", "load_data", "evaluation_share", "find_dataset_root",
           "describe_search_paths", "preview_samples", "user_data_dir"]

PROJECT_DATA_FOLDER = "data"
ENVIRONMENT_VARIABLE = "NETBUILDER_DATA"
SYSTEM_DATASETS = Path("/usr/share/datasets")


@dataclass
class Split:
    x: torch.Tensor   # compact: uint8 for 8-bit sources, float32 features, small ints for token ids
    y: torch.Tensor   # int64 class indices, or float32 regression targets

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class DataBundle:
    train: Split
    val: Split | None
    test: Split | None
    classes: list[str]
    input_shape: tuple
    normalizer: Normalizer
    source: str
    task: str   # "classification" | "regression"


# --------------------------------------------------------------------------- where datasets live
def user_data_dir() -> Path:
    """The per-user folder for downloaded datasets, following each platform's convention."""
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "NetBuilder"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support" / "NetBuilder"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "netbuilder"
    return base / "datasets"


def _bases(project_dir) -> list[Path]:
    bases = []
    if project_dir is not None:
        bases.append(Path(project_dir) / PROJECT_DATA_FOLDER)
    if os.environ.get(ENVIRONMENT_VARIABLE):
        bases.append(Path(os.environ[ENVIRONMENT_VARIABLE]).expanduser())
    bases.append(user_data_dir())
    return bases


def describe_search_paths(name: str, project_dir=None) -> list[Path]:
    """The folders looked in for dataset `name`, in order. A folder named after the dataset may
    hold the files directly; a general data folder only in torchvision's layout below it
    (e.g. data/FashionMNIST/raw), since MNIST and Fashion-MNIST share their file names."""
    paths = []
    for base in _bases(project_dir):
        paths += [base / name, base]
    return paths + [SYSTEM_DATASETS / name]


def _files_folder(folder: Path, name: str, direct: bool) -> Path | None:
    """The folder below `folder` that holds dataset `name`'s files, or None."""
    spec = BUILT_IN[name]
    nested = [folder / spec.folder] if name == "cifar10" else [folder / spec.folder / "raw", folder / spec.folder]
    for candidate in ([folder] if direct else []) + nested:
        if candidate.is_dir() and datasets.holds_files(candidate, name):
            return candidate
    return None


def _resolve(path, project_dir) -> Path:
    path = Path(path).expanduser()
    return path if path.is_absolute() or project_dir is None else Path(project_dir) / path


def _default_destination(name: str, project_dir) -> Path:
    return (Path(project_dir) / PROJECT_DATA_FOLDER if project_dir is not None else user_data_dir()) / name


def _simple(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def _check_not_another_dataset(folder: Path, name: str) -> None:
    """MNIST, Fashion-MNIST and KMNIST share their file names; a folder named after one of the
    others (as Debian and torchvision name them) is almost surely a mistake."""
    names = {_simple(folder.name)} | ({_simple(folder.parent.name)} if folder.name == "raw" else set())
    for key, other in BUILT_IN.items():
        if key != name and names & {_simple(key), _simple(other.folder)}:
            raise DataError(f"the data folder {folder} looks like {other.title}, but the dataset is "
                            f"{BUILT_IN[name].title}; choose {BUILT_IN[name].title}'s folder or set the dataset "
                            f"to {key}")


def find_dataset_root(name: str, root=None, project_dir=None) -> Path:
    """The folder holding the files of built-in dataset `name`: in `root` when given (relative to
    the project), else the first of `describe_search_paths`. Raises a DataError listing every
    place looked in and where to put the files when none holds them."""
    if name not in BUILT_IN:
        raise DataError(f"{name!r} is not a built-in dataset ({', '.join(BUILT_IN)}); it is read from its "
                        f"'File or folder' setting")
    spec = BUILT_IN[name]
    if root:
        root = _resolve(root, project_dir)
        if not root.is_dir():
            raise DataError(f"the data folder {root} does not exist; choose the folder holding {spec.title}")
        for candidate in (root, root / name):
            found = _files_folder(candidate, name, direct=True)
            if found is not None:
                _check_not_another_dataset(found, name)
                return found
        raise DataError(f"the data folder {root} does not hold {spec.title}: put {datasets.where_to_put(name)} in it "
                        f"(or in {root / spec.folder / ('' if name == 'cifar10' else 'raw')}).")
    looked = describe_search_paths(name, project_dir)
    for candidate in looked:
        found = _files_folder(candidate, name, direct=candidate.name == name)
        if found is not None:
            return found
    unset = "" if os.environ.get(ENVIRONMENT_VARIABLE) else f" (${ENVIRONMENT_VARIABLE} is not set)"
    raise DataError(f"{spec.title} was not found. Looked in: {', '.join(map(str, looked))}{unset}. "
                    f"Put {datasets.where_to_put(name)} into {_default_destination(name, project_dir)}, "
                    f"or choose the folder holding them as the data folder (--data-root).")


def _locate_built_in(name: str, root, project_dir, progress) -> Path:
    """find_dataset_root, falling back to a download when nothing is found locally."""
    try:
        return find_dataset_root(name, root, project_dir)
    except DataError as missing:
        if root and not _resolve(root, project_dir).is_dir():
            raise
        destination = _resolve(root, project_dir) if root else _default_destination(name, project_dir)
        _report(progress, f"{BUILT_IN[name].title} is not here; downloading it to {destination}", None)
        try:
            return datasets.download_built_in(name, destination)
        except OSError as failure:
            raise DataError(f"{missing} Downloading it failed too: {failure}.") from None


# --------------------------------------------------------------------------- reading
def _report(progress, message, fraction=None):
    if progress is not None:
        progress(message, fraction)


def _scaled(progress, lo: float, hi: float):
    """A progress callback that maps a stage's 0..1 into lo..hi of the whole load."""
    if progress is None:
        return None
    return lambda message, fraction=None: progress(message, None if fraction is None else lo + (hi - lo) * fraction)


def _image_request(input_kind: str, input_shape: tuple) -> tuple[int, tuple[int, int]]:
    """(channels, (H, W)) to read an image folder at, from the Input node."""
    if input_kind == "image":
        return input_shape[0], tuple(input_shape[1:])
    if input_kind not in ("vector", "sequence"):
        raise DataError(f"an image folder can feed an image, vector or sequence input, not {input_kind} "
                        f"{input_shape}; change the Input node")
    c, h, w = image_geometry(input_kind, input_shape, (1, 1, 1), "the image folder")
    return c, (h, w)


def _read(settings: dict, input_kind: str, input_shape: tuple, project_dir, progress) -> RawData:
    name = settings["dataset"]
    if name in BUILT_IN:
        folder = _locate_built_in(name, settings.get("root"), project_dir, progress)
        return datasets.read_built_in(name, folder, progress)
    if name == "toy-2d":
        args = settings["toy_generator"], settings["toy_points"], settings["toy_noise"]
        x, y = make_toy(*args, seed=settings["toy_seed"])
        x_test, y_test = make_toy(*args, seed=settings["toy_seed"] + 1)
        return RawData(x, y, list(TOY_CLASSES), f"{settings['toy_generator']} toy data ({settings['toy_points']:,} "
                       f"points, noise {settings['toy_noise']:g}, seed {settings['toy_seed']})", x_test, y_test)
    if name in ("image-folder", "csv", "npz"):
        if not settings.get("path"):
            what = "folder" if name == "image-folder" else f"{name.upper()} file"
            raise DataError(f"no {what} is chosen; set Data ▸ File or folder")
        path = _resolve(settings["path"], project_dir)
        if name == "image-folder":
            channels, size = _image_request(input_kind, input_shape)
            return datasets.read_image_folder(path, channels, size, progress)
        if name == "csv":
            return tables.read_csv(path, settings["label_column"], progress)
        return tables.read_npz(path, progress)
    raise DataError(f"unknown dataset {name!r}; choose one of {', '.join(BUILT_IN)}, image-folder, csv, npz, toy-2d")


# --------------------------------------------------------------------------- adapting to the Input node
def _square_side(n: int) -> int | None:
    side = math.isqrt(n)
    return side if side * side == n else None


def image_geometry(input_kind: str, input_shape: tuple, native: tuple, source: str) -> tuple[int, int, int]:
    """The image size (C, H, W) to store images of size `native` at so that one reshape per batch
    gives the Input node's shape."""
    c0, h0, w0 = native
    channel_choices = [c0] + [c for c in (1, 3) if c0 in (1, 3) and c != c0]   # grey <-> colour only
    shown = "×".join(map(str, native))
    if input_kind == "image":
        c, h, w = input_shape
        if c not in channel_choices:
            raise DataError(f"{source} has {c0}-channel images but the Input node asks for {c} channels; "
                            f"set its channels to {' or '.join(map(str, channel_choices))}")
        return c, h, w
    if input_kind == "vector":
        (features,) = input_shape
        if features == c0 * h0 * w0:
            return native
        for c in channel_choices:
            side = _square_side(features // c) if features % c == 0 else None
            if side:
                return c, side, side
        raise DataError(f"{source} has {shown} images, which a vector of {features} features cannot hold; set the "
                        f"Input node's features to {c0 * h0 * w0} (the images flattened) or to C·S² for S×S images")
    if input_kind == "sequence":
        steps, features = input_shape
        if (steps, features) == (h0, w0 * c0):
            return native
        for c in channel_choices:
            if features % c == 0:
                return c, steps, features // c
    if input_kind == "signal":
        channels, length = input_shape
        if channels * length == c0 * h0 * w0:
            return native
        raise DataError(f"{source} has {shown} images; as a signal the Input node needs channels × length = "
                        f"{c0 * h0 * w0}, e.g. 1 × {c0 * h0 * w0} or {c0 * h0} × {w0}")
    raise DataError(f"{source} holds images, but the Input node expects {input_kind} of shape {input_shape}; "
                    f"token ids need a CSV or NPZ dataset of whole numbers")


def convert_images(x: torch.Tensor, channels: int, size: tuple[int, int], chunk: int = 2048) -> torch.Tensor:
    """Images (N, C, H, W) to `channels` and `size`, once at load time, keeping uint8 as uint8."""
    n, c, h, w = x.shape
    if c == channels and (h, w) == tuple(size):
        return x
    out = torch.empty((n, channels, *size), dtype=x.dtype)
    luminance = torch.tensor([0.299, 0.587, 0.114]).reshape(1, 3, 1, 1)  # ITU-R 601, as image libraries use
    for i in range(0, n, chunk):
        part = x[i:i + chunk].float()
        if channels == 1 and c == 3:
            part = (part * luminance).sum(1, keepdim=True)
        elif channels == 3 and c == 1:
            part = part.expand(-1, 3, -1, -1)
        elif channels != c:
            raise DataError(f"{c}-channel images cannot be converted to {channels} channels; set the Input node's "
                            f"channels to {c}")
        if (h, w) != tuple(size):
            part = F.interpolate(part, size=size, mode="bilinear", align_corners=False, antialias=True)
        if x.dtype == torch.uint8:
            part = part.round().clamp(0, 255)
        out[i:i + chunk] = part.to(x.dtype)
    return out


def _as_images(x: torch.Tensor) -> torch.Tensor | None:
    """Arrays of images in a file as (N, C, H, W), when their shape says they are images."""
    if x.dim() == 3:
        return x.unsqueeze(1)
    if x.dim() == 4:
        if x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4):
            return x.permute(0, 3, 1, 2).contiguous()   # channels last, as most image arrays are stored
        return x
    return None


def adapt(x: torch.Tensor, is_image: bool, input_kind: str, input_shape: tuple, source: str) -> tuple[torch.Tensor, str]:
    """(samples as stored, their layout): images stay images (resized and converted here, flattened
    per batch by the Normalizer); other arrays are reshaped to the Input node's shape."""
    shape = tuple(x.shape[1:])
    if input_kind == "tokens" and not is_image:
        if x.is_floating_point():
            raise DataError(f"{source} holds fractional values, but token ids must be whole numbers")
        if shape != tuple(input_shape):
            if math.prod(shape) != math.prod(input_shape):
                raise DataError(f"{source} has sequences of {shape} ids but the Input node expects {input_shape}")
            x = x.reshape(len(x), *input_shape)
        return x, "tokens"
    if not is_image and shape == tuple(input_shape):
        return x, input_kind
    images = x if is_image else _as_images(x)
    if images is not None:
        c, h, w = image_geometry(input_kind, input_shape, tuple(images.shape[1:]), source)
        return convert_images(images, c, (h, w)), "image"
    if math.prod(shape) == math.prod(input_shape):
        return x.reshape(len(x), *input_shape), input_kind
    raise DataError(f"{source} has samples of shape {shape} ({math.prod(shape)} values) but the Input node expects "
                    f"{input_kind} {tuple(input_shape)}; set the Input node to match the data")


# --------------------------------------------------------------------------- splitting
MIN_EVALUATION_SAMPLES = 500   # a limited run still measures accuracy to within about ±2%


def evaluation_share(count: int, limit: int | None, full_train: int) -> int:
    """How many samples of an evaluation split (validation or test) of `count` a run uses when
    `limit` caps its `full_train` training samples: the same share as the training split keeps,
    but at least MIN_EVALUATION_SAMPLES (or all there are). Without a limit, all of them. A quick
    `--limit 2000` run thus validates on hundreds of samples, not on the full split."""
    if limit is None or limit >= full_train:
        return count
    return min(count, max(math.ceil(count * limit / max(full_train, 1)), MIN_EVALUATION_SAMPLES))


def _split_indices(n: int, fraction: float, limit, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, validation) positions: a seeded shuffle, the last `fraction` held out, then at most
    `limit` training samples and the validation samples `evaluation_share` allows. A smaller limit
    takes a subset of a larger one's samples, in both splits."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_train = n - round(n * fraction)
    train, val = order[:n_train], order[n_train:]
    if limit is not None:
        train = train[:limit]
        val = val[:evaluation_share(len(val), limit, n_train)]
    return train, val


def _evaluation_subset(count: int, limit, full_train: int, seed: int) -> torch.Tensor | None:
    """Seeded positions of the evaluation samples a limited run uses (in their original order),
    or None for all of them. Seeded rather than the first ones: files are often sorted by class."""
    keep = evaluation_share(count, limit, full_train)
    if keep >= count:
        return None
    return torch.randperm(count, generator=torch.Generator().manual_seed(seed))[:keep].sort().values


def _subset(x: torch.Tensor, y: torch.Tensor, index: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    return (x, y) if index is None else (x[index], y[index])


# --------------------------------------------------------------------------- the entry point
def load_data(data_settings: dict, input_kind: str, input_shape: tuple, *, project_dir=None, device="cpu",
              progress=None) -> DataBundle:
    """Read, split, adapt and preprocess the project's data; see the module docstring."""
    settings = {**defaults(DATA_SPECS), **data_settings}
    input_shape = tuple(int(s) for s in input_shape)
    device = torch.device(device)
    raw = _read(settings, input_kind, input_shape, project_dir, _scaled(progress, 0.0, 0.8))
    source, classes, task = raw.description, list(raw.classes), raw.task
    is_image = raw.x.dim() == 4 and settings["dataset"] != "npz"   # npz arrays are images only by their shape

    limit, seed = settings["limit"], settings["split_seed"]
    if raw.x_val is not None and len(raw.x_val):   # an image folder with its own val/ subfolder
        full_train = len(raw.x)
        train_index = None
        if limit is not None and limit < full_train:
            generator = torch.Generator().manual_seed(seed)
            train_index = torch.randperm(full_train, generator=generator)[:limit]
        val_index = _evaluation_subset(len(raw.x_val), limit, full_train, seed)
        parts = {"train": _subset(raw.x, raw.y, train_index), "val": _subset(raw.x_val, raw.y_val, val_index)}
    else:
        full_train = len(raw.x) - round(len(raw.x) * settings["validation_fraction"])
        train_index, val_index = _split_indices(len(raw.x), settings["validation_fraction"], limit, seed)
        parts = {"train": _subset(raw.x, raw.y, train_index)}
        if len(val_index):
            parts["val"] = _subset(raw.x, raw.y, val_index)
    if raw.x_test is not None and len(raw.x_test):
        test_index = _evaluation_subset(len(raw.x_test), limit, full_train, seed)
        parts["test"] = _subset(raw.x_test, raw.y_test, test_index)
    del raw   # the splits are copies: let the full arrays go before adapting

    _report(progress, f"Preparing the samples for the Input node ({input_kind} {input_shape})", 0.8)
    splits, layout = {}, input_kind
    for name, (x, y) in parts.items():
        x, layout = adapt(x, is_image, input_kind, input_shape, source)
        splits[name] = Split(x.contiguous().to(device), y.to(device))
    normalizer = fit_normalizer(settings["preprocessing"], splits["train"].x, layout, input_shape, input_kind,
                                _scaled(progress, 0.9, 1.0))
    counts = ", ".join(f"{len(split):,} {name}" for name, split in splits.items())
    _report(progress, f"Loaded {source}: {counts} samples", 1.0)
    return DataBundle(splits["train"], splits.get("val"), splits.get("test"), classes, input_shape, normalizer,
                      source, task)


# --------------------------------------------------------------------------- previews
def preview_samples(data_settings: dict, count: int = 6, project_dir=None) -> np.ndarray:
    """The first `count` training images of the project's dataset as float32 (N, C, H, W) in [0, 1],
    read without loading the whole dataset (for the augmentation preview)."""
    settings = {**defaults(DATA_SPECS), **data_settings}
    name = settings["dataset"]
    if name in BUILT_IN:
        folder = find_dataset_root(name, settings.get("root"), project_dir)
        if name == "cifar10":
            x = datasets.read_cifar_batch(folder, datasets.CIFAR_FILES[0])[0][:count]
        else:
            stem = BUILT_IN[name].files[0]
            path = datasets.idx_file(folder, stem)
            x = torch.from_numpy(datasets.read_idx(path, max_items=count)).unsqueeze(1)
    elif name == "image-folder" and settings.get("path"):
        path = _resolve(settings["path"], project_dir)
        x = datasets.read_image_folder(path, 3, (64, 64), max_items=count).x
    elif name == "npz" and settings.get("path"):
        x = _as_images(tables.read_npz(_resolve(settings["path"], project_dir)).x[:count])
        if x is None:
            raise DataError("the NPZ file holds feature rows, not images; there is nothing to preview")
    else:
        raise DataError(f"the {name} dataset holds no images to preview")
    x = x[:count].float()
    if x.numel() and x.max() > 1.0:
        x = x / 255.0
    return x.numpy()

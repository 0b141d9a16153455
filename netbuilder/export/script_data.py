"""The data part of the standalone training script: readers, adaptation to the Input node,
preprocessing and augmentation, written out to behave as NetBuilder's own data pipeline
(train/data.py, preprocess.py, loader.py, augment.py) for the project's settings.

The generated code follows the same rules, so a single-process run sees the same samples:
the same seeded train/validation split with the limit applied to the training part, images
converted once at load time, statistics from the training split (exact per-channel
histograms for 8-bit images), the same per-epoch shuffle, and augmentation drawn from the
same per-epoch random streams.
"""
from __future__ import annotations

import inspect
import math
import textwrap

from .common import ExportError, Prepared

IDX_DATASETS = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST", "kmnist": "KMNIST"}
SUPPORTED = ("fashion-mnist", "mnist", "kmnist", "cifar10", "image-folder", "csv", "npz", "toy-2d")
CLASSES = {
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"],
    "mnist": [str(i) for i in range(10)],
    "kmnist": ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
    "toy-2d": ["0", "1"],
}


def _block(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


def check_data(prep: Prepared) -> None:
    """ExportError when the project's data cannot feed its Input node, with NetBuilder's own words."""
    from ..train.data import DataError, image_geometry
    from ..train.preprocess import MAX_WHITEN_FEATURES
    data = prep.project.settings["data"]
    dataset = data["dataset"]
    node = prep.graph.input_nodes()[0]
    kind = node.params["kind"]
    shape = tuple(prep.analysis.nodes[node.id].output_shape)
    if dataset not in SUPPORTED:
        raise ExportError(f"the training script cannot load the dataset {dataset!r}")
    if dataset in ("csv", "npz", "image-folder") and not data["path"]:
        raise ExportError(f"the {dataset} dataset has no file or folder set: choose it under Data ▸ File or folder")
    try:
        if dataset in IDX_DATASETS:
            image_geometry(kind, shape, (1, 28, 28), dataset)
        elif dataset == "cifar10":
            image_geometry(kind, shape, (3, 32, 32), dataset)
        elif dataset == "image-folder" and kind not in ("image", "vector", "sequence"):
            raise DataError(f"an image folder can feed an image, vector or sequence input, not {kind}")
    except DataError as exc:
        raise ExportError(f"the data do not fit the network: {exc}") from None
    if dataset == "toy-2d" and math.prod(shape) != 2:
        raise ExportError(f"the toy 2-D data are points (x, y) but the Input node expects {kind} {shape}; "
                          f"set it to a vector of 2 features")
    if data["preprocessing"] == "pca-whiten" and math.prod(shape) > MAX_WHITEN_FEATURES:
        raise ExportError(f"PCA whitening is offered for at most {MAX_WHITEN_FEATURES} input values, the Input node "
                          f"has {math.prod(shape)}; choose standardize")


# =========================================================================== readers
_SEARCH = '''
def user_data_dir():
    """NetBuilder's per-user dataset folder, following each platform's convention."""
    if sys.platform.startswith("win"):
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "NetBuilder"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support" / "NetBuilder"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "netbuilder"
    return base / "datasets"


def search_places(args):
    """(folder, whether files may sit directly in it) in the order they are tried: --data-root (or
    the project's data folder) when given, else ./data, $NETBUILDER_DATA, NetBuilder's user data
    folder and /usr/share/datasets/<name>. A general data folder holds the files only in
    torchvision's layout (data/FashionMNIST/raw), as MNIST-like datasets share their file names."""
    root = args.data_root or DATA_ROOT
    if root:
        root = resolve_path(root)
        return [(root, True), (root / DATASET, True)]
    bases = [Path("data"), Path(__file__).resolve().parent / "data"]
    if os.environ.get("NETBUILDER_DATA"):
        bases.append(Path(os.environ["NETBUILDER_DATA"]).expanduser())
    bases.append(user_data_dir())
    places = []
    for base in bases:
        places += [(base / DATASET, True), (base, False)]
    return places + [(Path("/usr/share/datasets") / DATASET, True)]
'''

_IDX_READER = '''
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def find_idx_folder(args):
    """The folder holding the IDX files (gzipped or not); --download fetches them with torchvision."""
    def holds(folder):
        return (folder / IDX_FILES[0]).is_file() or (folder / f"{IDX_FILES[0]}.gz").is_file()

    places = search_places(args)
    for place, direct in places:
        for folder in ([place] if direct else []) + [place / TORCHVISION_FOLDER / "raw", place / TORCHVISION_FOLDER]:
            if folder.is_dir() and holds(folder):
                return folder
    if args.download:
        from torchvision import datasets
        root = resolve_path(args.data_root or DATA_ROOT or "data")
        for train in (True, False):
            getattr(datasets, TORCHVISION_FOLDER)(root=str(root), train=train, download=True)
        return root / TORCHVISION_FOLDER / "raw"
    raise SystemExit(f"cannot find {DATASET}: put {', '.join(f + '.gz' for f in IDX_FILES)} into a folder and pass "
                     f"--data-root FOLDER, or add --download. Looked in: {', '.join(str(p) for p, _ in places)}")


def read_idx(path):
    """One IDX array (gzipped or not)."""
    with open(path, "rb") as raw:
        stream = gzip.GzipFile(fileobj=raw) if path.suffix == ".gz" else raw
        header = stream.read(4)
        if len(header) != 4 or header[:2] != b"\\0\\0" or header[2] not in IDX_TYPES:
            raise SystemExit(f"{path} is not an IDX file")
        dtype = np.dtype(IDX_TYPES[header[2]])
        dims = [int(d) for d in np.frombuffer(stream.read(4 * header[3]), dtype=">u4")]
        count = math.prod(dims)
        data = np.frombuffer(stream.read(count * dtype.itemsize), dtype=dtype)
    if data.size != count:
        raise SystemExit(f"{path} is truncated; replace it with an intact copy")
    return data.reshape(dims).astype(dtype.newbyteorder("="))


def load_raw(args):
    """(x, y, test, own validation, description): images (N, 1, 28, 28) uint8, labels int64."""
    folder = find_idx_folder(args)

    def read(stem):
        return read_idx(folder / stem if (folder / stem).is_file() else folder / f"{stem}.gz")

    x = torch.from_numpy(read(IDX_FILES[0]).copy()).unsqueeze(1)
    y = torch.from_numpy(read(IDX_FILES[1]).astype(np.int64))
    test = (torch.from_numpy(read(IDX_FILES[2]).copy()).unsqueeze(1), torch.from_numpy(read(IDX_FILES[3]).astype(np.int64)))
    return x, y, test, None, f"{DATASET} from {folder}"
'''

_CIFAR_READER = '''
def load_raw(args):
    """(x, y, test, own validation, description): CIFAR-10 through torchvision, (N, 3, 32, 32) uint8."""
    from torchvision import datasets
    places = search_places(args)
    root = next((folder for place, _ in places for folder in (place, place / "cifar10")
                 if (folder / "cifar-10-batches-py").is_dir()), None)
    if root is None and not args.download:
        raise SystemExit("cannot find CIFAR-10: pass --data-root FOLDER (the folder holding cifar-10-batches-py) or "
                         f"add --download. Looked in: {', '.join(str(p) for p, _ in places)}")
    root = root or resolve_path(args.data_root or DATA_ROOT or "data")
    parts = []
    for train in (True, False):
        split = datasets.CIFAR10(root=str(root), train=train, download=args.download)
        parts.append((torch.from_numpy(split.data).permute(0, 3, 1, 2).contiguous(),
                      torch.tensor(split.targets, dtype=torch.int64)))
    (x, y), test = parts
    return x, y, test, None, f"CIFAR-10 from {root}"
'''

_IMAGE_FOLDER_READER = '''
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}
SPLIT_FOLDERS = {"train": ("train", "training"), "val": ("val", "valid", "validation"), "test": ("test", "testing")}


def subfolders(folder):
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def read_image_split(folder, classes, channels, size):
    """Every image below folder/<class>/, converted to `channels` and resized to size (H, W) as it is read."""
    from PIL import Image
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    height, width = size
    images, labels = [], []
    for label, name in enumerate(classes):
        if not (folder / name).is_dir():
            continue
        files = sorted(p for p in (folder / name).rglob("*")
                       if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file() and not p.name.startswith("."))
        for path in files:
            with Image.open(path) as img:
                img = img.convert(mode)
                if img.size != (width, height):
                    img = img.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=3.0)
                images.append(np.asarray(img, dtype=np.uint8).reshape(height, width, channels))
                labels.append(label)
    if not images:
        return torch.zeros(0, channels, height, width, dtype=torch.uint8), torch.zeros(0, dtype=torch.int64)
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous(), torch.tensor(labels)


def load_raw(args):
    """(x, y, test, own validation, description): one subfolder per class, optionally inside
    train/, val/ and test/ subfolders; images are read at the Input node's size."""
    root = resolve_path(args.data_path or DATA_PATH)
    if not root.is_dir():
        raise SystemExit(f"image folder {root} does not exist; pass --data-path FOLDER")
    names = {p.name.lower(): p for p in subfolders(root)}
    layout = {split: names[a] for split, aliases in SPLIT_FOLDERS.items() for a in aliases if a in names}
    if "train" not in layout:
        layout = {"train": root}
    classes = [p.name for p in subfolders(layout["train"])]
    channels, size = READ_CHANNELS, READ_SIZE
    splits = {split: read_image_split(folder, classes, channels, size) for split, folder in layout.items()}
    x, y = splits["train"]
    return x, y, splits.get("test"), splits.get("val"), f"images from {root} ({len(classes)} classes)"
'''

_LABELS = '''
def labels_from(values, classes=None):
    """(targets, classes): text and whole numbers are classes (text in sorted order), other numbers
    regression targets."""
    values = np.asarray(values)
    if values.dtype.kind == "b":
        values = values.astype(np.int64)
    whole = values.dtype.kind in "iu" or (values.dtype.kind == "f" and np.all(values == np.round(values)))
    if values.dtype.kind == "f" and (values.ndim != 1 or not whole):
        return torch.from_numpy(values.astype(np.float32)), []
    if whole:
        values = values.astype(np.int64)
    if classes is None:
        names = np.unique(values)
        if whole and np.array_equal(names, np.arange(len(names))):
            return torch.from_numpy(values), [str(i) for i in range(len(names))]
        classes = [str(n) for n in names]
    lookup = {name: i for i, name in enumerate(classes)}
    return torch.tensor([lookup[t] for t in values.astype(str).tolist()], dtype=torch.int64), list(classes)
'''

_CSV_READER = '''
def load_raw(args):
    """(x, y, test, own validation, description): numeric feature columns and the label column
    LABEL_COLUMN of a CSV table with a header row."""
    path = resolve_path(args.data_path or DATA_PATH)
    with open(path, newline="", encoding="utf-8-sig") as f:
        header_line = f.readline()
    delimiter = next((d for d in (",", ";", "\\t") if d in header_line), ",")
    header = [h.strip() for h in next(csv.reader([header_line], delimiter=delimiter), [])]
    if LABEL_COLUMN not in header:
        raise SystemExit(f"{path} has no column {LABEL_COLUMN!r}; its columns: {', '.join(header)}")
    label = header.index(LABEL_COLUMN)
    options = dict(delimiter=delimiter, skiprows=1, encoding="utf-8-sig", quotechar='"', comments=None)
    x = np.loadtxt(path, usecols=[i for i in range(len(header)) if i != label], dtype=np.float32, ndmin=2, **options)
    raw_labels = np.char.strip(np.loadtxt(path, usecols=[label], dtype=str, ndmin=1, **options))
    try:
        raw_labels = raw_labels.astype(np.float64)
    except ValueError:
        pass  # text labels
    y, _ = labels_from(raw_labels)
    return torch.from_numpy(np.ascontiguousarray(x)), y, None, None, f"{path.name} ({len(x):,} rows)"
'''

_NPZ_READER = '''
def compact(array):
    """uint8 stays uint8, integers the smallest type that holds them, the rest float32."""
    if array.dtype in (np.uint8, np.bool_):
        return torch.from_numpy(array.astype(np.uint8, copy=False))
    if array.dtype.kind in "iu":
        lo, hi = (int(array.min()), int(array.max())) if array.size else (0, 0)
        for dtype in (np.uint8, np.int16, np.int32, np.int64):
            if np.iinfo(dtype).min <= lo and hi <= np.iinfo(dtype).max:
                return torch.from_numpy(array.astype(dtype))
    return torch.from_numpy(array.astype(np.float32))


def load_raw(args):
    """(x, y, test, own validation, description): arrays x and y, or x_train and y_train with
    x_test and y_test optional."""
    path = resolve_path(args.data_path or DATA_PATH)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k.lower(): archive[k] for k in archive.files}
    xk, yk = ("x_train", "y_train") if "x_train" in arrays else ("x", "y")
    y, classes = labels_from(arrays[yk])
    test = None
    if "x_test" in arrays and "y_test" in arrays:
        test = (compact(arrays["x_test"]), labels_from(arrays["y_test"], classes or None)[0])
    return compact(arrays[xk]), y, test, None, f"{path.name} ({len(y):,} samples)"
'''


def _toy_reader(generator: str) -> str:
    """NetBuilder's toy generator, copied, so the points are the same for the same seed."""
    from ..train import toy
    function = toy.GENERATORS[generator]
    source = inspect.getsource(function)
    helpers = f"SPIRAL_TURNS = {toy.SPIRAL_TURNS!r}\n\n\n" if "SPIRAL_TURNS" in source else ""
    make = inspect.getsource(toy.make_toy)
    make = make.replace("GENERATORS[generator]", function.__name__)
    make = make.replace(" -> tuple[torch.Tensor, torch.Tensor]", "")
    make = "\n".join(line for line in make.splitlines()
                     if "if generator not in GENERATORS" not in line and "unknown toy generator" not in line)
    return helpers + source + "\n\n" + make + "\n\n\n" + _block('''
        def load_raw(args):
            """(x, y, test, own validation, description): the 2-D points; the test points use the next seed."""
            x, y = make_toy(TOY_GENERATOR, TOY_POINTS, TOY_NOISE, TOY_SEED)
            test = make_toy(TOY_GENERATOR, TOY_POINTS, TOY_NOISE, TOY_SEED + 1)
            return x, y, test, None, f"{TOY_GENERATOR} toy data ({TOY_POINTS:,} points, noise {TOY_NOISE:g})"
        ''')


# =========================================================================== adaptation, split, preprocessing
_COMMON = '''
def resolve_path(path):
    """A path from the settings: as given, else relative to this script's folder."""
    path = Path(path).expanduser()
    if not path.is_absolute() and not path.exists() and (Path(__file__).resolve().parent / path).exists():
        path = Path(__file__).resolve().parent / path
    return path


def image_geometry(native):
    """The size (C, H, W) to store images of size `native` at, so that one reshape per batch gives
    INPUT_SHAPE (grey and colour convert into each other)."""
    c0, h0, w0 = native
    choices = [c0] + [c for c in (1, 3) if c0 in (1, 3) and c != c0]
    if INPUT_KIND == "image":
        return INPUT_SHAPE
    if INPUT_KIND == "vector":
        (features,) = INPUT_SHAPE
        if features == c0 * h0 * w0:
            return native
        for c in choices:
            side = math.isqrt(features // c) if features % c == 0 else 0
            if side and side * side == features // c:
                return c, side, side
    if INPUT_KIND == "sequence":
        steps, features = INPUT_SHAPE
        if (steps, features) == (h0, w0 * c0):
            return native
        for c in choices:
            if features % c == 0:
                return c, steps, features // c
    if INPUT_KIND == "signal" and math.prod(INPUT_SHAPE) == c0 * h0 * w0:
        return native
    raise SystemExit(f"images of {native} cannot feed an Input of {INPUT_KIND} {INPUT_SHAPE}")


def convert_images(x, channels, size, chunk=2048):
    """Images (N, C, H, W) to `channels` (ITU-R 601 grey) and `size` (bilinear, antialiased), kept uint8."""
    n, c, h, w = x.shape
    if c == channels and (h, w) == tuple(size):
        return x
    out = torch.empty((n, channels, *size), dtype=x.dtype)
    luminance = torch.tensor([0.299, 0.587, 0.114]).reshape(1, 3, 1, 1)
    for i in range(0, n, chunk):
        part = x[i:i + chunk].float()
        if channels == 1 and c == 3:
            part = (part * luminance).sum(1, keepdim=True)
        elif channels == 3 and c == 1:
            part = part.expand(-1, 3, -1, -1)
        if (h, w) != tuple(size):
            part = F.interpolate(part, size=size, mode="bilinear", align_corners=False, antialias=True)
        if x.dtype == torch.uint8:
            part = part.round().clamp(0, 255)
        out[i:i + chunk] = part.to(x.dtype)
    return out


def adapt(x, is_image):
    """(samples as stored, layout): images stay images, converted once here and flattened per batch
    by the Normalizer; other arrays are reshaped to INPUT_SHAPE."""
    shape = tuple(x.shape[1:])
    if INPUT_KIND == "tokens" and not is_image:
        return x.reshape(len(x), *INPUT_SHAPE), "tokens"
    if not is_image and shape == INPUT_SHAPE:
        return x, INPUT_KIND
    images = x if is_image else None
    if images is None and x.dim() == 3:
        images = x.unsqueeze(1)
    elif images is None and x.dim() == 4:
        channels_last = x.shape[-1] in (1, 3, 4) and x.shape[1] not in (1, 3, 4)
        images = x.permute(0, 3, 1, 2).contiguous() if channels_last else x
    if images is not None:
        c, h, w = image_geometry(tuple(images.shape[1:]))
        return convert_images(images, c, (h, w)), "image"
    if math.prod(shape) != math.prod(INPUT_SHAPE):
        raise SystemExit(f"the data have samples of shape {shape} but the network takes {INPUT_SHAPE}")
    return x.reshape(len(x), *INPUT_SHAPE), INPUT_KIND
'''

_NORMALIZER = '''
class Normalizer:
    """Stored batches → network inputs, in two steps with augmentation between them:
    standardize() gives float32 in the stored layout, ((x − offset)·scale, then the whitening
    matrix for pca-whiten); to_input() reshapes to INPUT_SHAPE. `fill` is what a stored 0 (black)
    becomes, so augmentation pads with background."""

    def __init__(self, stored_shape, offset=None, scale=None, whiten=None):
        self.stored_shape = tuple(stored_shape)
        self.offset, self.scale, self.whiten = offset, scale, whiten
        self.tokens = INPUT_KIND == "tokens"
        self.fill = None if self.tokens else self.standardize(torch.zeros((1, *self.stored_shape)))[0]

    def to(self, device):
        for name in ("offset", "scale", "whiten", "fill"):
            if getattr(self, name) is not None:
                setattr(self, name, getattr(self, name).to(device))
        return self

    def standardize(self, x):
        if self.tokens:
            return x.long()
        x = x.float()
        if self.offset is not None:
            x = x - self.offset
        if self.scale is not None:
            x = x * self.scale
        if self.whiten is not None:
            x = (x.reshape(len(x), -1) @ self.whiten).reshape(x.shape)
        return x

    def to_input(self, x):
        if tuple(x.shape[1:]) == INPUT_SHAPE:
            return x
        if INPUT_KIND == "sequence" and len(self.stored_shape) == 3 and self.stored_shape[0] > 1:
            return x.permute(0, 2, 3, 1).reshape(len(x), *INPUT_SHAPE)  # colour rows: channels side by side
        return x.reshape(len(x), *INPUT_SHAPE)

    def __call__(self, x):
        return self.to_input(self.standardize(x))


def chunks(x, size=8192):
    for i in range(0, len(x), size):
        yield x[i:i + size]


def fit_normalizer(x, layout):
    """PREPROCESSING with statistics of the training samples x (stored layout) only. Per channel for
    images and signals, per feature otherwise; 8-bit data count as [0, 1] intensities."""
    stored = tuple(x.shape[1:])
    if INPUT_KIND == "tokens":
        return Normalizer(stored)
    unit = 1.0 / 255.0 if x.dtype == torch.uint8 else 1.0
    axes = (0, *range(2, x.dim())) if layout in ("image", "signal") else tuple(range(x.dim() - 1))
    keep = [1 if i in axes else size for i, size in enumerate(x.shape)][1:]  # one sample's broadcast shape
    if PREPROCESSING == "none":
        return Normalizer(stored, scale=torch.full(keep, unit)) if unit != 1.0 else Normalizer(stored)
    if PREPROCESSING == "pca-whiten":
        flat = x.reshape(len(x), -1)
        mean = sum(c.double().sum(0) for c in chunks(flat)) / len(flat)
        pick = torch.randperm(len(flat), generator=torch.Generator().manual_seed(0))[:10_000]
        sample = ((flat[pick].double() - mean) * unit).float()
        covariance = (sample.T @ sample).double() / max(len(sample) - 1, 1)
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
        eigenvalues = eigenvalues.clamp(min=0)
        epsilon = 1e-3 * float(eigenvalues.mean()) + 1e-12  # keeps near-constant directions from blowing up
        whiten = (eigenvectors * (eigenvalues + epsilon).rsqrt()) @ eigenvectors.T
        return Normalizer(stored, offset=mean.float().reshape(stored), scale=torch.tensor(unit), whiten=whiten.float())
    if x.dtype == torch.uint8 and layout in ("image", "signal"):
        # Exact statistics of 8-bit data from one histogram per channel.
        counts = torch.stack([torch.bincount(x[:, c].reshape(-1), minlength=256) for c in range(x.shape[1])]).double()
        values = torch.arange(256, dtype=torch.float64)
        present = counts > 0
        low = torch.where(present, values, torch.full_like(values, 256)).amin(1)
        high = torch.where(present, values, torch.full_like(values, -1)).amax(1)
        n = counts.sum(1)
        mean = (counts * values).sum(1) / n
        std = ((counts * (values - mean[:, None]) ** 2).sum(1) / (n - 1).clamp_min(1)).sqrt()
    else:
        low = torch.stack([c.amin(dim=axes) for c in chunks(x)]).amin(0).double()
        high = torch.stack([c.amax(dim=axes) for c in chunks(x)]).amax(0).double()
        pooled = x.numel() // max(1, math.prod(keep))
        mean = sum(c.float().sum(dim=axes).double() for c in chunks(x)) / pooled
        centre = mean.float().reshape(keep)
        std = (sum((c.float() - centre).square_().sum(dim=axes).double() for c in chunks(x)) / max(pooled - 1, 1)).sqrt()

    def stat(values):
        return values.float().reshape(keep)

    if PREPROCESSING == "minmax":
        span = high - low
        span[span == 0] = 1.0
        return Normalizer(stored, offset=stat(low), scale=stat(1.0 / span))
    if PREPROCESSING == "zero-center":
        return Normalizer(stored, offset=stat(mean), scale=torch.full(keep, unit))
    std[std < 1e-8 * max(float(std.max()), 1.0)] = 1.0  # a constant channel stays as it is
    return Normalizer(stored, offset=stat(mean), scale=stat(1.0 / std))


def evaluation_share(count, limit, full_train):
    """How many of an evaluation split's `count` samples a run limited to `limit` of its
    `full_train` training samples uses: the training split's share, but at least 500 (or all)."""
    if limit is None or limit >= full_train:
        return count
    return min(count, max(math.ceil(count * limit / max(full_train, 1)), 500))


def evaluation_subset(split, limit, full_train):
    """The seeded subset of an evaluation split a limited run uses, in its original order."""
    xs, ys = split
    keep = evaluation_share(len(ys), limit, full_train)
    if keep >= len(ys):
        return split
    pick = torch.randperm(len(ys), generator=torch.Generator().manual_seed(SPLIT_SEED))[:keep].sort().values
    return xs[pick], ys[pick]


def load_data(args):
    """{"train", "val", "test"}: (x, y) splits as stored, the Normalizer fitted on the training
    split, and a description. A seeded shuffle (SPLIT_SEED) holds out the last VALIDATION_FRACTION;
    a limit takes the first samples of the training part and shrinks the validation and test
    splits in proportion (never below 500 samples), exactly as NetBuilder does."""
    limit = args.limit if args.limit is not None else LIMIT
    x, y, test, own_val, source = load_raw(args)
    is_image = x.dim() == 4 and DATASET != "npz"
    if own_val is not None and len(own_val[1]):
        full_train = len(x)
        if limit is not None and limit < len(x):
            pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(SPLIT_SEED))[:limit]
            x, y = x[pick], y[pick]
        parts = {"train": (x, y), "val": evaluation_subset(own_val, limit, full_train)}
    else:
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(SPLIT_SEED))
        full_train = len(x) - round(len(x) * VALIDATION_FRACTION)
        train, val = order[:full_train], order[full_train:]
        if limit is not None:
            train = train[:limit]
            val = val[:evaluation_share(len(val), limit, full_train)]
        parts = {"train": (x[train], y[train])}
        if len(val):
            parts["val"] = (x[val], y[val])
    if test is not None and len(test[1]):
        parts["test"] = evaluation_subset(test, limit, full_train)
    splits, layout = {}, INPUT_KIND
    for name, (xs, ys) in parts.items():
        xs, layout = adapt(xs, is_image)
        splits[name] = (xs.contiguous(), ys)
    return splits, fit_normalizer(splits["train"][0], layout), source
'''

_SHUFFLE = '''
def epoch_seed(seed, epoch):
    """The seed of epoch `epoch`'s shuffle and augmentation (as NetBuilder draws them)."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(2, np.uint64)[0] >> np.uint64(1))


class EpochSampler(DistributedSampler):
    """A DistributedSampler whose shuffle is NetBuilder's: one permutation per epoch (seeded by
    SEED and the epoch), padded to a multiple of the process count, every process taking every
    world-th index. With one process it is exactly NetBuilder's batch order."""

    def __iter__(self):
        generator = torch.Generator().manual_seed(epoch_seed(self.seed, self.epoch))
        order = torch.randperm(len(self.dataset), generator=generator).tolist()
        order += order[:self.total_size - len(order)]
        return iter(order[self.rank:self.total_size:self.num_replicas])
'''


def data_section(prep: Prepared) -> tuple[str, dict]:
    """(code, constants) that read, split, adapt and preprocess the project's data."""
    data = prep.project.settings["data"]
    dataset = data["dataset"]
    constants: dict = {}
    parts = []
    if dataset in IDX_DATASETS or dataset == "cifar10":
        parts.append(_SEARCH)
        if dataset in IDX_DATASETS:
            constants["TORCHVISION_FOLDER"] = IDX_DATASETS[dataset]
            parts.append(_IDX_READER)
        else:
            parts.append(_CIFAR_READER)
    elif dataset == "image-folder":
        from ..train.data import _image_request
        node = prep.graph.input_nodes()[0]
        shape = tuple(prep.analysis.nodes[node.id].output_shape)
        channels, size = _image_request(node.params["kind"], shape)
        constants.update(READ_CHANNELS=channels, READ_SIZE=tuple(size))
        parts.append(_IMAGE_FOLDER_READER)
    elif dataset == "csv":
        constants["LABEL_COLUMN"] = data["label_column"]
        parts += [_LABELS, _CSV_READER]
    elif dataset == "npz":
        parts += [_LABELS, _NPZ_READER]
    else:
        constants.update(TOY_GENERATOR=data["toy_generator"], TOY_POINTS=data["toy_points"],
                         TOY_NOISE=data["toy_noise"], TOY_SEED=data["toy_seed"])
        parts.append(_toy_reader(data["toy_generator"]))
    parts += [_COMMON, _NORMALIZER, _SHUFFLE]
    return "\n\n".join(p.strip("\n") + "\n" for p in parts), constants


# =========================================================================== augmentation
def augmentation_active(prep: Prepared) -> bool:
    from ..core.params import defaults
    from ..core.settings import AUGMENTATION_SPECS
    s = {**defaults(AUGMENTATION_SPECS), **prep.project.settings["data"]["augmentation"]}
    kind = prep.graph.input_nodes()[0].params["kind"]
    return kind != "tokens" and bool(s["hflip"] or s["vflip"] or s["rotation"] > 0 or s["shift"] > 0
                                     or s["scale"] > 0 or s["noise"] > 0 or s["color_jitter"] > 0
                                     or s["cutout"] > 0 or s["mixup"] > 0)


def augmentation_section(prep: Prepared) -> str:
    """An Augmenter with only the project's transformations, drawing from per-epoch streams."""
    from ..core.params import defaults
    from ..core.settings import AUGMENTATION_SPECS
    s = {**defaults(AUGMENTATION_SPECS), **prep.project.settings["data"]["augmentation"]}
    affine = s["rotation"] > 0 or s["shift"] > 0 or s["scale"] > 0
    steps_image, steps_signal, steps_all, methods = [], [], [], []
    if s["hflip"]:
        steps_image.append("x = torch.where(self.uniform(n, 0, 1, x.device).view(n, 1, 1, 1) < 0.5, x.flip(-1), x)"
                           "  # horizontal flip")
        steps_signal.append("x = torch.where(self.uniform(n, 0, 1, x.device).view(n, 1, 1) < 0.5, x.flip(-1), x)"
                            "  # time reversal")
    if s["vflip"]:
        steps_image.append("x = torch.where(self.uniform(n, 0, 1, x.device).view(n, 1, 1, 1) < 0.5, x.flip(-2), x)"
                           "  # vertical flip")
    if affine:
        steps_image.append("x = self.affine(x, fill)")
        methods.append(f'''
    def affine(self, x, fill):
        """Rotate by ±{s['rotation']:g}°, zoom by 1 ± {s['scale']:g}, shift by ±{s['shift']:g} of the size; pad with fill."""
        n, _, h, w = x.shape
        angle = self.uniform(n, -{s['rotation']!r}, {s['rotation']!r}, x.device) * (math.pi / 180)
        zoom = self.uniform(n, 1 - {s['scale']!r}, 1 + {s['scale']!r}, x.device)
        tx = self.uniform(n, -2 * {s['shift']!r}, 2 * {s['shift']!r}, x.device)
        ty = self.uniform(n, -2 * {s['shift']!r}, 2 * {s['shift']!r}, x.device)
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack([torch.stack([cos, -sin * (h / w), tx], 1), torch.stack([sin * (w / h), cos, ty], 1)], 1)
        return resample(x, theta, fill)
''')
    if s["shift"] > 0 or s["scale"] > 0:
        steps_signal.append("x = self.stretch(x, fill)")
        methods.append(f'''
    def stretch(self, x, fill):
        """Signals: stretch by 1 ± {s['scale']:g} and shift by ±{s['shift']:g} of the length."""
        n = len(x)
        stretch = 1 / self.uniform(n, 1 - {s['scale']!r}, 1 + {s['scale']!r}, x.device)
        tx = self.uniform(n, -2 * {s['shift']!r}, 2 * {s['shift']!r}, x.device)
        zeros, ones = torch.zeros_like(tx), torch.ones_like(tx)
        theta = torch.stack([torch.stack([stretch, zeros, tx], 1), torch.stack([zeros, ones, zeros], 1)], 1)
        return resample(x.unsqueeze(2), theta, fill.unsqueeze(-2) if fill.dim() >= 2 else fill).squeeze(2)
''')
    if s["color_jitter"] > 0:
        j = s["color_jitter"]
        steps_image.append("x = self.colour(x, fill)")
        methods.append(f'''
    def colour(self, x, fill):
        """Brightness (away from black), contrast (away from the image mean) and saturation (away from
        each pixel's grey) change by up to ±{j:g}."""
        n = len(x)
        x = fill + (x - fill) * self.uniform(n, {max(0.0, 1 - j)!r}, {1 + j!r}, x.device).view(n, 1, 1, 1)
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        x = mean + (x - mean) * self.uniform(n, {max(0.0, 1 - j)!r}, {1 + j!r}, x.device).view(n, 1, 1, 1)
        if x.shape[1] == 3:
            grey = x.mean(dim=1, keepdim=True)
            x = grey + (x - grey) * self.uniform(n, {max(0.0, 1 - j)!r}, {1 + j!r}, x.device).view(n, 1, 1, 1)
        return x
''')
    if s["cutout"] > 0:
        steps_image.append(f"x = self.cutout(x, fill, {s['cutout']})")
        steps_signal.append(f"x = self.cutout(x.unsqueeze(2), fill.unsqueeze(-2) if fill.dim() >= 2 else fill, "
                            f"{s['cutout']}, rows=False).squeeze(2)")
        methods.append('''
    def cutout(self, x, fill, size, rows=True):
        """Blank a size×size square (a segment for signals) at a random centre; it may hang over the border."""
        n, _, h, w = x.shape
        cy = (self.uniform(n, 0, h, x.device).floor() if rows else torch.zeros(n, device=x.device)).view(n, 1, 1, 1)
        cx = self.uniform(n, 0, w, x.device).floor().view(n, 1, 1, 1)
        ys = torch.arange(h, device=x.device).view(1, 1, h, 1)
        xs = torch.arange(w, device=x.device).view(1, 1, 1, w)
        low = size // 2
        inside = (xs >= cx - low) & (xs < cx - low + size)
        if rows:
            inside = inside & (ys >= cy - low) & (ys < cy - low + size)
        return torch.where(inside, fill, x)
''')
    if s["noise"] > 0:
        steps_all.append(f"x = x + {s['noise']!r} * torch.randn(x.shape, generator=self.streams(x.device)[0], "
                         f"device=x.device, dtype=x.dtype)  # Gaussian noise")
    if s["mixup"] > 0:
        steps_all.append(f"x, y = self.mixup(x, y, {s['mixup']!r})")
        methods.append('''
    def mixup(self, x, y, alpha):
        """x = λ·x_i + (1 − λ)·x_j with λ ~ Beta(α, α) per sample and j a shuffled partner; the
        targets become the same blend of one-hot vectors (or regression targets)."""
        n = len(x)
        generator, rng = self.streams(x.device)
        lam = torch.from_numpy(rng.beta(alpha, alpha, n).astype(np.float32)).to(x.device)
        partner = torch.randperm(n, generator=generator, device=x.device)
        shape = (-1, *([1] * (x.dim() - 1)))
        x = lam.view(shape) * x + (1 - lam).view(shape) * x[partner]
        if not y.is_floating_point():
            y = F.one_hot(y, num_classes=NUM_OUTPUTS if NUM_OUTPUTS > 1 else int(y.max()) + 1).float()
        lam_y = lam.view(-1, *([1] * (y.dim() - 1)))
        return x, lam_y * y + (1 - lam_y) * y[partner]
''')
    body = ['    def __call__(self, x, y, fill):',
            '        """Augment a standardized batch (stored layout); returns (x, y)."""',
            "        n = len(x)"]
    if steps_image:
        body.append("        if x.dim() == 4:")
        body += [f"            {line}" for line in steps_image]
    if steps_signal and prep.graph.input_nodes()[0].params["kind"] == "signal":
        body.append(f"        {'elif' if steps_image else 'if'} x.dim() == 3:")
        body += [f"            {line}" for line in steps_signal]
    body += [f"        {line}" for line in steps_all]
    body.append("        return x, y")
    head = '''
def resample(x, theta, fill):
    """Affine resampling that pads with `fill` (sample x − fill with zeros outside, add fill back)."""
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False) + fill


class Augmenter:
    """The project's augmentation on standardized batches, every sample with its own random draw.
    Each epoch draws from its own streams (seeded by the seed and the epoch, as in NetBuilder)."""

    def __init__(self, seed):
        self.seed, self.epoch, self.generator, self.rng = seed, 0, None, None

    def set_epoch(self, epoch):
        self.epoch, self.generator, self.rng = epoch, None, None

    def streams(self, device):
        if self.generator is None or self.generator.device != device:
            seed = epoch_seed(self.seed, self.epoch)
            self.generator = torch.Generator(device=device).manual_seed(seed)
            self.rng = np.random.default_rng(seed)
        return self.generator, self.rng

    def uniform(self, n, low, high, device):
        return torch.rand(n, generator=self.streams(device)[0], device=device) * (high - low) + low

'''
    code = head.lstrip("\n") + "\n".join(body) + "\n"
    for method in methods:
        code += method
    return code

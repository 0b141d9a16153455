"""One training epoch on Fashion-MNIST four ways, in one process, on the same data, model and batch size.

    python benchmarks/bench_epoch.py [--models lenet5,cnn,mlp] [--variants seed,engine,tensors,monitored]
                                     [--limit N] [--repeat 3] [--threads N]

  seed      the lectures' recipe: torchvision.datasets.FashionMNIST read from the local raw files,
            DataLoader(batch_size=64, shuffle=True), transforms.ToTensor(), and a plain loop that
            calls loss.item() every step, as the seed notebooks do;
  engine    NetBuilder's Trainer on the template's project as `netbuilder train` runs it: its own
            data loading and preprocessing, loss and accuracy read every `log_every` steps, no
            probes (nobody listens for them);
  tensors   a hand-written loop over tensors preloaded and standardized once, with the kernels the
            engine picks on this device (channels-last convolutions and a fused optimizer on the
            CPU): the floor that any loop driving the same torch model can reach, so engine /
            tensors is what the engine's own machinery costs;
  monitored the engine with a listener for its probes, as the window trains (histograms, filters,
            update ratios every `probe_every` steps): what the live monitor costs.

All of them train the template's generated module with the template's optimizer on the same
training images: the whole training split (the engine's validation hold-out is set to 0 so that
it trains on the same 60,000 images as the others). The epoch time is the training loop alone:
data loading, the test pass and the engine's end-of-epoch work (validation, receptive fields,
checkpoint) are not in it; the engine's are printed separately as `epoch end`.

Targets on two CPU cores: engine / seed ≤ 0.67 for LeNet-5 and ≤ 0.35 for the MLP, and engine
within 5% of tensors. Other programs on the machine move every number: the variants run
interleaved, `--repeat` times; times are medians, and ratios the median of each round's ratio
(the variants of a round ran back to back, under the same load). Peak memory is the process's resident
set at its highest during that variant (the kernel's high-water mark, reset before each variant),
so it includes what the process held before the variant started: PyTorch and torchvision
themselves (several hundred MB) and whatever the allocator kept from earlier variants.
"""
from __future__ import annotations

import argparse
import gc
import gzip
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

FASHION = Path("/usr/share/datasets/fashion-mnist")
RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
VARIANTS = ("seed", "engine", "tensors", "monitored")


# --------------------------------------------------------------------------- memory
def reset_peak_rss() -> bool:
    """Lower the kernel's resident-set high-water mark to the current size (Linux ≥ 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    scale = 1 if sys.platform == "darwin" else 1024   # macOS reports bytes, Linux kilobytes
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2 ** 20


# --------------------------------------------------------------------------- shared set-up
def torchvision_root(data_root: Path, scratch: Path) -> Path:
    """A folder in torchvision's FashionMNIST/raw layout holding the local files, so that the
    dataset loads without a download (torchvision reads the raw files uncompressed)."""
    raw = scratch / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for stem in RAW_FILES:
        packed = data_root / f"{stem}.gz"
        if not packed.exists():
            sys.exit(f"{packed} is missing; pass --data-root with the four Fashion-MNIST .gz files")
        (raw / f"{stem}.gz").unlink(missing_ok=True)
        (raw / f"{stem}.gz").symlink_to(packed)
        with gzip.open(packed, "rb") as src, open(raw / stem, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return scratch


def make_project(template: str, args):
    from netbuilder.core import templates
    project = templates.build(template)
    project.settings["data"].update(root=str(args.data_root), validation_fraction=0.0, limit=args.limit)
    project.settings["training"].update(epochs=1, device="cpu", checkpoint=False, batch_size=args.batch_size)
    return project


def make_model(project, seed: int) -> nn.Module:
    from netbuilder.compile import build_module
    torch.manual_seed(seed)
    return build_module(project.graph, title=project.name)


def make_optimizer(project, model: nn.Module, **options) -> torch.optim.Optimizer:
    """The template's optimizer as a notebook writes it: torch.optim with the template's
    hyperparameters, all parameters in one group."""
    from netbuilder.train.optim import _complete, _torch_arguments
    cls, kwargs = _torch_arguments(project.settings["optimizer"]["type"], _complete(project.settings["optimizer"]))
    return cls(model.parameters(), **kwargs, **options)


@torch.no_grad()
def accuracy(model: nn.Module, batches) -> float:
    model.eval()
    correct = total = 0
    for x, y in batches:
        correct += int((model(x).argmax(1) == y).sum())
        total += len(y)
    model.train()
    return correct / max(total, 1)


# --------------------------------------------------------------------------- (a) the seed recipe
def run_seed(project, args, vision_root: Path) -> dict:
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms
    started = time.perf_counter()
    train_set = datasets.FashionMNIST(str(vision_root), train=True, download=False, transform=transforms.ToTensor())
    test_set = datasets.FashionMNIST(str(vision_root), train=False, download=False, transform=transforms.ToTensor())
    if args.limit:
        train_set = Subset(train_set, range(min(args.limit, len(train_set))))
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    load_seconds = time.perf_counter() - started

    model = make_model(project, args.seed)
    optimizer = make_optimizer(project, model)
    criterion = nn.CrossEntropyLoss()
    model.train()
    epoch_start = time.perf_counter()
    running_loss = 0.0
    for images, labels in loader:
        optimizer.zero_grad()
        outputs = model(images)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    epoch_seconds = time.perf_counter() - epoch_start
    test = accuracy(model, DataLoader(test_set, batch_size=1000))
    return {"epoch": epoch_seconds, "load": load_seconds, "test_accuracy": test, "samples": len(train_set)}


# --------------------------------------------------------------------------- (b) the engine
def run_engine(project, args, vision_root: Path, probes: bool = False) -> dict:
    from netbuilder.train.callbacks import Callback
    from netbuilder.train.engine import Trainer

    class Clock(Callback):
        probes = 0
        def on_train_start(self, info):
            self.loaded = time.perf_counter()
            self.samples = info["train_samples"]

        def on_epoch_end(self, record):
            self.epoch = record["seconds"]
            self.epoch_done = time.perf_counter()

        def on_train_end(self, summary):
            self.ended = time.perf_counter()

    class ProbeListener(Callback):
        def on_probe(self, probe):
            clock.probes += 1

    clock = Clock()
    started = time.perf_counter()
    summary = Trainer(project, callbacks=[clock, ProbeListener()] if probes else [clock]).run()
    # What follows the epoch: receptive fields (validation is off here), the test pass, the summary.
    return {"epoch": clock.epoch, "load": clock.loaded - started, "test_accuracy": summary["test_accuracy"],
            "samples": clock.samples, "epoch_end": clock.ended - clock.epoch_done, "probes": clock.probes}


# --------------------------------------------------------------------------- (c) preloaded tensors
def run_tensors(project, args, vision_root: Path) -> dict:
    from netbuilder.train.datasets import idx_file, read_idx
    started = time.perf_counter()

    def load(stem_images, stem_labels):
        x = torch.from_numpy(read_idx(idx_file(args.data_root, stem_images))).unsqueeze(1)
        y = torch.from_numpy(read_idx(idx_file(args.data_root, stem_labels))).long()
        return x, y

    x_train, y_train = load("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    x_test, y_test = load("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    x_train = x_train.float().div_(255)
    mean, std = x_train.mean(), x_train.std()
    x_train = (x_train - mean) / std
    x_test = (x_test.float() / 255 - mean) / std
    load_seconds = time.perf_counter() - started

    # The engine's choice of kernels (memory layout, fused optimizer) on the same device, so that
    # engine / tensors measures what the engine's loop costs, not which kernels it picked.
    from netbuilder.train.engine import fused_optimizer, place_model
    from netbuilder.train.optim import FUSED_KINDS
    device = torch.device("cpu")
    model = place_model(make_model(project, args.seed), device)
    fused = fused_optimizer(device) and project.settings["optimizer"]["type"] in FUSED_KINDS
    optimizer = make_optimizer(project, model, **({"fused": True} if fused else {}))
    criterion = nn.CrossEntropyLoss()
    model.train()
    batch = args.batch_size
    epoch_start = time.perf_counter()
    order = torch.randperm(len(y_train))
    running_loss = torch.zeros(())
    for start in range(0, len(order), batch):
        index = order[start:start + batch]
        x, y = x_train.index_select(0, index), y_train.index_select(0, index)
        loss = criterion(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        running_loss += loss.detach()
    float(running_loss)
    epoch_seconds = time.perf_counter() - epoch_start
    test = accuracy(model, zip(x_test.split(1000), y_test.split(1000)))
    return {"epoch": epoch_seconds, "load": load_seconds, "test_accuracy": test, "samples": len(y_train)}


RUNNERS = {"seed": run_seed, "engine": run_engine, "tensors": run_tensors,
           "monitored": lambda project, args, root: run_engine(project, args, root, probes=True)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="lenet5,cnn,mlp", help="templates to time, comma-separated")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"which of {','.join(VARIANTS)} to run")
    parser.add_argument("--limit", type=int, help="train on the first N images only (quicker, noisier)")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved repeats; the median is reported")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: PyTorch's choice)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-root", type=Path, default=FASHION)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} logical CPUs; "
          f"batch {args.batch_size}; {'all' if not args.limit else args.limit} training images", flush=True)

    results: dict[tuple[str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-epoch-") as scratch:
        vision_root = torchvision_root(args.data_root, Path(scratch))
        for round_index in range(args.repeat):
            for model_name in models:
                for variant in variants:
                    gc.collect()
                    reset_peak_rss()
                    result = RUNNERS[variant](make_project(model_name, args), args, vision_root)
                    result["peak_rss_mb"] = peak_rss_mb()
                    results.setdefault((model_name, variant), []).append(result)
                    extra = f", epoch end {result['epoch_end']:.2f}s" if "epoch_end" in result else ""
                    extra += f", {result['probes']} probes" if result.get("probes") else ""
                    print(f"  [{round_index + 1}/{args.repeat}] {model_name:<7} {variant:<8} epoch "
                          f"{result['epoch']:6.2f}s  load {result['load']:5.2f}s{extra}  test accuracy "
                          f"{result['test_accuracy']:.4f}  peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)

    def median(model_name, variant, key):
        runs = results.get((model_name, variant))
        return statistics.median(r[key] for r in runs) if runs else None

    def ratio(model_name, top, bottom):
        """The median of each round's ratio: variants of one round ran back to back, under the same load."""
        tops, bottoms = results.get((model_name, top)), results.get((model_name, bottom))
        if not tops or not bottoms:
            return None
        return statistics.median(t["epoch"] / b["epoch"] for t, b in zip(tops, bottoms))

    def fmt(value, pattern):
        return "—" if value is None else format(value, pattern)

    print()
    probe_every = make_project(models[0], args).settings["training"]["probe_every"] if models else 0
    print(f"| model | seed recipe (a) s/epoch | engine (b) s/epoch | tensors (c) s/epoch | b/a | b/c | "
          f"engine + monitor probes (every {probe_every} steps) s/epoch | peak RSS a / b / c (MB) | "
          f"test accuracy a / b / c |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model_name in models:
        a, b, c, monitored = (median(model_name, v, "epoch") for v in VARIANTS)
        rss = " / ".join(fmt(median(model_name, v, "peak_rss_mb"), ".0f") for v in VARIANTS[:3])
        acc = " / ".join(fmt(median(model_name, v, "test_accuracy"), ".3f") for v in VARIANTS[:3])
        cost = ratio(model_name, "monitored", "engine")
        extra = "—" if monitored is None else f"{monitored:.2f} ({cost:.2f}× b)" if cost else f"{monitored:.2f}"
        print(f"| {model_name} | {fmt(a, '.2f')} | {fmt(b, '.2f')} | {fmt(c, '.2f')} | "
              f"{fmt(ratio(model_name, 'engine', 'seed'), '.2f')} | {fmt(ratio(model_name, 'engine', 'tensors'), '.2f')} "
              f"| {extra} | {rss} | {acc} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

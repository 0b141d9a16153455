"""What every exporter shares: errors, the report, the module with its weights, and staged writing.

Files are first written into a private staging folder beside their destination, checked there,
and only then renamed into place; a failed export leaves neither a broken file nor a stray
temporary one, and an existing file at the destination stays as it was.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..core.project import _default_file_mode


class ExportError(Exception):
    """An export that cannot be done; `node_id`/`node_name` name the node at fault when there is one."""

    def __init__(self, message: str, node_id: str | None = None, node_name: str | None = None):
        super().__init__(message)
        self.node_id = node_id
        self.node_name = node_name


@dataclass
class ExportReport:
    """What an export wrote and how it was checked."""
    format: str
    paths: list[Path]
    max_abs_diff: float | None
    verified: bool
    messages: list[str] = field(default_factory=list)
    batch: int | None = None      # samples the outputs were compared on
    tolerance: float = 1e-4

    @property
    def path(self) -> Path:
        """The main file written (the first of `paths`)."""
        return self.paths[0]

    def summary(self) -> str:
        """One line: what was written and how it was checked."""
        from . import FORMATS, RUN_FORMATS
        title = (FORMATS.get(self.format) or RUN_FORMATS.get(self.format) or (self.format,))[0]
        written = ", ".join(str(p) for p in self.paths)
        if self.max_abs_diff is not None and self.batch:
            check = (f"verified: max |Δ| {self.max_abs_diff:.2e} ≤ {self.tolerance:.0e} on {self.batch} "
                     f"sample{'s' if self.batch != 1 else ''}")
        elif self.max_abs_diff is not None:
            check = f"verified: read back, max |Δ| {self.max_abs_diff:.2e} from the run's records"
        else:
            check = "verified: reloaded and checked" if self.verified else "not verified"
        return f"wrote {written} ({title}; {check})"

    def to_json(self) -> dict:
        return {"format": self.format, "paths": [str(p) for p in self.paths], "max_abs_diff": self.max_abs_diff,
                "verified": self.verified, "batch": self.batch, "tolerance": self.tolerance,
                "messages": list(self.messages)}


# --------------------------------------------------------------------------- names
# Names the exported files use at module level; a class of that name would shadow them.
_RESERVED_CLASS_NAMES = {"Maxout", "Path", "torch", "nn", "F", "np", "dist", "load", "main", "DistributedDataParallel",
                         "DistributedSampler", "Normalizer", "Scheduler", "EarlyStopping", "Augmenter"}


def class_name_for(project) -> str:
    """A class name from the project's name: "LeNet-5" → "LeNet5", "my model" → "MyModel"."""
    words = re.findall(r"[A-Za-z0-9]+", project.name or "")
    name = "".join(w if w[:1].isupper() else w[:1].upper() + w[1:] for w in words)
    if not name or not name[0].isalpha():
        name = "Net" + name
    if name in _RESERVED_CLASS_NAMES or not name.isidentifier():
        name = "Net"
    return name


def file_stem_for(project) -> str:
    """A file name stem from the project's name: "LeNet-5" → "lenet-5"."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", project.name or "").strip("-").lower()
    return stem or "model"


# --------------------------------------------------------------------------- the module and its weights
@dataclass
class Prepared:
    """A project's module in evaluation mode on the CPU, with the weights to export."""
    project: object
    analysis: object
    model: object
    state_dict: dict
    class_name: str
    source: str
    trained: bool
    messages: list[str] = field(default_factory=list)

    @property
    def graph(self):
        return self.project.graph


def load_weights(path: str | os.PathLike) -> tuple[dict, object | None]:
    """(state dict, project or None) from a training checkpoint (RUN/checkpoints/*.pt) or a saved
    state dict (RUN/model.pt). Only tensors and plain data are read, never pickled code."""
    import torch
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: no such weights file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # damaged files raise several types
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ExportError(f"{path}: not a readable checkpoint or state dict ({first})") from None
    if isinstance(state, dict) and state.get("format") == "netbuilder-checkpoint":
        from ..train.engine import checkpoint_project
        try:
            project = checkpoint_project(state)
        except Exception as exc:
            raise ExportError(f"{path}: the project stored in the checkpoint is unreadable ({exc})") from None
        return dict(state["model"]), project
    if isinstance(state, dict) and state and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                  for k, v in state.items()):
        return dict(state), None
    raise ExportError(f"{path}: holds neither a NetBuilder checkpoint nor a state dict of tensors")


def prepare(project, state_dict: dict | None = None, checkpoint: str | os.PathLike | None = None) -> Prepared:
    """Build the project's module and load the weights to export into it.

    Weights come from `state_dict`, else from `checkpoint` (a checkpoint or state-dict file), else
    the module is freshly initialised exactly as training would start (the project's seed and
    initialization) and a message says so.
    """
    import torch
    from ..compile import CompileError
    from ..compile.build import build_module
    from ..compile.codegen import check
    from ..train.engine import seed_everything

    messages: list[str] = []
    try:
        analysis = check(project.graph)
    except CompileError as exc:
        raise ExportError(f"the network cannot be exported: {exc}", exc.node_id, exc.node_name) from None
    class_name = class_name_for(project)
    if checkpoint is not None and state_dict is None:
        state_dict, _ = load_weights(checkpoint)
    seed_everything(project.settings["training"]["seed"])
    # The title only heads the generated code's docstring (exported files write their own header).
    title = (project.name or "").replace("\\", "/").replace('"', "'")
    model = build_module(project.graph, analysis, class_name=class_name, title=title)
    source = model.netbuilder_source
    trained = state_dict is not None
    if trained:
        try:
            model.load_state_dict(state_dict, strict=True)
        except RuntimeError as exc:
            where = f" in {checkpoint}" if checkpoint is not None else ""
            raise ExportError(f"the weights{where} do not fit this network: {_first_lines(str(exc))}") from None
    else:
        from ..train.init import initialize
        overrides = {n.name: n.init for n in project.graph.nodes.values() if n.init is not None}
        initialize(model, project.settings["initialization"], overrides)
        messages.append("no trained weights were given: exported the initial weights training would start from")
    model.eval()
    weights = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
    for value in weights.values():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            messages.append("some weights are NaN or infinite: the training run probably diverged")
            break
    return Prepared(project, analysis, model, weights, class_name, source, trained, messages)


def _first_lines(text: str, limit: int = 400) -> str:
    text = " ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return text if len(text) <= limit else text[:limit] + "…"


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first meaningful line of an exception's message."""
    for line in str(exc).splitlines():
        line = line.strip()
        if line and not line.startswith(("Traceback", "File ", "graph(", "%", "Torch IR graph")):
            for tail in (" Please feel free", " [Caused by", " Please report a bug"):
                line = line.split(tail)[0]
            return line if len(line) <= limit else line[:limit] + "…"
    return type(exc).__name__


@contextlib.contextmanager
def preserved_rng():
    """Exporting seeds and draws random numbers (initial weights, example batches); the caller's
    random state (Python, NumPy, torch) is restored afterwards."""
    import random

    import numpy as np
    import torch
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


# --------------------------------------------------------------------------- staged writing
class Staging:
    """Write files into a hidden folder beside their destination, then move them in together.

        with Staging(out) as stage:
            tmp = stage.path(out)          # where to write what will become `out`
            ...write tmp, verify it...
            stage.commit()                 # rename every staged file into place

    Leaving the block without commit() (an error, a failed check) removes everything staged.
    """

    def __init__(self, destination: str | os.PathLike):
        self.folder = Path(destination).parent if str(Path(destination).parent) else Path(".")
        self.dir: Path | None = None
        self._files: list[tuple[Path, Path]] = []

    def __enter__(self) -> "Staging":
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.dir = Path(tempfile.mkdtemp(prefix=".netbuilder-export-", dir=self.folder))
        except OSError as exc:
            raise ExportError(f"cannot write into {self.folder}: {exc.strerror or exc}") from None
        return self

    def path(self, final: str | os.PathLike) -> Path:
        """The staged path for a file that will end up at `final` (same name, so relative
        references between staged files hold after the move)."""
        final = Path(final)
        staged = self.dir / final.name
        self._files.append((staged, final))
        return staged

    def commit(self) -> list[Path]:
        written = []
        for staged, final in self._files:
            if not staged.exists():
                continue
            try:
                if final.is_dir():
                    raise ExportError(f"{final} is a folder; choose a file name")
                os.chmod(staged, _default_file_mode())
                os.replace(staged, final)
            except OSError as exc:
                raise ExportError(f"cannot write {final}: {exc.strerror or exc}") from None
            written.append(final)
        return written

    def __exit__(self, *exc) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------- naming the layer at fault
def find_failing_node(prep: Prepared, attempt) -> tuple[object, BaseException] | None:
    """The first node (in network order) whose layer alone makes `attempt(module, example)` fail.

    Exporters call this after an export of the whole network failed, to name the layer the format
    cannot express. Returns (node, exception) or None when every layer passes on its own (the
    failure then lies in how forward() combines them).
    """
    import torch
    graph, analysis = prep.graph, prep.analysis
    for nid in analysis.order:
        node = graph.nodes[nid]
        module = getattr(prep.model, node.name, None)
        incoming = graph.incoming(nid)
        if not isinstance(module, torch.nn.Module) or len(incoming) != 1:
            continue
        source = analysis.nodes[incoming[0].src]
        shape = (2, *source.output_shape)
        if source.tokens:
            vocab = getattr(module, "num_embeddings", 2)
            example = torch.randint(0, vocab, shape, generator=torch.Generator().manual_seed(0))
        else:
            example = torch.randn(shape, generator=torch.Generator().manual_seed(0))
        try:
            attempt(module, example)
        except Exception as exc:  # the exporters raise many types
            return node, exc
    return None

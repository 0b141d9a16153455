"""Turn generated source into a live nn.Module.

The source is executed as a real (in-memory) module whose text is registered with
linecache, so `inspect.getsource` works on the class and TorchScript can script it.
"""
from __future__ import annotations

import hashlib
import linecache
import sys
import types

import torch
from torch import nn

from ..core.graph import Graph
from ..core.shapes import Analysis
from .codegen import check, generate_code


def load_source(source: str, class_name: str = "Net") -> type:
    """Execute generated source as a module and return its model class."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    module_name = f"netbuilder_generated_{digest}"
    module = sys.modules.get(module_name)
    if module is None:
        filename = f"<netbuilder-generated-{digest}>"
        module = types.ModuleType(module_name)
        module.__file__ = filename
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        sys.modules[module_name] = module
        exec(compile(source, filename, "exec"), module.__dict__)
    return getattr(module, class_name)


def build_module(graph: Graph, analysis: Analysis | None = None, class_name: str = "Net",
                 title: str | None = None) -> nn.Module:
    """A fresh module for the graph (parameters initialised by PyTorch's defaults)."""
    analysis = check(graph, analysis)
    source = generate_code(graph, class_name, analysis, title)
    model = load_source(source, class_name)()
    model.netbuilder_source = source
    return model


def example_input(graph: Graph, analysis: Analysis, batch: int = 2, generator: torch.Generator | None = None):
    """A random batch shaped like the Input node (token ids for token inputs)."""
    node = graph.input_nodes()[0]
    info = analysis.nodes[node.id]
    shape = (batch, *info.output_shape)
    if info.tokens:
        vocab = min((n.params["num_embeddings"] for n in graph.nodes.values() if n.type == "Embedding"), default=2)
        return torch.randint(0, vocab, shape, generator=generator)
    return torch.randn(shape, generator=generator)

"""Built-in designs: the seed models of the lectures plus classic ImageNet architectures.

`build(name)` returns a fresh Project laid out and configured to train as shipped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..graph import Graph
from ..layout import apply_layout
from ..project import Project
from ..settings import default_optimizer, default_schedule, default_settings


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    description: str
    builder: Callable[[], Project]


TEMPLATES: dict[str, Template] = {}


def template(name: str, title: str, description: str):
    def register(builder):
        TEMPLATES[name] = Template(name, title, description, builder)
        return builder
    return register


def names() -> list[str]:
    return list(TEMPLATES)


def build(name: str) -> Project:
    if name not in TEMPLATES:
        raise KeyError(f"unknown template {name!r}; choose one of: {', '.join(TEMPLATES)}")
    project = TEMPLATES[name].builder()
    apply_layout(project.graph)
    return project


class Chain:
    """Appends layers one after another; `fork`/`join` build branches for residual blocks."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.last: str | None = None

    def add(self, type_name: str, name: str | None = None, after: str | None = None, **params) -> str:
        node = self.graph.add_node(type_name, name=name, params=params)
        source = after if after is not None else self.last
        if source is not None:
            self.graph.connect(source, node.id)
        self.last = node.id
        return node.id

    def merge(self, type_name: str, sources: list[str], name: str | None = None, **params) -> str:
        node = self.graph.add_node(type_name, name=name, params=params)
        for src in sources:
            self.graph.connect(src, node.id)
        self.last = node.id
        return node.id


def new_project(name: str, description: str, dataset: str = "fashion-mnist", optimizer: str = "adam",
                epochs: int = 10, batch_size: int = 64, **optimizer_params) -> tuple[Project, Chain]:
    settings = default_settings()
    settings["data"]["dataset"] = dataset
    settings["optimizer"] = {**default_optimizer(optimizer), **optimizer_params}
    settings["schedule"] = default_schedule("constant")
    settings["training"].update(epochs=epochs, batch_size=batch_size)
    project = Project(name=name, settings=settings, description=description)
    return project, Chain(project.graph)


from . import classic, imagenet  # noqa: E402,F401  (registers the templates)

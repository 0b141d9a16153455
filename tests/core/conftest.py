"""Helpers shared by the core tests: small graphs built in a line or two."""
import pytest

from netbuilder.core.graph import Graph
from netbuilder.core.templates import Chain


def chain_graph(input_params, *layers, loss="mse", output=True):
    """Input → layers (type, name, params) one after another → Output; returns (graph, {name: id})."""
    graph = Graph()
    c = Chain(graph)
    ids = {"input": c.add("Input", "input", **input_params)}
    for type_name, name, params in layers:
        ids[name] = c.add(type_name, name, **params)
    if output:
        ids["output"] = c.add("Output", "output", loss=loss)
    return graph, ids


@pytest.fixture
def chain():
    return chain_graph

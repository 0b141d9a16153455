"""Small networks that together use every layer type, for the export tests."""
from __future__ import annotations

from pathlib import Path

from netbuilder.core.graph import Graph
from netbuilder.core.project import Project

FASHION = Path("/usr/share/datasets/fashion-mnist")


def _chain(graph: Graph, steps, start=None):
    last = start
    for type_name, name, params in steps:
        node = graph.add_node(type_name, name, params)
        if last is not None:
            graph.connect(last, node.id)
        last = node.id
    return last


def image_zoo() -> Project:
    """Every image layer: convolutions, norms, pooling, activations, a residual Add and a Concatenate."""
    g = Graph()
    stem = _chain(g, [("Input", "input", {"kind": "image", "channels": 3, "height": 12, "width": 12}),
                      ("Conv2d", "conv1", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
                      ("BatchNorm", "bn1", {}),
                      ("PReLU", "prelu", {"per_channel": True}),
                      ("LocalResponseNorm", "lrn", {"size": 3}),
                      ("MaxPool2d", "pool1", {"kernel_size": 2, "stride": 2})])
    branch = _chain(g, [("Conv2d", "conv2", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
                        ("ELU", "elu", {})], start=stem)
    skip = _chain(g, [("Identity", "skip", {})], start=stem)
    add = g.add_node("Add", "residual", {})
    g.connect(branch, add.id)
    g.connect(skip, add.id)
    up = _chain(g, [("Dropout2d", "drop2d", {}),
                    ("ConvTranspose2d", "deconv", {"out_channels": 4, "kernel_size": 2, "stride": 2}),
                    ("AvgPool2d", "pool2", {"kernel_size": 2, "stride": 2})], start=add.id)
    cat = g.add_node("Concatenate", "cat", {"dim": "channels"})
    g.connect(up, cat.id)
    g.connect(add.id, cat.id)
    _chain(g, [("AdaptiveAvgPool2d", "gap", {"output_size": [3, 3]}),
               ("Flatten", "flatten", {}),
               ("Linear", "fc1", {"out_features": 16}),
               ("LayerNorm", "ln", {}),
               ("GELU", "gelu", {"approximate": "tanh"}),
               ("Dropout", "drop", {"p": 0.3}),
               ("Maxout", "maxout", {"out_features": 8, "pieces": 3}),
               ("Linear", "scores", {"out_features": 3}),
               ("Output", "output", {})], start=cat.id)
    return Project(name="Image zoo", graph=g)


def sequence_zoo() -> Project:
    """Recurrent layers (bidirectional, stacked, last step) and the remaining activations."""
    g = Graph()
    _chain(g, [("Input", "input", {"kind": "sequence", "length": 6, "features": 5}),
               ("LSTM", "lstm", {"hidden_size": 7, "bidirectional": True, "return_sequences": True}),
               ("GRU", "gru", {"hidden_size": 6, "num_layers": 2, "return_sequences": True}),
               ("RNN", "rnn", {"hidden_size": 5, "nonlinearity": "relu"}),
               ("Tanh", "tanh", {}),
               ("Linear", "fc", {"out_features": 4}),
               ("Softmax", "softmax", {}),
               ("Output", "output", {"loss": "mse"})])
    return Project(name="Sequence zoo", graph=g)


def signal_zoo() -> Project:
    g = Graph()
    _chain(g, [("Input", "input", {"kind": "signal", "channels": 2, "length": 18}),
               ("Conv1d", "conv", {"out_channels": 4, "kernel_size": 3}),
               ("SELU", "selu", {}),
               ("MaxPool1d", "pool1", {}),
               ("AvgPool1d", "pool2", {}),
               ("Flatten", "flatten", {}),
               ("Linear", "fc", {"out_features": 3}),
               ("Sigmoid", "sigmoid", {}),
               ("LeakyReLU", "leaky", {"negative_slope": 0.1}),
               ("Output", "output", {"loss": "bce-with-logits"})])
    return Project(name="Signal zoo", graph=g)


def token_zoo() -> Project:
    g = Graph()
    _chain(g, [("Input", "input", {"kind": "tokens", "length": 7}),
               ("Embedding", "embed", {"num_embeddings": 50, "embedding_dim": 8}),
               ("GRU", "gru", {"hidden_size": 6}),
               ("ReLU", "relu", {}),
               ("Linear", "fc", {"out_features": 2}),
               ("Output", "output", {})])
    return Project(name="Token zoo", graph=g)


ZOO = {"image": image_zoo, "sequence": sequence_zoo, "signal": signal_zoo, "tokens": token_zoo}

"""Graph → readable PyTorch source code.

The generated class is what the user would write by hand: one submodule per layer node,
named after the node, and a forward() that calls them in order. The same text is shown in
"View code", exported as the `python` format, and executed to build the live module, so
what the user reads is exactly what trains. Pure Python: no torch import here.
"""
from __future__ import annotations

import keyword

from ..core.graph import Graph
from ..core.shapes import Analysis, analyze


class CompileError(ValueError):
    """The graph cannot become a module; `node_id`/`node_name` say which node is at fault."""

    def __init__(self, message: str, node_id: str | None = None, node_name: str | None = None):
        super().__init__(message)
        self.node_id = node_id
        self.node_name = node_name


MAXOUT_SOURCE = '''
class Maxout(nn.Module):
    """y = max over k pieces of (W_i x + b_i): a learned piecewise-linear activation."""

    def __init__(self, in_features: int, out_features: int, pieces: int):
        super().__init__()
        self.out_features = out_features
        self.pieces = pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x):
        x = self.linear(x)
        return x.view(x.size(0), self.out_features, self.pieces).max(dim=2).values
'''


def _literal(value) -> str:
    if isinstance(value, (list, tuple)):
        if len(set(value)) == 1:
            return repr(value[0])
        return "(" + ", ".join(repr(v) for v in value) + ")"
    return repr(value)


def _kwargs(params: dict, defaults: dict) -> str:
    parts = []
    for key, value in params.items():
        if key not in defaults or _literal(value) != _literal(defaults[key]):
            parts.append(f"{key}={_literal(value)}")
    return ", ".join(parts)


def constructor(node, resolved: dict, in_shape: tuple | None) -> str | None:
    """The nn.Module expression for a node, or None for nodes that are plain tensor expressions."""
    t, p = node.type, resolved
    if t in ("Input", "Output", "Add", "Concatenate", "Reshape"):
        return None
    if t in ("Conv2d", "Conv1d", "ConvTranspose2d"):
        dims = 1 if t == "Conv1d" else 2
        defaults = {"stride": [1] * dims, "padding": [0] * dims, "dilation": [1] * dims, "groups": 1, "bias": True,
                    "output_padding": [0] * dims}
        extra = {k: p[k] for k in ("stride", "padding", "output_padding", "dilation", "groups", "bias") if k in p}
        kw = _kwargs(extra, defaults)
        args = f"{p['in_channels']}, {p['out_channels']}, kernel_size={_literal(p['kernel_size'])}"
        return f"nn.{t}({args}{', ' + kw if kw else ''})"
    if t in ("MaxPool2d", "AvgPool2d", "MaxPool1d", "AvgPool1d"):
        dims = 1 if t.endswith("1d") else 2
        defaults = {"padding": [0] * dims, "dilation": [1] * dims, "ceil_mode": False}
        extra = {k: p[k] for k in ("padding", "dilation", "ceil_mode") if k in p}
        kw = _kwargs(extra, defaults)
        return f"nn.{t}(kernel_size={_literal(p['kernel_size'])}, stride={_literal(p['stride'])}{', ' + kw if kw else ''})"
    if t == "AdaptiveAvgPool2d":
        return f"nn.AdaptiveAvgPool2d({_literal(p['output_size'])})"
    if t == "Linear":
        return f"nn.Linear({p['in_features']}, {p['out_features']}{'' if p['bias'] else ', bias=False'})"
    if t == "Flatten":
        return "nn.Flatten()"
    if t == "Identity":
        return "nn.Identity()"
    if t == "Embedding":
        return f"nn.Embedding({p['num_embeddings']}, {p['embedding_dim']})"
    if t in ("RNN", "LSTM", "GRU"):
        kw = _kwargs({k: p[k] for k in ("num_layers", "nonlinearity", "dropout", "bidirectional") if k in p},
                     {"num_layers": 1, "nonlinearity": "tanh", "dropout": 0.0, "bidirectional": False})
        return f"nn.{t}({p['input_size']}, {p['hidden_size']}, batch_first=True{', ' + kw if kw else ''})"
    if t == "BatchNorm":
        kind = "BatchNorm2d" if len(in_shape) == 3 else "BatchNorm1d"
        kw = _kwargs({k: p[k] for k in ("eps", "momentum", "affine", "track_running_stats")},
                     {"eps": 1e-5, "momentum": 0.1, "affine": True, "track_running_stats": True})
        return f"nn.{kind}({p['num_features']}{', ' + kw if kw else ''})"
    if t == "LayerNorm":
        kw = _kwargs({"eps": p["eps"], "elementwise_affine": p["elementwise_affine"]},
                     {"eps": 1e-5, "elementwise_affine": True})
        return f"nn.LayerNorm({_literal(p['normalized_shape']) if len(p['normalized_shape']) == 1 else tuple(p['normalized_shape'])}" \
               f"{', ' + kw if kw else ''})"
    if t == "LocalResponseNorm":
        return f"nn.LocalResponseNorm({p['size']}, alpha={p['alpha']!r}, beta={p['beta']!r}, k={p['k']!r})"
    if t in ("ReLU", "Sigmoid", "Tanh", "SELU"):
        return f"nn.{t}()"
    if t == "LeakyReLU":
        return f"nn.LeakyReLU({p['negative_slope']!r})"
    if t == "PReLU":
        count = in_shape[0] if p["per_channel"] else 1
        return f"nn.PReLU(num_parameters={count}, init={p['init']!r})"
    if t == "ELU":
        return f"nn.ELU(alpha={p['alpha']!r})"
    if t == "GELU":
        return "nn.GELU()" if p["approximate"] == "none" else "nn.GELU(approximate='tanh')"
    if t == "Softmax":
        return f"nn.Softmax(dim={1 if p['dim'] == 'channels' else -1})"
    if t == "Maxout":
        return f"Maxout({p['in_features']}, {p['out_features']}, pieces={p['pieces']})"
    if t in ("Dropout", "Dropout2d"):
        return f"nn.{t}(p={p['p']!r})"
    raise CompileError(f"{node.name}: layer type {t} has no PyTorch translation", node.id, node.name)


def _forward_lines(node, resolved, info, inputs: list[str], out: str) -> list[str]:
    t = node.type
    if t == "Add":
        return [f"{out} = {' + '.join(inputs)}"]
    if t == "Concatenate":
        dim = 1 if node.params["dim"] == "channels" else -1
        return [f"{out} = torch.cat([{', '.join(inputs)}], dim={dim})"]
    if t == "Reshape":
        dims = ", ".join(str(d) for d in info.output_shape)
        return [f"{out} = {inputs[0]}.reshape({inputs[0]}.size(0), {dims})"]
    if t in ("RNN", "LSTM", "GRU"):
        lines = [f"{out}, _ = self.{node.name}({inputs[0]})"]
        if not node.params["return_sequences"]:
            lines.append(f"{out} = {out}[:, -1]  # the last time step")
        return lines
    return [f"{out} = self.{node.name}({inputs[0]})"]


def _docstring_text(text: str) -> str:
    """`text` on one line, safe inside a triple-quoted docstring (a project name can hold anything)."""
    text = " ".join(str(text).split())
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def check(graph: Graph, analysis: Analysis | None = None) -> Analysis:
    """Analyse the graph and raise CompileError for the first error, naming its node."""
    analysis = analysis or analyze(graph)
    for problem in analysis.errors:
        node = graph.nodes.get(problem.node_id) if problem.node_id else None
        raise CompileError(problem.message, problem.node_id, node.name if node else None)
    return analysis


def generate_code(graph: Graph, class_name: str = "Net", analysis: Analysis | None = None,
                  title: str | None = None) -> str:
    """Source code of a module equivalent to the graph; CompileError if the graph has errors."""
    if not class_name.isidentifier() or keyword.iskeyword(class_name):
        raise CompileError(f"the class name {class_name!r} is not a Python identifier")
    if class_name in ("torch", "nn", "Maxout"):
        raise CompileError(f"the class name {class_name!r} would hide a name the generated code uses")
    analysis = check(graph, analysis)
    order = [nid for nid in analysis.order]
    nodes = graph.nodes
    init_lines, forward, uses_maxout = [], [], False

    for nid in order:
        node = nodes[nid]
        info = analysis.nodes[nid]
        incoming = graph.incoming(nid)
        in_shape = analysis.nodes[incoming[0].src].output_shape if incoming else None
        expr = constructor(node, info.resolved, in_shape)
        if expr is not None:
            uses_maxout |= node.type == "Maxout"
            init_lines.append(f"self.{node.name} = {expr}")

    # Variables: a chain reuses `x`; a value that several later nodes read keeps its own name.
    pending = {nid: len(graph.outgoing(nid)) for nid in order}
    var: dict[str, str] = {}
    x_holder = None
    result = None
    for nid in order:
        node = nodes[nid]
        if node.type == "Input":
            var[nid] = "x"
            x_holder = nid
            continue
        inputs = [var[e.src] for e in graph.incoming(nid)]
        for e in graph.incoming(nid):
            pending[e.src] -= 1
        if node.type == "Output":
            # Returned last, after any dead-end branch that the topological order puts later;
            # those branches must not overwrite the value returned.
            result = inputs[0]
            if result == "x":
                x_holder, pending[nid] = nid, 1
            continue
        x_free = x_holder is None or pending[x_holder] == 0
        out = "x" if x_free and len(graph.outgoing(nid)) <= 1 else node.name
        if out == "x":
            x_holder = nid
        var[nid] = out
        forward.extend(_forward_lines(node, analysis.nodes[nid].resolved, analysis.nodes[nid], inputs, out))

    header = f'"""{_docstring_text(title or class_name)} — PyTorch code generated by NetBuilder; needs only torch."""'
    lines = [header, "import torch", "from torch import nn", ""]
    if uses_maxout:
        lines += [MAXOUT_SOURCE.strip("\n"), "", ""]
    else:
        lines += [""]
    inputs = graph.input_nodes()
    in_shape = analysis.nodes[inputs[0].id].output_shape if inputs else ()
    lines += [f"class {class_name}(nn.Module):",
              f'    """Input: a batch of shape (N, {", ".join(str(d) for d in in_shape)}).'
              f' Trainable parameters: {analysis.trainable_params:,}."""',
              "",
              "    def __init__(self):",
              "        super().__init__()"]
    lines += [f"        {line}" for line in init_lines]
    lines += ["", "    def forward(self, x):"]
    lines += [f"        {line}" for line in forward]
    lines += [f"        return {result}"]
    return "\n".join(lines) + "\n"

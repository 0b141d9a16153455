"""Graph → torch.nn.Module. `codegen` is pure Python (the GUI shows its text without torch);
`build` executes it."""
from .codegen import CompileError, generate_code


def build_module(graph, analysis=None, class_name="Net", title=None):
    from .build import build_module as _build
    return _build(graph, analysis, class_name, title)


__all__ = ["CompileError", "build_module", "generate_code"]

"""Layering: the core is pure Python (no torch, no Qt) and only netbuilder.ui touches Qt."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "netbuilder"
QT = {"PySide6", "pyqtgraph", "shiboken6"}


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a file imports, wherever the import sits (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value).split(".")[0])
    return names


def python_files(root: Path):
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def test_core_imports_neither_torch_nor_qt_at_runtime():
    code = ("import netbuilder.core, netbuilder.core.templates, netbuilder.core.shapes, netbuilder.core.project, "
            "netbuilder.core.layout, netbuilder.compile.codegen, netbuilder.cli, sys; "
            "from netbuilder.core import templates; from netbuilder.core.shapes import analyze; "
            "from netbuilder.compile import generate_code; "
            "[generate_code(templates.build(n).graph) for n in templates.names()]; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'torchvision', 'PySide6', 'pyqtgraph', 'shiboken6')); "
            "assert not bad, bad")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_issue_import_line():
    code = ("import netbuilder.core, netbuilder.core.templates, netbuilder.core.shapes, netbuilder.compile.codegen, "
            "sys; assert 'torch' not in sys.modules and 'PySide6' not in sys.modules")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr


def test_scan_finds_imports_anywhere_in_a_file(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n"
                      "def later():\n"
                      "    from PySide6.QtCore import QTimer\n"
                      "    import pyqtgraph as pg\n"
                      "    import importlib; importlib.import_module('shiboken6')\n"
                      "from . import sibling\n", encoding="utf-8")
    assert imported_modules(sample) == {"os", "PySide6", "pyqtgraph", "importlib", "shiboken6"}


@pytest.mark.parametrize("path", [p for p in python_files(PACKAGE) if "ui" not in p.relative_to(PACKAGE).parts[:1]],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_nothing_outside_ui_imports_qt(path):
    assert not imported_modules(path) & QT


@pytest.mark.parametrize("path", python_files(PACKAGE / "core"), ids=lambda p: str(p.relative_to(REPO)))
def test_core_never_imports_torch(path):
    assert not imported_modules(path) & {"torch", "torchvision", *QT}


def test_codegen_never_imports_torch():
    assert "torch" not in imported_modules(PACKAGE / "compile" / "codegen.py")
    assert "torch" not in imported_modules(PACKAGE / "compile" / "__init__.py")


def test_scan_covers_the_package():
    files = python_files(PACKAGE)
    assert PACKAGE / "core" / "graph.py" in files and PACKAGE / "cli.py" in files

"""The `netbuilder` command: everything the GUI does, headless.

    netbuilder                      open the window (same as `netbuilder gui`)
    netbuilder gui [FILE]           open the window, optionally with a project
    netbuilder templates            list the built-in designs
    netbuilder new --template NAME -o FILE
    netbuilder info FILE [--json]   per-node shapes, parameters and receptive fields
    netbuilder train FILE [...]     train headless and write a run folder
    netbuilder export FILE_OR_RUN [...]

Errors in user input end with one readable line on stderr and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_USAGE = 2
EXIT_FAILURE = 1


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 1."""


def _format_count(n: int) -> str:
    return f"{n:,}"


def _load(path: str):
    from .core.project import Project
    return Project.load(path)


# --------------------------------------------------------------------------- commands
def cmd_templates(args) -> int:
    from .core import templates
    from .core.shapes import analyze
    width = max(len(n) for n in templates.names())
    for name, tpl in templates.TEMPLATES.items():
        if args.verbose:
            params = analyze(templates.build(name).graph).trainable_params
            print(f"{name:<{width}}  {params:>12,}  {tpl.description}")
        else:
            print(f"{name:<{width}}  {tpl.description}")
    return 0


def cmd_new(args) -> int:
    from .core import templates
    from .core.project import SUFFIX
    if args.template not in templates.TEMPLATES:
        raise CommandError(f"unknown template {args.template!r}; choose one of: {', '.join(templates.names())}")
    out = Path(args.output)
    if out.suffix != SUFFIX:
        out = out.with_name(out.name + SUFFIX) if not out.suffix else out
    if out.exists() and not args.force:
        raise CommandError(f"{out} already exists; use --force to overwrite it")
    project = templates.build(args.template)
    project.save(out)
    print(f"wrote {out} ({templates.TEMPLATES[args.template].title})")
    return 0


def info_json(project) -> dict:
    from .core.shapes import analyze
    analysis = analyze(project.graph)
    nodes = []
    for nid in analysis.order or list(project.graph.nodes):
        node = project.graph.nodes[nid]
        info = analysis.nodes[nid]
        rf = info.receptive_field
        nodes.append({
            "id": nid,
            "name": node.name,
            "type": node.type,
            "output_shape": list(info.output_shape) if info.output_shape is not None else None,
            "params": info.trainable + info.non_trainable,
            "trainable_params": info.trainable,
            "non_trainable_params": info.non_trainable,
            "macs": info.macs,
            "activations": info.activations,
            "receptive_field": rf.to_json() if rf else None,
            "errors": list(info.errors),
            "warnings": list(info.warnings),
        })
    return {
        "name": project.name,
        "nodes": nodes,
        "problems": [{"severity": p.severity, "node": project.graph.nodes[p.node_id].name if p.node_id else None,
                      "message": p.message} for p in analysis.problems],
        "total_params": analysis.total_params,
        "trainable_params": analysis.trainable_params,
        "non_trainable_params": analysis.total_params - analysis.trainable_params,
        "macs": analysis.total_macs,
        "valid": analysis.ok,
    }


def cmd_info(args) -> int:
    project = _load(args.file)
    report = info_json(project)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0 if report["valid"] else EXIT_FAILURE
    print(format_info_table(report))
    return 0 if report["valid"] else EXIT_FAILURE


def format_info_table(report: dict) -> str:
    def shape(s):
        return "×".join(str(d) for d in s) if s else ("?" if s is None else "scalar")

    def field(rf):
        if rf is None:
            return "—"
        size = rf["size"]
        text = "×".join(str(v) for v in size) if isinstance(size, list) else f"{size}×{size}"
        return text + (" (all)" if rf["global"] else "")

    rows = [("name", "type", "output", "params", "RF", "")]
    for n in report["nodes"]:
        flag = "error" if n["errors"] else ("warning" if n["warnings"] else "")
        rows.append((n["name"], n["type"], shape(n["output_shape"]), _format_count(n["params"]), field(n["receptive_field"]),
                     flag))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    aligns = ["<", "<", "<", ">", "<", "<"]
    lines = []
    for i, row in enumerate(rows):
        lines.append("  ".join(f"{cell:{a}{w}}" for cell, a, w in zip(row, aligns, widths)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    partial = "" if report["valid"] else " (so far: layers after an error are not counted)"
    lines.append(f"total parameters:     {_format_count(report['total_params'])}{partial}")
    lines.append(f"  trainable:          {_format_count(report['trainable_params'])}")
    lines.append(f"  non-trainable:      {_format_count(report['non_trainable_params'])} (running statistics)")
    lines.append(f"multiply-adds/sample: {_format_count(report['macs'])}")
    for p in report["problems"]:
        lines.append(f"{p['severity']}: {p['message']}")
    return "\n".join(lines)


def cmd_gui(args) -> int:
    from .ui.app import run
    argv = [sys.argv[0]]
    return run(args.file, argv, options=args)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    parser = argparse.ArgumentParser(prog="netbuilder", description="Design neural networks visually, train them, export them.")
    parser.add_argument("--version", action="version", version=f"netbuilder {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help="open the desktop application")
    p.add_argument("file", nargs="?", help="project file (.nbproj) to open")
    add_gui_options(p)
    p.set_defaults(func=cmd_gui)

    p = sub.add_parser("templates", help="list the built-in designs")
    p.add_argument("-v", "--verbose", action="store_true", help="also show parameter counts")
    p.set_defaults(func=cmd_templates)

    p = sub.add_parser("new", help="create a project from a template")
    p.add_argument("--template", "-t", required=True, help="template name (see `netbuilder templates`)")
    p.add_argument("-o", "--output", required=True, help="project file to write")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("info", help="print shapes, parameters and receptive fields per node")
    p.add_argument("file", help="project file (.nbproj)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_info)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


def add_gui_options(p: argparse.ArgumentParser) -> None:
    """Options of `netbuilder gui`; the UI reads them from the parsed namespace."""
    p.add_argument("--quit-after", type=int, metavar="MS", help=argparse.SUPPRESS)
    # The options live beside the code that acts on them; that module loads no Qt.
    from .ui.headless_run import add_arguments
    add_arguments(p)


def _register_train(sub):
    from .train.command import register
    register(sub)


def _register_check(sub):
    from .train.command import register_check
    register_check(sub)


def _register_search(sub):
    from .train.command import register_search
    register_search(sub)


def _register_export(sub):
    from .export.command import register
    register(sub)


# Commands that live beside their subsystem (their modules load lazily when they run).
_EXTRA_COMMANDS: list = [_register_train, _register_check, _register_search, _register_export]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["gui", *(argv or [])])
    from .core.project import ProjectError
    try:
        return args.func(args)
    except (ProjectError, CommandError) as exc:
        print(f"netbuilder: error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("netbuilder: interrupted", file=sys.stderr)
        return 130


def gui_main() -> int:
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())

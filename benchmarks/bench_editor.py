"""Editor speed on a 500-node network: re-inference plus canvas, inspector and issues update
after one edit, and canvas redraws.

    python benchmarks/bench_editor.py [--nodes 500] [--repeat 30]

Each timing is the median of `repeat` runs, printed in milliseconds and as a ratio to the
baseline run beside it: the bare analysis (core.shapes.analyze) of the same graph, so the
numbers say how much the interface adds on top of the model. Target: one edit ≤ 20 ms.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def build_graph(target_nodes: int):
    """A residual CNN: Conv-BN-ReLU-Conv-BN + skip → Add → ReLU blocks, ending in a classifier."""
    from netbuilder.core.graph import Graph
    from netbuilder.core.layout import apply_layout
    graph = Graph()
    last = graph.add_node("Input", params={"kind": "image", "channels": 3, "height": 32, "width": 32}).id

    def add(type_name, source, **params):
        node = graph.add_node(type_name, params=params)
        graph.connect(source, node.id)
        return node.id

    last = add("Conv2d", last, out_channels=16, kernel_size=3, padding=1)
    while len(graph.nodes) + 8 + 5 <= target_nodes:
        a = add("Conv2d", last, out_channels=16, kernel_size=3, padding=1, bias=False)
        a = add("BatchNorm", a)
        a = add("ReLU", a)
        a = add("Conv2d", a, out_channels=16, kernel_size=3, padding=1, bias=False)
        a = add("BatchNorm", a)
        merge = graph.add_node("Add").id
        graph.connect(a, merge)
        graph.connect(last, merge)
        last = add("ReLU", merge)
    while len(graph.nodes) < target_nodes - 4:
        last = add("Identity", last)
    last = add("AdaptiveAvgPool2d", last)
    last = add("Flatten", last)
    last = add("Linear", last, out_features=10)
    add("Output", last)
    apply_layout(graph)
    return graph


def median_ms(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from netbuilder.core import shapes
    from netbuilder.core.project import Project
    from netbuilder.ui.document import Document
    from netbuilder.ui.editor import EditorWidget, InspectorWidget, IssuesWidget
    from netbuilder.ui.editor.commands import SetParamCommand

    app = QApplication.instance() or QApplication(sys.argv)
    graph = build_graph(args.nodes)
    start = time.perf_counter()
    document = Document(Project(name="bench", graph=graph))
    editor = EditorWidget(document)
    editor.resize(1400, 900)
    editor.show()
    # The panels that follow every edit in the application, so the timings include them.
    inspector, issues = InspectorWidget(document), IssuesWidget(document)
    inspector.show()
    issues.show()
    app.processEvents()
    open_ms = (time.perf_counter() - start) * 1000
    assert document.analysis.ok, [p.message for p in document.analysis.errors][:3]

    baseline = median_ms(lambda: shapes.analyze(graph), args.repeat)

    input_id = graph.input_nodes()[0].id
    classifier = next(n.id for n in graph.nodes.values() if n.type == "Linear")
    document.select([classifier])  # the inspector shows the edited layer
    # Alternate two parameters so that each edit is its own undo step (repeats of one would merge).
    global_edits = iter([("height", 28), ("width", 28), ("height", 32), ("width", 32)] * args.repeat)
    local_edits = iter([("out_features", 12), ("bias", False), ("out_features", 10), ("bias", True)] * args.repeat)

    # Every shape in the network changes: the most cards to refresh.
    global_edit = median_ms(lambda: document.undo_stack.push(
        SetParamCommand(document, input_id, *next(global_edits))), args.repeat)
    # One card changes: the usual edit.
    local_edit = median_ms(lambda: document.undo_stack.push(
        SetParamCommand(document, classifier, *next(local_edits))), args.repeat)
    undo = median_ms(lambda: (document.undo_stack.undo(), document.undo_stack.redo()), args.repeat) / 2

    viewport = editor.view.viewport()
    editor.fit_to_view()
    app.processEvents()
    redraw_fit = median_ms(viewport.repaint, args.repeat)
    editor.view.set_zoom(1.0)
    editor.center_on_node(input_id)
    app.processEvents()
    redraw_full = median_ms(viewport.repaint, args.repeat)

    scene = editor.scene
    first_conv = next(n.id for n in graph.nodes.values() if n.type == "Conv2d")
    drag_start = median_ms(lambda: (scene.begin_connection(first_conv, "out"), scene.cancel_connection()),
                           max(3, args.repeat // 5))

    print(f"editor benchmark: {len(graph.nodes)} nodes, {len(graph.edges)} edges, median of {args.repeat}")
    print(f"  baseline  core analysis only            {baseline:7.2f} ms   1.00×")
    rows = [("one edit, every shape changes", global_edit), ("one edit, one card changes", local_edit),
            ("undo or redo of one edit", undo)]
    for label, ms in rows:
        verdict = "ok" if ms <= 20 else "OVER the 20 ms target"
        print(f"  {label:<38}{ms:7.2f} ms  {ms / baseline:5.2f}×   {verdict}")
    print(f"  redraw, whole network fitted             {redraw_fit:7.2f} ms")
    print(f"  redraw, 100% zoom                        {redraw_full:7.2f} ms")
    print(f"  start a connection drag (dim targets)    {drag_start:7.2f} ms")
    print(f"  open the document in the editor          {open_ms:7.2f} ms")
    for widget in (editor, inspector, issues):
        widget.close()
    document.detach()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Training with every monitor plot live, against the headless engine on the same run, and the
window's responsiveness meanwhile.

    python benchmarks/bench_gui.py [--template cnn] [--limit 4000] [--epochs 1] [--probe-every 20] [--repeat 2]

Each repeat trains the same project three times, interleaved: headless in this process (the
engine alone on the main thread, with the process settings the window makes before PyTorch loads:
passive OpenMP waiting, one memory arena), from a window whose ten monitor panels are all on
screen at once (trained on the worker thread), and headless in a fresh process exactly as
`netbuilder train` runs. Printed:

  throughput   training samples per second, from the median time between the engine's reads of
               the loss (every `log_every` steps, probes included; the median shrugs off moments
               when other programs take the processor) — GUI / headless in this process, target
               ≥ 0.90 (what the window costs), and GUI / `netbuilder train` (what a user sees);
               the epochs' own average (the engine's count) is printed beside it;
  wall         the run from its first loss reading to its summary (validation, receptive fields,
               the test split and the window's bookkeeping included) — headless / GUI;
  latency      how late the window's event loop serves a timer due every 10 ms while training,
               p50 / p95 / max in milliseconds, target p95 ≤ 16 ms (one frame at 60 Hz).

The machine's other load moves every number: repeats are interleaved and medians are reported.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

FASHION = Path("/usr/share/datasets/fashion-mnist")
PANELS = ("loss", "accuracy", "learning_rate", "updates", "histograms", "filters", "receptive_field",
          "decision_boundary", "confusion", "runs")


def make_project(args):
    from netbuilder.core import templates
    project = templates.build(args.template)
    project.settings["training"].update(epochs=args.epochs, probe_every=args.probe_every, log_every=args.log_every,
                                        device="cpu", checkpoint=False)
    if project.settings["data"]["dataset"] != "toy-2d":
        project.settings["data"].update(root=str(args.data_root), limit=args.limit,
                                        validation_fraction=args.validation_fraction)
    return project


def headless(args) -> dict:
    from netbuilder.train.callbacks import Callback
    from netbuilder.train.engine import Trainer

    class Clock(Callback):
        def __init__(self):
            self.first = self.end = None
            self.rates = []
            self.bursts = []
            self.last_step = -1

        def on_batch_end(self, step, epoch, batch, loss, lr):
            now = time.perf_counter()
            if self.first is None:
                self.first = now
            if step % args.log_every == 0:  # the first value of a burst: the engine just read them
                self.bursts.append(now)

        def on_epoch_end(self, record):
            self.rates.append(record["samples_per_second"])

        def on_train_end(self, summary):
            self.end = time.perf_counter()

    clock = Clock()
    trainer = Trainer(make_project(args), callbacks=[clock])
    trainer.run()
    return {"throughput": statistics.mean(clock.rates), "wall": clock.end - clock.first,
            "steady": steady_rate(clock.bursts, trainer.settings["training"]["batch_size"] * args.log_every)}


def steady_rate(bursts: list[float], samples_per_burst: int) -> float:
    """Samples per second from the median time between the engine's reads: robust to the
    moments when other programs take the processor."""
    gaps = [b - a for a, b in zip(bursts, bursts[1:])]
    return samples_per_burst / statistics.median(gaps) if gaps else float("nan")


def gui(args) -> dict:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication, QGridLayout, QMainWindow, QWidget

    from netbuilder.ui import worker as worker_module
    from netbuilder.ui.training import TrainingController

    bursts: list[float] = []
    original = worker_module._Bridge.on_batch_end

    def timed(self, step, epoch, batch, loss, lr):  # the same clock as headless, on the worker thread
        if step % args.log_every == 0:
            bursts.append(time.perf_counter())
        original(self, step, epoch, batch, loss, lr)

    worker_module._Bridge.on_batch_end = timed
    project = make_project(args)
    folder = tempfile.TemporaryDirectory(prefix="bench-gui-")
    project_file = Path(folder.name) / "bench.nbproj"  # its runs go beside it, and away afterwards
    window = QMainWindow()
    window.resize(1920, 1080)
    controller = TrainingController(window, lambda: project, lambda: project_file)
    window.addToolBar("Training").addActions(list(controller.actions.values()))
    window.statusBar().addPermanentWidget(controller.progress_widget)
    # every panel on screen at once (not tabbed), so every plot redraws
    grid_host = QWidget()
    grid = QGridLayout(grid_host)
    panels = [controller.panel(name) for name in args.panels]
    for i, panel in enumerate(panels):
        grid.addWidget(panel, i // 4, i % 4)
    window.setCentralWidget(grid_host)
    window.show()
    app = QApplication.instance()
    app.processEvents()

    lateness: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    state = {"due": 0.0, "on": False}
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setSingleShot(True)

    def probe_latency():
        if not getattr(args, "latency", True):
            return
        now = clock.nsecsElapsed() / 1e6
        if state["on"]:
            lateness.append(max(now - state["due"], 0.0))
        state["due"] = now + 10.0
        timer.start(10)

    timer.timeout.connect(probe_latency)
    times = {}
    loop = QEventLoop()

    def started(_info):
        state["on"] = True
        times["cpu0"] = time.thread_time()

    def finished(summary):
        times["end"] = time.perf_counter()
        times["cpu"] = time.thread_time() - times.get("cpu0", time.thread_time())
        state["on"] = False
        loop.quit()

    controller.run_started.connect(started)
    controller.run_finished.connect(finished)
    controller.run_failed.connect(lambda message: (print("failed:", message), loop.quit()))
    probe_latency()
    controller.start()
    loop.exec()
    timer.stop()
    controller.wait(10)
    worker_module._Bridge.on_batch_end = original
    rates = [e["samples_per_second"] for e in controller.buffer.epochs]
    redraw = controller.buffer.redraw_seconds
    batch = project.settings["training"]["batch_size"]
    window.close()
    window.deleteLater()
    app.processEvents()
    folder.cleanup()
    return {"throughput": statistics.mean(rates), "wall": times["end"] - bursts[0], "lateness": lateness,
            "redraw": redraw, "steady": steady_rate(bursts, batch * args.log_every), "gui_cpu": times.get("cpu", 0.0)}


def fresh_process(args) -> dict:
    """`netbuilder train`'s conditions: a new process, PyTorch's defaults, the main thread."""
    command = [sys.executable, os.path.abspath(__file__), "--child", "--template", args.template, "--limit",
               str(args.limit), "--epochs", str(args.epochs), "--probe-every", str(args.probe_every), "--log-every",
               str(args.log_every), "--validation-fraction", str(args.validation_fraction), "--data-root",
               args.data_root]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, int(round(q / 100 * (len(values) - 1)))))
    return values[k]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", default="cnn")
    parser.add_argument("--limit", type=int, default=6000)
    parser.add_argument("--log-every", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--probe-every", type=int, default=20)
    parser.add_argument("--validation-fraction", type=float, default=0.02)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-root", default=str(FASHION))
    parser.add_argument("--panels", nargs="*", default=list(PANELS), help="the panels on screen (default: all)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:  # the fresh-process baseline: nothing but the engine
        print(json.dumps(headless(args)))
        return 0

    from PySide6.QtWidgets import QApplication
    import netbuilder.ui  # noqa: F401  (before any Qt call)
    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841

    from netbuilder.ui.worker import prepare_process
    prepare_process()  # what the window does before PyTorch loads; the in-process baseline shares it
    import torch
    print(f"{args.template}, {args.limit} training samples, {args.epochs} epoch(s), probes every "
          f"{args.probe_every} steps; torch {torch.__version__} on {torch.get_num_threads()} threads, "
          f"{os.cpu_count()} cores")
    headless(args)  # warm-up: imports, first allocations, data files in the page cache
    base, live, late, cli = [], [], [], []
    for i in range(args.repeat):
        h = headless(args)
        g = gui(args)
        c = fresh_process(args)
        base.append(h)
        live.append(g)
        cli.append(c)
        late += g["lateness"]
        print(f"  repeat {i + 1}: headless {h['steady']:,.0f} samples/s (epoch {h['throughput']:,.0f}) | "
              f"GUI {g['steady']:,.0f} (epoch {g['throughput']:,.0f}), GUI thread busy {g['gui_cpu']:.2f} s "
              f"of {g['wall']:.2f} s | "
              f"netbuilder train {c['steady']:,.0f} (epoch {c['throughput']:,.0f}) | ratio {g['steady'] / h['steady']:.3f}")
    h_rate = statistics.median(r["steady"] for r in base)
    g_rate = statistics.median(r["steady"] for r in live)
    h_epoch = statistics.median(r["throughput"] for r in base)
    g_epoch = statistics.median(r["throughput"] for r in live)
    h_wall = statistics.median(r["wall"] for r in base)
    g_wall = statistics.median(r["wall"] for r in live)
    ratio = g_rate / h_rate
    print(f"throughput: GUI {g_rate:,.0f} vs headless {h_rate:,.0f} samples/s = {ratio:.3f} "
          f"(target >= 0.90) {'PASS' if ratio >= 0.90 else 'FAIL'}")
    print(f"epoch average: GUI {g_epoch:,.0f} vs headless {h_epoch:,.0f} samples/s = {g_epoch / h_epoch:.3f}")
    c_rate = statistics.median(r["steady"] for r in cli)
    c_epoch = statistics.median(r["throughput"] for r in cli)
    print(f"against netbuilder train (fresh process, PyTorch defaults): GUI {g_rate:,.0f} vs {c_rate:,.0f} samples/s "
          f"= {g_rate / c_rate:.3f} (epoch average {g_epoch / c_epoch:.3f})")
    print(f"wall: GUI {g_wall:.2f} s vs headless {h_wall:.2f} s = {h_wall / g_wall:.3f}")
    p95 = percentile(late, 95)
    print(f"event-loop latency: p50 {percentile(late, 50):.1f} ms, p95 {p95:.1f} ms, max {max(late):.1f} ms "
          f"over {len(late)} samples (target p95 <= 16 ms) {'PASS' if p95 <= 16 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

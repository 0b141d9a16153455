"""The monitor plots: buffering, redraw scheduling, each panel with synthetic data, exports,
and the run history's files and overlays."""
from __future__ import annotations

import json

import numpy as np
import pytest

from netbuilder.core import templates
from netbuilder.ui import run_history
from netbuilder.ui.monitor import Monitor, RunCurves
from netbuilder.ui.monitor.axes import EpochAxis
from netbuilder.ui.monitor.boundary import prepare_boundary
from netbuilder.ui.monitor.buffer import smooth
from netbuilder.ui.monitor.filters import prepare_filters
from netbuilder.ui.monitor.receptive import prepare_fields, theoretical_box
from netbuilder.ui.training import rf_geometry
from netbuilder.ui.worker import prepare_probe, prepare_record

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
rng = np.random.default_rng(0)


def hist(values):
    counts, edges = np.histogram(values, 40)
    return {"counts": counts, "edges": edges, "mean": float(values.mean()), "std": float(values.std())}


def image_probe(step=0):
    layers = ["conv1", "conv2", "fc1", "fc2"]
    return {"step": step, "epoch": 1, "batch": step,
            "weights": {n: hist(rng.normal(0, 0.1, 500)) for n in layers},
            "gradients": {n: hist(rng.normal(0, 0.01, 500)) for n in layers},
            "activations": {n: hist(np.maximum(rng.normal(0, 1, 500), 0)) for n in ["conv1", "relu1", *layers[1:]]},
            "update_ratios": {n: float(10 ** rng.uniform(-4, -2)) for n in layers},
            "filters": rng.normal(0, 1, (32, 1, 3, 3)).astype(np.float32)}


def image_record(epoch=1):
    yy, xx = np.mgrid[0:28, 0:28]
    confusion = rng.integers(0, 10, (10, 10)) + np.eye(10, dtype=np.int64) * 50
    return {"epoch": epoch, "step": 30 * epoch, "train_loss": 0.6 / epoch, "train_accuracy": 0.8, "val_loss": 0.7 / epoch,
            "val_accuracy": 0.75, "lr": 1e-3, "seconds": 2.0, "samples_per_second": 900.0, "confusion": confusion,
            "misclassified": {"index": np.arange(12), "predicted": rng.integers(0, 10, 12),
                              "actual": rng.integers(0, 10, 12),
                              "images": rng.integers(0, 255, (12, 1, 28, 28)).astype(np.uint8)},
            "effective_rf": {"conv1": np.exp(-((yy - 14) ** 2 + (xx - 14) ** 2) / 2.0),
                             "pool2": np.exp(-((yy - 14) ** 2 + (xx - 14) ** 2) / 18.0)},
            "rf_sample": rng.integers(0, 255, (1, 28, 28)).astype(np.uint8)}


def batches(first, n, epoch=1, spe=30):
    steps = np.arange(first, first + n, dtype=np.float64)
    return np.stack([steps, np.full(n, epoch), steps % spe, 2.3 * np.exp(-steps / 20) + 0.2, np.full(n, 1e-3)], 1)


@pytest.fixture
def monitor(qtbot):
    m = Monitor()
    for panel in m.panels.values():
        qtbot.addWidget(panel)
        panel.resize(640, 320)
    yield m
    m.buffer.timer.stop()


def start(m, kind="image"):
    info = {"epochs": 3, "start_epoch": 1, "steps_per_epoch": 30, "classes": CLASSES, "input_kind": kind,
            "input_shape": (1, 28, 28) if kind == "image" else (2,)}
    project = templates.build("cnn")
    m.buffer.on_started(info, project.settings, rf_geometry(project))


# --------------------------------------------------------------------------- buffer
def test_buffer_grows_and_smooths_without_bias(monitor):
    b = monitor.buffer
    start(monitor)
    b.on_batches(batches(0, 20))
    b.on_batches(batches(20, 5000))
    assert len(b.steps) == len(b.losses) == len(b.smoothed) == 5020
    np.testing.assert_array_equal(b.steps.view(), np.arange(5020))
    # the first smoothed value is the first loss, not pulled towards zero
    assert b.smoothed.view()[0] == pytest.approx(b.losses.view()[0])
    np.testing.assert_allclose(b.smoothed.view(), smooth(b.losses.view(), b.smoothing))
    b.set_smoothing(0.5)
    np.testing.assert_allclose(b.smoothed.view(), smooth(b.losses.view(), 0.5))
    b.on_batches(batches(5020, 10))
    np.testing.assert_allclose(b.smoothed.view(), smooth(b.losses.view(), 0.5))


def test_smoothing_skips_non_finite_values():
    values = np.array([1.0, np.nan, 3.0, np.inf, 5.0])
    out = smooth(values, 0.0)
    assert np.isnan(out[1]) and np.isnan(out[3])
    np.testing.assert_allclose(out[[0, 2, 4]], [1, 3, 5])


def test_timer_redraws_only_visible_panels_with_new_data(monitor, qtbot):
    b = monitor.buffer
    b.budget = 1e9  # no drawing budget here: only visibility and new data decide
    loss, accuracy = monitor["loss"], monitor["accuracy"]
    loss.show()
    start(monitor)
    b.on_batches(batches(0, 40))
    calls = {"loss": 0, "accuracy": 0}
    for name, panel in (("loss", loss), ("accuracy", accuracy)):
        original = panel.refresh
        panel.refresh = (lambda orig, key: (lambda buf: (calls.__setitem__(key, calls[key] + 1), orig(buf))))(original, name)
    b.tick()
    assert calls == {"loss": 1, "accuracy": 0}, "hidden panels wait"
    b.tick()
    assert calls["loss"] == 1, "nothing new: no redraw"
    accuracy.show()
    b.on_epoch(prepare_record(image_record()))
    b.tick()
    assert calls == {"loss": 2, "accuracy": 1}
    assert b.timer.isActive()


def test_drawing_budget_spaces_out_costly_panels(monitor):
    b = monitor.buffer
    loss, hist = monitor["loss"], monitor["histograms"]
    for panel in (loss, hist):
        panel.show()
    start(monitor)
    loss.cost, hist.cost = 0.001, 0.02
    shown = 2
    assert b.interval(loss, shown) == pytest.approx(2 * 0.001 / b.budget)   # 40 ms: redraws freely
    assert b.interval(hist, shown) == pytest.approx(2 * 0.02 / b.budget)    # 0.8 s: waits its turn
    b.on_finished({"epochs": 1})
    assert b.interval(hist, shown) == hist.min_interval, "no budget once the run is over"
    hist.note_cost(0.01)
    hist.settle_cost()
    assert 0.01 < hist.cost < 0.02, "the measured cost is a moving average"


def test_loss_panel_draws_raw_smoothed_and_epoch_markers(monitor):
    panel = monitor["loss"]
    panel.show()
    start(monitor)
    monitor.buffer.on_batches(batches(0, 60))
    monitor.buffer.on_epoch(prepare_record(image_record(1)))
    monitor.buffer.redraw_all()
    assert len(panel.raw.getData()[0]) == 60
    assert len(panel.smooth_curve.getData()[0]) == 60
    assert len(panel.val_epochs.getData()[0]) == 1
    assert panel.chance.isVisible() and "2.30" in panel.chance.label.format
    assert not panel.empty.isVisible()
    panel.log_scale.setChecked(True)
    monitor.buffer.redraw_all()
    assert panel.plot.getAxis("left").logMode
    assert "validation" in panel._header_end.text()


def test_empty_states_before_training(monitor):
    for panel in monitor.panels.values():
        panel.show()
    monitor.buffer.redraw_all()
    for name, panel in monitor.panels.items():
        assert panel.empty.isVisible(), name
        assert panel.empty.text()


def test_every_panel_draws_an_image_run(monitor):
    for panel in monitor.panels.values():
        panel.show()
    start(monitor)
    b = monitor.buffer
    b.on_batches(batches(0, 30))
    b.on_probe(prepare_probe(image_probe(0), True))
    b.on_probe(prepare_probe(image_probe(10), True))
    b.on_epoch(prepare_record(image_record(1)))
    b.on_finished({"epochs": 1, "best_epoch": 1, "stopped": False})
    b.redraw_all()
    m = monitor.panels
    assert len(m["accuracy"].val.getData()[0]) == 1
    assert len(m["learning_rate"].curve.getData()[0]) == 30
    assert set(m["updates"].curves) == {"conv1", "conv2", "fc1", "fc2"}
    assert all(len(c.getData()[0]) == 2 for c in m["updates"].curves.values())
    hist_panel = m["histograms"]
    assert hist_panel.layer.count() == 5 and hist_panel.layer.currentText() == "conv1"
    for kind in ("weights", "gradients", "activations"):
        assert hist_panel.curves[kind].getData()[1].sum() > 0
    hist_panel.layer.setCurrentText("relu1")
    b.redraw_all()
    assert hist_panel.curves["activations"].getData()[1].sum() > 0
    assert "none" in hist_panel.plots["weights"].titleLabel.text
    image = m["filters"].image.image
    assert image is not None and image[..., 0].std() > 10
    conf = m["confusion"]
    assert conf.image.image.shape == (10, 10)
    assert conf.texts[0].textItem.toPlainText() != ""
    assert conf.gallery.count() == 12
    rf = m["receptive_field"]
    assert rf.layer.count() == 2 and rf.layer.currentText() == "pool2"
    assert rf.boxes[0].isVisible() and rf.boxes[0].rect().width() == 10
    assert rf.heat.image.max() == pytest.approx(1.0)
    assert "theoretical" in rf._header_end.text()
    assert m["decision_boundary"].empty.isVisible(), "no boundary for images"
    for name, panel in m.items():
        if name != "decision_boundary":
            assert not panel.empty.isVisible(), name


def test_decision_boundary_of_two_dimensional_data(monitor):
    panel = monitor["decision_boundary"]
    panel.show()
    start(monitor, kind="vector")
    xs = np.linspace(-1, 1, 40)
    gx, gy = np.meshgrid(xs, xs)
    p1 = 1 / (1 + np.exp(-8 * (gx + gy)))
    probs = np.stack([1 - p1, p1], axis=2)
    points = rng.normal(0, 0.5, (300, 2)).astype(np.float32)
    probe = {"step": 5, "epoch": 1, "weights": {}, "gradients": {}, "activations": {}, "update_ratios": {},
             "filters": rng.normal(0, 1, (8, 1, 1, 2)).astype(np.float32),
             "decision_boundary": {"x_range": (-1, 1), "y_range": (-1, 1), "probabilities": probs},
             "points": points, "labels": (points.sum(1) > 0).astype(np.int64)}
    monitor.buffer.on_probe(prepare_probe(probe, True))
    monitor["filters"].show()
    monitor.buffer.redraw_all()
    assert panel.image.image.shape == (40, 40, 3)
    x, y = panel.contour.getData()
    finite = np.isfinite(x)
    assert finite.sum() > 10
    np.testing.assert_allclose(x[finite] + y[finite], 0, atol=0.08)  # the 50 % line is x1 + x2 = 0
    assert sum(len(item.data) for item in panel.point_items) == 300
    assert monitor["filters"]._mode == "vectors"


def test_epoch_axis_ticks_whole_epochs():
    axis = EpochAxis()
    axis.set_steps_per_epoch(100)
    (spacing, values), = axis.tickValues(0, 1000, 600)
    assert spacing == 100 and values[:3] == [0, 100, 200]
    assert axis.tickStrings([300], 1, 100) == ["3"]
    (spacing, values), = axis.tickValues(0, 60_000, 300)
    assert spacing % 100 == 0 and len(values) <= 6


# --------------------------------------------------------------------------- worker-side preparation
def test_filters_become_a_mosaic_scaled_per_filter():
    w = np.stack([np.full((1, 5, 5), 0.001), np.arange(25, dtype=np.float32).reshape(1, 5, 5) * 100])
    prepared = prepare_filters(w)
    assert prepared["kind"] == "mosaic" and prepared["count"] == 2
    image = prepared["image"]
    assert image.dtype == np.uint8 and image.shape[2] == 4
    assert image[..., 0].max() == 255, "each filter uses the whole grey range"
    rgb = prepare_filters(rng.normal(0, 1, (10, 3, 7, 7)))
    assert rgb["channels"] == 3
    assert prepare_filters(None) is None


def test_theoretical_receptive_field_of_the_centre_unit():
    project = templates.build("cnn")
    geometry = rf_geometry(project)
    # pool2: 10x10 pixels, jump 4, start 2, 7x7 units: the centre unit (3, 3) is centred on 2 + 4*3 = 14
    assert theoretical_box(geometry["pool2"]) == (9.0, 9.0, 10.0, 10.0)
    assert theoretical_box(geometry["conv1"]) == (13.0, 13.0, 3.0, 3.0)
    assert theoretical_box(geometry["fc1"]) is None


def test_effective_field_extent():
    erf = np.zeros((28, 28))
    erf[12:17, 12:17] = 1
    prepared = prepare_fields({"conv2": erf}, np.zeros((1, 28, 28)))
    assert prepared["extent"]["conv2"] == 5
    assert prepared["sample"].shape == (28, 28, 3)


def test_boundary_with_one_sigmoid_output():
    probs = np.linspace(0, 1, 100).reshape(10, 10, 1)
    prepared = prepare_boundary({"x_range": (0, 1), "y_range": (0, 1), "probabilities": probs})
    assert prepared["classes"] == 2 and prepared["image"].shape == (10, 10, 3)


# --------------------------------------------------------------------------- export
@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_export_plots(monitor, tmp_path, suffix):
    start(monitor)
    monitor.buffer.on_batches(batches(0, 30))
    monitor.buffer.on_probe(prepare_probe(image_probe(0), True))
    monitor.buffer.on_epoch(prepare_record(image_record(1)))
    for name in ("loss", "histograms", "filters", "confusion"):
        path = monitor[name].export(tmp_path / f"{name}.{suffix}")
        assert path.exists() and path.stat().st_size > 1000, name
        if suffix == "svg":
            assert path.read_text(encoding="utf-8").lstrip().startswith(("<?xml", "<svg"))


# --------------------------------------------------------------------------- run history
def fake_run(folder, name, lr, val_acc, started="2024-05-01T10:00:00"):
    run = folder / name
    run.mkdir(parents=True)
    project = templates.build("playground")
    project.settings["optimizer"]["lr"] = lr
    (run / "project.nbproj").write_text(json.dumps(project.to_dict()))
    (run / "metrics.csv").write_text(
        "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,samples_per_second\n"
        f"1,0.6,0.7,0.65,{val_acc - 0.1},{lr},1.0,800\n2,0.4,0.8,0.45,{val_acc},{lr},1.0,800\n")
    (run / "summary.json").write_text(json.dumps({"epochs": 2, "stopped": False, "seconds": 2.5, "best_epoch": 2}))
    run_history.write_iterations(run, batches(0, 60, spe=30))
    run_history.write_run_info(run, {"started": started, "status": "finished", "steps_per_epoch": 30})
    return run


def test_run_history_lists_and_overlays_runs(monitor, qtbot, tmp_path):
    project_file = tmp_path / "spiral.nbproj"
    project = templates.build("playground")
    project.save(project_file)
    runs = tmp_path / "runs"
    fake_run(runs, "spiral-20240501-100000", 0.3, 0.9, "2024-05-01T10:00:00")
    fake_run(runs, "spiral-20240501-110000", 0.05, 0.8, "2024-05-01T11:00:00")
    fake_run(runs, "other-20240501-120000", 0.05, 0.8)
    panel = run_history.RunHistoryPanel(lambda: project, lambda: project_file)
    qtbot.addWidget(panel)
    panel.overlays_changed.connect(monitor.buffer.set_overlays)
    panel.refresh()
    assert panel.tree.topLevelItemCount() == 2, "only this project's runs"
    newest = panel.tree.topLevelItem(0)
    assert newest.text(0).startswith("2024-05-01 11:00:00")
    assert newest.text(3) == "80.0%"
    assert "same settings" in newest.text(7)
    assert "lr 0.3" in panel.tree.topLevelItem(1).text(7)
    with qtbot.waitSignal(panel.overlays_changed) as blocker:
        newest.setCheckState(0, newest.checkState(0).Checked)
    overlays = blocker.args[0]
    assert len(overlays) == 1 and isinstance(overlays[0], RunCurves)
    assert len(overlays[0].loss) == 60 and list(overlays[0].epoch_steps) == [30, 60]
    for name in ("loss", "accuracy"):
        monitor[name].show()
    monitor.buffer.redraw_all()
    loss_line = monitor["loss"].overlay_items[0]
    assert len(loss_line.getData()[0]) == 60
    assert len(monitor["accuracy"].overlay_items[0].getData()[0]) == 2
    assert not monitor["loss"].empty.isVisible()
    older = panel.tree.topLevelItem(1)
    with qtbot.waitSignal(panel.overlays_changed) as blocker:
        older.setCheckState(0, older.checkState(0).Checked)
    labels = sorted(o.label for o in blocker.args[0])
    assert labels == ["lr 0.3 · 10:00:00", "run 11:00:00"], "a compared run is named by what it changed"


def test_new_run_folders_are_unique(tmp_path):
    project_file = tmp_path / "net.nbproj"
    a = run_history.new_run_dir(project_file)
    a.mkdir(parents=True)
    b = run_history.new_run_dir(project_file)
    assert a != b and a.parent == b.parent == tmp_path / "runs" and a.name.startswith("net-")

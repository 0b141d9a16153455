"""A run's artifacts: metrics as CSV and JSON, plots as PNG, a Markdown model card."""
from __future__ import annotations

import csv
import json

import pytest
from PIL import Image

from netbuilder.cli import main
from netbuilder.core import templates
from netbuilder.core.project import save_json_atomic
from netbuilder.export import ExportError, export_run
from netbuilder.export.report import load_run, model_card

HISTORY = [
    {"epoch": 1, "train_loss": 1.25, "train_accuracy": 0.61, "val_loss": 0.9, "val_accuracy": 0.7, "lr": 0.01,
     "seconds": 3.5, "samples_per_second": 15000.0},
    {"epoch": 2, "train_loss": 0.75, "train_accuracy": 0.78, "val_loss": 0.62, "val_accuracy": 0.8, "lr": 0.005,
     "seconds": 3.25, "samples_per_second": 16000.0},
    {"epoch": 3, "train_loss": 0.5, "train_accuracy": 0.84, "val_loss": 0.55, "val_accuracy": 0.83, "lr": 0.0025,
     "seconds": 3.0, "samples_per_second": 17000.0},
]


@pytest.fixture
def run_folder(tmp_path):
    """A run folder as the engine writes it (project, summary, per-epoch metrics)."""
    folder = tmp_path / "runs" / "cnn-20250101-120000"
    folder.mkdir(parents=True)
    project = templates.build("cnn")
    project.settings["regularization"].update(l2=1e-4, label_smoothing=0.1)
    project.settings["schedule"] = {"type": "step", "interval": "epoch", "step_size": 1, "gamma": 0.5}
    save_json_atomic(folder / "project.nbproj", project.to_dict())
    save_json_atomic(folder / "summary.json", {"epochs": 3, "last_epoch": 3, "stopped": False, "early_stopped": False,
                                               "best_epoch": 3, "device": "cpu", "test_accuracy": 0.8215,
                                               "test_loss": 0.5678, "seconds": 10.5, "final_train_accuracy": 0.84,
                                               "final_val_accuracy": 0.83})
    with open(folder / "metrics.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(HISTORY[0]))
        writer.writeheader()
        writer.writerows(HISTORY)
    return folder


def test_metrics_as_csv_and_json(run_folder, tmp_path):
    report = export_run(run_folder, "metrics-csv", tmp_path / "m.csv")
    assert report.verified and report.max_abs_diff == 0.0
    with open(tmp_path / "m.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["train_loss"]) for r in rows] == [1.25, 0.75, 0.5] and rows[2]["lr"] == "0.0025"
    export_run(run_folder, "metrics-json", tmp_path / "m.json")
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["epochs"] == HISTORY and data["summary"]["test_accuracy"] == 0.8215 and data["name"] == "CNN"


def test_plots_are_real_pngs(run_folder, tmp_path):
    report = export_run(run_folder, "plots", tmp_path / "plots")
    assert sorted(p.name for p in report.paths) == ["accuracy.png", "learning-rate.png", "loss.png"]
    for path in report.paths:
        with Image.open(path) as img:
            assert img.format == "PNG" and img.size == (800, 500)
            colours = img.convert("RGB").getcolors(maxcolors=1 << 16)
            # A chart: mostly white background, plus lines, text and grid in many anti-aliased shades.
            assert colours is None or len(colours) > 50
            blue = sum(count for count, (r, g, b) in (colours or []) if b > 150 and r < 80)
            assert colours is None or blue > 100  # the training curve is drawn


def test_model_card(run_folder):
    card = model_card(load_run(run_folder))
    assert card.startswith("# CNN — model card\n")
    assert "| 2 | conv1 | Conv2d | 32×28×28 | 320 |" in card
    assert "| 9 | fc1 | Linear | 128 | 401,536 |" in card
    assert "**Parameters:** 421,642 trainable" in card
    assert "| Optimizer | Adam (lr 0.001, beta1 0.9, beta2 0.999, eps 1e-08, amsgrad off) |" in card
    assert "| Schedule | Step decay (interval epoch, step_size 1, gamma 0.5) |" in card
    assert "L2 0.0001" in card and "label smoothing 0.1" in card
    assert "| Test accuracy | 82.15% |" in card and "| Epochs run | 3 |" in card
    assert "| 3 | 0.5000 | 84.00% | 0.5500 | 83.00% | 0.0025 | 3.0 |" in card


def test_report_folder_links_its_plots(run_folder, tmp_path):
    out = tmp_path / "report"
    report = export_run(run_folder, "report", out)
    names = {p.relative_to(out).as_posix() for p in report.paths}
    assert names == {"model-card.md", "metrics.csv", "metrics.json", "plots/loss.png", "plots/accuracy.png",
                     "plots/learning-rate.png"}
    card = (out / "model-card.md").read_text()
    for link in ("plots/loss.png", "plots/accuracy.png", "plots/learning-rate.png"):
        assert f"]({link})" in card and (out / link).is_file()
    assert not [p for p in out.rglob(".netbuilder-export-*")]


def test_a_real_run_and_the_cli(lenet_run, tmp_path, capsys):
    folder, _, history = lenet_run
    assert main(["export", str(folder), "--format", "card", "-o", str(tmp_path / "card.md")]) == 0
    card = (tmp_path / "card.md").read_text()
    assert "# LeNet-5 — model card" in card and "**Parameters:** 61,706 trainable" in card
    assert "training limited to 2,000 samples" in card  # the run's own settings, overrides included
    assert f"| 1 | {history[0]['train_loss']:.4f} |" in card
    assert main(["export", str(folder), "--format", "metrics-csv"]) == 0
    assert (folder / "export" / "lenet-5-metrics.csv").is_file()
    assert "verified" in capsys.readouterr().out


def test_not_a_run_folder(tmp_path):
    with pytest.raises(ExportError, match="not a run folder"):
        export_run(tmp_path, "card", tmp_path / "card.md")
    (tmp_path / "project.nbproj").write_text("{}")
    with pytest.raises(ExportError, match="project.nbproj"):
        export_run(tmp_path, "card", tmp_path / "card.md")

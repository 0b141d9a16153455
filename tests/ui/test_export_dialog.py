"""File ▸ Export…: choices, up-front checks, background export and the result it reports."""
from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

from netbuilder.core import templates
from netbuilder.ui.dialogs.export_dialog import (CHECKPOINT, LATEST_RUN, MODEL, RUN, UNTRAINED, ExportDialog,
                                                 scientific)

EXPORT_TIMEOUT_MS = 120_000


def saved_project(folder, name):
    project = templates.build(name)
    path = folder / f"{name}.nbproj"
    project.save(path)
    return project, path


def open_dialog(qtbot, project, path, run_dir=None):
    dialog = ExportDialog(lambda: project, lambda: path, run_dir=run_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def export_and_wait(qtbot, dialog):
    assert dialog.export_button.isEnabled(), dialog.export_button.toolTip()
    assert dialog.start_export()
    assert dialog.is_busy()
    assert dialog.result_card.isVisible() and dialog.progress.isVisible()
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=EXPORT_TIMEOUT_MS)
    assert not dialog.progress.isVisible()


def shown_text(dialog) -> str:
    return "\n".join(label.text() for label in dialog.findChildren(QLabel) if label.isVisible())


@pytest.fixture(scope="module")
def playground_run(tmp_path_factory):
    """A saved Playground project with one two-epoch run beside it, named as the window names runs."""
    from netbuilder.train.engine import Overrides, Trainer
    folder = tmp_path_factory.mktemp("playground-project")
    project = templates.build("playground")
    project.settings["training"]["device"] = "cpu"
    project.settings["data"]["toy_points"] = 200
    path = folder / "playground.nbproj"
    project.save(path)
    run_dir = folder / "runs" / "playground-20250101-120000"
    Trainer(project, run_dir=run_dir, overrides=Overrides(epochs=2)).run()
    return project, path, run_dir


def test_untrained_state_dict_and_python_code_are_written_and_verified(qtbot, tmp_path, monkeypatch):
    project, path = saved_project(tmp_path, "mlp")
    dialog = open_dialog(qtbot, project, path)
    assert not dialog.latest_radio.isEnabled()  # no runs yet
    assert dialog.source == UNTRAINED
    assert dialog.source_note.isVisible() and "untrained" in dialog.source_note.text()

    dialog.set_format("pt")
    assert dialog.output_path() == tmp_path / "mlp.pt"
    export_and_wait(qtbot, dialog)
    assert (tmp_path / "mlp.pt").is_file()
    assert dialog.last_error is None
    assert dialog.result_title.text() == "Exported PyTorch state dict"
    detail = dialog.result_detail.text()
    assert detail.startswith("Verified: reloaded with torch.load") and "max |difference|" in detail
    assert f"≤ {scientific(1e-4)}" in detail and "on a batch of 2" in detail
    assert "mlp.pt" in dialog.result_files.text() and "KB" in dialog.result_files.text()
    assert "initial weights" in dialog.result_notes.text()
    assert dialog.open_folder_button.isVisible()

    # Python code puts its weights beside it, in the mlp.pt just written: that is asked about.
    questions = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda parent, title, text, *args: questions.append(text) or QMessageBox.StandardButton.Yes)
    dialog.set_format("python")
    assert dialog.output_path() == tmp_path / "mlp.py"
    assert "mlp.pt already exists" in dialog.path_note.text()
    with qtbot.waitSignal(dialog.exported, timeout=EXPORT_TIMEOUT_MS) as exported:
        export_and_wait(qtbot, dialog)
    assert len(questions) == 1 and str(tmp_path / "mlp.pt") in questions[0]
    assert exported.args == [str(tmp_path / "mlp.py")]
    assert (tmp_path / "mlp.py").is_file() and (tmp_path / "mlp.pt").is_file()
    assert "imported the generated code" in dialog.result_detail.text()
    assert "max |difference|" in dialog.result_detail.text()
    assert "mlp.py" in dialog.result_files.text() and "mlp.pt" in dialog.result_files.text()


def test_onnx_export_verifies_in_onnx_runtime(qtbot, tmp_path):
    pytest.importorskip("onnxruntime")
    project, path = saved_project(tmp_path, "lenet5")
    dialog = open_dialog(qtbot, project, path)
    dialog.set_format("onnx")
    assert dialog.output_path() == tmp_path / "lenet-5.onnx"
    assert "ONNX Runtime" in dialog.format_description.text()
    export_and_wait(qtbot, dialog)
    assert dialog.last_error is None, dialog.last_error
    assert (tmp_path / "lenet-5.onnx").stat().st_size > 200_000
    detail = dialog.result_detail.text()
    assert detail.startswith("Verified: reloaded with ONNX Runtime, max |difference| ")
    difference = float(detail.split("max |difference| ")[1].split(" ")[0])
    assert 0 <= difference <= 1e-4
    assert dialog.last_outcome.report.max_abs_diff == pytest.approx(difference, rel=0.1, abs=1e-12)


def test_a_run_gives_trained_weights_and_its_artifacts(qtbot, playground_run, tmp_path):
    import torch
    project, path, run_dir = playground_run
    dialog = open_dialog(qtbot, project, path)
    # The newest run beside the project is the default source of weights, shown with its result.
    assert dialog.latest_radio.isEnabled() and dialog.source == LATEST_RUN
    assert "2025-01-01 12:00" in dialog.latest_detail.text() and "test accuracy" in dialog.latest_detail.text()
    assert not dialog.source_note.isVisible()

    dialog.set_format("pt")
    dialog.set_output(tmp_path / "trained.pt")
    export_and_wait(qtbot, dialog)
    exported = torch.load(tmp_path / "trained.pt", weights_only=True)
    trained = torch.load(run_dir / "model.pt", weights_only=True)
    assert exported.keys() == trained.keys()
    assert all(torch.equal(exported[k], trained[k]) for k in trained)
    assert "initial weights" not in dialog.result_notes.text()

    dialog.set_what(RUN)
    assert dialog.source_label.text() == "Run:" and not dialog.untrained_radio.isVisible()
    dialog.set_format("card")
    dialog.set_output(tmp_path / "card.md")
    export_and_wait(qtbot, dialog)
    card = (tmp_path / "card.md").read_text(encoding="utf-8")
    assert "Test accuracy" in card and "Playground" in card
    assert dialog.result_detail.text() == "Verified: read back and checked."

    dialog.set_format("metrics-csv")
    assert dialog.output_path() == tmp_path / "card.csv"  # a typed name keeps its stem
    export_and_wait(qtbot, dialog)
    rows = (tmp_path / "card.csv").read_text(encoding="utf-8").strip().splitlines()
    assert rows[0].startswith("epoch,") and len(rows) == 3
    assert "every recorded value matches" in dialog.result_detail.text()


def test_a_checkpoint_file_supplies_the_weights(qtbot, playground_run, tmp_path):
    import torch
    project, path, run_dir = playground_run
    dialog = open_dialog(qtbot, project, path)
    dialog.set_format("safetensors")
    dialog.set_source(CHECKPOINT, run_dir / "checkpoints" / "last.pt")
    assert "last.pt" in dialog.checkpoint_detail.text()
    dialog.set_output(tmp_path / "from-checkpoint.safetensors")
    export_and_wait(qtbot, dialog)
    assert dialog.last_error is None, dialog.last_error
    from safetensors.torch import load_file
    exported = load_file(str(tmp_path / "from-checkpoint.safetensors"))
    checkpoint = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["model"]
    assert all(torch.equal(exported[k], checkpoint[k]) for k in checkpoint)

    # Writing over the weights being exported is refused before anything runs.
    dialog.set_format("pt")
    dialog.set_output(run_dir / "checkpoints" / "last.pt")
    assert not dialog.export_button.isEnabled()
    assert "overwrite the weights" in dialog.path_note.text()


def test_a_network_with_errors_cannot_be_exported(qtbot, tmp_path):
    project, path = saved_project(tmp_path, "mlp")
    project.graph.set_param(project.graph.node_by_name("fc1").id, "in_features", 5)
    dialog = open_dialog(qtbot, project, path)
    dialog.set_format("onnx")
    assert not dialog.export_button.isEnabled()
    reason = dialog.export_button.toolTip()
    assert reason.startswith("The network has errors and cannot be exported") and "fc1" in reason
    assert dialog.path_note.isVisible() and dialog.path_note.text() == reason
    with qtbot.waitSignal(dialog.export_failed) as failed:
        assert not dialog.start_export()
    assert "fc1" in failed.args[0]
    assert dialog.result_title.text() == "Export failed"
    assert not any(tmp_path.glob("*.onnx"))

    # Run artifacts do not depend on the design, so they stay available.
    dialog.set_what(RUN)
    assert "network has errors" not in dialog.path_note.text()


def test_a_failed_export_names_its_cause_without_a_traceback(qtbot, tmp_path):
    project, path = saved_project(tmp_path, "mlp")
    dialog = open_dialog(qtbot, project, path)
    dialog.set_format("pt")
    dialog.set_output("/proc/no-such-folder/mlp.pt")
    with qtbot.waitSignal(dialog.export_failed, timeout=EXPORT_TIMEOUT_MS) as failed:
        export_and_wait(qtbot, dialog)
    message = failed.args[0]
    assert message.startswith("Cannot write into /proc/no-such-folder")
    assert dialog.result_title.text() == "Export failed"
    assert dialog.result_detail.text() == message == dialog.last_error
    assert "Nothing was written" in dialog.result_files.text()
    assert not dialog.open_folder_button.isVisible()
    assert "Traceback" not in shown_text(dialog) and 'File "' not in shown_text(dialog)
    assert dialog.export_button.isEnabled()  # the user can pick another place and try again


def test_a_failure_at_a_layer_offers_to_show_it(qtbot, playground_run, tmp_path):
    _, path, run_dir = playground_run
    project = templates.build("playground")
    scores = project.graph.node_by_name("scores").id
    project.graph.set_param(scores, "in_features", 5)
    dialog = open_dialog(qtbot, project, path)
    # A plain state dict names no network, so the (broken) current design is what gets exported.
    dialog.set_source(CHECKPOINT, run_dir / "model.pt")
    dialog.set_format("pt")
    dialog.set_output(tmp_path / "broken.pt")
    export_and_wait(qtbot, dialog)
    assert dialog.result_title.text() == "Export failed"
    assert "scores" in dialog.result_detail.text()
    assert dialog.show_node_button.isVisible() and "scores" in dialog.show_node_button.text()
    with qtbot.waitSignal(dialog.show_node_requested) as requested:
        dialog.show_node_button.click()
    assert requested.args == [scores]


def test_replacing_an_existing_file_asks_first(qtbot, tmp_path, monkeypatch):
    project, path = saved_project(tmp_path, "mlp")
    target = tmp_path / "mlp.pt"
    target.write_bytes(b"keep me")
    dialog = open_dialog(qtbot, project, path)
    dialog.set_format("pt")
    assert "already exists" in dialog.path_note.text()
    questions = []

    def answer(reply):
        def question(parent, title, text, *args):
            questions.append((title, text))
            return reply
        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    assert not dialog.start_export()
    assert not dialog.is_busy() and target.read_bytes() == b"keep me"
    assert len(questions) == 1 and str(target) in questions[0][1]

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    export_and_wait(qtbot, dialog)
    assert len(questions) == 2
    assert target.read_bytes() != b"keep me" and dialog.last_error is None


def test_closing_while_busy_lets_the_export_finish(qtbot, tmp_path):
    from netbuilder.ui import background
    project, path = saved_project(tmp_path, "mlp")
    dialog = ExportDialog(lambda: project, lambda: path)
    dialog.show()
    dialog.set_format("torchscript")
    assert dialog.start_export()
    assert not dialog.export_button.isEnabled() and not dialog.format_combo.isEnabled()
    dialog.close()
    dialog.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not shiboken6.isValid(dialog)  # gone before the worker reports
    assert background.wait_for_all(timeout=EXPORT_TIMEOUT_MS / 1000)
    qtbot.wait(50)  # the result is delivered (and dropped) without touching the deleted dialog
    assert (tmp_path / "mlp.torchscript.pt").is_file()


def test_the_output_path_follows_the_format(qtbot, tmp_path):
    project, path = saved_project(tmp_path, "lenet5")
    dialog = open_dialog(qtbot, project, path)
    dialog.set_format("onnx")
    assert dialog.path_edit.text() == str(tmp_path / "lenet-5.onnx")
    dialog.set_format("python")
    assert dialog.path_edit.text() == str(tmp_path / "lenet_5.py")
    dialog.set_format("torchscript")
    assert dialog.path_edit.text() == str(tmp_path / "lenet-5.torchscript.pt")
    dialog.set_output(tmp_path / "mine.torchscript.pt")
    dialog.set_format("safetensors")
    assert dialog.path_edit.text() == str(tmp_path / "mine.safetensors")
    dialog.set_output(tmp_path / "bare")
    assert dialog.output_path() == tmp_path / "bare.safetensors"
    dialog.set_what(RUN)
    dialog.set_format("report")
    assert dialog.output_path() == tmp_path / "bare"
    # Without a run there is nothing to export from a run.
    assert dialog.source != UNTRAINED and not dialog.export_button.isEnabled()
    assert "run folder" in dialog.export_button.toolTip()
    dialog.set_what(MODEL)
    assert dialog.source == UNTRAINED and dialog.export_button.isEnabled()


def test_the_dialog_is_keyboard_friendly(qtbot, tmp_path):
    project, path = saved_project(tmp_path, "mlp")
    dialog = open_dialog(qtbot, project, path)
    buddies = {label.text(): label.buddy() for label in dialog.findChildren(QLabel) if label.buddy() is not None}
    assert buddies == {"&Format:": dialog.format_combo, "&Save to:": dialog.path_edit}
    assert dialog.export_button.isDefault()
    # Tab goes down the form, then to the buttons.
    chain, widget = [], dialog.model_radio
    for _ in range(40):
        chain.append(widget)
        widget = widget.nextInFocusChain()
    expected = [dialog.model_radio, dialog.format_combo, dialog.other_run_radio, dialog.choose_run_button,
                dialog.path_edit, dialog.browse_button, dialog.export_button, dialog.close_button]
    assert all(w in chain for w in expected)
    assert [chain.index(w) for w in expected] == sorted(chain.index(w) for w in expected)
    # Every label, button and radio has a mnemonic of its own.
    buttons = (dialog.model_radio, dialog.run_radio, dialog.latest_radio, dialog.other_run_radio,
               dialog.checkpoint_radio, dialog.untrained_radio, dialog.browse_button, dialog.export_button,
               dialog.open_folder_button, dialog.show_node_button)
    texts = ["&Format:", "&Save to:", *(button.text() for button in buttons)]
    keys = [text[text.index("&") + 1].lower() for text in texts]
    assert len(set(keys)) == len(keys), texts

    # Return in the path field presses the default button: Export.
    dialog.set_format("pt")
    dialog.path_edit.setFocus()
    qtbot.keyClick(dialog.path_edit, Qt.Key.Key_Return)
    assert dialog.is_busy()
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=EXPORT_TIMEOUT_MS)
    assert (tmp_path / "mlp.pt").is_file() and dialog.last_error is None


def test_a_kept_dialog_follows_the_open_project_and_new_runs(qtbot, playground_run, tmp_path):
    _, playground_path, run_dir = playground_run
    project, path = saved_project(tmp_path, "mlp")
    current = {"project": project, "path": path}
    dialog = ExportDialog(lambda: current["project"], lambda: current["path"])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.set_format("onnx")
    assert dialog.path_edit.text() == str(tmp_path / "mlp.onnx") and dialog.source == UNTRAINED
    dialog.hide()

    current["project"], current["path"] = templates.build("playground"), playground_path
    dialog.set_run_dir(run_dir)
    dialog.show()
    assert dialog.heading.text() == "Export Playground"
    assert dialog.path_edit.text() == str(playground_path.parent / "playground.onnx")
    assert dialog.source == LATEST_RUN and dialog.latest_run.path == run_dir

"""Recent files, the settings location, autosave and recovery after a crash."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from netbuilder.core import templates
from netbuilder.core.project import Project
from netbuilder.ui import files
from netbuilder.ui.document import Document


@pytest.fixture
def doc(qtbot):
    document = Document(templates.build("mlp"))
    yield document
    document.detach()


def make_dirty(document):
    document.set_settings("training", {**document.project.settings["training"], "epochs": 3})
    assert document.is_dirty


def test_settings_live_where_the_tests_put_them(tmp_path):
    assert Path(files.app_settings().fileName()).is_relative_to(tmp_path)
    assert files.recovery_folder().is_relative_to(tmp_path)


def test_the_settings_folder_can_be_set_from_the_environment(tmp_path, monkeypatch):
    folder = tmp_path / "elsewhere"
    monkeypatch.setenv(files.CONFIG_DIR_ENV, str(folder))
    assert files.redirect_settings_from_environment() == folder
    assert Path(files.app_settings().fileName()).is_relative_to(folder)
    assert QSettings.defaultFormat() == QSettings.Format.IniFormat


def test_recent_files_newest_first_without_duplicates(tmp_path, qtbot):
    recent = files.RecentFiles()
    paths = []
    for i in range(files.MAX_RECENT + 3):
        path = tmp_path / f"p{i}.nbproj"
        path.write_text("{}")
        paths.append(path)
        recent.add(path)
    recent.add(paths[5])
    listed = recent.paths()
    assert len(listed) == files.MAX_RECENT
    assert listed[0] == paths[5].resolve() and listed[1] == paths[-1].resolve()
    assert len(set(listed)) == len(listed)
    paths[-1].unlink()
    assert paths[-1].resolve() not in recent.existing()
    with qtbot.waitSignal(recent.changed):
        recent.remove(paths[5])
    assert paths[5].resolve() not in recent.paths()
    assert files.RecentFiles().paths() == recent.paths()  # kept in the settings, not in the object
    recent.clear()
    assert recent.paths() == []


def test_autosave_writes_only_unsaved_changes(tmp_path, doc):
    saver = files.Autosaver(tmp_path / "recovery", interval_ms=60_000)
    saver.set_document(doc)
    assert saver.save_now() is None and not saver.file.exists()
    make_dirty(doc)
    assert saver.save_now() == saver.file and saver.file.exists()
    doc.mark_saved(tmp_path / "saved.nbproj")
    saver.save_now()
    assert not saver.file.exists()  # nothing unsaved: nothing to recover
    saver.stop()


def test_autosave_runs_on_its_timer(tmp_path, doc, qtbot):
    saver = files.Autosaver(tmp_path / "recovery", interval_ms=50)
    saver.set_document(doc)
    make_dirty(doc)
    with qtbot.waitSignal(saver.saved, timeout=2000):
        pass
    assert saver.file.exists()
    saver.stop()
    assert not saver.file.exists()


def test_a_live_session_is_not_offered_for_recovery(tmp_path, doc):
    saver = files.Autosaver(tmp_path, interval_ms=60_000)
    saver.set_document(doc)
    make_dirty(doc)
    saver.save_now()
    assert files.pending_recoveries(tmp_path) == []
    saver.stop()


def test_recovery_round_trips_the_project(tmp_path, doc):
    make_dirty(doc)
    original = tmp_path / "mine.nbproj"
    files.write_recovery(tmp_path / f"abc{files.RECOVERY_SUFFIX}", doc.project, original)
    (found,) = files.pending_recoveries(tmp_path)
    assert found.name == "MLP" and found.original_path == original
    assert found.load().to_dict() == doc.project.to_dict()
    found.discard()
    assert files.pending_recoveries(tmp_path) == []


def test_a_broken_recovery_file_is_skipped(tmp_path):
    (tmp_path / f"bad{files.RECOVERY_SUFFIX}").write_text("{not json")
    assert files.pending_recoveries(tmp_path) == []


_CRASHING_SESSION = textwrap.dedent("""
    import os, sys
    from PySide6.QtWidgets import QApplication
    from netbuilder.core import templates
    from netbuilder.ui.document import Document
    from netbuilder.ui.files import Autosaver
    from pathlib import Path
    app = QApplication([])
    doc = Document(templates.build("cnn"))
    doc.set_project_name("Crashed work")
    saver = Autosaver(Path(sys.argv[1]))
    saver.set_document(doc)
    saver.save_now()
    os._exit(3)  # dies without cleaning up, as a crash would
""")


def test_work_of_a_crashed_session_is_offered_back(tmp_path, qtbot):
    folder = tmp_path / "recovery"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", _CRASHING_SESSION, str(folder)], env=env, timeout=60,
                            capture_output=True, text=True)
    assert result.returncode == 3, result.stderr
    assert list(folder.glob("*.lock")), "the crashed session left its lock behind"
    (found,) = files.pending_recoveries(folder)
    project = found.load()
    assert project.name == "Crashed work"
    assert project.graph.to_dict() == templates.build("cnn").graph.to_dict()


def test_main_window_recovers_crashed_work(tmp_path, qtbot, monkeypatch):
    from netbuilder.ui import main_window
    from netbuilder.ui.dialogs.recovery import RECOVER
    project = templates.build("rnn")
    project.settings["training"]["epochs"] = 7
    files.write_recovery(files.recovery_folder() / f"old{files.RECOVERY_SUFFIX}", project, tmp_path / "rnn.nbproj")

    class Answer:
        def __init__(self, recoveries, parent=None):
            self.choice, self.selected = RECOVER, recoveries[0]

        def exec(self):
            return 1

    monkeypatch.setattr(main_window, "RecoveryDialog", Answer)
    window = main_window.MainWindow()
    qtbot.addWidget(window, before_close_func=lambda w: setattr(w, "_skip_unsaved_prompt", True))
    assert window.offer_recovery()
    doc = window.document
    assert doc.project.to_dict() == project.to_dict()
    assert doc.is_dirty and doc.path == tmp_path / "rnn.nbproj"
    assert window.windowTitle() == "NetBuilder — rnn.nbproj*"
    # The recovered copy is now this session's: not offered again, and gone once saved.
    assert files.pending_recoveries(exclude=window.autosaver.file) == []
    assert window.autosaver.file.exists()
    assert window.save()
    assert not window.autosaver.file.exists()
    assert Project.load(tmp_path / "rnn.nbproj").to_dict() == project.to_dict()


def test_discarding_removes_the_recovery_files(tmp_path, qtbot, monkeypatch):
    from netbuilder.ui import main_window
    from netbuilder.ui.dialogs.recovery import DISCARD
    files.write_recovery(files.recovery_folder() / f"old{files.RECOVERY_SUFFIX}", templates.build("mlp"), None)

    class Answer:
        def __init__(self, recoveries, parent=None):
            self.choice, self.selected = DISCARD, None

        def exec(self):
            return 1

    monkeypatch.setattr(main_window, "RecoveryDialog", Answer)
    window = main_window.MainWindow()
    qtbot.addWidget(window, before_close_func=lambda w: setattr(w, "_skip_unsaved_prompt", True))
    assert not window.offer_recovery()
    assert files.pending_recoveries() == []


def test_recovery_dialog_lists_the_sessions(qtbot, tmp_path):
    from netbuilder.ui.dialogs.recovery import RECOVER, RecoveryDialog
    files.write_recovery(tmp_path / f"a{files.RECOVERY_SUFFIX}", templates.build("mlp"), None)
    recoveries = files.pending_recoveries(tmp_path)
    dialog = RecoveryDialog(recoveries)
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 1 and "MLP — never saved" in dialog.list.item(0).text()
    dialog._finish(RECOVER)
    assert dialog.choice == RECOVER and dialog.selected is recoveries[0]

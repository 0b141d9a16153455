"""The real application, started as a user starts it, in a separate process: it opens without
loading torch on the way, quits on a timer with status 0, and trains from the command line."""
import configparser
import os
import subprocess
import sys
import time

import pytest

from netbuilder.core import templates


def start(args, config_dir, extra_env=None, timeout=60):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "NETBUILDER_CONFIG_DIR": str(config_dir), **(extra_env or {})}
    began = time.monotonic()
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "netbuilder", *args], env=env,
                            capture_output=True, text=True, timeout=timeout)
    return result, time.monotonic() - began


def imported(stderr: str) -> set:
    """Top-level module names from the interpreter's import-time report."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_the_application_starts_light_and_quits_on_a_timer(tmp_path):
    result, seconds = start(["gui", "--quit-after", "400"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    modules = imported(result.stderr)
    assert "PySide6" in modules and "netbuilder" in modules
    assert "torch" not in modules, "torch must load lazily, off the start-up path"
    # Generous for a busy test machine; on an idle one the whole run takes about a second.
    assert seconds < 20


def test_no_arguments_opens_the_window_too(tmp_path):
    result, _ = start([], tmp_path, {"NETBUILDER_QUIT_AFTER_MS": "300"})
    assert result.returncode == 0, result.stderr[-3000:]


def test_a_project_given_on_the_command_line_is_opened(tmp_path):
    project = tmp_path / "given.nbproj"
    templates.build("mlp").save(project)
    config = tmp_path / "config"
    result, _ = start(["gui", str(project), "--quit-after", "400"], config)
    assert result.returncode == 0, result.stderr[-3000:]
    ini = configparser.ConfigParser()
    ini.read(config / "NetBuilder" / "NetBuilder.ini")
    assert str(project) in ini.get("files", "recent")


@pytest.mark.parametrize("theme", ["dark"])
def test_the_stored_theme_is_applied_at_start(tmp_path, theme):
    folder = tmp_path / "NetBuilder"
    folder.mkdir()
    (folder / "NetBuilder.ini").write_text(f"[view]\ntheme={theme}\n")
    result, _ = start(["gui", "--quit-after", "300"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]


def test_gui_trains_saves_a_screenshot_and_exits(tmp_path):
    project = tmp_path / "spiral.nbproj"
    templates.build("playground").save(project)
    shot = tmp_path / "shots" / "window.png"
    result, _ = start(["gui", str(project), "--train", "--exit-after-epochs", "2", "--screenshot", str(shot)],
                      tmp_path / "config", timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert shot.read_bytes().startswith(b"\x89PNG")
    runs = list((tmp_path / "runs").rglob("summary.json"))
    assert len(runs) == 1
    import json
    assert json.loads(runs[0].read_text())["epochs"] == 2


def test_gui_training_failure_exits_with_status_1(tmp_path):
    project = tmp_path / "missing.nbproj"
    p = templates.build("lenet5")
    p.settings["data"].update(root=str(tmp_path / "no-such-folder"))
    p.save(project)
    result, _ = start(["gui", str(project), "--train", "--exit-after-epochs", "1"], tmp_path / "config", timeout=120)
    assert result.returncode == 1
    assert "training failed" in result.stderr and "no-such-folder" in result.stderr

"""`python -m player` (player/ui/main.py): opens the window, closes cleanly (also on SIGTERM), keeps
what it and Qt write in the player's folders, and says in one line why it cannot start."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parent.parent


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _when_window(fn):
    """Call ``fn(window)`` once the window is up (from the event loop ``run`` starts)."""
    from player.ui.main_window import MainWindow

    def look():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if wins:
            fn(wins[0])
        else:
            QTimer.singleShot(50, look)

    QTimer.singleShot(200, look)


@pytest.fixture
def own_folders(tmp_path, monkeypatch):
    """PLAYER_DATA_DIR and HOME in the test's folder; what run() sets in the environment is undone."""
    data, home = tmp_path / "data", tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("PLAYER_DATA_DIR", str(data))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PLAYER_AUDIO", "null")
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    yield data, home
    from player.ui.settings import redirect_qt_settings

    redirect_qt_settings(tmp_path / "qt-after-the-test")


def test_run_gui_opens_the_window_and_quits(qapp, own_folders):
    from player.app import run_gui
    from player.ui.main import SWITCH_INTERVAL_S, GuiThreadCollector

    data, home = own_folders
    seen = {}

    def check(w):
        seen["title"] = w.windowTitle()
        seen["size"] = (w.width(), w.height())
        # an exception in a slot becomes a notice, not a dead window
        try:
            raise RuntimeError("a bug in a slot")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
        seen["notice"] = w.notices.history[-1]
        seen["frozen"] = gc.get_freeze_count()  # start-up's objects out of the collector's reach
        seen["switch"] = sys.getswitchinterval()
        # Qt's file dialog keeps its own settings (QtProject.conf): in the player's config folder too
        QTimer.singleShot(300, lambda: [d.reject() for d in QApplication.topLevelWidgets()
                                        if isinstance(d, QFileDialog) and d.isVisible()])
        w.imports.choose_folder()
        w.close()

    _when_window(check)
    assert run_gui(data / "library.db") == 0
    assert seen["title"] == "Tastebuds"
    assert seen["size"][0] >= 900 and seen["size"][1] >= 560
    assert seen["notice"][0] == "error" and "a bug in a slot" in seen["notice"][1]
    assert seen["frozen"] > 10_000 and seen["switch"] == pytest.approx(SWITCH_INTERVAL_S)
    GuiThreadCollector._timer.stop()
    gc.enable()
    gc.unfreeze()
    config = data / "config"
    assert (config / "player.conf").is_file()  # the settings, in the player's config folder
    assert (config / "QtProject.conf").is_file()
    assert _files(home) == []  # nothing in the home folder


def test_sigterm_closes_the_window_cleanly(tmp_path):
    """A real `python -m player`: SIGTERM (logout, kill) saves the settings, ends the workers and exits 0."""
    data, home = tmp_path / "data", tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "PLAYER_"))}
    env.update(PLAYER_DATA_DIR=str(data), HOME=str(home), PLAYER_AUDIO="null", QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=str(ROOT))
    settings = data / "config" / "player.conf"
    proc = subprocess.Popen([sys.executable, "-m", "player"], cwd=str(tmp_path), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # up: the settings file is written from the running event loop (its version, at start)
        deadline = time.monotonic() + 60
        while not settings.is_file() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
        assert settings.is_file()
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=15)[0].decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    text = settings.read_text()
    assert "geometry=" in text and "volume=" in text  # what closing saves
    assert _files(home) == []


def test_unreadable_library_is_one_clear_line(own_folders, capsys):
    from player.ui.main import run

    data, _home = own_folders
    bad = data / "not-a-db.db"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(b"this is not sqlite" * 100)
    assert run(bad) == 2
    err = capsys.readouterr().err
    assert "not a readable library database" in err or "not a database" in err
    assert len(err.strip().splitlines()) == 1


def test_a_bad_audio_setting_is_one_clear_line(own_folders, capsys):
    from player.ui.main import run

    data, _home = own_folders
    os.environ["PLAYER_AUDIO"] = "loudspeaker"  # undone by own_folders' monkeypatch
    assert run(data / "library.db") == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: PLAYER_AUDIO must be one of auto, sounddevice, null, null-realtime, null-manual, not loudspeaker"


def test_the_collector_runs_on_the_gui_thread_only(qtbot):
    """After start-up, cyclic garbage made in a pool thread is collected on the GUI thread (a collection
    in a pool thread could free a Qt slot there and deadlock with the GUI thread)."""
    import threading

    from player.ui.main import GuiThreadCollector, tune_interpreter
    from player.ui.workers import TaskPool

    freed = []

    class Cycle:
        def __init__(self):
            self.me = self

        def __del__(self):
            freed.append(threading.current_thread() is threading.main_thread())

    def make_garbage():
        for _ in range(3000):  # far past the young generation's threshold
            Cycle()
        return threading.current_thread() is threading.main_thread()

    try:
        tune_interpreter()
        assert not gc.isenabled()
        pool = TaskPool("test", 1)
        done = []
        pool.submit(make_garbage, on_result=done.append)
        qtbot.waitUntil(lambda: done == [False] and len(freed) >= 3000, timeout=10000)
        assert all(freed)
        pool.wait()
    finally:
        GuiThreadCollector._timer.stop()
        gc.enable()
        gc.unfreeze()

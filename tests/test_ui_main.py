"""`python -m player` opens the window (player.app.run_gui → player.ui.main.run) and closes cleanly."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


def test_run_gui_opens_the_window_and_quits(qtbot, db_path, tmp_path, monkeypatch):
    from player.app import run_gui
    from player.ui.main_window import MainWindow

    monkeypatch.setenv("PLAYER_AUDIO", "null")
    # keep the test's settings out of the user's real configuration
    QSettings.setPath(QSettings.NativeFormat, QSettings.UserScope, str(tmp_path / "config"))
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "config"))
    seen = {}

    def close_it():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not wins:
            QTimer.singleShot(50, close_it)
            return
        w = wins[0]
        seen["title"] = w.windowTitle()
        seen["size"] = (w.width(), w.height())
        # an exception in a slot becomes a notice, not a dead window
        import sys

        try:
            raise RuntimeError("a bug in a slot")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
        seen["notice"] = w.notices.history[-1]
        w.close()

    QTimer.singleShot(200, close_it)
    assert run_gui(db_path) == 0
    assert seen["title"] == "Tastebuds"
    assert seen["size"][0] >= 900 and seen["size"][1] >= 560
    assert seen["notice"][0] == "error" and "a bug in a slot" in seen["notice"][1]
    assert (tmp_path / "config").exists()  # settings were written there, not in the user's home


def test_unreadable_library_is_one_clear_line(tmp_path, capsys):
    from player.ui.main import run

    bad = tmp_path / "not-a-db.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    assert run(bad) == 2
    err = capsys.readouterr().err
    assert "not a readable library database" in err or "not a database" in err

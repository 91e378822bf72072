"""The first day (player/ui/first_run.py): an empty library offers the desktop's music folder."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QPushButton

from audiogen import write_audio
from player.ui.first_run import PROMISE, music_folder

pytestmark = pytest.mark.gui


def test_the_music_folder_is_the_desktops_own(tmp_path):
    home = tmp_path / "home"
    assert music_folder({"HOME": str(home)}) is None  # nothing there: nothing offered
    (home / "Music").mkdir(parents=True)
    assert music_folder({"HOME": str(home)}) == home / "Music"
    (home / "Musik").mkdir()
    (home / ".config").mkdir()
    (home / ".config" / "user-dirs.dirs").write_text('# written by xdg-user-dirs-update\n'
                                                     'XDG_MUSIC_DIR="$HOME/Musik"\n')
    assert music_folder({"HOME": str(home)}) == home / "Musik"
    other = tmp_path / "cfg"
    other.mkdir()
    (other / "user-dirs.dirs").write_text('XDG_MUSIC_DIR="$HOME/"\n')  # "not set": the usual folder
    assert music_folder({"HOME": str(home), "XDG_CONFIG_HOME": str(other)}) == home / "Music"


def test_an_empty_library_offers_the_music_folder_and_imports_it(qtbot, open_window, library, tmp_path,
                                                                 monkeypatch, settle):
    home = tmp_path / "home"
    write_audio(home / "Music" / "Album" / "song.wav", seconds=0.3)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    w = open_window()
    level, text = w.notices.history[-1]
    assert "~/Music" in text and PROMISE in text
    button = next(b for n in w.notices.notices() for b in n.findChildren(QPushButton) if b.text() == "Import Music")
    with qtbot.waitSignal(w.imports.finished, timeout=30000):
        button.click()
    settle(w)
    assert [t.path for t in library.tracks()] == [str(home / "Music" / "Album" / "song.wav")]
    assert w.model.total_count() == 1


def test_no_music_folder_still_says_what_to_do(open_window, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
    w = open_window()
    level, text = w.notices.history[-1]
    assert "Import folder" in text and PROMISE in text

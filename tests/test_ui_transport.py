"""Playing through the window (player/ui/transport.py, playback.py): the null audio backend with a
manual clock; unplayable and vanished files are messages."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt

from player.options import VOLUME
from uimusic import make_music

pytestmark = pytest.mark.gui


def advance(qtbot, w, seconds: float) -> None:
    """Move the null backend's clock and let the player's events reach the window."""
    p = w.playback.player
    p.backend.advance(seconds)
    p.sync()
    qtbot.wait(30)
    w.playback._sync()


def test_play_pause_seek_next_through_the_null_backend(qtbot, playing_window, library, shoot):
    w = playing_window
    m = w.model
    row = m.row_of(next(t for t in m.track_ids() if m.track_row(t).title == "Harbour"))
    idx = m.index(row, 0)
    # double-click plays
    w.view.doubleClicked.emit(idx)
    qtbot.waitUntil(lambda: w.playback.state() == "playing", timeout=5000)
    advance(qtbot, w, 0.5)
    assert w.now_playing.title.text() == "Harbour"
    assert "The Quiet Hours" in w.now_playing.artist.text()
    assert w.now_playing.play.toolTip().startswith("Pause")
    assert abs(w.now_playing.position - 0.5) < 0.05
    assert w.now_playing.elapsed.text() == "0:00" and w.now_playing.remaining.text() == "-0:02"
    assert m.data(m.index(row, 0), Qt.FontRole).bold()  # the playing row is bold
    # Space pauses and resumes
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key_Space)
    qtbot.waitUntil(lambda: w.playback.state() == "paused", timeout=3000)
    pos = w.playback.position()
    advance(qtbot, w, 0.5)
    assert abs(w.playback.position() - pos) < 0.01  # pause holds the position
    qtbot.keyClick(w.view, Qt.Key_Space)
    qtbot.waitUntil(lambda: w.playback.state() == "playing", timeout=3000)
    # the seek slider (released at 2.0 s) seeks
    w.now_playing.seekRequested.emit(2.0)
    advance(qtbot, w, 0.1)
    assert abs(w.playback.position() - 2.1) < 0.05
    assert abs(w.now_playing.position - 2.1) < 0.05
    # Left arrow: 5 s back (clamped at 0)
    qtbot.keyClick(w.view, Qt.Key_Left)
    advance(qtbot, w, 0.1)
    assert w.playback.position() < 0.3
    # next: Up next's first entry plays, and the play is recorded for alice
    first = w.up_next.list.entries.entry(0)
    assert first is not None
    qtbot.keyClick(w.view, Qt.Key_Right, Qt.ControlModifier)
    advance(qtbot, w, 0.2)
    qtbot.waitUntil(lambda: w.playback.current_track_id() == first.track_id, timeout=3000)
    assert w.now_playing.title.text() == first.title
    alice = library.user("alice")
    qtbot.waitUntil(lambda: len(library.plays(alice.id)) >= 1, timeout=3000)
    # Enter on a selected row plays it; the media play/pause key pauses
    w.view.setFocus()
    w.view.select_track(m.track_id_at(row))
    qtbot.keyClick(w.view, Qt.Key_Return)
    advance(qtbot, w, 0.1)
    qtbot.waitUntil(lambda: w.playback.current_track_id() == m.track_id_at(row), timeout=3000)
    qtbot.keyClick(w.view, Qt.Key_MediaTogglePlayPause)
    qtbot.waitUntil(lambda: w.playback.state() == "paused", timeout=3000)
    qtbot.keyClick(w.view, Qt.Key_MediaTogglePlayPause)
    qtbot.waitUntil(lambda: w.playback.state() == "playing", timeout=3000)
    advance(qtbot, w, 1.2)
    # volume: persisted, passed to the player
    w.now_playing.volume.setValue(40)
    assert abs(w.playback.player.volume - 0.4) < 1e-6 and abs(w.settings[VOLUME] - 0.4) < 1e-6
    shoot(w, "playing")


def test_unplayable_and_vanished_files_are_messages(qtbot, open_window, import_music, tmp_path):
    make_music(tmp_path / "music", seconds=2.0)
    w = open_window(audio_backend="null-manual")
    import_music(w, tmp_path / "music")
    m = w.model
    broken = next(t for t in m.track_ids() if m.track_row(t).status == "error")
    w.transport.play_track(broken)
    level, text = w.notices.history[-1]
    assert level == "warning" and "cannot be played" in text
    # a file that disappears after the import: the player skips it with its reason
    ids = {m.track_row(t).title: t for t in m.track_ids()}
    gone = m.track_row(ids["Gale"]).path
    os.remove(gone)
    w.transport.play_track(ids["Gale"])
    p = w.playback.player
    p.backend.advance(0.3)
    p.sync()
    qtbot.waitUntil(lambda: any("Gale" in t and lvl == "warning" for lvl, t in w.notices.history), timeout=5000)
    text = next(t for lvl, t in w.notices.history if "Gale" in t)
    assert "Skipped" in text and "Traceback" not in text
    assert w.isVisible()


def test_the_playback_menu_shows_space_and_the_arrows(open_window):
    w = open_window()
    playback = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Playback")
    texts = {a.text().split("\t")[0]: a.text().split("\t")[1] for a in playback.actions() if "\t" in a.text()}
    assert texts["&Play / pause"] == "Space"
    assert texts["Seek forward 5 s"] == "→" and texts["Seek back 5 s"] == "←"
    assert "\t" not in w.actions.play.toolTip() and "Play / pause" in w.actions.play.toolTip()

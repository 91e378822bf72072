"""Playback, Up next and More like this through the window (null audio backend, manual clock)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from test_ui_support import make_music, make_window, settle, shoot

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, library, tmp_path):
    make_music(tmp_path / "music", seconds=3.0, broken=False)
    w = make_window(library, tmp_path, audio_backend="null-manual")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    with qtbot.waitSignal(w.importFinished, timeout=30000):
        w.import_folders([str(tmp_path / "music")])
    w.add_listener("alice")
    settle(qtbot, w)
    assert w.playback.available, w.playback.reason
    yield w
    w.close()


def advance(qtbot, w, seconds: float) -> None:
    """Move the null backend's clock and let the player's events reach the window."""
    p = w.playback.player
    p.backend.advance(seconds)
    p.sync()
    qtbot.wait(30)
    w.playback._sync()


def test_play_pause_seek_next_through_the_null_backend(qtbot, window, library):
    w = window
    m = w.model
    row = m.row_of(next(t for t in m.track_ids() if m.row_tuple(t)[1] == "Harbour"))
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
    assert abs(w.playback.player.volume - 0.4) < 1e-6 and abs(w.settings.volume - 0.4) < 1e-6
    shoot(w, "playing")


def test_up_next_follows_ratings_and_shows_reasons(qtbot, window, library):
    w = window
    m = w.model
    ids = {m.row_tuple(t)[1]: t for t in m.track_ids()}
    w.play_track(ids["Harbour"])
    settle(qtbot, w)
    before = [e.track_id for e in w.up_next.list.entries.entries]
    assert before and all(e.reason for e in w.up_next.list.entries.entries)
    # rate three songs: two by Mira Solé up, the first recommendation down
    disliked = before[0]
    w.rate([ids["Saudade"]], 5)
    w.rate([ids["Rio Lento"]], 5)
    w.rate([disliked], 1)
    settle(qtbot, w)
    qtbot.waitUntil(lambda: disliked not in [e.track_id for e in w.up_next.list.entries.entries], timeout=5000)
    after = w.up_next.list.entries.entries
    assert [e.track_id for e in after] != before
    assert all(e.reason for e in after)
    # the liked artist moves up
    mira = {ids[t] for t in ("Saudade", "Rio Lento", "Manhã")}
    assert len(mira & {e.track_id for e in after[:4]}) > len(mira & set(before[:4]))
    liked = next(e for e in after if e.track_id in mira)
    assert "Mira" in liked.reason or "5" in liked.reason, liked.reason
    shoot(w, "up-next")
    # another listener: Up next becomes theirs (alice's picks are replaced, nothing looks hand-queued)
    w.add_listener("bob")
    settle(qtbot, w)
    bob = w.up_next.list.entries.entries
    assert bob and not any(e.user_queued for e in bob)
    assert [e.track_id for e in bob] != [e.track_id for e in after]
    assert w.up_next.title.text() == "Up next for bob"


def test_up_next_reorder_remove_and_play_next(qtbot, window):
    w = window
    m = w.model
    ids = {m.row_tuple(t)[1]: t for t in m.track_ids()}
    w.play_track(ids["Harbour"])
    settle(qtbot, w)
    lst = w.up_next.list
    order = [e.track_id for e in lst.entries.entries]
    assert len(order) >= 4
    # drag (the list asks the queue to move: 0 → 2)
    lst.entries.moveRequested.emit(0, 2)
    settle(qtbot, w)
    moved = [e.track_id for e in lst.entries.entries]
    assert moved[:3] == [order[1], order[2], order[0]]
    # the moved entry is the listener's now: a refresh keeps it
    w.recs.refresh(force=True)
    settle(qtbot, w)
    assert order[0] in [e.track_id for e in lst.entries.entries]
    # Delete removes
    lst.setFocus()
    lst.setCurrentIndex(lst.entries.index(0))
    lst.selectionModel().select(lst.entries.index(0), lst.selectionModel().SelectionFlag.ClearAndSelect)
    gone = lst.entries.entry(0).track_id
    qtbot.keyClick(lst, Qt.Key_Delete)
    settle(qtbot, w)
    assert gone not in [e.track_id for e in lst.entries.entries][:1]
    assert gone not in [t.id for t in w.playback.upcoming()]
    # and the recommender does not bring it back
    w.recs.refresh(force=True)
    settle(qtbot, w)
    assert gone not in [t.id for t in w.playback.upcoming()]
    # play next: the selected library song goes first, marked as the listener's
    target = ids["Manhã"]
    w.view.select_track(target)
    w.play_selection_next()
    settle(qtbot, w)
    e0 = lst.entries.entry(0)
    assert e0.track_id == target and e0.user_queued
    # and a refresh of recommendations does not drop it
    w.recs.refresh(force=True)
    settle(qtbot, w)
    assert lst.entries.entry(0).track_id == target
    # songs dragged from the library onto Up next: dropped at the top, they play next
    from PySide6.QtCore import QModelIndex

    dragged = ids["Lanterns"]
    md = m.mimeData([m.index(m.row_of(dragged), 0)])
    lst.entries.dropMimeData(md, Qt.CopyAction, 0, 0, QModelIndex())
    settle(qtbot, w)
    assert lst.entries.entry(0).track_id == dragged and lst.entries.entry(0).user_queued


def test_more_like_this(qtbot, window):
    w = window
    m = w.model
    ids = {m.row_tuple(t)[1]: t for t in m.track_ids()}
    w.view.select_track(ids["Neon Avenue"])
    with qtbot.waitSignal(w.moreLikeThisChanged, timeout=5000):
        w.act_more_like.trigger()
    entries = w.more_like.list.entries.entries
    assert entries and all(e.reason for e in entries)
    assert ids["Neon Avenue"] not in [e.track_id for e in entries]
    assert "Neon Avenue" in w.more_like.title.text()
    assert w.right_tabs.currentWidget() is w.more_like
    # double-click plays one of them
    w.more_like.list.playRequested.emit(0)
    settle(qtbot, w)
    assert w.playback.current_track_id() == entries[0].track_id

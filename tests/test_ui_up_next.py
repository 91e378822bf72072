"""Up next and More like this (player/ui/up_next.py): the recommender's picks with their reasons, the
listener's own picks kept across refreshes, reorder, remove, play next, songs dragged in."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt

pytestmark = pytest.mark.gui


def _play_harbour(w, settle) -> dict[str, int]:
    """Play "Harbour"; the library's track ids by title."""
    m = w.model
    ids = {m.track_row(t).title: t for t in m.track_ids()}
    w.transport.play_track(ids["Harbour"])
    settle(w)
    return ids


def test_up_next_follows_ratings_and_shows_reasons(qtbot, playing_window, settle, shoot):
    w = playing_window
    ids = _play_harbour(w, settle)
    before = [e.track_id for e in w.up_next.list.entries.entries]
    assert before and all(e.reason for e in w.up_next.list.entries.entries)
    # rate three songs: two by Mira Solé up, the first recommendation down
    disliked = before[0]
    w.listeners.rate([ids["Saudade"]], 5)
    w.listeners.rate([ids["Rio Lento"]], 5)
    w.listeners.rate([disliked], 1)
    settle(w)
    qtbot.waitUntil(lambda: disliked not in [e.track_id for e in w.up_next.list.entries.entries], timeout=5000)
    after = w.up_next.list.entries.entries
    assert [e.track_id for e in after] != before
    assert all(e.reason for e in after)
    # the liked artist moves up
    mira = {ids[t] for t in ("Saudade", "Rio Lento", "Manhã")}
    assert len(mira & {e.track_id for e in after[:4]}) > len(mira & set(before[:4]))
    liked = next(e for e in after if e.track_id in mira)
    assert "Mira" in liked.reason or "5" in liked.reason, liked.reason
    shoot(w, "up-next-rated")
    # another listener: Up next becomes theirs (alice's picks are replaced, nothing looks hand-queued)
    w.listeners.add("bob")
    settle(w)
    bob = w.up_next.list.entries.entries
    assert bob and not any(e.user_queued for e in bob)
    assert [e.track_id for e in bob] != [e.track_id for e in after]
    assert w.up_next.title.text() == "Up next for bob"


def test_up_next_reorder_remove_and_play_next(qtbot, playing_window, settle):
    w = playing_window
    m = w.model
    ids = _play_harbour(w, settle)
    lst = w.up_next.list
    order = [e.track_id for e in lst.entries.entries]
    assert len(order) >= 4
    # drag (the list asks the queue to move: 0 → 2)
    lst.entries.moveRequested.emit(0, 2)
    settle(w)
    moved = [e.track_id for e in lst.entries.entries]
    assert moved[:3] == [order[1], order[2], order[0]]
    # the moved entry is the listener's now: a refresh keeps it
    w.recs.refresh(force=True)
    settle(w)
    assert order[0] in [e.track_id for e in lst.entries.entries]
    # Delete removes
    lst.setFocus()
    lst.setCurrentIndex(lst.entries.index(0))
    lst.selectionModel().select(lst.entries.index(0), lst.selectionModel().SelectionFlag.ClearAndSelect)
    gone = lst.entries.entry(0).track_id
    qtbot.keyClick(lst, Qt.Key_Delete)
    settle(w)
    assert gone not in [e.track_id for e in lst.entries.entries][:1]
    assert gone not in [t.id for t in w.playback.upcoming()]
    # and the recommender does not bring it back
    w.recs.refresh(force=True)
    settle(w)
    assert gone not in [t.id for t in w.playback.upcoming()]
    # play next: the selected library song goes first, marked as the listener's
    target = ids["Manhã"]
    w.view.select_track(target)
    w.queue.play_selection_next()
    settle(w)
    e0 = lst.entries.entry(0)
    assert e0.track_id == target and e0.user_queued
    # and a refresh of recommendations does not drop it
    w.recs.refresh(force=True)
    settle(w)
    assert lst.entries.entry(0).track_id == target
    # songs dragged from the library onto Up next: dropped at the top, they play next
    dragged = ids["Lanterns"]
    md = m.mimeData([m.index(m.row_of(dragged), 0)])
    lst.entries.dropMimeData(md, Qt.CopyAction, 0, 0, QModelIndex())
    settle(w)
    assert lst.entries.entry(0).track_id == dragged and lst.entries.entry(0).user_queued
    # dropped further down, they go exactly there
    before = [e.track_id for e in lst.entries.entries]
    other = ids["Low Tide"]
    md = m.mimeData([m.index(m.row_of(other), 0)])
    lst.entries.dropMimeData(md, Qt.CopyAction, 2, 0, QModelIndex())
    settle(w)
    now = [e.track_id for e in lst.entries.entries]
    assert now[:3] == before[:2] + [other] and lst.entries.entry(2).user_queued
    assert [t.id for t in w.playback.upcoming()][2] == other


def test_queued_by_you_only_on_songs_you_queued(qtbot, playing_window, settle):
    w = playing_window
    ids = _play_harbour(w, settle)
    assert not any(e.user_queued for e in w.up_next.list.entries.entries)
    w.transport.next_track()
    settle(w)
    w.transport.previous_track()
    settle(w)
    qtbot.waitUntil(lambda: w.playback.current_track_id() == ids["Harbour"], timeout=3000)
    settle(w)
    entries = w.up_next.list.entries.entries
    assert entries and not any(e.user_queued for e in entries)  # the song back after Previous is not "yours"
    pick = next(t for t in ids.values() if t not in {e.track_id for e in entries} and t != ids["Harbour"])
    w.queue.play_next([pick])
    settle(w)
    assert [e.track_id for e in w.up_next.list.entries.entries if e.user_queued] == [pick]


def test_more_like_this(qtbot, playing_window, settle):
    w = playing_window
    m = w.model
    ids = {m.track_row(t).title: t for t in m.track_ids()}
    w.view.select_track(ids["Neon Avenue"])
    with qtbot.waitSignal(w.queue.moreLikeThisChanged, timeout=5000):
        w.actions.more_like.trigger()
    entries = w.more_like.list.entries.entries
    assert entries and all(e.reason for e in entries)
    assert ids["Neon Avenue"] not in [e.track_id for e in entries]
    assert "Neon Avenue" in w.more_like.title.text()
    assert w.right_tabs.currentWidget() is w.more_like
    # double-click plays one of them
    w.more_like.list.playRequested.emit(0)
    settle(w)
    assert w.playback.current_track_id() == entries[0].track_id


def test_the_queue_survives_closing_the_window(qtbot, playing_window, library, tmp_path, settle):
    from conftest import make_window

    w = playing_window
    ids = _play_harbour(w, settle)
    w.queue.play_next([ids["Gale"]])
    settle(w)
    p = w.playback.player
    p.backend.advance(1.25)
    p.sync()
    qtbot.wait(30)
    w.playback._sync()
    queue = [t.id for t in w.playback.upcoming()]
    assert queue[0] == ids["Gale"]
    rec_reason = {e.track_id: e.reason for e in w.up_next.list.entries.entries}
    w.close()

    w2 = make_window(library, tmp_path, audio_backend="null-manual")
    qtbot.addWidget(w2)
    w2.show()
    settle(w2)
    try:
        assert w2.playback.current_track_id() == ids["Harbour"]
        assert w2.playback.state() == "stopped"
        assert abs(w2.playback.position() - 1.25) < 0.1
        # your pick comes first as before; the recommender's songs after it (it may refresh them)
        up = [t.id for t in w2.playback.upcoming()]
        assert up[0] == ids["Gale"] and len(up) >= len(queue) - 1
        entries = w2.up_next.list.entries.entries
        assert entries[0].track_id == ids["Gale"] and entries[0].user_queued
        mine = [e.track_id for e in entries if e.user_queued]
        assert mine == [e for e in mine if e == ids["Gale"]] and mine
        assert all(e.reason for e in entries if not e.user_queued)
        assert set(rec_reason) & {e.track_id for e in entries[1:]}
        assert w2.now_playing.title.text() == "Harbour"
        w2.view.setFocus()
        qtbot.keyClick(w2.view, Qt.Key_Space)  # resumes that song where it was, not Up next's first
        qtbot.waitUntil(lambda: w2.playback.state() == "playing", timeout=3000)
        assert w2.playback.current_track_id() == ids["Harbour"]
        assert w2.playback.position() >= 1.2
    finally:
        w2.close()

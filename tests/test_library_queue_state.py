"""Keeping the play queue in the library: per listener, songs the library lost left out."""

from __future__ import annotations

from player.library import queue_state
from player.library.queue_state import QueueState


def test_save_load_per_listener_and_forget(library, music_dir):
    from player.library.scan import scan

    scan(library, [music_dir])
    ids = [int(r[0]) for r in library.db.query("SELECT id FROM tracks ORDER BY id")]
    assert len(ids) >= 4
    queue_state.save(library, 1, QueueState(ids[:3], 1, 12.5, [ids[2]], {ids[2]: "like Loud"}))
    queue_state.save(library, None, QueueState([ids[3]], 0, 0.0))
    got = queue_state.load(library, 1)
    assert got.track_ids == ids[:3] and got.index == 1 and got.position == 12.5
    assert got.recommended == [ids[2]] and got.reasons == {ids[2]: "like Loud"}
    assert queue_state.load(library, None).track_ids == [ids[3]]
    assert queue_state.load(library, 2) is None
    queue_state.save(library, 1, None)
    assert queue_state.load(library, 1) is None


def test_unknown_songs_are_left_out_and_the_index_follows(library, music_dir):
    from player.library.scan import scan

    scan(library, [music_dir])
    ids = [int(r[0]) for r in library.db.query("SELECT id FROM tracks ORDER BY id")]
    gone = max(ids) + 100
    queue_state.save(library, 1, QueueState([gone, ids[0], ids[1]], 2, 30.0))
    got = queue_state.load(library, 1)
    assert got.track_ids == [ids[0], ids[1]] and got.index == 1 and got.position == 30.0
    queue_state.save(library, 1, QueueState([ids[0], gone, ids[1]], 1, 30.0))
    got = queue_state.load(library, 1)  # the playing song is gone: the next one, from its start
    assert got.track_ids == [ids[0], ids[1]] and got.index == 1 and got.position == 0.0
    library.db.set_setting("queue.state.1", "{not json")
    assert queue_state.load(library, 1) is None

"""Saved and smart playlists in a real library file: order, repeats, missing files, names, versions."""

from __future__ import annotations

import sqlite3

import pytest

from player.library import Library
from player.library.playlists import PlaylistError, Playlists
from player.library.scan import scan
from player.library.smart_parse import SmartQueryError


@pytest.fixture
def lib(library, music_dir):
    scan(library, [music_dir])
    library.music_dir = music_dir
    return library


def ids(lib):
    return [t.id for t in lib.tracks()]


def titles(pl, ref, **kw):
    return [e.track.title for e in pl.entries(ref, **kw)]


def test_create_add_insert_move_remove_keep_positions(lib):
    pl = Playlists(lib)
    a, b, c, d, e = ids(lib)
    road = pl.create("Road trip")
    assert road.count == 0 and not road.is_smart
    assert pl.add(road.id, [a, b, a]) == [0, 1, 2]  # the same song twice is allowed
    assert pl.add("road TRIP", [c], position=0) == [0]  # by name, case-insensitive; inserted at the top
    assert pl.track_ids(road.id) == [c, a, b, a]
    pl.move(road.id, 0, 3)
    assert pl.track_ids(road.id) == [a, b, a, c]
    pl.move(road.id, 3, 1)
    assert pl.track_ids(road.id) == [a, c, b, a]
    pl.move_many(road.id, [0, 2], 2)  # a drag of two rows, kept in their order
    assert pl.track_ids(road.id) == [c, a, a, b]
    assert pl.remove(road.id, [0, 3]) == 2
    entries = pl.entries(road.id)
    assert [en.position for en in entries] == [0, 1]
    pl.add(road.id, [d, e], position=1)
    assert pl.track_ids(road.id) == [a, d, e, a]
    # positions are contiguous in the table itself
    rows = lib.db.query("SELECT position FROM playlist_entries WHERE playlist_id = ? ORDER BY position", (road.id,))
    assert [r[0] for r in rows] == [0, 1, 2, 3]


def test_move_many_lands_the_selection_at_the_target(lib):
    pl = Playlists(lib)
    a, b, c, d, e = ids(lib)
    p = pl.create("sel", track_ids=[a, b, c, d, e])
    pl.move_many(p.id, [0, 2], 1)  # rest: b d e -> b [a c] d e
    assert pl.track_ids(p.id) == [b, a, c, d, e]
    pl.move_many(p.id, [4], 0)
    assert pl.track_ids(p.id) == [e, b, a, c, d]
    pl.move(p.id, 2, 2)  # nothing changes
    assert pl.track_ids(p.id) == [e, b, a, c, d]


def test_entries_carry_track_rows_and_missing_files_stay(lib, music_dir):
    pl = Playlists(lib)
    tracks = {t.title: t for t in lib.tracks()}
    loud, blue = tracks["Loud"], tracks["Blue"]
    p = pl.create("mix", track_ids=[loud.id, blue.id, loud.id])
    gone = music_dir / "jazz" / "Blue.flac"
    kept = gone.read_bytes()
    gone.unlink()
    scan(lib, [music_dir])
    entries = pl.entries(p.id)
    assert [en.track.title for en in entries] == ["Loud", "Blue", "Loud"]
    assert entries[1].track.status == "missing"
    listed = {x.name: x for x in pl.list()}["mix"]
    assert listed.count == 3 and listed.missing == 1 and listed.duration > 0
    gone.write_bytes(kept)  # the file comes back: the entry plays again, same track id
    scan(lib, [music_dir])
    entries = pl.entries(p.id)
    assert entries[1].track.id == blue.id and entries[1].track.status == "ok"


def test_names_are_unique_case_insensitively_and_checked(lib):
    pl = Playlists(lib)
    pl.create("Chill")
    for bad, words in [("chill", "already exists"), ("  CHILL ", "already exists"), ("", "needs a name"),
                       ("x" * 201, "at most 200"), ("a\x1bb", "control characters")]:
        with pytest.raises(PlaylistError, match=words):
            pl.create(bad)
    pl.create("Ünïcode")
    with pytest.raises(PlaylistError, match="already exists"):
        pl.create("üNÏCODE")
    other = pl.create("Other")
    with pytest.raises(PlaylistError, match="already exists"):
        pl.rename(other.id, "chill")
    assert pl.rename(other.id, "OTHER").name == "OTHER"  # its own name in another case is fine
    with pytest.raises(PlaylistError, match="no playlist called 'nope'"):
        pl.get("nope")


def test_bad_positions_and_tracks_change_nothing(lib):
    pl = Playlists(lib)
    a, b, *_ = ids(lib)
    p = pl.create("p", track_ids=[a, b])
    v = pl.version()
    for call, words in [
        (lambda: pl.add(p.id, [a], position=5), "outside the playlist"),
        (lambda: pl.add(p.id, [a, 99999]), "no track with id 99999"),
        (lambda: pl.add(p.id, ["x"]), "whole number"),
        (lambda: pl.remove(p.id, [2]), "no song at position 3"),
        (lambda: pl.move(p.id, 0, 2), "outside the playlist"),
        (lambda: pl.move(p.id, -1, 0), "no song at position 0"),
    ]:
        with pytest.raises(PlaylistError, match=words):
            call()
    assert pl.track_ids(p.id) == [a, b] and pl.version() == v


def test_duplicate_rename_delete_and_version(lib):
    pl = Playlists(lib)
    a, b, c, *_ = ids(lib)
    v0 = pl.version()
    p = pl.create("Mix", track_ids=[a, b, c])
    v1 = pl.version()
    assert v1 > v0
    copy = pl.duplicate(p.id)
    copy2 = pl.duplicate(p.id)
    assert (copy.name, copy2.name) == ("Mix copy", "Mix copy 2")
    assert pl.track_ids(copy.id) == [a, b, c]
    pl.remove(copy.id, [0])
    assert pl.track_ids(p.id) == [a, b, c]  # the copy is independent
    pl.rename(p.id, "Best")
    assert pl.get("best").id == p.id and pl.version() > v1
    pl.delete("best")
    assert [x.name for x in pl.list()] == ["Mix copy", "Mix copy 2"]
    assert len(lib.tracks()) == 5  # tracks are never deleted with a playlist
    # another connection (another process) sees the counter move
    other = Library(lib.path)
    try:
        before = Playlists(other).version()
        pl.create("new")
        assert Playlists(other).version() == before + 1
    finally:
        other.close()


def test_smart_playlist_is_live_and_not_editable_by_hand(lib):
    pl = Playlists(lib)
    ann = lib.add_user("ann")
    tracks = {t.title: t for t in lib.tracks()}
    best = pl.create("Best", query="stars>=4 sort:-stars")
    assert best.is_smart and best.count is None
    assert pl.track_ids(best.id, user_id=ann.id) == []
    lib.rate(ann.id, tracks["Blue"].id, 4)
    lib.rate(ann.id, tracks["Loud"].id, 5)
    assert titles(pl, best.id, user_id=ann.id) == ["Loud", "Blue"]  # follows the ratings when read
    lib.rate(ann.id, tracks["Loud"].id, 2)
    assert titles(pl, best.id, user_id=ann.id) == ["Blue"]
    with pytest.raises(PlaylistError, match="smart playlist"):
        pl.add(best.id, [tracks["Quiet"].id])
    with pytest.raises(SmartQueryError, match="after .stars>=. at column 8"):
        pl.set_query(best.id, "stars>=x")
    assert pl.get(best.id).query == "stars>=4 sort:-stars"  # a mistake changed nothing
    pl.set_query(best.id, 'artist:"the band"')
    assert sorted(titles(pl, best.id)) == ["Loud", "Quiet"]
    with pytest.raises(SmartQueryError, match="expected a number after 'year>' at column 6"):
        pl.create("bad", query="year>")
    assert pl.find("bad") is None
    assert pl.duplicate(best.id).query == 'artist:"the band"'


def test_a_write_is_one_transaction(lib):
    """A failure in the middle of an insert leaves the playlist as it was."""
    pl = Playlists(lib)
    a, b, c, *_ = ids(lib)
    p = pl.create("p", track_ids=[a, b])
    with pytest.raises(sqlite3.IntegrityError):
        with lib.db.transaction() as conn:
            Playlists._insert(conn, p.id, 0, [c], 0.0)
            conn.execute("INSERT INTO playlist_entries(playlist_id, position, track_id, added_at) VALUES (?, 0, ?, 0)",
                         (p.id, a))
    assert pl.track_ids(p.id) == [a, b]

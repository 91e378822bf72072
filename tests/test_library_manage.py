"""Managing the library: listeners renamed and deleted, tracks removed (and imported again explicitly),
files imported one by one, and how untagged songs are shown and grouped. A real SQLite library, real
files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from audiogen import write_audio
from test_library_covers import embed, encoded

from player.library import LibraryError
from player.library.playlists import Playlists
from player.library.scan import import_files, scan
from player.library.store import (UNKNOWN_ALBUM, UNKNOWN_ARTIST, album_key, album_names, display_album,
                                  display_artist, display_title)


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))


def by_name(library):
    return {os.path.basename(t.path): t for t in library.tracks()}


# -- listeners --------------------------------------------------------------------------------------
def test_rename_a_listener_keeps_their_ratings(library, music_dir):
    scan(library, [music_dir])
    ann = library.add_user("ann")
    library.add_user("bob")
    first = library.tracks()[0]
    library.rate(ann.id, first.id, 4)
    renamed = library.rename_user("ANN", "Annie")
    assert renamed.id == ann.id and renamed.name == "Annie"
    assert library.ratings(library.user("annie").id) == {first.id: 4}
    assert library.rename_user("annie", "ANNIE").name == "ANNIE"  # case alone
    with pytest.raises(LibraryError, match="a listener called 'bob' already exists"):
        library.rename_user("ANNIE", " bob ")
    with pytest.raises(LibraryError, match="unknown listener 'nobody'"):
        library.rename_user("nobody", "x")
    with pytest.raises(LibraryError, match="control characters"):
        library.rename_user("ANNIE", "a\x1bb")
    with pytest.raises(LibraryError, match="needs a name"):
        library.rename_user("ANNIE", "  ")
    assert [u.name for u in library.users()] == ["ANNIE", "bob"]


def test_delete_a_listener_with_their_ratings_and_plays(library, music_dir):
    scan(library, [music_dir])
    ann, bob = library.add_user("ann"), library.add_user("bob")
    ids = [t.id for t in library.tracks()]
    for i in ids[:3]:
        library.rate(ann.id, i, 5)
        library.record_play(ann.id, i, started_at=1.0, seconds_played=30, skipped=False)
    library.rate(bob.id, ids[0], 2)
    library.record_play(bob.id, ids[0], started_at=2.0, seconds_played=3, skipped=True)
    assert library.delete_user("Ann") == {"ratings": 3, "plays": 3}
    assert [u.name for u in library.users()] == ["bob"]
    assert library.db.query_one("SELECT COUNT(*) FROM ratings WHERE user_id = ?", (ann.id,))[0] == 0
    assert library.db.query_one("SELECT COUNT(*) FROM plays WHERE user_id = ?", (ann.id,))[0] == 0
    assert library.ratings(bob.id) == {ids[0]: 2} and len(library.plays(bob.id)) == 1
    with pytest.raises(LibraryError, match="unknown listener"):
        library.delete_user("ann")


# -- removing tracks --------------------------------------------------------------------------------
def test_removed_tracks_stay_on_disk_and_out_of_folder_scans(library, music_dir):
    scan(library, [music_dir])
    ann = library.add_user("ann")
    tracks = by_name(library)
    loud, blue, quiet = tracks["01 - Loud.mp3"], tracks["Blue.flac"], tracks["02 - Quiet.ogg"]
    library.rate(ann.id, loud.id, 5)
    library.rate(ann.id, blue.id, 3)
    library.record_play(ann.id, loud.id, started_at=1.0, seconds_played=30, skipped=False)
    lists = Playlists(library)
    mix = lists.create("mix", track_ids=[quiet.id, loud.id, blue.id, loud.id, quiet.id])

    assert library.remove_tracks([loud.id, blue.id, 99999]) == 2
    assert library.track(loud.id) is None and library.track(blue.id) is None
    assert os.path.exists(loud.path) and os.path.exists(blue.path)  # only the library forgets them
    assert library.ratings(ann.id) == {} and library.plays(ann.id) == []
    assert lists.track_ids(mix.id) == [quiet.id, quiet.id]
    assert [e.position for e in lists.entries(mix.id)] == [0, 1]  # the playlist closed up
    assert sorted(library.removed_files()) == sorted([loud.path, blue.path])

    report = scan(library, [music_dir])
    assert (report.added, report.unchanged, report.left_out, report.missing) == (0, 3, 2, 0)
    assert "2 removed from the library earlier, left out" in report.summary()
    assert library.track_count() == 3

    # Imported again explicitly: a new track, with the ratings kept for it.
    again = import_files(library, [loud.path])
    assert again.added == 1 and not again.failed
    back = library.track_by_path(loud.path)
    assert back.title == "Loud" and again.track_ids == {loud.path: back.id}
    assert library.ratings(ann.id) == {back.id: 5}
    assert library.removed_files() == [blue.path]
    assert scan(library, [music_dir]).left_out == 1


def test_removing_without_keeping_ratings_forgets_them(library, music_dir):
    scan(library, [music_dir])
    ann = library.add_user("ann")
    blue = by_name(library)["Blue.flac"]
    library.rate(ann.id, blue.id, 4)
    library.remove_tracks([blue.id], keep_ratings=False)
    import_files(library, [blue.path])
    assert library.ratings(ann.id) == {}
    assert library.db.query_one("SELECT COUNT(*) FROM removed_ratings")[0] == 0


def test_a_removed_tracks_cover_goes_when_no_track_shows_it(library, tmp_path):
    root = tmp_path / "m"
    art, other = encoded(120, 120, 1), encoded(60, 60, 2)
    a = embed(write_audio(root / "a.mp3", seconds=0.3), [(3, art)])
    embed(write_audio(root / "b.mp3", seconds=0.3), [(3, art)])
    embed(write_audio(root / "c.mp3", seconds=0.3), [(3, other)])
    scan(library, [root])
    ids = {Path(t.path).name: t.id for t in library.tracks()}
    assert library.db.query_one("SELECT COUNT(*) FROM covers")[0] == 2
    library.remove_tracks([ids["a.mp3"], ids["c.mp3"]])
    assert library.db.query_one("SELECT COUNT(*) FROM covers")[0] == 1  # b still shows the shared one
    import_files(library, [a])
    assert library.db.query_one("SELECT COUNT(*) FROM covers")[0] == 1


# -- importing files one by one ---------------------------------------------------------------------
def test_import_files_reports_each_path_as_given(library, tmp_path, music_dir):
    link = tmp_path / "link"
    os.symlink(music_dir, link)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.mp3").write_bytes(b"not audio at all" * 100)
    given = [str(link / "jazz" / "Blue.flac"), str(tmp_path / "notes.txt"), str(tmp_path / "gone.ogg"),
             str(tmp_path / "broken.mp3"), str(music_dir / "jazz"), str(music_dir / "voice.opus")]
    seen = []
    report = import_files(library, given, lambda done, total, path: seen.append((done, total)))
    assert report.added == 2 and seen[-1] == (3, 3)
    failed = dict(report.failed)
    assert failed == {
        given[1]: "not a music file (.txt)",
        given[2]: "no such file",
        given[3]: "not an audio file FFmpeg or libsndfile can read",
        given[4]: "a folder, not a song (import folders with a scan)",
    }
    blue = library.track_by_path(music_dir / "jazz" / "Blue.flac")
    assert blue.path == str(music_dir / "jazz" / "Blue.flac")  # stored under its real path
    assert report.track_ids[given[0]] == blue.id and given[5] in report.track_ids
    assert library.track_by_path(tmp_path / "broken.mp3").status == "error"  # recorded as a scan records it
    assert library.track_by_path(tmp_path / "notes.txt") is None
    again = import_files(library, given)
    assert (again.added, again.unchanged) == (0, 2)
    assert again.still_failing == [(given[3], "not an audio file FFmpeg or libsndfile can read")]
    assert again.track_ids[given[0]] == blue.id


# -- how untagged songs are shown -------------------------------------------------------------------
def test_untagged_soundtracks_are_two_albums_named_after_their_folders(library, tmp_path):
    games = tmp_path / "games"
    for game in ("nexuiz", "xonotic"):
        for i in (1, 2):
            write_audio(games / game / "music" / f"track{i}.ogg", seconds=0.3)
    write_audio(tmp_path / "Band" / "Album" / "CD1" / "01.flac", seconds=0.3)
    scan(library, [tmp_path])
    tracks = library.tracks()
    shown = sorted((display_album(t), display_title(t), display_artist(t)) for t in tracks)
    assert shown == [("Album", "01", "Band"),
                     ("nexuiz", "track1", "games"), ("nexuiz", "track2", "games"),
                     ("xonotic", "track1", "games"), ("xonotic", "track2", "games")]
    keys = {album_key(t) for t in tracks}
    assert len(keys) == 3  # the two games' "track1" do not interleave
    names = album_names(tracks)
    assert sorted(names.values()) == ["Album", "nexuiz", "xonotic"]


def test_album_names_group_case_insensitively_with_the_most_common_spelling():
    rows = [{"path": f"/m/{folder}/{i}.ogg", "title": None, "album": album, "artist": None, "albumartist": None}
            for i, (folder, album) in enumerate([("a", "Nexuiz"), ("a", "nexuiz"), ("b", "Nexuiz"),
                                                 ("c", "NEXUIZ  "), ("d", "Other")])]
    assert len({album_key(r) for r in rows[:4]}) == 1 and album_key(rows[4]) != album_key(rows[0])
    assert sorted(album_names(rows).values()) == ["Nexuiz", "Other"]
    # an album artist tells two albums of one name apart
    alike = dict(rows[0], albumartist="Someone")
    assert album_key(alike) != album_key(rows[0])
    # two folders of one name are two albums when untagged
    assert album_key({"path": "/x/Music/a.ogg"}) != album_key({"path": "/y/Music/a.ogg"})


def test_display_rules_fall_back_step_by_step():
    tagged = {"path": "/m/f/a.ogg", "title": "Song", "album": "Record", "artist": "Singer", "albumartist": "Band"}
    assert (display_title(tagged), display_album(tagged), display_artist(tagged)) == ("Song", "Record", "Singer")
    assert display_artist(dict(tagged, artist=" ")) == "Band"
    bare = {"path": "/a.ogg", "title": None, "album": None, "artist": None}
    assert (display_title(bare), display_album(bare), display_artist(bare)) == ("a", UNKNOWN_ALBUM, UNKNOWN_ARTIST)
    assert display_artist({"path": "/top/a.ogg"}) == UNKNOWN_ARTIST and display_album({"path": "/top/a.ogg"}) == "top"


def test_a_library_from_before_warnings_and_removals_is_upgraded(tmp_path, monkeypatch):
    from player.library import Library
    from player.library import db as db_mod

    before = [name for name, _sql in db_mod.MIGRATIONS].index("0004_warnings_and_removed")
    with monkeypatch.context() as m:  # the library as the version before made it
        m.setattr(db_mod, "MIGRATIONS", db_mod.MIGRATIONS[:before])
        m.setattr(db_mod, "SCHEMA_VERSION", before)
        with Library(tmp_path / "old.db") as old, old.db.transaction() as c:
            assert "warning" not in [row[1] for row in c.execute("PRAGMA table_info(tracks)")]
            c.execute("INSERT INTO tracks(path_raw, path, title, added_at, updated_at) VALUES (?, ?, 'Old', 0, 0)",
                      (os.fsencode(tmp_path / "x.mp3"), str(tmp_path / "x.mp3")))
    with Library(tmp_path / "old.db") as lib:
        assert lib.db.schema_version() == db_mod.SCHEMA_VERSION
        (track,) = lib.tracks()
        assert track.warning is None and track.as_json()["warning"] is None
        assert lib.remove_tracks([track.id]) == 1 and lib.removed_files() == [str(tmp_path / "x.mp3")]

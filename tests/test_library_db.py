"""The database: migrations, transactions, listeners, ratings, plays, durability after kill -9."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from audiogen import write_audio

from player.library import Database, DatabaseError, Library, LibraryError
from player.library.db import MIGRATIONS, SCHEMA_VERSION

ROOT = Path(__file__).resolve().parent.parent


def test_fresh_database_is_migrated_in_wal_mode(db_path):
    db = Database(db_path)
    assert db.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    assert db.query_one("PRAGMA journal_mode")[0] == "wal"
    assert db.query_one("PRAGMA foreign_keys")[0] == 1
    tables = {r[0] for r in db.query("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"tracks", "users", "ratings", "plays", "analysis", "track_labels", "settings"} <= tables
    db.close()
    # Reopening does not re-run migrations.
    db = Database(db_path)
    assert db.schema_version() == SCHEMA_VERSION
    db.close()


def test_newer_schema_is_refused_in_words(db_path):
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(DatabaseError, match="newer version"):
        Database(db_path)


def test_not_a_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "junk.db"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(DatabaseError, match="not a readable library"):
        Database(bad)


def test_tuples_reads_plain_rows_and_says_what_went_wrong_in_words(library):
    """The bulk reader (the window's snapshots, the recommender, smart playlists) gives plain tuples, and
    a query SQLite refuses is the player's error, not sqlite3's."""
    library.add_user("ada")
    rows = library.db.tuples("SELECT name FROM users").fetchall()
    assert rows == [("ada",)] and type(rows[0]) is tuple
    with pytest.raises(DatabaseError) as err:
        library.db.tuples("SELECT * FROM no_such_table")
    assert not isinstance(err.value, sqlite3.Error) and "sqlite3" not in str(err.value)


def test_transaction_rolls_back_everything_on_error(library):
    with pytest.raises(RuntimeError):
        with library.db.transaction() as c:
            c.execute("INSERT INTO users(name, created_at) VALUES ('a', 0)")
            with library.db.transaction() as inner:  # joins the outer one
                inner.execute("INSERT INTO users(name, created_at) VALUES ('b', 0)")
            raise RuntimeError("boom")
    assert library.users() == []


def test_users_and_ratings(library, music_dir):
    from player.library.scan import scan

    scan(library, [music_dir])
    ann = library.add_user("Ann")
    with pytest.raises(LibraryError, match="already exists"):
        library.add_user("ann")
    with pytest.raises(LibraryError, match="unknown listener"):
        library.user("bob")
    assert library.user("ANN").id == ann.id
    track = library.tracks()[0]
    library.rate(ann.id, track.id, 4)
    library.rate(ann.id, track.id, 2)
    assert library.ratings(ann.id) == {track.id: 2}
    for bad in (6, -1, "x"):
        with pytest.raises(LibraryError, match="stars"):
            library.rate(ann.id, track.id, bad)
    with pytest.raises(LibraryError, match="no track"):
        library.rate(ann.id, 99999, 3)
    library.rate(ann.id, track.id, 0)
    assert library.ratings(ann.id) == {}


def test_resolve_track_by_id_and_path(library, music_dir):
    from player.library.scan import scan

    scan(library, [music_dir])
    t = library.tracks()[0]
    assert library.resolve_track(str(t.id)) == t
    assert library.resolve_track(t.path) == t
    with pytest.raises(LibraryError):
        library.resolve_track("/no/such/file.mp3")
    with pytest.raises(LibraryError, match="no track with id"):
        library.resolve_track("424242")


def test_full_disk_is_reported_in_words_and_loses_nothing(tmp_path, music_dir):
    """A tiny size cap stands in for a full disk: the write fails in words, earlier data is intact."""
    from player.library.scan import scan

    lib = Library(tmp_path / "lib.db")
    scan(lib, [music_dir])
    user = lib.add_user("ann")
    first = lib.tracks()[0]
    lib.rate(user.id, first.id, 5)
    pages = lib.db.query_one("PRAGMA page_count")[0]
    lib.db.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(DatabaseError, match="full"):
        with lib.db.transaction() as c:
            c.executemany("INSERT INTO settings(key, value) VALUES (?, ?)",
                          [(f"k{i}", "x" * 4000) for i in range(200)])
    assert lib.ratings(user.id) == {first.id: 5}
    assert lib.db.integrity_check() == "ok"
    lib.close()


KILL_SCRIPT = """
import sys, time
from player.library import Library
from player.library import scan as scan_mod
lib = Library(sys.argv[1])
real = scan_mod.probe
def slow(path):
    time.sleep(0.004)
    return real(path)
scan_mod.probe = slow
scan_mod.BATCH = 20
print("started", flush=True)
scan_mod.scan(lib, [sys.argv[2]], workers=1)
print("finished", flush=True)
"""


@pytest.mark.slow
def test_kill_during_scan_leaves_a_sound_database_and_rescan_completes(tmp_path):
    root = tmp_path / "music"
    write_audio(root / "seed.wav", seconds=0.3)
    data = (root / "seed.wav").read_bytes()
    for i in range(400):
        (root / f"copy{i:03d}.wav").write_bytes(data)
    db = tmp_path / "lib.db"
    lib = Library(db)
    user = lib.add_user("ann")
    lib.close()
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(db), str(root)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "started"
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until some batches are committed, then kill -9
        time.sleep(0.1)
        try:
            n = sqlite3.connect(db, timeout=5).execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
        except sqlite3.OperationalError:
            continue
        if n >= 40:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    partial = conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
    conn.close()
    assert 0 < partial < 401
    lib = Library(db)
    from player.library.scan import scan

    report = scan(lib, [root])
    assert lib.track_count() == 401 and report.unchanged == partial
    assert lib.users() == [user]
    lib.close()


def test_ogg_vorbis_results_of_the_old_reader_are_computed_again(tmp_path, monkeypatch):
    """A library from before the Vorbis reader was fixed: its Ogg Vorbis tracks' analysis and loudness
    are dropped by the migration (so the background passes redo them); other formats' results, every
    rating and the tracks themselves stay."""
    import os

    from player.library import Library
    from player.library import db as db_mod

    before = [name for name, _sql in db_mod.MIGRATIONS].index("0006_vorbis_read_whole")
    with monkeypatch.context() as m:
        m.setattr(db_mod, "MIGRATIONS", db_mod.MIGRATIONS[:before])
        m.setattr(db_mod, "SCHEMA_VERSION", before)
        with Library(tmp_path / "old.db") as old:
            ann = old.add_user("ann")
            with old.db.transaction() as c:
                for name, fmt in (("a.ogg", "ogg"), ("b.flac", "flac"), ("c.opus", "opus")):
                    path = str(tmp_path / name)
                    tid = c.execute("INSERT INTO tracks(path_raw, path, title, format, added_at, updated_at) "
                                    "VALUES (?, ?, ?, ?, 0, 0)", (os.fsencode(path), path, name, fmt)).lastrowid
                    c.execute("INSERT INTO analysis(track_id, model_version, analysed_at, status) "
                              "VALUES (?, 'm@1', 0, 'ok')", (tid,))
                    c.execute("INSERT INTO track_labels(track_id, label, count, probability) VALUES (?, 'x', 1, 0.5)",
                              (tid,))
                    c.execute("INSERT INTO loudness(track_id, measured_at, status, integrated) VALUES (?, 0, 'ok', -14)",
                              (tid,))
                    c.execute("INSERT INTO ratings(user_id, track_id, stars, rated_at) VALUES (?, ?, 4, 0)",
                              (ann.id, tid))
    with Library(tmp_path / "old.db") as lib:
        assert lib.db.schema_version() == SCHEMA_VERSION
        c = lib.db.conn
        formats = lambda table: sorted(r[0] for r in c.execute(  # noqa: E731
            f"SELECT t.format FROM {table} x JOIN tracks t ON t.id = x.track_id"))
        assert formats("analysis") == formats("loudness") == formats("track_labels") == ["flac", "opus"]
        assert formats("ratings") == ["flac", "ogg", "opus"] and len(lib.tracks()) == 3

"""A damaged library, a full disk, backups: said in words, writes refused, nothing lost that can be
read, and 'db check | backup | recover' do what they say. Real SQLite files damaged on purpose."""

import contextlib
import io
import os
import re
import shutil
import sqlite3
import time

import pytest
from audiogen import write_audio

from player.cli import main
from player.errors import CorruptLibraryError, DiskFullError
from player.library import Library
from player.library import db as db_mod
from player.library import maintenance
from player.library import scan as scan_mod
from player.library.scan import scan

PAGE = 4096


def cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def sound_library(tmp_path_factory):
    """300 tracks, a listener with two ratings; the file is copied by each test before damaging it."""
    tmp = tmp_path_factory.mktemp("sound")
    music = tmp / "music"
    seed = write_audio(music / "seed.wav", seconds=0.2).read_bytes()
    for i in range(300):
        (music / f"t{i:03d}.wav").write_bytes(seed)
    db = tmp / "lib.db"
    with Library(db) as lib:
        scan(lib, [music])
        ann = lib.add_user("ann")
        lib.rate(ann.id, 1, 5)
        lib.rate(ann.id, 2, 3)
    return db, music


def damaged_copy(sound_library, tmp_path, needle=b"t150.wav"):
    """A copy whose page holding ``needle`` (a tracks page) is overwritten with 4 KB of garbage."""
    src, music = sound_library
    db = tmp_path / "lib.db"
    shutil.copy(src, db)
    data = db.read_bytes()
    page = data.index(needle) // PAGE
    assert page > 0
    with open(db, "r+b") as f:
        f.seek(page * PAGE)
        f.write(os.urandom(PAGE))
    return db, music


def ratings_of(db):
    conn = sqlite3.connect(db)
    try:
        return sorted(conn.execute("SELECT user_id, track_id, stars FROM ratings").fetchall())
    finally:
        conn.close()


def test_every_command_on_a_damaged_library_is_one_line_and_writes_nothing(sound_library, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))
    db, music = damaged_copy(sound_library, tmp_path)
    before = ratings_of(db)
    commands = [("tracks",), ("tracks", "--json"), ("show", "150"), ("next", "--user", "ann"), ("similar", "1"),
                ("export", "--labels", tmp_path / "l.tsv"), ("scan", music, "-q"), ("rate", "--user", "ann", "1", "1"),
                ("users", "add", "bob")]
    results = {}
    for args in commands:
        code, out, err = cli(*args, "--db", db)
        results[args[0] if args[0] != "tracks" else " ".join(map(str, args))] = code
        if code:
            assert len(err.strip().splitlines()) == 1, (args, err)
            assert "malformed" not in err and "Traceback" not in err
            assert "damaged" in err and "db recover" in err, (args, err)
    assert results["tracks"] == 3 and results["tracks --json"] == 3  # it reads every track: it meets the damage
    for writer in ("scan", "rate", "users"):
        assert results[writer] == 3, results
    assert ratings_of(db) == before


def test_a_read_that_meets_damage_stops_later_writes(sound_library, tmp_path):
    db, _music = damaged_copy(sound_library, tmp_path)
    database = db_mod.Database(db, backups=False)
    database._checked = True  # as if the check before the first write had not seen it
    with pytest.raises(CorruptLibraryError, match="damaged"):
        database.query("SELECT * FROM tracks")
    with pytest.raises(CorruptLibraryError):
        with database.transaction() as c:
            c.execute("INSERT INTO users(name, created_at) VALUES ('x', 0)")
    database.close()


def test_not_a_database_is_one_line(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(8192))
    code, _out, err = cli("tracks", "--db", junk)
    assert code == 3 and "is not a readable library database" in err and len(err.strip().splitlines()) == 1


def test_db_check_backup_and_recover(sound_library, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))
    src, _music = sound_library
    sound = tmp_path / "sound" / "lib.db"
    sound.parent.mkdir()
    shutil.copy(src, sound)
    code, out, _ = cli("db", "check", "--db", sound)
    assert code == 0 and "is sound" in out and "tracks: sound (301 rows readable)" in out
    code, out, _ = cli("db", "backup", tmp_path / "copy.db", "--db", sound)
    assert code == 0 and ratings_of(tmp_path / "copy.db") == ratings_of(sound)
    code, _out, err = cli("db", "backup", tmp_path / "copy.db", "--db", sound)
    assert code == 2 and "already exists" in err

    db, _music = damaged_copy(sound_library, tmp_path)
    code, out, _ = cli("db", "check", "--db", db)
    assert code == 3 and "is damaged" in out and re.search(r"tracks: DAMAGED", out), out
    before = db.read_bytes()
    code, out, err = cli("db", "recover", tmp_path / "rescued.db", "--db", db)
    assert code == 0, err
    assert db.read_bytes() == before  # the damaged file is only read
    rescued = sqlite3.connect(tmp_path / "rescued.db")
    n = rescued.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
    assert 200 < n < 301, out  # one page of rows lost, the rest rescued
    assert rescued.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert rescued.execute("PRAGMA user_version").fetchone()[0] == db_mod.SCHEMA_VERSION
    rescued.close()
    assert ratings_of(tmp_path / "rescued.db") == ratings_of(src)
    assert f"tracks: {n} rows recovered" in out

    # In place: the damaged file is set aside in backups/, the library is whole again.
    code, out, err = cli("db", "recover", "--db", db)
    assert code == 0, err
    aside = [p for p in (db.parent / "backups").iterdir() if p.name.endswith("-damaged.db")]
    assert len(aside) == 1 and aside[0].read_bytes() == before
    code, out, _ = cli("db", "check", "--db", db)
    assert code == 0 and "is sound" in out
    code, out, _ = cli("rate", "--user", "ann", "3", "4", "--db", db)
    assert code == 0


def test_recover_fills_what_the_damage_took_from_the_newest_backup(sound_library, tmp_path):
    src, _music = sound_library
    (tmp_path / "backups").mkdir()
    shutil.copy(src, tmp_path / "backups" / "lib-20200101-000000-daily.db")
    db, _music = damaged_copy(sound_library, tmp_path)
    report = maintenance.recover(db, tmp_path / "out.db")
    tracks = [t for t in report.tables if t.name == "tracks"][0]
    assert tracks.copied + tracks.restored == 301 and tracks.restored > 0
    assert report.backup_used.name == "lib-20200101-000000-daily.db"


def test_backups_before_a_migration_and_at_most_daily(tmp_path, monkeypatch):
    path = tmp_path / "lib.db"
    with Library(path) as lib:
        lib.add_user("ann")
    assert db_mod.list_backups(path) == []  # a new library: nothing worth a copy yet
    with Library(path) as lib:
        pass
    daily = db_mod.list_backups(path)
    assert len(daily) == 1 and daily[0].name.endswith("-daily.db")
    with Library(path) as lib:
        pass
    assert db_mod.list_backups(path) == daily  # not twice a day
    old = time.time() - 2 * 86400
    os.utime(daily[0], (old, old))
    with Library(path) as lib:
        pass
    assert len(db_mod.list_backups(path)) == 2

    version = db_mod.SCHEMA_VERSION
    monkeypatch.setattr(db_mod, "MIGRATIONS", db_mod.MIGRATIONS + [("9999_test", "CREATE TABLE t9999 (a INTEGER);")])
    monkeypatch.setattr(db_mod, "SCHEMA_VERSION", version + 1)
    with Library(path) as lib:
        assert lib.db.schema_version() == version + 1
    before = [p for p in db_mod.list_backups(path) if p.name.endswith(f"-schema{version}.db")]
    assert len(before) == 1
    conn = sqlite3.connect(before[0])
    assert conn.execute("PRAGMA user_version").fetchone()[0] == version
    assert conn.execute("SELECT name FROM users").fetchall() == [("ann",)]
    conn.close()

    for i in range(db_mod.KEEP_BACKUPS + 3):  # old automatic backups are rotated away, the newest kept
        for p in db_mod.list_backups(path):
            os.utime(p, (old, old))
        with Library(path) as lib:
            pass
        time.sleep(0.01)
    automatic = [p for p in db_mod.list_backups(path) if not p.name.endswith(("-manual.db", "-damaged.db"))]
    assert len(automatic) == db_mod.KEEP_BACKUPS


def test_a_full_disk_during_a_scan_says_what_was_saved(tmp_path, monkeypatch):
    music = tmp_path / "music"
    seed = write_audio(music / "seed.wav", seconds=0.2).read_bytes()
    for i in range(400):
        (music / f"a-long-file-name-to-fill-pages-{i:03d}.wav").write_bytes(seed)
    lib = Library(tmp_path / "lib.db")
    ann = lib.add_user("ann")
    monkeypatch.setattr(scan_mod, "BATCH", 50)
    pages = lib.db.query_one("PRAGMA page_count")[0]
    lib.db.conn.execute(f"PRAGMA max_page_count = {pages + 12}")
    with pytest.raises(DiskFullError) as err:
        scan(lib, [music], workers=1)
    message = str(err.value)
    saved = int(re.search(r"this scan saved (\d+) files before it filled", message).group(1))
    assert "nothing was changed" not in message and "scan again to finish" in message
    assert saved > 0 and saved % 50 == 0 and lib.track_count() == saved
    assert lib.users() == [ann]
    lib.close()

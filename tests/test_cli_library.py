"""The CLI end to end in a temporary folder: real subprocesses, real files, real database."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args, env=None, check=True):
    full_env = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    proc = subprocess.run([sys.executable, "-m", "player", *map(str, args)], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_scan_tracks_users_rate(tmp_path, music_dir):
    db = tmp_path / "lib.db"
    (music_dir / "bad.mp3").write_bytes(b"not audio at all" * 100)
    out = run("scan", music_dir, "--db", db).stdout
    assert "5 added" in out and "1 failed" in out
    assert "bad.mp3" in out and "not an audio file" in out

    tracks = json.loads(run("--db", db, "tracks", "--json").stdout)
    assert len(tracks) == 6
    for t in tracks:
        assert {"id", "path", "title", "artist", "album", "duration", "status", "error"} <= set(t)
    bad = [t for t in tracks if t["path"].endswith("bad.mp3")][0]
    assert bad["status"] == "error" and bad["error"]
    loud = [t for t in tracks if t["title"] == "Loud"][0]

    assert "added listener ann" in run("users", "add", "ann", "--db", db).stdout
    assert run("users", "--db", db).stdout.split() == ["ann"]
    assert "★★★★☆" in run("rate", "--user", "ann", loud["id"], "4", "--db", db).stdout
    # By path too; a rating is durable once the command returns.
    run("rate", "--db", db, "--user", "ann", loud["path"], "5")
    import sqlite3

    stars = sqlite3.connect(db).execute("SELECT stars FROM ratings").fetchall()
    assert stars == [(5,)]
    run("rate", "--user", "ann", loud["id"], "0", "--db", db)
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 0


def test_plain_listing_and_env_override(tmp_path, music_dir):
    db = tmp_path / "env.db"
    run("scan", music_dir, "-q", env={"PLAYER_DB": str(db)})
    out = run("tracks", env={"PLAYER_DB": str(db)}).stdout
    assert "The Band - Loud" in out and db.exists()


def test_user_mistakes_are_one_line_and_non_zero(tmp_path, music_dir):
    db = tmp_path / "lib.db"
    run("scan", music_dir, "--db", db)
    cases = [
        (("rate", "--user", "nobody", "1", "3"), "unknown listener"),
        (("scan", tmp_path / "nope"), "no such folder"),
        (("users", "add"), "usage"),
    ]
    run("users", "add", "ann", "--db", db)
    cases += [
        (("rate", "--user", "ann", "1", "9"), "stars must be from 1 to 5"),
        (("rate", "--user", "ann", "1", "many"), "stars must be a whole number"),
        (("rate", "--user", "ann", "777", "3"), "no track with id 777"),
        (("users", "add", "ANN"), "already exists"),
        (("frobnicate",), "invalid choice"),
    ]
    for args, message in cases:
        proc = run(*args, "--db", db, check=False)
        assert proc.returncode != 0, args
        assert message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr

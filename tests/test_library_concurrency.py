"""Several writers at once, as real processes: commands started together on a new library, and two
imports of one folder. Each must succeed (or fail in words for a real clash), never a traceback."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from audiogen import write_audio

ROOT = Path(__file__).resolve().parent.parent


def start(*args, env):
    return subprocess.Popen([sys.executable, "-m", "player", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_commands_started_together_on_a_new_library(tmp_path):
    music = tmp_path / "music"
    seed = write_audio(music / "seed.wav", seconds=0.2).read_bytes()
    for i in range(60):
        (music / f"t{i:02d}.wav").write_bytes(seed)
    env = dict(os.environ, PYTHONPATH=str(ROOT), PLAYER_DATA_DIR=str(tmp_path / "data"))
    for attempt in range(3):
        db = tmp_path / f"new{attempt}.db"
        procs = [start("scan", music, "-q", "--db", db, env=env) for _ in range(2)]
        procs += [start("users", "add", f"user{i}", "--db", db, env=env) for i in range(4)]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, (attempt, err)
            assert "Traceback" not in err and "already exists" not in err, err
        conn = sqlite3.connect(db)
        assert conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0] == 61
        assert conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 4
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()


def test_two_imports_of_one_folder_at_once(tmp_path):
    music = tmp_path / "music"
    seed = write_audio(music / "seed.wav", seconds=0.2).read_bytes()
    for i in range(400):
        (music / f"d{i % 4}" / f"t{i:03d}.wav").parent.mkdir(exist_ok=True)
        (music / f"d{i % 4}" / f"t{i:03d}.wav").write_bytes(seed)
    env = dict(os.environ, PYTHONPATH=str(ROOT), PLAYER_DATA_DIR=str(tmp_path / "data"))
    db = tmp_path / "lib.db"
    assert subprocess.run([sys.executable, "-m", "player", "users", "add", "ann", "--db", str(db)],
                          cwd=ROOT, env=env, capture_output=True).returncode == 0
    procs = [start("scan", music, "-q", "--workers", "1", "--db", db, env=env) for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT path_raw) FROM tracks").fetchone() == (401, 401)
    conn.close()

"""Children that must not outlive their parent, and what earlier runs left behind. Real processes."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from audiogen import write_audio

from player.library.leftovers import WINDOW_IMPORT, check_leftovers

ROOT = Path(__file__).resolve().parent.parent
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")

WINDOW = textwrap.dedent("""
    import sys
    from player.ui.scan_process import scan_in_child

    class Job:
        cancelled = False
        def progress(self, value):
            print("progress", value[0], flush=True)

    scan_in_child(Job(), sys.argv[1], [sys.argv[2]], workers=1)
    print("finished", flush=True)
""")

ORPHAN = textwrap.dedent("""
    import sys, time
    from player.library.leftovers import WINDOW_IMPORT, registered
    with registered(sys.argv[1], WINDOW_IMPORT, parent=int(sys.argv[2])):
        print("ready", flush=True)
        time.sleep(120)
""")


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))
    return dict(os.environ, PYTHONPATH=str(ROOT))


@linux_only
def test_the_windows_import_child_ends_when_the_window_is_killed(tmp_path, env):
    music = tmp_path / "music"
    seed = write_audio(music / "seed.wav", seconds=0.1).read_bytes()
    total = 4000
    for i in range(total - 1):
        (music / f"t{i:04d}.wav").write_bytes(seed)
    db = tmp_path / "lib.db"
    window = subprocess.Popen([sys.executable, "-c", WINDOW, str(db), str(music)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, text=True)
    run_dir = tmp_path / "data" / "cache" / "run"
    child = None
    for line in window.stdout:
        files = list(run_dir.glob(f"{WINDOW_IMPORT}-*.json")) if run_dir.is_dir() else []
        if line.startswith("progress") and int(line.split()[1]) > 0 and files:
            child = json.loads(files[0].read_text())
            break
    assert child and child["parent"] == window.pid
    window.send_signal(signal.SIGKILL)
    window.wait()
    deadline = time.monotonic() + 5
    while not gone(child["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(child["pid"]), "the import went on without its window"
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0] < total  # it stopped part-way
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


@linux_only
def test_a_stale_run_file_is_cleaned_up(tmp_path, env):
    run_dir = tmp_path / "data" / "cache" / "run"
    run_dir.mkdir(parents=True)
    db = tmp_path / "lib.db"
    pid = dead_pid()
    stale = run_dir / f"{WINDOW_IMPORT}-{pid}.json"
    stale.write_text(json.dumps({"pid": pid, "parent": 1, "kind": WINDOW_IMPORT, "db": os.path.realpath(db),
                                 "started": "1"}))
    (run_dir / "cli-import-1.json").write_text("{half a reco")
    notices = check_leftovers(db)
    assert len(notices) == 1 and f"process {pid}" in notices[0] and "ended without cleaning up" in notices[0]
    assert list(run_dir.iterdir()) == []
    assert check_leftovers(db) == []


@linux_only
def test_an_import_left_by_a_closed_window_is_stopped_and_a_live_one_left_alone(tmp_path, env):
    db = tmp_path / "lib.db"
    orphan = subprocess.Popen([sys.executable, "-c", ORPHAN, str(db), str(dead_pid())], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, text=True)
    live = subprocess.Popen([sys.executable, "-c", ORPHAN, str(db), str(os.getpid())], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert orphan.stdout.readline().strip() == "ready" and live.stdout.readline().strip() == "ready"
        notices = check_leftovers(db)
        assert any(f"stopped an import (process {orphan.pid})" in n for n in notices), notices
        assert any(f"another import of this library is running (process {live.pid})" in n for n in notices)
        assert orphan.wait(timeout=10) is not None
        assert live.poll() is None
        assert check_leftovers(tmp_path / "other.db") == []  # another library's imports are not ours
    finally:
        for proc in (orphan, live):
            if proc.poll() is None:
                proc.kill()
            proc.wait()

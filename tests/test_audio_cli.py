"""``python -m player play`` end to end (null audio)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audiogen import write_audio
from player.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv) -> tuple[int, str, str]:
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_plays_files_and_reports_skips(tmp_path, capsys):
    a = write_audio(tmp_path / "a.wav", seconds=1.2, sr=22050)
    b = write_audio(tmp_path / "b.ogg", seconds=0.6, sr=44100, freq=330)
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(os.urandom(4000))
    db = tmp_path / "none.db"
    rc, out, err = run(capsys, "play", a, tmp_path / "missing.flac", broken, b, "--audio", "null", "--fast", "--db", db)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == f"skipped {tmp_path / 'missing.flac'}: no such file"
    assert "playing (1/3): a" in lines
    assert "0:01 / 0:01  a" in lines  # m:ss / m:ss  Title (one line per second when not a terminal)
    assert any(line.startswith("skipped broken (") and line.endswith("): not an audio file FFmpeg or libsndfile can read")
               for line in lines)
    assert "playing (3/3): b" in lines and "0:00 / 0:00  b" in lines
    assert lines[-1] == "done: 2 played, 2 skipped"
    assert not db.exists()  # playing loose files does not create a library


def test_names_that_are_not_utf8_play_and_a_fifo_is_refused(tmp_path, capsys):
    made = write_audio(tmp_path / "x.flac", seconds=0.4, sr=22050)
    raw = os.path.join(os.fsencode(tmp_path), b"caf\xe9.flac")  # Latin-1 bytes: not UTF-8
    os.rename(made, raw)
    aac = write_audio(tmp_path / "y.m4a", seconds=0.4, sr=22050)
    raw_aac = os.path.join(os.fsencode(tmp_path), b"\xff\xfe song.m4a")
    os.rename(aac, raw_aac)
    fifo = tmp_path / "pipe.mp3"
    os.mkfifo(fifo)
    rc, out, err = run(capsys, "play", os.fsdecode(raw), fifo, os.fsdecode(raw_aac), "--audio", "null", "--fast",
                       "--db", tmp_path / "none.db")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == f"skipped {fifo}: it is a named pipe (FIFO), not an audio file"
    assert "playing (1/2): caf\ufffd" in lines and "playing (2/2): \ufffd\ufffd song" in lines
    assert lines[-1] == "done: 2 played, 1 skipped" and "Traceback" not in err


def test_library_ids_with_a_user_record_history(tmp_path, capsys):
    from player.library import Library

    music = tmp_path / "music"
    write_audio(music / "one.flac", seconds=0.5, tags={"title": "One", "artist": "Band"})
    write_audio(music / "two.wav", seconds=0.5, freq=550, tags={"title": "Two"})
    db = tmp_path / "lib.db"
    assert run(capsys, "scan", music, "--db", db, "-q")[0] == 0
    assert run(capsys, "users", "add", "ann", "--db", db)[0] == 0
    with Library(db) as lib:
        ids = {t.title: t.id for t in lib.tracks()}
    rc, out, err = run(capsys, "play", ids["Two"], music / "one.flac", "--user", "ann", "--audio", "null", "--fast",
                       "--db", db)
    assert rc == 0, err
    assert "playing (1/2): Two" in out and "playing (2/2): One - Band" in out
    with Library(db) as lib:
        user = lib.user("ann")
        rows = sorted(lib.plays(user.id), key=lambda r: r["id"])
    assert [(r["track_id"], r["skipped"]) for r in rows] == [(ids["Two"], 0), (ids["One"], 0)]
    assert [r["seconds_played"] for r in rows] == [pytest.approx(0.5, abs=1e-3)] * 2


@pytest.mark.parametrize("argv, message", [
    (["play", "x.wav", "--user", "nobody", "--db", "{db}"], "unknown listener 'nobody'"),
    (["play", "999", "--db", "{db}"], "no track with id 999"),
    (["play", "{a}", "--fast"], "--fast only applies to --audio null"),
    (["play", "{tmp}/nope.wav", "--audio", "null", "--db", "{tmp}/x.db"], "nothing to play"),
])
def test_user_mistakes_are_one_line(tmp_path, capsys, argv, message):
    from player.library import Library

    a = write_audio(tmp_path / "a.wav", seconds=0.2)
    Library(tmp_path / "lib.db").close()
    argv = [x.format(db=tmp_path / "lib.db", a=a, tmp=tmp_path) for x in argv]
    rc, out, err = run(capsys, *argv)
    assert rc == 2
    assert message in err and err.count("\n") == 1


def test_an_unplayable_queue_exits_1(tmp_path, capsys):
    junk = tmp_path / "junk.flac"
    junk.write_bytes(b"fLaC" + bytes(100))
    rc, out, err = run(capsys, "play", junk, "--audio", "null", "--fast", "--db", tmp_path / "x.db")
    assert rc == 1
    assert "skipped junk" in out and "error:" in err and "could not be played" in err


def test_ctrl_c_stops_cleanly_and_records_the_play(tmp_path):
    from player.library import Library

    music = tmp_path / "music"
    write_audio(music / "long.wav", seconds=20.0, tags={"title": "Long"})
    db = tmp_path / "lib.db"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    py = sys.executable
    subprocess.run([py, "-m", "player", "scan", str(music), "--db", str(db), "-q"], check=True, env=env, cwd=ROOT,
                   capture_output=True)
    subprocess.run([py, "-m", "player", "users", "add", "bo", "--db", str(db)], check=True, env=env, cwd=ROOT,
                   capture_output=True)
    proc = subprocess.Popen([py, "-m", "player", "play", "1", "--user", "bo", "--audio", "null", "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    first = proc.stdout.readline()
    assert first.strip() == "playing: Long"
    time.sleep(0.6)  # real time: some of it plays
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert out.strip().splitlines()[-1] == "stopped"
    with Library(db) as lib:
        rows = lib.plays(lib.user("bo").id)
    assert len(rows) == 1 and rows[0]["skipped"] == 1
    assert 0.3 < rows[0]["seconds_played"] < 10

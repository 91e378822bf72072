"""What the CLI prints from tags is safe for a terminal: control characters from a hostile file are
made visible (never sent as they are), one track stays one line, and JSON keeps the exact value.
Real files (tags written by mutagen), a real library, the real CLI in child processes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from audiogen import write_audio

from player.commands.common import safe_text

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Evil\x1b[2J\x1b]0;owned\x07\nSecond line\u2028end"
ARTIST = "Art\x9b31m\rist"
CONTROL = [chr(c) for c in range(0x20) if chr(c) != "\n"] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]


def run(*args, env=None):
    full = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    proc = subprocess.run([sys.executable, "-m", "player", *map(str, args)], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=120)
    return proc


def assert_terminal_safe(text: str) -> None:
    for ch in CONTROL + ["\u2028", "\u2029"]:
        assert ch not in text, (repr(ch), text)


def test_safe_text_makes_controls_visible_and_keeps_the_rest():
    assert safe_text("plain — ✓ 日本") == "plain — ✓ 日本"
    assert safe_text("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert safe_text("one\ntwo\r\tthree") == "one two  three"
    assert safe_text("c1\x9b31m") == "c1\\x9b31m"
    assert safe_text("bell\x07 nul\x00 del\x7f") == "bell\\x07 nul\\x00 del\\x7f"
    assert safe_text("sep\u2028x") == "sep x"
    assert safe_text(os.fsdecode(b"caf\xe9")) == "caf\\udce9"  # an undecodable file-name byte
    assert safe_text(None) == "" and safe_text(42) == "42"


@pytest.fixture(scope="module")
def hostile_library(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    music = tmp / "music"
    write_audio(music / "evil.flac", tags={"title": TITLE, "artist": ARTIST, "album": "Alb\x1b[1mum"})
    write_audio(music / "fine.flac", freq=330, tags={"title": "Fine", "artist": ARTIST, "album": "Alb\x1b[1mum"})
    db = tmp / "lib.db"
    env = {"PLAYER_DATA_DIR": str(tmp / "data")}
    proc = run("scan", music, "--db", db, env=env)
    assert proc.returncode == 0, proc.stderr
    assert run("users", "add", "ann", "--db", db, env=env).returncode == 0
    tracks = json.loads(run("tracks", "--json", "--db", db, env=env).stdout)
    evil = [t for t in tracks if t["path"].endswith("evil.flac")][0]
    return db, env, evil


def test_json_keeps_the_exact_tags(hostile_library):
    _db, _env, evil = hostile_library
    assert evil["title"] == TITLE and evil["artist"] == ARTIST


@pytest.mark.parametrize("command", [
    ("tracks",), ("show", "{id}"), ("next", "--user", "ann"), ("similar", "{id}"), ("rate", "--user", "ann", "{id}", "4"),
])
def test_human_output_escapes_control_characters(hostile_library, command):
    db, env, evil = hostile_library
    args = [a.format(id=evil["id"]) for a in command]
    proc = run(*args, "--db", db, env=env)
    assert proc.returncode == 0, proc.stderr
    assert_terminal_safe(proc.stdout)
    assert_terminal_safe(proc.stderr)
    shown = proc.stdout + proc.stderr
    assert "\\x1b[2J" in shown or "\\x9b31m" in shown, shown  # visible, not obeyed
    if command[0] == "tracks":
        lines = proc.stdout.splitlines()
        assert len(lines) == 2  # one line per track, whatever the tags hold
        assert any("Evil\\x1b[2J\\x1b]0;owned\\x07 Second line end" in line for line in lines)


def test_names_with_control_characters_are_refused_and_errors_are_escaped(hostile_library):
    db, env, _evil = hostile_library
    proc = run("users", "add", "bad\x1b[2Jname", "--db", db, env=env)
    assert proc.returncode == 2 and "control characters" in proc.stderr
    assert_terminal_safe(proc.stderr)
    proc = run("rate", "--user", "who\x1b]0;x\x07", "1", "3", "--db", db, env=env)
    assert proc.returncode == 2 and "unknown listener" in proc.stderr
    assert_terminal_safe(proc.stderr)
    assert len(proc.stderr.strip().splitlines()) == 1
    users = run("users", "--db", db, env=env)
    assert users.stdout.split() == ["ann"]


def test_a_reader_that_goes_away_is_no_error(hostile_library):
    """`python -m player tracks --json | head -1`: the pipe closes before the output is written; the
    command ends quietly (no traceback), as other command-line tools do."""
    db, env, _evil = hostile_library
    full = dict(os.environ, PYTHONPATH=str(ROOT), **env)
    proc = subprocess.Popen([sys.executable, "-m", "player", "tracks", "--json", "--db", str(db)], cwd=ROOT,
                            env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything was written
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err

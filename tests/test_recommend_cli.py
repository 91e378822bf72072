"""`python -m player next` and `similar`, end to end on a library file in a temporary folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from player.cli import main
from test_recommend_support import add_tracks

STYLE = {"rock": {"rock": 3, "guitar": 1}, "sad": {"sad": 2, "piano": 2}, "happy": {"happy": 2, "dance": 2}}


@pytest.fixture
def db(tmp_path, library, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))  # the mood mapping's user file
    specs = []
    for k, (style, labels) in enumerate(STYLE.items()):
        for i in range(6):
            emb = [0.0] * 32
            emb[k], emb[10 + i] = 2.0, 0.5
            specs.append({"title": f"{style} {i}", "artist": f"{style} band {i % 2}", "album": style,
                          "labels": labels, "embedding": emb})
    ids = add_tracks(library, specs)
    u = library.add_user("ann")
    library.rate(u.id, ids[0], 5)
    library.rate(u.id, ids[1], 4)
    library.add_user("bob")
    library.ids = ids
    return library


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_next_json(db, capsys):
    code, out, err = run(capsys, "next", "--db", str(db.path), "--user", "ann", "-n", "4", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 4
    for row in rows:
        assert {"id", "path", "title", "score", "reason"} <= set(row)
        assert row["title"].startswith("rock") and row["reason"]
        assert Path(row["path"]).name.endswith(".ogg")


def test_next_text_explain_after_and_mood(db, capsys):
    code, out, err = run(capsys, "next", "--db", str(db.path), "--user", "ann", "--after", str(db.ids[2]),
                         "--mood", "sad", "-n", "3", "--explain")
    assert code == 0, err
    assert "profile=" in out and "mood=" in out and "embedding=" in out
    code, out, _ = run(capsys, "next", "--db", str(db.path), "--user", "bob", "--mood", "sad,piano", "-n", "3", "--json")
    rows = json.loads(out)
    assert code == 0 and all(r["title"].startswith("sad") for r in rows)
    assert all("sad" in r["reason"] or "piano" in r["reason"] for r in rows)


def test_mood_word_uses_a_mapping(db, capsys):
    code, out, err = run(capsys, "next", "--db", str(db.path), "--user", "bob", "--mood", "happy", "-n", "3", "--json")
    assert code == 0, err
    assert all(r["title"].startswith("happy") for r in json.loads(out))


@pytest.mark.parametrize(
    "argv, words",
    [
        (["next", "--user", "nobody"], "unknown listener"),
        (["next", "--user", "ann", "--after", "999999"], "no track with id 999999"),
        (["next", "--user", "ann", "--mood", "grumpy-ish"], "unknown mood"),
        (["next", "--user", "ann", "-n", "0"], "-n must be"),
        (["similar", "999999"], "no track with id 999999"),
        (["similar", "/no/such/file.ogg"], "not in the library"),
    ],
)
def test_mistakes_are_one_clear_line(db, capsys, argv, words):
    code, out, err = run(capsys, *argv, "--db", str(db.path))
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in err


def test_mood_auto_without_a_camera_fails_in_one_line(db, capsys):
    if any(Path("/dev").glob("video*")):
        pytest.skip("this machine has a camera")
    code, out, err = run(capsys, "next", "--db", str(db.path), "--user", "ann", "--mood", "auto")
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--mood auto" in lines[0]


def test_similar_json(db, capsys):
    code, out, err = run(capsys, "similar", str(db.ids[7]), "--db", str(db.path), "-n", "3", "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 3 and all(r["title"].startswith("sad") for r in rows)
    assert db.ids[7] not in [r["id"] for r in rows]
    assert all("sounds alike" in r["reason"] for r in rows)


def test_cli_as_a_separate_process(db, tmp_path):
    env = dict(os.environ, PLAYER_DATA_DIR=str(tmp_path / "data"))
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-m", "player", "next", "--db", str(db.path), "--user", "ann", "-n", "2", "--json"],
        capture_output=True, text=True, cwd=root, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 2
    proc = subprocess.run(
        [sys.executable, "-m", "player", "similar", "424242", "--db", str(db.path)],
        capture_output=True, text=True, cwd=root, env=env, timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0


def test_a_mood_word_prints_no_warning_with_the_shipped_tagger(db, tmp_path):
    """The mood table names only the shipped tagger's tags: `next --mood happy` and `mood --mapping`
    run by the real CLI with the shipped models print no 'not in the tagger vocabulary' warning."""
    env = {k: v for k, v in os.environ.items() if k != "PLAYER_MODELS_DIR"}
    env["PLAYER_DATA_DIR"] = str(tmp_path / "data")
    root = Path(__file__).resolve().parent.parent
    out = {}
    for argv in (["next", "--db", str(db.path), "--user", "bob", "--mood", "happy", "-n", "3", "--json"],
                 ["mood", "--mapping"]):
        proc = subprocess.run([sys.executable, "-m", "player", *argv], capture_output=True, text=True, cwd=root,
                              env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "not in the tagger vocabulary" not in proc.stderr + proc.stdout
        assert "warning" not in proc.stderr.lower(), proc.stderr
        out[argv[0]] = proc.stdout
    assert all(r["title"].startswith("happy") for r in json.loads(out["next"]))
    assert "tagger vocabulary: " in out["mood"] and "(50 labels)" in out["mood"]


def test_control_characters_in_tags_are_made_visible_but_json_stays_exact(db, capsys):
    with db.db.transaction() as c:
        c.execute("UPDATE tracks SET title = ?, artist = ? WHERE id = ?",
                  ("rock \x1b[31mred\x1b[0m", "band\nsecond line", db.ids[2]))
    code, out, err = run(capsys, "next", "--db", str(db.path), "--user", "ann", "-n", "6")
    assert code == 0, err
    assert "\x1b" not in out and "rock \\x1b[31mred\\x1b[0m" in out and "band second line - " in out
    code, out, err = run(capsys, "next", "--db", str(db.path), "--user", "ann", "-n", "6", "--json")
    row = next(r for r in json.loads(out) if r["id"] == db.ids[2])
    assert row["title"] == "rock \x1b[31mred\x1b[0m" and row["artist"] == "band\nsecond line"
    code, out, err = run(capsys, "similar", str(db.ids[3]), "--db", str(db.path), "-n", "5")
    assert code == 0 and "\x1b" not in out and "\\x1b[31m" in out

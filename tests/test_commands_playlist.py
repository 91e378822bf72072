"""`python -m player playlist …`, `smart`, `radio` and `path`, end to end on a library file."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from audiogen import write_audio
from player.cli import main
from player.library.scan import scan
from test_recommend_support import add_tracks


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(library, music_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))
    scan(library, [music_dir])
    specs = []
    for k, style in enumerate(("rock", "piano")):
        for i in range(5):
            emb = np.zeros(32)
            emb[k], emb[5 + i] = 2.0, 0.4
            specs.append({"title": f"{style} {i}", "artist": f"{style} band {i % 2}", "album": style,
                          "labels": {style: 2}, "embedding": emb})
    ids = add_tracks(library, specs)
    library.ids = {s["title"]: i for s, i in zip(specs, ids)}
    library.files = {t.title: t.id for t in library.tracks() if t.title in ("Loud", "Quiet", "Blue")}
    library.add_user("ann")
    library.add_user("bob")
    library.music_dir = music_dir
    return library


def test_playlist_lifecycle(db, capsys):
    d = ("--db", db.path)
    f = db.files
    assert run(capsys, "playlist", "create", "Road trip", *d)[0] == 0
    code, out, err = run(capsys, "playlist", "add", "road trip", f["Loud"], f["Blue"], f["Loud"], *d)
    assert code == 0 and "now 3" in out
    blue_path = db.track(f["Blue"]).path
    assert run(capsys, "playlist", "add", "Road trip", blue_path, "--at", "1", *d)[0] == 0  # by path, at the top
    assert run(capsys, "playlist", "move", "Road trip", "1", "4", *d)[0] == 0
    assert run(capsys, "playlist", "remove", "Road trip", "2", *d)[0] == 0
    code, out, _ = run(capsys, "playlist", "show", "Road trip", "--json", *d)
    rows = json.loads(out)
    assert [r["id"] for r in rows] == [f["Loud"], f["Loud"], f["Blue"]]
    assert [r["position"] for r in rows] == [1, 2, 3] and all(r["path"] for r in rows)
    code, out, _ = run(capsys, "playlist", "show", "Road trip", *d)
    assert out.startswith("Road trip (3 songs") and out.count("The Band - Loud") == 2
    assert run(capsys, "playlist", "rename", "Road trip", "Trip", *d)[0] == 0
    assert run(capsys, "playlist", "duplicate", "trip", *d)[0] == 0
    code, out, _ = run(capsys, "playlist", "list", "--json", *d)
    assert [(p["name"], p["count"]) for p in json.loads(out)] == [("Trip", 3), ("Trip copy", 3)]
    code, out, _ = run(capsys, "playlist", *d)  # no action: the list
    assert "Trip  (3 songs" in out
    assert run(capsys, "playlist", "delete", "Trip copy", *d)[0] == 0
    code, out, _ = run(capsys, "playlist", "list", *d)
    assert "Trip copy" not in out


@pytest.mark.parametrize("argv, words", [
    (["playlist", "show", "nope"], "no playlist called 'nope'"),
    (["playlist", "create", ""], "needs a name"),
    (["playlist", "add", "P", "999999"], "no track with id 999999"),
    (["playlist", "remove", "P", "5"], "no song at position 5"),
    (["playlist", "move", "P", "1", "9"], "outside the playlist"),
    (["playlist", "create", "S", "--query", "stars>=x"], "expected a whole number after 'stars>=' at column 8"),
    (["playlist", "import", "/no/such.m3u"], "no such playlist file"),
    (["playlist", "export", "P", "out.txt"], "should end in .m3u"),
    (["smart", "tag:pianoo"], "unknown tag 'pianoo' (did you mean piano?) at column 5"),
    (["smart", "tag:piano>0.2"], "the analysis model 'test@1' is not installed"),
    (["smart", "stars>=4"], "needs a listener"),
    (["smart", "rock", "--user", "nobody"], "unknown listener"),
    (["radio", "--from", "artist:Nobody"], "no artist called 'Nobody'"),
    (["radio", "--from", "999999"], "no track with id 999999"),
    (["radio", "--from", "rock", "-n", "0"], "-n must be"),
    (["path", "1", "999999"], "no track with id 999999"),
])
def test_mistakes_are_one_line(db, capsys, argv, words):
    run(capsys, "playlist", "create", "P", "--db", db.path)
    run(capsys, "playlist", "add", "P", db.files["Loud"], "--db", db.path)
    code, out, err = run(capsys, *argv, "--db", db.path)
    assert code == 2 and words in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_import_and_export_files(db, capsys, tmp_path):
    d = ("--db", db.path)
    m = db.music_dir
    write_audio(m / "new" / "Fresh.ogg", freq=600, tags={"title": "Fresh"})
    (m / "list.m3u").write_text("#EXTM3U\nrock/01 - Loud.mp3\nnew/Fresh.ogg\nhttp://x/stream\n/gone.mp3\n")
    code, out, err = run(capsys, "playlist", "import", m / "list.m3u", "--name", "Mine", *d)
    assert code == 0
    assert "imported Mine: 2 songs, 1 new to the library, 2 not found" in out
    assert "line 4: http://x/stream: a http stream address" in out and "line 5: /gone.mp3: no such file" in out
    for ext in (".m3u8", ".pls", ".xspf"):
        out_file = tmp_path / f"mine{ext}"
        code, out, _ = run(capsys, "playlist", "export", "Mine", out_file, *d)
        assert code == 0 and "wrote 2 songs" in out
        assert run(capsys, "playlist", "import", out_file, "--name", f"again{ext}", *d)[0] == 0
        code, out, _ = run(capsys, "playlist", "show", f"again{ext}", "--json", *d)
        assert [r["title"] for r in json.loads(out)] == ["Loud", "Fresh"]
    code, _, err = run(capsys, "playlist", "import", m / "list.m3u", "--name", "Mine", *d)
    assert code == 2 and "already exists" in err
    assert run(capsys, "playlist", "import", m / "list.m3u", "--name", "Mine", "--replace", *d)[0] == 0


def test_smart_command_and_smart_playlists(db, capsys):
    d = ("--db", db.path)
    ann = db.user("ann")
    db.rate(ann.id, db.ids["piano 1"], 5)
    db.rate(ann.id, db.ids["rock 2"], 4)
    code, out, err = run(capsys, "smart", "stars>=4 sort:-stars", "--user", "ann", "--json", *d)
    rows = json.loads(out)
    assert code == 0 and [r["title"] for r in rows] == ["piano 1", "rock 2"] and all("path" in r for r in rows)
    code, out, err = run(capsys, "smart", "band", "-n", "3", *d)
    assert code == 0 and len(out.splitlines()) == 3 and "12 songs (showing 3)" in err
    code, out, err = run(capsys, "smart", "loudness<-10 OR piano", *d)
    assert code == 0 and "note: loudness is not measured" in err
    assert run(capsys, "playlist", "create", "Loved", "--query", "stars>=4", *d)[0] == 0
    code, out, _ = run(capsys, "playlist", "show", "Loved", "--user", "ann", "--json", *d)
    assert {r["title"] for r in json.loads(out)} == {"piano 1", "rock 2"}
    db.rate(ann.id, db.ids["rock 3"], 5)  # live: the next read follows the ratings
    code, out, _ = run(capsys, "playlist", "show", "Loved", "--user", "ann", *d)
    assert "rock 3" in out and "(smart: stars>=4" in out
    code, out, _ = run(capsys, "playlist", "add", "Loved", db.ids["rock 4"], *d)
    assert code == 2


def test_radio_and_path_commands(db, capsys):
    d = ("--db", db.path)
    code, out, err = run(capsys, "radio", "--from", db.ids["rock 0"], "--user", "ann", "-n", "4", "--json", *d)
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 4 and all({"id", "path", "reason"} <= set(r) for r in rows)
    assert all(r["title"].startswith("rock") for r in rows) and "sounds like “rock 0”" in rows[0]["reason"]
    code, out, err = run(capsys, "radio", "--from", "tag:piano", "-n", "3", *d)
    assert code == 0 and out.count("piano band") == 3 and "piano radio" in out
    run(capsys, "playlist", "create", "P", *d)
    run(capsys, "playlist", "add", "P", db.ids["piano 0"], db.ids["piano 1"], *d)
    code, out, err = run(capsys, "radio", "--from", "playlist:p", "-n", "2", "--json", *d)
    assert code == 0 and all(r["title"].startswith("piano") for r in json.loads(out))
    code, out, err = run(capsys, "path", db.ids["rock 0"], db.ids["piano 0"], "-n", "3", "--json", *d)
    rows = json.loads(out)
    assert code == 0 and [r["step"] for r in rows] == [0, 1, 2, 3, 4]
    assert rows[0]["id"] == db.ids["rock 0"] and rows[-1]["id"] == db.ids["piano 0"]
    assert all({"id", "path", "reason"} <= set(r) for r in rows)
    code, out, err = run(capsys, "path", db.ids["rock 0"], db.files["Loud"], *d)
    assert code == 2 and "not analysed yet" in err


def test_control_characters_in_tags_are_escaped(db, capsys):
    d = ("--db", db.path)
    db.db.conn.execute("UPDATE tracks SET artist = 'Evil\x1b[2J', title = 'Two\nlines' WHERE id = ?",
                       (db.files["Loud"],))
    run(capsys, "playlist", "create", "P", *d)
    run(capsys, "playlist", "add", "P", db.files["Loud"], *d)
    code, out, _ = run(capsys, "playlist", "show", "P", *d)
    assert "\x1b" not in out and "Evil\\x1b[2J - Two lines" in out
    code, out, _ = run(capsys, "playlist", "show", "P", "--json", *d)
    assert json.loads(out)[0]["artist"] == "Evil\x1b[2J"  # JSON keeps the exact value
    code, out, _ = run(capsys, "smart", "evil", *d)
    assert "\x1b" not in out


def test_db_option_anywhere(db, capsys, monkeypatch):
    monkeypatch.delenv("PLAYER_DB", raising=False)
    code, out, err = run(capsys, "--db", db.path, "playlist", "create", "X")
    assert code == 0
    code, out, err = run(capsys, "playlist", "--db", db.path, "list")
    assert code == 0 and "X" in out
    assert os.path.exists(db.path)


def test_next_for_listeners_together(db, capsys):
    d = ("--db", db.path)
    ann, bob = db.user("ann"), db.user("bob")
    for i in range(2):
        db.rate(ann.id, db.ids[f"rock {i}"], 5)
        db.rate(bob.id, db.ids[f"piano {i}"], 5)
    db.rate(bob.id, db.ids["rock 2"], 1)
    code, out, err = run(capsys, "next", "--user", "ann", "--user", "bob", "-n", "6", "--json", *d)
    assert code == 0, err
    rows = json.loads(out)
    assert len(rows) == 6 and all({"id", "path", "reason"} <= set(r) for r in rows)
    assert db.ids["rock 2"] not in [r["id"] for r in rows]  # bob dislikes it
    assert any(r["reason"].startswith("for ann") for r in rows) and any(r["reason"].startswith("for bob") for r in rows)
    code, out, err = run(capsys, "next", "--user", "ann", "--user", "bob", "-n", "3", *d)
    assert code == 0 and out.count("for ") == 3
    code, _, err = run(capsys, "next", "--user", "ann", "--user", "bob", "--mood", "happy", *d)
    assert code == 2 and "--mood works for one listener" in err
    code, _, err = run(capsys, "next", "--user", "ann", "--user", "nobody", *d)
    assert code == 2 and "unknown listener" in err
    code, out, _ = run(capsys, "next", "--user", "ann", "-n", "2", "--json", *d)  # one listener: as before
    assert code == 0 and len(json.loads(out)) == 2

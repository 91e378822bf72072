"""The library commands for managing it, run in-process through player.cli.main on a real library:
users rename/delete, remove, scan FILE, what tracks and tracks --json show, rescans of failing files."""

from __future__ import annotations

import json
import os

import pytest
from audiogen import write_audio
from test_library_covers import embed, encoded

from player.cli import main


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys, *args) -> str:
    code, out, err = cli(capsys, *args)
    assert code == 0, (args, err)
    return out


def tracks_json(capsys, db) -> dict:
    return {os.path.basename(t["path"]): t for t in json.loads(ok(capsys, "tracks", "--json", "--db", db))}


def test_users_rename_and_delete(capsys, tmp_path, music_dir):
    db = tmp_path / "lib.db"
    ok(capsys, "scan", music_dir, "-q", "--db", db)
    ok(capsys, "users", "add", "ann", "--db", db)
    ok(capsys, "rate", "--user", "ann", "1", "4", "--db", db)
    assert ok(capsys, "users", "rename", "ann", "Annie", "--db", db).strip() == "renamed listener ann to Annie"
    assert ok(capsys, "users", "--db", db).split() == ["Annie"]
    assert "★★★★★" in ok(capsys, "rate", "--user", "annie", "1", "5", "--db", db)

    # Without --yes and without a terminal to ask on: nothing is deleted, one line says how.
    code, out, err = cli(capsys, "users", "delete", "Annie", "--db", db)
    assert code == 2 and err.strip() == "error: this deletes Annie with 1 rating and 0 plays: add --yes to do it"
    assert ok(capsys, "users", "--db", db).split() == ["Annie"]
    out = ok(capsys, "users", "delete", "annie", "--yes", "--db", db)
    assert out.strip() == "deleted listener Annie with 1 rating and 0 plays"
    code, out, err = cli(capsys, "users", "--db", db)
    assert out == "" and "no listeners yet" in err

    for args, message in ((("users", "rename", "ann"), "usage: users rename OLD NEW"),
                          (("users", "delete"), "usage: users delete NAME [--yes]"),
                          (("users", "rename", "ghost", "x"), "unknown listener 'ghost'"),
                          (("users", "list", "bob"), "did you mean 'users add bob'")):
        code, out, err = cli(capsys, *args, "--db", db)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, (args, err)


def test_remove_then_rescan_then_import_the_file_again(capsys, tmp_path, music_dir):
    db = tmp_path / "lib.db"
    ok(capsys, "scan", music_dir, "-q", "--db", db)
    ok(capsys, "users", "add", "ann", "--db", db)
    before = tracks_json(capsys, db)
    loud, blue = before["01 - Loud.mp3"], before["Blue.flac"]
    ok(capsys, "rate", "--user", "ann", loud["id"], "5", "--db", db)
    out = ok(capsys, "remove", loud["id"], blue["path"], "--db", db)
    assert f"removed {loud['id']}" in out and "2 tracks removed from the library" in out
    assert "their ratings are kept" in out
    assert set(tracks_json(capsys, db)) == set(before) - {"01 - Loud.mp3", "Blue.flac"}

    out = ok(capsys, "scan", music_dir, "--db", db)
    assert "0 added" in out and "2 removed from the library earlier, left out" in out

    out = ok(capsys, "scan", os.path.join(music_dir, "rock", "01 - Loud.mp3"), "--db", db)
    assert out.startswith("import: 1 added")
    now = tracks_json(capsys, db)
    assert "01 - Loud.mp3" in now and "Blue.flac" not in now
    code, out, err = cli(capsys, "rate", "--user", "ann", now["01 - Loud.mp3"]["id"], "0", "--db", db)
    assert "rating of Loud cleared" in out  # the kept rating came back with the file

    code, out, err = cli(capsys, "remove", "4242", "--db", db)
    assert code == 2 and "no track with id 4242" in err
    ok(capsys, "remove", "--forget-ratings", now["01 - Loud.mp3"]["id"], "--db", db)
    code, out, err = cli(capsys, "scan", tmp_path / "nowhere", "--db", db)
    assert code == 2 and "no such folder or file" in err


def test_tracks_show_warnings_covers_and_loudness_fields(capsys, tmp_path):
    db = tmp_path / "lib.db"
    root = tmp_path / "m"
    embed(write_audio(root / "art.mp3", seconds=0.5, tags={"title": "Art"}), [(3, encoded(200, 100, 1))])
    data = write_audio(tmp_path / "long.flac", seconds=12.0, tags={"title": "Cut"}).read_bytes()
    (root / "cut.flac").write_bytes(data[: len(data) // 2])
    (root / "bad.ogg").write_bytes(b"not audio at all" * 100)
    out = ok(capsys, "scan", root, "--db", db)
    assert "1 failed" in out and "1 stops early (imported with a warning)" in out
    assert "  warning " in out and "cut.flac: the file stops at 0:0" in out
    rows = tracks_json(capsys, db)
    for row in rows.values():
        assert {"warning", "cover", "loudness_lufs", "true_peak_dbtp", "track_gain_db", "album_gain_db"} <= set(row)
        assert row["loudness_lufs"] is None  # not measured yet
    assert rows["art.mp3"]["cover"] == {"source": "embedded", "width": 200, "height": 100}
    assert rows["art.mp3"]["warning"] is None and rows["bad.ogg"]["cover"] is None
    assert rows["cut.flac"]["status"] == "ok" and rows["cut.flac"]["warning"].endswith("its header announced 0:12")
    listing = ok(capsys, "tracks", "--db", db)
    line = [x for x in listing.splitlines() if "Cut" in x][0]
    assert "[warning: the file stops at 0:0" in line

    again = ok(capsys, "scan", root, "--db", db)
    assert "0 failed, 1 still cannot be read" in again
    assert "  still cannot be read " in again and "bad.ogg: not an audio file" in again

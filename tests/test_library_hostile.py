"""Hostile tags and files: absurd numbers, huge text, renamed files, pipes, symlinked folders,
unreadable files, huge ids. Real files (generated, tagged by mutagen), a real library, the real CLI."""

import os
import shutil
import socket
import sqlite3
import tempfile

import pytest
from audiogen import write_audio, write_tags

from player.cli import main
from player.library import Library, LibraryError
from player.library import scan as scan_mod
from player.library.probe import MAX_TEXT, Probe, parse_tracknumber, parse_year, probe
from player.library.scan import scan

HUGE = "99999999999999999999999"


def by_name(library):
    return {os.path.basename(t.path): t for t in library.tracks()}


def cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_numbers_are_parsed_leniently_and_absurd_ones_dropped_with_a_note():
    notes = []
    assert parse_tracknumber("3/12", notes) == 3
    assert parse_tracknumber("03", notes) == 3
    assert parse_tracknumber(" 7 of 9", notes) == 7
    assert parse_tracknumber("0", notes) is None and not notes
    assert parse_year("1999-05-01", notes) == 1999
    assert parse_year("05/01/1999", notes) == 1999
    assert parse_year("2004", notes) == 2004 and not notes
    assert parse_tracknumber(HUGE, notes) is None
    assert parse_year(HUGE, notes) is None
    assert parse_tracknumber("A1", notes) is None
    assert len(notes) == 3 and "track number" in notes[0] and "year" in notes[1]
    assert all(len(n) < 120 for n in notes)


def test_one_absurd_tag_neither_stops_nor_rolls_back_the_import(library, tmp_path):
    root = tmp_path / "m"
    for i in range(5):
        write_audio(root / f"good{i}.flac", seconds=0.3, tags={"title": f"Good {i}", "tracknumber": f"{i + 1}/12"})
    write_audio(root / "bad.flac", seconds=0.3, tags={"title": "Bad", "tracknumber": HUGE, "date": HUGE})
    write_audio(root / "long.ogg", seconds=0.3, tags={"title": "x" * 1_000_000, "artist": "y" * 5000,
                                                       "date": "1999-05-01"})
    report = scan(library, [root])
    assert report.added == 7 and not report.failed
    tracks = by_name(library)
    bad, long = tracks["bad.flac"], tracks["long.ogg"]
    assert bad.status == "ok" and bad.tracknumber is None and bad.year is None
    assert tracks["good2.flac"].tracknumber == 3
    assert len(long.title) == MAX_TEXT and long.title.endswith("…") and len(long.artist) == MAX_TEXT
    assert long.year == 1999
    notes = {os.path.basename(p): [] for p, _ in report.notes}
    for p, note in report.notes:
        notes[os.path.basename(p)].append(note)
    assert any("track number" in n for n in notes["bad.flac"]) and any("year" in n for n in notes["bad.flac"])
    assert any("title was cut" in n for n in notes["long.ogg"])
    assert scan(library, [root]).unchanged == 7  # and rescans work


def test_a_file_the_library_cannot_store_is_recorded_and_the_rest_kept(library, tmp_path, monkeypatch):
    """Defence in depth: should a value slip past the probe, only that file fails (its own savepoint)."""
    root = tmp_path / "m"
    for i in range(4):
        write_audio(root / f"t{i}.wav", seconds=0.2)
    real = scan_mod.probe

    def leaky(path):
        result = real(path)
        if path.endswith("t2.wav"):
            result.tags["tracknumber"] = 10**30  # too large for SQLite
        return result

    monkeypatch.setattr(scan_mod, "probe", leaky)
    report = scan(library, [root])
    assert report.added == 3
    assert [os.path.basename(p) for p, _ in report.failed] == ["t2.wav"]
    assert "could not store" in report.failed[0][1]
    assert by_name(library)["t2.wav"].status == "error"


def test_renamed_files_are_read_by_their_content(library, tmp_path):
    root = tmp_path / "m"
    src = tmp_path / "src"
    write_audio(src / "a.ogg", tags={"title": "Really Ogg", "artist": "A"})
    write_audio(src / "b.mp3", tags={"title": "Really MP3"})
    write_audio(src / "c.wav", tags={"title": "Really WAV"})
    root.mkdir()
    shutil.copy(src / "a.ogg", root / "a.flac")
    shutil.copy(src / "b.mp3", root / "b.flac")
    shutil.copy(src / "c.wav", root / "c.ogg")
    report = scan(library, [root])
    assert report.added == 3 and not report.failed
    tracks = by_name(library)
    assert (tracks["a.flac"].format, tracks["a.flac"].title, tracks["a.flac"].artist) == ("ogg", "Really Ogg", "A")
    assert (tracks["b.flac"].format, tracks["b.flac"].title) == ("mp3", "Really MP3")
    assert (tracks["c.ogg"].format, tracks["c.ogg"].title) == ("wav", "Really WAV")
    notes = dict((os.path.basename(p), n) for p, n in report.notes)
    assert notes["a.flac"].startswith("mislabelled: it is an Ogg file named .flac")
    assert notes["b.flac"].startswith("mislabelled: it is an MP3 file named .flac")
    assert notes["c.ogg"].startswith("mislabelled: it is a WAV file named .ogg")


@pytest.mark.timeout(60)
def test_pipes_sockets_and_devices_are_never_opened(library, tmp_path):
    root = tmp_path / "m"
    write_audio(root / "real.mp3", seconds=0.3)
    os.mkfifo(root / "pipe.mp3")  # opening this for reading would block for ever
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock.flac"))
    os.symlink("/dev/zero", root / "zero.wav")
    try:
        report = scan(library, [root])
        assert report.added == 1 and not report.failed
        assert [os.path.basename(t.path) for t in library.tracks()] == ["real.mp3"]
        assert "not a regular file" in probe(str(root / "pipe.mp3")).error  # and the probe itself never blocks
    finally:
        sock.close()


def test_a_folder_scanned_again_through_a_link_adds_nothing(library, tmp_path):
    real = tmp_path / "music"
    write_audio(real / "a.flac", seconds=0.3)
    write_audio(real / "sub" / "b.flac", seconds=0.3)
    os.symlink(real, tmp_path / "link")
    scan(library, [real])
    ann = library.add_user("ann")
    first = by_name(library)["a.flac"]
    library.rate(ann.id, first.id, 5)
    report = scan(library, [tmp_path / "link"])
    assert report.added == 0 and report.unchanged == 2 and report.missing == 0
    assert library.track_count() == 2 and library.ratings(ann.id) == {first.id: 5}
    assert library.resolve_track(str(tmp_path / "link" / "a.flac")).id == first.id


def test_duplicates_an_older_library_made_through_a_link_are_merged(db_path, tmp_path):
    real = tmp_path / "music"
    write_audio(real / "a.flac", seconds=0.3)
    write_audio(real / "b.flac", seconds=0.3)
    os.symlink(real, tmp_path / "link")
    lib = Library(db_path)
    scan(lib, [real])
    ann, bob = lib.add_user("ann"), lib.add_user("bob")
    a = by_name(lib)["a.flac"]
    b = by_name(lib)["b.flac"]
    lib.rate(ann.id, a.id, 2)
    # What an older version stored for a scan through the link: a second row for each file.
    conn = sqlite3.connect(db_path)
    for t in (a, b):
        conn.execute("INSERT INTO tracks(path_raw, path, title, added_at, updated_at, size, mtime, status) "
                     "SELECT ?, ?, title, added_at, updated_at, size, mtime, status FROM tracks WHERE id = ?",
                     (os.fsencode(str(tmp_path / "link" / os.path.basename(t.path))), "x", t.id))
    conn.commit()
    alias_a, alias_b = (conn.execute("SELECT id FROM tracks WHERE path_raw = ?",
                                     (os.fsencode(str(tmp_path / "link" / n)),)).fetchone()[0] for n in ("a.flac", "b.flac"))
    conn.close()
    lib.rate(ann.id, alias_a, 4)  # newer than the 2 stars on the real path: it wins
    lib.rate(bob.id, alias_b, 3)
    lib.record_play(bob.id, alias_b, started_at=1.0, seconds_played=10, skipped=False)
    assert lib.track_count() == 4
    report = scan(lib, [real])
    assert report.merged == 2 and lib.track_count() == 2
    assert lib.ratings(ann.id) == {a.id: 4}
    assert lib.ratings(bob.id) == {b.id: 3}
    assert [r["track_id"] for r in lib.plays(bob.id)] == [b.id]
    lib.close()


def test_huge_ids_are_no_such_track(library, music_dir, capsys, db_path):
    scan(library, [music_dir])
    library.add_user("ann")
    with pytest.raises(LibraryError, match="no track with id"):
        library.resolve_track(HUGE)
    assert library.track(10**30) is None
    for args in (("rate", "--user", "ann", HUGE, "3"), ("show", HUGE), ("rate", "--user", "ann", "٣", "3")):
        code, out, err = cli(capsys, *args, "--db", db_path)
        assert code == 2, args
        assert ("no track with id" in err or "not in the library" in err), err
        assert len(err.strip().splitlines()) == 1


def test_unreadable_file_says_permission_denied(tmp_path):
    folder = tempfile.mkdtemp(dir="/tmp")
    try:
        os.chmod(folder, 0o755)
        path = os.path.join(folder, "secret.flac")
        write_audio(path, seconds=0.2)
        os.chmod(path, 0)
        if os.geteuid() != 0:
            reason = probe(path).error
        else:  # root reads anything: ask as an ordinary user, in a child process
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    os.close(read_end)
                    os.setgid(65534)
                    os.setuid(65534)
                    os.write(write_end, (probe(path).error or "").encode())
                finally:
                    os._exit(0)
            os.close(write_end)
            reason = os.read(read_end, 1000).decode()
            os.close(read_end)
            os.waitpid(pid, 0)
        assert reason == "cannot read the file (permission denied)"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_bad_db_paths_and_worker_counts_are_one_line(tmp_path, capsys, music_dir):
    (tmp_path / "afile").write_text("x")
    cases = [
        (("tracks", "--db", tmp_path), "is a folder, not a library file"),
        (("tracks", "--db", tmp_path / "afile" / "lib.db"), "is a file, not a folder"),
        (("scan", music_dir, "--workers", "-3", "--db", tmp_path / "l.db"), "must be from 1 to 64"),
        (("scan", music_dir, "--workers", "0", "--db", tmp_path / "l.db"), "must be from 1 to 64"),
        (("scan", music_dir, "--workers", "many", "--db", tmp_path / "l.db"), "not a whole number"),
    ]
    for args, message in cases:
        code, out, err = cli(capsys, *args)
        assert code == 2, args
        assert message in err, (args, err)
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "l.db").exists()


def test_mutagen_tags_are_written_to_the_probe(tmp_path):
    """A round trip through the tag writer the other tests use (so their files are what they say)."""
    path = write_audio(tmp_path / "x.opus", seconds=0.3)
    write_tags(path, {"title": "T", "tracknumber": "2/3"})
    result = probe(str(path))
    assert isinstance(result, Probe) and result.ok and result.tags["tracknumber"] == 2

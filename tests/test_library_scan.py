"""Folder import: real files in every format, broken files, rescans, missing and revived tracks."""

import os
import shutil

import pytest
from audiogen import write_audio

from player.library import LibraryError
from player.library.scan import scan, walk_audio_files


def by_name(library):
    return {os.path.basename(t.path): t for t in library.tracks()}


def test_import_every_format_with_and_without_tags(library, music_dir):
    report = scan(library, [music_dir])
    assert report.added == 5 and not report.failed
    tracks = by_name(library)
    loud = tracks["01 - Loud.mp3"]
    assert (loud.title, loud.artist, loud.album, loud.tracknumber, loud.year, loud.genre) == (
        "Loud", "The Band", "First", 1, 1999, "Rock")
    assert loud.format == "mp3" and loud.status == "ok"
    assert tracks["02 - Quiet.ogg"].format == "ogg"
    assert tracks["voice.opus"].format == "opus" and tracks["voice.opus"].samplerate == 48000
    blue = tracks["Blue.flac"]
    assert blue.channels == 2 and blue.format == "flac" and blue.album == "Night"
    # Untagged: the title comes from the file name, tidied.
    assert tracks["untagged_song.wav"].title == "untagged song"
    for t in tracks.values():
        assert t.duration == pytest.approx(2.0, abs=0.08), t.path
        assert t.size > 0 and t.mtime > 0


def make_broken(folder, good):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.mp3").write_bytes(b"")
    (folder / "random.flac").write_bytes(os.urandom(8000))
    (folder / "random.ogg").write_bytes(os.urandom(8000))
    data = (good / "Blue.flac").read_bytes()
    (folder / "truncated.flac").write_bytes(data[: len(data) // 3])
    data = (good / "untagged_song.wav").read_bytes()
    (folder / "truncated.wav").write_bytes(data[: len(data) // 2])
    shutil.copy(good / "untagged_song.wav", folder / "mislabelled.mp3")
    data = bytearray((good / "rock" / "01 - Loud.mp3").read_bytes())
    data[3:10] = b"\xff" * 7  # an impossible ID3 version and size
    (folder / "badtags.mp3").write_bytes(bytes(data))
    (folder / "song.m4a").write_bytes(b"\x00\x00\x00\x20ftypM4A " + os.urandom(200))


def test_broken_files_are_recorded_with_reasons_and_import_goes_on(library, music_dir, tmp_path):
    scan(library, [music_dir])
    before = {t.id: t for t in library.tracks()}
    broken = music_dir / "broken"
    make_broken(broken, music_dir_flat(music_dir))
    report = scan(library, [music_dir])
    # The mislabelled file is imported by its content, with a note saying what it really is; files
    # that stop early play what they have (imported with a warning); damaged tags lose only the tags.
    assert report.added == 4 and report.unchanged == 5
    notes = {os.path.basename(p): note for p, note in report.notes}
    assert notes["mislabelled.mp3"].startswith("mislabelled: it is a WAV file named .mp3")
    assert notes["badtags.mp3"].startswith("damaged tags: the MP3 file's tag block cannot be read")
    failed = {os.path.basename(p): reason for p, reason in report.failed}
    assert set(failed) == {"empty.mp3", "random.flac", "random.ogg", "song.m4a"}
    assert "empty" in failed["empty.mp3"]
    assert "not an audio file" in failed["random.flac"]
    assert failed["song.m4a"] == "damaged or truncated M4A/MP4 file: neither its tags nor its audio can be read"
    for reason in failed.values():
        assert "\n" not in reason and len(reason) < 200 and "b'" not in reason
    tracks = by_name(library)
    for name in failed:
        assert tracks[name].status == "error" and tracks[name].error == failed[name]
        assert tracks[name].warning is None
    warned = {os.path.basename(p): w for p, w in report.warnings}
    assert set(warned) == {"truncated.flac"}
    cut = tracks["truncated.flac"]
    assert cut.status == "ok" and cut.error is None and cut.warning == warned["truncated.flac"]
    assert cut.warning == "the file stops at 0:00, its header announced 0:02"
    assert 0.3 < cut.duration < 1.0
    # libsndfile counts a WAV's frames from the data that is there: the length is what plays.
    assert tracks["truncated.wav"].status == "ok" and tracks["truncated.wav"].duration == pytest.approx(1.0, abs=0.01)
    # FFmpeg finds no LAME header behind the damaged ID3 block: the length is its estimate
    assert tracks["badtags.mp3"].status == "ok" and tracks["badtags.mp3"].duration == pytest.approx(2.0, abs=0.25)
    assert tracks["mislabelled.mp3"].format == "wav" and tracks["mislabelled.mp3"].warning is None
    # Nothing already in the library changed.
    for track_id, old in before.items():
        assert library.track(track_id) == old


def music_dir_flat(music_dir):
    """A flat folder holding copies of the fixture files under simple names."""
    flat = music_dir.parent / "flat"
    flat.mkdir(exist_ok=True)
    shutil.copy(music_dir / "jazz" / "Blue.flac", flat / "Blue.flac")
    shutil.copy(music_dir / "jazz" / "untagged_song.wav", flat / "untagged_song.wav")
    (flat / "rock").mkdir(exist_ok=True)
    shutil.copy(music_dir / "rock" / "01 - Loud.mp3", flat / "rock" / "01 - Loud.mp3")
    return flat


def test_rescan_updates_marks_missing_and_revives_keeping_ratings(library, music_dir):
    scan(library, [music_dir])
    user = library.add_user("ann")
    tracks = by_name(library)
    quiet, blue = tracks["02 - Quiet.ogg"], tracks["Blue.flac"]
    library.rate(user.id, quiet.id, 5)
    library.record_play(user.id, quiet.id, started_at=1.0, seconds_played=100, skipped=False)

    # Edit one file (new tags and length), delete another.
    write_audio(music_dir / "jazz" / "Blue.flac", seconds=3.0, channels=2, tags={"title": "Bluer", "artist": "Trio"})
    os.utime(music_dir / "jazz" / "Blue.flac", (1e9, 1e9))
    moved = music_dir.parent / "aside.ogg"
    shutil.move(music_dir / "rock" / "02 - Quiet.ogg", moved)
    report = scan(library, [music_dir])
    assert (report.updated, report.missing, report.added, report.unchanged) == (1, 1, 0, 3)
    assert library.track(blue.id).title == "Bluer"
    assert library.track(blue.id).duration == pytest.approx(3.0, abs=0.08)
    assert library.track(quiet.id).status == "missing"
    assert library.ratings(user.id) == {quiet.id: 5}
    assert len(library.plays(user.id)) == 1

    # It comes back: same id, ratings and plays intact.
    shutil.move(moved, music_dir / "rock" / "02 - Quiet.ogg")
    report = scan(library, [music_dir])
    assert report.revived == 1 and report.missing == 0
    assert library.track(quiet.id).status == "ok"
    assert library.ratings(user.id) == {quiet.id: 5}
    assert library.track_count() == 5


def test_missing_only_applies_below_the_scanned_folder(library, music_dir):
    scan(library, [music_dir])
    report = scan(library, [music_dir / "jazz"])
    assert report.missing == 0
    assert all(t.status == "ok" for t in library.tracks())


def test_symlink_loops_unreadable_folders_and_non_utf8_names(library, tmp_path):
    root = tmp_path / "lib"
    write_audio(root / "a" / "one.wav")
    os.symlink(root, root / "a" / "loop")  # a loop back to the top
    os.symlink(root / "a" / "one.wav", root / "link.wav")  # a link to a file: the same track
    locked = root / "locked"
    write_audio(locked / "two.wav")
    raw_name = os.fsencode(str(root)) + b"/caf\xe9.wav"  # Latin-1 byte, not UTF-8
    os.rename(write_audio(root / "plain.wav"), raw_name)
    os.chmod(locked, 0)
    try:
        report = scan(library, [root])
    finally:
        os.chmod(locked, 0o755)
    names = sorted(os.path.basename(t.path) for t in library.tracks())
    assert "one.wav" in names and "link.wav" not in names
    assert os.fsdecode(b"caf\xe9.wav") in names
    odd = [t for t in library.tracks() if t.path.endswith(os.fsdecode(b"caf\xe9.wav"))][0]
    assert odd.status == "ok" and "\\xe9" in odd.display_path
    assert os.path.exists(odd.path)
    # Every folder was visited once despite the loop.
    assert len([n for n in names if n == "one.wav"]) == 1
    if os.geteuid() != 0:  # root reads the folder whatever its permission bits say
        assert any("locked" in folder for folder, _ in report.folder_errors)
    else:
        assert "two.wav" in names


def test_progress_and_cancel(library, tmp_path):
    root = tmp_path / "many"
    for i in range(30):
        write_audio(root / f"t{i:02d}.wav", seconds=0.2)
    seen = []
    report = scan(library, [root], progress=lambda done, total, path: seen.append((done, total)),
                  cancel=lambda: len(seen) > 10, workers=1)
    assert report.cancelled
    assert 0 < library.track_count() < 30
    assert seen[-1][1] == 30
    report = scan(library, [root])
    assert library.track_count() == 30 and not report.cancelled


def test_walk_skips_non_audio_and_bad_roots(tmp_path):
    write_audio(tmp_path / "x" / "a.flac")
    (tmp_path / "x" / "cover.jpg").write_bytes(b"jpg")
    errors = []
    assert [os.path.basename(p) for p in walk_audio_files([tmp_path / "x"], errors)] == ["a.flac"]
    walk_audio_files([tmp_path / "nope"], errors)
    assert errors and "nope" in errors[0][0]


def test_scan_of_a_missing_folder_is_a_clear_error(library, tmp_path):
    with pytest.raises(LibraryError, match="no such folder"):
        scan(library, [tmp_path / "does-not-exist"])


def test_tags_are_read_from_every_format(library, tmp_path):
    tags = {"title": "Song", "artist": "Singer", "album": "Record", "tracknumber": "7", "date": "2004"}
    for ext in ("mp3", "ogg", "opus", "flac", "wav"):
        write_audio(tmp_path / "t" / f"x.{ext}", tags=tags)
    scan(library, [tmp_path / "t"])
    for t in library.tracks():
        assert (t.title, t.artist, t.album, t.tracknumber, t.year) == ("Song", "Singer", "Record", 7, 2004), t.path

"""The import reads every format the player plays, by content, with honest lengths and warnings; covers
are found as files are imported. Real files: PyAV's encoders (audiogen), tags and pictures by mutagen."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import struct
from pathlib import Path

import av
import mutagen
import numpy as np
import pytest
from audiogen import write_audio
from test_library_covers import embed, encoded

from player.library import covers
from player.library import scan as scan_mod
from player.library.probe import AUDIO_EXTENSIONS
from player.library.scan import scan

TAGS = {"title": "Song", "artist": "Singer", "album": "Record", "tracknumber": "7", "date": "2004"}


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))


def by_name(library):
    return {os.path.basename(t.path): t for t in library.tracks()}


def tag_wma(path: Path) -> None:
    from mutagen.asf import ASF

    f = ASF(path)
    for name, value in (("Title", "Song"), ("Author", "Singer"), ("WM/AlbumTitle", "Record"),
                        ("WM/TrackNumber", "7"), ("WM/Year", "2004")):
        f[name] = [value]
    f.save()


def tag_id3(path: Path) -> None:
    from mutagen import id3

    f = mutagen.File(path)
    f.add_tags()
    for frame, value in ((id3.TIT2, "Song"), (id3.TPE1, "Singer"), (id3.TALB, "Record"), (id3.TRCK, "7/9"),
                         (id3.TDRC, "2004")):
        f.tags.add(frame(encoding=3, text=value))
    f.save()


def tag_ape(path: Path) -> None:
    """APEv2 as taggers write it in WavPack files ("Track", "Year")."""
    from mutagen.wavpack import WavPack

    f = WavPack(path)
    if f.tags is None:
        f.add_tags()
    for key, value in (("Title", "Song"), ("Artist", "Singer"), ("Album", "Record"), ("Track", "7/9"),
                       ("Year", "2004")):
        f.tags[key] = value
    f.save()


def remux_with_tags(src: Path, dst: Path, tags: dict) -> Path:
    """A copy of a Matroska file whose container carries ``tags`` (FFmpeg's metadata)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="matroska") as out:
        out.metadata.update(tags)
        st = out.add_stream_from_template(inp.streams.audio[0])
        for packet in inp.demux(inp.streams.audio[0]):
            if packet.dts is None:
                continue
            packet.stream = st
            out.mux(packet)
    return dst


def test_every_format_is_imported_with_its_tags_and_length(library, tmp_path):
    root = tmp_path / "all"
    write_audio(root / "aac.m4a", seconds=3.0, channels=2, tags=TAGS)
    write_audio(root / "alac.m4a", seconds=3.0, channels=2, tags=TAGS, codec="alac")
    tag_wma(write_audio(root / "w.wma", seconds=3.0, channels=2))
    tag_ape(write_audio(root / "pack.wv", seconds=3.0, channels=2))
    tag_id3(write_audio(root / "sleeve.aiff", seconds=3.0, channels=2))
    write_audio(root / "t.tta", seconds=3.0, tags=TAGS)
    plain = write_audio(tmp_path / "plain.mka", seconds=3.0, channels=2)
    remux_with_tags(plain, root / "m.mka", {"title": "Song", "artist": "Singer", "album": "Record",
                                            "track": "7", "date": "2004"})
    write_audio(root / "untagged.webm", seconds=3.0)
    write_audio(root / "a.aac", seconds=3.0, channels=2)
    write_audio(root / "lame.mp3", seconds=3.0, tags=TAGS, codec="libmp3lame")
    report = scan(library, [root])
    assert report.added == 10 and not report.failed and not report.warnings, report
    tracks = by_name(library)
    want = {"aac.m4a": "m4a", "alac.m4a": "alac", "w.wma": "wma", "pack.wv": "wv", "sleeve.aiff": "aiff",
            "t.tta": "tta", "m.mka": "mka", "untagged.webm": "webm", "a.aac": "aac", "lame.mp3": "mp3"}
    for name, fmt in want.items():
        t = tracks[name]
        assert (t.status, t.format, t.warning) == ("ok", fmt, None), name
        assert t.duration == pytest.approx(3.0, abs=0.07 if fmt in ("wma", "aac") else 0.002), name
        assert t.samplerate in (22050, 48000) and t.channels in (1, 2)
        if name not in ("untagged.webm", "a.aac"):
            assert (t.title, t.artist, t.album, t.tracknumber, t.year) == ("Song", "Singer", "Record", 7, 2004), name
    assert tracks["untagged.webm"].title == "untagged" and tracks["untagged.webm"].artist is None
    # The import looks at every extension of a format it reads.
    assert {".m4b", ".mp4", ".alac", ".ape", ".mpc", ".aif", ".oga", ".webm", ".opus"} <= set(AUDIO_EXTENSIONS)


def test_formats_are_read_by_content_whatever_the_name(library, tmp_path):
    root = tmp_path / "renamed"
    root.mkdir()
    shutil.copy(write_audio(tmp_path / "src" / "x.m4a", seconds=1.0, tags=TAGS), root / "x.mp3")
    shutil.copy(write_audio(tmp_path / "src" / "y.wv", seconds=1.0), root / "y.flac")
    report = scan(library, [root])
    tracks = by_name(library)
    assert (tracks["x.mp3"].format, tracks["x.mp3"].title, tracks["x.mp3"].status) == ("m4a", "Song", "ok")
    assert (tracks["y.flac"].format, tracks["y.flac"].status) == ("wv", "ok")
    notes = {os.path.basename(p): n for p, n in report.notes}
    assert notes == {"x.mp3": "mislabelled: it is an M4A/MP4 file named .mp3 (read by its content)",
                     "y.flac": "mislabelled: it is a WavPack file named .flac (read by its content)"}


def _xing_frames_offset(data: bytes) -> int:
    at = data.find(b"Xing")
    if at < 0:
        at = data.find(b"Info")
    assert at > 0 and data[at + 7] & 1, "a LAME header with a frame count"
    return at + 8


def test_an_mp3_announcing_a_little_more_than_decodes_is_ok(library, tmp_path):
    root = tmp_path / "mp3"
    good = write_audio(tmp_path / "good.mp3", seconds=10.0, codec="libmp3lame", tags=TAGS)
    data = bytearray(good.read_bytes())
    at = _xing_frames_offset(data)
    frames = struct.unpack(">I", data[at:at + 4])[0]
    root.mkdir()
    for name, extra in (("slightly.mp3", 8), ("shorter.mp3", 60)):  # 0.2 s and 1.6 s more than is there
        data[at:at + 4] = struct.pack(">I", frames + extra)
        (root / name).write_bytes(bytes(data))
    (root / "junk.mp3").write_bytes(good.read_bytes() + os.urandom(3000))  # trailing junk
    report = scan(library, [root])
    assert report.added == 3 and not report.failed
    tracks = by_name(library)
    for name in ("slightly.mp3", "junk.mp3"):
        t = tracks[name]
        assert (t.status, t.error, t.warning) == ("ok", None, None), name
        assert t.duration == pytest.approx(10.0, abs=0.5), name
        assert t.title == "Song"
    short = tracks["shorter.mp3"]
    assert short.status == "ok" and short.duration == pytest.approx(10.0, abs=0.01)
    assert short.warning == "the file stops at 0:10, its header announced 0:11"
    assert [os.path.basename(p) for p, _w in report.warnings] == ["shorter.mp3"]
    assert "1 stops early (imported with a warning)" in report.summary()


def test_truncated_files_are_imported_with_a_warning(library, tmp_path):
    root = tmp_path / "cut"
    root.mkdir()
    src = tmp_path / "src"
    for name, codec in (("long.flac", None), ("lame.mp3", "libmp3lame"), ("song.m4a", None), ("pack.wv", None),
                        ("opus.mka", None)):
        data = write_audio(src / name, seconds=12.0, channels=2, codec=codec).read_bytes()
        (root / name).write_bytes(data[: len(data) // 2])
    report = scan(library, [root])
    tracks = by_name(library)
    # An MP4 cut in half has lost its index (the moov atom is written last): nothing can be decoded.
    assert report.failed == [(str(root / "song.m4a"),
                              "damaged or truncated M4A/MP4 file: neither its tags nor its audio can be read")]
    for name in ("long.flac", "lame.mp3", "pack.wv", "opus.mka"):
        t = tracks[name]
        assert t.status == "ok" and t.error is None, name
        assert 4.0 < t.duration < 8.0, (name, t.duration)
        assert t.warning.startswith("the file stops at 0:0") and t.warning.endswith("its header announced 0:12"), name
        assert report.warnings.count((t.path, t.warning)) == 1
    assert tracks["song.m4a"].status == "error" and tracks["song.m4a"].warning is None


def test_files_without_decodable_audio_are_errors_in_words(library, tmp_path):
    root = tmp_path / "bad"
    root.mkdir()
    rng = np.random.default_rng(7)
    (root / "noise.m4a").write_bytes(rng.integers(0, 256, 20000, dtype=np.uint8).tobytes())
    (root / "noise.wma").write_bytes(rng.integers(0, 256, 20000, dtype=np.uint8).tobytes())
    (root / "text.mka").write_text("these are not the sounds you are looking for\n" * 50)
    (root / "head.wv").write_bytes(b"wvpk" + bytes(60))
    report = scan(library, [root])
    failed = dict((os.path.basename(p), r) for p, r in report.failed)
    assert set(failed) == {"noise.m4a", "noise.wma", "text.mka", "head.wv"}
    assert failed["noise.m4a"] == "not an audio file FFmpeg or libsndfile can read"
    assert failed["noise.wma"] == "not an audio file FFmpeg or libsndfile can read"
    assert failed["head.wv"].startswith("damaged or truncated WavPack file")
    for reason in failed.values():
        assert "\n" not in reason and "b'" not in reason and "Errno" not in reason and len(reason) < 200


def test_a_big_picture_in_the_tags_does_not_make_a_warning(library, tmp_path):
    """FFmpeg estimates an ASF file's length from its size; with a big picture in its header that is
    seconds too long, while the header's own figure is right: no "stops early" warning."""
    root = tmp_path / "art"
    embed(write_audio(root / "w.wma", seconds=20.0, channels=2), [(3, os.urandom(3) + encoded(600, 600, 3) * 3)])
    scan(library, [root])
    t = by_name(library)["w.wma"]
    assert t.status == "ok" and t.warning is None and t.duration == pytest.approx(20.0, abs=0.07)


# -- covers -----------------------------------------------------------------------------------------
def test_covers_are_found_as_files_are_imported(library, tmp_path):
    root = tmp_path / "music"
    art = encoded(320, 240, 1)
    embed(write_audio(root / "one" / "a.mp3", seconds=0.5), [(3, art)])
    embed(write_audio(root / "one" / "b.m4a", seconds=0.5), [(3, art)])
    embed(write_audio(root / "one" / "c.wma", seconds=0.5), [(3, encoded(100, 100, 2))])
    write_audio(root / "two" / "d.flac", seconds=0.5)
    write_audio(root / "two" / "e.mka", seconds=0.5)  # tags FFmpeg reads: the folder image
    (root / "two" / "cover.jpg").write_bytes(encoded(500, 500, 4))
    write_audio(root / "three" / "f.ogg", seconds=0.5)
    report = scan(library, [root])
    assert report.added == 6 and report.covers_filled == 0
    ids = {Path(t.path).name: t.id for t in library.tracks()}
    got = {name: covers.cover_json(library, i) for name, i in ids.items()}
    assert got == {
        "a.mp3": {"source": "embedded", "width": 320, "height": 240},
        "b.m4a": {"source": "embedded", "width": 320, "height": 240},
        "c.wma": {"source": "embedded", "width": 100, "height": 100},
        "d.flac": {"source": "folder", "width": 500, "height": 500},
        "e.mka": {"source": "folder", "width": 500, "height": 500},
        "f.ogg": None,
    }
    assert covers.tracks_needing_covers(library) == []  # f.ogg was looked at: it has none
    assert library.db.query_one("SELECT COUNT(*) FROM covers")[0] == 3  # a and b share one picture


def test_huge_or_corrupt_pictures_neither_stall_nor_fail_the_import(library, tmp_path, caplog):
    root = tmp_path / "music"
    huge = encoded(64, 64, 1) + os.urandom(20 * 1024 * 1024)  # a JPEG header and 20 MB
    embed(write_audio(root / "big.mp3", seconds=0.5), [(3, huge)])
    embed(write_audio(root / "junk.mp3", seconds=0.5), [(3, os.urandom(5000))])
    embed(write_audio(root / "second.mp3", seconds=0.5), [(3, os.urandom(5000)), (0, encoded(80, 60, 5))])
    report = scan(library, [root])
    assert report.added == 3 and not report.failed
    tracks = by_name(library)
    assert all(t.status == "ok" for t in tracks.values())
    assert covers.cover_json(library, tracks["big.mp3"].id) is None
    assert covers.cover_json(library, tracks["junk.mp3"].id) is None
    assert covers.cover_json(library, tracks["second.mp3"].id) == {"source": "embedded", "width": 80, "height": 60}


def test_tracks_imported_before_covers_get_theirs_on_the_next_scan(library, tmp_path):
    root = tmp_path / "music"
    embed(write_audio(root / "a.mp3", seconds=0.5), [(3, encoded(90, 90, 1))])
    write_audio(root / "b.ogg", seconds=0.5)
    write_audio(tmp_path / "elsewhere" / "c.flac", seconds=0.5)
    scan(library, [root, tmp_path / "elsewhere"], covers=False)
    assert len(covers.tracks_needing_covers(library)) == 3
    report = scan(library, [root])  # nothing changed: only the covers are filled in, below this folder
    assert (report.unchanged, report.covers_filled) == (2, 2)
    ids = {Path(t.path).name: t.id for t in library.tracks()}
    assert covers.cover_json(library, ids["a.mp3"]) == {"source": "embedded", "width": 90, "height": 90}
    assert covers.tracks_needing_covers(library) == [(ids["c.flac"], str(tmp_path / "elsewhere" / "c.flac"))]
    assert scan(library, [root]).covers_filled == 0


# -- rescans ----------------------------------------------------------------------------------------
def test_files_still_in_error_are_counted_on_a_rescan(library, tmp_path):
    root = tmp_path / "m"
    write_audio(root / "good.flac", seconds=0.5)
    for i in range(3):
        (root / f"bad{i}.mp3").write_bytes(b"not audio at all" * 100)
    first = scan(library, [root])
    assert len(first.failed) == 3 and not first.still_failing
    again = scan(library, [root])
    assert (again.unchanged, len(again.failed)) == (1, 0)
    assert sorted(os.path.basename(p) for p, _r in again.still_failing) == ["bad0.mp3", "bad1.mp3", "bad2.mp3"]
    assert all(reason == "not an audio file FFmpeg or libsndfile can read" for _p, reason in again.still_failing)
    assert "0 failed, 3 still cannot be read" in again.summary() and again.processed == 4
    # Mended: read again and counted as updated.
    write_audio(root / "bad0.mp3", seconds=0.5)
    os.utime(root / "bad0.mp3", (1e9, 1e9))
    third = scan(library, [root])
    assert third.updated == 1 and len(third.still_failing) == 2
    assert by_name(library)["bad0.mp3"].status == "ok"


# -- worker processes -------------------------------------------------------------------------------
def crash_in_a_worker(paths, covers):
    """Stands for a decoder that crashes its process (run in worker processes by pickled name)."""
    if multiprocessing.parent_process() is not None:
        os._exit(3)
    return scan_mod.__dict__["_probe_files_real"](paths, covers)


@pytest.mark.timeout(120)
def test_big_imports_probe_in_worker_processes_and_survive_a_crash(library, tmp_path, monkeypatch):
    root = tmp_path / "m"
    sources = [write_audio(tmp_path / f"s{i}.{ext}", seconds=0.3, tags={"title": f"S{i}"})
               for i, ext in enumerate(("flac", "mp3", "ogg"))]
    for i in range(40):
        dst = root / f"t{i:02d}{sources[i % 3].suffix}"
        dst.parent.mkdir(exist_ok=True)
        shutil.copy(sources[i % 3], dst)
    monkeypatch.setattr(scan_mod, "PROCESS_MIN", 10)
    monkeypatch.setattr(scan_mod, "CHUNK", 4)
    monkeypatch.setattr(scan_mod, "_cores", lambda: 2)
    pools, fallbacks = [], []
    real_pool, real_fallback = scan_mod._process_pool, scan_mod._Workers._to_threads
    monkeypatch.setattr(scan_mod, "_process_pool", lambda n: pools.append(real_pool(n)) or pools[-1])
    monkeypatch.setattr(scan_mod._Workers, "_to_threads",
                        lambda self: fallbacks.append(self.procs is not None) or real_fallback(self))
    report = scan(library, [root], workers=2)
    assert len(pools) == 1 and pools[0] is not None and fallbacks == []
    assert report.added == 40 and not report.failed
    assert {t.title for t in library.tracks()} == {"S0", "S1", "S2"}
    assert all(t.duration == pytest.approx(0.3, abs=0.06) for t in library.tracks())

    # A worker process that dies: the rest of the import goes on in threads, nothing is lost.
    for i in range(20):
        shutil.copy(sources[i % 3], root / f"u{i:02d}{sources[i % 3].suffix}")
    monkeypatch.setitem(scan_mod.__dict__, "_probe_files_real", scan_mod._probe_files)
    monkeypatch.setattr(scan_mod, "_probe_files", crash_in_a_worker)
    report = scan(library, [root], workers=2)
    assert len(pools) == 2 and fallbacks[:1] == [True]
    assert (report.added, report.unchanged, len(report.failed)) == (20, 40, 0)
    assert library.track_count() == 60 and all(t.status == "ok" for t in library.tracks())

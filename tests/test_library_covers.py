"""Cover art: embedded pictures in every tag format, folder images, bad pictures, thumbnails, storage.

Real files throughout: audio from audiogen (PyAV for m4a and wma), pictures encoded by OpenCV and
embedded with mutagen, folder images written with cv2.imwrite.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import sqlite3
import struct
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import mutagen
import numpy as np
import pytest

from audiogen import write_audio
from player.library import covers
from player.library.covers import CoverRef, find_cover, find_cover_in_tags, thumbnail

FORMATS = ["mp3", "flac", "ogg", "opus", "m4a", "wma", "wav"]


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def image(w: int, h: int, seed: int = 0) -> np.ndarray:
    """A picture that differs by seed: a colour gradient plus a block of the seed's colour."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :, 0] = (np.arange(w)[None, :] * 255 // max(1, w - 1)).astype(np.uint8)
    img[:, :, 1] = (np.arange(h)[:, None] * 255 // max(1, h - 1)).astype(np.uint8)
    img[: h // 2, : w // 2] = rng.integers(0, 256, 3, dtype=np.uint8)
    return img


def encoded(w: int, h: int, seed: int = 0, ext: str = ".jpg") -> bytes:
    ok, buf = cv2.imencode(ext, image(w, h, seed))
    assert ok
    return buf.tobytes()


def embed(path: Path, pictures: list[tuple[int, bytes]], mime: str = "image/jpeg") -> Path:
    """Embed (picture type, bytes) in ``path`` the way each format stores pictures."""
    ext = path.suffix.lower()
    if ext in (".mp3", ".wav"):
        from mutagen.id3 import APIC

        f = mutagen.File(path)
        if f.tags is None:
            f.add_tags()
        for i, (kind, data) in enumerate(pictures):
            f.tags.add(APIC(encoding=3, mime=mime, type=kind, desc=f"p{i}", data=data))
        f.save()
    elif ext == ".flac":
        from mutagen.flac import FLAC, Picture

        f = FLAC(path)
        for kind, data in pictures:
            pic = Picture()
            pic.type, pic.mime, pic.data = kind, mime, data
            f.add_picture(pic)
        f.save()
    elif ext in (".ogg", ".opus"):
        from mutagen.flac import Picture

        f = mutagen.File(path)
        blocks = []
        for kind, data in pictures:
            pic = Picture()
            pic.type, pic.mime, pic.data = kind, mime, data
            blocks.append(base64.b64encode(pic.write()).decode("ascii"))
        f["metadata_block_picture"] = blocks
        f.save()
    elif ext == ".m4a":
        from mutagen.mp4 import MP4, MP4Cover

        f = MP4(path)
        f["covr"] = [MP4Cover(data, MP4Cover.FORMAT_JPEG) for _kind, data in pictures]
        f.save()
    elif ext == ".wma":
        from mutagen.asf import ASF, ASFByteArrayAttribute

        f = ASF(path)
        f["WM/Picture"] = [
            ASFByteArrayAttribute(bytes([kind]) + struct.pack("<I", len(data)) + mime.encode("utf-16-le")
                                  + b"\0\0" + "front".encode("utf-16-le") + b"\0\0" + data)
            for kind, data in pictures
        ]
        f.save()
    else:
        raise AssertionError(ext)
    return path


def track(folder: Path, name: str, pictures=(), **kw) -> Path:
    path = write_audio(folder / name, seconds=0.3, **kw)
    return embed(path, list(pictures)) if pictures else path


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def png_bomb(w: int, h: int) -> bytes:
    """A valid PNG header claiming ``w`` x ``h`` pixels, with a tiny compressed body."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")


def jpeg_claiming(w: int, h: int) -> bytes:
    """A real JPEG whose frame header (SOF) is patched to claim ``w`` x ``h``."""
    data = bytearray(encoded(64, 48))
    i = 2
    while data[i + 1] not in (0xC0, 0xC2):
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    data[i + 5:i + 7] = h.to_bytes(2, "big")
    data[i + 7:i + 9] = w.to_bytes(2, "big")
    return bytes(data)


def one_line_warnings(caplog, needle: str) -> list[str]:
    found = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and needle in r.getMessage()]
    assert found, f"no log line with {needle!r}: {[r.getMessage() for r in caplog.records]}"
    assert all("\n" not in m for m in found)
    return found


# -- finding ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ext", FORMATS)
def test_embedded_picture_in_every_format(tmp_path, ext):
    data = encoded(300, 200, seed=1)
    path = track(tmp_path, f"song.{ext}", [(3, data)])
    before = path.read_bytes()
    ref = find_cover(path)
    assert ref == CoverRef("embedded", sha1(data), "image/jpeg", 300, 200, str(path))
    # The scan's already-opened, "easy" mutagen object gives the same answer.
    assert find_cover_in_tags(mutagen.File(path, easy=True), path) == ref
    assert find_cover_in_tags(mutagen.File(path), path) == ref
    assert covers.read_picture(ref) == data
    thumb = thumbnail(ref, 64)
    assert cv2.imread(str(thumb)).shape == (43, 64, 3)
    assert path.read_bytes() == before  # music files are only read


@pytest.mark.parametrize("ext", ["mp3", "flac", "ogg", "wma"])
def test_front_cover_is_preferred_and_icons_come_last(tmp_path, ext):
    icon, back, front, other = (encoded(32, 32, 1), encoded(90, 90, 2), encoded(100, 80, 3), encoded(50, 50, 4))
    with_front = track(tmp_path, f"a.{ext}", [(1, icon), (4, back), (3, front)])
    assert find_cover(with_front).hash == sha1(front)
    without_front = track(tmp_path, f"b.{ext}", [(1, icon), (0, other), (4, back)])
    assert find_cover(without_front).hash == sha1(other)
    only_icon = track(tmp_path, f"c.{ext}", [(1, icon)])
    assert (find_cover(only_icon).width, find_cover(only_icon).height) == (32, 32)


def test_album_tracks_with_one_picture_share_its_hash(tmp_path):
    art, other = encoded(200, 200, 1), encoded(200, 200, 2)
    refs = [find_cover(track(tmp_path, f"{i}.{ext}", [(3, art)])) for i, ext in enumerate(["mp3", "flac", "m4a"])]
    assert len({r.hash for r in refs}) == 1 and len({r.path for r in refs}) == 3
    assert find_cover(track(tmp_path, "x.mp3", [(3, other)])).hash != refs[0].hash


def test_folder_images_by_name_then_extension_any_case(tmp_path):
    album = tmp_path / "album"
    song = track(album, "01.flac")  # no picture inside
    cv2.imwrite(str(album / "ALBUM.jpg"), image(60, 60, 1))
    cv2.imwrite(str(album / "Front.png"), image(70, 70, 2))
    cv2.imwrite(str(album / "folder.JPEG"), image(80, 80, 3))
    cv2.imwrite(str(album / "Cover.png"), image(90, 90, 4))
    (album / "cover.jpg.bak").write_bytes(encoded(95, 95, 4))  # not a cover name
    cv2.imwrite(str(album / "scan.jpg"), image(99, 99, 5))
    expected = [("Cover.png", 90, "image/png"), ("folder.JPEG", 80, "image/jpeg"), ("Front.png", 70, "image/png"),
                ("ALBUM.jpg", 60, "image/jpeg")]
    for name, side, mime in expected:
        ref = find_cover(song)
        assert (ref.source, Path(ref.path).name, ref.width, ref.mime) == ("folder", name, side, mime)
        assert ref.hash == sha1((album / name).read_bytes())
        (album / name).unlink()  # the next one takes over (the folder's listing is looked at again)
    assert find_cover(song) is None
    # cover.jpeg beats cover.png; an embedded picture beats them all.
    cv2.imwrite(str(album / "cover.png"), image(20, 20, 6))
    cv2.imwrite(str(album / "cover.jpeg"), image(30, 30, 7))
    assert Path(find_cover(song).path).name == "cover.jpeg"
    inside = encoded(40, 40, 8)
    embed(song, [(3, inside)])
    assert find_cover(song).hash == sha1(inside) and find_cover(song).source == "embedded"


def test_a_folder_image_changed_in_place_is_read_again(tmp_path):
    song = track(tmp_path, "s.wav")
    cv2.imwrite(str(tmp_path / "cover.jpg"), image(50, 50, 1))
    first = find_cover(song)
    time.sleep(0.01)
    cv2.imwrite(str(tmp_path / "cover.jpg"), image(120, 60, 2))
    second = find_cover(song)
    assert second.hash != first.hash and (second.width, second.height) == (120, 60)


def test_an_albums_folder_is_looked_at_once_until_it_changes(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    album = tmp_path / "album"
    songs = [track(album, f"{i}.ogg") for i in range(3)]
    (album / "cover.jpg").write_bytes(jpeg_claiming(30000, 20000))
    cv2.imwrite(str(album / "folder.jpg"), image(40, 40))
    hour_ago = time.time() - 3600
    for p in [album, *album.iterdir()]:
        os.utime(p, (hour_ago, hour_ago))
    assert {Path(find_cover(s).path).name for s in songs} == {"folder.jpg"}
    assert len(one_line_warnings(caplog, "it claims")) == 1  # the bad image is read (and logged) once
    cv2.imwrite(str(album / "cover.jpg"), image(64, 32))  # changed in place: seen at once
    assert (find_cover(songs[0]).width, find_cover(songs[1]).height) == (64, 32)
    (album / "cover.jpg").unlink()
    assert Path(find_cover(songs[2]).path).name == "folder.jpg"


# -- bad pictures and tags ------------------------------------------------------------------------------
def test_a_corrupt_embedded_picture_gives_way_to_the_folder_image(tmp_path, caplog):
    song = track(tmp_path, "s.mp3", [(3, os.urandom(5000))])
    cv2.imwrite(str(tmp_path / "folder.jpg"), image(64, 64))
    caplog.set_level(logging.WARNING)
    ref = find_cover(song)
    assert ref.source == "folder" and Path(ref.path).name == "folder.jpg"
    one_line_warnings(caplog, "not a JPEG, PNG, GIF, WebP or BMP picture")


def test_too_big_pictures_are_ignored(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    big = encoded(100, 100) + b"\0" * (20 * 2**20)  # a real JPEG followed by 20 MB
    song = track(tmp_path / "a", "s.mp3", [(3, big)])
    assert find_cover(song) is None
    one_line_warnings(caplog, "over the 16 MB limit")
    # A 20 MB folder image is refused from its size, before it is read.
    song2 = track(tmp_path / "b", "s.ogg")
    (tmp_path / "b" / "cover.jpg").write_bytes(big)
    cv2.imwrite(str(tmp_path / "b" / "folder.jpg"), image(30, 30))
    assert Path(find_cover(song2).path).name == "folder.jpg"


def test_image_bombs_are_ignored_without_decoding(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    bomb_png, bomb_jpg = png_bomb(30000, 30000), jpeg_claiming(30000, 30000)
    assert covers.image_header(bomb_png).width == 30000 and covers.image_header(bomb_jpg).height == 30000
    song = track(tmp_path, "s.flac", [(3, bomb_png), (0, bomb_jpg)])
    (tmp_path / "cover.png").write_bytes(bomb_png)
    (tmp_path / "cover.jpg").write_bytes(jpeg_claiming(9000, 100))  # over 8192 a side
    (tmp_path / "front.jpg").write_bytes(jpeg_claiming(8000, 6000))  # 48 Mpx: over 40 Mpx
    started = time.perf_counter()
    assert find_cover(song) is None
    assert thumbnail(tmp_path / "cover.png", 128) is None
    assert time.perf_counter() - started < 2.0
    lines = one_line_warnings(caplog, "it claims")
    assert any("30000x30000" in m for m in lines) and any("8000x6000" in m for m in lines)


def test_a_truncated_tag_is_logged_and_the_folder_image_used(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    song = track(tmp_path, "s.flac", [(3, encoded(400, 400) + os.urandom(200_000))])
    data = song.read_bytes()
    song.write_bytes(data[:100_000])  # cut inside the picture block
    cv2.imwrite(str(tmp_path / "cover.jpg"), image(50, 40))
    ref = find_cover(song)
    assert ref.source == "folder" and (ref.width, ref.height) == (50, 40)
    one_line_warnings(caplog, "cannot read the tags")
    assert find_cover(tmp_path / "does-not-exist.mp3") == find_cover(song)  # folder image still found


def test_a_damaged_picture_body_gives_no_thumbnail(tmp_path, data_dir, caplog):
    caplog.set_level(logging.WARNING)
    good = encoded(200, 200)
    damaged = good[:200] + os.urandom(4000)  # the header survives, the picture does not
    song = track(tmp_path, "s.m4a", [(3, damaged)])
    ref = find_cover(song)
    assert ref is not None and (ref.width, ref.height) == (200, 200)
    assert thumbnail(ref, 128) is None
    one_line_warnings(caplog, "cannot decode")
    assert not list((data_dir / "cache").rglob("*.jpg"))


def test_damaged_vorbis_and_asf_picture_fields(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    song = track(tmp_path, "s.ogg")
    f = mutagen.File(song)
    f["metadata_block_picture"] = ["not base64 at all!!", base64.b64encode(b"\0\0\0\3 short").decode()]
    f.save()
    wma = track(tmp_path, "s.wma")
    from mutagen.asf import ASF, ASFByteArrayAttribute

    f = ASF(wma)
    f["WM/Picture"] = [ASFByteArrayAttribute(b"\x03\x10\0\0\0i\0m\0")]  # no end to its mime type
    f.save()
    cv2.imwrite(str(tmp_path / "cover.jpg"), image(10, 10))
    assert find_cover(song).source == "folder" and find_cover(wma).source == "folder"
    one_line_warnings(caplog, "METADATA_BLOCK_PICTURE")
    one_line_warnings(caplog, "WM/Picture")


# -- thumbnails -----------------------------------------------------------------------------------------
def test_thumbnails_fit_the_size_and_are_cached(tmp_path, data_dir, caplog):
    pic = image(1000, 800, 3)
    data = cv2.imencode(".jpg", pic, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    song = track(tmp_path, "s.mp3", [(3, data)])
    ref = find_cover(song)
    for size, shape in ((64, (51, 64)), (128, (102, 128)), (256, (205, 256))):
        path = thumbnail(ref, size)
        assert path == data_dir / "cache" / "covers" / ref.hash[:2] / f"{ref.hash}-{size}.jpg"
        thumb = cv2.imread(str(path))
        assert thumb.shape[:2] == shape
        expected = cv2.resize(pic, shape[::-1], interpolation=cv2.INTER_AREA)
        assert np.abs(thumb.astype(int) - expected).mean() < 8  # the same picture, not just the same size
    made = thumbnail(ref, 128).stat().st_mtime_ns
    song.unlink()  # a second call does not read the picture again
    assert thumbnail(ref, 128).stat().st_mtime_ns == made
    caplog.set_level(logging.WARNING)
    assert thumbnail(ref, 200) is None  # a new size needs the picture, which has gone
    one_line_warnings(caplog, "no longer embedded")
    # A small picture is not enlarged; an image file works as well as a music file.
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), image(40, 30))
    assert cv2.imread(str(thumbnail(small, 128))).shape == (30, 40, 3)
    assert thumbnail(track(tmp_path, "t.wav"), 64) is None  # no picture inside, no cover image next to it
    other = track(tmp_path / "other", "o.opus", [(3, data)])
    assert thumbnail(other, 64) == thumbnail(ref, 64)  # a music file's own picture: the same cache file
    assert not list(data_dir.rglob("*.tmp"))


def test_a_big_jpeg_is_decoded_at_a_reduced_scale(tmp_path):
    import tracemalloc

    big = tmp_path / "cover.jpg"
    cv2.imwrite(str(big), cv2.resize(image(400, 300), (4000, 3000)))  # 36 MB once decoded in full
    tracemalloc.start()
    try:
        path = thumbnail(big, 256)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert cv2.imread(str(path)).shape == (192, 256, 3)
    assert peak < 6 * 2**20  # decoded at 1/8 (500x375), not 4000x3000


def test_thumbnails_from_many_threads(tmp_path, data_dir):
    refs = [find_cover(track(tmp_path, f"{i}.flac", [(3, encoded(300 + 10 * i, 300, i))])) for i in range(6)]
    jobs = [(ref, size) for ref in refs for size in (64, 128, 256)] * 3
    with ThreadPoolExecutor(6) as pool:
        paths = list(pool.map(lambda job: thumbnail(*job), jobs))
    assert all(p is not None and p.is_file() for p in paths)
    assert len(set(paths)) == len(refs) * 3
    assert not list(data_dir.rglob("*.tmp"))
    with pytest.raises(ValueError):
        thumbnail(refs[0], 0)


# -- the library ----------------------------------------------------------------------------------------
def test_covers_saved_and_read_back_from_the_library(tmp_path, library, caplog):
    from player.library.scan import scan

    art = encoded(320, 240, 1)
    music = tmp_path / "music"
    a = track(music / "one", "a.mp3", [(3, art)])
    b = track(music / "one", "b.flac", [(3, art)])
    c_ = track(music / "two", "c.ogg")
    cv2.imwrite(str(music / "two" / "Folder.jpg"), image(500, 500, 2))
    d = track(music / "three", "d.wav")
    scan(library, [music])
    ids = {Path(t.path).name: t.id for t in library.tracks()}
    assert covers.tracks_needing_covers(library) == []  # the scan looked for them
    with library.db.transaction() as c:
        for path in (a, b, c_, d):
            covers.save_cover(c, ids[path.name], find_cover(path))
    assert covers.tracks_needing_covers(library) == []
    ref_a = covers.cover_for_track(library, ids["a.mp3"])
    assert ref_a == find_cover(a) and ref_a.path == str(a)
    assert covers.cover_for_track(library, ids["b.flac"]).hash == ref_a.hash
    assert library.db.query_one("SELECT COUNT(*) AS n FROM covers")["n"] == 2  # a and b share one row
    assert covers.cover_json(library, ids["a.mp3"]) == {"source": "embedded", "width": 320, "height": 240}
    assert covers.cover_json(library, ids["c.ogg"]) == {"source": "folder", "width": 500, "height": 500}
    assert covers.cover_for_track(library, ids["c.ogg"]).path == str(music / "two" / "Folder.jpg")
    assert covers.cover_for_track(library, ids["d.wav"]) is None and covers.cover_json(library, ids["d.wav"]) is None
    assert covers.cover_for_track(library, 9999) is None
    assert covers.load_picture_bytes(library, ids["b.flac"]) == art
    assert covers.load_picture_bytes(library, ids["c.ogg"]) == (music / "two" / "Folder.jpg").read_bytes()
    assert covers.load_picture_bytes(library, ids["d.wav"]) is None

    # A new picture for both tracks of "one": the old row goes once no track shows it.
    new = encoded(100, 100, 9)
    with library.db.transaction() as c:
        covers.save_cover(c, ids["a.mp3"], find_cover(embed(track(tmp_path, "n.mp3"), [(3, new)])))
    assert library.db.query_one("SELECT COUNT(*) AS n FROM covers")["n"] == 3
    with library.db.transaction() as c:
        covers.save_cover(c, ids["b.flac"], None)
    assert library.db.query_one("SELECT COUNT(*) AS n FROM covers")["n"] == 2
    assert covers.cover_for_track(library, ids["b.flac"]) is None

    # The folder image replaced after the scan: its old bytes are no longer there.
    caplog.set_level(logging.WARNING)
    time.sleep(0.01)
    cv2.imwrite(str(music / "two" / "Folder.jpg"), image(64, 64, 5))
    assert covers.load_picture_bytes(library, ids["c.ogg"]) is None
    one_line_warnings(caplog, "has changed since it was read")


def test_migration_on_a_library_from_before_covers(tmp_path):
    from player.library import Library
    from player.library.db import MIGRATIONS, _split_sql

    names = [name for name, _sql in MIGRATIONS]
    before = names.index("0003_covers")
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for number, (_name, sql) in enumerate(MIGRATIONS[:before], start=1):
        for statement in _split_sql(sql):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {number}")
    conn.execute("INSERT INTO tracks(path_raw, path, added_at, updated_at) VALUES (?, ?, 0, 0)",
                 (os.fsencode(tmp_path / "x.mp3"), str(tmp_path / "x.mp3")))
    conn.commit()
    conn.close()
    with Library(path) as lib:
        row = lib.db.query_one("SELECT id, cover_hash, cover_source, cover_path_raw FROM tracks")
        assert (row["cover_hash"], row["cover_source"], row["cover_path_raw"]) == (None, None, None)
        assert covers.tracks_needing_covers(lib) == [(row["id"], str(tmp_path / "x.mp3"))]
        with pytest.raises(sqlite3.IntegrityError):
            with lib.db.transaction() as c:
                c.execute("UPDATE tracks SET cover_source = 'somewhere'")

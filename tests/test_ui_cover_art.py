"""Covers in the window (player/ui/cover_art.py, nowplaying.py, panels.py, details.py): real pictures
embedded with mutagen, thumbnails made off the GUI thread, the placeholder only where there is none."""

from __future__ import annotations

import threading

import cv2
import mutagen
import numpy as np
import pytest
from mutagen.id3 import APIC

from audiogen import write_audio

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))  # the thumbnails' cache folder


def picture(seed: int, side: int = 400) -> bytes:
    img = np.zeros((side, side, 3), np.uint8)
    img[:, :] = np.random.default_rng(seed).integers(40, 220, 3, dtype=np.uint8)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def embed(path, data: bytes) -> None:
    f = mutagen.File(path)
    if f.tags is None:
        f.add_tags()
    f.tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="front", data=data))
    f.save()


def make_covered_music(root):
    """Album "Lit" (two songs, one picture), "Broken" (a damaged picture: a JPEG header, then noise),
    "Bare" (none), "Vast" (a 20 MB picture)."""
    good = picture(1)
    header_end = good.index(b"\xff\xda")  # keep the header (size, tables), damage the picture itself
    corrupt = good[:header_end] + np.random.default_rng(2).integers(0, 256, 20_000, dtype=np.uint8).tobytes()
    huge = good + bytes(20 * 2**20)  # a real picture, padded past 20 MB
    songs = [("Lit", "One", good), ("Lit", "Two", good), ("Broken", "Crack", corrupt), ("Bare", "Plain", None),
             ("Vast", "Heavy", huge)]
    for n, (album, title, data) in enumerate(songs, start=1):
        p = write_audio(root / album / f"{n:02d} {title}.wav", seconds=3.0, freq=200 + 50 * n,
                        tags={"title": title, "artist": "Painter", "album": album, "tracknumber": str(n)})
        if data is not None:
            embed(p, data)
    return root


@pytest.fixture
def covered_window(open_window, import_music, tmp_path, monkeypatch):
    from player.library import covers

    w = open_window(audio_backend="null-manual")
    import_music(w, make_covered_music(tmp_path / "music"))
    calls = []
    real = covers.thumbnail

    def recorded(ref, size=128):
        calls.append(threading.get_ident())
        return real(ref, size)

    monkeypatch.setattr(covers, "thumbnail", recorded)
    w.thumbnail_threads = calls
    return w


def track_id(w, title: str) -> int:
    m = w.model
    return next(t for t in m.track_ids() if m.track_row(t).title == title)


def loaded(qtbot, w, tid: int, size: int, key: str = ""):
    pm = w.covers.cover(tid, size, key)
    if pm is None:
        qtbot.waitUntil(lambda: w.covers.known(tid, size), timeout=10000)
        pm = w.covers.cover(tid, size, key)
    return pm


def test_covers_load_off_the_gui_thread_and_only_missing_ones_are_placeholders(qtbot, covered_window):
    w = covered_window
    gui = threading.get_ident()
    one, two, crack, plain = (track_id(w, t) for t in ("One", "Two", "Crack", "Plain"))
    pm = loaded(qtbot, w, one, 64, "Lit")
    assert w.covers.has_picture(one) is True
    assert max(pm.width(), pm.height()) == 64
    colour = pm.toImage().pixelColor(32, 32)
    want = np.random.default_rng(1).integers(40, 220, 3, dtype=np.uint8)  # the picture's colour (BGR in OpenCV's array)
    assert abs(colour.blue() - int(want[0])) < 8 and abs(colour.red() - int(want[2])) < 8
    # the album's other song shares the picture: the same pixmap, no second decode of it
    assert loaded(qtbot, w, two, 64, "Lit").cacheKey() == pm.cacheKey()
    # a damaged picture and no picture: the generated placeholder
    assert loaded(qtbot, w, crack, 64, "Broken").cacheKey() == w.covers.placeholder("Broken", 64).cacheKey()
    assert w.covers.has_picture(crack) is False
    assert loaded(qtbot, w, plain, 64, "Bare").cacheKey() == w.covers.placeholder("Bare", 64).cacheKey()
    heavy = track_id(w, "Heavy")
    assert loaded(qtbot, w, heavy, 64, "Vast").cacheKey() == w.covers.placeholder("Vast", 64).cacheKey()
    assert w.thumbnail_threads and gui not in w.thumbnail_threads  # decoded elsewhere, never here
    # after an import, songs without a picture are looked at again; found ones stay
    w.covers.forget_missing()
    assert w.covers.has_picture(plain) is None and w.covers.has_picture(one) is True


def test_now_playing_shows_the_cover_the_warning_and_an_elided_album(qtbot, covered_window, library):
    w = covered_window
    one = track_id(w, "One")
    with library.db.transaction() as c:
        c.execute("UPDATE tracks SET warning = ?, album = ? WHERE id = ?",
                  ("the file stops at 0:02 of the 0:03 its header announces",
                   "Lit, the Remastered Deluxe Anniversary Edition With Bonus Songs", one))
    w.playback.play_ids([one])
    qtbot.waitUntil(lambda: w.playback.current_track_id() == one, timeout=5000)
    bar = w.now_playing
    qtbot.waitUntil(lambda: w.covers.known(one, bar.COVER), timeout=10000)
    assert bar.cover.pixmap().cacheKey() == w.covers.cover(one, bar.COVER).cacheKey()
    assert "stops at 0:02" in bar.title.toolTip() and "stops at 0:02" in bar.cover.toolTip()
    bar.artist.resize(120, bar.artist.height())
    assert "Bonus Songs" in bar.artist.text()
    shown = bar.artist.elided_text()
    assert shown.endswith("…") and len(shown) < len(bar.artist.text())
    # a song without a picture: the placeholder
    plain = track_id(w, "Plain")
    w.playback.play_ids([plain])
    qtbot.waitUntil(lambda: w.covers.known(plain, bar.COVER), timeout=10000)
    qtbot.waitUntil(lambda: bar.cover.pixmap().cacheKey() == w.covers.placeholder("Bare", bar.COVER).cacheKey(),
                    timeout=5000)
    assert bar.cover.toolTip() == ""


def test_up_next_rows_and_details_show_covers(qtbot, covered_window, settle):
    from player.ui.panels import Entry

    w = covered_window
    one, crack = track_id(w, "One"), track_id(w, "Crack")
    w.up_next.set_entries([Entry(one, "One", "Painter", "Lit"), Entry(crack, "Crack", "Painter", "Broken")])
    w.up_next.list.viewport().repaint()  # the delegate asks for the covers it paints
    delegate = w.up_next.list.itemDelegate()
    assert delegate.covers is w.covers
    qtbot.waitUntil(lambda: w.covers.pending == 0 and w.covers.has_picture(one) is not None
                    and w.covers.has_picture(crack) is not None, timeout=10000)
    assert w.covers.has_picture(one) and not w.covers.has_picture(crack)
    d = w.details.show_details(one)
    size = d.COVER
    qtbot.waitUntil(lambda: w.covers.known(one, size), timeout=10000)
    qtbot.waitUntil(lambda: d.cover.pixmap().cacheKey() == w.covers.cover(one, size).cacheKey(), timeout=5000)
    settle(w)
    assert d.fact("Format").startswith("WAV") and "kbit/s" in d.fact("Format")
    d.close()


def test_a_thumbnail_leaves_opencv_without_threads_of_its_own(library):
    """OpenCV's pool would run at the priority of whichever thread first used it, not below the GUI
    thread: the window's cover jobs turn it off before their first decode."""
    import cv2

    from player.ui import cover_art

    cover_art.load_thumbnail(library, 10**9, 64)  # no such track: still sets OpenCV up first
    assert cover_art._opencv_serial and cv2.getNumThreads() == 1

"""The album grid (player/ui/album_grid.py): albums grouped as the library groups them, the switch
between the song list and the grid (kept in the settings), playing an album in order, and covers
loaded only for the tiles on screen."""

from __future__ import annotations

import threading

import pytest

from player.options import VIEW
from uimusic import ARTISTS

pytestmark = pytest.mark.gui


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))


def test_switch_to_the_grid_and_play_an_album_in_order(qtbot, playing_window, library, tmp_path, settle):
    w = playing_window
    assert not w.album_grid.isVisible() and w.view.isVisible()
    w.albums.action.trigger()
    settle(w)
    assert w.album_grid.isVisible() and not w.view.isVisible()
    assert w.settings[VIEW] == "albums"
    albums = w.album_grid.albums.albums
    assert sorted((a.name, a.artist, len(a.track_ids)) for a in albums) == sorted(
        (album, artist, len(titles)) for artist, album, titles in ARTISTS)
    row = next(i for i, a in enumerate(albums) if a.name == "Heavy Weather")
    w.album_grid.doubleClicked.emit(w.album_grid.albums.index(row))
    qtbot.waitUntil(lambda: w.playback.state() == "playing", timeout=5000)
    settle(w)  # the recommendations' refresh has landed: it keeps the album's songs
    titles = [library.track(t).title for t in [w.playback.current_track_id()] + [t.id for t in w.playback.upcoming()]]
    assert titles[:4] == ["Thunderhead", "Iron Sky", "Breakwater", "Gale"]
    # back to the list
    w.albums.action.trigger()
    assert w.view.isVisible() and not w.album_grid.isVisible() and w.settings[VIEW] == "list"


def test_the_grid_is_restored_from_the_settings(open_window, import_music, tagged_music, settle):
    w = open_window()
    import_music(w, tagged_music(broken=False))
    w.albums.action.setChecked(True)
    settle(w)
    w.close()
    w2 = open_window()
    settle(w2)
    assert w2.albums.action.isChecked() and w2.album_grid.isVisible()
    assert len(w2.album_grid.albums.albums) == len(ARTISTS)


def _grid_of_2000_albums(qtbot, library, monkeypatch, load):
    """An album grid of 2,000 albums on screen whose covers come from ``load`` (one loader thread)."""
    from player.ui import cover_art
    from player.ui.album_grid import Album, AlbumGrid
    from player.ui.cover_art import CoverLoader

    monkeypatch.setattr(cover_art, "load_thumbnail", load)
    covers = CoverLoader(library, threads=1)
    grid = AlbumGrid(covers)
    qtbot.addWidget(grid)
    grid.resize(900, 600)
    grid.albums.set_albums([Album(f"k{i}", f"Album {i}", f"Artist {i}", (i,)) for i in range(2000)])
    grid.show()
    qtbot.waitExposed(grid)
    return covers, grid


def test_two_thousand_albums_load_covers_only_for_visible_tiles(qtbot, library, monkeypatch):
    from player.ui import cover_art

    asked, threads = [], []

    def load(lib, track_id, size):
        asked.append(track_id)
        threads.append(threading.get_ident())
        return cover_art.NONE, None

    covers, grid = _grid_of_2000_albums(qtbot, library, monkeypatch, load)
    qtbot.waitUntil(lambda: covers.pending == 0 and bool(asked), timeout=10000)
    first = set(asked)
    assert 0 in first and len(first) < 60  # a screenful, not 2,000
    grid.scrollToBottom()
    qtbot.waitUntil(lambda: 1999 in asked and covers.pending == 0, timeout=10000)
    assert len(set(asked)) < 150
    assert threading.get_ident() not in threads
    covers.shutdown()


def test_a_long_scroll_drops_the_requests_of_tiles_gone_by_while_it_scrolls(qtbot, library, monkeypatch):
    """The requests of tiles scrolled past are dropped while the scroll goes on, not only when it
    stops: the queue stays short."""
    from player.ui import cover_art

    gate = threading.Event()

    def load(lib, track_id, size):
        gate.wait(10)
        return cover_art.NONE, None

    covers, grid = _grid_of_2000_albums(qtbot, library, monkeypatch, load)
    sb = grid.verticalScrollBar()
    most = 0
    while sb.value() < sb.maximum():
        sb.setValue(sb.value() + 120)
        qtbot.wait(20)  # a steady scroll: never a 150 ms pause
        most = max(most, covers.pending)
    assert most < 200  # without the trims during the scroll: every tile passed, ~1,000
    gate.set()
    covers.shutdown()


def test_the_cover_cache_is_bounded_in_bytes(qtbot, library, monkeypatch):
    """Scrolling the whole grid keeps at most MAX_BYTES of pixmaps, the most recently loaded ones."""
    from PySide6.QtGui import QImage

    from player.ui import cover_art

    def load(lib, track_id, size):
        image = QImage(size, size, QImage.Format_RGB32)
        image.fill(track_id)
        return f"h{track_id}", image

    covers, grid = _grid_of_2000_albums(qtbot, library, monkeypatch, load)
    covers._max = 40 * cover_art._bytes(covers.cover(0, 150) or cover_art.blank_tile(150))
    sb = grid.verticalScrollBar()
    while sb.value() < sb.maximum():
        sb.setValue(sb.value() + 400)
        qtbot.wait(30)
    qtbot.waitUntil(lambda: covers.known(1999, 150) and covers.pending == 0, timeout=10000)
    sizes = [cover_art._bytes(pm) for pm in covers._pixmaps.values()]
    assert 10 < len(sizes) <= 40 and sum(sizes) <= covers._max and covers._bytes == sum(sizes)
    assert ("h0", 150) not in covers._pixmaps  # the first screen's went first
    covers.shutdown()

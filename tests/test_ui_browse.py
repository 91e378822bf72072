"""Finding songs (player/ui/browse.py): search, sort, the sidebar's facets, tags from analysis."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from player.ui.library_rows import COL
from uimusic import fake_analysis

pytestmark = pytest.mark.gui


def _titles(w):
    m = w.model
    return [m.data(m.index(r, 0)) for r in range(m.rowCount())]


@pytest.fixture
def window(open_window, import_music, tagged_music):
    w = open_window()
    import_music(w, tagged_music(broken=False))
    return w


def test_search_filter_sort_and_browse(qtbot, window, settle):
    # Ctrl+F focuses the search box
    window.view.setFocus()
    qtbot.keyClick(window, Qt.Key_F, Qt.ControlModifier)
    assert window.search.hasFocus()
    qtbot.keyClicks(window.search, "brass")
    qtbot.waitUntil(lambda: window.model.shown_count() == 4, timeout=3000)
    assert set(_titles(window)) == {"Thunderhead", "Iron Sky", "Breakwater", "Gale"}
    assert window.count_label.text() == "4 of 14 songs"
    # two words must both match (artist + title)
    window.browse.set_search("brass gale")
    settle(window)
    assert _titles(window) == ["Gale"]
    window.browse.set_search("no such song anywhere")
    settle(window)
    assert window.model.rowCount() == 0 and window.empty_hint.isVisible()
    qtbot.keyClick(window.search, Qt.Key_Escape)
    settle(window)
    assert window.model.shown_count() == 14
    # sort by title, descending
    window.view.sortByColumn(COL["title"], Qt.DescendingOrder)
    settle(window)
    titles = _titles(window)
    assert titles == sorted(titles, key=str.casefold, reverse=True)
    # browse: an album from the sidebar
    window.sidebar.choose(("album", "Paper Boats"))
    settle(window)
    assert set(_titles(window)) == {"Harbour", "Low Tide", "Lanterns"}
    window.sidebar.choose(None)
    settle(window)
    assert window.model.shown_count() == 14


def test_browse_by_tag_and_search_finds_tags(window, library, fake_models, settle):
    fake_analysis(library, seed=3)
    window.model.refresh_labels(delta=False)
    window.browse.refresh_facets()
    settle(window)
    m = window.model
    tags_cell = m.data(m.index(0, COL["tags"]))
    assert tags_cell and "·" in tags_cell
    label = tags_cell.split(" · ")[0]
    want = {r[0] for r in library.db.query("SELECT track_id FROM track_labels WHERE label = ?", (label,))}
    window.sidebar.choose(("tag", label))
    settle(window)
    assert set(window.model.track_ids()) == want
    # the search also finds tags
    window.sidebar.choose(None)
    window.browse.set_search(label)
    settle(window)
    assert want <= set(window.model.track_ids())


def test_untagged_songs_are_named_after_their_folders_and_albums_group_across_case(open_window, import_music,
                                                                                   tmp_path, settle):
    from audiogen import write_audio

    root = tmp_path / "music"
    write_audio(root / "Nexuiz" / "a.wav", seconds=0.3, tags={"title": "One", "artist": "Band", "album": "Nexuiz"})
    write_audio(root / "Nexuiz" / "b.wav", seconds=0.3, tags={"title": "Two", "artist": "Band", "album": "nexuiz"})
    write_audio(root / "Nexuiz" / "c.wav", seconds=0.3, tags={"title": "Three", "artist": "Band", "album": "Nexuiz"})
    write_audio(root / "Game Composer" / "Pingus Soundtrack" / "track1.wav", seconds=0.3)
    w = open_window()
    import_music(w, root)
    m = w.model
    rows = {m.data(m.index(r, COL["title"])): (m.data(m.index(r, COL["artist"])), m.data(m.index(r, COL["album"])))
            for r in range(m.rowCount())}
    assert rows["track1"] == ("Game Composer", "Pingus Soundtrack")
    w.browse.refresh_facets()
    settle(w)
    albums = dict(w.sidebar._data["album"])
    assert albums["Nexuiz"] == 3 and "nexuiz" not in albums  # one album, its most common spelling
    w.sidebar.choose(("album", "Nexuiz"))
    settle(w)
    assert set(_titles(w)) == {"One", "Two", "Three"}


def test_columns_added_from_the_header_menu_show_their_data_and_are_remembered(window, library, settle, tmp_path):
    from player.options import COLUMNS
    from player.ui.library_rows import EXTRA_COL

    m, view = window.model, window.view
    assert all(view.isColumnHidden(c) for c in EXTRA_COL.values())  # the usual columns at first
    menu = window.browse.column_menu()
    titles = [a.text() for a in menu.actions()]
    assert titles == ["File name", "Folder", "Track", "Year", "Plays", "Last played", "Date added", "Format",
                      "Loudness"]
    next(a for a in menu.actions() if a.text() == "File name").setChecked(True)
    next(a for a in window.browse.column_menu().actions() if a.text() == "Format").setChecked(True)
    settle(window)
    assert not view.isColumnHidden(EXTRA_COL["file"]) and not view.isColumnHidden(EXTRA_COL["format"])
    assert view.isColumnHidden(EXTRA_COL["year"])
    assert window.settings[COLUMNS] == "file,format"
    tid = m.track_id_at(0)
    row = m.row_of(tid)
    assert m.data(m.index(row, EXTRA_COL["file"])) == library.track(tid).path.rsplit("/", 1)[-1]
    assert m.data(m.index(row, EXTRA_COL["format"])).startswith("WAV")
    assert m.headerData(EXTRA_COL["format"], Qt.Horizontal) == "Format"
    # a new window shows the same columns
    window.close()
    from conftest import make_window

    again = make_window(library, tmp_path)
    settle(again)
    assert not again.view.isColumnHidden(EXTRA_COL["file"]) and again.view.isColumnHidden(EXTRA_COL["year"])
    again.close()

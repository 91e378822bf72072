"""Playlists in the real window: the sidebar section, the playlist view, the menus, drag and drop,
playing one, and importing / exporting files."""

from __future__ import annotations

import json

from PySide6.QtCore import QMimeData, QModelIndex, Qt

from player.library.playlists import Playlists
from player.ui.panels import MIME


def _ids_by_title(library) -> dict[str, int]:
    return {r["title"]: int(r["id"]) for r in library.db.query("SELECT id, title FROM tracks")}


def _titles(w) -> list[str]:
    m = w.playlist_view.model
    return [m.data(m.index(r, 1)) for r in range(m.rowCount())]


def _sidebar_names(w) -> list[str]:
    top = w.sidebar.playlists_item
    return [top.child(i).text(0) for i in range(top.childCount())]


def _library_mime(ids) -> QMimeData:
    md = QMimeData()
    md.setData(MIME, json.dumps({"source": "library", "ids": list(ids)}).encode())
    return md


def _menu_action(menu, text):
    for a in menu.actions():
        if a.text().replace("&", "") == text:
            return a
        if a.menu() is not None:
            found = _menu_action(a.menu(), text)
            if found is not None:
                return found
    return None


def test_create_add_show_reorder_remove_and_play(playing_window, library, settle):
    w = playing_window
    ids = _ids_by_title(library)
    pl = w.playlists
    pl.create("Road trip", [ids["Harbour"], ids["Gale"]])
    settle(w)
    assert _sidebar_names(w) == ["Road trip  (2)"]
    assert w.playlist_view.isVisible() and not w.view.isVisible()  # a new playlist is shown at once
    assert _titles(w) == ["Harbour", "Gale"]

    # Add to playlist ▸ Road trip from the library's context menu
    w.view.select_track(ids["Saudade"])
    settle(w)
    w.context_menus.library_menu(w.view.visualRect(w.model.index(w.model.row_of(ids["Saudade"]), 1)).center())
    action = _menu_action(w.context_menus.last_menu, "Road trip")
    assert action is not None
    action.trigger()
    settle(w)
    assert _titles(w) == ["Harbour", "Gale", "Saudade"]

    # songs dropped from the library go where they are dropped, a repeat is fine
    m = w.playlist_view.model
    m.dropMimeData(_library_mime([ids["Gale"]]), Qt.CopyAction, 0, 0, QModelIndex())
    settle(w)
    assert _titles(w) == ["Gale", "Harbour", "Gale", "Saudade"]

    # reorder by drag inside the playlist: the last row to the top
    drag = m.mimeData([m.index(3, 0)])
    m.dropMimeData(drag, Qt.MoveAction, 0, 0, QModelIndex())
    settle(w)
    assert _titles(w) == ["Saudade", "Gale", "Harbour", "Gale"]
    assert Playlists(library).track_ids("Road trip") == [ids[t] for t in ("Saudade", "Gale", "Harbour", "Gale")]

    w.playlist_view.table.selectRow(1)
    w.playlist_view.removeRequested.emit(w.playlist_view.selected_rows())
    settle(w)
    assert _titles(w) == ["Saudade", "Harbour", "Gale"]

    # playing it fills the queue in the playlist's order
    w.playlist_view.play.click()
    settle(w)
    assert w.playback.current_track_id() == ids["Saudade"]
    assert [t.id for t in w.playback.upcoming()][:2] == [ids["Harbour"], ids["Gale"]]

    # back to all music: the library table returns
    w.sidebar.choose(None)
    settle(w)
    assert w.view.isVisible() and not w.playlist_view.isVisible()


def test_drop_on_sidebar_rename_duplicate_delete_and_missing(playing_window, library, settle):
    w = playing_window
    ids = _ids_by_title(library)
    pl = w.playlists
    pl.create("Evening", show=False)
    settle(w)
    assert not w.playlist_view.isVisible()
    pid = Playlists(library).find("Evening").id
    w.sidebar.idsDroppedOnPlaylist.emit(pid, [ids["Lanterns"], ids["Afterglow"]])
    settle(w)
    assert _sidebar_names(w) == ["Evening  (2)"]

    menu = pl.playlist_menu(pid)
    assert [a.text() for a in menu.actions() if a.text()][:5] == ["Play", "Rename…", "Duplicate", "Export…", "Delete…"]
    _menu_action(menu, "Duplicate").trigger()
    settle(w)
    assert _sidebar_names(w) == ["Evening  (2)", "Evening copy  (2)"]
    pl.rename(pid, "Late evening")
    settle(w)
    assert _sidebar_names(w) == ["Evening copy  (2)", "Late evening  (2)"]
    copy = Playlists(library).find("Evening copy").id
    pl.delete(copy)
    settle(w)
    assert _sidebar_names(w) == ["Late evening  (2)"]

    # a song whose file went missing stays listed, greyed, with why
    with library.db.transaction() as c:
        c.execute("UPDATE tracks SET status = 'missing' WHERE id = ?", (ids["Lanterns"],))
    w.sidebar.choose(("playlist", pid))
    settle(w)
    m = w.playlist_view.model
    assert _titles(w) == ["Lanterns", "Afterglow"]
    assert m.data(m.index(0, 1), Qt.ForegroundRole) is not None
    assert m.data(m.index(1, 1), Qt.ForegroundRole) is None
    assert "missing" in m.data(m.index(0, 1), Qt.ToolTipRole)
    assert "1 missing" in w.playlist_view.info.text()

    # a mistake is said in words, not raised
    pl.rename(pid, "")
    settle(w)
    assert any("needs a name" in n.text for n in w.notices.notices())


def test_import_report_and_export(playing_window, library, settle, tmp_path):
    w = playing_window
    ids = _ids_by_title(library)
    path = library.db.query_one("SELECT path FROM tracks WHERE id = ?", (ids["Harbour"],))["path"]
    src = tmp_path / "mix.m3u8"
    src.write_text(f"#EXTM3U\n{path}\n/nowhere/gone.mp3\n", encoding="utf-8")
    file_menu = w.menuBar().actions()[0].menu()
    assert "Import playlist…" in [a.text() for a in file_menu.actions()]
    w.playlists.import_file(str(src))
    settle(w)
    assert "mix  (1)" in _sidebar_names(w)
    box = w.playlists.last_dialog
    assert box is not None and "1 not found" in box.text()
    assert "line 3: /nowhere/gone.mp3" in box.detailedText()

    out = tmp_path / "out.m3u"
    w.playlists.export_file(Playlists(library).find("mix").id, str(out))
    settle(w)
    assert out.read_text(encoding="utf-8").splitlines()[-1] == "music/The Quiet Hours/Paper Boats/01 Harbour.wav"


def test_a_shown_smart_playlist_is_evaluated_once_per_change_and_reset_only_when_it_changes(
        playing_window, library, settle, monkeypatch):
    """A rating re-evaluates the shown smart playlist once (its count comes with it, not from a second
    evaluation); a rating that changes nothing in it leaves the view alone; the "#" column fits."""
    from player.library import smart

    w = playing_window
    w.playlists.create("Loved", query="stars>=4")
    settle(w)
    ids = _ids_by_title(library)
    w.listeners.rate([ids["Gale"]], 5)
    settle(w)
    assert _titles(w) == ["Gale"]
    pid = Playlists(library).find("Loved").id
    queries = []
    real = smart.evaluate
    monkeypatch.setattr(smart, "evaluate", lambda lib, q, **kw: (queries.append(q), real(lib, q, **kw))[1])
    resets = []
    w.playlist_view.model.modelReset.connect(lambda: resets.append(1))
    w.listeners.rate([ids["Harbour"]], 2)  # not a member: the list stays as it is
    settle(w)
    assert _titles(w) == ["Gale"] and resets == [] and queries.count("stars>=4") == 1
    w.listeners.rate([ids["Harbour"]], 4)
    settle(w)
    assert sorted(_titles(w)) == ["Gale", "Harbour"] and len(resets) == 1 and queries.count("stars>=4") == 2
    assert w.sidebar.playlists_item.child(0).text(0).endswith("(2)")
    view = w.playlists.panel.table
    assert view.columnWidth(0) >= view.fontMetrics().horizontalAdvance("2")
    assert w.playlists.current_id == pid

"""The smart-playlist rule editor, and a shown smart playlist following the ratings, in the real window."""

from __future__ import annotations

from player.library.playlists import Playlists
from player.ui.smart_editor import Group, Rule, build_query


def test_build_query_all_any_nested_sort_limit():
    g = Group("all", [Rule("artist", ":", "Ada Lumen"), Rule("stars", ">=", "4"),
                      Group("any", [Rule("year", ":", "1990..1999"), Rule("format", ":", "flac")])])
    assert build_query(g, "added", True, "60m") == \
        'artist:"Ada Lumen" stars>=4 (year:1990..1999 OR format:flac) sort:-added limit:60m'
    assert build_query(Group("any", [Rule("title", ":", "Gale"), Rule("title", ":", "Harbour")])) == \
        "title:Gale OR title:Harbour"
    assert build_query(Group("all", [Rule("title", ":", "")])) == ""  # a row without a value writes nothing


def _titles(w):
    m = w.playlist_view.model
    return [m.data(m.index(r, 1)) for r in range(m.rowCount())]


def test_editor_writes_query_shows_errors_and_saves(playing_window, library, settle):
    w = playing_window
    ed = w.playlists.new_smart()
    ed.name.setText("Brass")
    row = ed.rules.items[0]
    row.field.setCurrentText("artist")
    row.value.setText("Brass Atlas")
    ed.sort.setCurrentIndex(ed.sort.findData("title"))
    settle(w)
    assert ed.text.text() == 'artist:"Brass Atlas" sort:title'
    assert ed.error is None and "fine" in ed.status.text()

    ed.text.setText("tag:pianoo>0.3 stars>=x")
    settle(w)
    assert ed.error is not None and "column" in ed.error
    assert not ed.buttons.button(ed.buttons.StandardButton.Save).isEnabled()
    lines = ed.status.text().splitlines()
    assert lines[-2] == "tag:pianoo>0.3 stars>=x" and lines[-1].endswith("^")

    ed.text.setText('artist:"Brass Atlas" sort:title')
    settle(w)
    ed.save()
    settle(w)
    assert Playlists(library).find("Brass").query == 'artist:"Brass Atlas" sort:title'
    assert w.playlist_view.isVisible()
    assert _titles(w) == ["Breakwater", "Gale", "Iron Sky", "Thunderhead"]
    assert "Brass  (4)" in [w.sidebar.playlists_item.child(i).text(0)
                            for i in range(w.sidebar.playlists_item.childCount())]


def test_shown_smart_playlist_follows_ratings_and_edit_rules(playing_window, library, settle):
    w = playing_window
    w.playlists.create("Loved", query="stars>=4")
    settle(w)
    assert _titles(w) == []
    gale = library.db.query_one("SELECT id FROM tracks WHERE title = 'Gale'")["id"]
    w.listeners.rate([gale], 5)
    settle(w)
    assert _titles(w) == ["Gale"]

    pid = Playlists(library).find("Loved").id
    ed = w.playlists.edit_smart(pid)
    assert ed.text.text() == "stars>=4" and ed.name.text() == "Loved"
    ed.rules.add_group("any")
    grp = ed.rules.items[-1]
    grp.items[0].field.setCurrentText("title")
    grp.items[0].value.setText("Harbour")
    grp.add_rule(Rule("title", ":", "Gale"))
    ed.rules.match.setCurrentIndex(1)  # any
    settle(w)
    assert ed.text.text() == "(title:Harbour OR title:Gale)"
    ed.save()
    settle(w)
    assert _titles(w) == ["Gale", "Harbour"]


def test_search_box_takes_the_query_language(playing_window, library, settle):
    from player.ui.playlists_panel import looks_like_query

    assert looks_like_query("genre:rock") and looks_like_query("stars>=4 sort:-added")
    assert not looks_like_query("Ada Lumen") and not looks_like_query("re:mix") and not looks_like_query('"a:b"')
    w = playing_window
    w.search.setText('artist:"Ada Lumen" sort:-title limit:2')
    settle(w)
    assert w.playlist_view.isVisible() and not w.view.isVisible()
    assert _titles(w) == ["Slow Lights", "Neon Avenue"]
    w.search.setText("stars>=x")
    settle(w)
    assert _titles(w) == [] and "at column 8" in w.playlist_view.hint.text()
    w.search.setText("Lumen")  # plain words: the library's own search again
    settle(w)
    assert w.view.isVisible() and not w.playlist_view.isVisible()

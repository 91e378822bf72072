"""Radio, sonic paths and listening together in the real window (player/ui/radio_control.py)."""

from __future__ import annotations

import pytest

from test_ui_playlists_panel import _menu_action as _action

pytestmark = pytest.mark.gui


@pytest.fixture
def radio_window(playing_window, library, settle, fake_models):
    from uimusic import fake_analysis

    fake_analysis(library, seed=3)
    w = playing_window
    w.recs.library_changed()
    settle(w)
    return w


def _song_menu(w, tid):
    w.view.select_track(tid)
    row = w.model.row_of(tid)
    w.context_menus.library_menu(w.view.visualRect(w.model.index(row, 1)).center())
    return w.context_menus.last_menu


def test_radio_from_an_artist_fills_up_next_is_steered_and_stops(radio_window, settle):
    w = radio_window
    m = w.model
    ids = {m.track_row(t).title: t for t in m.track_ids()}
    _action(_song_menu(w, ids["Gale"]), "From Brass Atlas").trigger()
    settle(w)
    assert w.radio_bar.isVisible() and w.radio_bar.label.text() == "Radio from Brass Atlas"
    assert w.playback.state() == "playing"
    entries = w.up_next.list.entries.entries
    assert len(entries) >= 3 and all(e.reason and not e.user_queued for e in entries)

    played = []
    radio = w.radio.radio
    real_played, real_rated = radio.played, radio.rated
    radio.played = lambda tid, skipped=False, **kw: (played.append((tid, skipped)), real_played(tid, skipped=skipped))
    rated = []
    radio.rated = lambda tid, stars: (rated.append((tid, stars)), real_rated(tid, stars))
    first = w.playback.current_track_id()
    for _ in range(4):  # skipping on: Up next stays full from the radio
        w.transport.next_track()
        settle(w)
    assert played and played[0] == (first, True)
    assert len(w.playback.upcoming()) >= 3
    assert all(e.reason for e in w.up_next.list.entries.entries)
    now = w.playback.current_track_id()
    w.listeners.rate([now], 1)
    settle(w)
    assert (now, 1) in rated

    w.radio_bar.stop.click()
    settle(w)
    assert not w.radio_bar.isVisible() and w.recs.source is None and w.radio.radio is None


def test_sonic_path_and_radio_from_the_sidebar(radio_window, settle):
    w = radio_window
    m = w.model
    ids = {m.track_row(t).title: t for t in m.track_ids()}
    _action(_song_menu(w, ids["Harbour"]), "Sonic path from here to…").trigger()
    menu = _song_menu(w, ids["Saudade"])
    _action(menu, "Sonic path from “Harbour” to here").trigger()
    settle(w)
    queue = [w.playback.current_track_id()] + [t.id for t in w.playback.upcoming()]
    assert queue[0] == ids["Harbour"] and ids["Saudade"] in queue and len(queue) >= 3
    end = queue.index(ids["Saudade"])
    assert all(w.recs.reasons.get(t) for t in queue[1:end + 1])

    from player.ui.sidebar import FacetRole

    w.sidebar.choose(("artist", "Ada Lumen"))
    item = w.sidebar.currentItem()
    assert item.data(0, FacetRole) == ("artist", "Ada Lumen")
    w.radio.sidebar_menu(w.sidebar, w.sidebar.visualItemRect(item).center())
    _action(w.radio.last_menu, "Start radio from Ada Lumen").trigger()
    settle(w)
    assert w.radio_bar.label.text() == "Radio from Ada Lumen"

    w.playlists.create("Evening", [ids["Harbour"], ids["Low Tide"]], show=False)
    settle(w)
    pid = next(p.id for p in w.playlists.playlists if p.name == "Evening")
    _action(w.playlists.playlist_menu(pid), "Start radio").trigger()
    settle(w)
    assert w.radio_bar.label.text() == "Radio from “Evening”"
    assert all(e.reason for e in w.up_next.list.entries.entries)


def test_listen_together(radio_window, settle):
    w = radio_window
    m = w.model
    ids = {m.track_row(t).title: t for t in m.track_ids()}
    w.listeners.rate([ids["Saudade"]], 5)
    w.listeners.add("bob")
    settle(w)
    w.listeners.rate([ids["Gale"]], 5)
    settle(w)
    w.transport.play_track(ids["Harbour"])
    settle(w)
    menu = w.together_menu
    w.radio.fill_together_menu(menu)
    names = [a.text() for a in menu.actions()]
    assert names == ["alice", "bob"]
    checked = [a.text() for a in menu.actions() if a.isChecked()]
    assert checked == ["bob"]  # the listener now
    _action(menu, "alice").setChecked(True)
    settle(w)
    assert w.radio_bar.isVisible() and "Listening together" in w.radio_bar.label.text()
    assert "alice" in w.radio_bar.label.text() and "bob" in w.radio_bar.label.text()
    entries = w.up_next.list.entries.entries
    assert entries and all(e.reason for e in entries)
    assert any("alice" in e.reason or "bob" in e.reason or "both" in e.reason.lower() for e in entries), \
        [e.reason for e in entries]
    w.radio.fill_together_menu(menu)
    _action(menu, "alice").setChecked(False)  # one listener left: Up next is theirs again
    settle(w)
    assert not w.radio_bar.isVisible() and w.recs.source is None

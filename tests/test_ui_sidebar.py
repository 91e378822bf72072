"""The sidebar's Playlists section: counts, greyed empty lists, and songs dropped onto a playlist."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDropEvent

from player.library.playlists import Playlists
from player.ui.panels import MIME

pytestmark = pytest.mark.gui


def test_a_drop_on_a_sidebar_playlist_adds_the_songs(playing_window, library, settle):
    w = playing_window
    store = Playlists(library)
    store.create("Empty")
    smart = store.create("Smart", query="artist:Brass")
    w.playlists.reload()
    settle(w)
    top = w.sidebar.playlists_item
    assert top.text(0) == "Playlists  (2)"
    empty = w.sidebar.playlist_item(store.find("Empty").id)
    assert empty.text(0) == "Empty  (0)" and empty.foreground(0).color().name() == "#969696"
    assert w.sidebar.playlist_item(smart.id).text(0) == "Smart  (4)"  # evaluated in the query pool

    ids = [int(r[0]) for r in library.db.query("SELECT id FROM tracks WHERE status = 'ok' ORDER BY id LIMIT 2")]
    md = QMimeData()
    md.setData(MIME, json.dumps({"source": "library", "ids": ids}).encode())
    w.sidebar.scrollToItem(empty)
    pos = QPointF(w.sidebar.visualItemRect(empty).center())
    ev = QDropEvent(pos, Qt.CopyAction, md, Qt.LeftButton, Qt.NoModifier)
    w.sidebar.dropEvent(ev)
    settle(w)
    assert ev.isAccepted()
    assert store.track_ids("Empty") == ids
    assert w.sidebar.playlist_item(store.find("Empty").id).text(0) == "Empty  (2)"

    # a drop beside the playlists does nothing
    ev = QDropEvent(QPointF(w.sidebar.visualItemRect(w.sidebar.all_item).center()), Qt.CopyAction, md,
                    Qt.LeftButton, Qt.NoModifier)
    w.sidebar.dropEvent(ev)
    settle(w)
    assert not ev.isAccepted() and store.track_ids("Empty") == ids

    w.listeners.rate([ids[0]], 5)  # a smart list's count follows the ratings
    store.set_query(smart.id, "stars>=4")
    w.playlists.reload()
    settle(w)
    assert w.sidebar.playlist_item(smart.id).text(0) == "Smart  (1)"

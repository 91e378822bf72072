"""The context menus: a song in the library (play, queue, more like this, rate, details, folder) and a
song in Up next / More like this (play now or next, remove, more like this, show, details)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QMenu

from player.ui.browse import BrowseController
from player.ui.context import Controller, WindowContext
from player.ui.details import DetailsController
from player.ui.icons import sparkle_icon, star_icon, std
from player.ui.library_view import LibraryView
from player.ui.listeners import ListenerController
from player.ui.panels import EntryList
from player.ui.sidebar import Sidebar
from player.ui.transport import TransportController
from player.ui.up_next import UpNextController


@dataclass(frozen=True)
class MenuParts:
    """What the menus act on: the widgets they open over, the window's shared actions (their shortcuts
    show in the menus) and the controllers their entries call."""

    view: LibraryView
    sidebar: Sidebar
    play_next: QAction
    enqueue: QAction
    more_like: QAction
    details_action: QAction
    transport: TransportController
    queue: UpNextController
    listeners: ListenerController
    details: DetailsController
    browse: BrowseController


class LibraryMenus(Controller):
    def __init__(self, ctx: WindowContext, parts: MenuParts, parent=None):
        super().__init__(ctx, parent)
        self.parts = parts
        self.last_menu: QMenu | None = None  # the open one (kept alive while it shows)
        #: more entries for a song's menu, ``fn(menu, track_ids)`` (e.g. Add to playlist ▸)
        self.song_entries: list = []
        parts.view.customContextMenuRequested.connect(self.library_menu)
        for lst, queue in ((parts.queue.up_next.list, True), (parts.queue.more_like.list, False)):
            lst.customContextMenuRequested.connect(lambda pos, lst=lst, queue=queue: self.entry_menu(lst, pos, queue))

    def _popup(self, menu: QMenu, widget, pos) -> None:
        menu.popup(widget.viewport().mapToGlobal(pos))
        self.last_menu = menu

    def library_menu(self, pos) -> None:
        p = self.parts
        view = p.view
        ix = view.indexAt(pos)
        if not ix.isValid():
            return
        tid = self.ctx.model.track_id_at(ix.row())
        if tid is None:
            return
        if tid not in view.selected_track_ids():
            view.selectRow(ix.row())
        ids = view.selected_track_ids()
        playable = self.ctx.playback.available
        m = QMenu(self.parent())
        m.addAction(std("MediaPlay"), "Play", lambda: p.transport.play_track(tid)).setEnabled(playable)
        m.addAction("Play all from here", p.transport.play_all_from_selection).setEnabled(playable)
        m.addAction(p.play_next)
        m.addAction(p.enqueue)
        for extra in self.song_entries:
            extra(m, ids)
        m.addSeparator()
        m.addAction(p.more_like)
        rate = m.addMenu(star_icon(14), "Rate")
        for k in range(5, 0, -1):
            rate.addAction("★" * k + "☆" * (5 - k) + f"   ({k})", lambda k=k: p.listeners.rate(ids, k))
        rate.addSeparator()
        rate.addAction("Clear rating   (0)", lambda: p.listeners.rate(ids, 0))
        m.addSeparator()
        m.addAction(p.details_action)
        m.addAction(std("DirOpenIcon"), "Show in folder", lambda: self.open_folder(tid))
        self._popup(m, view, pos)

    def entry_menu(self, lst: EntryList, pos, queue: bool) -> None:
        ix = lst.indexAt(pos)
        e = lst.entries.entry(ix.row()) if ix.isValid() else None
        if e is None:
            return
        un = self.parts.queue
        playable = self.ctx.playback.available
        m = QMenu(self.parent())
        m.addAction(std("MediaPlay"), "Play now", lambda: un.play_row(ix.row()) if queue else un.play_entry(e))
        if playable:
            m.addAction("Play next", lambda: un.play_next([e.track_id]))
        for extra in self.song_entries:
            extra(m, [e.track_id])
        if queue and playable:
            m.addAction(std("TrashIcon"), "Remove from Up next",
                        lambda: un.remove_rows(lst.selected_rows() or [ix.row()]))
        m.addAction(sparkle_icon(14), "More like this",
                    lambda: un.more_like_this(e.track_id)).setEnabled(self.ctx.recs.available)
        m.addAction("Show in library", lambda: self.reveal_track(e.track_id))
        m.addAction("Track details…", lambda: self.parts.details.show_details(e.track_id))
        self._popup(m, lst, pos)

    def reveal_track(self, track_id: int) -> None:
        p = self.parts
        if not p.view.select_track(track_id):
            p.sidebar.choose(None)
            p.browse.set_search("")
            QTimer.singleShot(300, lambda: p.view.select_track(track_id))

    def open_folder(self, track_id: int) -> None:
        row = self.ctx.model.track_row(track_id)
        if row:
            QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(row.path)))

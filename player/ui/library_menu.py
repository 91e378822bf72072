"""The context menus: a song in the library (play, queue, more like this, rate, details, folder) and a
song in Up next / More like this (play now or next, remove, more like this, show, details)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QObject, QTimer, QUrl
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QMenu

from player.ui.context import WindowContext
from player.ui.icons import sparkle_icon, star_icon, std
from player.ui.library_view import LibraryView
from player.ui.listeners import ListenerController
from player.ui.panels import EntryList
from player.ui.sidebar import Sidebar
from player.ui.transport import TransportController
from player.ui.up_next import UpNextController


@dataclass(frozen=True)
class MenuActions:
    """The window's actions the menus share (their shortcuts show in the menus)."""

    play_next: QAction
    enqueue: QAction
    more_like: QAction
    details: QAction


class LibraryMenus(QObject):
    def __init__(self, ctx: WindowContext, view: LibraryView, sidebar: Sidebar, actions: MenuActions,
                 transport: TransportController, up_next: UpNextController, listeners: ListenerController,
                 show_details: Callable[[int], object], set_search: Callable[[str], None], parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.view = view
        self.sidebar = sidebar
        self.actions = actions
        self.transport = transport
        self.up_next = up_next
        self.listeners = listeners
        self.show_details = show_details
        self.set_search = set_search
        self.last_menu: QMenu | None = None  # the open one (kept alive while it shows)
        view.customContextMenuRequested.connect(self.library_menu)
        for lst, queue in ((up_next.up_next.list, True), (up_next.more_like.list, False)):
            lst.customContextMenuRequested.connect(lambda pos, lst=lst, queue=queue: self.entry_menu(lst, pos, queue))

    def _popup(self, menu: QMenu, widget, pos) -> None:
        menu.popup(widget.viewport().mapToGlobal(pos))
        self.last_menu = menu

    def library_menu(self, pos) -> None:
        view = self.view
        ix = view.indexAt(pos)
        if not ix.isValid():
            return
        tid = self.ctx.model.track_id_at(ix.row())
        if tid is None:
            return
        if tid not in view.selected_track_ids():
            view.selectRow(ix.row())
        ids = view.selected_track_ids()
        playable = self.transport.playback.available
        m = QMenu(self.parent())
        m.addAction(std("MediaPlay"), "Play", lambda: self.transport.play_track(tid)).setEnabled(playable)
        m.addAction("Play all from here", self.transport.play_all_from_selection).setEnabled(playable)
        m.addAction(self.actions.play_next)
        m.addAction(self.actions.enqueue)
        m.addSeparator()
        m.addAction(self.actions.more_like)
        rate = m.addMenu(star_icon(14), "Rate")
        for k in range(5, 0, -1):
            rate.addAction("★" * k + "☆" * (5 - k) + f"   ({k})", lambda k=k: self.listeners.rate(ids, k))
        rate.addSeparator()
        rate.addAction("Clear rating   (0)", lambda: self.listeners.rate(ids, 0))
        m.addSeparator()
        m.addAction(self.actions.details)
        m.addAction(std("DirOpenIcon"), "Show in folder", lambda: self.open_folder(tid))
        self._popup(m, view, pos)

    def entry_menu(self, lst: EntryList, pos, queue: bool) -> None:
        ix = lst.indexAt(pos)
        e = lst.entries.entry(ix.row()) if ix.isValid() else None
        if e is None:
            return
        un = self.up_next
        playable = self.transport.playback.available
        m = QMenu(self.parent())
        m.addAction(std("MediaPlay"), "Play now", lambda: un.play_row(ix.row()) if queue else un.play_entry(e))
        if playable:
            m.addAction("Play next", lambda: un.play_next([e.track_id]))
        if queue and playable:
            m.addAction(std("TrashIcon"), "Remove from Up next",
                        lambda: un.remove_rows(lst.selected_rows() or [ix.row()]))
        m.addAction(sparkle_icon(14), "More like this",
                    lambda: un.more_like_this(e.track_id)).setEnabled(un.recs.available)
        m.addAction("Show in library", lambda: self.reveal_track(e.track_id))
        m.addAction("Track details…", lambda: self.show_details(e.track_id))
        self._popup(m, lst, pos)

    def reveal_track(self, track_id: int) -> None:
        if not self.view.select_track(track_id):
            self.sidebar.choose(None)
            self.set_search("")
            QTimer.singleShot(300, lambda: self.view.select_track(track_id))

    def open_folder(self, track_id: int) -> None:
        row = self.ctx.model.track_row(track_id)
        if row:
            QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(row.path)))

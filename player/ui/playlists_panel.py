"""Playlists in the window: the sidebar's Playlists section, the playlist view that replaces the library
table while a playlist is chosen, and the commands (create, rename, duplicate, delete, add, reorder,
remove, play, import and export).

Reading a playlist (a smart one is evaluated) runs in the query pool and every change in the write
pool: the GUI thread never waits on the library. The store is :class:`player.library.playlists.Playlists`.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QAbstractTableModel, QMimeData, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QInputDialog, QLabel,
                               QMenu, QMessageBox, QPushButton, QTableView, QVBoxLayout, QWidget)

from player.ui.context import Controller, WindowContext
from player.ui.icons import std
from player.ui.panels import MIME
from player.ui.sidebar import Sidebar

COLUMNS = ["#", "Title", "Artist", "Album", "Length"]
FILE_FILTER = "Playlists (*.m3u *.m3u8 *.pls *.xspf);;All files (*)"


def looks_like_query(text: str) -> bool:
    """Search text that is written in the smart-playlist language: a known field with an operator
    (``genre:rock``, ``stars>=4``, ``year:1990..1999``)."""
    import re

    from player.library.smart_parse import ALIASES, FIELDS

    for m in re.finditer(r"(?<![\w\"])([A-Za-z_]+)(<=|>=|!=|<|>|=|:)", text or ""):
        name = m.group(1).lower()
        if name in FIELDS or name in ALIASES:
            return True
    return False


def _length(seconds) -> str:
    if not seconds:
        return ""
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}"


class PlaylistModel(QAbstractTableModel):
    """A playlist's entries in order (repeats kept). Rows drag out as songs; a saved list takes songs
    dropped from the library (``idsDropped``) and reorders by drag (``rowsMoved``)."""

    idsDropped = Signal(list, int)  # track ids, the row they were dropped at
    rowsMoved = Signal(list, int)  # rows, the row they go before

    def __init__(self, parent=None):
        super().__init__(parent)
        self.entries: list = []
        self.editable = False

    def set_entries(self, entries: list, editable: bool) -> None:
        self.beginResetModel()
        self.entries = list(entries)
        self.editable = editable
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802
        if orientation == Qt.Horizontal and role == Qt.DisplayRole and 0 <= section < len(COLUMNS):
            return COLUMNS[section]
        return None

    def track_ids(self) -> list[int]:
        return [e.track.id for e in self.entries]

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        e = self.entries[index.row()]
        t = e.track
        missing = t.status != "ok"
        if role == Qt.DisplayRole:
            col = index.column()
            if col == 0:
                return str(index.row() + 1)
            if col == 1:
                return t.title or (t.path.rsplit("/", 1)[-1] if t.path else str(t.id))
            if col == 2:
                return t.artist or ""
            if col == 3:
                return t.album or ""
            return _length(t.duration)
        if role == Qt.ForegroundRole and missing:
            return QBrush(QColor(150, 150, 150))
        if role == Qt.ToolTipRole and missing:
            return f"The file is missing: {t.path}. It plays again when the file is back."
        return None

    def flags(self, index):
        f = super().flags(index)
        if not index.isValid():
            return f | (Qt.ItemIsDropEnabled if self.editable else Qt.NoItemFlags)
        return f | Qt.ItemIsDragEnabled | (Qt.ItemIsDropEnabled if self.editable else Qt.NoItemFlags)

    def supportedDropActions(self):  # noqa: N802
        return Qt.MoveAction | Qt.CopyAction if self.editable else Qt.IgnoreAction

    def supportedDragActions(self):  # noqa: N802
        return Qt.MoveAction | Qt.CopyAction

    def mimeTypes(self):  # noqa: N802
        return [MIME]

    def mimeData(self, indexes):  # noqa: N802
        rows = sorted({i.row() for i in indexes})
        md = QMimeData()
        md.setData(MIME, json.dumps({"source": "playlist", "rows": rows,
                                     "ids": [self.entries[r].track.id for r in rows]}).encode())
        return md

    def canDropMimeData(self, data, action, row, column, parent):  # noqa: N802
        return self.editable and data.hasFormat(MIME)

    def dropMimeData(self, data, action, row, column, parent):  # noqa: N802
        if not self.editable or not data.hasFormat(MIME):
            return False
        payload = json.loads(bytes(data.data(MIME)).decode())
        if row < 0:
            row = parent.row() if parent.isValid() else len(self.entries)
        if payload.get("source") == "playlist":
            rows = [int(r) for r in payload.get("rows", [])]
            if rows:
                self.rowsMoved.emit(rows, row)
        else:
            ids = [int(i) for i in payload.get("ids", [])]
            if ids:
                self.idsDropped.emit(ids, row)
        return False  # the store changes, then the view reloads from it: Qt must not remove rows


class PlaylistView(QWidget):
    """A playlist's title, what it holds, Play (and Edit rules for a smart list) and its songs."""

    playRequested = Signal(int)  # row
    removeRequested = Signal(list)  # rows

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("playlistView")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 0)
        lay.setSpacing(6)
        head = QHBoxLayout()
        self.title = QLabel("")
        self.title.setProperty("class", "panelTitle")
        head.addWidget(self.title)
        self.info = QLabel("")
        self.info.setProperty("class", "hint")
        head.addWidget(self.info, 1)
        self.edit = QPushButton("Edit rules…")
        head.addWidget(self.edit)
        self.play = QPushButton(std("MediaPlay"), "Play")
        head.addWidget(self.play)
        lay.addLayout(head)
        self.hint = QLabel("")
        self.hint.setProperty("class", "hint")
        self.hint.setWordWrap(True)
        lay.addWidget(self.hint)
        self.model = PlaylistModel(self)
        self.table = QTableView()
        self.table.setObjectName("playlistTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setDragEnabled(True)
        self.table.setAcceptDrops(True)
        self.table.setDropIndicatorShown(True)
        self.table.setDragDropMode(QAbstractItemView.DragDrop)
        self.table.setDefaultDropAction(Qt.MoveAction)
        self.table.setContextMenuPolicy(Qt.CustomContextMenu)
        self.table.doubleClicked.connect(lambda ix: self.playRequested.emit(ix.row()))
        self.table.installEventFilter(self)
        lay.addWidget(self.table, 1)

    def selected_rows(self) -> list[int]:
        return sorted({ix.row() for ix in self.table.selectionModel().selectedRows()})

    def number_width(self, n: int) -> int:
        """The "#" column's width for ``n`` entries: the header's title or the widest number, from the
        font (not Qt's resize-to-contents, which asks the model for every row's text)."""
        from PySide6.QtWidgets import QStyle

        t = self.table
        margin = 2 * (t.style().pixelMetric(QStyle.PM_FocusFrameHMargin, None, t) + 1) + 8
        return max(t.horizontalHeader().sectionSizeFromContents(0).width(),
                   t.fontMetrics().horizontalAdvance("8" * len(str(max(1, n)))) + margin)

    def eventFilter(self, obj, ev):  # noqa: N802
        from PySide6.QtCore import QEvent

        if obj is self.table and ev.type() == QEvent.Type.KeyPress:
            if ev.key() in (Qt.Key_Return, Qt.Key_Enter) and self.table.currentIndex().isValid():
                self.playRequested.emit(self.table.currentIndex().row())
                return True
            if ev.key() in (Qt.Key_Delete, Qt.Key_Backspace) and self.model.editable and self.selected_rows():
                self.removeRequested.emit(self.selected_rows())
                return True
        return super().eventFilter(obj, ev)


class PlaylistsController(Controller):
    """The sidebar's playlists and the playlist view (see the module docstring)."""

    changed = Signal()  # the list of playlists was read again
    shown = Signal()  # the chosen playlist's songs are on screen

    def __init__(self, ctx: WindowContext, sidebar: Sidebar, panel: PlaylistView, library_parts: list[QWidget],
                 parent=None):
        super().__init__(ctx, parent)
        from player.library.playlists import Playlists

        self.store = Playlists(ctx.library)
        self.sidebar = sidebar
        self.panel = panel
        self.library_parts = library_parts  # hidden while a playlist shows
        self.playlists: list = []
        self.current_id: int | None = None
        self.user_id: int | None = None
        self.last_menu: QMenu | None = None
        self.last_dialog: QMessageBox | None = None
        self._gen = 0
        self._select_after: int | None = None
        panel.setVisible(False)
        sidebar.playlistChosen.connect(self.choose)
        sidebar.idsDroppedOnPlaylist.connect(lambda pid, ids: self.add(pid, ids))
        sidebar.customContextMenuRequested.connect(self.sidebar_menu)
        m = panel.model
        m.idsDropped.connect(lambda ids, row: self.add(self.current_id, ids, position=row))
        m.rowsMoved.connect(lambda rows, to: self.move(self.current_id, rows, to))
        panel.removeRequested.connect(lambda rows: self.remove(self.current_id, rows))
        panel.playRequested.connect(lambda row: self.play(self.current_id if self.search_text is None else -1, row))
        panel.play.clicked.connect(lambda: self.play(self.current_id if self.search_text is None else -1, 0))
        panel.edit.clicked.connect(lambda: self.edit_smart(self.current_id))
        self.editor = None  # the open smart-playlist editor
        #: more entries for a playlist's menu, ``fn(menu, ("playlist", name))`` (e.g. Start radio)
        self.playlist_entries: list = []
        panel.table.customContextMenuRequested.connect(self.entry_menu)
        ctx.model.countsChanged.connect(lambda *_: self._keep_library_hidden())
        self.search_text: str | None = None  # a search in the query language, shown in the playlist view
        self.reload()

    # -- reading ---------------------------------------------------------------------------------
    def set_user(self, user_id: int | None) -> None:
        self.user_id = user_id
        self.reload()  # smart playlists count (and show) the listener's stars and plays

    def reload(self) -> None:
        """Read the list of playlists again (worker) and refresh the one shown."""
        user_id = self.user_id
        shown = self.current_id if self.search_text is None else None  # counted as it is shown

        def job():
            from player.library.smart import evaluate

            playlists = self.store.list()
            counts = {}
            for p in playlists:
                if p.is_smart and p.id != shown:
                    try:
                        counts[p.id] = len(evaluate(self.ctx.library, p.query, user_id=user_id).track_ids)
                    except Exception:  # noqa: BLE001 - a query that cannot run now is shown without a count
                        pass
            return playlists, counts

        self.ctx.pools.query.submit(job, on_result=self._listed,
                                    on_error=lambda e: self.ctx.notify(f"Playlists: {e.message}", "warning"))

    def _listed(self, result) -> None:
        playlists, counts = result
        self.playlists = playlists
        self.sidebar.set_playlists(playlists)
        for pid, n in counts.items():
            self.sidebar.set_playlist_count(pid, n)
        self.changed.emit()
        chosen, self._select_after = self._select_after, None
        if chosen is not None and any(p.id == chosen for p in playlists):
            self.sidebar.choose(("playlist", chosen))
        elif self.current_id is not None:
            if any(p.id == self.current_id for p in playlists):
                self.refresh_shown()
            else:
                self.sidebar.choose(None)

    def library_changed(self, *_args) -> None:
        """Songs, ratings or analysis changed: the counts and the shown playlist follow (a smart one is
        evaluated again, in the query pool)."""
        self.reload()
        if self.search_text is not None:
            self._evaluate_search(self.search_text)

    def playlist(self, pid: int | None):
        return next((p for p in self.playlists if p.id == pid), None)

    def choose(self, pid: int | None) -> None:
        self.current_id = pid
        if self.search_text is not None:
            self._evaluate_search(self.search_text)
            return
        showing = pid is not None
        self.panel.setVisible(showing)
        if showing:
            for w in self.library_parts:
                w.setVisible(False)
            self.refresh_shown()
        else:
            self.library_parts[0].setVisible(True)
            # the browse controller decides between the table and the empty-library hint
            self.ctx.model.countsChanged.emit(self.ctx.model.shown_count(), self.ctx.model.total_count())

    # -- the search box in the query language ------------------------------------------------------
    def search(self, text: str) -> None:
        """Search text that looks like a query (:func:`looks_like_query`) lists what the query selects,
        evaluated in the query pool; other text goes back to the library's own search."""
        if looks_like_query(text):
            self.search_text = text
            self.panel.setVisible(True)
            self._keep_library_hidden()
            self._evaluate_search(text)
        elif self.search_text is not None:
            self.search_text = None
            self.choose(self.current_id)

    def watch_search(self, box) -> None:
        """Follow the search box (debounced as the library's search is)."""
        from PySide6.QtCore import QTimer

        from player.ui.browse import SEARCH_DEBOUNCE_MS

        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(SEARCH_DEBOUNCE_MS)
        timer.timeout.connect(lambda: self.search(box.text()))
        box.textChanged.connect(lambda _t: self.search(box.text()) if self.ctx.pools.synchronous else timer.start())
        self._search_timer = timer

    def _evaluate_search(self, text: str) -> None:
        from player.library.playlists import Entry, tracks_by_ids
        from player.library.smart import evaluate

        user_id = self.user_id
        self._gen += 1
        gen = self._gen

        def job():
            res = evaluate(self.ctx.library, text, user_id=user_id)
            return [Entry(i, None, t) for i, t in enumerate(tracks_by_ids(self.ctx.library, res.track_ids))], \
                res.warnings

        def done(res, gen=gen):
            if gen == self._gen and self.search_text == text:
                entries, warnings = res
                self._show_search(text, entries, "; ".join(str(x) for x in warnings))

        def failed(err, gen=gen):
            if gen == self._gen and self.search_text == text:
                self._show_search(text, [], err.message)

        self.ctx.pools.query.submit(job, on_result=done, on_error=failed)

    def _show_search(self, text: str, entries: list, note: str) -> None:
        p = self.panel
        p.model.set_entries(entries, False)
        p.title.setText("Search")
        n = len(entries)
        p.info.setText(f"   {n} song{'s' if n != 1 else ''} match {text}")
        p.edit.setVisible(False)
        p.play.setEnabled(bool(n) and self.ctx.playback.available)
        p.hint.setText(note)
        p.hint.setVisible(bool(note))
        self.shown.emit()

    def _keep_library_hidden(self) -> None:
        if self.current_id is not None or self.search_text is not None:
            for w in self.library_parts:
                w.setVisible(False)

    def refresh_shown(self) -> None:
        """Read the shown playlist's entries (a smart one is evaluated) in the query pool."""
        pid, user_id = self.current_id, self.user_id
        if pid is None or self.search_text is not None:
            return
        self._gen += 1
        gen = self._gen

        def job():
            return self.store.get(pid), self.store.entries(pid, user_id=user_id)

        def done(res, gen=gen):
            if gen != self._gen or self.current_id != pid:
                return
            self._show(*res)

        self.ctx.pools.query.submit(job, on_result=done, on_error=self._read_failed)

    def _read_failed(self, err) -> None:
        self.panel.model.set_entries([], False)
        self.panel.hint.setText(f"This playlist cannot be read: {err.message}")
        self.panel.hint.setVisible(True)
        self.shown.emit()

    def _show(self, playlist, entries: list) -> None:
        p = self.panel
        n = len(entries)
        editable = not playlist.is_smart
        if entries != p.model.entries or editable != p.model.editable:  # a rating elsewhere: often the same
            p.model.set_entries(entries, editable)
            p.table.setColumnWidth(0, p.number_width(n))
        p.title.setText(playlist.name)
        missing = sum(1 for e in entries if e.track.status != "ok")
        total = sum(e.track.duration or 0 for e in entries)
        info = f"{n} song{'s' if n != 1 else ''}"
        if total:
            info += f", {_length(total) if total < 3600 else f'{total / 3600:.1f} h'}"
        if missing:
            info += f", {missing} missing"
        p.info.setText("   " + info)
        p.edit.setVisible(playlist.is_smart)
        p.play.setEnabled(bool(n) and self.ctx.playback.available)
        if playlist.is_smart:
            p.hint.setText(f"Smart playlist: {playlist.query}")
            self.sidebar.set_playlist_count(playlist.id, n)
        elif not n:
            p.hint.setText("Empty: drag songs here from the library, or right-click songs ▸ Add to playlist.")
        else:
            p.hint.setText("")
        p.hint.setVisible(bool(p.hint.text()))
        self.shown.emit()

    # -- changing (the write pool, then a reload) -------------------------------------------------
    def _write(self, what: str, fn, *args, after=None, **kw) -> None:
        def done(result):
            if after is not None:
                after(result)
            self.reload()

        self.ctx.pools.db_write.submit(fn, *args, **kw, on_result=done,
                                       on_error=lambda e: self.ctx.notify(f"{what}: {e.message}", "warning"))

    def create(self, name: str, track_ids=(), query: str | None = None, show: bool = True) -> None:
        def made(p):
            self.ctx.status(f"Playlist “{p.name}” made", 3000)
            if show:
                self._select_after = p.id

        self._write("The playlist could not be made", self.store.create, name, track_ids=list(track_ids),
                    query=query, after=made)

    def rename(self, pid: int, name: str) -> None:
        self._write("The playlist could not be renamed", self.store.rename, pid, name)

    def duplicate(self, pid: int, name: str | None = None) -> None:
        self._write("The playlist could not be copied", self.store.duplicate, pid, name)

    def delete(self, pid: int) -> None:
        self._write("The playlist could not be deleted", self.store.delete, pid)

    def set_query(self, pid: int, query: str) -> None:
        self._write("The smart playlist could not be changed", self.store.set_query, pid, query)

    def add(self, pid: int | None, ids: list[int], position: int | None = None) -> None:
        if pid is None or not ids:
            return
        p = self.playlist(pid)
        if p is not None and p.is_smart:
            self.ctx.notify(f"“{p.name}” is a smart playlist: it follows its rules, songs cannot be added by hand.",
                            "info")
            return
        n = len(ids)

        def added(_r):
            if p is not None:
                self.ctx.status(f"{n} song{'s' if n != 1 else ''} added to “{p.name}”", 3000)

        self._write("The songs could not be added", self.store.add, pid, list(ids), position=position, after=added)

    def remove(self, pid: int | None, rows: list[int]) -> None:
        if pid is not None and rows:
            self._write("The songs could not be removed", self.store.remove, pid, list(rows))

    def move(self, pid: int | None, rows: list[int], to: int) -> None:
        if pid is not None and rows:
            self._write("The songs could not be moved", self.store.move_many, pid, list(rows), to)

    def play(self, pid: int | None, row: int = 0) -> None:
        """Up next becomes the playlist (from ``row``)."""
        if pid is None or not self.ctx.playback.available:
            return
        if self.search_text is not None and pid == -1:
            if self.panel.model.entries:
                self._play_ids(self.panel.model.track_ids(), row)
            return
        if pid == self.current_id and self.panel.model.entries:
            self._play_ids(self.panel.model.track_ids(), row)
            return
        user_id = self.user_id
        self.ctx.pools.query.submit(self.store.track_ids, pid, user_id=user_id,
                                    on_result=lambda ids: self._play_ids(ids, row),
                                    on_error=lambda e: self.ctx.notify(f"The playlist cannot play: {e.message}",
                                                                       "warning"))

    def _play_ids(self, ids: list[int], row: int) -> None:
        if not ids:
            self.ctx.status("The playlist is empty", 3000)
            return
        recs = getattr(self.ctx, "recs", None)
        if recs is not None:
            recs.recommended.difference_update(ids)  # the playlist's songs are the listener's choice
        self.ctx.playback.play_ids(ids, row)

    # -- asking (dialogs; tests call the commands above) -------------------------------------------
    def ask_create(self, track_ids=()) -> None:
        name, ok = QInputDialog.getText(self.panel.window(), "New playlist", "Name:")
        if ok and name.strip():
            self.create(name, track_ids)

    def new_smart(self, query: str = ""):
        """The rule editor for a new smart playlist (shown, not modal)."""
        from player.ui.smart_editor import SmartEditor

        self.editor = SmartEditor(self.ctx, lambda name, q: self.create(name, query=q), query=query,
                                  parent=self.panel.window())
        self.editor.show()
        return self.editor

    def edit_smart(self, pid: int | None):
        from player.ui.smart_editor import SmartEditor

        p = self.playlist(pid)
        if p is None or not p.is_smart:
            return None

        def save(name: str, query: str) -> None:
            if name != p.name:
                self.rename(pid, name)
            if query != p.query:
                self.set_query(pid, query)

        self.editor = SmartEditor(self.ctx, save, name=p.name, query=p.query or "", parent=self.panel.window())
        self.editor.show()
        return self.editor

    def ask_rename(self, pid: int) -> None:
        p = self.playlist(pid)
        name, ok = QInputDialog.getText(self.panel.window(), "Rename playlist", "Name:", text=p.name if p else "")
        if ok and name.strip():
            self.rename(pid, name)

    def ask_delete(self, pid: int) -> None:
        p = self.playlist(pid)
        if p is None:
            return
        answer = QMessageBox.question(self.panel.window(), "Delete playlist",
                                      f"Delete the playlist “{p.name}”? The songs stay in the library.")
        if answer == QMessageBox.Yes:
            self.delete(pid)

    # -- menus -------------------------------------------------------------------------------------
    def add_to_menu(self, menu: QMenu, ids: list[int]) -> QMenu:
        """``Add to playlist ▸`` with the saved playlists and *New playlist…*."""
        sub = menu.addMenu("Add to playlist")
        for p in self.playlists:
            if not p.is_smart:
                sub.addAction(p.name, lambda pid=p.id: self.add(pid, ids))
        if any(not p.is_smart for p in self.playlists):
            sub.addSeparator()
        sub.addAction("New playlist…", lambda: self.ask_create(ids))
        return sub

    def playlist_menu(self, pid: int | None) -> QMenu:
        m = QMenu(self.sidebar)
        if pid is not None:
            playable = self.ctx.playback.available
            m.addAction(std("MediaPlay"), "Play", lambda: self.play(pid)).setEnabled(playable)
            m.addSeparator()
            m.addAction("Rename…", lambda: self.ask_rename(pid))
            if (p := self.playlist(pid)) is not None and p.is_smart:
                m.addAction("Edit rules…", lambda: self.edit_smart(pid))
            m.addAction("Duplicate", lambda: self.duplicate(pid))
            m.addAction("Export…", lambda: self.ask_export(pid))
            m.addAction(std("TrashIcon"), "Delete…", lambda: self.ask_delete(pid))
            p = self.playlist(pid)
            for extra in self.playlist_entries:
                extra(m, ("playlist", p.name if p is not None else str(pid)))
            m.addSeparator()
        m.addAction("New playlist…", lambda: self.ask_create())
        m.addAction("New smart playlist…", lambda: self.new_smart())
        m.addAction("Import playlist…", self.ask_import)
        return m

    def sidebar_menu(self, pos) -> None:
        item = self.sidebar.itemAt(pos)
        pid = self.sidebar.playlist_at(pos)
        if pid is None and item is not self.sidebar.playlists_item:
            return
        m = self.playlist_menu(pid)
        m.popup(self.sidebar.viewport().mapToGlobal(pos))
        self.last_menu = m

    def entry_menu(self, pos) -> None:
        t = self.panel.table
        ix = t.indexAt(pos)
        if not ix.isValid():
            return
        rows = self.panel.selected_rows()
        if ix.row() not in rows:
            t.selectRow(ix.row())
            rows = [ix.row()]
        pid = self.current_id
        m = QMenu(self.panel)
        m.addAction(std("MediaPlay"), "Play from here", lambda: self.play(pid, ix.row()))
        ids = [self.panel.model.entries[r].track.id for r in rows]
        self.add_to_menu(m, ids)
        if self.panel.model.editable:
            m.addAction(std("TrashIcon"), "Remove from playlist", lambda: self.remove(pid, rows))
        m.popup(t.viewport().mapToGlobal(pos))
        self.last_menu = m

    # -- files -----------------------------------------------------------------------------------
    def file_actions(self, owner) -> list[QAction]:
        imp = QAction("Import playlist…", owner)
        imp.triggered.connect(lambda *_: self.ask_import())
        exp = QAction("Export playlist…", owner)
        exp.triggered.connect(lambda *_: self.ask_export(self.current_id))
        return [imp, exp]

    def ask_import(self) -> None:
        path, _f = QFileDialog.getOpenFileName(self.panel.window(), "Import playlist", "", FILE_FILTER)
        if path:
            self.import_file(path)

    def ask_export(self, pid: int | None) -> None:
        p = self.playlist(pid)
        if p is None:
            self.ctx.notify("Choose a playlist in the sidebar to export it.", "info")
            return
        path, _f = QFileDialog.getSaveFileName(self.panel.window(), "Export playlist", f"{p.name}.m3u8", FILE_FILTER)
        if path:
            self.export_file(pid, path)

    def import_file(self, path: str) -> None:
        from player.library.playlist_files import import_playlist

        self.ctx.pools.db_write.submit(import_playlist, self.ctx.library, path, on_result=self._imported,
                                       on_error=lambda e: self.ctx.notify(f"The playlist could not be imported: "
                                                                          f"{e.message}", "warning"))

    def _imported(self, report) -> None:
        self.reload()
        if report.imported:
            self.ctx.model.refresh()
        name = getattr(report.playlist, "name", "")
        box = QMessageBox(QMessageBox.Information if not report.unresolved else QMessageBox.Warning,
                          "Playlist imported", f"“{name}”: {report.summary()}.", QMessageBox.Ok,
                          self.panel.window())
        lines = [f"line {line}: {loc if isinstance(loc, str) else loc.decode('utf-8', 'replace')} — {why}"
                 for line, loc, why in report.unresolved]
        lines += [f"line {line}: skipped — {why}" for line, why in report.skipped]
        if lines:
            box.setInformativeText("Not found:" if report.unresolved else "Skipped:")
            box.setDetailedText("\n".join(lines))
        box.setModal(False)
        box.show()
        self.last_dialog = box

    def export_file(self, pid: int, path: str) -> None:
        from player.library.playlist_files import export_playlist

        self.ctx.pools.query.submit(export_playlist, self.ctx.library, pid, path, user_id=self.user_id,
                                    on_result=lambda n: self.ctx.status(f"{n} songs written to {path}", 5000),
                                    on_error=lambda e: self.ctx.notify(f"The playlist could not be exported: "
                                                                       f"{e.message}", "warning"))

"""The album grid: the library's albums as cover tiles with their name and artist.

Albums are grouped by :func:`player.library.store.album_key` and named by
:func:`~player.library.store.album_names`, in a worker (:func:`collect_albums`); the grid is a
``QListView`` in icon mode over a flat list model, so only the tiles on screen are painted, and only a
painted tile asks the window's :class:`~player.ui.cover_art.CoverLoader` for its cover: scrolling 2,000
albums loads the covers of the visible ones (requests of tiles scrolled away are dropped before they
start). Double-click or Enter plays the album in order (disc, track number, title).
:class:`AlbumGridController` switches the middle of the window between the song list and the grid
(View ▸ Album grid, Ctrl+G, also in the toolbar) and remembers the choice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from PySide6.QtCore import QAbstractListModel, QModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate

from player.options import VIEW
from player.ui.context import Controller

TILE = 150  # cover side in pixels
VARIOUS = "Various artists"


@dataclass(frozen=True)
class Album:
    key: str
    name: str
    artist: str
    track_ids: tuple[int, ...]  # in playing order

    @property
    def cover_track(self) -> int:
        return self.track_ids[0]


def _track_order(t):
    return (t.tracknumber if t.tracknumber is not None else 10**6, (t.title or "").casefold(), t.id)


class _Member(NamedTuple):
    """What grouping and naming albums read of a track (not the whole ``Track``: 21 fields for each of
    100,000 songs, made each time the grid is shown)."""

    id: int
    path: str
    title: str | None
    artist: str | None
    album: str | None
    albumartist: str | None
    tracknumber: int | None


def collect_albums(library) -> list[Album]:
    """Worker: the playable tracks as albums, by artist then name (case aside)."""
    import os

    from player.library.store import album_key, album_names

    tracks = []
    for r in library.db.tuples("SELECT id, path_raw, title, artist, album, albumartist, tracknumber FROM tracks "
                               "WHERE status = 'ok' ORDER BY id"):
        path = os.fsdecode(bytes(r[1]))
        tracks.append(_Member(r[0], path, r[2] or os.path.splitext(os.path.basename(path))[0], *r[3:]))
    names = album_names(tracks)
    groups: dict[str, list] = {}
    for t in tracks:
        groups.setdefault(album_key(t), []).append(t)
    albums = []
    for key, members in groups.items():
        members.sort(key=_track_order)
        album_artists = Counter(t.albumartist for t in members if t.albumartist)
        artists = Counter(t.artist for t in members if t.artist)
        if album_artists:
            artist = album_artists.most_common(1)[0][0]
        elif len(artists) == 1:
            artist = next(iter(artists))
        else:
            artist = VARIOUS if artists else ""
        albums.append(Album(key, names[key], artist, tuple(t.id for t in members)))
    albums.sort(key=lambda a: (a.artist.casefold(), a.name.casefold(), a.key))
    return albums


class AlbumModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.albums: list[Album] = []

    def set_albums(self, albums: list[Album]) -> None:
        self.beginResetModel()
        self.albums = list(albums)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.albums)

    def album(self, row: int) -> Album | None:
        return self.albums[row] if 0 <= row < len(self.albums) else None

    def data(self, index, role=Qt.DisplayRole):
        a = self.album(index.row()) if index.isValid() else None
        if a is None:
            return None
        if role == Qt.DisplayRole:
            return a.name
        if role == Qt.ToolTipRole:
            n = len(a.track_ids)
            return f"{a.name}\n{a.artist or 'Unknown artist'} · {n} song{'s' if n != 1 else ''}\nDouble-click to play"
        if role == Qt.UserRole:
            return a
        return None


class AlbumDelegate(QStyledItemDelegate):
    """A tile: the cover, the album's name (bold) and artist, each on one elided line."""

    def __init__(self, covers, parent=None):
        super().__init__(parent)
        self.covers = covers
        self.painted: set[int] = set()  # the cover tracks painted since the view last asked

    def sizeHint(self, option, index):  # noqa: N802
        fm = QFontMetrics(option.font)
        return QSize(TILE + 16, TILE + 2 * fm.height() + 18)

    def paint(self, p, option, index):
        from player.ui.cover_art import blank_tile

        a: Album = index.data(Qt.UserRole)
        if a is None:
            return
        p.save()
        if option.state & QStyle.State_Selected:
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(79, 107, 237, 40))
            p.drawRoundedRect(option.rect.adjusted(2, 2, -2, -2), 8, 8)
        r = option.rect
        x, y = r.left() + (r.width() - TILE) // 2, r.top() + 6
        self.painted.add(a.cover_track)
        pm = self.covers.cover(a.cover_track, TILE, a.name) if self.covers is not None else None
        p.drawPixmap(x, y, pm if pm is not None else blank_tile(TILE))
        fm = QFontMetrics(option.font)
        bold = QFont(option.font)
        bold.setBold(True)
        p.setFont(bold)
        p.setPen(QColor(25, 28, 36))
        line = QRect(x, y + TILE + 4, TILE, fm.height())
        p.drawText(line, Qt.AlignLeft | Qt.AlignVCenter, QFontMetrics(bold).elidedText(a.name, Qt.ElideRight, TILE))
        p.setFont(option.font)
        p.setPen(QColor(95, 100, 112))
        p.drawText(line.translated(0, fm.height() + 2), Qt.AlignLeft | Qt.AlignVCenter,
                   fm.elidedText(a.artist or "Unknown artist", Qt.ElideRight, TILE))
        p.restore()


class AlbumGrid(QListView):
    """The grid. ``playRequested(track_ids)``: double-click or Enter on an album."""

    playRequested = Signal(list)

    def __init__(self, covers, parent=None):
        super().__init__(parent)
        self.setObjectName("albumGrid")
        self.albums = AlbumModel(self)
        self.setModel(self.albums)
        self.tiles = AlbumDelegate(covers, self)
        self.setItemDelegate(self.tiles)
        self.setViewMode(QListView.IconMode)
        self.setResizeMode(QListView.Adjust)
        self.setMovement(QListView.Static)
        self.setUniformItemSizes(True)
        self.setSpacing(6)
        self.setWrapping(True)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.covers = covers
        self.doubleClicked.connect(lambda ix: self._play(ix.row()))
        if covers is not None:
            covers.ready.connect(lambda *_: self.viewport().update())
        # after a scroll settles, the requests of tiles no longer painted are dropped
        self._trim = QTimer(self)
        self._trim.setSingleShot(True)
        self._trim.setInterval(150)
        self._trim.timeout.connect(self._forget_hidden)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)

    def _scrolled(self, _value) -> None:
        # every 150 ms while the grid scrolls (not only once it stops): the requests of tiles that went
        # by are dropped before they start, so a long scroll never piles up thousands of them
        if not self._trim.isActive():
            self.tiles.painted.clear()
            self._trim.start()

    def _forget_hidden(self) -> None:
        if self.covers is not None:
            self.covers.forget(set(self.tiles.painted), TILE)

    def _play(self, row: int) -> None:
        a = self.albums.album(row)
        if a is not None:
            self.playRequested.emit(list(a.track_ids))

    def keyPressEvent(self, event):  # noqa: N802
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and self.currentIndex().isValid():
            self._play(self.currentIndex().row())
            return
        super().keyPressEvent(event)


class AlbumGridController(Controller):
    """The list ↔ grid switch: :attr:`action` (checkable) shows the grid in place of the song list;
    the albums are collected in the query worker when the grid is shown and after the library changes."""

    def __init__(self, ctx, list_view, grid: AlbumGrid, parent=None):
        super().__init__(ctx, parent)
        self.list_view = list_view
        self.grid = grid
        self.action = QAction("&Album grid", parent)
        self.action.setCheckable(True)
        self.action.setShortcut("Ctrl+G")
        self.action.setToolTip("Show the albums as a grid of covers (Ctrl+G)")
        self.action.toggled.connect(self.show_grid)
        self._stale = True
        grid.playRequested.connect(self.play)
        ctx.model.loaded.connect(self.library_changed)
        self._total = None
        ctx.model.countsChanged.connect(self._counts)
        grid.setVisible(False)
        if ctx.settings[VIEW] == "albums":
            self.action.setChecked(True)

    def install(self, menu_bar, before_menu, toolbar) -> None:
        """View ▸ Album grid (before ``before_menu``), and the same switch in the toolbar."""
        from PySide6.QtWidgets import QMenu

        menu = QMenu("&View", menu_bar)
        menu.addAction(self.action)
        menu_bar.insertMenu(before_menu.menuAction(), menu)
        self.view_menu = menu
        after_first = toolbar.actions()[1:2]  # next to Import folder
        if after_first:
            toolbar.insertAction(after_first[0], self.action)
        else:
            toolbar.addAction(self.action)

    @property
    def showing(self) -> bool:
        return self.action.isChecked()

    def show_grid(self, on: bool) -> None:
        self.ctx.settings[VIEW] = "albums" if on else "list"
        self.grid.setVisible(on)
        self.list_view.setVisible(not on)
        if on and self._stale:
            self.reload()

    def _counts(self, _shown: int, total: int) -> None:
        if total != self._total:  # songs came or went (a search changes only the shown count)
            self._total = total
            if self.grid.covers is not None:
                self.grid.covers.forget_missing()
            self.library_changed()

    def library_changed(self) -> None:
        self._stale = True
        if self.showing:
            self.reload()

    def reload(self) -> None:
        self._stale = False
        self.ctx.pools.query.submit(collect_albums, self.ctx.library, on_result=self.grid.albums.set_albums,
                                    on_error=lambda e: self.ctx.notify(f"The albums could not be listed: {e.message}",
                                                                       "error"))

    def play(self, track_ids: list[int]) -> None:
        pb = self.ctx.playback
        if not pb.available:
            self.ctx.notify(pb.reason, "info")
        elif pb.player is None:
            self.ctx.status("The audio output is still starting; try again in a moment.", 3000)
        else:
            # the album is the listener's choice: a refresh of recommendations must not take its songs out
            recs = self.ctx.recs
            for marked in (getattr(recs, "recommended", None), getattr(recs, "recommended_before", None)):
                if marked is not None:
                    marked.difference_update(track_ids)
            pb.play_ids(track_ids, 0)
            recs.refresh()


__all__ = ["Album", "AlbumGrid", "AlbumGridController", "AlbumModel", "collect_albums", "TILE"]

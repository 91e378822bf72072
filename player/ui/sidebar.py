"""The browse sidebar: all music, rated, problems, the playlists (saved and smart, with counts), and
artists / albums / genres / tags with counts. Songs dragged from the library onto a playlist are added
to it (``idsDroppedOnPlaylist``).

The counts are computed in a worker from the model's snapshot (and SQL for tags); the tree fills a
section's children only when it is expanded, so 20,000 artists cost nothing until looked at.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem

from player.ui.icons import dot_icon, star_icon, std, text_icon
from player.ui.library_rows import (ALBUM, ARTIST, BREATHE_EVERY, ERROR, ID, STATUS, Snapshot, analysis_failed_ids, breathe,
                                    merge_spellings)

FacetRole = Qt.UserRole + 10
SECTIONS = [("artist", "Artists"), ("album", "Albums"), ("genre", "Genres"), ("tag", "Tags")]


def compute_facets(library, snap: Snapshot) -> dict:
    """Counts per facet value (worker)."""
    artists: Counter = Counter()
    albums: Counter = Counter()
    genres: Counter = Counter()
    problems = 0
    rated = 0
    unanalysed = 0
    stars = snap.stars
    failed = analysis_failed_ids(library)  # analysis failed: they need attention, they do not wait
    for k, row in enumerate(snap.rows):
        if k % BREATHE_EVERY == BREATHE_EVERY - 1:
            breathe()  # a moment without the interpreter lock for the GUI thread (library_rows)
        if row[STATUS] != "ok":
            problems += 1
            continue
        if row[ARTIST]:
            artists[row[ARTIST]] += 1
        if row[ALBUM]:
            albums[row[ALBUM]] += 1
        g = snap.genre_of(row)
        if g:
            genres[g] += 1
        if stars.get(row[ID], 0) > 0:
            rated += 1
        if row[ID] in failed:
            problems += 1
        elif row[ID] not in snap.tags and row[ID] not in snap.agenre:
            unanalysed += 1
    tags = Counter()
    try:
        for label, n in library.db.query("SELECT label, COUNT(*) FROM track_labels GROUP BY label"):
            tags[label] = int(n)
    except Exception:  # noqa: BLE001 - a facet is not worth an error
        pass
    return {
        "total": len(snap.rows),
        "rated": rated,
        "problems": problems,
        "attention": attention_reasons(library, snap),
        "unanalysed": unanalysed,
        "artist": sorted(artists.items(), key=lambda kv: kv[0].casefold()),
        "album": sorted(merge_spellings(albums).items(), key=lambda kv: kv[0].casefold()),
        "genre": sorted(genres.items(), key=lambda kv: (-kv[1], kv[0].casefold())),
        "tag": sorted(tags.items(), key=lambda kv: (-kv[1], kv[0].casefold())),
    }


def attention_reasons(library, snap: Snapshot) -> list[tuple[str, int]]:
    """Why songs need attention, most common first: files that are missing or cannot be read, and
    analyses that failed (their reasons from :func:`player.analysis.store.read_counts`)."""
    reasons = Counter(row[ERROR] or ("the file is missing" if row[STATUS] == "missing" else "the file cannot be read")
                      for row in snap.rows if row[STATUS] != "ok")
    try:
        from player.analysis.store import read_counts

        for reason, n in read_counts(library).reasons:
            reasons[f"analysis failed: {reason}"] += n
    except Exception:  # noqa: BLE001 - a reason is not worth an error
        pass
    return reasons.most_common()


class Sidebar(QTreeWidget):
    facetChosen = Signal(object)  # None (all music) or (kind, value)
    playlistChosen = Signal(object)  # a playlist's id, or None when something else is chosen
    idsDroppedOnPlaylist = Signal(int, list)  # playlist id, track ids dragged from the library

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.setHeaderHidden(True)
        self.setRootIsDecorated(True)
        self.setIndentation(14)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setAnimated(True)
        self.setMinimumWidth(170)
        self._data: dict = {}
        self._facet = None
        self._listener = ""
        self._top: dict[str, QTreeWidgetItem] = {}
        self.all_item = self._add_top(None, "All music", std("DirHomeIcon"))
        self.rated_item = self._add_top(("rated", True), "Rated", star_icon(14))
        self.unanalysed_item = self._add_top(("unanalysed", True), "Not analysed yet", dot_icon(QColor(150, 160, 180), 10))
        self.problem_item = self._add_top(("status", "problem"), "Needs attention", std("MessageBoxWarning"))
        self.problem_item.setHidden(True)
        self.playlists_item = QTreeWidgetItem(["Playlists"])
        self.playlists_item.setData(0, FacetRole, ("section", "playlists"))
        self.playlists_item.setIcon(0, std("FileDialogDetailedView"))
        self.playlists_item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsDropEnabled)
        bold = self.playlists_item.font(0)
        bold.setBold(True)
        self.playlists_item.setFont(0, bold)
        self.addTopLevelItem(self.playlists_item)
        self.playlists_item.setExpanded(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DropOnly)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        icons = {"artist": text_icon("A", 16), "album": std("DriveCDIcon"), "genre": text_icon("G", 16), "tag": text_icon("#", 16)}
        for kind, title in SECTIONS:
            item = QTreeWidgetItem([title])
            item.setData(0, FacetRole, ("section", kind))
            item.setIcon(0, icons[kind])
            item.setFlags(Qt.ItemIsEnabled)
            f = item.font(0)
            f.setBold(True)
            item.setFont(0, f)
            item.setChildIndicatorPolicy(QTreeWidgetItem.ShowIndicator)
            self.addTopLevelItem(item)
            self._top[kind] = item
        self.all_item.setSelected(True)
        self.setCurrentItem(self.all_item)
        self.itemExpanded.connect(self._fill)
        self.currentItemChanged.connect(self._changed)

    def _add_top(self, facet, title, icon) -> QTreeWidgetItem:
        item = QTreeWidgetItem([title])
        item.setData(0, FacetRole, facet)
        item.setIcon(0, icon)
        self.addTopLevelItem(item)
        return item

    def set_listener_name(self, name: str | None) -> None:
        self._listener = name or ""
        self._update_titles()

    def has_data(self) -> bool:
        return bool(self._data)

    def set_data(self, data: dict) -> None:
        self._data = data
        self._update_titles()
        for kind, item in self._top.items():
            if item.isExpanded():
                self._fill(item, force=True)
            else:
                item.takeChildren()
            values = data.get(kind, [])
            item.setChildIndicatorPolicy(QTreeWidgetItem.ShowIndicator if values else QTreeWidgetItem.DontShowIndicator)

    def _update_titles(self) -> None:
        d = self._data
        self.all_item.setText(0, f"All music  ({d.get('total', 0):,})" if d else "All music")
        who = f" by {self._listener}" if self._listener else ""
        self.rated_item.setText(0, f"Rated{who}  ({d.get('rated', 0):,})" if d else f"Rated{who}")
        n = d.get("unanalysed", 0)
        self.unanalysed_item.setText(0, f"Not analysed yet  ({n:,})")
        self.unanalysed_item.setHidden(not n)
        p = d.get("problems", 0)
        self.problem_item.setText(0, f"Needs attention  ({p:,})")
        self.problem_item.setHidden(not p)
        self.problem_item.setToolTip(0, "\n".join(f"{n:,} × {reason}" for reason, n in d.get("attention", [])))
        for kind, title in SECTIONS:
            k = len(d.get(kind, []))
            self._top[kind].setText(0, f"{title}  ({k:,})" if k else title)

    def _fill(self, item: QTreeWidgetItem, force: bool = False) -> None:
        facet = item.data(0, FacetRole)
        if not facet or facet[0] != "section":
            return
        kind = facet[1]
        if item.childCount() and not force:
            return
        self.setUpdatesEnabled(False)
        try:
            current = self._facet
            item.takeChildren()
            children = []
            for value, n in self._data.get(kind, []):
                child = QTreeWidgetItem([f"{value}  ({n:,})"])
                child.setData(0, FacetRole, (kind, value))
                child.setToolTip(0, f"{value}: {n} track{'s' if n != 1 else ''}")
                children.append(child)
            item.addChildren(children)
            if current and current[0] == kind:
                for child in children:
                    if child.data(0, FacetRole) == current:
                        self.blockSignals(True)
                        self.setCurrentItem(child)
                        self.blockSignals(False)
                        break
        finally:
            self.setUpdatesEnabled(True)

    # -- playlists -------------------------------------------------------------------------------
    def set_playlists(self, playlists: list) -> None:
        """``playlists``: :class:`player.library.playlists.Playlist` rows, with a smart list's count
        given as ``counts[id]`` when known (see :meth:`set_playlist_count`)."""
        current = self._facet
        self.blockSignals(True)
        try:
            self.playlists_item.takeChildren()
            for p in playlists:
                child = QTreeWidgetItem([p.name])
                child.setData(0, FacetRole, ("playlist", p.id))
                child.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDropEnabled)
                child.setIcon(0, text_icon("✦" if p.is_smart else "♪", 16))
                self.playlists_item.addChild(child)
                self._title_playlist(child, p.name, p.count, p.missing, p.is_smart)
                if current == ("playlist", p.id):
                    self.setCurrentItem(child)
            self.playlists_item.setText(0, f"Playlists  ({len(playlists):,})" if playlists else "Playlists")
        finally:
            self.blockSignals(False)

    def _title_playlist(self, item: QTreeWidgetItem, name: str, count, missing: int, smart: bool) -> None:
        item.setText(0, f"{name}  ({count:,})" if count is not None else name)
        kind = "smart playlist" if smart else "playlist"
        tip = f"{name}: {kind}"
        if count is not None:
            tip += f", {count} song{'s' if count != 1 else ''}"
        if missing:
            tip += f", {missing} missing"
        item.setToolTip(0, tip)
        item.setForeground(0, QBrush(QColor(150, 150, 150)) if count == 0 or (count and missing >= count)
                           else QBrush())

    def set_playlist_count(self, playlist_id: int, count: int) -> None:
        item = self.playlist_item(playlist_id)
        if item is not None:
            name = item.text(0).rsplit("  (", 1)[0]
            self._title_playlist(item, name, count, 0, True)

    def playlist_item(self, playlist_id: int) -> QTreeWidgetItem | None:
        for i in range(self.playlists_item.childCount()):
            child = self.playlists_item.child(i)
            if child.data(0, FacetRole) == ("playlist", playlist_id):
                return child
        return None

    def playlist_at(self, pos) -> int | None:
        item = self.itemAt(pos)
        facet = item.data(0, FacetRole) if item is not None else None
        return facet[1] if facet and facet[0] == "playlist" else None

    def dragEnterEvent(self, ev):  # noqa: N802
        from player.ui.panels import MIME

        if ev.mimeData().hasFormat(MIME):
            ev.acceptProposedAction()
        else:
            super().dragEnterEvent(ev)

    def dragMoveEvent(self, ev):  # noqa: N802
        from player.ui.panels import MIME

        if ev.mimeData().hasFormat(MIME) and self.playlist_at(ev.position().toPoint()) is not None:
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dropEvent(self, ev):  # noqa: N802
        import json

        from player.ui.panels import MIME

        pid = self.playlist_at(ev.position().toPoint())
        if pid is None or not ev.mimeData().hasFormat(MIME):
            ev.ignore()
            return
        payload = json.loads(bytes(ev.mimeData().data(MIME)).decode())
        ids = [int(i) for i in payload.get("ids", [])]
        if ids:
            self.idsDroppedOnPlaylist.emit(pid, ids)
        ev.setDropAction(Qt.CopyAction)
        ev.accept()

    def _changed(self, item: QTreeWidgetItem | None, _prev=None) -> None:
        if item is None:
            return
        facet = item.data(0, FacetRole)
        if facet and facet[0] == "section":
            return
        if facet and facet[0] == "playlist":
            self._facet = facet
            self.playlistChosen.emit(facet[1])
            return
        self._facet = facet
        self.playlistChosen.emit(None)
        self.facetChosen.emit(facet)

    def choose(self, facet) -> None:
        """Select a facet programmatically (expands its section)."""
        if facet is None:
            self.setCurrentItem(self.all_item)
            return
        if facet[0] == "playlist":
            item = self.playlist_item(facet[1])
            if item is not None:
                self.setCurrentItem(item)
            return
        for top in (self.rated_item, self.unanalysed_item, self.problem_item):
            if top.data(0, FacetRole) == facet:
                self.setCurrentItem(top)
                return
        sec = self._top.get(facet[0])
        if sec is None:
            return
        sec.setExpanded(True)
        self._fill(sec)
        for i in range(sec.childCount()):
            child = sec.child(i)
            if child.data(0, FacetRole) == facet:
                self.setCurrentItem(child)
                self.scrollToItem(child)
                return

"""The browse sidebar: all music, rated, problems, and artists / albums / genres / tags with counts.

The counts are computed in a worker from the model's snapshot (and SQL for tags); the tree fills a
section's children only when it is expanded, so 20,000 artists cost nothing until looked at.
"""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem

from player.ui.icons import dot_icon, star_icon, std, text_icon
from player.ui.library_rows import ALBUM, ARTIST, ID, STATUS, Snapshot

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
    for row in snap.rows:
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
        if row[ID] not in snap.tags and row[ID] not in snap.agenre:
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
        "unanalysed": unanalysed,
        "artist": sorted(artists.items(), key=lambda kv: kv[0].casefold()),
        "album": sorted(albums.items(), key=lambda kv: kv[0].casefold()),
        "genre": sorted(genres.items(), key=lambda kv: (-kv[1], kv[0].casefold())),
        "tag": sorted(tags.items(), key=lambda kv: (-kv[1], kv[0].casefold())),
    }


class Sidebar(QTreeWidget):
    facetChosen = Signal(object)  # None (all music) or (kind, value)

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

    def _changed(self, item: QTreeWidgetItem | None, _prev=None) -> None:
        if item is None:
            return
        facet = item.data(0, FacetRole)
        if facet and facet[0] == "section":
            return
        self._facet = facet
        self.facetChosen.emit(facet)

    def choose(self, facet) -> None:
        """Select a facet programmatically (expands its section)."""
        if facet is None:
            self.setCurrentItem(self.all_item)
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

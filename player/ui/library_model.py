"""The library table: a ``QAbstractTableModel`` over the snapshots of :mod:`player.ui.library_rows`.

How it stays smooth with 100,000 rows: every load, delta, search, facet and sort is computed in the
query worker (one thread, in order) and swapped in when ready; a result that a newer request has
overtaken is dropped (generation counter). The view is fed in batches (``canFetchMore``/``fetchMore``),
``data()`` is bounds-checked and does no I/O.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont

from player.ui.library_rows import (ALL_COLUMNS, COLUMNS, COL, DURATION, ERROR, GENRE, GENRE_COL, ID, PATH, STARS_COL, STATUS,
                                    TAGS_COL, TITLE, Order, OrderSpec, Snapshot, TrackRow, as_track_row, compute_order,
                                    facet_ids, fmt_duration, load_extras, load_first_rows, load_labels, load_rows,
                                    load_stars)
from player.ui.workers import Pools, WorkerError

_FIRST_EXTRA = len(COLUMNS)
TrackIdRole = int(Qt.UserRole) + 1
StarsRole = int(Qt.UserRole) + 2
StatusRole = int(Qt.UserRole) + 3

FETCH_BATCH = 2000
FIRST_PAGE = 300

_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_DECORATION = int(Qt.ItemDataRole.DecorationRole.value)
_EDIT = int(Qt.ItemDataRole.EditRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_FONT = int(Qt.ItemDataRole.FontRole.value)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_RIGHT = int((Qt.AlignRight | Qt.AlignVCenter).value)
_ROLES = frozenset({_DISPLAY, _DECORATION, _EDIT, _TOOLTIP, _FONT, _ALIGN, _FOREGROUND,
                    int(Qt.UserRole) + 1, int(Qt.UserRole) + 2, int(Qt.UserRole) + 3})
_DUR_CACHE: dict[int, str] = {}


# -- the Qt model ---------------------------------------------------------------------------------
class LibraryModel(QAbstractTableModel):
    """See the module docstring. All loading goes through ``pools.query`` (one thread, in order)."""

    loaded = Signal()  # the first snapshot is in
    orderApplied = Signal()
    countsChanged = Signal(int, int)  # shown, total
    failed = Signal(str)  # a load failed: a readable message

    def __init__(self, library, pools: Pools, parent=None):
        super().__init__(parent)
        self.library = library
        self.pools = pools
        self._snap = Snapshot()
        self._extras: dict[int, tuple] = {}  # the added columns, while one is shown (load_extras)
        self._wsnap = Snapshot()  # the workers' latest (touched only by jobs in pools.query)
        self._order = Order([], {}, OrderSpec())
        self._fetched = 0
        self._spec = OrderSpec()
        self._gen = 0
        self._loaded = False
        self._current_id: int | None = None  # the playing track, shown bold
        self._font_bold = QFont()
        self._font_bold.setBold(True)
        self._font_italic = QFont()
        self._font_italic.setItalic(True)
        self._dim = QBrush(QColor(128, 128, 128))
        self._warn = QBrush(QColor(190, 60, 40))
        from player.ui.icons import playing_icon, std

        self._playing_icon = playing_icon(14)
        self._problem_icon = std("MessageBoxWarning")
        self._flags = Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled

    # -- state ---------------------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        return self._snap

    @property
    def is_loaded(self) -> bool:
        return self._loaded

    def total_count(self) -> int:
        return len(self._snap.rows)

    def shown_count(self) -> int:
        return len(self._order.rows)

    # -- Qt API --------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self._fetched

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(ALL_COLUMNS)

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and self._fetched < len(self._order.rows)

    def fetchMore(self, parent=QModelIndex()) -> None:
        if parent.isValid():
            return
        remaining = len(self._order.rows) - self._fetched
        if remaining <= 0:
            return
        n = min(FETCH_BATCH, remaining)
        self.beginInsertRows(QModelIndex(), self._fetched, self._fetched + n - 1)
        self._fetched += n
        self.endInsertRows()

    def ensure_fetched(self, row: int) -> None:
        """Make ``row`` (a display row in the current order) reachable by the view."""
        if row < self._fetched or row >= len(self._order.rows):
            return
        n = row + 1 - self._fetched
        n = ((n + FETCH_BATCH - 1) // FETCH_BATCH) * FETCH_BATCH
        n = min(n, len(self._order.rows) - self._fetched)
        self.beginInsertRows(QModelIndex(), self._fetched, self._fetched + n - 1)
        self._fetched += n
        self.endInsertRows()

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and 0 <= section < len(ALL_COLUMNS):
            if role == Qt.DisplayRole:
                return ALL_COLUMNS[section][1]
            if role == Qt.TextAlignmentRole and section == COL["duration"]:
                return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def flags(self, index):
        return self._flags

    def _row(self, r: int) -> tuple | None:
        if r < 0 or r >= self._fetched or r >= len(self._order.rows):
            return None
        i = self._order.rows[r]
        rows = self._snap.rows
        if i < 0 or i >= len(rows):
            return None
        return rows[i]

    def data(self, index, role=0):
        # Hot path: called ~7 times per visible cell per repaint. Roles the table never needs return at
        # once; no Qt enum lookups, no formatting (durations are pre-formatted in the row tuple).
        if role not in _ROLES:
            return None
        r = index.row()
        order = self._order.rows
        if r < 0 or r >= self._fetched or r >= len(order):
            return None
        i = order[r]
        rows = self._snap.rows
        if i >= len(rows):
            return None
        row = rows[i]
        col = index.column()
        if role == _DISPLAY:
            if col <= 2:
                return row[TITLE + col]  # title, artist, album are adjacent
            if col == 3:
                d = row[DURATION]
                if d is None:
                    return ""
                k = round(d)
                text = _DUR_CACHE.get(k)
                if text is None:
                    text = _DUR_CACHE[k] = fmt_duration(k)
                return text
            if col == 5:
                return self._snap.tags.get(row[ID], "")
            if col == 6:
                return self._snap.agenre.get(row[ID]) or row[GENRE]
            if col >= _FIRST_EXTRA:
                extra = self._extras.get(row[ID])
                return extra[col - _FIRST_EXTRA] if extra else ""
            return None
        if role == _FOREGROUND:
            if row[STATUS] != "ok":
                return self._warn if row[STATUS] == "error" else self._dim
            if col == 3 or col == 5 or (col == 6 and row[ID] not in self._snap.agenre):
                return self._dim
            return None
        if role == _FONT:
            if row[ID] == self._current_id:
                return self._font_bold
            if row[STATUS] != "ok":
                return self._font_italic
            return None
        if role == _ALIGN:
            return _RIGHT if col == 3 else None
        if role == _DECORATION:
            if col == 0 and row[ID] == self._current_id:
                return self._playing_icon
            if col == 0 and row[STATUS] != "ok":
                return self._problem_icon
            return None
        if role == StarsRole or (role == _EDIT and col == STARS_COL):
            return self._snap.stars.get(row[ID], 0)
        if role == TrackIdRole:
            return row[ID]
        if role == StatusRole:
            return row[STATUS]
        if role == _TOOLTIP:
            if row[STATUS] == "error":
                return f"Cannot be played: {row[ERROR] or 'unknown error'}\n{row[PATH]}"
            if row[STATUS] == "missing":
                return f"The file is missing: {row[PATH]}"
            if col == GENRE_COL:
                if row[ID] in self._snap.agenre:
                    return "Genre from the analysis of the audio"
                return "Genre from the file's tags" if row[GENRE] else None
            if col == TAGS_COL and row[ID] not in self._snap.tags:
                return "Not analysed yet"
            return row[PATH] if col == 0 else None
        return None

    def multiData(self, index, span) -> None:  # noqa: N802 - Qt naming
        # Qt 6's item delegates ask for a cell's roles at once: one call into Python per cell instead
        # of one per role. Each call waits for the interpreter lock while a worker runs Python, so a
        # repaint during a sort or a load made ~1,500 waits; now ~200.
        data = self.data
        for rd in span:
            value = data(index, rd.role())
            if value is not None:
                rd.setData(value)

    # Drag songs from the library (onto Up next).
    def mimeTypes(self):
        from player.ui.panels import MIME

        return [MIME]

    def mimeData(self, indexes):
        import json

        from PySide6.QtCore import QMimeData

        from player.ui.panels import MIME

        rows = sorted({ix.row() for ix in indexes})
        ids = [t for t in (self.track_id_at(r) for r in rows) if t is not None]
        md = QMimeData()
        md.setData(MIME, json.dumps({"source": "library", "ids": ids}).encode())
        return md

    def supportedDragActions(self):
        return Qt.CopyAction

    def sort(self, column: int, order=Qt.AscendingOrder) -> None:
        if column >= _FIRST_EXTRA:
            return  # the added columns are for reading; the table keeps its order
        self.set_spec(replace(self._spec, sort_col=column, descending=order == Qt.DescendingOrder))

    # -- lookups -------------------------------------------------------------------------------
    def track_id_at(self, row: int) -> int | None:
        r = self._row(row)
        return None if r is None else r[ID]

    def row_of(self, track_id: int) -> int | None:
        """The display row of a track (None when filtered out)."""
        return self._order.vis.get(track_id)

    def track_row(self, track_id: int) -> TrackRow | None:
        i = self._snap.pos.get(track_id)
        return None if i is None else as_track_row(self._snap.rows[i])

    def track_ids(self) -> list[int]:
        """Every shown track id in display order (also those not fetched by the view yet)."""
        rows = self._snap.rows
        return [rows[i][ID] for i in self._order.rows]

    def stars_of(self, track_id: int) -> int:
        return self._snap.stars.get(track_id, 0)

    # -- small changes: one row ----------------------------------------------------------------
    def set_stars_local(self, track_id: int, stars: int) -> None:
        if stars:
            self._snap.stars[track_id] = stars
        else:
            self._snap.stars.pop(track_id, None)
        self._emit_cell(track_id, STARS_COL)

    def set_current_track(self, track_id: int | None) -> None:
        old, self._current_id = self._current_id, track_id
        for tid in (old, track_id):
            if tid is not None:
                self._emit_row(tid)

    def _emit_cell(self, track_id: int, col: int) -> None:
        r = self.row_of(track_id)
        if r is not None and r < self._fetched:
            ix = self.index(r, col)
            self.dataChanged.emit(ix, ix)

    def _emit_row(self, track_id: int) -> None:
        r = self.row_of(track_id)
        if r is not None and r < self._fetched:
            self.dataChanged.emit(self.index(r, 0), self.index(r, len(COLUMNS) - 1))

    # -- loading -------------------------------------------------------------------------------
    def reload(self, user_id: int | None = None) -> None:
        """First load (rows, then stars, then analysis labels)."""
        self._gen += 1
        gen, spec = self._gen, self._spec

        def first_page():
            # A screenful in the library order, shown while the whole library loads (big libraries).
            snap = load_first_rows(self.library, FIRST_PAGE)
            snap.user_id, snap.stars = user_id, load_stars(self.library, user_id)
            return snap, compute_order(snap, spec)

        def show_page(res):
            if not self._loaded and gen == self._gen:
                self._snap = res[0]
                self._set_order(res[1])

        def job():
            snap = load_rows(self.library, None)
            snap.user_id = user_id
            snap.stars = load_stars(self.library, user_id)
            self._wsnap = snap
            return snap, compute_order(snap, spec, facet_ids(self.library, spec.facet), self.library)

        if spec == OrderSpec() and not self.pools.synchronous:
            self.pools.query.submit(first_page, on_result=show_page, on_error=lambda e: None)
        self.pools.query.submit(job, on_result=lambda res: self._apply(res, gen, first=True), on_error=self._fail)
        self.refresh_labels(delta=False)

    def refresh(self) -> None:
        """Pick up tracks added or changed since the last load (an import in progress)."""
        self._gen += 1
        gen, spec = self._gen, self._spec

        def job():
            old = self._wsnap
            snap = load_rows(self.library, old)
            if snap is old:
                return None
            self._wsnap = snap
            return snap, compute_order(snap, spec, facet_ids(self.library, spec.facet), self.library)

        self.pools.query.submit(job, on_result=lambda res: self._apply(res, gen), on_error=self._fail)

    def load_extras(self) -> None:
        """Read the added columns (a worker); the table shows them when they come."""
        user_id = self._snap.user_id

        def done(extras) -> None:
            self._extras = extras
            if self._fetched:
                self.dataChanged.emit(self.index(0, _FIRST_EXTRA), self.index(self._fetched - 1, len(ALL_COLUMNS) - 1))

        self.pools.query.submit(load_extras, self.library, user_id, on_result=done, on_error=self._fail)

    def drop_tracks(self, track_ids) -> None:
        """Take tracks removed from the library out of the table."""
        gone = {int(t) for t in track_ids}
        self._gen += 1
        gen, spec = self._gen, self._spec

        def job():
            old = self._wsnap
            if old is None:
                return None
            rows = [r for r in old.rows if r[ID] not in gone]
            snap = replace(old, rows=rows, pos={row[ID]: i for i, row in enumerate(rows)})
            self._wsnap = snap
            return snap, compute_order(snap, spec, facet_ids(self.library, spec.facet), self.library)

        self.pools.query.submit(job, on_result=lambda res: self._apply(res, gen), on_error=self._fail)

    def refresh_labels(self, delta: bool = True) -> None:
        """Pick up analysis results (top tags, analysed genre)."""

        def job():
            old = self._wsnap
            snap = load_labels(self.library, old, delta)
            if snap is old:
                return None
            self._wsnap = snap
            return snap

        self.pools.query.submit(job, on_result=self._apply_labels, on_error=self._fail)

    def set_user(self, user_id: int | None) -> None:
        """Show this listener's stars (one column reloads)."""
        spec = self._spec

        def job():
            stars = load_stars(self.library, user_id)
            snap = replace(self._wsnap, stars=stars, user_id=user_id)
            self._wsnap = snap
            order = compute_order(snap, spec, facet_ids(self.library, spec.facet), self.library) if spec.sort_col == STARS_COL or (spec.facet and spec.facet[0] == "rated") else None
            return snap, order

        def apply(res):
            snap, order = res
            self._snap = replace(self._snap, stars=snap.stars, user_id=snap.user_id)
            if order is not None and self._spec == order.spec:
                self._set_order(order)
            elif self._fetched:
                self.dataChanged.emit(self.index(0, STARS_COL), self.index(self._fetched - 1, STARS_COL))

        self.pools.query.submit(job, on_result=apply, on_error=self._fail)

    def set_spec(self, spec: OrderSpec) -> None:
        """A new search text, facet or sort: computed in the worker, applied when ready."""
        if spec == self._spec and self._loaded:
            return
        self._spec = spec
        self._gen += 1
        gen = self._gen

        def job():
            snap = self._wsnap
            return None, compute_order(snap, spec, facet_ids(self.library, spec.facet), self.library)

        self.pools.query.submit(job, on_result=lambda res: self._apply(res, gen), on_error=self._fail)

    def set_query(self, text: str) -> None:
        self.set_spec(replace(self._spec, query=text.strip()))

    def set_facet(self, facet: tuple | None) -> None:
        self.set_spec(replace(self._spec, facet=facet))

    # -- applying worker results (GUI thread) ----------------------------------------------------
    def _apply(self, res, gen: int, first: bool = False) -> None:
        if res is None:
            return
        snap, order = res
        if snap is not None:
            # Results arrive in the order the (single-threaded) query pool ran them, and each job
            # builds on the previous one's snapshot, so the newest result is always the whole truth.
            self._snap = snap
        if gen == self._gen and order is not None:
            self._set_order(order)
        elif snap is not None:
            self.countsChanged.emit(self.shown_count(), self.total_count())
        if first and not self._loaded:
            self._loaded = True
            self.loaded.emit()

    def _apply_labels(self, snap) -> None:
        if snap is None:
            return
        self._snap = snap  # results arrive in the order the query pool ran them: this one is the newest
        if self._fetched:
            self.dataChanged.emit(self.index(0, TAGS_COL), self.index(self._fetched - 1, GENRE_COL))

    def _set_order(self, order: Order) -> None:
        if order.rows == self._order.rows and self._fetched:
            self._order = order
            self.dataChanged.emit(self.index(0, 0), self.index(self._fetched - 1, len(COLUMNS) - 1))
            self.countsChanged.emit(self.shown_count(), self.total_count())
            self.orderApplied.emit()
            return
        keep = max(self._fetched, FETCH_BATCH)
        self.beginResetModel()
        self._order = order
        self._fetched = min(len(order.rows), keep)
        self.endResetModel()
        self.countsChanged.emit(self.shown_count(), self.total_count())
        self.orderApplied.emit()

    def _fail(self, err: WorkerError) -> None:
        self.failed.emit(f"Could not read the library: {err.message}")

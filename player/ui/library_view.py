"""The library table view and its star-rating delegate."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QModelIndex, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetricsF, QKeyEvent, QPainter, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QHeaderView, QStyle, QStyledItemDelegate,
                               QStyleOptionHeader, QStyleOptionViewItem, QTableView)

from player.ui.icons import paint_stars, star_at
from player.ui.library_model import LibraryModel, StarsRole, StatusRole, TrackIdRole
from player.ui.library_rows import COL, STARS_COL

STAR_SIZE = 13.0
STAR_GAP = 3.0


class StarDelegate(QStyledItemDelegate):
    """Paints 0–5 stars; a click on star k rates k (a click on the current value clears it)."""

    rateClicked = Signal(int, int)  # track id, stars

    def __init__(self, parent=None):
        super().__init__(parent)
        self.hover_row = -1
        self.hover_star = 0

    def paint(self, painter, option, index):
        # The cell's background (selection, alternate rows) from the style, then cached star strips.
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawPrimitive(QStyle.PE_PanelItemViewItem, option, painter, option.widget)
        stars = int(index.data(StarsRole) or 0)
        hover = self.hover_star if index.row() == self.hover_row else 0
        if hover and index.data(StatusRole) not in (None, "ok"):
            hover = 0
        dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
        pm = self._strip(stars, hover, dpr)
        r = option.rect
        painter.drawPixmap(r.left(), r.top() + (r.height() - pm.height() / pm.devicePixelRatio()) // 2, pm)

    _cache: dict = {}

    def _strip(self, stars: int, hover: int, dpr: float) -> QPixmap:
        key = (stars, hover, dpr)
        pm = self._cache.get(key)
        if pm is None:
            w = int(5 * (STAR_SIZE + STAR_GAP) + 8)
            h = int(STAR_SIZE + 4)
            pm = QPixmap(int(w * dpr), int(h * dpr))
            pm.setDevicePixelRatio(dpr)
            pm.fill(Qt.transparent)
            p = QPainter(pm)
            paint_stars(p, QRectF(0, 0, w, h), stars, hover=hover, size=STAR_SIZE, gap=STAR_GAP)
            p.end()
            self._cache[key] = pm
        return pm

    def sizeHint(self, option, index):
        s = super().sizeHint(option, index)
        s.setWidth(int(5 * (STAR_SIZE + STAR_GAP) + 12))
        return s

    def editorEvent(self, event, model, option, index):
        if event.type() == QEvent.MouseButtonRelease and event.button() == Qt.LeftButton:
            k = star_at(QRectF(option.rect), event.position().x(), STAR_SIZE, STAR_GAP)
            track_id = index.data(TrackIdRole)
            if k and track_id is not None:
                current = int(index.data(StarsRole) or 0)
                self.rateClicked.emit(int(track_id), 0 if k == current else k)
                return True
        return False


class PaddedDelegate(QStyledItemDelegate):
    """Text cells with a little air on both sides (a ``::item`` padding rule in the style sheet would
    send every cell through the much slower style-sheet painter)."""

    PAD = 5

    def paint(self, painter, option, index):
        style = option.widget.style() if option.widget else None
        if style is not None:  # the full-width background (selection, alternate rows) first
            style.drawPrimitive(QStyle.PE_PanelItemViewItem, option, painter, option.widget)
        opt = QStyleOptionViewItem(option)
        opt.rect = option.rect.adjusted(self.PAD, 0, -self.PAD, 0)
        opt.showDecorationSelected = False
        super().paint(painter, opt, index)


class LibraryView(QTableView):
    """Rows of tracks; Enter/double-click plays, 1–5 rate (0 clears), selection survives re-sorting."""

    playRequested = Signal(int)  # display row
    rateRequested = Signal(list, int)  # track ids, stars

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("libraryView")
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.ElideRight)
        self.setMouseTracking(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragOnly)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollPerItem)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setTabKeyNavigation(False)
        vh = self.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.Fixed)
        vh.setDefaultSectionSize(28)
        vh.setMinimumSectionSize(20)
        hh = self.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setSectionsMovable(True)
        hh.setStretchLastSection(False)
        hh.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        self.setItemDelegate(PaddedDelegate(self))
        self.stars = StarDelegate(self)
        self.setItemDelegateForColumn(STARS_COL, self.stars)
        self.doubleClicked.connect(self._double_clicked)
        self._saved: tuple | None = None

    # -- model plumbing -------------------------------------------------------------------------
    def setModel(self, model: LibraryModel) -> None:  # noqa: N802 - Qt naming
        super().setModel(model)
        model.modelAboutToBeReset.connect(self._save_selection)
        model.modelReset.connect(self._restore_selection)
        hh = self.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.Interactive)
        hh.setMinimumSectionSize(40)
        hh.sectionResized.connect(self._section_resized)
        hh.setSortIndicator(-1, Qt.AscendingOrder)
        self.setSortingEnabled(True)
        self._fit_columns()  # after sorting is on: the headers' widths count their sort arrow

    # Column widths follow the window (title widest) until the listener drags a column edge. The time and
    # rating columns keep their cells' width, or their header's when it needs more (_fixed_widths).
    _FIXED = {COL["duration"]: 60, STARS_COL: 100}
    _SHARES = {COL["title"]: 0.31, COL["artist"]: 0.19, COL["album"]: 0.19, COL["tags"]: 0.20, COL["genre"]: 0.11}
    auto_fit = True
    _fitting = False

    def header_width(self, col: int) -> int:
        """The narrowest width at which the header of column ``col`` shows its whole title (in the header's
        font, bold: the style sheet's weight or more) and its sort arrow beside it, never over it: the
        label's room and the arrow's place come from the style (its padding), the title's from the font."""
        hh = self.horizontalHeader()
        title = str(self.model().headerData(col, Qt.Horizontal) or "")
        font = QFont(hh.font())
        font.setBold(True)
        text = math.ceil(QFontMetricsF(font).horizontalAdvance(title))  # whole pixels: never elided
        opt = QStyleOptionHeader()
        hh.initStyleOption(opt)
        opt.section, opt.text = col, title
        opt.sortIndicator = QStyleOptionHeader.SortIndicator.SortDown
        probe = 4 * text + 200  # a wide section: the style's padding and the arrow's place, measured in it
        opt.rect = QRect(0, 0, probe, max(hh.height(), hh.sizeHint().height()))
        style = hh.style()
        label = style.subElementRect(QStyle.SE_HeaderLabel, opt, hh)
        need = text + probe - label.width()
        arrow = style.subElementRect(QStyle.SE_HeaderArrow, opt, hh)
        if arrow.isValid() and label.left() + text < arrow.right():  # the arrow keeps its distance from the end
            need = max(need, label.left() + text + probe - arrow.left())
        return need

    def setColumnHidden(self, column: int, hide: bool) -> None:  # noqa: N802 - Qt naming
        """A column shown (the header's menu adds it) is at least as wide as its header needs."""
        super().setColumnHidden(column, hide)
        if not hide and self.model() is not None:
            need = self.header_width(column)
            if self.columnWidth(column) < need:
                self.setColumnWidth(column, need)

    def _fixed_widths(self) -> dict[int, int]:
        return {col: max(w, self.header_width(col)) for col, w in self._FIXED.items()}

    def _fit_columns(self) -> None:
        if not self.auto_fit or self.model() is None:
            return
        fixed = self._fixed_widths()
        avail = self.viewport().width() - sum(fixed.values()) - 2
        if avail < 200:
            return
        self._fitting = True
        try:
            for col, w in fixed.items():
                self.setColumnWidth(col, w)
            for col, share in self._SHARES.items():
                self.setColumnWidth(col, int(avail * share))
        finally:
            self._fitting = False

    def _section_resized(self, *_args) -> None:
        if not self._fitting and self.isVisible() and QApplication.mouseButtons() & Qt.LeftButton:
            self.auto_fit = False  # the listener sized a column: keep their widths

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_columns()

    def model(self) -> LibraryModel:  # type: ignore[override]
        return super().model()

    def selected_track_ids(self) -> list[int]:
        m = self.model()
        if m is None or self.selectionModel() is None:
            return []
        rows = sorted({ix.row() for ix in self.selectionModel().selectedRows()})
        ids = [m.track_id_at(r) for r in rows]
        return [i for i in ids if i is not None]

    def current_track_id(self) -> int | None:
        ix = self.currentIndex()
        return self.model().track_id_at(ix.row()) if ix.isValid() else None

    def select_track(self, track_id: int, *, scroll: bool = True) -> bool:
        m = self.model()
        row = m.row_of(track_id)
        if row is None:
            return False
        m.ensure_fetched(row)
        ix = m.index(row, 0)
        self.setCurrentIndex(ix)
        self.selectRow(row)
        if scroll:
            self.scrollTo(ix, QAbstractItemView.PositionAtCenter)
        return True

    def _save_selection(self) -> None:
        m = self.model()
        top_ix = self.indexAt(self.viewport().rect().topLeft())
        top = m.track_id_at(top_ix.row()) if top_ix.isValid() else None
        current = self.current_track_id()
        # the row the listener is on keeps its place on screen when it was in sight
        anchor_y = None
        if current is not None and m.row_of(current) is not None:
            rect = self.visualRect(m.index(m.row_of(current), 0))
            if rect.isValid() and self.viewport().rect().intersects(rect):
                anchor_y = rect.y()
        self._saved = (self.selected_track_ids(), current, top, anchor_y)

    def _restore_selection(self) -> None:
        if not self._saved:
            return
        selected, current, top, anchor_y = self._saved
        self._saved = None
        m = self.model()
        sm = self.selectionModel()
        if len(selected) > 500:
            selected = selected[:500]
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        sel = QItemSelection()
        for tid in selected:
            r = m.row_of(tid)
            if r is None:
                continue
            m.ensure_fetched(r)
            sel.select(m.index(r, 0), m.index(r, m.columnCount() - 1))
        if current is not None:
            r = m.row_of(current)
            if r is not None:
                m.ensure_fetched(r)
                sm.setCurrentIndex(m.index(r, 0), QItemSelectionModel.NoUpdate)
        if not sel.isEmpty():
            sm.select(sel, QItemSelectionModel.ClearAndSelect)
        r = m.row_of(current) if current is not None else None
        if r is not None:
            if anchor_y is None:
                self.scrollTo(m.index(r, 0), QAbstractItemView.PositionAtCenter)
                return
            height = max(1, self.rowHeight(r))
            first = max(0, r - anchor_y // height)
            m.ensure_fetched(first)
            self.scrollTo(m.index(first, 0), QAbstractItemView.PositionAtTop)
            if self.verticalScrollMode() == QAbstractItemView.ScrollPerPixel:
                bar = self.verticalScrollBar()
                bar.setValue(bar.value() + self.visualRect(m.index(r, 0)).y() - anchor_y)
            return
        if top is not None:
            r = m.row_of(top)
            if r is not None:
                self.scrollTo(m.index(r, 0), QAbstractItemView.PositionAtTop)

    # -- input ---------------------------------------------------------------------------------
    def _double_clicked(self, ix: QModelIndex) -> None:
        if ix.isValid() and ix.column() != STARS_COL:
            self.playRequested.emit(ix.row())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key = event.key()
        mods = event.modifiers() & ~Qt.KeypadModifier
        if key in (Qt.Key_Return, Qt.Key_Enter) and not mods:
            ix = self.currentIndex()
            if ix.isValid():
                self.playRequested.emit(ix.row())
            event.accept()
            return
        if Qt.Key_0 <= key <= Qt.Key_5 and not mods:
            ids = self.selected_track_ids()
            if ids:
                self.rateRequested.emit(ids, int(key - Qt.Key_0))
            event.accept()
            return
        super().keyPressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        ix = self.indexAt(event.position().toPoint())
        d = self.stars
        row, star = -1, 0
        if ix.isValid() and ix.column() == STARS_COL:
            row = ix.row()
            star = star_at(QRectF(self.visualRect(ix)), event.position().x(), STAR_SIZE, STAR_GAP)
        if (row, star) != (d.hover_row, d.hover_star):
            old = d.hover_row
            d.hover_row, d.hover_star = row, star
            for r in {old, row} - {-1}:
                self.viewport().update(self.visualRect(self.model().index(r, STARS_COL)))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        d = self.stars
        if d.hover_row >= 0:
            old, d.hover_row, d.hover_star = d.hover_row, -1, 0
            self.viewport().update(self.visualRect(self.model().index(old, STARS_COL)))
        super().leaveEvent(event)

"""Finding songs: the search box (debounced; Esc clears, Down goes to the results), the sidebar's
facets and their counts, the song count / empty-library hint under the table, and the columns the
listener adds from the header's menu (file name, folder, track, year, plays, last played, date added,
format, loudness; remembered in the settings)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QLabel, QLineEdit, QMenu, QSizePolicy

from player.options import COLUMNS as COLUMNS_OPTION
from player.ui.context import Controller, WindowContext
from player.ui.icons import std
from player.ui.library_rows import EXTRA_COL, EXTRA_COLUMNS
from player.ui.library_view import LibraryView
from player.ui.sidebar import Sidebar, compute_facets

SEARCH_DEBOUNCE_MS = 120
FACETS_DEBOUNCE_MS = 400


def search_box() -> QLineEdit:
    box = QLineEdit()
    box.setObjectName("search")
    box.setPlaceholderText("Search songs, artists, albums, tags…   Ctrl+F")
    box.setClearButtonEnabled(True)
    box.addAction(std("FileDialogContentsView"), QLineEdit.LeadingPosition)
    box.setMinimumWidth(260)
    box.setMaximumWidth(520)
    box.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
    return box


class BrowseController(Controller):
    def __init__(self, ctx: WindowContext, search: QLineEdit, sidebar: Sidebar, view: LibraryView,
                 count_label: QLabel, empty_hint: QLabel, parent=None):
        super().__init__(ctx, parent)
        self.search = search
        self.sidebar = sidebar
        self.view = view
        self.count_label = count_label
        self.empty_hint = empty_hint
        model = ctx.model
        self._search_timer = self._debounce(SEARCH_DEBOUNCE_MS, lambda: model.set_query(search.text()))
        self._facets_timer = self._debounce(FACETS_DEBOUNCE_MS, self.refresh_facets)
        search.textChanged.connect(lambda _t: self._search_timer.start())
        search.returnPressed.connect(self._search_enter)
        search.installEventFilter(self)
        sidebar.facetChosen.connect(model.set_facet)
        model.countsChanged.connect(self._update_counts)
        model.orderApplied.connect(lambda: self.schedule_facets() if not sidebar.has_data() else None)
        header = view.horizontalHeader()
        header.setContextMenuPolicy(Qt.CustomContextMenu)
        header.customContextMenuRequested.connect(self.column_menu)
        self.show_columns(self.chosen_columns())

    # -- the added columns (the header's menu) ---------------------------------------------------
    def chosen_columns(self) -> list[str]:
        text = self.ctx.settings[COLUMNS_OPTION]
        return [k for k in (p.strip() for p in text.split(",")) if k in EXTRA_COL]

    def show_columns(self, keys: list[str]) -> None:
        """Show the added columns ``keys`` (the others hidden), remember them, read their data."""
        for key, col in EXTRA_COL.items():
            self.view.setColumnHidden(col, key not in keys)
        self.ctx.settings[COLUMNS_OPTION] = ",".join(k for k, _h in EXTRA_COLUMNS if k in keys)
        if keys:
            self.ctx.model.load_extras()

    def column_menu(self, pos=None) -> QMenu:
        menu = QMenu(self.view)
        menu.setTitle("Columns")
        chosen = self.chosen_columns()
        for key, title in EXTRA_COLUMNS:
            a = menu.addAction(title)
            a.setCheckable(True)
            a.setChecked(key in chosen)
            a.toggled.connect(lambda on, k=key: self.show_columns(
                [*(c for c in self.chosen_columns() if c != k), *([k] if on else [])]))
        if pos is not None:
            menu.popup(self.view.horizontalHeader().mapToGlobal(pos))
        self.last_column_menu = menu
        return menu

    def _debounce(self, ms: int, fn) -> QTimer:
        t = QTimer(self)
        t.setSingleShot(True)
        t.setInterval(ms)
        t.timeout.connect(fn)
        return t

    # -- search ----------------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search.setFocus(Qt.ShortcutFocusReason)
        self.search.selectAll()

    def set_search(self, text: str) -> None:
        """Search now (tests and scripts; typing goes through a 120 ms debounce)."""
        self.search.blockSignals(True)
        self.search.setText(text)
        self.search.blockSignals(False)
        self.ctx.model.set_query(text)

    def _search_enter(self) -> None:
        self._search_timer.stop()
        self.ctx.model.set_query(self.search.text())
        self.view.setFocus()
        if self.ctx.model.rowCount() and not self.view.currentIndex().isValid():
            self.view.selectRow(0)

    def eventFilter(self, obj, ev):  # noqa: N802
        if obj is self.search and ev.type() == QEvent.Type.KeyPress:
            if ev.key() == Qt.Key_Escape:
                self._search_timer.stop()
                self.set_search("")
                self.view.setFocus()
                return True
            if ev.key() == Qt.Key_Down:
                self.view.setFocus()
                if self.ctx.model.rowCount():
                    self.view.selectRow(0)
                return True
        return super().eventFilter(obj, ev)

    # -- the sidebar -----------------------------------------------------------------------------
    def schedule_facets(self, *_args) -> None:
        """Recount the sidebar soon (at once with synchronous pools)."""
        if self.ctx.pools.synchronous:
            self.refresh_facets()
        else:
            self._facets_timer.start()

    def refresh_facets(self) -> None:
        ctx = self.ctx
        ctx.pools.facets.submit(compute_facets, ctx.library, ctx.model.snapshot, on_result=self.sidebar.set_data,
                                on_error=lambda e: None)

    # -- counts and the empty hint ---------------------------------------------------------------
    def loaded(self) -> None:
        model = self.ctx.model
        self.show_columns(self.chosen_columns())  # after a restored header state, and with fresh data
        self._update_counts(model.shown_count(), model.total_count())
        self.refresh_facets()

    def _update_counts(self, shown: int, total: int) -> None:
        model = self.ctx.model
        if not model.is_loaded:
            return
        if total == 0:
            self.count_label.setText("No music yet")
        elif shown == total:
            self.count_label.setText(f"{total:,} songs")
        else:
            self.count_label.setText(f"{shown:,} of {total:,} songs")
        self._update_empty_hint()

    def _update_empty_hint(self) -> None:
        model = self.ctx.model
        total, shown = model.total_count(), model.shown_count()
        if total == 0 and model.is_loaded:
            self.empty_hint.setText("<h2>Your library is empty</h2><p>Import a folder of music to get started "
                                    "(File ▸ Import folder…, Ctrl+O), or drop a folder onto this window.</p>")
        elif shown == 0 and model.is_loaded:
            q = self.search.text().strip()
            self.empty_hint.setText(f"<h3>No songs match “{q}”</h3>" if q else "<h3>Nothing here</h3>")
        else:
            self.empty_hint.setText("")
        empty = bool(self.empty_hint.text())
        self.empty_hint.setVisible(empty)
        self.view.setVisible(not empty)

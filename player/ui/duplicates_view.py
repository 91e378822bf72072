"""Library ▸ “Possible duplicates…”: the files that hold the same recording (an MP3 and a FLAC of one
song, a re-encode, a copy in another folder), grouped, with the one that looks best to keep marked.

The groups are computed off the GUI thread (:func:`player.recommend.duplicates.read_duplicates`, in the
window's media pool) when the dialog opens, on Refresh and after a removal. Per file: play, show in the
library, open its folder, remove from the library (the library's own “Remove from library…”, with its
question and its choice about ratings)."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QHBoxLayout, QHeaderView, QLabel, QMenu, QPushButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout)

from player.ui.context import Controller, WindowContext
from player.ui.icons import std

COLUMNS = ("File", "Length", "Format", "Folder")
TRACK_ROLE = Qt.UserRole + 1


def summary_text(report) -> str:
    """The line above the tree, in words (also the empty and the nothing-analysed states)."""
    if report.tracks == 0:
        return "The library is empty: import a folder of music first (File ▸ Import folder…)."
    if report.analysed == 0:
        return ("No song is analysed yet, and duplicates are found by how songs sound: analyse the library "
                "first (Library ▸ Analyse now), then look again.")
    left = report.tracks - report.analysed
    later = f" {left} song{'s' if left != 1 else ''} not analysed yet {'are' if left != 1 else 'is'} not compared." \
        if left else ""
    n = len(report.groups)
    if n == 0:
        return f"No possible duplicates among {report.analysed} analysed songs.{later}"
    return (f"{n} group{'s' if n != 1 else ''} of possible duplicates among {report.analysed} analysed songs: "
            f"files of the same length that sound the same. ✓ marks the one that looks best to keep.{later}")


class DuplicatesDialog(QDialog):
    """The groups as a tree (group → its files); the actions act on the selected file."""

    playRequested = Signal(int)
    revealRequested = Signal(int)
    folderRequested = Signal(int)
    removeRequested = Signal(int)
    refreshRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Possible duplicates")
        self.setModal(False)
        self.resize(940, 500)
        self.report = None
        lay = QVBoxLayout(self)
        lay.setSpacing(8)
        self.state = QLabel("Looking for files that hold the same recording…")
        self.state.setWordWrap(True)
        self.state.setTextFormat(Qt.PlainText)
        lay.addWidget(self.state)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setSelectionMode(QAbstractItemView.SingleSelection)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setTextElideMode(Qt.ElideLeft)  # a path's end says the most
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.tree.itemDoubleClicked.connect(lambda item, _col: self._emit(self.playRequested, item))
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        hh = self.tree.header()
        hh.setSectionResizeMode(0, QHeaderView.Interactive)
        hh.setStretchLastSection(True)
        self.tree.setColumnWidth(0, 300)
        self.tree.setColumnWidth(1, 80)
        self.tree.setColumnWidth(2, 230)
        lay.addWidget(self.tree, 1)
        row = QHBoxLayout()
        self.play = QPushButton(std("MediaPlay"), "Play")
        self.reveal = QPushButton("Show in library")
        self.folder = QPushButton(std("DirOpenIcon"), "Open folder")
        self.remove = QPushButton("Remove from library…")
        self.refresh = QPushButton("Refresh")
        close = QPushButton("Close")
        for button, signal in ((self.play, self.playRequested), (self.reveal, self.revealRequested),
                               (self.folder, self.folderRequested), (self.remove, self.removeRequested)):
            button.clicked.connect(lambda _=False, s=signal: self._emit(s, self.tree.currentItem()))
            row.addWidget(button)
        row.addStretch(1)
        self.refresh.clicked.connect(self.refreshRequested.emit)
        close.clicked.connect(self.close)
        row.addWidget(self.refresh)
        row.addWidget(close)
        lay.addLayout(row)
        self._update_buttons()

    # -- states ----------------------------------------------------------------------------------
    def show_computing(self) -> None:
        self.state.setText("Looking for files that hold the same recording…")
        self.refresh.setEnabled(False)

    def show_error(self, message: str) -> None:
        self.state.setText(f"Could not look for duplicates: {message}")
        self.refresh.setEnabled(True)

    def show_report(self, report) -> None:
        from player.recommend.duplicates import format_text, length_text  # the recommender loads after the window

        self.report = report
        self.refresh.setEnabled(True)
        self.state.setText(summary_text(report))
        self.tree.clear()
        bold = QFont(self.tree.font())
        bold.setBold(True)
        for g in report.groups:
            head = QTreeWidgetItem([f"{g.files[0].title} — {len(g.files)} files", length_text(g.files[0].duration),
                                    "", f"✓ keep: {g.reason}"])
            head.setToolTip(3, f"The file that looks best to keep: {g.reason}")
            head.setFont(0, bold)
            head.setFlags(head.flags() & ~Qt.ItemIsSelectable)
            for f in g.files:
                keep = f.id == g.keep
                name = os.path.basename(f.path)
                item = QTreeWidgetItem([("✓ " if keep else "    ") + name, length_text(f.duration), format_text(f),
                                        f.folder])
                item.setData(0, TRACK_ROLE, f.id)
                tip = f"{f.path}\n{'Looks best to keep: ' + g.reason if keep else 'Track #' + str(f.id)}"
                for col in range(len(COLUMNS)):
                    item.setToolTip(col, tip)
                if keep:
                    item.setFont(0, bold)
                head.addChild(item)
            self.tree.addTopLevelItem(head)
            head.setExpanded(True)
        self.tree.setVisible(bool(report.groups))
        self._update_buttons()

    # -- what the tree shows (for the controller and the tests) ----------------------------------
    def groups_shown(self) -> list[list[int]]:
        return [[self.tree.topLevelItem(g).child(k).data(0, TRACK_ROLE)
                 for k in range(self.tree.topLevelItem(g).childCount())] for g in range(self.tree.topLevelItemCount())]

    def select_track(self, track_id: int) -> bool:
        for g in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(g)
            for k in range(head.childCount()):
                if head.child(k).data(0, TRACK_ROLE) == track_id:
                    self.tree.setCurrentItem(head.child(k))
                    return True
        return False

    def current_track_id(self) -> int | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(0, TRACK_ROLE)

    # -- actions ---------------------------------------------------------------------------------
    def _emit(self, signal, item) -> None:
        tid = None if item is None else item.data(0, TRACK_ROLE)
        if tid is not None:
            signal.emit(int(tid))

    def _update_buttons(self) -> None:
        on = self.current_track_id() is not None
        for b in (self.play, self.reveal, self.folder, self.remove):
            b.setEnabled(on)

    def _menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        if item is None or item.data(0, TRACK_ROLE) is None:
            return
        self.tree.setCurrentItem(item)
        m = QMenu(self)
        m.addAction(std("MediaPlay"), "Play", lambda: self._emit(self.playRequested, item))
        m.addAction("Show in library", lambda: self._emit(self.revealRequested, item))
        m.addAction(std("DirOpenIcon"), "Open containing folder", lambda: self._emit(self.folderRequested, item))
        m.addSeparator()
        m.addAction("Remove from library…", lambda: self._emit(self.removeRequested, item))
        m.popup(self.tree.viewport().mapToGlobal(pos))
        self.last_menu = m


def read_report(library):
    """Worker: the library's possible duplicates (numpy and the analysis load here, not at start-up)."""
    from player.recommend.duplicates import read_duplicates

    return read_duplicates(library)


class DuplicatesController(Controller):
    """Opens the one dialog from its action and fills it from a worker; its files' actions go to the
    window's transport, the library menus (show in library, open folder) and Remove from library."""

    def __init__(self, ctx: WindowContext, action, transport, menus, removal, parent=None):
        super().__init__(ctx, parent)
        self.transport, self.menus, self.removal = transport, menus, removal
        self.dialog: DuplicatesDialog | None = None
        self._job = None
        self._gen = 0
        action.triggered.connect(lambda *_: self.open())
        removal.removed.connect(lambda _n: self._library_changed())

    def open(self) -> DuplicatesDialog:
        if self.dialog is None:
            d = self.dialog = DuplicatesDialog(self.parent())
            d.playRequested.connect(self.transport.play_track)
            d.revealRequested.connect(self.menus.reveal_track)
            d.folderRequested.connect(self.menus.open_folder)
            d.removeRequested.connect(lambda tid: self.removal.ask([tid]))
            d.refreshRequested.connect(self.refresh)
        self.dialog.show()
        self.dialog.raise_()
        self.refresh()
        return self.dialog

    def refresh(self) -> None:
        """Computes the groups again in a worker; an older computation's result is dropped."""
        if self.dialog is None:
            return
        if self._job is not None:
            self._job.cancel()
        self._gen += 1
        gen = self._gen
        self.dialog.show_computing()

        def landed(show, value) -> None:
            if gen == self._gen and self.dialog is not None:
                self._job = None
                show(value)

        self._job = self.ctx.pools.media.submit(
            read_report, self.ctx.library, on_result=lambda report: landed(self.dialog.show_report, report),
            on_error=lambda err: landed(self.dialog.show_error, err.message))

    def _library_changed(self) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            self.refresh()

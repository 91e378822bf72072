"""Small dialogs: import failures, keyboard shortcuts."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout)


class FailureDialog(QDialog):
    """The files an import could not read, each with its reason in words."""

    def __init__(self, summary: str, failures: list[tuple[str, str]], folder_errors: list[tuple[str, str]] = (),
                 parent=None):
        super().__init__(parent)
        self.setWindowTitle("Import: files that could not be added")
        self.setModal(False)
        self.resize(860, 420)
        lay = QVBoxLayout(self)
        lay.setSpacing(10)
        head = QLabel(f"<b>{summary}</b><br><span style='color:#5b6170'>These files were skipped; everything else "
                      "was imported. Fix or convert them and import the folder again.</span>")
        head.setWordWrap(True)
        lay.addWidget(head)
        rows = [(p, r) for p, r in failures] + [(p, f"folder: {r}") for p, r in folder_errors]
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["File", "Folder", "Reason"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        for i, (path, reason) in enumerate(rows):
            name = QTableWidgetItem(os.path.basename(path) or path)
            name.setToolTip(path)
            folder = QTableWidgetItem(os.path.dirname(path))
            folder.setToolTip(path)
            why = QTableWidgetItem(reason)
            why.setToolTip(reason)
            self.table.setItem(i, 0, name)
            self.table.setItem(i, 1, folder)
            self.table.setItem(i, 2, why)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.Interactive)
        hh.setSectionResizeMode(1, QHeaderView.Interactive)
        hh.setSectionResizeMode(2, QHeaderView.Stretch)
        self.table.setColumnWidth(0, 200)
        self.table.setColumnWidth(1, 220)
        lay.addWidget(self.table, 1)
        self.table.setCurrentCell(-1, -1)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        copy = QPushButton("Copy list")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText("\n".join(f"{p}\t{r}" for p, r in rows)))
        buttons.addButton(copy, QDialogButtonBox.ActionRole)
        buttons.rejected.connect(self.close)
        lay.addWidget(buttons)
        self.rows = rows


SHORTCUTS = [
    ("Space", "Play / pause"),
    ("Left / Right", "Seek 5 s back / forward"),
    ("Ctrl+Left / Ctrl+Right", "Previous / next song"),
    ("Enter, double-click", "Play the selected song"),
    ("1 … 5", "Rate the selected songs (0 clears)"),
    ("Ctrl+F", "Search"),
    ("Esc (in search)", "Clear the search"),
    ("Ctrl+I", "Track details"),
    ("Ctrl+Shift+N", "Play next"),
    ("Ctrl+Up / Ctrl+Down", "Volume up / down"),
    ("M", "Mute"),
    ("Ctrl+O", "Import a folder"),
    ("Delete (in Up next)", "Remove from the queue"),
    ("Media keys", "Play/pause, next, previous, stop"),
]


class ShortcutsDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(440, 460)
        lay = QVBoxLayout(self)
        t = QTableWidget(len(SHORTCUTS), 2)
        t.setHorizontalHeaderLabels(["Keys", "Action"])
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QAbstractItemView.NoEditTriggers)
        t.setShowGrid(False)
        t.setFocusPolicy(Qt.NoFocus)
        for i, (k, a) in enumerate(SHORTCUTS):
            t.setItem(i, 0, QTableWidgetItem(k))
            t.setItem(i, 1, QTableWidgetItem(a))
        t.horizontalHeader().setSectionResizeMode(1, QHeaderView.Stretch)
        t.setColumnWidth(0, 170)
        lay.addWidget(t)
        b = QDialogButtonBox(QDialogButtonBox.Close)
        b.rejected.connect(self.close)
        lay.addWidget(b)

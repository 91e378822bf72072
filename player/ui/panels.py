"""The right-hand panels: Up next / More like this lists (with one-line reasons) and the mood box."""

from __future__ import annotations

import json
from dataclasses import dataclass

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QLabel, QListView, QPushButton, QSlider,
                               QStyle, QStyledItemDelegate, QToolButton, QVBoxLayout, QWidget)

from player.ui.icons import camera_icon, cover_pixmap, sparkle_icon, std

MIME = "application/x-tastebuds-rows"


@dataclass
class Entry:
    track_id: int
    title: str
    artist: str = ""
    album: str = ""
    reason: str = ""
    score: float | None = None
    analysed: bool = True
    user_queued: bool = False  # put there by the listener (play next / add to queue), not the recommender

    def __post_init__(self):  # what the list lays out: a few hundred characters of a long tag
        from player.ui.library_rows import SHOWN_CHARS, shown

        if len(self.title or "") > SHOWN_CHARS or len(self.artist or "") > SHOWN_CHARS or len(self.album or "") > SHOWN_CHARS:
            self.title, self.artist, self.album = shown(self.title or ""), shown(self.artist or ""), shown(self.album or "")


class EntryListModel(QAbstractListModel):
    """A list of :class:`Entry`; with ``reorderable`` rows can be dragged (it then emits ``moveRequested``)."""

    moveRequested = Signal(int, int)  # from row, to row (the model does not move by itself)
    idsDropped = Signal(list, int)  # songs dragged in from the library, and the row they were dropped at

    def __init__(self, reorderable: bool = False, parent=None):
        super().__init__(parent)
        self.entries: list[Entry] = []
        self.reorderable = reorderable

    def set_entries(self, entries: list[Entry]) -> None:
        if [(e.track_id, e.reason, e.title) for e in entries] == [(e.track_id, e.reason, e.title) for e in self.entries]:
            return
        self.beginResetModel()
        self.entries = list(entries)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.entries)

    def entry(self, row: int) -> Entry | None:
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def data(self, index, role=Qt.DisplayRole):
        e = self.entry(index.row()) if index.isValid() else None
        if e is None:
            return None
        if role == Qt.DisplayRole:
            return f"{e.title} — {e.artist}" if e.artist else e.title
        if role == Qt.ToolTipRole:
            parts = [e.title]
            if e.artist or e.album:
                parts.append(" · ".join(x for x in (e.artist, e.album) if x))
            if e.reason:
                parts.append(e.reason)
            if e.score is not None:
                parts.append(f"score {e.score:.3f}")
            if not e.analysed and "analys" not in (e.reason or ""):
                parts.append("(not analysed yet: recommended from what is known)")
            return "\n".join(parts)
        if role == Qt.UserRole:
            return e
        return None

    def flags(self, index):
        f = super().flags(index)
        if not index.isValid():
            return f | (Qt.ItemIsDropEnabled if self.reorderable else Qt.NoItemFlags)
        return f | Qt.ItemIsDragEnabled | (Qt.ItemIsDropEnabled if self.reorderable else Qt.NoItemFlags)

    def supportedDropActions(self):
        return Qt.MoveAction if self.reorderable else Qt.IgnoreAction

    def supportedDragActions(self):
        return Qt.MoveAction | Qt.CopyAction

    def mimeTypes(self):
        return [MIME]

    def mimeData(self, indexes):
        md = QMimeData()
        rows = sorted({i.row() for i in indexes})
        md.setData(MIME, json.dumps({"rows": rows, "ids": [self.entries[r].track_id for r in rows]}).encode())
        return md

    def canDropMimeData(self, data, action, row, column, parent):
        return self.reorderable and data.hasFormat(MIME)

    def dropMimeData(self, data, action, row, column, parent):
        if not self.reorderable or not data.hasFormat(MIME):
            return False
        payload = json.loads(bytes(data.data(MIME)).decode())
        if row < 0:
            row = parent.row() if parent.isValid() else len(self.entries)
        if payload.get("source") == "library":
            ids = [int(i) for i in payload.get("ids", [])]
            if ids:
                self.idsDropped.emit(ids, row)
            return False
        rows = payload.get("rows", [])
        if len(rows) != 1:
            return False
        src = rows[0]
        dst = row if row <= src else row - 1
        if dst != src:
            self.moveRequested.emit(src, dst)
        return False  # the queue moves, then the list is refreshed from it: Qt must not remove rows


class EntryDelegate(QStyledItemDelegate):
    """Two lines: title — artist, and the reason in small grey text; an index number on the left."""

    def __init__(self, numbered: bool = True, parent=None):
        super().__init__(parent)
        self.numbered = numbered
        self.covers = None  # a CoverLoader (player/ui/cover_art.py); None: placeholders only

    def sizeHint(self, option, index):
        fm = QFontMetrics(option.font)
        return QSize(200, fm.height() * 2 + 14)

    def _cover(self, e: Entry, size: int):
        if self.covers is None:
            return cover_pixmap(e.album or e.title, size)
        from player.ui.cover_art import blank_tile

        pm = self.covers.cover(e.track_id, size, e.album or e.title)
        return pm if pm is not None else blank_tile(size)

    def paint(self, p, option, index):
        e: Entry = index.data(Qt.UserRole)
        if e is None:
            return
        p.save()
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawPrimitive(QStyle.PE_PanelItemViewItem, option, p, option.widget)
        r = option.rect.adjusted(8, 5, -8, -5)
        fm = QFontMetrics(option.font)
        x = r.left()
        if self.numbered:
            p.setPen(QColor(150, 155, 165))
            num_w = fm.horizontalAdvance("00") + 6
            p.drawText(QRect(x, r.top(), num_w, fm.height()), Qt.AlignRight | Qt.AlignVCenter, str(index.row() + 1))
            x += num_w + 8
        cov = fm.height() * 2 + 2
        p.drawPixmap(x, r.top(), self._cover(e, cov))
        x += cov + 8
        w = r.right() - x
        bold = QFont(option.font)
        bold.setBold(True)
        p.setFont(bold)
        p.setPen(QColor(25, 28, 36))
        bfm = QFontMetrics(bold)
        title = bfm.elidedText(e.title, Qt.ElideRight, w)
        p.drawText(QRect(x, r.top(), w, fm.height()), Qt.AlignLeft | Qt.AlignVCenter, title)
        tw = bfm.horizontalAdvance(title)
        if e.artist and tw + 30 < w:
            p.setFont(option.font)
            p.setPen(QColor(95, 100, 112))
            rest = fm.elidedText(" — " + e.artist, Qt.ElideRight, w - tw)
            p.drawText(QRect(x + tw, r.top(), w - tw, fm.height()), Qt.AlignLeft | Qt.AlignVCenter, rest)
        small = QFont(option.font)
        if small.pointSizeF() > 0:
            small.setPointSizeF(small.pointSizeF() - 1)
        p.setFont(small)
        sfm = QFontMetrics(small)
        reason = e.reason or ("Queued by you" if e.user_queued else "")
        if not e.analysed and "analys" not in reason:
            reason = (reason + " · not analysed yet") if reason else "not analysed yet"
        p.setPen(QColor(79, 107, 237) if e.user_queued else QColor(120, 125, 138))
        p.drawText(QRect(x, r.top() + fm.height() + 3, w, sfm.height()), Qt.AlignLeft | Qt.AlignVCenter,
                   sfm.elidedText(reason, Qt.ElideRight, w))
        p.restore()


class EntryList(QListView):
    """Up next (reorderable) or More like this. Enter/double-click plays; Delete removes (up next)."""

    playRequested = Signal(int)  # row
    removeRequested = Signal(list)  # rows

    def __init__(self, reorderable: bool, parent=None):
        super().__init__(parent)
        self.setObjectName("upNext")
        self.entries = EntryListModel(reorderable, self)
        self.setModel(self.entries)
        self.setItemDelegate(EntryDelegate(True, self))
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.setDragEnabled(True)
        if reorderable:
            self.setAcceptDrops(True)
            self.setDropIndicatorShown(True)
            self.setDragDropMode(QAbstractItemView.DragDrop)  # moves inside, songs from the library
            self.setDefaultDropAction(Qt.MoveAction)
        else:
            self.setDragDropMode(QAbstractItemView.DragOnly)
        self.doubleClicked.connect(lambda ix: self.playRequested.emit(ix.row()))

    def selected_rows(self) -> list[int]:
        return sorted({ix.row() for ix in self.selectionModel().selectedIndexes()})

    def keyPressEvent(self, event):  # noqa: N802
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and self.currentIndex().isValid():
            self.playRequested.emit(self.currentIndex().row())
            return
        if event.key() in (Qt.Key_Delete, Qt.Key_Backspace) and self.entries.reorderable:
            rows = self.selected_rows()
            if rows:
                self.removeRequested.emit(rows)
            return
        super().keyPressEvent(event)


class ListPanel(QWidget):
    """A title row, a hint line (why the list is empty or disabled) and an :class:`EntryList`."""

    refreshClicked = Signal()

    def __init__(self, title: str, reorderable: bool, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 10, 10, 6)
        lay.setSpacing(6)
        head = QHBoxLayout()
        self.title = QLabel(title)
        self.title.setProperty("class", "panelTitle")
        head.addWidget(self.title)
        head.addStretch(1)
        self.refresh = QToolButton()
        self.refresh.setIcon(std("BrowserReload"))
        self.refresh.setAutoRaise(True)
        self.refresh.setToolTip("Refresh the recommendations")
        self.refresh.clicked.connect(self.refreshClicked)
        head.addWidget(self.refresh)
        lay.addLayout(head)
        self.hint = QLabel("")
        self.hint.setWordWrap(True)
        self.hint.setProperty("class", "hint")
        lay.addWidget(self.hint)
        self.list = EntryList(reorderable, self)
        lay.addWidget(self.list, 1)

    def set_hint(self, text: str | None) -> None:
        self.hint.setText(text or "")
        self.hint.setVisible(bool(text))

    def set_entries(self, entries: list[Entry]) -> None:
        self.list.entries.set_entries(entries)

    def set_covers(self, covers) -> None:
        """Rows show the songs' covers from ``covers`` (a CoverLoader), repainted as they arrive."""
        self.list.itemDelegate().covers = covers
        covers.ready.connect(lambda *_: self.list.viewport().update())


def ndarray_to_qimage(frame) -> QImage:
    """An RGB/BGR/gray uint8 ndarray (OpenCV gives BGR) as a QImage that owns its copy."""
    import numpy as np

    a = np.ascontiguousarray(frame)
    if a.dtype != np.uint8:
        a = np.clip(a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        h, w = a.shape
        return QImage(a.data, w, h, a.strides[0], QImage.Format_Grayscale8).copy()
    h, w, c = a.shape
    if c == 4:
        return QImage(a.data, w, h, a.strides[0], QImage.Format_RGBA8888).copy()
    rgb = np.ascontiguousarray(a[:, :, ::-1])  # BGR -> RGB
    return QImage(rgb.data, w, h, rgb.strides[0], QImage.Format_RGB888).copy()


class MoodBox(QFrame):
    """Mood toggle (off by default), live preview, detected mood, camera-on indicator, mood weight."""

    toggled = Signal(bool)
    weightChanged = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("moodBox")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.setSpacing(6)
        head = QHBoxLayout()
        t = QLabel("Mood")
        t.setProperty("class", "panelTitle")
        head.addWidget(t)
        head.addStretch(1)
        self.indicator = QLabel("● Camera on")
        self.indicator.setObjectName("cameraOn")
        self.indicator.setVisible(False)
        head.addWidget(self.indicator)
        lay.addLayout(head)
        row = QHBoxLayout()
        self.button = QPushButton(camera_icon(18), "  Use my mood")
        self.button.setCheckable(True)
        self.button.setChecked(False)
        self.button.setToolTip("Read your mood from the camera and let it steer what plays next.\n"
                               "Frames never leave this computer and are never saved.")
        self.button.toggled.connect(self._toggled)
        row.addWidget(self.button, 1)
        lay.addLayout(row)
        self.preview = QLabel()
        self.preview.setFixedSize(192, 144)
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.setStyleSheet("background: #1f2430; border-radius: 6px; color: #9aa1ad;")
        self.preview.setText("camera off")
        self.preview.setVisible(False)
        lay.addWidget(self.preview, 0, Qt.AlignHCenter)
        self.mood = QLabel("Mood is off: recommendations follow your ratings only.")
        self.mood.setWordWrap(True)
        self.mood.setProperty("class", "hint")
        lay.addWidget(self.mood)
        wrow = QHBoxLayout()
        wl = QLabel("Mood influence")
        wl.setProperty("class", "hint")
        self.weight = QSlider(Qt.Horizontal)
        self.weight.setRange(0, 100)
        self.weight.setValue(40)
        self.weight.setToolTip("How much the detected mood weighs against your ratings")
        self.weight.valueChanged.connect(lambda v: self.weightChanged.emit(v / 50.0))  # 0..2, the recommender's weight_mood
        wrow.addWidget(wl)
        wrow.addWidget(self.weight, 1)
        lay.addLayout(wrow)
        self._busy = False

    def _toggled(self, on: bool) -> None:
        self.toggled.emit(on)

    def set_checked_silently(self, on: bool) -> None:
        self.button.blockSignals(True)
        self.button.setChecked(on)
        self.button.blockSignals(False)

    def set_camera_on(self, on: bool) -> None:
        self.indicator.setVisible(on)
        self.preview.setVisible(on)
        self.button.setText("  Stop using my mood" if on else "  Use my mood")
        if not on:
            self.preview.clear()
            self.preview.setText("camera off")
            self.mood.setText("Mood is off: recommendations follow your ratings only.")

    def set_starting(self) -> None:
        self.preview.setVisible(True)
        self.preview.setText("starting the camera…")
        self.mood.setText("Looking for a face…")

    def set_frame(self, frame) -> None:
        img = ndarray_to_qimage(frame)
        pm = QPixmap.fromImage(img).scaled(self.preview.size(), Qt.KeepAspectRatio, Qt.SmoothTransformation)
        self.preview.setPixmap(pm)

    def set_mood_text(self, text: str) -> None:
        self.mood.setText(text)

    def set_weight(self, w: float) -> None:
        self.weight.blockSignals(True)
        self.weight.setValue(int(round(w * 50)))
        self.weight.blockSignals(False)

    def set_unavailable(self, reason: str) -> None:
        self.button.setEnabled(False)
        self.button.setToolTip(reason)
        self.weight.setEnabled(False)
        self.mood.setText(reason)


__all__ = ["Entry", "EntryList", "EntryListModel", "ListPanel", "MoodBox", "ndarray_to_qimage", "sparkle_icon"]

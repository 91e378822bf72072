"""Cover thumbnails for the window: found and decoded off the GUI thread, kept as pixmaps.

:class:`CoverLoader` answers ``cover(track_id, size)`` at once from its cache: the pixmap when it is
loaded, the generated placeholder (``icons.cover_pixmap``) when the track has no usable picture, and
None while it is being loaded (the caller draws a plain tile and waits for :attr:`CoverLoader.ready`).
A miss starts one job on the loader's own pool (always real threads, never the GUI thread): the
library's :func:`~player.library.covers.cover_for_track`, then
:func:`~player.library.covers.thumbnail` (a size-capped JPEG in the cache folder, decoded at a reduced
scale) and a ``QImage`` of it. Only the small ``QImage`` reaches the GUI thread, which makes it a
``QPixmap`` (a cheap copy). Pixmaps are cached by picture hash and size (an album's tracks share one),
bounded in bytes (:data:`MAX_BYTES`); the requests of rows scrolled away are dropped before they start (:meth:`forget`).
A damaged, huge or vanished picture is a placeholder, never a stall.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

from player.ui.icons import cover_pixmap
from player.ui.workers import TaskPool

NONE = ""  # the cached hash of a track without a usable picture
#: the pixmaps kept, least recently shown dropped first: ~350 album-grid tiles, several screens of them
MAX_BYTES = 32 * 1024 * 1024


def _bytes(pm: QPixmap) -> int:
    return pm.width() * pm.height() * max(1, pm.depth() // 8)


_OPENCV_LOCK = threading.Lock()
_opencv_serial = False


def _serial_opencv() -> None:
    """OpenCV's own threads off in the window's process (once): its resize spread each thumbnail over
    every core, on threads that run at the priority of whichever thread first used OpenCV, not below
    the GUI thread as the cover pool's do (``workers.POOL_NICENESS``)."""
    global _opencv_serial
    with _OPENCV_LOCK:
        if not _opencv_serial:
            import cv2

            cv2.setNumThreads(1)
            _opencv_serial = True


def load_thumbnail(library, track_id: int, size: int):
    """Worker: (picture hash or NONE, QImage or None) for the track's cover at ``size``."""
    from player.library.covers import cover_for_track, thumbnail

    _serial_opencv()
    ref = cover_for_track(library, track_id)
    if ref is None:
        return NONE, None
    path = thumbnail(ref, size)
    if path is None:
        return NONE, None
    image = QImage(str(path))
    return (ref.hash, image) if not image.isNull() else (NONE, None)


@lru_cache(maxsize=8)
def blank_tile(size: int) -> QPixmap:
    """What a cover shows while it loads: a plain, light tile."""
    pm = QPixmap(size, size)
    pm.fill(QColor(0, 0, 0, 0))
    p = QPainter(pm)
    p.setRenderHint(QPainter.Antialiasing)
    p.setPen(QColor(0, 0, 0, 0))
    p.setBrush(QColor(226, 229, 236))
    p.drawRoundedRect(0, 0, size, size, size * 0.12, size * 0.12)
    p.end()
    return pm


class CoverLoader(QObject):
    """The window's covers (one per window). ``ready(track_id, size)`` fires on the GUI thread when a
    requested cover is known (loaded, or known to be missing)."""

    ready = Signal(int, int)

    def __init__(self, library, *, threads: int = 2, max_bytes: int = MAX_BYTES, parent=None):
        super().__init__(parent)
        self.library = library
        self.pool = TaskPool("covers", threads, parent=self)  # never synchronous: decoding stays off the GUI thread
        self._hash: dict[int, str] = {}  # track id → picture hash (NONE: no picture)
        self._pixmaps: OrderedDict[tuple[str, int], QPixmap] = OrderedDict()
        self._max = max_bytes
        self._bytes = 0
        self._pending: dict[tuple[int, int], object] = {}  # (track id, size) → worker
        self._placeholders: dict[tuple[str, int], QPixmap] = {}

    def placeholder(self, key: str, size: int) -> QPixmap:
        pm = self._placeholders.get((key, size))
        if pm is None:
            pm = self._placeholders[(key, size)] = cover_pixmap(key, size)
        return pm

    def known(self, track_id: int, size: int) -> bool:
        h = self._hash.get(track_id)
        return h == NONE or (h is not None and (h, size) in self._pixmaps)

    def has_picture(self, track_id: int) -> bool | None:
        """True / False once known; None before the first load finished."""
        h = self._hash.get(track_id)
        return None if h is None else h != NONE

    def cover(self, track_id: int, size: int, placeholder_key: str = "") -> QPixmap | None:
        """The cover now: its pixmap, the placeholder (no picture), or None (loading; requested)."""
        h = self._hash.get(track_id)
        if h == NONE:
            return self.placeholder(placeholder_key, size)
        if h is not None:
            pm = self._pixmaps.get((h, size))
            if pm is not None:
                self._pixmaps.move_to_end((h, size))
                return pm
        self.request(track_id, size)
        return None

    def request(self, track_id: int, size: int) -> None:
        key = (int(track_id), int(size))
        if key in self._pending or self.known(*key):
            return
        self._pending[key] = self.pool.submit(
            load_thumbnail, self.library, key[0], key[1],
            on_result=lambda result, k=key: self._loaded(k, result),
            on_error=lambda _err, k=key: self._loaded(k, (NONE, None)))

    def forget(self, keep: set[int], size: int) -> None:
        """Cancel the requests at ``size`` not started yet of tracks outside ``keep`` (tiles scrolled
        away); other sizes (the now-playing bar's, the details') are left alone."""
        for key, worker in list(self._pending.items()):
            if key[1] == size and key[0] not in keep and self.pool.take(worker):
                del self._pending[key]

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _loaded(self, key: tuple[int, int], result) -> None:
        self._pending.pop(key, None)
        track_id, size = key
        picture_hash, image = result
        self._hash[track_id] = picture_hash
        if picture_hash != NONE and image is not None and (picture_hash, size) not in self._pixmaps:
            pm = self._pixmaps[(picture_hash, size)] = QPixmap.fromImage(image)
            self._bytes += _bytes(pm)
            while self._bytes > self._max and len(self._pixmaps) > 1:
                self._bytes -= _bytes(self._pixmaps.popitem(last=False)[1])
        self.ready.emit(track_id, size)

    def invalidate(self, track_ids) -> None:
        """The tracks' covers may have changed (an import, a rescan): looked up again when next asked."""
        for t in track_ids:
            self._hash.pop(int(t), None)

    def forget_missing(self) -> None:
        """Songs found without a picture are looked at again when next asked (after an import: a
        rescan may have found theirs)."""
        self._hash = {t: h for t, h in self._hash.items() if h != NONE}

    def shutdown(self, msecs: int = 3000) -> None:
        self.pool.cancel_all()
        self.pool._pool.clear()
        self.pool.wait(msecs)


__all__ = ["CoverLoader", "load_thumbnail", "blank_tile", "NONE"]

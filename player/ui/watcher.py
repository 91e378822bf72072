"""Watched folders, the Qt side: a ``QFileSystemWatcher`` on the imported folders and every folder
below them, new folders added as they appear, and :attr:`FolderWatcher.rescan_requested` with the
folders to rescan once the changes have settled (see :mod:`player.library.watch`).

The GUI thread only receives the watcher's events and arms a timer: every folder walk and ``stat``
runs in a worker (:mod:`player.ui.workers`). The rescan itself is the window's business (the import
path, :func:`player.ui.scan_process.scan_in_child`), as is storing the imported folders
(:func:`player.library.watch.remember_folders`).

inotify reports files created, deleted, renamed or moved in a folder; it does not report a file
rewritten in place (a tag editor saving without a rename). :meth:`FolderWatcher.check_library` at
start finds those, and anything else changed while the player was closed.
"""

from __future__ import annotations

import logging
import os
import time

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from player.library import watch
from player.ui.workers import TaskPool

log = logging.getLogger("player.watch")
ADD_CHUNK = 500  # folders added to the watcher per event-loop turn


def _walk_folders(tops: list[str], known: frozenset[str]) -> list[str]:
    """``tops`` and every folder below them that is not in ``known`` (worker thread)."""
    out: list[str] = []
    seen: set[tuple[int, int]] = set()
    stack = [os.path.normpath(t) for t in tops]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop
            continue
        seen.add((st.st_dev, st.st_ino))
        if folder not in known:
            out.append(folder)
        try:
            with os.scandir(folder) as entries:
                subdirs = [e.path for e in entries if _is_dir(e)]
        except OSError:
            continue
        stack.extend(subdirs)
    return out


def _is_dir(entry) -> bool:
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:
        return False


def _new_subfolders(folder: str, known: frozenset[str]) -> list[str]:
    """Folders below ``folder`` that are not watched yet: the subtrees of its new subfolders."""
    try:
        with os.scandir(folder) as entries:
            fresh = [os.path.normpath(e.path) for e in entries if _is_dir(e) and os.path.normpath(e.path) not in known]
    except OSError:
        return []
    return _walk_folders(fresh, known) if fresh else []


def _plan(paths: list[str], roots: list[str], quiet: float) -> tuple[list[str], list[str]]:
    """(folders to rescan now, changed folders still being written) — worker thread."""
    folders = watch.rescan_folders(paths, roots)
    busy = watch.busy_folders([watch.nearest_folder(p) for p in paths], quiet)
    ready = [f for f in folders if not any(watch.is_under(b, f) for b in busy)]
    return ready, busy


class FolderWatcher(QObject):
    """Watches ``roots`` (and below). Emits :attr:`rescan_requested` with a list of folders."""

    rescan_requested = Signal(list)
    watching = Signal(int)  # how many folders are watched, after each change of the set
    problem = Signal(str)  # one line, e.g. the system's limit on watches

    def __init__(self, parent: QObject | None = None, *, quiet_s: float = watch.QUIET_S,
                 max_wait_s: float = watch.MAX_WAIT_S, pool: TaskPool | None = None):
        super().__init__(parent)
        self.quiet_s = quiet_s
        self.roots: list[str] = []
        self._pool = pool if pool is not None else TaskPool("watch", 1, parent=self)
        self._fs = QFileSystemWatcher(self)
        self._fs.directoryChanged.connect(self._on_changed)
        self._debounce = watch.Debouncer(quiet_s, max_wait_s)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._flush)
        self._generation = 0
        self._planning = False
        self._warned_limit = False

    # -- the folder set ----------------------------------------------------------------------
    def set_folders(self, roots: list[str]) -> None:
        """Watch exactly ``roots`` and everything below them (walked in a worker)."""
        self._generation += 1
        self.roots = watch.collapse(roots)
        old = self._fs.directories()
        if old:
            self._fs.removePaths(old)
        self._debounce.due(float("inf"))  # drop what waited for the old set
        if self.roots:
            gen = self._generation
            self._pool.submit(_walk_folders, list(self.roots), frozenset(),
                              on_result=lambda dirs: self._add(dirs, gen))
        else:
            self.watching.emit(0)

    def add_folders(self, roots: list[str]) -> None:
        """Also watch ``roots`` (after an import of a new folder)."""
        self.set_folders([*self.roots, *roots])

    def watched(self) -> list[str]:
        return sorted(self._fs.directories())

    def stop(self) -> None:
        self.set_folders([])
        self._timer.stop()

    def _add(self, dirs: list[str], generation: int) -> None:
        if generation != self._generation or not dirs:
            return
        dirs = [d for d in dirs if any(watch.is_under(d, r) for r in self.roots)]
        if len(dirs) > ADD_CHUNK:  # a big tree: a slice per event-loop turn keeps the window painting
            QTimer.singleShot(0, lambda rest=dirs[ADD_CHUNK:]: self._add(rest, generation))
            dirs = dirs[:ADD_CHUNK]
        failed = self._fs.addPaths(dirs) if dirs else []
        if failed and not self._warned_limit:
            self._warned_limit = True
            message = (f"{len(failed)} folders cannot be watched for new music (the system's limit on "
                       "watched folders, fs.inotify.max_user_watches, may be too low)")
            log.warning(message)
            self.problem.emit(message)
        self.watching.emit(len(self._fs.directories()))

    # -- changes -----------------------------------------------------------------------------
    def _on_changed(self, path: str) -> None:
        path = os.path.normpath(path)
        self._debounce.add([path])
        self._arm()
        # New subfolders get watched at once, so the files copied into them are seen too.
        gen = self._generation
        self._pool.submit(_new_subfolders, path, frozenset(self._fs.directories()),
                          on_result=lambda dirs: self._add(dirs, gen))

    def _arm(self) -> None:
        deadline = self._debounce.deadline()
        if deadline is None or self._planning:
            return
        self._timer.start(max(0, int((deadline - time.monotonic()) * 1000) + 1))

    def _flush(self) -> None:
        paths = self._debounce.due()
        if not paths:
            self._arm()
            return
        self._planning = True
        gen = self._generation
        self._pool.submit(_plan, paths, list(self.roots), self.quiet_s,
                          on_result=lambda plan: self._planned(plan, gen),
                          on_finished=self._planned_done)

    def _planned(self, plan: tuple[list[str], list[str]], generation: int) -> None:
        if generation != self._generation:
            return
        ready, busy = plan
        if busy:  # still being copied: look again once they have been quiet
            self._debounce.add(busy)
        if ready:
            self.rescan_requested.emit(ready)

    def _planned_done(self) -> None:
        self._planning = False
        self._arm()

    # -- at start ----------------------------------------------------------------------------
    def check_library(self, library, roots: list[str] | None = None) -> None:
        """The quick check for changes made while the player was closed (in a worker); emits
        :attr:`rescan_requested` when there are any."""
        roots = list(self.roots if roots is None else roots)

        def done(folders: list[str]) -> None:
            if folders:
                self.rescan_requested.emit(folders)

        self._pool.submit(watch.changed_folders, library, roots, on_result=done)

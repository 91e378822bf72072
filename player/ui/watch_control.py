"""Watched folders while the player runs: the imported folders are watched
(:class:`~player.ui.watcher.FolderWatcher`), and what changes in them goes through the usual import
(the scan child process), quietly: no summary, a notice only when something could not be read. The
window's end-of-import step then starts the analysis of the new songs. At start, the check for changes
made while the player was closed. A folder the listener imports is remembered and watched from then on.
"""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import QObject, QTimer

from player.library import watch
from player.ui.context import WindowContext
from player.ui.watcher import FolderWatcher

log = logging.getLogger("player.watch")


class WatchController(QObject):
    def __init__(self, ctx: WindowContext, imports, parent=None, *, quiet_s: float = watch.QUIET_S,
                 max_wait_s: float = watch.MAX_WAIT_S):
        super().__init__(parent)
        self.ctx = ctx
        self.imports = imports
        # the window's media pool: its walks end with the window (and run at once in synchronous tests)
        self.watcher = FolderWatcher(self, quiet_s=quiet_s, max_wait_s=max_wait_s, pool=ctx.pools.media)
        self.watcher.rescan_requested.connect(self.rescan)
        self.watcher.problem.connect(lambda text: ctx.notify(text, "warning"))
        self.pending: list[str] = []
        self.rescans = 0  # quiet rescans started (for the status line and tests)
        imports.finished.connect(self._import_finished)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.setInterval(1000)
        self._retry.timeout.connect(self._run_pending)

    def start(self) -> None:
        """Watch the imported folders (read in a worker) and look for changes made while closed."""
        self.ctx.pools.media.submit(watch.imported_folders, self.ctx.library, on_result=self._watch_and_check)

    def _watch_and_check(self, folders: list[str]) -> None:
        if not folders:
            return
        self.watcher.set_folders(folders)
        self.watcher.check_library(self.ctx.library, folders)

    def stop(self) -> None:
        self._retry.stop()
        self.watcher.stop()

    def rescan_all(self) -> None:
        """Library ▸ Rescan folders: every imported folder, with the usual summary."""
        def go(folders: list[str]) -> None:
            present = [f for f in folders if os.path.isdir(f)]
            if present:
                self.imports.import_folders(present)
            else:
                self.ctx.notify("There are no imported folders to look through yet: import a folder first.", "info")

        self.ctx.pools.media.submit(watch.imported_folders, self.ctx.library, on_result=go)

    def rescan(self, folders: list[str]) -> None:
        """Rescan ``folders`` through the import, quietly; while another import runs, after it."""
        self.pending = watch.collapse([*self.pending, *folders])
        self._run_pending()

    def _run_pending(self) -> None:
        if not self.pending:
            return
        if self.imports.importing:
            self._retry.start()
            return
        folders, self.pending = self.pending, []
        log.info("rescanning %s", ", ".join(folders))
        self.rescans += 1
        self.imports.import_folders(folders, quiet=True)

    def _import_finished(self, _report) -> None:
        if self.imports.last_quiet:
            QTimer.singleShot(0, self._run_pending)
            return
        folders = self.imports.last_folders
        if folders:
            library = self.ctx.library
            self.ctx.pools.db_write.submit(watch.remember_folders, library, folders,
                                           on_result=self.watcher.set_folders)

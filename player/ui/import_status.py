"""Importing folders: the status-bar progress (with Stop), the summary notice and the failure list.

The scan runs in a child process (``player/ui/scan_process.py``: the interpreter lock stays free for
painting) or, with synchronous pools (tests), in the calling thread. While it runs the table picks up
the new rows by deltas.
"""

from __future__ import annotations

import os
import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog

from player.options import IMPORT_FOLDER
from player.ui.context import Controller, WindowContext
from player.ui.dialogs import FailureDialog
from player.ui.status_parts import ImportStatus
from player.ui.workers import WorkerError

REFRESH_DURING_IMPORT_S = 0.8


class ImportController(Controller):
    """Starts, follows and stops an import; ``finished`` carries its ``ScanReport``."""

    finished = Signal(object)  # ScanReport

    def __init__(self, ctx: WindowContext, status: ImportStatus, parent=None):
        super().__init__(ctx, parent)
        self.status = status
        #: Scans run in a child process (keeps the interpreter lock free for the GUI); in-process when
        #: the pools are synchronous (tests). None: decide by that rule.
        self.scan_in_child: bool | None = None
        self.last_report = None
        self.failure_dialog: FailureDialog | None = None
        self._worker = None
        self._last_refresh = 0.0
        status.cancel.clicked.connect(self.cancel)

    @property
    def importing(self) -> bool:
        return self._worker is not None

    def choose_folder(self) -> None:
        start = self.ctx.settings[IMPORT_FOLDER] or os.path.expanduser("~")
        folder = QFileDialog.getExistingDirectory(self.parent(), "Import a folder of music", start)
        if folder:
            self.ctx.settings[IMPORT_FOLDER] = folder
            self.import_folders([folder])

    def import_folders(self, folders: list[str]) -> None:
        if self._worker is not None:
            self.ctx.notify("An import is already running; wait for it or stop it first.", "warning")
            return
        pools = self.ctx.pools
        in_child = self.scan_in_child if self.scan_in_child is not None else not pools.synchronous
        s = self.status
        s.setVisible(True)
        s.label.setText("Looking for music…")
        s.bar.setRange(0, 0)
        s.cancel.setEnabled(True)
        self._last_refresh = time.monotonic()
        self._worker = pools.scan.submit(
            self._scan, [str(f) for f in folders], in_child, job=True, on_progress=self._progress,
            on_result=self._done, on_error=self._failed, on_finished=self._finished)

    def _scan(self, job, folders: list[str], in_child: bool):
        """Worker: import ``folders``, reporting ``(done, total, path)`` at most ten times a second."""
        library = self.ctx.library
        if in_child:
            from player.ui.scan_process import scan_in_child

            return scan_in_child(job, library.path, folders, workers=2)
        from player.library.scan import scan

        last = [0.0]

        def progress(done, total, path):
            t = time.monotonic()
            if t - last[0] >= 0.1 or done == total:
                last[0] = t
                job.progress((done, total, path))

        return scan(library, folders, progress=progress, cancel=job.is_cancelled, workers=2)

    def _progress(self, value) -> None:
        done, total, path = value
        s = self.status
        if total:
            s.bar.setRange(0, total)
            s.bar.setValue(done)
        s.label.setText(f"Importing {done:,} / {total:,}")
        s.label.setToolTip(path or "")
        now = time.monotonic()
        if now - self._last_refresh >= REFRESH_DURING_IMPORT_S and not self.ctx.pools.query.active:
            self._last_refresh = now
            self.ctx.model.refresh()

    def _done(self, report) -> None:
        self.last_report = report
        self.ctx.model.refresh()
        failed = report.failed
        text = f"Import finished: {report.summary()}."
        actions = []
        if failed or report.folder_errors:
            n = len(failed) + len(report.folder_errors)
            name, reason = (os.path.basename(failed[0][0]), failed[0][1]) if failed else report.folder_errors[0]
            text = (f"Import finished: {report.summary()}. {n} file{'s' if n != 1 else ''} could not be read — "
                    f"for example {name}: {reason}.")
            actions.append(("Show details…", self.show_failures))
        self.ctx.notify(text, "warning" if failed else "success", actions)
        self.finished.emit(report)

    def show_failures(self) -> FailureDialog | None:
        r = self.last_report
        if r is None:
            return None
        self.failure_dialog = FailureDialog(f"Import: {r.summary()}", r.failed, r.folder_errors, self.parent())
        self.failure_dialog.show()
        return self.failure_dialog

    def _failed(self, err: WorkerError) -> None:
        self.ctx.notify(f"The import stopped: {err.message}", "error")

    def _finished(self) -> None:
        self._worker = None
        self.status.setVisible(False)

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self.status.label.setText("Stopping…")
            self.status.cancel.setEnabled(False)

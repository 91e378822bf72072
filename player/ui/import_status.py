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


def merge_reports(report, other):
    """``other``'s counts and lists added to ``report`` (a scan followed by files imported one by one)."""
    for name in ("added", "updated", "unchanged", "revived", "missing", "left_out", "covers_filled"):
        setattr(report, name, getattr(report, name) + getattr(other, name))
    for name in ("failed", "still_failing", "notes", "warnings", "folder_errors", "notices"):
        getattr(report, name).extend(getattr(other, name))
    report.track_ids.update(other.track_ids)
    return report


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
        #: what the last import was given, and whether it was a quiet one (a watched folder's rescan)
        self.last_folders: list[str] = []
        self.last_quiet = False
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

    def choose_files(self) -> None:
        from player.library.probe import AUDIO_EXTENSIONS

        start = self.ctx.settings[IMPORT_FOLDER] or os.path.expanduser("~")
        files, _filter = QFileDialog.getOpenFileNames(self.parent(), "Import music files", start,
                                                      f"Music ({' '.join('*' + e for e in sorted(AUDIO_EXTENSIONS))});;"
                                                      "All files (*)")
        if files:
            self.ctx.settings[IMPORT_FOLDER] = os.path.dirname(files[0])
            self.import_paths(files)

    def import_paths(self, paths: list[str]) -> None:
        """Folders and files together (a drop on the window): folders are scanned, files imported one
        by one."""
        folders = [p for p in paths if os.path.isdir(p)]
        files = [p for p in paths if not os.path.isdir(p)]
        if files and not folders:
            self._start(lambda job: self._import_files(job, files), [], False)
        elif folders:
            self.import_folders(folders, files=files)

    def import_folders(self, folders: list[str], *, quiet: bool = False, files: list[str] | None = None) -> None:
        """Scan ``folders`` (and import ``files``). ``quiet``: a watched folder's rescan — no summary,
        only a notice when something could not be read."""
        pools = self.ctx.pools
        in_child = self.scan_in_child if self.scan_in_child is not None else not pools.synchronous
        folders = [str(f) for f in folders]
        extra = list(files or [])

        def run(job):
            report = self._scan(job, folders, in_child)
            if extra and not job.is_cancelled():
                merge_reports(report, self._import_files(job, extra))
            return report

        self._start(run, folders, quiet)

    def _start(self, run, folders: list[str], quiet: bool) -> None:
        if self._worker is not None:
            if not quiet:
                self.ctx.notify("An import is already running; wait for it or stop it first.", "warning")
            return
        self.last_folders, self.last_quiet = list(folders), quiet
        s = self.status
        s.setVisible(True)
        s.label.setText("Looking for music…")
        s.bar.setRange(0, 0)
        s.cancel.setEnabled(True)
        self._last_refresh = time.monotonic()
        self._worker = starting = object()  # a synchronous pool finishes inside submit()
        worker = self.ctx.pools.scan.submit(
            run, job=True, on_progress=self._progress, on_result=self._done, on_error=self._failed,
            on_finished=self._finished)
        if self._worker is starting:
            self._worker = worker

    def _import_files(self, job, files: list[str]):
        from player.library.scan import import_files

        return import_files(self.ctx.library, files, lambda d, t, p: job.progress((d, t, p)),
                            cancel=job.is_cancelled)

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
        trouble = failed or report.folder_errors or report.still_failing or report.warnings
        if trouble:
            actions.append(("Show details…", self.show_failures))
        if failed or report.folder_errors:
            n = len(failed) + len(report.folder_errors)
            name, reason = (os.path.basename(failed[0][0]), failed[0][1]) if failed else report.folder_errors[0]
            text = (f"Import finished: {report.summary()}. {n} file{'s' if n != 1 else ''} could not be read — "
                    f"for example {name}: {reason}.")
        if not self.last_quiet:
            self.ctx.notify(text, "warning" if trouble else "success", actions)
        elif failed or report.folder_errors:
            where = ", ".join(os.path.basename(f) or f for f in self.last_folders[:2])
            self.ctx.notify(f"New music in {where}: {text[len('Import finished: '):]}", "warning", actions)
        self.finished.emit(report)

    def show_failures(self) -> FailureDialog | None:
        r = self.last_report
        if r is None:
            return None
        rows = [*r.failed, *r.still_failing, *((p, f"imported, but {w}") for p, w in r.warnings)]
        self.failure_dialog = FailureDialog(f"Import: {r.summary()}", rows, r.folder_errors, self.parent())
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

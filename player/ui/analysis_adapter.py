"""Controlling background analysis from the window: start, pause, resume, cancel, and its progress.

The work runs in :class:`player.analysis.service.AnalysisService`'s worker processes (TensorFlow never
enters the GUI process). What analysis stored is read with :mod:`player.analysis.store` (its one
reader). No Qt here: the window runs :meth:`AnalysisControl.start` in a worker.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable


@dataclass
class AnalysisProgress:
    done: int
    total: int
    rate: float = 0.0  # tracks per second
    eta: float | None = None  # seconds
    paused: bool = False
    message: str = ""
    finished: bool = False
    state: str = "running"  # starting | running | paused | finished | cancelled | error | idle
    failed: int = 0
    # The loudness pass after the analysis (the service's phase): "analysis" | "loudness"
    phase: str = "analysis"
    loudness_done: int = 0
    loudness_total: int = 0
    loudness_failed: int = 0

    @property
    def measuring(self) -> bool:
        """Whether this run is (or will be, having no song to analyse) the loudness pass."""
        return self.phase == "loudness" or (self.total == 0 and self.state not in ("idle", "waiting"))


class AnalysisControl:
    """Start/pause/resume/cancel background analysis (``player.analysis.service.AnalysisService``).

    The service runs worker processes and calls back from a listener thread; ``on_progress`` receives
    :class:`AnalysisProgress` there (the window marshals it). :meth:`start` blocks for the pending
    count (a query): call it from a worker.
    """

    def __init__(self, library, on_progress: Callable[[AnalysisProgress], None] | None = None,
                 workers: int | None = None):
        self.library = library
        self.on_progress = on_progress
        self.workers = workers
        self._service = None

    @property
    def running(self) -> bool:
        s = self._service
        return s is not None and s.is_running()

    def start(self) -> AnalysisProgress:
        """Start analysing what is pending (worker thread), then measuring the loudness of what is not
        measured: also when every song is analysed and only loudness is missing (a library analysed by
        an older version, or by ``analyse --no-loudness``; the workers load no model then). Returns the
        first progress (total known); ``state='idle'`` when there is nothing to do at all.

        Raises in words when the models are missing or broken (nothing is started then)."""
        if self.running:
            return AnalysisProgress(self._service.progress.done, self._service.progress.total, state="running")
        from player.analysis.engine import model_version
        from player.analysis.service import AnalysisOptions, AnalysisService
        from player.analysis.store import count_pending
        from player.library.loudness import pending_loudness

        version = model_version()  # ModelError in words when a model folder is missing or broken
        total = count_pending(self.library, version)[0]
        if total == 0 and not pending_loudness(self.library, limit=1):
            return AnalysisProgress(0, 0, finished=True, state="idle")
        workers = self.workers or max(1, min(2, (os.cpu_count() or 2) // 2))
        self.close()
        # The workers yield the CPU to the window (a 2-core machine stays responsive).
        service = AnalysisService(self.library.path, workers=workers, options=AnalysisOptions(niceness=10),
                                  on_event=self._event)
        service.start(total=total)
        self._service = service
        return AnalysisProgress(0, total, state="starting", phase="analysis" if total else "loudness")

    def _event(self, ev) -> None:
        """``ev``: :class:`player.analysis.service.AnalysisProgress` (from the service's listener thread)."""
        if self.on_progress is None:
            return
        self.on_progress(AnalysisProgress(
            done=ev.done, total=ev.total, rate=ev.rate, eta=ev.eta_s, paused=ev.state == "paused",
            message=ev.message, finished=ev.state in ("finished", "cancelled", "error"), state=ev.state,
            failed=ev.failed, phase=ev.phase, loudness_done=ev.loudness_done, loudness_total=ev.loudness_total,
            loudness_failed=ev.loudness_failed,
        ))

    def pause(self) -> None:
        if self._service is not None:
            self._service.pause()

    def resume(self) -> None:
        if self._service is not None:
            self._service.resume()

    def cancel(self) -> None:
        if self._service is not None:
            self._service.cancel()

    def close(self) -> None:
        s, self._service = self._service, None
        if s is not None:
            try:
                s.close(timeout=5.0)
            except Exception:  # noqa: BLE001 - closing never fails the window
                pass


def eta_text(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"

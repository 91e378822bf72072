"""Background analysis in the status bar: done / total, songs/s and ETA while it runs, with pause and
stop; the stored counts when it does not. The loudness pass that follows the analysis shows its own
counts, and runs also when every song is analysed but some have no loudness measured yet. The work
itself runs in the analysis service's processes (``AnalysisControl``); this only starts it and shows
where it is."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Signal

from player.ui import analysis_adapter as aa
from player.ui.context import Controller, WindowContext
from player.ui.status_parts import AnalysisStatus
from player.ui.workers import WorkerError

POLL_MS = 3000


def read_counts(library):
    """Worker: the stored counts (:class:`player.analysis.store.AnalysisCounts`; numpy loads here)."""
    from player.analysis.store import read_counts as read

    return read(library)


def _starting_text(p: aa.AnalysisProgress, loading: bool = False) -> str:
    if p.total == 0:  # every song is analysed: only their loudness is measured (no model is loaded)
        return "Starting to measure the loudness of the songs not measured yet…"
    return f"Starting analysis of {p.total:,} songs{' (loading the models)' if loading else ''}…"


class AnalysisController(Controller):
    """Starts analysis, relays its progress to the GUI thread and polls the stored counts."""

    progress = Signal(object)  # AnalysisProgress, on the GUI thread
    labelsChanged = Signal()  # new analysis results are in the table (the sidebar's tags may change)
    ended = Signal()  # an analysis run ended (finished, stopped or failed)
    _relay = Signal(object)  # from the service's listener thread

    def __init__(self, ctx: WindowContext, status: AnalysisStatus, parent=None):
        super().__init__(ctx, parent)
        self.control = control = ctx.analysis
        self.status = status
        self.live = False
        self.closed = False
        self._complaint: str | None = None  # the last "cannot be analysed" said without being asked
        self._last_analysed: int | None = None
        self._last_label_refresh = 0.0
        control.on_progress = self._relay.emit  # queued to this thread
        self._relay.connect(self._on_progress)
        status.pause.toggled.connect(self._pause_toggled)
        status.cancel.clicked.connect(self._cancel)
        self._set_live(False)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._timer.start()

    def _set_live(self, live: bool) -> None:
        self.live = live
        self.status.set_live(live)

    def start(self, quiet: bool = False) -> None:
        """Analyse what is pending, in the analysis worker processes (never in this process)."""
        if self.control.running:
            return

        def started(p: aa.AnalysisProgress):
            if p.state == "idle":
                if not quiet:
                    self.ctx.pools.analysis.submit(read_counts, self.ctx.library, on_result=self._say_done,
                                                   on_error=lambda e: None)
                return
            self._set_live(True)
            s = self.status
            s.setVisible(True)
            s.bar.setVisible(True)
            s.bar.setRange(0, 0)
            s.label.setText(_starting_text(p))

        def failed(e: WorkerError):
            text = f"Songs cannot be analysed yet: {e.message}"
            if quiet and text == self._complaint:
                return  # said once already; "Analyse now" says it again
            self._complaint = text
            self.ctx.notify(text, "warning" if quiet else "error")

        self.ctx.pools.analysis.submit(self.control.start, on_result=started, on_error=failed)

    def _say_done(self, c) -> None:
        """“Analyse now” with nothing waiting: done, or done except the songs that failed."""
        if c.failed:
            reason = c.reasons[0][0] if c.reasons else "unknown reason"
            self.ctx.notify(f"Nothing waits for analysis, but {c.failed:,} song{'s' if c.failed != 1 else ''} could not "
                            f"be analysed (for example: {reason}); they are under “Needs attention” in the sidebar.",
                            "warning")
        else:
            self.ctx.status("Every song is analysed already.", 4000)

    def poll(self) -> None:
        """Show the stored counts (not while a run reports its own progress)."""
        if self.closed or self.live:
            return
        self.ctx.pools.analysis.submit(read_counts, self.ctx.library, on_result=self._show_counts,
                                       on_error=lambda e: None)

    def _show_counts(self, c) -> None:
        if self.live:
            return
        s = self.status
        if c.total == 0:
            s.setVisible(False)
            return
        s.setVisible(True)
        s.bar.setRange(0, max(1, c.total))
        s.bar.setValue(c.analysed + c.failed)
        s.bar.setVisible(c.pending > 0)  # a full bar says nothing
        text = f"Analysed {c.analysed:,} / {c.total:,}"
        if c.failed:
            text += f" · {c.failed:,} failed"
        s.label.setText(text)
        tip = "Analysis tags each song and finds its genre and its neighbours."
        if c.pending:
            tip += f"\n{c.pending:,} songs wait (Library ▸ Analyse now)."
        s.label.setToolTip(tip)
        if c.analysed and c.analysed != self._last_analysed:
            self._last_analysed = c.analysed
            self.ctx.model.refresh_labels(delta=True)
            self.labelsChanged.emit()

    def _on_progress(self, p: aa.AnalysisProgress) -> None:
        live = p.state in ("starting", "running", "paused")
        self._set_live(live)
        s = self.status
        s.setVisible(True)
        s.bar.setVisible(live)
        # the loudness pass reports its own counts (a run with no song to analyse is only that pass)
        done, total = (p.loudness_done, p.loudness_total) if p.measuring else (p.done, p.total)
        if p.state == "starting":
            s.bar.setRange(0, 0)
            s.label.setText(_starting_text(p, loading=True))
        else:
            s.bar.setRange(0, max(1, total))
            s.bar.setValue(min(done, max(1, total)))
        if p.state == "running":
            if p.measuring:
                text = f"Measuring loudness {done:,} / {total:,}" if total else "Measuring loudness…"
            else:
                text = f"Analysing {done:,} / {total:,}"
            if p.rate:
                text += f" · {p.rate:.1f} songs/s · ETA {aa.eta_text(p.eta)}"
            s.label.setText(text)
        elif p.state == "paused":
            s.label.setText(f"{'Loudness measuring' if p.measuring else 'Analysis'} paused at {done:,} / {total:,}")
        elif p.state == "finished":
            if p.total == 0:  # only the loudness pass ran
                s.label.setText(f"Measured the loudness of {p.loudness_done - p.loudness_failed:,} songs"
                                + (f" · {p.loudness_failed:,} failed" if p.loudness_failed else ""))
            else:
                s.label.setText(f"Analysed {p.done - p.failed:,} new songs"
                                + (f" · {p.failed:,} failed" if p.failed else ""))
        elif p.state == "cancelled":
            if p.measuring:
                s.label.setText(f"Loudness measuring stopped after {done:,} of {total:,} (measured ones are kept)")
            else:
                s.label.setText(f"Analysis stopped after {done:,} of {total:,} (done ones are kept)")
        elif p.state == "error":
            s.label.setText("Analysis stopped")
            self.ctx.notify(f"Analysis stopped: {p.message}", "error")
        if p.failed:
            s.label.setToolTip(f"{p.failed} song(s) could not be analysed; see Track details for why.")
        now = time.monotonic()
        if not live or now - self._last_label_refresh > 2.0:
            self._last_label_refresh = now
            self.ctx.model.refresh_labels(delta=True)
        if not live:
            self.labelsChanged.emit()
            self.ended.emit()
            QTimer.singleShot(4000, self.poll)
        self.progress.emit(p)

    def _pause_toggled(self, paused: bool) -> None:
        try:
            self.control.pause() if paused else self.control.resume()
        except Exception as exc:  # noqa: BLE001
            self.ctx.notify(f"Analysis: {exc}", "error")
        self.status.show_paused(paused)

    def _cancel(self) -> None:
        try:
            self.control.cancel()
        except Exception as exc:  # noqa: BLE001
            self.ctx.notify(f"Analysis: {exc}", "error")
        self.status.label.setText("Stopping analysis…")

    def close(self) -> None:
        self.closed = True
        self._timer.stop()
        try:
            self.control.close()
        except Exception:  # noqa: BLE001
            pass

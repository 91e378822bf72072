"""Drives ``player.recommend.Recommender`` for the window: built, refreshed and queried in a worker.

What it keeps is presentation state only: the latest recommendations' one-line reasons (so the Up next
list can show them) and which queued tracks the recommender put there (so a refresh replaces those and
never the listener's own picks).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QTimer, Signal

from player.ui.cores import present
from player.ui.panels import Entry

N_UP_NEXT = 10


class RecommendController(QObject):
    upNextReady = Signal()  # reasons/recommended updated (and the queue's tail replaced)
    moreLikeReady = Signal(str, list)  # title, [Entry]
    message = Signal(str, str)
    _refilled = Signal()

    def __init__(self, window, library, pools):
        super().__init__(window)
        self.window = window
        self.library = library
        self.pools = pools
        c = present("recommend")
        self.available = c.ok
        self.reason = c.reason
        self.engine = None
        self._engine_lock = threading.Lock()
        self.user_id: int | None = None
        self.current_id: int | None = None
        self.mood_labels: list[str] | None = None
        self.mood_weight: float | None = None
        self.reasons: dict[int, str] = {}
        self.analysed: dict[int, bool] = {}
        self.recommended: set[int] = set()
        self.dismissed: set[int] = set()  # removed from Up next by this listener: not proposed again
        self.last: list = []  # the latest up-next Recommendations (also without playback)
        self._building = False
        self._dirty_engine = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self._refresh_now)
        self._refilled.connect(self.upNextReady)

    # -- engine --------------------------------------------------------------------------------
    def _settings(self):
        """Worker side: the library's saved recommender settings, with the window's mood weight."""
        import dataclasses

        from player.recommend import RecommendSettings

        base = RecommendSettings.load(self.library)
        if self.mood_weight is None:
            return base
        try:
            return dataclasses.replace(base, weight_mood=float(self.mood_weight))
        except (TypeError, ValueError):
            return base

    def _ensure_engine(self):
        """Worker side: build or reload the engine when the library changed."""
        with self._engine_lock:
            if self.engine is None:
                from player.recommend import Recommender  # scipy: imported here, in a worker

                self.engine = Recommender.from_library(self.library, self._settings())
                self._dirty_engine = False
            elif self._dirty_engine:
                self._dirty_engine = False
                self.engine.reload()
            return self.engine

    def library_changed(self) -> None:
        """New tracks or analysis results: the engine reloads before the next query."""
        self._dirty_engine = True
        self.refresh()

    def set_user(self, user_id: int | None) -> None:
        # The queue's recommended songs stay marked as such: the refresh replaces them with the new
        # listener's picks (only songs someone queued by hand survive a change of listener).
        if user_id != self.user_id:
            self.dismissed = set()
        self.user_id = user_id
        self.refresh(immediate=True)

    def dismiss(self, track_id: int | None) -> None:
        """The listener removed this song from Up next: later refreshes and refills leave it out."""
        if track_id is not None:
            self.dismissed = self.dismissed | {track_id}  # a new set: the player thread's refill reads it
            self.recommended.discard(track_id)

    def set_mood(self, labels: list[str] | None) -> None:
        labels = list(labels) if labels else None
        if labels != self.mood_labels:
            self.mood_labels = labels
            self.refresh()

    def set_mood_weight(self, w: float) -> None:
        self.mood_weight = float(w)
        if self.engine is not None:
            eng = self.engine

            def job():
                settings = self._settings()
                with self._engine_lock:
                    eng.update_settings(settings)
                return True

            self.pools.recommend.submit(job, on_result=lambda _r: self.refresh() if self.mood_labels else None,
                                        on_error=lambda e: self.message.emit(f"Recommendations: {e.message}", "warning"))

    def track_changed(self, track_id: int | None) -> None:
        self.current_id = track_id
        self.refresh()

    def rating_changed(self, user_id: int) -> None:
        if not self.available:
            return

        def job():
            eng = self._ensure_engine()
            eng.on_rating_changed(user_id)
            return True

        self.pools.recommend.submit(job, on_result=lambda _r: self.refresh(immediate=True),
                                    on_error=lambda e: self.message.emit(f"Recommendations: {e.message}", "warning"))

    # -- up next -------------------------------------------------------------------------------
    def refresh(self, force: bool = False, immediate: bool = False) -> None:
        if not self.available or self.user_id is None:
            return
        if immediate or force or self.pools.synchronous:
            self._timer.stop()
            self._refresh_now()
        else:
            self._timer.start()

    def _refresh_now(self) -> None:
        if not self.available or self.user_id is None:
            return
        pb = getattr(self.window, "playback", None)
        user_id, current, mood = self.user_id, self.current_id, self.mood_labels
        if pb is not None and pb.available:
            current = pb.current_track_id() or current
            keep = pb.user_queued_ids(self.recommended)
        else:
            keep = []
        exclude = set(keep) | self.dismissed
        if current is not None:
            exclude.add(current)

        def job():
            eng = self._ensure_engine()
            return eng.up_next(user_id, after_track_id=current, mood_labels=mood, n=N_UP_NEXT,
                               exclude_ids=tuple(exclude))

        def done(recs, user_id=user_id):
            if user_id != self.user_id:
                return
            self._accept(recs)
            if pb is not None and pb.available:
                pb.replace_recommended(self.recommended_before, [r.track_id for r in recs])
            self.upNextReady.emit()

        self.pools.recommend.submit(job, on_result=done, on_error=self._failed)

    def _accept(self, recs) -> None:
        self.recommended_before = set(self.recommended)
        self.last = list(recs)
        for r in recs:
            self.reasons[r.track_id] = r.reason
            self.analysed[r.track_id] = bool(getattr(r, "analysed", True))
        self.recommended = {r.track_id for r in recs}

    recommended_before: set[int] = set()

    def _failed(self, err) -> None:
        self.message.emit(f"Up next could not be refreshed: {err.message}", "warning")

    def refill_from_thread(self, exclude_ids) -> list[int]:
        """For the queue's refill hook (the player's thread): more recommended track ids, or []."""
        if not self.available or self.user_id is None:
            return []
        try:
            eng = self._ensure_engine()
            recs = eng.up_next(self.user_id, after_track_id=self.current_id, mood_labels=self.mood_labels,
                               n=N_UP_NEXT, exclude_ids=tuple(set(exclude_ids) | self.dismissed))
        except Exception:  # noqa: BLE001 - the queue just stays short; the GUI refresh reports errors
            return []
        for r in recs:
            self.reasons[r.track_id] = r.reason
            self.analysed[r.track_id] = bool(getattr(r, "analysed", True))
            self.recommended.add(r.track_id)
        self._refilled.emit()
        return [r.track_id for r in recs]

    def preview_entries(self) -> list[Entry]:
        """Up next as a plain list (when there is no playback engine to queue them)."""
        out = []
        for r in self.last:
            row = self.window.model.row_tuple(r.track_id)
            out.append(_entry(r.track_id, row, r.reason, getattr(r, "score", None), getattr(r, "analysed", True)))
        return out

    # -- more like this ------------------------------------------------------------------------
    def more_like(self, track_id: int, title: str, n: int = 15) -> None:
        if not self.available:
            self.message.emit(self.reason, "info")
            return

        def job():
            eng = self._ensure_engine()
            return eng.similar(track_id, n=n)

        def done(recs):
            entries = [_entry(r.track_id, self.window.model.row_tuple(r.track_id), r.reason, r.score,
                              getattr(r, "analysed", True)) for r in recs]
            self.moreLikeReady.emit(title, entries)

        self.pools.recommend.submit(job, on_result=done,
                                    on_error=lambda e: self.message.emit(f"More like this: {e.message}", "warning"))


def _entry(track_id: int, row, reason: str = "", score=None, analysed: bool = True, user_queued: bool = False) -> Entry:
    from player.ui.library_model import ALBUM, ARTIST, TITLE

    if row is None:
        return Entry(track_id, f"Track {track_id}", reason=reason, score=score, analysed=analysed, user_queued=user_queued)
    return Entry(track_id, row[TITLE], row[ARTIST], row[ALBUM], reason, score, analysed, user_queued)

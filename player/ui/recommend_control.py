"""Drives ``player.recommend.Recommender`` for the window: built, refreshed and queried in a worker.

What it keeps is presentation state only: the latest recommendations' one-line reasons (so the Up next
list can show them) and which queued tracks the recommender put there (so a refresh replaces those and
never the listener's own picks).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QTimer, Signal

from player.ui.context import Services
from player.ui.library_rows import TrackRow
from player.ui.panels import Entry
from player.ui.playback import PlaybackController
from player.ui.workers import describe_exception

N_UP_NEXT = 10


class RecommenderMissing(RuntimeError):
    """The recommender cannot be loaded at all (a broken install): its features are switched off."""


class RecommendController(QObject):
    upNextReady = Signal()  # reasons/recommended updated (and the queue's tail replaced)
    moreLikeReady = Signal(str, list)  # title, [Entry]
    message = Signal(str, str)
    unavailable = Signal(str)  # the recommender cannot load: the reason (features go off)
    _refilled = Signal()

    def __init__(self, ctx: Services, playback: PlaybackController, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.library = ctx.library
        self.pools = ctx.pools
        self.playback = playback
        self.available = True  # False once the recommender could not load (see reason)
        self.reason: str | None = None
        self.engine = None
        self._engine_lock = threading.Lock()
        self.user_id: int | None = None
        self.current_id: int | None = None
        self.mood_labels: list[str] | None = None
        self.mood_name: str | None = None  # the mood the labels are for ("happy"): the reasons name it
        self.mood_weight: float | None = None
        self.reasons: dict[int, str] = {}
        self.analysed: dict[int, bool] = {}
        self.recommended: set[int] = set()
        self.dismissed: set[int] = set()  # removed from Up next by this listener: not proposed again
        self.last: list = []  # the latest up-next Recommendations (also without playback)
        self.recommended_before: set[int] = set()
        #: another source of Up next while it runs (a radio, listening together):
        #: ``source(engine, after_track_id, exclude_ids, n)`` -> picks with track_id, reason, score,
        #: analysed; called in the recommend pool and on the player's thread (refills)
        self.source = None
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
                try:
                    from player.recommend import Recommender  # scipy: imported here, in a worker
                except Exception as exc:  # noqa: BLE001 - a broken install: the features go off, with why
                    raise RecommenderMissing(f"recommendations are unavailable: {describe_exception(exc)}") from exc
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

    def set_mood(self, labels: list[str] | None, name: str | None = None) -> None:
        """The mood's labels for the recommender (None: no mood) and its name, which Up next's reasons
        say as the CLI's ``next --mood happy`` does ("happy: catchy, party")."""
        labels = list(labels) if labels else None
        name = str(name) if labels and name else None
        if labels != self.mood_labels or name != self.mood_name:
            self.mood_labels, self.mood_name = labels, name
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
                                        on_error=self._failing("Recommendations"))

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
                                    on_error=self._failing("Recommendations"))

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
        pb = self.playback
        user_id, current, mood, mood_name = self.user_id, self.current_id, self.mood_labels, self.mood_name
        if pb.available:
            current = pb.current_track_id() or current
            keep = pb.user_queued_ids(self.recommended)
        else:
            keep = []
        exclude = set(keep) | self.dismissed
        if current is not None:
            exclude.add(current)

        source = self.source

        def job():
            eng = self._ensure_engine()
            if source is not None:
                return source(eng, current, tuple(exclude), N_UP_NEXT)
            return eng.up_next(user_id, after_track_id=current, mood_labels=mood, n=N_UP_NEXT,
                               exclude_ids=tuple(exclude), mood_name=mood_name)

        def done(recs, user_id=user_id):
            if user_id != self.user_id:
                return
            self._accept(recs)
            if pb.available:
                pb.replace_recommended(self.recommended_before, [r.track_id for r in recs])
            self.upNextReady.emit()

        self.pools.recommend.submit(job, on_result=done, on_error=self._failing("Up next could not be refreshed"))

    def _accept(self, recs) -> None:
        self.recommended_before = set(self.recommended)
        self.last = list(recs)
        for r in recs:
            self.reasons[r.track_id] = r.reason
            self.analysed[r.track_id] = r.analysed
        self.recommended = {r.track_id for r in recs}

    def _failing(self, what: str):
        """An error handler: a message starting with ``what``; a recommender that cannot load switches
        its features off instead (once)."""

        def failed(err) -> None:
            if not isinstance(err.exception, RecommenderMissing):
                self.message.emit(f"{what}: {err.message}", "warning")
            elif self.available:
                self.available = False
                self.reason = err.message
                self.unavailable.emit(err.message)

        return failed

    def refill_from_thread(self, exclude_ids) -> list[int]:
        """For the queue's refill hook (the player's thread): more recommended track ids, or []."""
        if not self.available or self.user_id is None:
            return []
        try:
            eng = self._ensure_engine()
            source = self.source
            if source is not None:
                recs = source(eng, self.current_id, tuple(set(exclude_ids) | self.dismissed), N_UP_NEXT)
            else:
                recs = eng.up_next(self.user_id, after_track_id=self.current_id, mood_labels=self.mood_labels,
                                   n=N_UP_NEXT, exclude_ids=tuple(set(exclude_ids) | self.dismissed),
                                   mood_name=self.mood_name)
        except Exception:  # noqa: BLE001 - the queue just stays short; the GUI refresh reports errors
            return []
        for r in recs:
            self.reasons[r.track_id] = r.reason
            self.analysed[r.track_id] = r.analysed
            self.recommended.add(r.track_id)
        self._refilled.emit()
        return [r.track_id for r in recs]

    def preview_entries(self) -> list[Entry]:
        """Up next as a plain list (when there is no playback engine to queue them)."""
        return [_entry(r.track_id, self.ctx.model.track_row(r.track_id), r.reason, r.score, r.analysed)
                for r in self.last]

    # -- more like this ------------------------------------------------------------------------
    def more_like(self, track_id: int, title: str, n: int = 15) -> None:
        if not self.available:
            self.message.emit(self.reason, "info")
            return

        def job():
            eng = self._ensure_engine()
            return eng.similar(track_id, n=n)

        def done(recs):
            entries = [_entry(r.track_id, self.ctx.model.track_row(r.track_id), r.reason, r.score, r.analysed)
                       for r in recs]
            self.moreLikeReady.emit(title, entries)

        self.pools.recommend.submit(job, on_result=done, on_error=self._failing("More like this"))


def _entry(track_id: int, row: TrackRow | None, reason: str, score, analysed: bool) -> Entry:
    if row is None:
        return Entry(track_id, f"Track {track_id}", reason=reason, score=score, analysed=analysed)
    return Entry(track_id, row.title, row.artist, row.album, reason, score, analysed)

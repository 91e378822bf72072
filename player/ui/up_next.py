"""The right-hand lists: Up next (the play queue after the current song, with the recommender's reasons)
and More like this (the nearest songs by embedding).

Up next shows the playback queue when there is one, else the recommender's latest list. Songs the
listener placed (play next, add to queue, dragged in, moved) are theirs: a refresh of
recommendations replaces only the recommender's songs.

The queue survives a restart (:mod:`player.library.queue_state`, per listener): it is kept a moment
after every change and when the window closes, and put back when the window opens, stopped where it
was (Space resumes that song).
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QTabWidget

from player.ui.context import Controller, WindowContext
from player.ui.library_view import LibraryView
from player.ui.panels import Entry, ListPanel


SAVE_DEBOUNCE_MS = 1500


class UpNextController(Controller):
    upNextChanged = Signal()
    moreLikeThisChanged = Signal()
    playRequested = Signal(int)  # a track id to play now (from a list)

    def __init__(self, ctx: WindowContext, up_next: ListPanel, more_like: ListPanel, tabs: QTabWidget,
                 view: LibraryView, parent=None):
        super().__init__(ctx, parent)
        self.up_next = up_next
        self.more_like = more_like
        self.tabs = tabs
        self.view = view
        self.user = None
        #: the songs the listener put in Up next themselves (play next, add, dragged in, moved): only
        #: these say "Queued by you" (a song back in Up next after Previous is not one of them)
        self.queued_by_you: set[int] = set()
        playback, recs = ctx.playback, ctx.recs
        un = up_next
        un.refreshClicked.connect(lambda: recs.refresh(force=True))
        un.list.playRequested.connect(self.play_row)
        un.list.removeRequested.connect(self.remove_rows)
        un.list.entries.moveRequested.connect(self._move)
        un.list.entries.idsDropped.connect(self._dropped)
        ml = more_like
        ml.refreshClicked.connect(lambda: self.more_like_this(playback.current_track_id()
                                                              or view.current_track_id()))
        ml.list.playRequested.connect(lambda r: self.play_entry(ml.list.entries.entry(r)))
        for signal in (playback.ready, playback.trackChanged, playback.queueChanged, recs.upNextReady):
            signal.connect(self.show)
        recs.moreLikeReady.connect(self._show_more_like)
        self._restored = False  # nothing is kept before the kept queue was put back
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DEBOUNCE_MS)
        self._save_timer.timeout.connect(self.save_queue)
        for signal in (playback.queueChanged, playback.trackChanged, playback.stateChanged):
            signal.connect(self._queue_changed)
        playback.ready.connect(lambda ok: self._restore() if ok else None)

    def set_user(self, user) -> None:
        if self._restored and user is not self.user:
            self.save_queue()  # the queue so far is the previous listener's (read now, written in the pool)
        self.user = user
        self.up_next.title.setText(f"Up next for {user.name}" if user else "Up next")
        self._restore()

    # -- the kept queue ------------------------------------------------------------------------------
    def _queue_changed(self, *_args) -> None:
        if self._restored:
            self._save_timer.start()

    def queue_state(self):
        from player.library.queue_state import QueueState

        pb, recs = self.ctx.playback, self.ctx.recs
        ids, index = pb.queue_items()
        if index is None:
            return None
        rec = [i for i in ids[1:] if i in recs.recommended]
        return QueueState(ids, index, pb.position(), rec, {i: recs.reasons.get(i, "") for i in rec})

    def save_queue(self, now: bool = False) -> None:
        """Keep the queue for the listener (the write pool; ``now``: at once, as the window closes)."""
        from player.library import queue_state

        if not self._restored or self.ctx.playback.player is None:
            return
        self._save_timer.stop()
        state = self.queue_state()
        uid = self.user.id if self.user else None
        if now:
            try:
                queue_state.save(self.ctx.library, uid, state)
            except Exception:  # noqa: BLE001 - closing never fails on this
                pass
            return
        self.ctx.pools.db_write.submit(queue_state.save, self.ctx.library, uid, state, on_error=lambda e: None)

    def _restore(self) -> None:
        """Once, when both the player and the listener are known: put the kept queue back."""
        from player.library import queue_state

        pb = self.ctx.playback
        if self._restored or pb.player is None or (self.user is None and self.ctx.library.db.query_one(
                "SELECT 1 FROM users LIMIT 1") is not None):
            return
        self._restored = True
        uid = self.user.id if self.user else None
        try:
            state = queue_state.load(self.ctx.library, uid)
        except Exception:  # noqa: BLE001 - a queue not kept is no reason to fail opening
            state = None
        if state is None:
            return
        recs = self.ctx.recs
        recs.recommended = set(state.recommended)  # the others are the listener's, as they were
        self.queued_by_you.update(i for i in state.track_ids[state.index + 1:] if i not in recs.recommended)
        recs.reasons.update(state.reasons)
        if pb.restore(state.track_ids, state.index, state.position):
            self.show()

    # -- Up next ---------------------------------------------------------------------------------
    def entries(self) -> list[Entry]:
        """The queue after the current song (each marked as the listener's or the recommender's)."""
        if self.ctx.playback.player is None:
            return self.ctx.recs.preview_entries()
        recs = self.ctx.recs
        out = []
        for t in self.ctx.playback.upcoming():
            mine = t.id in self.queued_by_you and t.id not in recs.recommended
            out.append(Entry(t.id, t.title or str(t.id), t.artist or "", t.album or "",
                             "" if mine else recs.reasons.get(t.id, ""), None, recs.analysed.get(t.id, True), mine))
        return out

    def show(self, *_args) -> None:
        pb, recs = self.ctx.playback, self.ctx.recs
        entries = self.entries()
        self.up_next.set_entries(entries)
        hint = None
        if not pb.available and not recs.available:
            hint = f"{pb.reason}\n{recs.reason}"
        elif not recs.available:
            hint = recs.reason
        elif self.user is None:
            hint = "Add a listener to get recommendations."
        elif not entries:
            hint = f"Play a song, or rate a few (keys 1–5): Up next fills with songs for {self.user.name}."
        self.up_next.set_hint(hint)
        self.upNextChanged.emit()

    def play_row(self, row: int) -> None:
        if self.ctx.playback.available:
            self.ctx.playback.play_up_next(row)
        else:
            self.play_entry(self.up_next.list.entries.entry(row))

    def remove_rows(self, rows: list[int]) -> None:
        pb = self.ctx.playback
        if pb.available:
            # dismissed first: a refill the removal sets off (on the player's thread) must not bring it back
            up = pb.upcoming()
            for r in rows:
                if 0 <= r < len(up):
                    self.ctx.recs.dismiss(up[r].id)
            pb.remove_up_next(rows)
        self.show()

    def _move(self, src: int, dst: int) -> None:
        if self.ctx.playback.available:
            up = self.ctx.playback.upcoming()
            if 0 <= src < len(up):
                self.queued_by_you.add(up[src].id)
            self.ctx.playback.move_up_next(src, dst, self.ctx.recs.recommended)
        self.show()

    def _dropped(self, ids: list[int], row: int) -> None:
        """Songs dragged from the library go where they are dropped (at the top they play next)."""
        if not self.ctx.playback.available or self.ctx.playback.player is None:
            return
        self.queued_by_you.update(ids)
        if row <= 0:
            self.ctx.playback.insert_next(ids, self.ctx.recs.recommended)
        else:
            self.ctx.playback.insert_at(ids, row, self.ctx.recs.recommended)
        self.show()

    def play_entry(self, e: Entry | None) -> None:
        if e is not None:
            self.playRequested.emit(e.track_id)

    def play_next(self, ids: list[int]) -> None:
        if self.ctx.playback.available:
            self.queued_by_you.update(ids)
            self.ctx.playback.insert_next(ids, self.ctx.recs.recommended)

    def play_selection_next(self) -> None:
        ids = self.view.selected_track_ids()
        if ids and self.ctx.playback.available:
            self.play_next(ids)
            self.ctx.status(f"{len(ids)} song{'s' if len(ids) > 1 else ''} will play next", 3000)

    def enqueue_selection(self) -> None:
        ids = self.view.selected_track_ids()
        if ids and self.ctx.playback.available:
            self.queued_by_you.update(ids)
            self.ctx.playback.enqueue(ids, self.ctx.recs.recommended)

    # -- More like this ----------------------------------------------------------------------------
    def _show_more_like(self, title: str, entries: list) -> None:
        ml = self.more_like
        ml.title.setText(f"More like “{title}”" if title else "More like this")
        ml.set_entries(entries)
        ml.set_hint(None if entries else "No similar songs yet: they appear once songs are analysed.")
        self.tabs.setCurrentWidget(ml)
        self.moreLikeThisChanged.emit()

    def more_like_selection(self) -> None:
        self.more_like_this(self.view.current_track_id())

    def more_like_this(self, track_id: int | None) -> None:
        if track_id is None:
            return
        if not self.ctx.recs.available:
            self.ctx.notify(self.ctx.recs.reason, "info")
            return
        row = self.ctx.model.track_row(track_id)
        self.ctx.recs.more_like(track_id, row.title if row else str(track_id))

    def recommender_unavailable(self, reason: str) -> None:
        """The recommender cannot load: More like this says why, Up next shows the queue only."""
        self.more_like.refresh.setEnabled(False)
        self.more_like.set_hint(reason)
        self.show()

"""Radio, sonic paths and listening together in the window.

*Start radio* (a song, its album or artist; a sidebar artist, album, tag or playlist) makes
:class:`player.recommend.radio.Radio` the source of Up next: the recommender's refreshes and the
queue's refills (both off the GUI thread) take the radio's next songs, each with its reason. A song
left early is a skip and a star rating steers it (``radio.played`` / ``radio.rated``). A bar above
Up next says "Radio from X" with a stop button. *Sonic path* fills Up next with the steps from one
song to another. *Listen together* (the Playback menu, several listeners checked) makes Up next
``together_up_next`` for them, each reason saying whose taste it serves.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QToolButton, QWidget

from player.ui.context import Controller, WindowContext
from player.ui.icons import std

SKIP_BEFORE_END_S = 3.0  # a song left earlier than this before its end counts as skipped
PATH_STEPS = 8


class RadioBar(QWidget):
    """ "Radio from X" and a stop button (hidden while no radio or listening together runs)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("radioBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 0, 6, 0)
        self.label = QLabel("")
        self.label.setProperty("class", "hint")
        self.label.setWordWrap(True)
        lay.addWidget(self.label, 1)
        self.stop = QToolButton()
        self.stop.setIcon(std("MediaStop"))
        self.stop.setAutoRaise(True)
        self.stop.setToolTip("Stop: Up next follows your taste again")
        lay.addWidget(self.stop)
        self.setVisible(False)


class RadioController(Controller):
    changed = Signal()  # a radio or listening together started or stopped

    def __init__(self, ctx: WindowContext, bar: RadioBar, parent=None):
        super().__init__(ctx, parent)
        self.bar = bar
        self.radio = None
        self.label = ""
        self.together: list[int] = []  # listener ids (two or more) listening together
        self.mark: int | None = None  # a sonic path's first song
        self._lock = threading.Lock()  # the radio is asked from the recommend pool and the player's thread
        self._last: tuple[int | None, float, float] = (None, 0.0, 0.0)  # track, position, duration
        self._given: list = []  # the radio's picks not heard yet
        self._heard: set[int] = set()  # songs the radio gave that started playing
        self.last_menu: QMenu | None = None
        bar.stop.clicked.connect(self.stop)
        pb = ctx.playback
        pb.positionChanged.connect(self._position)
        pb.trackChanged.connect(self._track_changed)

    @property
    def running(self) -> bool:
        return self.radio is not None or len(self.together) > 1

    # -- the radio ---------------------------------------------------------------------------------
    def start(self, spec, what: str | None = None) -> None:
        """A radio from ``spec`` (a track id, ``artist:NAME``, ``album:NAME``, ``tag:NAME`` or
        ``playlist:NAME``), built in the recommend pool; its first songs then play."""
        recs = self.ctx.recs
        if not recs.available:
            self.ctx.notify(recs.reason, "info")
            return
        library = self.ctx.library
        user_ids = [recs.user_id] if recs.user_id is not None else []

        def playlist(name):
            from player.library.playlists import Playlists

            store = Playlists(library)
            p = store.get(name)
            return p.name, store.track_ids(p.id, user_id=user_ids[0] if user_ids else None)

        def job():
            from player.recommend.radio import Radio, seed_from

            eng = recs._ensure_engine()
            with self._lock:
                radio = Radio(eng, seed_from(eng, spec, playlist=playlist), user_ids=user_ids)
                return radio, radio.next()

        self.ctx.pools.recommend.submit(job, on_result=self._started,
                                        on_error=lambda e: self.ctx.notify(f"The radio cannot start: {e.message}",
                                                                           "warning"))

    def _started(self, result) -> None:
        radio, picks = result
        self.together = []
        self.radio = radio
        self._given, self._heard = list(picks), set()
        self.label = radio.seed.label if hasattr(radio, "seed") else ""
        self._use(self._radio_source, f"Radio from {self.label}")
        self._fill(picks, play=True)

    def _radio_source(self, _eng, _after, exclude, n):
        """The radio's songs still to come, topped up to ``n`` from the radio (a refresh keeps them; a
        refill, whose ``exclude`` is the whole queue, gets new ones)."""
        radio = self.radio
        if radio is None:
            return []
        skip = set(exclude) | self._heard
        with self._lock:
            kept = [p for p in self._given if p.track_id not in skip]
            fresh = [p for p in radio.next(max(0, n - len(kept))) if p.track_id not in skip] if len(kept) < n else []
            self._given = kept + fresh
        return kept + fresh

    def _use(self, source, text: str) -> None:
        self.ctx.recs.source = source
        self.bar.label.setText(text)
        self.bar.setVisible(True)
        self.changed.emit()

    def _fill(self, picks: list, play: bool) -> None:
        """The picks become the recommender's part of Up next (playing the first when nothing plays)."""
        recs, pb = self.ctx.recs, self.ctx.playback
        recs._accept(picks)
        ids = [p.track_id for p in picks]
        if play and pb.available and pb.state() == "stopped" and ids:
            pb.play_ids(ids, 0)
        elif pb.available:
            pb.replace_recommended(recs.recommended_before | recs.recommended, ids)
        recs.upNextReady.emit()

    def stop(self) -> None:
        """No more radio or listening together: Up next follows the listener's taste again."""
        self.radio = None
        self.together = []
        self.ctx.recs.source = None
        self.bar.setVisible(False)
        self.changed.emit()
        self.ctx.recs.refresh(force=True)

    # -- steering ------------------------------------------------------------------------------------
    def _position(self, position: float, duration: float) -> None:
        self._last = (self.ctx.playback.current_track_id(), float(position), float(duration))

    def _track_changed(self, _track) -> None:
        tid, position, duration = self._last
        now = self.ctx.playback.current_track_id()
        self._last = (now, 0.0, 0.0)
        if now is not None:
            self._heard = self._heard | {now}  # a new set: the player thread's refill reads it
        if self.radio is None or tid is None:
            return
        if not duration:
            row = self.ctx.model.track_row(tid)
            duration = float(getattr(row, "duration", 0.0) or 0.0) if row is not None else 0.0
        skipped = bool(duration) and position < max(0.9 * duration, duration - SKIP_BEFORE_END_S)
        self.played(tid, skipped)

    def played(self, track_id: int, skipped: bool) -> None:
        radio = self.radio

        def job():
            with self._lock:
                radio.played(track_id, skipped=skipped)
            return skipped

        self.ctx.pools.recommend.submit(job, on_result=lambda s: self.ctx.recs.refresh() if s else None,
                                        on_error=lambda e: None)

    def rated(self, _user_id: int, track_id: int, stars: int) -> None:
        radio = self.radio
        if radio is None:
            return

        def job():
            with self._lock:
                radio.rated(track_id, stars)
            return True

        self.ctx.pools.recommend.submit(job, on_result=lambda _r: self.ctx.recs.refresh(), on_error=lambda e: None)

    # -- sonic path ----------------------------------------------------------------------------------
    def path_start(self) -> int | None:
        return self.mark if self.mark is not None else self.ctx.playback.current_track_id()

    def sonic_path(self, a: int, b: int, n: int = PATH_STEPS) -> None:
        """Up next becomes the path from song ``a`` to song ``b`` (``a`` keeps playing if it plays)."""
        recs = self.ctx.recs
        if a == b:
            self.ctx.notify("A sonic path needs two different songs.", "info")
            return

        def job():
            from player.recommend.sonic_path import sonic_path

            return sonic_path(recs._ensure_engine(), a, b, n)

        def done(steps):
            self.mark = None
            ids = [s.track_id for s in steps]
            for s in steps:
                recs.reasons[s.track_id] = s.reason
            recs.recommended.difference_update(ids)  # the path is the listener's: a refresh keeps it
            pb = self.ctx.playback
            if pb.available and ids:
                pb.play_ids(ids, 0)
            self.ctx.status(f"A sonic path of {len(ids)} songs", 4000)

        self.ctx.pools.recommend.submit(job, on_result=done,
                                        on_error=lambda e: self.ctx.notify(f"No sonic path: {e.message}", "warning"))

    # -- listening together ------------------------------------------------------------------------
    def set_together(self, user_ids: list[int]) -> None:
        ids = list(dict.fromkeys(int(u) for u in user_ids))
        if len(ids) < 2:
            if self.together:
                self.stop()
            self.together = ids
            return
        self.radio = None
        self.together = ids
        names = {u.id: u.name for u in self.ctx.library.users()}
        who = ", ".join(names.get(u, str(u)) for u in ids)
        self._use(self._together_source, f"Listening together: {who}")
        self.ctx.recs.refresh(force=True)

    def _together_source(self, eng, after, exclude, n):
        from player.recommend.together import together_up_next

        ids = list(self.together)
        if len(ids) < 2:
            return []
        return together_up_next(eng, ids, after_track_id=after, n=n, exclude_ids=exclude)

    def fill_together_menu(self, menu: QMenu) -> None:
        menu.clear()
        users = self.ctx.library.users()
        if len(users) < 2:
            menu.addAction("Add a second listener to listen together").setEnabled(False)
            return
        chosen = set(self.together) or ({self.ctx.recs.user_id} if self.ctx.recs.user_id is not None else set())
        for u in users:
            a = menu.addAction(u.name)
            a.setCheckable(True)
            a.setChecked(u.id in chosen)
            a.toggled.connect(lambda on, uid=u.id: self._toggle_listener(uid, on))

    def _toggle_listener(self, user_id: int, on: bool) -> None:
        base = list(self.together) or ([self.ctx.recs.user_id] if self.ctx.recs.user_id is not None else [])
        ids = [u for u in base if u != user_id] + ([user_id] if on else [])
        self.set_together(ids)

    # -- menus -----------------------------------------------------------------------------------------
    def song_menu(self, menu: QMenu, ids: list[int]) -> None:
        """Start radio ▸ and the sonic path entries for a song's context menu."""
        if not ids or not self.ctx.recs.available:
            return
        tid = ids[0]
        row = self.ctx.model.track_row(tid)
        sub = menu.addMenu("Start radio")
        sub.addAction(f"From “{row.title}”" if row else "From this song", lambda: self.start(tid))
        if row is not None and row.album:
            sub.addAction(f"From the album “{row.album}”", lambda: self.start(f"album:{row.album}"))
        if row is not None and row.artist:
            sub.addAction(f"From {row.artist}", lambda: self.start(f"artist:{row.artist}"))
        a = self.path_start()
        if a is not None and a != tid:
            start = self.ctx.model.track_row(a)
            name = f"“{start.title}”" if start else "the marked song"
            menu.addAction(f"Sonic path from {name} to here", lambda: self.sonic_path(a, tid))
        menu.addAction("Sonic path from here to…", lambda: self._mark(tid))

    def _mark(self, tid: int) -> None:
        self.mark = tid
        self.ctx.status("Now right-click the song the path should end at: Sonic path … to here", 6000)

    def facet_menu(self, menu: QMenu, facet) -> None:
        """Start radio for a sidebar artist, album, tag or playlist."""
        if not facet or not self.ctx.recs.available:
            return
        kind, value = facet
        if kind in ("artist", "album", "tag"):
            menu.addAction(f"Start radio from {value}", lambda: self.start(f"{kind}:{value}"))
        elif kind == "playlist":  # by name
            menu.addAction("Start radio", lambda: self.start(f"playlist:{value}"))

    def sidebar_menu(self, sidebar, pos) -> None:
        from player.ui.sidebar import FacetRole

        item = sidebar.itemAt(pos)
        facet = item.data(0, FacetRole) if item is not None else None
        if not facet or facet[0] not in ("artist", "album", "tag"):
            return
        m = QMenu(sidebar)
        self.facet_menu(m, facet)
        m.popup(sidebar.viewport().mapToGlobal(pos))
        self.last_menu = m

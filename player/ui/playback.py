"""Drives ``player.audio.Player`` for the window.

The player's events come from its audio/monitor threads; they are re-emitted as a Qt signal and
handled on the GUI thread. Position is polled five times a second while playing (a property read).
The queue holds :class:`player.library.Track` objects; which upcoming ones the recommender placed is
kept by :class:`~player.ui.recommend_control.RecommendController`, whose ``recommended`` set the
queue commands below update (a song the listener placed is theirs: a refresh keeps it).
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from player.ui.context import Services
from player.ui.workers import describe_exception


class PlaybackController(QObject):
    trackChanged = Signal(object)  # Track or None
    stateChanged = Signal(str)  # playing | paused | stopped
    positionChanged = Signal(float, float)  # position, duration
    queueChanged = Signal()
    message = Signal(str, str)  # text, level
    ready = Signal(bool)  # the player is up (True) or could not start (False; see .reason)
    _event = Signal(object)  # from audio threads
    _queue_event = Signal(str)

    def __init__(self, ctx: Services, backend: str = "auto", device: str | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.backend = backend
        self.device = device or None
        self.player = None
        self.available = True  # False once the audio output could not start (see reason)
        self.reason: str | None = None
        self.starting = False
        self.closed = False
        #: the recommender's refill (player thread): more track ids when the queue runs low
        self.refill: Callable[[list[int]], list[int]] | None = None
        self._pending_settings: dict[str, object] = {}
        self._track_id: int | None = None
        self._state = "stopped"
        self._unsubscribe = None
        self._event.connect(self._handle_event)
        self._queue_event.connect(lambda _r: self.queueChanged.emit())
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._poll)
        self.start()

    # -- set-up --------------------------------------------------------------------------------
    def start(self) -> None:
        """Import the audio core and open the output in a worker (the import alone takes ~0.3 s);
        the transport is enabled when :attr:`ready` fires."""
        self.starting = True
        self.ctx.pools.media.submit(self._make_player, self.backend, self.device, self._levelling(),
                                    on_result=self._started,
                                    on_error=self._start_failed)

    def _make_player(self, backend: str, device: str | None, levelling: dict):
        """Worker: the Player, and a note for the listener (or None)."""
        from player.audio import Player, make_backend, preload

        preload()
        library = self.ctx.library
        note = None
        chosen = backend
        if device and backend in ("auto", "sounddevice"):
            try:
                chosen = make_backend("sounddevice", device=device)
            except Exception as exc:  # noqa: BLE001 - fall back to the default device
                note = f"{describe_exception(exc)}; using the default output instead."
                chosen = backend
        try:
            return Player(library=library, user_id=None, backend=chosen, **levelling), note
        except Exception as exc:  # noqa: BLE001 - the window still works without sound
            return (Player(library=library, user_id=None, backend="null-realtime", **levelling),
                    f"No sound: {describe_exception(exc)}. Songs play silently.")

    def _levelling(self) -> dict:
        """The Player's volume levelling and crossfade, from the settings; gains from the library's
        stored loudness (else the file's ReplayGain tags, read by the player)."""
        from player.library.loudness import gains_for_track
        from player.options import CROSSFADE, GAIN_MODE, PREAMP_DB, PREVENT_CLIPPING

        library, settings = self.ctx.library, self.ctx.settings
        return {"gain_lookup": lambda track_id: gains_for_track(library, track_id),
                "gain_mode": settings[GAIN_MODE], "preamp_db": settings[PREAMP_DB],
                "prevent_clipping": settings[PREVENT_CLIPPING], "crossfade": settings[CROSSFADE]}

    def _start_failed(self, err) -> None:
        self.starting = False
        self.available = False
        self.reason = f"playback could not start: {err.message}"
        self.ready.emit(False)

    def _started(self, result) -> None:
        self.starting = False
        self.player, note = result
        if self.closed:
            self.close()
            return
        if note:
            self.message.emit(note, "warning")
        msg = self.player.backend_message
        if msg:
            QTimer.singleShot(0, lambda m=msg: self.message.emit(str(m), "warning"))
        self._unsubscribe = self.player.subscribe(self._event.emit)
        self.queue.add_listener(self._queue_event.emit)
        self.queue.refill = self._refill
        for name, value in self._pending_settings.items():
            getattr(self, name)(value)
        self._pending_settings.clear()
        self.ready.emit(True)

    @property
    def queue(self):
        return self.player.queue if self.player is not None else None

    def close(self) -> None:
        self.closed = True
        self._timer.stop()
        if self.player is not None:
            try:
                self.player.close()
            except Exception:  # noqa: BLE001
                pass
            self.player = None

    def _later(self, name: str, value) -> bool:
        """Before the player is up, a setting waits (applied when it starts); True when it waited."""
        if self.player is None:
            self._pending_settings[name] = value
            return True
        return False

    def set_user(self, user_id: int | None) -> None:
        if not self._later("set_user", user_id):
            self.player.user_id = user_id

    # -- commands (each guarded: a core error is a message, never a crash) -----------------------
    def _call(self, name: str, *args, **kwargs):
        if self.player is None:
            return None
        try:
            return getattr(self.player, name)(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            self.message.emit(f"Playback: {describe_exception(exc)}", "error")
            return None

    def _tracks(self, ids: list[int]) -> list:
        """Library tracks for ``ids``, in that order (one query per 500, not one per track)."""
        from player.library.store import TRACK_COLUMNS, Track

        ids = [int(i) for i in ids]
        found: dict[int, Track] = {}
        for k in range(0, len(ids), 500):
            chunk = ids[k:k + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.ctx.library.db.query(f"SELECT {TRACK_COLUMNS} FROM tracks WHERE id IN ({marks})", chunk):
                found[int(row["id"])] = Track.from_row(row)
        return [found[i] for i in ids if i in found]

    def play_ids(self, ids: list[int], start: int = 0) -> None:
        if self.player is None:
            return
        tracks = self._tracks(ids)
        if not tracks:
            self.message.emit("That song is no longer in the library.", "warning")
            return
        start = max(0, min(start, len(tracks) - 1))
        try:
            self.queue.set_tracks(tracks, start)
        except Exception as exc:  # noqa: BLE001
            self.message.emit(f"Playback: {exc}", "error")
            return
        self._call("play", start)
        self._sync()

    def _command(self, name: str) -> None:
        self._call(name)
        self._sync()

    def toggle(self) -> None:
        self._command("toggle")

    def pause(self) -> None:
        self._command("pause")

    def stop(self) -> None:
        self._command("stop")

    def next(self) -> None:
        self._command("next")

    def previous(self) -> None:
        self._command("previous")

    def seek(self, seconds: float) -> None:
        self._call("seek", float(seconds))
        self._poll()

    def set_volume(self, v: float) -> None:
        if not self._later("set_volume", v):
            self._call("set_volume", float(v))

    def set_muted(self, on: bool) -> None:
        if not self._later("set_muted", on):
            self._call("set_muted", bool(on))

    def set_gain(self, mode: str) -> None:
        """Volume levelling: "off", "track", "album" or "auto" (kept in the settings)."""
        from player.options import GAIN_MODE

        self.ctx.settings[GAIN_MODE] = mode
        if not self._later("set_gain", mode):
            self._call("set_gain", mode)

    def set_preamp(self, db: float) -> None:
        """Volume levelling's preamp in dB (kept in the settings); the playing song takes it at once."""
        from player.options import PREAMP_DB

        self.ctx.settings[PREAMP_DB] = db
        if not self._later("set_preamp", db):
            self._call("set_gain", preamp_db=db)

    def set_crossfade(self, seconds: float) -> None:
        """Crossfade between songs, 0 (off) to 10 s (kept in the settings)."""
        from player.options import CROSSFADE

        self.ctx.settings[CROSSFADE] = seconds
        if not self._later("set_crossfade", seconds):
            self._call("set_crossfade", seconds)

    def set_shuffle(self, on: bool) -> None:
        if not self._later("set_shuffle", on):
            self.queue.shuffle = bool(on)

    def set_repeat(self, mode: str) -> None:
        if self._later("set_repeat", mode):
            return
        try:
            self.queue.repeat = mode
        except ValueError as exc:
            self.message.emit(str(exc), "error")

    def position(self) -> float:
        return float(self.player.position or 0.0) if self.player is not None else 0.0

    def duration(self) -> float:
        return float(self.player.duration or 0.0) if self.player is not None else 0.0

    def state(self) -> str:
        return self.player.state if self.player is not None else "stopped"

    def current_track(self):
        return self.player.current_track if self.player is not None else None

    def current_track_id(self) -> int | None:
        t = self.current_track()
        return t.id if t is not None else None

    # -- the queue (Up next) ---------------------------------------------------------------------
    def upcoming(self) -> list:
        """What follows the playing track, in play order. While the player is switching (a "next" the
        output has not reached yet) the queue's current index lags: the player's own idea wins."""
        q = self.queue
        if q is None:
            return []
        up = list(q.upcoming(limit=200))
        playing = self.player.current_track
        for i, t in enumerate(up):
            if t is playing:
                return up[i + 1:]
        return up

    def user_queued_ids(self, recommended: set[int]) -> list[int]:
        return [t.id for t in self.upcoming() if t.id not in recommended]

    def _index_of_upcoming(self, row: int) -> int | None:
        up = self.upcoming()
        if not 0 <= row < len(up):
            return None
        target = up[row]
        return next((i for i, t in enumerate(self.queue.items) if t is target), None)

    def play_up_next(self, row: int) -> None:
        i = self._index_of_upcoming(row)
        if i is not None:
            self._call("play", i)
            self._sync()

    def remove_up_next(self, rows: list[int]) -> None:
        idx = sorted({i for i in (self._index_of_upcoming(r) for r in rows) if i is not None}, reverse=True)
        for i in idx:
            try:
                self.queue.remove(i)
            except Exception as exc:  # noqa: BLE001
                self.message.emit(f"Up next: {exc}", "error")

    def move_up_next(self, src: int, dst: int, recommended: set[int]) -> None:
        q = self.queue
        if q is None:
            return
        if q.shuffle:
            self.message.emit("Turn shuffle off to put Up next in your own order.", "info")
            return
        a, b = self._index_of_upcoming(src), self._index_of_upcoming(dst)
        if a is None or b is None:
            return
        try:
            q.move(a, b)
        except Exception as exc:  # noqa: BLE001
            self.message.emit(f"Up next: {exc}", "error")
            return
        recommended.discard(q.items[b].id)  # an entry the listener placed is theirs now

    def insert_next(self, ids: list[int], recommended: set[int]) -> None:
        q = self.queue
        if q is None:
            return
        for t in reversed(self._tracks(ids)):
            q.insert_next(t)
            recommended.discard(t.id)
        if self.state() == "stopped" and self.current_track_id() is None and q.items:
            self._call("play", 0)
        self.queueChanged.emit()

    def insert_at(self, ids: list[int], row: int, recommended: set[int]) -> None:
        """Before Up next's ``row`` (at its end past the last row), in the given order."""
        q = self.queue
        if q is None:
            return
        up = self.upcoming()
        if row >= len(up) or q.shuffle:
            for t in self._tracks(ids):
                q.append([t])
                recommended.discard(t.id)
            self.queueChanged.emit()
            return
        target = up[max(0, row)]
        for t in self._tracks(ids):
            q.append([t])
            recommended.discard(t.id)
            items = q.items
            dst = next((i for i, x in enumerate(items) if x is target), None)
            if dst is not None and dst < len(items) - 1:
                q.move(len(items) - 1, dst)
        self.queueChanged.emit()

    def enqueue(self, ids: list[int], recommended: set[int]) -> None:
        """After the listener's own picks, before the recommended songs."""
        q = self.queue
        if q is None:
            return
        for t in self._tracks(ids):
            first_rec = next((x for x in self.upcoming() if x.id in recommended), None)
            q.append([t])
            recommended.discard(t.id)
            if first_rec is not None and not q.shuffle:
                items = q.items
                src = len(items) - 1
                dst = next((i for i, x in enumerate(items) if x is first_rec), None)
                if dst is not None and dst < src:
                    q.move(src, dst)
        self.queueChanged.emit()

    def replace_recommended(self, old: set[int], new_ids: list[int]) -> None:
        """Replace the recommender's upcoming songs by a fresh list; the listener's own picks stay."""
        q = self.queue
        if q is None:
            return
        playing = self.player.current_track
        upcoming = {id(t) for t in self.upcoming()}
        items = q.items
        for i in range(len(items) - 1, -1, -1):
            t = items[i]
            if t is playing or id(t) not in upcoming or t.id not in old:
                continue
            try:
                q.remove(i)
            except Exception:  # noqa: BLE001 - the queue changed meanwhile: the next refresh tidies up
                pass
        keep = {t.id for t in self.upcoming()}
        cur_id = playing.id if playing is not None else None
        tracks = self._tracks([tid for tid in new_ids if tid not in keep and tid != cur_id])
        if tracks:
            q.append(tracks)
        self.queueChanged.emit()

    def queue_items(self) -> tuple[list[int], int | None]:
        """The queue's track ids in play order and the playing song's place among them."""
        q = self.queue
        if q is None:
            return [], None
        playing = self.player.current_track
        up = self.upcoming()
        if playing is None:
            return [t.id for t in up], None
        return [playing.id] + [t.id for t in up], 0

    def restore(self, ids: list[int], index: int, position: float) -> bool:
        """Put back a kept queue, stopped at ``position`` in song ``index``: play (Space) resumes it there."""
        q = self.queue
        if q is None or self.state() != "stopped":
            return False
        tracks = self._tracks(ids)
        if not tracks:
            return False
        try:
            q.set_tracks(tracks, max(0, min(index, len(tracks) - 1)))
        except Exception as exc:  # noqa: BLE001
            self.message.emit(f"Up next could not be restored: {describe_exception(exc)}", "warning")
            return False
        if position > 0:
            self._call("seek", float(position))
        self._sync()
        self.queueChanged.emit()
        return True

    def _refill(self, queue) -> list:
        """The queue runs low (player thread): ask the recommender for more."""
        if self.refill is None:
            return []
        return self._tracks(self.refill([t.id for t in queue.items if t.id is not None]))

    # -- devices -------------------------------------------------------------------------------
    def output_devices(self) -> tuple[list[str], str | None]:
        """Names of the output devices PortAudio offers (empty with a reason when none)."""
        try:
            import sounddevice as sd

            devs = sd.query_devices()
        except Exception as exc:  # noqa: BLE001 - no PortAudio: say so in the menu
            return [], f"no audio devices: {describe_exception(exc)}"
        names = [d["name"] for d in devs if d.get("max_output_channels", 0) > 0]
        return names, None if names else "no audio output device was found"

    # -- events --------------------------------------------------------------------------------
    def _handle_event(self, ev) -> None:
        """A :class:`player.audio.PlayerEvent`: songs passed over and errors become messages."""
        if ev.kind in ("skipped", "error"):
            reason = ev.data.get("reason") or ev.data.get("message")
            title = ev.track.title if ev.track is not None else None
            if reason:
                if title and ev.kind == "skipped":
                    text = f"Skipped “{title}”: {reason}"
                else:
                    text = f"“{title}”: {reason}" if title else str(reason)
                self.message.emit(text, "error" if ev.kind == "error" else "warning")
        if ev.kind == "queue":
            self.queueChanged.emit()
        self._sync()

    def _sync(self) -> None:
        if self.player is None:
            return
        tid = self.current_track_id()
        if tid != self._track_id:
            self._track_id = tid
            self.trackChanged.emit(self.player.current_track)
            self.queueChanged.emit()
        st = self.state()
        if st != self._state:
            self._state = st
            self.stateChanged.emit(st)
        if st == "playing":
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()
        self._poll()

    def _poll(self) -> None:
        if self.player is None:
            return
        self.positionChanged.emit(self.position(), self.duration())
        if self.current_track_id() != self._track_id or self.state() != self._state:
            QTimer.singleShot(0, self._sync)

"""Drives ``player.audio.Player`` for the window.

The player's events come from its audio/monitor threads; they are re-emitted as a Qt signal and
handled on the GUI thread. Position is polled five times a second while playing (a property read).
The queue holds :class:`player.library.Track` objects; which upcoming ones the recommender placed is
kept by :class:`~player.ui.recommend_control.RecommendController`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from player.ui.cores import present
from player.ui.panels import Entry


def _state_name(state) -> str:
    value = getattr(state, "value", state)
    name = getattr(state, "name", None)
    text = str(value if isinstance(value, str) else (name or value)).lower()
    return text.split(".")[-1]


class PlaybackController(QObject):
    trackChanged = Signal(object)  # Track or None
    stateChanged = Signal(str)  # playing | paused | stopped
    positionChanged = Signal(float, float)  # position, duration
    queueChanged = Signal()
    message = Signal(str, str)  # text, level
    ready = Signal(bool)  # the player is up (True) or could not start (False; see .reason)
    _event = Signal(object)  # from audio threads
    _queue_event = Signal(str)

    def __init__(self, window, library, pools, backend: str = "auto"):
        super().__init__(window)
        self.window = window
        self.library = library
        self.pools = pools
        self.backend = backend
        self.player = None
        c = present("audio")
        self.available = c.ok
        self.reason = c.reason
        self.starting = False
        self._pending_settings: dict = {}
        self._track_id: int | None = None
        self._state = "stopped"
        self._unsubscribe = None
        self._event.connect(self._handle_event)
        self._queue_event.connect(lambda _r: self.queueChanged.emit())
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._poll)
        if self.available:
            self.start()

    # -- set-up --------------------------------------------------------------------------------
    def start(self) -> None:
        """Import the audio core and open the output in a worker (the import alone takes ~0.3 s);
        the transport is enabled when :attr:`ready` fires."""
        self.starting = True
        device = getattr(self.window.settings, "audio_device", "") or None
        self.pools.media.submit(self._make_player, self.backend, device, on_result=self._started,
                                on_error=self._start_failed)

    def _make_player(self, backend: str, device: str | None):
        """Worker: the Player, and a note for the listener (or None)."""
        from player.audio import Player
        from player.ui.workers import describe_exception

        note = None
        chosen = backend
        if device and backend in ("auto", "sounddevice"):
            try:
                from player.audio import make_backend

                chosen = make_backend("sounddevice", device=device)
            except Exception as exc:  # noqa: BLE001 - fall back to the default device
                note = f"{describe_exception(exc)}; using the default output instead."
                chosen = backend
        try:
            return Player(library=self.library, user_id=None, backend=chosen), note
        except Exception as exc:  # noqa: BLE001 - the window still works without sound
            return (Player(library=self.library, user_id=None, backend="null-realtime"),
                    f"No sound: {describe_exception(exc)}. Songs play silently.")

    def _start_failed(self, err) -> None:
        self.starting = False
        self.available = False
        self.reason = f"playback could not start: {err.message}"
        self.ready.emit(False)

    def _started(self, result) -> None:
        self.starting = False
        self.player, note = result
        if getattr(self.window, "_closing", False):
            self.close()
            return
        if note:
            self.message.emit(note, "warning")
        msg = getattr(self.player, "backend_message", None)
        if msg:
            QTimer.singleShot(0, lambda m=msg: self.message.emit(str(m), "warning"))
        sub = getattr(self.player, "subscribe", None)
        if sub is not None:
            self._unsubscribe = sub(self._event.emit)
        q = self.queue
        if q is not None:
            add = getattr(q, "add_listener", None)
            if add is not None:
                add(self._queue_event.emit)
            if hasattr(q, "refill"):
                q.refill = self._refill
        for name, value in self._pending_settings.items():
            getattr(self, name)(value)
        self._pending_settings.clear()
        self.ready.emit(True)

    @property
    def queue(self):
        return getattr(self.player, "queue", None)

    def close(self) -> None:
        self._timer.stop()
        if self.player is not None:
            try:
                self.player.close()
            except Exception:  # noqa: BLE001
                pass
            self.player = None

    def set_user(self, user_id: int | None) -> None:
        if self.player is None:
            self._pending_settings["set_user"] = user_id
            return
        if hasattr(self.player, "user_id"):
            try:
                self.player.user_id = user_id
            except AttributeError:
                pass

    # -- commands (each guarded: a core error is a message, never a crash) -----------------------
    def _call(self, name: str, *args):
        if self.player is None:
            return None
        try:
            return getattr(self.player, name)(*args)
        except Exception as exc:  # noqa: BLE001
            from player.ui.workers import describe_exception

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
            for row in self.library.db.query(f"SELECT {TRACK_COLUMNS} FROM tracks WHERE id IN ({marks})", chunk):
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

    def toggle(self) -> None:
        self._call("toggle")
        self._sync()

    def pause(self) -> None:
        self._call("pause")
        self._sync()

    def stop(self) -> None:
        self._call("stop")
        self._sync()

    def next(self) -> None:
        self._call("next")
        self._sync()

    def previous(self) -> None:
        self._call("previous")
        self._sync()

    def seek(self, seconds: float) -> None:
        self._call("seek", float(seconds))
        self._poll()

    def set_volume(self, v: float) -> None:
        if self.player is None:
            self._pending_settings["set_volume"] = v
            return
        self._call("set_volume", float(v))

    def set_muted(self, on: bool) -> None:
        if self.player is None:
            self._pending_settings["set_muted"] = on
            return
        self._call("set_muted", bool(on))

    def set_shuffle(self, on: bool) -> None:
        if self.player is None:
            self._pending_settings["set_shuffle"] = on
            return
        q = self.queue
        if q is not None:
            q.shuffle = bool(on)

    def set_repeat(self, mode: str) -> None:
        if self.player is None:
            self._pending_settings["set_repeat"] = mode
            return
        q = self.queue
        if q is not None:
            try:
                q.repeat = mode
            except ValueError as exc:
                self.message.emit(str(exc), "error")

    def position(self) -> float:
        return float(getattr(self.player, "position", 0.0) or 0.0) if self.player is not None else 0.0

    def duration(self) -> float:
        return float(getattr(self.player, "duration", 0.0) or 0.0) if self.player is not None else 0.0

    def state(self) -> str:
        return _state_name(getattr(self.player, "state", "stopped")) if self.player is not None else "stopped"

    def current_track_id(self) -> int | None:
        if self.player is None:
            return None
        t = getattr(self.player, "current_track", None)
        return getattr(t, "id", None)

    # -- the queue (Up next) ---------------------------------------------------------------------
    def upcoming(self) -> list:
        """What follows the playing track, in play order. While the player is switching (a "next" the
        output has not reached yet) the queue's current index lags: the player's own idea wins."""
        q = self.queue
        if q is None:
            return []
        try:
            up = list(q.upcoming(limit=200)) if hasattr(q, "upcoming") else list(q.items)[(q.current_index or 0) + 1:]
        except Exception:  # noqa: BLE001
            return []
        playing = getattr(self.player, "current_track", None)
        for i, t in enumerate(up):
            if t is playing:
                return up[i + 1:]
        return up

    def up_next_entries(self, reasons: dict[int, str]) -> list[Entry]:
        recs = getattr(self.window, "recs", None)
        recommended = recs.recommended if recs is not None else set()
        analysed = recs.analysed if recs is not None else {}
        out = []
        for t in self.upcoming():
            tid = getattr(t, "id", None)
            mine = tid not in recommended
            out.append(Entry(tid, getattr(t, "title", str(tid)), getattr(t, "artist", "") or "",
                             getattr(t, "album", "") or "", "" if mine else reasons.get(tid, ""),
                             None, analysed.get(tid, True), mine))
        return out

    def user_queued_ids(self, recommended: set[int]) -> list[int]:
        return [t.id for t in self.upcoming() if getattr(t, "id", None) not in recommended]

    def _index_of_upcoming(self, row: int) -> int | None:
        up = self.upcoming()
        if not 0 <= row < len(up):
            return None
        target = up[row]
        for i, t in enumerate(self.queue.items):
            if t is target:
                return i
        return None

    def play_up_next(self, row: int) -> None:
        i = self._index_of_upcoming(row)
        if i is not None:
            self._call("play", i)
            self._sync()

    def remove_up_next(self, rows: list[int]) -> None:
        idx = sorted({i for i in (self._index_of_upcoming(r) for r in rows) if i is not None}, reverse=True)
        recs = getattr(self.window, "recs", None)
        for i in idx:
            try:
                t = self.queue.remove(i)
            except Exception as exc:  # noqa: BLE001
                self.message.emit(f"Up next: {exc}", "error")
                continue
            if recs is not None:
                recs.dismiss(getattr(t, "id", None))

    def move_up_next(self, src: int, dst: int) -> None:
        q = self.queue
        if q is None:
            return
        if getattr(q, "shuffle", False):
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
        recs = getattr(self.window, "recs", None)
        if recs is not None:  # an entry the listener placed is theirs now: a refresh keeps it
            t = q.items[b]
            recs.recommended.discard(getattr(t, "id", None))

    def insert_next(self, ids: list[int]) -> None:
        q = self.queue
        if q is None:
            return
        recs = getattr(self.window, "recs", None)
        for t in reversed(self._tracks(ids)):
            q.insert_next(t)
            if recs is not None:
                recs.recommended.discard(t.id)
        if self.state() == "stopped" and self.current_track_id() is None and q.items:
            self._call("play", 0)
        self.queueChanged.emit()

    def enqueue(self, ids: list[int]) -> None:
        """After the listener's own picks, before the recommended songs."""
        q = self.queue
        if q is None:
            return
        recs = getattr(self.window, "recs", None)
        recommended = recs.recommended if recs is not None else set()
        for t in self._tracks(ids):
            up = self.upcoming()
            first_rec = next((x for x in up if getattr(x, "id", None) in recommended), None)
            q.append([t])
            if recs is not None:
                recs.recommended.discard(t.id)
            if first_rec is not None and not getattr(q, "shuffle", False):
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
        playing = getattr(self.player, "current_track", None)
        upcoming = {id(t) for t in self.upcoming()}
        items = q.items
        for i in range(len(items) - 1, -1, -1):
            t = items[i]
            if t is playing or id(t) not in upcoming or getattr(t, "id", None) not in old:
                continue
            try:
                q.remove(i)
            except Exception:  # noqa: BLE001 - the queue changed meanwhile: the next refresh tidies up
                pass
        keep = {getattr(t, "id", None) for t in self.upcoming()}
        cur_id = getattr(playing, "id", None)
        add = [tid for tid in new_ids if tid not in keep and tid != cur_id]
        tracks = self._tracks(add)
        if tracks:
            q.append(tracks)
        self.queueChanged.emit()

    def _refill(self, queue) -> list:
        """The queue runs low (player thread): ask the recommender for more."""
        recs = getattr(self.window, "recs", None)
        if recs is None:
            return []
        exclude = [getattr(t, "id", None) for t in queue.items]
        ids = recs.refill_from_thread([i for i in exclude if i is not None])
        return self._tracks(ids)

    # -- devices -------------------------------------------------------------------------------
    def output_devices(self) -> tuple[list[str], str | None]:
        """Names of the output devices PortAudio offers (empty with a reason when none)."""
        try:
            import sounddevice as sd

            devs = sd.query_devices()
        except Exception as exc:  # noqa: BLE001 - no PortAudio: say so in the menu
            from player.ui.workers import describe_exception

            return [], f"no audio devices: {describe_exception(exc)}"
        names = [d["name"] for d in devs if d.get("max_output_channels", 0) > 0]
        return names, None if names else "no audio output device was found"

    def set_device(self, name: str) -> str | None:
        """Remembered in the settings; used from the next start of the player."""
        return (f"Sound will go to {name or 'the system default output'} the next time the player starts.")

    # -- events --------------------------------------------------------------------------------
    def _handle_event(self, ev) -> None:
        kind = str(getattr(ev, "kind", "") or "").lower()
        data = getattr(ev, "data", None)
        track = getattr(ev, "track", None)
        if kind in ("error", "skip", "skipped", "track_error", "decode_error", "failed", "stopped_error", "message",
                    "queue_broken", "all_failed"):
            reason = None
            if isinstance(data, dict):
                reason = data.get("reason") or data.get("message") or data.get("error")
            elif data:
                reason = str(data)
            title = getattr(track, "title", None)
            if reason:
                text = f"Skipped “{title}”: {reason}" if title and kind in ("skip", "skipped", "track_error", "decode_error") else (
                    f"“{title}”: {reason}" if title else str(reason))
                self.message.emit(text, "warning" if kind != "error" else "error")
        if "queue" in kind:
            self.queueChanged.emit()
        self._sync()

    def _sync(self) -> None:
        if self.player is None:
            return
        tid = self.current_track_id()
        if tid != self._track_id:
            self._track_id = tid
            self.trackChanged.emit(getattr(self.player, "current_track", None))
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

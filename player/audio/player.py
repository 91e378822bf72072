"""The Player: queue + decoder thread + output backend + a monitor that turns counters into events.

Threads (all daemon): the backend's output thread (PortAudio's, or the null backend's), the decoder,
the monitor (20 ms polls: track changes, end of queue, position events, play history, refills) and
the event dispatcher, which calls subscribers one event at a time, in order. Subscribers therefore
run on a background thread: a GUI must marshal them to its own thread.

Play history (``library.record_play``), written when a track stops being the playing one:

* ``seconds_played`` is audio actually output for it (seeks do not count the jumped-over part;
  pauses do not count);
* ``skipped`` follows :func:`is_skip`: the listener left it (next, previous, another track, stop,
  close) before 30 s **and** before half its length. A track that plays to its end is never skipped.
  A track that failed to decode part-way is recorded as not skipped (it was not the listener's
  choice); one that could not be opened at all is not recorded.
* only for library tracks (an integer ``id``) and only when the Player has a ``user_id``.
"""

from __future__ import annotations

import itertools
import logging
import math
import queue as _queue
import threading
import time
from typing import Any, Callable

from player.audio.backends import AudioUnavailable, Backend, NullBackend, make_backend
from player.audio.events import (EVENT_KINDS, SKIP_SECONDS, FileTrack, Now, Pending, PlayerEvent,
                                 _Session, is_skip)
from player.audio.decoder import UNKNOWN, Decoder, Segment
from player.audio.gain import GainPolicy, GainSettings, crossfade_seconds
from player.audio.queue import Entry, Queue
from player.audio.renderer import KIND_CUT, LOG_SIZE, Renderer

log = logging.getLogger(__name__)

_STOP = object()


def _to_db(linear: float) -> float:
    return 20.0 * math.log10(linear) if linear > 0 else -math.inf


class Player:
    """Plays a :class:`Queue`. See docs/audio.md for the whole API and its rules."""

    def __init__(self, library=None, user_id: int | None = None, backend: str | Backend = "auto", *,
                 seed: int | None = None, buffer_seconds: float = 2.0, ramp_ms: float = 10.0,
                 poll_interval: float = 0.02, position_interval: float = 0.25,
                 gain_lookup: Callable[[int], dict | None] | None = None, gain_mode: str = "off",
                 preamp_db: float = 0.0, prevent_clipping: bool = True, crossfade: float = 0.0):
        self.library = library
        self.user_id = user_id
        self.queue = Queue(seed=seed)
        self.poll_interval = float(poll_interval)
        self.position_interval = float(position_interval)
        self._lock = threading.RLock()
        self._gen_lock = threading.Lock()
        self._gens = itertools.count(1)
        self._subs: list[Callable[[PlayerEvent], None]] = []
        self._events: _queue.SimpleQueue = _queue.SimpleQueue()
        self._state = "stopped"
        self._volume = 1.0
        self._muted = False
        self._pending: Pending | None = None
        self.gain = GainPolicy(gain_lookup, GainSettings(gain_mode, float(preamp_db), bool(prevent_clipping)))
        self._stopped_at = 0.0
        self._finished = False
        self._closed = False
        self._backend_error_seen = None

        self.backend, self._renderer = self._open_backend(backend, buffer_seconds, ramp_ms)
        self.backend_message: str | None = getattr(self.backend, "message", None)
        self.samplerate = self._renderer.samplerate

        # monitor state (guarded by _poll_lock)
        self._poll_lock = threading.Lock()
        self._switch_seen = 0
        self._mgen = 0
        self._mr = 0
        self._midx = 0
        self._cur: Segment | None = None
        self._session: _Session | None = None
        self._last_uid: int | None = None
        self._last_pos_emit = 0.0
        self._refill_wanted = False

        self._decoder = Decoder(self._renderer, self._provide, lambda: len(self.queue), self._alloc_gen,
                                gain_for=self._gain_for, crossfade_for=self._crossfade_for)
        self._crossfade = 0.0
        self.set_crossfade(crossfade)
        self._cur = self._decoder.segments(0)[0]
        self._dispatcher = threading.Thread(target=self._dispatch, name="audio-events", daemon=True)
        self._monitor_stop = threading.Event()
        self._monitor = threading.Thread(target=self._monitor_loop, name="audio-monitor", daemon=True)
        self._dispatcher.start()
        self._decoder.start()
        self._monitor.start()
        self.queue.add_listener(self._queue_changed)

    def _open_backend(self, spec, buffer_seconds, ramp_ms):
        backend = make_backend(spec)
        renderer = Renderer(backend.samplerate, backend.channels, buffer_seconds=buffer_seconds, ramp_ms=ramp_ms)
        try:
            backend.start(renderer)
        except AudioUnavailable as exc:
            if spec != "auto":
                raise
            backend.close()
            backend = NullBackend(realtime=True, message=f"{exc}: playing silently (null audio output)")
            renderer = Renderer(backend.samplerate, backend.channels, buffer_seconds=buffer_seconds, ramp_ms=ramp_ms)
            backend.start(renderer)
        return backend, renderer

    # -- events -----------------------------------------------------------------------------------
    def subscribe(self, callback: Callable[[PlayerEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for every :class:`PlayerEvent` (on the player's event thread).
        Returns a function that unsubscribes."""
        self._subs.append(callback)

        def unsubscribe():
            if callback in self._subs:
                self._subs.remove(callback)

        return unsubscribe

    def _emit(self, kind: str, track: Any = None, data: dict | None = None) -> None:
        self._events.put(PlayerEvent(kind, track, data or {}))

    def _dispatch(self) -> None:
        while True:
            ev = self._events.get()
            if ev is _STOP:
                return
            if isinstance(ev, threading.Event):
                ev.set()
                continue
            for cb in list(self._subs):
                try:
                    cb(ev)
                except Exception:
                    log.exception("a player event subscriber failed on %s", ev.kind)

    def sync(self, timeout: float = 5.0) -> None:
        """Process what the output has done so far and wait until its events are delivered."""
        self.poll()
        if threading.current_thread() is self._dispatcher or not self._dispatcher.is_alive():
            return
        done = threading.Event()
        self._events.put(done)
        done.wait(timeout)

    # -- state ------------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @property
    def volume(self) -> float:
        return self._volume

    @property
    def muted(self) -> bool:
        return self._muted

    @property
    def underruns(self) -> int:
        return self._renderer.underruns

    def _set_state(self, state: str, reason: str | None = None) -> None:
        if state != self._state:
            self._state = state
            self._emit("state", None, self._state_data(reason))

    def _state_data(self, reason=None) -> dict:
        return {"state": self._state, "reason": reason, "volume": self._volume, "muted": self._muted}

    def _now(self) -> Now | None:
        """What is playing (or about to), else None."""
        pend = self._pending
        _, gen, r = self._renderer.pub
        if pend is not None and gen < pend.gen:
            return Now(pend.uid, pend.track, pend.offset, pend.duration)
        seg = self._segment_at(gen, r)
        if seg is None or seg.kind != "audio":
            return None
        pos = max(0.0, seg.offset + max(0, r - seg.start) / self.samplerate)
        if seg.duration:
            pos = min(pos, seg.duration)
        return Now(seg.uid, seg.track, pos, seg.duration)

    def _segment_at(self, gen: int, r: int) -> Segment | None:
        found = None
        for s in self._decoder.segments(gen):
            if s.start > r:
                break
            if s.kind == "audio" and s.error and s.frames == 0 and s.end is not None:
                continue  # a file that failed to open occupies no time
            if s.start == r and found is not None and found.kind == "audio" and found.end == r:
                continue  # exactly at a boundary: still the end of the previous track (as the monitor sees it)
            found = s
        return found

    @property
    def position(self) -> float:
        """Seconds into the current track."""
        if self._state == "stopped":
            return self._stopped_at
        now = self._now()
        return 0.0 if now is None else float(now.position)

    @property
    def duration(self) -> float | None:
        if self._state != "stopped":
            now = self._now()
            if now is not None:
                return now.duration if now.duration is not None else getattr(now.track, "duration", None)
        cur = self.queue.current
        return None if cur is None else getattr(cur, "duration", None)

    @property
    def current_track(self) -> Any | None:
        if self._state != "stopped":
            now = self._now()
            if now is not None:
                return now.track
        return self.queue.current

    # -- control ----------------------------------------------------------------------------------
    def _alloc_gen(self) -> int:
        with self._gen_lock:
            return next(self._gens)

    def _flush(self, entry, offset: float = 0.0, continues: bool = False, fade_in: bool = False) -> None:
        uid, track = entry
        with self._gen_lock:
            gen = next(self._gens)
            self._renderer.target_gen = gen
        self._pending = Pending(gen, uid, track, float(offset), getattr(track, "duration", None))
        self._decoder.start_gen(gen, entry, float(offset), continues, fade_in)
        self._renderer.wake.set()

    def _stop_output(self, reason: str = "stopped") -> None:
        with self._gen_lock:
            gen = next(self._gens)
            self._renderer.target_gen = gen
        self._pending = None
        self._decoder.stop_gen(gen, reason)
        self._renderer.wake.set()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this player is closed")

    def play(self, index: int | None = None) -> None:
        """Play queue item ``index``; without one: resume if paused, else start the current item
        (from the start, or from where :meth:`seek` put it while stopped)."""
        with self._lock:
            self._check_open()
            if index is None:
                if self._state == "paused":
                    self.resume()
                    return
                if self._state == "playing":
                    return
                if self._finished or self.queue.current_index is None:
                    entry = self.queue.first_entry()
                    if entry is not None:
                        self.queue.set_current_uid(entry[0])
                else:
                    entry = self.queue.entry()
                if entry is None:
                    self._emit("error", None, {"message": "the queue is empty: nothing to play"})
                    return
                offset = self._stopped_at
            else:
                self.queue.current_index = index  # IndexError in words when out of range
                entry = self.queue.entry()
                offset = 0.0
            self._finished = False
            self._stopped_at = 0.0
            self._renderer.paused = False
            self._flush(entry, offset, continues=False, fade_in=offset > 0)
            self._set_state("playing")

    def pause(self) -> None:
        with self._lock:
            if self._state == "playing":
                self._renderer.paused = True
                self._renderer.wake.set()
                self._set_state("paused")
                self._emit("position", None, {"position": self.position, "duration": self.duration})

    def resume(self) -> None:
        with self._lock:
            if self._state == "paused":
                self._renderer.paused = False
                self._renderer.wake.set()
                self._set_state("playing")
            elif self._state == "stopped":
                self.play()

    def toggle(self) -> None:
        with self._lock:
            if self._state == "playing":
                self.pause()
            else:
                self.resume()

    def stop(self) -> None:
        with self._lock:
            if self._state == "stopped":
                return
            self._stop_output("stopped")
            self._renderer.paused = False
            self._stopped_at = 0.0
            self._set_state("stopped")

    def seek(self, seconds: float) -> None:
        """Jump to ``seconds`` into the current track (short fades avoid clicks). While stopped, it
        sets where the next :meth:`play` starts."""
        with self._lock:
            target = max(0.0, float(seconds))
            if self._state == "stopped":
                self._stopped_at = target
                self._emit("position", None, {"position": target, "duration": self.duration})
                return
            now = self._now()
            if now is None:
                return
            uid, track, _, duration = now
            if duration:
                target = min(target, float(duration))
            self._flush((uid, track), target, continues=True, fade_in=True)
            self._emit("position", None, {"position": target, "duration": duration})

    def _step_to(self, find: Callable[[int], Any]):
        """For next/previous: the entry ``find(uid)`` gives for what plays now (or the current item).
        While stopped it only moves the queue's current item and returns None; else the entry (None at
        the end of the play order, False when nothing is playing or queued)."""
        now = self._now() if self._state != "stopped" else None
        uid = now.uid if now is not None else (self.queue.entry() or (None,))[0]
        if uid is None:
            return False
        got = find(uid)
        if got is False:
            got = self.queue.entry()
        if self._state == "stopped":
            if got:
                self.queue.set_current_uid(got.uid)
                self._stopped_at = 0.0
            return False
        return got

    def next(self) -> None:
        """The next item in play order (wrapping with repeat one/all); stops after the last."""
        with self._lock:
            nxt = self._step_to(lambda uid: self.queue.next_after(uid, auto=False))
            if nxt is False:
                return
            if nxt is None:
                self._stop_output("stopped")
                self._renderer.paused = False
                self._finished = True
                self._set_state("stopped", "end of queue")
                return
            self._flush(nxt)

    def previous(self) -> None:
        """Back to the start of the track if more than 3 s in, else the previous item."""
        with self._lock:
            if self._state != "stopped" and self.position > 3.0:
                self.seek(0.0)
                return
            prv = self._step_to(self.queue.previous_before)
            if prv is False:
                return
            if prv is None:
                self.seek(0.0)
                return
            self._flush(prv)

    def set_volume(self, volume: float) -> None:
        """0.0-1.0, a loudness control: the amplitude factor is volume**3 (about a 60 dB range)."""
        v = min(1.0, max(0.0, float(volume)))
        with self._lock:
            self._volume = v
            self._apply_gain()
            self._emit("state", None, self._state_data())

    def set_muted(self, muted: bool) -> None:
        with self._lock:
            self._muted = bool(muted)
            self._apply_gain()
            self._emit("state", None, self._state_data())

    def _apply_gain(self) -> None:
        self._renderer.target_gain = 0.0 if self._muted else self._volume ** 3
        self._renderer.wake.set()

    # -- loudness normalisation and crossfade ------------------------------------------------------
    @property
    def gain_settings(self) -> GainSettings:
        return self.gain.settings

    def set_gain(self, mode: str | None = None, *, preamp_db: float | None = None,
                 prevent_clipping: bool | None = None) -> None:
        """ReplayGain / loudness normalisation: ``mode`` "off", "track", "album" or "auto" (album gain
        while an album plays in order), a preamp in dB, clipping prevention (peak x gain <= 1). The values
        come from ``gain_lookup(track.id)`` (given to the constructor) or the file's ReplayGain tags. A
        change takes effect at once (the playing track is re-decoded from where it is, with short fades)."""
        old = self.gain.settings
        new = GainSettings(old.mode if mode is None else mode,
                           old.preamp_db if preamp_db is None else float(preamp_db),
                           old.prevent_clipping if prevent_clipping is None else bool(prevent_clipping))
        with self._lock:
            self.gain.settings = new
            if new != old and self._state != "stopped":
                now = self._now()
                if now is not None:
                    self._flush(Entry(now.uid, now.track), now.position, continues=True, fade_in=True)

    @property
    def crossfade(self) -> float:
        return self._crossfade

    def set_crossfade(self, seconds: float) -> None:
        """Crossfade between tracks, 0 (off, the default) to 10 s, equal power; never inside an album
        played in order (that stays gapless) and at most a third of the shorter track. Applies from the
        next track that starts decoding on."""
        value = min(10.0, max(0.0, float(seconds)))
        self._crossfade = value
        self._decoder.crossfade = value

    def _gain_for(self, uid, track, prev_track) -> float:
        """For the decoder: the linear gain of ``track`` (queue entry ``uid``) as it opens."""
        if self.gain.settings.mode == "off":
            return 1.0
        nxt = self.queue.next_after(uid, auto=True) if uid is not None else None
        return self.gain.linear(track, prev_track, nxt.track if nxt else None)

    def _crossfade_for(self, prev_track, track) -> float:
        return crossfade_seconds(self._crossfade, prev_track, track)

    def _provide(self, uid, after_error: bool):
        """For the decoder: the entry after ``uid``. At the end of the queue, a last chance to refill."""
        got = self.queue.next_after(uid, auto=not after_error)
        if got is None and self.queue.refill is not None:
            try:
                self.queue.maybe_refill(after=uid)
            except Exception as exc:
                log.exception("queue refill failed")
                self._emit("error", None, {"message": f"could not get more tracks for the queue: {exc}"})
            got = self.queue.next_after(uid, auto=not after_error)
        return UNKNOWN if got is False else got

    def _queue_changed(self, reason: str) -> None:
        self._emit("queue", None, {"reason": reason})
        if reason == "current" or self._closed:
            return
        self._refill_wanted = True
        with self._lock:
            if self._state == "stopped":
                return
            now = self._now()
            if now is not None and self.queue.index_of_uid(now.uid) is None:
                entry = self.queue.entry()
                if entry is None:
                    self._stop_output("stopped")
                    self._renderer.paused = False
                    self._set_state("stopped", "the queue was emptied")
                else:
                    self._flush(entry)
                return
        self._decoder.replan()

    # -- monitor ----------------------------------------------------------------------------------
    def _monitor_loop(self) -> None:
        while not self._monitor_stop.is_set():
            try:
                self.poll()
                if self._refill_wanted:
                    self._refill_wanted = False
                    try:
                        self.queue.maybe_refill()
                    except Exception as exc:
                        log.exception("queue refill failed")
                        self._emit("error", None, {"message": f"could not get more tracks for the queue: {exc}"})
                err = getattr(self.backend, "error", None)
                if err and err != self._backend_error_seen:
                    self._backend_error_seen = err
                    self._emit("error", None, {"message": err})
            except Exception:
                log.exception("player monitor failed")
            self._monitor_stop.wait(self.poll_interval)

    def poll(self) -> None:
        """Account for what the output played since the last look (the monitor thread calls this)."""
        actions: list[Callable[[], None]] = []
        with self._poll_lock:
            rend = self._renderer
            count, gen, r = rend.pub
            if count - self._switch_seen > LOG_SIZE:
                self._switch_seen = count - LOG_SIZE
            while self._switch_seen < count:
                old_gen, left, new_gen, at, kind = (int(x) for x in rend.switch_log[self._switch_seen % LOG_SIZE])
                if old_gen == self._mgen:
                    self._walk(left, actions)
                self._enter_gen(new_gen, at, kind, actions)
                self._switch_seen += 1
            if gen == self._mgen:
                self._walk(r, actions)
            if self._state == "playing" and self._session is not None:
                t = time.monotonic()
                if t - self._last_pos_emit >= self.position_interval:
                    self._last_pos_emit = t
                    now = self._now()
                    if now is not None:
                        self._emit("position", None, {"position": now.position, "duration": now.duration})
        for action in actions:
            try:
                action()
            except Exception:
                log.exception("player action failed")

    def _walk(self, r: int, actions) -> None:
        segs = self._decoder.segments(self._mgen)
        while self._midx + 1 < len(segs):
            nxt = segs[self._midx + 1]
            if nxt.kind == "end":
                if not (r >= nxt.start and self._renderer.drained):
                    break
            elif nxt.error and nxt.frames == 0 and nxt.end is not None:
                if r < nxt.start:  # a file that failed to open: passed as soon as it is reached
                    break
            elif r <= nxt.start:  # a track has begun once a frame of it was output
                break
            self._account(nxt.start - self._mr)
            self._mr = max(self._mr, nxt.start)
            self._finish(natural=True, actions=actions)
            self._midx += 1
            self._enter(nxt, actions)
        self._account(r - self._mr)
        self._mr = max(self._mr, r)
        if self._midx > 16:
            drop = self._midx - 1
            self._decoder.prune(self._mgen, drop)
            self._midx -= drop

    def _enter_gen(self, gen: int, at: int, kind: int, actions) -> None:
        segs = self._decoder.segments(gen)
        first = segs[0] if segs else None
        keep = (kind != KIND_CUT and first is not None and first.kind == "audio" and first.continues
                and self._session is not None and self._session.uid == first.uid)
        if not keep:
            self._finish(natural=kind == KIND_CUT, actions=actions)
        self._mgen, self._mr, self._midx = gen, at, 0
        if keep:
            self._cur = first
        elif first is not None:
            self._enter(first, actions)
        else:
            self._cur = None
        self._decoder.forget_before(gen)

    def _account(self, frames: int) -> None:
        if frames > 0 and self._session is not None:
            self._session.frames += frames

    def _enter(self, seg: Segment, actions) -> None:
        self._cur = seg
        if seg.kind == "end":
            actions.append(lambda: self._stream_ended(seg))
            return
        if seg.error and seg.frames == 0 and seg.end is not None:
            return  # could not be opened: reported as skipped when passed
        self._session = _Session(seg.uid, seg.track, seg.duration)
        self._last_uid = seg.uid
        uid, track = seg.uid, seg.track
        index = self.queue.index_of_uid(uid)
        self._emit("track", track, {"index": index, "duration": seg.duration, "position": max(0.0, seg.offset),
                                    "gain_db": _to_db(seg.gain)})
        self._refill_wanted = True
        actions.append(lambda: self.queue.set_current_uid(uid))

    def _finish(self, natural: bool, actions) -> None:
        seg, sess = self._cur, self._session
        self._cur = None
        self._session = None
        if seg is None or seg.kind != "audio":
            return
        seconds = 0.0 if sess is None else sess.frames / self.samplerate
        if seg.error:
            self._emit("skipped", seg.track, {"reason": seg.error, "index": self.queue.index_of_uid(seg.uid),
                                              "seconds_played": seconds})
            if sess is not None and sess.frames > 0:
                self._record(sess, seconds, skipped=False, actions=actions)
            return
        if sess is None:
            return
        if natural:
            data = {"seconds_played": seconds}
            if seg.warning:
                data["warning"] = seg.warning
            self._emit("ended", seg.track, data)
        self._record(sess, seconds, skipped=is_skip(seconds, sess.duration, ended_naturally=natural), actions=actions)

    def _record(self, sess: _Session, seconds: float, skipped: bool, actions) -> None:
        lib, user = self.library, self.user_id
        track_id = getattr(sess.track, "id", None)
        if lib is None or user is None or not isinstance(track_id, int) or sess.frames <= 0:
            return
        started = sess.started_at

        def write():
            try:
                lib.record_play(user, track_id, started_at=started, seconds_played=seconds, skipped=skipped)
            except Exception as exc:
                log.exception("recording a play failed")
                self._emit("error", sess.track, {"message": f"could not record the play in the library: {exc}"})

        actions.append(write)

    def _stream_ended(self, seg: Segment) -> None:
        reason = seg.end_reason or "end"
        if reason == "stopped":
            return
        with self._lock:
            if self._renderer.target_gen > seg.gen or self._state == "stopped":
                return
            if reason.startswith("error"):
                message = reason.split(":", 1)[1].strip() if ":" in reason else reason
                self._emit("error", None, {"message": message})
                self._finished = True
                self._pending = None
                self._set_state("stopped", message)
                return
            # the queue may have grown since the decoder reached its end: go on if so
            nxt = self.queue.next_after(self._last_uid, auto=True) if self._last_uid is not None else None
            if nxt:
                self._flush(nxt)
                return
            self._finished = True
            self._pending = None
            self._set_state("stopped", "end of queue")

    # -- teardown ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop (recording the current play), end the threads and release the audio device."""
        with self._lock:
            if self._closed:
                return
            was_playing = self._state != "stopped"
            if was_playing:
                self.stop()
            self._closed = True
        if was_playing and not getattr(self.backend, "manual", False):
            deadline = time.monotonic() + 0.5
            while self._renderer.gen < self._renderer.target_gen and time.monotonic() < deadline:
                time.sleep(0.005)
        self._monitor_stop.set()
        if self._monitor is not threading.current_thread():
            self._monitor.join(timeout=2)
        self.poll()
        actions: list = []
        with self._poll_lock:
            if self._session is not None:
                self._finish(natural=False, actions=actions)
        for action in actions:
            action()
        self._decoder.quit()
        if self._decoder is not threading.current_thread():
            self._decoder.join(timeout=2)
        self.backend.close()
        self._events.put(_STOP)
        if self._dispatcher is not threading.current_thread():
            self._dispatcher.join(timeout=2)

    def __enter__(self) -> "Player":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["Player", "PlayerEvent", "FileTrack", "is_skip", "SKIP_SECONDS", "EVENT_KINDS"]

"""Decoding: a file -> blocks at the device's rate and channel count, and the decoder thread.

:class:`SourceReader` is the playback view of :class:`player.audio.reader.Stream` (the one reader: FFmpeg
through PyAV, or libsndfile, opened by content): float32 blocks at the device's rate (a streaming soxr
resampler) and channel count (the speaker-position downmix). Nothing is sized from a file's frame count:
the end of a file is where a read returns nothing.

:class:`Decoder` is the thread that keeps the ring full. It decodes the playing track, then, still in
the same continuous stream, the next one (which is how playback is gapless: the next track is
decoded while the end of the current one is still in the ring). Each stretch of the stream that
belongs to one queue entry is a :class:`Segment`; the player's monitor walks the segments to know
what is playing. Per track it applies the gain the player asks for (ReplayGain / loudness), and with a
crossfade it holds back the end of each track until the next one is open, then mixes the two with an
equal-power curve (never between consecutive tracks of an album played in order).
"""

from __future__ import annotations

import logging
import math
import os
import queue as _queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import numpy as np

from player.audio.errors import NO_AUDIO, AudioError, fmt_time
from player.audio.gain import CROSSFADE_SHARE
from player.audio.queue import Entry
from player.audio.reader import BLOCK, Stream, downmix_matrix
from player.audio.renderer import CutRequest, GenStart, Renderer

log = logging.getLogger(__name__)

DecodeError = AudioError  # a file could not be played, with the reason in words


class SourceReader(Stream):
    """One file, decoded block by block to ``out_rate`` Hz and ``out_channels`` channels (float32), from
    ``offset`` seconds. ``read()`` gives the next block or None at the end; raises :class:`DecodeError`."""

    def __init__(self, path, out_rate: int, out_channels: int, offset: float = 0.0, block: int = BLOCK):
        super().__init__(path, out_rate, out_channels, start=offset, block=block)
        self.path = path


# -- the decoder's commands (from the player, any thread) -----------------------------------------------

class StartCmd(NamedTuple):
    gen: int
    entry: Entry
    offset: float
    continues: bool
    fade_in: bool


class StopCmd(NamedTuple):
    gen: int
    reason: str


class ReplanCmd(NamedTuple):
    seq: int


class QuitCmd(NamedTuple):
    pass


class CutPending(NamedTuple):
    """A cut the decoder asked the output for, until it answers."""

    rid: int
    base_gen: int
    at: int
    new_gen: int
    prev: "Segment"


@dataclass(eq=False)
class Segment:
    """One stretch of the output stream: a queue entry's audio, a failed entry, or the end mark."""

    gen: int
    start: int  # absolute output frame where it begins
    uid: int | None
    track: Any
    offset: float = 0.0  # seconds into the track at ``start``
    duration: float | None = None
    end: int | None = None  # absolute frame where it ended (None while being decoded)
    error: str | None = None  # why the entry was skipped
    kind: str = "audio"  # "audio" | "end"
    continues: bool = False  # a seek inside the same play: the listening session goes on
    frames: int = 0  # frames decoded so far
    end_reason: str | None = None  # for kind "end": "end", "stopped", or an error message
    warning: str | None = None  # the file stopped before its header's length (it played what it had)
    gain: float = 1.0  # the linear gain applied to it
    mixed_from: np.ndarray | None = None  # the previous track's end, crossfaded into this one's start


class _Fade:
    """The previous track's last frames, crossfaded into the start of the next (equal power: cos/sin)."""

    def __init__(self, tail: np.ndarray):
        self.tail = tail
        self.n = len(tail)
        self.pos = 0

    def _curves(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        theta = (np.arange(self.pos, self.pos + k, dtype=np.float64) + 0.5) * (math.pi / 2 / self.n)
        return np.cos(theta).astype(np.float32)[:, None], np.sin(theta).astype(np.float32)[:, None]

    def apply(self, data: np.ndarray) -> np.ndarray:
        k = min(len(data), self.n - self.pos)
        out = np.array(data, np.float32)
        if k > 0:
            fade_out, fade_in = self._curves(k)
            out[:k] *= fade_in
            out[:k] += self.tail[self.pos:self.pos + k] * fade_out
            self.pos += k
        return out

    def rest(self) -> np.ndarray:
        """The rest of the fade-out, when the new track ended before the crossfade did."""
        k = self.n - self.pos
        out = self.tail[self.pos:] * self._curves(k)[0] if k > 0 else self.tail[:0]
        self.pos = self.n
        return out

    @property
    def done(self) -> bool:
        return self.pos >= self.n


class _Held:
    """The newest ``size`` frames of a track, held back from the ring until the next track is open."""

    def __init__(self, size: int, channels: int):
        self.size = size
        self.data = np.zeros((0, channels), np.float32)

    def push(self, block: np.ndarray) -> np.ndarray:
        """Keep the newest ``size`` frames; return the older ones (to write now)."""
        both = np.concatenate([self.data, block]) if len(self.data) else np.array(block, np.float32)
        cut = max(0, len(both) - self.size)
        self.data = both[cut:]
        return both[:cut]


@dataclass
class _Job:
    reader: SourceReader | None
    seg: Segment
    pending: np.ndarray | None = None
    gain: float = 1.0
    held: _Held | None = None  # with a crossfade: the end of the track, not written yet
    hold_from: int = 0  # frames of the track (seg.frames) after which its end is held back
    fade: _Fade | None = None  # the previous track's end, still being mixed into this one
    ending: bool = False  # decoded to its end: what is left is writing ``pending``, then ``after``
    after: tuple | None = None  # (entry, opened reader or None, tail to crossfade) once pending is out


class Decoder(threading.Thread):
    """Keeps the ring full; obeys start/stop/replan commands from the player.

    ``gain_for(uid, track, prev_track) -> float`` (linear) is asked once per track as it opens;
    ``crossfade_for(prev_track, track) -> float`` (seconds, 0 for none) when one track ends and the next
    opens; ``crossfade`` (seconds) is read as each track starts, to hold back that much of its end."""

    def __init__(self, renderer: Renderer, provider: Callable[..., Any], queue_len: Callable[[], int],
                 alloc_gen: Callable[[], int], name: str = "audio-decoder", *,
                 gain_for: Callable[[Any, Any, Any], float] | None = None,
                 crossfade_for: Callable[[Any, Any], float] | None = None):
        super().__init__(name=name, daemon=True)
        self.rend = renderer
        self.provider = provider  # provider(uid, after_error) -> Entry | None | UNKNOWN
        self.queue_len = queue_len
        self.alloc_gen = alloc_gen  # allocates a generation number under the player's gen lock
        self.gain_for = gain_for
        self.crossfade_for = crossfade_for
        self.crossfade = 0.0  # seconds of each track's end held back for a possible crossfade
        self.cmds: _queue.SimpleQueue = _queue.SimpleQueue()
        self.seg_lock = threading.Lock()
        self.table: dict[int, list[Segment]] = {0: [Segment(0, 0, None, None, kind="end", end_reason="stopped")]}
        self.gen = 0
        self.job: _Job | None = None
        self.fails = 0
        self.played_since_start = False
        self.cut_pending: CutPending | None = None
        # the generations the output still has ahead of it: [gen, frame where it is cut or None], in order
        self.chain: list[list] = [[0, None]]
        self.replan_wanted = False
        self._cut_ids = 0
        self._quit = False
        self._hold_lock = threading.Lock()
        self._hold_seq = 0
        self._replan_seq = 0  # the newest queue edit received

    # -- commands (any thread) ----------------------------------------------------------------------
    def start_gen(self, gen: int, entry: Entry, offset: float, continues: bool, fade_in: bool) -> None:
        self.cmds.put(StartCmd(gen, Entry(*entry), offset, continues, fade_in))

    def stop_gen(self, gen: int, reason: str = "stopped") -> None:
        self.cmds.put(StopCmd(gen, reason))

    def replan(self) -> None:
        """The queue changed: re-check what follows the playing track. Non-real-time outputs hold
        still until that is settled (see Renderer.hold), so tests and --fast runs are exact."""
        with self._hold_lock:
            self._hold_seq += 1
            seq = self._hold_seq
            self.rend.hold = seq
        self.cmds.put(ReplanCmd(seq))

    def quit(self) -> None:
        self.cmds.put(QuitCmd())

    def segments(self, gen: int) -> list[Segment]:
        with self.seg_lock:
            return list(self.table.get(gen, ()))

    def prune(self, gen: int, count: int) -> None:
        """Drop the first ``count`` segments of ``gen`` (already played; long gapless runs and
        repeat-one loops would otherwise grow the list for ever)."""
        with self.seg_lock:
            segs = self.table.get(gen)
            if segs:
                del segs[:count]

    def forget_before(self, gen: int) -> None:
        with self.seg_lock:
            for g in [g for g in self.table if g < gen and g != self.gen]:
                del self.table[g]

    # -- thread -------------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            while not self._quit:
                try:
                    self._iterate()
                except Exception as exc:  # a bug or a surprise from a library: end this stream, keep the thread
                    log.exception("decoder failed")
                    self._drop_job()
                    self.cut_pending = None
                    self.replan_wanted = False
                    self._end(f"error: playback failed unexpectedly ({type(exc).__name__}: {exc})")
                    self._settled()
        finally:
            self._drop_job()

    def _iterate(self) -> None:
        busy = self.job is not None or self.cut_pending is not None or self.replan_wanted
        if not busy:
            self._handle(self.cmds.get())
            return
        self._drain_commands()
        if self._quit:
            return
        if self.cut_pending is not None:
            self._check_cut()
        elif self.replan_wanted:
            self._replan()
        elif self.job is not None:
            self._step()

    def _drain_commands(self) -> None:
        while True:
            try:
                cmd = self.cmds.get_nowait()
            except _queue.Empty:
                return
            self._handle(cmd)

    def _handle(self, cmd) -> None:
        if isinstance(cmd, QuitCmd):
            self._quit = True
        elif isinstance(cmd, StartCmd):
            self._new_gen(cmd.gen)
            self.played_since_start = False
            self._begin(cmd.entry, cmd.offset, cmd.continues)
            self.rend.gen_start = GenStart(cmd.gen, self.rend.w, bool(cmd.fade_in))
            self.rend.wake.set()
        elif isinstance(cmd, StopCmd):
            self._new_gen(cmd.gen)
            self._end(cmd.reason)
            self.rend.gen_start = GenStart(cmd.gen, self.rend.w, False)
            self.rend.wake.set()
        elif isinstance(cmd, ReplanCmd):
            self._replan_seq = max(self._replan_seq, cmd.seq)
            self.replan_wanted = True

    def _settled(self) -> None:
        """Every queue edit received so far is applied: non-real-time output may go on."""
        if self.rend.released < self._replan_seq:
            self.rend.released = self._replan_seq
            self.rend.wake.set()

    def _new_gen(self, gen: int) -> None:
        self._drop_job()
        self.cut_pending = None
        self.replan_wanted = False
        self._settled()  # the new generation is planned from the queue as it is now
        self.fails = 0
        self.gen = gen
        self.chain = [[gen, None]]
        with self.seg_lock:
            self.table[gen] = []

    def _append(self, seg: Segment) -> None:
        with self.seg_lock:
            self.table.setdefault(seg.gen, []).append(seg)

    def _drop_job(self) -> None:
        job, self.job = self.job, None
        if job is not None:
            if job.reader is not None:
                job.reader.close()
            if job.after is not None and job.after[1] is not None:
                job.after[1].close()

    def _end(self, reason: str) -> None:
        """No more audio in this generation: the end mark."""
        w = self.rend.w
        self._append(Segment(self.gen, w, None, None, kind="end", end=w, end_reason=reason))
        self.rend.eos = (self.gen, w)
        self.rend.wake.set()

    def _open(self, uid, track, offset: float = 0.0) -> SourceReader:
        return SourceReader(track.path, self.rend.samplerate, self.rend.channels, offset)

    def _begin(self, entry, offset: float = 0.0, continues: bool = False, *, reader: SourceReader | None = None,
               prev: Segment | None = None, mix: np.ndarray | None = None) -> None:
        """Open ``entry`` (or the first playable one after it) at the write position. ``reader``: already
        open; ``mix``: the end of ``prev`` to crossfade into its start."""
        while entry is not None and entry is not UNKNOWN:
            uid, track = entry
            w = self.rend.w
            if reader is None:
                try:
                    reader = self._open(uid, track, offset)
                except DecodeError as exc:
                    self._append(Segment(self.gen, w, uid, track, float(offset), getattr(track, "duration", None),
                                         end=w, error=str(exc)))
                    self.fails += 1
                    limit = max(1, self.queue_len())
                    if self.fails >= limit:
                        self._end(f"error: none of the {limit} tracks in the queue could be played" if limit > 1
                                  else f"error: {getattr(track, 'title', 'the track')} could not be played: {exc}")
                        return
                    entry = self.provider(uid, True)
                    offset, continues = 0.0, False
                    continue
            duration = reader.duration if reader.duration is not None else getattr(track, "duration", None)
            seg = Segment(self.gen, w, uid, track, reader.offset, duration, continues=continues)
            seg.gain = self._gain(uid, track, prev)
            job = _Job(reader, seg, gain=seg.gain)
            if mix is not None and len(mix):
                seg.mixed_from = mix
                job.fade = _Fade(mix)
            hold = int(self.crossfade * self.rend.samplerate)
            if hold > 0:
                job.held = _Held(hold, self.rend.channels)
                if reader.duration:  # hold back only the end, so that a start or a seek is not delayed
                    left = int((reader.duration - reader.offset) * self.rend.samplerate)
                    job.hold_from = max(0, left - hold - 2 * BLOCK)
            self._append(seg)
            self.job = job
            return
        if entry is UNKNOWN:  # the entry left the queue meanwhile; a replan follows and fixes the plan
            self._end("end")
            return
        if self.fails and not self.played_since_start:
            n = self.fails
            self._end("error: none of the tracks could be played" if n > 1 else "error: the track could not be played")
        else:
            self._end("end")

    def _gain(self, uid, track, prev: Segment | None) -> float:
        if self.gain_for is None:
            return 1.0
        try:
            return float(self.gain_for(uid, track, None if prev is None else prev.track))
        except Exception:  # a lookup that fails plays the track at its own level
            log.exception("the gain lookup failed")
            return 1.0

    def _step(self) -> None:
        job = self.job
        if job.pending is not None:
            k = self._write(job.pending)
            job.pending = job.pending[k:] if k < len(job.pending) else None
            return
        if job.ending:
            self._complete(job)
            return
        seg = job.seg
        try:
            data = job.reader.read()
        except DecodeError as exc:
            seg.error = str(exc)
            if seg.frames == 0:
                self.fails += 1
            self._finish(job)
            return
        if data is None:
            if seg.frames == 0 and seg.offset == 0.0:
                seg.error = NO_AUDIO
                self.fails += 1
            self._finish(job)
            return
        if len(data) == 0:
            return
        if seg.frames == 0:
            self.fails = 0
            self.played_since_start = True
        seg.frames += len(data)
        if job.gain != 1.0:
            data = data * np.float32(job.gain)
        if job.fade is not None:
            data = job.fade.apply(data)
            if job.fade.done:
                job.fade = None
        if job.held is not None and seg.frames > job.hold_from:
            data = job.held.push(data)
            if len(data) == 0:
                return
        k = self._write(data)
        if k < len(data):
            job.pending = data[k:]

    def _finish(self, job: _Job) -> None:
        """The track's audio is all decoded: write what is left of it (a crossfade's held end, the rest
        of a fade into it), then go on with the next entry."""
        seg, reader = job.seg, job.reader
        if reader is not None:
            info = reader.info
            seg.warning = info.warning
            if info.exact and info.frames is not None and not seg.error:
                seg.duration = info.frames / info.samplerate  # the real length
            reader.close()
        job.ending = True
        out = []
        if job.fade is not None:  # the track was shorter than the fade into it: the rest of the fade-out
            rest = job.fade.rest()
            job.fade = None
            out.append(job.held.push(rest) if job.held is not None else rest)
        tail = None
        if job.held is not None:
            tail, job.held = job.held.data, None
        job.pending = np.concatenate(out) if out and sum(map(len, out)) else None
        if seg.error and seg.frames == 0:
            limit = max(1, self.queue_len())
            if self.fails >= limit:
                self.job = None
                seg.end = self.rend.w
                self._end("error: none of the tracks in the queue could be played")
                return
        self._plan_after(job, tail)

    def _plan_after(self, job: _Job, tail: np.ndarray | None) -> None:
        """Decide what follows ``job``'s track and how: its held ``tail`` is written as it is, or its last
        part is crossfaded into the next track (opened here, to know its length)."""
        seg = job.seg
        entry = self.provider(seg.uid, bool(seg.error))
        reader, fade = None, None
        if tail is not None and len(tail) and entry is not None and entry is not UNKNOWN and not seg.error:
            seconds = self._crossfade_seconds(seg.track, entry.track)
            if seconds > 0:
                try:
                    reader = self._open(entry.uid, entry.track)
                except DecodeError:
                    reader = None  # _begin reports it
            if reader is not None:
                rate = self.rend.samplerate
                total = int(seg.offset * rate) + seg.frames
                n = min(len(tail), int(seconds * rate), int(total * CROSSFADE_SHARE))
                if reader.duration:
                    n = min(n, int(reader.duration * rate * CROSSFADE_SHARE))
                if n > 0:
                    tail, fade = tail[:len(tail) - n], tail[len(tail) - n:]
        if tail is not None and len(tail):
            job.pending = tail if job.pending is None else np.concatenate([job.pending, tail])
        job.after = (entry, reader, fade)
        if job.pending is None:
            self._complete(job, recheck=False)

    def _crossfade_seconds(self, prev_track, track) -> float:
        if self.crossfade_for is None:
            return 0.0
        try:
            return max(0.0, float(self.crossfade_for(prev_track, track) or 0.0))
        except Exception:
            log.exception("the crossfade rule failed")
            return 0.0

    def _complete(self, job: _Job, recheck: bool = True) -> None:
        """Everything of ``job``'s track is written: its segment ends here and the next one begins
        (asking the queue again when writing the end took a while: it may have changed)."""
        seg = job.seg
        seg.end = self.rend.w
        entry, reader, fade = job.after if job.after is not None else (None, None, None)
        job.after = None
        self.job = None
        now = self.provider(seg.uid, bool(seg.error)) if recheck else entry
        if reader is not None and (now is None or now is UNKNOWN or entry is None or now.uid != entry.uid):
            reader.close()  # the queue changed while the end was written: the planned crossfade is off
            reader = None
            if fade is not None and len(fade):
                job.pending, job.ending, job.after = fade, True, (now, None, None)
                self.job = job
                return
        if reader is None:
            entry, fade = now, None
        self._begin(entry, reader=reader, prev=seg, mix=fade)

    def _write(self, data: np.ndarray) -> int:
        """Copy into the ring; waits for space, but returns early (partially) when a command arrives."""
        rend = self.rend
        cap = rend.capacity
        n = len(data)
        done = 0
        while done < n:
            space = cap - (rend.w - rend.r)
            if space <= 0:
                if not self.cmds.empty() or self._quit:
                    break
                rend.space.clear()
                if cap - (rend.w - rend.r) <= 0:
                    rend.space.wait(0.01)
                continue
            k = min(space, n - done)
            w = rend.w
            i0 = w % cap
            first = min(k, cap - i0)
            rend.ring[i0:i0 + first] = data[done:done + first]
            if k > first:
                rend.ring[:k - first] = data[done + first:done + k]
            rend.w = w + k
            done += k
            rend.wake.set()
        return done

    # -- queue edits: make what follows the playing track match the queue again ------------------
    def _replan(self) -> None:
        """Walk the stream still ahead of the output and compare it with what the queue wants now;
        at the first difference, ask the output to cut there (sample-exact, so still gapless)."""
        self.replan_wanted = False
        _, rgen, r = self.rend.pub
        gens = [g for g, _ in self.chain]
        if rgen in gens:
            base = gens.index(rgen)
            flush_pending = False
        elif rgen < gens[0]:  # a flush the output has not taken yet: it starts at the chain's start
            base = 0
            first = self.segments(gens[0])
            r = first[0].start if first else self.rend.w
            flush_pending = True
        else:
            self._settled()
            return
        stream: list[tuple[Segment, int]] = []
        for i in range(base, len(self.chain)):
            g, cut_at = self.chain[i]
            for seg in self.segments(g):
                if cut_at is not None and seg.start >= cut_at:
                    break
                stream.append((seg, i))
        playing = None
        for k, (seg, i) in enumerate(stream):
            if i != base or seg.start > r:
                break
            if seg.kind == "audio" and (seg.error is None or seg.frames > 0):
                playing = k
        if playing is None:
            self._settled()
            return
        prev = stream[playing][0]
        for j in range(playing + 1, len(stream)):
            seg, i = stream[j]
            want = self.provider(prev.uid, bool(prev.error))
            if want is UNKNOWN:
                break
            have = None if seg.kind == "end" else seg.uid
            if (None if want is None else want[0]) != have:
                if seg.kind == "end" and seg.end_reason and seg.end_reason.startswith("error"):
                    break  # the queue was given up on; a queue edit does not retry it
                if i == base:
                    at, strict = seg.start, seg.kind == "end"
                else:  # the difference lies beyond a cut the output has not reached: redo from that cut
                    at, strict = self.chain[base][1], False
                    prev = [s for s, ci in stream if ci == base][-1]
                if not flush_pending and (r > at or (strict and r >= at)):
                    break  # the output is already past it: nothing left to change
                self._request_cut(self.chain[base][0], at, strict, prev)
                return
            if seg.kind == "end":
                break
            prev = seg
        self._settled()

    def _request_cut(self, base_gen: int, at: int, strict: bool, prev: Segment) -> None:
        self._cut_ids += 1
        new_gen = self.alloc_gen()
        self.cut_pending = CutPending(self._cut_ids, base_gen, at, new_gen, prev)
        self.rend.cut_req = CutRequest(self._cut_ids, base_gen, at, new_gen, strict)
        self.rend.wake.set()

    def _check_cut(self) -> None:
        rid, base_gen, at, new_gen, prev = self.cut_pending
        resp = self.rend.cut_resp
        if resp[0] != rid:
            self.rend.space.clear()
            if self.rend.cut_resp[0] != rid:
                self.rend.space.wait(0.005)
            return
        self.cut_pending = None
        if not resp[1]:
            self.replan_wanted = True  # the output got there first (or switched meanwhile): look again
            return
        # accepted: the output will not read at or past ``at`` in base_gen; it continues with new_gen
        self._drop_job()
        gens = [g for g, _ in self.chain]
        base = gens.index(base_gen)
        with self.seg_lock:
            for g in gens[base + 1:]:
                self.table.pop(g, None)
            segs = self.table.get(base_gen, [])
            keep = segs.index(prev) + 1 if prev in segs else len([x for x in segs if x.start < at])
            # the end of ``prev`` that was crossfaded into the segment cut away is not out yet: keep it
            carried = next((x.mixed_from for x in segs[keep:] if x.start == at and x.mixed_from is not None), None)
            del segs[keep:]
            self.table[new_gen] = []
        if prev.end is None or prev.end > at:
            prev.end = at
        self.chain = self.chain[:base + 1]
        self.chain[base][1] = at
        self.chain.append([new_gen, None])
        self.gen = new_gen
        self.rend.w = at
        if carried is not None:
            job = _Job(None, prev, ending=True)
            self._plan_after(job, carried)
        else:
            self._begin(self.provider(prev.uid, bool(prev.error)), prev=prev)
        self.rend.gen_start = GenStart(new_gen, at, False)
        if not self.replan_wanted:
            self._settled()
        self.rend.wake.set()


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()  # the provider cannot tell (the playing entry left the queue)

__all__ = ["SourceReader", "Decoder", "DecodeError", "Segment", "Entry", "UNKNOWN", "fmt_time", "downmix_matrix"]

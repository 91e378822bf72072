"""Decoding: a file -> blocks at the device's rate and channel count, and the decoder thread.

:class:`SourceReader` opens one file with soundfile and yields float32 blocks, resampled with a
streaming soxr resampler when the file's rate differs from the device's. It reads fixed-size blocks
into one preallocated buffer and never sizes anything from the file's frame count (libsndfile can
report 2**63 frames for a truncated mp3): the end of a file is where a read returns no frames.

:class:`Decoder` is the thread that keeps the ring full. It decodes the playing track, then, still in
the same continuous stream, the next one (which is how playback is gapless: the next track is
decoded while the end of the current one is still in the ring). Each stretch of the stream that
belongs to one queue entry is a :class:`Segment`; the player's monitor walks the segments to know
what is playing.
"""

from __future__ import annotations

import logging
import os
import queue as _queue
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from player.audio.renderer import Renderer

log = logging.getLogger(__name__)

BLOCK = 16384  # source frames per read: larger blocks cost less per frame (mp3 especially)
SANE_FRAMES = 1 << 40  # more than this is libsndfile's "unknown" (2**63 for some broken mp3s)


class DecodeError(Exception):
    """A file could not be played, with the reason in words."""


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-:--"
    seconds = max(0.0, float(seconds))
    total = int(seconds)
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _clean_sf_message(exc: BaseException) -> str:
    text = str(exc).strip()
    if text.startswith("Error opening") and "': " in text:
        text = text.split("': ", 1)[1]
    return text or type(exc).__name__


def explain_open_error(path: str, exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) or not os.path.exists(path):
        return "the file is gone (moved or deleted)"
    if isinstance(exc, PermissionError) or not os.access(path, os.R_OK):
        return "the file cannot be read (permission denied)"
    if os.path.isdir(path):
        return "it is a folder, not an audio file"
    try:
        if os.path.getsize(path) == 0:
            return "the file is empty"
    except OSError:
        pass
    msg = _clean_sf_message(exc)
    low = msg.lower()
    if "not recognised" in low or "not recognized" in low or "does not exist or is not a regular file" in low:
        return "not a playable audio file (unknown or damaged format)"
    return f"cannot decode it: {msg}"


# Stereo downmix of multichannel files. Channel order by count: WAV, FLAC, AIFF and CAF use the SMPTE/WAV
# order; Ogg Vorbis and Opus their own (centre second, LFE last; libsndfile passes it through unchanged).
# Centre and surrounds go in at -3 dB, a back centre at -3 dB into each side (-6 dB), the LFE is left out
# (as ITU-R BS.775's Lo/Ro and ffmpeg's default downmix do); each output side is then scaled by the sum of
# its coefficients, so a mix of full-scale channels cannot clip.
_FL, _FR, _FC, _LFE, _BL, _BR, _BC = "FL", "FR", "FC", "LFE", "BL", "BR", "BC"
_SMPTE_ORDER = {3: (_FL, _FR, _FC), 4: (_FL, _FR, _BL, _BR), 5: (_FL, _FR, _FC, _BL, _BR),
                6: (_FL, _FR, _FC, _LFE, _BL, _BR), 7: (_FL, _FR, _FC, _LFE, _BC, _BL, _BR),
                8: (_FL, _FR, _FC, _LFE, _BL, _BR, _BL, _BR)}
_VORBIS_ORDER = {3: (_FL, _FC, _FR), 4: (_FL, _FR, _BL, _BR), 5: (_FL, _FC, _FR, _BL, _BR),
                 6: (_FL, _FC, _FR, _BL, _BR, _LFE), 7: (_FL, _FC, _FR, _BL, _BR, _BC, _LFE),
                 8: (_FL, _FC, _FR, _BL, _BR, _BL, _BR, _LFE)}
_M3DB = float(np.sqrt(0.5))
_TO_STEREO = {_FL: (1.0, 0.0), _FR: (0.0, 1.0), _FC: (_M3DB, _M3DB), _LFE: (0.0, 0.0),
              _BL: (_M3DB, 0.0), _BR: (0.0, _M3DB), _BC: (0.5, 0.5)}


def downmix_matrix(in_channels: int, out_channels: int, vorbis_order: bool = False) -> np.ndarray | None:
    """The (in_channels, out_channels) float32 matrix that mixes a file's channels for the device, or
    None where no mixing is needed (same count, or mono copied to every output). Up to 8 input channels
    are downmixed by their speaker positions; more than 8 (no standard layout) keep their first pair."""
    if in_channels == out_channels or in_channels == 1:
        return None
    if in_channels == 2 or in_channels not in _SMPTE_ORDER:
        m = np.zeros((in_channels, 2), np.float32)
        m[0, 0] = m[1, 1] = 1.0
    else:
        order = (_VORBIS_ORDER if vorbis_order else _SMPTE_ORDER)[in_channels]
        m = np.array([_TO_STEREO[p] for p in order], np.float32)
        m /= m.sum(axis=0, keepdims=True)
    if out_channels == 1:
        return m.mean(axis=1, keepdims=True).astype(np.float32)
    out = np.zeros((in_channels, out_channels), np.float32)  # a device with more than two: the front pair
    out[:, :2] = m
    return out


class SourceReader:
    """One file, decoded block by block to ``out_rate`` Hz and ``out_channels`` channels (float32)."""

    def __init__(self, path: str, out_rate: int, out_channels: int, offset: float = 0.0, block: int = BLOCK):
        import soundfile as sf

        self.path = path
        if not os.path.exists(path):
            raise DecodeError("the file is gone (moved or deleted)")
        try:
            self.f = sf.SoundFile(path)
        except Exception as exc:  # LibsndfileError, OSError, RuntimeError …
            raise DecodeError(explain_open_error(path, exc)) from None
        try:
            self.in_rate = int(self.f.samplerate)
            self.in_channels = int(self.f.channels)
            if self.in_rate <= 0 or self.in_channels <= 0:
                raise DecodeError("the file reports no sample rate or no channels")
            frames = self.f.frames
            self.duration = frames / self.in_rate if 0 < frames < SANE_FRAMES else None
            self.out_rate = int(out_rate)
            self.out_channels = int(out_channels)
            self.mix = downmix_matrix(self.in_channels, self.out_channels,
                                      vorbis_order=str(self.f.format).upper() == "OGG")
            self.buf = np.zeros((block, self.in_channels), np.float32)
            self.frames_read = 0
            self.done = False
            start = max(0, int(round(float(offset) * self.in_rate)))
            if start:
                self._seek(start)
            self.offset = self.frames_read / self.in_rate
            self.resampler = None
            if self.in_rate != self.out_rate:
                import soxr

                self.resampler = soxr.ResampleStream(self.in_rate, self.out_rate, self.in_channels,
                                                     dtype="float32", quality="HQ")
        except BaseException:
            self.close()
            raise

    def _seek(self, frame: int) -> None:
        if self.f.seekable():
            try:
                self.frames_read = int(self.f.seek(frame))
                return
            except Exception:  # a broken index: fall back to reading up to the frame
                try:
                    self.f.seek(0)
                except Exception as exc:
                    raise DecodeError(f"cannot seek in the file: {_clean_sf_message(exc)}") from None
                self.frames_read = 0
        while self.frames_read < frame:  # decode and discard, block by block
            want = min(len(self.buf), frame - self.frames_read)
            try:
                got = len(self.f.read(out=self.buf[:want]))
            except Exception as exc:
                raise DecodeError(f"decoding failed at {fmt_time(self.frames_read / self.in_rate)}: "
                                  f"{_clean_sf_message(exc)}") from None
            if got == 0:
                break
            self.frames_read += got

    @property
    def position(self) -> float:
        return self.frames_read / self.in_rate

    def read(self) -> np.ndarray | None:
        """The next block at the output rate/channels, or None at the end. Raises DecodeError."""
        if self.done:
            return None
        try:
            data = self.f.read(out=self.buf)
        except Exception as exc:
            self.done = True
            self.close()
            raise DecodeError(f"decoding failed at {fmt_time(self.position)}: {_clean_sf_message(exc)}") from None
        got = len(data)
        if got == 0:
            self.done = True
            self.close()
            if self.resampler is None:
                return None
            tail = self.resampler.resample_chunk(np.zeros((0, self.in_channels), np.float32), last=True)
            return self._map(tail) if len(tail) else None
        self.frames_read += got
        if self.resampler is not None:
            data = self.resampler.resample_chunk(data, last=False)
        return self._map(data)

    def _map(self, data: np.ndarray) -> np.ndarray:
        if self.mix is not None:
            return data @ self.mix
        if data.shape[1] == self.out_channels:
            return data
        return np.broadcast_to(data, (len(data), self.out_channels))  # mono to every output

    def close(self) -> None:
        f = getattr(self, "f", None)
        if f is not None:
            try:
                f.close()
            except Exception:
                pass


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
    frames: int = 0  # frames written so far
    end_reason: str | None = None  # for kind "end": "end", "stopped", or an error message


@dataclass
class _Job:
    reader: SourceReader
    seg: Segment
    pending: np.ndarray | None = None


Entry = tuple  # (uid, track)


class Decoder(threading.Thread):
    """Keeps the ring full; obeys start/stop/replan commands from the player."""

    def __init__(self, renderer: Renderer, provider: Callable[..., Any], queue_len: Callable[[], int],
                 alloc_gen: Callable[[], int], name: str = "audio-decoder"):
        super().__init__(name=name, daemon=True)
        self.rend = renderer
        self.provider = provider  # provider(uid, after_error) -> (uid, track) | None | UNKNOWN
        self.queue_len = queue_len
        self.alloc_gen = alloc_gen  # allocates a generation number under the player's gen lock
        self.cmds: _queue.SimpleQueue = _queue.SimpleQueue()
        self.seg_lock = threading.Lock()
        self.table: dict[int, list[Segment]] = {0: [Segment(0, 0, None, None, kind="end", end_reason="stopped")]}
        self.gen = 0
        self.job: _Job | None = None
        self.fails = 0
        self.played_since_start = False
        self.cut_pending: tuple | None = None  # (req id, base gen, cut frame, new gen, last kept segment)
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
        self.cmds.put(("start", gen, entry, offset, continues, fade_in))

    def stop_gen(self, gen: int, reason: str = "stopped") -> None:
        self.cmds.put(("stop", gen, reason))

    def replan(self) -> None:
        """The queue changed: re-check what follows the playing track. Non-real-time outputs hold
        still until that is settled (see Renderer.hold), so tests and --fast runs are exact."""
        with self._hold_lock:
            self._hold_seq += 1
            seq = self._hold_seq
            self.rend.hold = seq
        self.cmds.put(("replan", seq))

    def quit(self) -> None:
        self.cmds.put(("quit",))

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

    def _handle(self, cmd: tuple) -> None:
        op = cmd[0]
        if op == "quit":
            self._quit = True
        elif op == "start":
            _, gen, entry, offset, continues, fade_in = cmd
            self._new_gen(gen)
            self.played_since_start = False
            self._begin(entry, offset, continues)
            self.rend.gen_start = (gen, self.rend.w, bool(fade_in))
            self.rend.wake.set()
        elif op == "stop":
            _, gen, reason = cmd
            self._new_gen(gen)
            self._end(reason)
            self.rend.gen_start = (gen, self.rend.w, False)
            self.rend.wake.set()
        elif op == "replan":
            self._replan_seq = max(self._replan_seq, cmd[1])
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
        if self.job is not None:
            self.job.reader.close()
            self.job = None

    def _end(self, reason: str) -> None:
        """No more audio in this generation: the end mark."""
        w = self.rend.w
        self._append(Segment(self.gen, w, None, None, kind="end", end=w, end_reason=reason))
        self.rend.eos = (self.gen, w)
        self.rend.wake.set()

    def _begin(self, entry, offset: float = 0.0, continues: bool = False) -> None:
        """Open ``entry`` (or the first playable one after it) at the write position."""
        while entry is not None and entry is not UNKNOWN:
            uid, track = entry
            w = self.rend.w
            try:
                reader = SourceReader(os.fspath(track.path), self.rend.samplerate, self.rend.channels, offset)
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
            self._append(seg)
            self.job = _Job(reader, seg)
            return
        if entry is UNKNOWN:  # the entry left the queue meanwhile; a replan follows and fixes the plan
            self._end("end")
            return
        if self.fails and not self.played_since_start:
            n = self.fails
            self._end("error: none of the tracks could be played" if n > 1 else "error: the track could not be played")
        else:
            self._end("end")

    def _step(self) -> None:
        job = self.job
        if job.pending is not None:
            k = self._write(job.pending)
            job.pending = job.pending[k:] if k < len(job.pending) else None
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
                seg.error = "the file holds no audio"
                self.fails += 1
            self._finish(job)
            return
        if len(data) == 0:
            return
        if seg.frames == 0:
            self.fails = 0
            self.played_since_start = True
        seg.frames += len(data)
        k = self._write(data)
        if k < len(data):
            job.pending = data[k:]

    def _finish(self, job: _Job) -> None:
        seg = job.seg
        seg.end = self.rend.w
        job.reader.close()
        self.job = None
        if seg.error and seg.frames == 0:
            limit = max(1, self.queue_len())
            if self.fails >= limit:
                self._end("error: none of the tracks in the queue could be played")
                return
        self._begin(self.provider(seg.uid, bool(seg.error)))

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
        self.cut_pending = (self._cut_ids, base_gen, at, new_gen, prev)
        self.rend.cut_req = (self._cut_ids, base_gen, at, new_gen, strict)
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
            del segs[keep:]
            self.table[new_gen] = []
        if prev.end is None or prev.end > at:
            prev.end = at
        self.chain = self.chain[:base + 1]
        self.chain[base][1] = at
        self.chain.append([new_gen, None])
        self.gen = new_gen
        self.rend.w = at
        self._begin(self.provider(prev.uid, bool(prev.error)))
        self.rend.gen_start = (new_gen, at, False)
        if not self.replan_wanted:
            self._settled()
        self.rend.wake.set()


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()  # the provider cannot tell (the playing entry left the queue)

__all__ = ["SourceReader", "Decoder", "DecodeError", "Segment", "UNKNOWN", "fmt_time", "explain_open_error"]

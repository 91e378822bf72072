"""The real-time half of the engine: a preallocated ring of decoded frames and the output callback.

One :class:`Renderer` sits between the decoder thread (the only writer of ``w``, ``gen_start``,
``eos`` and ``cut_req``) and the output backend's callback (the only writer of ``r``, ``gen``,
``gain``, ``limit``, ``cut_resp``, ``pub`` and the switch log). The control side (the
:class:`~player.audio.player.Player`) writes only ``target_gen``, ``paused`` and ``target_gain``.
Every shared value is a single attribute (or one tuple) so each read or write is atomic under the
GIL: the callback takes no lock, does no I/O and allocates no arrays. (It is CPython: small int and
tuple objects come from the interpreter's free lists; there is no way around that in a Python
callback, and it costs nanoseconds.)

Positions are absolute frame counters (Python ints, never wrap); the ring index is ``pos % capacity``.

Generations
    Every "jump" of the stream gets a new generation number: play another track, seek, stop (a
    *flush*: the old audio fades out over a few ms, the unread rest of it is dropped) and a queue
    edit that changes what follows the playing track (a *cut*: at the exact frame where the next
    track would begin, the stream continues with different data: gapless). A flush is requested by
    raising ``target_gen``; the decoder then publishes ``gen_start = (gen, pos, fade_in)`` and the
    callback, once faded out, moves ``r`` to ``pos``. A cut is asked for by the decoder through
    ``cut_req``; the callback accepts it only while it has not yet read past the cut point, and
    answers in ``cut_resp``. Each switch is written to a small log the monitor reads, so the
    seconds played and track changes are accounted for exactly, however late the monitor looks.
"""

from __future__ import annotations

import math
import threading
from typing import NamedTuple

import numpy as np

LOG_SIZE = 64
KIND_FLUSH = 0
KIND_CUT = 1


class GenStart(NamedTuple):
    """Published by the decoder: generation ``gen`` starts at absolute frame ``frame``."""

    gen: int
    frame: int
    fade_in: bool


class CutRequest(NamedTuple):
    """The decoder asks the output to stop reading ``old_gen`` at frame ``at`` and go on with
    ``new_gen`` there; ``strict``: only if that frame was not output yet."""

    rid: int
    old_gen: int
    at: int
    new_gen: int
    strict: bool


class Renderer:
    """Ring buffer + the per-block output routine shared by all backends."""

    def __init__(self, samplerate: int, channels: int, *, buffer_seconds: float = 2.0,
                 ramp_ms: float = 10.0, max_block: int = 8192):
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self.capacity = max(4096, int(buffer_seconds * self.samplerate))
        self.ring = np.zeros((self.capacity, self.channels), np.float32)
        self.max_block = int(max_block)
        # gain moves at most this much per frame: 0 -> 1 in ramp_ms
        self.slew = 1.0 / max(1.0, ramp_ms / 1000.0 * self.samplerate)

        # -- producer side (decoder thread) -------------------------------------------------
        self.w = 0
        self.gen_start: GenStart = GenStart(0, 0, False)
        self.eos: tuple[int, int] = (0, 0)  # (gen, frame where that generation's audio ends)
        self.cut_req: CutRequest | None = None
        # -- control side (Player) -----------------------------------------------------------
        self.target_gen = 0
        self.paused = False
        self.target_gain = 1.0
        # -- consumer side (callback) --------------------------------------------------------
        self.r = 0
        self.gen = 0
        self.gain = 0.0
        self.limit = -1  # while >= 0: never read at or past this frame of limit_gen (an accepted cut)
        self.limit_gen = -1
        self.cut_gen = -1
        self.hold = 0  # control: a queue edit (number) is being applied ...
        self.released = 0  # decoder: ... up to this one; non-real-time output waits in between
        self.cut_resp: tuple[int, bool] = (0, False)
        self._cut_seen = 0
        self.switch_log = np.zeros((LOG_SIZE, 5), np.int64)  # old gen, left at, new gen, entered at, kind
        self.switch_count = 0
        self.pub: tuple[int, int, int] = (0, 0, 0)  # (switch_count, gen, r), one atomic snapshot
        self.underruns = 0
        self.blocks = 0

        # scratch, allocated once
        self._steps = np.arange(1, self.max_block + 1, dtype=np.float32)
        self._env = np.zeros(self.max_block, np.float32)

        # wake-ups for the non-real-time sides (never touched by the device callback)
        self.wake = threading.Event()   # decoder/control -> null backends: something to render
        self.space = threading.Event()  # null backends -> decoder: ring space was freed

    # -- helpers for the other threads -----------------------------------------------------------
    def free_space(self) -> int:
        return self.capacity - (self.w - self.r)

    @property
    def drained(self) -> bool:
        """True when the stream has played up to its end-of-stream mark and nothing else is pending."""
        e = self.eos
        return self.target_gen <= self.gen and e[0] == self.gen and self.r >= e[1] and self.limit < 0

    @property
    def idle(self) -> bool:
        """Nothing to output now: drained, or paused and already faded out."""
        if self.target_gen > self.gen or self.cut_req is not None and self.cut_req[0] != self._cut_seen:
            return False
        return self.drained or (self.paused and self.gain == 0.0)

    # -- the callback -------------------------------------------------------------------------------
    def render(self, out: np.ndarray, fill: bool = True) -> int:
        """Fill ``out`` (frames x channels, float32) and return how many frames came from the stream.

        With ``fill`` (a sound card) the frames that could not be produced (paused, underrun, end) are
        zeroed. Without it (the fast and manual null backends) they are left alone, and the stream
        also holds still while a queue edit is being applied (``hold``), so that what plays next is
        decided before the output gets there, however fast it runs.
        """
        n = out.shape[0]
        self.blocks += 1
        req = self.cut_req
        if req is not None and req[0] != self._cut_seen:
            self._answer_cut(req)
        pos = 0
        while pos < n:
            if self.target_gen > self.gen:  # a flush: fade out, then jump to the new generation
                gs = self.gen_start
                if self.gain > 0.0:
                    end = gs[1] if gs[0] == self.target_gen else -1  # never fade into the new audio
                    k = self._play(out, pos, n - pos, 0.0, True, end)
                    if k == 0:
                        self.gain = 0.0  # nothing left to fade: already silent
                    pos += k
                    continue
                if gs[0] != self.target_gen:
                    break  # the decoder has not started it yet
                self._switch(gs[0], gs[1], KIND_FLUSH)
                if self.limit_gen != gs[0]:
                    self.limit = -1
                    self.cut_gen = -1
                if not gs[2] and not self.paused:
                    self.gain = self.target_gain  # a track's own start needs no fade-in
                continue
            if self.paused:
                if self.gain > 0.0:
                    k = self._play(out, pos, n - pos, 0.0, True, -1)
                    if k == 0:
                        self.gain = 0.0
                    pos += k
                    continue
                break
            if self.limit >= 0 and self.r >= self.limit and self.limit_gen == self.gen:  # at an accepted cut
                gs = self.gen_start
                if gs[0] == self.cut_gen and gs[1] == self.limit:
                    self._switch(self.cut_gen, self.limit, KIND_CUT)  # gapless: same frame
                    self.limit = -1
                    self.cut_gen = -1
                    continue
                break
            if not fill and self.hold > self.released:
                break
            k = self._play(out, pos, n - pos, self.target_gain, False, -1)
            if k == 0:
                if not self.drained:
                    self.underruns += 1
                break
            pos += k
        if pos < n and fill:
            out[pos:] = 0.0
        self.pub = (self.switch_count, self.gen, self.r)
        return pos

    def _answer_cut(self, req) -> None:
        rid, old_gen, at, new_gen, strict = req
        self._cut_seen = rid
        ok = False
        if self.target_gen <= old_gen:
            free = self.limit < 0 or self.limit_gen != old_gen or at <= self.limit
            if self.gen == old_gen:  # nothing at or after ``at`` was output yet
                ok = free and (self.r < at if strict else self.r <= at)
            elif self.gen < old_gen and self.target_gen == old_gen:
                ok = free  # that generation has not started yet: it starts at or before ``at``
        if ok:
            self.limit = at
            self.limit_gen = old_gen
            self.cut_gen = new_gen
        self.cut_resp = (rid, ok)

    def _switch(self, gen: int, at: int, kind: int) -> None:
        row = self.switch_log[self.switch_count % LOG_SIZE]
        row[0] = self.gen
        row[1] = self.r
        row[2] = gen
        row[3] = at
        row[4] = kind
        self.switch_count += 1
        self.gen = gen
        self.r = at

    def _play(self, out: np.ndarray, pos: int, want: int, target: float, stop_at_target: bool, end: int) -> int:
        """Copy up to ``want`` frames from the ring into ``out[pos:]`` while moving the gain to ``target``
        (reading no further than ``end`` when it is >= 0)."""
        if end < 0 or end > self.w:
            end = self.w
        if self.limit >= 0 and end > self.limit and self.limit_gen == self.gen:
            end = self.limit
        k = end - self.r
        if k <= 0:
            return 0
        if k > want:
            k = want
        if k > self.max_block:
            k = self.max_block
        g0 = self.gain
        if stop_at_target:
            need = math.ceil(abs(g0 - target) / self.slew)
            if need < 1:
                need = 1
            if k > need:
                k = need
        cap = self.capacity
        i0 = self.r % cap
        first = cap - i0
        dst = out[pos:pos + k]
        if k <= first:
            dst[:] = self.ring[i0:i0 + k]
        else:
            dst[:first] = self.ring[i0:]
            dst[first:] = self.ring[:k - first]
        if g0 == target:
            if g0 != 1.0:
                np.multiply(dst, g0, out=dst)
        else:
            env = self._env
            diff = target - g0
            m = math.ceil(abs(diff) / self.slew)
            if m > k:
                m = k
            if m > 0:
                np.multiply(self._steps[:m], self.slew if diff > 0 else -self.slew, out=env[:m])
                np.add(env[:m], g0, out=env[:m])
                if diff > 0:
                    np.minimum(env[:m], target, out=env[:m])
                else:
                    np.maximum(env[:m], target, out=env[:m])
            if m < k:
                env[m:k] = target
            np.multiply(dst, env[:k, None], out=dst)
            g = float(env[k - 1])
            self.gain = target if abs(g - target) < 1e-6 else g
        self.r += k
        return k

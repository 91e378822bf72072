"""The two decoders behind the one audio reader (:mod:`player.audio.reader`): libsndfile through
soundfile, and FFmpeg through PyAV. Each is a *source* with ``read(n)``, ``seek(frame)`` and ``close()``
plus what the reader needs to know about the file (rate, channels, the container's frame count, codec
and container names). :func:`_open_source` picks one by the file's content, the other as a fallback.
Nothing outside the reader uses these directly.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from typing import Iterator

import numpy as np

from player.audio.errors import NOT_AUDIO, AudioError, fmt_time, reason, translate_errors

BLOCK = 16384  # frames per read: larger blocks cost less per frame
MAX_SECONDS = 7 * 24 * 3600.0  # a length beyond this is not believed (libsndfile says 2**63 for some mp3s)
MAX_COUNT_SECONDS = 6 * 3600.0  # never decode more than this just to count frames
SHORT_WARNING_SECONDS = 1.0  # stopping this much (or more) before the header's length earns a warning
SEEK_PREROLL = 0.2  # seconds decoded (and dropped) before a seek target: codec priming, bit reservoirs
TAIL_SECONDS = 3.0  # how much of the end probe_audio decodes

SOUNDFILE, FFMPEG = "soundfile", "ffmpeg"

# channel names in file order, by count, for soundfile (libsndfile gives no layout)
SMPTE_ORDER = {1: ("FC",), 2: ("FL", "FR"), 3: ("FL", "FR", "FC"), 4: ("FL", "FR", "BL", "BR"),
               5: ("FL", "FR", "FC", "BL", "BR"), 6: ("FL", "FR", "FC", "LFE", "BL", "BR"),
               7: ("FL", "FR", "FC", "LFE", "BC", "BL", "BR"), 8: ("FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR")}
VORBIS_ORDER = {1: ("FC",), 2: ("FL", "FR"), 3: ("FL", "FC", "FR"), 4: ("FL", "FR", "BL", "BR"),
                5: ("FL", "FC", "FR", "BL", "BR"), 6: ("FL", "FC", "FR", "BL", "BR", "LFE"),
                7: ("FL", "FC", "FR", "SL", "SR", "BC", "LFE"), 8: ("FL", "FC", "FR", "SL", "SR", "BL", "BR", "LFE")}
# each speaker's share of the left and right of a stereo downmix (ITU-R BS.775: centre and surrounds at
# -3 dB, no LFE)
_M3DB = float(np.sqrt(0.5))
_TO_STEREO = {"FL": (1.0, 0.0), "FR": (0.0, 1.0), "FC": (_M3DB, _M3DB), "LFE": (0.0, 0.0), "LFE2": (0.0, 0.0),
              "BL": (_M3DB, 0.0), "BR": (0.0, _M3DB), "SL": (_M3DB, 0.0), "SR": (0.0, _M3DB), "BC": (0.5, 0.5),
              "FLC": (1.0, 0.0), "FRC": (0.0, 1.0), "TC": (0.5, 0.5), "TFC": (0.5, 0.5), "TBC": (0.5, 0.5),
              "TFL": (_M3DB, 0.0), "TFR": (0.0, _M3DB), "TBL": (_M3DB, 0.0), "TBR": (0.0, _M3DB),
              "DL": (1.0, 0.0), "DR": (0.0, 1.0), "WL": (_M3DB, 0.0), "WR": (0.0, _M3DB)}


# -- helpers ------------------------------------------------------------------------------------------

# Containers libsndfile also reads: tried when FFmpeg refuses one (never for other content: libsndfile's
# mpg123 prints to stderr on junk, and reads nothing FFmpeg cannot).
_SOUNDFILE_ALSO = (b"OggS", b"caff", b".snd", b"FORM", b"riff", b"RIFF", b"RF64", b"BW64", b"fLaC")


def _backends(path) -> list[str]:
    """The backends to try, in order, from the first bytes (never from the name)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return [FFMPEG]
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return [SOUNDFILE, FFMPEG]
    if head[:4] == b"fLaC" or head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return [SOUNDFILE, FFMPEG]
    return [FFMPEG, SOUNDFILE] if head[:4] in _SOUNDFILE_ALSO else [FFMPEG]


def _plausible(frames, rate: int) -> bool:
    return frames is not None and 0 < frames < MAX_SECONDS * rate


def _as_float32(arr: np.ndarray) -> np.ndarray:
    kind = arr.dtype
    if kind == np.float32:
        return arr
    if kind == np.int16:
        return arr.astype(np.float32) * np.float32(1 / 32768)
    if kind == np.int32:
        return arr.astype(np.float32) * np.float32(1 / 2147483648)
    if kind == np.uint8:
        return (arr.astype(np.float32) - 128.0) * np.float32(1 / 128)
    if kind == np.int64:
        return (arr / 9223372036854775808.0).astype(np.float32)
    return arr.astype(np.float32)



def mono_mix(block: np.ndarray) -> np.ndarray:
    """The mean of the channels (what the analysis front end was trained on), float32 (n,)."""
    if block.ndim == 1:
        return block.astype(np.float32, copy=False)
    if block.shape[1] == 1:
        return block[:, 0].astype(np.float32, copy=True)
    if block.shape[1] == 2:
        out = block[:, 0] + block[:, 1]
        out *= np.float32(0.5)
        return out
    return (block @ np.full(block.shape[1], 1.0 / block.shape[1], np.float32)).astype(np.float32)


def _close_quietly(handle) -> None:
    if handle is not None:
        try:
            handle.close()
        except Exception:
            pass


def _short_warning(decoded: int, announced: int | None, rate: int) -> str | None:
    if announced is None or announced - decoded < SHORT_WARNING_SECONDS * rate:
        return None
    return f"the file stops at {fmt_time(decoded / rate)}, its header announced {fmt_time(announced / rate)}"


# -- backends -----------------------------------------------------------------------------------------

class _SoundfileSource:
    """libsndfile through soundfile (WAV, FLAC, AIFF; also a fallback for what FFmpeg refuses)."""

    backend = SOUNDFILE

    def __init__(self, path):
        import soundfile as sf

        with translate_errors(path, opening=True):
            self.f = sf.SoundFile(os.fsencode(path))
        try:
            self.samplerate = int(self.f.samplerate)
            self.channels = int(self.f.channels)
            if self.samplerate <= 0 or self.channels <= 0:
                raise AudioError("the file reports no sample rate or no channels")
            fmt = str(self.f.format).upper()
            subtype = str(self.f.subtype).upper()
            frames = int(self.f.frames)
            self.frames = frames if _plausible(frames, self.samplerate) else None
            self.exact = self.frames is not None and fmt in ("WAV", "WAVEX", "RF64", "AIFF", "FLAC", "W64", "CAF")
            self.estimate = None
            self.container = {"WAVEX": "wav", "RF64": "wav", "MPEG": "mp3"}.get(fmt, fmt.lower())
            self.codec = {"MPEG_LAYER_III": "mp3", "VORBIS": "vorbis", "OPUS": "opus"}.get(
                subtype, "flac" if fmt == "FLAC" else subtype.lower())
            self.format = ("opus" if subtype == "OPUS" else self.container) if fmt == "OGG" else self.container
            names = (VORBIS_ORDER if fmt == "OGG" else SMPTE_ORDER).get(self.channels)
            self.channel_names = names or tuple(f"C{i}" for i in range(self.channels))
            self.exact_seek = True
            self.bit_rate = None
            if self.frames:
                self.bit_rate = int(os.path.getsize(path) * 8 * self.samplerate / self.frames)
            self.buf = np.zeros((BLOCK, self.channels), np.float32)
        except BaseException:
            self.close()
            raise

    def read(self, n: int) -> np.ndarray:
        """Up to ``n`` frames (a view of an internal buffer, valid until the next call)."""
        if n > len(self.buf):
            self.buf = np.zeros((n, self.channels), np.float32)
        return self.f.read(out=self.buf[:n])

    def read_mono(self, n: int) -> np.ndarray:
        """Up to ``n`` frames as the mean of the channels, float32 ``(n,)`` (a fresh array)."""
        return mono_mix(self.read(n))

    def seek(self, frame: int) -> int:
        """Go to ``frame`` (exact); returns where it got (the end when ``frame`` lies beyond it)."""
        if self.f.seekable():
            try:
                return int(self.f.seek(frame))
            except Exception:  # a broken index: decode from the start instead
                self.f.seek(0)
        pos = 0
        while pos < frame:
            got = len(self.read(min(BLOCK, frame - pos)))
            if got == 0:
                break
            pos += got
        return pos

    def close(self) -> None:
        _close_quietly(getattr(self, "f", None))


def _itunsmpb(metadata) -> tuple[int, int, int] | None:
    """(priming, padding, original length) from an iTunes ``iTunSMPB`` value."""
    text = None
    for key, value in (metadata or {}).items():
        if key.lower() == "itunsmpb":
            text = value
    if not text:
        return None
    try:
        words = [int(w, 16) for w in str(text).split()]
        return words[1], words[2], words[3]
    except (ValueError, IndexError):
        return None


_EXACT_CONTAINERS = {"ogg", "flac", "wv", "tta", "aiff", "wav", "w64", "caf", "ape"}


def _has_vbr_header(path) -> bool:
    """An MP3 whose first frame is a Xing/Info (LAME) or VBRI header: its frame count is exact."""
    try:
        with open(path, "rb") as f:
            head = f.read(10)
            skip = 0
            if head[:3] == b"ID3" and len(head) == 10:
                size = head[6:10]
                skip = 10 + (size[0] << 21 | size[1] << 14 | size[2] << 7 | size[3])
            f.seek(skip)
            first = f.read(4096)
    except OSError:
        return False
    sync = next((i for i in range(len(first) - 1) if first[i] == 0xFF and first[i + 1] & 0xE0 == 0xE0), -1)
    return sync >= 0 and any(tag in first[sync:sync + 200] for tag in (b"Xing", b"Info", b"VBRI"))


class _FFmpegSource:
    """FFmpeg through PyAV: MP3, Ogg, AAC/M4A, ALAC, WMA, WavPack, APE, Musepack, Matroska/WebM, …"""

    backend = FFMPEG

    def __init__(self, path):
        self.path = os.fsdecode(path)  # FFmpeg takes str; os.fsdecode round-trips non-UTF-8 names
        self.c = None
        self._open()
        try:
            st = self.st
            cc = st.codec_context
            self.samplerate = int(cc.sample_rate or st.rate or 0)
            self.channels = int(cc.channels or 0)
            if self.samplerate <= 0 or self.channels <= 0:
                raise AudioError("the file reports no sample rate or no channels")
            names = tuple(ch.name for ch in cc.layout.channels) if cc.layout else ()
            if len(names) != self.channels or not all(n in _TO_STEREO for n in names):  # an unspecified layout
                names = SMPTE_ORDER.get(self.channels, tuple(f"C{i}" for i in range(self.channels)))
            self.channel_names = names
            self.codec = cc.name
            self.container = self.c.format.name.split(",")[0]
            self.format = self._format_name()
            self.bit_rate = st.bit_rate or self.c.bit_rate or None
            self.tb = Fraction(st.time_base) if st.time_base else None
            self.start_pts = st.start_time if st.start_time is not None else 0
            # where frame 0 lies in the stream's timestamps, in frames (Matroska and ASF count milliseconds:
            # positions found from their timestamps are good to a millisecond)
            self.origin = self.start_pts * self.tb * self.samplerate if self.tb else 0
            # a time base finer than a sample (1/k with k a multiple of the rate) counts exactly in samples
            self.fine = (self.tb is not None and self.tb.numerator == 1 and self.tb.denominator % self.samplerate == 0)
            self.exact_seek = self.fine and self.container != "mp3"  # mp3 seeks by TOC or bit rate
            self.ticks = self.tb.denominator // self.samplerate if self.fine else 0  # time-base ticks a frame
            # A packet's duration cuts its frame (the padding of an MP4's last AAC frame) where it is exact.
            # Not for Vorbis: FFmpeg's Ogg demuxer gives the packet after a long block the short block's
            # length (128 where 576 samples decode), and cutting there lost 4-5 % of real music's samples.
            self.trim = self.fine and self.codec != "vorbis"
            smpb = _itunsmpb(self.c.metadata) if self.container == "mov" else None
            self.end_limit = smpb[2] if smpb and smpb[2] > 0 else None
            self.frames, self.exact = self._header_frames(st, cc)
            if self.end_limit is not None:
                self.frames, self.exact = self.end_limit, True
            self.estimate = self.c.duration / 1e6 if self.c.duration and self.c.duration > 0 else None
        except BaseException:
            self.close()
            raise
        self.pos = 0  # frame index of the next frame read() returns
        self.pending: np.ndarray | None = None
        self.discard_to = 0  # after a seek: drop decoded audio before this frame
        self.located = True  # the position of the next decoded frame is known (False right after a seek)
        self.frames_iter = self._decoded()
        self.errors = 0

    def _open(self) -> None:
        import av

        if self.c is not None:
            self.c.close()
        with translate_errors(self.path, opening=True):
            self.c = av.open(self.path, "r", metadata_errors="replace")
        if not self.c.streams.audio:
            kind = "a video without sound" if self.c.streams.video else "no audio stream"
            self.c.close()
            raise AudioError(f"{kind}: nothing to play in it")
        self.st = self.c.streams.audio[0]

    def _format_name(self) -> str:
        cont, codec = self.container, self.codec
        if cont == "ogg":
            return "opus" if codec == "opus" else "flac" if codec == "flac" else "ogg"
        if cont == "mov":
            return "alac" if codec == "alac" else "m4a"
        if cont == "matroska":
            try:
                with open(self.path, "rb") as f:
                    return "webm" if b"webm" in f.read(64) else "mka"
            except OSError:
                return "mka"
        return {"asf": "wma", "mpc8": "mpc", "adts": "aac", "wav": "wav"}.get(cont, cont)

    def _header_frames(self, st, cc) -> tuple[int | None, bool]:
        if st.duration is None and self.container == "matroska" and self.c.duration:
            # Matroska keeps the length in the segment, not the stream: an estimate (to the millisecond,
            # the Opus pre-skip counted), checked against the decoded tail like any other
            frames = round(self.c.duration * self.samplerate / 1_000_000) - (cc.delay or 0 if self.codec == "opus" else 0)
            return (frames, False) if _plausible(frames, self.samplerate) else (None, False)
        if st.duration is None or self.tb is None:
            return None, False
        frames = st.duration * self.tb * self.samplerate
        if self.container == "mov" and self.start_pts > 0:
            frames -= self.start_pts * self.tb * self.samplerate  # the priming is counted in the duration
        if self.container == "ogg" and self.codec == "opus":
            frames -= cc.delay or 0  # the pre-skip is counted in the last granule position
        frames = int(round(frames))
        if not _plausible(frames, self.samplerate):
            return None, False
        # exact where the container counts samples; MP3 only with a Xing/Info/VBRI header (else FFmpeg
        # estimates from the bit rate); MP4's edit list is in the movie's coarser time scale
        exact = self.container in _EXACT_CONTAINERS or self.container == "mp3" and _has_vbr_header(self.path)
        return frames, exact

    def _decoded(self) -> Iterator:
        """Decoded frames; a damaged packet is passed over (as FFmpeg's own tools do)."""
        import av

        bad_in_a_row = 0
        for packet in self.c.demux(self.st):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                self.errors += 1
                bad_in_a_row += 1
                if bad_in_a_row > 200:  # nothing but damage: stop here (the caller decides what that means)
                    return
                continue
            bad_in_a_row = 0
            yield from frames

    def _frame_array(self, frame, mono: bool = False) -> np.ndarray:
        if mono and self.channels <= 2 and frame.format.name == "fltp":
            # what mono_mix makes of the frame, straight from its planes (no (n, 2) copy in between):
            # Vorbis, Opus, MP3 and AAC decode to planar float; a third of the reader's work per excerpt
            planes, n = frame.planes, frame.samples
            arr = np.frombuffer(planes[0], np.float32, n)
            if self.channels == 2:
                arr = arr + np.frombuffer(planes[1], np.float32, n)
                arr *= np.float32(0.5)
            else:
                arr = arr.copy()
        else:
            arr = frame.to_ndarray()
            arr = arr.T if frame.format.is_planar else arr.reshape(-1, self.channels)
            arr = _as_float32(arr)
            if mono:
                arr = mono_mix(arr)
        n = len(arr)
        if self.trim and frame.duration:  # the packet's duration is exact: cut the codec's padding
            dur, rest = divmod(frame.duration, self.ticks)  # in frames (no Fraction per frame: 15 % of a decode)
            if not rest and 0 < dur < n:
                arr = arr[:dur]
        return arr

    def _frame_position(self, frame) -> int | None:
        if frame.pts is None or self.tb is None:
            return None
        at = int(round(frame.pts * self.tb * self.samplerate - self.origin))
        if self.fine and not self.trim and frame.duration:
            # Vorbis: a frame whose packet length FFmpeg's Ogg demuxer got wrong (128 for 576 samples) has
            # a timestamp that many samples late; its end is where the stream's next frame starts
            length, rest = divmod(frame.duration, self.ticks)
            if not rest:
                at += length - frame.samples
        return at

    def _next_array(self, mono: bool = False) -> np.ndarray | None:
        """The next stretch of audio from ``pos`` on (seek discards and end limits applied), None at the end;
        ``(n, channels)``, or with ``mono`` the channels' mean ``(n,)``."""
        while True:
            try:
                frame = next(self.frames_iter)
            except StopIteration:
                return None
            if frame.samples == 0:
                continue
            arr = self._frame_array(frame, mono)
            if not self.located:
                at = self._frame_position(frame)
                if at is None or at > self.discard_to:
                    raise _SeekMissed()
                self.pos, self.located = at, True
            drop = 0
            if self.pos < self.discard_to:
                drop = min(len(arr), self.discard_to - self.pos)
                self.pos += drop
                arr = arr[drop:]
            if self.end_limit is not None and self.pos + len(arr) > self.end_limit:
                arr = arr[:max(0, self.end_limit - self.pos)]
                if len(arr) == 0:
                    return None
            if len(arr):
                if mono:  # where its channels are, should a read of all of them go on from its middle
                    self.mono_last = (frame, drop, drop + len(arr))
                return arr

    def read(self, n: int) -> np.ndarray:
        return self._read(n, False)

    def read_mono(self, n: int) -> np.ndarray:
        """Up to ``n`` frames as the mean of the channels, float32 ``(n,)``."""
        return self._read(n, True)

    def _read(self, n: int, mono: bool) -> np.ndarray:
        if self.pending is not None and (self.pending.ndim == 1) != mono:
            if mono:
                self.mono_last = (None, self.pending, None)
                self.pending = mono_mix(self.pending)
            else:  # the rest of a frame mixed to mono: the same samples of its channels
                frame, start, end = self.mono_last
                channels = self._frame_array(frame)[start:end] if frame is not None else start
                self.pending = channels[len(channels) - len(self.pending):]
        parts, got = [], 0
        while got < n:
            arr = self.pending
            self.pending = None
            if arr is None:
                arr = self._next_array(mono)
                if arr is None:
                    break
            take = min(len(arr), n - got)
            if take < len(arr):
                self.pending = arr[take:]
            parts.append(arr[:take])
            got += take
            self.pos += take
        if not parts:
            return np.zeros(0 if mono else (0, self.channels), np.float32)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _restart(self) -> None:
        self._open()
        self.frames_iter = self._decoded()
        self.pos, self.pending, self.located = 0, None, True

    def seek(self, frame: int) -> int:
        frame = max(0, int(frame))
        self.pending = None
        back = int(SEEK_PREROLL * self.samplerate)
        if frame > back and self.tb is not None:
            ts = int(math.floor((frame - back + self.origin) / (self.tb * self.samplerate)))
            try:
                self.c.seek(ts, stream=self.st, backward=True)
                self.st.codec_context.flush_buffers()
                self.frames_iter = self._decoded()
                self.located, self.discard_to = False, frame
                probe = self._next_array()  # locates, and drops the pre-roll
                if probe is not None:
                    self.pending = probe
                    return self.pos
                if self.located:
                    return self.pos
                # past the end: decode from the start to find it
            except _SeekMissed:
                pass  # no timestamps, or it landed after the target: decode from the start instead
            except AudioError:
                raise
            except Exception:
                pass
        self._restart()
        self.discard_to = frame
        probe = self._next_array()
        if probe is not None:
            self.pending = probe
        return self.pos

    def close(self) -> None:
        _close_quietly(getattr(self, "c", None))
        self.c = None


class _SeekMissed(Exception):
    pass


_SOURCES = {SOUNDFILE: _SoundfileSource, FFMPEG: _FFmpegSource}


def _open_source(path, backend: str | None = None):
    order = [backend] if backend else _backends(path)
    reasons = []
    for name in order:
        try:
            return _SOURCES[name](path)
        except AudioError as exc:
            reasons.append(str(exc))
        except Exception as exc:  # anything else a library raises while opening
            reasons.append(reason(exc, path, opening=True))
    specific = [r for r in reasons if r != NOT_AUDIO]
    raise AudioError(specific[0] if specific else NOT_AUDIO)

"""The one audio reader: every file the player, the importer, the analyser and the details view read.

    from player.audio.reader import open_audio, probe_audio, read_audio, read_excerpt, Stream

    info = probe_audio(path)                # AudioInfo; decodes the head and the tail (cheap validity check)
    audio, info = read_audio(path, 10.0, 20.0, samplerate=22050, mono=True)   # float32, a range
    ex = read_excerpt(path, 30.0, "centre", samplerate=22050, mono=True)      # ex.audio, ex.start …
    with open_audio(path) as f:             # AudioFile: info, read(frames), blocks(), seek(frame)
        for block in f.blocks(): ...
    stream = Stream(path, samplerate=48000, channels=2, start=12.5)  # playback: resampled, mapped

Files are opened by their content, never by their name. WAV, FLAC and AIFF go to libsndfile (soundfile):
it decodes them faster (benchmarks/bench_playback.py); everything else (MP3, Ogg Vorbis and Opus, which
FFmpeg decodes faster than libsndfile, and AAC/M4A, ALAC, WMA, WavPack, APE, Musepack, Opus/Vorbis in
Matroska/WebM, TTA, …) to FFmpeg through PyAV. When the first choice cannot open a file the other is
tried; when neither can, the reason is one line (``"not an audio file FFmpeg or libsndfile can read"``).
Paths may be ``str`` (surrogate-escaped where the name is not UTF-8) or ``bytes``: each library gets
the form it accepts (bytes for libsndfile, the ``os.fsdecode`` str for FFmpeg), so every name opens.
Anything that is not a regular file (a FIFO, a device, a folder) is refused before it is opened.

Lengths are honest: ``info.frames`` is the container's figure until the file has been decoded to its
end, and from then on what really decoded. A file that stops before its header's length plays what it
has and carries ``info.warning`` (``"the file stops at 2:31, its header announced 3:05"``), not an
error; only a file with no decodable audio is an error. No frame count is ever used to size a buffer.

Gapless: encoder delay and padding are removed. FFmpeg applies an MP3's LAME/Xing delay and padding,
an MP4's edit list and the priming of iTunes' ``iTunSMPB``; the reader also cuts each decoded frame to
its packet's duration where the container's time base is exact (the last AAC frame in an MP4) and an
``iTunSMPB`` file at its stated length. Opus pre-skip and end trimming are the decoders' own.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Iterator

import numpy as np

from player.audio.errors import (NO_AUDIO, NOT_AUDIO, AudioError, check_regular_file, fmt_time, reason,
                                 translate_errors)

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


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds. ``frames`` is exact once ``exact`` is true (decoded to the end, or a container
    that counts in samples); ``duration`` is ``frames / samplerate``, else the container's estimate."""

    samplerate: int
    channels: int
    frames: int | None
    duration: float | None
    exact: bool
    codec: str  # "mp3", "aac", "alac", "flac", "vorbis", "opus", "pcm_s16le", "wmav2", "wavpack" …
    container: str  # "wav", "flac", "aiff", "ogg", "mp3", "mp4", "asf", "wv", "matroska" …
    format: str  # the short name the library shows: wav flac aiff ogg opus mp3 m4a alac wma wv ape mpc mka …
    bit_rate: int | None
    backend: str  # "soundfile" | "ffmpeg"
    channel_names: tuple[str, ...] = ()
    warning: str | None = None  # e.g. "the file stops at 2:31, its header announced 3:05"


@dataclass
class Excerpt:
    """A decoded excerpt (see :func:`read_excerpt`)."""

    audio: np.ndarray  # float32: (n,) when mono, else (n, channels)
    samplerate: int  # the excerpt's rate (the file's, unless resampled)
    start: float  # seconds into the file where it starts
    duration: float | None  # the file's length in seconds
    channels: int  # the file's channel count
    info: AudioInfo


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

    def _frame_array(self, frame) -> np.ndarray:
        arr = frame.to_ndarray()
        arr = arr.T if frame.format.is_planar else arr.reshape(-1, self.channels)
        arr = _as_float32(arr)
        n = len(arr)
        if self.fine and frame.duration:  # the packet's duration is exact: cut the codec's padding
            dur, rest = divmod(frame.duration, self.ticks)  # in frames (no Fraction per frame: 15 % of a decode)
            if not rest and 0 < dur < n:
                arr = arr[:dur]
        return arr

    def _frame_position(self, frame) -> int | None:
        if frame.pts is None or self.tb is None:
            return None
        return int(round(frame.pts * self.tb * self.samplerate - self.origin))

    def _next_array(self) -> np.ndarray | None:
        """The next stretch of audio from ``pos`` on (seek discards and end limits applied), None at the end."""
        while True:
            try:
                frame = next(self.frames_iter)
            except StopIteration:
                return None
            if frame.samples == 0:
                continue
            arr = self._frame_array(frame)
            if not self.located:
                at = self._frame_position(frame)
                if at is None or at > self.discard_to:
                    raise _SeekMissed()
                self.pos, self.located = at, True
            if self.pos < self.discard_to:
                drop = min(len(arr), self.discard_to - self.pos)
                self.pos += drop
                arr = arr[drop:]
            if self.end_limit is not None and self.pos + len(arr) > self.end_limit:
                arr = arr[:max(0, self.end_limit - self.pos)]
                if len(arr) == 0:
                    return None
            if len(arr):
                return arr

    def read(self, n: int) -> np.ndarray:
        parts, got = [], 0
        while got < n:
            arr = self.pending
            self.pending = None
            if arr is None:
                arr = self._next_array()
                if arr is None:
                    break
            take = min(len(arr), n - got)
            if take < len(arr):
                self.pending = arr[take:]
            parts.append(arr[:take])
            got += take
            self.pos += take
        if not parts:
            return np.zeros((0, self.channels), np.float32)
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


# -- the reader ----------------------------------------------------------------------------------------

class AudioFile:
    """An open audio file (a context manager). :meth:`read` returns float32 ``(frames, channels)``."""

    def __init__(self, path, *, backend: str | None = None):
        check_regular_file(path)
        self.path = path
        self._src = _open_source(path, backend)
        s = self._src
        self.samplerate = s.samplerate
        self.channels = s.channels
        self.position = 0  # the frame the next read starts at
        self.header_frames = s.frames
        self._decoded: int | None = None  # the real length, once a read reached the end
        self._warning: str | None = None
        self._ended = False  # the last read reached the end (or a damage that ends the file)
        self._exact_pos = True  # position counts samples exactly (from the start, or after an exact seek)

    @property
    def backend(self) -> str:
        return self._src.backend

    @property
    def info(self) -> AudioInfo:
        s = self._src
        frames, exact = (self._decoded, True) if self._decoded is not None else (s.frames, s.exact)
        duration = frames / s.samplerate if frames is not None else s.estimate
        return AudioInfo(s.samplerate, s.channels, frames, duration, exact, s.codec, s.container, s.format,
                         s.bit_rate, s.backend, tuple(s.channel_names), self._warning)

    def read(self, frames: int = BLOCK) -> np.ndarray:
        """Up to ``frames`` frames from :attr:`position` on; fewer only at the end (then empty). The array
        may be a view of an internal buffer that the next read reuses. A decode error past the first frame
        ends the file there (with :attr:`info`'s warning); before any audio it raises :class:`AudioError`."""
        if self._ended or frames <= 0:
            return np.zeros((0, self.channels), np.float32)
        at = self.position
        try:
            with translate_errors(self.path, during=at / self.samplerate):
                data = self._src.read(int(frames))
        except AudioError as exc:
            data = self._recover(at, exc)
            if data is None:
                if at == 0:
                    raise AudioError(NO_AUDIO) from None
                return np.zeros((0, self.channels), np.float32)
        self.position += len(data)
        if len(data) == 0:
            self._reached_end()
        return data

    def _recover(self, at: int, exc: AudioError) -> np.ndarray | None:
        """libsndfile gave up part-way (a truncated or damaged FLAC): go on with FFmpeg from the same
        frame if it can; otherwise the file ends here, with a warning."""
        if self._src.backend == SOUNDFILE:
            other = None
            try:
                other = _FFmpegSource(self.path)
                if (other.samplerate, other.channels) == (self.samplerate, self.channels) and other.seek(at) == at:
                    data = other.read(BLOCK)
                    if len(data):
                        self._src.close()
                        self._src, other = other, None
                        return data
            except Exception:
                pass
            finally:
                if other is not None:
                    other.close()
        self._ended = True
        if at and self._exact_pos:
            self._decoded = at
            self._warning = (_short_warning(at, self.header_frames, self.samplerate)
                             or f"decoding stopped at {fmt_time(at / self.samplerate)}: {str(exc).split(': ', 1)[-1]}")
        return None

    def _reached_end(self) -> None:
        self._ended = True
        if self._decoded is None and self._exact_pos:
            self._decoded = self.position
            self._warning = self._warning or _short_warning(self.position, self.header_frames, self.samplerate)

    def blocks(self, block: int = BLOCK) -> Iterator[np.ndarray]:
        """Blocks of up to ``block`` frames until the end (each a fresh array)."""
        while True:
            data = self.read(block)
            if len(data) == 0:
                return
            yield np.array(data)

    def seek(self, frame: int) -> int:
        """Go to ``frame``; returns the frame reached (the end when ``frame`` lies beyond it). Exact for
        WAV/FLAC/AIFF/Ogg/MP4/WavPack and wherever the container's timestamps count samples; MP3 seeks
        land where FFmpeg's index (Xing TOC or bit rate) puts them."""
        frame = max(0, int(frame))
        if self._decoded is not None and frame >= self._decoded:
            self.position, self._ended, self._exact_pos = self._decoded, True, True
            return self.position
        self._ended = False
        try:
            with translate_errors(self.path, during=frame / self.samplerate):
                self.position = self._src.seek(frame)
        except AudioError:
            if frame:
                raise
            # libsndfile cannot seek at all after a seek into a truncated FLAC failed: start afresh
            self._src.close()
            self._src = _open_source(self.path)
            self.position = 0
        self._exact_pos = frame == 0 or self._src.exact_seek
        return self.position

    def seek_seconds(self, seconds: float) -> int:
        return self.seek(int(round(max(0.0, float(seconds)) * self.samplerate)))

    def verified_frames(self, tail_seconds: float = TAIL_SECONDS) -> int:
        """The length in frames, checked: the header's figure when the file's last ``tail_seconds`` decode
        and end where it says (one seek and a few blocks), else counted by decoding it all."""
        if self._decoded is not None:
            return self._decoded
        announced, rate = self.header_frames, self.samplerate
        tail = int(tail_seconds * rate)
        if announced is not None and announced > 2 * tail:
            try:
                self.seek(announced - tail)
                while len(self.read(BLOCK)):
                    pass
                end = self.position
            except AudioError:
                end = None
            if end is not None and abs(end - announced) < SHORT_WARNING_SECONDS * rate / 2:
                return self._decoded if self._decoded is not None else announced
            self._decoded = None  # the end is not where the header says: count it all
        return self.count_frames()

    def count_frames(self, limit_seconds: float = MAX_COUNT_SECONDS) -> int:
        """Decode from the start to the end (at most ``limit_seconds``) and return the real length."""
        if self._decoded is not None:
            return self._decoded
        self.seek(0)
        limit = int(limit_seconds * self.samplerate)
        while self.position < limit:
            if len(self.read(BLOCK)) == 0:
                break
        if self._decoded is None:  # gave up counting: that much at least
            return self.position
        return self._decoded

    def close(self) -> None:
        self._src.close()

    def __enter__(self) -> "AudioFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_audio(path, *, backend: str | None = None) -> AudioFile:
    """Open ``path`` (str or bytes) by its content. Raises :class:`AudioError` in words."""
    return AudioFile(path, backend=backend)


def probe_audio(path, *, verify: bool = True, tail_seconds: float = TAIL_SECONDS) -> AudioInfo:
    """The file's :class:`AudioInfo`. With ``verify`` (the importer's check) it also decodes the first
    block and the last seconds: no audio at the start is an error (``"damaged: no decodable audio"``);
    an end that is not where the header says is found by decoding the whole file, and the real length
    reported (with ``info.warning`` when it stops short)."""
    with open_audio(path) as f:
        if not verify:
            return f.info
        if len(f.read(4096)) == 0:
            raise AudioError(NO_AUDIO)
        f.verified_frames(tail_seconds)
        return f.info


def read_audio(path, start: float = 0.0, stop: float | None = None, *, samplerate: int | None = None,
               mono: bool = False) -> tuple[np.ndarray, AudioInfo]:
    """Frames from ``start`` to ``stop`` seconds (to the end when None) as float32 ``(n, channels)`` (``(n,)``
    with ``mono``: the mean of the channels), resampled to ``samplerate`` (soxr HQ) when given."""
    with open_audio(path) as f:
        audio = _read_range(f, start, stop, mono)
        info = f.info
    return _resampled(audio, info.samplerate, samplerate), info


def _read_range(f: AudioFile, start: float, stop: float | None, mono: bool) -> np.ndarray:
    begin = int(round(max(0.0, float(start)) * f.samplerate))
    end = None if stop is None else int(round(float(stop) * f.samplerate))
    if begin != f.position or f._ended:
        f.seek(begin)
    parts = []
    while end is None or f.position < end:
        want = 4 * BLOCK if end is None else min(4 * BLOCK, end - f.position)  # fewer calls: -10 % for FLAC
        data = f.read(want)
        if len(data) == 0:
            break
        parts.append(mono_mix(data) if mono else np.array(data))
    if not parts:
        return np.zeros(0 if mono else (0, f.channels), np.float32)
    return np.concatenate(parts)


def _resampled(audio: np.ndarray, rate: int, target: int | None) -> np.ndarray:
    if not target or int(target) == rate or len(audio) == 0:
        return audio
    import soxr

    return soxr.resample(audio, rate, int(target), quality="HQ").astype(np.float32, copy=False)


def read_excerpt(path, seconds: float, offset="centre", *, samplerate: int | None = None, mono: bool = True,
                 duration: float | None = None) -> Excerpt:
    """``seconds`` of audio (fewer when the file is shorter) from ``offset``: ``"centre"`` (the middle of the
    file), ``"start"``, or seconds (clamped so that the excerpt lies inside the file). ``duration`` (e.g. the
    library's) is used when the file itself does not say. Mono is the mean of the channels. A header that
    claims more than the file holds is caught (a short read) and the real length counted."""
    if not seconds or seconds <= 0:
        raise ValueError(f"excerpt length must be > 0 seconds, got {seconds}")
    with open_audio(path) as f:
        rate = f.samplerate
        n = int(round(seconds * rate))
        if offset == "start" or f.header_frames is None and duration and duration > 0:
            total = f.header_frames or int((duration or 0) * rate) or n
        else:
            total = f.verified_frames()
        begin = _excerpt_start(offset, total, n, rate)
        audio = _read_range(f, begin / rate, (begin + n) / rate, mono)
        if len(audio) < min(n, total - begin) * 0.95:  # the header lied: count and try again
            total = f.count_frames()
            begin = _excerpt_start(offset, total, n, rate)
            audio = _read_range(f, begin / rate, (begin + n) / rate, mono)
        if len(audio) == 0:
            raise AudioError(NO_AUDIO)
        info = f.info
    if not np.all(np.isfinite(audio)):
        audio = np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0)
    return Excerpt(_resampled(audio, rate, samplerate), int(samplerate or rate), begin / rate, info.duration,
                   info.channels, info)


def _excerpt_start(offset, total: int, n: int, rate: int) -> int:
    if offset in ("centre", "center", None):
        return max(0, (total - n) // 2)
    if offset == "start":
        return 0
    start = int(round(float(offset) * rate))
    if start < 0:
        raise ValueError(f"excerpt offset must be >= 0 seconds, got {offset}")
    return max(0, min(start, total - n))


# -- playback: blocks at the device's rate and channel count -----------------------------------------

_M3DB = float(np.sqrt(0.5))
_TO_STEREO = {"FL": (1.0, 0.0), "FR": (0.0, 1.0), "FC": (_M3DB, _M3DB), "LFE": (0.0, 0.0), "LFE2": (0.0, 0.0),
              "BL": (_M3DB, 0.0), "BR": (0.0, _M3DB), "SL": (_M3DB, 0.0), "SR": (0.0, _M3DB), "BC": (0.5, 0.5),
              "FLC": (1.0, 0.0), "FRC": (0.0, 1.0), "TC": (0.5, 0.5), "TFC": (0.5, 0.5), "TBC": (0.5, 0.5),
              "TFL": (_M3DB, 0.0), "TFR": (0.0, _M3DB), "TBL": (_M3DB, 0.0), "TBR": (0.0, _M3DB),
              "DL": (1.0, 0.0), "DR": (0.0, 1.0), "WL": (_M3DB, 0.0), "WR": (0.0, _M3DB)}


def downmix_matrix(in_channels: int, out_channels: int, vorbis_order: bool = False,
                   names: tuple[str, ...] | None = None) -> np.ndarray | None:
    """The (in_channels, out_channels) float32 matrix that mixes a file's channels for the device, or None
    where no mixing is needed (same count, or mono copied to every output). Channels are placed by name
    (FFmpeg's layout, or WAV/Vorbis order by count): centre and surrounds at -3 dB, no LFE (ITU-R BS.775
    Lo/Ro), each side normalised so full-scale channels cannot clip. Without a known layout (more than 8
    channels), the first pair."""
    if in_channels == out_channels or in_channels == 1:
        return None
    if names is None or len(names) != in_channels:
        names = (VORBIS_ORDER if vorbis_order else SMPTE_ORDER).get(in_channels)
    if in_channels == 2 or not names or any(n not in _TO_STEREO for n in names):
        m = np.zeros((in_channels, 2), np.float32)
        m[0, 0] = m[1, 1] = 1.0
    else:
        m = np.array([_TO_STEREO[n] for n in names], np.float32)
        m /= np.maximum(m.sum(axis=0, keepdims=True), 1e-9)
    if out_channels == 1:
        return m.mean(axis=1, keepdims=True).astype(np.float32)
    out = np.zeros((in_channels, out_channels), np.float32)  # a device with more than two: the front pair
    out[:, :2] = m
    return out


class Stream:
    """A file as blocks at ``samplerate`` Hz and ``channels`` channels (float32), from ``start`` seconds:
    a streaming soxr resampler (HQ, flushed at the end, so nothing is lost at a gapless seam) and the
    speaker-position downmix. :meth:`read` returns the next block or None at the end."""

    def __init__(self, path, samplerate: int | None = None, channels: int | None = None, start: float = 0.0,
                 block: int = BLOCK, *, backend: str | None = None):
        self.file = open_audio(path, backend=backend)
        try:
            f = self.file
            self.in_rate, self.in_channels = f.samplerate, f.channels
            self.out_rate = int(samplerate or self.in_rate)
            self.out_channels = int(channels or self.in_channels)
            info = f.info
            self.mix = downmix_matrix(self.in_channels, self.out_channels, names=info.channel_names)
            self.block = int(block)
            first = int(round(max(0.0, float(start)) * self.in_rate))
            self.offset = (f.seek(first) if first else 0) / self.in_rate
            self.resampler = None
            if self.in_rate != self.out_rate:
                import soxr

                self.resampler = soxr.ResampleStream(self.in_rate, self.out_rate, self.in_channels,
                                                     dtype="float32", quality="HQ")
            self.done = False
        except BaseException:
            self.file.close()
            raise

    @property
    def info(self) -> AudioInfo:
        return self.file.info

    @property
    def duration(self) -> float | None:
        return self.file.info.duration

    @property
    def position(self) -> float:
        """Seconds into the file of the next source frame."""
        return self.file.position / self.in_rate

    def read(self) -> np.ndarray | None:
        """The next block, or None at the end. Raises :class:`AudioError` when nothing at all decodes."""
        if self.done:
            return None
        data = self.file.read(self.block)
        if len(data) == 0:
            self.done = True
            self.file.close()
            if self.resampler is None:
                return None
            tail = self.resampler.resample_chunk(np.zeros((0, self.in_channels), np.float32), last=True)
            return self._map(tail) if len(tail) else None
        if self.resampler is not None:
            data = self.resampler.resample_chunk(data, last=False)
        return self._map(data)

    def _map(self, data: np.ndarray) -> np.ndarray:
        if self.mix is not None:
            return data @ self.mix
        if data.shape[1] == self.out_channels:
            return data
        return np.broadcast_to(data[:, :1], (len(data), self.out_channels))  # mono to every output

    def close(self) -> None:
        self.file.close()


__all__ = ["AudioFile", "AudioInfo", "Excerpt", "Stream", "AudioError", "open_audio", "probe_audio", "read_audio",
           "read_excerpt", "mono_mix", "downmix_matrix", "BLOCK", "SOUNDFILE", "FFMPEG"]

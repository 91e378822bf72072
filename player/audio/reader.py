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
its packet's duration where the container's time base is exact (the last AAC frame in an MP4; never a
Vorbis frame, whose packet lengths FFmpeg's Ogg demuxer gets wrong after long blocks) and an
``iTunSMPB`` file at its stated length. Opus pre-skip and end trimming are the decoders' own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from player.audio.errors import NO_AUDIO, AudioError, check_regular_file, fmt_time, translate_errors
from player.audio.sources import (BLOCK, FFMPEG, MAX_COUNT_SECONDS, MAX_SECONDS, SEEK_PREROLL,  # noqa: F401
                                  SHORT_WARNING_SECONDS, SMPTE_ORDER, SOUNDFILE, TAIL_SECONDS, VORBIS_ORDER,
                                  _TO_STEREO, _FFmpegSource, _open_source, _short_warning, mono_mix)

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

    def read(self, frames: int = BLOCK, *, mono: bool = False) -> np.ndarray:
        """Up to ``frames`` frames from :attr:`position` on; fewer only at the end (then empty). The array
        may be a view of an internal buffer that the next read reuses. With ``mono``, the mean of the
        channels, ``(n,)`` (:func:`mono_mix`; FFmpeg's planar frames are mixed as they are decoded). A decode
        error past the first frame ends the file there (with :attr:`info`'s warning); before any audio it
        raises :class:`AudioError`."""
        empty = (0,) if mono else (0, self.channels)
        if self._ended or frames <= 0:
            return np.zeros(empty, np.float32)
        at = self.position
        try:
            with translate_errors(self.path, during=at / self.samplerate):
                data = self._src.read_mono(int(frames)) if mono else self._src.read(int(frames))
        except AudioError as exc:
            data = self._recover(at, exc)
            if data is None:
                if at == 0:
                    raise AudioError(NO_AUDIO) from None
                return np.zeros(empty, np.float32)
            if mono:
                data = mono_mix(data)
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
        WAV/FLAC/AIFF/Ogg/MP4/WavPack and wherever the container's timestamps count samples (Ogg Vorbis
        included: a frame whose packet length FFmpeg's demuxer gets wrong is located by its end); MP3 seeks
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

    def excerpt(self, seconds: float, offset="centre", *, mono: bool = True, duration: float | None = None,
                checked: bool = False) -> Excerpt:
        """An excerpt at the file's own rate, as :func:`read_excerpt` reads it; several excerpts of one open
        file check its length once and seek between them. ``checked``: ``duration`` is this file's length
        as :func:`probe_audio` measured it (the library's): a header that agrees with it is believed without
        decoding the file's last seconds again (a header that lies is still caught by a short read)."""
        return _excerpt(self, seconds, offset, mono, duration, checked)

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
        data = f.read(want, mono=mono)
        if len(data) == 0:
            break
        parts.append(data if mono else np.array(data))
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
    claims more than the file holds is caught (a short read) and the real length counted. Several excerpts
    of one file: :meth:`AudioFile.excerpt` on one :func:`open_audio` (one open, one length check)."""
    _check_excerpt_length(seconds)
    with open_audio(path) as f:
        ex = f.excerpt(seconds, offset, mono=mono, duration=duration)
    if samplerate and int(samplerate) != ex.samplerate:
        ex = Excerpt(_resampled(ex.audio, ex.samplerate, samplerate), int(samplerate), ex.start, ex.duration,
                     ex.channels, ex.info)
    return ex


def _check_excerpt_length(seconds) -> None:
    if not seconds or seconds <= 0:
        raise ValueError(f"excerpt length must be > 0 seconds, got {seconds}")


def _excerpt(f: "AudioFile", seconds: float, offset, mono: bool, duration: float | None,
             checked: bool = False) -> Excerpt:
    _check_excerpt_length(seconds)
    rate = f.samplerate
    n = int(round(seconds * rate))
    if offset == "start" or f.header_frames is None and duration and duration > 0:
        total = f.header_frames or int((duration or 0) * rate) or n
    elif checked and duration and f.header_frames and \
            abs(f.header_frames - duration * rate) < SHORT_WARNING_SECONDS * rate / 2:
        total = f.header_frames  # the length the importer checked (it decoded the file's last seconds)
    else:
        total = f.verified_frames()  # decodes the last seconds once; later excerpts reuse the length
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
    return Excerpt(audio, rate, begin / rate, info.duration, info.channels, info)


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

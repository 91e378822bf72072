"""Loudness: EBU R128 / ITU-R BS.1770-4 integrated loudness, true peak, album loudness, and the gain
that brings a track (or an album) to the ReplayGain 2.0 reference. numpy and scipy only.

    from player.audio.loudness import measure, album_loudness, gain_db, replaygain_from_tags

    m = measure(path)                 # TrackLoudness: integrated (LUFS), true_peak (dBTP), sample_peak, blocks
    m.integrated, m.true_peak_db
    album = album_loudness([m1, m2, m3])           # from the tracks' gated block powers: exact
    gain_db({"track_gain": -6.2, "track_peak": 0.99}, "track", preamp_db=0.0)   # dB, clipping-limited
    replaygain_from_tags(path)        # {"track_gain", "track_peak", "album_gain", "album_peak"} from tags

Measurement (BS.1770-4): each channel through the K-weighting filter (a high shelf and the RLB high-pass,
designed for the file's own sample rate by the bilinear transform of their analogue prototypes, so that at
48 kHz they are the Recommendation's coefficients), mean square over 400 ms blocks every 100 ms (75 %
overlap), channels weighted (1.0 for left/right/centre, 1.41 for the surrounds, the LFE left out),
``L = -0.691 + 10 log10(sum)``; integrated loudness gates out blocks below -70 LUFS (absolute) and then
below the mean of the remaining ones minus 10 LU (relative). True peak: the signal oversampled 4x (2x at
96 kHz and above) with a polyphase FIR, the largest magnitude, in dBTP.

Album loudness needs no audio: a :class:`TrackLoudness` keeps the power of every block above the
absolute gate (``blocks``; 10 float64 per second, ``to_bytes()``/``from_bytes()`` for storage), and the
album's gates are computed over all of them together, exactly as BS.1770 does for one long programme.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

REFERENCE_LUFS = -18.0  # ReplayGain 2.0's reference level
R128_REFERENCE_LUFS = -23.0  # EBU R128's (Opus R128_* tags are relative to it)
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
_OFFSET = -0.691
_SURROUND_WEIGHT = 1.41


def _db_to_power(lufs: float) -> float:
    return 10.0 ** ((lufs - _OFFSET) / 10.0)


def _power_to_lufs(power: float) -> float:
    return _OFFSET + 10.0 * math.log10(power) if power > 0 else -math.inf


def k_weighting(samplerate: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The two biquads of BS.1770's K-weighting at ``samplerate``: ((b, a) shelf, (b, a) high-pass)."""
    fs = float(samplerate)
    # stage 1: the head's acoustic effect, a +4 dB high shelf around 1.68 kHz
    f0, gain, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / fs)
    vh = 10.0 ** (gain / 20.0)
    vb = vh ** 0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf_b = np.array([(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0])
    shelf_a = np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0])
    # stage 2: the RLB weighting, a second-order high-pass at 38 Hz
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / fs)
    a0 = 1.0 + k / q + k * k
    hp_b = np.array([1.0, -2.0, 1.0])
    hp_a = np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0])
    return (shelf_b, shelf_a), (hp_b, hp_a)


def channel_weights(channels: int, names: tuple[str, ...] | None = None) -> np.ndarray:
    """BS.1770's weights: 1.0 for front channels, 1.41 for the surrounds, 0 for the LFE."""
    if names is None or len(names) != channels:
        from player.audio.reader import SMPTE_ORDER

        names = SMPTE_ORDER.get(channels, ("FL",) * channels)
    out = []
    for name in names:
        if name.startswith("LFE"):
            out.append(0.0)
        elif name in ("BL", "BR", "SL", "SR", "BC", "TBL", "TBR", "TBC"):
            out.append(_SURROUND_WEIGHT)
        else:
            out.append(1.0)
    return np.array(out, np.float64)


@dataclass
class TrackLoudness:
    """One track's measurement. ``blocks``: the power (channel-weighted mean square) of every 400 ms
    block above the absolute gate, enough to combine tracks into an album exactly."""

    integrated: float  # LUFS (-inf for silence or less than 400 ms)
    true_peak: float  # linear (1.0 = full scale)
    sample_peak: float  # linear
    blocks: np.ndarray = field(repr=False)  # float64 block powers above -70 LUFS
    duration: float = 0.0  # seconds measured
    samplerate: int = 0

    @property
    def true_peak_db(self) -> float:
        return 20.0 * math.log10(self.true_peak) if self.true_peak > 0 else -math.inf

    def to_bytes(self) -> bytes:
        return np.asarray(self.blocks, "<f8").tobytes()

    @staticmethod
    def blocks_from_bytes(data: bytes) -> np.ndarray:
        return np.frombuffer(data, "<f8").copy()


def gated_loudness(blocks: np.ndarray) -> float:
    """Integrated loudness (LUFS) of block powers: the absolute gate, then the relative one."""
    blocks = np.asarray(blocks, np.float64)
    blocks = blocks[blocks > _db_to_power(ABSOLUTE_GATE)]
    if len(blocks) == 0:
        return -math.inf
    threshold = _db_to_power(_power_to_lufs(float(blocks.mean())) + RELATIVE_GATE)
    kept = blocks[blocks > threshold]
    return _power_to_lufs(float(kept.mean())) if len(kept) else -math.inf


def album_loudness(tracks) -> float:
    """The album's integrated loudness (LUFS) from its tracks' :class:`TrackLoudness` (or block arrays)."""
    parts = [np.asarray(getattr(t, "blocks", t), np.float64) for t in tracks]
    return gated_loudness(np.concatenate(parts)) if parts else -math.inf


class LoudnessMeter:
    """Streaming BS.1770 meter: :meth:`feed` float blocks (frames, channels), then :meth:`result`."""

    def __init__(self, samplerate: int, channels: int, names: tuple[str, ...] | None = None,
                 true_peak: bool = True):
        from scipy import signal

        self._signal = signal
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        (sb, sa), (hb, ha) = k_weighting(self.samplerate)
        # both stages as one 4th-order filter in second-order sections, state per channel
        self._sos = np.array([np.concatenate([sb, sa]), np.concatenate([hb, ha])])
        self._zi = np.zeros((2, 2, self.channels))
        self.weights = channel_weights(self.channels, names)
        self.step = int(round(0.1 * self.samplerate))  # 100 ms: a block is four steps
        self._partial = np.zeros(self.channels)  # sum of squares of the unfinished step, per channel
        self._partial_n = 0
        self._steps: list[np.ndarray] = []  # per finished step: sum of squares per channel
        self.frames = 0
        self.sample_peak = 0.0
        self.true_peak = 0.0
        self._tp = _TruePeak(self.samplerate, self.channels) if true_peak else None

    def feed(self, block: np.ndarray) -> None:
        x = np.asarray(block, np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if len(x) == 0:
            return
        self.frames += len(x)
        self.sample_peak = max(self.sample_peak, float(np.abs(x).max()))
        if self._tp is not None:
            self._tp.feed(x)
        y, self._zi = self._signal.sosfilt(self._sos, x, axis=0, zi=self._zi)
        sq = y * y
        i = 0
        n = len(sq)
        if self._partial_n:
            k = min(n, self.step - self._partial_n)
            self._partial += sq[:k].sum(axis=0)
            self._partial_n += k
            i = k
            if self._partial_n == self.step:
                self._steps.append(self._partial.copy())
                self._partial[:] = 0.0
                self._partial_n = 0
        whole = (n - i) // self.step
        if whole:
            sums = sq[i:i + whole * self.step].reshape(whole, self.step, self.channels).sum(axis=1)
            self._steps.extend(sums)
            i += whole * self.step
        if i < n:
            self._partial += sq[i:].sum(axis=0)
            self._partial_n += n - i

    def block_powers(self) -> np.ndarray:
        """The channel-weighted mean square of every complete 400 ms block (75 % overlap)."""
        if len(self._steps) < 4:
            return np.zeros(0)
        steps = np.array(self._steps)  # (n, channels)
        c = np.cumsum(np.vstack([np.zeros(self.channels), steps]), axis=0)
        per_channel = (c[4:] - c[:-4]) / (4 * self.step)
        return per_channel @ self.weights

    def result(self) -> TrackLoudness:
        powers = self.block_powers()
        if self._tp is not None:
            self.true_peak = max(self.sample_peak, self._tp.finish())
        kept = powers[powers > _db_to_power(ABSOLUTE_GATE)]
        return TrackLoudness(gated_loudness(kept), self.true_peak or self.sample_peak, self.sample_peak, kept,
                             self.frames / self.samplerate if self.samplerate else 0.0, self.samplerate)


class _TruePeak:
    """Streaming true peak: 4x oversampling (2x from 96 kHz, none from 192 kHz) with a windowed-sinc
    polyphase FIR (24 taps per phase), edges treated as silence."""

    def __init__(self, samplerate: int, channels: int):
        from scipy import signal

        self.up = 4 if samplerate < 96000 else 2 if samplerate < 192000 else 1
        self._upfirdn = signal.upfirdn
        if self.up > 1:
            taps = 24 * self.up
            self.h = signal.firwin(taps, 1.0 / self.up, window=("kaiser", 7.0)) * self.up
            self.hist_len = math.ceil((len(self.h) - 2) / self.up) + 1
        else:
            self.h, self.hist_len = np.ones(1), 0
        self.hist = np.zeros((self.hist_len, channels))
        self.peak = 0.0

    def feed(self, x: np.ndarray) -> None:
        if self.up == 1:
            self.peak = max(self.peak, float(np.abs(x).max()))
            return
        ext = np.concatenate([self.hist, x]) if self.hist_len else x
        y = self._upfirdn(self.h, ext, up=self.up, axis=0)
        valid = y[len(self.h) - 1:(len(ext) - 1) * self.up + 1]
        if len(valid):
            self.peak = max(self.peak, float(np.abs(valid).max()))
        self.hist = ext[-self.hist_len:]

    def finish(self) -> float:
        if self.up > 1:
            self.feed(np.zeros((self.hist_len + 1, self.hist.shape[1])))
        return self.peak


def measure_array(audio: np.ndarray, samplerate: int, names: tuple[str, ...] | None = None) -> TrackLoudness:
    """Measure float audio ``(frames, channels)`` (or ``(frames,)`` for mono) at ``samplerate``."""
    audio = np.asarray(audio)
    meter = LoudnessMeter(samplerate, 1 if audio.ndim == 1 else audio.shape[1], names)
    for i in range(0, len(audio), 1 << 16):
        meter.feed(audio[i:i + (1 << 16)])
    return meter.result()


def measure(path) -> TrackLoudness:
    """Decode ``path`` with the reader (block by block, any format) and measure it."""
    from player.audio.reader import BLOCK, open_audio

    with open_audio(path) as f:
        meter = LoudnessMeter(f.samplerate, f.channels, f.info.channel_names)
        while len(block := f.read(4 * BLOCK)):
            meter.feed(block)
    return meter.result()


# -- gain -------------------------------------------------------------------------------------------

def gain_db(values: dict | None, mode: str = "track", *, preamp_db: float = 0.0, prevent_clipping: bool = True,
            reference: float = REFERENCE_LUFS) -> float | None:
    """The gain in dB for ``mode`` ("track" or "album") from ``values``: ``{mode}_gain`` (dB, ReplayGain's
    -18 LUFS reference), or ``{mode}_loudness`` (LUFS: ``gain = reference - loudness``); album falls back
    to track and back. Then ``preamp_db``, and with ``prevent_clipping`` the gain is limited so that
    ``peak * gain <= 1`` (``{mode}_peak``, linear). None when ``values`` hold no gain at all."""
    if not values:
        return None
    order = ("album", "track") if mode == "album" else ("track", "album")
    for which in order:
        gain = _number(values.get(f"{which}_gain"))
        if gain is None:
            loud = _number(values.get(f"{which}_loudness"))
            if loud is not None and math.isfinite(loud):
                gain = reference - loud
        if gain is None:
            continue
        gain += float(preamp_db)
        peak = _number(values.get(f"{which}_peak"))
        if prevent_clipping and peak and peak > 0:
            gain = min(gain, -20.0 * math.log10(peak))
        return gain
    return None


def _number(value) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def db_to_linear(db: float) -> float:
    return 10.0 ** (db / 20.0)


# -- ReplayGain tags ------------------------------------------------------------------------------------

_GAIN_RE = re.compile(r"^\s*([+\-\u2212]?\d+(?:[.,]\d*)?|[+\-\u2212]?[.,]\d+)\s*(?:db|lu|lufs)?\s*$", re.I)
_RG_KEYS = {"replaygain_track_gain": "track_gain", "replaygain_track_peak": "track_peak",
            "replaygain_album_gain": "album_gain", "replaygain_album_peak": "album_peak"}
_R128_KEYS = {"r128_track_gain": "track_gain", "r128_album_gain": "album_gain"}


def _tag_text(value) -> str | None:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None:
        return None
    if hasattr(value, "text"):  # an ID3 frame
        text = value.text
        value = text[0] if isinstance(text, (list, tuple)) and text else text
    elif hasattr(value, "value") and not isinstance(value, (str, bytes)):  # an ASF attribute
        value = value.value
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip().strip("\x00")


def _parse_float(text: str | None) -> float | None:
    if not text:
        return None
    m = _GAIN_RE.match(text)
    if not m:
        return None
    return float(m.group(1).replace(",", ".").replace("\u2212", "-"))


def _tag_key(key: str) -> str:
    key = str(key).lower()
    for prefix in ("----:com.apple.itunes:", "txxx:", "wm/"):
        if key.startswith(prefix):
            key = key[len(prefix):]
    return key


def replaygain_from_tags(path) -> dict:
    """ReplayGain values from the file's tags: any of ``track_gain``, ``album_gain`` (dB at -18 LUFS),
    ``track_peak``, ``album_peak`` (linear). Read from Vorbis comments (FLAC, Ogg, Opus), ID3 TXXX and RVA2
    frames (MP3, AIFF, WAV), iTunes freeform atoms (``----:com.apple.iTunes:replaygain_*``), APEv2
    (WavPack, APE, Musepack) and ASF (WMA); Opus ``R128_TRACK_GAIN``/``R128_ALBUM_GAIN`` (Q7.8 dB relative to
    -23 LUFS) are converted to the -18 LUFS reference and win over REPLAYGAIN_* there. Values that are not
    numbers, or out of range, are left out; a file without tags, or whose tags cannot be read, gives {}."""
    import mutagen

    from player.audio.errors import path_problem

    if path_problem(path):  # never open a FIFO or a device
        return {}
    try:
        audio = mutagen.File(path)
    except Exception:
        return {}
    tags = getattr(audio, "tags", None)
    if not tags:
        return {}
    try:
        items = list(tags.items())
    except Exception:
        return {}
    out: dict = {}
    r128: dict = {}
    for key, value in items:
        name = _tag_key(key)
        if name.startswith("rva2:") and hasattr(value, "gain"):  # ID3v2.4 relative volume
            which = {"track": "track", "album": "album"}.get(name[5:])
            if which and getattr(value, "channel", 1) == 1:
                out.setdefault(f"{which}_gain", float(value.gain))
                if getattr(value, "peak", 0):
                    out.setdefault(f"{which}_peak", float(value.peak))
            continue
        if name in _RG_KEYS:
            number = _parse_float(_tag_text(value))
            field_ = _RG_KEYS[name]
            if number is None:
                continue
            if field_.endswith("gain") and -60.0 <= number <= 60.0:
                out[field_] = number
            elif field_.endswith("peak") and 0.0 < number <= 10.0:
                out[field_] = number
        elif name in _R128_KEYS:
            text = _tag_text(value)
            try:
                q78 = int(str(text).strip())
            except (TypeError, ValueError):
                continue
            if -32768 <= q78 <= 32767:
                r128[_R128_KEYS[name]] = q78 / 256.0 + (REFERENCE_LUFS - R128_REFERENCE_LUFS)
    out.update(r128)
    return out


__all__ = ["measure", "measure_array", "LoudnessMeter", "TrackLoudness", "album_loudness", "gated_loudness",
           "k_weighting", "channel_weights", "gain_db", "db_to_linear", "replaygain_from_tags",
           "REFERENCE_LUFS", "R128_REFERENCE_LUFS"]

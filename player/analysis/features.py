"""The one audio front end of the models: excerpt decoding and the two mel-spectrogram inputs.

Training (``scripts/``) and the player (background analysis) both call these functions, so the features
a model was trained on and the features it is run on can never drift apart. Every constant comes from the
``frontend`` section of the model's ``config.json`` (a plain dict here); the presets at the bottom are
only used to *write* a new config when a model is trained.

Two front ends:

``mel_slices`` (seed 000, genre CNN / CNN-LSTM / CNN-BiLSTM)
    22,050 Hz mono, 30 s excerpt, mel power spectrogram (n_fft 2048, hop 512, 128 bands, fmax 8 kHz),
    ``power_to_db`` (ref 1, top_db 80), min-max scaled to [0, 1] over the excerpt, cut into ten
    128-frame slices -> ``(n_slices, 128, 128, 1)`` float32. Seed 000 drew the spectrogram with
    matplotlib, saved it as a JPEG and read the pixels back; that min-max scaled it (the colour map's
    autoscale), inverted and flipped it, quantised it to 8 bits and added JPEG block artefacts. We keep
    the scaling (it is what the network saw) and compute the array directly: no lossy, slow round trip
    through an image codec, no dependence on matplotlib's figure size / dpi / colour map, identical
    numbers in training and in the player.

``mel_excerpt`` (seed 002, Choi et al. FCN 50-tag tagger)
    12,000 Hz mono, 29.12 s centre crop (zero-padded at the end when shorter), mel power spectrogram
    (n_fft 512, hop 256, 96 bands), ``power_to_db(S ** 2)`` as the seed (and Choi's original code) did,
    -> ``(96, 1366, 1)`` float32. The network normalises its input with a batch-norm over frequency.

Audio comes through the player's one reader (:func:`player.audio.reader.read_excerpt`): any format the
player plays (FFmpeg through PyAV and libsndfile, opened by content), seeking to the excerpt, honest
lengths. :func:`read_mono` returns an excerpt at the file's own rate, so that one decode feeds both
models (each resampled to its ``sample_rate`` with soxr at its ``resample_quality``); the reader's
errors become :class:`AudioDecodeError` with the reader's words.
"""

from __future__ import annotations

import copy
import functools
import math

import numpy as np

__all__ = [
    "AudioDecodeError", "FrontendError", "read_mono", "open_mono", "MonoReader", "resample", "to_model_rate", "fit_length", "mel_power",
    "log_mel", "genre_slices", "tagger_input", "features", "feature_shape", "excerpt_samples",
    "validate_frontend", "load_features", "GENRE_FRONTEND_SEED000", "TAGGER_FRONTEND_SEED002", "frontend_preset",
]


class AudioDecodeError(Exception):
    """A file could not be decoded; ``str(exc)`` is the reader's one-line reason."""


class FrontendError(ValueError):
    """A front-end configuration is missing a constant or has an impossible one."""


# --------------------------------------------------------------------------------------------- decoding

def read_mono(path, seconds: float, offset="centre", *, duration: float | None = None):
    """``seconds`` of ``path`` (fewer when the file is shorter), downmixed to mono float32 at the file's own
    rate: a :class:`player.audio.reader.Excerpt` (``audio``, ``samplerate``, ``start``, ``duration``,
    ``channels``).

    ``offset`` is ``"centre"`` (the middle of the file, as FMA's clips and seed 002 do), ``"start"``, or
    seconds (clamped so that the excerpt lies inside the file); ``duration`` (the library's) is used when
    the file does not say. Raises :class:`AudioDecodeError` with the reader's reason. Several excerpts of
    one file: :func:`open_mono`."""
    with open_mono(path) as f:
        return f.read(seconds, offset, duration=duration)


class MonoReader:
    """One audio file open for several mono excerpts (:meth:`read`, as :func:`read_mono` reads them): one
    open and one length check for all of them. A context manager; errors are :class:`AudioDecodeError`."""

    def __init__(self, path):
        from player.audio.errors import AudioError
        from player.audio.reader import open_audio

        self._error = AudioError
        try:
            self._file = open_audio(path)
        except AudioError as exc:
            raise AudioDecodeError(str(exc)) from None

    def read(self, seconds: float, offset="centre", *, duration: float | None = None, checked: bool = False):
        """An excerpt as :func:`read_mono` reads it. ``checked``: ``duration`` is the library's (measured by
        the importer), so a header that agrees with it needs no second check
        (:meth:`player.audio.reader.AudioFile.excerpt`)."""
        try:
            return self._file.excerpt(seconds, offset, mono=True, duration=duration, checked=checked)
        except self._error as exc:
            raise AudioDecodeError(str(exc)) from None

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "MonoReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_mono(path) -> MonoReader:
    """``path`` open for mono excerpts (see :class:`MonoReader`). Raises :class:`AudioDecodeError`."""
    return MonoReader(path)


def resample(audio: np.ndarray, sr_in: int, sr_out: int, quality: str = "HQ") -> np.ndarray:
    """Resample mono float32 audio with soxr (what ``librosa.load`` uses by default: ``soxr_hq``)."""
    audio = np.asarray(audio, dtype=np.float32)
    if int(sr_in) == int(sr_out) or len(audio) == 0:
        return audio
    import soxr

    return soxr.resample(audio, int(sr_in), int(sr_out), quality=quality).astype(np.float32, copy=False)


def to_model_rate(audio: np.ndarray, sr: int, cfg: dict) -> np.ndarray:
    """Mono audio at ``sr`` Hz resampled to the front end's ``sample_rate`` at its ``resample_quality``."""
    return resample(audio, sr, cfg["sample_rate"], cfg.get("resample_quality", "HQ"))


def fit_length(audio: np.ndarray, n: int) -> np.ndarray:
    """Seed 002's rule: centre-crop a longer signal, zero-pad a shorter one at the end."""
    m = len(audio)
    if m > n:
        a = (m - n) // 2
        return audio[a:a + n]
    if m < n:
        return np.pad(audio, (0, n - m))
    return audio


# ------------------------------------------------------------------------------------- configuration

_REQUIRED = ("kind", "sample_rate", "excerpt_seconds", "n_fft", "hop_length", "n_mels", "fmin", "fmax",
             "window", "center", "pad_mode", "power", "mel_htk", "mel_norm", "log", "normalisation")
_KIND_REQUIRED = {"mel_slices": ("slice_frames", "max_slices", "min_slices"),
                  "mel_excerpt": ("n_frames",)}


def validate_frontend(cfg: dict) -> dict:
    """Check a front-end dict has every constant and that they fit together; returns it."""
    if not isinstance(cfg, dict):
        raise FrontendError("front-end configuration must be a JSON object")
    kind = cfg.get("kind")
    if kind not in _KIND_REQUIRED:
        raise FrontendError(f"unknown front-end kind {kind!r} (expected one of {sorted(_KIND_REQUIRED)})")
    missing = [k for k in _REQUIRED + _KIND_REQUIRED[kind] if k not in cfg]
    if missing:
        raise FrontendError(f"front-end configuration lacks {', '.join(missing)}")
    sr = cfg["sample_rate"]
    if not (isinstance(sr, int) and 1000 <= sr <= 384000):
        raise FrontendError(f"sample_rate must be an integer in Hz, got {sr!r}")
    if cfg["hop_length"] <= 0 or cfg["n_fft"] <= 0 or cfg["n_mels"] <= 0:
        raise FrontendError("n_fft, hop_length and n_mels must be positive")
    fmax = cfg["fmax"] if cfg["fmax"] is not None else sr / 2
    if not (0 <= cfg["fmin"] < fmax <= sr / 2 + 1e-6):
        raise FrontendError(f"need 0 <= fmin < fmax <= sample_rate/2, got {cfg['fmin']}, {cfg['fmax']}")
    if cfg["window"] != "hann":
        raise FrontendError(f"window must be 'hann', got {cfg['window']!r}")
    if cfg["mel_norm"] not in ("slaney", None):
        raise FrontendError(f"mel_norm must be 'slaney' or null, got {cfg['mel_norm']!r}")
    log = cfg["log"]
    if not isinstance(log, dict) or log.get("kind") not in ("power_to_db", "none"):
        raise FrontendError(f"log must be {{'kind': 'power_to_db'|'none', ...}}, got {log!r}")
    norm = cfg["normalisation"]
    if not isinstance(norm, dict) or norm.get("kind") not in ("minmax", "none", "affine"):
        raise FrontendError(f"normalisation must be {{'kind': 'minmax'|'affine'|'none'}}, got {norm!r}")
    if kind == "mel_excerpt" and cfg["n_frames"] != _n_stft_frames(excerpt_samples(cfg), cfg):
        raise FrontendError(f"n_frames {cfg['n_frames']} does not match excerpt_seconds {cfg['excerpt_seconds']}"
                            f" at {sr} Hz with hop {cfg['hop_length']}")
    return cfg


def excerpt_samples(cfg: dict) -> int:
    return int(round(cfg["excerpt_seconds"] * cfg["sample_rate"]))


def _n_stft_frames(n_samples: int, cfg: dict) -> int:
    if cfg["center"]:
        return 1 + n_samples // cfg["hop_length"]
    return max(0, 1 + (n_samples - cfg["n_fft"]) // cfg["hop_length"])


def feature_shape(cfg: dict) -> tuple:
    """The model input shape (without batch) this front end produces: ``(n_mels, frames, 1)``."""
    if cfg["kind"] == "mel_slices":
        return (cfg["n_mels"], cfg["slice_frames"], 1)
    return (cfg["n_mels"], cfg["n_frames"], 1)


# ---------------------------------------------------------------------------------- spectrograms

def _hz_to_mel(f, htk: bool):
    f = np.asarray(f, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-12) / min_log_hz) / logstep, f / f_sp)


def _mel_to_hz(m, htk: bool):
    m = np.asarray(m, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


@functools.lru_cache(maxsize=16)
def _mel_basis(sr: int, n_fft: int, n_mels: int, fmin: float, fmax, htk: bool, norm) -> tuple:
    """librosa.filters.mel (Slaney-style, same numbers) in numpy, transposed and cut to the FFT bins any
    filter uses (fmax 8 kHz at 22,050 Hz: 73 % of them)."""
    if fmax is None:
        fmax = sr / 2.0
    if norm not in ("slaney", None):
        raise FrontendError(f"mel_norm must be 'slaney' or null, got {norm!r}")
    fftfreqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(fmin, htk), _hz_to_mel(fmax, htk), n_mels + 2), htk)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    if norm == "slaney":
        weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    weights = weights.astype(np.float32)
    used = np.nonzero(weights.any(axis=0))[0]
    hi = int(used[-1]) + 1 if len(used) else 1
    return np.ascontiguousarray(weights[:, :hi].T), hi


@functools.lru_cache(maxsize=16)
def _window(name: str, n_fft: int) -> np.ndarray:
    if name != "hann":
        raise FrontendError(f"window must be 'hann', got {name!r}")
    # the periodic Hann window (scipy.signal.get_window('hann', n, fftbins=True), librosa's default)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)


def mel_power(audio: np.ndarray, cfg: dict) -> np.ndarray:
    """Mel spectrogram ``(n_mels, n_frames)`` float32, numerically ``librosa.feature.melspectrogram``
    with the config's constants, computed with one framed real FFT and a cached filter matrix."""
    import scipy.fft

    y = np.asarray(audio, dtype=np.float32)
    n_fft, hop = int(cfg["n_fft"]), int(cfg["hop_length"])
    if cfg["center"]:
        pad = n_fft // 2
        if cfg["pad_mode"] == "constant":
            y = np.pad(y, (pad, pad))
        else:
            y = np.pad(y, (pad, pad), mode=cfg["pad_mode"])
    if len(y) < n_fft:
        y = np.pad(y, (0, n_fft - len(y)))
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop]
    spec = scipy.fft.rfft(frames * _window(cfg["window"], n_fft), axis=1)
    basis, hi = _mel_basis(int(cfg["sample_rate"]), n_fft, int(cfg["n_mels"]), float(cfg["fmin"]),
                           None if cfg["fmax"] is None else float(cfg["fmax"]), bool(cfg["mel_htk"]),
                           cfg["mel_norm"])
    spec = spec[:, :hi]
    mag = spec.real * spec.real + spec.imag * spec.imag
    power = float(cfg["power"])
    if power != 2.0:
        mag = np.sqrt(mag) ** power
    return np.ascontiguousarray((mag @ basis).T, dtype=np.float32)


def log_mel(mel: np.ndarray, cfg: dict) -> np.ndarray:
    """Apply the config's log (``librosa.power_to_db`` semantics) to a mel spectrogram."""
    log = cfg["log"]
    if log["kind"] == "none":
        return mel.astype(np.float32, copy=False)
    s = mel.astype(np.float64)
    e = float(log.get("input_exponent", 1))
    if e != 1:
        s = s ** e
    amin = float(log.get("amin", 1e-10))
    ref = float(log.get("ref", 1.0))
    db = 10.0 * np.log10(np.maximum(amin, s)) - 10.0 * math.log10(max(amin, ref))
    top = log.get("top_db")
    if top is not None:
        db = np.maximum(db, db.max() - float(top))
    return db.astype(np.float32)


def _normalise(x: np.ndarray, cfg: dict) -> np.ndarray:
    norm = cfg["normalisation"]
    kind = norm["kind"]
    if kind == "none":
        return x
    if kind == "affine":
        return ((x - float(norm["offset"])) * float(norm["scale"])).astype(np.float32)
    lo, hi = float(x.min()), float(x.max())
    if hi - lo < 1e-6:  # silence (or a constant): all zeros, never NaN
        return np.zeros_like(x, dtype=np.float32)
    return ((x - lo) / (hi - lo)).astype(np.float32)


def genre_slices(audio: np.ndarray, cfg: dict) -> np.ndarray:
    """Seed 000's input: ``(n_slices, n_mels, slice_frames, 1)`` float32 from mono audio at ``cfg``'s rate.

    The audio is centre-cropped to the excerpt length; a shorter signal gives fewer slices
    (``frames // slice_frames``, at least ``min_slices``, the last padded with the minimum value).
    """
    if cfg["kind"] != "mel_slices":
        raise FrontendError(f"genre_slices needs a 'mel_slices' front end, got {cfg['kind']!r}")
    n = excerpt_samples(cfg)
    y = np.asarray(audio, dtype=np.float32)
    if len(y) > n:
        y = fit_length(y, n)
    img = _normalise(log_mel(mel_power(y, cfg), cfg), cfg)
    w = int(cfg["slice_frames"])
    k = min(int(cfg["max_slices"]), img.shape[1] // w)
    k = max(k, int(cfg["min_slices"]))
    if img.shape[1] < k * w:
        img = np.pad(img, ((0, 0), (0, k * w - img.shape[1])), constant_values=float(img.min()))
    img = img[:, :k * w]
    # (n_mels, k*w) -> (k, n_mels, w, 1)
    return np.ascontiguousarray(img.reshape(img.shape[0], k, w).transpose(1, 0, 2)[..., None])


def tagger_input(audio: np.ndarray, cfg: dict) -> np.ndarray:
    """Seed 002's input: ``(n_mels, n_frames, 1)`` float32 from mono audio at ``cfg``'s rate
    (centre crop / zero pad to ``excerpt_seconds`` first)."""
    if cfg["kind"] != "mel_excerpt":
        raise FrontendError(f"tagger_input needs a 'mel_excerpt' front end, got {cfg['kind']!r}")
    y = fit_length(np.asarray(audio, dtype=np.float32), excerpt_samples(cfg))
    x = _normalise(log_mel(mel_power(y, cfg), cfg), cfg)
    t = int(cfg["n_frames"])
    if x.shape[1] != t:  # cannot happen with a validated config; keep the shape contract anyway
        x = x[:, :t] if x.shape[1] > t else np.pad(x, ((0, 0), (0, t - x.shape[1])))
    return np.ascontiguousarray(x[..., None])


def features(audio: np.ndarray, cfg: dict) -> np.ndarray:
    """The model input batch for one excerpt: ``(n_slices, ...)`` for ``mel_slices``, ``(1, ...)`` else."""
    if cfg["kind"] == "mel_slices":
        return genre_slices(audio, cfg)
    return tagger_input(audio, cfg)[None]


# ------------------------------------------------------------------------------------------ presets

#: Seed 000 (genre CNNs). Only used to write a new model's config.json; inference reads config.json.
GENRE_FRONTEND_SEED000 = {
    "kind": "mel_slices",
    "sample_rate": 22050,          # librosa.load default
    "excerpt_seconds": 30.0,       # an FMA clip; 1293 frames -> 10 slices
    "excerpt_offset": "centre",
    "resample_quality": "HQ",      # soxr_hq, librosa.load's default
    "n_fft": 2048,
    "hop_length": 512,
    "window": "hann",
    "center": True,
    "pad_mode": "constant",
    "power": 2.0,
    "n_mels": 128,
    "fmin": 0.0,
    "fmax": 8000.0,
    "mel_htk": False,
    "mel_norm": "slaney",
    "log": {"kind": "power_to_db", "input_exponent": 1, "ref": 1.0, "amin": 1e-10, "top_db": 80.0},
    "normalisation": {"kind": "minmax", "scope": "excerpt"},
    "slice_frames": 128,
    "max_slices": 10,
    "min_slices": 1,
}

#: Seed 002 (Choi FCN tagger). Only used to write a new model's config.json.
TAGGER_FRONTEND_SEED002 = {
    "kind": "mel_excerpt",
    "sample_rate": 12000,
    "excerpt_seconds": 29.12,      # 349,440 samples -> 1366 frames
    "excerpt_offset": "centre",
    "resample_quality": "HQ",
    "n_fft": 512,
    "hop_length": 256,
    "window": "hann",
    "center": True,
    "pad_mode": "constant",
    "power": 2.0,
    "n_mels": 96,
    "fmin": 0.0,
    "fmax": 6000.0,                # librosa's default: sample_rate / 2
    "mel_htk": False,
    "mel_norm": "slaney",
    # the seed: power_to_db(melspectrogram(...) ** 2, ref=1.0)
    "log": {"kind": "power_to_db", "input_exponent": 2, "ref": 1.0, "amin": 1e-10, "top_db": 80.0},
    "normalisation": {"kind": "none"},
    "n_frames": 1366,
}


def frontend_preset(kind: str) -> dict:
    """A fresh copy of a preset: ``"genre"`` (seed 000) or ``"tagger"`` (seed 002)."""
    presets = {"genre": GENRE_FRONTEND_SEED000, "tagger": TAGGER_FRONTEND_SEED002}
    if kind not in presets:
        raise FrontendError(f"unknown preset {kind!r} (expected genre or tagger)")
    return copy.deepcopy(presets[kind])


def load_features(path, cfg: dict, offset=None, duration: float | None = None) -> np.ndarray:
    """Read the excerpt ``cfg`` needs from ``path`` and return :func:`features` of it."""
    off = cfg.get("excerpt_offset", "centre") if offset is None else offset
    ex = read_mono(path, cfg["excerpt_seconds"], off, duration=duration)
    return features(to_model_rate(ex.audio, ex.samplerate, cfg), cfg)

"""The feature front ends (player/analysis/features.py) on real generated audio files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from player.analysis import features as F

GENRE = F.frontend_preset("genre")
TAGGER = F.frontend_preset("tagger")


def _signal(seconds, sr, seed=0, freq=440.0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * freq * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)


def _write_long(path, data, sr, fmt=None, subtype=None):
    """Write in one-second blocks (libsndfile 1.2.2 crashes on one huge mp3/ogg write)."""
    data = data if data.ndim == 2 else data[:, None]
    with sf.SoundFile(path, "w", sr, data.shape[1], format=fmt, subtype=subtype) as f:
        for i in range(0, len(data), sr):
            f.write(data[i:i + sr])
    return path


# ------------------------------------------------------------------------------------ spectrograms

@pytest.mark.parametrize("cfg", [GENRE, TAGGER], ids=["genre", "tagger"])
def test_mel_and_log_match_librosa(cfg):
    import librosa

    sr = cfg["sample_rate"]
    y = _signal(cfg["excerpt_seconds"], sr)
    ref = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=cfg["n_fft"], hop_length=cfg["hop_length"],
                                         n_mels=cfg["n_mels"], fmax=cfg["fmax"])
    mine = F.mel_power(y, cfg)
    assert mine.shape == ref.shape and mine.dtype == np.float32
    assert np.abs(mine - ref).max() <= 1e-4 * ref.max()
    # the seeds' logs: power_to_db(S) for seed 000, power_to_db(S ** 2, ref=1.0) for seed 002
    expect = librosa.power_to_db(ref) if cfg is GENRE else librosa.power_to_db(ref ** 2, ref=1.0)
    assert np.abs(F.log_mel(mine, cfg) - expect).max() < 1e-3


def test_genre_slices_shape_range_and_short_audio():
    sr = GENRE["sample_rate"]
    x = F.genre_slices(_signal(30, sr), GENRE)
    assert x.shape == (10, 128, 128, 1) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0  # min-max over the excerpt
    # a longer signal is centre-cropped to the excerpt: still ten slices
    assert F.genre_slices(_signal(70, sr), GENRE).shape[0] == 10
    # shorter audio gives fewer slices, never fewer than one; no NaN for silence
    assert F.genre_slices(_signal(10, sr), GENRE).shape == (3, 128, 128, 1)
    assert F.genre_slices(_signal(0.5, sr), GENRE).shape == (1, 128, 128, 1)
    silent = F.genre_slices(np.zeros(sr * 30, np.float32), GENRE)
    assert np.isfinite(silent).all() and not silent.any()


def test_genre_slices_are_consecutive_time_blocks():
    sr = GENRE["sample_rate"]
    y = _signal(30, sr)
    y[: sr * 6] *= 0.0  # the first ~2 slices are silent
    x = F.genre_slices(y, GENRE)
    assert x[0].mean() < 0.05 and x[-1].mean() > 0.2


def test_tagger_input_crop_and_pad():
    sr = TAGGER["sample_rate"]
    n = F.excerpt_samples(TAGGER)
    assert n == 349440
    y = _signal(29.12, sr)
    x = F.tagger_input(y, TAGGER)
    assert x.shape == (96, 1366, 1) and x.dtype == np.float32
    # longer: the centre 29.12 s, as seed 002
    long = np.concatenate([np.zeros(sr * 5, np.float32), y, np.zeros(sr * 5, np.float32)])
    np.testing.assert_allclose(F.tagger_input(long, TAGGER), x, atol=1e-4)
    # shorter: zero-padded at the end
    short = F.tagger_input(y[: sr * 3], TAGGER)
    assert short.shape == (96, 1366, 1)
    assert short[:, -100:].max() <= short.min() + 1e-3  # padded region is at the floor
    assert np.isfinite(F.tagger_input(np.zeros(10, np.float32), TAGGER)).all()


def test_features_dispatch_and_shapes_match_config():
    for cfg in (GENRE, TAGGER):
        y = _signal(cfg["excerpt_seconds"], cfg["sample_rate"])
        x = F.features(y, cfg)
        assert x.shape[1:] == F.feature_shape(cfg)
    with pytest.raises(F.FrontendError):
        F.genre_slices(np.zeros(100, np.float32), TAGGER)


def test_validate_frontend_errors_and_presets_are_copies():
    bad = F.frontend_preset("genre")
    del bad["n_mels"]
    with pytest.raises(F.FrontendError, match="n_mels"):
        F.validate_frontend(bad)
    bad = F.frontend_preset("tagger")
    bad["n_frames"] = 1000
    with pytest.raises(F.FrontendError, match="n_frames"):
        F.validate_frontend(bad)
    bad = F.frontend_preset("genre")
    bad["fmax"] = 20000.0
    with pytest.raises(F.FrontendError, match="fmax"):
        F.validate_frontend(bad)
    p = F.frontend_preset("genre")
    p["n_mels"] = 1
    assert F.frontend_preset("genre")["n_mels"] == 128
    assert F.validate_frontend(F.frontend_preset("tagger"))["n_frames"] == 1366


# ---------------------------------------------------------------------------------------- decoding

def test_the_centre_excerpt_of_a_long_file_decodes_only_the_excerpt(tmp_path, monkeypatch):
    sr = 8000
    y = np.zeros(sr * 600, np.float32)  # ten minutes of silence with a tone in the middle
    y[sr * 299: sr * 301] = _signal(2, sr, freq=1000)
    path = _write_long(tmp_path / "long.flac", y, sr)
    read = []
    orig = sf.SoundFile.read

    def counting_read(self, frames=-1, *a, **k):
        out = orig(self, frames, *a, **k)
        read.append(len(out))
        return out

    monkeypatch.setattr(sf.SoundFile, "read", counting_read)
    ex = F.read_mono(path, 30.0)
    assert len(ex.audio) == 30 * sr and ex.samplerate == sr and ex.duration == pytest.approx(600)
    assert ex.start == pytest.approx(285.0)
    # only the excerpt was decoded (and the reader's check of the file's last seconds): not ten minutes
    assert sum(read) < 40 * sr
    assert np.abs(ex.audio[14 * sr: 16 * sr]).max() > 0.2 and np.abs(ex.audio[: 10 * sr]).max() == 0
    # an explicit offset, and one past the end clamps to the last 30 s
    assert F.read_mono(path, 30.0, offset=10.0).start == pytest.approx(10.0)
    assert F.read_mono(path, 30.0, offset=10_000).start == pytest.approx(570.0)


@pytest.mark.parametrize("channels,sr", [(1, 8000), (2, 44100), (6, 48000), (2, 192000)])
def test_excerpts_at_the_models_rates_from_any_channels_and_rate(tmp_path, channels, sr):
    base = _signal(4, sr, freq=300)
    data = np.stack([base * (1 - 0.1 * c) for c in range(channels)], axis=1)
    path = tmp_path / f"x{channels}_{sr}.wav"
    sf.write(path, data, sr, subtype="PCM_16")
    ex = F.read_mono(path, 30.0)
    assert ex.samplerate == sr and ex.channels == channels
    y = F.to_model_rate(ex.audio, ex.samplerate, GENRE)
    assert y.dtype == np.float32 and y.ndim == 1
    assert len(y) == pytest.approx(4 * 22050, abs=2)  # shorter than the excerpt: what there is
    t = F.to_model_rate(F.read_mono(path, 29.12).audio, sr, TAGGER)
    padded = F.fit_length(t, F.excerpt_samples(TAGGER))
    assert len(padded) == 349440 and not padded[-1000:].any()
    # the downmix is the channel mean; the tone's energy survives resampling
    assert 0.1 < np.sqrt(np.mean(y[:22050] ** 2)) < 0.3


@pytest.mark.parametrize("ext,codec", [("mp3", None), ("ogg", None), ("opus", None), ("m4a", None),
                                       ("m4a", "alac"), ("wma", None), ("wv", None), ("aiff", None)])
def test_features_of_every_format_the_player_reads(tmp_path, ext, codec):
    from audiogen import write_audio

    sr = 48000 if ext == "opus" else 44100
    y = _signal(40, sr)
    p = write_audio(tmp_path / f"a.{ext}", np.stack([y, 0.8 * y], 1), sr, codec=codec)
    x = F.load_features(p, GENRE)
    assert x.shape == (10, 128, 128, 1) and np.isfinite(x).all()
    t = F.load_features(p, TAGGER)
    assert t.shape == (1, 96, 1366, 1) and np.isfinite(t).all()
    # the tone is where it should be: the same features as from the signal itself (up to the codec)
    ref = F.features(F.to_model_rate(F.fit_length(y, 30 * sr) * 0.9, sr, GENRE), GENRE)
    assert np.abs(x - ref).mean() < 0.05


def test_truncated_mp3_whose_header_lies(tmp_path):
    sr = 22050
    p = _write_long(tmp_path / "full.mp3", _signal(60, sr), sr, "MP3", "MPEG_LAYER_III")
    data = p.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) * 2 // 5])
    with sf.SoundFile(cut) as f:
        claimed = f.frames / sr
    ex = F.read_mono(cut, 30.0)
    real = len(ex.audio) / sr
    assert claimed > 50 and 15 < real <= 30  # the excerpt comes from the audio that really exists
    assert ex.duration < 30  # the real length was counted


def test_unreadable_inputs_give_the_readers_reasons(tmp_path):
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(F.AudioDecodeError, match="not an audio file FFmpeg or libsndfile can read"):
        F.read_mono(garbage, 30)
    with pytest.raises(F.AudioDecodeError, match="the file is gone"):
        F.read_mono(tmp_path / "missing.wav", 30)
    with pytest.raises(F.AudioDecodeError, match="folder"):
        F.read_mono(tmp_path, 30)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros((0, 1), np.float32), 22050)
    with pytest.raises(F.AudioDecodeError, match="no decodable audio|empty"):
        F.read_mono(empty, 30)
    with pytest.raises(F.AudioDecodeError) as info:
        F.load_features(garbage, GENRE)
    assert "\n" not in str(info.value) and "Traceback" not in str(info.value)


def test_silent_file_features_are_finite(tmp_path):
    p = tmp_path / "silence.wav"
    sf.write(p, np.zeros(22050 * 5, np.float32), 22050)
    for cfg in (GENRE, TAGGER):
        x = F.load_features(p, cfg)
        assert np.isfinite(x).all()


def test_seed000_picture_pixels_match_our_slices():
    """Seed 000's matplotlib -> JPEG -> cv2 round trip and our direct arrays agree up to JPEG error
    (after undoing the picture's inverted grey scale and its vertical flip)."""
    matplotlib = pytest.importorskip("matplotlib")
    import io

    import cv2
    import librosa
    import librosa.display

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sr = 22050
    y = _signal(30, sr, seed=3)
    y += 0.2 * np.sin(2 * np.pi * 110 * np.arange(len(y)) / sr).astype(np.float32)
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, n_mels=128, fmax=8000))
    fig = plt.figure(figsize=(mel.shape[1] / 100, mel.shape[0] / 100), dpi=100)
    fig.add_axes([0.0, 0.0, 1.0, 1.0], frameon=False, xticks=[], yticks=[])
    librosa.display.specshow(mel, cmap="gray_r")
    buf = io.BytesIO()
    fig.savefig(buf, bbox_inches=None, pad_inches=0, format="jpg")
    plt.close(fig)
    img = cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_UNCHANGED)
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    k = grey.shape[1] // 128
    seed = np.stack(np.hsplit(grey[:, : k * 128], k))
    ours = F.genre_slices(y, GENRE)[..., 0]
    assert seed.shape == ours.shape == (10, 128, 128)
    seed_values = 1.0 - seed[:, ::-1, :] / 255.0
    assert np.abs(seed_values - ours).mean() < 0.05


# ------------------------------------------------------------------ both models' inputs from one open

def _drums(seconds, sr, seed=3):
    """A tone under noise bursts with sharp onsets (Vorbis' short blocks, as in real music), stereo."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    x = 0.2 * np.sin(2 * np.pi * 220 * t * (1 + 0.1 * np.sin(2 * np.pi * 0.05 * t)))
    x += 0.3 * rng.standard_normal(n) * ((np.arange(n) % (sr // 2)) < sr // 20)
    return np.stack([x, 0.15 * np.sin(2 * np.pi * 330 * t) + 0.1 * x], axis=1).astype(np.float32)


class _Track:
    def __init__(self, track_id, path, duration):
        self.id, self.path, self.duration = track_id, str(path), duration


@pytest.mark.parametrize("ext,sr,codec", [("ogg", 44100, None), ("ogg", 48000, None), ("opus", 48000, None),
                                          ("opus", 48000, "libopus"), ("mp3", 44100, "libmp3lame")])
def test_both_models_inputs_from_one_open_file_are_those_of_each_excerpt_read_alone(tmp_path, ext, sr, codec):
    from audiogen import write_audio
    from modelgen import models_for_tests

    from player.analysis.engine import Analyser
    from player.analysis.labels import excerpt_offsets
    from player.audio.reader import probe_audio

    path = write_audio(tmp_path / f"song.{ext}", _drums(100, sr), sr, codec=codec)
    analyser = Analyser.open(models_dir=models_for_tests(tmp_path))  # the configs only: no TensorFlow
    try:
        tcfg, gcfg = analyser.tagger_frontend, analyser.genre_frontend
        library_duration = probe_audio(path).duration  # what the importer stores
        prepared = analyser.prepare(_Track(1, path, library_duration))
        unchecked = analyser.prepare(_Track(2, path, None))  # the file's length checked again
    finally:
        analyser.close()
    # the separate way: each excerpt decoded from its own open of the file, resampled for its model
    centre = F.read_mono(path, max(gcfg["excerpt_seconds"], tcfg["excerpt_seconds"]))
    genre = F.features(F.to_model_rate(centre.audio, centre.samplerate, gcfg), gcfg)
    offsets = excerpt_offsets(centre.duration, tcfg["excerpt_seconds"], analyser.max_excerpts, with_centre=True)
    assert len(offsets) == 2  # a 100 s song: the centre excerpt and one more
    tag_audio = [F.to_model_rate(centre.audio, centre.samplerate, tcfg)]
    centre_start = (centre.duration - tcfg["excerpt_seconds"]) / 2
    for off in offsets:
        if abs(off - centre_start) >= tcfg["excerpt_seconds"] / 2:
            ex = F.read_mono(path, tcfg["excerpt_seconds"], off)
            tag_audio.append(F.to_model_rate(ex.audio, ex.samplerate, tcfg))
    tagger = np.concatenate([F.features(a, tcfg) for a in tag_audio])
    for p in (prepared, unchecked):
        assert p.genre_x.shape == (10, 128, 128, 1) and p.tagger_x.shape == (2, 96, 1366, 1)
        np.testing.assert_array_equal(p.genre_x, genre)
        np.testing.assert_array_equal(p.tagger_x, tagger)


def test_several_excerpts_of_one_open_file_and_its_errors(tmp_path):
    path = _write_long(tmp_path / "a.flac", _signal(90, 22050), 22050)
    with F.open_mono(path) as f:
        a = f.read(30.0)
        b = f.read(10.0, 5.0)
    assert a.start == pytest.approx(30.0) and b.start == pytest.approx(5.0)
    np.testing.assert_array_equal(a.audio, F.read_mono(path, 30.0).audio)
    np.testing.assert_array_equal(b.audio, F.read_mono(path, 10.0, 5.0).audio)
    (tmp_path / "junk.ogg").write_bytes(b"not audio at all" * 100)
    with pytest.raises(F.AudioDecodeError, match="not an audio file"):
        F.open_mono(tmp_path / "junk.ogg")


@pytest.mark.tf
def test_keras_is_imported_without_its_optional_packages_which_stay_importable():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = ("import sys, importlib.util\n"
            "from player.analysis.engine import KERAS_OPTIONAL, import_keras\n"
            "keras = import_keras()\n"
            "assert keras.ops is not None\n"
            "loaded = [m for m in KERAS_OPTIONAL if m in sys.modules]\n"
            "assert not loaded, loaded\n"
            "present = [m for m in KERAS_OPTIONAL if importlib.util.find_spec(m) is not None]\n"
            "for m in present:\n"
            "    importlib.import_module(m)\n"
            "print('ok', len(present))\n")
    env = dict(os.environ, PYTHONPATH=str(root), KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("ok")

"""`python -m player analyse` on every format the reader opens (AAC, ALAC, WMA, WavPack, AIFF, Opus …),
with the shipped models in real worker processes, and its loudness pass: from the file to the library's
loudness fields."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audiogen import write_audio
from modelgen import models_for_tests
from player.analysis.store import read_track
from player.library import Library
from player.library.loudness import gains_for_track, loudness_json, pending_loudness
from player.library.scan import scan

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.tf
SR = 44100

# name: (extension, codec for write_audio or None)
FORMATS = {"flac": ("flac", None), "aac": ("m4a", None), "alac": ("m4a", "alac"), "wma": ("wma", None),
           "wavpack": ("wv", None), "aiff": ("aiff", None), "opus": ("opus", None), "mp3": ("mp3", None)}


def song(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """Something like music: a chord progression with partials, a bass line and noise hits, in stereo."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    x = np.zeros(n)
    for i, start in enumerate(range(0, n, sr)):
        seg = slice(start, min(n, start + sr))
        root = 110.0 * 2 ** ([0, 5, 7, 3][i % 4] / 12)
        env = np.exp(-(t[seg] - t[start]) * 2.0)
        for k in (1, 1.25, 1.5, 2, 3):
            x[seg] += 0.05 / k * env * np.sin(2 * np.pi * root * 2 * k * t[seg])
        x[seg] += 0.15 * env * np.sin(2 * np.pi * root / 2 * t[seg])
    hits = (np.arange(n) % (sr // 2)) < sr // 40
    x += 0.2 * rng.standard_normal(n) * hits
    return np.stack([x, 0.8 * x], axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("formats")
    models = models_for_tests(tmp)
    music = tmp / "music"
    for name, (ext, codec) in FORMATS.items():
        sr = 48000 if ext == "opus" else SR
        write_audio(music / f"{name}.{ext}", song(75, sr), sr, codec=codec)
    t = np.arange(12 * SR) / SR
    sine = (0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)  # -20 dBFS, both channels
    write_audio(music / "sine.flac", np.stack([sine, sine], axis=1), SR)
    write_audio(music / "other.flac", song(75, SR, seed=5)[::-1].copy(), SR)  # another song
    lib = Library(tmp / "lib.db")
    scan(lib, [music])
    assert lib.track_count("ok") == len(FORMATS) + 2, [t.error for t in lib.tracks()]
    env = dict(os.environ, PYTHONPATH=str(ROOT), PLAYER_MODELS_DIR=str(models))
    out = subprocess.run([sys.executable, "-m", "player", "analyse", "--db", str(lib.path), "--workers", "1"],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    yield lib, models, out.stdout
    lib.close()


def test_every_format_is_analysed(analysed):
    lib, models, stdout = analysed
    n = len(FORMATS) + 2
    assert f"analyse: {n} analysed, 0 failed" in stdout
    by_name = {Path(t.path).stem: t for t in lib.tracks()}
    results = {name: read_track(lib, by_name[name].id, models_dir=models) for name in [*FORMATS, "other"]}
    for name, r in results.items():
        assert r is not None and r.status == "ok", (name, r and r.error)
        assert r.n_excerpts == 2 and r.labels  # a 75 s song: both tagger excerpts decoded
    # the same song through every codec: the models hear the same thing (the lossless ones the very same
    # samples), and something else from another song
    ref = results["flac"].tags.values
    diff = {name: float(np.abs(r.tags.values - ref).max()) for name, r in results.items()}
    assert all(diff[name] < 1e-3 for name in ("alac", "wavpack", "aiff")), diff
    assert all(diff[name] < 0.05 for name in ("aac", "wma", "opus", "mp3")), diff
    assert diff["other"] > 0.05, diff


def test_the_loudness_pass_runs_after_the_analysis(analysed):
    lib, _models, stdout = analysed
    n = len(FORMATS) + 2
    assert f"loudness: {n} measured, 0 failed" in stdout
    assert pending_loudness(lib) == []
    by_name = {Path(t.path).stem: t for t in lib.tracks()}
    sine = loudness_json(lib, by_name["sine"].id)
    assert sine["loudness_lufs"] == pytest.approx(-20.0, abs=0.1)
    assert sine["true_peak_dbtp"] == pytest.approx(-20.0, abs=0.1)
    assert sine["track_gain_db"] == pytest.approx(2.0, abs=0.1)
    ref = loudness_json(lib, by_name["flac"].id)["loudness_lufs"]
    for name in FORMATS:  # the lossless ones exactly as the FLAC, the lossy ones within a LU (band limits)
        got = loudness_json(lib, by_name[name].id)
        lossless = name in ("flac", "alac", "wavpack", "aiff")
        assert got["loudness_lufs"] == pytest.approx(ref, abs=0.01 if lossless else 1.0), name
        assert gains_for_track(lib, by_name[name].id)["track_loudness"] == pytest.approx(got["loudness_lufs"], abs=0.01)

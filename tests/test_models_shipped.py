"""The trained models that ship in models/: they load through the registry, their config matches
features.py, and they run on generated audio with sane outputs that tell clearly different sounds apart.
(How good they are is measured by scripts/evaluate_distillation.py and written into each model card.)"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from audiogen import write_audio

pytestmark = pytest.mark.tf

MODELS = Path(__file__).resolve().parent.parent / "models"
SHIPPED = {"tagger": "tags", "cnn_lstm": "genre", "cnn": "genre", "cnn_bilstm": "genre"}
REQUIRED = ("tagger", "cnn_lstm")  # the player's defaults must ship
GENRES = ["Electronic", "Experimental", "Folk", "Hip-Hop", "Instrumental", "International", "Pop", "Rock"]
MOODS = ("happy", "sad", "mellow", "chill", "party", "quiet", "beautiful")


def present():
    return [n for n in SHIPPED if (MODELS / n / "config.json").exists()]


def chord(sr: int, seconds: float) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    y = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63, 440.0)) * 0.15
    return y.astype(np.float32)


def noise_bursts(sr: int, seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    gate = (np.sin(2 * np.pi * 4.0 * t + seed) > 0.2).astype(np.float32)
    return (0.4 * rng.standard_normal(t.size) * gate).astype(np.float32)


def cosine(a, b) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


@pytest.fixture(scope="module")
def loaded():
    from player.analysis import registry

    return {n: registry.load(n, MODELS) for n in present()}


def test_the_default_models_ship():
    missing = [n for n in REQUIRED if n not in present()]
    assert not missing, f"models/{missing[0]} is missing"


@pytest.mark.parametrize("name", list(SHIPPED))
def test_folder_is_complete_small_and_float16(name):
    folder = MODELS / name
    if not (folder / "config.json").exists():
        pytest.skip(f"models/{name} not shipped")
    from player.analysis import registry

    cfg = registry.read_config(folder)
    assert cfg["task"] == SHIPPED[name]
    assert (folder / "README.md").read_text().count("\n") > 20, "the model card is missing or empty"
    assert "distillation:begin" in (folder / "README.md").read_text(), "the card lacks the measured quality"
    weights = folder / cfg["weights"]
    assert weights.stat().st_size < 16 * 2**20
    with np.load(weights) as w:
        assert all(w[k].dtype == np.float16 for k in w.files if w[k].size > 64)
    assert cfg["training"]["command"], "the exact training command is recorded"
    labels = json.loads((folder / "labels.json").read_text())
    if cfg["task"] == "genre":
        assert labels == GENRES
    else:
        assert len(labels) == 50 and all(m in labels for m in MOODS)


def test_configs_match_features_py(loaded):
    from player.analysis import features as F

    for name, m in loaded.items():
        preset = F.frontend_preset("genre" if m.task == "genre" else "tagger")
        assert m.frontend == preset, f"{name}: config.json's frontend differs from features.py's preset"
        assert tuple(m.input_shape) == tuple(F.feature_shape(m.frontend))
        assert tuple(m.keras_model.input_shape[1:]) == tuple(m.input_shape)
        assert m.keras_model.output_shape[-1] == len(m.labels)


def test_genre_models_on_generated_audio(loaded):
    genre = {n: m for n, m in loaded.items() if m.task == "genre"}
    if not genre:
        pytest.skip("no genre model shipped")
    for name, m in genre.items():
        sr, sec = m.frontend["sample_rate"], m.frontend["excerpt_seconds"]
        signals = {"chord": chord(sr, sec), "noise1": noise_bursts(sr, sec, 1), "noise2": noise_bursts(sr, sec, 2)}
        out = {}
        for k, y in signals.items():
            x = m.features(y)
            assert x.shape == (10, 128, 128, 1)
            p, e = m.predict_with_embedding(x)
            assert p.shape == (10, 8) and e.shape == (10, m.embedding_dim)
            assert np.all(np.isfinite(p)) and np.all(np.isfinite(e))
            assert np.allclose(p.sum(axis=1), 1.0, atol=1e-3) and p.min() >= 0
            out[k] = (p.mean(axis=0), e.mean(axis=0))
        near = cosine(out["noise1"][1], out["noise2"][1])
        far = cosine(out["noise1"][1], out["chord"][1])
        assert far < near - 0.05, f"{name}: a chord and noise bursts embed too closely ({far:.3f} vs {near:.3f})"
        assert np.abs(out["chord"][0] - out["noise1"][0]).max() > 0.05, f"{name}: same genres for chord and noise"


def test_tagger_on_generated_audio(loaded):
    if "tagger" not in loaded:
        pytest.skip("no tagger shipped")
    m = loaded["tagger"]
    sr, sec = m.frontend["sample_rate"], m.frontend["excerpt_seconds"]
    res = {}
    for k, y in {"chord": chord(sr, sec), "noise1": noise_bursts(sr, sec, 1), "noise2": noise_bursts(sr, sec, 2)}.items():
        x = m.features(y)
        assert x.shape == (1, 96, 1366, 1)
        p, e = m.predict_with_embedding(x)
        assert p.shape == (1, 50) and np.all((p >= 0) & (p <= 1))
        res[k] = (p[0], e[0])
    top = {k: [m.labels[i] for i in np.argsort(-v[0])[:3]] for k, v in res.items()}
    assert top["chord"][0] != top["noise1"][0], f"same top tag for a chord and noise bursts: {top}"
    assert cosine(res["noise1"][1], res["chord"][1]) < cosine(res["noise1"][1], res["noise2"][1]) - 0.05
    thr = m.thresholds
    assert thr.shape == (50,) and np.all((thr > 0) & (thr <= 0.5))


def test_models_run_on_a_decoded_file(loaded, tmp_path):
    """The player's path: decode the centre excerpt of a real file, features from config.json, predict."""
    if not loaded:
        pytest.skip("no model shipped")
    sr = 22050
    path = write_audio(tmp_path / "song.ogg", np.concatenate([chord(sr, 20), noise_bursts(sr, 20, 3)])[:, None], sr)
    for name, m in loaded.items():
        x = m.load_features(path)
        p = m.predict(x)
        assert p.shape[1] == len(m.labels) and np.all(np.isfinite(p))

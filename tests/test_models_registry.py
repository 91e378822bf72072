"""The model registry: model folders -> loaded models, and clear errors for broken folders."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from player.analysis import features as F
from player.analysis import registry as R

pytestmark = pytest.mark.tf

TAGS = [f"tag{i}" for i in range(50)]
GENRES = ["Electronic", "Experimental", "Folk", "Hip-Hop", "Instrumental", "International", "Pop", "Rock"]


def _config(name, arch, task, frontend, version=1):
    return {"format": R.CONFIG_FORMAT, "name": name, "version": version, "task": task, "architecture": arch,
            "input_shape": list(F.feature_shape(frontend)), "n_classes": 0, "weights": "weights.npz",
            "frontend": frontend}


def make_model(root, name="tagger", arch="fcn_tagger", labels=TAGS, version=1, seed=0):
    """A real model folder with random (seeded) weights."""
    import keras

    from player.analysis import architectures as A

    task = "tags" if arch == "fcn_tagger" else "genre"
    frontend = F.frontend_preset("tagger" if task == "tags" else "genre")
    keras.utils.set_random_seed(seed)
    net = A.build(arch, len(labels))
    # move the batch-norm statistics off their defaults so a bad load would show
    for w in net.non_trainable_weights:
        w.assign(np.random.default_rng(seed).uniform(0.5, 1.5, w.shape).astype("float32"))
    R.write_model_folder(root / name, net, _config(name, arch, task, frontend, version), labels, card="# test\n")
    return net


@pytest.fixture(scope="module")
def models_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    nets = {"tagger": make_model(root), "cnn_lstm": make_model(root, "cnn_lstm", "cnn_lstm", GENRES)}
    return root, nets


def test_load_gives_the_same_predictions(models_root):
    root, nets = models_root
    m = R.load("tagger", models_dir=root)
    assert m.version_tag == "tagger@1" and m.task == "tags" and m.labels == TAGS
    assert m.input_shape == (96, 1366, 1) and m.frontend["sample_rate"] == 12000
    x = np.random.default_rng(1).normal(0, 20, (2, 96, 1366, 1)).astype(np.float32)
    p = m.predict(x)
    assert p.shape == (2, 50) and p.dtype == np.float32 and ((p >= 0) & (p <= 1)).all()
    # float16 weights on disk: agree with the float32 originals to float16 precision
    np.testing.assert_allclose(p, nets["tagger"].predict_on_batch(x), atol=0.02)
    assert (root / "tagger" / "weights.npz").stat().st_size < 1_000_000


def test_genre_model_embeddings_and_summary(models_root, tmp_path):
    root, nets = models_root
    m = R.load("cnn_lstm", models_dir=root)
    assert m.embedding_dim == 32 and m.config["output"] == "softmax"
    sr = 22050
    t = np.arange(sr * 30) / sr
    path = tmp_path / "tone.wav"
    sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)
    x = m.load_features(path)
    assert x.shape == (10, 128, 128, 1)
    np.testing.assert_array_equal(x, F.load_features(path, m.frontend))
    probs, emb = m.predict_with_embedding(x, batch_size=4)
    assert probs.shape == (10, 8) and emb.shape == (10, 32)
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-4)
    np.testing.assert_allclose(probs, m.predict(x), atol=1e-5)
    s = m.summarise(probs, emb)
    assert s["n"] == 10 and s["counts"].sum() == 10 and s["embedding"].shape == (32,)
    np.testing.assert_allclose(s["probabilities"], probs.mean(axis=0), atol=1e-6)
    # a single input without the batch axis is accepted; a wrong shape is refused in words
    assert m.predict(x[0]).shape == (1, 8)
    with pytest.raises(ValueError, match="expects a batch"):
        m.predict(np.zeros((1, 96, 1366, 1), np.float32))


def test_tag_summary_counts_threshold_passes(models_root):
    root, _ = models_root
    m = R.load("tagger", models_dir=root)
    probs = np.zeros((3, 50), np.float32)
    probs[:, 0] = [0.9, 0.6, 0.2]
    probs[:, 1] = [0.1, 0.1, 0.1]
    s = m.summarise(probs)
    assert s["counts"][0] == 2 and s["counts"][1] == 0


def test_available_default_and_env_override(models_root, monkeypatch):
    root, _ = models_root
    monkeypatch.setenv("PLAYER_MODELS_DIR", str(root))
    names = {i.name: i for i in R.available()}
    assert set(names) >= {"tagger", "cnn_lstm"} and names["cnn_lstm"].task == "genre"
    assert R.default_name("genre") == "cnn_lstm" and R.default_name("tags") == "tagger"
    assert R.load("tagger").folder == root / "tagger"
    assert R.load(str(root / "tagger")).name == "tagger"  # a path works too


def test_registry_json_chooses_defaults(tmp_path):
    make_model(tmp_path, "cnn", "cnn", GENRES[:3])
    make_model(tmp_path, "other", "cnn", GENRES[:3])
    assert R.default_name("genre", tmp_path) == "cnn"
    (tmp_path / "registry.json").write_text(json.dumps({"defaults": {"genre": "other"}}))
    assert R.default_name("genre", tmp_path) == "other"
    (tmp_path / "registry.json").write_text(json.dumps({"defaults": {"genre": "gone"}}))
    with pytest.raises(R.ModelError, match="gone"):
        R.default_name("genre", tmp_path)
    with pytest.raises(R.ModelError, match="no tags model"):
        R.default_name("tags", tmp_path)


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_broken_folders_name_the_file(models_root, tmp_path):
    root, _ = models_root
    with pytest.raises(R.ModelError, match="no such model folder.*available: cnn_lstm, tagger"):
        R.load("nope", models_dir=root)

    d = _copy(root / "tagger", tmp_path / "a")
    (d / "weights.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(R.ModelError, match=r"a/weights\.npz: corrupt"):
        R.load(str(d))

    d = _copy(root / "tagger", tmp_path / "b")
    (d / "weights.npz").unlink()
    with pytest.raises(R.ModelError, match=r"b/weights\.npz: missing"):
        R.load(str(d))

    d = _copy(root / "tagger", tmp_path / "c")
    (d / "config.json").write_text("{ truncated")
    with pytest.raises(R.ModelError, match=r"c/config\.json: not valid JSON"):
        R.load(str(d))

    d = _copy(root / "tagger", tmp_path / "d")
    (d / "labels.json").write_text(json.dumps(TAGS[:10]))
    with pytest.raises(R.ModelError, match=r"d/labels\.json: has 10 names but config.json says n_classes = 50"):
        R.load(str(d))

    d = _copy(root / "tagger", tmp_path / "e")
    cfg = json.loads((d / "config.json").read_text())
    cfg["frontend"]["n_mels"] = 128
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(R.ModelError, match=r"e/config\.json: input_shape \[96, 1366, 1\] does not match"):
        R.load(str(d))

    d = _copy(root / "tagger", tmp_path / "f")
    cfg = json.loads((d / "config.json").read_text())
    cfg["architecture"] = "transformer"
    (d / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(R.ModelError, match="unknown architecture 'transformer'"):
        R.load(str(d))

    # weights of another architecture
    d = _copy(root / "tagger", tmp_path / "g")
    (d / "weights.npz").write_bytes((root / "cnn_lstm" / "weights.npz").read_bytes())
    with pytest.raises(R.ModelError, match=r"g/weights\.npz: does not fit architecture fcn_tagger"):
        R.load(str(d))

    d = _copy(root / "tagger", tmp_path / "h")
    (d / "labels.json").unlink()
    with pytest.raises(R.ModelError, match=r"h/labels\.json: missing"):
        R.load(str(d))
    # a broken folder is listed with its error, not hidden; another area's model folder is not ours
    other = tmp_path / "expression"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"model_file": "emotion_model.hdf5", "architecture": "mini-Xception"}))
    infos = {i.name: i for i in R.available(tmp_path)}
    assert infos["a"].error is None and "config.json" in infos["c"].error
    assert "expression" not in infos


def test_config_constants_drive_features(models_root, tmp_path):
    """Inference reads the constants from config.json: change one and the input changes."""
    root, _ = models_root
    d = _copy(root / "tagger", tmp_path / "t2")
    cfg = json.loads((d / "config.json").read_text())
    cfg["frontend"]["log"]["top_db"] = 20.0
    (d / "config.json").write_text(json.dumps(cfg))
    m1, m2 = R.load("tagger", models_dir=root), R.load(str(d))
    y = np.random.default_rng(0).normal(0, 0.1, 12000 * 30).astype(np.float32)
    a, b = m1.features(y), m2.features(y)
    assert a.shape == b.shape == (1, 96, 1366, 1)
    assert (a.max() - a.min()) > 60 and (b.max() - b.min()) <= 20.001

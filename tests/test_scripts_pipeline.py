"""End to end on CPU: a tiny FMA-shaped data set -> prepare_fma -> train_genre / train_tagger -> evaluate.

The synthetic "genres" are separable by ear and by spectrogram: low tones with a slow swell, noise
bursts on a beat, and mid-range chords. The scripts run through their ``main(argv)`` functions.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytestmark = [pytest.mark.tf, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
GENRES = ["Folk", "Electronic", "Pop"]
PER_GENRE = 12
SECONDS = 10.0  # 431 frames at 22,050 Hz: three 128-frame slices per track


def script(name):
    path = REPO / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_pipeline_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def synth(genre: str, seconds: float, sr: int, rng) -> np.ndarray:
    n = int(seconds * sr)
    t = np.arange(n) / sr
    if genre == "Folk":  # low tones, slow swell
        f = rng.uniform(70, 160)
        x = np.sin(2 * np.pi * f * t) + 0.5 * np.sin(2 * np.pi * 2 * f * t)
        x *= 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * t)
    elif genre == "Electronic":  # noise bursts on a beat
        period = 60 / rng.uniform(100, 140)
        x = rng.standard_normal(n) * np.exp(-((t % period) / (0.04 + 0.03 * rng.random())))
    else:  # mid-range major chords changing about every second
        x = np.zeros(n)
        step = int(sr * rng.uniform(0.8, 1.2))
        for a in range(0, n, step):
            root, seg = rng.uniform(250, 500), t[a:a + step]
            for r in (1.0, 1.26, 1.5):
                x[a:a + step] += np.sin(2 * np.pi * root * r * seg)
    x = x / (np.abs(x).max() + 1e-9) * rng.uniform(0.3, 0.8)
    return (x + 0.005 * rng.standard_normal(n)).astype(np.float32)


def make_fma(root: Path, seed: int = 0) -> dict:
    """FMA's layout: fma_metadata/tracks.csv (FMA's header rows) and fma_small/NNN/NNNNNN.mp3."""
    rng = np.random.default_rng(seed)
    rows, truth, tid = [], {}, 2
    for _ in range(PER_GENRE):
        for g in GENRES:
            sr, ch = [(22050, 1), (44100, 2), (16000, 1)][tid % 3]
            x = synth(g, SECONDS, sr, rng)
            s = f"{tid:06d}"
            p = root / "fma_small" / s[:3] / f"{s}.mp3"
            p.parent.mkdir(parents=True, exist_ok=True)
            sf.write(p, np.repeat(x[:, None], ch, 1), sr, format="MP3", subtype="MPEG_LAYER_III")
            rows.append((tid, "small", g))
            truth[s] = g
            tid += 1
    bad = root / "fma_small" / "000" / f"{tid:06d}.mp3"  # FMA has a few unreadable mp3s
    bad.write_bytes(rng.integers(0, 256, 3000, dtype=np.uint8).tobytes())
    rows += [(tid, "small", "Pop"), (tid + 1, "small", "Folk"),  # ... and here one is missing
             (tid + 2, "medium", "Rock"), (tid + 3, "small", "")]  # not in small; no top genre
    meta = root / "fma_metadata"
    meta.mkdir(parents=True)
    with open(meta / "tracks.csv", "w") as fh:
        fh.write(",album,set,set,track,track\n")
        fh.write(",title,split,subset,genre_top,title\n")
        fh.write("track_id,,,,,\n")
        for t, sub, g in rows:
            fh.write(f'{t},"Album, {t}",training,{sub},{g},Song {t}\n')
    return truth


@pytest.fixture(scope="module")
def fma(tmp_path_factory):
    root = tmp_path_factory.mktemp("fma")
    truth = make_fma(root)
    return root, truth


@pytest.fixture(scope="module")
def store(fma, tmp_path_factory):
    root, _ = fma
    out = tmp_path_factory.mktemp("work") / "fma.features"
    rc = script("prepare_fma").main([str(root), str(out), "--test-count", "12", "--val-fraction", "0.25",
                                     "--shard-size", "16", "--quiet"])
    assert rc == 0
    return out


def test_every_script_has_help(capsys):
    for name in ("prepare_fma", "extract_features", "train_genre", "train_tagger", "evaluate"):
        with pytest.raises(SystemExit) as e:
            script(name).main(["--help"])
        assert e.value.code == 0
        assert "usage:" in capsys.readouterr().out


def test_prepare_refuses_a_wrong_layout(tmp_path, capsys):
    prep = script("prepare_fma")
    assert prep.main([str(tmp_path), str(tmp_path / "out")]) == 2
    assert "fma_metadata/tracks.csv not found" in capsys.readouterr().err
    (tmp_path / "fma_metadata").mkdir()
    (tmp_path / "fma_metadata" / "tracks.csv").write_text("a,b\n1,2\n")
    (tmp_path / "fma_small").mkdir()
    assert prep.main([str(tmp_path), str(tmp_path / "out")]) == 2
    assert "not FMA's tracks.csv" in capsys.readouterr().err
    assert prep.main([str(tmp_path / "nowhere"), str(tmp_path / "out")]) == 2


def test_prepare_store_split_failures_and_resume(fma, store, capsys):
    root, truth = fma
    import pandas as pd

    items = pd.read_csv(store / "items.csv", dtype={"key": str}, keep_default_na=False)
    assert len(items) == 3 * PER_GENRE + 2  # the medium-only and genre-less tracks are not selected
    failed = items[items["status"] == "failed"]
    assert len(failed) == 2 and "the file is gone" in " ".join(failed["error"])  # the reader's words
    assert (store / "failed.tsv").exists()
    ok = items[items["status"] == "ok"]
    assert (ok["n_slices"] == 3).all()
    assert dict(zip(ok["key"], ok["label"])) == truth
    counts = items["split"].value_counts().to_dict()
    assert counts["test"] == 11 and counts["val"] >= 4  # 12 asked, but never more than 30 % of 38
    test = items[(items["split"] == "test") & (items["status"] == "ok")]
    assert test["label"].value_counts().min() >= 3  # stratified
    shard = np.load(store / "shards" / "00000.npy", mmap_mode="r")
    assert shard.dtype == np.uint8 and shard.shape == (16, 10, 128, 128)
    # resume: a second run keeps the finished shards (only the failed files are tried again)
    before = {p.name: p.stat().st_mtime_ns for p in (store / "shards").glob("*.npy")}
    del before["00002.npy"]  # the shard holding the two failures
    assert script("prepare_fma").main([str(root), str(store), "--test-count", "12", "--val-fraction", "0.25",
                                       "--shard-size", "16", "--quiet"]) == 0
    after = {p.name: p.stat().st_mtime_ns for p in (store / "shards").glob("*.npy") if p.name in before}
    assert before == after and len(before) == 2
    again = pd.read_csv(store / "items.csv", dtype={"key": str}, keep_default_na=False)
    assert (again["status"] == "failed").sum() == 2 and (again["n_slices"] == items["n_slices"]).all()


def test_train_and_evaluate_genre_cnn(fma, store, tmp_path, capsys):
    from player.analysis import registry as R

    out = tmp_path / "models" / "cnn"
    rc = script("train_genre").main(["--model", "cnn", "--features", str(store), "--out", str(out),
                                     "--epochs", "3", "--batch-size", "16", "--precise-bn", "4", "--quiet"])
    assert rc == 0, capsys.readouterr().err
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["architecture"] == "cnn" and cfg["frontend"]["n_mels"] == 128
    assert 1 <= cfg["training"]["best_epoch"] <= cfg["training"]["epochs_run"] <= 3
    assert json.loads((out / "labels.json").read_text()) == sorted(GENRES)
    assert "train_genre.py --model cnn" in (out / "README.md").read_text()

    assert script("evaluate").main([str(out)]) == 0
    m = json.loads((out / "metrics.json").read_text())
    print("genre metrics:", m["accuracy"], {k: v["mean_normalised"] for k, v in m["precision_at"].items()})
    assert m["items"] >= 9 and m["chance"] <= 0.5
    assert m["accuracy"] >= 0.75  # chance is 1/3
    assert m["precision_at"]["5"]["mean_normalised"] >= 0.7
    assert set(m["precision_at"]["10"]["per_class"]) == set(GENRES)
    card = (out / "README.md").read_text()
    assert "| **mean** |" in card and "precision@5" in card
    assert m.get("confusion_png") in (None, "confusion.png")

    # the model folder works through the registry on new audio, as the player will use it
    model = R.load(str(out))
    rng = np.random.default_rng(99)
    right = 0
    for g in GENRES:
        path = tmp_path / f"new_{g}.wav"
        sf.write(path, synth(g, SECONDS, 22050, rng), 22050)
        probs, emb = model.predict_with_embedding(model.load_features(path))
        right += model.labels[int(probs.mean(axis=0).argmax())] == g
    assert right >= 2

    # the same command again: nothing retrained, the folder is written again from the finished run
    capsys.readouterr()
    rc = script("train_genre").main(["--model", "cnn", "--features", str(store), "--out", str(out),
                                     "--epochs", "3", "--batch-size", "16", "--precise-bn", "4", "--quiet"])
    assert rc == 0 and "already finished" in capsys.readouterr().err
    assert R.load(str(out)).config["training"]["best_epoch"] == cfg["training"]["best_epoch"]
    # resuming a finished run with other settings is refused in words
    rc = script("train_genre").main(["--model", "cnn", "--features", str(store), "--out", str(out),
                                     "--epochs", "3", "--batch-size", "8", "--quiet"])
    assert rc == 2 and "--fresh" in capsys.readouterr().err


def _tag_table(truth: dict, fma_root: Path, path: Path, soft: bool = False) -> Path:
    rows = ["path\tsplit\tnoisy\ttonal\tlow\tchords"]
    for i, (key, g) in enumerate(sorted(truth.items())):
        rel = f"fma_small/{key[:3]}/{key}.mp3"
        split = ["train", "train", "val", "test"][i % 4]
        tags = {"Folk": (0, 1, 1, 0), "Electronic": (1, 0, 0, 0), "Pop": (0, 1, 0, 1)}[g]
        vals = [0.1 + 0.8 * v for v in tags] if soft else tags
        rows.append("\t".join([rel, split] + [f"{v:g}" for v in vals]))
    path.write_text("\n".join(rows) + "\n")
    return path


def test_train_and_evaluate_tagger_from_label_table(fma, tmp_path, capsys):
    root, truth = fma
    some = dict(sorted(truth.items())[:24])  # 12 train, 6 val, 6 test: the tagger is slow on CPU
    table = _tag_table(some, root, root / "label_map.tsv", soft=True)
    out = tmp_path / "tagger"
    rc = script("train_tagger").main(["--labels", str(table), "--out", str(out), "--cache", str(tmp_path / "cache"),
                                      "--epochs", "2", "--batch-size", "4", "--precise-bn", "2", "--lr", "0.003",
                                      "--quiet"])
    assert rc == 0, capsys.readouterr().err
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["task"] == "tags" and cfg["input_shape"] == [96, 1366, 1] and cfg["output"] == "sigmoid"
    assert json.loads((out / "labels.json").read_text()) == ["noisy", "tonal", "low", "chords"]
    assert script("evaluate").main([str(out), "--fit-thresholds"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    print("tagger metrics:", m["mean_roc_auc"], cfg["training"]["seconds"], cfg["training"]["history"])
    assert m["tags_evaluated"] == 4 and m["positives"] == "label >= 0.5"
    assert m["mean_roc_auc"] >= 0.7  # chance is 0.5
    assert len(json.loads((out / "config.json").read_text())["thresholds"]) == 4
    assert "ROC-AUC" in (out / "README.md").read_text()


def test_tagger_refuses_useless_label_sets(fma, tmp_path, capsys):
    root, truth = fma
    train = script("train_tagger")
    one = tmp_path / "one.csv"
    keys = sorted(truth)[:8]
    one.write_text("path,split,loud\n" + "".join(
        f"{root}/fma_small/{k[:3]}/{k}.mp3,{['train', 'val'][i % 2]},1\n" for i, k in enumerate(keys)))
    assert train.main(["--labels", str(one), "--out", str(tmp_path / "t"), "--cache", str(tmp_path / "c1"),
                       "--quiet"]) == 2
    assert "single-class" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("path,loud\n")
    assert train.main(["--labels", str(empty), "--out", str(tmp_path / "t"), "--quiet"]) == 2
    assert "no rows" in capsys.readouterr().err
    assert train.main(["--out", str(tmp_path / "t")]) == 2
    assert "--labels" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()  # nothing written

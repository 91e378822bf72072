"""`python -m player show` and `export` read stored analysis through the one reader (no TensorFlow:
rows written by save_results, names from real labels.json files)."""

import json

import numpy as np
import pytest

from player.analysis.store import AnalysisResult, save_results
from player.cli import main
from player.library.scan import scan

TAGS = ["rock", "calm\x1b[2J", "piano"]
GENRES = ["Folk", "Pop"]


@pytest.fixture
def lib(library, music_dir, tmp_path, monkeypatch):
    root = tmp_path / "models"
    for name, labels in (("tagger", TAGS), ("genre", GENRES)):
        (root / name).mkdir(parents=True)
        (root / name / "labels.json").write_text(json.dumps(labels), encoding="utf-8")
    monkeypatch.setenv("PLAYER_MODELS_DIR", str(root))
    scan(library, [music_dir])
    tracks = library.tracks()
    rng = np.random.default_rng(0)
    save_results(library, "tagger@1+genre@1", [
        AnalysisResult(t.id, np.array([0.8, 0.6, 0.1], np.float32), np.array([0.3, 0.7], np.float32),
                       rng.standard_normal(32).astype(np.float32),
                       {"rock": (2, 0.8), "calm\x1b[2J": (1, 0.6)}, n_excerpts=2) for t in tracks[:3]])
    library.analysed = tracks[:3]
    return library


def test_show_names_tags_and_genres_from_the_models_and_escapes_control_characters(lib, capsys):
    t = lib.analysed[0]
    assert main(["show", "--db", str(lib.path), str(t.id), "-n", "2"]) == 0
    out = capsys.readouterr().out
    assert "analysed with tagger@1+genre@1 over 2 excerpt(s)" in out
    assert "tags:   rock ×2 (0.80), calm\\x1b[2J ×1 (0.60)" in out and "\x1b" not in out
    assert "genres: Pop 70%, Folk 30%" in out
    assert "sounds like:" in out
    unanalysed = lib.tracks()[-1]
    assert main(["show", "--db", str(lib.path), str(unanalysed.id)]) == 0
    assert "not analysed yet" in capsys.readouterr().out


def test_export_writes_what_the_reader_reads(lib, tmp_path, capsys):
    from player.analysis.store import read_embeddings
    from player.recommend.data import read_song_vectors

    npz, tsv, raw = tmp_path / "emb.npz", tmp_path / "labels.tsv", tmp_path / "raw.npz"
    assert main(["export", "--db", str(lib.path), "--embeddings", str(npz), "--labels", str(tsv)]) == 0
    assert "wrote 3 song vectors (35-d)" in capsys.readouterr().out
    data = np.load(npz)
    # the vectors the player compares songs with: 32 embedding + 3 tag dimensions, unit rows
    ids, vectors = read_song_vectors(lib)
    assert data["vectors"].shape == (3, 35) and str(data["space"]) == "joint"
    assert np.array_equal(data["vectors"], vectors)
    assert np.linalg.norm(data["vectors"], axis=1) == pytest.approx(1.0, abs=1e-6)
    assert list(data["paths"]) == [t.display_path for t in lib.analysed]
    # --raw: the genre model's embeddings as stored
    assert main(["export", "--db", str(lib.path), "--embeddings", str(raw), "--raw"]) == 0
    assert "wrote 3 embeddings (32-d)" in capsys.readouterr().out
    plain = np.load(raw)
    assert str(plain["space"]) == "raw" and list(plain["paths"]) == list(data["paths"])
    assert np.array_equal(plain["vectors"], read_embeddings(lib).vectors)
    assert not np.allclose(plain["vectors"][:, :32] / np.linalg.norm(plain["vectors"], axis=1, keepdims=True),
                           data["vectors"][:, :32] / np.linalg.norm(data["vectors"][:, :32], axis=1, keepdims=True))
    assert main(["export", "--db", str(lib.path), "--raw"]) == 2
    assert "--raw goes with --embeddings" in capsys.readouterr().err
    lines = tsv.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "path\tlabel\tcount\tprobability" and len(lines) == 1 + 6
    assert lines[1].split("\t")[1:] == ["rock", "2", "0.8000"]


def test_analyse_with_nothing_to_analyse_measures_the_loudness_only(tmp_path):
    """Every track analysed already: `analyse` runs the loudness pass alone (the workers load no model),
    and `--no-loudness` then has nothing to do."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from audiogen import write_audio
    from modelgen import SHIPPED
    from player.analysis.engine import model_version
    from player.library import Library
    from player.library.loudness import loudness_json, pending_loudness

    if not (SHIPPED / "tagger" / "config.json").exists():
        pytest.skip("needs the shipped model configs")
    t = np.arange(3 * 44100) / 44100
    x = (0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    write_audio(tmp_path / "m" / "a.flac", np.stack([x, x], 1), 44100)
    write_audio(tmp_path / "m" / "b.wav", np.stack([x, x], 1) * 0.5, 44100)
    lib = Library(tmp_path / "lib.db")
    scan(lib, [tmp_path / "m"])
    tracks = lib.tracks()
    from player.analysis.relabel import current_rule

    _tagger, rule, names = current_rule(SHIPPED)
    probs = np.full(50, 0.1, np.float32)
    probs[[names.index("electronic"), names.index("piano")]] = (0.6, 0.7)
    # the first track's labels as an older rule wrote them: piano, a tag the shipped rule hides, among them
    save_results(lib, model_version(models_dir=SHIPPED), [
        AnalysisResult(tr.id, probs if i == 0 else np.full(50, 0.1, np.float32), np.full(8, 0.125, np.float32),
                       np.ones(32, np.float32), {"piano": (1, 0.7), "electronic": (1, 0.6)} if i == 0 else {})
        for i, tr in enumerate(tracks)])
    assert not rule.shown[names.index("piano")] and rule.shown[names.index("electronic")]
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=str(root), PLAYER_MODELS_DIR=str(SHIPPED))

    def analyse(*extra):
        return subprocess.run([sys.executable, "-m", "player", "analyse", "--db", str(lib.path), "--workers", "2",
                               *extra], env=env, cwd=root, capture_output=True, text=True, timeout=120)

    out = analyse("--no-loudness")
    assert out.returncode == 0, out.stderr
    # the label rule changed since the labels were written: they are recomputed, and the command says so
    assert out.stdout.splitlines() == ["analyse: labels recomputed: 1 tracks changed, 1 unchanged",
                                       "analyse: 0 analysed, 0 failed"]
    labels = {(r[0], r[1]) for r in lib.db.query("SELECT track_id, label FROM track_labels")}
    assert labels == {(tracks[0].id, "electronic")}
    assert len(pending_loudness(lib)) == 2
    out = analyse()
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr and "Error" not in out.stderr, out.stderr
    # the labels are up to date now: nothing said about them
    assert out.stdout.splitlines() == ["analyse: 0 analysed, 0 failed", "loudness: 2 measured, 0 failed"]
    assert pending_loudness(lib) == []
    by_name = {os.path.basename(tr.path): tr.id for tr in tracks}
    assert loudness_json(lib, by_name["a.flac"])["loudness_lufs"] == pytest.approx(-20.0, abs=0.1)
    assert loudness_json(lib, by_name["b.wav"])["loudness_lufs"] == pytest.approx(-26.02, abs=0.1)
    lib.close()


def test_progress_lines_of_both_phases():
    from player.analysis.service import AnalysisProgress

    p = AnalysisProgress(state="running", done=12, total=200, failed=1, rate=6.14, eta_s=30.9)
    assert p.describe() == "analysed 12/200 (1 failed), 6.1 tracks/s, 0:30 left"
    p = AnalysisProgress(state="running", done=200, total=200, phase="loudness", loudness_done=40,
                         loudness_total=200, rate=2.0, eta_s=80.0)
    assert p.describe() == "loudness 40/200, 2.0 tracks/s, 1:20 left"
    p.state, p.loudness_failed = "finished", 2
    assert p.describe() == "loudness 40/200 (2 failed) (finished)"

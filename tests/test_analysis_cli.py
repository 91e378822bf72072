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
    npz, tsv = tmp_path / "emb.npz", tmp_path / "labels.tsv"
    assert main(["export", "--db", str(lib.path), "--embeddings", str(npz), "--labels", str(tsv)]) == 0
    assert "wrote 3 embeddings" in capsys.readouterr().out
    data = np.load(npz)
    assert data["vectors"].shape == (3, 32) and list(data["paths"]) == [t.display_path for t in lib.analysed]
    lines = tsv.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "path\tlabel\tcount\tprobability" and len(lines) == 1 + 6
    assert lines[1].split("\t")[1:] == ["rock", "2", "0.8000"]

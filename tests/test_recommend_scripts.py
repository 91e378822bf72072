"""The evaluation script and the benchmark run (small sizes), and the evaluation never writes."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_recommend  # noqa: E402
import evaluate_recommender  # noqa: E402


def test_evaluation_on_a_synthetic_library(capsys):
    code = evaluate_recommender.main(["--synthetic", "1500", "--listeners", "16", "--similar-sample", "40"])
    out = capsys.readouterr().out
    assert code == 0
    rows = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ") and "**" in line}
    prec = {name: float(line.split("**")[1]) for name, line in rows.items()}
    assert set(prec) == set(evaluate_recommender.METHODS)
    assert prec["hybrid (default blend)"] > prec["random"] + 0.3
    assert prec["content, seed 002 (TF-IDF profile, seed mode)"] > prec["random"] + 0.3
    # history alone hardly proposes a song nobody played (only as 0-score filler); the hybrid does
    new = {name: int(line.rstrip(" |").rsplit("|", 1)[1].strip(" %")) for name, line in rows.items()}
    assert new["history, seed 002 (co-occurrence CF)"] <= 5
    assert new["hybrid (default blend)"] >= 15


def test_evaluation_in_either_space(capsys):
    """--space raw: more like this by seed 000's raw embedding; the default is the player's space."""
    def more_like_this(space):
        argv = ["--synthetic", "600", "--listeners", "6", "--similar-sample", "30", "--separation", "0.3"]
        assert evaluate_recommender.main(argv + ["--space", space]) == 0
        out = capsys.readouterr().out
        return [line for line in out.splitlines() if "more like this" in line.lower()]

    assert "player's song vectors" in more_like_this("joint")[0]
    assert "raw 32-d embedding" in more_like_this("raw")[0]
    with pytest.raises(SystemExit):
        evaluate_recommender.main(["--synthetic", "600", "--space", "cosine"])
    assert "invalid choice" in capsys.readouterr().err


def test_evaluation_reads_a_library_without_writing_it(tmp_path, capsys):
    from player.library import Library
    from player.recommend.synthetic import synthetic_arrays, write_library

    arrays, _ = synthetic_arrays(600, n_users=2, ratings_per_user=10, plays_per_user=20, separation=0.3)
    db = tmp_path / "lib.db"
    with Library(db) as lib:
        write_library(lib, arrays)
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    code = evaluate_recommender.main(["--db", str(db), "--listeners", "8", "--similar-sample", "20", "--min-group", "10"])
    assert code == 0
    assert "precision@10" in capsys.readouterr().out
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    with Library(db) as lib:
        assert len(lib.ratings(1)) == 10  # the simulated listeners stayed in memory


def test_evaluation_refuses_a_library_that_is_not_analysed(tmp_path, capsys):
    from player.library import Library
    from test_recommend_support import add_tracks

    db = tmp_path / "lib.db"
    with Library(db) as lib:
        add_tracks(lib, [{"title": "x"}])
    assert evaluate_recommender.main(["--db", str(db)]) == 2
    assert "is analysed yet" in capsys.readouterr().err
    assert evaluate_recommender.main(["--db", str(tmp_path / "none.db")]) == 2
    assert "no library" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def test_benchmark_runs_small(capsys, tmp_path):
    out = tmp_path / "bench.json"
    assert bench_recommend.main(["--tracks", "3000", "--queries", "5", "--seed-sample", "10",
                                 "--json", str(out)]) == 0
    import json

    r = json.loads(out.read_text())
    assert r["seed"]["max_abs_diff"] <= 1e-9
    assert r["seed"]["speedup_profile"] > 10


def test_measured_tables_replace_their_block_in_the_docs(tmp_path):
    from scripts._docs import write_block

    doc = tmp_path / "doc.md"
    doc.write_text("# Title\n\ntext\n", encoding="utf-8")
    write_block(doc, "<!-- a:start -->", "<!-- a:end -->", "first", heading="## Numbers")
    assert doc.read_text() == "# Title\n\ntext\n\n## Numbers\n\n<!-- a:start -->\nfirst\n<!-- a:end -->\n"
    write_block(doc, "<!-- a:start -->", "<!-- a:end -->", "second\n| x |", heading="## Numbers")
    assert doc.read_text() == "# Title\n\ntext\n\n## Numbers\n\n<!-- a:start -->\nsecond\n| x |\n<!-- a:end -->\n"


def test_the_mood_evaluation_measures_hidden_mood_tags_by_their_rank(tmp_path, capsys, monkeypatch):
    """Moods of the mood table are measured by the songs' most probable tags, not by labels: a mood whose
    tags are all hidden moves nothing through seed 002's label query and the top 10 through the tag query."""
    import numpy as np

    from player.library import Library
    from test_recommend_support import add_tagged_tracks

    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))
    rng = np.random.default_rng(3)
    specs = []
    for k, style in enumerate(("electronic", "ambient", "classical")):
        for i in range(14):
            happy = i % 3 == 0
            specs.append({"title": f"{style} {i}", "artist": f"a{k}{i}", "album": f"b{k}{i}", "folder": style,
                          "tags": {style: 0.7, **({"happy": 0.5, "catchy": 0.4} if happy else {})},
                          "embedding": (np.eye(32)[k] * 3 + rng.normal(scale=0.4, size=32)).tolist()})
    db = tmp_path / "lib.db"
    with Library(db) as lib:
        add_tagged_tracks(lib, specs)
    code = evaluate_recommender.main(["--db", str(db), "--listeners", "6", "--similar-sample", "10", "--min-group", "5",
                                      "--moods", "happy,calm"])
    out = capsys.readouterr().out
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("| happy |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "happy, catchy, party, dance (none)"  # hidden: never a label
    without, labels, tags = (int(c.split("%")[0]) for c in cells[3:6])
    assert labels == without and tags > without + 20
    assert any(line.startswith("| calm |") for line in out.splitlines())
    assert "The listeners' taste under a mood" in out
    with pytest.raises(SystemExit):
        evaluate_recommender.main(["--synthetic", "100", "--moods", "grumpy"])
    assert "unknown mood 'grumpy' for --moods" in capsys.readouterr().err

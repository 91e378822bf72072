"""Relabelling a library from its stored results (player/analysis/relabel.py) when the label rule
changed: a real SQLite library with real audio files and results written by the analysis' own writer."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from player.analysis.engine import model_version
from player.analysis.labels import LabelRule
from player.analysis.relabel import SETTING_KEY, relabel_library
from player.analysis.store import AnalysisResult, save_results
from player.library import Library
from player.library.scan import scan

REPO = Path(__file__).resolve().parent.parent


def _models(root: Path, *, new_rule: bool = True) -> Path:
    """The shipped tagger's and genre model's config and labels (no weights: relabelling runs nothing)."""
    for name in ("tagger", "cnn_lstm"):
        (root / name).mkdir(parents=True)
        for f in ("config.json", "labels.json"):
            shutil.copy(REPO / "models" / name / f, root / name / f)
    (root / "registry.json").write_text(json.dumps({"defaults": {"tags": "tagger", "genre": "cnn_lstm"}}))
    if not new_rule:
        _drop_rule(root)
    return root


def _drop_rule(root: Path) -> None:
    path = root / "tagger" / "config.json"
    cfg = json.loads(path.read_text())
    cfg.pop("labels", None)
    path.write_text(json.dumps(cfg))


def _config(models: Path) -> tuple[dict, list[str]]:
    return (json.loads((models / "tagger" / "config.json").read_text()),
            json.loads((models / "tagger" / "labels.json").read_text()))


def _library(tmp_path: Path, models: Path, n: int = 5):
    """n real wav files, imported; each analysed (2 excerpts of made-up probabilities) and labelled with
    the older rule, as the analysis wrote them before; a listener's rating and play."""
    root = tmp_path / "music"
    root.mkdir()
    for i in range(n):
        t = np.arange(8000 * 2) / 8000
        sf.write(root / f"song{i}.wav", (0.3 * np.sin(2 * np.pi * (220 + 40 * i) * t)).astype(np.float32), 8000)
    lib = Library(tmp_path / "lib.db")
    scan(lib, [root])
    cfg, names = _config(models)
    old_rule = LabelRule.from_config({k: v for k, v in cfg.items() if k != "labels"}, len(names))
    rng = np.random.default_rng(3)
    results, probs = [], {}
    for t in lib.tracks():
        p = rng.uniform(0.0, 0.2, (2, len(names))).astype(np.float32)
        p[:, names.index("slow")] = 0.6
        p[:, names.index("hip-hop")] = 0.5  # the older rule labels it; the shipped one hides it
        probs[t.id] = p
        results.append(AnalysisResult(track_id=t.id, tag_probs=p.mean(axis=0),
                                      genre_probs=np.full(8, 0.125, np.float32), embedding=np.ones(32, np.float32),
                                      labels=old_rule.count(p, names), n_excerpts=2))
    save_results(lib, model_version(models_dir=models), results)
    user = lib.add_user("ann")
    first = lib.tracks()[0]
    lib.rate(user.id, first.id, 5)
    lib.record_play(user.id, first.id, started_at=1000.0, seconds_played=30.0, skipped=False)
    return lib, user, probs


def _labels(lib) -> dict:
    out: dict = {}
    for r in lib.db.query("SELECT track_id, label, count, probability FROM track_labels"):
        out.setdefault(r["track_id"], {})[r["label"]] = (r["count"], r["probability"])
    return out


def test_relabel_rewrites_the_labels_with_the_new_rule_and_nothing_else(tmp_path):
    models = _models(tmp_path / "models")
    lib, user, probs = _library(tmp_path, models)
    before = _labels(lib)
    assert all("hip-hop" in labs and len(labs) >= 3 for labs in before.values())
    stored = {r["track_id"]: bytes(r["tag_probs"]) for r in lib.db.query("SELECT track_id, tag_probs FROM analysis")}
    ratings, plays = lib.ratings(user.id), [tuple(p) for p in lib.plays()]

    report = relabel_library(lib, models_dir=models)
    assert report.ran and report.relabelled == len(probs) and not report.skipped and report.previous is None
    cfg, names = _config(models)
    rule = LabelRule.from_config(cfg, len(names))
    after = _labels(lib)
    for track_id, p in probs.items():
        want = rule.from_mean(p.mean(axis=0), 2, names)
        assert set(after[track_id]) == set(want) == set(rule.count(p, names))
        assert all(after[track_id][k][0] == 2 for k in want)  # estimated: n_excerpts
        assert "hip-hop" not in after[track_id] and "slow" in after[track_id]
    # ratings, plays and the stored results are untouched
    assert lib.ratings(user.id) == ratings and [tuple(p) for p in lib.plays()] == plays
    assert {r["track_id"]: bytes(r["tag_probs"])
            for r in lib.db.query("SELECT track_id, tag_probs FROM analysis")} == stored
    assert lib.db.get_setting(SETTING_KEY) == report.rule and report.rule.startswith("tagger@1 2:")

    # idempotent: the rule is recorded, nothing happens again; forced, nothing changes
    again = relabel_library(lib, models_dir=models)
    assert not again.ran and again.describe() == "labels are up to date" and _labels(lib) == after
    forced = relabel_library(lib, models_dir=models, force=True)
    assert forced.ran and forced.relabelled == 0 and forced.unchanged == len(probs) and _labels(lib) == after
    lib.close()


def test_a_damaged_row_is_skipped_with_its_reason_and_keeps_its_labels(tmp_path):
    models = _models(tmp_path / "models")
    lib, _user, probs = _library(tmp_path, models)
    ids = sorted(probs)
    with lib.db.transaction() as c:
        c.execute("UPDATE analysis SET tag_probs = ? WHERE track_id = ?", (b"\x00" * 7, ids[0]))
        c.execute("UPDATE analysis SET model_version = 'othertagger@3+cnn_lstm@2' WHERE track_id = ?", (ids[1],))
    before = _labels(lib)
    report = relabel_library(lib, models_dir=models)
    assert report.skipped == ((ids[0], "its stored tag probabilities are damaged (7 bytes where 200 belong)"),)
    assert report.other_tagger == 1 and report.relabelled == len(ids) - 2
    assert "1 skipped (its stored tag probabilities are damaged" in report.describe()
    after = _labels(lib)
    assert after[ids[0]] == before[ids[0]] and after[ids[1]] == before[ids[1]]
    assert all("hip-hop" not in after[i] for i in ids[2:])
    lib.close()


def test_a_failed_relabel_changes_nothing(tmp_path):
    """One transaction: when a write fails half-way, every label and the record stay as they were."""
    models = _models(tmp_path / "models")
    lib, _user, probs = _library(tmp_path, models)
    last = max(probs)
    with lib.db.transaction() as c:
        c.execute("CREATE TRIGGER refuse BEFORE INSERT ON track_labels WHEN NEW.track_id = %d "
                  "BEGIN SELECT RAISE(ABORT, 'refused'); END" % last)
    before = _labels(lib)
    with pytest.raises(sqlite3.IntegrityError):
        relabel_library(lib, models_dir=models)
    assert _labels(lib) == before and lib.db.get_setting(SETTING_KEY) is None
    lib.close()


def test_a_library_labelled_with_the_older_rule_is_only_recorded(tmp_path):
    """Under a config of the older format (rule version 1) the per-excerpt counts already stored are
    kept: a library that records nothing was labelled by that rule."""
    models = _models(tmp_path / "models", new_rule=False)
    lib, _user, _probs = _library(tmp_path, models)
    before = _labels(lib)
    report = relabel_library(lib, models_dir=models)
    assert not report.ran and _labels(lib) == before
    assert lib.db.get_setting(SETTING_KEY).startswith("tagger@1 1:")
    # then the rule changes: relabelled
    shutil.copy(REPO / "models" / "tagger" / "config.json", models / "tagger" / "config.json")
    changed = relabel_library(lib, models_dir=models)
    assert changed.ran and changed.previous.startswith("tagger@1 1:") and changed.relabelled == len(before)
    lib.close()


def test_the_analysis_service_relabels_where_it_starts(tmp_path):
    """A real analysis run with nothing to analyse (every track done under these models): the workers
    load no model, and the library's labels are rewritten with the rule of the config."""
    from player.analysis.service import AnalysisOptions, run_analysis

    models = _models(tmp_path / "models")
    lib, user, probs = _library(tmp_path, models)
    assert all("hip-hop" in labs for labs in _labels(lib).values())
    progress = run_analysis(lib.path, options=AnalysisOptions(models_dir=str(models), loudness=False))
    assert progress.state == "finished", progress.message
    after = _labels(lib)
    assert set(after) == set(probs) and all("hip-hop" not in labs and "slow" in labs for labs in after.values())
    assert lib.db.get_setting(SETTING_KEY).startswith("tagger@1 2:")
    assert lib.ratings(user.id) == {lib.tracks()[0].id: 5}
    lib.close()

#!/usr/bin/env python
"""Which song vector finds similar songs best: the similarity space of player/recommend/space.py, measured.

    python scripts/evaluate_similarity.py --db LIBRARY_DB --teacher TEACHER_OUT --music MUSIC_DIR \\
        [--tagger-embedding] [--work DIR] [--out FILE.json]

``LIBRARY_DB`` is a library that imported and analysed (``python -m player analyse``) the val and test
packages of MUSIC_DIR (docs/training.md §3); it is copied and never written. ``TEACHER_OUT`` is
scripts/label_with_teacher.py's output for the same files.

For each candidate vector, over the tracks of one split (the standardisation, where a candidate has one,
is over those tracks: the library the vectors are built for):

* same-package precision@5 / @10 of the cosine neighbours among the split's tracks: the micro mean over
  anchor tracks and the mean over packages (scripts/evaluate_distillation.py's ``precision_at``);
* per-genre precision@5 / @10 (seed 000's measure), genre = the teacher's top genre of the centre 30 s
  excerpt (argmax score / prior, the prior of the genre model's config, as evaluate_distillation.py).

Candidates: seed 000's raw 32-d embedding (``raw``), the tagger's 64-d embedding (``--tagger-embedding``:
runs the tagger on the player's excerpts), tag probabilities and log-probabilities, raw or z-scored,
the z-scored embedding, ``joint`` with several block weights, and as baselines the teacher's
penultimate layers (MSD, MTT, both) over the centre 30 s excerpt and over the player's excerpts.

The joint construction and weight are **chosen on val** (the best mean of same-package and per-genre P@10, micro) and
reported on test; the choice never looks at test.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from player.recommend.space import song_vectors, standardise, unit_rows  # noqa: E402

# docs/training.md §3: the split by package (the shipped models trained on the other packages only)
SPLITS = {
    "val": ("megaglest-data", "flare-game", "pushover-data", "xmoto-data", "freeciv-data"),
    "test": ("widelands-data", "hedgewars-data", "warmux-data", "fretsonfire-songs-sectoid", "frozen-bubble-data",
             "lincity-ng-data"),
}
TAG_WEIGHTS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)  # the tag block's weight, embedding block 1
KS = (5, 10)
# the constructions of the joint vector tried (player.recommend.space.song_vectors' keywords)
JOINT_KINDS = {
    f"joint: {word} embedding + {word} tag {what}": {"standardisation": how, "log_tags": log}
    for how, word in (("centre", "centred"), ("z-score", "z-scored"), ("none", "unstandardised"))
    for what, log in (("log-probabilities", True), ("probabilities", False))
}


# ------------------------------------------------------------------------------------------- metrics

def neighbours(vectors: np.ndarray, k: int) -> np.ndarray:
    z = unit_rows(np.asarray(vectors, np.float64))
    sim = z @ z.T
    np.fill_diagonal(sim, -np.inf)
    return np.argsort(-sim, axis=1, kind="stable")[:, :min(k, len(z) - 1)]


def precision_at(vectors: np.ndarray, groups, k: int) -> dict:
    """Share of each anchor's k nearest other tracks in its group: micro mean and mean per group."""
    g = np.asarray(groups)
    hit = (g[neighbours(vectors, k)] == g[:, None]).mean(axis=1)
    per = [float(hit[g == c].mean()) for c in sorted(set(g.tolist()))]
    return {"micro": round(float(hit.mean()), 4), "mean_per_group": round(float(np.mean(per)), 4)}


def chance(groups) -> float:
    _, counts = np.unique(np.asarray(groups), return_counts=True)
    n = counts.sum()
    return round(float((counts * (counts - 1)).sum() / (n * (n - 1))), 4)


def zscore(x: np.ndarray) -> np.ndarray:
    return standardise(np.asarray(x, np.float64), np.ones(len(x), bool))


# -------------------------------------------------------------------------------------------- data

def read_library(db: Path, music: Path) -> dict:
    """relative path -> (embedding, tag probabilities, duration) from a copy of the library."""
    from player.analysis.store import read_analysis_arrays
    from player.library import Library

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "library.db"
        # SQLite's backup: the database as its readers see it (write-ahead log included), never written
        src = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
        dst = sqlite3.connect(copy)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        lib = Library(copy)
        try:
            a = read_analysis_arrays(lib)
            paths = {r[0]: (r[1], r[2]) for r in lib.db.query("SELECT id, path, duration FROM tracks")}
        finally:
            lib.close()
    root = str(music.resolve())
    out = {}
    for row, tid in enumerate(a.ids.tolist()):
        path, duration = paths[tid]
        rel = os.path.relpath(path, root) if path.startswith(root) else path
        emb = a.embeddings[row] if a.embeddings is not None else None
        tags = a.tag_values[row] if a.tag_values is not None else None
        out[rel] = (emb, tags, duration)
    return out


def teacher_windows(z: dict, track: int, windows: list[tuple[float, float]], key: str) -> np.ndarray:
    from scripts import label_with_teacher as L
    from scripts import teacher_tables as TT

    sel = z["track"] == track
    rows = z[key][sel].astype(np.float32)
    return np.mean([TT.overlap_weights(z["start"][sel], L.PATCH_SECONDS, a, b) @ rows for a, b in windows], axis=0)


def max_excerpts(tagger_config: dict) -> int:
    from player.analysis.engine import DEFAULT_MAX_EXCERPTS

    return int(tagger_config.get("analysis", {}).get("max_excerpts", DEFAULT_MAX_EXCERPTS))


def player_windows(duration: float) -> list[tuple[float, float]]:
    """The windows the player's analysis reads: the genre model's centre excerpt and the tagger's excerpts."""
    from player.analysis import registry as R
    from player.analysis.labels import excerpt_offsets

    tcfg = R.read_config(R.models_root() / R.default_name("tags"))
    gcfg = R.read_config(R.models_root() / R.default_name("genre"))
    tag_s = float(tcfg["frontend"]["excerpt_seconds"])
    genre_s = float(gcfg["frontend"]["excerpt_seconds"])
    max_ex = max_excerpts(tcfg)
    c = max(0.0, (duration - genre_s) / 2.0)
    wins = [(c, min(c + genre_s, duration))]
    for o in excerpt_offsets(duration, tag_s, max_ex, with_centre=True):
        wins.append((o, min(o + tag_s, duration)))
    return wins


def tagger_embeddings(music: Path, rels: list[str], durations: list[float], cache: Path | None) -> np.ndarray:
    """The tagger's 64-d embedding, the mean over the player's tagger excerpts (run here, cached)."""
    if cache is not None and cache.exists():
        with np.load(cache) as f:
            if list(f["paths"]) == rels:
                return f["vectors"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from player.analysis import registry as R
    from player.analysis.labels import excerpt_offsets

    m = R.load(R.default_name("tags"))
    tag_s = float(m.config["frontend"]["excerpt_seconds"])
    max_ex = max_excerpts(m.config)
    out = []
    for rel, dur in zip(rels, durations):
        x = np.concatenate([m.load_features(music / rel, offset=o)
                            for o in excerpt_offsets(dur, tag_s, max_ex, with_centre=True)])
        out.append(m.predict_with_embedding(x)[1].mean(axis=0))
    vectors = np.stack(out).astype(np.float32)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, paths=np.array(rels), vectors=vectors)
    return vectors


def genre_prior() -> np.ndarray:
    from player.analysis import registry as R

    cfg = R.read_config(R.models_root() / R.default_name("genre"))
    return np.asarray(cfg["genre_calibration"]["prior"], np.float32)


# ------------------------------------------------------------------------------------------ candidates

def candidates(emb, tags, extra: dict) -> dict:
    """name -> vectors, every one over the same tracks (rows); ``extra``: the teacher and tagger ones."""
    logs = np.log(np.clip(tags, 1e-4, 1.0))
    out = {
        "raw 32-d embedding (seed 000)": song_vectors(emb, tags, "raw"),
        "embedding, centred": song_vectors(emb, None, standardisation="centre"),
        "embedding, z-scored": song_vectors(emb, None, standardisation="z-score"),
        "tag probabilities": tags,
        "tag probabilities, z-scored": zscore(tags),
        "tag log-probabilities": logs,
        "tag log-probabilities, centred": song_vectors(emb, tags, "tags", standardisation="centre"),
        "tag log-probabilities, z-scored": song_vectors(emb, tags, "tags", standardisation="z-score"),
    }
    for name, kw in JOINT_KINDS.items():
        for w in TAG_WEIGHTS:
            out[f"{name}, tag weight {w:g}"] = song_vectors(emb, tags, embedding_weight=1.0, tag_weight=w, **kw)
    out.update(extra)
    return out


def evaluate_split(split: str, lib: dict, z: dict, prior: np.ndarray, music: Path, args) -> dict:
    from scripts import label_with_teacher as L
    from scripts import teacher_tables as TT

    rows = [i for i in range(len(z["path"])) if str(z["package"][i]) in SPLITS[split] and str(z["path"][i]) in lib]
    missing = [str(z["path"][i]) for i in range(len(z["path"]))
               if str(z["package"][i]) in SPLITS[split] and str(z["path"][i]) not in lib]
    if missing:
        print(f"{split}: {len(missing)} tracks of the teacher are not analysed in the library (left out)",
              file=sys.stderr)
    rels = [str(z["path"][i]) for i in rows]
    packages = [str(z["package"][i]) for i in rows]
    durs = [float(z["seconds"][i]) for i in rows]
    emb = np.stack([lib[r][0] for r in rels]).astype(np.float32)
    tags = np.stack([lib[r][1] for r in rels]).astype(np.float32)
    centre = [[(max(0.0, (d - TT.GENRE_SECONDS) / 2), min(max(0.0, (d - TT.GENRE_SECONDS) / 2) + TT.GENRE_SECONDS, d))]
              for d in durs]
    played = [player_windows(d) for d in durs]
    teacher_centre = np.stack([teacher_windows(z, i, w, "teacher") for i, w in zip(rows, centre)])
    genre = [L.GENRES[k] for k in (L.genre_scores(teacher_centre) / prior).argmax(axis=1)]
    extra = {}
    for where, wins in (("centre 30 s", centre), ("the player's excerpts", played)):
        msd = np.stack([teacher_windows(z, i, w, "msd_penultimate") for i, w in zip(rows, wins)])
        mtt = np.stack([teacher_windows(z, i, w, "mtt_penultimate") for i, w in zip(rows, wins)])
        extra[f"teacher penultimate MSD (200), {where}"] = msd
        extra[f"teacher penultimate MTT (200), {where}"] = mtt
        extra[f"teacher penultimate MSD+MTT (400), {where}"] = np.hstack([msd, mtt])
        extra[f"teacher penultimate MSD+MTT (400), z-scored, {where}"] = zscore(np.hstack([msd, mtt]))
    if args.tagger_embedding:
        cache = args.work / f"tagger_embedding_{split}.npz" if args.work else None
        t64 = tagger_embeddings(music, rels, durs, cache)
        extra["tagger 64-d embedding"] = t64
        extra["tagger 64-d embedding, z-scored"] = zscore(t64)
    table = {}
    for name, vec in candidates(emb, tags, extra).items():
        table[name] = {"package": {str(k): precision_at(vec, packages, k) for k in KS},
                       "genre": {str(k): precision_at(vec, genre, k) for k in KS}}
    return {"tracks": len(rows), "packages": {p: packages.count(p) for p in sorted(set(packages))},
            "genres": {g: genre.count(g) for g in sorted(set(genre))},
            "chance": {"package": chance(packages), "genre": chance(genre)}, "candidates": table}


def score(entry: dict) -> float:
    """The choice: the mean of same-package and per-genre P@10 (micro)."""
    return (entry["package"]["10"]["micro"] + entry["genre"]["10"]["micro"]) / 2


def markdown(result: dict) -> str:
    lines = [f"Test packages: {result['test']['tracks']} tracks; chance P@k same package "
             f"{result['test']['chance']['package']}, same genre {result['test']['chance']['genre']}. "
             f"Chosen on val: **{result['chosen']}**.", "",
             "| vector | package P@5 | package P@10 | package P@10 (mean over packages) | genre P@5 | genre P@10 "
             "| val: package P@10 | val: genre P@10 |",
             "|---|---|---|---|---|---|---|---|"]
    chosen_kind = result["chosen"].rsplit(", tag weight", 1)[0]
    chosen_weight = result["chosen"].rsplit(", tag weight ", 1)[1]
    for name, e in result["test"]["candidates"].items():
        if name.startswith("joint") and not (name.startswith(chosen_kind + ",") or name.endswith(f" {chosen_weight}")):
            continue  # the table: the chosen construction at every weight, the others at the chosen weight
        v = result["val"]["candidates"][name]
        bold = "**" if name == result["chosen"] else ""
        lines.append(f"| {bold}{name}{bold} | {e['package']['5']['micro']:.3f} | {e['package']['10']['micro']:.3f} | "
                     f"{e['package']['10']['mean_per_group']:.3f} | {e['genre']['5']['micro']:.3f} | "
                     f"{e['genre']['10']['micro']:.3f} | {v['package']['10']['micro']:.3f} | "
                     f"{v['genre']['10']['micro']:.3f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--db", type=Path, required=True, help="the analysed library of the val+test packages")
    ap.add_argument("--teacher", type=Path, required=True, help="label_with_teacher.py's OUT")
    ap.add_argument("--music", type=Path, required=True, help="the MUSIC_DIR both read")
    ap.add_argument("--tagger-embedding", action="store_true", help="also run the tagger for its 64-d embedding")
    ap.add_argument("--work", type=Path, default=None, help="a folder to cache the tagger's embeddings in")
    ap.add_argument("--out", type=Path, default=None, help="write the numbers as JSON here")
    args = ap.parse_args(argv)
    for p, what in ((args.db, "library"), (args.teacher / "labels.npz", "teacher output")):
        if not p.is_file():
            print(f"error: no {what} at {p}", file=sys.stderr)
            return 2
    with np.load(args.teacher / "labels.npz") as f:
        z = {k: f[k] for k in f.files}
    lib = read_library(args.db, args.music)
    prior = genre_prior()
    result = {s: evaluate_split(s, lib, z, prior, args.music, args) for s in ("val", "test")}
    joint = [n for n in result["val"]["candidates"] if n.startswith("joint")]
    result["chosen"] = max(joint, key=lambda n: score(result["val"]["candidates"][n]))
    result["rule"] = ("among the joint constructions and weights, the best mean of same-package and per-genre "
                      "P@10 (micro) on val")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

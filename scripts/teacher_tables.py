#!/usr/bin/env python
"""Turn the teacher's labels into soft-label tables for train_genre.py / train_tagger.py.

    python scripts/teacher_tables.py TEACHER_OUT MUSIC_DIR OUT [--excerpts 6]

TEACHER_OUT is what ``scripts/label_with_teacher.py MUSIC_DIR TEACHER_OUT`` wrote. For every labelled
track, excerpts are placed with the player's rule (``player.analysis.labels.excerpt_offsets``: up to
``--excerpts`` evenly spread over the track) plus the track's centre excerpt (the one the player's
genre model sees). Each excerpt's target is the mean of the teacher's 3-second patches weighted by how
much of each lies inside the excerpt.

  OUT/genre.csv   key, path, offset, split, group, and the eight FMA genres as soft labels
  OUT/tags.csv    key, path, offset, split, group, and the tagger's 50 tags (teacher probabilities,
                  max-merged from MSD + MTT, see label_with_teacher.TAGGER_VOCABULARY)
  OUT/genre_calibration.json   the per-genre priors and the temperature (documented in docs/training.md)

Genres: the teacher's genre scores (label_with_teacher.GENRE_MAP) are divided by their mean over the
*training* excerpts (at least 0.02) (the teacher says "electronic" to most game music: uncalibrated, 70 % of tracks
would be Electronic and the rest mostly Instrumental), then sharpened and normalised:
``p_g ∝ (s_g / prior_g) ** (1 / T)``. The teacher's top genre is the argmax of ``s_g / prior_g``.

``split`` is label_with_teacher's package split; ``group`` is the package.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import label_with_teacher as L  # noqa: E402

GENRE_SECONDS = 30.0
TAGGER_SECONDS = 29.12
PRIOR_FLOOR = 0.02  # a genre the teacher almost never hears is not amplified from noise


def genre_prior(train_scores: np.ndarray) -> np.ndarray:
    """Per genre: the mean teacher score over the training excerpts, at least PRIOR_FLOOR."""
    return np.maximum(np.asarray(train_scores, np.float64).mean(axis=0), PRIOR_FLOOR).astype(np.float32)


def overlap_weights(starts: np.ndarray, length: float, a: float, b: float) -> np.ndarray:
    """Weights of patches [start, start+length) for [a, b): overlap / total overlap (nearest if none)."""
    starts = np.asarray(starts, dtype=np.float64)
    ov = np.clip(np.minimum(starts + length, b) - np.maximum(starts, a), 0.0, None)
    if ov.sum() <= 0:
        ov = np.zeros_like(starts)
        ov[int(np.argmin(np.abs(starts + length / 2 - (a + b) / 2)))] = 1.0
    return (ov / ov.sum()).astype(np.float32)


def track_offsets(duration: float, n: int) -> list[float]:
    """The player's evenly spread excerpt starts plus the centre start (30 s excerpts), sorted, unique."""
    from player.analysis.labels import excerpt_offsets

    centre = max(0.0, (duration - GENRE_SECONDS) / 2.0)
    offs = {round(o, 2) for o in excerpt_offsets(duration, GENRE_SECONDS, n)} | {round(centre, 2)}
    return sorted(offs)


def excerpt_teacher(z: dict, track: int, offset: float, seconds: float, duration: float) -> np.ndarray:
    """The teacher's mean probabilities (100) over [offset, offset + seconds) of one track."""
    sel = z["track"] == track
    end = min(offset + seconds, duration)
    return overlap_weights(z["start"][sel], L.PATCH_SECONDS, offset, end) @ z["teacher"][sel]


def calibrated_genres(scores: np.ndarray, prior: np.ndarray, temperature: float) -> np.ndarray:
    """(n, 8) teacher genre scores → soft targets ∝ (score / prior) ** (1 / T), rows summing to 1."""
    r = np.maximum(scores / prior, 1e-8) ** (1.0 / temperature)
    return (r / r.sum(axis=1, keepdims=True)).astype(np.float32)


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    tmp.replace(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("teacher_out", type=Path, metavar="TEACHER_OUT")
    ap.add_argument("music_dir", type=Path, metavar="MUSIC_DIR")
    ap.add_argument("out", type=Path, metavar="OUT")
    ap.add_argument("--excerpts", type=int, default=6, help="excerpts spread over a track (default 6)")
    ap.add_argument("--temperature", type=float, default=0.5, help="genre sharpening T (default 0.5)")
    args = ap.parse_args(argv)
    f = args.teacher_out / "labels.npz"
    if not f.exists():
        print(f"error: {f} missing: run scripts/label_with_teacher.py first", file=sys.stderr)
        return 2
    if args.temperature <= 0:
        print("error: --temperature must be > 0", file=sys.stderr)
        return 2
    with np.load(f) as zz:
        z = {k: zz[k] for k in zz.files}
    items = []  # (track, offset)
    for i in range(len(z["path"])):
        for o in track_offsets(float(z["seconds"][i]), args.excerpts):
            items.append((i, o))
    g_teacher = np.stack([excerpt_teacher(z, i, o, GENRE_SECONDS, float(z["seconds"][i])) for i, o in items])
    t_teacher = np.stack([excerpt_teacher(z, i, o + (GENRE_SECONDS - TAGGER_SECONDS) / 2, TAGGER_SECONDS,
                                          float(z["seconds"][i])) for i, o in items])
    split = np.array([z["split"][i] for i, _ in items])
    scores = L.genre_scores(g_teacher)
    if not (split == "train").any():
        print("error: no training package: cannot calibrate the genres", file=sys.stderr)
        return 2
    prior = genre_prior(scores[split == "train"])
    genre_y = calibrated_genres(scores, prior, args.temperature)
    tag_y = L.tagger_targets(t_teacher)

    args.out.mkdir(parents=True, exist_ok=True)
    music = args.music_dir.resolve()
    meta = [[f"{z['path'][i]}@{o:g}", str(music / str(z["path"][i])), f"{o:g}", str(z["split"][i]),
             str(z["package"][i])] for i, o in items]
    head = ["key", "path", "offset", "split", "group"]
    write_csv(args.out / "genre.csv", head + L.GENRES,
              [m + [f"{v:.5f}" for v in row] for m, row in zip(meta, genre_y)])
    # tagger: the offset of its 29.12 s window centred in the 30 s one (same excerpt, same teacher patches)
    tmeta = [[m[0], m[1], f"{o + (GENRE_SECONDS - TAGGER_SECONDS) / 2:g}", m[3], m[4]]
             for m, (_, o) in zip(meta, items)]
    write_csv(args.out / "tags.csv", head + list(L.TAGGER_VOCABULARY),
              [m + [f"{v:.5f}" for v in row] for m, row in zip(tmeta, tag_y)])
    top = scores / prior
    calib = {"genres": L.GENRES, "prior": [round(float(p), 6) for p in prior], "temperature": args.temperature,
             "rule": "p_g ∝ (score_g / prior_g) ** (1 / temperature); teacher top genre = argmax score_g / prior_g",
             "prior_from": f"mean genre score over the training split's excerpts, at least {PRIOR_FLOOR}",
             "top_genre_counts": {s: {g: int(((top.argmax(1) == k) & (split == s)).sum())
                                      for k, g in enumerate(L.GENRES)} for s in ("train", "val", "test")}}
    (args.out / "genre_calibration.json").write_text(json.dumps(calib, indent=1) + "\n", encoding="utf-8")
    n = {s: int((split == s).sum()) for s in ("train", "val", "test")}
    print(f"{len(items)} excerpts of {len(z['path'])} tracks {n} -> {args.out}/genre.csv, tags.csv")
    print("teacher top genre per split:", json.dumps(calib["top_genre_counts"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

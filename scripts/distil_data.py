#!/usr/bin/env python
"""Cache the students' inputs and the teacher's targets once, as compact arrays, for CPU training.

    python scripts/distil_data.py MUSIC_DIR TEACHER_OUT CACHE [--excerpts 6]

MUSIC_DIR is the music, TEACHER_OUT what ``scripts/label_with_teacher.py MUSIC_DIR TEACHER_OUT`` wrote.
For every labelled track, ``--excerpts`` 30-second excerpts spread evenly over the track
(``player.analysis.labels.excerpt_offsets``, the rule the player uses) plus the **centre** excerpt
(what the player's genre model sees) are decoded once and turned into both students' inputs with
``player/analysis/features.py`` and the front-end presets (so training and the player can never
drift):

  CACHE/genre_x.npy    (E, 10, 128, 128) float16   seed 000's ten mel slices per excerpt
  CACHE/tagger_x.npy   (E, 96, 1366) float16       seed 002's log-mel (centre 29.12 s of the excerpt)
  CACHE/meta.npz       per excerpt: track, start, centre flag, split, package; the teacher's 100
                       probabilities per excerpt (``teacher``) and per genre slice (``teacher_slices``,
                       (E, 10, 100)), the teacher's penultimate layers per excerpt and MFCC statistics
                       (the evaluation baselines); per track: path, package, split
  CACHE/tracks/        per-track parts (resumable); removed with --clean

Teacher targets of an excerpt (or a slice) are the mean of the teacher's 3-second patches weighted by
how much of each patch lies inside it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

EXCERPT_S = 30.0
N_MFCC = 20


def overlap_weights(starts: np.ndarray, length: float, a: float, b: float) -> np.ndarray:
    """Weights of patches [start, start+length) for the interval [a, b): overlap / total overlap."""
    ov = np.clip(np.minimum(starts + length, b) - np.maximum(starts, a), 0.0, None)
    s = ov.sum()
    if s <= 0:  # interval beyond the labelled patches (last partial patch): nearest patch
        ov = np.zeros_like(starts)
        ov[int(np.argmin(np.abs(starts + length / 2 - (a + b) / 2)))] = 1.0
        s = 1.0
    return (ov / s).astype(np.float32)


def excerpt_starts(duration: float, n: int) -> tuple[list[float], int]:
    """Start times: the player's evenly spread excerpts plus the centre one; and the centre's index."""
    from player.analysis.labels import excerpt_offsets

    centre = max(0.0, (duration - EXCERPT_S) / 2.0)
    starts = sorted(set(round(s, 3) for s in excerpt_offsets(duration, EXCERPT_S, n)) | {round(centre, 3)})
    return starts, starts.index(round(centre, 3))


def mfcc_stats(y22: np.ndarray) -> np.ndarray:
    import librosa

    m = librosa.feature.mfcc(y=y22, sr=22050, n_mfcc=N_MFCC)
    return np.concatenate([m.mean(axis=1), m.std(axis=1)]).astype(np.float32)


def process_track(path: Path, lab: dict, n_excerpts: int) -> dict:
    from player.analysis import features as F
    from scripts.label_with_teacher import PATCH_SECONDS

    genre_cfg, tagger_cfg = F.frontend_preset("genre"), F.frontend_preset("tagger")
    duration = float(lab["seconds"])
    starts, centre = excerpt_starts(duration, n_excerpts)
    slice_s = genre_cfg["slice_frames"] * genre_cfg["hop_length"] / genre_cfg["sample_rate"]
    out = {k: [] for k in ("genre_x", "tagger_x", "start", "teacher", "teacher_slices", "msd_pen", "mtt_pen",
                           "mfcc")}
    for s in starts:
        ex = F.decode_excerpt(path, EXCERPT_S, offset=s)
        y22 = F.resample(ex.audio, ex.sr, genre_cfg["sample_rate"])
        y12 = F.resample(ex.audio, ex.sr, tagger_cfg["sample_rate"])
        g = F.genre_slices(y22, genre_cfg)[..., 0]  # (k, 128, 128)
        if len(g) < genre_cfg["max_slices"]:  # a short track: repeat its slices to the fixed 10
            g = np.concatenate([g] * int(np.ceil(genre_cfg["max_slices"] / len(g))))[:genre_cfg["max_slices"]]
        t = F.tagger_input(y12, tagger_cfg)[..., 0]  # (96, 1366)
        a = ex.start
        b = a + len(ex.audio) / ex.sr
        w = overlap_weights(lab["starts"], PATCH_SECONDS, a, b)
        out["teacher"].append(w @ lab["teacher"])
        out["msd_pen"].append(w @ lab["msd_penultimate"].astype(np.float32))
        out["mtt_pen"].append(w @ lab["mtt_penultimate"].astype(np.float32))
        per_slice = [overlap_weights(lab["starts"], PATCH_SECONDS, a + j * slice_s, a + (j + 1) * slice_s)
                     @ lab["teacher"] for j in range(len(g))]
        out["teacher_slices"].append(np.stack(per_slice))
        out["genre_x"].append(g.astype(np.float16))
        out["tagger_x"].append(t.astype(np.float16))
        out["start"].append(a)
        out["mfcc"].append(mfcc_stats(y22))
    arrays = {k: np.stack(v) for k, v in out.items()}
    arrays["start"] = arrays["start"].astype(np.float32)
    arrays["centre"] = np.arange(len(starts)) == centre
    return arrays


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("music_dir", type=Path, metavar="MUSIC_DIR")
    ap.add_argument("teacher_out", type=Path, metavar="TEACHER_OUT", help="label_with_teacher.py's OUT")
    ap.add_argument("cache", type=Path, metavar="CACHE")
    ap.add_argument("--excerpts", type=int, default=6, help="excerpts spread over each track (default 6)")
    ap.add_argument("--clean", action="store_true", help="remove the per-track parts after merging")
    args = ap.parse_args(argv)
    labels_file = args.teacher_out / "labels.npz"
    if not labels_file.exists():
        print(f"error: {labels_file} missing: run scripts/label_with_teacher.py first", file=sys.stderr)
        return 2
    from tqdm import tqdm

    from player.analysis.features import AudioDecodeError
    from scripts.label_with_teacher import track_id

    z = dict(np.load(labels_file))
    n_tracks = len(z["path"])
    (args.cache / "tracks").mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    failed = []
    for i in tqdm(range(n_tracks), unit="track", desc="features", dynamic_ncols=True):
        part = args.cache / "tracks" / f"{track_id(str(z['path'][i]))}.npz"
        if part.exists():
            continue
        sel = z["track"] == i
        lab = {"starts": z["start"][sel], "teacher": z["teacher"][sel], "msd_penultimate": z["msd_penultimate"][sel],
               "mtt_penultimate": z["mtt_penultimate"][sel], "seconds": z["seconds"][i]}
        try:
            arrays = process_track(args.music_dir / str(z["path"][i]), lab, args.excerpts)
        except AudioDecodeError as e:
            failed.append((str(z["path"][i]), str(e)))
            tqdm.write(f"skip {z['path'][i]}: {e}", file=sys.stderr)
            continue
        tmp = part.with_suffix(".tmp.npz")
        np.savez(tmp, **arrays)
        os.replace(tmp, part)

    # merge
    parts, tracks = [], []
    for i in range(n_tracks):
        part = args.cache / "tracks" / f"{track_id(str(z['path'][i]))}.npz"
        if part.exists():
            parts.append(part)
            tracks.append(i)
    with np.load(parts[0]) as p0:
        g_shape, t_shape = p0["genre_x"].shape[1:], p0["tagger_x"].shape[1:]
    counts = []
    for p in parts:
        with np.load(p) as pz:
            counts.append(len(pz["start"]))
    n = int(sum(counts))
    gx = np.lib.format.open_memmap(args.cache / "genre_x.npy.part", "w+", np.float16, (n, *g_shape))
    tx = np.lib.format.open_memmap(args.cache / "tagger_x.npy.part", "w+", np.float16, (n, *t_shape))
    meta = {k: [] for k in ("start", "centre", "teacher", "teacher_slices", "msd_pen", "mtt_pen", "mfcc")}
    track_of = []
    pos = 0
    for p, i, c in zip(parts, tracks, counts):
        with np.load(p) as pz:
            gx[pos:pos + c] = pz["genre_x"]
            tx[pos:pos + c] = pz["tagger_x"]
            for k in meta:
                meta[k].append(pz[k])
        track_of.append(np.full(c, i, np.int32))
        pos += c
    gx.flush(); tx.flush()
    del gx, tx
    os.replace(args.cache / "genre_x.npy.part", args.cache / "genre_x.npy")
    os.replace(args.cache / "tagger_x.npy.part", args.cache / "tagger_x.npy")
    track_of = np.concatenate(track_of)
    m = {k: np.concatenate(v) for k, v in meta.items()}
    m.update(track=track_of, split=z["split"][track_of], package=z["package"][track_of],
             track_path=z["path"], track_package=z["package"], track_split=z["split"])
    np.savez(args.cache / "meta.npz", **m)
    if args.clean:
        for p in parts:
            p.unlink()
    dt = time.perf_counter() - t0
    per_split = {s: int((m["split"] == s).sum()) for s in ("train", "val", "test")}
    print(f"{n} excerpts of {len(tracks)} tracks ({per_split}) in {args.cache} ({dt:.0f} s); "
          f"{len(failed)} failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

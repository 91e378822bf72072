"""Smart playlists, song radio and sonic paths at 100,000 songs, against naive Python in the same run.

    .venv/bin/python benchmarks/bench_playlists.py                      # 100k songs in a temporary library
    .venv/bin/python benchmarks/bench_playlists.py --db /tmp/big.db     # keep (or reuse) the library file
    .venv/bin/python benchmarks/bench_playlists.py --tracks 20000 --repeat 5

The library is a real SQLite file: player.recommend.synthetic's songs (labels, 32-d embeddings, 10
listeners with ratings and plays), with an analysis of the current models (random tag and genre
probabilities under the real tagger's and genre model's names) and varied metadata (years, lengths,
formats, times added).

* smart playlists: each query's median over ``--repeat`` evaluations once the analysis arrays are
  loaded (their first load is printed apart), against the literal per-song evaluator of the tests
  (tests/playlist_support.py: every song read into a dict, the query tree walked per song) on the
  same library; goal < 100 ms;
* radio: building a radio and each batch of 10, against a pure-Python radio (cosines in Python lists,
  the same seed/recent/taste blend) timed on a sample of songs and scaled to the library;
* sonic path of 10 songs, against a pure-Python path (per step: the cosine to the waypoint and to the
  song before for every song) timed on a sample and scaled; goal < 200 ms.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from player.library import Library  # noqa: E402
from player.library.smart import analysis_arrays, evaluate  # noqa: E402
from player.recommend import Recommender  # noqa: E402
from player.recommend.radio import Radio, seed_from  # noqa: E402
from player.recommend.sonic_path import sonic_path  # noqa: E402
from player.recommend.synthetic import synthetic_arrays, write_library  # noqa: E402
from playlist_support import current_models, reference_evaluate  # noqa: E402

QUERIES = [
    ("a tag above a probability, the listener's stars", "tag:piano>0.3 stars>=4"),
    ("top genre, a decade, newest first, 50 songs", "genre:rock year:1990..1999 sort:-added limit:50"),
    ("added lately and not played lately", "added<30d NOT played<7d"),
    ("a mood, long songs, an hour of them", "mood:happy length>3m limit:60m"),
    ("artist or album text", 'artist:"Artist 12" OR album:"Album 7-0"'),
    ("like a song", "like:{a}>0.8"),
    ("its 20 nearest", "near:{a}:20"),
    ("an analysis condition OR a listening one", "tag:piano>0.5 OR plays>=3 sort:-stars"),
    ("half the library, sorted by title", "year<1990 sort:title"),
    ("nearly every song, in library order", "stars:none"),
]


def build(path: Path, n_tracks: int) -> None:
    arrays, _ = synthetic_arrays(n_tracks, seed=0)
    lib = Library(path)
    try:
        write_library(lib, arrays)
        version, tags, genres = current_models()
        rng = np.random.default_rng(1)
        ids = arrays.analysed_ids.tolist()
        tp = rng.beta(0.6, 3.0, size=(len(ids), len(tags))).astype(np.float32)
        gp = rng.dirichlet(np.full(len(genres), 0.5), size=len(ids)).astype(np.float32)
        now = time.time()
        with lib.db.transaction() as c:
            c.executemany("UPDATE analysis SET model_version = ?, tag_probs = ?, genre_probs = ?, analysed_at = ? "
                          "WHERE track_id = ?",
                          ((version, tp[i].tobytes(), gp[i].tobytes(), now, tid) for i, tid in enumerate(ids)))
            T = len(arrays.track_ids)
            years = rng.integers(1960, 2025, T)
            lengths = rng.uniform(60, 600, T)
            formats = rng.choice(["mp3", "flac", "ogg", "opus"], T)
            added = now - rng.uniform(0, 3 * 365 * 86400, T)
            c.executemany("UPDATE tracks SET year = ?, duration = ?, format = ?, added_at = ?, tracknumber = ? "
                          "WHERE id = ?",
                          ((int(years[i]), float(lengths[i]), str(formats[i]), float(added[i]), int(i % 12 + 1),
                            int(arrays.track_ids[i])) for i in range(T)))
            # recent plays, so that the listening conditions have something to read
            c.executemany("UPDATE plays SET started_at = ? WHERE id = ?",
                          ((now - float(d) * 86400, int(pid)) for pid, d in
                           zip(arrays.plays["id"], rng.uniform(0, 60, len(arrays.plays)))))
    finally:
        lib.close()


def timed(fn, repeat: int) -> tuple[float, object]:
    out = None
    ms = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        ms.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ms), out


# -- naive Python baselines (no numpy in the loops) ---------------------------------------------
def naive_cos(u, v):
    dot = nu = nv = 0.0
    for x, y in zip(u, v):
        dot += x * y
        nu += x * x
        nv += y * y
    return dot / math.sqrt(nu * nv) if nu and nv else 0.0


def naive_radio(vectors: list, artists: list, seed: int, taste: list, n: int = 10) -> list:
    centre = list(vectors[seed])
    given, last_artist = {seed}, artists[seed]
    for _ in range(n):
        best, best_j = -1e9, -1
        for j, v in enumerate(vectors):
            if j in given or artists[j] == last_artist:
                continue
            s = (1.0 * naive_cos(vectors[seed], v) + 0.6 * naive_cos(centre, v) + 0.5 * naive_cos(taste, v)) / 2.1
            if s > best:
                best, best_j = s, j
        given.add(best_j)
        last_artist = artists[best_j]
        centre = [0.8 * a + 0.2 * b for a, b in zip(centre, vectors[best_j])]
    return list(given)


def naive_path(vectors: list, a: int, b: int, n: int = 10) -> list:
    va, vb = vectors[a], vectors[b]
    omega = math.acos(max(-1.0, min(1.0, naive_cos(va, vb))))
    path, prev, used = [a], a, {a, b}
    for i in range(1, n + 1):
        t = i / (n + 1)
        wa, wb = math.sin((1 - t) * omega) / math.sin(omega), math.sin(t * omega) / math.sin(omega)
        w = [wa * x + wb * y for x, y in zip(va, vb)]
        best, best_j = -1e9, -1
        for j, v in enumerate(vectors):
            if j in used:
                continue
            s = (naive_cos(w, v) + 0.5 * naive_cos(vectors[prev], v)) / 1.5
            if s > best:
                best, best_j = s, j
        used.add(best_j)
        path.append(best_j)
        prev = best_j
    return path + [b]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tracks", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=15, help="timed runs per query")
    ap.add_argument("--sample", type=int, default=4000, help="songs the pure-Python radio and path run over")
    ap.add_argument("--db", metavar="FILE", help="the library file to build (or reuse when it exists)")
    args = ap.parse_args(argv)

    tmp = None
    if args.db:
        path = Path(args.db)
    else:
        tmp = tempfile.TemporaryDirectory()
        path = Path(tmp.name) / "library.db"
    if not path.exists():
        t0 = time.perf_counter()
        build(path, args.tracks)
        print(f"built a library of {args.tracks:,} songs in {time.perf_counter() - t0:.1f} s: {path}")
    lib = Library(path)
    n_tracks = lib.track_count()
    user = 1
    a_id, b_id = 42, 4242 % n_tracks + 1
    print(f"{n_tracks:,} songs; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}\n")

    # -- smart playlists
    t0 = time.perf_counter()
    analysis_arrays(lib)
    print(f"smart playlists: the analysis arrays load once per library change: {(time.perf_counter() - t0) * 1000:.0f} ms")
    t0 = time.perf_counter()
    evaluate(lib, "stars:none", user_id=user)
    print(f"(and the rank of every song in library order, for big results, once per change of the tracks: "
          f"{(time.perf_counter() - t0) * 1000:.0f} ms)")
    print(f"{'query':<58} {'songs':>7} {'median ms':>10}")
    worst = 0.0
    for label, text in QUERIES:
        q = text.format(a=a_id)
        ms, res = timed(lambda: evaluate(lib, q, user_id=user), args.repeat)
        worst = max(worst, ms)
        print(f"{label + ': ' + q:<58.58} {len(res.track_ids):>7,} {ms:>10.1f}")
    naive_q = [QUERIES[0][1], QUERIES[1][1]]
    fast, slow = [], []
    for q in naive_q:
        fast.append(timed(lambda: evaluate(lib, q, user_id=user), args.repeat)[0])
        t0 = time.perf_counter()
        want = reference_evaluate(lib, q, user_id=user)
        slow.append((time.perf_counter() - t0) * 1000)
        assert evaluate(lib, q, user_id=user).track_ids == want, q
    print(f"slowest query {worst:.1f} ms (goal < 100 ms). Against the per-song Python evaluator on the same library "
          f"(same results): {' and '.join(f'{s:,.0f} ms vs {f:.1f} ms' for s, f in zip(slow, fast))}, "
          f"{statistics.mean(s / f for s, f in zip(slow, fast)):,.0f}x faster\n")

    # -- radio and path
    t0 = time.perf_counter()
    rec = Recommender.from_library(lib)
    print(f"radio and path build on the recommender: from_library {(time.perf_counter() - t0):.1f} s (once)")
    build_ms, radio = timed(lambda: Radio(rec, seed_from(rec, a_id), user_ids=[user]), 5)
    batch_ms, _ = timed(lambda: radio.next(10), args.repeat)
    radio.played(radio.next(1)[0].track_id, skipped=True)
    steer_ms, _ = timed(lambda: radio.next(10), 5)
    index = rec.index
    rng = random.Random(0)
    sample = sorted(rng.sample(range(index.n_tracks), min(args.sample, index.n_tracks)))
    vectors = [index.E[j].tolist() for j in sample]
    artists = [int(index.artist_code[j]) for j in sample]
    taste = rec.listener(user).taste_unit.tolist()
    t0 = time.perf_counter()
    naive_radio(vectors, artists, 0, taste, 10)
    naive_batch = (time.perf_counter() - t0) * 1000 * index.n_tracks / len(sample)
    print(f"radio: start {build_ms:.1f} ms; a batch of 10 songs {batch_ms:.1f} ms (after a skip {steer_ms:.1f} ms); "
          f"pure Python {naive_batch:,.0f} ms per batch (timed on {len(sample):,} songs, scaled to "
          f"{index.n_tracks:,}): {naive_batch / batch_ms:,.0f}x")
    path_ms, steps = timed(lambda: sonic_path(rec, a_id, b_id, n=10), args.repeat)
    t0 = time.perf_counter()
    naive_path(vectors, 0, len(vectors) - 1, 10)
    naive_ms = (time.perf_counter() - t0) * 1000 * index.n_tracks / len(sample)
    print(f"sonic path of 10 songs: {path_ms:.1f} ms (goal < 200 ms); pure Python {naive_ms:,.0f} ms "
          f"(timed on {len(sample):,} songs, scaled): {naive_ms / path_ms:,.0f}x")
    lib.close()
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

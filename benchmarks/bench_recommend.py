"""Speed and memory of the recommender at 100,000 songs, against seed 002's pandas algorithm.

    .venv/bin/python benchmarks/bench_recommend.py                 # 100k songs, arrays in memory
    .venv/bin/python benchmarks/bench_recommend.py --sqlite        # also through a real library file
    .venv/bin/python benchmarks/bench_recommend.py --tracks 20000 --seed-sample 100 --json out.json

A synthetic library (player.recommend.synthetic): 100,000 songs with labels from a 50-tag vocabulary
(TF-IDF vectors) and 32-d embeddings, 10 listeners with 200 ratings and 400 plays each. Measured:

* up-next per query (blend of profile, current-song embedding, taste embedding, history, artist;
  with and without a mood), "more like this" per query, the profile rebuild after one new rating,
  the first up-next after it (history rebuilt), a cold-start listener;
* seed 002's ``constructCosineSimilarity`` (its literal pandas code) on a sample of songs of the same
  library in the same process, per scored song, against ours per scored song; the scores in ``seed``
  mode must be identical (max |difference| <= 1e-9);
* memory: bytes held by the recommender's arrays, and the tracemalloc peak of building it.

Goals: up-next < 30 ms, similar < 10 ms, rebuild < 50 ms, >= 1000x the seed per song,
memory < 200 MB.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import math
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from player.recommend import Recommender, RecommendSettings  # noqa: E402
from player.recommend.synthetic import synthetic_arrays, write_library  # noqa: E402


# seed 002's content recommender, literally: the one reference the tests check us against
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_recommend_support import SeedContentRecommender  # noqa: E402


def seed_tables(arrays):
    import pandas

    reps = arrays.lab_count.astype(np.int64)
    labels_df = pandas.DataFrame({
        "track_id": np.repeat(arrays.lab_track, reps),
        "label": np.repeat(np.asarray(arrays.label_names, dtype=object)[arrays.lab_label], reps),
    })
    rating_df = pandas.DataFrame({
        "username": [arrays.users[u] for u in arrays.rating_user.tolist()],
        "track_id": arrays.rating_track,
        "rating": arrays.rating_stars,
    })
    return labels_df, rating_df


# ---------------------------------------------------------------------------------------------
def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def summary(ms: list[float]) -> dict:
    ms = sorted(ms)
    return {
        "median_ms": statistics.median(ms),
        "p95_ms": ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))],
        "n": len(ms),
    }


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tracks", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--ratings", type=int, default=200, help="ratings per listener")
    ap.add_argument("--plays", type=int, default=400, help="plays per listener")
    ap.add_argument("--queries", type=int, default=200, help="timed queries per kind")
    ap.add_argument("--seed-sample", type=int, default=200, help="songs scored by the seed's pandas loop")
    ap.add_argument("--sqlite", action="store_true", help="also time from_library on a real library file")
    ap.add_argument("--json", metavar="FILE", help="write the numbers as JSON")
    ap.add_argument("--write-docs", action="store_true", help="put a table of the numbers into docs/recommender.md")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(1)
    results: dict = {"tracks": args.tracks}

    t = time.perf_counter()
    arrays, truth = synthetic_arrays(args.tracks, n_users=args.users, ratings_per_user=args.ratings,
                                     plays_per_user=args.plays, seed=0)
    print(f"synthetic library: {args.tracks:,} songs, {len(arrays.label_names)} labels, "
          f"{len(arrays.lab_track):,} (song, label) rows, {arrays.embeddings.shape[1]}-d embeddings, "
          f"{args.users} listeners x {args.ratings} ratings, {len(arrays.plays):,} plays "
          f"({time.perf_counter() - t:.1f} s to generate)")

    # the tagger's output too (the synthetic library has labels and embeddings only): Beta-distributed
    # probabilities, one row per embedding, so that the index builds the player's joint song vectors
    tag_probs = rng.beta(0.4, 3.0, size=(len(arrays.emb_track), 50)).astype(np.float32)
    arrays = dataclasses.replace(arrays, tag_probs=tag_probs)

    # -- the song vectors (player.recommend.space), against the raw unit embedding in this process --------
    from player.recommend.space import song_vectors

    space = {}
    for mode in ("raw", "joint"):
        song_vectors(arrays.embeddings, tag_probs, mode)  # warm up
        space[mode] = summary(timed(lambda: song_vectors(arrays.embeddings, tag_probs, mode), 7))
    results["song_vectors"] = {"tracks": len(arrays.emb_track), **space,
                               "ratio_joint_to_raw": space["joint"]["median_ms"] / space["raw"]["median_ms"]}
    print(f"song vectors for {len(arrays.emb_track):,} songs: joint (32 + 50 dimensions, centred over the library) "
          f"{space['joint']['median_ms']:.0f} ms (median of 7), the raw unit embedding "
          f"{space['raw']['median_ms']:.0f} ms ({results['song_vectors']['ratio_joint_to_raw']:.1f}x); goal < 1000 ms: "
          f"{'ok' if space['joint']['median_ms'] < 1000 else 'MISSED'}")

    # -- build + memory --------------------------------------------------------------------------
    gc.collect()
    rss0 = rss_mb()
    tracemalloc.start()
    t = time.perf_counter()
    rec = Recommender.from_arrays(arrays)
    rec.up_next(1, n=10)  # history and caches built
    build_s = time.perf_counter() - t
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss1 = rss_mb()
    results["build_s"] = build_s
    results["memory"] = {"arrays_mb": rec.nbytes() / 2**20, "traced_retained_mb": current / 2**20,
                         "traced_peak_mb": peak / 2**20, "rss_growth_mb": rss1 - rss0}
    print(f"build: {build_s * 1000:.0f} ms; memory: arrays {rec.nbytes() / 2**20:.1f} MB, retained "
          f"{current / 2**20:.1f} MB (tracemalloc, incl. titles/names), peak while building {peak / 2**20:.1f} MB, "
          f"RSS growth {rss1 - rss0:.1f} MB")

    users = sorted(arrays.users)
    ids = arrays.track_ids
    q = args.queries

    def pick_user():
        return int(users[rng.integers(len(users))])

    def pick_track():
        return int(ids[rng.integers(len(ids))])

    timings = {}
    for _ in range(5):  # warm up
        rec.up_next(pick_user(), after_track_id=pick_track(), n=10)
        rec.similar(pick_track(), n=10)
    timings["up_next"] = summary(timed(lambda: rec.up_next(pick_user(), after_track_id=pick_track(), n=10), q))
    timings["up_next_mood"] = summary(timed(
        lambda: rec.up_next(pick_user(), after_track_id=pick_track(), mood_labels=["happy", "party", "dance"], n=10), q))
    timings["up_next_no_current"] = summary(timed(lambda: rec.up_next(pick_user(), n=10), q))
    timings["similar"] = summary(timed(lambda: rec.similar(pick_track(), n=10), q))
    rebuild, after_rating = [], []
    for _ in range(max(20, q // 5)):
        u, tid = pick_user(), pick_track()
        rec.source.rate(u, tid, int(rng.integers(1, 6)))
        rebuild += timed(lambda: rec.on_rating_changed(u), 1)
        after_rating += timed(lambda: rec.up_next(u, after_track_id=pick_track(), n=10), 1)
    timings["profile_rebuild"] = summary(rebuild)
    timings["up_next_after_rating"] = summary(after_rating)
    new_user = max(users) + 1000
    timings["cold_start"] = summary(timed(lambda: rec.up_next(new_user, n=10), q))
    results["timings"] = timings
    print("\nper query (median / p95 ms):")
    goals = {"up_next": 30, "up_next_mood": 30, "up_next_no_current": 30, "up_next_after_rating": 30,
             "similar": 10, "profile_rebuild": 50, "cold_start": 30}
    for name, v in timings.items():
        goal = goals.get(name)
        verdict = "" if goal is None else f"  goal < {goal} ms: {'ok' if v['median_ms'] < goal else 'MISSED'}"
        print(f"  {name:22s} {v['median_ms']:8.2f} / {v['p95_ms']:8.2f}{verdict}")

    # -- against seed 002's pandas algorithm -------------------------------------------------------
    seed_rec = Recommender.from_arrays(arrays, RecommendSettings(mode="seed"))
    user = users[0]
    name = arrays.users[user]
    t = time.perf_counter()
    labels_df, rating_df = seed_tables(arrays)
    ref = SeedContentRecommender(labels_df, rating_df)
    ref.constructLabelVector()
    ref.constructUserProfile()
    seed_setup_s = time.perf_counter() - t
    sample = np.sort(rng.choice(np.unique(arrays.lab_track), size=min(args.seed_sample, len(arrays.lab_track)),
                                replace=False))
    t = time.perf_counter()
    table = ref.constructCosineSimilarity(sample, [name])
    seed_s = time.perf_counter() - t
    seed_per_song_us = seed_s / len(sample) * 1e6
    ours_ms = timed(lambda: seed_rec.profile_scores(user), 20)
    ours_per_song_us = statistics.median(ours_ms) * 1000 / len(ids)
    blend_per_song_us = timings["up_next"]["median_ms"] * 1000 / len(ids)
    ours = seed_rec.profile_scores(user)
    got = dict(zip(table["track_id"].tolist(), table["score"].tolist()))
    diffs = []
    for tid in sample.tolist():
        want = got.get(tid)
        mine = ours[seed_rec.position(tid)]
        want = 0.0 if want is None or math.isnan(want) else want
        diffs.append(abs(mine - want))
    max_diff = max(diffs)
    results["seed"] = {
        "sample_songs": len(sample),
        "seed_setup_s": seed_setup_s,
        "seed_per_song_us": seed_per_song_us,
        "ours_profile_scores_ms": statistics.median(ours_ms),
        "ours_per_song_us": ours_per_song_us,
        "speedup_profile": seed_per_song_us / ours_per_song_us,
        "up_next_per_song_us": blend_per_song_us,
        "speedup_up_next": seed_per_song_us / blend_per_song_us,
        "max_abs_diff": max_diff,
    }
    print(f"\nseed 002 (pandas, literal), same library, same process: TF-IDF + profiles {seed_setup_s:.1f} s; "
          f"cosine loop {seed_s:.2f} s for {len(sample)} songs x 1 listener = {seed_per_song_us:,.0f} us per song")
    print(f"ours, seed mode: all {len(ids):,} songs in {statistics.median(ours_ms):.2f} ms = "
          f"{ours_per_song_us * 1000:.1f} ns per song -> {seed_per_song_us / ours_per_song_us:,.0f}x faster "
          f"(goal >= 1000x: {'ok' if seed_per_song_us / ours_per_song_us >= 1000 else 'MISSED'})")
    print(f"ours, the whole up-next blend: {blend_per_song_us * 1000:.1f} ns per song -> "
          f"{seed_per_song_us / blend_per_song_us:,.0f}x faster")
    print(f"identical scores: max |ours - seed| over the sample = {max_diff:.2e} "
          f"({'ok' if max_diff <= 1e-9 else 'MISSED'} at 1e-9)")

    # -- through a real library file ------------------------------------------------------------
    if args.sqlite:
        from player.library import Library

        with tempfile.TemporaryDirectory() as tmp:
            lib = Library(Path(tmp) / "bench.db")
            t = time.perf_counter()
            write_library(lib, arrays)
            write_s = time.perf_counter() - t
            gc.collect()
            t = time.perf_counter()
            lrec = Recommender.from_library(lib)
            load_s = time.perf_counter() - t
            lq = summary(timed(lambda: lrec.up_next(pick_user(), after_track_id=pick_track(), n=10), q))
            lr = []
            for _ in range(20):
                u, tid = pick_user(), pick_track()
                lib.rate(u, tid, int(rng.integers(1, 6)))
                lr += timed(lambda: lrec.on_rating_changed(u), 1)
            lib.close()
        results["sqlite"] = {"write_s": write_s, "from_library_s": load_s, "up_next": lq,
                             "profile_rebuild": summary(lr)}
        print(f"\nreal library file: written in {write_s:.1f} s; from_library {load_s * 1000:.0f} ms; "
              f"up-next {lq['median_ms']:.2f} ms (median, reads recent plays from SQLite); "
              f"rebuild after a rating {statistics.median(lr):.2f} ms")

    mem_ok = results["memory"]["traced_peak_mb"] < 200
    print(f"\nmemory goal < 200 MB for {args.tracks:,} songs: peak {results['memory']['traced_peak_mb']:.0f} MB "
          f"({'ok' if mem_ok else 'MISSED'})")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.write_docs:
        write_docs(markdown(results, args))
        print("written into docs/recommender.md")
    return 0


def markdown(r: dict, args) -> str:
    t, sd, m = r["timings"], r["seed"], r["memory"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rows = [
        f"Measured {time.strftime('%Y-%m-%d')} on the shared development machine (2 cores, load average "
        f"{load:.1f} at the end of the run, so medians are pessimistic); `{' '.join(['bench_recommend.py'] + sys.argv[1:])}`.",
        "",
        "| per query, 100k songs | median ms | p95 ms | goal |",
        "|---|---:|---:|---:|",
    ]
    names = {
        "up_next": ("up-next (profile + current song + taste + history + artist)", "< 30"),
        "up_next_mood": ("up-next with a mood", "< 30"),
        "up_next_no_current": ("up-next without a current song", "< 30"),
        "up_next_after_rating": ("first up-next after a rating (history rebuilt)", "< 30"),
        "cold_start": ("up-next for a listener with nothing yet", "< 30"),
        "similar": ("more like this", "< 10"),
        "profile_rebuild": ("profile rebuild after one rating (`on_rating_changed`)", "< 50"),
    }
    for key, (label, goal) in names.items():
        rows.append(f"| {label} | {t[key]['median_ms']:.2f} | {t[key]['p95_ms']:.2f} | {goal} |")
    rows += [
        "",
        f"Against seed 002's algorithm (its pandas code, literally) on {sd['sample_songs']} songs of the same "
        f"library: **{sd['seed_per_song_us'] / 1000:.1f} ms per scored song**; ours in `seed` mode scores all "
        f"{r['tracks']:,} songs in {sd['ours_profile_scores_ms']:.2f} ms = {sd['ours_per_song_us'] * 1000:.1f} ns per song, "
        f"**{sd['speedup_profile']:,.0f}x faster** (the whole up-next blend: {sd['up_next_per_song_us'] * 1000:.0f} ns "
        f"per song, {sd['speedup_up_next']:,.0f}x); identical scores: max |difference| {sd['max_abs_diff']:.1e} "
        f"(goal: >= 1000x, <= 1e-9).",
        "",
        f"Memory for {r['tracks']:,} songs: the arrays {m['arrays_mb']:.0f} MB; everything the recommender keeps "
        f"(with titles and names) {m['traced_retained_mb']:.0f} MB; peak while building {m['traced_peak_mb']:.0f} MB "
        f"(tracemalloc; goal < 200 MB). Building from arrays: {r['build_s'] * 1000:.0f} ms.",
        "",
        f"The song vectors of the similarity space (`player.recommend.space.song_vectors`, joint: 32 embedding + "
        f"50 tag dimensions, centred over the library) for {r['song_vectors']['tracks']:,} songs: "
        f"**{r['song_vectors']['joint']['median_ms']:.0f} ms** (median of 7; goal well under a second), "
        f"{r['song_vectors']['ratio_joint_to_raw']:.1f}x the raw unit embedding's "
        f"{r['song_vectors']['raw']['median_ms']:.0f} ms in the same run.",
    ]
    if "sqlite" in r:
        q = r["sqlite"]
        rows += [
            "",
            f"Through a real library file (100k tracks, analysis and label rows written by "
            f"`player.recommend.synthetic.write_library`): `Recommender.from_library` {q['from_library_s']:.1f} s; "
            f"up-next {q['up_next']['median_ms']:.2f} ms (median, reading the listener's recent plays from "
            f"SQLite each time); rebuild after a rating {q['profile_rebuild']['median_ms']:.2f} ms "
            f"(re-reads the listener's ratings).",
        ]
    return "\n".join(rows)


def write_docs(block: str) -> None:
    from scripts._docs import write_block

    write_block(Path(__file__).resolve().parent.parent / "docs" / "recommender.md", "<!-- bench:start -->",
                "<!-- bench:end -->", block)


if __name__ == "__main__":
    sys.exit(main())

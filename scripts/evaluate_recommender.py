"""Offline quality of the recommender: simulated listeners, precision@10 of up-next.

    .venv/bin/python scripts/evaluate_recommender.py --db ~/.local/share/tastebuds/library.db
    .venv/bin/python scripts/evaluate_recommender.py --synthetic 5000
    .venv/bin/python scripts/evaluate_recommender.py --synthetic 5000 --write-docs   # table -> docs/recommender.md

A synthetic library (``--synthetic``) has styles whose songs share labels and sound alike, overlapping
more or less (``--separation``); its folders are its styles.

Protocol (the library's songs and analysis are real; the listeners are simulated, and nothing is
written to the library file):

1. Groups of songs a listener could love: *label clusters* (spherical k-means on the songs' TF-IDF
   label vectors) and *folders* (the first folder below the library's common root: an album,
   a soundtrack, a genre folder). Groups with fewer than ``--min-group`` songs are left out.
2. Each simulated listener loves one group (half pick a label cluster, half a folder): they rate
   ``--rated`` songs of it 5 stars and ``--disliked`` songs outside it 1 star, and play ``--plays``
   songs of it in sessions. A share of every group (``--new-share``) is "newly imported": nobody
   has played those songs, so history alone cannot reach them.
3. For each listener and each method, up-next gives 10 songs (the rated ones excluded); precision@10
   is the share of them in the listener's group. Methods: random; content as seed 002 (TF-IDF
   profile, ``seed`` mode); content with stars (TF-IDF + embedding profile); history (seed 002's
   co-occurrence filtering alone); the hybrid (the default blend).
4. More like this (seed 000's protocol): for sampled songs, the share of their 10 nearest neighbours
   by cosine in the similarity space (``--space``: the player's joint song vectors, or seed 000's raw
   32-d embedding) that are in the same folder / the same label cluster.
5. Mood: (a) a frequent label as the mood: the share of the top 10 carrying it, without a mood, with
   seed 002's label query and with the tag-block query (``LibraryIndex.mood_query``); (b) each mood of
   the built-in mood table (``player/mood/mapping.py``, policy ``match``) whose tags the tagger has, for
   every listener: the share of the top 10 having one of the mood's tags among its 5 most probable tags
   (what ``mood:X`` of a smart playlist matches for a hidden tag; labels cannot measure it, the label rule
   hides most mood tags), and the mean probability of the mood's tags over the top 10, without a mood,
   with the label query and with the tag query (``--moods`` picks the moods).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from player.recommend import Recommender, RecommendSettings  # noqa: E402
from player.recommend.data import PLAY_DTYPE, LibraryArrays, load_arrays  # noqa: E402
from player.recommend.space import DEFAULT_MODE, MODES  # noqa: E402

SPACE_NAMES = {"joint": "player's song vectors", "raw": "raw 32-d embedding", "tags": "tag space"}

DOC = Path(__file__).resolve().parent.parent / "docs" / "recommender.md"
START, END = "<!-- evaluation:start -->", "<!-- evaluation:end -->"

METHODS = {
    "random": None,
    "content, seed 002 (TF-IDF profile, seed mode)": RecommendSettings(
        mode="seed", weight_taste_embedding=0, weight_history=0, weight_artist=0, weight_embedding=0,
        max_familiar_fraction=1.0),
    "content, stars (TF-IDF profile)": RecommendSettings(
        weight_taste_embedding=0, weight_history=0, weight_artist=0, weight_embedding=0,
        max_familiar_fraction=1.0),
    "content, stars (TF-IDF + embedding profile)": RecommendSettings(
        weight_history=0, weight_artist=0, max_familiar_fraction=1.0),
    "history, seed 002 (co-occurrence CF)": RecommendSettings(
        weight_profile=0, weight_taste_embedding=0, weight_artist=0, weight_history=1.0,
        max_familiar_fraction=1.0),
    "hybrid (default blend)": RecommendSettings(max_familiar_fraction=1.0),
}


def spherical_kmeans(X, k: int, rng, iters: int = 20) -> np.ndarray:
    """Cluster unit rows of X by cosine; -1 for zero rows."""
    has = np.diff(X.indptr) > 0
    rows = np.flatnonzero(has)
    labels = np.full(X.shape[0], -1, dtype=np.int64)
    if rows.size == 0:
        return labels
    k = max(1, min(k, rows.size))
    Xr = X[rows]
    centres = Xr[rng.choice(rows.size, size=k, replace=False)].toarray()
    assign = np.zeros(rows.size, dtype=np.int64)
    for _ in range(iters):
        sims = np.asarray(Xr @ centres.T)
        new = sims.argmax(axis=1)
        if (new == assign).all() and _:
            break
        assign = new
        for c in range(k):
            members = assign == c
            if members.any():
                v = np.asarray(Xr[members].sum(axis=0)).ravel()
                centres[c] = v / (np.linalg.norm(v) or 1.0)
    labels[rows] = assign
    return labels


def folders_of(paths: list[str]) -> np.ndarray:
    """The first folder below the common root of all paths, as integer codes."""
    dirs = [os.path.dirname(p) for p in paths]
    try:
        root = os.path.commonpath(dirs) if dirs else ""
    except ValueError:  # mixed drives
        root = ""
    names = []
    for d in dirs:
        rel = os.path.relpath(d, root) if root else d
        names.append(rel.split(os.sep)[0] if rel not in (".", "") else ".")
    table: dict = {}
    return np.array([table.setdefault(n, len(table)) for n in names], dtype=np.int64)


@dataclasses.dataclass
class Listener:
    uid: int
    kind: str  # "cluster" | "folder"
    group: np.ndarray  # positions of the songs of the loved group
    rated: np.ndarray  # positions rated 5 stars
    disliked: np.ndarray


def simulate(arrays: LibraryArrays, rec0: Recommender, args, rng):
    T = len(arrays.track_ids)
    clusters = spherical_kmeans(rec0.X, args.clusters or max(4, int(round(np.sqrt(T / 40)))), rng)
    folders = folders_of(arrays.paths or [str(i) for i in arrays.track_ids])
    ok = np.asarray(arrays.ok, bool)
    groups = {"cluster": [], "folder": []}
    for kind, codes in (("cluster", clusters), ("folder", folders)):
        for c in np.unique(codes[codes >= 0]):
            members = np.flatnonzero((codes == c) & ok)
            if members.size >= args.min_group:
                groups[kind].append(members)
    if not groups["cluster"] and not groups["folder"]:
        raise SystemExit(f"no group of at least {args.min_group} songs: the library is too small")
    new = rng.random(T) < args.new_share  # newly imported: nobody played them
    listeners, r_u, r_t, r_s, plays = [], [], [], [], []
    play_id, t0 = 1, 1.7e9
    kinds = [k for k in ("cluster", "folder") if groups[k]]
    for i in range(args.listeners):
        uid = i + 1
        kind = kinds[i % len(kinds)]
        sizes = np.array([g.size for g in groups[kind]], dtype=float)
        g = groups[kind][rng.choice(len(sizes), p=sizes / sizes.sum())]
        old = g[~new[g]]
        rated = rng.choice(old if old.size >= args.rated else g, size=min(args.rated, g.size - 1), replace=False)
        outside = np.setdiff1d(np.flatnonzero(ok), g)
        disliked = rng.choice(outside, size=min(args.disliked, outside.size), replace=False)
        listeners.append(Listener(uid, kind, g, rated, disliked))
        for pos, stars in ((rated, 5), (disliked, 1)):
            r_u.append(np.full(pos.size, uid))
            r_t.append(arrays.track_ids[pos])
            r_s.append(np.full(pos.size, stars))
        pool = old if old.size else g
        heard = np.concatenate([rated, rng.choice(pool, size=args.plays, replace=True)])
        block = np.zeros(heard.size, dtype=PLAY_DTYPE)
        block["id"] = np.arange(play_id, play_id + heard.size)
        block["user"] = uid
        block["track"] = arrays.track_ids[heard]
        block["started_at"] = t0 + uid * 1e6 + (np.arange(heard.size) // 10) * 86_400 + np.arange(heard.size) * 200
        block["seconds"] = 200.0
        play_id += heard.size
        plays.append(block)
    sim = dataclasses.replace(
        arrays,
        users={lst.uid: f"sim{lst.uid}" for lst in listeners},
        rating_user=np.concatenate(r_u), rating_track=np.concatenate(r_t), rating_stars=np.concatenate(r_s),
        plays=np.concatenate(plays),
    )
    return sim, listeners, clusters, folders, new


def evaluate(arrays: LibraryArrays, args) -> tuple[str, dict]:
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    rec0 = Recommender.from_arrays(arrays)
    sim, listeners, clusters, folders, new = simulate(arrays, rec0, args, rng)
    T = len(arrays.track_ids)
    results = {}
    for name, settings in METHODS.items():
        prec = {"cluster": [], "folder": []}
        fresh = []
        rec = None if settings is None else Recommender.from_arrays(dataclasses.replace(sim), settings)
        for lst in listeners:
            truth = set(lst.group.tolist()) - set(lst.rated.tolist())
            if rec is None:
                pool = np.setdiff1d(np.flatnonzero(sim.ok), np.concatenate([lst.rated, lst.disliked]))
                top = rng.choice(pool, size=min(10, pool.size), replace=False)
            else:
                out = rec.up_next(lst.uid, n=10, exclude_ids=arrays.track_ids[lst.rated].tolist())
                top = np.array([rec.position(r.track_id) for r in out], dtype=np.int64)
            prec[lst.kind].append(len(set(top.tolist()) & truth) / 10.0)
            fresh.append(float(new[top].mean()) if top.size else 0.0)
        allp = prec["cluster"] + prec["folder"]
        results[name] = {
            "cluster": float(np.mean(prec["cluster"])) if prec["cluster"] else float("nan"),
            "folder": float(np.mean(prec["folder"])) if prec["folder"] else float("nan"),
            "all": float(np.mean(allp)),
            "new_share": float(np.mean(fresh)),
        }

    # more like this: embedding neighbours in the same folder / label cluster
    hyb = Recommender.from_arrays(sim, RecommendSettings())
    analysed = np.flatnonzero(hyb.index.has_emb & sim.ok)
    sample = rng.choice(analysed, size=min(args.similar_sample, analysed.size), replace=False) if analysed.size else []
    same = {"folder": [], "cluster": []}
    base = {"folder": [], "cluster": []}
    for j in sample:
        out = hyb.similar(int(arrays.track_ids[j]), n=10)
        nb = np.array([hyb.position(r.track_id) for r in out], dtype=np.int64)
        if nb.size == 0:
            continue
        for kind, codes in (("folder", folders), ("cluster", clusters)):
            if codes[j] < 0:
                continue
            same[kind].append(float((codes[nb] == codes[j]).mean()))
            base[kind].append(float(((codes == codes[j]).sum() - 1) / max(1, T - 1)))

    # mood (a): a frequent label as the mood, for every listener, by either query
    mood = {}
    if hyb.label_names:
        df_order = np.argsort(-hyb.index.df)
        label = hyb.label_names[int(df_order[min(len(df_order) - 1, len(df_order) // 3)])]
        col = hyb.label_names.index(label)
        has_label = np.asarray((hyb.X[:, col] != 0).toarray()).ravel()
        shares = mood_shares(hyb, listeners, arrays, [label], lambda top: has_label[top])
        mood = {"label": label, "library_share": float(has_label.mean()), **shares}
    moods = mood_table_effect(hyb, listeners, arrays, args)

    n_c = sum(lst.kind == "cluster" for lst in listeners)
    n_f = len(listeners) - n_c
    lines = [
        f"Library: {T:,} songs ({int(hyb.index.analysed.sum()):,} analysed), {len(hyb.label_names)} labels; "
        f"{len(listeners)} simulated listeners ({n_c} love a label cluster, {n_f} a folder), "
        f"{args.rated} songs rated 5★ and {args.disliked} rated 1★ each, {args.plays} plays each; "
        f"{args.new_share:.0%} of the songs never played (new). Seed {args.seed}; "
        f"{time.perf_counter() - t0:.1f} s.",
        "",
        "| method | precision@10, cluster listeners | precision@10, folder listeners | precision@10, all | "
        "never-played songs in the top 10 |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['cluster']:.3f} | {r['folder']:.3f} | **{r['all']:.3f}** | {r['new_share']:.0%} |")
    if same["folder"] or same["cluster"]:
        lines += [
            "",
            f"| more like this (cosine in the {SPACE_NAMES[sim.space]}, 10 neighbours) | same folder | "
            "same label cluster |",
            "|---|---:|---:|",
            f"| precision@10 over {len(sample)} songs | {np.mean(same['folder']):.3f} | "
            f"{np.mean(same['cluster']) if same['cluster'] else float('nan'):.3f} |",
            f"| by chance | {np.mean(base['folder']):.3f} | "
            f"{np.mean(base['cluster']) if base['cluster'] else float('nan'):.3f} |",
        ]
    if mood:
        lines += [
            "",
            f"Mood query (hybrid): with the label “{mood['label']}” as the mood ({mood['library_share']:.0%} of the "
            f"library has it), the share of the top 10 carrying it goes from {mood['without']:.0%} to "
            f"{mood['labels']:.0%} (seed 002's label query) / {mood['tags']:.0%} (the tag-block query).",
        ]
    if moods:
        lines += ["", "Moods of the mood table (hybrid, every listener): the share of the top 10 having one of the "
                  "mood's tags among its 5 most probable tags (in brackets: the mean probability of the mood's "
                  "tags over the top 10), without a mood, with seed 002's label query and with the tag-block "
                  "query:", "",
                  "| mood | its tags the tagger has (of them, labels in this library) | library | without | label query | "
                  "tag query |",
                  "|---|---|---:|---:|---:|---:|"]
        for name, m in moods.items():
            lines.append(f"| {name} | {', '.join(m['mood_tags'])} ({', '.join(m['shown']) or 'none'}) | "
                         f"{m['library_share']:.0%} | " + " | ".join(
                             f"{m[k]:.0%} ({m[k + '_prob']:.3f})" for k in ("without", "labels", "tags")) + " |")
        mean = {k: float(np.mean([m[k] for m in moods.values()])) for k in ("without", "labels", "tags")}
        lines.append(f"| mean of {len(moods)} | | | {mean['without']:.0%} | {mean['labels']:.0%} | {mean['tags']:.0%} |")
        p10 = {k: float(np.mean([m[f"{k}_p10"] for m in moods.values()])) for k in ("without", "labels", "tags")}
        lines += ["", f"The listeners' taste under a mood (precision@10 of their own group, mean over these moods): "
                  f"{p10['without']:.3f} without a mood, {p10['labels']:.3f} with the label query, "
                  f"{p10['tags']:.3f} with the tag query."]
    return "\n".join(lines), {"methods": results, "similar": same, "mood": mood, "moods": moods}


def mood_shares(rec: Recommender, listeners, arrays: LibraryArrays, mood_labels, measure, prob=None) -> dict:
    """The mean of ``measure(top positions)`` (and of ``prob``, as ``KEY_prob``) over the listeners' top 10
    (rated songs excluded): without a mood, with seed 002's label query and with the tag-block query."""
    out = {}
    for key, how in (("without", None), ("labels", "labels"), ("tags", "tags")):
        vals, probs, p10 = [], [], []
        for lst in listeners:
            ex = arrays.track_ids[lst.rated].tolist()
            kw = {} if how is None else {"mood_labels": list(mood_labels), "mood_query": how}
            top = np.asarray([rec.position(r.track_id) for r in rec.up_next(lst.uid, n=10, exclude_ids=ex, **kw)],
                             np.int64)
            vals.append(float(np.mean(measure(top))) if top.size else 0.0)
            if prob is not None:
                probs.append(float(np.mean(prob[top])) if top.size else 0.0)
            p10.append(len(set(top.tolist()) & (set(lst.group.tolist()) - set(lst.rated.tolist()))) / 10.0)
        out[key] = float(np.mean(vals))
        out[f"{key}_p10"] = float(np.mean(p10))  # the listener's taste: precision@10 of their own group
        if prob is not None:
            out[f"{key}_prob"] = float(np.mean(probs))
    return out


def mood_table_effect(rec: Recommender, listeners, arrays: LibraryArrays, args) -> dict:
    """Section 5 (b) of the protocol: {mood: {mood_tags, shown, library_share, without, labels, tags, *_prob}}."""
    from player.mood.mapping import DEFAULT_MAPPING

    index = rec.index
    if arrays.tag_probs is None or not arrays.tag_names:
        return {}
    T, names = len(arrays.track_ids), list(arrays.tag_names)
    probs = np.full((T, len(names)), np.nan, np.float32)
    pos = index.positions(arrays.emb_track)
    probs[pos[pos >= 0]] = arrays.tag_probs[pos >= 0]
    valid = ~np.isnan(probs).any(axis=1)
    top5 = np.zeros(probs.shape, bool)
    np.put_along_axis(top5, np.argsort(-np.nan_to_num(probs, nan=-1.0), axis=1, kind="stable")[:, :5], True, axis=1)
    top5 &= valid[:, None]
    labels = {x.casefold() for x in index.label_names}
    wanted = [m.strip() for m in args.moods.split(",") if m.strip()] if args.moods else list(DEFAULT_MAPPING["match"])
    out = {}
    for mood in wanted:
        tags = [t for t in DEFAULT_MAPPING["match"].get(mood, []) if t in names]
        if not tags:
            continue
        cols = [names.index(t) for t in tags]
        hit = top5[:, cols].any(axis=1)
        mean_prob = np.where(valid, np.nan_to_num(probs[:, cols]).mean(axis=1), 0.0)
        res = mood_shares(rec, listeners, arrays, tags, lambda top: hit[top], mean_prob)
        out[mood] = {"mood_tags": tags, "shown": [t for t in tags if t.casefold() in labels],
                     "library_share": float(hit[valid].mean()) if valid.any() else 0.0, **res}
    return out


def write_docs(table: str, how: str) -> None:
    from scripts._docs import write_block

    write_block(DOC, START, END, f"<!-- written by scripts/evaluate_recommender.py; command: {how} -->\n\n{table}\n",
                heading="## Evaluation")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Offline precision@10 of up-next with simulated listeners.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--db", metavar="PATH", help="an analysed library database (read only)")
    src.add_argument("--synthetic", type=int, metavar="N", help="a synthetic analysed library of N songs")
    ap.add_argument("--separation", type=float, default=0.15,
                    help="with --synthetic: how distinct the styles are (1 clear-cut, 0.15 overlapping)")
    ap.add_argument("--listeners", type=int, default=60)
    ap.add_argument("--rated", type=int, default=5, help="songs each listener rates 5 stars (default 5)")
    ap.add_argument("--disliked", type=int, default=2, help="songs outside the group rated 1 star")
    ap.add_argument("--plays", type=int, default=30, help="songs of the group each listener plays")
    ap.add_argument("--new-share", type=float, default=0.3, help="share of songs nobody played")
    ap.add_argument("--clusters", type=int, default=0, help="label clusters (0: about sqrt(N/40))")
    ap.add_argument("--min-group", type=int, default=15)
    ap.add_argument("--similar-sample", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--disliked-sweep", metavar="N,N,…", default="",
                    help="also compare the profile modes as listeners dislike more songs (e.g. 2,5,10)")
    ap.add_argument("--space", choices=MODES, default=DEFAULT_MODE,
                    help="the similarity space of more like this and the embedding terms: the player's "
                         f"('{DEFAULT_MODE}', both models' outputs) or seed 000's raw 32-d embedding ('raw')")
    ap.add_argument("--moods", metavar="MOOD,…", default="",
                    help="the moods of the mood table to measure (default: every one whose tags the tagger has)")
    ap.add_argument("--write-docs", action="store_true", help=f"put the table into {DOC.relative_to(DOC.parent.parent)}")
    args = ap.parse_args(argv)
    if args.moods:
        from player.mood.mapping import DEFAULT_MAPPING

        unknown = [m.strip() for m in args.moods.split(",") if m.strip() and m.strip() not in DEFAULT_MAPPING["match"]]
        if unknown:
            ap.error(f"unknown mood {unknown[0]!r} for --moods (one of {', '.join(DEFAULT_MAPPING['match'])})")

    if args.synthetic:
        from player.recommend.synthetic import synthetic_arrays

        arrays, _ = synthetic_arrays(args.synthetic, n_users=0, separation=args.separation, seed=args.seed)
        how = f"scripts/evaluate_recommender.py --synthetic {args.synthetic} --separation {args.separation}"
    else:
        from player.library import Library

        path = Path(args.db).expanduser()
        if not path.exists():
            print(f"error: no library at {path}", file=sys.stderr)
            return 2
        with Library(path) as lib:
            arrays = load_arrays(lib)
        if not len(arrays.track_ids):
            print(f"error: the library {path} has no songs", file=sys.stderr)
            return 2
        if not len(arrays.lab_track) and not len(arrays.emb_track):
            print(f"error: no song in {path} is analysed yet: run 'python -m player analyse' first", file=sys.stderr)
            return 2
        how = f"scripts/evaluate_recommender.py --db {path.name}"
    arrays = dataclasses.replace(arrays, space=args.space)
    if args.space != DEFAULT_MODE:
        how += f" --space {args.space}"
    table, _ = evaluate(arrays, args)
    if args.disliked_sweep:
        counts = [int(x) for x in args.disliked_sweep.split(",") if x.strip()]
        keys = ["content, seed 002 (TF-IDF profile, seed mode)", "content, stars (TF-IDF profile)",
                "hybrid (default blend)"]
        rows = ["", "Stars against seed 002's profile as listeners rate more songs they dislike (1★, outside "
                "their group), precision@10 over all listeners:", "",
                "| songs rated 1★ per listener | " + " | ".join(keys) + " |",
                "|---:|" + "---:|" * len(keys)]
        for c in counts:
            _, res = evaluate(arrays, argparse.Namespace(**{**vars(args), "disliked": c}))
            rows.append(f"| {c} | " + " | ".join(f"{res['methods'][k]['all']:.3f}" for k in keys) + " |")
        table += "\n" + "\n".join(rows)
        how += f" --disliked-sweep {args.disliked_sweep}"
    print(table)
    if args.write_docs:
        write_docs(table, how)
        print(f"\nwritten into {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Fit the tagger's label rule for precision against the teacher, and measure it on held-out packages.

    python scripts/fit_label_thresholds.py --teacher TEACHER_OUT --music MUSIC_DIR \\
        [--probs PROBS.npz] [--target 0.75] [--max-labels 5] [--baseline OLD_CONFIG] [--write]

What a label must be: one of the teacher's **top-5 tags of the song** (the musicnn teacher's 100 outputs
max-merged onto the tagger's 50-tag vocabulary exactly as for training, ``label_with_teacher.
tagger_targets``; ``--teacher-over track``, the default: the mean of the teacher's probabilities over
the song's whole length, since a label speaks of the song; ``--teacher-over excerpts``: over the
excerpts the player analyses only).

Our model's outputs are those of the player: for each track the player's own analysis code
(:meth:`player.analysis.engine.Analyser.prepare`: the centre excerpt plus one more for a song over a
minute, the tagger config's ``analysis`` section, features from its front end) and the tagger's
probabilities per excerpt. They are cached in ``--probs`` (computed when the file is missing).

Fitting, on the **validation** packages only (docs/training.md section 3). The rule
(player/analysis/labels.py): a label is one of the song's ``among_top`` most probable tags (mean over
its excerpts, all tags counted), shown, whose mean reaches the tag's threshold.

1. per tag, the threshold, on the songs where the tag is among the top: of the thresholds whose
   precision estimate ``(right + w * p0) / (labels + w)`` reaches ``--target`` (``w`` =
   ``--prior-weight`` pseudo-labels at ``p0``, the pooled precision of the rank rule alone), the one with
   the largest gain ``right - target * labels``. A tag without one is **hidden** (``shown`` false): it
   never becomes a label. Since the rank rule counts every tag, hiding or raising one tag never lets
   another in, so the tags are fitted independently;
2. ``among_top``: the largest, up to ``--max-labels``, whose leave-one-package-out precision on the
   validation packages (fit on the others, label the held-out one) reaches ``--target``.

Then the rule is measured on the **test** packages (never fitted on): overall label precision (the
share of shown labels that are among the teacher's top-5 of the song), labels per song, recall of the
teacher's top-5, per tag precision and support; and the same for the rule of the config as it was
(``--baseline``, default: the config before ``--write``). With ``--write`` the rule goes into the
tagger's config.json (a ``labels`` object, see player/analysis/labels.py) and a section of its
README.md (between markers). Results go to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import label_with_teacher as L  # noqa: E402

from player.analysis.labels import LabelRule  # noqa: E402

VAL_PACKAGES = ("megaglest-data", "flare-game", "pushover-data", "xmoto-data", "freeciv-data")
TEST_PACKAGES = ("widelands-data", "hedgewars-data", "warmux-data", "fretsonfire-songs-sectoid",
                 "frozen-bubble-data", "lincity-ng-data")
TOP_K = 5
BEGIN = "<!-- labels:begin (written by scripts/fit_label_thresholds.py) -->"
END = "<!-- labels:end -->"


class FitError(Exception):
    """A user mistake (missing folder, unknown package...): one line, exit status 2."""


# ------------------------------------------------------------------------------------ the teacher

def teacher_song_probs(z: dict, track: int, windows: list[tuple[float, float]] | None = None) -> np.ndarray:
    """The teacher's merged 50-tag probabilities of one song: the mean of its 100 outputs over the whole
    track (``windows`` None) or over the given (start, end) windows (each weighted by its patches'
    overlap, the windows equally), then max-merged onto the tagger vocabulary."""
    from scripts import teacher_tables as TT

    sel = z["track"] == track
    starts, probs = z["start"][sel], z["teacher"][sel].astype(np.float64)
    if windows is None:
        mean = probs.mean(axis=0)
    else:
        mean = np.mean([TT.overlap_weights(starts, L.PATCH_SECONDS, a, b) @ probs for a, b in windows], axis=0)
    return L.tagger_targets(mean.astype(np.float32))


def top_k_mask(probs: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """(S, T) -> bool (S, T): each row's ``k`` most probable tags."""
    probs = np.asarray(probs)
    mask = np.zeros(probs.shape, bool)
    idx = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    np.put_along_axis(mask, idx, True, axis=1)
    return mask


def player_windows(duration: float, n_rows: int, tag_seconds: float, max_excerpts: int,
                   centre_seconds: float) -> list[tuple[float, float]]:
    """The (start, end) of the excerpts the player's analysis reads (Analyser.prepare): the centre one
    first, then the others of ``excerpt_offsets(..., with_centre=True)``."""
    from player.analysis.labels import excerpt_offsets

    c0 = max(0.0, (duration - centre_seconds) / 2.0)
    out = [(c0, min(duration, c0 + centre_seconds))]
    offsets = excerpt_offsets(duration, tag_seconds, max_excerpts, with_centre=True)
    if len(offsets) > 1:
        centre_start = (duration - tag_seconds) / 2.0
        out += [(o, min(duration, o + tag_seconds)) for o in offsets if abs(o - centre_start) >= tag_seconds / 2.0]
    return out[:max(1, n_rows)]


# --------------------------------------------------------------------------- our model, as the player

def player_probabilities(paths: list[Path], durations: list[float], models_dir=None, tagger: str | None = None,
                         precision: str = "auto") -> tuple[list[np.ndarray], str, dict]:
    """Per track the tagger's (E, 50) probabilities on the excerpts the player analyses, through the
    player's own code. A track that cannot be analysed gets a (0, 50) array. Returns (rows, the
    analyser's version, the tagger's config)."""
    from tqdm import tqdm

    from player.analysis.engine import AnalysisError, Analyser

    analyser = Analyser.open(tagger_model=tagger, models_dir=models_dir, threads=1).load_models(precision)
    rows = []
    try:
        for i, (path, duration) in enumerate(tqdm(list(zip(paths, durations)), unit="track", desc="tagger",
                                                  dynamic_ncols=True)):
            track = SimpleNamespace(id=i, path=str(path), duration=float(duration), title=path.name)
            try:
                prepared = analyser.prepare(track)
            except AnalysisError as exc:
                print(f"skip {path.name}: {exc}", file=sys.stderr)
                rows.append(np.zeros((0, analyser.tagger.n_classes), np.float32))
                continue
            rows.append(analyser.tagger.predict(prepared.tagger_x, batch_size=4))
    finally:
        analyser.close()
    return rows, analyser.version, analyser.tagger.config


def load_or_compute_probs(cache: Path | None, z: dict, music: Path, models_dir, tagger, precision: str) -> dict:
    """``{"rows": [(E, 50)], "version", "precision"}`` for every track of labels.npz, from ``cache``
    when it holds the same tracks and model version, else computed (and written to ``cache``)."""
    from player.analysis.engine import model_version

    version = model_version(tagger_model=tagger, models_dir=models_dir).split("+")[0]
    paths = [str(p) for p in z["path"]]
    if cache is not None and cache.exists():
        with np.load(cache) as c:
            if [str(p) for p in c["path"]] == paths and str(c["version"]) == version:
                bounds = np.concatenate([[0], np.cumsum(c["n_excerpts"])])
                rows = [c["probs"][bounds[i]:bounds[i + 1]] for i in range(len(paths))]
                return {"rows": rows, "version": version, "precision": str(c["precision"])}
            print(f"{cache}: other tracks or another tagger version; computing again", file=sys.stderr)
    missing = [p for p in paths if not (music / p).exists()]
    if missing:
        raise FitError(f"{len(missing)} labelled tracks are not in {music} (first: {missing[0]})")
    rows, _v, _cfg = player_probabilities([music / p for p in paths], [float(s) for s in z["seconds"]],
                                          models_dir, tagger, precision)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(cache.name + ".part.npz")
        np.savez_compressed(tmp, path=np.array(paths), version=np.array(version), precision=np.array(precision),
                            n_excerpts=np.array([len(r) for r in rows], np.int32),
                            probs=np.concatenate(rows).astype(np.float32))
        os.replace(tmp, cache)
    return {"rows": rows, "version": version, "precision": precision}


# ------------------------------------------------------------------------------------------ fitting

def song_means(rows: list[np.ndarray], n_tags: int) -> np.ndarray:
    """(S, T): per song the mean probability over its excerpts (what decides a label, and what a library
    stores); NaN for a song without excerpts."""
    return np.stack([r.mean(axis=0) if len(r) else np.full(n_tags, np.nan, np.float32) for r in rows])


def fit_tag(scores: np.ndarray, positive: np.ndarray, target: float, floor: float, prior: float,
            prior_weight: float) -> dict:
    """One tag's threshold from its candidate songs' mean probabilities (NaN: not a candidate, i.e. not
    among the song's top tags) and whether each song has the tag among the teacher's top-5.

    A candidate threshold passes the candidate songs scoring at least as much. Its precision is
    estimated as ``(right + w * prior) / (passed + w)`` (``w = prior_weight`` pseudo-labels at the
    pooled precision ``prior``, so that two or three lucky songs do not decide a tag). Eligible: an
    estimate of at least ``target``; of those, the one with the largest expected gain
    ``right - target * passed`` wins (ties: the higher). The threshold lies halfway between the lowest
    passing score and the next lower one (``floor`` when every candidate passes). A tag with no
    candidate is shown at ``floor`` when ``prior`` reaches ``target``. No eligible threshold: ``shown``
    false, threshold 1.0 (never)."""
    ok = np.isfinite(scores)
    s, pos = np.asarray(scores, np.float64)[ok], np.asarray(positive, bool)[ok]
    order = np.argsort(-s, kind="stable")
    s, pos = s[order], pos[order]
    n_passed = np.arange(1, len(s) + 1)
    tp = np.cumsum(pos)
    hidden = {"threshold": 1.0, "shown": False, "val_precision": None, "val_labels": 0, "val_right": 0,
              "candidates": int(len(s))}
    if not len(s):
        return {**hidden, "threshold": floor, "shown": True} if prior >= target else hidden
    last_of_tie = np.r_[s[1:] != s[:-1], True]
    estimate = (tp + prior_weight * prior) / (n_passed + prior_weight)
    eligible = last_of_tie & (s >= floor) & (estimate >= target)
    if not eligible.any():
        return hidden
    i = max(np.flatnonzero(eligible), key=lambda j: (tp[j] - target * n_passed[j], s[j]))
    thr = floor if i == len(s) - 1 else max(floor, (s[i] + s[i + 1]) / 2.0)
    return {"threshold": float(np.floor(thr * 1e4) / 1e4), "shown": True,
            "val_precision": round(float(tp[i] / n_passed[i]), 4), "val_labels": int(n_passed[i]),
            "val_right": int(tp[i]), "candidates": int(len(s))}


def fit_rule(rows: list[np.ndarray], positives: np.ndarray, among_top: int, target: float, floor: float,
             prior_weight: float, version: int = 2) -> tuple[LabelRule, list, float]:
    """The rule fitted on the songs ``rows`` (per-excerpt probabilities) with teacher ``positives``:
    a label is one of the song's ``among_top`` most probable tags (mean over its excerpts) whose mean
    reaches the tag's threshold, for shown tags only. Each tag's threshold is fitted on the songs where
    it is among the top (:func:`fit_tag`), independently of the others: the rank rule counts every tag,
    so raising or hiding one never lets another in. Returns (rule, per tag fit, pooled precision of
    the rank rule alone)."""
    n_tags = positives.shape[1]
    means = song_means(rows, n_tags)
    ok = np.isfinite(means).all(axis=1)
    top = np.zeros(means.shape, bool)
    top[ok] = top_k_mask(means[ok], among_top)
    prior = float((top & positives).sum() / max(1, top.sum()))
    per_tag = []
    for j in range(n_tags):
        fit = fit_tag(np.where(top[:, j], means[:, j], np.nan), positives[:, j], target, floor, prior, prior_weight)
        fit["val_support"] = int(positives[:, j].sum())
        per_tag.append(fit)
    rule = LabelRule(thresholds=np.array([t["threshold"] for t in per_tag], np.float32),
                     shown=np.array([t["shown"] for t in per_tag], bool), max_per_song=None, min_per_excerpt=0,
                     rank="probability", version=version, song_passes="mean", among_top=among_top)
    return rule, per_tag, prior


def cross_validate(rows: list[np.ndarray], positives: np.ndarray, packages: list[str], names: list[str],
                   among_top: int, target: float, floor: float, prior_weight: float) -> dict:
    """Leave one package out: fit on the other packages, label the held-out one; the pooled measures
    estimate what the rule does on packages it was not fitted on (as the test packages are)."""
    labels, pos = [], []
    for p in sorted(set(packages)):
        fit_on = [i for i, q in enumerate(packages) if q != p]
        held = [i for i, q in enumerate(packages) if q == p]
        if not fit_on:
            continue
        rule, _per, _prior = fit_rule([rows[i] for i in fit_on], positives[fit_on], among_top, target, floor,
                                      prior_weight)
        labels += apply_rule(rule, [rows[i] for i in held], names)
        pos.append(positives[held])
    m = measure(labels, np.concatenate(pos), names)
    return {k: v for k, v in m.items() if k != "per_tag"}


# ---------------------------------------------------------------------------------------- measuring

def apply_rule(rule: LabelRule, rows: list[np.ndarray], names: list[str], from_mean: bool = False) -> list[dict]:
    """Each song's labels ``{name: (count, probability)}`` by the player's rule, from the per-excerpt
    probabilities or (``from_mean``) from their mean as a relabelled library has them."""
    out = []
    for r in rows:
        if not len(r):
            out.append({})
        elif from_mean:
            out.append(rule.from_mean(r.mean(axis=0), len(r), names))
        else:
            out.append(rule.count(r, names))
    return out


def measure(labels: list[dict], positives: np.ndarray, names: list[str]) -> dict:
    """Label precision (shown labels among the teacher's top-k of the song), labels per song, recall of
    the teacher's top-k, per tag precision / labels / support, and the TF mass (sum of counts)."""
    index = {n: j for j, n in enumerate(names)}
    shown = np.zeros(positives.shape, bool)
    tf = 0
    for s, labs in enumerate(labels):
        for name, (count, _p) in labs.items():
            shown[s, index[name]] = True
            tf += int(count)
    right = shown & positives
    n_lab = int(shown.sum())
    per_tag = {}
    for j, n in enumerate(names):
        k = int(shown[:, j].sum())
        per_tag[n] = {"labels": k, "right": int(right[:, j].sum()), "support": int(positives[:, j].sum()),
                      "precision": round(float(right[:, j].sum() / k), 4) if k else None}
    return {"songs": int(len(labels)), "labels": n_lab,
            "precision": round(float(right.sum() / n_lab), 4) if n_lab else None,
            "labels_per_song": round(n_lab / max(1, len(labels)), 3),
            "recall": round(float(right.sum() / max(1, positives.sum())), 4),
            "songs_without_labels": int((shown.sum(axis=1) == 0).sum()),
            "tf_per_song": round(tf / max(1, len(labels)), 3), "per_tag": per_tag}


def agreement(a: list[dict], b: list[dict]) -> dict:
    """How the labels estimated from the mean (``b``) compare with those counted per excerpt (``a``)."""
    same_set = sum(set(x) == set(y) for x, y in zip(a, b))
    pairs = sum(len(x) for x in a)
    kept = sum(len(set(x) & set(y)) for x, y in zip(a, b))
    same_count = sum(x[n][0] == y[n][0] for x, y in zip(a, b) for n in set(x) & set(y))
    return {"songs_same_labels": same_set, "songs": len(a), "labels_kept": kept, "labels_counted": pairs,
            "labels_added": sum(len(set(y) - set(x)) for x, y in zip(a, b)), "same_count": same_count}


# ---------------------------------------------------------------------------------------- reporting

def _p(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def markdown(r: dict) -> str:
    """The model card's section from the results."""
    f, t = r["fit"], r["test"]
    lines = [
        "How the player turns tag probabilities into the labels it shows and counts (the TF of the "
        "recommender's profile): `player/analysis/labels.py`, constants in `config.json` → `labels`. "
        f"A tag is a label of a song when it is among the song's **{f['among_top']} most probable tags** "
        "(mean over the analysed excerpts, all 50 tags counted), it is **shown**, and its mean probability "
        "reaches its **threshold**; its count is the number of excerpts in which it reaches the threshold. "
        "Hidden tags still count in the similarity vector (all 50 probabilities).",
        "",
        f"Fitted on the **validation** packages ({r['val_tracks']} tracks of {', '.join(r['val_packages'])}) "
        f"against the teacher: a label is right when the tag is among the teacher's top-5 of the song "
        f"({r['teacher_over_text']}; the teacher's 100 outputs max-merged onto the 50 tags as for training). "
        f"Per tag, among the thresholds whose precision estimate "
        f"(right + {f['prior_weight']:g} × {f['prior']:.3f}) / (labels + {f['prior_weight']:g}) reaches "
        f"{f['target']:.2f} (the pseudo-labels are at the pooled precision of the rank rule alone), the one "
        f"with the largest gain right − {f['target']:.2f} × labels; tags without one are hidden. The rank "
        f"limit is the largest (at most "
        f"{f['max_labels']}) whose leave-one-package-out precision on the validation packages reaches "
        f"{f['target']:.2f}:",
        "",
        "| among the top | leave-one-package-out precision | labels per song | recall |",
        "|---|---|---|---|",
    ]
    for k, cv in r["cross_validation"].items():
        mark = " ← chosen" if int(k) == f["among_top"] else ""
        lines.append(f"| {k}{mark} | {_p(cv['precision'])} | {cv['labels_per_song']:.2f} | {_p(cv['recall'])} |")
    lines += [
        "",
        f"Measured on the **test** packages ({r['test_tracks']} tracks of {', '.join(r['test_packages'])}), "
        "never fitted on; the player's own analysis per excerpt (centre excerpt plus one more for songs over "
        "a minute):",
        "",
        f"| rule | label precision ({r['teacher_over']}) | label precision ({r['other_over']}) | labels per song "
        "| recall of the teacher's top-5 | TF per song | songs without a label |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, title in (("baseline", "before: " + r["baseline_text"]), ("new", "after: this rule, as analysed"),
                       ("new_from_mean", "after: this rule, relabelled from the stored mean")):
        m, o = t[key], t[key + "_other"]
        lines.append(f"| {title} | **{_p(m['precision'])}** | {_p(o['precision'])} | {m['labels_per_song']:.2f} | "
                     f"{_p(m['recall'])} | {m['tf_per_song']:.2f} | {m['songs_without_labels']} |")
    a = t["relabel_agreement"]
    lines += [
        "",
        f"Relabelling from the stored mean (`player/analysis/relabel.py`) gives the same labels on "
        f"{a['songs_same_labels']} of {a['songs']} songs and the same count for {a['same_count']} of "
        f"{a['labels_kept']} labels (a label's count is estimated as `n_excerpts`).",
        "",
        "| tag | threshold | shown | validation precision (labels) | test precision (labels) | test support |",
        "|---|---|---|---|---|---|",
    ]
    for n, row in r["per_tag"].items():
        vp = f"{_p(row['val_precision'])} ({row['val_labels']})" if row["shown"] else \
            f"– ({row['val_candidates']} candidates)"
        tp = f"{_p(row['test_precision'])} ({row['test_labels']})"
        thr = f"{row['threshold']:.4f}" if row["shown"] else "–"
        lines.append(f"| {n} | {thr} | {'yes' if row['shown'] else 'no'} | {vp} | {tp} | {row['test_support']} |")
    lines += ["", "```sh", r["command"], "```"]
    return "\n".join(lines) + "\n"


def replace_section(card: str, text: str, heading: str = "## Labels: what the player shows") -> str:
    block = BEGIN + "\n" + text.strip() + "\n" + END
    if BEGIN in card and END in card:
        a, b = card.index(BEGIN), card.index(END) + len(END)
        return card[:a] + block + card[b:]
    return card.rstrip("\n") + f"\n\n{heading}\n\n" + block + "\n"


# --------------------------------------------------------------------------------------------- main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--teacher", type=Path, required=True, metavar="TEACHER_OUT", help="label_with_teacher.py's OUT")
    ap.add_argument("--music", type=Path, required=True, metavar="MUSIC_DIR", help="the MUSIC_DIR it labelled")
    ap.add_argument("--models-dir", type=Path, default=None, help="the models root (default: models/)")
    ap.add_argument("--tagger", default=None, help="tagger model name (default: the registry's)")
    ap.add_argument("--probs", type=Path, default=None, help="cache of the tagger's per-excerpt probabilities (.npz)")
    ap.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16"],
                    help="inference precision, as the player's analysis (default auto)")
    ap.add_argument("--target", type=float, default=0.75, help="precision each shown tag must reach (default 0.75)")
    ap.add_argument("--max-labels", type=int, default=5, help="the largest rank limit tried (default 5)")
    ap.add_argument("--prior-weight", type=float, default=5.0, help="pseudo-labels of the precision estimate")
    ap.add_argument("--floor", type=float, default=0.01, help="the lowest threshold (default 0.01)")
    ap.add_argument("--teacher-over", choices=["track", "excerpts"], default="track",
                    help="the teacher's top-5 over the whole track (default) or the analysed excerpts")
    ap.add_argument("--baseline", type=Path, default=None,
                    help="a tagger config.json whose label rule is the 'before' (default: the config as it is)")
    ap.add_argument("--write", action="store_true", help="write the rule into config.json and the README section")
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)
    try:
        return run(args, argv)
    except FitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run(args, argv) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    from player.analysis import registry as R
    from player.analysis.labels import LabelRuleError

    if not 0 < args.target < 1:
        raise FitError("--target must lie between 0 and 1")
    if args.max_labels < 1:
        raise FitError("--max-labels must be at least 1")
    f = args.teacher / "labels.npz"
    if not f.exists():
        raise FitError(f"{f} missing: run scripts/label_with_teacher.py first")
    if not args.music.is_dir():
        raise FitError(f"not a folder: {args.music}")
    with np.load(f) as zz:
        z = {k: zz[k] for k in zz.files}
    try:
        name = args.tagger or R.default_name("tags", args.models_dir)
        folder = R.models_root(args.models_dir) / name
        cfg = R.read_config(folder)
        names = R.read_labels(folder, int(cfg["n_classes"]))
        base_cfg = cfg if args.baseline is None else json.loads(args.baseline.read_text(encoding="utf-8"))
        baseline = LabelRule.from_config(base_cfg, len(names))
    except (R.ModelError, LabelRuleError, OSError, json.JSONDecodeError) as exc:
        raise FitError(str(exc).splitlines()[0]) from None
    packages = [str(p) for p in z["package"]]
    val = [i for i, p in enumerate(packages) if p in VAL_PACKAGES]
    test = [i for i, p in enumerate(packages) if p in TEST_PACKAGES]
    if not val or not test:
        raise FitError(f"{f} has {len(val)} validation and {len(test)} test tracks: both are needed")
    data = load_or_compute_probs(args.probs, z, args.music, args.models_dir, name, args.precision)
    rows = data["rows"]
    analysis = cfg.get("analysis", {})
    genre = R.read_config(R.models_root(args.models_dir) / R.default_name("genre", args.models_dir))
    tag_s, centre_s = float(cfg["frontend"]["excerpt_seconds"]), float(genre["frontend"]["excerpt_seconds"])
    teacher = {
        "track": np.stack([teacher_song_probs(z, i) for i in range(len(rows))]),
        "excerpts": np.stack([teacher_song_probs(z, i, player_windows(
            float(z["seconds"][i]), len(rows[i]), tag_s, int(analysis.get("max_excerpts", 3)), max(tag_s, centre_s)))
            for i in range(len(rows))]),
    }
    other = "excerpts" if args.teacher_over == "track" else "track"
    pos, pos_other = top_k_mask(teacher[args.teacher_over]), top_k_mask(teacher[other])
    vrows, trows = [rows[i] for i in val], [rows[i] for i in test]
    vpk = [packages[i] for i in val]

    cv = {}
    for k in range(1, args.max_labels + 1):
        cv[str(k)] = cross_validate(vrows, pos[val], vpk, names, k, args.target, args.floor, args.prior_weight)
    good = [int(k) for k, m in cv.items() if m["precision"] is not None and m["precision"] >= args.target]
    among_top = max(good) if good else 1
    rule, per_fit, prior = fit_rule(vrows, pos[val], among_top, args.target, args.floor, args.prior_weight)
    same = np.allclose(rule.thresholds, baseline.thresholds) and np.array_equal(rule.shown, baseline.shown) \
        and baseline.among_top == among_top and baseline.song_passes == "mean"
    version = baseline.version if same else max(2, baseline.version + 1)
    rule = LabelRule(rule.thresholds, rule.shown, None, 0, "probability", version, "mean", among_top)

    new, old = apply_rule(rule, trows, names), apply_rule(baseline, trows, names)
    new_mean = apply_rule(rule, trows, names, from_mean=True)
    test_m = {"relabel_agreement": agreement(new, new_mean)}
    for key, labels in (("new", new), ("new_from_mean", new_mean), ("baseline", old)):
        test_m[key] = measure(labels, pos[test], names)
        test_m[key + "_other"] = measure(labels, pos_other[test], names)
    val_m = {"new": measure(apply_rule(rule, vrows, names), pos[val], names),
             "baseline": measure(apply_rule(baseline, vrows, names), pos[val], names)}
    per_tag = {}
    for j, n in enumerate(names):
        pt = test_m["new"]["per_tag"][n]
        per_tag[n] = {"threshold": float(rule.thresholds[j]), "shown": bool(rule.shown[j]),
                      "val_precision": per_fit[j]["val_precision"], "val_labels": per_fit[j]["val_labels"],
                      "val_candidates": per_fit[j]["candidates"], "val_support": per_fit[j]["val_support"],
                      "test_precision": pt["precision"], "test_labels": pt["labels"], "test_support": pt["support"]}
    shown_cmd = ["python scripts/fit_label_thresholds.py --teacher TEACHER_OUT --music MUSIC_DIR",
                 f"--target {args.target:g} --max-labels {args.max_labels} --prior-weight {args.prior_weight:g}",
                 f"--teacher-over {args.teacher_over}"]
    if args.baseline is not None:
        shown_cmd.append("--baseline OLD_CONFIG")
    result = {
        "tagger": data["version"], "inference_precision": data["precision"],
        "teacher_over": args.teacher_over, "other_over": other,
        "teacher_over_text": "its mean over the whole track" if args.teacher_over == "track" else
                             "its mean over the excerpts the player analyses",
        "val_packages": sorted(set(vpk)), "val_tracks": len(val),
        "test_packages": sorted({packages[i] for i in test}), "test_tracks": len(test),
        "fit": {"target": args.target, "max_labels": args.max_labels, "prior_weight": args.prior_weight,
                "floor": args.floor, "prior": round(prior, 4), "among_top": among_top,
                "shown_tags": int(rule.shown.sum()), "version": version},
        "cross_validation": cv,
        "validation": {k: {q: v for q, v in m.items() if q != "per_tag"} for k, m in val_m.items()},
        "test": {k: ({q: v for q, v in m.items() if q != "per_tag"} if k != "relabel_agreement" else m)
                 for k, m in test_m.items()},
        "baseline_text": ("the older rule: thresholds of config.json, the 3 most probable tags of every excerpt, "
                          "no cap" if baseline.version == 1 else f"label rule version {baseline.version}"),
        "per_tag": per_tag, "command": " \\\n    ".join(shown_cmd) + (" --write" if args.write else ""),
    }
    text = markdown(result)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if args.write:
        write_rule(folder, rule, result, text)
        print(f"wrote {folder / R.CONFIG_FILE} (labels) and {folder / R.CARD_FILE}", file=sys.stderr)
    return 0


def write_rule(folder: Path, rule: LabelRule, result: dict, card_text: str) -> None:
    """The rule into the tagger's config.json (``labels``; the older keys stay as they are) and the
    section of its README.md."""
    from player.analysis import registry as R

    path = folder / R.CONFIG_FILE
    cfg = json.loads(path.read_text(encoding="utf-8"))
    f = result["fit"]
    cfg["labels"] = {
        "version": rule.version,
        "song_passes": rule.song_passes,
        "among_top": rule.among_top,
        "min_per_excerpt": rule.min_per_excerpt,
        "rank": rule.rank,
        "thresholds": [round(float(t), 4) for t in rule.thresholds],
        "shown": [bool(s) for s in rule.shown],
        "rule": (f"a label is one of the song's {rule.among_top} most probable tags (mean over its excerpts), "
                 "shown, whose mean reaches its threshold; its count is the number of excerpts in which it "
                 "reaches the threshold (player/analysis/labels.py)"),
        "fitted": (f"scripts/fit_label_thresholds.py on the {result['val_tracks']} validation-package tracks: "
                   f"precision >= {f['target']:g} against the teacher's top-5 tags ({result['teacher_over_text']}), "
                   f"estimate (right + {f['prior_weight']:g} x {f['prior']}) / (labels + {f['prior_weight']:g}); "
                   f"rank limit by leave-one-package-out precision (README.md, Labels)"),
    }
    text = json.dumps(cfg, indent=2) + "\n"
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    R.read_config(folder)
    LabelRule.from_config(cfg, rule.n_tags)
    card = folder / R.CARD_FILE
    old = card.read_text(encoding="utf-8") if card.exists() else f"# {folder.name}\n"
    card.write_text(replace_section(old, card_text), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Measure the distilled models against their teacher and against baselines, on held-out packages.

    python scripts/evaluate_distillation.py --teacher /work/cache/teacher --music /work/music \\
        [--models tagger cnn_lstm cnn cnn_bilstm] [--split test] [--write-cards]

Everything runs the way the player runs it: models loaded through ``player.analysis.registry``,
features computed from the audio files by ``player/analysis/features.py`` with each model's
``config.json``; the genre models see each track's centre 30 s (``Model.load_features``), a track's
genre is the mean of its slices' probabilities and its embedding the mean of their 32-d embeddings.

Measured (on the tracks of the chosen split's packages, which no model trained on):

* tagger vs teacher: per-tag ROC-AUC over excerpts (the teacher_tables.py excerpts: the player's
  spread plus the centre), positives = the teacher's merged probability >= 0.5 **or** among the
  excerpt's top-3 tags; the mean over tags that have both classes (goal >= 0.85). Also the variants with
  only one of the two rules.
* genre models vs teacher: agreement of the top genre with the teacher's calibrated top genre
  (teacher_tables.py) on the centre excerpt; seed 000's precision@5 / @10 per genre of cosine
  neighbours in embedding space (genre = the teacher's top genre).
* embeddings: "same package" precision@5 / @10 among cosine neighbours (micro mean over anchor tracks,
  and the mean over packages) for each student, for an MFCC-statistics baseline (mean and standard
  deviation of 20 MFCCs over the same centre excerpt; raw and z-scored over the evaluated tracks) and
  for the teacher's own penultimate layers (MSD, MTT, both concatenated) and tag probabilities, over the
  same centre excerpt.

Writes ``OUT`` (default /work/cache/distillation_eval.json) and, with --write-cards, each model's
``distillation.json`` and a "Distillation" section of its README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts import label_with_teacher as L  # noqa: E402
from scripts import teacher_tables as TT  # noqa: E402

BEGIN = "<!-- distillation:begin (written by scripts/evaluate_distillation.py) -->"
END = "<!-- distillation:end -->"
N_MFCC = 20


# ------------------------------------------------------------------------------------------- metrics

def cosine_neighbours(emb: np.ndarray, k: int) -> np.ndarray:
    z = emb / (np.linalg.norm(emb, axis=1, keepdims=True) + 1e-12)
    sim = z @ z.T
    np.fill_diagonal(sim, -np.inf)
    return np.argsort(-sim, axis=1, kind="stable")[:, :min(k, len(emb) - 1)]


def precision_at(emb: np.ndarray, groups, k: int) -> dict:
    """Share of each anchor's k nearest other tracks in its group: micro mean, mean per group, per group."""
    g = np.asarray(groups)
    hit = (g[cosine_neighbours(emb, k)] == g[:, None]).mean(axis=1)
    per = {str(c): round(float(hit[g == c].mean()), 4) for c in sorted(set(g.tolist()))}
    return {"micro": round(float(hit.mean()), 4), "mean_per_group": round(float(np.mean(list(per.values()))), 4),
            "per_group": per}


def chance_precision(groups, k: int) -> float:
    """Expected micro precision@k of random neighbours."""
    g = np.asarray(groups)
    n = len(g)
    _, counts = np.unique(g, return_counts=True)
    return float(sum(c * (c - 1) for c in counts) / (n * (n - 1)))


def tag_positives(y: np.ndarray, threshold: float | None = 0.5, top_k: int | None = 3) -> np.ndarray:
    pos = np.zeros(y.shape, bool)
    if threshold is not None:
        pos |= y >= threshold
    if top_k:
        idx = np.argsort(-y, axis=1)[:, :top_k]
        np.put_along_axis(pos, idx, True, axis=1)
    return pos


def roc_auc_per_tag(pos: np.ndarray, scores: np.ndarray, names: list[str]) -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score

    per = {}
    for j, n in enumerate(names):
        t = pos[:, j]
        if t.all() or not t.any():
            per[n] = {"positives": int(t.sum()), "roc_auc": None, "pr_auc": None}
        else:
            per[n] = {"positives": int(t.sum()), "roc_auc": round(float(roc_auc_score(t, scores[:, j])), 4),
                      "pr_auc": round(float(average_precision_score(t, scores[:, j])), 4)}
    vals = [v["roc_auc"] for v in per.values() if v["roc_auc"] is not None]
    return {"mean_roc_auc": round(float(np.mean(vals)), 4) if vals else None, "tags_evaluated": len(vals),
            "per_tag": per}


# -------------------------------------------------------------------------------------------- data

def mfcc_stats(y22: np.ndarray) -> np.ndarray:
    import librosa

    m = librosa.feature.mfcc(y=y22, sr=22050, n_mfcc=N_MFCC)
    return np.concatenate([m.mean(axis=1), m.std(axis=1)]).astype(np.float32)


def window_mean(z: dict, key: str, track: int, a: float, b: float) -> np.ndarray:
    sel = z["track"] == track
    w = TT.overlap_weights(z["start"][sel], L.PATCH_SECONDS, a, b)
    return w @ z[key][sel].astype(np.float32)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--teacher", type=Path, required=True, help="label_with_teacher.py's OUT")
    ap.add_argument("--music", type=Path, required=True, help="the MUSIC_DIR it labelled")
    ap.add_argument("--models", nargs="+", default=None,
                    help="model folders/names (default: tagger cnn_lstm cnn cnn_bilstm, those installed)")
    ap.add_argument("--models-dir", type=Path, default=None, help="the models root (default: models/)")
    ap.add_argument("--split", default="test", choices=["test", "val", "val+test", "train"])
    ap.add_argument("--excerpts", type=int, default=6, help="tagger excerpts per track, as teacher_tables.py")
    ap.add_argument("--temperature", type=float, default=0.5, help="as teacher_tables.py (only the prior matters)")
    ap.add_argument("--out", type=Path, default=Path("/work/cache/distillation_eval.json"))
    ap.add_argument("--write-cards", action="store_true", help="write distillation.json + a README section "
                                                                "into each model folder")
    ap.add_argument("--fit-thresholds", type=float, metavar="RATE", default=None,
                    help="tagger: set each tag's decision threshold in config.json so that it passes on the "
                         "RATE most probable share of the validation packages' excerpts, capped at 0.5 and "
                         "floored at --threshold-floor (e.g. 0.1); done before the evaluation")
    ap.add_argument("--threshold-floor", type=float, default=0.01)
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    f = args.teacher / "labels.npz"
    if not f.exists():
        print(f"error: {f} missing: run scripts/label_with_teacher.py first", file=sys.stderr)
        return 2
    with np.load(f) as zz:
        z = {k: zz[k] for k in zz.files}
    splits = args.split.split("+")
    tracks = [i for i in range(len(z["path"])) if z["split"][i] in splits]
    if len(tracks) < 3:
        print(f"error: only {len(tracks)} tracks in the {args.split} split", file=sys.stderr)
        return 2
    packages = [str(z["package"][i]) for i in tracks]

    # the calibration prior: exactly teacher_tables.py's (mean genre score over training excerpts)
    train_scores = []
    for i in range(len(z["path"])):
        if z["split"][i] != "train":
            continue
        for o in TT.track_offsets(float(z["seconds"][i]), args.excerpts):
            train_scores.append(L.genre_scores(TT.excerpt_teacher(z, i, o, TT.GENRE_SECONDS, float(z["seconds"][i]))))
    prior = TT.genre_prior(np.stack(train_scores))

    from tqdm import tqdm

    from player.analysis import features as F
    from player.analysis import registry as R

    t0 = time.perf_counter()
    import keras  # noqa: F401  (import cost reported separately from model loading)

    import_s = time.perf_counter() - t0
    names = args.models or [n for n in ("tagger", "cnn_lstm", "cnn", "cnn_bilstm")
                            if (R.models_root(args.models_dir) / n / R.CONFIG_FILE).exists()]
    models, load_s = {}, {}
    for n in names:
        t = time.perf_counter()
        models[n] = R.load(n, args.models_dir)
        load_s[n] = round(time.perf_counter() - t, 2)
    genre_models = [n for n, m in models.items() if m.task == "genre"]
    taggers = [n for n, m in models.items() if m.task == "tags"]
    if args.fit_thresholds is not None:
        val = [i for i in range(len(z["path"])) if z["split"][i] == "val"]
        for n in taggers:
            th = fit_thresholds(models[n], z, val, args.music, args.excerpts, args.fit_thresholds,
                                args.threshold_floor)
            models[n] = R.load(n, args.models_dir)  # re-read the config with its thresholds
            print(f"{n}: thresholds fitted on {len(val)} validation tracks: "
                  f"{dict(zip(models[n].labels, th))}", file=sys.stderr)

    # ---- per track: the centre excerpt (genre, baselines) and the tagger excerpts
    centre_teacher, centre_pen_msd, centre_pen_mtt, mfcc = [], [], [], []
    g_probs = {n: [] for n in genre_models}
    g_emb = {n: [] for n in genre_models}
    t_rows = {n: [] for n in taggers}
    t_emb = {n: [] for n in taggers}
    t_centre = {n: [] for n in taggers}
    t_teacher = []
    feat_s = {n: 0.0 for n in models}
    infer_s = {n: 0.0 for n in models}
    for i in tqdm(tracks, unit="track", desc="evaluate", dynamic_ncols=True):
        path = args.music / str(z["path"][i])
        dur = float(z["seconds"][i])
        c = max(0.0, (dur - TT.GENRE_SECONDS) / 2.0)
        centre = F.read_mono(path, TT.GENRE_SECONDS, "centre")
        y22 = F.resample(centre.audio, centre.samplerate, 22050)
        mfcc.append(mfcc_stats(y22))
        centre_teacher.append(window_mean(z, "teacher", i, c, min(c + TT.GENRE_SECONDS, dur)))
        centre_pen_msd.append(window_mean(z, "msd_penultimate", i, c, min(c + TT.GENRE_SECONDS, dur)))
        centre_pen_mtt.append(window_mean(z, "mtt_penultimate", i, c, min(c + TT.GENRE_SECONDS, dur)))
        for n in genre_models:
            m = models[n]
            t = time.perf_counter()
            x = m.load_features(path)
            feat_s[n] += time.perf_counter() - t
            t = time.perf_counter()
            p, e = m.predict_with_embedding(x)
            infer_s[n] += time.perf_counter() - t
            g_probs[n].append(p.mean(axis=0))
            g_emb[n].append(e.mean(axis=0))
        starts = TT.track_offsets(dur, args.excerpts)
        ci = int(np.argmin([abs(o - c) for o in starts]))  # the centre excerpt
        offs = [o + (TT.GENRE_SECONDS - TT.TAGGER_SECONDS) / 2 for o in starts]
        for o in offs:
            t_teacher.append(L.tagger_targets(TT.excerpt_teacher(z, i, o, TT.TAGGER_SECONDS, dur)))
        for n in taggers:
            m = models[n]
            t = time.perf_counter()
            x = np.concatenate([m.load_features(path, offset=o) for o in offs])
            feat_s[n] += time.perf_counter() - t
            t = time.perf_counter()
            p, e = m.predict_with_embedding(x)
            infer_s[n] += time.perf_counter() - t
            t_rows[n].append(p)
            t_emb[n].append(e[ci])
            t_centre[n].append(p[ci])
    centre_teacher = np.stack(centre_teacher)
    teacher_top = (L.genre_scores(centre_teacher) / prior).argmax(axis=1)
    teacher_genre = [L.GENRES[k] for k in teacher_top]
    t_teacher = np.stack(t_teacher)

    embeddings = {
        "MFCC statistics (raw)": np.stack(mfcc),
        "MFCC statistics (z-scored)": (lambda a: (a - a.mean(0)) / (a.std(0) + 1e-8))(np.stack(mfcc)),
        "teacher penultimate MSD (200)": np.stack(centre_pen_msd),
        "teacher penultimate MTT (200)": np.stack(centre_pen_mtt),
        "teacher penultimate MSD+MTT (400)": np.concatenate([np.stack(centre_pen_msd), np.stack(centre_pen_mtt)], 1),
        "teacher tag probabilities (100)": centre_teacher,
    }
    for n in genre_models:
        embeddings[f"{n} embedding (32)"] = np.stack(g_emb[n])
    for n in taggers:
        embeddings[f"{n} embedding (64)"] = np.stack(t_emb[n])
        embeddings[f"{n} tag probabilities (50)"] = np.stack(t_centre[n])
    package_p = {name: {str(k): precision_at(e, packages, k) for k in (5, 10)} for name, e in embeddings.items()}
    chance = {str(k): round(chance_precision(packages, k), 4) for k in (5, 10)}
    baseline_names = [k for k in embeddings if k.startswith(("MFCC", "teacher"))]
    best_baseline = max(baseline_names, key=lambda k: package_p[k]["10"]["micro"])

    result = {
        "split": args.split, "tracks": len(tracks),
        "packages": {p: packages.count(p) for p in sorted(set(packages))},
        "genre_prior": dict(zip(L.GENRES, [round(float(v), 5) for v in prior])),
        "teacher_top_genre_counts": {g: teacher_genre.count(g) for g in L.GENRES},
        "same_package_precision": package_p, "same_package_chance": chance,
        "best_baseline_at_10": best_baseline,
        "timing": {"keras_import_s": round(import_s, 2), "load_s": load_s,
                   "features_s_per_track": {n: round(v / len(tracks), 3) for n, v in feat_s.items()},
                   "inference_s_per_track": {n: round(v / len(tracks), 3) for n, v in infer_s.items()}},
        "models": {},
    }
    base_genre_p = {name: {str(k): precision_at(embeddings[name], teacher_genre, k) for k in (5, 10)}
                    for name in baseline_names}
    result["baseline_teacher_genre_precision"] = base_genre_p
    for n in genre_models:
        probs = np.stack(g_probs[n])
        labels = models[n].labels
        if labels != L.GENRES:
            print(f"warning: {n}'s labels {labels} are not the teacher genres {L.GENRES}", file=sys.stderr)
        pred = [labels[k] for k in probs.argmax(axis=1)]
        agree = float(np.mean([a == b for a, b in zip(pred, teacher_genre)]))
        per_class = {g: {"tracks": teacher_genre.count(g),
                         "agreement": (round(float(np.mean([p == g for p, t in zip(pred, teacher_genre) if t == g])), 4)
                                       if g in teacher_genre else None)} for g in L.GENRES}
        result["models"][n] = {
            "version": models[n].version_tag, "task": "genre",
            "agreement_with_teacher_top_genre": round(agree, 4),
            "majority_baseline": round(max(teacher_genre.count(g) for g in L.GENRES) / len(tracks), 4),
            "per_genre": per_class,
            "predicted_counts": {g: pred.count(g) for g in labels},
            "genre_precision_at": {str(k): precision_at(np.stack(g_emb[n]), teacher_genre, k) for k in (5, 10)},
            "same_package_precision_at": package_p[f"{n} embedding (32)"],
        }
    for n in taggers:
        rows = np.concatenate(t_rows[n])
        labels = models[n].labels
        if labels != list(L.TAGGER_VOCABULARY):
            print(f"error: {n}'s labels are not the distillation vocabulary", file=sys.stderr)
            return 2
        result["models"][n] = {
            "version": models[n].version_tag, "task": "tags", "excerpts": int(len(rows)),
            "roc_auc_vs_teacher": roc_auc_per_tag(tag_positives(t_teacher, 0.5, 3), rows, labels),
            "ranking_agreement_top_decile": roc_auc_per_tag(
                t_teacher >= np.quantile(t_teacher, 0.9, axis=0, keepdims=True), rows, labels),
            "roc_auc_vs_teacher_top3_only": {k: v for k, v in roc_auc_per_tag(
                tag_positives(t_teacher, None, 3), rows, labels).items() if k != "per_tag"},
            "roc_auc_vs_teacher_threshold_only": {k: v for k, v in roc_auc_per_tag(
                tag_positives(t_teacher, 0.5, None), rows, labels).items() if k != "per_tag"},
            "same_package_precision_at": package_p[f"{n} embedding (64)"],
            "same_package_precision_at_tag_probabilities": package_p[f"{n} tag probabilities (50)"],
            "thresholds": dict(zip(labels, [round(float(t), 4) for t in models[n].thresholds])),
            "thresholds_rule": models[n].config.get("thresholds_rule", "0.5 for every tag"),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    text = {n: markdown(n, result) for n in result["models"]}
    for n, t in text.items():
        print(t)
    if args.write_cards:
        for n in result["models"]:
            folder = models[n].folder
            (folder / "distillation.json").write_text(json.dumps(
                {k: v for k, v in result.items() if k != "models"} | {"model": result["models"][n]}, indent=1) + "\n")
            card_path = folder / R.CARD_FILE
            card = card_path.read_text(encoding="utf-8") if card_path.exists() else f"# {n}\n"
            card_path.write_text(replace_section(card, text[n]), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def fit_thresholds(model, z: dict, tracks: list[int], music: Path, excerpts: int, rate: float,
                   floor: float) -> list[float]:
    """Per tag: the (1 - rate) quantile of the model's probabilities on the tracks' excerpts, clipped to
    [floor, 0.5]; written into the model's config.json as ``thresholds`` (with the rule)."""
    from tqdm import tqdm

    from player.analysis import registry as R

    if not 0 < rate < 1:
        raise SystemExit("--fit-thresholds RATE must be between 0 and 1")
    if not tracks:
        raise SystemExit("no validation tracks to fit thresholds on")
    rows = []
    for i in tqdm(tracks, unit="track", desc="thresholds", dynamic_ncols=True):
        dur = float(z["seconds"][i])
        offs = [o + (TT.GENRE_SECONDS - TT.TAGGER_SECONDS) / 2 for o in TT.track_offsets(dur, excerpts)]
        x = np.concatenate([model.load_features(music / str(z["path"][i]), offset=o) for o in offs])
        rows.append(model.predict(x))
    probs = np.concatenate(rows)
    th = np.clip(np.quantile(probs, 1.0 - rate, axis=0), floor, 0.5)
    th = [round(float(t), 4) for t in th]
    path = model.folder / R.CONFIG_FILE
    cfg = json.loads(path.read_text(encoding="utf-8"))
    cfg["thresholds"] = th
    cfg["thresholds_rule"] = (f"per tag: the {1 - rate:.2f} quantile of this model's probabilities on "
                              f"{len(probs)} excerpts of the {len(tracks)} validation-package tracks, clipped to "
                              f"[{floor}, 0.5] (scripts/evaluate_distillation.py --fit-thresholds {rate})")
    path.write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    R.read_config(model.folder)
    return th


# ------------------------------------------------------------------------------------------ reporting

def replace_section(card: str, text: str) -> str:
    block = BEGIN + "\n" + text.strip() + "\n" + END
    if BEGIN in card and END in card:
        return card[:card.index(BEGIN)] + block + card[card.index(END) + len(END):]
    return card.rstrip() + "\n\n## Distillation: quality against the teacher and baselines\n\n" + block + "\n"


def _embedding_table(result: dict, highlight: list[str]) -> list[str]:
    pp = result["same_package_precision"]
    lines = ["| embedding (of the centre 30 s) | same-package P@5 | P@10 | P@10 mean per package |",
             "|---|---|---|---|"]
    for name, v in pp.items():
        bold = name in highlight
        f = (lambda x: f"**{x:.3f}**" if bold else f"{x:.3f}")
        lines.append(f"| {name} | {f(v['5']['micro'])} | {f(v['10']['micro'])} | {f(v['10']['mean_per_group'])} |")
    ch = result["same_package_chance"]
    lines.append(f"| random neighbours (expected) | {ch['5']:.3f} | {ch['10']:.3f} | |")
    return lines


def markdown(n: str, result: dict) -> str:
    m = result["models"][n]
    pk = ", ".join(f"{p} ({c})" for p, c in result["packages"].items())
    lines = [f"Measured by `scripts/evaluate_distillation.py` on the **{result['split']}** packages, which no "
             f"model trained on: {result['tracks']} tracks of {pk}. Model `{m['version']}`.", ""]
    if m["task"] == "tags":
        r = m["roc_auc_vs_teacher"]
        lines += [f"**Tagger vs teacher**: mean ROC-AUC over {r['tags_evaluated']} tags **{r['mean_roc_auc']:.3f}** "
                  f"(goal ≥ 0.85) on {m['excerpts']} excerpts; positives = teacher probability ≥ 0.5 or among the "
                  f"excerpt's top-3 tags. Top-3 only: {m['roc_auc_vs_teacher_top3_only']['mean_roc_auc']}"
                  f" ({m['roc_auc_vs_teacher_top3_only']['tags_evaluated']} tags); ≥ 0.5 only: "
                  f"{m['roc_auc_vs_teacher_threshold_only']['mean_roc_auc']} "
                  f"({m['roc_auc_vs_teacher_threshold_only']['tags_evaluated']} tags).", "",
                  f"Ranking agreement for **every** tag (positives: the excerpts in the top 10 % of the teacher's "
                  f"probability for that tag, which also measures the moods the teacher never calls ≥ 0.5 on game "
                  f"music): mean ROC-AUC **{m['ranking_agreement_top_decile']['mean_roc_auc']:.3f}** over "
                  f"{m['ranking_agreement_top_decile']['tags_evaluated']} tags.", "",
                  "| tag | positives | ROC-AUC | PR-AUC | ROC-AUC top-decile | threshold |",
                  "|---|---|---|---|---|---|"]
        rk = m["ranking_agreement_top_decile"]
        for t, v in r["per_tag"].items():
            fmt = (lambda x: "–" if x is None else f"{x:.3f}")
            lines.append(f"| {t} | {v['positives']} | {fmt(v['roc_auc'])} | {fmt(v['pr_auc'])} | "
                         f"{fmt(rk['per_tag'][t]['roc_auc'])} | {m['thresholds'][t]:.3f} |")
        lines.append("")
        lines += [f"Decision thresholds (last column): {m['thresholds_rule']}.", ""]
        hl = [f"{n} embedding (64)", f"{n} tag probabilities (50)"]
    else:
        lines += [f"**Agreement with the teacher's top genre** (calibrated, centre excerpt): "
                  f"**{m['agreement_with_teacher_top_genre']:.3f}** (always answering the most frequent genre: "
                  f"{m['majority_baseline']:.3f}).", "",
                  "Seed 000's precision@k per genre of cosine neighbours in the 32-d embedding (genre = the "
                  "teacher's top genre):", "",
                  "| genre | tracks | agreement | P@5 | P@10 |", "|---|---|---|---|---|"]
        for g, v in m["per_genre"].items():
            p5 = m["genre_precision_at"]["5"]["per_group"].get(g)
            p10 = m["genre_precision_at"]["10"]["per_group"].get(g)
            fmt = (lambda x: "–" if x is None else f"{x:.3f}")
            lines.append(f"| {g} | {v['tracks']} | {fmt(v['agreement'])} | {fmt(p5)} | {fmt(p10)} |")
        lines.append(f"| **mean over genres** | {result['tracks']} | | "
                     f"{m['genre_precision_at']['5']['mean_per_group']:.3f} | "
                     f"{m['genre_precision_at']['10']['mean_per_group']:.3f} |")
        lines.append("")
        hl = [f"{n} embedding (32)"]
    best = result["best_baseline_at_10"]
    mine = max(hl, key=lambda k: result["same_package_precision"][k]["10"]["micro"])
    ours = result["same_package_precision"][mine]["10"]["micro"]
    theirs = result["same_package_precision"][best]["10"]["micro"]
    lines += [f"**Embedding, same-package precision@10** (cosine neighbours; tracks of one game share composer "
              f"and style): {mine} **{ours:.3f}** vs the best baseline ({best}) {theirs:.3f} — "
              f"{'above' if ours > theirs else 'NOT above'} every baseline.", ""]
    lines += _embedding_table(result, hl)
    t = result["timing"]
    lines += ["", f"Timing on this machine (2 shared CPU cores): loading {t['load_s'].get(n)} s (after importing "
                  f"Keras/TensorFlow, {t['keras_import_s']} s once per process); features "
                  f"{t['features_s_per_track'].get(n)} s and inference {t['inference_s_per_track'].get(n)} s per track."]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Evaluate a model folder on held-out data and write the results into it (metrics.json + model card).

Genre models (seed 000's evaluation): a song's probabilities and 32-d embedding are the means over its
slices; accuracy (per song and per slice) against the label (for soft labels: its top class, i.e.
agreement with the teacher); precision@5 / @10 per genre of cosine neighbours in embedding space (the
share of a song's k nearest other test songs that have its genre); a confusion-matrix PNG (needs
matplotlib: pip install '.[train]'). With a group column also "same group" precision@k.
Taggers: per-tag ROC-AUC and PR-AUC (scikit-learn) with positives = label >= --positive-threshold (or
each row's --positive-top-k tags), and their means over the tags that have both classes in the split.
--fit-thresholds picks each tag's F1-best threshold on the validation split into config.json.

The data defaults to what config.json's training section recorded (store, labels, split).

Example:
  python scripts/evaluate.py models/cnn_lstm
  python scripts/evaluate.py models/tagger --labels teacher_tags.csv --positive-top-k 3
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import _training as T  # noqa: E402
from _common import ScriptError  # noqa: E402


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="evaluate.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model folder (or a model name under models/)")
    p.add_argument("--features", metavar="STORE", help="feature store (default: the one it was trained on)")
    p.add_argument("--labels", metavar="TABLE", help="label table (default: the one it was trained with)")
    p.add_argument("--label-columns", nargs="+", help=argparse.SUPPRESS)
    p.add_argument("--audio-root", help="for relative paths in --labels")
    p.add_argument("--split", default="test", choices=["test", "val", "train", "all"])
    p.add_argument("--k", type=int, nargs="+", default=[5, 10], help="neighbour counts (default 5 10)")
    p.add_argument("--positive-threshold", type=float, default=0.5, help="tags: label >= this is positive")
    p.add_argument("--positive-top-k", type=int, help="tags: each row's k highest labels are its positives")
    p.add_argument("--fit-thresholds", action="store_true", help="tags: write F1-best thresholds (validation "
                                                                 "split) into config.json")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--out", help="metrics JSON (default: MODEL/metrics.json)")
    p.add_argument("--no-card", action="store_true", help="do not touch the model card")
    return p


# ------------------------------------------------------------------------------------------- metrics

def cosine_neighbours(emb: np.ndarray, k: int) -> np.ndarray:
    """Indices of each row's k most cosine-similar other rows, shape (n, min(k, n-1))."""
    z = emb / (np.linalg.norm(emb, axis=1, keepdims=True) + 1e-12)
    sim = z @ z.T
    np.fill_diagonal(sim, -np.inf)
    k = min(k, len(emb) - 1)
    return np.argsort(-sim, axis=1, kind="stable")[:, :k]


def precision_at_k(emb: np.ndarray, classes: list, k: int) -> dict:
    """Seed 000's metric: per class of the anchor song, the mean share of its k neighbours in its class."""
    nn = cosine_neighbours(emb, k)
    cls = np.asarray(classes)
    same = (cls[nn] == cls[:, None]).sum(axis=1)
    hit = same / nn.shape[1]
    # the best achievable share when a class has fewer than k other members in the split
    size = np.array([(cls == c).sum() - 1 for c in cls])
    norm = same / np.maximum(1, np.minimum(nn.shape[1], size))
    names = sorted(set(cls.tolist()))
    per = {str(c): float(hit[cls == c].mean()) for c in names}
    per_norm = {str(c): float(norm[cls == c].mean()) for c in names}
    return {"per_class": per, "mean": float(np.mean(list(per.values()))), "micro": float(hit.mean()),
            "per_class_normalised": per_norm, "mean_normalised": float(np.mean(list(per_norm.values()))),
            "k": int(nn.shape[1])}


def run_model(model, store, items, batch_size: int):
    """Per item: mean probabilities, mean embedding, per-row probabilities."""
    chunks, owners = [], []
    for i, (_, it) in enumerate(items.iterrows()):
        x = store.item_inputs(it)
        chunks.append(x)
        owners += [i] * len(x)
    owners = np.asarray(owners)
    probs, emb = [], []
    # bounded memory: predict in groups of items
    x_all = np.concatenate(chunks) if chunks else np.zeros((0,) + model.input_shape, np.float32)
    for a in range(0, len(x_all), 4096):
        p, e = model.predict_with_embedding(x_all[a:a + 4096], batch_size=batch_size)
        probs.append(p)
        emb.append(e)
    probs = np.concatenate(probs)
    emb = np.concatenate(emb)
    n = len(items)
    mp = np.zeros((n, probs.shape[1]), np.float32)
    me = np.zeros((n, emb.shape[1]), np.float32)
    np.add.at(mp, owners, probs)
    np.add.at(me, owners, emb)
    cnt = np.bincount(owners, minlength=n)[:, None]
    return mp / cnt, me / cnt, probs, owners


def genre_metrics(names, y, mean_probs, emb, row_probs, owners, groups, ks) -> dict:
    truth = y.argmax(axis=1)
    pred = mean_probs.argmax(axis=1)
    conf = np.zeros((len(names), len(names)), np.int64)
    np.add.at(conf, (truth, pred), 1)
    classes = [names[i] for i in truth]
    out = {
        "items": int(len(y)),
        "rows": int(len(row_probs)),
        "accuracy": float((pred == truth).mean()),
        "slice_accuracy": float((row_probs.argmax(axis=1) == truth[owners]).mean()),
        "per_class": {names[c]: {"items": int((truth == c).sum()),
                                 "recall": float((pred[truth == c] == c).mean()) if (truth == c).any() else None}
                      for c in range(len(names))},
        "confusion": {"labels": list(names), "matrix": conf.tolist()},
        "chance": float(np.bincount(truth, minlength=len(names)).max() / len(truth)),
    }
    if len(y) >= 2:
        out["precision_at"] = {str(k): precision_at_k(emb, classes, k) for k in ks}
        if groups is not None:
            out["group_precision_at"] = {str(k): precision_at_k(emb, groups, k) for k in ks}
    return out


def positives(y: np.ndarray, threshold: float, top_k: int | None) -> np.ndarray:
    if top_k:
        idx = np.argsort(-y, axis=1)[:, :top_k]
        pos = np.zeros(y.shape, bool)
        np.put_along_axis(pos, idx, True, axis=1)
        return pos
    return y >= threshold


def tag_metrics(names, y, probs, emb, groups, ks, threshold, top_k) -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score

    pos = positives(y, threshold, top_k)
    per = {}
    for j, n in enumerate(names):
        t = pos[:, j]
        if t.all() or not t.any():
            per[n] = {"positives": int(t.sum()), "roc_auc": None, "pr_auc": None}
            continue
        per[n] = {"positives": int(t.sum()), "roc_auc": float(roc_auc_score(t, probs[:, j])),
                  "pr_auc": float(average_precision_score(t, probs[:, j]))}
    defined = [v for v in per.values() if v["roc_auc"] is not None]
    out = {
        "items": int(len(y)),
        "positives": f"top {top_k} per row" if top_k else f"label >= {threshold}",
        "tags_evaluated": len(defined),
        "mean_roc_auc": float(np.mean([v["roc_auc"] for v in defined])) if defined else None,
        "mean_pr_auc": float(np.mean([v["pr_auc"] for v in defined])) if defined else None,
        "per_tag": per,
    }
    if groups is not None and len(y) >= 2:
        out["group_precision_at"] = {str(k): precision_at_k(emb, groups, k) for k in ks}
    return out


def f1_thresholds(y_pos: np.ndarray, probs: np.ndarray) -> list:
    out = []
    grid = np.linspace(0.05, 0.95, 19)
    for j in range(y_pos.shape[1]):
        t = y_pos[:, j]
        if not t.any():
            out.append(0.5)
            continue
        best, best_f = 0.5, -1.0
        for g in grid:
            p = probs[:, j] >= g
            tp = float((p & t).sum())
            f = 2 * tp / (p.sum() + t.sum()) if (p.sum() + t.sum()) else 0.0
            if f > best_f:
                best, best_f = float(g), f
        out.append(round(best, 3))
    return out


# ------------------------------------------------------------------------------------------ reporting

def markdown(cfg, m: dict, split: str, data: str) -> str:
    lines = [f"Evaluated on the **{split}** split of {data}: {m['items']} items.", ""]
    if cfg["task"] == "genre":
        lines += [f"- accuracy (song = mean of its slices): **{m['accuracy']:.3f}** (majority class {m['chance']:.3f})",
                  f"- accuracy per slice: {m['slice_accuracy']:.3f}", ""]
        ks = list(m.get("precision_at", {}))
        head = "| genre | songs | recall | " + " | ".join(f"precision@{k}" for k in ks) + " |"
        lines += [head, "|" + "---|" * (3 + len(ks))]
        for g, v in m["per_class"].items():
            cells = [g, str(v["items"]), "-" if v["recall"] is None else f"{v['recall']:.3f}"]
            cells += [f"{m['precision_at'][k]['per_class'].get(g, float('nan')):.3f}" for k in ks]
            lines.append("| " + " | ".join(cells) + " |")
        cells = ["**mean**", str(m["items"]), f"{m['accuracy']:.3f}"]
        cells += [f"**{m['precision_at'][k]['mean']:.3f}**" for k in ks]
        lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        if any(v["mean_normalised"] != v["mean"] for v in m["precision_at"].values()):
            norm = ", ".join(f"@{k}: {v['mean_normalised']:.3f}" for k, v in m["precision_at"].items())
            lines += [f"Some genres have fewer than k other songs in this split; precision divided by the "
                      f"achievable maximum instead: {norm}.", ""]
        if m.get("confusion_png"):
            lines += [f"Confusion matrix: `{m['confusion_png']}`.", ""]
    else:
        mr = m["mean_roc_auc"]
        mp = m["mean_pr_auc"]
        lines += [f"Positives: {m['positives']}. Mean over {m['tags_evaluated']} tags with both classes: "
                  f"ROC-AUC **{mr:.3f}**, PR-AUC **{mp:.3f}**." if mr is not None else
                  "No tag has both classes in this split: AUCs undefined.", "",
                  "| tag | positives | ROC-AUC | PR-AUC |", "|---|---|---|---|"]
        for t, v in m["per_tag"].items():
            f = (lambda x: "-" if x is None else f"{x:.3f}")
            lines.append(f"| {t} | {v['positives']} | {f(v['roc_auc'])} | {f(v['pr_auc'])} |")
        lines.append("")
    if m.get("group_precision_at"):
        gp = ", ".join(f"@{k}: {v['mean']:.3f}" for k, v in m["group_precision_at"].items())
        lines += [f"Same-group precision of embedding neighbours (mean over groups) {gp}.", ""]
    return "\n".join(lines)


def confusion_png(path: Path, names, matrix, title: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed (pip install '.[train]'): no confusion-matrix picture",
              file=sys.stderr)
        return False
    m = np.asarray(matrix, float)
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * len(names), 0.8 + 0.6 * len(names)), dpi=100)
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, int(m[i, j]), ha="center", va="center",
                    color="white" if m[i, j] > m.max() / 2 else "black", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def main(argv=None) -> int:
    def run(argv):
        args = parser().parse_args(argv)
        from player.analysis import registry as R

        try:
            model = R.load(args.model)
        except R.ModelError as exc:
            raise ScriptError(str(exc)) from None
        cfg = model.config
        tr = cfg.get("training", {})
        store_path = args.features or tr.get("features")
        if not store_path:
            raise ScriptError("pass --features STORE (config.json records none)")
        store = C.FeatureStore(store_path)
        if store.frontend != model.frontend:
            raise ScriptError(f"{store.root}: its features were made with another front end than "
                              f"{model.folder}/config.json's")
        labels = args.labels
        if labels is None and tr.get("labels") and Path(str(tr["labels"])).is_file():
            labels = tr["labels"]
        audio_root = args.audio_root or (Path(labels).parent if labels else None)
        items, y, names = T.labelled_items(store, cfg["task"], labels, args.label_columns, audio_root,
                                           names=model.labels)
        recorded = tr.get("split") if isinstance(tr.get("split"), dict) else {}  # distil_train.py records words
        split_params = {k: v for k, v in recorded.items() if k in ("test_count", "val_fraction", "seed")}
        split_params = {"test_count": 500, "val_fraction": 0.1, "seed": 0, **split_params}
        items, _ = T.resolve_split(items, y, cfg["task"], split_params)
        sel = np.ones(len(items), bool) if args.split == "all" else (items["split"] == args.split).to_numpy()
        if not sel.any():
            raise ScriptError(f"no items in the {args.split} split")
        ev = items[sel].reset_index(drop=True)
        ye = y[sel]
        groups = ev["group"].astype(str).tolist() if "group" in ev.columns and (ev["group"] != "").all() else None
        mean_p, emb, row_p, owners = run_model(model, store, ev, args.batch_size)
        if cfg["task"] == "genre":
            m = genre_metrics(names, ye, mean_p, emb, row_p, owners, groups, args.k)
            png = model.folder / "confusion.png"
            if confusion_png(png, names, m["confusion"]["matrix"], f"{model.version_tag} ({args.split})"):
                m["confusion_png"] = png.name
        else:
            m = tag_metrics(names, ye, mean_p, emb, groups, args.k, args.positive_threshold, args.positive_top_k)
            if args.fit_thresholds:
                vs = (items["split"] == "val").to_numpy()
                if not vs.any():
                    raise ScriptError("--fit-thresholds needs a validation split")
                vp, _, _, _ = run_model(model, store, items[vs].reset_index(drop=True), args.batch_size)
                th = f1_thresholds(positives(y[vs], args.positive_threshold, args.positive_top_k), vp)
                cfg_path = model.folder / R.CONFIG_FILE
                raw = json.loads(cfg_path.read_text())
                raw["thresholds"] = th
                cfg_path.write_text(json.dumps(raw, indent=2) + "\n")
                m["thresholds"] = th
        m["split"] = args.split
        m["model"] = model.version_tag
        m["features"] = str(store.root)
        m["labels"] = labels or "store genre column"
        out = Path(args.out) if args.out else model.folder / "metrics.json"
        out.write_text(json.dumps(m, indent=1) + "\n")
        text = markdown(cfg, m, args.split, f"`{store.root.name}`")
        if not args.no_card:
            card_path = model.folder / R.CARD_FILE
            card = card_path.read_text() if card_path.exists() else f"# {model.name}\n"
            card_path.write_text(C.replace_metrics(card, text + f"\nFull results: `{out.name}`.\n"))
        print(text)
        return 0

    return C.run_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())

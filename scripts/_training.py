"""The training flow shared by ``train_genre.py`` and ``train_tagger.py`` (and the data resolution that
``evaluate.py`` repeats): features + labels -> split -> Keras model -> best epoch -> model folder."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import _common as C
from _common import ScriptError


# -------------------------------------------------------------------------------------- data + labels

def open_or_build_store(args, task: str) -> C.FeatureStore:
    """``--features STORE``, or a store built (resumably) from ``--labels TABLE``'s audio paths."""
    if args.features:
        return C.FeatureStore(args.features)
    if not args.labels:
        raise ScriptError("give --features STORE (from prepare_fma.py / extract_features.py) or --labels TABLE "
                          "with a path column")
    df, _ = C.read_label_table(args.labels, args.label_columns)
    keys, paths, offsets = C.table_keys(df, args.audio_root or Path(args.labels).parent)
    if any(p is None for p in paths):
        raise ScriptError(f"{args.labels}: has no path column, so features cannot be computed: pass --features")
    cache = Path(args.cache) if args.cache else Path(args.labels).with_suffix("").parent / (
        Path(args.labels).stem + f".{task}-features")
    frontend = C.resolve_frontend(args.frontend or ("genre" if task == "genre" else "tagger"))
    items = []
    for i, (k, p, o) in enumerate(zip(keys, paths, offsets)):
        items.append({"key": k, "path": p, "offset": o,
                      "group": str(df["group"].iloc[i]) if "group" in df.columns else "",
                      "split": str(df["split"].iloc[i]) if "split" in df.columns else ""})
    print(f"features for {len(items)} rows of {args.labels} -> {cache}", file=sys.stderr)
    return C.build_store(cache, items, frontend, workers=args.workers, source=str(args.labels))


def labelled_items(store: C.FeatureStore, task: str, labels_table=None, label_columns=None, audio_root=None,
                   names=None):
    """The store's usable items joined with their targets: ``(items, targets (n, C) float32, names)``.

    Labels come from ``labels_table`` (0/1 or soft probabilities, one column per class/tag) or, for
    genre, from the store's ``label`` column (one-hot). ``names`` (a model's labels.json) fixes the
    column order for evaluation."""
    items = store.ok()
    if labels_table:
        df, cols = C.read_label_table(labels_table, label_columns)
        keys, _, _ = C.table_keys(df, audio_root)
        df = df.assign(_key=keys)
        if df["_key"].duplicated().any():
            raise ScriptError(f"{labels_table}: duplicate rows for key {df['_key'][df['_key'].duplicated()].iloc[0]}")
        if names is not None:
            missing = [n for n in names if n not in cols]
            if missing:
                raise ScriptError(f"{labels_table}: lacks the model's label column(s) {', '.join(missing[:5])}")
            cols = list(names)
        keep = ["_key"] + cols + [c for c in ("split", "group") if c in df.columns]
        merged = items.merge(df[keep].rename(columns={"split": "_split", "group": "_group"}),
                             left_on="key", right_on="_key", how="inner")
        if merged.empty:
            sample = store.items["key"].iloc[0] if len(store.items) else "none"
            raise ScriptError(f"none of the {len(df)} rows of {labels_table} matches an item with features in "
                              f"{store.root} (label keys look like {df['_key'].iloc[0]!r}, store keys like "
                              f"{sample!r}; see {store.root / 'items.csv'})")
        lost = len(df) - len(merged)
        if lost:
            print(f"note: {lost} of {len(df)} labelled rows have no features (unreadable or not extracted)",
                  file=sys.stderr)
        if "_split" in merged.columns:
            merged["split"] = merged["_split"].fillna("").astype(str)
        if "_group" in merged.columns:
            merged["group"] = merged["_group"].fillna("").astype(str)
        y = merged[cols].to_numpy(np.float32)
        return merged.reset_index(drop=True), y, list(cols)
    if task != "genre":
        raise ScriptError("a tagger needs --labels TABLE (audio file + one 0/1 or probability column per tag)")
    labels = items["label"].astype(str)
    items = items[labels != ""].reset_index(drop=True)
    if names is None:
        names = sorted(set(items["label"]))
    index = {n: i for i, n in enumerate(names)}
    unknown = sorted(set(items["label"]) - set(index))
    if unknown:
        raise ScriptError(f"{store.root}: labels {unknown[:5]} are not among the model's {names}")
    y = np.zeros((len(items), len(names)), np.float32)
    y[np.arange(len(items)), [index[v] for v in items["label"]]] = 1.0
    return items, y, list(names)


def resolve_split(items, targets, task: str, params: dict):
    """Fill ``items['split']``: a given split (table or store) is kept; none -> a seeded split."""
    split = items["split"].fillna("").astype(str) if "split" in items.columns else None
    if split is not None and (split != "").all():
        bad = sorted(set(split) - set(C.SPLITS))
        if bad:
            raise ScriptError(f"split values must be train, val or test; found {bad[:5]}")
        return items, {"source": "given"}
    if split is not None and (split != "").any():
        raise ScriptError("the split column is filled for some rows only: fill it for all or none")
    groups = items["group"].astype(str).tolist() if "group" in items.columns and (items["group"] != "").any() else None
    strata = targets.argmax(axis=1).tolist() if task == "genre" else None
    assign = C.assign_splits(items["key"].tolist(), strata=strata, groups=groups,
                             test_count=params["test_count"], val_fraction=params["val_fraction"], seed=params["seed"])
    items = items.copy()
    items["split"] = [assign[k] for k in items["key"]]
    return items, {"source": "seeded", **params, "grouped": groups is not None}


# ------------------------------------------------------------------------------------------ CLI bits

def add_data_args(p: argparse.ArgumentParser, task: str) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--features", metavar="STORE",
                   help="feature store from prepare_fma.py / extract_features.py")
    g.add_argument("--labels", metavar="TABLE",
                   help="label table (CSV/TSV): key or path [+ offset], optional split/group, and one column per "
                        "class/tag holding 0/1 or probabilities (soft labels)"
                        + ("" if task == "tags" else "; default: the store's genre labels"))
    g.add_argument("--label-columns", nargs="+", metavar="COL", help="use these label columns only")
    g.add_argument("--audio-root", metavar="DIR", help="resolve relative paths of --labels against DIR "
                                                       "(default: the table's folder)")
    g.add_argument("--cache", metavar="DIR", help="where features computed from --labels go (resumable)")
    g.add_argument("--frontend", help="genre, tagger or a JSON file (when features are computed here)")
    g.add_argument("--workers", type=int, default=1, help="processes for feature extraction")
    s = p.add_argument_group("split (when neither the table nor the store has a split column)")
    s.add_argument("--test-count", type=int, default=500, help="items held out for test (default 500, as seed "
                                                                "000; never more than 30 %% of the data)")
    s.add_argument("--val-fraction", type=float, default=0.1)
    s.add_argument("--split-seed", type=int, default=0)


def add_training_args(p: argparse.ArgumentParser, default_batch: int, default_lr: float) -> None:
    g = p.add_argument_group("training")
    g.add_argument("--out", metavar="DIR", help="model folder to write (default: models/NAME)")
    g.add_argument("--name", help="model name (default: the architecture, or 'tagger')")
    g.add_argument("--version", default="1", help="model version recorded in config.json (default 1)")
    g.add_argument("--epochs", type=int, default=30)
    g.add_argument("--patience", type=int, default=5, help="early stopping: epochs without a better val loss")
    g.add_argument("--batch-size", type=int, default=default_batch)
    g.add_argument("--lr", type=float, default=default_lr, help="Adam learning rate")
    g.add_argument("--steps-per-epoch", type=int, help="cap the batches of an epoch (a fresh random subset "
                                                       "each epoch): small/fast runs")
    g.add_argument("--val-steps", type=int, help="cap the validation batches")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--precise-bn", type=int, default=20, metavar="N",
                   help="before each validation, set batch-norm statistics from N training batches "
                        "(default 20; 0 = Keras' moving averages only, as the seeds)")
    g.add_argument("--precision", choices=["auto", "float32", "mixed"], default="auto",
                   help="auto: mixed_float16 on GPU, float32 on CPU")
    g.add_argument("--weights-dtype", choices=["float16", "float32"], default="float16")
    g.add_argument("--work", metavar="DIR", help="checkpoints, log and resume state (default: data/training/NAME "
                                                 "for models/NAME, else .NAME.work next to the output folder)")
    g.add_argument("--fresh", action="store_true", help="discard a previous run's work folder")
    g.add_argument("--init-weights", metavar="FILE", help="start from these weights (a model folder's "
                                                          "weights.npz or a .weights.h5)")
    g.add_argument("--quiet", action="store_true")


# ------------------------------------------------------------------------------------------- training

def train(args, argv, task: str, architecture: str) -> Path:
    import keras

    from player.analysis import architectures as A
    from player.analysis import registry as R

    if args.labels:  # refuse a useless label set before spending time on features
        df, cols = C.read_label_table(args.labels, args.label_columns)
        C.check_label_set(df[cols].to_numpy(np.float32), list(cols), args.labels, task)
    store = open_or_build_store(args, task)
    audio_root = args.audio_root or (Path(args.labels).parent if args.labels else None)
    items, y, names = labelled_items(store, task, args.labels, args.label_columns, audio_root)
    split_params = {"test_count": args.test_count, "val_fraction": args.val_fraction, "seed": args.split_seed}
    items, split_info = resolve_split(items, y, task, split_params)
    tr = (items["split"] == "train").to_numpy()
    va = (items["split"] == "val").to_numpy()
    where = args.labels or str(store.root)
    C.check_label_set(y[tr], names, where, task)
    if not va.any():
        raise ScriptError(f"{where}: no validation items: the best epoch cannot be chosen")
    expect_kind = "mel_slices" if task == "genre" else "mel_excerpt"
    if store.frontend["kind"] != expect_kind:
        raise ScriptError(f"{store.root}: holds {store.frontend['kind']} features; {architecture} needs {expect_kind}")

    name = args.name or (architecture if task == "genre" else "tagger")
    out = Path(args.out) if args.out else R.models_root() / name
    work = C.work_dir_for(out, args.work)
    if args.fresh:
        C.reset_work_dir(work)
    settings = {"architecture": architecture, "store": str(store.root.resolve()), "labels": args.labels,
                "names": names, "n_train": int(tr.sum()), "batch": args.batch_size, "lr": args.lr,
                "steps": args.steps_per_epoch, "seed": args.seed,
                "contrastive": getattr(args, "contrastive", 0.0), "split": split_info}
    C.guard_work_dir(work, settings)
    C.write_table(work / "split.csv", items[["key", "split"]].to_dict("records"), ["key", "split"])

    keras.utils.set_random_seed(args.seed)
    dev = C.setup_devices(args.precision, verbose=not args.quiet)
    input_shape = C.item_shape(store.frontend)[-2:] + [1]
    model = A.build(architecture, len(names), input_shape)
    if args.init_weights:
        R.load_weights(model, args.init_weights)
    contrastive = float(getattr(args, "contrastive", 0.0) or 0.0)
    if task == "genre":
        loss, metrics = keras.losses.CategoricalCrossentropy(), ["accuracy"]
    else:
        # no training-time AUC: Keras' AUC needs 0/1 labels and reads soft labels as 0; evaluate.py measures it
        loss, metrics = keras.losses.BinaryCrossentropy(), []
    opt = keras.optimizers.Adam(args.lr)
    if contrastive > 0:
        net = A.with_embedding(model)
        net.compile(optimizer=opt, loss=[loss, C.nt_xent(args.temperature)], loss_weights=[1.0, contrastive],
                    metrics=[metrics, []])
    else:
        net = model
        net.compile(optimizer=opt, loss=loss, metrics=metrics)

    full = dev["gpus"] > 1  # data parallel: every batch must split evenly over the devices
    train_data = C.make_dataset(store, items[tr], y[tr], batch_size=args.batch_size, shuffle=True, seed=args.seed,
                                max_batches=args.steps_per_epoch, pairs=contrastive > 0, drop_remainder=full)
    val_data = C.make_dataset(store, items[va], y[va], batch_size=args.batch_size, shuffle=False, seed=args.seed,
                              max_batches=args.val_steps, pairs=contrastive > 0, drop_remainder=full)
    n_samples = len(train_data.units) if contrastive <= 0 else 2 * len(train_data.units)
    print(f"{architecture}: {model.count_params():,} parameters; {int(tr.sum())} train / {int(va.sum())} val items, "
          f"{n_samples} training samples, {len(names)} outputs", file=sys.stderr)

    def rebuild():
        export = A.build(architecture, len(names), input_shape)
        return export, (A.with_embedding(export) if contrastive > 0 else export)

    best, export = C.fit_and_export(net, train_data, val_data, args, work, rebuild)
    cfg = {
        **C.model_config(export, architecture=architecture, name=name, version=args.version, task=task,
                         n_classes=len(names), frontend=store.frontend),
        "training": {
            "command": C.command_line("train_genre.py" if task == "genre" else "train_tagger.py", argv),
            "features": str(store.root),
            "labels": args.labels or "store genre column",
            "split": split_info,
            "items": {s: int((items["split"] == s).sum()) for s in C.SPLITS},
            "train_samples": n_samples,
            "batch_size": args.batch_size,
            "optimizer": f"Adam(lr={args.lr})",
            "loss": "categorical cross-entropy" if task == "genre" else "binary cross-entropy",
            "contrastive_weight": contrastive,
            "precise_bn_batches": args.precise_bn,
            **C.fit_record(best, work),
            "device": f"{dev['backend']} {dev['precision']} {', '.join(dev['devices'])}",
            "keras": keras.__version__,
            "seed": args.seed,
            "trained_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
    }
    if task == "tags":
        cfg["thresholds"] = 0.5
    data_text = (f"Feature store `{store.root}` ({store.meta.get('source') or 'unknown source'}); labels: "
                 f"{args.labels or 'the store genre column'}; split {split_info}: "
                 f"{cfg['training']['items']} items.")
    card = C.model_card(cfg, names, title=f"{name} ({architecture})", data=data_text,
                        command=cfg["training"]["command"], notes=_notes(task))
    return C.write_and_check(out, export, cfg, names, card, args.weights_dtype)


def _notes(task: str) -> str:
    if task == "genre":
        return ("Trained on fixed 30 s excerpts cut into 128-frame slices (about 3 s each); a song's genre is the "
                "mean of its slices' probabilities and its embedding the mean of their 32-d `embedding` layer, "
                "as in seed 000. Genres outside the training labels are forced onto the nearest one.")
    return ("One 29.12 s excerpt per prediction (centre by default); tags are independent sigmoids, "
            "thresholds in config.json (0.5 unless evaluate.py fitted them on validation data).")

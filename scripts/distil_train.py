#!/usr/bin/env python
"""Distil the teacher into one of seed 000's genre models (CNN, CNN-LSTM, CNN-BiLSTM), on CPU or GPU.

    python scripts/distil_train.py --model cnn_lstm --features /work/cache/genre.features \\
        --teacher /work/cache/teacher --calibration /work/cache/tables/genre_calibration.json --out models/cnn_lstm

Like ``train_genre.py`` (same architectures, feature store, checkpoints, resume, early stopping, automatic
best epoch, model folder), with three training signals instead of one, all computed per 128-frame slice
(about 3 s, the teacher's own resolution):

1. **genre**: cross-entropy against the teacher's calibrated genre distribution *of that slice* (the
   teacher patches under the slice, mapped and calibrated exactly as ``teacher_tables.py`` does);
2. **similarity** (``--contrastive``): NT-Xent on the 32-d embedding; a positive pair is two slices of
   one track taken from *different excerpts* when the track has several (COLA / CLMR), so the embedding
   learns what stays the same across a piece — its instruments, production, style — and not one moment;
3. **teacher embedding** (``--teacher-embedding``): a training-only linear head regresses the
   teacher's penultimate layers (MSD + MTT, 400-d, whitened PCA to ``--pca`` dimensions) from the 32-d
   embedding, so the embedding keeps what the teacher knows about music in general. The head is
   dropped at export: the model folder holds exactly the seed's architecture.

Training inputs get SpecAugment-style time and frequency masks. Batch norm statistics are re-estimated
before every validation ("precise BN", see _common.py).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common as C  # noqa: E402
from _common import ScriptError  # noqa: E402

from scripts import label_with_teacher as L  # noqa: E402
from scripts import teacher_tables as TT  # noqa: E402


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="distil_train.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, choices=["cnn", "cnn_lstm", "cnn_bilstm"])
    p.add_argument("--features", required=True, metavar="STORE", help="genre feature store of the table's excerpts "
                                                                      "(extract_features.py --table genre.csv)")
    p.add_argument("--teacher", required=True, type=Path, help="label_with_teacher.py's OUT (labels.npz)")
    p.add_argument("--calibration", required=True, type=Path, help="teacher_tables.py's genre_calibration.json")
    p.add_argument("--out", required=True, type=Path, help="model folder to write")
    p.add_argument("--work", required=True, type=Path, help="checkpoints, log, resume state")
    p.add_argument("--name", help="model name (default: the architecture)")
    p.add_argument("--version", default="1")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--steps-per-epoch", type=int, default=40)
    p.add_argument("--val-steps", type=int, default=8)
    p.add_argument("--patience", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=64, help="slices per batch (pairs: half as many tracks)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam, cosine-decayed to a tenth over all epochs")
    p.add_argument("--contrastive", type=float, default=0.5, help="weight of the NT-Xent term (0 = off)")
    p.add_argument("--temperature", type=float, default=0.1)
    p.add_argument("--positives", choices=["track", "group"], default="track",
                   help="track: the two slices of one track are the positive pair (self-supervised, NT-Xent); "
                        "group: every slice of the same group (package / album) in the batch is a positive "
                        "(supervised contrastive, SupCon) -- weakly supervised by the folder metadata")
    p.add_argument("--mask-same-group", action="store_true",
                   help="NT-Xent: do not use other tracks of the anchor's group (package, album) as negatives")
    p.add_argument("--teacher-embedding", type=float, default=1.0, help="weight of the teacher-embedding term")
    p.add_argument("--pca", type=int, default=16, help="teacher embedding dimensions kept (PCA)")
    p.add_argument("--no-whiten", action="store_true",
                   help="keep the PCA components' relative scale (one global scale to unit mean variance) "
                        "instead of whitening them: the strong directions of the teacher's space dominate")
    p.add_argument("--augment", type=float, default=0.5, help="probability of each SpecAugment mask")
    p.add_argument("--precise-bn", type=int, default=10)
    p.add_argument("--init-weights", help="start from these weights (e.g. scripts/init_from_trunk.py's)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fresh", action="store_true", help="discard a previous run's work folder")
    p.add_argument("--quiet", action="store_true")
    return p


# ---------------------------------------------------------------------------------------------- data

class SliceData:
    """Every slice of the store's train/val items with its teacher targets, in memory."""

    def __init__(self, store: C.FeatureStore, z: dict, prior: np.ndarray, temperature: float):
        items = store.ok()
        index = {str(p): i for i, p in enumerate(z["path"])}
        fe = store.frontend
        self.slice_s = fe["slice_frames"] * fe["hop_length"] / fe["sample_rate"]
        xs, track, split, item_of, genre_t, emb_t, group = [], [], [], [], [], [], []
        groups = sorted(set(str(g) for g in z["package"]))
        for k, it in items.iterrows():
            if it["split"] not in ("train", "val"):
                continue
            rel = str(it["key"]).rsplit("@", 1)[0]
            if rel not in index:
                raise ScriptError(f"{store.root}: item {it['key']} is not in {len(index)} teacher-labelled tracks")
            ti = index[rel]
            n = int(it["n_slices"])
            x = store.shard(int(it["shard"]))[int(it["row"]), :n]
            off = float(it["offset"]) if str(it["offset"]) not in ("", "nan") else 0.0
            dur = float(z["seconds"][ti])
            sel = z["track"] == ti
            starts = z["start"][sel]
            for j in range(n):
                a = off + j * self.slice_s
                b = min(a + self.slice_s, dur)
                w = TT.overlap_weights(starts, L.PATCH_SECONDS, a, max(b, a + 1e-3))
                genre_t.append(L.genre_scores(w @ z["teacher"][sel]))
                emb_t.append(np.concatenate([w @ z["msd_penultimate"][sel].astype(np.float32),
                                             w @ z["mtt_penultimate"][sel].astype(np.float32)]))
                xs.append(x[j])
                track.append(ti)
                split.append(it["split"])
                item_of.append(k)
                group.append(groups.index(str(z["package"][ti])))
        if not xs:
            raise ScriptError(f"{store.root}: no train/val items")
        self.x = np.stack(xs)  # uint8 or float16, (n, 128, 128)
        self.decode_scale = (1.0 / float(store.storage["scale"])) if store.storage["dtype"] == "uint8" else 1.0
        self.track = np.asarray(track)
        self.split = np.asarray(split)
        self.item = np.asarray(item_of)
        self.group = np.asarray(group, np.float32)
        self.genre = TT.calibrated_genres(np.stack(genre_t), prior, temperature)
        self.teacher_emb = np.stack(emb_t).astype(np.float32)

    def fit_pca(self, dims: int, whiten: bool = True) -> dict:
        """PCA of the teacher embedding on the training slices (whitened, or one global scale)."""
        tr = self.split == "train"
        mean = self.teacher_emb[tr].mean(axis=0)
        _, s, vt = np.linalg.svd(self.teacher_emb[tr] - mean, full_matrices=False)
        comp = vt[:dims]
        scale = s[:dims] / math.sqrt(tr.sum() - 1)
        if not whiten:
            scale = np.full(dims, math.sqrt(float(np.mean(scale ** 2))))
        self.pca_t = ((self.teacher_emb - mean) @ comp.T / scale).astype(np.float32)
        explained = float((s[:dims] ** 2).sum() / (s ** 2).sum())
        return {"dims": dims, "explained_variance": round(explained, 4), "whitened": whiten}

    def pools(self, split: str) -> dict:
        """track -> {item -> slice indices} for one split."""
        out: dict = {}
        for i in np.flatnonzero(self.split == split):
            out.setdefault(int(self.track[i]), {}).setdefault(int(self.item[i]), []).append(int(i))
        return out


def make_pairs(data: SliceData, split: str, batch_size: int, steps: int, *, shuffle: bool, seed: int,
               augment: float):
    import keras

    pools = data.pools(split)
    tracks = np.array(sorted(pools))
    per = max(2, batch_size // 2)

    class Pairs(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)
            self.rng = np.random.default_rng(seed)

        def __len__(self):
            return steps

        def _pair(self, r, t):
            items = list(pools[int(t)].values())
            if len(items) >= 2:
                a, b = r.choice(len(items), 2, replace=False)
                return int(r.choice(items[a])), int(r.choice(items[b]))
            s = items[0]
            if len(s) >= 2:
                a, b = r.choice(len(s), 2, replace=False)
                return s[a], s[b]
            return s[0], s[0]

        def _augment(self, r, x):
            for k in range(len(x)):
                if r.random() < augment:
                    w = int(r.integers(4, 17))
                    a = int(r.integers(0, x.shape[2] - w))
                    x[k, :, a:a + w] = 0.0
                if r.random() < augment:
                    h = int(r.integers(4, 13))
                    a = int(r.integers(0, x.shape[1] - h))
                    x[k, a:a + h, :] = 0.0
            return x

        def __getitem__(self, i):
            r = self.rng if shuffle else np.random.default_rng(seed + 7919 * i)
            chosen = r.choice(tracks, min(per, len(tracks)), replace=False)
            idx = [j for t in chosen for j in self._pair(r, t)]
            x = data.x[idx].astype(np.float32) * data.decode_scale
            if shuffle and augment > 0:
                x = self._augment(r, x)
            y = (data.genre[idx], data.group[idx][:, None], data.pca_t[idx])
            return x[..., None], y

    return Pairs()


# ------------------------------------------------------------------------------------------ training

def supcon(temperature: float):
    """Supervised contrastive loss (Khosla et al. 2020), keras.ops only: for each row, every other row with
    the same group id ``y_true[:, 0]`` is a positive; the loss is the mean negative log-probability of the
    positives among all other rows."""
    from keras import ops

    def loss(y_true, y_pred):
        z = ops.cast(y_pred, "float32")
        z = z / (ops.sqrt(ops.sum(z * z, axis=1, keepdims=True)) + 1e-6)
        sim = ops.matmul(z, ops.transpose(z)) / temperature
        n = ops.shape(sim)[0]
        eye = ops.eye(n, dtype="float32")
        g = ops.cast(y_true[:, 0], "float32")
        pos = ops.cast(ops.equal(ops.expand_dims(g, 1), ops.expand_dims(g, 0)), "float32") * (1.0 - eye)
        sim = sim - 1e9 * eye
        logp = sim - ops.logsumexp(sim, axis=1, keepdims=True)
        return -ops.sum(logp * pos, axis=1) / ops.maximum(ops.sum(pos, axis=1), 1.0)

    loss.__name__ = "supcon"
    return loss


def nt_xent(temperature: float, mask_same_group: bool):
    """NT-Xent on rows (2i, 2i+1) = positive pairs, keras.ops only. ``y_true[:, 0]`` is each row's
    group id; with ``mask_same_group`` other rows of the anchor's group are left out of the negatives."""
    from keras import ops

    def loss(y_true, y_pred):
        z = ops.cast(y_pred, "float32")
        z = z / (ops.sqrt(ops.sum(z * z, axis=1, keepdims=True)) + 1e-6)
        sim = ops.matmul(z, ops.transpose(z)) / temperature
        n = ops.shape(sim)[0]
        idx = ops.arange(n)
        pos = ops.one_hot(idx + 1 - 2 * (idx % 2), n, dtype="float32")
        excl = ops.eye(n, dtype="float32")
        if mask_same_group:
            g = ops.cast(y_true[:, 0], "float32")
            same = ops.cast(ops.equal(ops.expand_dims(g, 1), ops.expand_dims(g, 0)), "float32")
            excl = ops.maximum(excl, same * (1.0 - pos))
        sim = sim - 1e9 * excl
        logp = sim - ops.logsumexp(sim, axis=1, keepdims=True)
        return -ops.sum(logp * pos, axis=1)

    loss.__name__ = "nt_xent"
    return loss


def main(argv=None) -> int:
    def run(argv):
        argv = list(sys.argv[1:] if argv is None else argv)
        args = parser().parse_args(argv)
        import keras

        from player.analysis import architectures as A
        from player.analysis import registry as R

        store = C.FeatureStore(args.features)
        if store.frontend["kind"] != "mel_slices":
            raise ScriptError(f"{store.root}: holds {store.frontend['kind']} features; genre models need mel_slices")
        if not (args.teacher / "labels.npz").is_file():
            raise ScriptError(f"{args.teacher}/labels.npz missing: run scripts/label_with_teacher.py")
        try:
            calib = json.loads(args.calibration.read_text())
            prior = np.asarray(calib["prior"], np.float32)
        except (OSError, ValueError, KeyError) as exc:
            raise ScriptError(f"{args.calibration}: not a genre_calibration.json ({exc})") from None
        if calib.get("genres") != L.GENRES:
            raise ScriptError(f"{args.calibration}: genres {calib.get('genres')} are not {L.GENRES}")
        with np.load(args.teacher / "labels.npz") as zz:
            z = {k: zz[k] for k in zz.files}
        t0 = time.time()
        data = SliceData(store, z, prior, float(calib["temperature"]))
        pca = data.fit_pca(args.pca, whiten=not args.no_whiten)
        tr_top = data.genre[data.split == "train"].argmax(axis=1)
        C.check_label_set(data.genre[data.split == "train"], L.GENRES, str(args.features), "genre")
        n_tr, n_va = int((data.split == "train").sum()), int((data.split == "val").sum())
        if not n_va:
            raise ScriptError("no validation slices: the best epoch cannot be chosen")
        print(f"{n_tr} train / {n_va} val slices of {len(set(data.track[data.split == 'train']))} / "
              f"{len(set(data.track[data.split == 'val']))} tracks in {time.time() - t0:.0f} s; teacher top genre "
              f"of the train slices {np.bincount(tr_top, minlength=8).tolist()}; PCA {pca}", file=sys.stderr)

        work = args.work
        if args.fresh:
            C.reset_work_dir(work)
        work.mkdir(parents=True, exist_ok=True)
        settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                    if k not in ("fresh", "quiet")}
        C.guard_work_dir(work, settings)
        keras.utils.set_random_seed(args.seed)
        dev = C.setup_devices("auto", verbose=not args.quiet)
        base = A.build(args.model, len(L.GENRES), C.item_shape(store.frontend)[-2:] + [1])
        if args.init_weights:
            R.load_weights(base, args.init_weights)
        emb = base.get_layer(A.EMBEDDING_LAYER).output
        head = keras.layers.Dense(args.pca, name="teacher_head")(emb)
        net = keras.Model(base.inputs, [base.output, emb, head], name=f"{args.model}_distil")
        total = args.epochs * args.steps_per_epoch
        lr = keras.optimizers.schedules.CosineDecay(args.lr, decay_steps=total, alpha=0.1)
        net.compile(optimizer=keras.optimizers.Adam(lr),
                    loss=[keras.losses.CategoricalCrossentropy(),
                          supcon(args.temperature) if args.positives == "group"
                          else nt_xent(args.temperature, args.mask_same_group),
                          keras.losses.MeanSquaredError()],
                    loss_weights=[1.0, args.contrastive, args.teacher_embedding],
                    metrics=[["accuracy"], [], []])
        train = make_pairs(data, "train", args.batch_size, args.steps_per_epoch, shuffle=True, seed=args.seed,
                           augment=args.augment)
        val = make_pairs(data, "val", args.batch_size, args.val_steps, shuffle=False, seed=args.seed, augment=0)
        print(f"{args.model}: {base.count_params():,} parameters (+{net.count_params() - base.count_params()} in the "
              f"training-only head)", file=sys.stderr)

        def rebuild():  # the seed's architecture only (the head is dropped)
            export = A.build(args.model, len(L.GENRES), base.input_shape[1:])
            e2 = export.get_layer(A.EMBEDDING_LAYER).output
            return export, keras.Model(export.inputs, [export.output, e2,
                                                       keras.layers.Dense(args.pca, name="teacher_head")(e2)])

        best, export = C.fit_and_export(net, train, val, args, work, rebuild)
        name = args.name or args.model
        cfg = {
            **C.model_config(export, architecture=args.model, name=name, version=args.version, task="genre",
                             n_classes=len(L.GENRES), frontend=store.frontend),
            "genre_calibration": {"prior": calib["prior"], "temperature": calib["temperature"],
                                  "rule": calib["rule"], "prior_from": calib.get("prior_from")},
            "training": {
                "command": C.command_line("distil_train.py", argv),
                "method": "distillation from musicnn 0.1.0 (MSD_musicnn + MTT_musicnn), see docs/training.md",
                "features": str(store.root), "teacher": str(args.teacher),
                "split": "by package (label_with_teacher.assign_splits)",
                "slices": {"train": n_tr, "val": n_va},
                "tracks": {"train": int(len(set(data.track[data.split == 'train']))),
                           "val": int(len(set(data.track[data.split == 'val'])))},
                "train_samples": args.steps_per_epoch * args.batch_size, "batch_size": args.batch_size,
                "optimizer": f"Adam(CosineDecay({args.lr}, {total} steps, alpha 0.1))",
                "loss": (f"categorical cross-entropy vs the teacher's calibrated genres per slice + {args.contrastive} x "
                         + (f"SupCon (T {args.temperature}, positives: every slice of the same package in the batch) "
                            if args.positives == "group" else
                            f"NT-Xent (T {args.temperature}, positives: two slices of one track from different excerpts"
                            f"{'; other tracks of the same package are not used as negatives' if args.mask_same_group else ''}) ")
                         + f"+ {args.teacher_embedding} x MSE of a training-only linear head to the teacher's "
                         f"penultimate layers (PCA {pca})"),
                "augmentation": f"time mask 4-16 frames and frequency mask 4-12 bands, each with p {args.augment}",
                "init_weights": args.init_weights, "precise_bn_batches": args.precise_bn, **C.fit_record(best, work),
                "device": f"{dev['backend']} {dev['precision']} {', '.join(dev['devices'])} (2 shared CPU cores)",
                "keras": keras.__version__, "seed": args.seed, "trained_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            },
        }
        data_text = (f"Real music: {cfg['training']['tracks']['train']} tracks of the training packages and "
                     f"{cfg['training']['tracks']['val']} of the validation packages of the Debian game music "
                     "fetched by `../shared/data/fetch_training_music.sh` (split by package, see "
                     "docs/training.md), 30 s excerpts placed by the player's rule plus each track's centre. "
                     "Targets: the musicnn teacher's tags per 3 s slice, mapped to the eight FMA genres and "
                     "calibrated to this corpus (`genre_calibration` in config.json), and its penultimate layers.")
        notes = ("Genres are the teacher's *calibrated* opinion (relative to game music: \"more Electronic than "
                 "typical here\"), not FMA ground truth; International has only the teacher's Indian / sitar "
                 "signal, Hip-Hop is rare in game music. Trained on 2 shared CPU cores with a small budget "
                 "(few epochs of random batches); seed 000 trained on 8,000 FMA tracks. The embedding is trained "
                 "for similarity (contrastive + teacher embedding), not only as a by-product of the classifier.")
        card = C.model_card(cfg, L.GENRES, title=f"{name} ({args.model}), distilled from musicnn", data=data_text,
                            command=cfg["training"]["command"], notes=notes)
        C.write_and_check(args.out, export, cfg, L.GENRES, card)
        return 0

    return C.run_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())

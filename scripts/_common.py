"""Shared helpers of the training scripts: feature stores, label tables, splits, the Keras input
pipeline, training loop and model cards. Backend-agnostic (Keras 3 only, no TensorFlow calls).

Feature store (what ``prepare_fma.py`` and ``extract_features.py`` write, what training reads)::

    STORE/dataset.json        format, the front end (features.py constants), item shape, storage dtype
    STORE/items.csv           key, path, offset, label, group, split, shard, row, n_slices, status, error
    STORE/shards/00000.npy    (rows, *item_shape) uint8 (min-max features, x/255) or float16
    STORE/shards/00000.json   the shard's keys, slice counts and failures: written last, marks it done

Shards are written atomically, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from player.analysis import features as F  # noqa: E402

STORE_FORMAT = 1
SPLITS = ("train", "val", "test")
# Columns of a label table that are never labels.
META_COLUMNS = {"key", "path", "file", "preview_file", "offset", "start", "split", "group", "track_id",
                "song_id", "title", "id", "artist", "album", "package"}


class ScriptError(Exception):
    """A user mistake (wrong folder layout, bad table, ...): printed as one line, exit status 2."""


def run_main(fn, argv=None) -> int:
    """Call ``fn(argv)`` turning :class:`ScriptError` into a one-line message and exit status 2."""
    try:
        return int(fn(argv) or 0)
    except ScriptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return 130


def command_line(script: str, argv) -> str:
    """The command that reproduces a run, e.g. ``python scripts/train_genre.py --model cnn ...``."""
    return " ".join(["python", f"scripts/{script}"] + [shlex.quote(str(a)) for a in argv])


def resolve_frontend(spec: str) -> dict:
    """``genre`` / ``tagger`` (the seeds' presets) or a path to a JSON file (a frontend dict or a model
    config.json whose ``frontend`` is used)."""
    if spec in ("genre", "tagger"):
        return F.frontend_preset(spec)
    p = Path(spec)
    if not p.is_file():
        raise ScriptError(f"--frontend must be genre, tagger or a JSON file; {spec} does not exist")
    try:
        data = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ScriptError(f"{p}: not valid JSON ({exc})") from None
    cfg = data.get("frontend", data) if isinstance(data, dict) else data
    try:
        return F.validate_frontend(cfg)
    except F.FrontendError as exc:
        raise ScriptError(f"{p}: {exc}") from None


# ------------------------------------------------------------------------------------ feature store

def storage_for(frontend: dict) -> dict:
    if frontend["normalisation"]["kind"] == "minmax":
        return {"dtype": "uint8", "scale": 255.0}
    return {"dtype": "float16"}


def item_shape(frontend: dict) -> list:
    if frontend["kind"] == "mel_slices":
        return [int(frontend["max_slices"]), int(frontend["n_mels"]), int(frontend["slice_frames"])]
    return [int(frontend["n_mels"]), int(frontend["n_frames"])]


def _quantise(x: np.ndarray, storage: dict) -> np.ndarray:
    if storage["dtype"] == "uint8":
        return np.clip(np.rint(x * storage["scale"]), 0, 255).astype(np.uint8)
    return x.astype(np.float16)


def _extract_one(args):
    """Worker: (key, path, offset, frontend) -> (key, array or None, n_slices, error)."""
    key, path, offset, frontend = args
    try:
        x = F.load_features(path, frontend, offset=offset)
    except F.AudioDecodeError as exc:
        return key, None, 0, str(exc)
    except Exception as exc:  # a decoder crash in one file must not stop a long run
        return key, None, 0, f"{type(exc).__name__}: {exc}"
    if frontend["kind"] == "mel_slices":
        return key, x[..., 0], int(len(x)), None
    return key, x[0, ..., 0], 1, None


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        write(fh)
    os.replace(tmp, path)


def build_store(out, items: list, frontend: dict, *, shard_size: int = 256, workers: int = 1,
                source: str = "", progress: bool = True) -> "FeatureStore":
    """Compute features for ``items`` (dicts with key, path, offset, label, group, split) into ``out``.

    Resumable: shards whose ``.json`` exists with the same keys are kept. Unreadable files are
    recorded with their reason (``status=failed``) and skipped.
    """
    from tqdm import tqdm

    out = Path(out)
    (out / "shards").mkdir(parents=True, exist_ok=True)
    F.validate_frontend(frontend)
    storage = storage_for(frontend)
    shape = item_shape(frontend)
    meta = {"format": STORE_FORMAT, "frontend": frontend, "item_shape": shape, "storage": storage,
            "slices": frontend["kind"] == "mel_slices", "shard_size": shard_size, "source": source}
    ds_path = out / "dataset.json"
    if ds_path.exists():
        old = json.loads(ds_path.read_text())
        if old.get("frontend") != frontend or old.get("shard_size") != shard_size:
            raise ScriptError(f"{out} holds features made with other settings (front end or shard size); "
                              "use another output folder or delete it")
    ds_path.write_text(json.dumps(meta, indent=2) + "\n")
    keys = [str(it["key"]) for it in items]
    if len(set(keys)) != len(keys):
        raise ScriptError("item keys must be unique")
    shards = [items[i:i + shard_size] for i in range(0, len(items), shard_size)]

    def record(chunk):
        return [str(it["key"]) for it in chunk], [str(it["path"]) for it in chunk], \
            ["" if it.get("offset") is None else str(it["offset"]) for it in chunk]

    done_items = 0
    todo = []  # (shard, rows to compute or None for all, previous record)
    for s, chunk in enumerate(shards):
        info = out / "shards" / f"{s:05d}.json"
        if info.exists() and (out / "shards" / f"{s:05d}.npy").exists():
            try:
                old = json.loads(info.read_text())
            except (OSError, json.JSONDecodeError):
                old = {}
            keys, paths, offs = record(chunk)
            if old.get("keys") == keys and old.get("paths") == paths and old.get("offsets") == offs:
                retry = [r for r, k in enumerate(keys) if k in old.get("failed", {})]
                done_items += len(chunk) - len(retry)
                if retry:  # failed files get another chance (the file may have been fixed)
                    todo.append((s, retry, old))
                continue
        todo.append((s, None, None))
    bar = tqdm(total=len(items), initial=done_items, unit="track", desc="features", disable=not progress,
               file=sys.stderr)
    pool = None
    if workers > 1 and todo:
        import multiprocessing

        pool = multiprocessing.get_context("spawn").Pool(workers)
    try:
        for s, rows, old in todo:
            chunk = shards[s]
            npy = out / "shards" / f"{s:05d}.npy"
            if rows is None:
                arr = np.zeros([len(chunk)] + shape, dtype=np.uint8 if storage["dtype"] == "uint8" else np.float16)
                n_slices, failed = [0] * len(chunk), {}
                rows = list(range(len(chunk)))
            else:
                arr = np.array(np.load(npy))
                n_slices, failed = list(old["n_slices"]), dict(old["failed"])
            jobs = [(str(chunk[r]["key"]), str(chunk[r]["path"]), chunk[r].get("offset"), frontend) for r in rows]
            results = pool.imap(_extract_one, jobs, chunksize=2) if pool else map(_extract_one, jobs)
            for row, (key, x, k, err) in zip(rows, results):
                failed.pop(key, None)
                if err is not None:
                    failed[key] = err
                    n_slices[row] = 0
                    bar.write(f"skipped {chunk[row]['path']}: {err}")
                else:
                    arr[row] = 0
                    arr[row, :len(x)] = _quantise(x, storage)
                    n_slices[row] = k
                bar.update(1)
            keys, paths, offs = record(chunk)
            _write_atomic(npy, lambda fh: np.save(fh, arr))
            _write_atomic(out / "shards" / f"{s:05d}.json", lambda fh: fh.write(json.dumps(
                {"keys": keys, "paths": paths, "offsets": offs, "n_slices": n_slices, "failed": failed}).encode()))
    finally:
        bar.close()
        if pool is not None:
            pool.close()
            pool.join()
    # items.csv from the shard records
    rows = []
    for s, chunk in enumerate(shards):
        info = json.loads((out / "shards" / f"{s:05d}.json").read_text())
        for r, it in enumerate(chunk):
            key = str(it["key"])
            err = info["failed"].get(key)
            rows.append({"key": key, "path": str(it["path"]),
                         "offset": "" if it.get("offset") in (None, "") else it["offset"],
                         "label": it.get("label", "") or "", "group": it.get("group", "") or "",
                         "split": it.get("split", "") or "", "shard": s, "row": r,
                         "n_slices": info["n_slices"][r], "status": "failed" if err else "ok",
                         "error": err or ""})
    write_table(out / "items.csv", rows, ["key", "path", "offset", "label", "group", "split", "shard", "row",
                                         "n_slices", "status", "error"])
    failed = [r for r in rows if r["status"] == "failed"]
    if failed:
        write_table(out / "failed.tsv", [{"key": r["key"], "path": r["path"], "reason": r["error"]} for r in failed],
                    ["key", "path", "reason"], delimiter="\t")
    return FeatureStore(out)


def write_table(path, rows: list, columns: list, delimiter: str = ",") -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, delimiter=delimiter, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


class FeatureStore:
    """Read side of a feature store: memory-mapped shards and the item table."""

    def __init__(self, root):
        self.root = Path(root)
        ds = self.root / "dataset.json"
        if not ds.is_file():
            raise ScriptError(f"{self.root}: not a feature store (no dataset.json); make one with "
                              "scripts/prepare_fma.py or scripts/extract_features.py")
        self.meta = json.loads(ds.read_text())
        if self.meta.get("format") != STORE_FORMAT:
            raise ScriptError(f"{ds}: unsupported store format {self.meta.get('format')!r}")
        if not (self.root / "items.csv").is_file():
            raise ScriptError(f"{self.root}: items.csv is missing: the extraction did not finish; run it again")
        import pandas as pd

        self.items = pd.read_csv(self.root / "items.csv", dtype={"key": str, "label": str, "group": str,
                                                                  "split": str, "path": str, "error": str},
                                 keep_default_na=False)
        self.frontend = self.meta["frontend"]
        self.slices = bool(self.meta["slices"])
        self.storage = self.meta["storage"]
        self._shards = {}

    def shard(self, s: int) -> np.ndarray:
        arr = self._shards.get(s)
        if arr is None:
            p = self.root / "shards" / f"{int(s):05d}.npy"
            try:
                arr = np.load(p, mmap_mode="r")
            except (OSError, ValueError) as exc:
                raise ScriptError(f"{p}: unreadable feature shard ({exc}); delete it and its .json and rerun "
                                  "the extraction") from None
            self._shards[s] = arr
        return arr

    def ok(self):
        return self.items[self.items["status"] == "ok"].reset_index(drop=True)

    def decode(self, raw: np.ndarray) -> np.ndarray:
        """Stored values -> float32 model inputs (adds the channel axis)."""
        x = raw.astype(np.float32)
        if self.storage["dtype"] == "uint8":
            x *= 1.0 / float(self.storage["scale"])
        return x[..., None]

    def get(self, shard: int, row: int, slice_: int | None = None) -> np.ndarray:
        a = self.shard(shard)
        return self.decode(a[row] if slice_ is None else a[row, slice_])

    def item_inputs(self, item) -> np.ndarray:
        """The model input batch of one item (all its slices, or the one excerpt)."""
        a = self.shard(int(item["shard"]))
        if self.slices:
            return self.decode(np.asarray(a[int(item["row"]), :int(item["n_slices"])]))
        return self.decode(np.asarray(a[int(item["row"])]))[None]


# --------------------------------------------------------------------------------------- label tables

def read_label_table(path, label_columns=None) -> tuple:
    """Read a label table (CSV, or TSV by extension / content).

    Returns ``(frame, label_columns)``. Label columns are ``label_columns`` when given, otherwise every
    numeric column outside :data:`META_COLUMNS` whose values lie in [0, 1] (0/1 tags or probabilities).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ScriptError(f"label table {path} not found")
    with open(path, encoding="utf-8", errors="replace") as fh:
        head = fh.readline()
    sep = "\t" if path.suffix.lower() in (".tsv", ".tab") or head.count("\t") > head.count(",") else ","
    try:
        df = pd.read_csv(path, sep=sep, keep_default_na=False, na_values=[""],
                         dtype={c: str for c in ("key", "path", "file", "preview_file", "split", "group")})
    except Exception as exc:
        raise ScriptError(f"{path}: cannot read as a table ({exc})") from None
    if df.empty:
        raise ScriptError(f"{path}: the label table has no rows")
    if label_columns:
        missing = [c for c in label_columns if c not in df.columns]
        if missing:
            raise ScriptError(f"{path}: no column(s) {', '.join(missing)}")
        cols = list(label_columns)
    else:
        cols = []
        for c in df.columns:
            if str(c).lower() in META_COLUMNS:
                continue
            v = pd.to_numeric(df[c], errors="coerce")
            if v.notna().all() and v.between(0, 1).all():
                cols.append(c)
    if not cols:
        raise ScriptError(f"{path}: no label columns (numeric 0/1 or probabilities in [0, 1]) found")
    vals = df[cols].apply(pd.to_numeric, errors="coerce")
    if vals.isna().any().any() or not ((vals >= 0) & (vals <= 1)).all().all():
        raise ScriptError(f"{path}: label values must be numbers in [0, 1]")
    df[cols] = vals.astype(np.float32)
    return df, cols


def check_label_set(y: np.ndarray, names: list, where: str, task: str) -> None:
    """Refuse labels that cannot train anything: no rows, one class, or tags that never vary."""
    if y.shape[0] == 0:
        raise ScriptError(f"{where}: the label set is empty (no training rows with features)")
    if task == "genre":
        present = np.unique(y.argmax(axis=1))
        if len(names) < 2 or len(present) < 2:
            raise ScriptError(f"{where}: the label set has a single class "
                              f"({names[present[0]] if len(present) else names}); need at least two")
    else:
        if len(names) < 1:
            raise ScriptError(f"{where}: no tags")
        pos = (y >= 0.5)
        if not pos.any() or pos.all():
            raise ScriptError(f"{where}: every tag is {'always' if pos.all() else 'never'} positive: a single-class "
                              "label set cannot train a tagger")


def table_keys(df, audio_root=None) -> tuple:
    """Item keys and audio paths for a label table (``key`` column, else ``path`` [+ ``@offset``])."""
    path_col = next((c for c in ("path", "file", "preview_file") if c in df.columns), None)
    off_col = next((c for c in ("offset", "start") if c in df.columns), None)
    keys, paths, offsets = [], [], []
    root = Path(audio_root) if audio_root else None
    for _, r in df.iterrows():
        off = r[off_col] if off_col else None
        off = None if off is None or (isinstance(off, float) and math.isnan(off)) or off == "" else float(off)
        p = str(r[path_col]) if path_col else None
        if "key" in df.columns:
            k = str(r["key"])
        elif p is not None:
            k = p if off is None else f"{p}@{off:g}"
        else:
            raise ScriptError("the label table needs a 'key' or a 'path' column")
        keys.append(k)
        if p is not None:
            pp = Path(p)
            paths.append(str(pp if pp.is_absolute() or root is None else root / pp))
        else:
            paths.append(None)
        offsets.append(off)
    return keys, paths, offsets


# --------------------------------------------------------------------------------------------- splits

def assign_splits(keys: list, strata=None, groups=None, *, test_count: int = 500, val_fraction: float = 0.1,
                  seed: int = 0) -> dict:
    """A fixed, seeded train/val/test split. ``test_count`` items go to test (but never more than 30 % of
    the data), then ``val_fraction`` of the rest to validation.
    With ``groups`` whole groups move together; with ``strata`` (and no groups) the split is stratified."""
    n = len(keys)
    rng = np.random.default_rng(seed)
    if n < 3:
        raise ScriptError(f"need at least 3 items to split into train/val/test, got {n}")
    n_test = min(test_count, max(1, round(0.3 * n)))  # never more than 30 % of the data
    out = {}
    if groups is not None and any(groups):
        uniq = sorted(set(groups))
        rng.shuffle(uniq)
        sizes = {g: 0 for g in uniq}
        for g in groups:
            sizes[g] += 1
        n_val = max(1, round(val_fraction * (n - n_test)))
        assign, t, v = {}, 0, 0
        for g in uniq:
            if t < n_test:
                assign[g], t = "test", t + sizes[g]
            elif v < n_val:
                assign[g], v = "val", v + sizes[g]
            else:
                assign[g] = "train"
        return {k: assign[g] for k, g in zip(keys, groups)}
    idx = np.arange(n)
    order = _stratified_order(idx, strata, rng)
    n_val = max(1, round(val_fraction * (n - n_test)))
    for i in order[:n_test]:
        out[keys[i]] = "test"
    for i in order[n_test:n_test + n_val]:
        out[keys[i]] = "val"
    for i in order[n_test + n_val:]:
        out[keys[i]] = "train"
    return out


def _stratified_order(idx, strata, rng):
    """A permutation that interleaves the strata, so every prefix is (nearly) stratified."""
    if strata is None:
        return rng.permutation(idx)
    strata = np.asarray(strata)
    buckets = {s: list(rng.permutation(idx[strata == s])) for s in sorted(set(strata.tolist()))}
    n = len(idx)
    # Assign each item a fractional position within its stratum, then sort: a proportional interleave.
    pos = []
    for s, members in buckets.items():
        m = len(members)
        offset = rng.random()
        for j, i in enumerate(members):
            pos.append(((j + offset) / m, rng.random(), i))
    pos.sort()
    return np.array([i for _, _, i in pos][:n])


# ------------------------------------------------------------------------------------- input pipeline

def make_dataset(store: FeatureStore, items, targets: np.ndarray, *, batch_size: int, shuffle: bool,
                 seed: int = 0, max_batches: int | None = None, pairs: bool = False, workers: int = 1,
                 drop_remainder: bool = False):
    """A ``keras.utils.PyDataset`` over the memory-mapped shards.

    ``items`` is a DataFrame slice of ``store.items`` (status ok) and ``targets`` its (n, classes) float32
    label rows. For slice stores every slice of every item is one sample (seed 000); with
    ``pairs=True`` a batch holds two different slices of each of ``batch_size // 2`` items, adjacent
    (for the contrastive term), and the targets are ``(labels, dummy)``. ``max_batches`` caps an epoch
    (a fresh random subset each epoch when shuffling). ``drop_remainder`` keeps every batch full (data
    parallel training splits a batch evenly over the devices).
    """
    import keras

    shards = items["shard"].to_numpy(np.int64)
    rows = items["row"].to_numpy(np.int64)
    n_sl = items["n_slices"].to_numpy(np.int64) if store.slices else np.ones(len(items), np.int64)

    class _Data(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=8)
            self.rng = np.random.default_rng(seed)
            if pairs:
                self.units = np.nonzero(n_sl >= 1)[0]
                self.per_batch = max(1, batch_size // 2)
            else:
                item = np.repeat(np.arange(len(items)), n_sl)
                sl = np.concatenate([np.arange(k) for k in n_sl]) if len(n_sl) else np.zeros(0, np.int64)
                self.units = np.stack([item, sl], 1) if len(item) else np.zeros((0, 2), np.int64)
                self.per_batch = batch_size
            self.order = np.arange(len(self.units))
            self._reshuffle()

        def _reshuffle(self):
            if shuffle:
                self.order = self.rng.permutation(len(self.units))

        def __len__(self):
            n = len(self.units) / self.per_batch
            n = math.floor(n) if drop_remainder and n >= 1 else math.ceil(n)
            return min(n, max_batches) if max_batches else n

        def on_epoch_end(self):
            self._reshuffle()

        def _load(self, it, sl):
            a = store.shard(int(shards[it]))
            return a[rows[it], sl] if store.slices else a[rows[it]]

        def __getitem__(self, i):
            sel = self.order[i * self.per_batch:(i + 1) * self.per_batch]
            if pairs:
                xs, ys = [], []
                # deterministic pairs for validation, random ones for training
                r = self.rng if shuffle else np.random.default_rng(seed + i)
                for u in sel:
                    it = self.units[u]
                    k = int(n_sl[it])
                    a, b = (r.choice(k, 2, replace=False) if k >= 2 else (0, 0))
                    xs += [self._load(it, a), self._load(it, b)]
                    ys += [targets[it], targets[it]]
                x = store.decode(np.stack(xs))
                y = np.stack(ys).astype(np.float32)
                return x, (y, np.zeros((len(y), 1), np.float32))
            units = self.units[sel]
            if store.slices:
                # read in storage order: friendlier to the page cache of the memory maps
                o = np.lexsort((units[:, 1], rows[units[:, 0]], shards[units[:, 0]]))
                units = units[o]
                x = np.stack([self._load(it, sl) for it, sl in units])
                y = targets[units[:, 0]]
            else:
                x = np.stack([self._load(it, 0) for it in sel])
                y = targets[sel]
            return store.decode(x), y.astype(np.float32)

    return _Data()


def nt_xent(temperature: float = 0.1):
    """Contrastive loss on a batch of adjacent positive pairs (rows 2i and 2i+1), keras.ops only."""
    from keras import ops

    def loss(y_true, y_pred):
        z = ops.cast(y_pred, "float32")
        z = z / (ops.sqrt(ops.sum(z * z, axis=1, keepdims=True)) + 1e-6)
        sim = ops.matmul(z, ops.transpose(z)) / temperature
        n = ops.shape(sim)[0]
        sim = sim - 1e9 * ops.eye(n, dtype="float32")
        idx = ops.arange(n)
        partner = idx + 1 - 2 * (idx % 2)
        logp = sim - ops.logsumexp(sim, axis=1, keepdims=True)
        return -ops.squeeze(ops.take_along_axis(logp, ops.expand_dims(partner, 1), axis=1), 1)

    loss.__name__ = "nt_xent"
    return loss


# ---------------------------------------------------------------------------------------- training

def setup_devices(precision: str = "auto", verbose: bool = True) -> dict:
    """Mixed precision on GPU only; data parallel over every GPU (``keras.distribution``)."""
    import keras

    try:
        devices = keras.distribution.list_devices()
    except Exception:
        devices = ["cpu:0"]
    gpus = [d for d in devices if str(d).lower().startswith(("gpu", "cuda"))]
    info = {"backend": keras.backend.backend(), "devices": [str(d) for d in devices], "gpus": len(gpus)}
    policy = "float32"
    if precision == "mixed" or (precision == "auto" and gpus):
        policy = "mixed_float16"
    keras.mixed_precision.set_global_policy(policy)
    info["precision"] = policy
    if len(gpus) > 1:
        try:
            keras.distribution.set_distribution(keras.distribution.DataParallel(devices=gpus))
            info["distribution"] = f"DataParallel over {len(gpus)} GPUs"
        except Exception as exc:  # e.g. a backend without the distribution API
            info["distribution"] = f"single device ({exc})"
    if verbose:
        print(f"keras {keras.__version__} on {info['backend']}: {len(devices)} device(s), {policy}", file=sys.stderr)
    return info


def read_log(path) -> list:
    """Rows of a CSVLogger file (one per epoch, across resumed runs)."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_epoch = {}
    for r in rows:
        try:
            by_epoch[int(r["epoch"])] = {k: float(v) for k, v in r.items() if v not in ("", None)}
        except (KeyError, ValueError):
            continue
    return [by_epoch[e] for e in sorted(by_epoch)]


def best_epoch(log: list, monitor: str = "val_loss") -> dict:
    rows = [r for r in log if monitor in r and math.isfinite(r[monitor])]
    if not rows:
        raise ScriptError(f"no epoch recorded {monitor}; training produced nothing to choose from")
    return min(rows, key=lambda r: r[monitor])


def precise_bn_callback(data, batches: int, seed: int = 0):
    """Before each validation, re-estimate every batch-norm layer's moving mean / variance as the average
    of ``batches`` training batches' statistics ("precise BN"). Keras' default moving averages (momentum
    0.99) need hundreds of steps to forget their initial values, so short runs would validate and ship
    with wrong statistics. Backend-agnostic: eager calls, variables assigned between epochs."""
    import keras
    from keras import ops

    class PreciseBN(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)

        def on_test_begin(self, logs=None):
            n = min(batches, len(data))
            bns = [l for l in self.model.layers if isinstance(l, keras.layers.BatchNormalization)]
            if n <= 0 or not bns:
                return
            saved = [l.momentum for l in bns]
            acc = [[0.0, 0.0] for _ in bns]
            try:
                for l in bns:
                    l.momentum = 0.0
                for i in self.rng.choice(len(data), n, replace=False):
                    self.model(data[int(i)][0], training=True)
                    for j, l in enumerate(bns):
                        acc[j][0] = acc[j][0] + ops.convert_to_numpy(l.moving_mean)
                        acc[j][1] = acc[j][1] + ops.convert_to_numpy(l.moving_variance)
                for j, l in enumerate(bns):
                    l.moving_mean.assign(acc[j][0] / n)
                    l.moving_variance.assign(acc[j][1] / n)
            finally:
                for l, m in zip(bns, saved):
                    l.momentum = m

    return PreciseBN()


def fit(model, train_data, val_data, *, work: Path, epochs: int, patience: int, monitor: str = "val_loss",
        verbose: int = 2, precise_bn: int = 0, seed: int = 0) -> dict:
    """Train with per-epoch checkpoints (``work/checkpoints/epoch-NNN.weights.h5``), resumable state
    (``work/backup``), a CSV log and early stopping; returns the best epoch's log row."""
    import keras

    ckpt = work / "checkpoints"
    ckpt.mkdir(parents=True, exist_ok=True)
    log_path = work / "log.csv"
    callbacks = [
        keras.callbacks.BackupAndRestore(str(work / "backup"), delete_checkpoint=False),
        keras.callbacks.ModelCheckpoint(str(ckpt / "epoch-{epoch:03d}.weights.h5"), save_weights_only=True),
        keras.callbacks.CSVLogger(str(log_path), append=True),
        keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, restore_best_weights=False),
        keras.callbacks.TerminateOnNaN(),
    ]
    if precise_bn:
        callbacks.insert(0, precise_bn_callback(train_data, precise_bn, seed))
    finished = work / "finished.json"
    elapsed = work / "seconds.txt"  # training time summed over resumed sessions
    if finished.exists() and json.loads(finished.read_text()).get("epochs", 0) < epochs:
        finished.unlink()  # asked for more epochs: continue from the last one
    if finished.exists():
        print(f"{work}: this run already finished; writing its model folder again (--fresh retrains)",
              file=sys.stderr)
    else:
        t0 = time.time()
        try:
            model.fit(train_data, validation_data=val_data, epochs=epochs, callbacks=callbacks, verbose=verbose)
        finally:
            before = float(elapsed.read_text()) if elapsed.exists() else 0.0
            elapsed.write_text(f"{before + time.time() - t0:.1f}\n")
        finished.write_text(json.dumps({"finished_at": time.strftime("%Y-%m-%d %H:%M:%S"), "epochs": epochs}) + "\n")
    log = read_log(log_path)
    best = dict(best_epoch(log, monitor))
    best["epoch"] = int(best["epoch"]) + 1  # CSVLogger counts from 0, checkpoints from 1
    best["checkpoint"] = str(ckpt / f"epoch-{best['epoch']:03d}.weights.h5")
    best["seconds"] = float(elapsed.read_text()) if elapsed.exists() else None
    best["epochs_run"] = len(log)
    return best


def fit_and_export(net, train_data, val_data, args, work: Path, rebuild) -> tuple[dict, object]:
    """Train ``net`` (:func:`fit` with the script's ``--epochs --patience --precise-bn --seed --quiet``),
    then build the model to export afresh, in float32 and without optimizer state, and load the best
    epoch's weights into it. ``rebuild()`` returns ``(export, loader)``: the model to export and the
    model the checkpoint's weights fit (the export itself, or a training network around it).
    Returns ``(best epoch's log row, export)``."""
    import keras

    best = fit(net, train_data, val_data, work=work, epochs=args.epochs, patience=args.patience,
               verbose=0 if args.quiet else 2, precise_bn=args.precise_bn, seed=args.seed)
    print(f"best epoch {best['epoch']} (val_loss {best['val_loss']:.4f}) of {best['epochs_run']}", file=sys.stderr)
    keras.mixed_precision.set_global_policy("float32")
    export, loader = rebuild()
    loader.load_weights(best["checkpoint"])
    return best, export


def fit_record(best: dict, work: Path) -> dict:
    """The part of a config's ``training`` section about the fit itself."""
    return {"epochs_run": best["epochs_run"], "best_epoch": best["epoch"],
            "best_val_loss": round(best["val_loss"], 5), "history": read_log(work / "log.csv"),
            "seconds": best["seconds"]}


def write_and_check(out: Path, export, cfg: dict, labels: list, card: str, weights_dtype: str = "float16") -> Path:
    """Write the model folder and prove that it loads."""
    from player.analysis import registry as R

    R.write_model_folder(out, export, cfg, labels, card=card, weights_dtype=weights_dtype)
    R.load(str(Path(out).resolve()))
    print(f"wrote {out}", file=sys.stderr)
    return Path(out)


def work_dir_for(out: Path, work) -> Path:
    """``--work``, else ``data/training/NAME`` for a model under the repository's models/ (kept out of
    git), else ``.NAME.work`` next to the output folder."""
    if work:
        w = Path(work)
    elif out.resolve().parent == (REPO / "models").resolve():
        w = REPO / "data" / "training" / out.name
    else:
        w = out.parent / f".{out.name}.work"
    w.mkdir(parents=True, exist_ok=True)
    return w


def fingerprint(obj) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


def guard_work_dir(work: Path, settings: dict) -> None:
    """Resuming is only allowed with the same settings; a different run needs a fresh work folder."""
    f = work / "settings.json"
    fp = fingerprint(settings)
    if f.exists():
        old = json.loads(f.read_text())
        if old.get("fingerprint") != fp:
            raise ScriptError(f"{work} holds a training run with other settings; pass --fresh to discard it "
                              "or --work to use another folder")
    else:
        f.write_text(json.dumps({"fingerprint": fp, "settings": settings}, indent=2, default=str) + "\n")


def reset_work_dir(work: Path) -> None:
    import shutil

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)


# -------------------------------------------------------------------------------------------- cards

METRICS_BEGIN = "<!-- metrics:begin (written by scripts/evaluate.py) -->"
METRICS_END = "<!-- metrics:end -->"


def model_config(model, *, architecture: str, name: str, version: str, task: str, n_classes: int,
                 frontend: dict) -> dict:
    """The part of a model folder's ``config.json`` every trainer writes the same way (the trainer adds
    its own ``training`` section and whatever else it knows)."""
    from player.analysis import architectures as A
    from player.analysis import registry as R

    return {
        "format": R.CONFIG_FORMAT,
        "name": name,
        "version": version,
        "task": task,
        "architecture": architecture,
        "input_shape": list(model.input_shape[1:]),
        "n_classes": n_classes,
        "output": A.OUTPUT_KIND[architecture],
        "parameters": int(model.count_params()),
        "embedding_layer": A.EMBEDDING_LAYER,
        "embedding_dim": A.embedding_dim(model),
        "aggregation": {"probabilities": "mean over the excerpt's rows (slices)",
                        "embedding": "mean over the excerpt's rows (slices)"},
        "frontend": frontend,
    }


def model_card(cfg: dict, labels: list, *, title: str, data: str, command: str, notes: str = "") -> str:
    t = cfg.get("training", {})
    fe = cfg["frontend"]
    lines = [
        f"# {title}",
        "",
        f"`{cfg['name']}@{cfg['version']}` — architecture `{cfg['architecture']}` "
        f"({cfg.get('parameters', '?'):,} parameters), task `{cfg['task']}`, {len(labels)} outputs "
        f"({cfg.get('output')}).",
        "",
        "## Data",
        "",
        data,
        "",
        "## Training",
        "",
        "```",
        command,
        "```",
        "",
        f"Best epoch {t.get('best_epoch')} of {t.get('epochs_run')} by validation loss "
        f"({t.get('best_val_loss')}); {t.get('train_samples')} training samples, batch {t.get('batch_size')}, "
        f"{t.get('seconds')} s on {t.get('device', '?')}.",
        "",
        "## Input",
        "",
        f"Front end `{fe['kind']}` of `player/analysis/features.py` with the constants in `config.json`: "
        f"{fe['sample_rate']} Hz mono, {fe['excerpt_seconds']} s excerpt ({fe.get('excerpt_offset', 'centre')}), "
        f"n_fft {fe['n_fft']}, hop {fe['hop_length']}, {fe['n_mels']} mel bands up to {fe['fmax']} Hz, "
        f"log {fe['log']}, normalisation {fe['normalisation']}; input shape {cfg['input_shape']}.",
        "",
    ]
    if fe["kind"] == "mel_slices":
        lines += [
            "Seed 000 rendered the spectrogram as a matplotlib picture (grey colour map, autoscaled), saved it "
            "as a JPEG and read the pixels back. Here the array is computed directly with the same mel / dB / "
            "min-max scaling (no inversion or vertical flip, which a network trained from scratch does not "
            "care about): JPEG is lossy (8-bit steps plus block artefacts the network would learn), the "
            "picture depends on matplotlib's figure size, dpi and colour map, the round trip costs several "
            "times the spectrogram itself, and the player would have to repeat the exact rendering to feed "
            "the model what it was trained on. tests/test_analysis_features.py checks that the seed's pixels "
            "and these arrays agree up to the JPEG error.",
            "",
        ]
    lines += [
        "## Labels",
        "",
        ", ".join(labels),
        "",
        "## Metrics",
        "",
        METRICS_BEGIN,
        "Not evaluated yet: run `scripts/evaluate.py`.",
        METRICS_END,
        "",
        "## Known limits",
        "",
        notes or "-",
        "",
    ]
    return "\n".join(lines)


def replace_metrics(card: str, text: str) -> str:
    if METRICS_BEGIN in card and METRICS_END in card:
        a = card.index(METRICS_BEGIN) + len(METRICS_BEGIN)
        b = card.index(METRICS_END)
        return card[:a] + "\n" + text.strip() + "\n" + card[b:]
    return card.rstrip() + "\n\n## Metrics\n\n" + METRICS_BEGIN + "\n" + text.strip() + "\n" + METRICS_END + "\n"

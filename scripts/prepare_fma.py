#!/usr/bin/env python
"""Turn the FMA dataset into a feature store for training: seed 000's 128x128 mel slices (or seed 002's
tagger input), sharded .npy files plus a fixed, seeded train / validation / test split.

Expected layout (as downloaded from https://github.com/mdeff/fma and unzipped into ROOT):

    ROOT/fma_metadata/tracks.csv        FMA's metadata (two header rows + the track_id row)
    ROOT/fma_small/NNN/NNNNNN.mp3       the audio (fma_medium / fma_large with --subset)

The split: --test-count tracks (500, as seed 000) are held out for test, stratified by genre; then
--val-fraction of the rest for validation; seeded, so the same data always gives the same split. The
test set never takes more than 30 % of the tracks (tiny data sets). --split fma uses FMA's own split.
Unreadable or missing tracks (fma_small has a few) are reported, listed in OUT/failed.tsv, and skipped.
Interrupted? Run the same command again: finished shards are kept.

Example:
  python scripts/prepare_fma.py ~/data/fma data/fma_small.features --workers 2
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
from _common import ScriptError  # noqa: E402

SUBSETS = {"small": ("small",), "medium": ("small", "medium"), "large": ("small", "medium", "large")}
FMA_SPLITS = {"training": "train", "validation": "val", "test": "test"}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="prepare_fma.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("root", help="folder holding fma_metadata/ and fma_small/")
    p.add_argument("out", help="output feature store folder")
    p.add_argument("--subset", choices=sorted(SUBSETS), default="small")
    p.add_argument("--audio-dir", help="the audio folder (default: ROOT/fma_SUBSET)")
    p.add_argument("--frontend", default="genre", help="genre (seed 000 slices, default), tagger (seed 002) "
                                                       "or a JSON file with a frontend / model config")
    p.add_argument("--split", choices=["seeded", "fma"], default="seeded",
                   help="seeded: seed 000's 500-track test set (default); fma: FMA's own split column")
    p.add_argument("--test-count", type=int, default=500,
                   help="tracks held out for test (default 500; never more than 30 %% of the data)")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0, help="split seed")
    p.add_argument("--limit", type=int, help="use only the first N tracks (quick trials)")
    p.add_argument("--workers", type=int, default=1, help="decoding processes")
    p.add_argument("--shard-size", type=int, default=256, help="tracks per shard file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def read_tracks(path: Path):
    """FMA's tracks.csv (header rows: top level, field, and the 'track_id' index row)."""
    import pandas as pd

    try:
        tracks = pd.read_csv(path, index_col=0, header=[0, 1], low_memory=False)
    except Exception as exc:
        raise ScriptError(f"{path}: cannot read FMA's tracks.csv ({exc})") from None
    need = [("set", "subset"), ("track", "genre_top")]
    missing = [f"{a}.{b}" for a, b in need if (a, b) not in tracks.columns]
    if missing:
        raise ScriptError(f"{path}: not FMA's tracks.csv: lacks column(s) {', '.join(missing)} (expected two "
                          "header rows such as 'track' / 'genre_top')")
    try:
        tracks.index = tracks.index.astype(int)
    except (TypeError, ValueError):
        raise ScriptError(f"{path}: the first column must hold integer track ids") from None
    return tracks


def audio_path(audio_dir: Path, tid: int) -> Path:
    s = f"{tid:06d}"
    return audio_dir / s[:3] / f"{s}.mp3"


def main(argv=None) -> int:
    def run(argv):
        args = parser().parse_args(argv)
        root = Path(args.root)
        meta = root / "fma_metadata" / "tracks.csv"
        if not root.is_dir():
            raise ScriptError(f"{root}: no such folder")
        if not meta.is_file():
            raise ScriptError(f"{meta} not found: expected FMA's layout ROOT/fma_metadata/tracks.csv and "
                              "ROOT/fma_small/NNN/NNNNNN.mp3 (fma_metadata.zip and fma_small.zip from "
                              "https://github.com/mdeff/fma, unzipped into ROOT)")
        audio_dir = Path(args.audio_dir) if args.audio_dir else root / f"fma_{args.subset}"
        if not audio_dir.is_dir():
            raise ScriptError(f"{audio_dir} not found: unzip fma_{args.subset}.zip into {root} or pass --audio-dir")
        frontend = C.resolve_frontend(args.frontend)
        tracks = read_tracks(meta)
        sel = tracks[tracks[("set", "subset")].isin(SUBSETS[args.subset])]
        genre = sel[("track", "genre_top")]
        sel = sel[genre.notna() & (genre.astype(str) != "")]
        if sel.empty:
            raise ScriptError(f"{meta}: no tracks of subset {args.subset!r} with a top genre")
        sel = sel.sort_index()
        if args.limit:
            sel = sel.iloc[:args.limit]
        tids = [int(t) for t in sel.index]
        genres = [str(g) for g in sel[("track", "genre_top")]]
        keys = [f"{t:06d}" for t in tids]
        if args.split == "fma":
            if ("set", "split") not in sel.columns:
                raise ScriptError(f"{meta}: has no set.split column for --split fma")
            splits = dict(zip(keys, (FMA_SPLITS.get(str(s), "") for s in sel[("set", "split")])))
        else:
            idx = {g: i for i, g in enumerate(sorted(set(genres)))}
            splits = C.assign_splits(keys, strata=[idx[g] for g in genres], test_count=args.test_count,
                                     val_fraction=args.val_fraction, seed=args.seed)
        n_dirs = sum(1 for p in audio_dir.iterdir() if p.is_dir())
        if n_dirs == 0:
            raise ScriptError(f"{audio_dir}: holds no NNN/ folders of mp3s (FMA's layout)")
        items = [{"key": k, "path": str(audio_path(audio_dir, t)), "offset": None, "label": g, "group": "",
                  "split": splits[k]} for k, t, g in zip(keys, tids, genres)]
        counts = {s: sum(1 for v in splits.values() if v == s) for s in C.SPLITS}
        print(f"{len(items)} tracks, {len(set(genres))} genres; split {counts}", file=sys.stderr)
        store = C.build_store(args.out, items, frontend, shard_size=args.shard_size, workers=args.workers,
                              source=f"FMA {args.subset} ({meta})", progress=not args.quiet)
        ok = store.ok()
        failed = len(store.items) - len(ok)
        print(f"wrote {args.out}: {len(ok)} tracks with features, {failed} skipped"
              + (f" (see {Path(args.out) / 'failed.tsv'})" if failed else ""), file=sys.stderr)
        return 0

    return C.run_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())

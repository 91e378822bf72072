#!/usr/bin/env python
"""Compute a feature store (model inputs, sharded .npy) from a folder of audio or a label table.

The store is what train_genre.py / train_tagger.py / evaluate.py read with --features. Features come
from player/analysis/features.py with the chosen front end, exactly as the player computes them.

  --folder DIR   every audio file below DIR; key = its path relative to DIR, group = its first folder
                 (e.g. the package of ../shared/data/fetch_training_music.sh), so splits can keep a
                 group together; --excerpts N takes N evenly spaced excerpts per file (key PATH@SECONDS)
  --table FILE   a label table's rows (path [+ offset], optional key / split / group columns)

Unreadable files are reported, listed in OUT/failed.tsv and skipped. Interrupted? Run it again.

Examples:
  python scripts/extract_features.py --folder ~/music --frontend genre --excerpts 3 work/genre.features
  python scripts/extract_features.py --table teacher_labels.csv --frontend tagger work/tagger.features
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
from _common import ScriptError  # noqa: E402

AUDIO_EXTENSIONS = {".mp3", ".ogg", ".oga", ".opus", ".flac", ".wav", ".wave", ".aiff", ".aif"}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="extract_features.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="output feature store folder")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--folder", help="a folder of audio files")
    src.add_argument("--table", help="a label table with a path column")
    p.add_argument("--audio-root", help="resolve the table's relative paths against this folder "
                                        "(default: the table's folder)")
    p.add_argument("--frontend", default="genre", help="genre, tagger, or a JSON file (frontend or model config)")
    p.add_argument("--excerpts", type=int, default=1, help="excerpts per file with --folder (default 1: the centre)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--shard-size", type=int, default=256)
    p.add_argument("--quiet", action="store_true")
    return p


def excerpt_offsets(duration: float | None, seconds: float, n: int) -> list:
    """``n`` evenly spaced excerpt starts (seconds) for a file of ``duration``; [None] = centre."""
    if n <= 1 or not duration or duration <= seconds:
        return [None]
    span = duration - seconds
    return [round(span * (i + 0.5) / n, 2) for i in range(n)]


def folder_items(folder: Path, frontend: dict, n: int) -> list:
    import soundfile as sf

    if not folder.is_dir():
        raise ScriptError(f"{folder}: no such folder")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
    if not files:
        raise ScriptError(f"{folder}: no audio files ({', '.join(sorted(AUDIO_EXTENSIONS))})")
    items = []
    for p in files:
        rel = p.relative_to(folder).as_posix()
        group = rel.split("/", 1)[0] if "/" in rel else ""
        duration = None
        if n > 1:
            try:
                info = sf.info(str(p))
                duration = info.frames / info.samplerate if 0 < info.frames < 7 * 24 * 3600 * info.samplerate else None
            except Exception:
                duration = None
        for off in excerpt_offsets(duration, frontend["excerpt_seconds"], n):
            key = rel if off is None else f"{rel}@{off:g}"
            items.append({"key": key, "path": str(p), "offset": off, "group": group, "split": ""})
    return items


def table_items(table: str, audio_root) -> list:
    df, _ = C.read_label_table(table)
    keys, paths, offsets = C.table_keys(df, audio_root or Path(table).parent)
    if any(p is None for p in paths):
        raise ScriptError(f"{table}: needs a path column")
    return [{"key": k, "path": p, "offset": o,
             "group": str(df["group"].iloc[i]) if "group" in df.columns else "",
             "split": str(df["split"].iloc[i]) if "split" in df.columns else ""}
            for i, (k, p, o) in enumerate(zip(keys, paths, offsets))]


def main(argv=None) -> int:
    def run(argv):
        args = parser().parse_args(argv)
        frontend = C.resolve_frontend(args.frontend)
        if args.folder:
            items = folder_items(Path(args.folder), frontend, args.excerpts)
            source = f"folder {args.folder}"
        else:
            items = table_items(args.table, args.audio_root)
            source = f"table {args.table}"
        store = C.build_store(args.out, items, frontend, shard_size=args.shard_size, workers=args.workers,
                              source=source, progress=not args.quiet)
        ok = len(store.ok())
        print(f"wrote {args.out}: {ok} of {len(items)} excerpts with features", file=sys.stderr)
        return 0

    return C.run_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())

"""Import speed: 5,000 files (copies of generated files in every format), warm cache.

    .venv/bin/python benchmarks/bench_scan.py [--files 5000] [--workers 4]

Prints files/s for a first import, a no-change rescan, and a baseline measured in the same run: the
naive way (one thread, every file fully decoded with ``soundfile.read`` to learn its duration, one
commit per file). Goal: >= 300 files/s for the first import on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def make_corpus(root: Path, n: int) -> list[Path]:
    from audiogen import write_audio

    seeds = []
    for i, ext in enumerate(["mp3", "ogg", "opus", "flac", "wav"]):
        seeds.append(write_audio(root / f"seed.{ext}", seconds=20.0, freq=200 + 50 * i, channels=2,
                                 tags={"title": f"Seed {ext}", "artist": "Bench", "album": "Corpus"}))
    files = []
    for i in range(n):
        src = seeds[i % len(seeds)]
        dst = root / f"d{i // 500:02d}" / f"t{i:05d}{src.suffix}"
        dst.parent.mkdir(exist_ok=True)
        shutil.copyfile(src, dst)
        files.append(dst)
    for s in seeds:
        s.unlink()
    return files


def naive_import(files: list[Path], db: Path) -> float:
    import soundfile as sf

    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (path TEXT UNIQUE, duration REAL)")
    t0 = time.perf_counter()
    for f in files:
        data, sr = sf.read(f)
        conn.execute("INSERT INTO t VALUES (?, ?)", (str(f), len(data) / sr))
        conn.commit()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--baseline-files", type=int, default=300, help="files for the naive baseline")
    args = ap.parse_args()

    from player.library import Library
    from player.library.scan import scan

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"generating {args.files} files …", flush=True)
        files = make_corpus(tmp / "music", args.files)
        for f in files:  # warm the page cache
            f.read_bytes()
        lib = Library(tmp / "lib.db")
        report = scan(lib, [tmp / "music"], workers=args.workers)
        first = report.processed / report.seconds
        print(f"first import : {report.processed} files in {report.seconds:.2f} s = {first:.0f} files/s "
              f"({report.summary()})")
        report = scan(lib, [tmp / "music"], workers=args.workers)
        print(f"rescan       : {report.processed} files in {report.seconds:.2f} s = "
              f"{report.processed / report.seconds:.0f} files/s")
        lib.close()
        sample = files[: args.baseline_files]
        base_s = naive_import(sample, tmp / "naive.db")
        base = len(sample) / base_s
        print(f"naive import : {len(sample)} files in {base_s:.2f} s = {base:.0f} files/s")
        print(f"ratio        : first import is {first / base:.1f}x the naive way")
        print(f"goal         : >= 300 files/s -> {'met' if first >= 300 else 'NOT met'}")


if __name__ == "__main__":
    main()

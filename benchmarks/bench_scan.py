"""Import speed: 5,000 files (copies of generated files in every format), warm cache, with and without covers.

    .venv/bin/python benchmarks/bench_scan.py [--files 5000] [--workers 4] [--album 10]

The corpus is albums of ``--album`` 20-second stereo tracks, the formats in turn (MP3, Ogg Vorbis, Opus,
FLAC, WAV, AAC and ALAC in M4A, WMA, WavPack, AIFF, TTA, Opus in Matroska), each album with a 600x600
JPEG embedded in every track (where the format holds pictures), a cover.jpg next to its tracks, or no
picture, in turn. Prints files/s for a first import with covers (the import as shipped), the same into a
fresh library without covers, a no-change rescan, and a baseline measured in the same run: the naive
way (one thread, every file fully decoded with ``soundfile.read`` to learn its duration, one commit per
file; on the formats libsndfile reads). Then the time one probe takes, by format. Goal: >= 300 files/s for the first import on a 2-core
machine. ``--formats mp3,ogg,opus,flac,wav`` measures the corpus this benchmark had before every
format was imported.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

# (file name of the seed, codec for audiogen.write_audio or None, holds an embedded picture)
SEEDS = [("a.mp3", None, True), ("b.ogg", None, True), ("c.opus", None, True), ("d.flac", None, True),
         ("e.wav", None, True), ("f.m4a", None, True), ("g.m4a", "alac", True), ("h.wma", None, True),
         ("i.wv", None, False), ("j.aiff", None, False), ("k.tta", None, False), ("l.mka", None, False)]
SOUNDFILE_READS = (".mp3", ".ogg", ".opus", ".flac", ".wav", ".aiff")


def make_corpus(root: Path, n: int, album: int, formats: set[str] | None = None) -> list[Path]:
    from audiogen import write_audio
    from bench_covers import picture
    from test_library_covers import embed

    art = picture(1)
    plain, pictured = [], []
    seeds = [seed for seed in SEEDS if not formats or seed[0].split(".")[1] in formats]
    for i, (name, codec, holds) in enumerate(seeds):
        tags = {"title": f"Seed {name}", "artist": "Bench", "album": "Corpus"} if holds else None
        src = write_audio(root / "seeds" / name, seconds=20.0, freq=200 + 50 * i, channels=2, codec=codec, tags=tags)
        plain.append(src)
        with_art = src.with_name("art-" + name)
        shutil.copyfile(src, with_art)
        pictured.append(embed(with_art, [(3, art)]) if holds else with_art)
    files = []
    for i in range(n):
        a = i // album
        kind = a % 3  # 0 embedded, 1 folder image, 2 none
        src = (pictured if kind == 0 else plain)[i % len(seeds)]
        dst = root / f"album{a:04d}" / f"t{i:05d}{src.suffix}"
        if not dst.parent.exists():
            dst.parent.mkdir()
            if kind == 1:
                (dst.parent / "cover.jpg").write_bytes(art)
        shutil.copyfile(src, dst)
        files.append(dst)
    shutil.rmtree(root / "seeds")
    hour_ago = time.time() - 3600  # settled files, as in a library nobody is writing to
    for dirpath, _dirs, names in os.walk(root):
        for name in [*names, "."]:
            os.utime(os.path.join(dirpath, name), (hour_ago, hour_ago))
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


def per_format(files: list[Path], n: int = 20) -> None:
    """What one probe costs, by format (one thread, tags, cover and audio check)."""
    from player.library.probe import probe

    by_ext: dict[str, list[Path]] = {}
    for f in files:
        by_ext.setdefault(f.suffix, []).append(f)
    parts = []
    for ext, group in sorted(by_ext.items()):
        t0 = time.perf_counter()
        for f in group[:n]:
            probe(str(f))
        parts.append(f"{ext[1:]} {1000 * (time.perf_counter() - t0) / len(group[:n]):.1f}")
    print(f"{'ms per probe':<24}: " + ", ".join(parts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--album", type=int, default=10, help="tracks per album folder")
    ap.add_argument("--baseline-files", type=int, default=300, help="files for the naive baseline")
    ap.add_argument("--formats", default="", help="only these extensions, e.g. mp3,ogg,opus,flac,wav "
                                                  "(the corpus before every format was imported)")
    args = ap.parse_args()

    from player.library import Library
    from player.library.scan import scan

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["PLAYER_DATA_DIR"] = str(tmp / "data")
        print(f"generating {args.files} files …", flush=True)
        files = make_corpus(tmp / "music", args.files, args.album, set(filter(None, args.formats.split(","))))
        for f in files:  # warm the page cache
            f.read_bytes()
        figures = {}
        for label, covers in (("first import, covers", True), ("first import, no covers", False)):
            with Library(tmp / f"lib-{covers}.db") as lib:
                report = scan(lib, [tmp / "music"], workers=args.workers, covers=covers)
                figures[covers] = report.processed / report.seconds
                print(f"{label:<24}: {report.processed} files in {report.seconds:.2f} s = {figures[covers]:.0f} "
                      f"files/s ({report.summary()})", flush=True)
                if covers:
                    n = lib.db.query_one("SELECT COUNT(*) FROM tracks WHERE cover_hash IS NOT NULL")[0]
                    print(f"{'covers found':<24}: {n} of {report.processed} tracks")
                    report = scan(lib, [tmp / "music"], workers=args.workers)
                    print(f"{'rescan':<24}: {report.processed} files in {report.seconds:.2f} s = "
                          f"{report.processed / report.seconds:.0f} files/s")
        per_format(files)
        sample = [f for f in files if f.suffix in SOUNDFILE_READS][: args.baseline_files]
        base_s = naive_import(sample, tmp / "naive.db")
        base = len(sample) / base_s
        first = figures[True]
        print(f"{'naive import':<24}: {len(sample)} files in {base_s:.2f} s = {base:.0f} files/s")
        print(f"{'ratio':<24}: the first import is {first / base:.1f}x the naive way; covers cost "
              f"{100 * (1 - first / figures[False]):.0f} %")
        print(f"{'goal':<24}: >= 300 files/s with covers -> {'met' if first >= 300 else 'NOT met'}")


if __name__ == "__main__":
    main()

"""Cover-art speed: finding covers during an import, and making thumbnails, warm cache.

    .venv/bin/python benchmarks/bench_covers.py [--files 2000] [--album 10]

The corpus is albums of ``--album`` tracks (mp3, flac, ogg, opus, m4a in turn), each album with a
600x600 JPEG embedded in every track, a cover.jpg next to its tracks, or no picture, in turn; its
files are dated an hour back, as in a library that is not being written to. Prints files/s, one
thread, for the baseline measured in the same run (opening every file's tags with mutagen, as the
scan does) and for the same plus :func:`find_cover_in_tags` on the opened tags, then
:func:`find_cover` on its own (it opens the tags itself), and thumbnails (first made, then cached).
Goal: >= 300 files/s for tags plus covers.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

EXTS = ["mp3", "flac", "ogg", "opus", "m4a"]


def picture(seed: int) -> bytes:
    """A 600x600 JPEG like a scanned sleeve (gradients and noise: ~100 KB)."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    img = np.zeros((600, 600, 3), np.uint8)
    img[:] = rng.integers(0, 256, 3, dtype=np.uint8)
    img[:, :, 0] = (np.arange(600)[None, :] * 255 // 599).astype(np.uint8)
    noise = rng.integers(0, 40, (600, 600, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", cv2.add(img, noise), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def make_corpus(root: Path, n: int, album: int) -> list[Path]:
    from audiogen import write_audio
    from test_library_covers import embed

    plain = {ext: write_audio(root / f"seed.{ext}", seconds=5.0, freq=220, channels=2,
                              tags={"title": "Seed", "artist": "Bench", "album": "Corpus"}) for ext in EXTS}
    files: list[Path] = []
    for a in range((n + album - 1) // album):
        folder = root / f"album{a:04d}"
        folder.mkdir()
        kind = a % 3  # 0 embedded, 1 folder image, 2 none
        art = picture(a)
        if kind == 1:
            (folder / "cover.jpg").write_bytes(art)
        for i in range(min(album, n - len(files))):
            ext = EXTS[(a + i) % len(EXTS)]
            dst = folder / f"{i + 1:02d}.{ext}"
            shutil.copyfile(plain[ext], dst)
            if kind == 0:
                embed(dst, [(3, art)])
            files.append(dst)
    for seed in plain.values():
        seed.unlink()
    hour_ago = time.time() - 3600
    for dirpath, _dirs, names in os.walk(root):
        for name in [*names, "."]:
            os.utime(os.path.join(dirpath, name), (hour_ago, hour_ago))
    return files


def rate(label: str, count: int, seconds: float, base: float | None = None) -> float:
    per_s = count / seconds
    ratio = f"  ({per_s / base:.2f}x the tags alone)" if base else ""
    print(f"{label:<26}: {count} in {seconds:.2f} s = {per_s:,.0f}/s{ratio}")
    return per_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--album", type=int, default=10, help="tracks per album folder")
    args = ap.parse_args()

    import mutagen

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["PLAYER_DATA_DIR"] = str(tmp / "data")
        from player.library.covers import find_cover, find_cover_in_tags, thumbnail

        print(f"generating {args.files} files …", flush=True)
        files = make_corpus(tmp / "music", args.files, args.album)
        for f in files:  # warm the page cache
            f.read_bytes()

        t0 = time.perf_counter()
        for f in files:
            mutagen.File(f, easy=True)
        base = rate("tags alone (baseline)", len(files), time.perf_counter() - t0)

        refs = []
        t0 = time.perf_counter()
        for f in files:
            refs.append(find_cover_in_tags(mutagen.File(f, easy=True), f))
        both = rate("tags + find_cover_in_tags", len(files), time.perf_counter() - t0, base)

        t0 = time.perf_counter()
        for f in files:
            find_cover(f)
        rate("find_cover alone", len(files), time.perf_counter() - t0, base)

        found = [r for r in refs if r is not None]
        distinct = list({r.hash: r for r in found}.values())
        print(f"covers found              : {len(found)} of {len(files)} files, {len(distinct)} distinct pictures")
        for size in (128, 256):
            t0 = time.perf_counter()
            for r in distinct:
                thumbnail(r, size)
            rate(f"thumbnails {size}, made", len(distinct), time.perf_counter() - t0)
        t0 = time.perf_counter()
        for r in found:
            thumbnail(r, 128)
        rate("thumbnails 128, cached", len(found), time.perf_counter() - t0)
        print(f"goal                      : >= 300 files/s for tags + covers -> {'met' if both >= 300 else 'NOT met'}")


if __name__ == "__main__":
    main()

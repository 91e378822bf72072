"""Duplicate finding on re-encodes of real music, and its speed at 100,000 songs.

    .venv/bin/python benchmarks/bench_duplicates.py MUSIC_DIR                # build, import, analyse, measure
    .venv/bin/python benchmarks/bench_duplicates.py MUSIC_DIR --work DIR     # keep (and reuse) the library
    .venv/bin/python benchmarks/bench_duplicates.py --speed-only             # only the 100,000-song timing

``MUSIC_DIR`` holds real music and a ``manifest.tsv`` (path, package, seconds, ...). Chosen from it
(fixed seed): ``--sources`` songs, about half of them in pairs of different songs of one package whose
lengths are within 1.5 s of each other (the hard case), and ``--distractors`` more songs imported once.
Each source is imported six times: the original, a plain copy in another folder, and re-encodes made
with PyAV (MP3 192 kbit/s, FLAC, Opus 128 kbit/s) and libsndfile (Ogg Vorbis); every other source also gets a copy cut
short by 5 % (truncated: *not* a duplicate). The folder is imported and analysed with the real CLI
(``python -m player scan``, ``python -m player analyse --no-loudness``) into a fresh library under
``PLAYER_DATA_DIR``.

Truth: two files are the same recording when they come from the same source file and neither is the
truncated copy. The thresholds are chosen on the files of half the sources (``calibration``) and the
grouping is reported on the other half (``test``): pair precision and recall, groups found.

Speed: :func:`player.recommend.duplicates.find_duplicates` on 100,000 synthetic songs (a few per cent
of them duplicated), against the naive all-pairs comparison run in the same process on ``--naive-n``
songs (per song pair, and extrapolated to 100,000).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from player.recommend import duplicates as D  # noqa: E402

ENCODINGS = (  # folder, extension, codec, container, bit rate, rate
    ("mp3", "mp3", "libmp3lame", "mp3", 192000, None),
    ("ogg", "ogg", None, None, None, None),  # libsndfile's Vorbis encoder (FFmpeg's own is experimental)
    ("flac", "flac", "flac", "flac", None, None),
    ("opus", "opus", "libopus", "ogg", 128000, 48000),
)
TRUNCATE = 0.95


# ----------------------------------------------------------------------------------- the files
def read_manifest(music: Path) -> list[dict]:
    with open(music / "manifest.tsv", newline="", encoding="utf-8") as f:
        rows = [dict(r, seconds=float(r["seconds"])) for r in csv.DictReader(f, delimiter="\t")]
    return [r for r in rows if r["seconds"] >= 15 and (music / r["path"]).exists()]


def choose(rows: list[dict], n_sources: int, n_distractors: int, seed: int):
    """(sources, distractors): rows; about half the sources in near-length pairs of one package."""
    rng = np.random.default_rng(seed)
    by_pkg: dict[str, list[dict]] = {}
    for r in rows:
        by_pkg.setdefault(r["package"], []).append(r)
    pairs = []
    for pkg in sorted(by_pkg):
        songs = sorted(by_pkg[pkg], key=lambda r: r["seconds"])
        used = set()
        for a, b in zip(songs, songs[1:]):
            if b["seconds"] - a["seconds"] <= 1.5 and a["path"] not in used and b["path"] not in used:
                pairs.append((a, b))
                used.update((a["path"], b["path"]))
    rng.shuffle(pairs)
    sources: list[dict] = []
    for a, b in pairs:
        if len(sources) + 2 > n_sources // 2:
            break
        sources += [a, b]
    taken = {r["path"] for r in sources}
    rest = [r for r in rows if r["path"] not in taken]
    order = rng.permutation(len(rest))
    picked = [rest[i] for i in order[:n_sources - len(sources) + n_distractors]]
    sources += picked[:n_sources - len(sources)]
    distractors = [r for r in picked if r not in sources][:n_distractors]
    return sources, distractors


def decode(path: Path, rate: int | None = None) -> tuple[np.ndarray, int]:
    """float32 (frames, channels) at the file's own rate (or ``rate``)."""
    import av

    with av.open(str(path), metadata_errors="replace") as f:
        st = f.streams.audio[0]
        ch = st.codec_context.channels
        sr = rate or st.codec_context.sample_rate
        res = av.AudioResampler(format="flt", layout={1: "mono", 2: "stereo"}.get(ch, "stereo"), rate=sr)
        ch = min(ch, 2)
        chunks = []
        for frame in f.decode(st):
            chunks += [fr.to_ndarray().reshape(-1, ch) for fr in res.resample(frame)]
        chunks += [fr.to_ndarray().reshape(-1, ch) for fr in res.resample(None)]
    return np.concatenate(chunks), sr


def build_folder(music: Path, folder: Path, sources, distractors) -> list[dict]:
    """Writes the files; returns one dict per file: path, truth (source index or a unique negative), half."""
    from audiogen import encode, write_audio

    files = []
    for k, src in enumerate(sources):
        half = "calibration" if (k // 2) % 2 == 0 else "test"  # a near-length pair stays in one half
        name = Path(src["path"]).name
        stem = Path(name).stem
        for sub in ("originals", "copies"):
            dst = folder / sub / src["package"] / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            if not dst.exists():
                shutil.copyfile(music / src["path"], dst)
            files.append({"path": dst, "truth": k, "half": half, "kind": sub})
        data, sr = None, None
        for sub, ext, codec, container, bit_rate, rate in ENCODINGS:
            dst = folder / sub / src["package"] / f"{stem}.{ext}"
            files.append({"path": dst, "truth": k, "half": half, "kind": sub})
            if dst.exists():  # made by an earlier, interrupted run
                continue
            if data is None:
                data, sr = decode(music / src["path"])
            x, r = (decode(music / src["path"], rate) if rate and rate != sr else (data, sr))
            if codec is None:
                write_audio(dst, x, r)
            else:
                encode(dst, x, r, codec, container, bit_rate=bit_rate)
        if k % 4 in (1, 3):  # one in four of each half
            dst = folder / "truncated" / src["package"] / f"{stem}.flac"
            if not dst.exists():
                data, sr = decode(music / src["path"]) if data is None else (data, sr)
                encode(dst, data[:int(len(data) * TRUNCATE)], sr, "flac", "flac")
            files.append({"path": dst, "truth": -1 - k, "half": half, "kind": "truncated"})
        print(f"  {k + 1}/{len(sources)} {src['package']}/{name} ({src['seconds']:.1f} s)", flush=True)
    for j, src in enumerate(distractors):
        dst = folder / "others" / src["package"] / Path(src["path"]).name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists():
            shutil.copyfile(music / src["path"], dst)
        files.append({"path": dst, "truth": -1000 - j, "half": "calibration" if j % 2 == 0 else "test",
                      "kind": "other"})
    return files


def cli(work: Path, *args) -> None:
    env = dict(os.environ, PLAYER_DATA_DIR=str(work / "data"), PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "player", *args], env=env, cwd=ROOT, check=True)


# ----------------------------------------------------------------------------------- the measurement
def library_inputs(work: Path, files: list[dict]):
    from player.analysis.store import read_analysis_arrays
    from player.library import Library

    lib = Library(work / "data" / "library.db")
    by_path = {os.path.realpath(f["path"]): f for f in files}
    tracks = [t for t in lib.tracks() if os.path.realpath(t.path) in by_path]
    arrays = read_analysis_arrays(lib)
    inputs = D.inputs_from_arrays([t.id for t in tracks], [t.duration for t in tracks], arrays)
    meta = [by_path[os.path.realpath(t.path)] for t in tracks]
    lib.close()
    return inputs, meta


def pair_sets(groups: list[list[int]], keep: set[int]) -> set[tuple[int, int]]:
    out = set()
    for g in groups:
        g = sorted(i for i in g if i in keep)
        out.update((a, b) for n, a in enumerate(g) for b in g[n + 1:])
    return out


def truth_groups(meta) -> list[list[int]]:
    by: dict[int, list[int]] = {}
    for i, m in enumerate(meta):
        by.setdefault(m["truth"], []).append(i)
    return list(by.values())


def measure(inputs, meta, params: D.Params, half: str) -> dict:
    keep = {i for i, m in enumerate(meta) if m["half"] == half}
    found = D.find_duplicates(inputs, params)
    row = {int(t): n for n, t in enumerate(inputs.ids)}
    groups = [[row[t] for t in g] for g in found]
    pred = pair_sets(groups, keep)
    true = pair_sets(truth_groups(meta), keep)
    hit = len(pred & true)
    return {"precision": hit / len(pred) if pred else 1.0, "recall": hit / len(true) if true else 1.0,
            "pairs": len(pred), "true_pairs": len(true), "groups": sum(1 for g in groups if sum(i in keep for i in g) > 1),
            "true_groups": sum(1 for g in truth_groups(meta) if sum(i in keep for i in g) > 1),
            "false": sorted(pred - true), "missed": sorted(true - pred)}


def pair_table(inputs, meta, half: str, params: D.Params):
    """Every pair within 5 s of each other (both files in ``half``): (i, j, same recording, features)."""
    keep = np.array([m["half"] == half for m in meta])
    wide = D.Params(**{**vars(params), "length_tol_s": 5.0, "length_tol_rel": 0.0})
    return [(i, j, meta[i]["truth"] == meta[j]["truth"], f) for i, j, f in D.candidate_pairs(inputs, wide)
            if keep[i] and keep[j]]


def within_length(rows, inputs, params: D.Params):
    d = inputs.durations
    return [r for r in rows if r[3]["dlen"] <= max(params.length_tol_s, params.length_tol_rel * min(d[r[0]], d[r[1]]))]


def describe_pairs(rows, meta, inputs, params: D.Params, title: str) -> None:
    same = [r for r in rows if r[2]]
    near = within_length([r for r in rows if not r[2]], inputs, params)
    cut = [r for r in rows if meta[r[0]]["truth"] == -1 - meta[r[1]]["truth"]]  # a cut copy and its source
    dl = np.array([r[3]["dlen"] for r in same])
    print(f"{title}: {len(same)} same-recording pairs (length differences up to {dl.max():.3f} s), "
          f"{len(near)} pairs of different songs within the length tolerance, {len(cut)} pairs of a cut copy "
          f"and its source within 5 s (length differences from {min((r[3]['dlen'] for r in cut), default=float('nan')):.2f} s)")
    for name in ("joint", "emb", "tags"):
        s = np.array([r[3][name] for r in same])
        o = np.array([r[3][name] for r in near]) if near else np.array([np.nan])
        worst = min(same, key=lambda r: r[3][name])
        print(f"  {name:5}  same recording: min {s.min():.4f} (p1 {np.quantile(s, .01):.4f}; worst "
              f"{meta[worst[0]]['kind']}~{meta[worst[1]]['kind']})   different songs: max {np.nanmax(o):.4f}")


def choose_thresholds(rows, inputs, params: D.Params) -> tuple[float, float]:
    """(min_embedding, min_tags) from these pairs, precision first: the tag threshold just under the
    least alike re-encode here (its correlation less 0.005, rounded down to 0.005), raised if need be
    above every pair of different songs within the length tolerance; the embedding tells different songs
    of one soundtrack apart too poorly (they reach 0.99) to decide anything, so it keeps the player's
    floor (a check against a broken analysis)."""
    rows = within_length(rows, inputs, params)
    same = [r[3] for r in rows if r[2]]
    other = [r[3] for r in rows if not r[2]]
    tt = np.floor((min(f["tags"] for f in same) - 0.005) * 200) / 200
    passing = [f["tags"] for f in other if f["emb"] >= params.min_embedding and f["tags"] >= tt]
    if passing:
        tt = np.ceil(max(passing) * 200 + 1e-9) / 200
    return float(params.min_embedding), float(tt)


# ----------------------------------------------------------------------------------- speed
def synthetic(n: int, seed: int = 0, spread: str = "uniform"):
    """n songs: joint vectors (82-d), embeddings (32-d) and tag blocks (50-d) in clusters (albums),
    lengths 60-420 s (or around 3:45, ``spread="pop"``), 3 % of them re-encodes of another song (a little noise, a few ms longer)."""
    rng = np.random.default_rng(seed)

    def unit(x):
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    album = rng.integers(0, n // 10 + 1, n)
    dur = rng.uniform(60, 420, n) if spread == "uniform" else np.clip(rng.normal(225, 45, n), 30, 1200)
    dup = rng.choice(n, n * 3 // 100, replace=False)
    src = rng.integers(0, n, len(dup))
    dur[dup] = dur[src] + rng.uniform(-0.05, 0.05, len(dup))
    blocks = []
    for d in (82, 32, 50):
        centre = rng.standard_normal((n // 10 + 1, d)).astype(np.float32)
        v = centre[album] + 0.5 * rng.standard_normal((n, d)).astype(np.float32)
        v[dup] = v[src] + 0.02 * rng.standard_normal((len(dup), d)).astype(np.float32)
        blocks.append(unit(v))
    return D.DuplicateInputs(np.arange(1, n + 1, dtype=np.int64), dur, *blocks)


def speed(n: int, naive_n: int) -> None:
    for spread in ("uniform", "pop"):
        data = synthetic(n, spread=spread)
        t0 = time.perf_counter()
        groups = D.find_duplicates(data)
        fast = time.perf_counter() - t0
        print(f"speed: {n:,} songs ({'lengths 1-7 min' if spread == 'uniform' else 'lengths around 3:45 +- 0:45'}) "
              f"grouped in {fast:.2f} s ({len(groups)} groups)")
    small = synthetic(naive_n, seed=1)
    t0 = time.perf_counter()
    naive = D.find_duplicates_naive(small)
    naive_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    same = D.find_duplicates(small)
    fast_small = time.perf_counter() - t0
    per_pair = naive_s / (naive_n * (naive_n - 1) / 2)
    print(f"  naive all pairs at {naive_n:,} songs: {naive_s:.2f} s (ours {fast_small:.3f} s, "
          f"same groups: {naive == same})")
    print(f"  naive extrapolated to {n:,}: {per_pair * n * (n - 1) / 2:.0f} s, "
          f"{per_pair * n * (n - 1) / 2 / fast:.0f}x ours")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("music", nargs="?", type=Path, help="a folder of real music with manifest.tsv")
    ap.add_argument("--work", type=Path, help="folder for the files and the library (kept; reused when present)")
    ap.add_argument("--sources", type=int, default=40)
    ap.add_argument("--distractors", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--naive-n", type=int, default=3000)
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--show", type=int, default=6, help="false and missed pairs to list per half")
    args = ap.parse_args()
    if not args.speed_only:
        if args.music is None or not (args.music / "manifest.tsv").exists():
            ap.error("name a music folder holding manifest.tsv")
        work = args.work or Path(tempfile.mkdtemp(prefix="dupes-"))
        folder = work / "music"
        sources, distractors = choose(read_manifest(args.music), args.sources, args.distractors, args.seed)
        listing = work / "files.tsv"
        if not listing.exists():
            print(f"writing {len(sources)} sources x 6 files and {len(distractors)} others under {folder}")
            t0 = time.perf_counter()
            files = build_folder(args.music, folder, sources, distractors)
            print(f"  {len(files)} files in {time.perf_counter() - t0:.0f} s")
            cli(work, "scan", "--quiet", str(folder))
            t0 = time.perf_counter()
            cli(work, "analyse", "--quiet", "--no-loudness", "--workers", "2")
            print(f"  analysed in {time.perf_counter() - t0:.0f} s")
            with open(listing, "w", encoding="utf-8") as f:
                for m in files:
                    f.write(f"{m['path']}\t{m['truth']}\t{m['half']}\t{m['kind']}\n")
        files = [dict(zip(("path", "truth", "half", "kind"), line.rstrip("\n").split("\t")))
                 for line in open(listing, encoding="utf-8")]
        for m in files:
            m["truth"] = int(m["truth"])
        inputs, meta = library_inputs(work, files)
        print(f"library: {len(meta)} files, {int(inputs.usable.sum())} analysed, "
              f"{len({m['truth'] for m in meta if m['truth'] >= 0})} sources")
        params = D.Params()
        tables = {half: pair_table(inputs, meta, half, params) for half in ("calibration", "test")}
        for half in ("calibration", "test"):
            describe_pairs(tables[half], meta, inputs, params, half)
        te, tt = choose_thresholds(tables["calibration"], inputs, params)
        print(f"chosen on the calibration half: min_embedding {te:.4f}, min_tags {tt:.4f} "
              f"(the player's: {params.min_embedding}, {params.min_tags})")
        for label, p in (("chosen", D.Params(min_embedding=te, min_tags=tt)), ("player's", params)):
            for half in ("calibration", "test"):
                r = measure(inputs, meta, p, half)
                print(f"{half} ({label} thresholds): precision {r['precision']:.3f}, recall {r['recall']:.3f} "
                      f"({r['pairs']} pairs found, {r['true_pairs']} true), {r['groups']} groups "
                      f"(of {r['true_groups']})")
                for kind in ("false", "missed"):
                    for i, j in r[kind][:args.show]:
                        print(f"  {kind}: {meta[i]['kind']}/{Path(meta[i]['path']).name} ~ "
                              f"{meta[j]['kind']}/{Path(meta[j]['path']).name}")
    speed(args.n, args.naive_n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

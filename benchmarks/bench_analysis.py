"""Analysis speed end to end, per format and sample rate, against the previous way in the same run; what
loudness costs next to a track's analysis; and how much the models' outputs move with a cheaper resampler.

    .venv/bin/python benchmarks/bench_analysis.py [MUSIC_DIR] [--tracks 100] [--songs 6]
        [--formats ogg,opus,mp3,flac,m4a] [--rates 44100,48000] [--workers N]
        [--baseline-rev REV[,REV...] | --no-baseline] [--repeat N] [--keep-music DIR] [--no-loudness]
        [--resample-check]

Without MUSIC_DIR the music is generated (nothing is downloaded): ``--songs`` songs of 2:30-4:00 per sample
rate, stereo, in the style of tests/audiogen.py (chord progressions with partials, a bass line, a melody,
kick, snare and hi-hat, verse and chorus sections, slow dynamics), each encoded in every format
(Ogg Vorbis and Opus by libsndfile, MP3 with its LAME header, FLAC, AAC in M4A by FFmpeg); a library of
``--tracks`` files per format and rate is made of hard links to them. ``--keep-music DIR`` keeps (and
reuses) the generated files. With MUSIC_DIR its files are grouped by format and sample rate (what the
reader reports) and a library of ``--tracks`` files is made of each group (hard links, round robin: a
group of 40 files makes a library of 200 with each file five times).

Each run is the real thing, in a fresh process: a library is scanned (not timed), then
:func:`player.analysis.service.run_analysis` runs the worker processes and writes the results; the time
counts from the start of the run to the last commit, TensorFlow start-up included.

The baseline, in the same run: the same program at each revision of ``--baseline-rev`` (a comma-separated
list), extracted with ``git archive`` and run on the same files right before ours. The default,
``f41e739``, is the seed's way of analysing: the last revision before the analysis read through the one
reader (libsndfile for Ogg and Opus, each excerpt decoded on its own); ``--baseline-rev f41e739,REV`` adds
any other revision, e.g. the one before a change under test. Reported per group and way: tracks/s end to
end (and the ratio to ours), when the first batch was committed, the workers' CPU per track (the whole run,
TensorFlow start-up included: less sensitive to other load on the machine than the wall clock), the
parent's CPU, the largest worker's RSS and the rate the workers' CPU alone allows on the machine's cores
("CPU-bound": what an otherwise idle machine would reach if the workers kept every core busy).

Loudness: per group, on a few of the files, the CPU time of :func:`player.audio.loudness.measure` (the
whole file decoded and measured), of the meter alone on decoded audio (what sharing the analysis' decode
would still cost, plus decoding the rest of the file) against the CPU time per track of the analysis.

``--resample-check``: the shipped models on generated songs, each model's input resampled with soxr's
cheaper qualities instead of the configured HQ: the largest change in tag probabilities, genre
probabilities and embeddings, and the time saved per track.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

#: The last revision before the analysis read its excerpts through the one reader.
BASELINE_REV = "f41e739"
FORMATS = ("ogg", "opus", "mp3", "flac", "m4a")
RATES = (44100, 48000)
EXTENSIONS = {"ogg": ".ogg", "opus": ".opus", "mp3": ".mp3", "flac": ".flac", "m4a": ".m4a"}


# ------------------------------------------------------------------------------------------- music

def song(seconds: float, sr: int, seed: int):
    """A generated song, float32 (frames, 2): sections built from four-bar loops (chords with partials, bass,
    a melody) under kick, snare and hi-hat, with slow dynamics; peaks at -1 dBFS."""
    import numpy as np

    rng = np.random.default_rng(seed)
    beat = 60.0 / rng.uniform(84, 150)
    bar = int(4 * beat * sr)
    t_bar = np.arange(bar, dtype=np.float32) / sr
    root = rng.uniform(98, 196)
    scale = np.array([0, 2, 3, 5, 7, 8, 10, 12])

    def voice(f, length, partials, decay):
        t = np.arange(length, dtype=np.float32) / sr
        env = np.minimum(1.0, t / 0.02) * np.exp(-t / decay)
        return env * sum(np.sin(2 * np.pi * f * k * t + rng.uniform(0, 6)) / k ** 1.3 for k in range(1, partials + 1))

    def loop():  # four bars of chords, bass and melody, stereo
        out = np.zeros((4 * bar, 2), np.float32)
        prog = rng.choice([0, 3, 5, 7, 8, 10], 4)
        pan = rng.uniform(0.3, 0.7)
        for i, step in enumerate(prog):
            f0 = root * 2 ** (step / 12)
            chord = sum(voice(f0 * r, bar, 5, 4 * beat) for r in (1.0, 1.26, 1.5))
            bass = voice(f0 / 2, bar, 3, beat)
            s = slice(i * bar, (i + 1) * bar)
            out[s, 0] += 0.08 * chord * pan + 0.2 * bass
            out[s, 1] += 0.08 * chord * (1 - pan) + 0.2 * bass
        note = int(beat / 2 * sr)
        for j in range(0, 4 * bar - note, note):
            if rng.random() < 0.35:
                continue
            f = 2 * root * 2 ** (rng.choice(scale) / 12)
            out[j:j + note] += (0.1 * voice(f, note, 4, beat / 3))[:, None] * np.float32([0.7, 1.0])
        return out

    sections = [loop() for _ in range(3)]
    n = int(seconds * sr)
    order = rng.choice(3, n // len(sections[0]) + 1)
    x = np.concatenate([sections[k] for k in order])[:n]
    # drums over the whole song
    hit = np.arange(int(0.25 * sr), dtype=np.float32) / sr
    kick = (0.6 * np.sin(2 * np.pi * (45 + 90 * np.exp(-hit * 30)) * hit) * np.exp(-hit * 14)).astype(np.float32)
    noise = rng.standard_normal(n).astype(np.float32)
    step = int(beat * sr)
    for k, start in enumerate(range(0, n - len(hit), step)):
        x[start:start + len(hit)] += kick[:, None]
        if k % 2:
            x[start:start + len(hit)] += (0.25 * noise[start:start + len(hit)] * np.exp(-hit * 18))[:, None]
        h = start + step // 2
        if h + 2000 < n:
            x[h:h + 2000] += (0.06 * np.diff(noise[h:h + 2001]) * np.exp(-hit[:2000] * 90))[:, None]
    t = np.arange(n, dtype=np.float32) / sr
    x *= (0.65 + 0.35 * np.sin(2 * np.pi * t / rng.uniform(25, 70)))[:, None]
    return (x / (np.abs(x).max() / 0.89)).astype(np.float32)


def make_music(folder: Path, songs: int, formats, rates) -> dict[tuple[str, int], list[Path]]:
    """The generated songs in every format and rate (reused when ``folder`` has them already)."""
    from audiogen import write_audio

    made: dict[tuple[str, int], list[Path]] = {}
    for sr in rates:
        for i in range(songs):
            data = None
            for fmt in formats:
                if fmt == "opus" and sr != 48000:
                    continue  # Opus is always 48 kHz
                path = folder / f"{fmt}{sr}" / f"song{i:02d}{EXTENSIONS[fmt]}"
                if not path.exists():
                    if data is None:
                        data = song(150 + 90 * ((i * 0.37) % 1.0), sr, seed=1000 * sr + i)
                    write_audio(path, data, sr, codec="libmp3lame" if fmt == "mp3" else None)
                made.setdefault((fmt, sr), []).append(path)
    return made


def find_music(folder: Path, formats, rates) -> dict[tuple[str, int], list[Path]]:
    """A folder's files grouped by (format, sample rate) as the reader reports them."""
    from player.audio.errors import AudioError
    from player.audio.reader import probe_audio

    groups: dict[tuple[str, int], list[Path]] = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        try:
            info = probe_audio(p, verify=False)
        except (AudioError, ValueError):
            continue
        key = ({"aac": "m4a"}.get(info.format, info.format), info.samplerate)
        if key[0] in formats and key[1] in rates:
            groups.setdefault(key, []).append(p)
    return groups


def library_folder(files: list[Path], n: int, dest: Path) -> Path:
    """``n`` files (hard links to ``files``, round robin; copies across file systems) under ``dest``."""
    import shutil

    dest.mkdir(parents=True)
    for i in range(n):
        src = files[i % len(files)]
        target = dest / f"{i:04d}_{src.name}"
        try:
            os.link(src, target)
        except OSError:
            shutil.copy(src, target)
    return dest


# -------------------------------------------------------------------------------------------- runs

# Runs in a fresh interpreter with the program under test first on sys.path: scan, then the timed run.
RUN = r"""
import dataclasses, json, os, resource, sys, time
from pathlib import Path


def main():
    sys.path.insert(0, sys.argv[1])
    from player.analysis.service import AnalysisOptions, run_analysis
    from player.library import Library
    from player.library.scan import scan

    music, db, workers = Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
    lib = Library(db)
    scan(lib, [music])
    lib.close()
    names = {f.name for f in dataclasses.fields(AnalysisOptions)}
    options = AnalysisOptions(**{k: v for k, v in {"loudness": False}.items() if k in names})
    first = []

    def on_event(p):
        if p.done and not first:
            first.append(time.perf_counter())

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    mine = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    progress = run_analysis(db, workers=workers, options=options, on_event=on_event)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    mine_after = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"state": progress.state, "done": progress.done, "failed": progress.failed,
                      "seconds": seconds, "first": (first[0] - t0) if first else None,
                      "cpu": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
                      "parent_cpu": mine_after.ru_utime + mine_after.ru_stime - mine.ru_utime - mine.ru_stime,
                      "rss_mb": after.ru_maxrss / 1024, "message": progress.message}))


if __name__ == "__main__":  # the workers are spawned: they import this file without running it
    main()
"""


def run(tree: Path, music: Path, workers: int, tmp: Path) -> dict:
    """One timed analysis of ``music`` by the program in ``tree`` (a fresh library, a fresh process)."""
    db = Path(tempfile.mkdtemp(dir=tmp)) / "lib.db"
    script = db.parent / "run.py"
    script.write_text(RUN)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, str(script), str(tree), str(music), str(db), str(workers)],
                         env=env, cwd=tree, capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode or not lines:
        raise SystemExit(f"the run in {tree} failed:\n{out.stderr[-2000:]}")
    return json.loads(lines[-1])


def baseline_tree(rev: str, tmp: Path) -> Path | None:
    """The program at ``rev`` (``git archive``), or None when the checkout has no such revision."""
    tree = tmp / f"previous-{rev}"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "player", "models"], capture_output=True)
    if archive.returncode:
        say(f"no previous way: git cannot archive {rev} ({archive.stderr.decode(errors='replace').strip()})")
        return None
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def best(a: dict | None, b: dict) -> dict:
    """The faster of two runs of the same library."""
    return b if a is None or b["seconds"] < a["seconds"] else a


def describe(r: dict, cores: int) -> str:
    rate = r["done"] / r["seconds"] if r["seconds"] > 0 else 0.0
    ok = r["done"] - r["failed"]
    first = f"{r['first']:.1f} s" if r["first"] is not None else "-"
    bound = r["done"] / (r["cpu"] / cores) if r["cpu"] > 0 else 0.0
    return (f"{rate:5.2f} tracks/s ({ok} analysed, {r['failed']} failed, {r['seconds']:.1f} s, first batch {first}, "
            f"{r['cpu'] / max(1, r['done']) * 1e3:.0f} ms CPU/track, parent {r.get('parent_cpu', 0.0):.1f} s CPU, "
            f"RSS {r['rss_mb']:.0f} MB; CPU-bound on {cores} cores: {bound:.2f} tracks/s)")


def say(*parts) -> None:
    print(*parts, flush=True)


# ---------------------------------------------------------------------------------------- loudness

def cpu(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


def loudness_cost(files: list[Path]) -> dict:
    """CPU seconds per track: measure() (decode all + meter), the meter alone, decoding alone; the
    song's length."""
    from player.audio.loudness import measure, measure_array
    from player.audio.reader import read_audio

    out = {"measure": 0.0, "meter": 0.0, "decode": 0.0, "seconds": 0.0}
    for p in files:
        out["measure"] += cpu(lambda: measure(p))
        decoded = []
        out["decode"] += cpu(lambda: decoded.append(read_audio(p)))
        audio, info = decoded[0]
        out["meter"] += cpu(lambda: measure_array(audio, info.samplerate, info.channel_names))
        out["seconds"] += len(audio) / info.samplerate
    return {k: v / len(files) for k, v in out.items()}


# ------------------------------------------------------------------------------------------ resampling

def resample_check(files: list[Path]) -> None:
    """Each model's outputs with its input resampled by soxr's cheaper qualities instead of HQ."""
    import numpy as np

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    from player.analysis import features as F
    from player.analysis import registry

    tagger = registry.load(registry.default_name("tags"))
    genre = registry.load(registry.default_name("genre"))
    tcfg, gcfg = tagger.frontend, genre.frontend
    centres = [F.read_mono(p, max(tcfg["excerpt_seconds"], gcfg["excerpt_seconds"])) for p in files]

    def outputs(quality):
        tags, genres, embs, spent = [], [], [], 0.0
        for c in centres:
            t = time.process_time()
            ya = F.resample(c.audio, c.samplerate, tcfg["sample_rate"], quality)
            yb = F.resample(c.audio, c.samplerate, gcfg["sample_rate"], quality)
            spent += time.process_time() - t
            tags.append(tagger.predict(F.features(ya, tcfg))[0])
            p, e = genre.predict_with_embedding(F.features(yb, gcfg))
            genres.append(p.mean(axis=0))
            embs.append(e.mean(axis=0))
        return np.array(tags), np.array(genres), np.array(embs), spent / len(centres)

    ref = outputs("HQ")
    say(f"resampling: soxr HQ (the models' config) {ref[3] * 1e3:.1f} ms per track (centre excerpt, both models)")
    for quality in ("VHQ", "MQ", "LQ", "QQ"):
        got = outputs(quality)
        diffs = [float(np.abs(a - b).max()) for a, b in zip(got[:3], ref[:3])]
        say(f"  {quality:>3}: {got[3] * 1e3:.1f} ms; max abs difference from HQ: tags {diffs[0]:.4f}, "
              f"genres {diffs[1]:.4f}, embedding {diffs[2]:.4f} (embedding scale {np.abs(ref[2]).max():.2f})")


# ------------------------------------------------------------------------------------------------ main

def main(argv=None) -> int:
    from player.analysis.service import default_workers

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("music", type=Path, nargs="?", help="a folder of music (default: generated music)")
    ap.add_argument("--tracks", type=int, default=100, help="library size per format and rate (default 100)")
    ap.add_argument("--songs", type=int, default=6, help="generated songs per format and rate (default 6)")
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--rates", default=",".join(map(str, RATES)))
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: the CLI's)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each way per group, the best kept (default 1)")
    ap.add_argument("--baseline-rev", default=BASELINE_REV,
                    help=f"the way(s) to compare with, comma-separated revisions (default {BASELINE_REV}: the seed's)")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--keep-music", type=Path, default=None, help="keep (and reuse) the generated music here")
    ap.add_argument("--no-loudness", action="store_true", help="skip the loudness measurements")
    ap.add_argument("--resample-check", action="store_true")
    args = ap.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f]
    rates = [int(r) for r in args.rates.split(",") if r]
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise SystemExit(f"unknown format(s): {', '.join(sorted(unknown))} (choose from {', '.join(FORMATS)})")
    if args.music is not None and not args.music.is_dir():
        raise SystemExit(f"no such folder: {args.music}")
    workers = args.workers or default_workers()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.music is not None:
            groups = find_music(args.music, formats, rates)
        else:
            folder = args.keep_music or tmp / "generated"
            t = time.perf_counter()
            groups = make_music(folder, args.songs, formats, rates)
            say(f"music: {args.songs} generated songs per rate in {folder} ({time.perf_counter() - t:.0f} s)")
        if not groups:
            raise SystemExit("no music of the formats and rates asked for")
        revs = [] if args.no_baseline else [r for r in args.baseline_rev.split(",") if r]
        previous = {rev: tree for rev in revs if (tree := baseline_tree(rev, tmp)) is not None}
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        say(f"{os.cpu_count()} cores, {workers} worker(s); each run in a fresh process, TensorFlow start-up "
              f"included; baseline = {', '.join(previous) or 'none'}; load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        cpu_per_track = {}
        for (fmt, sr), files in sorted(groups.items()):
            music = library_folder(files, args.tracks, tmp / "libraries" / f"{fmt}{sr}")
            label = f"{fmt:>4} {sr / 1000:g} kHz"
            before = {rev: None for rev in previous}
            ours = None
            for _ in range(max(1, args.repeat)):  # alternately; the best of each (other load only slows)
                for rev, tree in previous.items():
                    before[rev] = best(before[rev], run(tree, music, workers, tmp))
                ours = best(ours, run(ROOT, music, workers, tmp))
            if ours["state"] != "finished":
                raise SystemExit(f"{label}: the analysis did not finish: {ours['message']}")
            cpu_per_track[(fmt, sr)] = ours["cpu"] / max(1, ours["done"])
            say(f"{label}: ours     {describe(ours, cores)}  [{len(files)} files, {args.tracks} tracks]")
            for rev, r in before.items():
                ok = r["done"] - r["failed"]
                say(f"{'':12}  {rev:8} {describe(r, cores)}")
                if ok:
                    say(f"{'':12}  ratio {(ours['done'] / ours['seconds']) / (r['done'] / r['seconds']):.2f}x end to end,"
                        f" {r['cpu'] / max(1, r['done']) / max(1e-9, cpu_per_track[(fmt, sr)]):.2f}x in CPU per track")
                else:
                    say(f"{'':12}  (the {rev} way analysed none of them: it could not read this format)")
        if not args.no_loudness:
            say("loudness (CPU per track, against the analysis' CPU per track in the run above):")
            for (fmt, sr), files in sorted(groups.items()):
                c = loudness_cost(files[:3])
                base = cpu_per_track[(fmt, sr)]
                # the meter, plus decoding what the analysis' excerpts (about a minute) do not cover
                shared = c["meter"] + c["decode"] * max(0.0, 1.0 - 60.0 / max(1.0, c["seconds"]))
                say(f"  {fmt:>4} {sr / 1000:g} kHz ({c['seconds']:.0f} s songs): measure() {c['measure'] * 1e3:.0f} ms "
                      f"= {c['measure'] / base:.1f}x a track's analysis ({base * 1e3:.0f} ms); meter alone "
                      f"{c['meter'] * 1e3:.0f} ms, whole-file decode {c['decode'] * 1e3:.0f} ms: sharing the decode "
                      f"would still add ~{shared / base:.0%} (goal <= 10 %)")
        if args.resample_check:
            resample_check([f for files in groups.values() for f in files[:4]])
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Analysis speed on real music: tracks/s end to end, against the seed's way, and worker memory.

    .venv/bin/python benchmarks/bench_analysis.py MUSIC_DIR [--tracks 200] [--baseline-tracks 12] [--workers 1]
                                                  [--precision auto|float32|bfloat16]

MUSIC_DIR: e.g. the folder filled by ``../shared/data/fetch_training_music.sh``. The player's way is the
real pipeline: a library is scanned, then :func:`player.analysis.service.run_analysis` runs the worker
process(es) (seek to the excerpts, batched inference) and writes the results; the time counts from the
start of the run to the last commit, TensorFlow start-up included (reported separately as well).
The seed's way, measured in the same run on a few of the same tracks: ``librosa.load`` of the whole file
(at 22,050 Hz for the genre model and 12 kHz for the tagger, as the seeds did), the features, then one
``predict`` call per slice / excerpt. Peak RSS of the worker processes is read from /proc.
Goals (2-core machine): >= 4 tracks/s, >= 10x the seed's way, worker RSS < 1.5 GB.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def pick_tracks(music: Path, n: int, seed: int = 0) -> list[Path]:
    files = sorted(p for p in music.rglob("*") if p.suffix.lower() in (".ogg", ".mp3", ".flac", ".opus", ".wav"))
    random.Random(seed).shuffle(files)
    return files[:n]


def seed_way(paths: list[Path], models_dir: Path | None) -> tuple[float, float]:
    """librosa.load of the whole file, then one predict call per slice (seed 000) / excerpt (seed 002).
    Returns (start-up s: importing TensorFlow and librosa, loading the models; s for the tracks)."""
    t_start = time.perf_counter()
    import librosa
    import numpy as np

    from player.analysis import features as F
    from player.analysis import registry

    tagger = registry.load(registry.default_name("tags", models_dir), models_dir)
    genre = registry.load(registry.default_name("genre", models_dir), models_dir)
    tagger.keras_model.predict(np.zeros((1, *tagger.input_shape), np.float32), verbose=0)
    genre.keras_model.predict(np.zeros((1, *genre.input_shape), np.float32), verbose=0)
    t0 = time.perf_counter()
    startup = t0 - t_start
    for p in paths:
        y, sr = librosa.load(p)  # the whole file at 22,050 Hz, as seed 000
        slices = F.genre_slices(F.fit_length(y, F.excerpt_samples(genre.frontend)), genre.frontend)
        for s in slices:
            genre.keras_model.predict(s[None], verbose=0)
        y12, _ = librosa.load(p, sr=12000)  # seed 002 loads the whole file again at 12 kHz
        x = F.tagger_input(y12, tagger.frontend)
        tagger.keras_model.predict(x[None], verbose=0)
    return startup, time.perf_counter() - t0


class PeakRss:
    """Polls /proc for the peak resident memory of the analysis worker processes."""

    def __init__(self):
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _children(self):
        me = os.getpid()
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == me:
                        yield pid
            except (OSError, IndexError, ValueError):
                continue

    def _run(self):
        while not self._stop.is_set():
            for pid in self._children():
                try:
                    with open(f"/proc/{pid}/status") as f:
                        for line in f:
                            if line.startswith("VmHWM:"):
                                self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                except OSError:
                    pass
            time.sleep(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("music", type=Path)
    ap.add_argument("--tracks", type=int, default=200, help="library size (default 200)")
    ap.add_argument("--baseline-tracks", type=int, default=12, help="tracks timed the seed's way (default 12)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default="auto")
    ap.add_argument("--models", type=Path, default=None, help="models folder (default: the shipped one)")
    args = ap.parse_args()
    if not args.music.is_dir():
        sys.exit(f"no such folder: {args.music}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from player.analysis.service import AnalysisOptions, run_analysis
    from player.library import Library
    from player.library.scan import scan

    paths = pick_tracks(args.music, args.tracks)
    if not paths:
        sys.exit(f"no audio files under {args.music}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lib_dir = tmp / "music"
        lib_dir.mkdir()
        for i, p in enumerate(paths):
            os.symlink(p.resolve(), lib_dir / f"{i:04d}_{p.name}")
        lib = Library(tmp / "lib.db")
        scan(lib, [lib_dir])
        n_ok = lib.track_count("ok")
        hours = sum(t.duration or 0 for t in lib.tracks(status="ok")) / 3600
        lib.close()
        first_batch = []

        def on_event(p):
            if p.done and not first_batch:
                first_batch.append(time.perf_counter())

        opts = AnalysisOptions(models_dir=str(args.models) if args.models else None, batch_tracks=args.batch,
                               precision=args.precision)
        with PeakRss() as rss:
            t0 = time.perf_counter()
            progress = run_analysis(tmp / "lib.db", workers=args.workers, options=opts, on_event=on_event)
            total_s = time.perf_counter() - t0
        if progress.state != "finished":
            sys.exit(f"analysis did not finish: {progress.describe()}")
        rate = progress.done / total_s
        print(f"player  : {progress.done} tracks ({hours:.1f} h of music, {n_ok} playable, {progress.failed} failed) "
              f"in {total_s:.1f} s = {rate:.2f} tracks/s end to end (workers={args.workers}, batch={args.batch})")
        if first_batch:
            steady = (progress.done - args.batch * args.workers) / max(1e-6, t0 + total_s - first_batch[0])
            print(f"          first batch committed after {first_batch[0] - t0:.1f} s (TensorFlow start-up and "
                  f"model loading included); steady state ≈ {steady:.2f} tracks/s")
        print(f"          peak worker RSS {rss.peak_kb / 1024:.0f} MB")
        sample = paths[: args.baseline_tracks]
        base_startup, base_s = seed_way(sample, args.models)
        base_rate = len(sample) / base_s
        # The seed's way for the same library, extrapolated from the sample: its start-up once, then
        # the sample's seconds per track for every track.
        base_total = base_startup + progress.done * base_s / len(sample)
        print(f"seed way: {len(sample)} tracks in {base_s:.1f} s = {base_rate:.3f} tracks/s "
              f"(whole-file librosa.load, one predict per slice; float32) after {base_startup:.1f} s of start-up")
        ratio = base_total / total_s
        steady_ratio = f"; steady state {steady / base_rate:.1f}x" if first_batch else ""
        print(f"ratio   : end to end {ratio:.1f}x (the same {progress.done} tracks the seed's way "
              f"≈ {base_total:.0f} s, start-up included on both sides){steady_ratio}")
        print(f"goals   : >= 4 tracks/s {'met' if rate >= 4 else 'NOT met'}; >= 10x "
              f"{'met' if ratio >= 10 else 'NOT met'}; RSS < 1.5 GB "
              f"{'met' if rss.peak_kb < 1.5 * 1024 * 1024 else 'NOT met'}")
        shutil.rmtree(lib_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Soak: everything that writes the library at once, for a bounded time; then what was lost.

    .venv/bin/python benchmarks/bench_soak.py [--seconds 60] [--files 300] [--cli-ratings 1000]

Against one library, at the same time:

* two imports of the same folder, each a ``python -m player scan`` child process started again as soon
  as it ends, while a churn thread adds new files and rewrites old ones (so every import has work);
* an analysis: ``python -m player analyse`` in a child process, started again when it ends;
* the window's rating path: ``Library.rate`` from a thread, in a loop, random tracks and stars;
* 1,000 CLI ratings: ``player.cli.main(["rate", …])`` called in-process from another thread (the real
  command-line code, parsing included, without 1,000 interpreter start-ups), spread over the run.

Then it prints ratings lost (every rating written, by either path, compared with what the database
holds: must be 0), errors (a child that failed, a rating call that raised, the integrity check) and
write latency (p50/p99/max of the rating calls), with the p99 as a ratio against a baseline measured
in the same process before the soak, on the same library with nothing else running.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


@contextlib.contextmanager
def quiet_stderr():
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class Soak:
    def __init__(self, tmp: Path, files: int, seconds: float, cli_ratings: int, seed: int = 7):
        self.tmp, self.seconds, self.cli_ratings = tmp, seconds, cli_ratings
        self.music = tmp / "music"
        self.db = tmp / "library.db"
        self.env = dict(os.environ, PYTHONPATH=str(ROOT), PLAYER_DATA_DIR=str(tmp / "data"))
        self.rng = random.Random(seed)
        self.written: dict[tuple[int, int], int] = {}  # (user id, track id) -> stars last written
        self.written_lock = threading.Lock()
        self.latency: list[float] = []
        self.errors: list[str] = []
        self.counts = {"scan runs": 0, "analyse runs": 0, "window ratings": 0, "cli ratings": 0, "churned files": 0}
        self.stop = threading.Event()
        self.seeds = self._make_corpus(files)

    # -- set-up ----------------------------------------------------------------------------------
    def _make_corpus(self, n: int) -> list[Path]:
        from audiogen import write_audio

        seeds = []
        for i, ext in enumerate(["mp3", "ogg", "flac", "wav"]):
            seeds.append(write_audio(self.tmp / f"seed{i}.{ext}", seconds=8.0, freq=220 + 60 * i,
                                     tags={"title": f"Seed {i}", "artist": "Soak"}))
        for i in range(n):
            src = seeds[i % len(seeds)]
            dst = self.music / f"d{i % 7}" / f"t{i:05d}{src.suffix}"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
        return seeds

    def prepare(self):
        from player.library import Library
        from player.library.scan import scan

        lib = Library(self.db)
        with quiet_stderr():  # libmpg123 reports MP3 frames it skips straight to file descriptor 2
            scan(lib, [self.music])
        self.window_user = lib.add_user("window").id
        self.cli_user = lib.add_user("cli")
        self.track_ids = [t.id for t in lib.tracks(status="ok")]
        # Baseline: the window's rating path with nothing else running.
        base = []
        for _ in range(200):
            track, stars = self.rng.choice(self.track_ids), self.rng.randint(1, 5)
            t0 = time.perf_counter()
            lib.rate(self.window_user, track, stars)
            base.append(time.perf_counter() - t0)
            self.written[(self.window_user, track)] = stars
        lib.close()
        return base

    # -- the writers -----------------------------------------------------------------------------
    def _child_loop(self, name: str, args: list[str]):
        while not self.stop.is_set():
            proc = subprocess.Popen([sys.executable, "-m", "player", *args, "--db", str(self.db)], cwd=ROOT,
                                    env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            while proc.poll() is None:
                if self.stop.wait(0.2):
                    proc.terminate()
                    break
            _out, err = proc.communicate()
            if proc.returncode not in (0, -15) and not (self.stop.is_set() and proc.returncode == -15):
                last = (err.strip().splitlines() or ["(no message)"])[-1]
                self.errors.append(f"{name} exited {proc.returncode}: {last}")
            self.counts["scan runs" if name.startswith("scan") else "analyse runs"] += 1

    def _churn(self):
        i = 0
        while not self.stop.wait(0.5):
            src = self.seeds[i % len(self.seeds)]
            new = self.music / "new" / f"n{i:05d}{src.suffix}"
            new.parent.mkdir(exist_ok=True)
            shutil.copyfile(src, new)  # a new file for the imports
            old = self.rng.choice(sorted((self.music / f"d{i % 7}").iterdir()))
            os.utime(old, (time.time(), time.time() - i))  # a changed file: probed again
            self.counts["churned files"] += 2
            i += 1

    def _window_ratings(self):
        from player.library import Library

        lib = Library(self.db)
        try:
            while not self.stop.is_set():
                track, stars = self.rng.choice(self.track_ids), self.rng.randint(1, 5)
                t0 = time.perf_counter()
                try:
                    lib.rate(self.window_user, track, stars)
                except Exception as exc:  # noqa: BLE001 - counted, the soak goes on
                    self.errors.append(f"Library.rate: {exc}")
                    continue
                self.latency.append(time.perf_counter() - t0)
                with self.written_lock:
                    self.written[(self.window_user, track)] = stars
                self.counts["window ratings"] += 1
                time.sleep(0.005)
        finally:
            lib.close()

    def _cli_ratings(self):
        from player.cli import main

        gap = self.seconds / max(1, self.cli_ratings) * 0.8
        rng = random.Random(11)
        for _ in range(self.cli_ratings):
            track, stars = rng.choice(self.track_ids), rng.randint(1, 5)
            t0 = time.perf_counter()
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                code = main(["rate", "--user", "cli", str(track), str(stars), "--db", str(self.db)])
            if code != 0:
                self.errors.append(f"rate (CLI) exited {code}: {err.getvalue().strip()}")
                continue
            self.latency.append(time.perf_counter() - t0)
            with self.written_lock:
                self.written[(self.cli_user.id, track)] = stars
            self.counts["cli ratings"] += 1
            time.sleep(max(0.0, gap - (time.perf_counter() - t0)))

    def run(self) -> float:
        threads = [
            threading.Thread(target=self._child_loop, args=("scan A", ["scan", str(self.music), "-q"]), daemon=True),
            threading.Thread(target=self._child_loop, args=("scan B", ["scan", str(self.music), "-q"]), daemon=True),
            threading.Thread(target=self._child_loop, args=("analyse", ["analyse", "--quiet"]), daemon=True),
            threading.Thread(target=self._churn, daemon=True),
            threading.Thread(target=self._window_ratings, daemon=True),
        ]
        cli = threading.Thread(target=self._cli_ratings, daemon=True)
        t0 = time.perf_counter()
        for t in threads + [cli]:
            t.start()
        self.stop.wait(self.seconds)
        cli.join()  # the 1,000 CLI ratings all run, even past the time
        self.stop.set()
        for t in threads:
            t.join(60)
        return time.perf_counter() - t0

    # -- the verdict ---------------------------------------------------------------------------------
    def verify(self) -> tuple[int, str, int, int]:
        import sqlite3

        conn = sqlite3.connect(self.db)
        held = {(u, t): s for u, t, s in conn.execute("SELECT user_id, track_id, stars FROM ratings")}
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        tracks = conn.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
        analysed = conn.execute("SELECT COUNT(*) FROM analysis").fetchone()[0]
        conn.close()
        lost = sum(1 for key, stars in self.written.items() if held.get(key) != stars)
        return lost, check, tracks, analysed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--files", type=int, default=300)
    ap.add_argument("--cli-ratings", type=int, default=1000)
    args = ap.parse_args()
    os.environ.setdefault("PLAYER_DATA_DIR", tempfile.mkdtemp(prefix="soak-data-"))
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        soak = Soak(Path(tmp), args.files, args.seconds, args.cli_ratings)
        print(f"soak: {args.files} files, {args.seconds:.0f} s, {args.cli_ratings} CLI ratings (in-process "
              "player.cli.main), two scan children, one analyse child, Library.rate from a thread", flush=True)
        base = soak.prepare()
        with contextlib.redirect_stdout(io.StringIO()):
            took = soak.run()
        lost, check, tracks, analysed = soak.verify()
        if check != "ok":
            soak.errors.append(f"integrity check: {check}")
        p99, base_p99 = percentile(soak.latency, 99), percentile(base, 99)
        print(f"ran          : {took:.1f} s; " + ", ".join(f"{v} {k}" for k, v in soak.counts.items()))
        print(f"library      : {tracks} tracks, {analysed} analysed")
        print(f"ratings      : {len(soak.latency)} writes ({len(soak.written)} listener/track pairs, each compared "
              f"with its last written value): {lost} lost")
        print(f"errors       : {len(soak.errors)}")
        for line in soak.errors[:10]:
            print(f"  {line}")
        print(f"write latency: p50 {percentile(soak.latency, 50) * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, "
              f"max {max(soak.latency, default=float('nan')) * 1e3:.1f} ms over {len(soak.latency)} ratings")
        print(f"baseline     : p99 {base_p99 * 1e3:.1f} ms alone (Library.rate x200) -> soak p99 is "
              f"{p99 / base_p99:.1f}x the quiet p99")
        print(f"verdict      : {'nothing lost' if lost == 0 and not soak.errors else 'PROBLEMS'}")


if __name__ == "__main__":
    main()

"""What benchmarks/bench_gui.py measures with and on: the stall meter (a 1 ms timer's gaps on the GUI
thread, ``diagnose``: the GUI thread's stack during the worst gaps), the real event loop, generated
audio files, covers and libraries of 100,000 songs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

DIAGNOSE = False
BIG_WORD = "zanzibarquux"  # the last word of the 1 MB title


class StallMeter:
    """Gaps between 1 ms timer ticks on the GUI thread (``--diagnose``: and what the GUI thread ran)."""

    def __init__(self):
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(1)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self.ends: list[float] = []
        self._last = None
        self._samples: list = []
        self._sampling = False

    def _tick(self):
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append(now - self._last)
            self.ends.append(now)
        self._last = now

    def start(self):
        if DIAGNOSE:
            import threading

            self._samples = []
            self._sampling = True
            threading.Thread(target=self._sample, args=(threading.get_ident(),), daemon=True).start()
        self.gaps, self.ends = [], []
        self._last = self._t0 = time.perf_counter()
        self.timer.start()

    def _sample(self, main):
        import threading
        import traceback

        def fmt(fr, n):
            return tuple(f"{Path(x.filename).name}:{x.lineno}:{x.name}" for x in traceback.extract_stack(fr, limit=14)[-n:])

        while self._sampling:
            frames = sys._current_frames()
            f = frames.get(main)
            others = tuple(fmt(fr, 3) for tid, fr in frames.items() if tid not in (main, threading.get_ident()))
            self._samples.append((time.perf_counter(), fmt(f, 6) if f else (), others))
            time.sleep(0.002)

    def stop(self) -> dict:
        self.timer.stop()
        self._tick()
        self._sampling = False
        if DIAGNOSE:
            self.report()
        return self.summary()

    def report(self, worst: int = 4):
        from collections import Counter

        for i in sorted(range(len(self.gaps)), key=lambda i: -self.gaps[i])[:worst]:
            end, gap = self.ends[i], self.gaps[i]
            c = Counter(s for t, s, _o in self._samples if end - gap <= t <= end)
            o = Counter(x for t, _s, others in self._samples if end - gap <= t <= end for x in others
                        if not x[-1].endswith((":wait", ":select", ":_poll", ":sleep", ":poll", ":recv", ":get")))
            print(f"    gap {1000 * gap:.0f} ms at +{end - gap - self._t0:.2f} s; GUI thread samples: {sum(c.values())}")
            for stack, n in c.most_common(2):
                print(f"      {n} × {' > '.join(stack[-5:]) or '(in Qt/C++, no Python frame)'}")
            for stack, n in o.most_common(3):
                print(f"      other thread {n} × {' > '.join(stack)}")

    def summary(self) -> dict:
        import numpy as np

        g = np.array(self.gaps or [0.0]) * 1000.0
        return {"max": float(g.max()), "p99": float(np.percentile(g, 99)), "secs": time.perf_counter() - self._t0}


def run_until(predicate, timeout: float) -> bool:
    """Run the real event loop (``QEventLoop.exec``) until ``predicate()`` or the timeout."""
    from PySide6.QtCore import QEventLoop, QTimer

    if predicate():
        return True
    loop, deadline, result = QEventLoop(), time.monotonic() + timeout, [False]

    def check():
        if predicate():
            result[0] = True
            loop.quit()
        elif time.monotonic() > deadline:
            loop.quit()

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    return result[0]


def wait(seconds: float) -> None:
    run_until(lambda: False, seconds)


# -- data -------------------------------------------------------------------------------------------
def make_files(root: Path, n: int, seconds: float = 4.0, offset: int = 0) -> None:
    import numpy as np
    import soundfile as sf

    sr = 8000
    t = np.arange(int(seconds * sr)) / sr  # long enough to be analysed (>= 3 s)
    for i in range(offset, offset + n):
        d = root / f"artist{i % 40:02d}" / f"album{i % 7}"
        d.mkdir(parents=True, exist_ok=True)
        sf.write(d / f"{i:04d} song {i}.wav", (0.2 * np.sin(2 * np.pi * (200 + i % 300) * t)).astype("float32"), sr)


def make_covers(folder: Path, n: int, side: int = 500) -> list[tuple]:
    """``n`` generated pictures (every other one a JPEG, the rest PNG): (path, sha1, mime, side)."""
    from PySide6.QtGui import QColor, QImage, QLinearGradient, QPainter

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        img = QImage(side, side, QImage.Format_RGB32)
        p = QPainter(img)
        g = QLinearGradient(0, 0, side, side)
        g.setColorAt(0, QColor.fromHsv(i * 37 % 360, 160, 220))
        g.setColorAt(1, QColor.fromHsv(i * 91 % 360, 200, 90))
        p.fillRect(img.rect(), g)
        p.drawText(20, 40, f"Album {i}")
        p.end()
        ext = ".jpg" if i % 2 == 0 else ".png"
        path = folder / f"cover{i:05d}{ext}"
        img.save(str(path), quality=85) if ext == ".jpg" else img.save(str(path))
        out.append((str(path), hashlib.sha1(path.read_bytes()).hexdigest(), "image/jpeg" if ext == ".jpg" else "image/png", side))
    return out


def build_library(path: Path, n: int, *, albums: int = 9000, song: Path | None = None, covers=(), big_title=False,
                  seed: int = 0) -> None:
    """``n`` tracks by direct SQL: 3 labels each, an analysis row with genre probabilities and an
    embedding; ``song``: every track a symlink to that file (playable); ``covers``: the albums' folder
    pictures; ``big_title``: one more song with a 1 MB title ending in BIG_WORD."""
    import numpy as np

    from player.library import Library

    rng = np.random.default_rng(seed)
    tags = ["rock", "pop", "electronic", "chill", "guitar", "piano", "female vocals", "dance", "ambient", "jazz",
            "happy", "sad", "mellow", "fast", "beautiful", "loud", "instrumental", "catchy", "metal", "folk"]
    genres = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]
    try:  # stored under the shipped models' version: nothing waits for analysis
        from player.analysis.engine import model_version

        version = model_version()
    except Exception:  # noqa: BLE001 - no models in this checkout
        version = "bench@1"
    lib = Library(path)
    now = time.time()
    links = path.parent / f"{path.stem}-files"
    rows = []
    for i in range(n + int(big_title)):
        p = f"/music/artist {i % 2500:04d}/album {i % albums:04d}/{i:06d} track {i}.wav"
        if song is not None:
            p = str(links / f"{i // 1000:03d}" / f"{i:06d}.wav")
            Path(p).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(song, p)
        title = f"Track {i}" if i < n else "lorem ipsum " * (1_000_000 // 12) + BIG_WORD
        rows.append((os.fsencode(p), p, title, f"Artist {i % 2500}", f"Album {i % albums:04d}", None, i // albums + 1,
                     1990 + i % 30, genres[i % 10], 120.0 + (i % 240), 8000, 1, "wav", 5_000_000, now, now - i, now,
                     "ok", None))
    with lib.db.transaction() as c:
        c.executemany(
            "INSERT INTO tracks(path_raw, path, title, artist, album, albumartist, tracknumber, year, genre, duration, "
            "samplerate, channels, format, size, mtime, added_at, updated_at, status, error) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        ids = [r[0] for r in c.execute("SELECT id FROM tracks ORDER BY id")]
        gp = rng.dirichlet(np.full(8, 0.4), size=len(ids)).astype(np.float32)
        emb = rng.normal(size=(len(ids), 32)).astype(np.float32)
        c.executemany(
            "INSERT INTO analysis(track_id, model_version, analysed_at, status, n_excerpts, genre_probs, embedding) "
            "VALUES (?, ?, ?, 'ok', 4, ?, ?)", [(t, version, now, gp[k].tobytes(), emb[k].tobytes()) for k, t in enumerate(ids)])
        lab = rng.integers(0, len(tags), size=(len(ids), 3))
        c.executemany("INSERT OR IGNORE INTO track_labels(track_id, label, count, probability) VALUES (?, ?, ?, ?)",
                      [(t, tags[lab[k, j]], 3 - j, 0.9 - 0.2 * j) for k, t in enumerate(ids) for j in range(3)])
        c.execute("INSERT INTO users(name, created_at) VALUES ('bench', ?)", (now,))
    # no imported folder: nothing is rescanned at start (a rescan would fold the links into one song)
    lib.db.set_setting("library.folders", "[]")
    with lib.db.transaction() as c:
        if covers:
            c.executemany("INSERT OR IGNORE INTO covers(hash, mime, width, height, added_at) VALUES (?, ?, ?, ?, ?)",
                          [(h, mime, side, side, now) for _p, h, mime, side in covers])
            c.executemany("UPDATE tracks SET cover_hash = ?, cover_source = 'folder', cover_path_raw = ? WHERE id = ?",
                          [(covers[k % albums % len(covers)][1], os.fsencode(covers[k % albums % len(covers)][0]), t)
                           for k, t in enumerate(ids)])
    lib.close()


class SyncCovers:
    """The naive cover loader: every cover decoded on the GUI thread when a tile is painted."""

    def __init__(self, library):
        self.library, self.cache = library, {}

    def cover(self, track_id, size, _key=""):
        from PySide6.QtGui import QPixmap

        from player.ui.cover_art import load_thumbnail

        if (track_id, size) not in self.cache:
            _h, image = load_thumbnail(self.library, track_id, size)
            self.cache[(track_id, size)] = QPixmap.fromImage(image) if image is not None else None
        return self.cache[(track_id, size)]


def _dbus_daemon(folder: Path):
    from dbus_session import CONFIG

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "session.conf").write_text(CONFIG.format(dir=folder))
    proc = subprocess.Popen(["dbus-daemon", f"--config-file={folder / 'session.conf'}", "--print-address=1", "--nofork"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


def fmt(s, key) -> str:
    return f"{s[key]:7.1f}" if s else "      —"


def worst(runs: list[dict[str, dict]]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for res in runs:
        for name, r in res.items():
            o = out.setdefault(name, r)
            if o is r or "skip" in r or "skip" in o:
                continue
            if "rss" in r:
                if r["rss"] > o["rss"]:
                    o["rss"], o["note"] = r["rss"], r["note"]
                continue
            for part in ("window", "idle", "naive"):
                if r.get(part) and o.get(part):
                    o[part] = {k: max(o[part][k], r[part][k]) for k in ("max", "p99")}
    return out

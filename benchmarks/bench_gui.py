"""The window never freezes: the longest event-loop stall while it imports, watches, sorts, searches,
shows covers, re-evaluates smart playlists, refills the radio, answers MPRIS and analyses; its memory
at 100,000 songs; the time to a painted window with 50,000 songs.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui.py [--rows import,sort] [--runs 3]

How stalls are measured: a 1 ms QTimer on the GUI thread records the gaps between its ticks; the
longest gap is the longest time the event loop could not run. Every row is measured three ways in the
same process: the window doing the work, the same window idle for as long (the floor: what this
machine's load alone costs) and the naive way (the same work on the GUI thread, as a window without
workers would do it). Goals: every row's longest stall < 50 ms; RSS at 100,000 songs < 600 MB; a
painted window with 50,000 songs < 2 s. ``--diagnose`` samples the GUI thread's stack (and the other
threads') during the worst gaps.
"""

from __future__ import annotations

import time as _time

_PROCESS_T0 = _time.monotonic()  # as early as this module can see (the interpreter started just before)

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PLAYER_AUDIO", "null")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import gui_support  # noqa: E402
from gui_support import (BIG_WORD, StallMeter, SyncCovers, _dbus_daemon, build_library, fmt, make_covers,  # noqa: E402
                         make_files, run_until, wait, worst)

GOAL_MS = 50.0


class Bench:
    """What the rows share: the application, a temp folder, data made once per process."""

    def __init__(self, app, tmp: Path, args):
        self.app, self.tmp, self.args, self.run = app, tmp, args, 0
        self._made: dict[str, object] = {}

    def once(self, key: str, make):
        if key not in self._made:
            t0 = time.perf_counter()
            self._made[key] = make()
            print(f"  (made {key} in {time.perf_counter() - t0:.1f} s)", flush=True)
        return self._made[key]

    def files(self, n: int) -> Path:
        return self.once(f"{n} audio files", lambda: (make_files(self.tmp / f"music{n}", n), self.tmp / f"music{n}")[1])

    def song(self) -> Path:
        def make():
            make_files(self.tmp / "song", 1, seconds=600.0)
            return next((self.tmp / "song").rglob("*.wav"))
        return self.once("a 10-minute song", make)

    def covers(self) -> list:
        return self.once("2,000 covers", lambda: make_covers(self.tmp / "covers", 2000))

    def huge(self) -> Path:
        def make():
            db = self.tmp / "huge.db"
            build_library(db, self.args.huge, song=self.song(), covers=self.covers(), big_title=True, seed=1)
            return db
        return self.once(f"a library of {self.args.huge:,} songs", make)

    def grid_db(self) -> Path:
        def make():
            db = self.tmp / "grid.db"
            build_library(db, 4000, albums=2000, song=self.song(), covers=self.covers(), seed=2)
            return db
        return self.once("a library of 2,000 albums", make)

    def fresh(self, name: str) -> Path:
        self.run += 1
        return self.tmp / f"{name}-{self.run}.db"

    def fresh_cache(self) -> None:
        self.run += 1
        os.environ["PLAYER_DATA_DIR"] = str(self.tmp / f"data{self.run}")

    def window(self, db: Path, synchronous: bool = False, backend: str = "null-realtime", loaded=True):
        from player.library import Library
        from player.ui.main import tune_interpreter
        from player.ui.main_window import MainWindow
        from player.ui.settings import Settings

        lib = Library(db)
        s = Settings.at(self.tmp / f"s{time.monotonic_ns()}.ini")
        w = MainWindow(lib, settings=s, synchronous=synchronous, audio_backend=backend)
        w.resize(1360, 820)
        w.show()
        if loaded:
            t0 = time.perf_counter()
            n = lib.db.query_one("SELECT COUNT(*) AS n FROM tracks")["n"]
            labels = lib.db.query_one("SELECT COUNT(*) AS n FROM track_labels")["n"]
            run_until(lambda: w.model.is_loaded and w.model.total_count() == n and (not labels or bool(w.model.snapshot.tags)), 120)
            run_until(lambda: not any(p.active for p in w.pools.all()), 120)
            if w.model.total_count() != n:
                print(f"  (the window showed {w.model.total_count():,} of {n:,} songs after {time.perf_counter() - t0:.0f} s)")
        tune_interpreter()  # as player.ui.main.run does once the window is up
        wait(0.3)
        return w, lib

    @staticmethod
    def close(w, lib) -> None:
        w.close()
        lib.close()
        wait(0.2)


def floor(w, seconds: float) -> dict:
    """The same window doing nothing, for as long as the work took (at most 10 s)."""
    run_until(lambda: not any(p.active for p in w.pools.all()), 60)
    m = StallMeter()
    m.start()
    wait(min(10.0, max(1.0, seconds)))
    return m.stop()


def metered(work) -> dict:
    m = StallMeter()
    m.start()
    work()
    return m.stop()


def play(w, ids=None) -> None:
    run_until(lambda: w.playback.player is not None, 30)
    w.playback.play_ids(ids or w.model.track_ids()[:50], 0)
    run_until(lambda: w.playback.state() == "playing", 30)


# -- the rows ---------------------------------------------------------------------------------------
ROWS: dict[str, tuple[str, object]] = {}


def row(name: str, title: str):
    def deco(fn):
        ROWS[name] = (title, fn)
        return fn
    return deco


@row("import", "import 1,000 files")
def row_import(b: Bench) -> dict:
    files = b.files(1000)
    w, lib = b.window(b.fresh("import"))
    done = []
    w.imports.finished.connect(done.append)

    def work():
        w.imports.import_folders([str(files)])
        run_until(lambda: bool(done), 600)
        run_until(lambda: w.model.total_count() == 1000 and not w.pools.query.active, 60)

    out = {"window": metered(work), "note": f"{w.model.total_count()} songs"}
    out["idle"] = floor(w, out["window"]["secs"])
    b.close(w, lib)
    w, lib = b.window(b.fresh("import-naive"), synchronous=True)
    out["naive"] = metered(lambda: (w.imports.import_folders([str(files)]), wait(0.05)))
    b.close(w, lib)
    return out


def _watched(b: Bench, name: str) -> tuple[Path, Path]:
    """A library whose imported (watched) folder holds 20 songs; the 200 songs to copy in."""
    folder, db = b.tmp / f"{name}{b.run}", b.fresh(name)
    make_files(folder, 20, seconds=3.0)
    w, lib = b.window(db, synchronous=True, backend="null")
    w.imports.import_folders([str(folder)])
    b.close(w, lib)
    return folder, db


@row("watch", "watched folder gets 200 files, playing")
def row_watch(b: Bench) -> dict:
    new = b.once("200 new files", lambda: (make_files(b.tmp / "new200", 200, seconds=3.0, offset=20), b.tmp / "new200")[1])
    folder, db = _watched(b, "watch")
    w, lib = b.window(db)
    run_until(lambda: bool(w.watching.watcher.folders) if hasattr(w.watching.watcher, "folders") else True, 10)
    wait(1.0)
    play(w)

    def work():
        # another program copies them in (the event loop runs meanwhile: waiting for ``cp`` on the GUI
        # thread would be a stall of the benchmark's own making)
        cp = subprocess.Popen(["cp", "-r", f"{new}/.", str(folder)])
        run_until(lambda: cp.poll() is not None, 60)
        run_until(lambda: w.model.total_count() >= 220 and not w.imports.importing and not w.pools.query.active, 120)

    out = {"window": metered(work), "note": f"{w.model.total_count()} songs, {w.playback.state()}"}
    out["idle"] = floor(w, out["window"]["secs"])
    b.close(w, lib)
    folder, db = _watched(b, "watch-naive")
    subprocess.run(["cp", "-r", f"{new}/.", str(folder)], check=True)
    w, lib = b.window(db, synchronous=True)
    play(w)
    out["naive"] = metered(lambda: (w.watching.rescan([str(folder)]), wait(0.05)))
    b.close(w, lib)
    return out


@row("sort", "sort 100,000 rows by every column")
def row_sort(b: Bench) -> dict:
    from PySide6.QtCore import Qt

    from player.ui.library_rows import COLUMNS, _column_key

    w, lib = b.window(b.huge())
    model = w.model

    def work():
        for col in list(range(len(COLUMNS))) + [6, 0]:
            applied = []
            conn = model.orderApplied.connect(lambda: applied.append(1))
            w.view.sortByColumn(col, Qt.DescendingOrder if col == 6 and applied == [] and model._spec.sort_col == 6
                                else Qt.AscendingOrder)
            run_until(lambda: bool(applied), 60)
            model.orderApplied.disconnect(conn)
            wait(0.05)

    out = {"window": metered(work)}
    out["idle"] = floor(w, out["window"]["secs"])

    def naive():  # a Python sort of the rows on the GUI thread, per column (the stars by their value)
        snap = model.snapshot
        for col in range(len(COLUMNS)):
            key = _column_key(snap, col) or (lambda i, r=snap.rows, s=snap.stars: (-s.get(r[i][0], 0), i))
            sorted(range(len(snap.rows)), key=key)
            wait(0.02)

    out["naive"] = metered(naive)
    b.close(w, lib)
    return out


@row("search", "search 100,000 rows (a 1 MB title)")
def row_search(b: Bench) -> dict:
    from PySide6.QtTest import QTest

    from player.ui.library_rows import OrderSpec, compute_order

    w, lib = b.window(b.huge())
    words = ["artist 12", BIG_WORD, "lorem", "track 99"]

    def work():
        for text in words:
            w.search.clear()
            for ch in text:  # typed, a key every 150 ms (each one a search after the debounce)
                QTest.keyClicks(w.search, ch)
                wait(0.15)
            run_until(lambda: not w.pools.query.active, 30)
            wait(0.2)
            w.view.viewport().repaint()

    out = {"window": metered(work)}
    found = w.model.shown_count()
    out["note"] = f"'{words[-2]}' shows {found} song(s)"
    out["idle"] = floor(w, out["window"]["secs"])

    def naive():
        snap = w.model.snapshot
        for text in words:
            for k in range(1, len(text) + 1):
                compute_order(snap, OrderSpec(query=text[:k]))
                wait(0.02)

    out["naive"] = metered(naive)
    b.close(w, lib)
    return out


def _scroll_grid(w, step_px: int = 180) -> None:
    sb = w.album_grid.verticalScrollBar()
    while sb.value() < sb.maximum():
        sb.setValue(sb.value() + step_px)
        wait(0.03)  # a person's scroll wheel: ~30 steps a second
    run_until(lambda: w.covers.pending == 0, 60)
    wait(0.3)


@row("grid", "album grid of 2,000 albums, scrolled")
def row_grid(b: Bench) -> dict:
    db = b.grid_db()
    b.fresh_cache()  # thumbnails made anew
    w, lib = b.window(db)
    w.albums.action.setChecked(True)
    run_until(lambda: len(w.album_grid.albums.albums) == 2000, 60)
    wait(0.5)
    out = {"window": metered(lambda: _scroll_grid(w)), "note": f"{len(w.covers._pixmaps)} pixmaps cached"}
    out["idle"] = floor(w, out["window"]["secs"])
    b.fresh_cache()
    w.album_grid.tiles.covers = SyncCovers(lib)
    w.album_grid.verticalScrollBar().setValue(0)
    wait(0.3)
    out["naive"] = metered(lambda: _scroll_grid(w))
    b.close(w, lib)
    return out


@row("smart", "live smart playlist, 50 ratings")
def row_smart(b: Bench) -> dict:
    from player.library.playlists import Playlists
    from player.library.smart import evaluate

    db = b.huge()
    lib0 = __import__("player.library", fromlist=["Library"]).Library(db)
    store = Playlists(lib0)
    b.run += 1
    name = f"rated {b.run}"
    pid = store.create(name, query="stars>=4").id
    lib0.close()
    w, lib = b.window(db)
    w.listeners.switch("bench")
    run_until(lambda: w.listeners.user is not None and any(p.id == pid for p in w.playlists.playlists), 30)
    w.playlists.choose(pid)
    run_until(lambda: not w.pools.query.active, 30)
    every = w.model.track_ids()
    start = (997 * b.run) % max(1, len(every) - 50)
    ids = every[start:start + 50]
    shown = []
    w.playlists.panel.model.modelReset.connect(lambda: shown.append(1))

    def work():
        for tid in ids:
            w.listeners.rate([tid], 4)
            wait(0.25)
        run_until(lambda: not any(p.active for p in w.pools.all()), 60)

    out = {"window": metered(work)}
    out["note"] = f"{w.playlists.panel.model.rowCount()} songs listed"
    out["idle"] = floor(w, out["window"]["secs"])
    user = w.listeners.user.id

    def naive():
        for tid in ids:
            lib.rate(user, tid, 5)
            evaluate(lib, "stars>=4", user_id=user)
            wait(0.05)

    out["naive"] = metered(naive)
    b.close(w, lib)
    return out


@row("radio", "radio refilling Up next (10 songs)")
def row_radio(b: Bench) -> dict:
    w, lib = b.window(b.huge())
    run_until(lambda: w.playback.player is not None, 30)
    started = []
    w.recs.upNextReady.connect(lambda: started.append(1))
    w.radio.start(w.model.track_ids()[5])
    run_until(lambda: w.radio.radio is not None and w.playback.state() == "playing", 180)
    run_until(lambda: not any(p.active for p in w.pools.all()), 120)

    def work():
        for _ in range(10):
            n = len(started)
            w.transport.next_track()
            run_until(lambda: len(started) > n and not w.pools.recommend.active, 60)
            wait(0.2)

    out = {"window": metered(work), "note": f"Up next {len(w.playback.upcoming())} songs"}
    out["idle"] = floor(w, out["window"]["secs"])
    radio = w.radio.radio

    def naive():
        for _ in range(10):
            radio.next(10)
            wait(0.05)

    out["naive"] = metered(naive) if radio is not None else None
    b.close(w, lib)
    return out


@row("mpris", "MPRIS updates while playing")
def row_mpris(b: Bench) -> dict:
    if shutil.which("dbus-daemon") is None:
        return {"skip": "no dbus-daemon"}
    proc, address = _dbus_daemon(b.tmp / f"bus{b.run}")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address
    try:
        monitor = subprocess.Popen(["dbus-monitor", "--address", address, "type='signal'"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL) if shutil.which("dbus-monitor") else None
        w, lib = b.window(b.grid_db())
        run_until(lambda: w.desktop.mpris.active, 10)
        play(w)

        def changes():
            for k in range(20):
                w.transport.next_track() if k % 4 == 0 else w.playback.set_volume(0.3 + 0.03 * k)
                if k % 4 == 2:
                    w.transport.seek_relative(5)
                wait(0.15)

        out = {"window": metered(changes), "note": "bus " + ("on" if w.desktop.mpris.active else "off")}
        out["idle"] = floor(w, out["window"]["secs"])

        def naive():  # the cover file looked up and every property sent from the GUI thread, at once
            from player.ui.desktop import cover_file

            for k in range(20):
                cover_file(lib, w.playback.current_track_id() or 1)
                w.desktop.refresh()
                wait(0.05)

        out["naive"] = metered(naive)
        b.close(w, lib)
        if monitor is not None:
            monitor.kill()
        return out
    finally:
        os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        proc.kill()
        proc.wait(10)


def _models_ready(b: Bench) -> str | None:
    from modelgen import shipped_models_present

    if not shipped_models_present():
        return "no shipped models in this checkout"
    from player.analysis.engine import model_version
    from player.analysis.registry import ModelError

    try:
        model_version()
    except ModelError as exc:
        return str(exc)
    return None


@row("analysis", "analysis running (shipped models, 60 s)")
def row_analysis(b: Bench) -> dict:
    why = _models_ready(b)
    if why:
        return {"skip": why}
    files = b.files(1000)
    db = b.once("an imported library of 1,000 files", lambda: _imported(b, files))
    copy = b.fresh("analysis")
    shutil.copy(db, copy)
    w, lib = b.window(copy)
    progress = []
    w.analysis_ctl.progress.connect(progress.append)

    def work():
        w.analysis_ctl.start()
        run_until(lambda: bool(progress) and progress[-1].finished, b.args.analysis_s)

    out = {"window": metered(work)}
    last = progress[-1] if progress else None
    out["note"] = f"{getattr(last, 'done', 0)} songs analysed" if last else "no progress"
    w.analysis.cancel() if hasattr(w.analysis, "cancel") else None
    b.close(w, lib)
    w, lib = b.window(b.fresh("analysis-idle"))
    out["idle"] = floor(w, out["window"]["secs"])
    b.close(w, lib)
    res = subprocess.run([sys.executable, __file__, "--child-naive-analysis", str(copy)], capture_output=True,
                         text=True, timeout=900)
    line = next((x for x in res.stdout.splitlines() if x.startswith("NAIVE")), None)
    out["naive"] = None if line is None else {"max": float(line.split()[1]), "p99": float(line.split()[2])}
    return out


def _imported(b: Bench, files: Path) -> Path:
    db = b.tmp / "imported.db"
    w, lib = b.window(db, synchronous=True, backend="null")
    w.imports.import_folders([str(files)])
    b.close(w, lib)
    return db


def child_naive_analysis(db: str) -> int:
    """Child mode: a Qt loop whose GUI thread analyses 8 songs itself (TensorFlow in this process)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from player.analysis.engine import Analyser
    from player.library import Library

    app = QApplication([])
    lib = Library(Path(db))
    tracks = [t for t in lib.tracks()[:8]]
    meter = StallMeter()
    meter.start()

    def go():
        try:
            a = Analyser.load()  # TensorFlow imported and the networks built, all on the GUI thread
            for k in range(0, len(tracks), 4):
                a.analyse(tracks[k:k + 4])
                app.processEvents()
        except Exception as exc:  # noqa: BLE001
            print(f"naive analysis failed: {exc}", file=sys.stderr)
        finally:
            app.quit()

    QTimer.singleShot(100, go)
    app.exec()
    s = meter.stop()
    print(f"NAIVE {s['max']:.1f} {s['p99']:.1f}", flush=True)
    return 0


def child_rss(db: str) -> int:
    """Child mode: the window at 100,000 songs, every album's cover shown once, the table scrolled to
    its end, the analysis results loaded: its resident memory (VmRSS)."""
    from PySide6.QtWidgets import QApplication

    from player.ui.style import apply_style

    app = QApplication([])
    apply_style(app)
    b = Bench(app, Path(tempfile.mkdtemp()), None)
    w, lib = b.window(Path(db))
    w.albums.action.setChecked(True)
    run_until(lambda: len(w.album_grid.albums.albums) > 0, 120)
    wait(0.5)
    _scroll_grid(w, step_px=900)
    w.albums.action.setChecked(False)
    w.model.ensure_fetched(w.model.shown_count() - 1)
    w.view.scrollToBottom()
    wait(0.5)
    status = Path("/proc/self/status").read_text()
    rss = next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:")) / 1024
    hwm = next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmHWM:")) / 1024
    print(f"RSS {rss:.0f} {hwm:.0f} {w.model.total_count()} {len(w.album_grid.albums.albums)} "
          f"{len(w.model.snapshot.tags)} {len(w.covers._pixmaps)}", flush=True)
    return 0


@row("rss", "memory at 100,000 songs, covers, analysis")
def row_rss(b: Bench) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child-rss", str(b.huge())], capture_output=True, text=True,
                         timeout=900)
    line = next((x for x in res.stdout.splitlines() if x.startswith("RSS")), None)
    if line is None:
        return {"skip": "the child failed: " + res.stderr.strip()[-300:]}
    _r, rss, hwm, n, albums, analysed, pix = line.split()
    return {"rss": float(rss), "note": f"peak {hwm} MB; {int(n):,} songs, {int(albums):,} albums, "
                                       f"{int(analysed):,} analysed, {pix} covers cached"}


# -- time to a painted window (50,000 songs), not a stall row --------------------------------------------
def child_open(db: str) -> int:
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    from player.ui.style import apply_style

    app = QApplication([])
    apply_style(app)
    marks: dict[str, float] = {}

    class Spy(QObject):
        model = None

        def eventFilter(self, obj, ev):  # noqa: N802
            if ev.type() == QEvent.Paint:
                marks.setdefault("window", time.monotonic())
                if self.model is not None and self.model.rowCount() > 0:
                    marks.setdefault("rows", time.monotonic())
            return False

    spy = Spy()
    b = Bench(app, Path(tempfile.mkdtemp()), None)
    from player.library import Library
    from player.ui.main_window import MainWindow
    from player.ui.settings import Settings

    lib = Library(Path(db))
    w = MainWindow(lib, settings=Settings.at(b.tmp / "s.ini"), audio_backend="null")
    spy.model = w.model
    w.installEventFilter(spy)
    w.view.viewport().installEventFilter(spy)
    w.resize(1360, 820)
    w.show()
    run_until(lambda: "rows" in marks, 60)
    print(f"MARKS {_PROCESS_T0} {marks.get('window', 0)} {marks.get('rows', 0)}", flush=True)
    return 0


def bench_open(b: Bench) -> None:
    db = b.once(f"a library of {b.args.big:,} songs", lambda: (build_library(b.tmp / "big.db", b.args.big),
                                                               b.tmp / "big.db")[1])
    times = []
    for _ in range(3):
        t0 = time.monotonic()
        out = subprocess.run([sys.executable, __file__, "--child-open", str(db)], capture_output=True, text=True,
                             timeout=120)
        line = next((x for x in out.stdout.splitlines() if x.startswith("MARKS")), None)
        if line is None:
            print("  cold start failed:", out.stderr[-500:])
            return
        _m, started, window, rows = line.split()
        times.append((float(started) - t0, float(window) - t0, float(rows) - t0))
    best = min(times, key=lambda t: t[1])
    print(f"\nA window on {b.args.big:,} songs from a cold process start (best of 3): imports {1000 * best[0]:.0f} ms, "
          f"window painted {1000 * best[1]:.0f} ms, rows painted {1000 * best[2]:.0f} ms   goal < 2000 ms: "
          f"{'PASS' if best[1] < 2 else 'FAIL'}")


# -- the table --------------------------------------------------------------------------------------
def print_table(title: str, results: dict[str, dict]) -> None:
    print(f"\n{title}")
    print(f"  {'row':42s} {'window: longest':>15s} {'p99':>7s} | {'idle: longest':>13s} {'p99':>7s} | "
          f"{'naive: longest':>14s} {'p99':>8s} | goal")
    for name, r in results.items():
        label = ROWS[name][0]
        if "skip" in r:
            print(f"  {label:42s} skipped: {r['skip']}")
        elif "rss" in r:
            print(f"  {label:42s} RSS {r['rss']:.0f} MB ({r['note']})   goal < 600 MB: "
                  f"{'PASS' if r['rss'] < 600 else 'FAIL'}")
        else:
            w = r["window"]
            print(f"  {label:42s} {fmt(w, 'max')} ms {fmt(w, 'p99')} ms | {fmt(r.get('idle'), 'max')} ms "
                  f"{fmt(r.get('idle'), 'p99')} ms | {fmt(r.get('naive'), 'max')} ms {fmt(r.get('naive'), 'p99')} ms | "
                  f"{'PASS' if w['max'] < GOAL_MS else 'FAIL'}" + (f"  ({r['note']})" if r.get("note") else ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default=",".join(ROWS), help=f"rows to run, of: {','.join(ROWS)},open")
    ap.add_argument("--runs", type=int, default=1, help="repeat the rows; the last table is each row's worst")
    ap.add_argument("--huge", type=int, default=100_000)
    ap.add_argument("--big", type=int, default=50_000)
    ap.add_argument("--analysis-s", type=float, default=60.0, help="how long the analysis row runs at most")
    ap.add_argument("--diagnose", action="store_true", help="sample the GUI thread's stack during the worst gaps")
    ap.add_argument("--child-open", metavar="DB", help=argparse.SUPPRESS)
    ap.add_argument("--child-rss", metavar="DB", help=argparse.SUPPRESS)
    ap.add_argument("--child-naive-analysis", metavar="DB", help=argparse.SUPPRESS)
    args = ap.parse_args()
    for flag, fn in (("child_open", child_open), ("child_rss", child_rss), ("child_naive_analysis", child_naive_analysis)):
        if getattr(args, flag):
            return fn(getattr(args, flag))
    names = [x.strip() for x in args.rows.split(",") if x.strip()]
    unknown = [x for x in names if x not in ROWS and x != "open"]
    if unknown:
        ap.error(f"unknown row {', '.join(unknown)} (the rows: {', '.join(ROWS)}, open)")
    gui_support.DIAGNOSE = args.diagnose

    from PySide6.QtWidgets import QApplication

    from player.ui.style import apply_style

    app = QApplication.instance() or QApplication([])
    apply_style(app)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.environ["PLAYER_DATA_DIR"] = str(tmp / "data")
        b = Bench(app, tmp, args)
        runs = []
        for k in range(args.runs):
            res: dict[str, dict] = {}
            for name in names:
                if name == "open":
                    continue
                print(f"run {k + 1}: {name} …", flush=True)
                res[name] = ROWS[name][1](b)
            if res:
                print_table(f"Run {k + 1} of {args.runs} (stalls in ms)", res)
                runs.append(res)
        if len(runs) > 1:
            print_table(f"Each row's worst over {len(runs)} runs (stalls in ms)", worst(runs))
        if "open" in names:
            bench_open(b)
    return 0


if __name__ == "__main__":
    sys.exit(main())

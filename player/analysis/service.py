"""Background analysis in worker processes, off the GUI process and its interpreter lock.

:class:`AnalysisService` starts ``workers`` processes (``spawn``: a clean interpreter each, TensorFlow
imported once per process, never in the caller). Each worker takes its share of the pending tracks
(``track id % workers``), analyses them in batches (slices batched across tracks), and commits each batch
in one transaction: a killed or crashed worker loses at most the batch in flight, and a rerun skips
what is done. Progress comes back as :class:`AnalysisProgress` events; pause, resume and cancel are
shared events the workers poll between batches. Then (``AnalysisOptions.loudness``) each worker measures
the loudness of its share that is not measured yet (:mod:`player.library.loudness`), at low priority;
the progress reports it as ``phase='loudness'``.

No TensorFlow and no Qt here: the GUI wraps this in its worker primitive, the CLI draws a progress bar.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple


@dataclass
class AnalysisOptions:
    genre_model: str | None = None  # None: the registry's default (CNN-LSTM)
    tagger_model: str | None = None
    models_dir: str | None = None
    batch_tracks: int = 8
    ahead_batches: int = 1  # batches decoding while one is on the models (more gained nothing, measured)
    threads_per_worker: int | None = None  # None: cores / workers
    niceness: int = 0  # > 0: the workers yield the CPU to the caller (the GUI uses 10)
    precision: str = "auto"  # float32 | bfloat16 | auto (bfloat16 where the CPU computes it natively)
    loudness: bool = True  # then measure the loudness of what is not measured (player.library.loudness)


@dataclass
class AnalysisProgress:
    state: str  # "waiting" | "starting" | "running" | "paused" | "finished" | "cancelled" | "error"
    done: int = 0  # analysed or failed in this run
    failed: int = 0
    total: int = 0  # pending when the run started
    rate: float = 0.0  # tracks per second
    eta_s: float | None = None
    current: str = ""
    message: str = ""
    failures: list[tuple[int, str]] = field(default_factory=list)  # (track id, reason) of the latest batch
    # The loudness pass that follows (each worker, once its analysis is done): "analysis" | "loudness"
    phase: str = "analysis"
    loudness_done: int = 0  # measured or failed in this run
    loudness_failed: int = 0
    loudness_total: int = 0  # pending when the workers came to it
    loudness_failures: list[tuple[int, str]] = field(default_factory=list)  # of the latest batch

    def describe(self) -> str:
        if self.state == "error":
            return f"analysis failed: {self.message}"
        if self.state == "waiting":
            return self.message
        if self.phase == "loudness":
            text = f"loudness {self.loudness_done}/{self.loudness_total}"
            failed = self.loudness_failed
        else:
            text = f"analysed {self.done}/{self.total}"
            failed = self.failed
        if failed:
            text += f" ({failed} failed)"
        if self.state == "running" and self.rate > 0:
            text += f", {self.rate:.1f} tracks/s"
            if self.eta_s is not None:
                m, s = divmod(int(self.eta_s), 60)
                text += f", {m}:{s:02d} left"
        elif self.state in ("paused", "cancelled", "finished"):
            text += f" ({self.state})"
        return text


def default_workers() -> int:
    """Worker processes for a batch run (the CLI): one per core, at most 4, and at most one per 1.5 GB of
    available memory (a worker peaks at about 1.1 GB). The desktop player uses 1, at low priority."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        available = 0
    by_memory = int(available // (1.5 * 2**30)) if available else 1
    return max(1, min(cores, 4, by_memory))


# -- messages from the workers to the service (named tuples: small, and they pickle) ---------------
WorkerReady = NamedTuple("WorkerReady", [("shard", int), ("version", str)])
#: a batch committed: how many results, the failures (``Failure``), the title of its last track
BatchSaved = NamedTuple("BatchSaved", [("shard", int), ("analysed", int), ("failures", list), ("current", str)])
WorkerFailed = NamedTuple("WorkerFailed", [("shard", int), ("message", str)])
WorkerDone = NamedTuple("WorkerDone", [("shard", int), ("cancelled", bool)])
#: a worker starts measuring loudness: how many of its tracks are pending
LoudnessStarted = NamedTuple("LoudnessStarted", [("shard", int), ("pending", int)])
#: a batch of loudness measurements committed
LoudnessBatch = NamedTuple("LoudnessBatch", [("shard", int), ("measured", int), ("failures", list)])


#: How often a track whose file changed while it was analysed is taken again in the same run.
STALE_RETRIES = 3


def analyse_pending(library, analyser, shard: int, n_shards: int, batch_tracks: int,
                    report: Callable[[object], None], cancelled: Callable[[], bool] = lambda: False,
                    paused: Callable[[], bool] = lambda: False, ahead: int = 1) -> None:
    """The worker's loop: analyse this shard's pending tracks batch by batch until none is left, the
    next ``ahead`` batches decoding meanwhile.

    A track whose file changed between its decoding and the write (a rescan in the meantime) is not
    saved (:func:`save_results`) and is taken again, at most :data:`STALE_RETRIES` times."""
    from player.analysis.store import pending_track_ids, save_results

    attempted: set[int] = set()
    retries: dict[int, int] = {}
    window = (1 + max(0, int(ahead))) * batch_tracks
    while not cancelled():
        if paused():
            time.sleep(0.1)
            continue
        ids = [i for i in pending_track_ids(library, analyser.version, limit=window + len(attempted),
                                            shard=(shard, n_shards)) if i not in attempted]
        ids, next_ids = ids[:batch_tracks], ids[batch_tracks: window]
        if not ids:
            break
        attempted.update(ids)
        tracks = [t for t in (library.track(i) for i in ids) if t is not None]
        upcoming = [t for t in (library.track(i) for i in next_ids) if t is not None]
        batch = analyser.analyse(tracks, cancel=cancelled, next_tracks=upcoming)
        if cancelled() and len(batch.results) + len(batch.failures) < len(tracks):
            break  # the batch in flight is dropped; it will be redone next time
        stale = save_results(library, analyser.version, batch.results, batch.failures, batch.sources)
        for track_id in stale:  # pending again: take it once more with its new file
            retries[track_id] = retries.get(track_id, 0) + 1
            if retries[track_id] <= STALE_RETRIES:
                attempted.discard(track_id)
        stale_set = set(stale)
        report(BatchSaved(shard, sum(r.track_id not in stale_set for r in batch.results),
                          [f for f in batch.failures if f.track_id not in stale_set],
                          tracks[-1].title if tracks else ""))


def _worker_main(parent_pid: int, db_path: str, shard: int, n_shards: int, options: AnalysisOptions, events,
                 pause_ev, cancel_ev):
    """One worker process: load the models once, analyse batches until nothing is pending, then measure
    the loudness of its tracks not measured yet. With nothing to analyse, no model is loaded."""
    from player.procs import die_with_parent

    die_with_parent(parent_pid)  # a killed `analyse` or window takes its workers with it
    threads = options.threads_per_worker or max(1, (os.cpu_count() or 1) // n_shards)
    if options.niceness > 0:
        try:
            os.nice(options.niceness)
        except (AttributeError, OSError):
            pass
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ["OMP_NUM_THREADS"] = str(threads)
    # numpy's BLAS (the mel filter bank's matrix product) stays on one thread: the decode threads are
    # the parallelism, and idle OpenBLAS threads spin, which doubled the CPU time of a track's features.
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")  # in case numpy was loaded already
    except Exception:  # noqa: BLE001 - only a matter of speed
        pass
    if options.models_dir:
        os.environ["PLAYER_MODELS_DIR"] = options.models_dir
    library = None
    try:
        from player.analysis.engine import Analyser
        from player.analysis.store import pending_track_ids
        from player.library import Library

        analyser = Analyser.open(genre_model=options.genre_model, tagger_model=options.tagger_model,
                                 threads=threads)
        library = Library(db_path)
        # The first batch decodes while TensorFlow is imported and the models load (seconds). Only one:
        # decoding holds the interpreter lock much of the time, and more of it slows the import down.
        first = pending_track_ids(library, analyser.version, limit=options.batch_tracks, shard=(shard, n_shards))
        if first:  # nothing to analyse (only loudness to measure): no TensorFlow at all
            analyser.prefetch([t for t in (library.track(i) for i in first) if t is not None])
            analyser.load_models(options.precision)
    except Exception as exc:  # a missing or corrupt model: a clear message, nothing written
        events.put(WorkerFailed(shard, _one_line(exc)))
        if library is not None:
            library.close()
        return
    events.put(WorkerReady(shard, analyser.version))
    try:
        if first:
            analyse_pending(library, analyser, shard, n_shards, options.batch_tracks, events.put,
                            cancelled=cancel_ev.is_set, paused=pause_ev.is_set, ahead=options.ahead_batches)
        analyser.close()
        if options.loudness and not cancel_ev.is_set():
            measure_loudness(library, shard, n_shards, events.put, cancelled=cancel_ev.is_set,
                             paused=pause_ev.is_set)
    except Exception as exc:
        events.put(WorkerFailed(shard, _one_line(exc) + "\n" + traceback.format_exc(limit=3)))
        return
    finally:
        library.close()
    events.put(WorkerDone(shard, cancel_ev.is_set()))
    # Everything is committed: leave without TensorFlow's slow teardown (about a second), once the
    # queue has handed the last message over.
    events.close()
    events.join_thread()
    os._exit(0)


#: The loudness pass runs at least this nice (it is the player's lowest priority).
LOUDNESS_NICENESS = 10


def measure_loudness(library, shard: int, n_shards: int, report: Callable[[object], None],
                     cancelled: Callable[[], bool] = lambda: False, paused: Callable[[], bool] = lambda: False
                     ) -> None:
    """The worker's loudness pass over its shard, after its analysis: it decodes whole files (about five
    times a track's analysis), so it runs at low priority and after the labels the window shows."""
    from player.library.loudness import measure_pending, pending_loudness

    try:
        current = os.nice(0)
        if current < LOUDNESS_NICENESS:
            os.nice(LOUDNESS_NICENESS - current)
    except (AttributeError, OSError):
        pass
    report(LoudnessStarted(shard, len(pending_loudness(library, shard=(shard, n_shards)))))
    measure_pending(library, shard=(shard, n_shards), cancelled=cancelled, paused=paused,
                    report=lambda saved: report(LoudnessBatch(shard, saved.measured, list(saved.failures))))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class AnalysisService:
    """Runs the analysis of a library in worker processes and reports progress.

    ``on_event(progress)`` is called from a listener thread of this process (never from a worker);
    the GUI forwards it to its own thread. One analysis of a library runs at a time
    (:class:`player.analysis.lock.AnalysisLock`): while another process analyses the same library the
    service reports ``state='waiting'`` with a one-line message, and starts its workers when that one
    ends, on what is still pending then.
    """

    def __init__(self, db_path: str | os.PathLike, *, workers: int = 1, options: AnalysisOptions | None = None,
                 on_event: Callable[[AnalysisProgress], None] | None = None):
        from player.analysis.lock import AnalysisLock

        self.db_path = str(db_path)
        self.workers = max(1, int(workers))
        self.options = options or AnalysisOptions()
        self.on_event = on_event
        ctx = mp.get_context("spawn")
        self._ctx = ctx
        self._events = ctx.Queue()
        self._pause = ctx.Event()
        self._cancel = ctx.Event()
        self._procs: list = []
        self._lock = AnalysisLock(self.db_path)
        self._listener: threading.Thread | None = None
        self.progress = AnalysisProgress(state="starting")
        self.version: str | None = None
        self._started_at = 0.0
        self._phase_started = 0.0

    # -- control -------------------------------------------------------------------------------
    def start(self, total: int | None = None) -> None:
        """Start the workers. ``total``: the number of pending tracks, if the caller knows it."""
        self.progress = AnalysisProgress(state="starting", total=total or 0)
        self._started_at = time.monotonic()
        spawned = threading.Event()
        free = self._lock.try_acquire()
        # The listener thread starts the workers: a worker ends when the thread that started it ends
        # (die_with_parent), and this thread lives until every worker is done.
        self._listener = threading.Thread(target=self._run, args=(spawned, free), name="analysis-events",
                                          daemon=True)
        self._listener.start()
        if free:
            spawned.wait()

    def _spawn(self) -> None:
        for shard in range(self.workers):
            p = self._ctx.Process(
                target=_worker_main,
                args=(os.getpid(), self.db_path, shard, self.workers, self.options, self._events, self._pause,
                      self._cancel),
                name=f"analysis-{shard}",
                daemon=True,
            )
            p.start()
            self._procs.append(p)

    def _wait_for_other_run(self) -> bool:
        """Wait while another process analyses this library; False when cancelled meanwhile."""
        holder = self._lock.holder()
        self._emit(state="waiting", message=f"another analysis of this library is running"
                                            f"{f' (pid {holder})' if holder else ''}; waiting for it")
        if not self._lock.acquire(self._cancel.is_set):
            return False
        try:  # what is left once the other run is over
            from player.analysis.engine import model_version
            from player.analysis.store import read_counts
            from player.library import Library

            o = self.options
            with Library(Path(self.db_path)) as library:
                self.progress.total = read_counts(library, model_version(o.genre_model, o.tagger_model,
                                                                         o.models_dir)).pending
        except Exception:  # noqa: BLE001 - the workers report model problems in words
            pass
        self._started_at = time.monotonic()
        self._emit(state="starting", message="")
        return True

    def pause(self) -> None:
        self._pause.set()
        self._emit(state="paused")

    def resume(self) -> None:
        self._pause.clear()
        self._emit(state="running")

    @property
    def paused(self) -> bool:
        return self._pause.is_set()

    def cancel(self) -> None:
        self._cancel.set()
        self._pause.clear()

    def kill(self) -> None:
        """Stop the workers at once (what a crash looks like; used by tests and on quit)."""
        for p in list(self._procs):
            if p.is_alive():
                p.kill()

    def join(self, timeout: float | None = None) -> AnalysisProgress:
        if self._listener is not None:
            self._listener.join(timeout)
        return self.progress

    def is_running(self) -> bool:
        return self._listener is not None and self._listener.is_alive()

    def close(self, timeout: float = 5.0) -> None:
        self.cancel()
        deadline = time.monotonic() + timeout
        for p in list(self._procs):
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(1.0)
        if self._listener is not None:
            self._listener.join(1.0)

    # -- events --------------------------------------------------------------------------------
    def _emit(self, **changes) -> None:
        # the failures an event carries are those of the message it reports, never an earlier one's
        changes.setdefault("failures", [])
        changes.setdefault("loudness_failures", [])
        for k, v in changes.items():
            setattr(self.progress, k, v)
        p = self.progress
        if p.phase == "loudness":  # the rate and what is left of the pass under way
            done, total, since = p.loudness_done, p.loudness_total, self._phase_started
        else:
            done, total, since = p.done, p.total, self._started_at
        elapsed = max(1e-6, time.monotonic() - since)
        p.rate = done / elapsed if done else 0.0
        remaining = max(0, total - done)
        p.eta_s = remaining / p.rate if p.rate > 0 else None
        if self.on_event:
            try:
                self.on_event(AnalysisProgress(**{**p.__dict__, "failures": list(p.failures),
                                                  "loudness_failures": list(p.loudness_failures)}))
            except Exception:
                traceback.print_exc()

    def _run(self, spawned: threading.Event, free: bool) -> None:
        try:
            if not free and not self._wait_for_other_run():
                self._emit(state="cancelled", message="", failures=[])
                return
            self._spawn()
            spawned.set()
            self._relabel()
            self._listen()
        finally:
            spawned.set()
            self._lock.release()

    def _relabel(self) -> None:
        """Labels written with an older label rule are recomputed from the stored results (no audio;
        :mod:`player.analysis.relabel`), under the analysis lock, while the workers load their models.
        A failure leaves the labels as they were and never stops the analysis."""
        try:
            from player.analysis.relabel import relabel_library
            from player.library import Library

            with Library(Path(self.db_path)) as library:
                relabel_library(library, models_dir=self.options.models_dir, tagger=self.options.tagger_model)
        except Exception as exc:  # noqa: BLE001 - the workers report model problems in words
            import logging

            logging.getLogger(__name__).warning("the labels were not recomputed: %s", _one_line(exc))

    def _listen(self) -> None:
        live = set(range(self.workers))
        measuring: set[int] = set()  # workers in their loudness pass
        fatal: str | None = None
        cancelled = False
        while live:
            try:
                msg = self._events.get(timeout=0.2)
            except queue.Empty:
                dead = [i for i in live if not self._procs[i].is_alive()]
                for i in dead:  # died without a word: killed or crashed
                    live.discard(i)
                    if not self._cancel.is_set() and self._procs[i].exitcode not in (0, None):
                        fatal = fatal or f"an analysis worker stopped unexpectedly (exit code {self._procs[i].exitcode})"
                continue
            if isinstance(msg, WorkerReady):
                self.version = msg.version
                if self.progress.state == "starting":
                    self._emit(state="paused" if self._pause.is_set() else "running")
            elif isinstance(msg, BatchSaved):
                self._emit(state="paused" if self._pause.is_set() else "running",
                           done=self.progress.done + msg.analysed + len(msg.failures),
                           failed=self.progress.failed + len(msg.failures), current=msg.current,
                           failures=list(msg.failures))
            elif isinstance(msg, LoudnessStarted):
                measuring.add(msg.shard)
                changes = {"loudness_total": self.progress.loudness_total + msg.pending}
                if measuring >= live:  # every worker is past its analysis
                    changes["phase"] = "loudness"
                    self._phase_started = time.monotonic()
                self._emit(**changes)
            elif isinstance(msg, LoudnessBatch):
                p = self.progress
                self._emit(state="paused" if self._pause.is_set() else "running",
                           loudness_done=p.loudness_done + msg.measured + len(msg.failures),
                           loudness_failed=p.loudness_failed + len(msg.failures),
                           loudness_failures=list(msg.failures))
            elif isinstance(msg, WorkerFailed):
                fatal = fatal or msg.message
                live.discard(msg.shard)
                self._cancel.set()  # one worker cannot load the models: none can
            elif isinstance(msg, WorkerDone):
                cancelled = cancelled or msg.cancelled
                live.discard(msg.shard)
        for p in self._procs:
            p.join(2.0)
        if fatal:
            self._emit(state="error", message=fatal.splitlines()[0])
        elif cancelled or self._cancel.is_set():
            self._emit(state="cancelled")
        else:
            self._emit(state="finished")


def run_analysis(db_path: str | os.PathLike, *, workers: int = 1, options: AnalysisOptions | None = None,
                 on_event: Callable[[AnalysisProgress], None] | None = None) -> AnalysisProgress:
    """Analyse everything pending and wait (the CLI's way). Ctrl-C cancels cleanly."""
    from player.analysis.engine import model_version
    from player.analysis.store import read_counts
    from player.library import Library

    opts = options or AnalysisOptions()
    with Library(Path(db_path)) as library:
        # Raises registry.ModelError in words when a model folder is missing or broken.
        version = model_version(opts.genre_model, opts.tagger_model, opts.models_dir)
        total = read_counts(library, version).pending
    service = AnalysisService(db_path, workers=workers, options=options, on_event=on_event)
    service.start(total=total)
    try:
        while service.is_running():
            service.join(0.2)
    except KeyboardInterrupt:
        service.cancel()
        service.join(30)
    finally:
        service.close()
    return service.progress

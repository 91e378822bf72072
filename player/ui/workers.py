"""The GUI's one worker primitive, and thread pools by purpose.

A :class:`Worker` is a ``QRunnable`` that runs a plain function off the GUI thread; its ``result``,
``error``, ``progress`` and ``finished`` signals are delivered on the GUI thread (the signals object is
created there, so Qt queues them), as in Picard's ``util/thread.py``.

Long jobs receive a :class:`Job` as their first argument when submitted with ``job=True``: they call
``job.progress(value)`` and poll ``job.cancelled`` (or pass ``job.is_cancelled`` as a ``cancel=``
callable to the core).

:class:`TaskPool` wraps one ``QThreadPool`` per purpose (:class:`Pools`: scanning, analysis control,
database writes — one thread so writes keep their order —, read queries, media work), so a long import
never starves a rating write or a search. ``synchronous=True`` runs every job at once in the calling
thread, for deterministic UI tests.
"""

from __future__ import annotations

import threading
import traceback
import warnings
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


@dataclass(frozen=True)
class WorkerError:
    """What went wrong in a job, in words (``message``), with the exception for logs."""

    message: str
    exception: BaseException
    traceback: str

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.message


def describe_exception(exc: BaseException) -> str:
    """A one-line, readable message for an exception from the core."""
    text = str(exc).strip()
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"file not found: {exc.filename}"
    if isinstance(exc, PermissionError) and exc.filename:
        return f"permission denied: {exc.filename}"
    if isinstance(exc, MemoryError):
        return "out of memory"
    if not text:
        return type(exc).__name__
    from player.errors import PlayerError

    if type(exc).__module__ == "sqlite3":  # the library's one translation says it in words
        from player.library.db import _explain

        exc = _explain(exc, None)
        text = str(exc)
    if isinstance(exc, PlayerError):
        return text.splitlines()[0]
    # Errors of the core are already sentences; others get their kind in front.
    if type(exc).__name__.endswith(("LibraryError", "DatabaseError", "MoodError", "AudioError", "AnalysisError",
                                    "ModelError", "RecommendError", "AudioUnavailable", "DecodeError")):
        return text.splitlines()[0]
    return f"{type(exc).__name__}: {text.splitlines()[0]}"


class Job:
    """What a running job sees: progress reporting and the cancel flag."""

    def __init__(self, signals: "WorkerSignals"):
        self._signals = signals
        self._cancel = threading.Event()

    def progress(self, value: Any) -> None:
        try:
            self._signals.progress.emit(value)
        except RuntimeError:  # the receiver is gone: the job's caller will cancel it
            pass

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()


_THREAD = threading.local()


def _keep_thread_state(niceness: int = 0) -> None:
    """Keep this pool thread's Python thread state between jobs.

    PySide enters Python from a Qt thread with ``PyGILState_Ensure`` and leaves with
    ``PyGILState_Release``, which deletes the thread state when nothing else holds it: every job then
    started in a new one, with empty ``threading.local`` data, so each job opened its own SQLite
    connection (``Database.conn``) and left the old one to the collector (a scrolled album grid:
    thousands of connections, hundreds of MB, and the interpreter lock held to open each). One
    ``PyGILState_Ensure`` of our own, never released, keeps the state for the thread's life."""
    if getattr(_THREAD, "kept", False) or threading.current_thread() is threading.main_thread():
        return
    import ctypes

    ctypes.pythonapi.PyGILState_Ensure()
    _THREAD.kept = True
    if niceness > 0:
        _below_the_gui_thread(niceness)


#: how much nicer than the GUI thread a background pool's threads run (Linux schedules threads one by one)
POOL_NICENESS = 5


def _below_the_gui_thread(niceness: int) -> None:
    """Run this pool thread below the GUI thread. On two cores, two cover threads decoding JPEGs
    (OpenCV lets go of the interpreter lock) and a query took every core, and the GUI thread waited
    for one at each repaint. Lower priority only (no privilege needed); threads and processes started
    from this thread inherit it. Where the system does not schedule threads apart, nothing changes."""
    import os

    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
    except (AttributeError, OSError):
        pass


class WorkerSignals(QObject):
    result = Signal(object)
    error = Signal(object)  # WorkerError
    progress = Signal(object)
    finished = Signal()


class Worker(QRunnable):
    """Runs ``fn(*args, **kwargs)`` (``fn(job, *args, **kwargs)`` with ``job=True``) in a pool thread."""

    def __init__(self, fn: Callable, *args, job: bool = False, niceness: int = 0, **kwargs):
        super().__init__()
        self.niceness = niceness
        self.setAutoDelete(False)  # the pool's Python side keeps it alive until `finished` arrives
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.signals = WorkerSignals()  # created on the GUI thread: its signals land there
        self.job = Job(self.signals)
        self._pass_job = job

    def cancel(self) -> None:
        self.job.cancel()

    @property
    def cancelled(self) -> bool:
        return self.job.cancelled

    def run(self) -> None:  # pool thread
        _keep_thread_state(self.niceness)
        try:
            if self._pass_job:
                value = self.fn(self.job, *self.args, **self.kwargs)
            else:
                value = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a message, never a crash
            self._emit(self.signals.error, WorkerError(describe_exception(exc), exc, traceback.format_exc()))
        else:
            self._emit(self.signals.result, value)
        finally:
            self._emit(self.signals.finished)

    @staticmethod
    def _emit(signal, *args) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the window (and the signals' owner) went away while the job ran
            pass


class TaskPool(QObject):
    """One purpose, one ``QThreadPool``. ``synchronous=True``: jobs run at once, in the caller's thread."""

    def __init__(self, name: str, max_threads: int = 1, *, synchronous: bool = False,
                 niceness: int = POOL_NICENESS, parent=None):
        super().__init__(parent)
        self.name = name
        self.synchronous = synchronous
        self.niceness = niceness  # how much below the GUI thread its threads run (0: alongside it)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, int(max_threads)))
        # Threads never expire: each keeps its one SQLite connection instead of leaking a new one.
        self._pool.setExpiryTimeout(-1)
        self._active: set[Worker] = set()

    @property
    def active(self) -> int:
        return len(self._active)

    def submit(
        self,
        fn: Callable,
        *args,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[WorkerError], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        job: bool = False,
        **kwargs,
    ) -> Worker:
        worker = Worker(fn, *args, job=job, niceness=self.niceness, **kwargs)
        sig = worker.signals
        if on_progress is not None:
            sig.progress.connect(on_progress)
        if on_result is not None:
            sig.result.connect(on_result)
        if on_error is not None:
            sig.error.connect(on_error)
        else:
            sig.error.connect(self._unhandled)
        if on_finished is not None:
            sig.finished.connect(on_finished)
        sig.finished.connect(lambda w=worker: self._done(w))
        self._active.add(worker)
        if self.synchronous:
            worker.run()
        else:
            self._pool.start(worker)
        return worker

    def _done(self, worker: Worker) -> None:
        """The job's last signal has landed: its connections go, and with them the worker. (The
        connections' callables hold the worker, and the worker holds the signals' object: a cycle
        through Qt that the collector cannot see, which kept every worker and what its callbacks
        held, ~15 KB a job: a scrolled album grid grew by hundreds of MB.)"""
        self._active.discard(worker)
        s = worker.signals
        with warnings.catch_warnings():  # PySide warns about a signal with nothing connected
            warnings.simplefilter("ignore", RuntimeWarning)
            for sig in (s.result, s.error, s.progress, s.finished):
                try:
                    sig.disconnect()
                except (RuntimeError, TypeError):
                    pass
        # The pool keeps the runnable itself (it owns it once started); what it held goes now.
        worker.fn = worker.args = worker.kwargs = None
        if not self.synchronous:
            s.deleteLater()

    def take(self, worker: Worker) -> bool:
        """Drop a job that has not started yet (True), letting it go as a finished one is; False when it
        is running or done."""
        if self.synchronous or not self._pool.tryTake(worker):
            return False
        self._done(worker)
        return True

    @Slot(object)
    def _unhandled(self, err: WorkerError) -> None:
        import sys

        print(f"[{self.name}] {err.message}\n{err.traceback}", file=sys.stderr)

    def cancel_all(self) -> None:
        for w in list(self._active):
            w.cancel()

    def wait(self, msecs: int = -1) -> bool:
        return self._pool.waitForDone(msecs)


class Pools(QObject):
    """The window's pools, by purpose."""

    def __init__(self, *, synchronous: bool = False, parent=None):
        super().__init__(parent)
        self.synchronous = synchronous
        self.scan = TaskPool("scan", 1, synchronous=synchronous, parent=self)
        self.analysis = TaskPool("analysis", 1, synchronous=synchronous, parent=self)
        self.db_write = TaskPool("db-write", 1, synchronous=synchronous, parent=self)  # ordered writes
        self.query = TaskPool("query", 1, synchronous=synchronous, parent=self)  # model loads, ordered
        self.facets = TaskPool("facets", 1, synchronous=synchronous, parent=self)
        self.recommend = TaskPool("recommend", 1, synchronous=synchronous, parent=self)
        # spectrograms, camera, audio start: the player's threads and the sound card's start here and
        # inherit this pool's priority, so it runs alongside the GUI thread, not below it
        self.media = TaskPool("media", 2, synchronous=synchronous, niceness=0, parent=self)

    def all(self) -> list[TaskPool]:
        return [self.scan, self.analysis, self.db_write, self.query, self.facets, self.recommend, self.media]

    def shutdown(self, msecs: int = 5000) -> None:
        for p in self.all():
            p.cancel_all()
        for p in self.all():
            p.wait(msecs)

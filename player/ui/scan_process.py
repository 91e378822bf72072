"""Folder import in a child process, so the GUI process's interpreter lock stays free.

Reading tags (mutagen) and probing audio is Python-heavy. In worker *threads* of the GUI process it
competes for the interpreter lock with the GUI thread, and every Qt call-back into Python (each cell's
``data()``, each delegate ``paint``) then waits up to a switch interval: a table repaint during an
import took 100+ ms on a 2-core machine. Run in a child process (``spawn``), the scan costs the GUI
nothing; the GUI's worker only waits on a queue. The child writes the library itself (batched
transactions, WAL), and the window picks the new rows up as deltas.

No Qt here. :func:`scan_in_child` is called from a GUI worker with its :class:`~player.ui.workers.Job`.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time


def _child(db_path: str, folders: list[str], workers: int, events, cancel, parent_pid: int | None = None) -> None:
    # First thing: end with the window. A killed window must not leave an import running for minutes.
    from player.procs import die_with_parent

    die_with_parent(parent_pid)
    # Background work yields the CPU to the window: on a 2-core machine an import at normal priority
    # can starve the GUI process itself for 100+ ms at a time.
    try:
        os.nice(10)
    except (AttributeError, OSError):
        pass
    from player.library import Library
    from player.library.leftovers import WINDOW_IMPORT, registered
    from player.library.scan import scan
    from player.paths import redirect_library_files

    redirect_library_files()

    last = [0.0]

    def progress(done, total, path):
        t = time.monotonic()
        if t - last[0] >= 0.1 or done == total:
            last[0] = t
            events.put(("progress", done, total, path))

    try:
        with Library(db_path) as lib, registered(db_path, WINDOW_IMPORT, parent_pid):
            report = scan(lib, folders, progress=progress, cancel=cancel.is_set, workers=workers)
    except Exception as exc:  # noqa: BLE001 - the parent shows it in words
        from player.errors import PlayerError

        text = str(exc).strip().splitlines() if isinstance(exc, PlayerError) else []
        kind = type(exc).__name__
        events.put(("error", kind, text[0] if text else f"the import stopped on an unexpected problem ({kind})"))
        return
    events.put(("done", report))


def scan_in_child(job, db_path: str | os.PathLike, folders: list[str], workers: int = 2):
    """Run :func:`player.library.scan.scan` in a child process; returns its ``ScanReport``.

    Progress goes to ``job.progress((done, total, path))``; ``job.cancelled`` stops the child at its
    next file (what was written stays). A child that dies is an error in words.
    """
    from player.library.leftovers import check_leftovers

    notices = check_leftovers(db_path)  # an import a closed window left behind is stopped first
    ctx = mp.get_context("spawn")
    events = ctx.Queue()
    cancel = ctx.Event()
    proc = ctx.Process(target=_child, args=(str(db_path), [str(f) for f in folders], int(workers), events, cancel,
                                            os.getpid()),
                       name="player-import", daemon=True)
    proc.start()
    report = None
    try:
        while True:
            if job is not None and job.cancelled and not cancel.is_set():
                cancel.set()
            try:
                msg = events.get(timeout=0.1)
            except queue.Empty:
                if not proc.is_alive():
                    try:
                        msg = events.get(timeout=0.5)
                    except queue.Empty:
                        raise RuntimeError(
                            f"the import process stopped unexpectedly (exit code {proc.exitcode}); "
                            "what it had written is kept: import the folder again to finish") from None
                else:
                    continue
            kind = msg[0]
            if kind == "progress":
                if job is not None:
                    job.progress(tuple(msg[1:]))
            elif kind == "done":
                report = msg[1]
                break
            elif kind == "error":
                from player import errors

                _kind, text = msg[1], msg[2]
                cls = getattr(errors, _kind, None)
                if not (isinstance(cls, type) and issubclass(cls, errors.PlayerError)):
                    cls = errors.LibraryError
                raise cls(text)
    finally:
        if report is None and proc.is_alive():
            cancel.set()
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join(2)
        events.close()
    if report is not None and notices:
        report.notices[:0] = notices
    return report

"""What earlier runs left behind: imports still running for a window that is gone, stale run files,
and which programs hold the library open.

Each import registers itself while it runs (:func:`registered`: a small JSON file in the cache
folder's ``run/``, with its pid, its parent's pid and the process's start time, which tells a reused
pid apart). :func:`check_leftovers`, called when a new import starts, removes the files of processes
that ended without cleaning up, and stops a window's import whose window is gone (a child that
outlived its parent: ``player.procs.die_with_parent`` should make that impossible). Imports started
from the command line are never stopped, only reported.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

WINDOW_IMPORT = "window-import"


def _run_dir() -> Path:
    from player.paths import cache_dir

    return cache_dir() / "run"


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (Linux), or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2:].split()
    if fields and fields[0] == b"Z":
        return None  # a zombie has ended
    return fields[19].decode() if len(fields) > 19 else None


def alive(pid: int, started: str | None = None) -> bool:
    """``pid`` is running (and, when ``started`` is given, is the same process that was recorded)."""
    if sys.platform.startswith("linux"):
        now = _start_time(pid)
        return now is not None and (started is None or now == started)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def registered(db_path, kind: str, parent: int | None = None) -> Iterator[Path | None]:
    """Record this process as running ``kind`` on the library ``db_path`` until the block ends."""
    path = None
    try:
        folder = _run_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{kind}-{os.getpid()}.json"
        record = {"pid": os.getpid(), "parent": parent if parent is not None else os.getppid(), "kind": kind,
                  "db": os.path.realpath(os.fspath(db_path)), "since": time.time(),
                  "started": _start_time(os.getpid())}
        path.write_text(json.dumps(record))
    except Exception:  # noqa: BLE001 - bookkeeping never stops an import
        path = None
    try:
        yield path
    finally:
        if path is not None:
            try:
                path.unlink()
            except OSError:
                pass


def _records(db_path) -> list[tuple[Path, dict]]:
    want = os.path.realpath(os.fspath(db_path))
    try:
        files = sorted(_run_dir().glob("*.json"))
    except Exception:  # noqa: BLE001
        return []
    out = []
    for file in files:
        try:
            record = json.loads(file.read_text())
            int(record["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            _unlink(file)  # half-written or damaged: of no use to anyone
            continue
        if record.get("db") == want:
            out.append((file, record))
    return out


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _stop(pid: int, started: str | None, grace: float = 3.0) -> bool:
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return not alive(pid, started)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not alive(pid, started):
            return True
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    time.sleep(0.1)
    return not alive(pid, started)


def check_leftovers(db_path, *, clean: bool = True) -> list[str]:
    """What earlier runs left for the library ``db_path``, in words (and, with ``clean``, tidied up)."""
    notices = []
    for file, record in _records(db_path):
        pid, started, kind = int(record["pid"]), record.get("started"), record.get("kind", "import")
        if pid == os.getpid():
            continue
        if not alive(pid, started):
            if clean:
                _unlink(file)
            notices.append(f"removed the run file of an import (process {pid}) that ended without cleaning up")
            continue
        parent = int(record.get("parent") or 0)
        if kind == WINDOW_IMPORT and parent and not alive(parent):
            if clean and _stop(pid, started):
                _unlink(file)
                notices.append(f"stopped an import (process {pid}) left running by a window that was closed; "
                               "what it had saved is kept")
            else:
                notices.append(f"an import (process {pid}) left running by a closed window is still running")
            continue
        notices.append(f"another import of this library is running (process {pid}); both go on safely")
    return notices


def holders(db_path) -> list[tuple[int, str]]:
    """(pid, command line) of the other processes that have the library file open (Linux; else [])."""
    if not sys.platform.startswith("linux"):
        return []
    base = os.path.realpath(os.fspath(db_path))
    targets = {base, base + "-wal", base + "-shm"}
    found = []
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return []
    for pid in pids:
        if pid == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in targets:
                    break
            except OSError:
                continue
        else:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            cmd = "?"
        found.append((pid, cmd))
    return found

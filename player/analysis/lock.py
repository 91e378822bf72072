"""One analysis of a library at a time: an advisory lock on a file next to the database.

``<library.db>.analysis.lock`` is locked with ``flock`` by the process that runs an analysis and holds
that process' pid. The kernel releases the lock when the holder ends, however it ends (``kill -9``
included), so a crashed run never blocks the next one; the pid in the file is only for messages.
Where the lock file cannot be created (a read-only folder) or ``fcntl`` does not exist, the lock is
skipped rather than blocking the analysis.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None


def lock_path(db_path) -> Path:
    return Path(os.fspath(db_path) + ".analysis.lock")


class AnalysisLock:
    """``try_acquire()`` / ``acquire(cancelled)`` / ``release()``; ``holder()`` is the pid of the process
    holding it (as it wrote it), or None."""

    def __init__(self, db_path):
        self.path = lock_path(db_path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it. True: it is ours (or cannot exist here)."""
        if self._fd is not None or fcntl is None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return True  # no lock possible here: do not block the analysis for it
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def acquire(self, cancelled: Callable[[], bool] = lambda: False, poll: float = 0.25) -> bool:
        """Wait for the lock; False when ``cancelled()`` turned true first."""
        while not self.try_acquire():
            if cancelled():
                return False
            time.sleep(poll)
        return True

    def holder(self) -> int | None:
        try:
            text = self.path.read_text(encoding="ascii", errors="replace").strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the last descriptor releases the flock

    def __enter__(self) -> "AnalysisLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

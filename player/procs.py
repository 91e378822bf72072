"""Child processes that end with their parent.

A worker process (analysis, the window's import) must not outlive the process that started it: a
killed ``analyse`` or a crashed window would otherwise leave children importing or analysing for
minutes. :func:`die_with_parent` is called first thing in a child. On Linux it asks the kernel to send
SIGTERM when the parent dies (``prctl(PR_SET_PDEATHSIG)``); everywhere it also starts a daemon thread
that notices a changed parent id (the child is re-parented when its parent dies) and ends the process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading

_PR_SET_PDEATHSIG = 1


def _set_pdeathsig(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int, interval: float) -> None:
    ev = threading.Event()
    while not ev.wait(interval):
        if os.getppid() != parent:
            os._exit(0)  # the parent is gone: nothing left to report to


def die_with_parent(parent_pid: int | None = None, *, interval: float = 1.0) -> None:
    """End this process when its parent dies (within about ``interval`` seconds at worst).

    ``parent_pid`` is the parent's pid as the parent saw it (``os.getpid()`` passed to the child); when
    it is given and the parent is already gone, the child exits at once.
    """
    parent = os.getppid() if parent_pid is None else int(parent_pid)
    _set_pdeathsig(signal.SIGTERM)
    if os.getppid() != parent:  # it died before the signal was armed
        os._exit(0)
    threading.Thread(target=_watch, args=(parent, interval), name="parent-watch", daemon=True).start()

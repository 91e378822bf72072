"""The worker primitive (player/ui/workers.py): once a job's signals have landed, what its callbacks
held is let go (the callbacks held the worker and the worker its signals: a cycle through Qt that kept
every finished job, ~15 KB each, and whatever its callbacks referred to)."""

from __future__ import annotations

import gc
import weakref

import pytest

from player.ui.workers import TaskPool

pytestmark = pytest.mark.gui


class Payload:
    """Something a callback refers to."""


def test_a_finished_job_lets_go_of_its_callbacks_and_function(qtbot):
    pool = TaskPool("test", 2)
    refs, got = [], []
    for k in range(20):
        p = Payload()
        refs.append(weakref.ref(p))
        pool.submit(lambda k=k: k * 2, on_result=lambda r, p=p: got.append(r))
        del p
    qtbot.waitUntil(lambda: len(got) == 20 and pool.active == 0, timeout=10000)
    qtbot.wait(50)  # the deferred deletes
    gc.collect()
    assert sorted(got) == [2 * k for k in range(20)]
    assert all(r() is None for r in refs)
    pool.wait()


def test_a_job_dropped_before_it_starts_lets_go_too(qtbot):
    """``take`` (the album grid's scrolled-away covers): the job never runs, and nothing keeps it."""
    import threading

    pool = TaskPool("test", 1)
    gate = threading.Event()
    pool.submit(gate.wait, 10)  # holds the one thread
    refs, ran = [], []
    workers = []
    for k in range(30):
        p = Payload()
        refs.append(weakref.ref(p))
        workers.append(pool.submit(lambda k=k: ran.append(k), on_result=lambda r, p=p: None))
        del p
    assert all(pool.take(w) for w in workers)
    assert pool.active == 1 and not pool.take(workers[0])  # once taken, it is gone
    workers.clear()
    gate.set()
    qtbot.waitUntil(lambda: pool.active == 0, timeout=10000)
    qtbot.wait(50)
    gc.collect()
    assert ran == [] and all(r() is None for r in refs)
    pool.wait()


def test_synchronous_jobs_let_go_too():
    pool = TaskPool("test", 1, synchronous=True)
    p = Payload()
    ref = weakref.ref(p)
    got = []
    pool.submit(lambda: 1, on_result=lambda r, p=p: got.append(r))
    del p
    gc.collect()
    assert got == [1] and ref() is None


def test_a_pool_thread_keeps_its_thread_local_data_and_its_sqlite_connection(qtbot, library):
    """Jobs on one pool thread share its ``threading.local`` data, so the library's per-thread SQLite
    connection is opened once per thread, not once per job."""
    import threading

    local = threading.local()
    pool = TaskPool("test", 1)
    seen = []

    def job():
        had = getattr(local, "mark", None) is not None
        local.mark = True
        library.db.query("SELECT COUNT(*) FROM tracks")
        return had, id(library.db.conn)

    for _ in range(5):
        pool.submit(job, on_result=seen.append)
    qtbot.waitUntil(lambda: len(seen) == 5, timeout=10000)
    pool.wait()
    assert [had for had, _c in seen] == [False, True, True, True, True]
    assert len({conn for _h, conn in seen}) == 1


def test_background_pools_run_below_the_gui_thread_and_the_media_pool_beside_it(qtbot):
    """A pool thread runs POOL_NICENESS below the thread that made the pool (Linux schedules threads
    one by one); the media pool, where the player's threads start, is not lowered."""
    import os
    import sys
    import threading

    from player.ui.workers import POOL_NICENESS, Pools

    if not sys.platform.startswith("linux"):
        pytest.skip("threads have their own priority on Linux")
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    if base + POOL_NICENESS > 19:
        pytest.skip("already as nice as can be")
    pools = Pools()

    def niceness():
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    got = {}
    for name in ("query", "facets", "media"):
        getattr(pools, name).submit(niceness, on_result=lambda n, name=name: got.__setitem__(name, n))
    qtbot.waitUntil(lambda: len(got) == 3, timeout=10000)
    assert got == {"query": base + POOL_NICENESS, "facets": base + POOL_NICENESS, "media": base}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # the GUI thread's own
    for p in pools.all():
        p.wait()

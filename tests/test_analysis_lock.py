"""player.analysis.lock: one analysis of a library at a time, released by the kernel when its holder dies."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from player.analysis.lock import AnalysisLock, lock_path

ROOT = Path(__file__).resolve().parent.parent

HOLDER = textwrap.dedent("""
    import sys, time
    from player.analysis.lock import AnalysisLock
    lock = AnalysisLock(sys.argv[1])
    print(lock.try_acquire(), flush=True)
    time.sleep(60)
""")


def test_one_holder_at_a_time_and_the_pid_is_named(tmp_path):
    db = tmp_path / "lib.db"
    a, b = AnalysisLock(db), AnalysisLock(db)
    assert a.try_acquire() and a.held
    assert lock_path(db).is_file() and a.holder() == os.getpid()
    assert not b.try_acquire() and not b.held
    assert not b.acquire(cancelled=lambda: True, poll=0.01)  # gives up when cancelled
    a.release()
    assert b.acquire(poll=0.01) and b.held
    b.release()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_killed_holder_releases_the_lock(tmp_path):
    db = tmp_path / "lib.db"
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True,
                             cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert child.stdout.readline().strip() == "True"
    lock = AnalysisLock(db)
    assert not lock.try_acquire() and lock.holder() == child.pid
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert lock.acquire(poll=0.01)  # no stale lock after kill -9
    assert lock.holder() == os.getpid()
    lock.release()


def test_a_folder_where_no_lock_can_be_made_does_not_block(tmp_path):
    lock = AnalysisLock(tmp_path / "no such folder" / "lib.db")
    assert lock.try_acquire()
    lock.release()

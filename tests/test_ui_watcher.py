"""Watched folders, the Qt side: real files copied into a real watched folder, rescanned through the
import child process."""

from __future__ import annotations

import shutil

import pytest

from audiogen import write_audio
from player.library.scan import scan
from player.ui.scan_process import scan_in_child
from player.ui.watcher import FolderWatcher

pytestmark = pytest.mark.gui


@pytest.fixture
def source(tmp_path):
    """Finished audio files outside the watched folder, to copy in."""
    src = tmp_path / "downloads"
    write_audio(src / "a.wav", seconds=0.3, freq=300)
    write_audio(src / "b.flac", seconds=0.3, freq=400)
    write_audio(src / "c.ogg", seconds=0.3, freq=500)
    return src


def collect(watcher):
    requests: list[list[str]] = []
    watcher.rescan_requested.connect(requests.append)
    return requests


def test_copied_files_are_rescanned_and_deleted_ones_become_missing(qtbot, tmp_path, library, source):
    root = tmp_path / "music"
    (root / "old").mkdir(parents=True)
    shutil.copy(source / "a.wav", root / "old" / "a.wav")
    scan(library, [str(root)], workers=1)

    watcher = FolderWatcher(quiet_s=0.3, max_wait_s=3.0)
    requests = collect(watcher)
    watcher.set_folders([str(root)])
    qtbot.waitUntil(lambda: len(watcher.watched()) == 2, timeout=20000)

    # A new album folder appears, then its files: the new folder is watched and the files are seen.
    (root / "new").mkdir()
    qtbot.waitUntil(lambda: str(root / "new") in watcher.watched(), timeout=20000)
    shutil.copy(source / "b.flac", root / "new" / "b.flac")
    shutil.copy(source / "c.ogg", root / "new" / "c.ogg")
    qtbot.waitUntil(lambda: any(str(root / "new") in r or str(root) in r for r in requests), timeout=30000)
    folders = sorted({f for r in requests for f in r})
    assert all(f == str(root) or f.startswith(str(root) + "/") for f in folders)

    report = scan_in_child(None, library.path, folders, workers=1)
    assert report.added == 2
    paths = {t.path: t.status for t in library.tracks()}
    assert paths[str(root / "new" / "b.flac")] == "ok" and paths[str(root / "new" / "c.ogg")] == "ok"

    # Deleting a file: the rescan marks it missing (its ratings and plays would stay).
    requests.clear()
    (root / "old" / "a.wav").unlink()
    qtbot.waitUntil(lambda: bool(requests), timeout=30000)
    assert requests[0] == [str(root / "old")]
    report = scan_in_child(None, library.path, requests[0], workers=1)
    assert report.missing == 1
    assert library.track_by_path(root / "old" / "a.wav").status == "missing"
    watcher.stop()
    assert watcher.watched() == []


def test_changes_outside_the_folders_and_after_stop_are_ignored(qtbot, tmp_path, source):
    root = tmp_path / "music"
    root.mkdir()
    (tmp_path / "other").mkdir()
    watcher = FolderWatcher(quiet_s=0.2, max_wait_s=1.0)
    requests = collect(watcher)
    counts = []
    watcher.watching.connect(counts.append)
    watcher.set_folders([str(root)])
    qtbot.waitUntil(lambda: counts == [1], timeout=20000)
    shutil.copy(source / "a.wav", tmp_path / "other" / "a.wav")
    watcher.add_folders([str(tmp_path / "other" / "sub")])  # not there: nothing breaks
    qtbot.waitUntil(lambda: len(counts) == 2, timeout=20000)
    assert watcher.roots == [str(tmp_path / "music"), str(tmp_path / "other" / "sub")]
    watcher.stop()
    shutil.copy(source / "b.flac", root / "b.flac")
    qtbot.wait(600)  # longer than the debounce: a request now would be a bug
    assert requests == []


def test_check_library_reports_changes_made_while_closed(qtbot, tmp_path, library, source):
    root = tmp_path / "music"
    (root / "x").mkdir(parents=True)
    shutil.copy(source / "a.wav", root / "x" / "a.wav")
    scan(library, [str(root)], workers=1)
    watcher = FolderWatcher()
    requests = collect(watcher)
    watcher.check_library(library, [str(root)])
    qtbot.waitUntil(lambda: watcher._pool.active == 0, timeout=20000)  # nothing changed: no request
    shutil.copy(source / "b.flac", root / "x" / "b.flac")
    watcher.check_library(library, [str(root)])
    qtbot.waitUntil(lambda: bool(requests), timeout=20000)
    qtbot.waitUntil(lambda: watcher._pool.active == 0, timeout=20000)
    assert requests == [[str(root / "x")]]


def test_a_big_tree_is_watched_in_slices(qtbot, tmp_path):
    from player.ui.watcher import ADD_CHUNK

    root = tmp_path / "music"
    for a in range(ADD_CHUNK // 20 + 10):
        for b in range(20):
            (root / f"artist{a}" / f"album{b}").mkdir(parents=True)
    total = 1 + (ADD_CHUNK // 20 + 10) * 21
    watcher = FolderWatcher()
    counts = []
    watcher.watching.connect(counts.append)
    watcher.set_folders([str(root)])
    qtbot.waitUntil(lambda: len(watcher.watched()) == total, timeout=30000)
    assert len(counts) >= 2 and counts[0] == ADD_CHUNK  # more than one slice
    watcher.stop()

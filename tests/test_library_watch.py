"""Watched folders, the core: debounce, which folders to rescan, the start-up check on a real library."""

from __future__ import annotations

import os
import shutil
import time

from audiogen import write_audio
from player.library import watch
from player.library.scan import scan


def test_debouncer_waits_for_quiet_but_not_forever():
    d = watch.Debouncer(quiet=2.0, max_wait=10.0)
    assert d.deadline() is None and d.due(100.0) == []
    d.add(["/m/a"], now=0.0)
    assert d.deadline() == 2.0
    assert d.due(1.9) == []
    d.add(["/m/b", "/m/a"], now=1.5)  # more changes push the batch back
    assert d.due(3.0) == []
    assert d.due(3.5) == ["/m/a", "/m/b"]
    assert d.pending == [] and d.deadline() is None

    # Changes that never stop still come out after max_wait.
    for k in range(10):
        d.add([f"/m/{k}"], now=float(k))
    assert d.deadline() == 10.0
    assert d.due(9.5) == []
    assert len(d.due(10.0)) == 10
    d.add([], now=20.0)  # nothing added: nothing armed
    assert d.deadline() is None


def test_rescan_folders_groups_and_stays_inside_the_imported_folders(tmp_path):
    root = tmp_path / "music"
    (root / "a" / "cd1").mkdir(parents=True)
    (root / "b").mkdir()
    other = tmp_path / "elsewhere"
    other.mkdir()
    changed = [root / "a" / "cd1" / "x.mp3", root / "a", root / "b" / "gone" / "deep.flac", other / "y.mp3",
               root / "b"]
    assert watch.rescan_folders(map(str, changed), [str(root)]) == [str(root / "a"), str(root / "b")]
    # A removed subfolder: its nearest existing parent is rescanned (so its files become missing).
    assert watch.rescan_folders([str(root / "c" / "d")], [str(root)]) == [str(root)]
    # The imported folder itself gone (an unplugged disk): nothing to scan, nothing marked missing.
    assert watch.rescan_folders([str(tmp_path / "usb" / "x")], [str(tmp_path / "usb")]) == []
    assert watch.collapse(["/m/a/b", "/m/a", "/m/ab", "/m/a/"]) == ["/m/a", "/m/ab"]


def test_busy_folders_sees_a_file_still_being_written(tmp_path):
    folder = tmp_path / "new"
    write_audio(folder / "a.wav", seconds=0.2)
    assert watch.busy_folders([str(folder)], quiet=60.0) == [str(folder)]
    old = time.time() - 120
    os.utime(folder / "a.wav", (old, old))
    assert watch.busy_folders([str(folder)], quiet=60.0) == []
    (folder / "notes.txt").write_text("not audio")
    assert watch.busy_folders([str(folder), str(tmp_path / "nope")], quiet=60.0) == []


def test_changed_folders_finds_what_changed_while_closed(tmp_path, library):
    root = tmp_path / "music"
    write_audio(root / "rock" / "one.wav", seconds=0.3)
    write_audio(root / "rock" / "two.wav", seconds=0.3)
    write_audio(root / "jazz" / "three.flac", seconds=0.3)
    write_audio(root / "pop" / "four.wav", seconds=0.3)
    scan(library, [str(root)], workers=1)
    assert watch.changed_folders(library, [str(root)]) == []

    write_audio(root / "new" / "five.ogg", seconds=0.3)  # added
    (root / "rock" / "two.wav").unlink()  # deleted
    write_audio(root / "jazz" / "three.flac", seconds=0.6)  # rewritten: another size
    assert watch.changed_folders(library, [str(root)]) == [str(root / "jazz"), str(root / "new"),
                                                            str(root / "rock")]
    # The scan of those folders brings the library up to date.
    report = scan(library, watch.changed_folders(library, [str(root)]), workers=1)
    assert (report.added, report.updated, report.missing) == (1, 1, 1)
    assert watch.changed_folders(library, [str(root)]) == []

    # A missing file that comes back is a change too; a folder outside the roots is not looked at.
    write_audio(root / "rock" / "two.wav", seconds=0.3)
    assert watch.changed_folders(library, [str(root / "rock")]) == [str(root / "rock")]
    assert watch.changed_folders(library, [str(root / "pop")]) == []
    shutil.rmtree(root / "pop")
    assert watch.changed_folders(library, [str(root)]) == [str(root)]  # pop is gone: root holds rock too
    assert watch.changed_folders(library, [str(tmp_path / "absent")]) == []


def test_imported_folders_are_kept_in_the_library(tmp_path, library):
    root = tmp_path / "music"
    write_audio(root / "a" / "x.wav", seconds=0.2)
    write_audio(root / "b" / "y.wav", seconds=0.2)
    write_audio(root / "z.wav", seconds=0.2)
    scan(library, [str(root / "a"), str(root / "b")], workers=1)
    # An older library that never stored them: where its tracks are.
    assert watch.imported_folders(library) == [str(root / "a"), str(root / "b")]
    assert watch.remember_folders(library, [str(root / "a")]) == [str(root / "a")]
    assert watch.imported_folders(library) == [str(root / "a")]
    assert watch.remember_folders(library, [str(root)]) == [str(root)]  # a parent takes over
    assert watch.remember_folders(library, [str(tmp_path / "more")]) == [str(tmp_path / "more"), str(root)]
    assert watch.forget_folder(library, str(root)) == [str(tmp_path / "more")]
    assert watch.forget_folder(library, str(tmp_path / "more")) == []
    assert watch.imported_folders(library) == []  # forgotten stays forgotten

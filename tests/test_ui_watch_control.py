"""Watched folders in the window (player/ui/watch_control.py): a real folder, real audio copied in,
rescanned through the import quietly; changes made while the player was closed found at start."""

from __future__ import annotations

import shutil

import pytest

from audiogen import write_audio

pytestmark = pytest.mark.gui


def titles(library) -> set[str]:
    return {t.path.rsplit("/", 1)[-1] for t in library.tracks()}


@pytest.fixture
def imported(open_window, import_music, tmp_path):
    """A window whose library imported a folder with one song: (window, folder)."""
    root = tmp_path / "music"
    write_audio(root / "first.wav", seconds=0.3, freq=300)
    w = open_window()
    import_music(w, root)
    return w, root


def test_files_copied_into_an_imported_folder_join_the_library(qtbot, imported, library, tmp_path, settle):
    w, root = imported
    src = tmp_path / "downloads"
    write_audio(src / "second.flac", seconds=0.3, freq=400)
    shown_before = len(w.notices.history)
    w.watching.watcher.quiet_s = 0.3
    w.watching.watcher._debounce.quiet = 0.3
    qtbot.waitUntil(lambda: str(root) in w.watching.watcher.watched(), timeout=20000)

    shutil.copy(src / "second.flac", root / "second.flac")
    qtbot.waitUntil(lambda: "second.flac" in titles(library), timeout=30000)
    settle(w)
    assert w.watching.rescans >= 1
    assert w.imports.last_quiet
    assert w.model.row_of(next(t.id for t in library.tracks() if t.path.endswith("second.flac"))) is not None
    assert len(w.notices.history) == shown_before  # quiet: no summary

    # a file that cannot be read: a notice says so
    (root / "broken.ogg").write_bytes(b"not music at all" * 100)
    qtbot.waitUntil(lambda: any("could not be read" in t for _lvl, t in w.notices.history[shown_before:]),
                    timeout=30000)


def test_changes_made_while_closed_are_found_at_start(qtbot, imported, open_window, library, settle):
    w, root = imported
    w.close()
    write_audio(root / "while_closed.wav", seconds=0.3, freq=600)
    w2 = open_window()
    qtbot.waitUntil(lambda: "while_closed.wav" in titles(library), timeout=30000)
    settle(w2)
    assert w2.watching.rescans == 1


def test_rescan_action_looks_through_the_imported_folders(qtbot, imported, library):
    w, root = imported
    w.watching.stop()  # only the action, no watcher
    write_audio(root / "later.wav", seconds=0.3, freq=700)
    with qtbot.waitSignal(w.imports.finished, timeout=30000):
        w.actions.rescan.trigger()
    assert "later.wav" in titles(library)
    assert not w.imports.last_quiet


def test_files_and_folders_dropped_or_chosen_are_imported(qtbot, open_window, library, tmp_path):
    single = tmp_path / "loose" / "single.wav"
    write_audio(single, seconds=0.3, freq=300)
    folder = tmp_path / "album"
    write_audio(folder / "track.wav", seconds=0.3, freq=400)
    w = open_window()
    with qtbot.waitSignal(w.imports.finished, timeout=30000) as blocker:
        w.imports.import_paths([str(single), str(folder)])
    assert {"single.wav", "track.wav"} <= titles(library)
    assert blocker.args[0].added == 2

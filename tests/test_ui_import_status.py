"""Importing through the window (player/ui/import_status.py): rows appear, the summary names the
failures, a bad folder is a message, a stopped import keeps what it did."""

from __future__ import annotations

import pytest

from uimusic import make_music

pytestmark = pytest.mark.gui


def _titles(w):
    m = w.model
    return [m.data(m.index(r, 0)) for r in range(m.rowCount())]


def test_import_shows_rows_and_failure_summary(open_window, import_music, tagged_music, shoot):
    window = open_window()
    shoot(window, "empty")
    report = import_music(window, tagged_music())
    assert report.added == 14 and len(report.failed) == 1
    # rows appear (the broken file is listed too, marked with its problem)
    assert window.model.total_count() == 15
    titles = _titles(window)
    assert "Neon Avenue" in titles and "Thunderhead" in titles
    # library order: artist, album, track number
    assert titles.index("Neon Avenue") < titles.index("Slow Lights")
    # the summary is readable and names the reason; details list it
    level, text = next(n for n in window.notices.history if n[1].startswith("Import finished"))
    assert level == "warning" and "1 failed" in text and "not really audio.mp3" in text
    window.notices.dismiss_matching("cannot be analysed")  # no models in a bare checkout: not this picture's point
    shoot(window, "import-summary", keep_notices=True)
    dlg = window.imports.show_failures()
    assert dlg.table.rowCount() == 1
    assert "not really audio.mp3" in dlg.table.item(0, 0).text()
    reason = dlg.table.item(0, 2).text()
    assert len(reason) > 10 and "Traceback" not in reason
    shoot(dlg, "import-failures")
    dlg.close()
    # the sidebar counts artists
    assert "Artists  (4)" == window.sidebar._top["artist"].text(0)
    assert window.count_label.text() == "15 songs"


def test_import_in_real_threads_keeps_window_responsive(qtbot, open_window, tagged_music):
    folder = tagged_music(broken=False)
    w = open_window(synchronous=False)
    with qtbot.waitSignal(w.imports.finished, timeout=30000):
        w.imports.import_folders([str(folder)])
        assert w.imports.importing  # returned at once: the scan runs in the scan pool
    qtbot.waitUntil(lambda: w.model.total_count() == 14, timeout=10000)
    qtbot.waitUntil(lambda: not w.import_status.isVisible(), timeout=5000)


def test_bad_folder_and_cancelled_import(qtbot, open_window, library, tmp_path):
    w = open_window(synchronous=False)  # the scan runs in a child process here
    w.imports.import_folders([str(tmp_path / "no such folder")])
    qtbot.waitUntil(lambda: not w.imports.importing, timeout=30000)
    errors = [t for lvl, t in w.notices.history if lvl == "error"]
    assert errors and "no such folder" in errors[-1] and "Traceback" not in errors[-1]
    # cancel: what was imported before the stop is kept, and the summary says it stopped
    make_music(tmp_path / "many", seconds=0.2, broken=False)
    for k in range(60):  # enough that the import is still running when the cancel arrives
        make_music(tmp_path / "many" / f"copy{k}", seconds=0.1, broken=False)
    reports = []
    w.imports.finished.connect(reports.append)
    w.imports.import_folders([str(tmp_path / "many")])
    qtbot.waitUntil(lambda: w.import_status.bar.maximum() > 0 or bool(reports), timeout=30000)
    w.imports.cancel()
    qtbot.waitUntil(lambda: bool(reports), timeout=30000)
    r = reports[0]
    assert r.cancelled and r.processed < 61 * 14
    level, text = next(n for n in reversed(w.notices.history) if n[1].startswith("Import"))
    assert "cancelled" in text
    qtbot.waitUntil(lambda: w.model.total_count() == library.track_count(), timeout=10000)


def test_a_reimport_says_which_files_still_cannot_be_read(open_window, import_music, tagged_music):
    w = open_window()
    folder = tagged_music(broken=True)
    import_music(w, folder)
    report = import_music(w, folder)
    assert report.still_failing
    level, text = w.notices.history[-1]
    assert level == "warning" and f"{len(report.still_failing)} still cannot be read" in text
    dialog = w.imports.show_failures()
    assert dialog is not None
    dialog.close()

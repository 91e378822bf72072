"""Readable messages instead of crashes: broken and vanished files, missing cores, bad folders,
cancelled imports; settings that survive a restart."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QSettings, Qt

from test_ui_support import make_music, make_window, settle

pytestmark = pytest.mark.gui


def _open(qtbot, library, tmp_path, **kw):
    w = make_window(library, tmp_path, **kw)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    settle(qtbot, w)
    return w


def _import(qtbot, w, folder):
    with qtbot.waitSignal(w.importFinished, timeout=30000) as blocker:
        w.import_folders([str(folder)])
    settle(qtbot, w)
    return blocker.args[0]


def test_settings_survive_a_restart(qtbot, library, tmp_path):
    make_music(tmp_path / "music", broken=False)
    w = _open(qtbot, library, tmp_path)
    _import(qtbot, w, tmp_path / "music")
    w.add_listener("bea")
    settle(qtbot, w)
    w.resize(1111, 707)
    w.now_playing.volume.setValue(35)
    w.mood_box.weight.setValue(70)
    w.close()
    w2 = _open(qtbot, library, tmp_path)  # the same settings file
    assert w2.user is not None and w2.user.name == "bea"
    assert w2.now_playing.volume.value() == 35
    assert w2.mood_box.weight.value() == 70
    assert abs(w2.recs.mood_weight - 1.4) < 1e-6
    # geometry restored (the offscreen test screen is small, so Qt may narrow the width to fit)
    assert w2.height() == 707 and w2.width() != 1360
    qs = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    assert float(qs.value("playback/volume")) == pytest.approx(0.35)
    w2.close()


def test_unplayable_and_vanished_files_are_messages(qtbot, library, tmp_path):
    make_music(tmp_path / "music", seconds=2.0)
    w = _open(qtbot, library, tmp_path, audio_backend="null-manual")
    _import(qtbot, w, tmp_path / "music")
    m = w.model
    broken = next(t for t in m.track_ids() if m.row_tuple(t)[6] == "error")
    w.play_track(broken)
    level, text = w.notices.history[-1]
    assert level == "warning" and "cannot be played" in text
    # a file that disappears after the import: the player skips it with its reason
    ids = {m.row_tuple(t)[1]: t for t in m.track_ids()}
    gone = m.row_tuple(ids["Gale"])[8]
    os.remove(gone)
    w.play_track(ids["Gale"])
    p = w.playback.player
    p.backend.advance(0.3)
    p.sync()
    qtbot.waitUntil(lambda: any("Gale" in t and lvl == "warning" for lvl, t in w.notices.history), timeout=5000)
    text = next(t for lvl, t in w.notices.history if "Gale" in t)
    assert "Skipped" in text and "Traceback" not in text
    assert w.isVisible()
    w.close()


def test_missing_cores_show_disabled_features_with_reasons(qtbot, library, tmp_path, monkeypatch):
    from player.ui import cores

    real = cores.present

    def fake(name):
        if name in ("audio", "mood", "recommend"):
            return cores.Core(name, None, f"{name} is not installed in this build (test)")
        return real(name)

    for mod in ("player.ui.playback", "player.ui.mood_control", "player.ui.recommend_control"):
        monkeypatch.setattr(f"{mod}.present", fake)
    make_music(tmp_path / "music", broken=False)
    w = _open(qtbot, library, tmp_path)
    _import(qtbot, w, tmp_path / "music")
    assert not w.now_playing.play.isEnabled() and "audio is not installed" in w.now_playing.play.toolTip()
    assert not w.mood_box.button.isEnabled() and "mood is not installed" in w.mood_box.button.toolTip()
    assert not w.act_more_like.isEnabled() and "recommend" in w.act_more_like.toolTip()
    assert "not installed" in w.up_next.hint.text()
    # the rest works: rating, search, and playing says why not
    w.add_listener("cy")
    settle(qtbot, w)
    w.rate([w.model.track_id_at(0)], 4)
    settle(qtbot, w)
    assert library.ratings(w.user.id) == {w.model.track_id_at(0): 4}
    w.view.doubleClicked.emit(w.model.index(0, 0))
    assert "audio is not installed" in w.notices.history[-1][1]
    w.close()


def test_bad_folder_and_cancelled_import(qtbot, library, tmp_path):
    w = _open(qtbot, library, tmp_path, synchronous=False)  # the scan runs in a child process here
    w.import_folders([str(tmp_path / "no such folder")])
    qtbot.waitUntil(lambda: not w.importing, timeout=30000)
    errors = [t for lvl, t in w.notices.history if lvl == "error"]
    assert errors and "no such folder" in errors[-1] and "Traceback" not in errors[-1]
    # cancel: what was imported before the stop is kept, and the summary says it stopped
    make_music(tmp_path / "many", seconds=0.2, broken=False)
    for k in range(15):
        make_music(tmp_path / "many" / f"copy{k}", seconds=0.1, broken=False)
    reports = []
    w.importFinished.connect(reports.append)
    w.import_folders([str(tmp_path / "many")])
    qtbot.waitUntil(lambda: w.import_bar.maximum() > 0 or bool(reports), timeout=30000)
    w.cancel_import()
    qtbot.waitUntil(lambda: bool(reports), timeout=30000)
    r = reports[0]
    assert r.cancelled and r.processed < 16 * 14
    level, text = next(n for n in reversed(w.notices.history) if n[1].startswith("Import"))
    assert "cancelled" in text
    qtbot.waitUntil(lambda: w.model.total_count() == library.track_count(), timeout=10000)
    w.close()

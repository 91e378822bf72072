"""Library ▸ Possible duplicates… (player/ui/duplicates_view.py): the dialog lists the groups the
library's lengths and stored song vectors make, its empty states, and its actions (remove goes through
the library's own Remove from library)."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from audiogen import write_audio
from player.analysis.store import AnalysisResult, save_results
from player.library.scan import scan

pytestmark = pytest.mark.gui


def song(seconds: float, freq: float, sr: int = 44100) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    x = 0.2 * np.sin(2 * np.pi * freq * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
    return np.stack([x, 0.9 * x], 1).astype(np.float32)


@pytest.fixture
def music(tmp_path):
    """Two songs, each in several files (a FLAC, an MP3, a copy, an Ogg and an Opus re-encode), and two
    other songs, one of them as long as the first."""
    root = tmp_path / "music"
    a, b = song(6.0, 330), song(5.0, 523)
    tags = {"title": "Harbour Lights", "artist": "The Tide", "album": "Coast"}
    write_audio(root / "lossless" / "Harbour Lights.flac", a, 44100, tags=tags)
    write_audio(root / "phone" / "Harbour Lights.mp3", a, 44100, codec="libmp3lame")
    (root / "backup").mkdir(parents=True)
    shutil.copyfile(root / "lossless" / "Harbour Lights.flac", root / "backup" / "Harbour Lights.flac")
    write_audio(root / "lossless" / "Night Train.ogg", b, 44100, tags={"title": "Night Train", "artist": "The Tide"})
    write_audio(root / "phone" / "Night Train.opus", song(5.0, 523, 48000), 48000, codec="libopus")
    write_audio(root / "lossless" / "Other Song.flac", song(6.0, 440), 44100, tags={"title": "Other Song"})
    write_audio(root / "lossless" / "Short.wav", song(3.0, 660), 44100)
    return root


def analyse(library, same: dict[str, int]) -> None:
    """Analysis rows for every track: the files of one song (by file stem) share a vector, plus a little
    noise (a re-encode never sounds exactly alike)."""
    rng = np.random.default_rng(0)
    base = {stem: (rng.random(50).astype(np.float32), rng.random(8).astype(np.float32),
                   rng.standard_normal(32).astype(np.float32)) for stem in same}
    results = []
    for t in library.tracks():
        tags, genres, emb = base[os.path.splitext(os.path.basename(t.path))[0]]
        results.append(AnalysisResult(t.id, tags * (1 + 0.002 * rng.standard_normal(50)).astype(np.float32),
                                      genres, emb + 0.002 * rng.standard_normal(32).astype(np.float32)))
    save_results(library, "tagger@1+cnn_lstm@1", results)


def ids_by_name(library) -> dict[str, int]:
    return {os.path.relpath(t.path, os.path.dirname(os.path.dirname(t.path))): t.id for t in library.tracks()}


def test_the_dialog_lists_the_groups_and_marks_the_file_to_keep(open_window, library, music, settle, shoot):
    scan(library, [music])
    analyse(library, {"Harbour Lights": 0, "Night Train": 1, "Other Song": 2, "Short": 3})
    ids = ids_by_name(library)
    w = open_window()
    library_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Library")
    assert "Possible &duplicates…" in [a.text() for a in library_menu.actions()]
    w.actions.duplicates.trigger()
    settle(w)
    d = w.duplicates.dialog
    assert d.isVisible() and d.windowTitle() == "Possible duplicates"
    harbour = sorted(ids[k] for k in ("lossless/Harbour Lights.flac", "phone/Harbour Lights.mp3",
                                      "backup/Harbour Lights.flac"))
    night = sorted(ids[k] for k in ("lossless/Night Train.ogg", "phone/Night Train.opus"))
    assert sorted(map(sorted, d.groups_shown())) == sorted([harbour, night])
    assert d.state.text().startswith("2 groups of possible duplicates among 7 analysed songs")
    head = next(d.tree.topLevelItem(g) for g in range(2) if d.tree.topLevelItem(g).childCount() == 3)
    first = head.child(0)
    assert first.text(0).startswith("✓ ") and first.text(2).startswith("FLAC")
    assert "Looks best to keep: lossless (FLAC)" in first.toolTip(0)
    assert all(head.child(k).text(1).startswith("0:06.0") for k in range(3))
    assert {head.child(k).text(3) for k in range(3)} == {str(music / f) for f in ("lossless", "phone", "backup")}
    assert d.select_track(ids["phone/Harbour Lights.mp3"]) and d.remove.isEnabled()
    d.resize(980, 330)
    shoot(d, "duplicates")


def test_remove_goes_through_the_library_and_the_groups_follow(open_window, library, music, settle, monkeypatch):
    scan(library, [music])
    analyse(library, {"Harbour Lights": 0, "Night Train": 1, "Other Song": 2, "Short": 3})
    opus = ids_by_name(library)["phone/Night Train.opus"]
    path = library.track(opus).path
    w = open_window()
    d = w.duplicates.open()
    settle(w)
    assert d.select_track(opus)
    asked = []

    def exec_(box):
        asked.append(box.text())
        box.checkBox().setChecked(False)  # keep the ratings
        return QMessageBox.Yes

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    d.remove.click()
    settle(w)
    assert asked and "files stay on disk" in asked[0]  # the library's own question
    assert library.track(opus) is None and os.path.exists(path)
    assert len(d.groups_shown()) == 1 and opus not in d.groups_shown()[0]  # Night Train has one file left


def test_play_and_show_in_library_act_on_the_selected_file(open_window, library, music, settle):
    scan(library, [music])
    analyse(library, {"Harbour Lights": 0, "Night Train": 1, "Other Song": 2, "Short": 3})
    mp3 = ids_by_name(library)["phone/Harbour Lights.mp3"]
    w = open_window(audio_backend="null-manual")
    d = w.duplicates.open()
    settle(w)
    assert w.playback.available, w.playback.reason
    assert d.select_track(mp3) and d.play.isEnabled()
    d.play.click()
    settle(w)
    assert w.playback.current_track_id() == mp3
    d.reveal.click()
    settle(w)
    assert w.view.current_track_id() == mp3
    d.tree.setCurrentItem(d.tree.topLevelItem(0))  # a group's line is no file: the actions are off
    assert d.current_track_id() is None and not d.remove.isEnabled()


def test_empty_states_say_what_to_do(open_window, library, music, settle):
    w = open_window()
    d = w.duplicates.open()
    settle(w)
    assert "library is empty" in d.state.text() and not d.tree.isVisible()
    scan(library, [music])
    d.refresh.click()
    settle(w)
    assert "No song is analysed yet" in d.state.text() and "Analyse now" in d.state.text()
    analyse_all_different(library)  # every file sounds different: no group
    d.refresh.click()
    settle(w)
    n = len(library.tracks())
    assert d.state.text() == f"No possible duplicates among {n} analysed songs." and not d.tree.isVisible()


def analyse_all_different(library) -> None:
    rng = np.random.default_rng(1)
    save_results(library, "tagger@1+cnn_lstm@1", [
        AnalysisResult(t.id, rng.random(50).astype(np.float32), rng.random(8).astype(np.float32),
                       rng.standard_normal(32).astype(np.float32)) for t in library.tracks()])

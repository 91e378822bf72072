"""Volume levelling and crossfade through the window (player/ui/playback.py, levelling_menu.py): the
Playback menu's choices reach the player and are kept; the gain applied is the stored loudness's."""

from __future__ import annotations

import pytest

from uimusic import measured_quiet_song
from player.options import CROSSFADE, GAIN_MODE

pytestmark = pytest.mark.gui


def test_track_gain_from_the_stored_loudness_is_applied(qtbot, open_window, import_music, library, tmp_path,
                                                        settle):
    from player.library.loudness import loudness_json

    w, track = measured_quiet_song(open_window, import_music, library, tmp_path / "music")
    lufs = loudness_json(library, track.id)["loudness_lufs"]
    assert lufs is not None and lufs < -30  # quiet: the gain raises it

    menu = w.levelling_menus
    assert w.settings[GAIN_MODE] == "auto" and menu.gain_actions["auto"].isChecked()
    menu.gain_actions["track"].trigger()
    assert w.settings[GAIN_MODE] == "track" and menu.gain_actions["track"].isChecked()
    assert w.playback.player.gain_settings.mode == "track"

    events = []
    w.playback.player.subscribe(lambda ev: events.append(ev) if ev.kind == "track" else None)
    w.playback.play_ids([track.id])
    qtbot.waitUntil(lambda: w.playback.state() == "playing", timeout=5000)
    w.playback.player.backend.advance(0.2)
    w.playback.player.sync()
    qtbot.waitUntil(lambda: bool(events), timeout=5000)
    assert events[0].track.id == track.id
    assert events[0].data["gain_db"] == pytest.approx(-18.0 - lufs, abs=0.1)


def test_levelling_off_and_crossfade_choices_persist(open_window, tmp_path, settle):
    from player.ui.settings import Settings

    w = open_window(audio_backend="null-manual")
    menu = w.levelling_menus
    assert menu.crossfade_actions[0.0].isChecked()  # off by default
    menu.gain_actions["off"].trigger()
    menu.crossfade_actions[5.0].trigger()
    settle(w)
    assert w.playback.player.gain_settings.mode == "off"
    assert w.playback.player.crossfade == 5.0
    w.close()
    again = Settings.at(tmp_path / "settings.ini")
    assert again[GAIN_MODE] == "off" and again[CROSSFADE] == 5.0
    w2 = open_window(audio_backend="null-manual")
    assert w2.levelling_menus.gain_actions["off"].isChecked()
    assert w2.levelling_menus.crossfade_actions[5.0].isChecked()
    assert w2.playback.player.crossfade == 5.0 and w2.playback.player.gain_settings.mode == "off"

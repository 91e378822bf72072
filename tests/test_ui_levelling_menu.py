"""Playback ▸ Volume levelling ▸ Preamp (player/ui/levelling_menu.py): the choice reaches the playing
song's gain at once and is kept in the settings; a value set in the settings file is offered too."""

from __future__ import annotations

import numpy as np
import pytest

from uimusic import measured_quiet_song
from player.options import GAIN_MODE, PREAMP_DB

pytestmark = pytest.mark.gui


def _tail_db(player, seconds: float = 0.1) -> float:
    """The level of the last ``seconds`` the (null) output played, in dB."""
    out = np.asarray(player.backend.captured(), dtype=np.float64)
    tail = out[-int(seconds * player.samplerate):]
    return 10 * np.log10(np.mean(tail ** 2))


def test_the_preamp_is_chosen_in_the_menu_applied_at_once_and_kept(qtbot, open_window, import_music, library,
                                                                    tmp_path, settle):
    from player.ui.levelling_menu import PREAMP_CHOICES
    from player.ui.settings import Settings

    w, track = measured_quiet_song(open_window, import_music, library, tmp_path / "music")
    menu = w.levelling_menus
    menu.gain_actions["track"].trigger()
    player = w.playback.player
    assert w.settings[PREAMP_DB] == 0.0 and menu.preamp_actions[0.0].isChecked()
    assert menu.preamp_menu.menuAction().isEnabled()
    level = player.gain.gain_db(track)  # the stored loudness's gain, with no preamp

    player.backend.capture = True  # keep what the (null) output plays
    events = []
    player.subscribe(lambda ev: events.append(ev) if ev.kind == "track" else None)
    w.playback.play_ids([track.id])
    qtbot.waitUntil(lambda: w.playback.state() == "playing", timeout=5000)
    player.backend.advance(0.2)
    player.sync()
    qtbot.waitUntil(lambda: bool(events), timeout=5000)
    assert events[-1].data["gain_db"] == pytest.approx(level, abs=0.01)

    player.backend.advance(0.3)
    player.sync()
    before = _tail_db(player)
    up = max(PREAMP_CHOICES)
    menu.preamp_actions[up].trigger()
    assert menu.preamp_actions[up].isChecked() and not menu.preamp_actions[0.0].isChecked()
    assert w.settings[PREAMP_DB] == up
    assert player.gain_settings.preamp_db == up
    assert player.gain.gain_db(track) == pytest.approx(level + up, abs=0.01)
    # the playing song is decoded again from where it is, with the new gain: the output is louder by it
    player.backend.advance(0.3)
    player.sync()
    after = _tail_db(player)
    assert after - before == pytest.approx(up, abs=0.1)

    # levelling off: the preamp has nothing to act on and is not offered
    menu.gain_actions["off"].trigger()
    assert not menu.preamp_menu.menuAction().isEnabled()
    menu.gain_actions["track"].trigger()
    w.close()
    assert Settings.at(tmp_path / "settings.ini")[PREAMP_DB] == up

    # a preamp set in the settings file (none of the menu's values) is shown, checked, and applied
    settings = Settings.at(tmp_path / "settings.ini")
    settings[PREAMP_DB] = -4.5
    settings[GAIN_MODE] = "track"
    del settings
    w2 = open_window(audio_backend="null-manual")
    settle(w2)
    menu2 = w2.levelling_menus
    assert -4.5 in menu2.preamp_actions and menu2.preamp_actions[-4.5].isChecked()
    assert "4.5 dB" in menu2.preamp_actions[-4.5].text()
    in_order = [a.text() for _v, a in sorted(menu2.preamp_actions.items())]
    assert [a.text() for a in menu2.preamp_menu.actions()] == in_order
    assert w2.playback.player.gain_settings.preamp_db == -4.5

"""The settings file (player/ui/settings.py over player/options.py): what the window remembers survives
a restart; values are read and written through the declarations; old files are upgraded."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from player import options
from player.options import AUDIO_BACKEND, MOOD_POLICY, MOOD_WEIGHT, OUTPUT_DEVICE, REPEAT, VOLUME, OptionError
from player.ui.settings import Settings

pytestmark = pytest.mark.gui


def test_settings_survive_a_restart(open_window, import_music, tagged_music, tmp_path, settle):
    w = open_window()
    import_music(w, tagged_music(broken=False))
    w.listeners.add("bea")
    settle(w)
    w.resize(1111, 707)
    w.now_playing.volume.setValue(35)
    w.mood_box.weight.setValue(70)
    w.close()
    w2 = open_window()  # the same settings file
    assert w2.listeners.user is not None and w2.listeners.user.name == "bea"
    assert w2.now_playing.volume.value() == 35
    assert w2.mood_box.weight.value() == 70
    assert abs(w2.recs.mood_weight - 1.4) < 1e-6
    # geometry restored (the offscreen test screen is small, so Qt may narrow the width to fit)
    assert w2.height() == 707 and w2.width() != 1360
    qs = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    assert float(qs.value("playback/volume")) == pytest.approx(0.35)
    assert int(qs.value(options.VERSION_KEY)) == options.SETTINGS_VERSION


@pytest.mark.parametrize("option, stored, read", [
    (VOLUME, "0.25", 0.25),
    (VOLUME, "7", 1.0),  # clamped into 0..1
    (VOLUME, "loud", 0.8),  # unreadable: the default
    (MOOD_WEIGHT, "-3", 0.0),
    (REPEAT, "all", "all"),
    (REPEAT, "sometimes", "off"),
    (MOOD_POLICY, "cheer_up", "cheer_up"),
    (MOOD_POLICY, "gloomy", "match"),
])
def test_stored_values_are_read_through_their_declaration(tmp_path, option, stored, read):
    qs = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    qs.setValue(option.key, stored)
    assert Settings(qs)[option] == read


def test_writes_are_checked_and_typed(tmp_path):
    s = Settings.at(tmp_path / "s.ini")
    s[REPEAT] = "one"
    s[options.GEOMETRY] = b"\x01\x02"
    s.sync()
    again = Settings.at(tmp_path / "s.ini")
    assert again[REPEAT] == "one" and again[options.GEOMETRY] == b"\x01\x02"
    with pytest.raises(OptionError, match="repeat must be one of off, one, all, not twice"):
        s[REPEAT] = "twice"
    assert again[REPEAT] == "one"  # a refused value loses nothing


def test_an_old_file_is_upgraded(tmp_path):
    """A file from before settings versions: "playback/device" is now "playback/output_device"."""
    path = tmp_path / "old.ini"
    qs = QSettings(str(path), QSettings.IniFormat)
    qs.setValue("playback/device", "USB DAC")
    qs.setValue("playback/volume", 0.5)
    qs.sync()
    s = Settings.at(path)
    assert s[OUTPUT_DEVICE] == "USB DAC" and s[VOLUME] == 0.5
    assert s.raw("playback/device") is None
    assert int(s.raw(options.VERSION_KEY)) == options.SETTINGS_VERSION
    assert options.upgrade(s) == []  # once only


def test_a_new_file_needs_no_upgrade(tmp_path):
    s = Settings.at(tmp_path / "new.ini")
    assert options.stored_version(s) == options.SETTINGS_VERSION
    assert s.keys() == [options.VERSION_KEY]


def test_the_environment_overrides_the_audio_backend(tmp_path, monkeypatch):
    s = Settings.at(tmp_path / "s.ini")
    s[AUDIO_BACKEND] = "sounddevice"
    assert s[AUDIO_BACKEND] == "sounddevice"
    monkeypatch.setenv("PLAYER_AUDIO", "Null")
    assert s[AUDIO_BACKEND] == "null"
    monkeypatch.setenv("PLAYER_AUDIO", "loudspeaker")
    with pytest.raises(OptionError, match="PLAYER_AUDIO must be one of auto, sounddevice, null"):
        s[AUDIO_BACKEND]

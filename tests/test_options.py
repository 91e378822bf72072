"""player/options.py: every option declared once (default, rule, scope), read and checked through its
declaration, and the settings file's versioned upgrades (no Qt here: a dict is the store)."""

from __future__ import annotations

import dataclasses

import pytest

from player import options
from player.options import (AUDIO_BACKEND, LIBRARY, RECOMMEND, SETTING, SETTINGS, STATE, VOLUME, Option,
                            OptionError)
from player.recommend.settings import RecommendSettings


class DictStore:
    """The RawStore an upgrade needs, over a dict."""

    def __init__(self, values: dict):
        self.values = dict(values)

    def keys(self):
        return list(self.values)

    def raw(self, key):
        return self.values.get(key)

    def set_raw(self, key, value):
        self.values[key] = value

    def remove(self, key):
        self.values.pop(key, None)


ALL = list(SETTINGS.values()) + list(RECOMMEND.values())


@pytest.mark.parametrize("option", ALL, ids=[o.key for o in ALL])
def test_every_default_passes_its_own_rule(option: Option):
    assert option.validate(option.default) == option.default
    assert option.scope in (SETTING, STATE, LIBRARY)
    assert option.doc


def test_the_recommender_settings_are_the_declared_ones():
    fields = {f.name: f.default for f in dataclasses.fields(RecommendSettings) if f.name != "extra"}
    assert fields == {name: o.default for name, o in RECOMMEND.items()}
    assert all(o.scope == LIBRARY for o in RECOMMEND.values())
    assert RecommendSettings().as_dict()["max_artist_run"] == RECOMMEND["max_artist_run"].default


@pytest.mark.parametrize("option, value, message", [
    (RECOMMEND["mode"], "magic", "mode must be one of stars, seed, not magic"),
    (RECOMMEND["weight_history"], -1, "weight_history must be a number >= 0, not -1"),
    (RECOMMEND["weight_history"], "1", "weight_history must be a number >= 0, not 1"),
    (RECOMMEND["max_artist_run"], 0, "max_artist_run must be a whole number >= 1, not 0"),
    (RECOMMEND["max_artist_run"], True, "max_artist_run must be a whole number >= 1, not True"),
    (RECOMMEND["max_familiar_fraction"], 2, "max_familiar_fraction must be a number from 0 to 1, not 2"),
    (RECOMMEND["star_weights"], (1, 2), "star_weights must be 5 finite numbers, for 1 to 5 stars"),
    (RECOMMEND["star_weights"], (1, 2, 3, 4, float("nan")), "star_weights must be 5 finite numbers, for 1 to 5 stars"),
    (SETTINGS["playback/repeat"], "twice", "repeat must be one of off, one, all, not twice"),
    (SETTINGS["window/header_custom"], "yes", "header_custom must be true or false"),
])
def test_a_wrong_value_is_one_line_in_words(option, value, message):
    with pytest.raises(OptionError) as info:
        option.validate(value)
    assert str(info.value) == message


@pytest.mark.parametrize("raw, value", [(None, 0.8), ("0.3", 0.3), (0.3, 0.3), (1, 1.0), ("2", 1.0), ("-1", 0.0),
                                        ("loud", 0.8), (True, 0.8)])
def test_stored_text_is_parsed_by_kind_and_a_bad_one_is_the_default(raw, value):
    assert VOLUME.parse(raw) == value


def test_the_environment_overrides_and_names_itself_when_wrong():
    assert AUDIO_BACKEND.from_environment({}) is None
    assert AUDIO_BACKEND.from_environment({"PLAYER_AUDIO": " NULL "}) == "null"
    with pytest.raises(OptionError, match="^PLAYER_AUDIO must be one of"):
        AUDIO_BACKEND.from_environment({"PLAYER_AUDIO": "speakers"})


def test_an_unversioned_file_is_upgraded_in_order():
    store = DictStore({"playback/device": "USB DAC", "playback/volume": "0.5"})
    assert options.upgrade(store) == [2]
    assert store.values == {"playback/output_device": "USB DAC", "playback/volume": "0.5",
                            options.VERSION_KEY: options.SETTINGS_VERSION}
    assert options.upgrade(store) == []


def test_a_rename_keeps_a_value_already_under_the_new_key():
    store = DictStore({"playback/device": "old", "playback/output_device": "new"})
    options.upgrade(store)
    assert store.values["playback/output_device"] == "new" and "playback/device" not in store.values


@pytest.mark.parametrize("values, version", [
    ({}, options.SETTINGS_VERSION),  # a new file
    ({"playback/volume": "0.5"}, 1),  # from before versions were written
    ({options.VERSION_KEY: "2"}, 2),
    ({options.VERSION_KEY: "two", "x/y": 1}, 1),  # unreadable: upgraded from the start
])
def test_the_stored_version(values, version):
    assert options.stored_version(DictStore(values)) == version


def test_a_file_from_a_newer_player_is_left_alone():
    store = DictStore({options.VERSION_KEY: options.SETTINGS_VERSION + 1, "playback/device": "kept"})
    assert options.upgrade(store) == []
    assert store.values["playback/device"] == "kept"
    assert store.values[options.VERSION_KEY] == options.SETTINGS_VERSION + 1


def test_the_settings_file_moves_with_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path))
    assert options.settings_path() == tmp_path / "config" / "player.conf"

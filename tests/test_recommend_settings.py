"""player.recommend.settings: validation, JSON and the library's saved settings."""

from __future__ import annotations

import pytest

from player.recommend import RecommendSettings


def test_settings_validate_and_round_trip(library):
    with pytest.raises(ValueError, match="mode"):
        RecommendSettings(mode="magic")
    with pytest.raises(ValueError, match="weight_history"):
        RecommendSettings(weight_history=-1)
    with pytest.raises(ValueError, match="star_weights"):
        RecommendSettings(star_weights=(1, 2))
    with pytest.raises(ValueError, match="max_artist_run"):
        RecommendSettings(max_artist_run=0)
    s = RecommendSettings(mode="seed", weight_mood=2.0, max_artist_run=3)
    assert RecommendSettings.from_json(s.to_json()) == s
    s.save(library)
    assert RecommendSettings.load(library) == s
    library.db.set_setting(RecommendSettings.SETTINGS_KEY, "{not json")
    assert RecommendSettings.load(library) == RecommendSettings()  # unreadable: defaults

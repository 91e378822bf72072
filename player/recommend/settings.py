"""Settings of the recommender: the profile mode, the blend weights, exclusions and run limits.

Each field is declared once in :data:`player.options.RECOMMEND` (default, rule, meaning);
:meth:`RecommendSettings.from_dict` / :meth:`as_dict` round-trip them (kept as JSON in the library's
``settings`` table). Bad values raise :class:`player.options.OptionError` (a ``ValueError``) that says
which field is wrong and why.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from player.options import RECOMMEND

_R = RECOMMEND  # the declarations: defaults, rules and meanings (player/options.py)


@dataclass(frozen=True)
class RecommendSettings:
    """The recommender's settings of one library; see ``player.options.RECOMMEND`` for each field."""

    # -- listener profile
    mode: str = _R["mode"].default
    star_weights: tuple = _R["star_weights"].default
    dislike_weight: float = _R["dislike_weight"].default
    # -- the blend of up-next
    weight_profile: float = _R["weight_profile"].default
    weight_mood: float = _R["weight_mood"].default
    weight_embedding: float = _R["weight_embedding"].default
    weight_taste_embedding: float = _R["weight_taste_embedding"].default
    weight_history: float = _R["weight_history"].default
    weight_artist: float = _R["weight_artist"].default
    # -- what never comes next
    recent_window: int = _R["recent_window"].default
    dislike_threshold: int = _R["dislike_threshold"].default
    max_artist_run: int = _R["max_artist_run"].default
    max_album_run: int = _R["max_album_run"].default
    max_familiar_fraction: float = _R["max_familiar_fraction"].default
    # -- history (collaborative filtering)
    history_unit: str = _R["history_unit"].default
    session_gap_s: float = _R["session_gap_s"].default
    min_play_seconds: float = _R["min_play_seconds"].default
    # -- more like this
    similar_label_weight: float = _R["similar_label_weight"].default

    extra: dict = field(default_factory=dict, compare=False)  # unknown keys kept for round-trips

    def __post_init__(self):
        for name, option in _R.items():
            object.__setattr__(self, name, option.validate(getattr(self, name)))

    # -- helpers -------------------------------------------------------------------------------
    def replace(self, **changes) -> "RecommendSettings":
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        out["star_weights"] = list(self.star_weights)
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "RecommendSettings":
        if not isinstance(data, dict):
            raise ValueError("recommender settings must be a JSON object")
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        known = {k: v for k, v in data.items() if k in names}
        extra = {k: v for k, v in data.items() if k not in names}
        if "star_weights" in known:
            known["star_weights"] = tuple(known["star_weights"])
        return cls(**known, extra=extra)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "RecommendSettings":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"recommender settings are not valid JSON: {exc}") from None
        return cls.from_dict(data)

    #: the key under which :meth:`load`/:meth:`save` keep the settings in the library.
    SETTINGS_KEY = "recommend.settings"

    @classmethod
    def load(cls, library) -> "RecommendSettings":
        """The settings saved in ``library`` (defaults when none or unreadable)."""
        text = library.db.get_setting(cls.SETTINGS_KEY)
        if not text:
            return cls()
        try:
            return cls.from_json(text)
        except (ValueError, TypeError):
            return cls()

    def save(self, library) -> None:
        library.db.set_setting(self.SETTINGS_KEY, self.to_json())

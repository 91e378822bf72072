"""Settings of the recommender: the profile mode, the blend weights, exclusions and run limits.

All fields have sensible defaults; :meth:`RecommendSettings.from_dict` / :meth:`as_dict` round-trip
them (the GUI keeps them as JSON in the library's ``settings`` table). Bad values raise a
:class:`ValueError` that says which field is wrong and why.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field

MODES = ("stars", "seed")
HISTORY_UNITS = ("user", "session", "user+session")


@dataclass(frozen=True)
class RecommendSettings:
    # -- listener profile ----------------------------------------------------------------------
    #: "stars": liked songs pull the profile towards their labels, disliked ones push it away
    #: (see docs/recommender.md). "seed": seed 002 literally, the sum of the unit TF-IDF vectors
    #: of every rated song whatever its stars.
    mode: str = "stars"
    #: weight of 1, 2, 3, 4 and 5 stars in "stars" mode (> 0 pulls, < 0 pushes, 0 is neutral).
    star_weights: tuple = (-1.0, -0.5, 0.0, 0.5, 1.0)
    #: how hard the (weighted mean of the) disliked songs push, relative to the liked songs' pull.
    dislike_weight: float = 0.5

    # -- the blend of up-next ------------------------------------------------------------------
    weight_profile: float = 1.0  # cosine(label profile, song labels)            (seed 002)
    weight_mood: float = 0.8  # cosine(mood labels, song labels), the mood query    (seed 002)
    weight_embedding: float = 0.6  # cosine(current track embedding, song embedding) (seed 000)
    weight_taste_embedding: float = 0.4  # cosine(embedding profile of rated songs, song embedding)
    weight_history: float = 0.5  # co-occurrence collaborative filtering from plays (seed 002)
    weight_artist: float = 0.1  # the listener's stars for the song's artist/album (fallback)

    # -- what never comes next -----------------------------------------------------------------
    recent_window: int = 50  # the listener's last N plays are not proposed again
    dislike_threshold: int = 2  # songs the listener rated at or below this are never proposed
    max_artist_run: int = 2  # at most this many songs of one artist in a row
    max_album_run: int = 1  # at most this many songs of one album in a row
    #: at most this share of a list is songs the listener already knows (rated, or played to the end)
    max_familiar_fraction: float = 0.5

    # -- history (collaborative filtering) -----------------------------------------------------
    #: baskets whose co-occurrence is counted: "user" is seed 002's (one basket per listener),
    #: "session" one basket per listening session, "user+session" the mean of both scores.
    history_unit: str = "user+session"
    session_gap_s: float = 1800.0  # a pause longer than this starts a new listening session
    min_play_seconds: float = 30.0  # a skipped play shorter than this is not a positive signal

    # -- more like this ------------------------------------------------------------------------
    similar_label_weight: float = 0.0  # add cosine of labels to "more like this" (0: embedding only)

    extra: dict = field(default_factory=dict, compare=False)  # unknown keys kept for round-trips

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"recommend mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.history_unit not in HISTORY_UNITS:
            raise ValueError(
                f"history_unit must be one of {', '.join(HISTORY_UNITS)}, not {self.history_unit!r}"
            )
        sw = tuple(float(x) for x in self.star_weights)
        if len(sw) != 5 or not all(math.isfinite(x) for x in sw):
            raise ValueError("star_weights needs five finite numbers, for 1 to 5 stars")
        object.__setattr__(self, "star_weights", sw)
        for name in (
            "dislike_weight",
            "weight_profile",
            "weight_mood",
            "weight_embedding",
            "weight_taste_embedding",
            "weight_history",
            "weight_artist",
            "similar_label_weight",
            "session_gap_s",
            "min_play_seconds",
        ):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, not {value!r}")
            object.__setattr__(self, name, float(value))
        for name, low in (("recent_window", 0), ("dislike_threshold", 0), ("max_artist_run", 1), ("max_album_run", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be a whole number >= {low}, not {value!r}")
        value = self.max_familiar_fraction
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise ValueError(f"max_familiar_fraction must be from 0 to 1, not {value!r}")
        object.__setattr__(self, "max_familiar_fraction", float(value))

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

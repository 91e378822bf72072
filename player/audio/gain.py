"""Playback gain (ReplayGain / loudness normalisation) and the crossfade rule: which tracks form an album
played in order, what gain a track gets, how long a crossfade is.

    policy = GainPolicy(lookup=library_gain)   # lookup(track_id) -> {"track_gain", "track_peak", …} or None
    policy.settings = GainSettings(mode="auto", preamp_db=0.0, prevent_clipping=True)
    policy.linear(track, prev_track, next_track)   # the amplitude factor for ``track``

Modes: ``"off"`` (1.0), ``"track"``, ``"album"``, ``"auto"`` (album gain while an album plays in order —
the track follows, or is followed by, the next track of the same album — else track gain). Values come
from ``lookup(track.id)`` (the library: stored analysis or tags) and, where it gives nothing (or for files
outside the library), from the file's own ReplayGain tags (:func:`~player.audio.loudness.replaygain_from_tags`,
read once per file). A track without any value plays at its own level.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Callable

from player.audio.loudness import db_to_linear, gain_db, replaygain_from_tags

GAIN_MODES = ("off", "track", "album", "auto")
MAX_CROSSFADE = 10.0
CROSSFADE_SHARE = 1 / 3  # a crossfade takes at most this share of the shorter track


def _album_key(track) -> tuple | None:
    album = getattr(track, "album", None)
    if not album or not str(album).strip():
        return None
    artist = getattr(track, "albumartist", None) or getattr(track, "artist", None) or ""
    return str(album).strip().casefold(), str(artist).strip().casefold()


def album_in_order(a, b) -> bool:
    """True when ``b`` is the track right after ``a`` on the same album (same album title and album
    artist — or artist — and the next track number)."""
    if a is None or b is None:
        return False
    ka, kb = _album_key(a), _album_key(b)
    if ka is None or ka != kb:
        return False
    na, nb = getattr(a, "tracknumber", None), getattr(b, "tracknumber", None)
    return isinstance(na, int) and isinstance(nb, int) and nb == na + 1


def crossfade_seconds(seconds: float, a, b) -> float:
    """The crossfade between ``a`` and ``b``: none inside an album played in order (that stays gapless),
    else ``seconds`` (0-10); the decoder shortens it to a third of the shorter track."""
    if seconds <= 0 or album_in_order(a, b):
        return 0.0
    return min(float(seconds), MAX_CROSSFADE)


@dataclass(frozen=True)
class GainSettings:
    mode: str = "off"
    preamp_db: float = 0.0
    prevent_clipping: bool = True

    def __post_init__(self):
        if self.mode not in GAIN_MODES:
            raise ValueError(f"unknown gain mode {self.mode!r} (use one of: {', '.join(GAIN_MODES)})")


class GainPolicy:
    """Computes each track's gain from :class:`GainSettings`, the app's ``lookup`` and the file's tags."""

    def __init__(self, lookup: Callable[[int], dict | None] | None = None, settings: GainSettings | None = None):
        self.lookup = lookup
        self.settings = settings or GainSettings()
        self._tags: dict[Any, dict] = {}
        self._lock = threading.Lock()

    def values(self, track) -> dict:
        """The gain values for ``track``: the lookup's, else the file's tags (cached)."""
        track_id = getattr(track, "id", None)
        if self.lookup is not None and isinstance(track_id, int):
            got = self.lookup(track_id)
            if got:
                return dict(got)
        path = getattr(track, "path", None)
        if path is None:
            return {}
        key = os.fspath(path)
        with self._lock:
            if key in self._tags:
                return self._tags[key]
        values = replaygain_from_tags(key)
        with self._lock:
            if len(self._tags) > 4096:
                self._tags.clear()
            self._tags[key] = values
        return values

    def mode_for(self, track, prev_track=None, next_track=None) -> str:
        mode = self.settings.mode
        if mode == "auto":
            return "album" if album_in_order(prev_track, track) or album_in_order(track, next_track) else "track"
        return mode

    def gain_db(self, track, prev_track=None, next_track=None) -> float:
        s = self.settings
        if s.mode == "off":
            return 0.0
        db = gain_db(self.values(track), self.mode_for(track, prev_track, next_track), preamp_db=s.preamp_db,
                     prevent_clipping=s.prevent_clipping)
        return 0.0 if db is None else db

    def linear(self, track, prev_track=None, next_track=None) -> float:
        return db_to_linear(self.gain_db(track, prev_track, next_track))


__all__ = ["GainPolicy", "GainSettings", "GAIN_MODES", "album_in_order", "crossfade_seconds", "MAX_CROSSFADE",
           "CROSSFADE_SHARE"]

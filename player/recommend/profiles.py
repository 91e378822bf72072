"""Listeners' profiles: from their stars to a label profile, an embedding taste and artist affinities.

* label profile p (seed 002): ``seed`` mode sums the vectors of every rated song; ``stars`` mode is a
  Rocchio profile (the star-weighted mean of the liked songs minus ``dislike_weight`` times that of
  the disliked ones), see :func:`player.recommend.vectors.profile_weights`;
* taste t: the same combination over the rated songs' embeddings;
* artist / album affinity: the mean star weight the listener gave each artist and album, in [-1, 1].

:class:`Profiles` holds everybody's ratings (as positions of the index) and builds a listener's
:class:`Listener` on first use; a rating change rebuilds only that listener.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from player.recommend.index import LibraryIndex
from player.recommend.settings import RecommendSettings
from player.recommend.vectors import profile_weights, unit, weighted_row_sum

_NONE = np.zeros(0, np.int64)


@dataclass(frozen=True, eq=False)
class Listener:
    user_id: int
    rated_pos: np.ndarray  # positions of rated songs
    stars: np.ndarray
    profile: np.ndarray  # label profile (L), not normalised
    profile_unit: np.ndarray
    profile_norm: float
    taste_unit: np.ndarray  # embedding profile (D), unit or zero
    taste_norm: float
    artist_vec: np.ndarray | None  # per song: mean star weight for its artist and album, or None
    liked_pos: np.ndarray  # the songs a reason may call "like X"
    disliked_pos: np.ndarray

    def stars_of(self) -> dict[int, int]:
        """position -> stars of the listener's rated songs."""
        return dict(zip(self.rated_pos.tolist(), self.stars.tolist()))

    def familiar(self, n_tracks: int) -> np.ndarray:
        """bool[T]: the songs the listener rated."""
        out = np.zeros(n_tracks, dtype=bool)
        out[self.rated_pos] = True
        return out


def liked_disliked(settings: RecommendSettings, pos: np.ndarray, stars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rated songs a listener likes (a positive star weight; in ``seed`` mode anything above the
    dislike threshold) and those they dislike (at or below the threshold)."""
    stars = np.clip(np.asarray(stars, np.int64), 1, 5)
    if settings.mode == "stars":
        liked = np.asarray(settings.star_weights)[stars - 1] > 0
    else:
        liked = stars > settings.dislike_threshold
    return pos[liked], pos[stars <= settings.dislike_threshold]


def affinity(slots: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``values`` per slot (``n`` slots plus the 'no tag' slot ``n``, which shares nothing)."""
    total = np.bincount(slots, weights=values, minlength=n + 1)
    count = np.bincount(slots, minlength=n + 1)
    out = np.divide(total, count, out=np.zeros(n + 1), where=count > 0)
    out[n] = 0.0
    return out


def make_listener(index: LibraryIndex, settings: RecommendSettings, user_id: int, pos: np.ndarray,
                  stars: np.ndarray) -> Listener:
    s = settings
    stars = np.clip(np.asarray(stars, np.int64), 1, 5)
    # label profile: only songs with a label vector take part (as the seed's inner merge)
    lab = index.has_labels[pos]
    profile = weighted_row_sum(index.X, pos[lab], profile_weights(stars[lab], s.mode, s.star_weights,
                                                                  s.dislike_weight))
    profile_unit, profile_norm = unit(profile)
    # embedding profile, the same weights over the songs with an embedding
    emb = index.has_emb[pos]
    taste = weighted_row_sum(index.E, pos[emb], profile_weights(stars[emb], s.mode, s.star_weights,
                                                                s.dislike_weight))
    taste_unit, taste_norm = unit(taste)
    # the listener's stars per artist and album, mean star weight in [-1, 1]
    sw = np.asarray(s.star_weights, dtype=np.float64)[stars - 1] if stars.size else np.zeros(0)
    scale = max(1e-12, float(np.max(np.abs(s.star_weights))))
    art = affinity(index.artist_slot[pos], sw / scale, index.n_artists)
    alb = affinity(index.album_slot[pos], sw / scale, index.n_albums)
    liked, disliked = liked_disliked(s, pos, stars)
    return Listener(
        user_id=user_id, rated_pos=pos, stars=stars, profile=profile, profile_unit=profile_unit,
        profile_norm=profile_norm, taste_unit=taste_unit.astype(np.float32), taste_norm=taste_norm,
        artist_vec=(0.5 * (art[index.artist_slot] + alb[index.album_slot]))
        if (np.any(art[:-1] != 0) or np.any(alb[:-1] != 0)) else None,
        liked_pos=liked, disliked_pos=disliked,
    )


class Profiles:
    """Everybody's ratings (positions, stars) and the listeners built from them, lazily."""

    def __init__(self, index: LibraryIndex, settings: RecommendSettings, ratings: dict):
        self.index = index
        self.settings = settings
        self.ratings: dict[int, tuple[np.ndarray, np.ndarray]] = ratings
        self._listeners: dict[int, Listener] = {}

    @classmethod
    def from_arrays(cls, index: LibraryIndex, settings: RecommendSettings, rating_user, rating_track,
                    rating_stars) -> "Profiles":
        rpos = index.positions(rating_track)
        rk = rpos >= 0
        ru, rp, rs = np.asarray(rating_user)[rk], rpos[rk], np.asarray(rating_stars)[rk]
        ratings = {}
        for uid in np.unique(ru):
            m = ru == uid
            ratings[int(uid)] = (rp[m], rs[m])
        return cls(index, settings, ratings)

    def with_settings(self, settings: RecommendSettings) -> "Profiles":
        """The same ratings under other settings (the listeners are rebuilt on use)."""
        return Profiles(self.index, settings, dict(self.ratings))

    def listener(self, user_id: int) -> Listener:
        user_id = int(user_id)
        lst = self._listeners.get(user_id)
        if lst is None:
            pos, stars = self.ratings.get(user_id, (_NONE, _NONE))
            lst = self._listeners[user_id] = make_listener(self.index, self.settings, user_id, pos, stars)
        return lst

    def set_ratings(self, user_id: int, track_ids, stars) -> Listener:
        """A listener's ratings changed: keep the new ones (of songs the index has), rebuild the profile."""
        pos = self.index.positions(track_ids)
        k = pos >= 0
        self.ratings[int(user_id)] = (pos[k], np.asarray(stars)[k])
        self._listeners.pop(int(user_id), None)
        return self.listener(user_id)

    def label_profile(self, user_id: int, top: int | None = None) -> list[tuple[str, float]]:
        """The listener's label profile as (label, weight), strongest first."""
        p = self.listener(user_id).profile
        order = np.argsort(-np.abs(p), kind="stable")
        order = order[p[order] != 0]
        if top is not None:
            order = order[:top]
        return [(self.index.label_names[i], float(p[i])) for i in order]

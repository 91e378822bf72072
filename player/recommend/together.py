"""Listening together: one Up next for two or more listeners at once.

For each listener u with ratings or history, v_u(s) is their taste -- the mean of the label-profile
cosine and the taste-embedding cosine -- blended with their history score (weight ``weight_history``),
each divided by its maximum over the songs that may come next so listeners count alike. The group's
score favours songs that serve everybody over songs one listener loves and the others do not care
for:

  score(s) = mean_u v_u(s) + 1/2 min_u max(0, v_u(s))   (+ the current song's similarity, weight ``weight_embedding``)

(a listener's dislikes make their taste negative for songs like them; the mean carries that, while the
minimum only rewards songs everybody likes, so one listener's leaning against a style does not hand
the list to songs nobody cares for)

A song any of them rated at or below ``dislike_threshold`` (2 stars) never comes, nor one any of them
played among their last ``recent_window`` plays. The list then follows the recommender's run limits
(artist, album) and cap on familiar songs. Each reason says whose taste the song serves: "for ann and
bob: piano, sad", "for bob: like “Blue” 5★". numpy only.
"""

from __future__ import annotations

import numpy as np

from player.errors import PlayerError
from player.recommend.explain import Recommendation, shorten
from player.recommend.radio import disliked_by_any, join_names, listeners_terms, one_blas_thread
from player.recommend.selection import select


class TogetherError(PlayerError, ValueError):
    """A mistake in a listening-together query (no listener), in words."""


def _nearest_liked(index, lst, j: int) -> tuple[int, int]:
    """(position, stars) of the listener's liked song closest to song ``j`` (-1 when none)."""
    k, _ = index.nearest(j, lst.liked_pos[lst.liked_pos != j])
    return k, (int(lst.stars_of().get(k, 0)) if k >= 0 else 0)


def together_up_next(rec, user_ids, *, after_track_id: int | None = None, n: int = 10,
                     exclude_ids=()) -> list[Recommendation]:
    """The next ``n`` songs for the listeners ``user_ids`` together, best first, each with a reason
    naming whose taste it serves."""
    user_ids = list(dict.fromkeys(int(u) for u in user_ids))
    if not user_ids:
        raise TogetherError("listening together needs at least one listener")
    with one_blas_thread():
        return _together(rec, user_ids, after_track_id, int(n), exclude_ids)


def _together(rec, user_ids: list, after_track_id, n: int, exclude_ids) -> list[Recommendation]:
    index, s = rec.index, rec.settings
    T = index.n_tracks
    if T == 0 or n <= 0:
        return []
    listeners, _, _ = listeners_terms(rec, user_ids)
    # what may come next
    eligible = index.ok.copy()
    eligible &= ~disliked_by_any(listeners, T, s.dislike_threshold)
    for uid in user_ids:
        pos = index.positions(rec.source.recent(uid, s.recent_window))
        eligible[pos[pos >= 0]] = False
    if exclude_ids is not None and len(exclude_ids):
        pos = index.positions(np.fromiter((int(x) for x in exclude_ids), np.int64))
        eligible[pos[pos >= 0]] = False
    current = -1
    if after_track_id is not None:
        current = int(index.positions(np.array([int(after_track_id)]))[0])
        if current >= 0:
            eligible[current] = False
    # each listener's score, scaled by its maximum over what may come
    values = {}
    for p in listeners:
        terms, weights = [], []
        if p["taste"] is not None:
            terms.append(p["taste"])
            weights.append(1.0)
        if p["history"] is not None and s.weight_history > 0:
            terms.append(p["history"])
            weights.append(s.weight_history)
        if not terms:
            continue
        v = sum(w * t for w, t in zip(weights, terms)) / sum(weights)
        top = float(np.max(v[eligible])) if eligible.any() else 0.0
        values[p["user_id"]] = v / top if top > 0 else v
    score = np.zeros(T)
    if values:
        stack = np.vstack(list(values.values()))
        score = stack.mean(axis=0) + 0.5 * np.clip(stack, 0.0, None).min(axis=0)
    if current >= 0 and s.weight_embedding > 0:
        sim = rec.similarity_to(int(index.track_ids[current]))
        known = ~np.isnan(sim)
        mean = float(sim[known].mean()) if known.any() else 0.0
        score = score + s.weight_embedding * np.where(known, sim, mean)
    familiar = np.zeros(T, dtype=bool)
    for p in listeners:
        familiar[p["listener"].rated_pos] = True
    picks = select(index, s, score, eligible, int(n), [current] if current >= 0 else [], familiar)
    return [_explain(index, listeners, values, j, float(score[j])) for j in picks]


def _explain(index, listeners: list[dict], values: dict, j: int, score: float) -> Recommendation:
    everyone = [p["name"] for p in listeners]
    known = [p for p in listeners if p["user_id"] in values]
    served = [p for p in known if values[p["user_id"]][j] >= 0.5]
    parts = {"scores": {p["name"]: round(float(values[p["user_id"]][j]), 4) for p in known},
             "for": [p["name"] for p in served]}
    if not known:
        reason = f"for {join_names(everyone)}: a pick to start with — rate songs to personalise"
    elif not served:
        reason = f"for {join_names(everyone)}: between your tastes"
    else:
        who = join_names([p["name"] for p in served])
        profile = sum(p["listener"].profile_unit for p in served)
        labels = index.top_labels(j, profile)
        detail = ", ".join(labels)
        if len(served) == 1:
            near, stars = _nearest_liked(index, served[0]["listener"], j)
            if near >= 0:
                detail = f"like “{shorten(index.titles[near])}” {stars}★"
        reason = f"for {who}" + (f": {detail}" if detail else "")
    analysed = bool(index.analysed[j])
    if not analysed:
        reason = "not analysed yet · " + reason
    return Recommendation(int(index.track_ids[j]), score, reason, analysed, parts)


__all__ = ["together_up_next", "TogetherError"]

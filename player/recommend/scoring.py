"""The up-next blend: every term a cosine in [-1, 1] or a score in [0, 1], weighted and averaged.

    score(s) = sum_c W_c * v_c(s) / sum_c W_c

over the terms that apply to the query (a listener without ratings has no profile term, no current
song no embedding term, ...). The blend is linear, so the label terms (profile; the mood in seed 002's
label query) fold into one query over X and the embedding terms (current song, taste) into one over E;
the mood in the tag block (the default) is one more product over the tag columns: a matrix-vector
product per kind scores every song. A song without labels (an embedding, tag probabilities) gets, for
those terms, their mean over the songs that have them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from player.recommend.index import LibraryIndex
from player.recommend.profiles import Listener
from player.recommend.settings import RecommendSettings


@dataclass(frozen=True)
class Component:
    """One term of the blend: its weight, its value for song j, where it is known (None: everywhere)
    and the value a song where it is unknown gets (its mean over the songs where it is known)."""

    weight: float
    value: Callable[[int], float]
    known: np.ndarray | None
    mean: float

    def of(self, j: int) -> tuple[float, bool]:
        """(value for song j, whether it was filled in with the mean)."""
        if self.known is not None and not self.known[j]:
            return self.mean, True
        return self.value(j), False


@dataclass(frozen=True, eq=False)
class Blend:
    score: np.ndarray  # float64[T]
    components: dict = field(default_factory=dict)  # name -> Component
    total_weight: float = 1.0


@dataclass(frozen=True, eq=False)
class Query:
    """What an up-next query knows besides the listener."""

    current: int = -1  # the position of the song playing now (-1: none)
    mood_unit: np.ndarray | None = None  # over X's labels ('labels') or the tag block's tags ('tags')
    mood_used: tuple = ()  # the mood tags (labels) this library knows
    mood_name: str | None = None
    history: np.ndarray | None = None  # the listener's history score (None: no history)
    history_raw: dict = field(default_factory=lambda: {"S": np.zeros(0, np.int64)})
    mood_basis: str = "labels"  # 'tags': mood_unit is a direction in the tag block (LibraryIndex.mood_query)


def blend(index: LibraryIndex, settings: RecommendSettings, lst: Listener, q: Query) -> Blend | None:
    """The blended score of every song; None when nothing personal applies (the cold start)."""
    s = settings
    label_terms, emb_terms, vec_terms, tag_terms = [], [], [], []
    if lst.profile_norm > 0 and s.weight_profile > 0:
        label_terms.append(("profile", s.weight_profile, lst.profile_unit))
    if q.mood_used and s.weight_mood > 0:
        (tag_terms if q.mood_basis == "tags" else label_terms).append(("mood", s.weight_mood, q.mood_unit))
    if q.current >= 0 and index.has_emb[q.current] and s.weight_embedding > 0:
        emb_terms.append(("embedding", s.weight_embedding, index.E[q.current]))
    if lst.taste_norm > 0 and s.weight_taste_embedding > 0:
        emb_terms.append(("taste_embedding", s.weight_taste_embedding, lst.taste_unit))
    if q.history is not None and s.weight_history > 0:
        vec_terms.append(("history", s.weight_history, q.history))
    if lst.artist_vec is not None and s.weight_artist > 0:
        vec_terms.append(("artist", s.weight_artist, lst.artist_vec))
    if not (label_terms or emb_terms or tag_terms or any(name == "history" for name, _, _ in vec_terms)):
        return None

    total_w = sum(w for _, w, _ in label_terms + emb_terms + vec_terms + tag_terms)
    comps: dict[str, Component] = {}
    score = np.zeros(index.n_tracks, dtype=np.float64)
    if label_terms:
        qv = sum((w / total_w) * v for _, w, v in label_terms)
        score = np.asarray(index.X @ qv, dtype=np.float64).ravel()
        score[index.unlabelled] = float(index.X_colsum @ qv) / max(1, index.n_labelled)
        for name, w, v in label_terms:
            comps[name] = Component(w, _label_value(index, v), index.has_labels,
                                    float(index.X_colsum @ v) / max(1, index.n_labelled))
    if emb_terms:
        qv = sum((w / total_w) * np.asarray(v, np.float32) for _, w, v in emb_terms).astype(np.float32)
        part = index.E @ qv
        part[index.no_embedding] = float(index.E_colsum @ qv) / max(1, index.n_embedded)
        score += part
        for name, w, v in emb_terms:
            comps[name] = Component(w, _emb_value(index, v), index.has_emb,
                                    float(index.E_colsum @ v) / max(1, index.n_embedded))
    for name, w, v in tag_terms:  # the cosine of each song's tag row with the mood's direction
        part = index.mood_scores(v)
        known = index.has_tags
        mean = float(part[known].mean()) if known.any() else 0.0
        part[~known] = mean
        score += (w / total_w) * part
        comps[name] = Component(w, part.__getitem__, known, mean)
    for name, w, v in vec_terms:
        score += (w / total_w) * v
        comps[name] = Component(w, v.__getitem__, None, 0.0)
    return Blend(score, comps, total_w)


def _label_value(index: LibraryIndex, q: np.ndarray):
    def value(j: int) -> float:
        cols, vals = index.row(j)
        return float(vals @ q[cols])

    return value


def _emb_value(index: LibraryIndex, q: np.ndarray):
    return lambda j: float(index.E[j] @ q)

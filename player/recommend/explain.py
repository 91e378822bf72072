"""Reasons: one short line per proposed song, naming what really contributed to its place.

The two strongest contributions (by weight x value) of: the song's labels that contribute most to the
profile match ("rock, guitar"), the liked song nearest to it ("like “Blue” 5★"), the mood tags that
lift it most ("happy: happy, catchy": the mood's tags above the library's mean for it; with seed 002's
label query the mood label it carries, "happy: party" -- always shown when present), the current song
("sounds like “X”"), the listener's song it most often shares a session with ("often played with
“Y”"), "you played it before", "played by listeners with your taste", "you like ARTIST", "your 5★".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from player.recommend.history import HistoryState
from player.recommend.index import LibraryIndex, Similarity
from player.recommend.profiles import Listener
from player.recommend.scoring import Blend, Query
from player.recommend.settings import RecommendSettings


@dataclass(frozen=True)
class Recommendation:
    track_id: int
    score: float
    reason: str  # one short line for the GUI
    analysed: bool  # False: the song has no labels/embedding yet and was placed by what is known
    parts: dict = field(default_factory=dict)  # component scores and the contributors behind the reason


def shorten(text: str, limit: int = 28) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True, eq=False)
class PickContext:
    """Everything behind one up-next list, from which each pick is explained."""

    index: LibraryIndex
    settings: RecommendSettings
    listener: Listener
    history: HistoryState
    blend: Blend
    query: Query

    def title(self, j: int) -> str:
        return f"“{shorten(self.index.titles[j])}”"

    def nearest_liked(self, j: int) -> tuple[int, float]:
        """The listener's liked song closest to song ``j`` (embedding cosine, else label cosine)."""
        return self.index.nearest(j, self.listener.liked_pos)


def explain_pick(ctx: PickContext, j: int) -> Recommendation:
    """The score parts of song ``j`` and a one-line reason naming what contributed most."""
    ix, lst, q, comps = ctx.index, ctx.listener, ctx.query, ctx.blend.components
    parts: dict = {}
    contrib: dict[str, float] = {}
    filled = []
    for name, comp in comps.items():
        v, was_filled = comp.of(j)
        if was_filled:
            filled.append(name)
        parts[name] = v
        contrib[name] = (comp.weight / ctx.blend.total_weight) * v
    if filled:
        parts["filled"] = filled
    pieces: list[tuple[float, str]] = []  # (contribution, text)
    analysed = bool(ix.analysed[j])
    stars_of = lst.stars_of()
    own_stars = stars_of.get(j, 0)
    if own_stars and ctx.settings.star_weights[own_stars - 1] > 0:
        parts["your_stars"] = own_stars
        pieces.append((sum(contrib.values()), f"your {own_stars}★"))

    if "profile" in comps and "profile" not in filled:
        labels = ix.top_labels(j, lst.profile_unit)
        parts["top_labels"] = labels
        if labels:
            pieces.append((contrib["profile"], ", ".join(labels)))
    if ("profile" in comps or "taste_embedding" in comps) and analysed:
        near, sim = ctx.nearest_liked(j)
        if near >= 0 and near != j:
            parts["nearest_rated"] = {"track_id": int(ix.track_ids[near]), "title": ix.titles[near],
                                      "stars": int(stars_of.get(near, 0)), "similarity": round(sim, 4)}
            weight = 0.9 * contrib.get("profile", 0.0) + contrib.get("taste_embedding", 0.0)
            pieces.append((weight, f"like {ctx.title(near)} {stars_of.get(near, 0)}★"))
    if "mood" in comps and "mood" not in filled:
        if q.mood_basis == "tags":  # the mood's tags this song has above the library's mean, if it leans that way
            labels = ix.mood_tags_of(j, q.mood_unit, k=2) if parts["mood"] > 0 else []
        else:
            labels = ix.top_labels(j, q.mood_unit, k=1)
        parts["mood_labels"] = list(q.mood_used)
        parts["mood_basis"] = q.mood_basis
        parts["mood_tags"] = labels
        if labels:  # the listener asked for a mood: when it shows in the song, always say so
            pieces.append((10.0 + contrib["mood"], f"{q.mood_name or 'mood'}: {', '.join(labels)}"))
    if "embedding" in comps and "embedding" not in filled and q.current >= 0:
        pieces.append((contrib["embedding"], f"sounds like {ctx.title(q.current)}"))
    if "history" in comps and parts.get("history", 0) > 0:
        pieces += _history_pieces(ctx, j, parts, contrib["history"])
    if "artist" in comps and parts.get("artist", 0) > 0 and ix.artists[j]:
        pieces.append((contrib["artist"], f"you like {shorten(ix.artists[j], 24)}"))

    pieces.sort(key=lambda x: -x[0])
    texts = [t for _, t in pieces[:2]]
    if not analysed:
        texts.insert(0, "not analysed yet")
    reason = " · ".join(texts) if texts else "close to your taste"
    return Recommendation(int(ix.track_ids[j]), float(ctx.blend.score[j]), reason, analysed, parts)


def _history_pieces(ctx: PickContext, j: int, parts: dict, weight: float) -> list[tuple[float, str]]:
    raw = ctx.query.history_raw
    for key in ("user", "session"):
        if key in raw:
            parts[f"history_{key}"] = float(raw[key][j])
    S = raw.get("S", np.zeros(0, np.int64))
    other, jac = ctx.history.session_partner(j, S)
    if other >= 0:
        parts["history_with"] = {"track_id": int(ctx.index.track_ids[other]), "title": ctx.index.titles[other],
                                 "jaccard": round(jac, 4)}
        return [(weight, f"often played with {ctx.title(other)}")]
    if ctx.history.played_by(ctx.listener.user_id, j):
        return [(weight, "you played it before")]
    if S.size and np.any(S == j):
        return []  # in the listener's songs only through their stars, said above
    return [(weight, "played by listeners with your taste")]


def explain_cold_start(index: LibraryIndex, popularity: np.ndarray, picks: list[int]) -> list[Recommendation]:
    """The starter list's reasons: the kind (strongest label) each song stands for."""
    dominant, strength = index.strongest_labels
    out = []
    for j in picks:
        d = int(dominant[j])
        parts = {"cold_start": True, "popularity": float(popularity[j])}
        score = 0.0
        if d >= 0:
            label = index.label_names[d]
            parts["top_labels"] = [label]
            reason = f"a strong “{label}” pick to start with — rate songs to personalise"
            score = float(strength[j])
        elif index.analysed[j]:
            reason = "a pick to start with — rate songs to personalise"
        else:
            reason = "not analysed yet — a pick to start with; rate songs to personalise"
        out.append(Recommendation(int(index.track_ids[j]), score, reason, bool(index.analysed[j]), parts))
    return out


def explain_similar(index: LibraryIndex, j: int, top: np.ndarray, sim: Similarity) -> list[Recommendation]:
    """"More like this" reasons: how alike (and which labels they share), or same album / artist."""
    qrow = index.row_dense(j) if index.has_labels[j] else None
    out = []
    for i in top:
        parts = {"basis": sim.basis, "similarity": float(sim.values[i])}
        if sim.basis == "metadata":
            reason = "same album" if index.same_album(i, j) else "same artist"
        else:
            shared = index.top_labels(i, qrow) if qrow is not None else []
            parts["shared_labels"] = shared
            what = "sounds alike" if sim.basis == "embedding" else "similar labels"
            reason = f"{what} ({sim.values[i]:.2f})" + (f" · shares {', '.join(shared)}" if shared else "")
        if not index.analysed[i]:
            reason = "not analysed yet · " + reason
        out.append(Recommendation(int(index.track_ids[i]), float(sim.values[i]), reason, bool(index.analysed[i]),
                                  parts))
    return out

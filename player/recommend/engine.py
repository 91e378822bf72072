"""The recommender: label profiles, embeddings, history and mood blended into an up-next list.

:class:`Recommender` is a small façade over the parts (see docs/recommender.md for the formulas):

* :mod:`player.recommend.index` -- the library as an immutable index (TF-IDF label vectors X, unit
  song vectors E of the one similarity space, :mod:`player.recommend.space`, artist/album codes) and the
  similarity of a song to every song;
* :mod:`player.recommend.profiles` -- each listener's label profile, taste and artist affinity;
* :mod:`player.recommend.history` -- plays and co-occurrence (seed 002's collaborative filtering);
* :mod:`player.recommend.scoring` -- the blend of those terms over every song;
* :mod:`player.recommend.selection` -- the greedy pick under exclusions and run limits, the cold start;
* :mod:`player.recommend.explain` -- a one-line reason per song.

Its state is one immutable :class:`RecommenderState` (the index, the profiles and the history built
from one load), swapped whole by :meth:`Recommender.reload` and :meth:`Recommender.update_settings`.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

import numpy as np

from player.recommend.data import LibraryArrays, LibrarySource, MemorySource
from player.recommend.explain import (
    PickContext,
    Recommendation,
    explain_cold_start,
    explain_pick,
    explain_similar,
)
from player.recommend.history import HistoryState
from player.recommend.index import DEFAULT_MOOD_QUERY, MOOD_QUERIES, LibraryIndex, RecommendError, build_index
from player.recommend.profiles import Listener, Profiles
from player.recommend.scoring import Query, blend
from player.recommend.selection import cold_order, run_context, select
from player.recommend.settings import RecommendSettings
from player.recommend.vectors import cosine_to_rows

__all__ = ["Recommender", "Recommendation", "RecommendError", "RecommenderState"]

_BLAS = None


def _one_blas_thread():
    """Small matrix-vector products run fastest on one BLAS thread, and do not fight the audio and
    analysis threads for the cores; threadpoolctl (a scikit-learn dependency) sets that per call."""
    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController()
        except Exception:  # not installed: numpy's default threading
            _BLAS = False
    if _BLAS is False:
        return contextlib.nullcontext()
    return _BLAS.limit(limits=1, user_api="blas")


@dataclass(frozen=True, eq=False)
class RecommenderState:
    """Everything one load of the library built: swapped whole, never patched."""

    settings: RecommendSettings
    index: LibraryIndex
    profiles: Profiles
    history: HistoryState

    @classmethod
    def build(cls, arrays: LibraryArrays, settings: RecommendSettings) -> "RecommenderState":
        index = build_index(arrays)
        profiles = Profiles.from_arrays(index, settings, arrays.rating_user, arrays.rating_track,
                                        arrays.rating_stars)
        return cls(settings, index, profiles, HistoryState(index, profiles, arrays.plays))

    def with_settings(self, settings: RecommendSettings) -> "RecommenderState":
        """The same library, ratings and plays under new settings (profiles and history rebuilt on use)."""
        profiles = self.profiles.with_settings(settings)
        return RecommenderState(settings, self.index, profiles, self.history.with_profiles(profiles))


class Recommender:
    """Seed 002's content recommender and co-occurrence history plus seed 000's embedding similarity.

    Build it once with :meth:`from_library` (or :meth:`from_arrays`), call :meth:`reload` after an
    import or analysis, and :meth:`on_rating_changed` after a rating. Queries are thread-safe.
    """

    def __init__(self, source, settings: RecommendSettings | None = None, mood_query: str = DEFAULT_MOOD_QUERY):
        if mood_query not in MOOD_QUERIES:
            raise ValueError(f"unknown mood query {mood_query!r} (one of {', '.join(MOOD_QUERIES)})")
        self.mood_query = mood_query  # how a mood becomes a query (LibraryIndex.mood_query)
        self._source = source
        self._lock = threading.RLock()
        self._state = RecommenderState.build(self._load(), settings or RecommendSettings())

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def from_library(cls, library, settings: RecommendSettings | None = None, space: str = "joint",
                     mood_query: str = DEFAULT_MOOD_QUERY) -> "Recommender":
        """``space``: the similarity space (:mod:`player.recommend.space`; 'raw' is for the evaluation);
        ``mood_query``: 'tags' (the mood as a direction in the tag block) or 'labels' (seed 002's label query,
        for the evaluation)."""
        return cls(LibrarySource(library, space), settings, mood_query)

    @classmethod
    def from_arrays(cls, arrays: LibraryArrays, settings: RecommendSettings | None = None,
                    mood_query: str = DEFAULT_MOOD_QUERY) -> "Recommender":
        return cls(MemorySource(arrays), settings, mood_query)

    def _load(self) -> LibraryArrays:
        with _one_blas_thread():
            return self._source.load()

    def reload(self) -> None:
        """Read everything again (after an import or an analysis run).

        The slow part (reading the database, building the matrices) runs without the lock, so
        queries from other threads keep being answered from the old state until the new one is
        swapped in. Call it from a worker thread in the GUI (about 3 s at 100,000 songs).
        """
        with _one_blas_thread():
            fresh = RecommenderState.build(self._source.load(), self.settings)
        with self._lock:
            self._state = fresh

    def update_settings(self, settings: RecommendSettings) -> None:
        """Use new settings; profiles and history are rebuilt lazily, the library is not re-read."""
        with self._lock:
            self._state = self._state.with_settings(settings)

    # -- what it holds -------------------------------------------------------------------------
    @property
    def source(self):
        return self._source

    @property
    def state(self) -> RecommenderState:
        """The current state (immutable: hold it to answer several questions from one load)."""
        return self._state

    @property
    def settings(self) -> RecommendSettings:
        return self._state.settings

    @property
    def index(self) -> LibraryIndex:
        return self._state.index

    track_ids = property(lambda self: self._state.index.track_ids, doc="int64[T], ascending: positions order")
    n_tracks = property(lambda self: self._state.index.n_tracks)
    label_names = property(lambda self: self._state.index.label_names)
    idf = property(lambda self: self._state.index.idf)
    X = property(lambda self: self._state.index.X, doc="unit TF-IDF label vectors (CSR, T x L)")
    E = property(lambda self: self._state.index.E, doc="unit song vectors (T x D), zero rows where none")

    def position(self, track_id: int) -> int:
        """The position of a track id, or :class:`RecommendError`."""
        return self._state.index.position(track_id)

    def _known_or_new(self, index: LibraryIndex, track_id: int) -> int:
        """The position of a track; -1 for a track imported since the last :meth:`reload` (the library
        has it, the index not yet); :class:`RecommendError` for a track the library does not have."""
        pos = int(index.positions(np.array([int(track_id)]))[0])
        if pos >= 0:
            return pos
        if self._source.has_track(int(track_id)):
            return -1
        raise RecommendError(f"no track with id {track_id} in the library")

    def nbytes(self) -> int:
        """Bytes held in the recommender's arrays (not counting titles and names)."""
        st = self._state
        return st.index.nbytes() + st.history.nbytes()

    # -- listeners -----------------------------------------------------------------------------
    def on_rating_changed(self, user_id: int) -> None:
        """Re-read one listener's ratings and rebuild their profile (a few ms at 100k songs)."""
        with self._lock, _one_blas_thread():
            st = self._state
            st.profiles.set_ratings(int(user_id), *self._source.ratings_for(int(user_id)))
            st.history.ratings_changed()

    def listener(self, user_id: int) -> Listener:
        """A listener's profile (label profile, taste, affinities, liked and disliked songs)."""
        with self._lock, _one_blas_thread():
            return self._state.profiles.listener(user_id)

    def profile_scores(self, user_id: int) -> np.ndarray:
        """cosine(label profile, song) for every song (positions order); 0 where undefined.

        In ``seed`` mode this is exactly seed 002's ``constructCosineSimilarity`` score.
        """
        with self._lock, _one_blas_thread():
            st = self._state
            return cosine_to_rows(st.index.X, st.profiles.listener(user_id).profile)

    def label_profile(self, user_id: int, top: int | None = None) -> list[tuple[str, float]]:
        """The listener's label profile as (label, weight), strongest first."""
        with self._lock:
            return self._state.profiles.label_profile(user_id, top)

    def match_labels(self, labels) -> list[str]:
        """The given labels that this library knows (case-insensitive), in the library's spelling: its songs'
        labels, then the tagger's tags its songs have probabilities of (a mood or a tag query reads both,
        a hidden tag included)."""
        index = self._state.index
        known = index.match_labels(labels)
        folded = {x.casefold() for x in known}
        return known + [t for t in index.match_tags(labels) if t.casefold() not in folded]

    def match_mood(self, labels) -> list[str]:
        """The mood tags (or, with seed 002's label query, labels) a mood of these labels would use here."""
        return self._state.index.mood_query(labels, self.mood_query)[2] if labels else []

    def history_scores(self, user_id: int) -> np.ndarray:
        """The listener's history score in [0, 1] for every song (positions order; 0 without history)."""
        with self._lock, _one_blas_thread():
            st = self._state
            st.history.sync(self._source)
            h, _raw = st.history.scores(user_id)
            return np.zeros(st.index.n_tracks) if h is None else h.copy()

    def similarity_to(self, track_id: int) -> np.ndarray:
        """How close every song is to a track (positions order): the embedding cosine, as "more like
        this" ranks; NaN where it is not defined (a song without an embedding)."""
        with self._lock, _one_blas_thread():
            index = self._state.index
            sim = index.similarity_to(index.position(track_id), self.settings.similar_label_weight)
            return np.where(sim.known, sim.values, np.nan)

    # -- queries -------------------------------------------------------------------------------
    def up_next(
        self,
        user_id: int,
        *,
        after_track_id: int | None = None,
        mood_labels=None,
        n: int = 10,
        exclude_ids=(),
        mood_name: str | None = None,
        mood_query: str | None = None,
    ) -> list[Recommendation]:
        """The next ``n`` songs for a listener, best first, each with a one-line reason. ``mood_labels``: the
        mood's tags (:func:`player.mood.mapping.lookup`); ``mood_query``: how they become a query (None: this
        recommender's, :attr:`mood_query`)."""
        n = int(n)
        how = mood_query or self.mood_query
        if how not in MOOD_QUERIES:
            raise ValueError(f"unknown mood query {how!r} (one of {', '.join(MOOD_QUERIES)})")
        with self._lock, _one_blas_thread():
            st = self._state
            if n <= 0 or st.index.n_tracks == 0:
                return []
            return self._up_next(st, int(user_id), after_track_id, mood_labels, n, exclude_ids, mood_name, how)

    def _eligible(self, st: RecommenderState, lst: Listener, current: int, exclude_ids) -> np.ndarray:
        """Playable songs, minus the current song, the listener's recent plays, their dislikes and
        ``exclude_ids``."""
        index = st.index
        eligible = index.ok.copy()
        blocked = [index.positions(self._source.recent(lst.user_id, st.settings.recent_window)), lst.disliked_pos]
        if exclude_ids is not None and len(exclude_ids):
            blocked.append(index.positions(np.fromiter((int(x) for x in exclude_ids), np.int64)))
        if current >= 0:
            blocked.append(np.array([current]))
        for b in blocked:
            eligible[b[b >= 0]] = False
        return eligible

    def _up_next(self, st, user_id, after_track_id, mood_labels, n, exclude_ids, mood_name, mood_query):
        s, index = st.settings, st.index
        lst = st.profiles.listener(user_id)
        current = -1 if after_track_id is None else self._known_or_new(index, after_track_id)
        eligible = self._eligible(st, lst, current, exclude_ids)
        basis, mood_unit, mood_used = index.mood_query(mood_labels, mood_query) if mood_labels else ("labels", None, [])
        query = Query(current=current, mood_unit=mood_unit, mood_used=tuple(mood_used), mood_name=mood_name,
                      mood_basis=basis)
        if s.weight_history > 0:
            st.history.sync(self._source)
            h, raw = st.history.scores(user_id)
            query = Query(current, mood_unit, tuple(mood_used), mood_name, h, raw, basis)
        before = run_context(index, s, self._source, user_id, current)
        scored = blend(index, s, lst, query)
        if scored is None:  # nothing personal to go on: the starter list
            popularity = st.history.current().popularity
            order = st.history.derived("cold_order", lambda h: cold_order(index, h.popularity))
            picks = select(index, s, None, eligible, n, before, lst.familiar(index.n_tracks), order=order)
            return explain_cold_start(index, popularity, picks)
        familiar = lst.familiar(index.n_tracks)
        familiar[query.history_raw.get("S", np.zeros(0, np.int64))] = True
        picks = select(index, s, scored.score, eligible, n, before, familiar)
        ctx = PickContext(index, s, lst, st.history, scored, query)
        return [explain_pick(ctx, j) for j in picks]

    def similar(self, track_id: int, n: int = 10) -> list[Recommendation]:
        """The ``n`` songs whose embeddings are closest (cosine) to the track's (seed 000)."""
        n = int(n)
        with self._lock, _one_blas_thread():
            index = self._state.index
            j = self._known_or_new(index, track_id)
            if n <= 0 or j < 0:  # j < 0: imported after the last reload, nothing known about it yet
                return []
            sim = index.similarity_to(j, self.settings.similar_label_weight)
            masked = np.where(sim.known & index.ok, sim.values, -np.inf)
            masked[j] = -np.inf
            T = index.n_tracks
            k = min(n, T)
            idx = np.argpartition(masked, T - k)[T - k:] if k < T else np.arange(T)
            idx = idx[np.isfinite(masked[idx])]
            if idx.size == 0:
                return []
            top = idx[np.lexsort((index.track_ids[idx], -masked[idx]))]
            return explain_similar(index, j, top, sim)

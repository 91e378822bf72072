"""The recommender: label profiles, embeddings, history and mood blended into an up-next list.

Everything is held as flat arrays indexed by a track's *position* (its rank in ascending id order):

* ``X``  float64 CSR ``T x L``: unit TF-IDF label vectors (seed 002), zero rows for unlabelled songs;
* ``E``  float32 ``T x D``: unit embeddings (seed 000), zero rows for songs without one;
* artist / album codes, the 'ok' status, the listener's ratings and the plays.

A query is a handful of matrix-vector products over all songs, a weighted blend, one
``argpartition`` and a greedy pass over the best few dozen that applies the exclusions and run limits.
See docs/recommender.md for the formulas.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field

import numpy as np

from player.recommend.data import LibraryArrays, LibrarySource, MemorySource, PLAY_DTYPE
from player.recommend.history import (
    ListenerCooccurrence,
    best_cooccurring,
    incidence,
    jaccard_sparse,
    sessions_from_plays,
)
from player.recommend.settings import RecommendSettings
from player.recommend.vectors import (
    cosine_to_rows,
    normalise_rows,
    profile_weights,
    tfidf_matrix,
    unit,
    weighted_row_sum,
)


class RecommendError(LookupError):
    """An unknown track or listener, explained in one line."""


@dataclass(frozen=True)
class Recommendation:
    track_id: int
    score: float
    reason: str  # one short line for the GUI
    analysed: bool  # False: the song has no labels/embedding yet and was placed by what is known
    parts: dict = field(default_factory=dict)  # component scores and the contributors behind the reason


@dataclass
class _Listener:
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


def _shorten(text: str, limit: int = 28) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class Recommender:
    """Seed 002's content recommender and co-occurrence history plus seed 000's embedding similarity.

    Build it once with :meth:`from_library` (or :meth:`from_arrays`), call :meth:`reload` after an
    import or analysis, and :meth:`on_rating_changed` after a rating. Queries are thread-safe.
    """

    def __init__(self, source, settings: RecommendSettings | None = None):
        self.settings = settings or RecommendSettings()
        self._source = source
        self._lock = threading.RLock()
        self.reload()

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def from_library(cls, library, settings: RecommendSettings | None = None) -> "Recommender":
        return cls(LibrarySource(library), settings)

    @classmethod
    def from_arrays(cls, arrays: LibraryArrays, settings: RecommendSettings | None = None) -> "Recommender":
        return cls(MemorySource(arrays), settings)

    @property
    def source(self):
        return self._source

    def reload(self) -> None:
        """Read everything again (after an import or an analysis run).

        The slow part (reading the database, building the matrices) runs without the lock, so
        queries from other threads keep being answered from the old state until the new one is
        swapped in. Call it from a worker thread in the GUI (about 3 s at 100,000 songs).
        """
        fresh = object.__new__(type(self))
        fresh.settings = self.settings
        fresh._source = self._source
        with _one_blas_thread():
            fresh._build(self._source.load())
        with self._lock:
            self.__dict__.update(fresh.__dict__)

    def update_settings(self, settings: RecommendSettings) -> None:
        """Use new settings; profiles and history are rebuilt lazily, the library is not re-read."""
        with self._lock:
            self.settings = settings
            self._listeners = {}
            self._history_dirty = True
            self._plays_dirty = True
            self._history_cache = {}
            self._cold_order = None

    def _build(self, a: LibraryArrays) -> None:
        s = self.settings
        self.track_ids = a.track_ids
        T = self.n_tracks = len(a.track_ids)
        self.titles = a.titles
        self.artists = a.artists
        self.albums = a.albums
        self.paths = a.paths
        self.ok = a.ok
        self.users = dict(a.users)

        # labels -> TF-IDF (seed 002)
        lpos = self._positions_or_minus(a.lab_track)
        keep = lpos >= 0
        self.label_names = list(a.label_names)
        self._label_index = {name.casefold(): i for i, name in enumerate(self.label_names)}
        self.X, self.idf, self.df = tfidf_matrix(
            lpos[keep], a.lab_label[keep], a.lab_count[keep], T, len(self.label_names)
        )
        self.has_labels = np.diff(self.X.indptr) > 0  # a non-zero label vector
        self._unlabelled = np.flatnonzero(~self.has_labels)
        self._n_labelled = int(self.has_labels.sum())
        self._X_colsum = np.asarray(self.X.sum(axis=0), dtype=np.float64).ravel()  # mean cosine = colsum.q / n

        # embeddings (seed 000)
        D = a.embeddings.shape[1] if a.embeddings.ndim == 2 else 32
        E = np.zeros((T, D), dtype=np.float32)
        epos = self._positions_or_minus(a.emb_track)
        ek = epos >= 0
        E[epos[ek]] = a.embeddings[ek]
        self.E, self.has_emb = normalise_rows(E)
        del E
        self._no_embedding = np.flatnonzero(~self.has_emb)
        self._n_embedded = int(self.has_emb.sum())
        self._E_colsum = self.E.sum(axis=0, dtype=np.float64).astype(np.float32)
        analysed = self.has_labels | self.has_emb
        if a.analysed_ids is not None and len(a.analysed_ids):
            apos = self._positions_or_minus(a.analysed_ids)
            analysed[apos[apos >= 0]] = True
        self.analysed = analysed

        # artists and albums as integer codes; -1 (no tag) never forms a run
        self.artist_code, self.n_artists = self._codes(
            [x.casefold().strip() if x and x.strip() else None for x in a.artists]
        )
        self.album_code, self.n_albums = self._codes(
            [
                ((aa or "").casefold().strip(), al.casefold().strip()) if al and al.strip() else None
                for aa, al in zip(a.album_artists, a.albums)
            ]
        )
        self._artist_slot = np.where(self.artist_code < 0, self.n_artists, self.artist_code)
        self._album_slot = np.where(self.album_code < 0, self.n_albums, self.album_code)

        # ratings of everybody (for history), per listener (for profiles)
        rpos = self._positions_or_minus(a.rating_track)
        rk = rpos >= 0
        self._all_ratings: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        ru, rp, rs = a.rating_user[rk], rpos[rk], a.rating_stars[rk]
        for uid in np.unique(ru):
            m = ru == uid
            self._all_ratings[int(uid)] = (rp[m], rs[m])
        self._listeners: dict[int, _Listener] = {}

        # plays (history)
        self._plays = a.plays.copy() if len(a.plays) else np.zeros(0, dtype=PLAY_DTYPE)
        self._last_play_id = int(self._plays["id"].max()) if len(self._plays) else 0
        self._history_dirty = True
        self._plays_dirty = True
        self._history_cache: dict[int, tuple[np.ndarray, dict]] = {}
        self._cold_order = None
        self._label_strength = None

    def _codes(self, keys: list) -> tuple[np.ndarray, int]:
        table: dict = {}
        out = np.fromiter((-1 if k is None else table.setdefault(k, len(table)) for k in keys), np.int64, len(keys))
        return out, len(table)

    def _positions_or_minus(self, ids) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        if not len(self.track_ids) or not ids.size:
            return np.full(ids.shape, -1, dtype=np.int64)
        pos = np.searchsorted(self.track_ids, ids)
        pos = np.minimum(pos, len(self.track_ids) - 1)
        return np.where(self.track_ids[pos] == ids, pos, -1)

    def position(self, track_id: int) -> int:
        """The position of a track id, or :class:`RecommendError`."""
        pos = int(self._positions_or_minus(np.array([int(track_id)]))[0])
        if pos < 0:
            raise RecommendError(f"no track with id {track_id} in the library")
        return pos

    def _known_or_new(self, track_id: int) -> int:
        """The position of a track; -1 for a track imported since the last :meth:`reload` (the library
        has it, the arrays not yet); :class:`RecommendError` for a track the library does not have."""
        pos = int(self._positions_or_minus(np.array([int(track_id)]))[0])
        if pos >= 0:
            return pos
        if self._source.has_track(int(track_id)):
            return -1
        raise RecommendError(f"no track with id {track_id} in the library")

    # -- listeners -----------------------------------------------------------------------------
    def on_rating_changed(self, user_id: int) -> None:
        """Re-read one listener's ratings and rebuild their profile (a few ms at 100k songs)."""
        with self._lock, _one_blas_thread():
            ids, stars = self._source.ratings_for(int(user_id))
            pos = self._positions_or_minus(ids)
            k = pos >= 0
            self._all_ratings[int(user_id)] = (pos[k], np.asarray(stars)[k])
            self._listeners[int(user_id)] = self._make_listener(int(user_id))
            self._history_dirty = True

    def _listener(self, user_id: int) -> _Listener:
        user_id = int(user_id)
        lst = self._listeners.get(user_id)
        if lst is None:
            lst = self._listeners[user_id] = self._make_listener(user_id)
        return lst

    def _make_listener(self, user_id: int) -> _Listener:
        s = self.settings
        pos, stars = self._all_ratings.get(user_id, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        stars = np.clip(np.asarray(stars, np.int64), 1, 5)
        # label profile: only songs with a label vector take part (as the seed's inner merge)
        lab = self.has_labels[pos]
        w = profile_weights(stars[lab], s.mode, s.star_weights, s.dislike_weight)
        profile = weighted_row_sum(self.X, pos[lab], w)
        profile_unit, profile_norm = unit(profile)
        # embedding profile, the same weights over the songs with an embedding
        emb = self.has_emb[pos]
        we = profile_weights(stars[emb], s.mode, s.star_weights, s.dislike_weight)
        taste = weighted_row_sum(self.E, pos[emb], we)
        taste_unit, taste_norm = unit(taste)
        # the listener's stars per artist and album, mean star weight in [-1, 1]
        sw = np.asarray(s.star_weights, dtype=np.float64)[stars - 1] if stars.size else np.zeros(0)
        scale = max(1e-12, float(np.max(np.abs(s.star_weights))))
        art = self._affinity(self._artist_slot[pos], sw / scale, self.n_artists)
        alb = self._affinity(self._album_slot[pos], sw / scale, self.n_albums)
        liked, disliked = self._liked_disliked(pos, stars)
        return _Listener(
            user_id=user_id,
            rated_pos=pos,
            stars=stars,
            profile=profile,
            profile_unit=profile_unit,
            profile_norm=profile_norm,
            taste_unit=taste_unit.astype(np.float32),
            taste_norm=taste_norm,
            artist_vec=(0.5 * (art[self._artist_slot] + alb[self._album_slot]))
            if (np.any(art[:-1] != 0) or np.any(alb[:-1] != 0))
            else None,
            liked_pos=liked,
            disliked_pos=disliked,
        )

    def _liked_disliked(self, pos: np.ndarray, stars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rated songs a listener likes (a positive star weight; in ``seed`` mode anything above
        the dislike threshold) and those they dislike (at or below the threshold)."""
        s = self.settings
        stars = np.clip(np.asarray(stars, np.int64), 1, 5)
        if s.mode == "stars":
            liked = np.asarray(s.star_weights)[stars - 1] > 0
        else:
            liked = stars > s.dislike_threshold
        return pos[liked], pos[stars <= s.dislike_threshold]

    @staticmethod
    def _affinity(slots: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
        total = np.bincount(slots, weights=values, minlength=n + 1)
        count = np.bincount(slots, minlength=n + 1)
        out = np.divide(total, count, out=np.zeros(n + 1), where=count > 0)
        out[n] = 0.0  # songs without an artist/album tag share nothing
        return out

    def profile_scores(self, user_id: int) -> np.ndarray:
        """cosine(label profile, song) for every song (positions order); 0 where undefined.

        In ``seed`` mode this is exactly seed 002's ``constructCosineSimilarity`` score.
        """
        with self._lock, _one_blas_thread():
            lst = self._listener(user_id)
            return cosine_to_rows(self.X, lst.profile)

    def label_profile(self, user_id: int, top: int | None = None) -> list[tuple[str, float]]:
        """The listener's label profile as (label, weight), strongest first."""
        with self._lock:
            p = self._listener(user_id).profile
            order = np.argsort(-np.abs(p), kind="stable")
            order = order[p[order] != 0]
            if top is not None:
                order = order[:top]
            return [(self.label_names[i], float(p[i])) for i in order]

    def match_labels(self, labels) -> list[str]:
        """The given labels that this library knows (case-insensitive), in the library's spelling."""
        out = []
        for label in labels or ():
            i = self._label_index.get(str(label).strip().casefold())
            if i is not None and self.label_names[i] not in out:
                out.append(self.label_names[i])
        return out

    def _mood_vector(self, labels) -> tuple[np.ndarray, list[str]]:
        """Seed 002's mood query: the mood labels as a TF-IDF vector (TF = 1 each), unit length."""
        names = self.match_labels(labels)
        v = np.zeros(len(self.label_names), dtype=np.float64)
        for name in names:
            i = self._label_index[name.casefold()]
            v[i] = self.idf[i] if self.idf[i] > 0 else 1e-6
        return unit(v)[0], names

    # -- history -------------------------------------------------------------------------------
    def _sync_plays(self) -> None:
        new = self._source.plays_since(self._last_play_id)
        if len(new):
            self._plays = np.concatenate([self._plays, np.asarray(new, dtype=PLAY_DTYPE)])
            self._last_play_id = int(self._plays["id"].max())
            self._history_dirty = True
            self._plays_dirty = True

    def _rebuild_history(self) -> None:
        """Listener baskets (plays and ratings) always; session baskets only when plays changed."""
        s = self.settings
        T = self.n_tracks
        p = self._plays
        if self._plays_dirty:
            ppos = self._positions_or_minus(p["track"]) if len(p) else np.zeros(0, np.int64)
            positive = (ppos >= 0) & ((p["skipped"] == 0) | (p["seconds"] >= s.min_play_seconds))
            self._positive_plays = (p["user"][positive], ppos[positive])
            # session baskets: positive plays grouped into listening sessions
            if positive.any():
                sess = sessions_from_plays(p["user"][positive], p["started_at"][positive], s.session_gap_s)
                self._sessions = incidence(sess, ppos[positive], int(sess.max()) + 1, T)
            else:
                self._sessions = incidence(np.zeros(0, np.int64), np.zeros(0, np.int64), 0, T)
            self._sessions_csr = self._sessions.tocsr()
            self._plays_dirty = False
        play_user, play_pos = self._positive_plays
        users = np.array(
            sorted(set(self.users) | set(self._all_ratings) | set(np.unique(play_user).tolist())), dtype=np.int64
        )
        self._basket_of_user = {int(u): i for i, u in enumerate(users)}
        # listener baskets: positive plays and liked ratings, minus disliked songs
        bu = [np.searchsorted(users, play_user)]
        bi = [play_pos]
        dis_keys = []
        for u, (pos, stars) in self._all_ratings.items():
            good, bad = self._liked_disliked(pos, stars)
            bu.append(np.full(good.size, self._basket_of_user[u], np.int64))
            bi.append(good)
            dis_keys.append(self._basket_of_user[u] * np.int64(T + 1) + bad)
        ub = np.concatenate(bu)
        ui = np.concatenate(bi)
        if dis_keys and ub.size:
            dk = np.concatenate(dis_keys)
            drop = np.isin(ub * np.int64(T + 1) + ui, dk)
            ub, ui = ub[~drop], ui[~drop]
        self._listener_baskets = (ub, ui)
        self._cooc_users = ListenerCooccurrence(T, ub, ui, len(self._basket_of_user))
        counts = np.bincount(ui, minlength=T) if ui.size else np.zeros(T, np.int64)
        self._popularity = counts.astype(np.float64)
        self._history_cache = {}
        self._cold_order = None
        self._history_dirty = False

    def _history(self, user_id: int) -> tuple[np.ndarray | None, dict]:
        """The listener's history score in [0, 1] (None: no history) and the raw parts."""
        self._sync_plays()
        if self._history_dirty:
            self._rebuild_history()
        cached = self._history_cache.get(int(user_id))
        if cached is not None:
            return cached
        s = self.settings
        basket = self._basket_of_user.get(int(user_id), -1)
        ub, ui = self._listener_baskets
        S = np.unique(ui[ub == basket]) if basket >= 0 else np.zeros(0, np.int64)
        raw = {"S": S}
        pieces = []
        if S.size and s.history_unit in ("user", "user+session"):
            hu = self._cooc_users.scores(basket)
            raw["user"] = hu
            if hu.max() > 0:
                pieces.append(hu / hu.max())
        if S.size and s.history_unit in ("session", "user+session"):
            hs = jaccard_sparse(self._sessions, S, B_csr=self._sessions_csr)
            raw["session"] = hs
            if hs.max() > 0:
                pieces.append(hs / hs.max())
        h = None
        if pieces:
            h = pieces[0] if len(pieces) == 1 else np.mean(pieces, axis=0)
        self._history_cache[int(user_id)] = (h, raw)
        return h, raw

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
    ) -> list[Recommendation]:
        """The next ``n`` songs for a listener, best first, each with a one-line reason."""
        n = int(n)
        if n <= 0 or self.n_tracks == 0:
            return []
        with self._lock, _one_blas_thread():
            return self._up_next(int(user_id), after_track_id, mood_labels, n, exclude_ids, mood_name)

    def _up_next(self, user_id, after_track_id, mood_labels, n, exclude_ids, mood_name):
        s = self.settings
        T = self.n_tracks
        lst = self._listener(user_id)
        current = -1 if after_track_id is None else self._known_or_new(after_track_id)

        # -- what may come next
        eligible = self.ok.copy()
        recent_ids = self._source.recent(user_id, s.recent_window)
        blocked = [self._positions_or_minus(recent_ids), lst.disliked_pos]
        if exclude_ids is not None and len(exclude_ids):
            blocked.append(self._positions_or_minus(np.fromiter((int(x) for x in exclude_ids), np.int64)))
        if current >= 0:
            blocked.append(np.array([current]))
        for b in blocked:
            b = b[b >= 0]
            eligible[b] = False

        # -- the components. The blend is linear, so the label terms (profile, mood) fold into one
        # query over X and the embedding terms (current song, taste) into one over E: two
        # matrix-vector products score every song. comps: name -> (weight, value of song j,
        # known mask or None, mean over the songs where it is known).
        comps: dict[str, tuple] = {}
        label_terms, emb_terms, vec_terms = [], [], []
        if lst.profile_norm > 0 and s.weight_profile > 0:
            label_terms.append(("profile", s.weight_profile, lst.profile_unit))
        mood_unit, mood_used = self._mood_vector(mood_labels) if mood_labels else (None, [])
        if mood_used and s.weight_mood > 0:
            label_terms.append(("mood", s.weight_mood, mood_unit))
        if current >= 0 and self.has_emb[current] and s.weight_embedding > 0:
            emb_terms.append(("embedding", s.weight_embedding, self.E[current]))
        if lst.taste_norm > 0 and s.weight_taste_embedding > 0:
            emb_terms.append(("taste_embedding", s.weight_taste_embedding, lst.taste_unit))
        hist, hist_raw = (None, {"S": np.zeros(0, np.int64)})
        if s.weight_history > 0:
            hist, hist_raw = self._history(user_id)
            if hist is not None:
                vec_terms.append(("history", s.weight_history, hist))
        if lst.artist_vec is not None and s.weight_artist > 0:
            vec_terms.append(("artist", s.weight_artist, lst.artist_vec))

        if not (label_terms or emb_terms or any(name == "history" for name, _, _ in vec_terms)):
            return self._cold_start(lst, eligible, current, n)

        total_w = sum(w for _, w, _ in label_terms + emb_terms + vec_terms)
        score = np.zeros(T, dtype=np.float64)
        if label_terms:
            q = sum((w / total_w) * v for _, w, v in label_terms)
            score = np.asarray(self.X @ q, dtype=np.float64).ravel()
            score[self._unlabelled] = float(self._X_colsum @ q) / max(1, self._n_labelled)
            for name, w, v in label_terms:
                comps[name] = (w, self._label_value(v), self.has_labels,
                               float(self._X_colsum @ v) / max(1, self._n_labelled))
        if emb_terms:
            q = sum((w / total_w) * np.asarray(v, np.float32) for _, w, v in emb_terms).astype(np.float32)
            part = self.E @ q
            part[self._no_embedding] = float(self._E_colsum @ q) / max(1, self._n_embedded)
            score += part
            for name, w, v in emb_terms:
                comps[name] = (w, self._emb_value(v), self.has_emb,
                               float(self._E_colsum @ v) / max(1, self._n_embedded))
        for name, w, v in vec_terms:
            score += (w / total_w) * v
            comps[name] = (w, v.__getitem__, None, 0.0)

        familiar = np.zeros(T, dtype=bool)
        familiar[lst.rated_pos] = True
        familiar[hist_raw.get("S", np.zeros(0, np.int64))] = True
        picks = self._select(score, eligible, n, lst, current, familiar=familiar)
        return [
            self._explain_pick(j, score[j], comps, total_w, lst, current, mood_unit, mood_used, mood_name, hist_raw)
            for j in picks
        ]

    def _label_value(self, q: np.ndarray):
        def value(j: int) -> float:
            cols, vals = self._row(j)
            return float(vals @ q[cols])

        return value

    def _emb_value(self, q: np.ndarray):
        return lambda j: float(self.E[j] @ q)

    # -- selection with exclusions and run limits --------------------------------------------
    def _run_context(self, user_id: int, current: int) -> list[int]:
        if current >= 0:
            return [current]
        recent = self._positions_or_minus(self._source.recent(user_id, max(self.settings.max_artist_run, self.settings.max_album_run)))
        return [int(x) for x in recent[::-1] if x >= 0]

    def _select(self, score: np.ndarray, eligible: np.ndarray, n: int, lst: _Listener, current: int,
                order: np.ndarray | None = None, familiar: np.ndarray | None = None) -> list[int]:
        """The best ``n`` eligible songs, greedily, under the artist/album run limits and the cap on
        familiar songs. ``order`` (a precomputed ranking) replaces ``score`` when given."""
        s = self.settings
        cand = np.flatnonzero(eligible)
        if cand.size == 0:
            return []
        if familiar is None:
            familiar = np.zeros(self.n_tracks, dtype=bool)
            familiar[lst.rated_pos] = True
        max_familiar = int(np.ceil(n * s.max_familiar_fraction))
        history = self._run_context(lst.user_id, current)
        T = self.n_tracks
        k = min(cand.size, 4 * n + 64 + int(np.count_nonzero(familiar)))
        masked = None
        while True:
            if order is not None:
                top = order[eligible[order]][:k]
            else:
                if masked is None:
                    masked = np.where(eligible, score, -np.inf)
                idx = np.argpartition(masked, T - k)[T - k:] if k < T else np.arange(T)
                idx = idx[eligible[idx]]
                # best first; ties by track id so results are stable
                top = idx[np.lexsort((self.track_ids[idx], -score[idx]))]
            picks, exhausted = self._greedy(top, n, history, familiar, max_familiar)
            if len(picks) >= n or k >= cand.size or not exhausted:
                break
            k = min(cand.size, k * 4)
        if len(picks) < n:  # e.g. a library of one artist: fill up, ignoring the run limits
            chosen = set(picks)
            n_familiar = int(sum(familiar[p] for p in picks))
            for j in top.tolist():
                if len(picks) >= n:
                    break
                if j in chosen or (familiar[j] and n_familiar >= max_familiar):
                    continue
                picks.append(j)
                chosen.add(j)
                n_familiar += int(familiar[j])
        return picks

    def _greedy(self, top, n, history, familiar, max_familiar) -> tuple[list[int], bool]:
        s = self.settings
        seq = list(history)
        picks: list[int] = []
        deferred: list[int] = []
        n_familiar = 0

        def fits(j):
            for code, limit in ((self.artist_code, s.max_artist_run), (self.album_code, s.max_album_run)):
                c = code[j]
                if c < 0 or len(seq) < limit:
                    continue
                if all(code[x] == c for x in seq[-limit:]):
                    return False
            return True

        it = iter(top.tolist())
        exhausted = False
        while len(picks) < n:
            chosen = None
            if n_familiar >= max_familiar:
                deferred = [j for j in deferred if not familiar[j]]
            for i, j in enumerate(deferred):
                if fits(j):
                    chosen = deferred.pop(i)
                    break
            while chosen is None:
                j = next(it, None)
                if j is None:
                    exhausted = True
                    break
                if familiar[j] and n_familiar >= max_familiar:
                    continue
                if fits(j):
                    chosen = j
                else:
                    deferred.append(j)
            if chosen is None:
                break
            if familiar[chosen]:
                n_familiar += 1
            picks.append(chosen)
            seq.append(chosen)
        return picks, exhausted

    # -- cold start: a listener we know nothing about ------------------------------------------
    def _strongest_labels(self) -> tuple[np.ndarray, np.ndarray]:
        """Every song's strongest label (-1: none) and its weight; computed once per load."""
        if self._label_strength is None:
            T, X = self.n_tracks, self.X
            dominant = np.full(T, -1, dtype=np.int64)
            strength = np.zeros(T, dtype=np.float64)
            if X.nnz:
                sizes = np.diff(X.indptr)
                rows = np.repeat(np.arange(T), sizes)
                filled = np.flatnonzero(sizes > 0)
                rowmax = np.maximum.reduceat(X.data, X.indptr[filled])
                hit = np.flatnonzero(X.data == np.repeat(rowmax, sizes[filled]))
                first = hit[np.r_[True, rows[hit][1:] != rows[hit][:-1]]]  # the first maximum of a row
                dominant[rows[first]] = X.indices[first]
                strength[rows[first]] = X.data[first]
            self._label_strength = (dominant, strength)
        return self._label_strength

    def _ensure_cold_order(self) -> None:
        if self._history_dirty:
            self._rebuild_history()
        if self._cold_order is not None:
            return
        T = self.n_tracks
        dominant, strength = self._strongest_labels()
        pop = self._popularity
        # labels by how many songs have them (most common first), unlabelled songs last
        label_rank = np.r_[np.argsort(np.argsort(-self.df, kind="stable"), kind="stable"), len(self.df)]
        group = label_rank[np.where(dominant >= 0, dominant, len(self.df))]
        # rank inside each group: popular, then strongly labelled, then by id
        inner = np.lexsort((self.track_ids, -strength, -pop, group))
        rank_in_group = np.empty(T, dtype=np.int64)
        starts = np.r_[0, np.flatnonzero(np.diff(group[inner])) + 1]
        sizes = np.diff(np.r_[starts, T])
        rank_in_group[inner] = np.arange(T) - np.repeat(starts, sizes)
        # round robin: the best of each label first, then the second of each …, unlabelled at the end
        self._cold_order = np.lexsort((group, rank_in_group, dominant < 0))

    def _cold_start(self, lst, eligible, current, n) -> list[Recommendation]:
        self._ensure_cold_order()
        dominant, strength = self._strongest_labels()
        picks = self._select(np.zeros(self.n_tracks), eligible, n, lst, current, order=self._cold_order)
        out = []
        for j in picks:
            d = int(dominant[j])
            parts = {"cold_start": True, "popularity": float(self._popularity[j])}
            if d >= 0:
                label = self.label_names[d]
                parts["top_labels"] = [label]
                reason = f"a strong “{label}” pick to start with — rate songs to personalise"
                score = float(strength[j])
            elif self.analysed[j]:
                reason = "a pick to start with — rate songs to personalise"
                score = 0.0
            else:
                reason = "not analysed yet — a pick to start with; rate songs to personalise"
                score = 0.0
            out.append(Recommendation(int(self.track_ids[j]), score, reason, bool(self.analysed[j]), parts))
        return out

    # -- reasons -------------------------------------------------------------------------------
    def _row(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """(label columns, weights) of song ``j``'s TF-IDF vector."""
        a, b = self.X.indptr[j], self.X.indptr[j + 1]
        return self.X.indices[a:b], self.X.data[a:b]

    def _row_dense(self, j: int) -> np.ndarray:
        v = np.zeros(self.X.shape[1], dtype=np.float64)
        cols, vals = self._row(j)
        v[cols] = vals
        return v

    def _top_labels(self, j: int, q: np.ndarray, k: int = 2) -> list[str]:
        cols, vals = self._row(j)
        if cols.size == 0 or q is None:
            return []
        contrib = vals * q[cols]
        order = np.argsort(-contrib, kind="stable")[:k]
        return [self.label_names[cols[i]] for i in order if contrib[i] > 0]

    def _nearest_liked(self, j: int, lst: _Listener) -> tuple[int, float]:
        liked = lst.liked_pos
        if liked.size == 0:
            return -1, 0.0
        if self.has_emb[j] and self.has_emb[liked].any():
            cand = liked[self.has_emb[liked]]
            sims = self.E[cand] @ self.E[j]
        elif self.has_labels[j] and self.has_labels[liked].any():
            cand = liked[self.has_labels[liked]]
            sims = np.asarray(self.X[cand] @ self._row_dense(j)).ravel()
        else:
            return -1, 0.0
        i = int(np.argmax(sims))
        return int(cand[i]), float(sims[i])

    def _title(self, j: int) -> str:
        return f"“{_shorten(self.titles[j])}”"

    def _explain_pick(self, j, total, comps, total_w, lst, current, mood_unit, mood_used, mood_name,
                      hist_raw) -> Recommendation:
        """The score parts of song ``j`` and a one-line reason naming what contributed most."""
        parts: dict = {}
        contrib: dict[str, float] = {}
        filled = []
        for name, (w, value, known, mean) in comps.items():
            if known is not None and not known[j]:
                v = mean
                filled.append(name)
            else:
                v = value(j)
            parts[name] = v
            contrib[name] = (w / total_w) * v
        if filled:
            parts["filled"] = filled
        pieces: list[tuple[float, str]] = []  # (contribution, text)
        analysed = bool(self.analysed[j])
        stars_of = dict(zip(lst.rated_pos.tolist(), lst.stars.tolist()))
        own_stars = stars_of.get(j, 0)
        if own_stars and self.settings.star_weights[own_stars - 1] > 0:
            parts["your_stars"] = own_stars
            pieces.append((sum(contrib.values()), f"your {own_stars}★"))

        if "profile" in comps and "profile" not in filled:
            labels = self._top_labels(j, lst.profile_unit)
            parts["top_labels"] = labels
            if labels:
                pieces.append((contrib["profile"], ", ".join(labels)))
        if ("profile" in comps or "taste_embedding" in comps) and analysed:
            near, sim = self._nearest_liked(j, lst)
            if near >= 0 and near != j:
                parts["nearest_rated"] = {
                    "track_id": int(self.track_ids[near]),
                    "title": self.titles[near],
                    "stars": int(stars_of.get(near, 0)),
                    "similarity": round(sim, 4),
                }
                weight = 0.9 * contrib.get("profile", 0.0) + contrib.get("taste_embedding", 0.0)
                pieces.append((weight, f"like {self._title(near)} {stars_of.get(near, 0)}★"))
        if "mood" in comps and "mood" not in filled:
            labels = self._top_labels(j, mood_unit, k=1)
            parts["mood_labels"] = mood_used
            if labels:  # the listener asked for a mood: when it shows in the song, always say so
                pieces.append((10.0 + contrib["mood"], f"{mood_name or 'mood'}: {labels[0]}"))
        if "embedding" in comps and "embedding" not in filled and current >= 0:
            pieces.append((contrib["embedding"], f"sounds like {self._title(current)}"))
        if "history" in comps and parts.get("history", 0) > 0:
            for key in ("user", "session"):
                if key in hist_raw:
                    parts[f"history_{key}"] = float(hist_raw[key][j])
            S = hist_raw.get("S", np.zeros(0, np.int64))
            other, jac = self._session_partner(j, S)
            if other >= 0:
                parts["history_with"] = {"track_id": int(self.track_ids[other]), "title": self.titles[other],
                                         "jaccard": round(jac, 4)}
                pieces.append((contrib["history"], f"often played with {self._title(other)}"))
            elif self._played_by(lst.user_id, j):
                pieces.append((contrib["history"], "you played it before"))
            elif S.size and np.any(S == j):
                pass  # in the listener's songs only through their stars, said above
            else:
                pieces.append((contrib["history"], "played by listeners with your taste"))
        if "artist" in comps and parts.get("artist", 0) > 0 and self.artists[j]:
            pieces.append((contrib["artist"], f"you like {_shorten(self.artists[j], 24)}"))

        pieces.sort(key=lambda x: -x[0])
        texts = [t for _, t in pieces[:2]]
        if not analysed:
            texts.insert(0, "not analysed yet")
        reason = " · ".join(texts) if texts else "close to your taste"
        return Recommendation(int(self.track_ids[j]), float(total), reason, analysed, parts)

    def _played_by(self, user_id: int, j: int) -> bool:
        users, pos = self._positive_plays
        return bool(np.any((pos == j) & (users == user_id)))

    def _session_partner(self, j: int, S: np.ndarray) -> tuple[int, float]:
        """The listener's song most often in the same listening sessions as ``j`` (-1: none)."""
        S = S[S != j]
        if S.size == 0 or self.settings.history_unit == "user":
            return -1, 0.0
        other, jac = best_cooccurring(self._sessions, self._sessions_csr, j, S)
        return (other, jac) if jac > 0 else (-1, 0.0)

    # -- more like this ------------------------------------------------------------------------
    def similar(self, track_id: int, n: int = 10) -> list[Recommendation]:
        """The ``n`` songs whose embeddings are closest (cosine) to the track's (seed 000)."""
        n = int(n)
        with self._lock, _one_blas_thread():
            j = self._known_or_new(track_id)
            if n <= 0 or j < 0:  # j < 0: imported after the last reload, nothing known about it yet
                return []
            s = self.settings
            if self.has_emb[j]:
                sims = self.E @ self.E[j]  # float32
                known = self.has_emb
                basis = "embedding"
                if s.similar_label_weight > 0 and self.has_labels[j]:
                    lab = np.asarray(self.X @ self._row_dense(j)).ravel()
                    sims = (sims + s.similar_label_weight * lab) / (1 + s.similar_label_weight)
            elif self.has_labels[j]:
                sims = np.asarray(self.X @ self._row_dense(j)).ravel()
                known = self.has_labels
                basis = "labels"
            else:  # not analysed: the same album, then the same artist
                a, b = self.artist_code[j], self.album_code[j]
                sims = 0.5 * ((self.artist_code == a) & (a >= 0)) + 0.5 * ((self.album_code == b) & (b >= 0))
                known = sims > 0
                basis = "metadata"
            masked = np.where(known & self.ok, sims, -np.inf)
            masked[j] = -np.inf
            T = self.n_tracks
            k = min(n, T)
            idx = np.argpartition(masked, T - k)[T - k:] if k < T else np.arange(T)
            idx = idx[np.isfinite(masked[idx])]
            if idx.size == 0:
                return []
            top = idx[np.lexsort((self.track_ids[idx], -masked[idx]))]
            qrow = self._row_dense(j) if self.has_labels[j] else None
            out = []
            for i in top:
                parts = {"basis": basis, "similarity": float(sims[i])}
                if basis == "metadata":
                    same_album = self.album_code[i] == self.album_code[j] and self.album_code[j] >= 0
                    reason = "same album" if same_album else "same artist"
                else:
                    shared = self._top_labels(i, qrow) if qrow is not None else []
                    parts["shared_labels"] = shared
                    what = "sounds alike" if basis == "embedding" else "similar labels"
                    reason = f"{what} ({sims[i]:.2f})" + (f" · shares {', '.join(shared)}" if shared else "")
                if not self.analysed[i]:
                    reason = "not analysed yet · " + reason
                out.append(Recommendation(int(self.track_ids[i]), float(sims[i]), reason, bool(self.analysed[i]), parts))
            return out

    # -- sizes ---------------------------------------------------------------------------------
    def nbytes(self) -> int:
        """Bytes held in the recommender's arrays (not counting titles and names)."""
        total = self.X.data.nbytes + self.X.indices.nbytes + self.X.indptr.nbytes + self.E.nbytes
        for arr in (self.track_ids, self.ok, self.has_labels, self.has_emb, self.analysed, self.artist_code,
                    self.album_code, self._artist_slot, self._album_slot, self.idf, self.df, self._plays):
            total += arr.nbytes
        return int(total)

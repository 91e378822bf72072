"""Seed 002's collaborative filtering by co-occurrence, vectorised.

The seed's item-similarity recommender: for a listener with the set S of songs they listened to,
every song i gets

    score(i) = 1/|S| * sum over j in S of  |B(i) & B(j)| / |B(i) | B(j)|

where B(x) is the set of *baskets* that contain song x (a Jaccard index averaged over the listener's
songs). In the seed a basket is a listener; we also offer listening sessions as baskets, which carry
signal even in a one-listener library. Songs nobody played score 0: the cold start problem the seed
points out, which the hybrid blend with the content scores solves.

Two exact implementations:

* listeners as baskets: songs are grouped by their set of listeners (a bitmask); the Jaccard index
  is computed between groups with popcounts (at most 2^listeners groups, usually a few hundred);
* sessions as baskets: a sparse product ``B[:, S].T @ B`` of the basket x song incidence matrix;
  its cost is the number of co-occurring pairs, small for sessions.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def jaccard_sparse(B: sp.csc_matrix, S: np.ndarray, n_s: int | None = None, B_csr=None) -> np.ndarray:
    """Mean Jaccard index over the songs ``S`` for every column of the 0/1 basket x song matrix ``B``.

    The mean divides by ``n_s`` (default ``len(set(S))``), as the seed divides by the listener's
    number of songs even when some of them are in no basket. ``B_csr``: the same matrix as CSR, if
    the caller keeps one.
    """
    n_items = B.shape[1]
    S = np.unique(np.asarray(S, dtype=np.int64))
    n_s = S.size if n_s is None else int(n_s)
    out = np.zeros(n_items, dtype=np.float64)
    if S.size == 0 or B.nnz == 0 or n_s <= 0:
        return out
    counts = np.diff(B.indptr).astype(np.float64)  # baskets per song (B is csc)
    S = S[counts[S] > 0]
    if S.size == 0:
        return out
    B_csr = B.tocsr() if B_csr is None else B_csr
    inter = (B[:, S].T.tocsr() @ B_csr).tocoo()  # |S| x n_items co-occurrence counts
    union = counts[S][inter.row] + counts[inter.col] - inter.data
    out += np.bincount(inter.col, weights=inter.data / union, minlength=n_items)
    return out / float(n_s)


def best_cooccurring(B: sp.csc_matrix, B_csr: sp.csr_matrix, item: int, S: np.ndarray) -> tuple[int, float]:
    """The song of ``S`` with the highest Jaccard index with ``item`` in ``B``: (song, Jaccard).

    ``B_csr`` is the same matrix in CSR form (baskets as rows), kept by the caller.
    """
    S = np.asarray(S, dtype=np.int64)
    if S.size == 0 or B.nnz == 0:
        return -1, 0.0
    baskets = B.indices[B.indptr[item]:B.indptr[item + 1]]
    if baskets.size == 0:
        return -1, 0.0
    starts, ends = B_csr.indptr[baskets], B_csr.indptr[baskets + 1]
    members = np.concatenate([B_csr.indices[a:b] for a, b in zip(starts, ends)])
    inter = np.bincount(members, minlength=B.shape[1])[S].astype(np.float64)
    counts = np.diff(B.indptr).astype(np.float64)
    union = counts[S] + counts[item] - inter
    jac = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    k = int(np.argmax(jac))
    return int(S[k]), float(jac[k])


CHUNK_CELLS = 4_000_000  # group pairs scored at once by ListenerCooccurrence (memory bound)


class ListenerCooccurrence:
    """Seed 002's score with one basket per listener, via listener-set groups and popcounts."""

    def __init__(self, n_items: int, basket: np.ndarray, item: np.ndarray, n_baskets: int):
        self.n_items = n_items
        self.n_baskets = int(n_baskets)
        basket = np.asarray(basket, dtype=np.int64)
        item = np.asarray(item, dtype=np.int64)
        self.words = max(1, (self.n_baskets + 63) // 64)
        sig = np.zeros((n_items, self.words), dtype=np.uint64)
        if basket.size:
            np.bitwise_or.at(
                sig, (item, basket // 64), np.left_shift(np.uint64(1), (basket % 64).astype(np.uint64))
            )
        played = sig.any(axis=1)
        self.played = np.flatnonzero(played)
        if self.played.size and self.words == 1:  # up to 64 listeners: one word, a 1-d unique
            groups, inverse = np.unique(sig[self.played, 0], return_inverse=True)
            groups = groups[:, None]
        elif self.played.size:
            groups, inverse = np.unique(sig[self.played], axis=0, return_inverse=True)
        else:
            groups, inverse = np.zeros((0, self.words), np.uint64), np.zeros(0, np.int64)
        self.groups = groups  # G x words, each a distinct listener set
        self.group_of_played = np.asarray(inverse, dtype=np.int64).ravel()
        self.group_size = np.bincount(self.group_of_played, minlength=len(groups)).astype(np.float64)
        self.group_pop = np.bitwise_count(groups).sum(axis=1).astype(np.float64) if len(groups) else np.zeros(0)

    def scores(self, basket_id: int) -> np.ndarray:
        """The seed's mean Jaccard score of every song for the listener whose basket is ``basket_id``."""
        out = np.zeros(self.n_items, dtype=np.float64)
        if not len(self.groups) or basket_id < 0 or basket_id >= self.n_baskets:
            return out
        word, bit = divmod(int(basket_id), 64)
        mask = np.uint64(1) << np.uint64(bit)
        mine = (self.groups[:, word] & mask) != 0  # groups whose songs the listener has
        n_s = float(self.group_size[mine].sum())
        if n_s == 0:
            return out
        A = self.groups[mine]  # g x words
        sizes, pops = self.group_size[mine], self.group_pop[mine]
        G = len(self.groups)
        per_group = np.zeros(G, dtype=np.float64)
        step = max(1, CHUNK_CELLS // max(1, G))  # bounded memory however many listener sets there are
        for a in range(0, A.shape[0], step):
            chunk = A[a:a + step]
            inter = np.zeros((chunk.shape[0], G), dtype=np.float64)
            for w in range(self.words):
                inter += np.bitwise_count(chunk[:, w, None] & self.groups[None, :, w])
            union = pops[a:a + step, None] + self.group_pop[None, :] - inter
            per_group += sizes[a:a + step] @ (inter / union)
        per_group /= n_s
        out[self.played] = per_group[self.group_of_played]
        return out


def sessions_from_plays(
    user: np.ndarray, started_at: np.ndarray, gap_s: float
) -> np.ndarray:
    """A session number for every play: a listener's plays separated by less than ``gap_s``."""
    n = len(user)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((started_at, user))
    u, t = user[order], started_at[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (u[1:] != u[:-1]) | ((t[1:] - t[:-1]) > gap_s)
    ids_sorted = np.cumsum(new) - 1
    out = np.empty(n, dtype=np.int64)
    out[order] = ids_sorted
    return out


def incidence(basket: np.ndarray, item: np.ndarray, n_baskets: int, n_items: int) -> sp.csc_matrix:
    """The 0/1 basket x song matrix (duplicates collapse to 1)."""
    B = sp.csc_matrix(
        (np.ones(len(basket), dtype=np.float64), (np.asarray(basket, np.int64), np.asarray(item, np.int64))),
        shape=(n_baskets, n_items),
    )
    B.sum_duplicates()
    B.data[:] = 1.0
    return B


class HistoryState:
    """What listeners played, as the recommender's history term needs it (seed 002's co-occurrence).

    It keeps the plays (and asks ``source`` for newer ones before each query, so history stays current
    without a reload), the positive plays, the session and listener baskets built from them and from
    the ratings (``profiles``), each song's popularity, and each listener's score, rebuilt only when
    plays or ratings changed. Not thread-safe by itself: the recommender calls it under its lock.
    """

    def __init__(self, index, profiles, plays: np.ndarray):
        from player.recommend.data import PLAY_DTYPE

        self.index = index
        self.profiles = profiles
        self.settings = profiles.settings
        self.plays = plays.copy() if len(plays) else np.zeros(0, dtype=PLAY_DTYPE)
        self.last_play_id = int(self.plays["id"].max()) if len(self.plays) else 0
        self._ratings_dirty = True
        self._plays_dirty = True
        self._cache: dict[int, tuple[np.ndarray | None, dict]] = {}
        self._derived: dict = {}

    def with_profiles(self, profiles) -> "HistoryState":
        """The same plays under ``profiles``' settings (everything is rebuilt on use)."""
        return HistoryState(self.index, profiles, self.plays)

    # -- keeping up ------------------------------------------------------------------------------
    def sync(self, source) -> None:
        """Take the plays logged since the last look."""
        from player.recommend.data import PLAY_DTYPE

        new = source.plays_since(self.last_play_id)
        if len(new):
            self.plays = np.concatenate([self.plays, np.asarray(new, dtype=PLAY_DTYPE)])
            self.last_play_id = int(self.plays["id"].max())
            self._ratings_dirty = self._plays_dirty = True

    def ratings_changed(self) -> None:
        self._ratings_dirty = True

    def _rebuild(self) -> None:
        """Listener baskets (plays and ratings) always; session baskets only when plays changed."""
        from player.recommend.profiles import liked_disliked

        s, T, p = self.settings, self.index.n_tracks, self.plays
        if self._plays_dirty:
            ppos = self.index.positions(p["track"]) if len(p) else np.zeros(0, np.int64)
            positive = (ppos >= 0) & ((p["skipped"] == 0) | (p["seconds"] >= s.min_play_seconds))
            self.positive_plays = (p["user"][positive], ppos[positive])
            # session baskets: positive plays grouped into listening sessions
            if positive.any():
                sess = sessions_from_plays(p["user"][positive], p["started_at"][positive], s.session_gap_s)
                self.sessions = incidence(sess, ppos[positive], int(sess.max()) + 1, T)
            else:
                self.sessions = incidence(np.zeros(0, np.int64), np.zeros(0, np.int64), 0, T)
            self.sessions_csr = self.sessions.tocsr()
            self._plays_dirty = False
        play_user, play_pos = self.positive_plays
        ratings = self.profiles.ratings
        users = np.array(sorted(set(self.index.users) | set(ratings) | set(np.unique(play_user).tolist())),
                         dtype=np.int64)
        self.basket_of_user = {int(u): i for i, u in enumerate(users)}
        # listener baskets: positive plays and liked ratings, minus disliked songs
        bu, bi, dis_keys = [np.searchsorted(users, play_user)], [play_pos], []
        for u, (pos, stars) in ratings.items():
            good, bad = liked_disliked(s, pos, stars)
            bu.append(np.full(good.size, self.basket_of_user[u], np.int64))
            bi.append(good)
            dis_keys.append(self.basket_of_user[u] * np.int64(T + 1) + bad)
        ub, ui = np.concatenate(bu), np.concatenate(bi)
        if dis_keys and ub.size:
            drop = np.isin(ub * np.int64(T + 1) + ui, np.concatenate(dis_keys))
            ub, ui = ub[~drop], ui[~drop]
        self.listener_baskets = (ub, ui)
        self.cooc_users = ListenerCooccurrence(T, ub, ui, len(self.basket_of_user))
        counts = np.bincount(ui, minlength=T) if ui.size else np.zeros(T, np.int64)
        self.popularity = counts.astype(np.float64)
        self._cache = {}
        self._derived = {}
        self._ratings_dirty = False

    def current(self) -> "HistoryState":
        """Rebuilt if plays or ratings changed since (call :meth:`sync` first to see new plays)."""
        if self._ratings_dirty:
            self._rebuild()
        return self

    def derived(self, key, make):
        """A value computed from this history (e.g. the cold-start order), kept until it changes."""
        self.current()
        if key not in self._derived:
            self._derived[key] = make(self)
        return self._derived[key]

    # -- per listener ----------------------------------------------------------------------------
    def scores(self, user_id: int) -> tuple[np.ndarray | None, dict]:
        """The listener's history score in [0, 1] for every song (None: no history) and the raw parts
        (``S``: the listener's songs; ``user``, ``session``: each kind of basket's score)."""
        self.current()
        cached = self._cache.get(int(user_id))
        if cached is not None:
            return cached
        s = self.settings
        basket = self.basket_of_user.get(int(user_id), -1)
        ub, ui = self.listener_baskets
        S = np.unique(ui[ub == basket]) if basket >= 0 else np.zeros(0, np.int64)
        raw = {"S": S}
        pieces = []
        if S.size and s.history_unit in ("user", "user+session"):
            hu = self.cooc_users.scores(basket)
            raw["user"] = hu
            if hu.max() > 0:
                pieces.append(hu / hu.max())
        if S.size and s.history_unit in ("session", "user+session"):
            hs = jaccard_sparse(self.sessions, S, B_csr=self.sessions_csr)
            raw["session"] = hs
            if hs.max() > 0:
                pieces.append(hs / hs.max())
        h = None
        if pieces:
            h = pieces[0] if len(pieces) == 1 else np.mean(pieces, axis=0)
        self._cache[int(user_id)] = (h, raw)
        return h, raw

    def played_by(self, user_id: int, j: int) -> bool:
        users, pos = self.current().positive_plays
        return bool(np.any((pos == j) & (users == user_id)))

    def session_partner(self, j: int, S: np.ndarray) -> tuple[int, float]:
        """The song of ``S`` most often in the same listening sessions as ``j`` (-1: none)."""
        S = S[S != j]
        if S.size == 0 or self.settings.history_unit == "user":
            return -1, 0.0
        self.current()
        other, jac = best_cooccurring(self.sessions, self.sessions_csr, j, S)
        return (other, jac) if jac > 0 else (-1, 0.0)

    def nbytes(self) -> int:
        return int(self.plays.nbytes)

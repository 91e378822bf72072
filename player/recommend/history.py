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
        self._sig = sig

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

    def with_item(self, item: int, S: np.ndarray) -> tuple[int, float]:
        """The song of ``S`` whose listener set is most like ``item``'s: (song, Jaccard)."""
        S = np.asarray(S, dtype=np.int64)
        if S.size == 0:
            return -1, 0.0
        a = self._sig[item]
        b = self._sig[S]
        inter = np.bitwise_count(a[None, :] & b).sum(axis=1).astype(np.float64)
        union = np.bitwise_count(a[None, :] | b).sum(axis=1).astype(np.float64)
        jac = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        k = int(np.argmax(jac))
        return int(S[k]), float(jac[k])


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

"""The library as the recommender sees it: an immutable index of every song, built once per load.

Everything is indexed by a track's *position* (its rank in ascending id order):

* ``X``  float64 CSR ``T x L``: unit TF-IDF label vectors (seed 002), zero rows for unlabelled songs;
* ``E``  float32 ``T x D``: unit song vectors in the one similarity space (:mod:`player.recommend.space`:
  the genre model's embedding and the tagger's tag log-probabilities, standardised over this library),
  zero rows for songs without either;
* the tag block: the tagger's tag log-probabilities centred on this library, one row per song (the tag
  columns of ``E`` in the joint space; built apart in the others), with the inverse length of each row,
  and the tags' names: the mood query is a direction in it (:meth:`LibraryIndex.mood_scores`);
* artist / album codes (-1: no tag) and the 'ok' status.

:class:`LibraryIndex` is a frozen dataclass: a reload builds a new one and swaps it in whole. Its
methods are the building blocks of every query: positions of track ids, a song's label row, the
similarity of one song to every song (:meth:`LibraryIndex.similarity_to`), the mood query
(:meth:`LibraryIndex.mood_query`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from player.recommend.data import LibraryArrays
from player.recommend.space import song_vectors

#: How the mood becomes a query: 'tags' (a direction in the tag block: every tag of the tagger, shown as a
#: label or not; seed 002's label query where the library has no tag probabilities with names) or 'labels'
#: (seed 002's: the mood's labels as a TF-IDF vector; kept for the evaluation).
MOOD_QUERIES = ("tags", "labels")
DEFAULT_MOOD_QUERY = "tags"
from player.recommend.vectors import tfidf_matrix, unit


class RecommendError(LookupError):
    """An unknown track or listener, explained in one line."""


@dataclass(frozen=True, eq=False)
class Similarity:
    """The similarity of one song to every song (positions order). ``known``: where it is defined;
    ``basis``: 'embedding', 'labels' or 'metadata' (same album / artist, for a song not analysed)."""

    values: np.ndarray
    known: np.ndarray
    basis: str


@dataclass(frozen=True, eq=False)
class LibraryIndex:
    track_ids: np.ndarray  # int64[T], ascending
    titles: list
    artists: list
    albums: list
    paths: list | None
    ok: np.ndarray  # bool[T]: playable (missing/broken files are never proposed)
    users: dict  # id -> name
    label_names: list
    label_index: dict  # casefolded name -> column
    X: sp.csr_matrix
    idf: np.ndarray
    df: np.ndarray
    has_labels: np.ndarray  # bool[T]: a non-zero label vector
    X_colsum: np.ndarray  # the mean label cosine with q is X_colsum @ q / n_labelled
    E: np.ndarray
    has_emb: np.ndarray
    E_colsum: np.ndarray
    analysed: np.ndarray  # bool[T]: labels, an embedding, or an 'ok' analysis row
    artist_code: np.ndarray  # int64[T], -1: no artist tag (never forms a run)
    n_artists: int
    album_code: np.ndarray
    n_albums: int
    # the tag block (a view of E's tag columns in the joint space): rows of the centred tag log-probabilities,
    # scaled alike per song (tag_inv: the inverse length of a song's row, 0 for a song without tags)
    tag_names: list = ()
    tag_block: np.ndarray | None = None
    tag_inv: np.ndarray | None = None

    # -- sizes and derived masks -------------------------------------------------------------------
    @property
    def n_tracks(self) -> int:
        return len(self.track_ids)

    @cached_property
    def unlabelled(self) -> np.ndarray:
        return np.flatnonzero(~self.has_labels)

    @cached_property
    def no_embedding(self) -> np.ndarray:
        return np.flatnonzero(~self.has_emb)

    @cached_property
    def n_labelled(self) -> int:
        return int(self.has_labels.sum())

    @cached_property
    def n_embedded(self) -> int:
        return int(self.has_emb.sum())

    @cached_property
    def has_tags(self) -> np.ndarray:
        """bool[T]: the song has tag probabilities (a row in the tag block)."""
        return np.zeros(self.n_tracks, bool) if self.tag_inv is None else self.tag_inv > 0

    @cached_property
    def tag_index(self) -> dict:
        return {name.casefold(): i for i, name in enumerate(self.tag_names)}

    @cached_property
    def artist_slot(self) -> np.ndarray:
        """Artist codes with the untagged songs in one extra slot (``n_artists``)."""
        return np.where(self.artist_code < 0, self.n_artists, self.artist_code)

    @cached_property
    def album_slot(self) -> np.ndarray:
        return np.where(self.album_code < 0, self.n_albums, self.album_code)

    # -- positions ---------------------------------------------------------------------------------
    def positions(self, ids) -> np.ndarray:
        """The positions of track ids; -1 for an id the index does not have."""
        return positions_in(self.track_ids, ids)

    def position(self, track_id: int) -> int:
        """The position of a track id, or :class:`RecommendError`."""
        pos = int(self.positions(np.array([int(track_id)]))[0])
        if pos < 0:
            raise RecommendError(f"no track with id {track_id} in the library")
        return pos

    # -- labels ------------------------------------------------------------------------------------
    def row(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """(label columns, weights) of song ``j``'s TF-IDF vector."""
        a, b = self.X.indptr[j], self.X.indptr[j + 1]
        return self.X.indices[a:b], self.X.data[a:b]

    def row_dense(self, j: int) -> np.ndarray:
        v = np.zeros(self.X.shape[1], dtype=np.float64)
        cols, vals = self.row(j)
        v[cols] = vals
        return v

    def label_cosines(self, j: int) -> np.ndarray:
        """cos(x_j, x_s) for every song (the label vectors are unit or zero)."""
        return np.asarray(self.X @ self.row_dense(j)).ravel()

    def top_labels(self, j: int, q: np.ndarray | None, k: int = 2) -> list[str]:
        """The ``k`` labels of song ``j`` that contribute most to ``x_j . q`` (positive ones only)."""
        cols, vals = self.row(j)
        if cols.size == 0 or q is None:
            return []
        contrib = vals * q[cols]
        order = np.argsort(-contrib, kind="stable")[:k]
        return [self.label_names[cols[i]] for i in order if contrib[i] > 0]

    def match_labels(self, labels) -> list[str]:
        """The given labels that this library knows (case-insensitive), in the library's spelling."""
        out = []
        for label in labels or ():
            i = self.label_index.get(str(label).strip().casefold())
            if i is not None and self.label_names[i] not in out:
                out.append(self.label_names[i])
        return out

    def match_tags(self, labels) -> list[str]:
        """The given labels that are tags of the tag block (case-insensitive), in the tagger's spelling;
        none when no song has tag probabilities."""
        if self.tag_block is None or not self.has_tags.any():
            return []
        out = []
        for label in labels or ():
            i = self.tag_index.get(str(label).strip().casefold())
            if i is not None and self.tag_names[i] not in out:
                out.append(self.tag_names[i])
        return out

    def mood_query(self, labels, how: str = DEFAULT_MOOD_QUERY) -> tuple[str, np.ndarray | None, list[str]]:
        """``(basis, unit query, the mood tags or labels used)``. ``how='tags'``: the unit vector on the mood
        tags' columns of the tag block (:meth:`mood_scores`), when the library has tag probabilities with
        names and the tagger knows one of the mood's tags; otherwise, and with ``how='labels'``, seed
        002's label query (:meth:`mood_vector`)."""
        if how not in MOOD_QUERIES:
            raise ValueError(f"unknown mood query {how!r} (one of {', '.join(MOOD_QUERIES)})")
        if how == "tags":
            tags = self.match_tags(labels)
            if tags:
                m = np.zeros(len(self.tag_names), np.float32)
                m[[self.tag_index[t.casefold()] for t in tags]] = 1.0
                return "tags", m / np.float32(np.sqrt(len(tags))), tags
        unit_q, names = self.mood_vector(labels)
        return "labels", unit_q, names

    def mood_scores(self, m: np.ndarray) -> np.ndarray:
        """float64[T]: the cosine of every song's row of the tag block with the direction ``m`` (0 for a
        song without tag probabilities)."""
        if self.tag_block is None:
            return np.zeros(self.n_tracks)
        m = np.asarray(m, np.float32)
        cols = np.flatnonzero(m)  # a mood has a few tags: only their columns are read
        return (self.tag_block[:, cols] @ m[cols]).astype(np.float64) * self.tag_inv

    def mood_tags_of(self, j: int, m: np.ndarray, k: int = 2) -> list[str]:
        """The ``k`` mood tags (the columns of ``m``) that lift song ``j`` most: those whose centred
        log-probability is above the library's mean, highest first."""
        if self.tag_block is None or not self.has_tags[j]:
            return []
        cols = np.flatnonzero(np.asarray(m) > 0)
        vals = self.tag_block[j, cols]
        order = np.argsort(-vals, kind="stable")[:k]
        return [self.tag_names[cols[i]] for i in order if vals[i] > 0]

    def mood_vector(self, labels) -> tuple[np.ndarray, list[str]]:
        """Seed 002's mood query: the mood labels as a TF-IDF vector (TF = 1 each), unit length."""
        names = self.match_labels(labels)
        v = np.zeros(len(self.label_names), dtype=np.float64)
        for name in names:
            i = self.label_index[name.casefold()]
            v[i] = self.idf[i] if self.idf[i] > 0 else 1e-6
        return unit(v)[0], names

    @cached_property
    def strongest_labels(self) -> tuple[np.ndarray, np.ndarray]:
        """Every song's strongest label (-1: none) and its weight."""
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
        return dominant, strength

    # -- similarity over the whole library ---------------------------------------------------------
    def similarity_to(self, j: int, label_weight: float = 0.0) -> Similarity:
        """How close every song is to song ``j``: the cosine of the embeddings (seed 000), plus
        ``label_weight`` times the label cosine; the label cosine for a song without an embedding;
        for a song with neither, the same album (0.5) and the same artist (0.5)."""
        if self.has_emb[j]:
            sims = self.E @ self.E[j]  # float32
            if label_weight > 0 and self.has_labels[j]:
                sims = (sims + label_weight * self.label_cosines(j)) / (1 + label_weight)
            return Similarity(sims, self.has_emb, "embedding")
        if self.has_labels[j]:
            return Similarity(self.label_cosines(j), self.has_labels, "labels")
        a, b = self.artist_code[j], self.album_code[j]
        sims = 0.5 * ((self.artist_code == a) & (a >= 0)) + 0.5 * ((self.album_code == b) & (b >= 0))
        return Similarity(sims, sims > 0, "metadata")

    def nearest(self, j: int, candidates: np.ndarray) -> tuple[int, float]:
        """The song of ``candidates`` (positions) closest to song ``j``: by embedding cosine when both
        have embeddings, else by label cosine; ``(-1, 0.0)`` when neither can be compared."""
        candidates = np.asarray(candidates, dtype=np.int64)
        if candidates.size == 0:
            return -1, 0.0
        if self.has_emb[j] and self.has_emb[candidates].any():
            cand = candidates[self.has_emb[candidates]]
            sims = self.E[cand] @ self.E[j]
        elif self.has_labels[j] and self.has_labels[candidates].any():
            cand = candidates[self.has_labels[candidates]]
            sims = np.asarray(self.X[cand] @ self.row_dense(j)).ravel()
        else:
            return -1, 0.0
        i = int(np.argmax(sims))
        return int(cand[i]), float(sims[i])

    def same_album(self, i: int, j: int) -> bool:
        return bool(self.album_code[i] == self.album_code[j] and self.album_code[j] >= 0)

    def nbytes(self) -> int:
        """Bytes held in the arrays (not counting titles and names)."""
        total = self.X.data.nbytes + self.X.indices.nbytes + self.X.indptr.nbytes + self.E.nbytes
        if self.tag_block is not None:
            total += self.tag_inv.nbytes + (0 if np.may_share_memory(self.tag_block, self.E) else self.tag_block.nbytes)
        for arr in (self.track_ids, self.ok, self.has_labels, self.has_emb, self.analysed, self.artist_code,
                    self.album_code, self.artist_slot, self.album_slot, self.idf, self.df):
            total += arr.nbytes
        return int(total)


def positions_in(track_ids: np.ndarray, ids) -> np.ndarray:
    """The positions of ``ids`` in the ascending ``track_ids``; -1 where absent."""
    ids = np.asarray(ids, dtype=np.int64)
    if not len(track_ids) or not ids.size:
        return np.full(ids.shape, -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(track_ids, ids), len(track_ids) - 1)
    return np.where(track_ids[pos] == ids, pos, -1)


def _codes(keys: list) -> tuple[np.ndarray, int]:
    table: dict = {}
    out = np.fromiter((-1 if k is None else table.setdefault(k, len(table)) for k in keys), np.int64, len(keys))
    return out, len(table)


def _key(text) -> str | None:
    return text.casefold().strip() if text and text.strip() else None


def build_index(a: LibraryArrays) -> LibraryIndex:
    """The index of the songs in ``a`` (labels -> TF-IDF, embeddings and tag probabilities -> song vectors,
    artist/album codes)."""
    T = len(a.track_ids)
    lpos = positions_in(a.track_ids, a.lab_track)
    keep = lpos >= 0
    label_names = list(a.label_names)
    X, idf, df = tfidf_matrix(lpos[keep], a.lab_label[keep], a.lab_count[keep], T, len(label_names))
    has_labels = np.diff(X.indptr) > 0

    epos = positions_in(a.track_ids, a.emb_track)
    ek = epos >= 0
    every = bool(ek.all())  # (no copies of the inputs then)
    # the one similarity space (player.recommend.space), standardised over this library's songs
    vectors = song_vectors(a.embeddings if every else a.embeddings[ek],
                           None if a.tag_probs is None else a.tag_probs if every else a.tag_probs[ek], a.space)
    if every and len(epos) == T and (epos == np.arange(T)).all() and vectors.shape[1]:
        E = vectors  # every song analysed, in track order: the vectors are E
    else:
        E = np.zeros((T, vectors.shape[1] or 32), dtype=np.float32)
        if vectors.size:
            E[epos[ek]] = vectors
    has_emb = np.einsum("ij,ij->i", E, E) > 0
    tag_names, tag_block, tag_inv = _tag_block(a, E, epos, ek)
    analysed = has_labels | has_emb
    if a.analysed_ids is not None and len(a.analysed_ids):
        apos = positions_in(a.track_ids, a.analysed_ids)
        analysed[apos[apos >= 0]] = True

    artist_code, n_artists = _codes([_key(x) for x in a.artists])
    album_code, n_albums = _codes([((aa or "").casefold().strip(), _key(al)) if _key(al) else None
                                   for aa, al in zip(a.album_artists, a.albums)])
    return LibraryIndex(
        track_ids=a.track_ids, titles=a.titles, artists=a.artists, albums=a.albums, paths=a.paths, ok=a.ok,
        users=dict(a.users), label_names=label_names,
        label_index={name.casefold(): i for i, name in enumerate(label_names)},
        X=X, idf=idf, df=df, has_labels=has_labels,
        X_colsum=np.asarray(X.sum(axis=0), dtype=np.float64).ravel(),
        E=E, has_emb=has_emb, E_colsum=E.sum(axis=0, dtype=np.float64).astype(np.float32),
        analysed=analysed, artist_code=artist_code, n_artists=n_artists, album_code=album_code, n_albums=n_albums,
        tag_names=tag_names, tag_block=tag_block, tag_inv=tag_inv,
    )


def _tag_block(a: LibraryArrays, E: np.ndarray, epos: np.ndarray, ek: np.ndarray):
    """(tag names, the tag block, the inverse length of its rows) of the songs in ``a``: in the joint and
    tags spaces a view of E's tag columns (no copy), in the raw space built apart; ``([], None, None)``
    when the library has no tag probabilities with names."""
    if a.tag_probs is None or not a.tag_names or not a.tag_probs.shape[1]:
        return [], None, None
    dt = a.tag_probs.shape[1]
    de = a.embeddings.shape[1] if a.embeddings.ndim == 2 else 0
    if a.space == "joint" and E.shape[1] == de + dt:
        block = E[:, de:]
    elif a.space == "tags" and E.shape[1] == dt:
        block = E
    else:  # the raw space has no tag columns: the tags' own space (centred, unit rows)
        block = np.zeros((len(a.track_ids), dt), np.float32)
        block[epos[ek]] = song_vectors(None, a.tag_probs[ek], "tags")
    norms = np.sqrt(np.einsum("ij,ij->i", block, block))
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 1e-12).astype(np.float32)
    return list(a.tag_names), block, inv

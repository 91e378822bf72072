"""Seed 002's label vectors and profiles, vectorised (numpy + scipy.sparse, no per-song loops).

TF-IDF exactly as seed 002's ``constructLabelVector``:

* TF(song, label)  = the label's count for the song (``track_labels.count``);
* DF(label)        = the number of songs that have the label;
* IDF(label)       = log10(N) - log10(DF), N = the number of songs that have any label;
* w(song, label)   = TF * IDF / ||TF * IDF over the song's labels||  (unit length per song).

A song whose every label occurs in all songs has a zero vector (the seed divides 0 by 0 there and gets
NaN; we keep 0 and call the song "not described by its labels").
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def tfidf_matrix(
    rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, n_rows: int, n_labels: int
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Unit-length TF-IDF rows from (song row, label column, count) triples.

    Returns ``(X, idf, df)``: ``X`` a float64 CSR matrix ``n_rows x n_labels`` whose rows are unit
    length (or zero), ``idf`` float64[n_labels] and ``df`` int64[n_labels]. Repeated (row, label)
    pairs are summed, as the seed's row-per-occurrence table would count them.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.float64)
    if rows.size and (counts <= 0).any():
        keep = counts > 0
        rows, cols, counts = rows[keep], cols[keep], counts[keep]
    tf = sp.csr_matrix((counts, (rows, cols)), shape=(n_rows, n_labels), dtype=np.float64)
    tf.sum_duplicates()
    tf.eliminate_zeros()
    n_docs = int(np.count_nonzero(np.diff(tf.indptr)))
    df = np.bincount(tf.indices, minlength=n_labels).astype(np.int64)
    idf = np.zeros(n_labels, dtype=np.float64)
    present = df > 0
    if n_docs:
        idf[present] = np.log10(n_docs) - np.log10(df[present])
    X = tf.copy()
    X.data = X.data * idf[X.indices]
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    X.data = X.data * np.repeat(scale, np.diff(X.indptr))
    X.eliminate_zeros()
    X.sort_indices()
    return X, idf, df


def weighted_row_sum(X, positions: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_i weights[i] * X[positions[i]]`` as a dense vector (X sparse or dense)."""
    positions = np.asarray(positions, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    if positions.size == 0:
        return np.zeros(X.shape[1], dtype=np.float64)
    if sp.issparse(X):
        sub = X[positions]
        return np.asarray(sub.T @ weights).ravel()
    return weights @ np.asarray(X[positions], dtype=np.float64)


def unit(v: np.ndarray) -> tuple[np.ndarray, float]:
    """``(v / ||v||, ||v||)``; a zero vector stays zero."""
    norm = float(np.sqrt(np.dot(v, v)))
    if norm == 0.0 or not np.isfinite(norm):
        return np.zeros_like(v), 0.0
    return v / norm, norm


def cosine_to_rows(X, q: np.ndarray) -> np.ndarray:
    """cosine(q, row) for every row of X whose rows are unit length or zero (zero rows give 0)."""
    qu, norm = unit(np.asarray(q, dtype=np.float64))
    if norm == 0.0:
        return np.zeros(X.shape[0], dtype=np.float64)
    if sp.issparse(X):
        return np.asarray(X @ qu).ravel()
    return np.asarray(X @ qu.astype(X.dtype), dtype=np.float64)


def normalise_rows(E: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit rows of a dense float matrix (in float32) and a mask of the rows that were non-zero."""
    E = np.asarray(E, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", E, E, dtype=np.float64))
    ok = np.isfinite(norms) & (norms > 0)
    out = np.zeros_like(E)
    out[ok] = E[ok] / norms[ok, None].astype(np.float32)
    return out, ok


def profile_weights(stars: np.ndarray, mode: str, star_weights, dislike_weight: float) -> np.ndarray:
    """Per-rated-song weights w_i of the label profile ``p = sum_i w_i x_i``.

    * ``seed``: w_i = 1 for every rating (seed 002 sums the vectors of all rated songs);
    * ``stars``: with s_i = star_weights[stars_i - 1], liked songs (s > 0) get s_i / sum of liked s,
      disliked songs (s < 0) get dislike_weight * s_i / sum of |disliked s|, 3-star songs 0.
      That is p = (weighted mean of liked vectors) - dislike_weight * (weighted mean of disliked
      vectors): a Rocchio profile, so a few dislikes still count against many likes.
    """
    stars = np.asarray(stars, dtype=np.int64)
    if mode == "seed":
        return np.ones(stars.shape, dtype=np.float64)
    sw = np.asarray(star_weights, dtype=np.float64)[np.clip(stars, 1, 5) - 1]
    out = np.zeros(stars.shape, dtype=np.float64)
    pos, neg = sw > 0, sw < 0
    if pos.any():
        out[pos] = sw[pos] / sw[pos].sum()
    if neg.any():
        out[neg] = dislike_weight * sw[neg] / np.abs(sw[neg]).sum()
    return out

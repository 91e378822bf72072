"""The one similarity space: a song vector built from both models' outputs (numpy only).

Every "sounds like" question the player asks -- More like this, radio, sonic paths, the up-next blend,
smart-playlist ``like:`` / ``near:``, duplicates -- compares songs with the vectors made here:

* ``joint`` (the player's): the genre model's unit embedding and the tagger's tag log-probabilities,
  each block centred on the library it is built for (so that the offset all songs share does not make
  every pair look alike) and scaled to unit rows, the tag block weighted, the rows scaled to unit length;
* ``raw``: seed 000's unit 32-d embedding as it is (kept for the evaluation scripts);
* ``tags``: the standardised tag log-probabilities alone.

A song with only one of the two inputs gets the vector of that block alone (its cosine with a song that
has both is that block's cosine, scaled by the block's share).

    vectors = song_vectors(embeddings, tag_probs, mode="joint")   # rows as the inputs' rows

Rows without a usable input are zero (and are reported as such by ``vectors.any(axis=1)``).
"""

from __future__ import annotations

import numpy as np

MODES = ("joint", "raw", "tags")
DEFAULT_MODE = "joint"
# How each block is standardised over the library before its rows are scaled to unit length:
# 'centre' (less the library's mean: the offset every song shares no longer makes every pair look alike),
# 'z-score' (also each dimension divided by its spread: amplifies dimensions that carry only noise) or
# 'none'. Chosen with the weight below, on the validation packages (scripts/evaluate_similarity.py).
STANDARDISATIONS = ("centre", "z-score", "none")
STANDARDISATION = "centre"
# The weight of each block in the joint vector (each block is unit length first; squared, a weight is
# its share of a row's energy). The embedding block is the reference ...
EMBEDDING_WEIGHT = 1.0
# ... and the tag block's weight was chosen on the validation packages by scripts/evaluate_similarity.py
# (the best mean of same-package and per-genre P@10 over the constructions and weights it tries; never
# on test): docs/recommender.md "One similarity space".
TAG_WEIGHT = 1.5
# Tag probabilities below this are read as this before the log: the log of a probability the tagger
# all but rules out would otherwise dominate its standardised column (a fixed guard, not tuned).
LOG_FLOOR = 1e-4


def standardise(block: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``block`` with each column centred and scaled to unit standard deviation over ``rows`` (a mask);
    a constant column becomes 0. Rows outside ``rows`` are zero. (float64; for the evaluation.)"""
    out = np.zeros_like(block, dtype=np.float64)
    if not rows.any():
        return out
    sel = block[rows]
    std = sel.std(axis=0)
    scale = np.divide(1.0, std, out=np.zeros_like(std), where=std > 1e-9)
    out[rows] = (sel - sel.mean(axis=0)) * scale
    return out


def unit_rows(block: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(block, axis=1)
    return np.divide(block, norms[:, None], out=np.zeros_like(block), where=norms[:, None] > 0)


def _row_norms(block: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->i", block, block))


def _block(values, log: bool) -> tuple[np.ndarray, np.ndarray]:
    """An input block as a contiguous float32 copy (the log of the clipped probabilities when ``log``) and
    the mask of its usable rows (finite and not all zero); the other rows are zero."""
    out = np.array(values, dtype=np.float32, order="C", copy=True)
    with np.errstate(over="ignore", invalid="ignore"):
        sq = _row_norms(out)  # NaN or inf anywhere in a row: not finite; all zero: 0
    ok = np.isfinite(sq) & (sq > 0)
    if log:
        np.clip(out, LOG_FLOOR, 1.0, out=out)
        np.log(out, out=out)
    if not ok.all():
        out[~ok] = 0.0
    return out, ok


def _standardised(values, log: bool, how: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the block standardised over its usable rows, those rows, each row's length). A row that
    standardisation leaves zero (a one-song library, a song exactly at the mean) keeps its
    unstandardised direction, so that every song with an input has a vector."""
    block, ok = _block(values, log)
    n_ok = int(ok.sum())
    if how != "none" and n_ok:
        mean = block.sum(axis=0, dtype=np.float64) / n_ok  # the other rows are zero
        block -= mean.astype(np.float32)
        if how == "z-score":
            var = np.einsum("ij,ij->j", block, block, dtype=np.float64)
            var -= (len(block) - n_ok) * mean * mean  # the zero rows, shifted by -mean, do not count
            std = np.sqrt(np.maximum(var / n_ok, 0.0))
            block *= np.divide(1.0, std, out=np.zeros_like(std), where=std > 1e-9).astype(np.float32)
        if not ok.all():
            block[~ok] = 0.0
    norms = _row_norms(block)
    lost = ok & ~(norms > 1e-12)
    if lost.any():
        redo = np.asarray(values, np.float32)[lost]
        block[lost] = np.log(np.clip(redo, LOG_FLOOR, 1.0)) if log else redo
        norms[lost] = _row_norms(block[lost])
    ok &= norms > 1e-12
    return block, ok, norms


def _width(block) -> int:
    return 0 if block is None or np.ndim(block) != 2 else int(np.shape(block)[1])


def song_vectors(embeddings: np.ndarray | None, tag_probs: np.ndarray | None, mode: str = DEFAULT_MODE,
                 *, embedding_weight: float = EMBEDDING_WEIGHT, tag_weight: float = TAG_WEIGHT,
                 log_tags: bool = True, standardisation: str = STANDARDISATION) -> np.ndarray:
    """float32 ``(n, d)`` unit rows in the chosen space; ``embeddings`` and ``tag_probs`` are row-aligned
    (either may be None). A row with neither input (or only NaN / zero ones) is zero. The standardisation
    is over the rows given: pass the whole library.

    The keywords exist for the evaluation (scripts/evaluate_similarity.py): the player uses the defaults.
    float32 throughout, one copy of each input (100,000 songs: well under a second)."""
    if mode not in MODES:
        raise ValueError(f"unknown similarity space {mode!r} (one of {', '.join(MODES)})")
    if standardisation not in STANDARDISATIONS:
        raise ValueError(f"unknown standardisation {standardisation!r} (one of {', '.join(STANDARDISATIONS)})")
    present = [b for b in (embeddings, tag_probs) if b is not None]
    n = len(present[0]) if present else 0
    if any(len(b) != n for b in present):
        raise ValueError("the embeddings and the tag probabilities must have one row per song each")
    de = _width(embeddings) if mode != "tags" else 0
    dt = _width(tag_probs) if mode != "raw" else 0
    out = np.zeros((n, de + dt), np.float32)
    if mode == "raw":
        if de:
            emb, ok = _block(embeddings, False)
            norms = _row_norms(emb)
            np.multiply(emb, np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)[:, None], out=out)
        return out
    blocks = []
    if de:  # the unit embedding (seed 000's space), then standardised
        emb, ok = _block(embeddings, False)
        norms = _row_norms(emb)
        emb *= np.divide(1.0, norms, out=np.zeros_like(norms), where=ok)[:, None]
        blocks.append(_standardised(emb, False, standardisation) + (embedding_weight, slice(0, de)))
    if dt:
        blocks.append(_standardised(tag_probs, log_tags, standardisation) + (tag_weight, slice(de, de + dt)))
    weights = [w if len(blocks) > 1 else 1.0 for *_, w, _ in blocks]
    # each block is scaled to its weight, the row to unit length: |row|^2 is the sum of the squared
    # weights of the blocks the song has
    total = np.sqrt(sum(np.where(ok, w * w, 0.0) for (_, ok, _, _, _), w in zip(blocks, weights)))
    for (block, ok, norms, _, cols), w in zip(blocks, weights):
        factor = np.divide(w, norms * total, out=np.zeros_like(norms), where=ok & (total > 0))
        np.multiply(block, factor.astype(np.float32)[:, None], out=out[:, cols])
    return out


__all__ = ["MODES", "DEFAULT_MODE", "STANDARDISATIONS", "STANDARDISATION", "song_vectors", "standardise",
           "unit_rows"]

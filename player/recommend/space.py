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


def _usable(block: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    if block is None or block.size == 0:
        return np.zeros((n, 0), np.float64), np.zeros(n, bool)
    block = np.asarray(block, np.float64)
    ok = np.isfinite(block).all(axis=1) & (np.abs(block).sum(axis=1) > 0)
    return np.where(ok[:, None], block, 0.0), ok


def standardise(block: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``block`` with each column centred and scaled to unit standard deviation over ``rows`` (a mask);
    a constant column becomes 0. Rows outside ``rows`` are zero."""
    out = np.zeros_like(block, dtype=np.float64)
    if not rows.any():
        return out
    sel = block[rows]
    mean = sel.mean(axis=0)
    std = sel.std(axis=0)
    scale = np.divide(1.0, std, out=np.zeros_like(std), where=std > 1e-9)
    out[rows] = (sel - mean) * scale
    return out


def unit_rows(block: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(block, axis=1)
    return np.divide(block, norms[:, None], out=np.zeros_like(block), where=norms[:, None] > 0)


def centre(block: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``block`` less its column means over ``rows`` (a mask); rows outside ``rows`` are zero."""
    out = np.zeros_like(block, dtype=np.float64)
    if rows.any():
        out[rows] = block[rows] - block[rows].mean(axis=0)
    return out


def _block(values: np.ndarray, ok: np.ndarray, how: str) -> np.ndarray:
    """One input as unit rows, standardised over the rows that have it (``how``: 'centre', 'z-score' or
    'none'). A row that standardisation leaves zero (a one-song library, a song exactly at the mean)
    keeps its unstandardised direction, so that every song with an input has a vector."""
    if not values.size:
        return values
    out = unit_rows({"centre": centre, "z-score": standardise}[how](values, ok) if how != "none" else values)
    lost = ok & ~out.any(axis=1)
    if lost.any():
        out[lost] = unit_rows(values[lost])
    return out


def song_vectors(embeddings: np.ndarray | None, tag_probs: np.ndarray | None, mode: str = DEFAULT_MODE,
                 *, embedding_weight: float = EMBEDDING_WEIGHT, tag_weight: float = TAG_WEIGHT,
                 log_tags: bool = True, standardisation: str = STANDARDISATION) -> np.ndarray:
    """float32 ``(n, d)`` unit rows in the chosen space; ``embeddings`` and ``tag_probs`` are row-aligned
    (either may be None). A row with neither input (or only NaN / zero ones) is zero.

    The keywords exist for the evaluation (scripts/evaluate_similarity.py): the player uses the defaults."""
    if mode not in MODES:
        raise ValueError(f"unknown similarity space {mode!r} (one of {', '.join(MODES)})")
    if standardisation not in STANDARDISATIONS:
        raise ValueError(f"unknown standardisation {standardisation!r} (one of {', '.join(STANDARDISATIONS)})")
    n = len(embeddings) if embeddings is not None else len(tag_probs) if tag_probs is not None else 0
    emb, emb_ok = _usable(embeddings, n)
    tags, tag_ok = _usable(tag_probs, n)
    if mode == "raw":
        return unit_rows(emb).astype(np.float32)
    if log_tags and tags.size:
        tags = np.where(tag_ok[:, None], np.log(np.clip(tags, LOG_FLOOR, 1.0)), 0.0)
    tag_block = _block(tags, tag_ok, standardisation)
    if mode == "tags":
        return tag_block.astype(np.float32)
    emb_block = _block(unit_rows(emb), emb_ok, standardisation)
    both = np.hstack([emb_block * embedding_weight, tag_block * tag_weight])
    return unit_rows(both).astype(np.float32)


__all__ = ["MODES", "DEFAULT_MODE", "STANDARDISATIONS", "STANDARDISATION", "song_vectors", "centre", "standardise",
           "unit_rows"]

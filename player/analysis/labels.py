"""From tag probabilities to a song's labels with counts (the TF of the recommender's TF-IDF).

Definition (also in docs/analysis.md):

- The tagger runs on ``E`` excerpts of the song (29.12 s each, spread evenly over the song; ``E`` grows
  with the song's length up to ``max_excerpts`` in the tagger's config).
- In one excerpt a tag **passes** when its probability reaches its threshold (``thresholds`` in the
  tagger's config: one number, or one per tag), and the ``min_per_excerpt`` most probable tags of the
  excerpt always pass — so every excerpt contributes its strongest labels even when the model is unsure.
- A label's **count** is the number of excerpts it passes in (1…E); its **probability** is the mean
  probability over all excerpts. Labels that pass in no excerpt are not stored.
"""

from __future__ import annotations

import numpy as np


def count_labels(
    excerpt_probs: np.ndarray,
    names: list[str],
    thresholds: float | list[float] | np.ndarray = 0.5,
    min_per_excerpt: int = 3,
) -> dict[str, tuple[int, float]]:
    """``excerpt_probs``: (E, T) probabilities. Returns ``{label: (count, mean probability)}``."""
    probs = np.asarray(excerpt_probs, dtype=np.float32)
    if probs.ndim == 1:
        probs = probs[None, :]
    if probs.ndim != 2 or probs.shape[1] != len(names):
        raise ValueError(f"expected (excerpts, {len(names)}) probabilities, got {probs.shape}")
    if probs.shape[0] == 0:
        return {}
    thr = np.broadcast_to(np.asarray(thresholds, dtype=np.float32), (probs.shape[1],))
    passes = probs >= thr[None, :]
    k = int(min(max(min_per_excerpt, 0), probs.shape[1]))
    if k:
        top = np.argpartition(-probs, k - 1, axis=1)[:, :k]
        np.put_along_axis(passes, top, True, axis=1)
    counts = passes.sum(axis=0)
    means = probs.mean(axis=0)
    return {names[i]: (int(counts[i]), float(means[i])) for i in np.flatnonzero(counts)}


def excerpt_offsets(duration: float, excerpt_s: float, max_excerpts: int, *, with_centre: bool = False
                    ) -> list[float]:
    """Start times of the excerpts: one centred excerpt for a short song, up to ``max_excerpts`` spread
    evenly (non-overlapping where the song is long enough) for a long one: the ``n`` excerpts are centred
    at ``(i + 0.5) / n`` of the song.

    ``with_centre`` (the player's analysis, whose genre model reads the centre excerpt anyway): an even
    ``n`` takes the layout of ``n + 1`` excerpts without the first one (the intro), so the centre excerpt
    is always among them and is decoded once for both models."""
    if duration <= excerpt_s or max_excerpts <= 1:
        return [max(0.0, (duration - excerpt_s) / 2.0)]
    n = int(min(max_excerpts, max(1, duration // excerpt_s)))
    if n == 1:
        return [(duration - excerpt_s) / 2.0]
    if with_centre and n % 2 == 0:  # n + 1 places, the first one left out
        centres = [(i + 0.5) * duration / (n + 1) for i in range(1, n + 1)]
        return [min(max(0.0, c - excerpt_s / 2.0), duration - excerpt_s) for c in centres]
    # n windows evenly spaced between the start and the end, centres at (i + 0.5) / n of the song
    centres = [(i + 0.5) * duration / n for i in range(n)]
    return [min(max(0.0, c - excerpt_s / 2.0), duration - excerpt_s) for c in centres]

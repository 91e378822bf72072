"""From tag probabilities to a song's labels with counts (the TF of the recommender's TF-IDF).

Definition (also in docs/analysis.md and the tagger's model card):

- The tagger runs on ``E`` excerpts of the song (29.12 s each, spread evenly over the song; ``E`` grows
  with the song's length up to ``max_excerpts`` in the tagger's config).
- In one excerpt a tag **passes** when it is *shown* and its probability reaches its threshold; the
  ``min_per_excerpt`` most probable shown tags of the excerpt pass too (0 in the shipped rule: a song
  the model is unsure about gets fewer labels rather than wrong ones).
- A tag is a **label** of the song (``song_passes``) when its mean probability over the excerpts
  reaches its threshold (``mean``, the shipped rule; the mean is at most the highest excerpt, so the
  label passes in one excerpt at least), or when it passes in one excerpt at least (``excerpt``, the
  older rule).
- A label's **count** is the number of excerpts it passes in (1…E); its **probability** is the mean
  probability over all excerpts. Tags that are not labels are not stored.
- **Cap** (``among_top``, the shipped rule): a label must be among the song's ``among_top`` most
  probable tags by mean probability, all tags counted (hidden ones too, so that hiding or raising one tag
  never promotes a weaker one), so a song has at most ``among_top`` labels, its strongest. Or
  (``max_per_song``) at most that many labels, the strongest kept by ``rank``: ``probability`` (the mean
  probability), ``margin`` (its margin over the tag's threshold) or ``count`` (the count, then the
  margin).
- A **hidden** tag (``shown`` false) never becomes a label: its probability is still stored and still
  counts in the similarity vector, which uses all the tag probabilities.

Where the constants are, in the tagger's ``config.json``:

- the current format, a ``labels`` object: ``version``, ``thresholds`` (one per tag), ``shown`` (one
  true/false per tag), ``song_passes``, ``among_top``, ``max_per_song``, ``min_per_excerpt``, ``rank`` (what
  ``scripts/fit_label_thresholds.py`` writes);
- the older format (no ``labels`` object): ``thresholds`` (one number or one per tag, default 0.5) and
  ``analysis.min_per_excerpt`` (default 3); every tag shown, a label passes in one excerpt at least, no
  cap; rule version 1.

**From the stored mean** (:meth:`LabelRule.from_mean`, used to relabel a library without decoding its
audio again, :mod:`player.analysis.relabel`): only the mean over the excerpts is stored. With
``song_passes: mean`` that decides the labels exactly as the analysis does; only the counts are
estimated: a label gets ``n_excerpts`` (it passes in every excerpt when they agree, which they mostly
do; measured in the tagger's model card). With the older ``excerpt`` rule the mean is treated as one
excerpt, so tags that passed in one excerpt only are lost until the track is analysed again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import numpy as np

#: The rule version of a config without a ``labels`` object.
OLD_RULE_VERSION = 1
OLD_DEFAULT_THRESHOLD = 0.5
OLD_DEFAULT_MIN_PER_EXCERPT = 3
RANKS = ("margin", "probability", "count")
SONG_PASSES = ("mean", "excerpt")


class LabelRuleError(ValueError):
    """The label rule in a tagger's config.json is unusable; the message says what is wrong in words."""


def _strength(rank: str, counts: np.ndarray, means: np.ndarray, thr: np.ndarray) -> list:
    """Sort keys, strongest first (for ``sorted``): ties broken by the tag's position."""
    margin = means - thr
    if rank == "probability":
        return [(-float(means[i]), i) for i in range(len(means))]
    if rank == "count":
        return [(-int(counts[i]), -float(margin[i]), i) for i in range(len(means))]
    return [(-float(margin[i]), i) for i in range(len(means))]


def among_top_mask(probs: np.ndarray, k: int) -> np.ndarray:
    """bool (S, T): whether each tag is among its row's ``k`` most probable; of tags tied with the ``k``-th,
    the ones listed first (what a stable sort gives). False on a row with a NaN. One partition per row,
    no full sort (a library's 100,000 songs at once: the smart playlists' ``tag:`` of a hidden tag)."""
    probs = np.asarray(probs)
    nan_rows = np.isnan(probs).any(axis=1, keepdims=True)
    k = min(int(k), probs.shape[1])
    if k <= 0 or not len(probs):
        return np.zeros(probs.shape, bool)
    p = np.nan_to_num(probs, nan=-1.0)
    kth = -np.partition(-p, k - 1, axis=1)[:, k - 1:k]
    above = p > kth
    tied = p == kth
    top = above | tied & (np.cumsum(tied, axis=1) <= k - above.sum(axis=1, keepdims=True))
    return top & ~nan_rows


def count_labels(
    excerpt_probs: np.ndarray,
    names: list[str],
    thresholds: float | list[float] | np.ndarray = 0.5,
    min_per_excerpt: int = 3,
    *,
    shown: list[bool] | np.ndarray | None = None,
    max_per_song: int | None = None,
    rank: str = "margin",
    song_passes: str = "excerpt",
    among_top: int | None = None,
) -> dict[str, tuple[int, float]]:
    """``excerpt_probs``: (E, T) probabilities. Returns ``{label: (count, mean probability)}``.

    ``shown``: one flag per tag (default: every tag); ``max_per_song``: the cap (None: none);
    ``song_passes``: ``excerpt`` (a label passes in one excerpt at least) or ``mean`` (its mean passes);
    ``among_top``: a label must be among the song's that many most probable tags (None: no such rule)."""
    probs = np.asarray(excerpt_probs, dtype=np.float32)
    if probs.ndim == 1:
        probs = probs[None, :]
    if probs.ndim != 2 or probs.shape[1] != len(names):
        raise ValueError(f"expected (excerpts, {len(names)}) probabilities, got {probs.shape}")
    if probs.shape[0] == 0:
        return {}
    if rank not in RANKS:
        raise ValueError(f"rank must be one of {', '.join(RANKS)}, not {rank!r}")
    if song_passes not in SONG_PASSES:
        raise ValueError(f"song_passes must be one of {', '.join(SONG_PASSES)}, not {song_passes!r}")
    n_tags = probs.shape[1]
    thr = np.broadcast_to(np.asarray(thresholds, dtype=np.float32), (n_tags,))
    visible = np.ones(n_tags, bool) if shown is None else np.asarray(shown, dtype=bool).reshape(n_tags)
    passes = (probs >= thr[None, :]) & visible[None, :]
    forced = np.zeros_like(passes)
    k = int(min(max(min_per_excerpt, 0), int(visible.sum())))
    if k:
        ranked = np.where(visible[None, :], probs, -np.inf)  # hidden tags are never forced in
        top = np.argpartition(-ranked, k - 1, axis=1)[:, :k]
        np.put_along_axis(forced, top, True, axis=1)
        passes |= forced
    counts = passes.sum(axis=0)
    means = probs.mean(axis=0)
    if song_passes == "mean":  # the song decides on the mean; a forced tag is a label too
        labelled = (visible & (means >= thr)) | forced.any(axis=0)
        counts = np.where(labelled, np.maximum(counts, 1), 0)
    if among_top is not None:  # ties: the tag listed first wins
        counts = np.where(among_top_mask(means[None, :], among_top)[0], counts, 0)
    chosen = [int(i) for i in np.flatnonzero(counts)]
    if max_per_song is not None and len(chosen) > max_per_song:
        keys = _strength(rank, counts, means, thr)
        chosen = sorted(sorted(chosen, key=lambda i: keys[i])[:max(0, int(max_per_song))])
    return {names[i]: (int(counts[i]), float(means[i])) for i in chosen}


@dataclass(frozen=True, eq=False)
class LabelRule:
    """The label rule of one tagger, read from its config.json (:meth:`from_config`)."""

    thresholds: np.ndarray  # float32 (T,)
    shown: np.ndarray  # bool (T,)
    max_per_song: int | None = None  # None: no cap
    min_per_excerpt: int = OLD_DEFAULT_MIN_PER_EXCERPT
    rank: str = "margin"
    version: int = OLD_RULE_VERSION
    song_passes: str = "excerpt"
    among_top: int | None = None  # None: no rank rule

    @classmethod
    def from_config(cls, config: dict, n_tags: int | None = None) -> "LabelRule":
        """The rule in a tagger's ``config.json`` (either format, see the module's docstring).
        Raises :class:`LabelRuleError` in words when it is unusable."""
        if not isinstance(config, dict):
            raise LabelRuleError("the tagger's config is not a JSON object")
        n = int(n_tags if n_tags is not None else config.get("n_classes", 0) or 0)
        if n <= 0:
            raise LabelRuleError("the tagger's config does not say how many tags it has (n_classes)")
        section = config.get("labels")
        if section is None:  # the older format
            analysis = config.get("analysis") or {}
            thr = _thresholds(config.get("thresholds", OLD_DEFAULT_THRESHOLD), n, "thresholds")
            return cls(thresholds=thr, shown=np.ones(n, bool), max_per_song=None,
                       min_per_excerpt=_count(analysis.get("min_per_excerpt", OLD_DEFAULT_MIN_PER_EXCERPT),
                                              "analysis.min_per_excerpt", minimum=0),
                       rank="margin", version=OLD_RULE_VERSION, song_passes="excerpt")
        if not isinstance(section, dict):
            raise LabelRuleError("the tagger's config: 'labels' must be an object")
        if "thresholds" not in section:
            raise LabelRuleError("the tagger's config: 'labels' has no thresholds")
        thr = _thresholds(section["thresholds"], n, "labels.thresholds")
        shown_raw = section.get("shown", True)
        if isinstance(shown_raw, bool):
            shown = np.full(n, shown_raw, bool)
        elif isinstance(shown_raw, list) and len(shown_raw) == n and all(isinstance(x, bool) for x in shown_raw):
            shown = np.asarray(shown_raw, bool)
        else:
            raise LabelRuleError(f"the tagger's config: labels.shown must be {n} values true or false, one per tag")
        cap = section.get("max_per_song")
        top = section.get("among_top")
        rank = section.get("rank", "margin")
        if rank not in RANKS:
            raise LabelRuleError(f"the tagger's config: labels.rank must be one of {', '.join(RANKS)}")
        song_passes = section.get("song_passes", "mean")
        if song_passes not in SONG_PASSES:
            raise LabelRuleError(f"the tagger's config: labels.song_passes must be one of {', '.join(SONG_PASSES)}")
        version = section.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise LabelRuleError("the tagger's config: labels.version must be a whole number of at least 1")
        return cls(thresholds=thr, shown=shown,
                   max_per_song=None if cap is None else _count(cap, "labels.max_per_song", minimum=1),
                   min_per_excerpt=_count(section.get("min_per_excerpt", 0), "labels.min_per_excerpt", minimum=0),
                   rank=rank, version=version, song_passes=song_passes,
                   among_top=None if top is None else _count(top, "labels.among_top", minimum=1))

    @property
    def n_tags(self) -> int:
        return int(len(self.thresholds))

    @property
    def key(self) -> str:
        """What a library records for the rule its labels were written with: the version and a digest
        of every constant, so that a changed threshold relabels even when the version was not bumped."""
        data = json.dumps({"thresholds": [round(float(t), 6) for t in self.thresholds],
                           "shown": [bool(s) for s in self.shown], "max_per_song": self.max_per_song,
                           "min_per_excerpt": self.min_per_excerpt, "rank": self.rank,
                           "song_passes": self.song_passes, "among_top": self.among_top}, sort_keys=True)
        return f"{self.version}:{hashlib.sha1(data.encode('ascii')).hexdigest()[:12]}"

    def _check(self, names) -> None:
        if len(names) != self.n_tags:
            raise ValueError(f"the label rule is for {self.n_tags} tags, not {len(names)}")

    def count(self, excerpt_probs: np.ndarray, names: list[str]) -> dict[str, tuple[int, float]]:
        """The labels of one song from its (E, T) per-excerpt probabilities: ``{label: (count, mean)}``."""
        self._check(names)
        return count_labels(excerpt_probs, names, self.thresholds, self.min_per_excerpt, shown=self.shown,
                            max_per_song=self.max_per_song, rank=self.rank, song_passes=self.song_passes,
                            among_top=self.among_top)

    def from_mean(self, mean_probs: np.ndarray, n_excerpts: int, names: list[str]) -> dict[str, tuple[int, float]]:
        """The labels estimated from the stored mean over ``n_excerpts`` excerpts (the module's docstring):
        the mean is treated as one excerpt, and a label that passes gets the count ``n_excerpts``."""
        self._check(names)
        mean = np.asarray(mean_probs, dtype=np.float32).reshape(1, self.n_tags)
        one = count_labels(mean, names, self.thresholds, self.min_per_excerpt, shown=self.shown,
                           max_per_song=self.max_per_song, rank=self.rank, song_passes=self.song_passes,
                           among_top=self.among_top)
        n = max(1, int(n_excerpts))
        return {name: (n, prob) for name, (_c, prob) in one.items()}


    def from_means(self, means: np.ndarray, n_excerpts, names: list[str]) -> list[dict[str, tuple[int, float]]]:
        """:meth:`from_mean` for many songs at once (a library: one vectorised pass): ``means`` (S, T),
        ``n_excerpts`` one count per song."""
        self._check(names)
        m = np.asarray(means, dtype=np.float32).reshape(-1, self.n_tags)
        n = np.maximum(1, np.asarray(n_excerpts, dtype=np.int64).reshape(len(m)))
        if not len(m):
            return []
        labelled = (m >= self.thresholds[None, :]) & self.shown[None, :]
        k = int(min(self.min_per_excerpt, int(self.shown.sum())))
        if k:
            ranked = np.where(self.shown[None, :], m, -np.inf)
            np.put_along_axis(labelled, np.argpartition(-ranked, k - 1, axis=1)[:, :k], True, axis=1)
        if self.among_top is not None:
            labelled &= among_top_mask(m, self.among_top)
        out = []
        for i in range(len(m)):
            chosen = np.flatnonzero(labelled[i])
            if self.max_per_song is not None and len(chosen) > self.max_per_song:
                keys = _strength(self.rank, labelled[i].astype(np.int64), m[i], self.thresholds)
                chosen = sorted(sorted(chosen.tolist(), key=lambda j: keys[j])[:self.max_per_song])
            count = int(n[i])
            out.append({names[j]: (count, float(m[i, j])) for j in chosen})
        return out


def _thresholds(value, n: int, where: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise LabelRuleError(f"the tagger's config: {where} must be a number or {n} numbers") from None
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise LabelRuleError(f"the tagger's config: {where} has {arr.size} values, the tagger has {n} tags")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr > 1):
        raise LabelRuleError(f"the tagger's config: {where} must lie between 0 and 1")
    return arr.astype(np.float32)


def _count(value, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise LabelRuleError(f"the tagger's config: {where} must be a whole number of at least {minimum}")
    return int(value)


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

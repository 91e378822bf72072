"""From scores to a list: the best songs taken greedily under the exclusions and run limits.

* at most ``max_artist_run`` songs of one artist and ``max_album_run`` of one album in a row (counting
  the song playing now); a song that would break a run waits for the next slot;
* at most ``max_familiar_fraction`` of the list are songs the listener already rated or played;
* a library of one artist still fills the list (the run limit gives way last).

:func:`cold_order` is the starter list's ranking for a listener we know nothing about.
"""

from __future__ import annotations

import numpy as np

from player.recommend.index import LibraryIndex
from player.recommend.settings import RecommendSettings


def run_context(index: LibraryIndex, settings: RecommendSettings, source, user_id: int, current: int) -> list[int]:
    """The songs before the first pick, for the run limits: the current song, else the latest plays."""
    if current >= 0:
        return [current]
    recent = index.positions(source.recent(user_id, max(settings.max_artist_run, settings.max_album_run)))
    return [int(x) for x in recent[::-1] if x >= 0]


def select(index: LibraryIndex, settings: RecommendSettings, score: np.ndarray | None, eligible: np.ndarray,
           n: int, before: list[int], familiar: np.ndarray, order: np.ndarray | None = None) -> list[int]:
    """The best ``n`` eligible songs, greedily, under the artist/album run limits and the cap on
    familiar songs. ``order`` (a precomputed ranking) replaces ``score`` when given; ``before``: the
    songs just played (see :func:`run_context`)."""
    cand = np.flatnonzero(eligible)
    if cand.size == 0:
        return []
    max_familiar = int(np.ceil(n * settings.max_familiar_fraction))
    T = index.n_tracks
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
            top = idx[np.lexsort((index.track_ids[idx], -score[idx]))]
        picks, exhausted = _greedy(index, settings, top, n, before, familiar, max_familiar)
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


def _greedy(index, settings, top, n, before, familiar, max_familiar) -> tuple[list[int], bool]:
    seq = list(before)
    picks: list[int] = []
    deferred: list[int] = []
    n_familiar = 0
    limits = ((index.artist_code, settings.max_artist_run), (index.album_code, settings.max_album_run))

    def fits(j):
        for code, limit in limits:
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


def cold_order(index: LibraryIndex, popularity: np.ndarray) -> np.ndarray:
    """The starter list's ranking: every song's strongest label is its "kind"; kinds are visited
    round-robin, most common first, each giving its most played, then most strongly labelled song;
    unlabelled songs come last."""
    T = index.n_tracks
    dominant, strength = index.strongest_labels
    df = index.df
    # labels by how many songs have them (most common first), unlabelled songs last
    label_rank = np.r_[np.argsort(np.argsort(-df, kind="stable"), kind="stable"), len(df)]
    group = label_rank[np.where(dominant >= 0, dominant, len(df))]
    # rank inside each group: popular, then strongly labelled, then by id
    inner = np.lexsort((index.track_ids, -strength, -popularity, group))
    rank_in_group = np.empty(T, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(group[inner])) + 1]
    sizes = np.diff(np.r_[starts, T])
    rank_in_group[inner] = np.arange(T) - np.repeat(starts, sizes)
    # round robin: the best of each label first, then the second of each …, unlabelled at the end
    return np.lexsort((group, rank_in_group, dominant < 0))

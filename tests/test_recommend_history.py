"""player.recommend.history: seed 002's co-occurrence score against a brute-force Jaccard, sessions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from player.recommend.history import ListenerCooccurrence, incidence, jaccard_sparse, sessions_from_plays


def brute_jaccard(baskets: list[set], S: set, n_items: int) -> np.ndarray:
    out = np.zeros(n_items)
    holders = [{b for b, items in enumerate(baskets) if i in items} for i in range(n_items)]
    for i in range(n_items):
        total = 0.0
        for j in S:
            union = holders[i] | holders[j]
            total += len(holders[i] & holders[j]) / len(union) if union else 0.0
        out[i] = total / len(S) if S else 0.0
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sets(st.integers(0, 7), max_size=6), min_size=1, max_size=70), st.integers(0, 69))
def test_history_scores_match_the_seed_formula(baskets, who):
    who = who % len(baskets)
    n_items = 8
    basket = np.array([b for b, items in enumerate(baskets) for _ in items], dtype=np.int64)
    item = np.array([i for items in baskets for i in items], dtype=np.int64)
    want = brute_jaccard(baskets, baskets[who], n_items)
    # listeners as baskets (bitmask groups, > 64 baskets uses several words)
    got = ListenerCooccurrence(n_items, basket, item, len(baskets)).scores(who)
    assert got == pytest.approx(want, abs=1e-12)
    # the same formula as a sparse product (used for sessions)
    B = incidence(basket, item, len(baskets), n_items)
    assert jaccard_sparse(B, np.array(sorted(baskets[who]), dtype=np.int64)) == pytest.approx(want, abs=1e-12)


def test_history_by_hand():
    # listeners: 0 played {a, b}, 1 played {a, b, c}, 2 played {c, d}
    baskets = [{0, 1}, {0, 1, 2}, {2, 3}]
    basket = np.array([0, 0, 1, 1, 1, 2, 2])
    item = np.array([0, 1, 0, 1, 2, 2, 3])
    got = ListenerCooccurrence(4, basket, item, 3).scores(0)
    # for listener 0 (S = {a, b}): c is held by {1, 2}; J(c, a) = |{1}| / |{0, 1, 2}| = 1/3, same for b
    assert got[2] == pytest.approx(1 / 3)
    assert got[3] == 0.0  # d never met a or b
    assert got[0] == pytest.approx(1.0)
    assert got == pytest.approx(brute_jaccard(baskets, {0, 1}, 4))


def test_history_in_small_chunks_is_the_same(monkeypatch):
    import player.recommend.history as history

    rng = np.random.default_rng(3)
    baskets = [set(rng.choice(30, size=rng.integers(1, 12), replace=False).tolist()) for _ in range(90)]
    basket = np.array([b for b, items in enumerate(baskets) for _ in items], dtype=np.int64)
    item = np.array([i for items in baskets for i in items], dtype=np.int64)
    whole = ListenerCooccurrence(30, basket, item, 90).scores(4)
    monkeypatch.setattr(history, "CHUNK_CELLS", 5)  # a handful of groups at a time
    chunked = ListenerCooccurrence(30, basket, item, 90).scores(4)
    assert chunked == pytest.approx(whole, abs=1e-12)
    assert chunked == pytest.approx(brute_jaccard(baskets, baskets[4], 30), abs=1e-12)


def test_sessions_split_on_gaps_and_listeners():
    user = np.array([1, 1, 1, 2, 1])
    t = np.array([0.0, 100.0, 5000.0, 110.0, 5100.0])
    s = sessions_from_plays(user, t, gap_s=1800)
    assert s[0] == s[1] != s[2] == s[4]
    assert s[3] not in (s[0], s[2])

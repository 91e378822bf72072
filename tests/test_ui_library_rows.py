"""The library table's sorts (player/ui/library_rows.py): the fast paths for big libraries give the
order Python's sorted() gives."""

from __future__ import annotations

import random

import pytest

from player.ui.library_rows import SORT_CHUNK, _key_text, order_by_rank, sorted_bounded, text_rank


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("size", [50, 2 * SORT_CHUNK + 5])
def test_order_by_rank_matches_sorted(descending, size):
    """Small lists sort in Python, big ones by one numpy argsort of the ranks."""
    rng = random.Random(3)
    n = 3 * SORT_CHUNK + 17
    rank = list(range(n))
    rng.shuffle(rank)
    idx = rng.sample(range(n), 2 * SORT_CHUNK + 5)[:size]
    assert order_by_rank(idx, rank, descending) == sorted(idx, key=rank.__getitem__, reverse=descending)


def test_sorted_bounded_matches_sorted():
    """The chunked merge gives sorted()'s order."""
    rng = random.Random(3)
    n = 3 * SORT_CHUNK + 17
    keys = [rng.randrange(50) for _ in range(n)]
    assert sorted_bounded(range(n), key=lambda i: (keys[i], i)) == sorted(range(n), key=lambda i: (keys[i], i))


def test_text_rank_orders_like_the_python_key():
    """Genre and tag columns rank with numpy; the order must be the one the Python sort key gives
    (unknown last, ASCII case folded, then the second column, then id)."""
    rng = random.Random(5)
    words = ["", None, "Rock", "rock", "ROCK", "Électro", "electro", "jazz", "Jazz Fusion", "zeta", "Äb", "a b"]
    n = 5000
    first = [rng.choice(words) for _ in range(n)]
    second = [rng.choice(words) for _ in range(n)]
    ids = rng.sample(range(10 * n), n)
    rank = text_rank([first, second], ids)
    expected = sorted(range(n), key=lambda i: (_key_text(first[i]), _key_text(second[i]), ids[i]))
    assert [i for _, i in sorted(zip(rank, range(n)))] == expected

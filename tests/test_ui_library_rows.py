"""The library table's sorts (player/ui/library_rows.py): the fast paths for big libraries give the
order Python's sorted() gives."""

from __future__ import annotations

import random

import pytest

from player.ui.library_rows import (ID, SHOWN_CHARS, SORT_CHUNK, TITLE, OrderSpec, _key_text, as_track_row,
                                    compute_order, load_rows, order_by_rank, sorted_bounded, text_rank)

BIG_TITLE = "lorem ipsum " * (1_000_000 // 12) + "zanzibarquux"


def _add_tracks(library, titles):
    import time

    now = time.time()
    with library.db.transaction() as c:
        c.executemany(
            "INSERT INTO tracks(path_raw, path, title, artist, album, duration, format, size, mtime, added_at, "
            "updated_at, status) VALUES (?, ?, ?, 'Artist', 'Album', 200.0, 'flac', 1, ?, ?, ?, 'ok')",
            [(f"/music/{k}.flac".encode(), f"/music/{k}.flac", t, now, now, now) for k, t in enumerate(titles)])


def test_a_1mb_title_is_shown_cut_and_found_by_a_word_at_its_end(library):
    """Laying out a 1 MB title took a second per repaint: the table gets a few hundred characters,
    search still reads the whole title."""
    _add_tracks(library, ["Short song", BIG_TITLE, "Another one"])
    snap = load_rows(library, None)
    big = next(as_track_row(r) for r in snap.rows if r[TITLE].startswith("lorem"))
    assert len(big.title) == SHOWN_CHARS and big.title.endswith("…")
    assert next(r for r in snap.rows if r[TITLE] == "Short song")  # short ones untouched
    found = compute_order(snap, OrderSpec(query="ZANZIBARQUUX"))
    assert [snap.rows[i][ID] for i in found.rows] == [big.id]
    assert found.vis.get(big.id) == 0


def test_display_rows_match_a_dict_of_the_shown_rows(library):
    """Track id -> display row comes from one numpy array, not a dict of every row; filtered rows
    have none."""
    _add_tracks(library, [f"Song {k}" for k in range(300)])
    snap = load_rows(library, None)
    order = compute_order(snap, OrderSpec(query="song 1", sort_col=0, descending=True))
    expected = {snap.rows[i][ID]: n for n, i in enumerate(order.rows)}
    assert 0 < len(expected) < 300
    assert {r[ID]: order.vis.get(r[ID]) for r in snap.rows} == {r[ID]: expected.get(r[ID]) for r in snap.rows}
    assert order.vis.get(10**9) is None


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
    assert [i for _, i in sorted(zip(rank.tolist(), range(n)))] == expected


def test_rows_are_left_alone_by_the_cycle_collector(library):
    """A full collection walks every container it tracks while holding the interpreter lock (~45 ms at
    100,000 rows of named tuples): the snapshot's rows are plain tuples of strings and numbers, which
    the collector stops tracking, and repeated artist and album texts are one string each."""
    import gc

    _add_tracks(library, [f"Song {k}" for k in range(50)])
    snap = load_rows(library, None)
    gc.collect()
    assert not any(gc.is_tracked(r) for r in snap.rows)
    assert len({id(r[2]) for r in snap.rows}) == 1 and len({id(r[3]) for r in snap.rows}) == 1


@pytest.mark.parametrize("descending", [False, True])
def test_sorting_by_stars_puts_the_most_stars_first_then_the_library_order(library, descending):
    from dataclasses import replace

    _add_tracks(library, [f"Song {k:02d}" for k in range(40)])
    snap = load_rows(library, None)
    rng = random.Random(7)
    stars = {r[ID]: rng.choice([0, 0, 1, 3, 5]) for r in snap.rows}
    snap = replace(snap, stars=stars)
    order = compute_order(snap, OrderSpec(sort_col=4, descending=descending), library=library)
    expected = sorted(range(len(snap.rows)), key=lambda i: (-stars[snap.rows[i][ID]], i), reverse=descending)
    assert order.rows == expected

"""Hand-computed TF-IDF, profiles and cosines; the history formula; settings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from player.recommend import Recommender, RecommendSettings
from player.recommend.history import ListenerCooccurrence, incidence, jaccard_sparse, sessions_from_plays
from player.recommend.vectors import profile_weights, tfidf_matrix
from test_recommend_support import add_tracks

L3, L2 = math.log10(3), math.log10(2)


@pytest.fixture
def three(library):
    """s1: rock x2, guitar x1 · s2: rock, piano · s3: piano x3 (N = 3)."""
    ids = add_tracks(library, [
        {"title": "s1", "artist": "A", "labels": {"rock": 2, "guitar": 1}, "embedding": [1, 0] + [0] * 30},
        {"title": "s2", "artist": "B", "labels": {"rock": 1, "piano": 1}, "embedding": [1, 1] + [0] * 30},
        {"title": "s3", "artist": "C", "labels": {"piano": 3}, "embedding": [0, 1] + [0] * 30},
    ])
    return ids


def vec(rec, tid):
    row = rec.X[rec.position(tid)].toarray().ravel()
    return {rec.label_names[i]: row[i] for i in np.flatnonzero(row)}


def test_tfidf_by_hand(library, three):
    rec = Recommender.from_library(library)
    idf = dict(zip(rec.label_names, rec.idf))
    # IDF = log10(N) - log10(DF): rock and piano are in 2 of 3 songs, guitar in 1
    assert idf["rock"] == pytest.approx(L3 - L2, abs=1e-15)
    assert idf["piano"] == pytest.approx(L3 - L2, abs=1e-15)
    assert idf["guitar"] == pytest.approx(L3, abs=1e-15)
    # s1: (2 * idf_rock, 1 * idf_guitar) / length
    r, g = 2 * (L3 - L2), L3
    n = math.hypot(r, g)
    v1 = vec(rec, three[0])
    assert v1["rock"] == pytest.approx(r / n, abs=1e-15)
    assert v1["guitar"] == pytest.approx(g / n, abs=1e-15)
    assert v1["rock"] == pytest.approx(0.5938759, abs=1e-7)
    # s2: rock and piano with the same weight -> 1/sqrt(2) each; s3: piano alone -> 1
    assert vec(rec, three[1]) == pytest.approx({"rock": 2 ** -0.5, "piano": 2 ** -0.5})
    assert vec(rec, three[2]) == pytest.approx({"piano": 1.0})


def test_seed_profile_and_cosine_by_hand(library, three):
    u = library.add_user("ali")
    library.rate(u.id, three[0], 2)  # seed mode ignores the stars
    rec = Recommender.from_library(library, RecommendSettings(mode="seed"))
    s = rec.profile_scores(u.id)
    r, g = 2 * (L3 - L2), L3
    rock1 = r / math.hypot(r, g)
    assert s[rec.position(three[0])] == pytest.approx(1.0, abs=1e-12)
    assert s[rec.position(three[1])] == pytest.approx(rock1 * 2 ** -0.5, abs=1e-12)  # 0.41993
    assert s[rec.position(three[2])] == 0.0


def test_stars_profile_pulls_and_pushes_by_hand(library, three):
    u = library.add_user("ali")
    library.rate(u.id, three[0], 5)
    library.rate(u.id, three[2], 1)
    rec = Recommender.from_library(library)  # stars mode
    # p = s1 - 0.5 * s3 (pull: the 5-star song; push: half the 1-star song)
    r, g = 2 * (L3 - L2), L3
    rock1, guitar1 = r / math.hypot(r, g), g / math.hypot(r, g)
    p = {"rock": rock1, "guitar": guitar1, "piano": -0.5}
    norm = math.sqrt(sum(v * v for v in p.values()))
    prof = rec.label_profile(u.id)
    assert [k for k, _ in prof] == ["guitar", "rock", "piano"]  # strongest first
    assert dict(prof) == pytest.approx(p, abs=1e-12)
    s = rec.profile_scores(u.id)
    want_s2 = (rock1 * 2 ** -0.5 - 0.5 * 2 ** -0.5) / norm
    assert s[rec.position(three[1])] == pytest.approx(want_s2, abs=1e-12)
    assert s[rec.position(three[2])] == pytest.approx(-0.5 / norm, abs=1e-12)


def test_profile_weights_formula():
    w = profile_weights(np.array([5, 4, 3, 2, 1]), "stars", (-1, -0.5, 0, 0.5, 1), 0.5)
    # liked: 1 and 0.5 over their sum 1.5; disliked: 0.5 * (-0.5, -1) over 1.5; 3 stars: 0
    assert w == pytest.approx([1 / 1.5, 0.5 / 1.5, 0.0, -0.5 * 0.5 / 1.5, -0.5 * 1 / 1.5])
    assert profile_weights(np.array([1, 3, 5]), "seed", (-1, -0.5, 0, 0.5, 1), 0.5) == pytest.approx([1, 1, 1])
    assert profile_weights(np.array([3, 3]), "stars", (-1, -0.5, 0, 0.5, 1), 0.5) == pytest.approx([0, 0])


def test_label_in_every_song_gives_zero_vectors_not_nan():
    X, idf, df = tfidf_matrix(np.array([0, 1, 1]), np.array([0, 0, 1]), np.array([3.0, 1.0, 1.0]), 3, 2)
    assert idf[0] == 0.0 and df.tolist() == [2, 1]
    assert X[0].nnz == 0  # song 0 has only the label every (labelled) song has
    assert np.isfinite(X.data).all()
    assert X[1].toarray().ravel() == pytest.approx([0.0, 1.0])
    assert X[2].nnz == 0  # no labels at all


def test_embedding_cosine_by_hand(library, three):
    rec = Recommender.from_library(library)
    out = rec.similar(three[0], n=5)
    # s1 = (1, 0): s2 = (1, 1) at cos 1/sqrt(2), s3 = (0, 1) at cos 0
    assert [r.track_id for r in out] == [three[1], three[2]]
    assert out[0].score == pytest.approx(2 ** -0.5, abs=1e-6)
    assert out[1].score == pytest.approx(0.0, abs=1e-6)
    assert "sounds alike" in out[0].reason and out[0].analysed


# -- history: seed 002's co-occurrence score -------------------------------------------------
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


# -- settings ------------------------------------------------------------------------------------
def test_settings_validate_and_round_trip(library):
    with pytest.raises(ValueError, match="mode"):
        RecommendSettings(mode="magic")
    with pytest.raises(ValueError, match="weight_history"):
        RecommendSettings(weight_history=-1)
    with pytest.raises(ValueError, match="star_weights"):
        RecommendSettings(star_weights=(1, 2))
    with pytest.raises(ValueError, match="max_artist_run"):
        RecommendSettings(max_artist_run=0)
    s = RecommendSettings(mode="seed", weight_mood=2.0, max_artist_run=3)
    assert RecommendSettings.from_json(s.to_json()) == s
    s.save(library)
    assert RecommendSettings.load(library) == s
    library.db.set_setting(RecommendSettings.SETTINGS_KEY, "{not json")
    assert RecommendSettings.load(library) == RecommendSettings()  # unreadable: defaults

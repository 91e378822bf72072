"""player.recommend.vectors and the index built from them: TF-IDF, profiles and cosines by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from player.recommend import Recommender, RecommendSettings
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
    rec = Recommender.from_library(library, space="raw")  # seed 000's space: the embeddings as they are
    out = rec.similar(three[0], n=5)
    # s1 = (1, 0): s2 = (1, 1) at cos 1/sqrt(2), s3 = (0, 1) at cos 0
    assert [r.track_id for r in out] == [three[1], three[2]]
    assert out[0].score == pytest.approx(2 ** -0.5, abs=1e-6)
    assert out[1].score == pytest.approx(0.0, abs=1e-6)
    assert "sounds alike" in out[0].reason and out[0].analysed
    # the player's space: the unit embeddings less their mean over the library, m = (1 + h, h) / 3 with
    # h = 1/sqrt(2) in both coordinates: s1 - m = (a, -b), s2 - m = (c, c), s3 - m = (-b, a)
    h = 2 ** -0.5
    m = (1 + h) / 3
    a, b, c = 1 - m, m, h - m
    joint = Recommender.from_library(library).similar(three[0], n=5)
    assert [r.track_id for r in joint] == [three[1], three[2]]
    assert joint[0].score == pytest.approx((a * c - b * c) / (np.hypot(a, b) * np.hypot(c, c)), abs=1e-5)
    assert joint[1].score == pytest.approx(-2 * a * b / (a * a + b * b), abs=1e-5)

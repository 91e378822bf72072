"""Duplicate grouping (player/recommend/duplicates.py) on constructed vectors and lengths."""

from __future__ import annotations

import numpy as np
import pytest

from player.recommend.duplicates import (DuplicateFile, DuplicateInputs, Params, choose_keep, find_duplicates,
                                         find_duplicates_naive, group_pairs)


def unit(x):
    x = np.asarray(x, np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def songs(n: int, d: int = 24, seed: int = 0):
    return unit(np.random.default_rng(seed).standard_normal((n, d)))


def near(v, cos: float, seed: int = 1):
    """A unit vector at exactly ``cos`` from unit ``v``."""
    r = np.random.default_rng(seed).standard_normal(v.shape).astype(np.float64)
    r -= r.dot(v) * v
    r /= np.linalg.norm(r)
    return unit(cos * v + np.sqrt(1 - cos * cos) * r)


def test_re_encodes_are_grouped_and_other_songs_are_not():
    base = songs(3)
    noise = np.random.default_rng(5).standard_normal((6, 24)) * 0.01
    vecs = unit(np.vstack([base[0], base[0] + noise[0], base[0] + noise[1], base[1], base[1] + noise[2], base[2]]))
    durs = [200.0, 200.03, 199.98, 150.0, 150.05, 200.1]
    inputs = DuplicateInputs([1, 2, 3, 4, 5, 6], durs, vecs, embeddings=vecs, tags=vecs)
    assert find_duplicates(inputs) == [[1, 2, 3], [4, 5]]


def test_different_songs_of_nearly_the_same_length_are_not_grouped():
    a = songs(1)[0]
    b = near(a, 0.93)  # two tracks of one soundtrack: close, but not the same recording
    vecs = np.vstack([a, b])
    inputs = DuplicateInputs([10, 11], [180.0, 180.02], vecs, embeddings=vecs, tags=vecs)
    assert find_duplicates(inputs) == []
    # the same pair passes when the models are asked to agree less: the vectors decided
    assert find_duplicates(inputs, Params(min_embedding=0.9, min_tags=0.9)) == [[10, 11]]


def test_a_truncated_copy_is_not_a_duplicate():
    a = songs(1)[0]
    inputs = DuplicateInputs([1, 2, 3], [240.0, 228.0, 240.04], np.vstack([a, a, a]))
    assert find_duplicates(inputs) == [[1, 3]]


def test_both_models_have_to_agree():
    a = songs(2, seed=3)
    joint = np.vstack([a[0], a[0]])
    emb = np.vstack([a[0], near(a[0], 0.2)])  # the genre embeddings disagree
    inputs = DuplicateInputs([1, 2], [100.0, 100.0], joint, embeddings=emb, tags=joint)
    assert find_duplicates(inputs) == []
    inputs = DuplicateInputs([1, 2], [100.0, 100.0], joint, embeddings=joint, tags=emb)
    assert find_duplicates(inputs) == []
    inputs = DuplicateInputs([1, 2], [100.0, 100.0], joint, embeddings=joint, tags=joint)
    assert find_duplicates(inputs) == [[1, 2]]


def test_a_chain_of_near_matches_does_not_join_its_ends():
    """A ~ B and B ~ C, but A is not C: complete linkage keeps A and C apart."""
    x, y = np.eye(4, dtype=np.float32)[:2]
    theta = np.arccos(0.985)  # above the thresholds; two steps (cos 0.94) are below them
    vecs = np.vstack([np.cos(k * theta) * x + np.sin(k * theta) * y for k in range(3)])
    inputs = DuplicateInputs([1, 2, 3], [120.0, 120.01, 120.02], vecs, embeddings=vecs, tags=vecs)
    groups = find_duplicates(inputs)
    assert len(groups) == 1 and len(groups[0]) == 2 and groups[0] != [1, 3]
    # a fourth copy of B's neighbourhood that matches everybody joins the group it fits, not both
    assert group_pairs(np.array([0, 1]), np.array([1, 2]), np.array([0.99, 0.99])) == [[0, 1]]


def test_songs_without_vectors_or_lengths_are_left_out():
    a = songs(1)[0]
    vecs = np.vstack([a, a, np.zeros_like(a), a, np.full_like(a, np.nan)])
    inputs = DuplicateInputs([1, 2, 3, 4, 5], [90.0, 90.0, 90.0, np.nan, 90.0], vecs)
    assert inputs.usable.tolist() == [True, True, False, False, False]
    assert find_duplicates(inputs) == [[1, 2]]
    empty = DuplicateInputs([], np.zeros(0), np.zeros((0, 4)))
    assert find_duplicates(empty) == [] and find_duplicates_naive(empty) == []


def test_the_length_window_grows_with_the_length():
    a = songs(1)[0]
    inputs = DuplicateInputs([1, 2, 3, 4, 5], [30.0, 30.2, 3000.0, 3002.5, 30.5], np.vstack([a] * 5))
    assert find_duplicates(inputs) == [[1, 2], [3, 4]]  # 0.2 s: under 0.25 s; 2.5 s: under 0.1 % of 50 min
    assert find_duplicates(inputs, Params(length_tol_s=0.1, length_tol_rel=0.0)) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_length_window_finds_what_comparing_every_pair_finds(seed):
    rng = np.random.default_rng(seed)
    n = 600
    centres = songs(60, d=16, seed=seed)
    vecs = unit(centres[rng.integers(0, 60, n)] + 0.03 * rng.standard_normal((n, 16)))
    durs = np.round(rng.uniform(100, 106, n), 1)  # many within the window of each other
    durs[rng.choice(n, 20, replace=False)] = np.nan
    vecs[rng.choice(n, 20, replace=False)] = 0
    emb = unit(vecs + 0.02 * rng.standard_normal(vecs.shape))
    inputs = DuplicateInputs(rng.permutation(n) + 1, durs, vecs, embeddings=emb, tags=vecs)
    params = Params(min_joint=0.985, min_embedding=0.97, min_tags=0.985)
    fast = find_duplicates(inputs, params)
    assert fast == find_duplicates_naive(inputs, params)
    assert len(fast) >= 5 and any(len(g) > 2 for g in fast)  # the data had matches, and groups of three


def file(id_, fmt, kbps, tags=2):
    return DuplicateFile(id_, f"/m/{id_}.{fmt}", 200.0, fmt, 44100, 2, kbps, tags, "song")


def test_the_file_to_keep_is_lossless_then_the_highest_bit_rate_then_the_most_tags():
    best, why = choose_keep([file(1, "mp3", 320), file(2, "flac", 900), file(3, "opus", 128)])
    assert best.id == 2 and why.startswith("lossless (FLAC)")
    best, why = choose_keep([file(1, "opus", 128), file(2, "mp3", 192)])
    assert best.id == 2 and why == "the highest bit rate (about 192 kbit/s)"
    best, why = choose_keep([file(1, "mp3", 192, tags=1), file(2, "mp3", 190, tags=5)])
    assert best.id == 2 and why == "the most tags (5)"
    best, why = choose_keep([file(4, "ogg", 160), file(3, "ogg", 160)])
    assert best.id == 3 and "imported first" in why


def test_the_tag_block_compares_log_probabilities_by_their_correlation():
    from player.recommend.duplicates import tag_block

    rng = np.random.default_rng(4)
    p = rng.uniform(0.001, 0.9, (3, 50)).astype(np.float32)
    p[2] = np.nan  # a row of another tagger's length
    block = tag_block(p)
    logs = np.log(np.clip(p[:2], 1e-4, 1))
    assert float(block[0] @ block[1]) == pytest.approx(np.corrcoef(logs)[0, 1], abs=1e-5)
    assert np.allclose(np.linalg.norm(block[:2], axis=1), 1) and not block[2].any()
    assert tag_block(None) is None
    # the same probabilities scaled (a louder copy the tagger heard alike) correlate fully
    pair = tag_block(np.vstack([p[0], np.clip(p[0] * 1.05, 0, 1)]))
    assert float(pair[0] @ pair[1]) > 0.999


def test_inputs_follow_the_track_ids_and_leave_songs_not_analysed_out():
    from player.analysis.store import AnalysisArrays
    from player.recommend.duplicates import inputs_from_arrays

    rng = np.random.default_rng(2)
    emb = unit(rng.standard_normal((3, 32)))
    tags = rng.uniform(0.01, 0.9, (3, 50)).astype(np.float32)
    arrays = AnalysisArrays("tagger@1+cnn_lstm@1", np.array([2, 5, 9]), None, tags, None, None, emb, {},
                            tag_values=tags)
    inputs = inputs_from_arrays([9, 3, 2, 5], [100.0, 100.0, None, 100.0], arrays)
    assert inputs.ids.tolist() == [9, 3, 2, 5]
    assert inputs.usable.tolist() == [True, False, False, True]  # 3: not analysed; 2: no length
    assert np.allclose(inputs.embeddings[0], emb[2]) and np.allclose(inputs.embeddings[3], emb[1])
    assert not inputs.embeddings[1].any() and not inputs.vectors[1].any()

"""Sonic path from one song to another on a real library file: songs laid out along an arc."""

from __future__ import annotations

import numpy as np
import pytest

from player.recommend import Recommender
from player.recommend.sonic_path import PathError, sonic_path, waypoints
from test_recommend_support import add_tracks


def arc(t: float, wobble: float) -> np.ndarray:
    """A point a fraction ``t`` of the way from axis 0 to axis 1, pushed a little off the arc."""
    v = np.zeros(32)
    v[0], v[1] = np.cos(t * np.pi / 2), np.sin(t * np.pi / 2)
    v[2 + int(t * 10) % 20] = wobble
    return v


@pytest.fixture
def lib(library):
    rng = np.random.default_rng(3)
    ts = np.linspace(0, 1, 41)
    order = rng.permutation(len(ts))  # ids in no particular order along the arc
    specs = [{"title": f"t{ts[k]:.3f}", "artist": f"artist {k % 4}", "album": f"album {k}",
              "embedding": arc(ts[k], 0.05 + 0.1 * rng.random())} for k in order]
    # the arc's mirror image, files gone (never proposed): the library's mean -- the centre of the
    # similarity space -- is then the origin, and the space's layout is the arc's
    specs += [{"title": f"mirror {k}", "artist": "z", "embedding": -s["embedding"], "status": "missing"}
              for k, s in enumerate(list(specs))]
    specs.append({"title": "not analysed", "artist": "x", "embedding": None, "labels": {"rock": 1}})
    specs.append({"title": "gone", "artist": "y", "embedding": arc(0.5, 0.0), "status": "missing"})
    ids = add_tracks(library, specs)
    library.ids = {s["title"]: tid for s, tid in zip(specs, ids)}
    return library


def t_of(lib, track_id) -> float:
    title = next(k for k, v in lib.ids.items() if v == track_id)
    return float(title[1:])


def test_the_path_moves_from_a_to_b_without_stepping_back(lib):
    rec = Recommender.from_library(lib)
    a, b = lib.ids["t0.000"], lib.ids["t1.000"]
    steps = sonic_path(rec, a, b, n=8)
    assert [s.track_id for s in (steps[0], steps[-1])] == [a, b]
    assert [s.step for s in steps] == list(range(10))
    ts = [t_of(lib, s.track_id) for s in steps]
    assert ts == sorted(ts)  # always forwards
    assert max(np.diff(ts)) <= 0.2  # no big jumps: each song close to the one before
    for i, t in enumerate(ts[1:-1], start=1):  # each near its waypoint (1/9 of the way per step)
        assert abs(t - i / 9) <= 0.1
    assert len({s.track_id for s in steps}) == len(steps)
    artists = [lib.track(s.track_id).artist for s in steps]
    assert all(x != y for x, y in zip(artists, artists[1:]))
    assert lib.ids["gone"] not in [s.track_id for s in steps]  # a missing file is never on the way
    assert steps[3].reason.startswith("step 3 of 8 towards “t1.000”")


def test_backwards_and_partial_paths(lib):
    rec = Recommender.from_library(lib)
    a, b = lib.ids["t0.750"], lib.ids["t0.250"]
    ts = [t_of(lib, s.track_id) for s in sonic_path(rec, a, b, n=6)]
    assert ts == sorted(ts, reverse=True) and 0.25 <= min(ts) and max(ts) <= 0.75
    # more steps than songs: the path uses what there is and still ends at B
    steps = sonic_path(rec, lib.ids["t0.000"], lib.ids["t1.000"], n=100)
    assert len(steps) == 41 and steps[-1].track_id == lib.ids["t1.000"]
    assert len(sonic_path(rec, a, b, n=0)) == 2
    excluded = [lib.ids["t0.500"]]
    assert excluded[0] not in [s.track_id for s in sonic_path(rec, a, b, n=6, exclude_ids=excluded)]


@pytest.mark.parametrize("ends, words", [
    (("t0.000", "not analysed"), "not analysed yet"),
    (("t0.000", "t0.000"), "two different songs"),
])
def test_impossible_paths_are_explained(lib, ends, words):
    rec = Recommender.from_library(lib)
    with pytest.raises(PathError, match=words):
        sonic_path(rec, lib.ids[ends[0]], lib.ids[ends[1]], n=4)
    with pytest.raises(PathError, match="no track with id 999999"):
        sonic_path(rec, 999999, lib.ids["t0.000"])


def test_waypoints_are_unit_and_evenly_spaced():
    a = np.zeros(32)
    b = np.zeros(32)
    a[0], b[1] = 1.0, 1.0
    alpha, beta = waypoints(a, b, 3)
    w = alpha[:, None] * a + beta[:, None] * b
    assert np.allclose(np.linalg.norm(w, axis=1), 1.0)
    angles = np.arccos(np.clip(np.r_[a @ w[0], [w[i] @ w[i + 1] for i in range(2)], w[2] @ b], -1, 1))
    assert np.allclose(angles, np.pi / 8)
    alpha, beta = waypoints(a, a, 2)  # parallel ends: still unit
    assert np.allclose(alpha + beta, 1.0)

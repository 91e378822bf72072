"""player.recommend.engine: the façade's building blocks (whole-library similarity, profile and history
scores, the listener) and its state, swapped whole as one immutable value."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from player.recommend import LibraryIndex, Listener, Recommender, RecommenderState, RecommendSettings
from player.recommend.explain import PickContext, explain_pick
from test_recommend_support import NOW
from test_recommend_upnext import lib  # noqa: F401 - the 40-song library fixture


def test_similarity_to_every_song_is_what_more_like_this_ranks(lib):  # noqa: F811
    rec = Recommender.from_library(lib)
    rock0 = lib.ids["rock 0"]
    sims = rec.similarity_to(rock0)
    assert sims.shape == (rec.n_tracks,) and sims[rec.position(rock0)] == pytest.approx(1.0, abs=1e-5)
    assert np.isnan(sims[rec.position(lib.ids["mystery"])])  # no embedding: not defined
    top = rec.similar(rock0, n=5)
    ranked = [int(rec.track_ids[i]) for i in np.argsort(-np.nan_to_num(sims, nan=-9), kind="stable")[1:6]]
    assert [r.track_id for r in top] == ranked
    assert all(r.score == pytest.approx(sims[rec.position(r.track_id)], abs=1e-6) for r in top)
    assert all(lib.style_of[t] == "rock" for t in ranked)


def test_profile_history_and_listener_building_blocks(lib):  # noqa: F811
    rec = Recommender.from_library(lib)
    listener = rec.listener(lib.ann)
    assert isinstance(listener, Listener) and listener.user_id == lib.ann
    with pytest.raises(dataclasses.FrozenInstanceError):
        listener.profile_norm = 0.0
    assert sorted(int(rec.track_ids[p]) for p in listener.liked_pos) == sorted([lib.ids["rock 0"], lib.ids["rock 6"]])
    assert [int(rec.track_ids[p]) for p in listener.disliked_pos] == [lib.ids["calm 1"]]
    scores = rec.profile_scores(lib.ann)
    assert scores[rec.position(lib.ids["rock 3"])] > 0.8 > 0.0 == scores[rec.position(lib.ids["jazz 3"])]
    rock2 = rec.position(lib.ids["rock 2"])
    assert rec.history_scores(lib.ann)[rock2] == 0  # not played yet
    for i, title in enumerate(("rock 2", "rock 3")):
        lib.record_play(lib.ann, lib.ids[title], started_at=NOW + 200 * i, seconds_played=200, skipped=False)
    h = rec.history_scores(lib.ann)  # the new plays are seen without a reload
    assert h.shape == (rec.n_tracks,) and h.max() == pytest.approx(1.0)
    assert h[rock2] > 0 and h[rec.position(lib.ids["jazz 2"])] == 0


def test_reload_and_new_settings_swap_one_immutable_state(lib):  # noqa: F811
    rec = Recommender.from_library(lib)
    old = rec.state
    assert isinstance(old, RecommenderState) and isinstance(old.index, LibraryIndex)
    with pytest.raises(dataclasses.FrozenInstanceError):
        old.index = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        old.index.X = None
    first = [r.track_id for r in rec.up_next(lib.ann, n=5)]
    rec.update_settings(RecommendSettings(weight_profile=0.0, weight_taste_embedding=0.0, weight_artist=0.0,
                                          weight_history=0.0))
    assert rec.state is not old and rec.state.index is old.index  # the library is not re-read
    assert old.settings == RecommendSettings() and rec.settings.weight_profile == 0.0
    assert all(r.parts.get("cold_start") for r in rec.up_next(lib.ann, n=5))  # nothing personal left
    with lib.db.transaction() as c:
        c.execute("UPDATE tracks SET status = 'missing' WHERE id = ?", (first[0],))
    rec.reload()
    assert rec.state.index is not old.index and rec.settings.weight_profile == 0.0
    assert bool(old.index.ok[old.index.position(first[0])])  # the old state is left as it was
    assert not rec.state.index.ok[rec.position(first[0])]


def test_a_pick_is_explained_from_one_context_value(lib):  # noqa: F811
    from player.recommend.scoring import Query, blend

    rec = Recommender.from_library(lib)
    st = rec.state
    lst = st.profiles.listener(lib.ann)
    q = Query(current=rec.position(lib.ids["rock 1"]))
    scored = blend(st.index, st.settings, lst, q)
    j = rec.position(lib.ids["rock 3"])
    r = explain_pick(PickContext(st.index, st.settings, lst, st.history, scored, q), j)
    assert r.track_id == lib.ids["rock 3"] and r.score == pytest.approx(scored.score[j])
    assert set(r.parts) >= {"profile", "embedding", "taste_embedding", "top_labels"}
    assert "sounds like “rock 1”" in r.reason or "rock" in r.reason

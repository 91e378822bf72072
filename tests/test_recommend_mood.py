"""The mood in up next reads the tag probabilities: a direction in the similarity space's tag block, so a
mood whose tags are hidden (never a song's label under the shipped label rule) still moves the songs
the tagger hears it in, and the reason names those tags."""

from __future__ import annotations

import numpy as np
import pytest

from player.mood.mapping import lookup
from player.recommend import Recommender, RecommendSettings
from test_recommend_support import add_tagged_tracks

STYLES = {"electronic": {"electronic": 0.7, "synth": 0.5}, "ambient": {"ambient": 0.7, "slow": 0.5},
          "classical": {"classical": 0.7, "strings": 0.5}}
HAPPY = {"happy": 0.5, "catchy": 0.35}  # two hidden tags of the shipped tagger


def style_embedding(k: int, i: int) -> list[float]:
    rng = np.random.default_rng(10 * k + i)
    v = rng.normal(scale=0.4, size=32)
    v[k] += 3.0
    return v.tolist()


@pytest.fixture
def lib(library, tmp_path, monkeypatch):
    """30 songs in 3 styles, 3 of each style happy (by their probabilities only); a happy song with tag
    probabilities and no embedding; a song with an embedding and no tag probabilities."""
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))  # the mood mapping's user file
    specs = []
    for k, (style, tags) in enumerate(STYLES.items()):
        for i in range(10):
            happy = i in (1, 4, 7)
            specs.append({"title": f"{style} {i}{' happy' if happy else ''}", "artist": f"{style}-artist{i}",
                          "album": f"{style} LP {i}", "tags": {**tags, **(HAPPY if happy else {})},
                          "embedding": style_embedding(k, i)})
    specs.append({"title": "tags only happy", "artist": "solo", "album": "alone", "tags": {"ambient": 0.4, **HAPPY}})
    specs.append({"title": "embedding only", "artist": "other", "album": "else", "embedding": style_embedding(0, 99)})
    ids = add_tagged_tracks(library, specs)
    library.ids = {spec["title"]: tid for spec, tid in zip(specs, ids)}
    library.happy = {tid for spec, tid in zip(specs, ids) if "happy" in spec["title"]}
    ann = library.add_user("ann")
    for title in ("electronic 0", "electronic 2", "electronic 5"):
        library.rate(ann.id, library.ids[title], 5)
    library.ann = ann.id
    library.bob = library.add_user("bob").id
    return library


def ids_of(recs):
    return [r.track_id for r in recs]


def test_a_hidden_mood_tag_is_no_label_but_the_mood_still_finds_it(lib):
    labels = {r[0] for r in lib.db.query("SELECT DISTINCT label FROM track_labels")}
    assert labels and not labels & {"happy", "catchy", "party", "dance"}  # hidden: never a label
    rec = Recommender.from_library(lib)
    mood = lookup("happy")
    assert mood == ["happy", "catchy", "party", "dance"]
    assert rec.match_labels(["HAPPY", "nope"]) == ["happy"]  # known through the tag probabilities
    assert rec.match_mood(mood) == mood
    out = rec.up_next(lib.bob, mood_labels=mood, mood_name="happy", n=10)
    # a listener with nothing else: the mood decides, every happy song first (the tags-only one too)
    assert set(ids_of(out)) == lib.happy
    for r in out:
        assert r.reason.startswith("happy: happy, catchy"), r.reason
        assert r.parts["mood_basis"] == "tags" and r.parts["mood_tags"] == ["happy", "catchy"]
        assert r.parts["mood_labels"] == mood and r.parts["mood"] > 0.3
    # seed 002's label query: the mood's labels are on no song, so the mood cannot change the list
    by_labels = rec.up_next(lib.bob, mood_labels=mood, mood_name="happy", n=10, mood_query="labels")
    assert len(set(ids_of(by_labels)) & lib.happy) < 5
    assert all("happy:" not in r.reason for r in by_labels)
    assert Recommender.from_library(lib, mood_query="labels").match_mood(mood) == []


def test_the_mood_lifts_the_happy_songs_in_a_listeners_list_and_the_blend_stays_linear(lib):
    rec = Recommender.from_library(lib, RecommendSettings(max_familiar_fraction=1.0))
    rated = [lib.ids[t] for t in ("electronic 0", "electronic 2", "electronic 5")]
    base = ids_of(rec.up_next(lib.ann, n=40, exclude_ids=rated))
    moody = rec.up_next(lib.ann, mood_labels=lookup("happy"), mood_name="happy", n=40, exclude_ids=rated)
    order = ids_of(moody)
    for t in lib.happy:
        assert order.index(t) < base.index(t)
    # her taste (electronic) still counts: the happy electronic songs come first
    first = [lib.db.query_one("SELECT title FROM tracks WHERE id = ?", (t,))[0] for t in order[:3]]
    assert all(title.startswith("electronic") and title.endswith("happy") for title in first), first
    w = {"profile": 1.0, "mood": 0.8, "taste_embedding": 0.4, "history": 0.5, "artist": 0.1}
    for r in moody:  # the score is the weighted mean of its parts
        used = [k for k in w if k in r.parts and not isinstance(r.parts[k], (list, dict, str))]
        assert r.score == pytest.approx(sum(w[k] * r.parts[k] for k in used) / sum(w[k] for k in used), abs=1e-6)
        assert -1.0 - 1e-6 <= r.parts["mood"] <= 1.0 + 1e-6


def test_a_song_without_tag_probabilities_gets_no_mood_term(lib):
    rec = Recommender.from_library(lib, RecommendSettings(max_familiar_fraction=1.0))
    out = {r.track_id: r for r in rec.up_next(lib.bob, mood_labels=lookup("happy"), mood_name="happy", n=40)}
    plain = out[lib.ids["embedding only"]]
    assert "mood" in plain.parts["filled"] and "happy" not in plain.reason and plain.analysed
    scores = rec.state.index.mood_scores(rec.state.index.mood_query(["happy"])[1])
    assert scores[rec.position(lib.ids["embedding only"])] == 0.0
    # the filled-in value is the mean over the songs that have tag probabilities: neither lifted nor sunk
    has = rec.state.index.has_tags
    mood_unit = rec.state.index.mood_query(lookup("happy"))[1]
    assert plain.parts["mood"] == pytest.approx(rec.state.index.mood_scores(mood_unit)[has].mean(), abs=1e-9)


def test_a_library_without_tag_names_keeps_the_label_query(library):
    """Rows of a model whose folder is not installed have no tag names: the mood falls back to labels."""
    from test_recommend_support import add_tracks

    ids = add_tracks(library, [{"title": f"s{i}", "labels": {"sad" if i < 3 else "rock": 2},
                                "embedding": style_embedding(i % 2, i)} for i in range(8)])
    bob = library.add_user("bob").id
    rec = Recommender.from_library(library)
    out = rec.up_next(bob, mood_labels=["sad"], mood_name="sad", n=3)
    assert set(ids_of(out)) == set(ids[:3])
    assert all(r.reason.startswith("sad: sad") and r.parts["mood_basis"] == "labels" for r in out)
    with pytest.raises(ValueError, match="unknown mood query"):
        rec.up_next(bob, mood_labels=["sad"], mood_query="vibes")


def test_the_mood_is_the_same_direction_in_every_similarity_space(lib):
    """The mood reads the centred tag log-probabilities: the tag columns of the joint vectors, the tags
    space, or (raw, seed 000's embedding alone) a tag block built apart -- the same cosines each time."""
    scores = {}
    for space in ("joint", "tags", "raw"):
        index = Recommender.from_library(lib, space=space).state.index
        scores[space] = index.mood_scores(index.mood_query(lookup("happy"))[1])
        assert index.tag_names[:3] == ["rock", "pop", "indie"] and int(index.has_tags.sum()) == 31
    assert np.allclose(scores["joint"], scores["tags"], atol=1e-5)
    assert np.allclose(scores["joint"], scores["raw"], atol=1e-5)
    joint = Recommender.from_library(lib).state.index
    assert joint.tag_block.base is not None and np.shares_memory(joint.tag_block, joint.E)  # a view: no copy


def test_a_radio_from_a_hidden_tag_plays_the_songs_the_tagger_hears_it_in(lib):
    from player.recommend.radio import Radio, RadioError, seed_from

    rec = Recommender.from_library(lib)
    seed = seed_from(rec, "tag:happy")  # no song has the label 'happy': the tag probabilities seed it
    assert seed.kind == "tag" and seed.label == "happy" and seed.tag_direction is not None
    picks = Radio(rec, seed).next(6)
    assert {p.track_id for p in picks[:6]} <= lib.happy, [p.reason for p in picks]
    assert "happy radio" in picks[0].reason
    with pytest.raises(RadioError, match="no analysed song has the tag 'polka'"):
        seed_from(rec, "tag:polka")  # not a tag of the tagger at all

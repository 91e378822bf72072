"""Song radio and listening together on a real library file (hand-written analysis rows)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from player.recommend import Recommender
from player.recommend.radio import Radio, RadioError, RadioSettings, seed_from
from player.recommend.together import together_up_next
from test_recommend_support import add_tracks

STYLES = {"rock": {"rock": 3, "guitar": 2}, "piano": {"piano": 3, "sad": 1}, "dance": {"dance": 3, "happy": 2}}


@pytest.fixture
def lib(library):
    specs = []
    for k, (style, labels) in enumerate(STYLES.items()):
        for i in range(8):
            emb = np.zeros(32)
            emb[k] = 3.0
            emb[8 + i] = 0.6 + 0.1 * k  # every song a little different
            emb[20 + (i % 3)] = 0.3
            specs.append({"title": f"{style} {i}", "artist": f"{style} band {i % 2}", "album": f"{style} album",
                          "labels": labels, "embedding": emb})
    ids = add_tracks(library, specs)
    library.ids = {s["title"]: tid for s, tid in zip(specs, ids)}
    library.ann = library.add_user("ann")
    library.bob = library.add_user("bob")
    return library


class Clock:
    def __init__(self, t=None):
        self.t = time.time() if t is None else t

    def __call__(self):
        return self.t


def style_of(lib, track_id):
    title = next(k for k, v in lib.ids.items() if v == track_id)
    return title.split()[0]


def test_song_radio_starts_near_the_seed_and_never_repeats_an_artist(lib):
    rec = Recommender.from_library(lib)
    seed = lib.ids["rock 0"]
    radio = Radio(rec, seed_from(rec, seed))
    picks = radio.next(8)
    assert len(picks) == 8 and seed not in [p.track_id for p in picks]
    assert [style_of(lib, p.track_id) for p in picks[:6]] == ["rock"] * 6  # its own style first
    artists = [lib.track(p.track_id).artist for p in picks]
    assert all(a != b for a, b in zip(artists, artists[1:]))
    assert lib.track(picks[0].track_id).artist != lib.track(seed).artist  # not the seed's artist either
    assert all(p.reason and "\n" not in p.reason for p in picks)
    assert "sounds like “rock 0”" in picks[0].reason


def test_radio_is_endless_but_never_repeats_within_the_window(lib):
    rec = Recommender.from_library(lib)
    clock = Clock()
    radio = Radio(rec, seed_from(rec, lib.ids["piano 3"]), clock=clock)
    seen = [p.track_id for p in radio]  # iterates until every song was heard within the window
    assert len(seen) == len(set(seen)) == 23  # 24 songs, the seed already playing
    assert radio.next() == []
    clock.t += 4 * 3600 + 1  # hours later, songs may come back
    assert len(radio.next(5)) == 5
    short = Radio(rec, seed_from(rec, lib.ids["piano 3"]), settings=RadioSettings(no_repeat_hours=0), clock=clock)
    assert len(short.next(40)) == 40  # no window: it keeps going


def test_recent_plays_and_dislikes_are_left_out(lib):
    rec = Recommender.from_library(lib)
    ann, bob = lib.ann.id, lib.bob.id
    now = time.time()
    lib.record_play(ann, lib.ids["rock 1"], started_at=now - 3600, seconds_played=200, skipped=False)
    lib.record_play(ann, lib.ids["rock 2"], started_at=now - 5 * 3600, seconds_played=200, skipped=False)
    lib.rate(bob, lib.ids["rock 3"], 2)  # bob dislikes it: a radio for both never plays it
    lib.rate(ann, lib.ids["rock 4"], 5)
    rec = Recommender.from_library(lib)
    radio = Radio(rec, seed_from(rec, lib.ids["rock 0"]), user_ids=[ann, bob])
    given = [p.track_id for p in radio.next(23)]
    assert lib.ids["rock 1"] not in given  # an hour ago: too recent
    assert lib.ids["rock 2"] in given  # five hours ago: fine
    assert lib.ids["rock 3"] not in given
    solo = Radio(rec, seed_from(rec, lib.ids["rock 0"]), user_ids=[ann])
    assert lib.ids["rock 3"] in [p.track_id for p in solo.next(23)]


def test_skips_steer_it_away(lib):
    # more styles than the three of the fixture: with three, the library's mean (the similarity space's
    # centre) is exactly opposite to the style a rock+dance seed leaves out, the least seed-like song there is
    for k, style in enumerate(("jazz", "folk", "metal")):
        specs = []
        for i in range(8):
            emb = np.zeros(32)
            emb[3 + k], emb[8 + i] = 3.0, 0.6
            specs.append({"title": f"{style} {i}", "artist": f"{style} band {i % 2}", "album": f"{style} album",
                          "labels": {style: 3}, "embedding": emb})
        lib.ids.update({s["title"]: tid for s, tid in zip(specs, add_tracks(lib, specs))})
    rec = Recommender.from_library(lib)
    mixed = [lib.ids[f"rock {i}"] for i in range(4)] + [lib.ids[f"dance {i}"] for i in range(4)]
    seed = seed_from(rec, "playlist:mix", playlist=lambda name: ("Mix", mixed))
    assert seed.kind == "playlist" and seed.label == "“Mix”"
    still = RadioSettings(weight_recent=0)  # no drift: the seed and the skips alone decide
    plain, steered = Radio(rec, seed, settings=still), Radio(rec, seed, settings=still)
    for title in ("dance 6", "dance 7"):
        steered.played(lib.ids[title], skipped=True)
    before = [style_of(lib, p.track_id) for p in plain.next(8)]
    after = [style_of(lib, p.track_id) for p in steered.next(8)]
    assert before.count("dance") >= 3 and after.count("dance") == 0
    # with the default drift, once the rock songs are used up a skipped style stays below the others
    plain, steered = Radio(rec, seed), Radio(rec, seed)
    first = steered.next(4)
    for title in ("dance 6", "dance 7"):
        steered.played(lib.ids[title], skipped=True)
    assert [style_of(lib, p.track_id) for p in plain.next(12)].count("dance") == 4
    assert "dance" not in [style_of(lib, p.track_id) for p in steered.next(8)]
    assert first[0].reason == "fits “Mix”"


def test_what_is_played_pulls_the_centre(lib):
    rec = Recommender.from_library(lib)
    radio = Radio(rec, seed_from(rec, lib.ids["rock 0"]), settings=RadioSettings(drift=0.5, weight_recent=2.0))
    radio.next(2)
    for i in range(4):  # the listener chose dance songs themselves
        radio.played(lib.ids[f"dance {i}"])
    picks = radio.next(6)
    dance = [p for p in picks if style_of(lib, p.track_id) == "dance"]
    assert dance and any("after “dance" in p.reason for p in dance)
    still = Radio(rec, seed_from(rec, lib.ids["rock 0"]), settings=RadioSettings(drift=0.5, weight_recent=2.0))
    still.next(2)
    assert "dance" not in [style_of(lib, p.track_id) for p in still.next(5)]  # without those plays


def test_ratings_while_playing(lib):
    rec = Recommender.from_library(lib)
    radio = Radio(rec, seed_from(rec, lib.ids["rock 0"]))
    first = radio.next(1)[0]
    nxt = Radio(rec, seed_from(rec, lib.ids["rock 0"]))
    nxt.rated(first.track_id, 1)
    assert first.track_id not in [p.track_id for p in nxt.next(23)]


@pytest.mark.parametrize("spec, style", [("artist:piano band 1", "piano"), ("album:DANCE ALBUM", "dance"),
                                         ("tag:guitar", "rock")])
def test_artist_album_and_tag_seeds(lib, spec, style):
    rec = Recommender.from_library(lib)
    seed = seed_from(rec, spec)
    picks = Radio(rec, seed).next(6)
    assert [style_of(lib, p.track_id) for p in picks] == [style] * 6
    if spec.startswith("artist"):  # the artist's songs, never two in a row
        artists = [lib.track(p.track_id).artist for p in picks]
        assert artists[0] == "piano band 1" and all(a != b for a, b in zip(artists, artists[1:]))
    if spec.startswith("tag"):
        assert "guitar radio" in picks[0].reason


@pytest.mark.parametrize("spec, words", [
    ("artist:Nobody", "no artist called 'Nobody'"),
    ("album:Nothing", "no album called"),
    ("tag:polka", "no analysed song has the tag"),
    ("999999", "no track with id 999999"),
    ("genre:rock", "cannot start a radio"),
    ("playlist:x", "needs the library's playlists"),
])
def test_bad_seeds_are_explained(lib, spec, words):
    rec = Recommender.from_library(lib)
    with pytest.raises(RadioError, match=words):
        seed_from(rec, spec)


def test_taste_is_named_in_reasons(lib):
    for i in range(3):
        lib.rate(lib.ann.id, lib.ids[f"piano {i}"], 5)
    rec = Recommender.from_library(lib)
    picks = Radio(rec, seed_from(rec, "tag:piano"), user_ids=[lib.ann.id]).next(4)
    assert all(style_of(lib, p.track_id) == "piano" for p in picks)
    assert any("for ann" in p.reason for p in picks)


# -- listening together ----------------------------------------------------------------------
def test_together_blends_tastes_and_leaves_out_any_dislike(lib):
    ann, bob = lib.ann.id, lib.bob.id
    for i in range(3):
        lib.rate(ann, lib.ids[f"rock {i}"], 5)
        lib.rate(bob, lib.ids[f"dance {i}"], 5)
    lib.rate(bob, lib.ids["rock 5"], 1)  # bob dislikes one rock song: out, whoever likes rock
    lib.rate(ann, lib.ids["dance 6"], 2)
    rec = Recommender.from_library(lib)
    recs = together_up_next(rec, [ann, bob], n=10)
    got = [r.track_id for r in recs]
    assert lib.ids["rock 5"] not in got and lib.ids["dance 6"] not in got
    styles = [style_of(lib, t) for t in got]
    assert styles.count("rock") >= 3 and styles.count("dance") >= 3  # both tastes served
    assert all(r.reason.startswith("for ") for r in recs)
    assert any(r.reason.startswith("for ann") for r in recs) and any(r.reason.startswith("for bob") for r in recs)
    assert "piano" not in styles[:6]  # nobody's taste first


def test_together_names_a_song_both_like(lib):
    ann, bob = lib.ann.id, lib.bob.id
    lib.rate(ann, lib.ids["piano 0"], 5)
    lib.rate(bob, lib.ids["piano 1"], 5)
    rec = Recommender.from_library(lib)
    recs = together_up_next(rec, [ann, bob], n=3)
    assert all(style_of(lib, r.track_id) == "piano" for r in recs)
    assert recs[0].reason.startswith("for ann and bob")
    with pytest.raises(ValueError, match="at least one listener"):
        together_up_next(rec, [], n=3)

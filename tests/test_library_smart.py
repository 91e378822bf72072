"""The smart-playlist language against a real library file with an analysis of the current models."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from player.library.smart import INJECT_MAX, analysis_arrays, evaluate
from player.library.smart_parse import SmartQueryError, parse
from playlist_support import DAY, NOW, add_song, reference_evaluate


def emb(*hot):
    v = np.zeros(32)
    for i, w in hot:
        v[i] = w
    return v


@pytest.fixture
def lib(library, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))  # the mood mapping's user file
    s = {}
    s["moon"] = add_song(library, "Moonlight", artist="Ada Lumen", album="Nocturnes", year=1991, duration=240,
                         fmt="flac", genre_tag="Classical", added_days=5, tags={"piano": 0.9, "sad": 0.6},
                         genre="Instrumental", embedding=emb((0, 1.0)), tracknumber=1)
    s["rain"] = add_song(library, "Rain", artist="Ada Lumen", album="Nocturnes", year=1993, duration=150,
                         fmt="flac", added_days=40, tags={"piano": 0.35, "mellow": 0.7}, genre="Instrumental",
                         embedding=emb((0, 0.9), (1, 0.3)), tracknumber=2)
    s["storm"] = add_song(library, "Storm", artist="Iron Gate", album="Thunder", year=1985, duration=320,
                          fmt="mp3", genre_tag="Heavy Metal", added_days=400, tags={"metal": 0.95, "loud": 0.9},
                          genre="Rock", embedding=emb((5, 1.0)))
    s["party"] = add_song(library, "Party Time", artist="The Glow", album="Neon", year=2010, duration=190,
                          fmt="ogg", added_days=2, tags={"happy": 0.8, "dance": 0.7, "party": 0.4},
                          genre={"Pop": 0.45, "Electronic": 0.4, "Rock": 0.15}, embedding=emb((9, 1.0), (5, 0.2)))
    s["ete"] = add_song(library, "Été indien", artist="Chanteuse", album="Saisons", year=None, duration=210,
                        fmt="opus", added_days=1, tags={"happy": 0.55}, genre="International",
                        embedding=emb((9, 0.5), (0, 0.5)))
    s["raw"] = add_song(library, "Untitled demo", artist=None, album=None, duration=None, fmt="wav", added_days=3)
    s["gone"] = add_song(library, "Lost tape", artist="Ada Lumen", album="Nocturnes", year=1992, duration=100,
                         fmt="flac", status="missing", tags={"piano": 0.8}, genre="Instrumental",
                         embedding=emb((0, 1.0), (2, 0.1)))
    ann = library.add_user("ann")
    bob = library.add_user("bob")
    library.rate(ann.id, s["moon"], 5)
    library.rate(ann.id, s["storm"], 2)
    library.rate(ann.id, s["party"], 4)
    library.rate(bob.id, s["storm"], 5)
    for tid, days, skipped in [(s["moon"], 1, 0), (s["moon"], 3, 0), (s["storm"], 20, 1), (s["storm"], 19, 1),
                               (s["party"], 10, 0)]:
        library.record_play(ann.id, tid, started_at=NOW - days * DAY, seconds_played=10 if skipped else 200,
                            skipped=bool(skipped))
    library.record_play(bob.id, s["rain"], started_at=NOW - 2 * DAY, seconds_played=200, skipped=False)
    library.s, library.ann, library.bob = s, ann, bob
    return library


def run(lib, text, user=None, **kw):
    return evaluate(lib, text, user_id=user, now=NOW, **kw).track_ids


def names(lib, text, user=None):
    by_id = {v: k for k, v in lib.s.items()}
    return [by_id[i] for i in run(lib, text, user)]


@pytest.mark.parametrize("query, expected", [
    ('artist:"Ada Lumen"', ["moon", "rain"]),  # the missing file is left out (status ok only)
    ('artist:"ada lumen" status:any', ["gone", "moon", "rain"]),
    ("status:missing", ["gone"]),
    ("album:noct", ["moon", "rain"]),
    ("artist=iron", []),
    ('artist="Iron Gate"', ["storm"]),
    ("year:1990..1999", ["moon", "rain"]),
    ("year<1990", ["storm"]),
    ("NOT year<1990", ["moon", "rain", "ete", "party", "raw"]),  # a song without a year is "not before 1990"
    ("year:..1990 OR year:2000..", ["storm", "party"]),
    ("length>3m", ["moon", "ete", "storm", "party"]),
    ("length:2:30..4m", ["moon", "rain", "ete", "party"]),
    ("format:flac", ["moon", "rain"]),
    ("format:mp3,ogg", ["storm", "party"]),
    ("format!=flac", ["ete", "storm", "party", "raw"]),
    ("filegenre:metal", ["storm"]),
    ("tagged:classical", ["moon"]),
    ("added<7d", ["moon", "ete", "party", "raw"]),
    ("added>30d", ["rain", "storm"]),
    ("added:30d..1y", ["rain"]),
    ("moon OR storm", ["moon", "storm"]),
    ("ada -demo", []),
    ("(ada OR glow) AND NOT rain", ["moon", "party"]),
    ("ÉTÉ", ["ete"]),  # non-ASCII text matches whatever its case
    ("demo", ["raw"]),
    ("id:999", []),
])
def test_metadata_conditions(lib, query, expected):
    assert sorted(names(lib, query)) == sorted(expected)


@pytest.mark.parametrize("query, expected", [
    ("tag:piano>0.3", ["moon", "rain"]),
    ("tag:piano>0.5", ["moon"]),
    ("tag:PIANO<0.06", ["ete", "storm", "party"]),  # only analysed songs have a probability
    ("tag:piano", ["moon", "rain"]),  # a hidden tag: among the song's 5 most probable tags
    ('tag:"easy listening">0.01', ["moon", "rain", "ete", "storm", "party"]),
    ("genre:instrumental", ["moon", "rain"]),  # the top genre of the analysis
    ("genre:pop", ["party"]),
    ("genre:rock>0.1", ["storm", "party"]),
    ("mood:happy", ["ete", "party"]),  # its tags are hidden: one of them among the song's 5 most probable
    ("mood:happy>0.7", ["party"]),
    ("mood:sad>0.5", ["moon", "rain"]),  # sad's tags include mellow
    ("tag:piano>0.3 OR genre:rock", ["moon", "rain", "storm"]),
    ("NOT tag:piano>0.3", ["ete", "storm", "party", "raw"]),
    ("tag:piano>0.3 year>1992", ["rain"]),
])
def test_analysis_conditions(lib, query, expected):
    assert sorted(names(lib, query)) == sorted(expected)


def test_a_hidden_tag_matches_by_its_rank_a_shown_tag_by_its_label(library):
    """The shipped label rule shows 11 tags; `tag:X` of a shown one reads the songs' labels, of a hidden one
    (never a label) the songs that have it among their 5 most probable tags, and says so."""
    from player.analysis.relabel import current_rule

    _tagger, rule, tag_names = current_rule()
    shown = {n for n, s in zip(tag_names, rule.shown) if s}
    assert "electronic" in shown and "happy" not in shown and "piano" not in shown
    sure = add_song(library, "sure", tags={"electronic": 0.9, "happy": 0.2})  # a label: electronic (p >= 0.5)
    unsure = add_song(library, "unsure", tags={"electronic": 0.3, "happy": 0.6})  # no label of electronic
    low = add_song(library, "low", tags={t: 0.5 for t in ("rock", "pop", "indie", "dance", "house", "jazz")}
                   | {"happy": 0.3})  # happy is the 7th most probable
    for tid in (sure, unsure, low):  # the labels as the shipped rule makes them: only shown tags
        with library.db.transaction() as c:
            c.execute("DELETE FROM track_labels WHERE track_id = ? AND label NOT IN (%s)"
                      % ", ".join("?" * len(shown)), (tid, *sorted(shown)))
    res = evaluate(library, "tag:electronic", now=NOW)
    assert res.track_ids == [sure] and res.warnings == []
    res = evaluate(library, "tag:Happy", now=NOW)
    assert sorted(res.track_ids) == sorted([sure, unsure])
    assert res.warnings == ["'happy' is a tag the player does not show as a label (the tagger is less sure of it), "
                            "so 'tag:Happy' matches the songs that have it among their 5 most probable tags"]
    assert evaluate(library, "NOT tag:happy", now=NOW).track_ids == [low]
    res = evaluate(library, "mood:happy", now=NOW)  # happy, catchy, party, dance: all hidden
    assert sorted(res.track_ids) == sorted([sure, unsure, low])
    assert res.warnings == ["the mood 'happy' has tags the player does not show as labels (happy, catchy, party, "
                            "dance), so 'mood:happy' matches the songs that have one of them among their 5 most "
                            "probable tags"]
    res = evaluate(library, "mood:energetic", now=NOW)  # electronic and techno are shown, dance … are not
    assert sorted(res.track_ids) == sorted([sure, low]) and "another of its tags as a label" in res.warnings[0]
    assert evaluate(library, "tag:happy>0.5", now=NOW).track_ids == [unsure]  # a probability: as before


def test_like_and_near_use_the_similarity_space(lib):
    from player.recommend.data import read_song_vectors

    s = lib.s
    ids, vectors = read_song_vectors(lib)  # the recommender's space: both models' outputs
    sim = dict(zip(ids.tolist(), (vectors @ vectors[ids.tolist().index(s["moon"])]).tolist()))
    title = {tid: name for name, tid in s.items()}
    playable = sorted((tid for tid in sim if tid not in (s["moon"], s["gone"])), key=lambda t: (-sim[t], t))
    assert names(lib, f"near:{s['moon']}:2") == [title[t] for t in playable[:2]]  # itself and the missing one out
    anywhere = sorted((tid for tid in sim if tid != s["moon"]), key=lambda t: (-sim[t], t))
    assert names(lib, f"near:{s['moon']}:2 status:any") == [title[t] for t in anywhere[:2]]
    assert names(lib, f"near:{s['moon']}:3 sort:title") == sorted((title[t] for t in playable[:3]),
                                                                key=lambda n: lib.track(s[n]).title.casefold())
    # like: every playable song above the similarity, the most similar first (itself at 1)
    cut = (sim[playable[1]] + sim[playable[2]]) / 2
    assert names(lib, f"like:{s['moon']}>{cut:.6f}") == ["moon"] + [title[t] for t in playable[:2]]
    assert names(lib, f"like:{s['moon']}>{cut:.6f} sort:similar") == ["moon"] + [title[t] for t in playable[:2]]
    assert names(lib, f"like:{s['moon']}>{cut:.6f} sort:-similar") == [title[t] for t in playable[:2]][::-1] + ["moon"]
    # ties (a second copy of Rain: the same analysis, the same vector) go to the lower id
    copy = add_song(lib, "Rain again", artist="Ada Lumen", duration=150, fmt="flac", added_days=40,
                    tags={"piano": 0.35, "mellow": 0.7}, genre="Instrumental", embedding=emb((0, 0.9), (1, 0.3)))
    got = run(lib, f"near:{s['rain']}:1")
    assert got == [copy]
    got = run(lib, f"near:{s['moon']}:8")
    assert got.index(s["rain"]) + 1 == got.index(copy)
    res = evaluate(lib, f"like:{s['raw']}>0.5", now=NOW)
    assert res.track_ids == [] and "not analysed yet" in res.warnings[0]


def test_listening_conditions_read_the_listener(lib):
    ann, bob = lib.ann.id, lib.bob.id
    assert names(lib, "stars>=4 sort:-stars", ann) == ["moon", "party"]
    assert names(lib, "stars:5", bob) == ["storm"]
    assert sorted(names(lib, "stars:none", ann)) == ["ete", "rain", "raw"]
    assert names(lib, "plays>=2 sort:title", ann) == ["moon", "storm"]
    assert names(lib, "skips>=2", ann) == ["storm"]
    assert sorted(names(lib, "played<7d", ann)) == ["moon"]
    assert sorted(names(lib, "played>7d", ann)) == ["ete", "party", "rain", "raw", "storm"]  # never played too
    assert sorted(names(lib, "played:never", ann)) == ["ete", "rain", "raw"]
    assert sorted(names(lib, "played<7d")) == ["moon", "rain"]  # without a listener: everybody's plays
    with pytest.raises(SmartQueryError, match="needs a listener .* at column 1"):
        run(lib, "stars>=4")


def test_sort_and_limit(lib):
    ann = lib.ann.id
    assert names(lib, "sort:added") == ["storm", "rain", "moon", "raw", "party", "ete"]
    assert names(lib, "sort:-added limit:2") == ["ete", "party"]
    assert names(lib, "sort:-year,title")[:3] == ["party", "rain", "moon"]
    assert names(lib, "sort:year") == ["storm", "moon", "rain", "party", "ete", "raw"]  # unknown years last
    assert names(lib, "sort:-stars", ann)[:2] == ["moon", "party"]
    # limit by length: 240 + 150 fit in 7 minutes, the next (320 s) does not
    assert names(lib, 'artist:"ada" OR storm sort:tracknumber limit:7m') == ["moon", "rain"]
    assert names(lib, "format:flac limit:390s") == ["moon", "rain"]
    assert names(lib, "format:flac limit:389s") == ["moon"]


@pytest.mark.parametrize("query, column, words", [
    ("stars>=x", 8, "expected a whole number after 'stars>='"),
    ("year:1990..abc", 12, "expected a whole number"),
    ("tag:pianoo>0.3", 5, "unknown tag 'pianoo' (did you mean piano?)"),
    ("tag:piano>high", 11, "expected a number after 'tag:piano>'"),
    ("genre:polka", 7, "unknown genre 'polka'"),
    ("mood:grumpy", 6, "unknown mood 'grumpy'"),
    ("like:999999>0.5", 6, "no track with id 999999"),
    ("like:1", 7, "write like:TRACK>SIMILARITY"),
    ("artst:Ada", 1, "unknown field 'artst' (did you mean artist?)"),
    ("rain AND (storm OR", 19, "expected a condition after OR"),
    ("(rain", 1, "this '(' is never closed"),
    ('artist:"Ada', 8, "this quote is never closed"),
    ("length>3x", 8, "expected a length"),
    ("added<3m", 7, "'m' is ambiguous"),
    ("sort:loudest", 6, "unknown sort key 'loudest'"),
    ("(rain sort:title)", 7, "applies to the whole query"),
    ("limit:0", 7, "at least 1 song"),
    ("sort:similar", 6, "needs like: or near:"),
    ("year>1990 AND", 14, "expected a condition after AND"),
])
def test_mistakes_point_at_their_column(lib, query, column, words):
    with pytest.raises(SmartQueryError) as info:
        evaluate(lib, query, user_id=lib.ann.id, now=NOW)
    assert words in str(info.value)
    assert info.value.column == column and str(info.value).endswith(f"at column {column}")
    assert "\n" not in str(info.value) and "Traceback" not in str(info.value)


def test_loudness_is_skipped_with_a_note_when_not_measured(lib):
    res = evaluate(lib, "loudness<-14 OR moon", now=NOW)
    assert res.track_ids == [lib.s["moon"]]
    assert any("loudness is not measured" in w for w in res.warnings)


def test_arrays_follow_the_analysis(lib):
    before = analysis_arrays(lib)
    assert analysis_arrays(lib) is before  # cached while nothing changes
    assert names(lib, "tag:piano>0.3") == ["moon", "rain"]
    new = add_song(lib, "Keys", artist="Zed", tags={"piano": 0.99}, genre="Folk", embedding=np.ones(32))
    assert analysis_arrays(lib) is not before
    assert sorted(run(lib, "tag:piano>0.5")) == sorted([lib.s["moon"], new])
    lib.db.conn.execute("DELETE FROM analysis WHERE track_id = ?", (new,))
    assert sorted(run(lib, "tag:piano>0.5")) == [lib.s["moon"]]


def test_parse_keeps_structure():
    q = parse('a b OR (c AND NOT d) sort:-stars,title limit:60m')
    assert [k.key for k in q.sort] == ["stars", "title"] and q.sort[0].descending
    assert q.limit.seconds == 3600
    assert type(q.where).__name__ == "Or"


# -- against the literal reference on a random library ------------------------------------------
QUERIES = [
    "tag:piano>0.3", "tag:piano>0.3 AND stars>=4", "genre:rock year:1990..1999", "NOT genre:rock OR plays>=2",
    "mood:happy length>3m", "mood:sad>0.4 OR format:flac", 'artist:"Artist 3" OR album:"Album 1"',
    "added<30d NOT played<7d", "played>7d skips>=1", "stars:none tag:guitar", "(genre:pop OR genre:rock) sort:-year",
    "year<2000 sort:-stars,title limit:12", "length:2m..4m sort:length limit:30m", "song 1", "NOT (song 1 OR song 2)",
    "like:{a}>0.2", "near:{a}:15", "near:{a}:40 stars>=3 sort:added", "tag:piano>0.5 OR like:{b}>0.6",
    "status:any sort:-added limit:5", "format!=mp3 genre:folk>0.1", "plays:0 tag:drums",
]


def literal_song_vectors(songs):
    """The similarity space of player/recommend/space.py written out per song, in plain Python: each
    block (unit embedding; tag log-probabilities) less its mean over the analysed songs, scaled to unit
    length; the tag block weighted; the two joined and scaled to unit length."""
    from player.recommend.space import EMBEDDING_WEIGHT, LOG_FLOOR, TAG_WEIGHT

    def unit(v):
        norm = math.sqrt(sum(x * x for x in v))
        return [x / norm for x in v] if norm else [0.0] * len(v)

    def centred(rows):
        mean = [sum(col) / len(rows) for col in zip(*rows)]
        return [unit([x - m for x, m in zip(r, mean)]) for r in rows]

    analysed = [s for s in songs if s["emb"]]
    embs = centred([s["emb"] for s in analysed])
    tags = centred([[math.log(min(1.0, max(LOG_FLOOR, p))) for p in s["tag"].values()] for s in analysed])
    for s, e, t in zip(analysed, embs, tags):
        s["emb"] = unit([EMBEDDING_WEIGHT * x for x in e] + [TAG_WEIGHT * x for x in t])


def literal_hidden_tags(songs):
    """`tag:X` / `mood:X` as the player reads them, per song: its shown labels, and each hidden tag of the
    shipped rule that is among its 5 most probable tags (ties: the tag listed first)."""
    from player.analysis.relabel import current_rule

    _tagger, rule, names = current_rule()
    hidden = {n.casefold() for n, shown in zip(names, rule.shown) if not shown}
    for s in songs:
        s["labels"] = {x for x in s["labels"] if x not in hidden}
        if s["tag"] is not None:
            ranked = sorted(range(len(names)), key=lambda i: (-s["tag"][names[i].casefold()], i))
            s["labels"] |= {names[i].casefold() for i in ranked[:rule.among_top]} & hidden


@pytest.mark.parametrize("rank_min", [2000, 0])  # 0: every result put in order by the cached rank of all songs
def test_matches_the_literal_reference_on_a_random_library(library, monkeypatch, rank_min):
    import player.library.smart as smart
    import playlist_support

    monkeypatch.setattr(smart, "RANK_MIN", rank_min)
    songs_of = playlist_support._songs

    def songs_in_the_similarity_space(lib, user_id):  # like:/near: compare the player's song vectors
        songs, by_id = songs_of(lib, user_id)
        literal_song_vectors(songs)
        literal_hidden_tags(songs)
        return songs, by_id

    monkeypatch.setattr(playlist_support, "_songs", songs_in_the_similarity_space)
    rng = random.Random(7)
    _, tag_names, genre_names = __import__("playlist_support").current_models()
    ids = []
    for i in range(160):
        tags = {t: rng.random() for t in rng.sample(tag_names, 6)}
        ids.append(add_song(
            library, f"Song {i}", artist=f"Artist {i % 9}", album=f"Album {i % 13}", year=rng.choice([None, *range(1980, 2021)]),
            duration=rng.choice([None, *range(60, 400, 7)]), fmt=rng.choice(["mp3", "flac", "ogg"]),
            added_days=rng.uniform(0, 90), tags=tags if i % 10 else None,
            genre=rng.choice(genre_names) if i % 10 else None,
            embedding=np.random.default_rng(i).normal(size=32) if i % 10 else None,
            status="missing" if i % 17 == 0 else "ok", tracknumber=rng.choice([None, 1, 2, 3])))
    ann = library.add_user("ann")
    for tid in rng.sample(ids, 60):
        library.rate(ann.id, tid, rng.randint(1, 5))
    for _ in range(200):
        library.record_play(ann.id, rng.choice(ids), started_at=NOW - rng.uniform(0, 30) * DAY,
                            seconds_played=200, skipped=rng.random() < 0.3)
    a, b = ids[1], ids[2]
    for text in QUERIES:
        text = text.format(a=a, b=b)
        got = evaluate(library, text, user_id=ann.id, now=NOW).track_ids
        want = reference_evaluate(library, text, user_id=ann.id, now=NOW)
        assert got == want, text


def test_big_masks_filter_after_sql(library, monkeypatch):
    """A mask with more songs than INJECT_MAX is applied to the SQL result instead of sent to SQLite."""
    import player.library.smart as smart

    for i in range(30):
        add_song(library, f"s{i}", tags={"piano": i / 30}, genre="Rock", embedding=np.ones(32))
    want = evaluate(library, "tag:piano>0.5 limit:5", now=NOW).track_ids
    monkeypatch.setattr(smart, "INJECT_MAX", 3)
    assert evaluate(library, "tag:piano>0.5 limit:5", now=NOW).track_ids == want
    assert len(want) == 5 and INJECT_MAX > 3


def test_the_cached_library_order_follows_new_and_changed_songs(library, monkeypatch):
    import player.library.smart as smart

    monkeypatch.setattr(smart, "RANK_MIN", 0)
    a = add_song(library, "x", artist="B band")
    b = add_song(library, "y", artist="D band")
    assert evaluate(library, "band", now=NOW).track_ids == [a, b]
    c = add_song(library, "z", artist="A band")  # a new song: the rank is rebuilt
    assert evaluate(library, "band", now=NOW).track_ids == [c, a, b]
    with library.db.transaction() as conn:  # a rescan that sees new tags sets updated_at
        conn.execute("UPDATE tracks SET artist = 'E band', updated_at = ? WHERE id = ?", (NOW + 1, c))
    assert evaluate(library, "band", now=NOW).track_ids == [a, b, c]

"""Emotion → tagger labels: the built-in table, the user's mood_mapping.json, the vocabulary check."""

import json
import os
from pathlib import Path

import pytest

from player.mood import mapping
from player.mood.model import EMOTIONS

# musicnn's tag lists (MagnaTagATune top 50 + Million Song Dataset top 50): the vocabulary the
# tagger's 100 labels are chosen from.
MUSICNN_TAGS = {t.lower() for t in [
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast", "piano",
    "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male", "singing",
    "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman", "male vocal", "no vocal",
    "pop", "soft", "sitar", "solo", "man", "classic", "choir", "voice", "new age", "dance", "male voice",
    "female vocal", "beats", "harp", "cello", "no voice", "weird", "country", "metal", "female voice",
    "choral",
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock",
    "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill", "instrumental", "punk",
    "oldies", "blues", "hard rock", "ambient", "acoustic", "experimental", "female vocalist", "guitar",
    "Hip-Hop", "70s", "party", "country", "easy listening", "sexy", "catchy", "funk", "electro",
    "heavy metal", "Progressive rock", "60s", "rnb", "indie pop", "sad", "House", "happy",
]}


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A data folder and a models folder of our own (no user file, no tagger vocabulary)."""
    data, models = tmp_path / "data", tmp_path / "models"
    data.mkdir()
    models.mkdir()
    monkeypatch.setenv("PLAYER_DATA_DIR", str(data))
    monkeypatch.setenv("PLAYER_MODELS_DIR", str(models))
    return data, models


def write_json(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")
    # make sure the cache sees a new version even within one mtime tick
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


def test_every_emotion_has_lowercase_labels_from_the_tag_vocabulary():
    for policy in mapping.POLICIES:
        for emotion in EMOTIONS:
            labels = mapping.labels_for(emotion, policy)
            assert labels, (policy, emotion)
            for label in labels:
                assert label == label.lower()
                assert label in MUSICNN_TAGS, f"{policy}.{emotion}: {label!r} is not a musicnn tag"


def test_match_and_cheer_up_differ_for_sad():
    assert mapping.labels_for("sad", "match")[:2] == ["sad", "mellow"]
    cheer = mapping.labels_for("sad", "cheer_up")
    assert "happy" in cheer and "sad" not in cheer
    assert mapping.labels_for("Happy") == mapping.labels_for("happy") == ["happy", "catchy", "party", "dance"]
    assert mapping.labels_for("sad", "cheer-up") == cheer


def test_unknown_names_and_policies():
    assert mapping.labels_for(None) == []
    assert mapping.labels_for("") == []
    assert mapping.labels_for("bored") == []
    assert mapping.labels_for("chill") == ["chill"]  # a label of the table stands for itself
    with pytest.raises(ValueError, match="match.*cheer_up"):
        mapping.labels_for("happy", "sulk")


def test_user_file_overrides_key_by_key(isolated):
    data, _ = isolated
    write_json(data / "mood_mapping.json", {
        "match": {"sad": ["piano", "slow"], "Focused": ["instrumental", "ambient"]},
        "cheer-up": {"sad": "dance"},
    })
    assert mapping.labels_for("sad") == ["piano", "slow"]
    assert mapping.labels_for("focused") == ["instrumental", "ambient"]
    assert mapping.labels_for("happy") == mapping.DEFAULT_MAPPING["match"]["happy"]
    assert mapping.labels_for("sad", "cheer_up") == ["dance"]
    report = mapping.check_mapping()
    assert report.source.endswith("mood_mapping.json")
    assert report.warnings == []
    # editing the file takes effect without a restart
    write_json(data / "mood_mapping.json", {"match": {"sad": []}})
    assert mapping.labels_for("sad") == []
    assert mapping.labels_for("focused") == []


def test_bad_user_file_is_a_warning_not_an_error(isolated):
    data, _ = isolated
    (data / "mood_mapping.json").write_text("{not json", encoding="utf-8")
    assert mapping.labels_for("happy") == mapping.DEFAULT_MAPPING["match"]["happy"]
    report = mapping.check_mapping()
    assert report.source == "built-in"
    assert any("cannot read" in w for w in report.warnings)

    write_json(data / "mood_mapping.json", {"match": {"sad": 5}, "gloomy": {}, "cheer_up": []})
    report = mapping.check_mapping()
    assert mapping.labels_for("sad") == mapping.DEFAULT_MAPPING["match"]["sad"]
    text = "\n".join(report.warnings)
    assert "match.sad must be a list" in text and "unknown policy 'gloomy'" in text


@pytest.mark.parametrize("shape", ["list", "dict", "index"])
def test_labels_outside_the_tagger_vocabulary_are_dropped_with_a_warning(isolated, shape):
    _, models = isolated
    vocab = ["happy", "Mellow", "sad", "rock", "dance", "party", "chill"]
    obj = {"list": vocab, "dict": {"labels": vocab}, "index": {str(i): v for i, v in enumerate(vocab)}}[shape]
    write_json(models / "tagger" / "labels.json", obj)
    # the vocabulary's spelling is returned ('Mellow'); labels it lacks are dropped
    assert mapping.labels_for("sad") == ["sad", "Mellow"]
    assert mapping.labels_for("happy") == ["happy", "party", "dance"]
    assert mapping.labels_for("rock") == ["rock"]  # a vocabulary label stands for itself
    assert mapping.labels_for("jazz") == []
    report = mapping.check_mapping()
    assert report.vocabulary_size == len(vocab)
    assert any("'slow' is not in the tagger vocabulary" in w for w in report.warnings)
    assert "dropped" in report.format()


def test_mapping_cli_prints_the_table(capsys):
    from player.cli import main

    assert main(["mood", "--mapping"]) == 0
    out = capsys.readouterr().out
    assert "mood mapping: built-in" in out
    assert "cheer_up:" in out and "sad       -> happy" in out
    assert "mood_mapping.json" in out
    assert main(["mood", "--mapping", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["mapping"]["match"]["happy"] == mapping.DEFAULT_MAPPING["match"]["happy"]


SHIPPED_TAGS = json.loads((Path(__file__).resolve().parent.parent / "models" / "tagger" / "labels.json")
                          .read_text(encoding="utf-8"))


@pytest.mark.parametrize("policy", mapping.POLICIES)
def test_the_built_in_table_names_only_tags_of_the_shipped_tagger(policy):
    table = mapping.DEFAULT_MAPPING[policy]
    assert set(table) == set(mapping.MOODS) >= set(EMOTIONS)
    for mood, labels in table.items():
        assert labels, (policy, mood)
        assert set(labels) <= set(SHIPPED_TAGS), (policy, mood, set(labels) - set(SHIPPED_TAGS))


def test_with_the_shipped_vocabulary_nothing_is_dropped(isolated):
    _, models = isolated
    write_json(models / "tagger" / "labels.json", SHIPPED_TAGS)
    report = mapping.check_mapping()
    assert report.warnings == [] and report.vocabulary_size == 50
    assert report.mapping == mapping.DEFAULT_MAPPING


@pytest.mark.parametrize("word, mood", [("joy", "happy"), ("Anger", "angry"), ("peaceful", "calm"),
                                        ("concentrate", "focus"), ("calm", "calm")])
def test_aliases_and_named_moods(word, mood):
    assert mapping.lookup(word) == mapping.DEFAULT_MAPPING["match"][mood]
    assert mapping.lookup(word, "cheer_up") == mapping.DEFAULT_MAPPING["cheer_up"][mood]


def test_lookup_tells_an_unknown_word_from_a_mood_turned_off(isolated):
    data, _ = isolated
    assert mapping.lookup("grumpy-ish") is None and mapping.lookup(None) is None
    write_json(data / "mood_mapping.json", {"match": {"sad": []}})
    assert mapping.lookup("sad") == [] and mapping.labels_for("sad") == []
    assert mapping.lookup("chill") == ["chill"]  # a tag, not the alias of a mood


def test_the_recommender_reads_the_same_table():
    from player.recommend.moods import known_moods, labels_for_mood

    assert known_moods() == sorted(mapping.MOODS)
    assert labels_for_mood("energy") == mapping.labels_for("energetic")
    assert labels_for_mood("grumpy-ish") is None


def test_every_built_in_mood_reaches_the_recommender_whole_though_most_tags_are_hidden(library, monkeypatch):
    """The label rule shows 11 of the 50 tags; the recommender reads a mood through the tag probabilities,
    so every tag of every built-in mood is used, shown or hidden."""
    from modelgen import SHIPPED
    from player.analysis.relabel import current_rule

    monkeypatch.setenv("PLAYER_MODELS_DIR", str(SHIPPED))
    from player.recommend import Recommender
    from test_recommend_support import add_tagged_tracks

    _tagger, rule, names = current_rule()
    shown = {n for n, s in zip(names, rule.shown) if s}
    add_tagged_tracks(library, [{"title": f"s{i}", "tags": {names[i]: 0.6}} for i in range(0, 50, 7)])
    rec = Recommender.from_library(library)
    for mood in mapping.MOODS:
        tags = mapping.lookup(mood)
        assert rec.match_mood(tags) == tags, mood
    hidden_only = [m for m in mapping.MOODS if not set(mapping.lookup(m)) & shown]
    assert {"happy", "neutral", "romantic", "disgust"} <= set(hidden_only)

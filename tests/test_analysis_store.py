"""player.analysis.store: the one reader of stored analysis results, and the writer's stale-file check.

Real library files, rows written by save_results, label names from real labels.json files (no TensorFlow)."""

import json
import os

import numpy as np
import pytest

from player.analysis import registry
from player.analysis.store import (
    AnalysisResult,
    Failure,
    SourceFile,
    count_pending,
    pending_track_ids,
    read_analysed_ids,
    read_counts,
    read_embeddings,
    read_label_rows,
    read_label_table,
    read_library_labels,
    read_track,
    save_results,
)
from player.library.scan import scan

TAGS = ["rock", "calm", "piano", "happy"]
GENRES = ["Folk", "Pop", "Rock"]
VERSION = "tagger@1+genre@2"


@pytest.fixture
def models(tmp_path):
    root = tmp_path / "models"
    for name, labels in (("tagger", TAGS), ("genre", GENRES)):
        (root / name).mkdir(parents=True)
        (root / name / "labels.json").write_text(json.dumps(labels), encoding="utf-8")
    return root


@pytest.fixture
def lib(library, music_dir):
    scan(library, [music_dir])
    return library


def result(track_id, tags, genres, seed=0, labels=None):
    rng = np.random.default_rng(seed)
    return AnalysisResult(track_id, np.asarray(tags, np.float32), np.asarray(genres, np.float32),
                          rng.standard_normal(32).astype(np.float32), labels or {}, n_excerpts=2)


def test_a_track_reads_back_with_the_names_of_its_models(lib, models):
    a, b, c = [t.id for t in lib.tracks()[:3]]
    save_results(lib, VERSION, [result(a, [0.9, 0.1, 0.6, 0.3], [0.2, 0.7, 0.1],
                                       labels={"rock": (2, 0.9), "piano": (1, 0.6), "happy": (2, 0.3)})],
                 [Failure(b, "silent: no sound to analyse")])
    got = read_track(lib, a, models_dir=models)
    assert got.ok and got.model_version == VERSION and got.n_excerpts == 2 and got.analysed_at > 0
    assert got.tags.named and got.tags.names == tuple(TAGS)
    assert got.tags.ranked(2) == [("rock", pytest.approx(0.9)), ("piano", pytest.approx(0.6))]
    assert got.genres.ranked(1) == [("Pop", pytest.approx(0.7))] and got.genres.best() == "Pop"
    assert got.embedding.shape == (32,) and got.embedding.dtype == np.float32
    # the labels that pass: by count, then probability
    assert [lab.name for lab in got.labels] == ["rock", "happy", "piano"]
    assert got.label_counts()["piano"] == (1, pytest.approx(0.6))
    with pytest.raises(AttributeError):  # frozen
        got.status = "error"
    failed = read_track(lib, b, models_dir=models)
    assert not failed.ok and failed.error.startswith("silent") and failed.tags is None and failed.labels == ()
    assert read_track(lib, c, models_dir=models) is None


@pytest.mark.parametrize("version, named", [
    ("other@1+genre@2", (False, True)),  # the tagger is not installed
    ("tagger@1", (True, False)),  # no genre model named
    ("", (False, False)),
])
def test_names_come_from_the_version_never_from_the_length(lib, models, version, named):
    tid = lib.tracks()[0].id
    save_results(lib, version, [result(tid, [0.5] * 4, [0.2, 0.3, 0.5])])
    got = read_track(lib, tid, models_dir=models)
    assert (got.tags.named, got.genres.named) == named
    if not named[0]:  # generic names even though a 4-name model is installed
        assert got.tags.names == ("tag 1", "tag 2", "tag 3", "tag 4")
    if not named[1]:
        assert got.genres.names == ("genre 1", "genre 2", "genre 3")


def test_names_follow_an_edited_labels_file_and_a_wrong_length_is_not_named(lib, models):
    tid = lib.tracks()[0].id
    save_results(lib, VERSION, [result(tid, [0.5] * 4, [0.2, 0.3, 0.5])])
    path = models / "genre" / "labels.json"
    path.write_text(json.dumps(["a", "b", "c"]), encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert read_track(lib, tid, models_dir=models).genres.names == ("a", "b", "c")
    assert registry.labels_for_version(VERSION, models).genres == ("a", "b", "c")
    path.write_text(json.dumps(["a", "b"]), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000))
    got = read_track(lib, tid, models_dir=models).genres
    assert not got.named and got.names == ("genre 1", "genre 2", "genre 3")
    assert registry.parse_version("tagger@1+cnn_lstm@2") == (("tagger", "1"), ("cnn_lstm", "2"))


def test_counts_with_reasons_and_versions(lib, models):
    ids = [t.id for t in lib.tracks()]
    save_results(lib, VERSION, [result(ids[0], [0.5] * 4, [0.2, 0.3, 0.5])],
                 [Failure(ids[1], "too short"), Failure(ids[2], "too short")])
    save_results(lib, "old@1", [], [Failure(ids[3], "cannot decode: bad header")])
    c = read_counts(lib)
    assert (c.total, c.analysed, c.failed, c.pending) == (len(ids), 1, 3, len(ids) - 4)
    assert c.reasons == (("too short", 2), ("cannot decode: bad header", 1))
    c = read_counts(lib, VERSION)  # another version's rows are pending
    assert (c.analysed, c.failed, c.pending) == (1, 2, len(ids) - 3) and c.reasons == (("too short", 2),)
    assert count_pending(lib, VERSION) == (len(ids) - 3, 3)
    assert set(pending_track_ids(lib, VERSION)) == set(ids) - set(ids[:3])


def test_library_labels_and_arrays(lib, models):
    ids = [t.id for t in lib.tracks()]
    save_results(lib, VERSION, [
        result(ids[0], [0.9, 0.1, 0.6, 0.3], [0.2, 0.7, 0.1], labels={"rock": (2, 0.9), "piano": (1, 0.6)}),
        result(ids[1], [0.1, 0.8, 0.2, 0.3], [0.6, 0.3, 0.1], seed=1, labels={"calm": (1, 0.8)}),
    ])
    view = read_library_labels(lib, models_dir=models)
    assert view.tags == {ids[0]: "rock · piano", ids[1]: "calm"}
    assert view.genres == {ids[0]: "Pop", ids[1]: "Folk"}
    assert view.stamp > 0 and read_library_labels(lib, since=view.stamp, models_dir=models).tags == {}
    rows = read_label_rows(lib)
    assert rows.names == ("calm", "piano", "rock")
    got = {(int(t), rows.names[int(k)], float(c)) for t, k, c in zip(rows.track_ids, rows.codes, rows.counts)}
    assert got == {(ids[0], "rock", 2.0), (ids[0], "piano", 1.0), (ids[1], "calm", 1.0)}
    emb = read_embeddings(lib)
    assert emb.track_ids.tolist() == ids[:2] and emb.vectors.shape == (2, 32)
    assert np.allclose(emb.vectors[1], read_track(lib, ids[1]).embedding)
    assert sorted(read_analysed_ids(lib).tolist()) == ids[:2]
    table = read_label_table(lib)
    assert [(r[1], r[2]) for r in table] == [("rock", 2), ("piano", 1), ("calm", 1)]


def test_a_result_of_a_file_that_changed_since_its_decoding_is_not_saved(lib, music_dir):
    """The rescan of a changed file clears its analysis; the result of the old audio, still in flight,
    must not be written back: the track stays pending."""
    tracks = lib.tracks()
    decoded = {t.id: SourceFile.of(t) for t in tracks}  # as the worker read them
    changed = next(t for t in tracks if t.path.endswith(".wav"))
    from audiogen import write_audio

    write_audio(changed.path, seconds=3.0, freq=990)  # another size and mtime
    st = os.stat(changed.path)
    os.utime(changed.path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    scan(lib, [music_dir])
    assert lib.track(changed.id).mtime != changed.mtime
    others = [t for t in tracks if t.id != changed.id]
    stale = save_results(lib, VERSION, [result(t.id, [0.5] * 4, [0.2, 0.3, 0.5]) for t in tracks[:-1]],
                         [Failure(tracks[-1].id, "too short")], sources=decoded)
    assert stale == [changed.id]
    assert read_track(lib, changed.id) is None
    assert changed.id in pending_track_ids(lib, VERSION)
    assert all(read_track(lib, t.id) is not None for t in others)
    # with the file as it is now, it is written
    assert save_results(lib, VERSION, [result(changed.id, [0.5] * 4, [0.2, 0.3, 0.5])],
                        sources={changed.id: SourceFile.of(lib.track(changed.id))}) == []
    assert read_track(lib, changed.id).ok


def test_whole_library_arrays_keep_tag_values_without_names_and_drop_what_was_derived(lib):
    """read_analysis_arrays: the tag probabilities as values even when the tagger is not installed (no
    names: no tag: queries, but the similarity space still reads them), a row of another length as NaN,
    and ``derived`` (what consumers cache with the arrays) gone once the analysis changes."""
    from player.analysis.store import read_analysis_arrays

    ids = [t.id for t in lib.tracks()]
    version = "uninstalled-tagger@1+uninstalled-genre@1"
    save_results(lib, version, [result(ids[0], [0.9, 0.1, 0.6, 0.3], [0.2, 0.7, 0.1]),
                                result(ids[1], [0.1, 0.8, 0.2, 0.3], [0.6, 0.3, 0.1], seed=1),
                                result(ids[2], [0.5, 0.5], [0.6, 0.3, 0.1], seed=2)])
    a = read_analysis_arrays(lib)
    assert a.version == version and a.tag_names is None and a.tag_probs is None
    assert a.tag_values.shape == (3, 4)
    assert a.tag_values[1].tolist() == pytest.approx([0.1, 0.8, 0.2, 0.3])
    assert np.isnan(a.tag_values[2]).all()  # another length than the others
    a.derived["x"] = 1
    assert read_analysis_arrays(lib).derived == {"x": 1}  # the same arrays while nothing changes
    save_results(lib, version, [result(ids[3], [0.2, 0.2, 0.2, 0.2], [0.6, 0.3, 0.1], seed=3)])
    fresh = read_analysis_arrays(lib)
    assert fresh is not a and fresh.derived == {} and fresh.tag_values.shape == (4, 4)

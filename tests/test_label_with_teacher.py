"""scripts/label_with_teacher.py: targets, split, corpus discovery and, when musicnn is installed, the
rebuilt teacher end to end on generated audio (CI has no musicnn: those tests skip cleanly)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from audiogen import tone, write_audio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import label_with_teacher as L  # noqa: E402

HAVE_TEACHER = importlib.util.find_spec("musicnn") is not None


def test_vocabulary_has_fifty_known_tags_covering_moods_genres_and_instruments():
    cols = set(L.teacher_columns())
    assert len(L.TAGGER_VOCABULARY) == 50
    for name, sources in L.TAGGER_VOCABULARY.items():
        assert sources, name
        assert set(sources) <= cols, (name, set(sources) - cols)
    for must in ("happy", "sad", "mellow", "chill", "party", "quiet", "beautiful", "rock", "electronic",
                 "ambient", "piano", "guitar", "instrumental"):
        assert must in L.TAGGER_VOCABULARY
    assert L.GENRES == sorted(L.GENRE_MAP)
    for sources in L.GENRE_MAP.values():
        assert set(sources) <= cols


def test_targets_are_max_merges_of_teacher_columns():
    cols = L.teacher_columns()
    probs = np.zeros((2, 100), np.float32)
    probs[0, cols.index("msd:chillout")] = 0.7
    probs[0, cols.index("msd:chill")] = 0.2
    probs[1, cols.index("mtt:soft")] = 0.9
    probs[1, cols.index("msd:Hip-Hop")] = 0.4
    t = L.tagger_targets(probs)
    names = list(L.TAGGER_VOCABULARY)
    assert t.shape == (2, 50)
    assert t[0, names.index("chill")] == pytest.approx(0.7)
    assert t[1, names.index("quiet")] == pytest.approx(0.9)
    g = L.genre_scores(probs)
    assert g.shape == (2, 8)
    assert g[1].argmax() == L.GENRES.index("Hip-Hop")
    with pytest.raises(ValueError, match="100 teacher columns"):
        L.tagger_targets(np.zeros((1, 50)))


def test_split_keeps_packages_whole_is_deterministic_and_balanced():
    counts = {"a": 63, "b": 45, "c": 44, "d": 31, "e": 26, "f": 19, "g": 19, "h": 18, "i": 14, "j": 14,
              "k": 10, "l": 8, "m": 8, "n": 7, "o": 6, "p": 3, "q": 3, "r": 1}
    s1 = L.assign_splits(counts)
    assert s1 == L.assign_splits(dict(reversed(list(counts.items()))))
    assert set(s1) == set(counts)
    total = sum(counts.values())
    for split, frac in L.SPLIT_FRACTIONS.items():
        got = sum(n for p, n in counts.items() if s1[p] == split) / total
        assert abs(got - frac) < 0.05, (split, got)
    assert s1["a"] == "train"  # the biggest package trains


def test_patches_cut_whole_patches_and_repeat_pad_short_audio():
    y = tone(seconds=10.0, sr=L.TEACHER_SR)[:, 0]
    mel = L.teacher_logmel(y)
    assert mel.dtype == np.float32 and np.all(np.isfinite(mel))
    x, starts = L.patches(mel)
    assert x.shape == (mel.shape[0] // L.PATCH_FRAMES, L.PATCH_FRAMES, L.TEACHER_N_MELS)
    assert np.allclose(np.diff(starts), L.PATCH_SECONDS)
    short, s = L.patches(L.teacher_logmel(y[: L.TEACHER_SR]))  # 1 s: one repeat-padded patch
    assert short.shape == (1, L.PATCH_FRAMES, L.TEACHER_N_MELS) and list(s) == [0.0]


def test_logmel_of_loud_audio_stays_finite():
    """musicnn's own extractor casts to float16 here: loud music overflows to inf and NaN tags."""
    t = np.arange(L.TEACHER_SR * 4) / L.TEACHER_SR
    y = (0.99 * np.sign(np.sin(2 * np.pi * 110 * t))).astype(np.float32)  # full-scale square wave
    mel = L.teacher_logmel(y)
    assert np.all(np.isfinite(mel))
    assert mel.max() > np.log10(10000 * 6.6e0 + 1)  # beyond float16's range after the 10000x


def test_find_tracks_uses_the_manifest_or_first_folder(tmp_path):
    write_audio(tmp_path / "lib" / "artistA" / "x.ogg", seconds=1.0)
    write_audio(tmp_path / "lib" / "artistB" / "sub" / "y.flac", seconds=1.0)
    write_audio(tmp_path / "lib" / "loose.wav", seconds=1.0)
    (tmp_path / "lib" / "notes.txt").write_text("not audio")
    found = L.find_tracks(tmp_path / "lib")
    assert found == [("artistA/x.ogg", "artistA"), ("artistB/sub/y.flac", "artistB"), ("loose.wav", ".")]
    (tmp_path / "lib" / "manifest.tsv").write_text("path\tpackage\tseconds\nartistA/x.ogg\tpkg1\t1.0\n")
    assert L.find_tracks(tmp_path / "lib") == [("artistA/x.ogg", "pkg1")]
    (tmp_path / "lib" / "manifest.tsv").write_text("file\tgroup\n")
    with pytest.raises(SystemExit, match="path"):
        L.find_tracks(tmp_path / "lib")


def test_unreadable_audio_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"ID3" + b"\x00" * 200)
    with pytest.raises(L.AudioError, match="cannot decode"):
        L.load_mono(bad, L.TEACHER_SR)


def test_merge_gathers_parts_with_package_splits(tmp_path):
    tracks = [(f"p{k}/t{i}.ogg", f"p{k}") for k in range(4) for i in range(k + 1)]
    (tmp_path / "tracks").mkdir()
    for j, (rel, _) in enumerate(tracks[:-1]):  # the last one was never labelled
        n = j % 3 + 1
        np.savez(tmp_path / "tracks" / f"{L.track_id(rel)}.npz", starts=np.arange(n) * L.PATCH_SECONDS,
                 teacher=np.full((n, 100), j / 10, np.float32),
                 msd_penultimate=np.zeros((n, 200), np.float16), mtt_penultimate=np.zeros((n, 200), np.float16),
                 seconds=np.float32(n * 3))
    a = L.merge(tmp_path, tracks)
    assert list(a["path"]) == [r for r, _ in tracks[:-1]]
    assert a["teacher"].shape == (len(a["track"]), 100)
    assert np.all(np.diff(a["track"]) >= 0) and a["track"].max() == len(tracks) - 2
    for p in set(a["package"]):
        assert len(set(a["split"][a["package"] == p])) == 1
    z = np.load(tmp_path / "labels.npz")
    assert set(z.files) >= {"path", "package", "split", "teacher", "start", "track"}
    with pytest.raises(SystemExit, match="no track"):
        L.merge(tmp_path / "nothing", tracks)


def test_cli_refuses_a_missing_or_empty_folder(tmp_path, capsys):
    assert L.main([str(tmp_path / "nope"), str(tmp_path / "out")]) == 2
    assert "not a folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert L.main([str(tmp_path / "empty"), str(tmp_path / "out")]) == 2
    assert "no audio files" in capsys.readouterr().err


@pytest.mark.tf
@pytest.mark.skipif(not HAVE_TEACHER, reason="the teacher (pip install --no-deps musicnn==0.1.0) is not installed")
def test_teacher_end_to_end_resumable_and_skips_bad_files(tmp_path):
    sr = 22050
    t = np.arange(int(8 * sr)) / sr
    chord = (0.2 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 277 * t)
             + 0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    rng = np.random.default_rng(0)
    noise = (0.5 * rng.standard_normal(t.size) * (np.sin(2 * np.pi * 4 * t) > 0.3)).astype(np.float32)
    write_audio(tmp_path / "m" / "a" / "chord.ogg", chord[:, None], sr)
    write_audio(tmp_path / "m" / "b" / "noise.flac", noise[:, None], sr)
    (tmp_path / "m" / "b" / "broken.mp3").write_bytes(b"\xff\xfb" + b"\x00" * 100)
    out = tmp_path / "out"
    assert L.main([str(tmp_path / "m"), str(out)]) == 0
    z = np.load(out / "labels.npz")
    assert list(z["path"]) == ["a/chord.ogg", "b/noise.flac"]
    assert np.all(np.isfinite(z["teacher"])) and z["teacher"].min() >= 0 and z["teacher"].max() <= 1
    assert z["msd_penultimate"].shape[1] == 200
    mean = [z["teacher"][z["track"] == i].mean(axis=0) for i in range(2)]
    assert np.abs(mean[0] - mean[1]).max() > 0.1  # a chord and noise bursts are tagged differently
    assert "broken.mp3" in (out / "skipped.tsv").read_text()
    info = json.loads((out / "tags.json").read_text())
    assert len(info["teacher"]["columns"]) == 100 and len(info["tagger_vocabulary"]) == 50
    # resumable: a second run labels nothing new and gives the same result
    before = (out / "tracks").stat().st_mtime_ns, sorted(p.name for p in (out / "tracks").iterdir())
    assert L.main([str(tmp_path / "m"), str(out)]) == 0
    assert sorted(p.name for p in (out / "tracks").iterdir()) == before[1]
    assert np.array_equal(np.load(out / "labels.npz")["teacher"], z["teacher"])

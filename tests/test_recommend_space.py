"""The one similarity space (player/recommend/space.py): the song vector built from both models' outputs,
standardised over the library, and every "sounds like" question asked in it -- on real library files."""

from __future__ import annotations

import numpy as np
import pytest

from player.analysis.store import AnalysisResult, read_analysis_arrays, save_results
from player.library.smart import evaluate
from player.recommend import Recommender
from player.recommend.data import read_song_vectors
from player.recommend.space import EMBEDDING_WEIGHT, TAG_WEIGHT, song_vectors
from test_recommend_support import add_tracks

VERSION = "test@1"


def axis(*hot, offset: float = 0.0) -> np.ndarray:
    """A 32-d embedding: ``offset`` on dimension 0 (what every song shares) plus the given (dim, value)s."""
    v = np.zeros(32, np.float32)
    v[0] = offset
    for i, w in hot:
        v[i] += w
    return v


def tags(*hot) -> np.ndarray:
    t = np.full(6, 0.05, np.float32)
    for i, p in hot:
        t[i] = p
    return t


def analyse(lib, rows: dict) -> dict:
    """Tracks with stored analysis (the real writer): title -> (embedding or None, tag probabilities or None)."""
    ids = add_tracks(lib, [{"title": title, "artist": f"artist {k}", "album": f"album {k}"}
                           for k, title in enumerate(rows)])
    empty = np.zeros(0, np.float32)
    save_results(lib, VERSION, [
        AnalysisResult(tid, t if t is not None else empty, np.array([0.5, 0.5], np.float32),
                       e if e is not None else empty)
        for tid, (e, t) in zip(ids, rows.values())])
    return dict(zip(rows, ids))


# the songs where seed 000's raw cosine misleads: every embedding carries a large common offset, so a
# song with hardly anything of its own ("plain") is closest to every song; "partner" shares the
# anchor's own dimension. Centred on the library, the offset is gone and the partner is nearest.
OFFSET = 10.0
OFFSET_SONGS = {
    "anchor": (axis((1, 1.0), offset=OFFSET), tags((0, 0.8))),
    "partner": (axis((1, 1.0), (2, 1.5), offset=OFFSET), tags((0, 0.7), (1, 0.3))),
    "plain": (axis((3, 0.3), offset=OFFSET), tags((4, 0.3))),
    "mirror": (axis((1, -1.0), offset=OFFSET), tags((2, 0.8))),
    "mirror partner": (axis((1, -1.0), (2, -1.5), offset=OFFSET), tags((2, 0.7), (3, 0.3))),
    "mirror plain": (axis((3, -0.3), offset=OFFSET), tags((5, 0.3))),
}


def nearest(vectors: np.ndarray, i: int) -> int:
    sims = vectors @ vectors[i]
    sims[i] = -np.inf
    return int(np.argmax(sims))


def test_a_common_offset_misleads_the_raw_cosine_and_not_the_space():
    names = list(OFFSET_SONGS)
    emb = np.stack([e for e, _ in OFFSET_SONGS.values()])
    tg = np.stack([t for _, t in OFFSET_SONGS.values()])
    a = names.index("anchor")
    raw = song_vectors(emb, tg, "raw")
    assert names[nearest(raw, a)] in ("plain", "mirror plain")  # (the two tie)
    assert (raw @ raw.T).min() > 0.9  # every pair looks alike
    for joint in (song_vectors(emb, tg), song_vectors(emb, None), song_vectors(emb, tg, standardisation="z-score")):
        assert names[nearest(joint, a)] == "partner"
        assert np.linalg.norm(joint, axis=1) == pytest.approx(1.0, abs=1e-6)
    # the tag block alone: centred log-probabilities; anchor and partner share tag 0
    assert names[nearest(song_vectors(emb, tg, "tags"), a)] == "partner"
    # without standardisation the offset is back
    assert names[nearest(song_vectors(emb, None, standardisation="none"), a)] in ("plain", "mirror plain")


def test_a_song_with_one_input_still_gets_a_vector_and_nan_rows_none():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(6, 32)).astype(np.float32)
    tg = rng.uniform(0.01, 0.9, size=(6, 5)).astype(np.float32)
    emb[1] = np.nan  # tags only
    tg[2] = np.nan  # embedding only
    emb[3], tg[3] = np.nan, 0.0  # neither usable
    tg[4] = 0.0  # an empty tag blob reads as zeros: embedding only
    v = song_vectors(emb, tg)
    assert np.isfinite(v).all() and v.shape == (6, 32 + 5)
    assert not v[3].any()
    norms = np.linalg.norm(v, axis=1)
    assert norms[[0, 1, 2, 4, 5]] == pytest.approx(1.0, abs=1e-6)
    assert not v[1, :32].any() and v[1, 32:].any()  # tags only: the tag block alone
    assert v[2, :32].any() and not v[2, 32:].any()
    # a song with both against a song with one: that block's cosine, scaled by its share of the row
    both = v[0]
    tag_block = lambda row: row[32:] / np.linalg.norm(row[32:])  # noqa: E731
    share = TAG_WEIGHT / np.hypot(EMBEDDING_WEIGHT, TAG_WEIGHT)
    assert float(both @ v[1]) == pytest.approx(share * float(tag_block(both) @ tag_block(v[1])), abs=1e-5)
    # the rows without an input take no part in the standardisation: dropping them changes nothing
    keep = [0, 5]
    alone = song_vectors(emb[keep], tg[keep])
    assert not np.allclose(alone, v[keep])  # (two songs: a centre of their own)
    mask = [0, 1, 2, 4, 5]
    assert song_vectors(emb[mask], tg[mask]) == pytest.approx(v[mask], abs=1e-6)
    assert song_vectors(np.vstack([emb, np.full((1, 32), np.nan)]), np.vstack([tg, np.full((1, 5), np.nan)]))[:6] \
        == pytest.approx(v, abs=1e-6)
    # neither input at all, and a one-song library (nothing to centre on: its own direction)
    assert song_vectors(None, None).shape[0] == 0
    one = song_vectors(emb[:1], tg[:1])
    assert np.linalg.norm(one) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="unknown similarity space"):
        song_vectors(emb, tg, "cosine")


def test_the_vectors_follow_the_library_and_are_built_once_per_change(library):
    ids = analyse(library, dict(list(OFFSET_SONGS.items())[:4]))
    tids, vectors = read_song_vectors(library)
    assert tids.tolist() == sorted(ids.values())
    again = read_song_vectors(library)[1]
    assert again is vectors  # cached with the analysis arrays: nothing changed
    assert not vectors.flags.writeable
    rec = Recommender.from_library(library)
    assert rec.E[rec.index.positions(tids)] == pytest.approx(vectors, abs=1e-6)
    # more songs analysed: the centre moves, every vector is rebuilt over the whole library
    more = analyse(library, dict(list(OFFSET_SONGS.items())[4:]) | {"tags only": (None, tags((0, 0.9))),
                                                                    "embedding only": (axis((1, 2.0), offset=OFFSET),
                                                                                       None)})
    tids2, vectors2 = read_song_vectors(library)
    assert len(tids2) == len(OFFSET_SONGS) + 2 and vectors2 is not vectors
    a = read_analysis_arrays(library)
    assert vectors2 == pytest.approx(song_vectors(a.embeddings, a.tag_values), abs=1e-6)
    old = [tids2.tolist().index(t) for t in tids.tolist()]
    assert not np.allclose(vectors2[old], vectors)
    assert np.linalg.norm(vectors2, axis=1) == pytest.approx(1.0, abs=1e-6)  # one input is enough
    # the recommender's index after a reload holds the same vectors
    rec.reload()
    assert rec.E[rec.index.positions(tids2)] == pytest.approx(vectors2, abs=1e-6)
    sims = rec.similarity_to(more["tags only"])
    assert np.isfinite(sims[rec.position(more["tags only"])])
    # an analysis removed: gone from the space
    library.db.conn.execute("DELETE FROM analysis WHERE track_id = ?", (more["embedding only"],))
    assert more["embedding only"] not in read_song_vectors(library)[0].tolist()


def test_more_like_this_radio_and_like_near_ask_the_joint_space(library, tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))
    ids = analyse(library, OFFSET_SONGS)
    title = {tid: name for name, tid in ids.items()}
    anchor = ids["anchor"]
    # seed 000's raw cosine (kept for the evaluation) would say "plain" ...
    raw = Recommender.from_library(library, space="raw")
    assert title[raw.similar(anchor, n=1)[0].track_id] in ("plain", "mirror plain")
    # ... the player's More like this, sonic neighbourhood and smart playlists say "partner"
    rec = Recommender.from_library(library)
    top = rec.similar(anchor, n=2)
    assert title[top[0].track_id] == "partner" and top[0].parts["basis"] == "embedding"
    sims = rec.similarity_to(anchor)
    assert float(sims[rec.position(ids["partner"])]) == pytest.approx(top[0].score, abs=1e-6)
    assert evaluate(library, f"near:{anchor}:1").track_ids == [ids["partner"]]
    cut = (float(sims[rec.position(ids["partner"])]) + float(sims[rec.position(ids["plain"])])) / 2
    assert evaluate(library, f"like:{anchor}>{cut:.4f}").track_ids == [anchor, ids["partner"]]
    from player.recommend.radio import Radio, seed_from

    radio = Radio(rec, seed_from(rec, anchor))
    assert title[radio.next(1)[0].track_id] == "partner"


def test_the_evaluation_script_chooses_on_val_and_reports_test(library, tmp_path, capsys):
    """scripts/evaluate_similarity.py on a real library file and a teacher output written here: tracks
    of every val and test package, whose embeddings and tags carry their package (plus noise)."""
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    import evaluate_similarity as ES

    rng = np.random.default_rng(5)
    music = tmp_path / "music"
    packages = [(p, s) for s in ("val", "test") for p in ES.SPLITS[s]]
    rows, teacher = {}, {k: [] for k in ("path", "package", "seconds", "track", "start", "teacher",
                                         "msd_penultimate", "mtt_penultimate")}
    for k, (package, _) in enumerate(packages):
        for i in range(6):
            rel = f"{package}/song {i}.ogg"
            e = rng.normal(scale=0.5, size=32).astype(np.float32)
            e[k % 32] += 3.0
            e[31] += 20.0  # the offset every song shares
            t = rng.uniform(0.01, 0.2, size=50).astype(np.float32)
            t[k % 50] = 0.9
            rows[rel] = (e, t)
            n = len(teacher["path"])
            teacher["path"].append(rel)
            teacher["package"].append(package)
            teacher["seconds"].append(60.0)
            for start in np.arange(0, 57, 3.0):
                teacher["track"].append(n)
                teacher["start"].append(start)
                teacher["teacher"].append(rng.uniform(0, 1, size=100))
                teacher["msd_penultimate"].append(rng.normal(size=200) + 2 * (np.arange(200) == k))
                teacher["mtt_penultimate"].append(rng.normal(size=200))
    out = tmp_path / "teacher"
    out.mkdir()
    np.savez(out / "labels.npz", **{k: np.asarray(v) for k, v in teacher.items()})
    ids = add_tracks(library, [{"title": rel} for rel in rows], root=str(music))
    save_results(library, VERSION, [AnalysisResult(tid, t, np.array([0.5, 0.5], np.float32), e)
                                    for tid, (e, t) in zip(ids, rows.values())])
    with library.db.transaction() as c:  # the paths the teacher names, below MUSIC_DIR
        for tid, rel in zip(ids, rows):
            c.execute("UPDATE tracks SET path = ?, duration = 60 WHERE id = ?", (str(music / rel), tid))
    result_file = tmp_path / "similarity.json"
    code = ES.main(["--db", str(library.path), "--teacher", str(out), "--music", str(music),
                    "--out", str(result_file)])
    printed = capsys.readouterr().out
    assert code == 0
    result = json.loads(result_file.read_text())
    assert result["val"]["tracks"] == 5 * 6 and result["test"]["tracks"] == 6 * 6
    assert result["chosen"].startswith("joint") and f"**{result['chosen']}**" in printed
    val = result["val"]["candidates"]
    best = max((n for n in val if n.startswith("joint")), key=lambda n: ES.score(val[n]))
    assert result["chosen"] == best  # chosen on val, whatever test says
    test = result["test"]["candidates"]
    chance = result["test"]["chance"]["package"]
    # the package is in the embedding and the tags: the joint vector finds it; the raw cosine, drowned by
    # the shared offset, does worse
    assert test[result["chosen"]]["package"]["5"]["micro"] > 0.9 > chance
    assert test["raw 32-d embedding (seed 000)"]["package"]["5"]["micro"] < test[result["chosen"]]["package"]["5"]["micro"]
    assert "teacher penultimate MSD+MTT (400), centre 30 s" in test
    assert ES.main(["--db", str(tmp_path / "none.db"), "--teacher", str(out), "--music", str(music)]) == 2
    assert "no library" in capsys.readouterr().err


def test_an_analysis_with_nothing_to_compare_gives_no_vector_and_a_clear_warning(library):
    ids = analyse(library, {"empty": (None, None), "also empty": (None, None)})
    tids, vectors = read_song_vectors(library)
    assert tids.tolist() == sorted(ids.values()) and not vectors.any()
    res = evaluate(library, f"near:{ids['empty']}:3")
    assert res.track_ids == [] and "not analysed yet" in res.warnings[0]
    rec = Recommender.from_library(library)
    assert not rec.index.has_emb.any()
    assert rec.similar(ids["empty"], n=3) == []  # no vector, no labels, no album or artist in common

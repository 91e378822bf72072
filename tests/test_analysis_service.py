"""Background analysis end to end: real files, real Keras models in real worker processes."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from audiogen import tone, write_audio
from modelgen import models_for_tests

from player.analysis.engine import model_version
from player.analysis.labels import count_labels, excerpt_offsets
from player.analysis.registry import ModelError
from player.analysis.service import AnalysisOptions, AnalysisService, run_analysis
from player.analysis.store import count_pending, read_track
from player.library import Library
from player.library.scan import scan

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return models_for_tests(tmp_path_factory.mktemp("models"))


def _tone_library(tmp_path, n: int, **audio) -> Library:
    """A library of ``n`` real WAV tones (``audio``: write_audio's keywords), scanned."""
    for i in range(n):
        write_audio(tmp_path / "music" / f"t{i:03d}.wav", freq=150 + 5 * i, **audio)
    lib = Library(tmp_path / "lib.db")
    scan(lib, [tmp_path / "music"])
    return lib


def _library_with_odd_files(tmp_path):
    """Normal songs plus every awkward kind the worker must survive."""
    root = tmp_path / "music"
    write_audio(root / "low.ogg", seconds=35, freq=110, channels=2)
    write_audio(root / "chord.flac", tone(35, 22050, 440) + tone(35, 22050, 554) + tone(35, 22050, 659), sr=22050)
    rng = np.random.default_rng(1)
    bursts = (rng.standard_normal(44100 * 30) * (np.arange(44100 * 30) % 11025 < 2000)).astype(np.float32) * 0.5
    write_audio(root / "noise.wav", bursts[:, None], sr=44100)
    write_audio(root / "long_song.mp3", seconds=100, freq=300)  # three tagger excerpts
    write_audio(root / "tiny.wav", seconds=2.0, freq=880)  # shorter than 3 s
    write_audio(root / "silent.flac", np.zeros((22050 * 20, 1), np.float32), sr=22050)
    write_audio(root / "surround.flac", np.tile(tone(20, 48000, 330), (1, 6)), sr=48000)  # 5.1
    write_audio(root / "phone.wav", seconds=20, sr=8000, freq=400)
    write_audio(root / "hires.flac", seconds=20, sr=192000, freq=1000)
    # An hour and a bit at 8 kHz, flac: the worker must seek, not decode it all.
    long = root / "very_long.flac"
    import soundfile as sf

    with sf.SoundFile(long, "w", 8000, 1, format="FLAC") as f:
        block = tone(60, 8000, 250)
        for _ in range(62):
            f.write(block)
    lib = Library(tmp_path / "lib.db")
    scan(lib, [root])
    return lib, root


def test_label_counts_on_a_crafted_case():
    names = ["rock", "calm", "piano", "happy"]
    probs = np.array([
        [0.9, 0.1, 0.6, 0.05],
        [0.8, 0.2, 0.4, 0.01],
        [0.7, 0.6, 0.3, 0.02],
    ])
    # Threshold 0.5, at least the top 1 of each excerpt.
    got = count_labels(probs, names, 0.5, min_per_excerpt=1)
    assert got == {"rock": (3, pytest.approx(0.8)), "calm": (1, pytest.approx(0.3)), "piano": (1, pytest.approx(13 / 30))}
    # The strongest two always pass: piano now passes in all three excerpts.
    got = count_labels(probs, names, 0.95, min_per_excerpt=2)
    assert got["piano"][0] == 2 and got["rock"][0] == 3 and got["calm"][0] == 1 and "happy" not in got
    # Per-tag thresholds.
    got = count_labels(probs, names, [0.85, 0.5, 0.5, 0.01], min_per_excerpt=0)
    assert got == {"rock": (1, pytest.approx(0.8)), "calm": (1, pytest.approx(0.3)),
                   "piano": (1, pytest.approx(13 / 30)), "happy": (3, pytest.approx(0.08 / 3))}
    with pytest.raises(ValueError):
        count_labels(probs, names[:3])


def test_excerpt_offsets_spread_over_long_songs():
    assert excerpt_offsets(20.0, 29.12, 3) == [0.0]
    assert excerpt_offsets(40.0, 29.12, 3) == [pytest.approx(5.44)]
    offs = excerpt_offsets(100.0, 29.12, 3)
    assert len(offs) == 3 and offs[0] == pytest.approx(16.6667 - 14.56, abs=1e-3)
    assert all(0 <= o <= 100 - 29.12 for o in offs)
    assert len(excerpt_offsets(3600.0, 29.12, 3)) == 3


def test_the_players_excerpts_always_include_the_centre():
    for duration in (60.0, 100.0, 180.0, 3600.0):
        centre = (duration - 29.12) / 2.0
        for n in (2, 3, 4):
            offs = excerpt_offsets(duration, 29.12, n, with_centre=True)
            assert centre in [pytest.approx(o) for o in offs]
            assert all(0.0 <= o <= duration - 29.12 for o in offs)
            assert offs == sorted(offs)
    assert excerpt_offsets(180.0, 29.12, 2, with_centre=True) == [pytest.approx(75.44), pytest.approx(135.44)]


def test_analyse_library_end_to_end(tmp_path, models):
    lib, root = _library_with_odd_files(tmp_path)
    user = lib.add_user("ann")
    first = lib.tracks()[0]
    lib.rate(user.id, first.id, 4)
    events = []
    progress = run_analysis(lib.path, options=AnalysisOptions(models_dir=str(models), batch_tracks=4),
                            on_event=events.append)
    assert progress.state == "finished", progress.message
    n = lib.track_count("ok")
    assert progress.total == n and progress.done == n
    assert events and events[-1].state == "finished"
    assert any(e.state == "running" and e.done > 0 for e in events)
    assert count_pending(lib, model_version(models_dir=models))[0] == 0

    by_name = {os.path.basename(t.path): t for t in lib.tracks()}
    results = {name: read_track(lib, t.id, models_dir=models) for name, t in by_name.items()}
    assert results["silent.flac"].status == "error" and "silent" in results["silent.flac"].error
    for name in ("low.ogg", "chord.flac", "noise.wav", "long_song.mp3", "surround.flac", "phone.wav",
                 "hires.flac", "very_long.flac", "tiny.wav"):
        r = results[name]
        assert r.status == "ok", (name, r.error)
        assert r.tags.values.shape == (50,) and r.genres.values.shape == (8,) and r.embedding.shape == (32,)
        assert np.all((r.tags.values >= 0) & (r.tags.values <= 1))
        assert r.genres.values.sum() == pytest.approx(1.0, abs=1e-3)
        assert np.all(np.isfinite(r.embedding))
        assert r.labels and all(1 <= c <= r.n_excerpts for c, _ in r.label_counts().values())
        # the names are those of the models the version names, in output order
        assert r.tags.named and r.genres.named and len(set(r.tags.names)) == 50
    from player.analysis import registry
    from player.analysis.engine import DEFAULT_MAX_EXCERPTS

    tagger_cfg = registry.read_config(models / registry.default_name("tags", models))
    max_excerpts = tagger_cfg.get("analysis", {}).get("max_excerpts", DEFAULT_MAX_EXCERPTS)
    assert results["long_song.mp3"].n_excerpts == max_excerpts >= 2 and results["low.ogg"].n_excerpts == 1
    # the labels follow the tagger's label rule: only shown tags, among the song's most probable
    from player.analysis.labels import LabelRule

    rule = LabelRule.from_config(tagger_cfg)
    for r in results.values():
        if r.status != "ok":
            continue
        shown = {n for n, s in zip(r.tags.names, rule.shown) if s}
        assert set(r.label_counts()) <= shown, (r.label_counts(), shown)
        if rule.among_top:
            top = {n for n, _ in r.tags.ranked(rule.among_top)}
            assert set(r.label_counts()) <= top
    assert results["very_long.flac"].n_excerpts == max_excerpts
    assert not np.allclose(results["noise.wav"].embedding, results["chord.flac"].embedding)
    # Ratings untouched.
    assert lib.ratings(user.id) == {first.id: 4}

    # The exports and `show` read what was stored.
    env = dict(os.environ, PYTHONPATH=str(ROOT), PLAYER_MODELS_DIR=str(models))
    npz, tsv = tmp_path / "emb.npz", tmp_path / "labels.tsv"
    out = subprocess.run([sys.executable, "-m", "player", "export", "--db", lib.path, "--embeddings", npz,
                          "--labels", tsv], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    data = np.load(npz)
    # the song vectors of the similarity space: the 32-d embedding and the 50 tag probabilities, unit rows
    assert data["vectors"].shape == (9, 82) and len(data["paths"]) == 9 and str(data["space"]) == "joint"
    assert np.linalg.norm(data["vectors"], axis=1) == pytest.approx(1.0, abs=1e-5)
    raw = tmp_path / "raw.npz"
    out = subprocess.run([sys.executable, "-m", "player", "export", "--db", lib.path, "--embeddings", raw, "--raw"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    plain = np.load(raw)
    assert plain["vectors"].shape == (9, 32) and str(plain["space"]) == "raw"
    assert list(plain["paths"]) == list(data["paths"])
    lines = tsv.read_text().splitlines()
    assert lines[0].split("\t") == ["path", "label", "count", "probability"]
    assert len(lines) - 1 == lib.db.query_one("SELECT COUNT(*) FROM track_labels")[0]
    out = subprocess.run([sys.executable, "-m", "player", "show", "--db", lib.path, str(by_name["low.ogg"].id)],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "tags:" in out.stdout and "sounds like:" in out.stdout, out.stderr


def test_killed_worker_loses_at_most_a_batch_and_rerun_completes(tmp_path, models):
    lib = _tone_library(tmp_path, 12, seconds=8)
    service = AnalysisService(lib.path, options=AnalysisOptions(models_dir=str(models), batch_tracks=2))
    service.start(total=12)
    deadline = time.time() + 120
    done = 0
    while time.time() < deadline and done < 2:
        time.sleep(0.2)
        done = lib.db.query_one("SELECT COUNT(*) FROM analysis")[0]
    service.kill()
    service.join(10)
    service.close()
    assert lib.db.integrity_check() == "ok"
    first = {r[0]: r[1] for r in lib.db.query("SELECT track_id, analysed_at FROM analysis")}
    assert 2 <= len(first) < 12
    progress = run_analysis(lib.path, options=AnalysisOptions(models_dir=str(models), batch_tracks=4))
    assert progress.state == "finished"
    assert progress.done == 12 - len(first)  # only what was left
    after = {r[0]: r[1] for r in lib.db.query("SELECT track_id, analysed_at FROM analysis")}
    assert len(after) == 12 and all(after[k] == v for k, v in first.items())


def test_new_model_version_requeues_and_missing_model_is_a_clear_error(tmp_path, models, library, music_dir):
    scan(library, [music_dir])
    copy = tmp_path / "models_copy"
    shutil.copytree(models, copy)
    v1 = model_version(models_dir=copy)
    with library.db.transaction() as c:  # pretend everything was analysed by v1
        c.executemany("INSERT INTO analysis(track_id, model_version, analysed_at, status) VALUES (?, ?, 0, 'ok')",
                      [(t.id, v1) for t in library.tracks()])
    assert count_pending(library, v1) == (0, 5)
    tagger_dir = next(p for p in copy.iterdir() if (p / "config.json").exists()
                      and json.loads((p / "config.json").read_text())["task"] == "tags")
    cfg = json.loads((tagger_dir / "config.json").read_text())
    cfg["version"] = f"{cfg['version']}-new"
    (tagger_dir / "config.json").write_text(json.dumps(cfg))
    v2 = model_version(models_dir=copy)
    assert v2 != v1 and count_pending(library, v2) == (5, 0)

    # A missing weights file: one clear error naming the file, the library untouched.
    before = library.db.query("SELECT * FROM analysis ORDER BY track_id")
    weights = tagger_dir / cfg["weights"]
    weights.unlink()
    service_progress = run_analysis(library.path, options=AnalysisOptions(models_dir=str(copy)))
    assert service_progress.state == "error"
    assert str(weights) in service_progress.message
    assert [tuple(r) for r in library.db.query("SELECT * FROM analysis ORDER BY track_id")] == [tuple(r) for r in before]
    # A corrupt one too.
    weights.write_bytes(os.urandom(2000))
    progress = run_analysis(library.path, options=AnalysisOptions(models_dir=str(copy)))
    assert progress.state == "error" and "corrupt" in progress.message and str(weights) in progress.message
    # And a missing config is refused before any worker starts.
    (tagger_dir / "config.json").unlink()
    with pytest.raises(ModelError):
        run_analysis(library.path, options=AnalysisOptions(models_dir=str(copy)))


def test_a_file_changed_between_decoding_and_saving_is_not_saved_and_is_redone(tmp_path, models):
    """The rescan of a file that changed clears its analysis; the result of its old audio, still in
    flight, must not be written back. It stays pending and the worker's loop takes it again."""
    from audiogen import write_audio as write

    from player.analysis.engine import Analyser
    from player.analysis.service import BatchSaved, analyse_pending
    from player.analysis.store import pending_track_ids, read_track, save_results

    root = tmp_path / "music"
    lib = _tone_library(tmp_path, 3, seconds=6)
    analyser = Analyser.load(models_dir=models)
    tracks = lib.tracks()
    batch = analyser.analyse(tracks)  # decoded and through the models
    assert len(batch.results) == 3
    changed = tracks[1]
    rng = np.random.default_rng(7)
    write(changed.path, (rng.standard_normal((16000 * 9, 1)) * 0.3).astype(np.float32), sr=16000)
    st = os.stat(changed.path)
    os.utime(changed.path, ns=(st.st_atime_ns, st.st_mtime_ns + 3_000_000_000))
    scan(lib, [root])  # sees the change, clears the (not yet written) analysis
    assert save_results(lib, analyser.version, batch.results, batch.failures, batch.sources) == [changed.id]
    assert read_track(lib, changed.id) is None
    assert pending_track_ids(lib, analyser.version) == [changed.id]
    old = next(r for r in batch.results if r.track_id == changed.id)

    reports = []
    analyse_pending(lib, analyser, 0, 1, 4, reports.append)
    assert pending_track_ids(lib, analyser.version) == []
    assert [type(r) for r in reports] == [BatchSaved] and reports[0].analysed == 1
    fresh = read_track(lib, changed.id, models_dir=models)
    expect = next(r for r in analyser.analyse([lib.track(changed.id)]).results)
    assert np.allclose(fresh.embedding, expect.embedding, atol=1e-5)
    assert not np.allclose(fresh.embedding, old.embedding, atol=1e-3)  # the new audio's, not the old
    analyser.close()
    lib.close()


def _children(pid: int) -> set[int]:
    """Pids whose parent is ``pid`` (from /proc/*/stat), zombies left out."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
        if fields[0] != "Z" and int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _analyse_cli(lib_path, models, *extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PLAYER_MODELS_DIR=str(models))
    return subprocess.Popen([sys.executable, "-m", "player", "analyse", "--db", str(lib_path), "--workers", "2",
                             *extra], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_end_when_the_analyse_command_is_killed(tmp_path, models):
    lib = _tone_library(tmp_path, 200, seconds=1.5, sr=8000)  # ten seconds' work or more: it must be cut short
    cli = _analyse_cli(lib.path, models, "--batch", "1")
    deadline = time.monotonic() + 90
    workers: set[int] = set()
    # kill it once the workers are at work (the first results are in), not while they start
    while time.monotonic() < deadline and not (len(workers) == 2 and lib.db.query_one(
            "SELECT COUNT(*) FROM analysis")[0]):
        workers = {p for p in _children(cli.pid) if "spawn_main" in _cmdline(p)}
        time.sleep(0.05)
    assert len(workers) == 2, "the analysis workers did not start"
    assert lib.db.query_one("SELECT COUNT(*) FROM analysis")[0] < 200
    cli.kill()  # SIGKILL: the parent gets no chance to stop them
    cli.wait()
    deadline = time.monotonic() + 4
    alive = set(workers)
    while alive and time.monotonic() < deadline:
        alive = {p for p in alive if Path(f"/proc/{p}").exists() and "spawn_main" in _cmdline(p)}
        time.sleep(0.1)
    assert not alive, f"workers {sorted(alive)} outlived their killed parent"
    assert lib.db.integrity_check() == "ok"
    assert lib.db.query_one("SELECT COUNT(*) FROM analysis")[0] < 200  # they stopped, not finished
    lib.close()


def test_a_second_analysis_of_a_library_waits_for_the_first(tmp_path, models):
    from player.analysis.lock import AnalysisLock

    lib = _tone_library(tmp_path, 3, seconds=4)
    first = AnalysisLock(lib.path)  # what a running analysis of this library holds
    assert first.try_acquire()
    cli = _analyse_cli(lib.path, models)
    line = cli.stderr.readline()
    assert line.strip() == f"analyse: another analysis of this library is running (pid {os.getpid()}); waiting for it"
    time.sleep(0.5)
    assert cli.poll() is None and lib.db.query_one("SELECT COUNT(*) FROM analysis")[0] == 0
    first.release()  # the first run ends: the second analyses what is left
    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, err
    assert "analyse: 3 analysed, 0 failed" in out
    assert count_pending(lib, model_version(models_dir=models))[0] == 0
    lib.close()

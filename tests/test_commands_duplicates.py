"""`python -m player duplicates [--json]` on a real library: generated songs re-encoded with PyAV
(MP3, Opus, FLAC, a plain copy), imported and analysed by the real CLI with the shipped models (or
real random ones when they are not installed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from audiogen import write_audio
from modelgen import models_for_tests
from player.cli import main

pytestmark = pytest.mark.tf  # the module's library is analysed by the real models
ROOT = Path(__file__).resolve().parent.parent
SR = 44100


def music(seconds: float, seed: int, sr: int = SR) -> np.ndarray:
    """A few bars of a made-up song: a bass line, a chord per bar and a noise hi-hat on the beat,
    each song with its own key, tempo and timbre."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    beat = 60.0 / rng.uniform(80, 150)
    root = 55.0 * 2 ** (rng.integers(0, 12) / 12)
    steps = rng.choice([0, 3, 5, 7, 10, 12], 16)
    bar = (t // (4 * beat)).astype(int)
    note = root * 2 ** (steps[(t // beat).astype(int) % 16] / 12)
    x = 0.25 * np.sin(2 * np.pi * np.cumsum(note) / sr)
    for k in (1.0, 1.25 + 0.05 * rng.integers(0, 2), 1.5):
        x += 0.08 * np.sin(2 * np.pi * 4 * root * k * 2 ** (steps[bar % 16] / 12) * t) * rng.uniform(0.5, 1)
    phase = (t % beat) / beat
    x += 0.15 * np.exp(-phase * 30) * rng.standard_normal(len(t))
    x *= 0.8 + 0.2 * np.sin(2 * np.pi * t / (8 * beat))
    return np.stack([x, 0.95 * x], 1).astype(np.float32) * 0.8


def env(lib_path: Path, models: Path) -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT), PLAYER_MODELS_DIR=str(models), PLAYER_DB=str(lib_path))


def run_cli(e, *args):
    return subprocess.run([sys.executable, "-m", "player", *args], env=e, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """A library of 8 files: song A as FLAC, MP3 192k, Opus 128k and a copy in another folder; song B,
    as long as A (a different song of the same length: must stay apart), as FLAC and Ogg; song C once;
    A cut short (not a duplicate)."""
    tmp = tmp_path_factory.mktemp("dupes")
    root = tmp / "music"
    a, b = music(24.0, 1), music(24.05, 2)
    write_audio(root / "album" / "A.flac", a, SR, tags={"title": "Song A", "artist": "Band"})
    write_audio(root / "phone" / "A.mp3", a, SR, codec="libmp3lame")
    write_audio(root / "phone" / "A.opus", music(24.0, 1, 48000), 48000, codec="libopus")
    (root / "backup").mkdir(parents=True)
    shutil.copyfile(root / "album" / "A.flac", root / "backup" / "A.flac")
    write_audio(root / "album" / "B.flac", b, SR, tags={"title": "Song B", "artist": "Band"})
    write_audio(root / "phone" / "B.ogg", b, SR)
    write_audio(root / "album" / "C.flac", music(30.0, 3), SR, tags={"title": "Song C"})
    write_audio(root / "cut" / "A.flac", a[: int(20.0 * SR)], SR)
    lib = tmp / "library.db"
    e = env(lib, models_for_tests(tmp))
    out = run_cli(e, "scan", "--quiet", str(root))
    assert out.returncode == 0, out.stderr
    nothing = run_cli(e, "duplicates")  # imported, not analysed yet
    out = run_cli(e, "analyse", "--quiet", "--no-loudness", "--workers", "1")
    assert out.returncode == 0, out.stderr
    return lib, root, nothing


def by_name(lib: Path, root: Path) -> dict[str, int]:
    from player.library import Library

    with Library(lib) as library:
        return {os.path.relpath(t.path, root): t.id for t in library.tracks()}


def test_json_groups_the_re_encodes_and_nothing_else(analysed, capsys):
    lib, root, _ = analysed
    ids = by_name(lib, root)
    assert main(["duplicates", "--db", str(lib), "--json"]) == 0
    groups = json.loads(capsys.readouterr().out)
    assert isinstance(groups, list) and len(groups) == 2, groups
    found = sorted(sorted(f["id"] for f in g) for g in groups)
    a = sorted(ids[k] for k in ("album/A.flac", "phone/A.mp3", "phone/A.opus", "backup/A.flac"))
    b = sorted(ids[k] for k in ("album/B.flac", "phone/B.ogg"))
    assert found == sorted([a, b])  # not the cut copy, not B with A though as long, not C
    for g in groups:
        assert {"id", "path", "duration", "format", "keep"} <= set(g[0])
        keep = [f for f in g if f["keep"]]
        assert len(keep) == 1 and keep[0] is g[0] and keep[0]["reason"]
        assert all(Path(f["path"]).exists() and f["duration"] > 23 for f in g)
    group_a = next(g for g in groups if ids["album/A.flac"] in {f["id"] for f in g})
    assert group_a[0]["format"] == "flac" and group_a[0]["reason"].startswith("lossless (FLAC)")
    assert {f["format"] for f in group_a} == {"flac", "mp3", "opus"}


def test_text_lists_each_group_with_what_to_keep_and_why(analysed, capsys):
    lib, root, _ = analysed
    assert main(["duplicates", "--db", str(lib)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 groups of possible duplicates among 8 analysed songs")
    assert "Song A — 4 files; keep #" in out and "lossless (FLAC)" in out
    keep_lines = [line for line in out.splitlines() if line.startswith("  keep ")]
    assert len(keep_lines) == 2 and all("FLAC, 44.1 kHz" in line for line in keep_lines)
    assert str(root / "phone" / "A.mp3") in out and str(root / "cut" / "A.flac") not in out


def test_nothing_analysed_says_to_analyse_first(analysed, tmp_path, capsys):
    _, _, nothing = analysed
    assert nothing.returncode == 2 and nothing.stdout == ""
    assert nothing.stderr.strip() == ("error: no song is analysed yet: run 'python -m player analyse' first, "
                                      "then look for duplicates")
    assert main(["duplicates", "--db", str(tmp_path / "empty.db"), "--json"]) == 2
    assert "the library is empty" in capsys.readouterr().err

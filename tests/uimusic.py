"""Music and analysis data for the window tests: a small tagged library of generated audio in four
artists and albums (plus one broken file), and plausible stored analysis rows."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from audiogen import write_audio

ARTISTS = [
    ("Ada Lumen", "Night Drive", ["Neon Avenue", "Slow Lights", "Afterglow", "Mirrorball"]),
    ("The Quiet Hours", "Paper Boats", ["Harbour", "Low Tide", "Lanterns"]),
    ("Brass Atlas", "Heavy Weather", ["Thunderhead", "Iron Sky", "Breakwater", "Gale"]),
    ("Mira Solé", "Canções", ["Saudade", "Rio Lento", "Manhã"]),
]


def rich_signal(seconds: float, sr: int, seed: int) -> np.ndarray:
    """Something with a spectrogram worth looking at: an arpeggio of harmonic notes over a beat."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    out = np.zeros(n, np.float32)
    root = 110.0 * 2 ** (rng.integers(0, 12) / 12)
    step = 0.25 + 0.125 * rng.integers(0, 3)
    scale = [0, 3, 5, 7, 10, 12, 15]
    for k in range(int(seconds / step)):
        a, b = int(k * step * sr), min(n, int((k + 1) * step * sr))
        f = root * 2 ** (scale[rng.integers(0, len(scale))] / 12) * (2 if k % 8 >= 4 else 1)
        tt = t[a:b] - t[a]
        env = np.exp(-tt * 4.0)
        for h in range(1, 6):
            out[a:b] += (0.25 / h) * env * np.sin(2 * np.pi * f * h * tt)
    beat = int(0.5 * sr)
    for a in range(0, n, beat):  # kick: a falling sine; hat: short noise
        m = min(n - a, int(0.12 * sr))
        tt = np.arange(m) / sr
        out[a:a + m] += 0.5 * np.exp(-tt * 30) * np.sin(2 * np.pi * (120 - 300 * tt) * tt)
        h = a + beat // 2
        if h < n:
            m2 = min(n - h, int(0.03 * sr))
            out[h:h + m2] += 0.15 * rng.standard_normal(m2) * np.exp(-np.arange(m2) / (0.01 * sr))
    return (0.6 * out / max(1e-6, float(np.abs(out).max()))).astype(np.float32)


def make_music(root: Path, *, seconds: float = 1.0, broken: bool = True, sr: int = 8000, rich: bool = False) -> list[Path]:
    """A small tagged library (several artists and albums), plus one broken file."""
    out = []
    k = 0
    for artist, album, titles in ARTISTS:
        for n, title in enumerate(titles, start=1):
            k += 1
            if rich:
                data = rich_signal(seconds, sr, seed=k)
            else:
                data = (0.2 * np.sin(2 * np.pi * (180 + 40 * k) * np.arange(int(seconds * sr)) / sr)).astype(np.float32)
            p = write_audio(root / artist / album / f"{n:02d} {title}.wav", data[:, None], sr,
                            tags={"title": title, "artist": artist, "album": album, "tracknumber": str(n)})
            out.append(p)
    if broken:
        bad = root / "broken" / "not really audio.mp3"
        bad.parent.mkdir(parents=True, exist_ok=True)
        bad.write_bytes(os.urandom(3000))
        out.append(bad)
    return out


FAKE_TAGS = ["rock", "pop", "electronic", "chill", "guitar", "piano", "female vocals", "dance", "ambient",
                    "jazz", "happy", "sad", "mellow", "fast", "beautiful", "loud", "instrumental", "catchy"]
FAKE_GENRES = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop"]


def write_fake_models(root: Path) -> Path:
    """A models folder holding only label names, so stored probabilities get their names."""
    import json

    (root / "tagger").mkdir(parents=True, exist_ok=True)
    (root / "genre").mkdir(parents=True, exist_ok=True)
    (root / "tagger" / "labels.json").write_text(json.dumps(FAKE_TAGS))
    (root / "genre" / "labels.json").write_text(json.dumps(FAKE_GENRES))
    return root


def fake_analysis(library, *, seed: int = 0) -> None:
    """Store plausible analysis rows for every track (for pictures and label display tests only)."""
    from player.library.db import now

    rng = np.random.default_rng(seed)
    tags, genres = FAKE_TAGS, FAKE_GENRES
    ids = [r[0] for r in library.db.query("SELECT id FROM tracks WHERE status = 'ok'")]
    with library.db.transaction() as c:
        for tid in ids:
            tp = rng.dirichlet(np.full(len(tags), 0.3)).astype(np.float32)
            tp = np.clip(tp * 2.2, 0, 0.98).astype(np.float32)
            gp = rng.dirichlet(np.full(len(genres), 0.4)).astype(np.float32)
            emb = rng.standard_normal(32).astype(np.float32)
            c.execute("INSERT OR REPLACE INTO analysis(track_id, model_version, analysed_at, status, n_excerpts, tag_probs, "
                      "genre_probs, embedding) VALUES (?, 'tagger@1+genre@1', ?, 'ok', 4, ?, ?, ?)",
                      (tid, now(), tp.tobytes(), gp.tobytes(), emb.tobytes()))
            c.execute("DELETE FROM track_labels WHERE track_id = ?", (tid,))
            for j in np.argsort(-tp)[:4]:
                if tp[j] > 0.05:
                    c.execute("INSERT INTO track_labels(track_id, label, count, probability) VALUES (?, ?, ?, ?)",
                              (tid, tags[j], int(1 + 3 * tp[j]), float(tp[j])))


def measured_quiet_song(open_window, import_music, library, folder: Path):
    """A window (manual null output) whose library holds one quiet song (a −34 dBFS tone), imported and
    its loudness measured: (window, track)."""
    from player.library.loudness import measure_track, save_loudness

    sr = 22050
    quiet = (0.02 * np.sin(2 * np.pi * 440 * np.arange(3 * sr) / sr)).astype(np.float32)
    write_audio(folder / "quiet.wav", quiet[:, None], sr, tags={"title": "Whisper", "artist": "Hush"})
    w = open_window(audio_backend="null-manual")
    import_music(w, folder)
    assert w.playback.available, w.playback.reason
    (track,) = library.tracks()
    assert save_loudness(library, [measure_track(track)]) == []
    return w, track

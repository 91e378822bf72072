"""Generate real audio files for tests: numpy signals written by soundfile, tagged by mutagen."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

FORMATS = {
    # ext: (soundfile format, subtype, forced sample rate or None)
    "wav": ("WAV", "PCM_16", None),
    "flac": ("FLAC", "PCM_16", None),
    "ogg": ("OGG", "VORBIS", None),
    "opus": ("OGG", "OPUS", 48000),
    "mp3": ("MP3", "MPEG_LAYER_III", None),
}


def tone(seconds: float = 2.0, sr: int = 22050, freq: float = 440.0, channels: int = 1, amp: float = 0.3,
         seed: int | None = None) -> np.ndarray:
    """A sine (plus a little noise when ``seed`` is given), shape (frames, channels), float32."""
    t = np.arange(int(seconds * sr)) / sr
    x = amp * np.sin(2 * np.pi * freq * t)
    if seed is not None:
        x = x + 0.02 * np.random.default_rng(seed).standard_normal(x.shape)
    data = np.repeat(x[:, None], channels, axis=1).astype(np.float32)
    for c in range(1, channels):  # make channels differ slightly
        data[:, c] *= 1.0 - 0.1 * c
    return data


def write_audio(path: str | os.PathLike, data: np.ndarray | None = None, sr: int = 22050, *,
                tags: dict | None = None, seconds: float = 2.0, freq: float = 440.0, channels: int = 1) -> Path:
    """Write ``data`` (or a tone) in the format named by the extension; optionally tag it."""
    path = Path(path)
    ext = path.suffix.lower().lstrip(".")
    fmt, subtype, forced_sr = FORMATS[ext]
    if forced_sr:
        sr = forced_sr
    if data is None:
        data = tone(seconds, sr, freq, channels)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written in one-second blocks: libsndfile 1.2.2's Vorbis encoder segfaults when handed a long
    # signal (about 100 s of stereo) in one call.
    if data.ndim == 1:
        data = data[:, None]
    with sf.SoundFile(path, "w", sr, data.shape[1], format=fmt, subtype=subtype) as f:
        for i in range(0, len(data), sr):
            f.write(data[i:i + sr])
    if tags:
        write_tags(path, tags)
    return path


def write_tags(path: str | os.PathLike, tags: dict) -> None:
    import mutagen
    from mutagen.easyid3 import EasyID3
    from mutagen.id3 import ID3NoHeaderError

    path = str(path)
    if path.lower().endswith(".mp3"):
        try:
            audio = EasyID3(path)
        except ID3NoHeaderError:
            audio = EasyID3()
        for k, v in tags.items():
            audio[k] = str(v)
        audio.save(path)
        return
    if path.lower().endswith(".wav"):
        from mutagen import id3
        from mutagen.wave import WAVE

        frames = {"title": id3.TIT2, "artist": id3.TPE1, "album": id3.TALB, "albumartist": id3.TPE2,
                  "tracknumber": id3.TRCK, "date": id3.TDRC, "genre": id3.TCON}
        audio = WAVE(path)
        if audio.tags is None:
            audio.add_tags()
        for k, v in tags.items():
            audio.tags.add(frames[k](encoding=3, text=str(v)))
        audio.save()
        return
    audio = mutagen.File(path, easy=True)
    if audio.tags is None:
        audio.add_tags()
    for k, v in tags.items():
        audio[k] = str(v)
    audio.save()

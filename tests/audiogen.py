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


# Formats soundfile cannot write, encoded with FFmpeg through PyAV: ext -> (codec, container, forced rate)
AV_FORMATS = {
    "m4a": ("aac", "ipod", None),
    "aac": ("aac", "adts", None),
    "wma": ("wmav2", "asf", None),
    "wv": ("wavpack", "wv", None),
    "aiff": ("pcm_s16be", "aiff", None),
    "mka": ("libopus", "matroska", 48000),
    "webm": ("libopus", "webm", 48000),
    "tta": ("tta", "tta", None),
}
_LOSSY_BIT_RATE = {"aac": 192000, "wmav2": 128000, "libopus": 128000, "libmp3lame": 192000}


def encode(path: str | os.PathLike, data: np.ndarray, sr: int, codec: str, container: str | None = None, *,
           bit_rate: int | None = None, options: dict | None = None, muxer_options: dict | None = None) -> Path:
    """Encode float32 ``data`` (frames, channels) with FFmpeg's ``codec`` (``aac``, ``alac``, ``libmp3lame``
    (with its LAME/Xing header), ``wmav2``, ``wavpack``, ``libopus`` …) into ``container``, with timestamps
    so that the muxer writes the encoder delay (MP4 edit list, LAME header)."""
    from fractions import Fraction

    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.asarray(data, np.float32)
    if data.ndim == 1:
        data = data[:, None]
    layout = {1: "mono", 2: "stereo"}.get(data.shape[1], f"{data.shape[1]}c")
    with av.open(str(path), "w", format=container, options=muxer_options or {}) as out:
        st = out.add_stream(codec, rate=sr, options=options or {})
        st.layout = layout
        rate = bit_rate or _LOSSY_BIT_RATE.get(codec)
        if rate:
            st.bit_rate = rate
        names = [f.name for f in st.codec.audio_formats or ()]
        st.format = next((f for f in ("fltp", "flt", "s16p", "s16", "s32p", "s32") if f in names), names[0])
        fmt = st.format
        step = st.codec_context.frame_size or 4096
        for pos in range(0, len(data), step):
            chunk = data[pos:pos + step]
            x = chunk.T if fmt.is_planar else chunk.reshape(1, -1)
            if fmt.name.startswith("s16"):
                x = np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16)
            elif fmt.name.startswith("s32"):
                x = np.clip(np.round(x.astype(np.float64) * 2**31), -2**31, 2**31 - 1).astype(np.int32)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x), format=fmt.name, layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = sr, pos, Fraction(1, sr)
            out.mux(st.encode(frame))
        out.mux(st.encode(None))
    return path


def write_audio(path: str | os.PathLike, data: np.ndarray | None = None, sr: int = 22050, *,
                tags: dict | None = None, seconds: float = 2.0, freq: float = 440.0, channels: int = 1,
                codec: str | None = None) -> Path:
    """Write ``data`` (or a tone) in the format named by the extension; optionally tag it. Extensions in
    :data:`AV_FORMATS` (and any ``codec``, e.g. ``"alac"`` for an .m4a, ``"libmp3lame"`` for an .mp3
    with a LAME header) are encoded by FFmpeg through PyAV."""
    path = Path(path)
    ext = path.suffix.lower().lstrip(".")
    if codec or ext in AV_FORMATS:
        codec_, container, forced_sr = AV_FORMATS.get(ext, (None, None, None))
        sr = forced_sr or sr
        if data is None:
            data = tone(seconds, sr, freq, channels)
        container = container or {"m4a": "ipod", "mp3": "mp3", "ogg": "ogg", "flac": "flac"}.get(ext, ext)
        encode(path, data, sr, codec or codec_, container)
        if tags:
            write_tags(path, tags)
        return path
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

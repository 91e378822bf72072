"""Read one audio file's tags (mutagen) and check that its audio really decodes (soundfile).

:func:`probe` never raises for a bad file: it returns a :class:`Probe` whose ``error`` is a one-line
reason a person can read. Facts this guards against (measured on libsndfile 1.2.2): a broken mp3 is
reported as "File does not exist or is not a regular file"; a truncated mp3 may claim 2**63 frames, so
a frame count is never trusted on its own.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import soundfile as sf

# Extensions the scanner looks at, and the container/codec we expect behind each.
AUDIO_EXTENSIONS = {
    ".mp3": "mp3",
    ".ogg": "ogg",
    ".oga": "ogg",
    ".opus": "opus",
    ".flac": "flac",
    ".wav": "wav",
    ".wave": "wav",
    ".m4a": "m4a",
    ".aac": "m4a",
}
# soundfile's (format, subtype) → our format name.
_SF_FORMATS = {"MPEG": "mp3", "FLAC": "flac", "WAV": "wav", "WAVEX": "wav", "RF64": "wav"}
MAX_SANE_SECONDS = 7 * 24 * 3600.0
_CHECK_FRAMES = 4096


@dataclass
class Probe:
    path: str
    size: int = 0
    mtime: float = 0.0
    format: str | None = None
    duration: float | None = None
    samplerate: int | None = None
    channels: int | None = None
    tags: dict = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _sf_format(info) -> str:
    fmt = str(info.format).upper()
    if fmt == "OGG":
        return "opus" if str(info.subtype).upper() == "OPUS" else "ogg"
    return _SF_FORMATS.get(fmt, fmt.lower())


def _first(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
        if value is None:
            return None
    text = str(value).strip().replace("\x00", "")
    return text or None


def _int_prefix(value) -> int | None:
    text = _first(value)
    if not text:
        return None
    match = re.match(r"\s*(\d+)", text)
    return int(match.group(1)) if match else None


_ID3_FRAMES = {"title": "TIT2", "artist": "TPE1", "album": "TALB", "albumartist": "TPE2",
               "tracknumber": "TRCK", "date": "TDRC", "genre": "TCON"}


def read_tags(path: str) -> tuple[dict, float | None]:
    """Tags as plain strings/ints and mutagen's idea of the length. Raises on a corrupt tag block."""
    import mutagen

    audio = mutagen.File(path, easy=True)
    if audio is None:
        return {}, None
    tags = audio.tags or {}
    if "TIT2" in tags or "TPE1" in tags:  # ID3 in a WAV/AIFF: no "easy" view, map frames
        tags = {key: tags[frame].text for key, frame in _ID3_FRAMES.items() if frame in tags}
    length = getattr(getattr(audio, "info", None), "length", None)

    def get(*keys):
        for key in keys:
            try:
                if key in tags:
                    return tags[key]
            except (KeyError, ValueError, TypeError):
                continue
        return None

    out = {
        "title": _first(get("title")),
        "artist": _first(get("artist")),
        "album": _first(get("album")),
        "albumartist": _first(get("albumartist", "album artist")),
        "tracknumber": _int_prefix(get("tracknumber")),
        "year": _int_prefix(get("date", "year", "originaldate")),
        "genre": _first(get("genre")),
    }
    return {k: v for k, v in out.items() if v is not None}, (float(length) if length else None)


def _title_from_name(path: str) -> str:
    stem = os.fsencode(Path(path).stem).decode("utf-8", "replace")
    stem = re.sub(r"^\s*\d{1,3}\s*[-._ ]\s*", "", stem)  # "03 - Song" → "Song"
    stem = stem.replace("_", " ").strip()
    return stem or "untitled"


def probe(path: str) -> Probe:
    """Everything the library stores about one file; never raises for a bad file."""
    result = Probe(path=path)
    try:
        st = os.stat(path)
    except OSError as exc:
        result.error = f"cannot read the file: {exc.strerror or exc}"
        return result
    result.size, result.mtime = st.st_size, st.st_mtime
    if st.st_size == 0:
        result.error = "empty file (0 bytes)"
        return result
    ext = Path(path).suffix.lower()
    expected = AUDIO_EXTENSIONS.get(ext)
    if expected == "m4a":
        result.format = "m4a"
        result.error = (
            "m4a/AAC cannot be decoded on this machine (libsndfile has no AAC decoder); "
            "convert it to flac, ogg or mp3"
        )
        return result

    # Tags first: a corrupt tag block is its own, clear reason.
    mutagen_length = None
    try:
        tags, mutagen_length = read_tags(path)
    except Exception as exc:  # mutagen raises many kinds for damaged tags
        kind = type(exc).__name__
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else kind
        if _is_random(path):
            magic = _magic_format(path)
            if magic:
                result.error = f"damaged or truncated {magic} file: neither its tags nor its audio can be read"
            else:
                result.error = "not an audio file (its content is not in any known audio format)"
        else:
            result.error = f"damaged tags: {message[:160]}"
        return result

    try:
        info = sf.info(os.fsencode(path))
    except Exception as exc:
        result.error = _decode_reason(path, exc)
        return result
    actual = _sf_format(info)
    result.format = actual
    result.samplerate = int(info.samplerate)
    result.channels = int(info.channels)
    if expected and actual != expected and not (expected == "ogg" and actual == "opus"):
        result.error = f"mislabelled: the content is {actual.upper()} but the name says {ext}"
        return result
    if info.samplerate <= 0 or info.channels <= 0:
        result.error = "no audio stream (sample rate or channel count is zero)"
        return result

    frames = int(info.frames)
    sf_seconds = frames / info.samplerate if 0 < frames else 0.0
    sane_sf = 0 < sf_seconds < MAX_SANE_SECONDS
    sane_mut = mutagen_length is not None and 0 < mutagen_length < MAX_SANE_SECONDS

    try:
        with sf.SoundFile(os.fsencode(path)) as f:
            head = f.read(_CHECK_FRAMES, dtype="float32", always_2d=True)
            if head.shape[0] == 0:
                result.error = "no audio data (the file holds a header but no sound)"
                return result
            if sane_sf and frames > 2 * _CHECK_FRAMES and f.seekable():
                f.seek(frames - _CHECK_FRAMES)
                tail = f.read(_CHECK_FRAMES, dtype="float32", always_2d=True)
                if tail.shape[0] == 0:
                    result.error = f"truncated: the audio stops before the {sf_seconds:.1f} s its header announces"
                    return result
    except Exception as exc:
        result.error = _decode_reason(path, exc, during=True)
        return result

    if sane_sf and sane_mut and abs(sf_seconds - mutagen_length) > max(1.0, 0.05 * mutagen_length):
        shorter, longer = sorted((sf_seconds, mutagen_length))
        result.error = f"truncated or damaged: the header says {longer:.1f} s but only {shorter:.1f} s of audio is there"
        return result
    if sane_sf:
        result.duration = sf_seconds
    elif sane_mut:
        result.duration = float(mutagen_length)
    else:
        result.error = "unreadable length: the file's header gives an impossible duration"
        return result

    tags.setdefault("title", _title_from_name(path))
    result.tags = tags
    return result


def _is_random(path: str) -> bool:
    try:
        sf.info(os.fsencode(path))
        return False
    except Exception:
        return True


_MAGIC = ((b"OggS", "Ogg"), (b"fLaC", "FLAC"), (b"RIFF", "WAV"), (b"ID3", "MP3"), (b"\xff\xfb", "MP3"),
          (b"\xff\xf3", "MP3"), (b"\xff\xf2", "MP3"))


def _magic_format(path: str) -> str | None:
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return None
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


def _decode_reason(path: str, exc: Exception, during: bool = False) -> str:
    text = str(exc)
    low = text.lower()
    if during:
        detail = text.splitlines()[0][:120] if text else type(exc).__name__
        return f"damaged or truncated audio: decoding stops partway ({detail})"
    magic = _magic_format(path)
    if magic and ("does not exist or is not a regular file" in low or "unknown format" in low):
        return f"damaged or truncated {magic} file: its audio cannot be decoded"
    if "does not exist or is not a regular file" in low or "format not recognised" in low or "unknown format" in low:
        return "not an audio file, or damaged beyond decoding (no known audio format found)"
    if "permission" in low:
        return "permission denied"
    return f"cannot decode: {text.splitlines()[0][:160] if text else type(exc).__name__}"


"""Read one audio file's tags (mutagen) and check that its audio really decodes (soundfile).

:func:`probe` never raises for a bad file: it returns a :class:`Probe` whose ``error`` is a one-line
reason a person can read, and ``notes`` for things that did not stop the import (a tag value that was
dropped or cut, a file whose name does not match its content). Files are read by their *content*: the
first bytes say what a file is (:func:`sniff`), whatever its name says, and the tag reader is chosen by
that. Every tag value is bounded before it reaches the library: text is cut to :data:`MAX_TEXT`
characters, numbers are parsed leniently ("3/12", "03", "1999-05-01") and dropped when absurd.

Facts this guards against (measured on libsndfile 1.2.2): a broken mp3 is reported as "File does not
exist or is not a regular file"; a truncated mp3 may claim 2**63 frames, so a frame count is never
trusted on its own.
"""

from __future__ import annotations

import os
import re
import stat
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
# What each content format is called in messages.
FORMAT_NAMES = {"mp3": "MP3", "ogg": "Ogg", "opus": "Opus", "flac": "FLAC", "wav": "WAV", "m4a": "M4A/AAC",
                "aac": "AAC", "aiff": "AIFF", "speex": "Speex", "oggflac": "Ogg FLAC"}
# soundfile's (format, subtype) → our format name.
_SF_FORMATS = {"MPEG": "mp3", "FLAC": "flac", "WAV": "wav", "WAVEX": "wav", "RF64": "wav", "AIFF": "aiff"}
MAX_SANE_SECONDS = 7 * 24 * 3600.0
_CHECK_FRAMES = 4096
MAX_TEXT = 1000  # characters kept of a text tag (a title, an artist …); nobody needs more on screen
MAX_TRACKNUMBER = 9999
YEARS = (1000, 2999)
_HEAD = 4096


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
    notes: list[str] = field(default_factory=list)  # what was dropped, cut or noticed; the import went on

    @property
    def ok(self) -> bool:
        return self.error is None


# -- content -----------------------------------------------------------------------------------
def sniff(head: bytes, f=None) -> str | None:
    """The audio format of a file from its first bytes (``f``, when given, is the open file, read
    further to skip an ID3v2 block): ``mp3``, ``ogg`` (Vorbis), ``opus``, ``flac``, ``wav``, ``m4a``,
    ``aac`` (ADTS), ``aiff``, ``speex``, ``oggflac``, or None when it is none of them."""
    if head.startswith(b"ID3") and len(head) >= 10:
        size = ((head[6] & 0x7F) << 21) | ((head[7] & 0x7F) << 14) | ((head[8] & 0x7F) << 7) | (head[9] & 0x7F)
        offset = 10 + size + (10 if head[5] & 0x10 else 0)
        after = head[offset:offset + 16]
        if len(after) < 16 and f is not None:
            try:
                f.seek(offset)
                after = f.read(16)
            except OSError:
                after = b""
        inner = sniff(after) if after and not after.startswith(b"ID3") else None
        return inner or "mp3"  # an ID3 block in front of MPEG frames (or of nothing readable yet)
    if head.startswith(b"OggS"):
        page = head[:512]
        if b"OpusHead" in page:
            return "opus"
        if b"\x01vorbis" in page:
            return "ogg"
        if b"\x7fFLAC" in page:
            return "oggflac"
        if b"Speex   " in page:
            return "speex"
        return "ogg"
    if head.startswith(b"fLaC"):
        return "flac"
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[4:8] == b"ftyp":
        return "m4a"
    if len(head) >= 4 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        layer = (head[1] >> 1) & 0x3
        if layer == 0:
            return "aac" if head[1] & 0xF6 == 0xF0 else None
        version = (head[1] >> 3) & 0x3
        bitrate = head[2] >> 4
        if version != 1 and bitrate != 0xF and (head[2] >> 2) & 0x3 != 0x3:
            return "mp3"
    return None


def _article(name: str) -> str:
    return "an" if name in ("MP3", "M4A/AAC", "AAC", "AIFF", "Ogg", "Opus", "Ogg FLAC") else "a"


# -- tag values --------------------------------------------------------------------------------
def _first(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
        if value is None:
            return None
    text = str(value).strip().replace("\x00", "")
    return text or None


def _shown(text: str) -> str:
    return text if len(text) <= 30 else text[:30] + "…"


def bounded_text(value, name: str, notes: list[str]) -> str | None:
    """A text tag, at most :data:`MAX_TEXT` characters (a note says when it was cut)."""
    text = _first(value)
    if text is not None and len(text) > MAX_TEXT:
        notes.append(f"the {name} was cut to {MAX_TEXT:,} characters (it had {len(text):,})")
        text = text[: MAX_TEXT - 1].rstrip() + "…"
    return text


def parse_tracknumber(value, notes: list[str]) -> int | None:
    """ "3", "03", "3/12", "3 of 12" → 3; nothing, "0" → None; absurd values are dropped with a note."""
    text = _first(value)
    if not text:
        return None
    match = re.match(r"\s*(\d+)", text)
    if not match:
        notes.append(f"the track number '{_shown(text)}' is not a number: ignored")
        return None
    digits = match.group(1).lstrip("0")
    if not digits:
        return None
    if len(digits) > 4 or int(digits) > MAX_TRACKNUMBER:
        notes.append(f"the track number '{_shown(text)}' is not a sensible number: ignored")
        return None
    return int(digits)


def parse_year(value, notes: list[str]) -> int | None:
    """ "1999", "1999-05-01", "05/01/1999", "1999/2004" → 1999; absurd values are dropped with a note."""
    text = _first(value)
    if not text:
        return None
    match = re.search(r"(?<!\d)(\d{4})(?!\d)", text)
    year = int(match.group(1)) if match else None
    if year is None or not YEARS[0] <= year <= YEARS[1]:
        notes.append(f"the year '{_shown(text)}' is not a date: ignored")
        return None
    return year


_ID3_FRAMES = {"title": "TIT2", "artist": "TPE1", "album": "TALB", "albumartist": "TPE2",
               "tracknumber": "TRCK", "date": "TDRC", "genre": "TCON"}


# mutagen's reader for each content format (the "easy" one where mutagen has it)
_TAG_READERS = {"mp3": ("mutagen.mp3", "EasyMP3"), "ogg": ("mutagen.oggvorbis", "OggVorbis"),
                "opus": ("mutagen.oggopus", "OggOpus"), "flac": ("mutagen.flac", "FLAC"),
                "oggflac": ("mutagen.oggflac", "OggFLAC"), "wav": ("mutagen.wave", "WAVE"),
                "aiff": ("mutagen.aiff", "AIFF")}


def _tag_reader(content: str | None):
    """mutagen classes for a content format (None: let mutagen guess from the content)."""
    spec = _TAG_READERS.get(content or "")
    if spec is None:
        return None
    import importlib

    return [getattr(importlib.import_module(spec[0]), spec[1])]


def read_tags(path: str, content: str | None = None, notes: list[str] | None = None) -> tuple[dict, float | None]:
    """Tags as bounded plain strings/ints and mutagen's idea of the length; the tag reader is chosen by
    ``content`` (see :func:`sniff`). Raises on a corrupt tag block. Dropped or cut values are
    described in ``notes``."""
    import mutagen

    notes = [] if notes is None else notes
    options = _tag_reader(content)
    audio = mutagen.File(path, easy=True) if options is None else mutagen.File(path, options=options)
    if audio is None:
        return {}, None
    tags = audio.tags or {}
    if "TIT2" in tags or "TPE1" in tags or "TRCK" in tags:  # ID3 in a WAV/AIFF: no "easy" view, map frames
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
        "title": bounded_text(get("title"), "title", notes),
        "artist": bounded_text(get("artist"), "artist", notes),
        "album": bounded_text(get("album"), "album", notes),
        "albumartist": bounded_text(get("albumartist", "album artist"), "album artist", notes),
        "tracknumber": parse_tracknumber(get("tracknumber"), notes),
        "year": parse_year(get("date", "year", "originaldate"), notes),
        "genre": bounded_text(get("genre"), "genre", notes),
    }
    try:
        length = float(length) if length else None
    except (TypeError, ValueError, OverflowError):
        length = None
    return {k: v for k, v in out.items() if v is not None}, length


def _title_from_name(path: str) -> str:
    stem = os.fsencode(Path(path).stem).decode("utf-8", "replace")
    stem = re.sub(r"^\s*\d{1,3}\s*[-._ ]\s*", "", stem)  # "03 - Song" → "Song"
    stem = stem.replace("_", " ").strip()
    return stem[:MAX_TEXT] or "untitled"


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    return (exc.strerror or type(exc).__name__).lower()


def _read_head(path: str) -> tuple[bytes, str | None, os.stat_result]:
    """The first bytes and the sniffed content, opened without blocking (a pipe named .mp3 must not
    hang the scan) and only when it is a regular file. Raises OSError / ValueError (not regular)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("not a regular file")
        head = f.read(_HEAD)
        return head, sniff(head, f), st


def probe(path: str) -> Probe:
    """Everything the library stores about one file; never raises for a bad file."""
    result = Probe(path=path)
    try:
        st = os.stat(path)
    except OSError as exc:
        result.error = f"cannot read the file ({_os_reason(exc)})"
        return result
    result.size, result.mtime = st.st_size, st.st_mtime
    if not stat.S_ISREG(st.st_mode):
        result.error = "not a regular file (a pipe, device or socket): skipped"
        return result
    if st.st_size == 0:
        result.error = "empty file (0 bytes)"
        return result
    try:
        _head, content, _st = _read_head(path)
    except ValueError:
        result.error = "not a regular file (a pipe, device or socket): skipped"
        return result
    except OSError as exc:
        result.error = f"cannot read the file ({_os_reason(exc)})"
        return result
    ext = Path(path).suffix.lower()
    expected = AUDIO_EXTENSIONS.get(ext)
    named = FORMAT_NAMES.get(content or "", "")
    mislabelled = (
        content is not None and expected is not None and content != expected
        and not (expected == "ogg" and content in ("opus", "oggflac", "speex"))
        and not (expected == "m4a" and content == "aac")
    )
    if mislabelled:
        result.notes.append(f"mislabelled: it is {_article(named)} {named} file named {ext} (read by its content)")
    if content in ("m4a", "aac") or (content is None and expected == "m4a"):
        result.format = "m4a"
        result.error = (
            "m4a/AAC cannot be decoded on this machine (libsndfile has no AAC decoder); "
            "convert it to flac, ogg or mp3"
        )
        if mislabelled:
            result.error = f"mislabelled: it is an M4A/AAC file named {ext}; " + result.error
        return result

    # Tags first: a corrupt tag block is its own, clear reason.
    mutagen_length = None
    tags: dict = {}
    if content is not None:
        try:
            tags, mutagen_length = read_tags(path, content, result.notes)
        except Exception:  # noqa: BLE001 - mutagen raises many kinds for damaged tags
            if _is_random(path):
                result.error = f"damaged or truncated {named} file: neither its tags nor its audio can be read"
            else:
                result.error = f"damaged tags: the {named} file's tag block cannot be read"
            return result

    try:
        info = sf.info(os.fsencode(path))
    except Exception as exc:  # noqa: BLE001 - libsndfile's errors are strings
        result.error = _decode_reason(content, exc)
        return result
    actual = _sf_format(info)
    result.format = content if content in ("mp3", "ogg", "opus", "flac", "wav") else actual
    result.samplerate = int(info.samplerate)
    result.channels = int(info.channels)
    if content is None:  # something libsndfile knows and we do not sniff: tags if mutagen can
        try:
            tags, mutagen_length = read_tags(path, None, result.notes)
        except Exception:  # noqa: BLE001
            tags, mutagen_length = {}, None
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
    except Exception as exc:  # noqa: BLE001
        result.error = _decode_reason(content, exc, during=True)
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


def _sf_format(info) -> str:
    fmt = str(info.format).upper()
    if fmt == "OGG":
        return "opus" if str(info.subtype).upper() == "OPUS" else "ogg"
    return _SF_FORMATS.get(fmt, fmt.lower())


def _is_random(path: str) -> bool:
    try:
        sf.info(os.fsencode(path))
        return False
    except Exception:  # noqa: BLE001
        return True


def _decode_reason(content: str | None, exc: Exception, during: bool = False) -> str:
    low = str(exc).lower()
    if "permission" in low:
        return "cannot read the file (permission denied)"
    if during:
        return "damaged or truncated audio: decoding stops partway"
    if content is not None:
        return f"damaged or truncated {FORMAT_NAMES.get(content, content)} file: its audio cannot be decoded"
    return "not an audio file (its content is not in any known audio format)"

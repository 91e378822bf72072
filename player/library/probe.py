"""Read one audio file for the library: its tags and cover (mutagen), its audio checked by the one
audio reader (:func:`player.audio.reader.probe_audio`: FFmpeg through PyAV, libsndfile where faster).

:func:`probe` never raises for a bad file: it returns a :class:`Probe` whose ``error`` is a one-line
reason a person can read, ``warning`` for a file that plays but stops before the length its header
announces, and ``notes`` for things that did not stop the import (a tag value that was dropped or cut,
a tag block that cannot be read, a file whose name does not match its content). Files are read by
their *content*: the first bytes say what a file is (:func:`sniff`), whatever its name says, and the
tag reader is chosen by that. Every tag value is bounded before it reaches the library: text is cut to
:data:`MAX_TEXT` characters, numbers are parsed leniently ("3/12", "03", "1999-05-01") and dropped
when absurd.

Lengths are honest: a file is playable when its audio decodes; its length is the container's exact
figure, or what really decodes when the end is not where the header says (the reader decodes the first
block and the last half second, and the whole file only when the tail disagrees). A file that stops early
is imported with a warning; only a file with no decodable audio is an error.
"""

from __future__ import annotations

import importlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from player.audio.errors import NOT_AUDIO, AudioError
from player.audio.reader import MAX_SECONDS, SHORT_WARNING_SECONDS, probe_audio
from player.formats import FORMAT_NAMES

# Extensions the scanner looks at, and the content (see :func:`sniff`) we expect behind each.
AUDIO_EXTENSIONS = {
    ".mp3": "mp3",
    ".ogg": "ogg",
    ".oga": "ogg",
    ".opus": "opus",
    ".flac": "flac",
    ".wav": "wav",
    ".wave": "wav",
    ".m4a": "m4a",
    ".m4b": "m4a",
    ".mp4": "m4a",
    ".alac": "m4a",
    ".aac": "aac",
    ".wma": "asf",
    ".wv": "wv",
    ".ape": "ape",
    ".mpc": "mpc",
    ".aif": "aiff",
    ".aiff": "aiff",
    ".aifc": "aiff",
    ".mka": "mka",
    ".webm": "mka",
    ".tta": "tta",
}
# Contents one extension may hold besides its own without being mislabelled.
_ALSO = {"ogg": ("opus", "oggflac", "speex"), "aac": ("m4a",), "m4a": ("aac",)}
MAX_SANE_SECONDS = MAX_SECONDS
MAX_TEXT = 1000  # characters kept of a text tag (a title, an artist …); nobody needs more on screen
MAX_TRACKNUMBER = 9999
YEARS = (1000, 2999)
_HEAD = 4096
TAIL_SECONDS = 0.5  # how much of a file's end the probe decodes to check that it ends where its header says
_ASF_GUID = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")


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
    warning: str | None = None  # plays, but stops before its header's length (status stays ok)
    notes: list[str] = field(default_factory=list)  # what was dropped, cut or noticed; the import went on
    cover: object | None = None  # player.library.covers.CoverRef, or None
    looked_for_cover: bool = False  # ``cover`` is the answer (None: the file has none)

    @property
    def ok(self) -> bool:
        return self.error is None


# -- content -----------------------------------------------------------------------------------
_MAGIC = ((b"fLaC", "flac"), (b"wvpk", "wv"), (b"MAC ", "ape"), (b"MPCK", "mpc"), (b"MP+", "mpc"),
          (b"\x1a\x45\xdf\xa3", "mka"), (b"TTA1", "tta"), (_ASF_GUID, "asf"))


def sniff(head: bytes, f=None) -> str | None:
    """The audio format of a file from its first bytes (``f``, when given, is the open file, read
    further to skip an ID3v2 block): ``mp3``, ``ogg`` (Vorbis), ``opus``, ``flac``, ``wav``, ``m4a``
    (MP4/M4A: AAC or ALAC), ``aac`` (ADTS), ``aiff``, ``speex``, ``oggflac``, ``asf`` (WMA), ``wv``
    (WavPack), ``ape``, ``mpc``, ``mka`` (Matroska/WebM), ``tta``, or None when it is none of them."""
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
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
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
    return "an" if name[:1] in "AEIOU" or name in ("MP3", "M4A/MP4") else "a"


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
# WMA (ASF) attribute names of the fields the library keeps
_ASF_FIELDS = {"title": "Title", "artist": "Author", "album": "WM/AlbumTitle", "albumartist": "WM/AlbumArtist",
               "tracknumber": "WM/TrackNumber", "date": "WM/Year", "genre": "WM/Genre"}

# mutagen's reader for each content format (the "easy" one where mutagen has it)
_TAG_READERS = {"mp3": ("mutagen.mp3", "EasyMP3"), "ogg": ("mutagen.oggvorbis", "OggVorbis"),
                "opus": ("mutagen.oggopus", "OggOpus"), "flac": ("mutagen.flac", "FLAC"),
                "oggflac": ("mutagen.oggflac", "OggFLAC"), "wav": ("mutagen.wave", "WAVE"),
                "aiff": ("mutagen.aiff", "AIFF"), "m4a": ("mutagen.easymp4", "EasyMP4"),
                "aac": ("mutagen.aac", "AAC"), "asf": ("mutagen.asf", "ASF"), "wv": ("mutagen.wavpack", "WavPack"),
                "ape": ("mutagen.monkeysaudio", "MonkeysAudio"), "mpc": ("mutagen.musepack", "Musepack"),
                "tta": ("mutagen.trueaudio", "EasyTrueAudio"), "speex": ("mutagen.oggspeex", "OggSpeex")}
# Content mutagen has no reader for: tags from FFmpeg's view of the container.
_FFMPEG_TAGS = {"mka"}


def _tag_reader(content: str | None):
    """mutagen classes for a content format (None: let mutagen guess from the content)."""
    spec = _TAG_READERS.get(content or "")
    if spec is None:
        return None
    return [getattr(importlib.import_module(spec[0]), spec[1])]


def _bounded_tags(get, notes: list[str]) -> dict:
    out = {
        "title": bounded_text(get("title"), "title", notes),
        "artist": bounded_text(get("artist"), "artist", notes),
        "album": bounded_text(get("album"), "album", notes),
        "albumartist": bounded_text(get("albumartist", "album artist", "album_artist"), "album artist", notes),
        "tracknumber": parse_tracknumber(get("tracknumber", "track"), notes),
        "year": parse_year(get("date", "year", "originaldate"), notes),
        "genre": bounded_text(get("genre"), "genre", notes),
    }
    return {k: v for k, v in out.items() if v is not None}


def _mutagen_tags(audio) -> dict:
    tags = audio.tags or {}
    if "TIT2" in tags or "TPE1" in tags or "TRCK" in tags:  # ID3 in a WAV/AIFF: no "easy" view, map frames
        return {key: tags[frame].text for key, frame in _ID3_FRAMES.items() if frame in tags}
    if type(tags).__name__ == "ASFTags":  # WMA: its own attribute names
        return {key: tags[name] for key, name in _ASF_FIELDS.items() if name in tags}
    return tags


def read_tags(path: str, content: str | None = None, notes: list[str] | None = None, *,
              cover: list | None = None) -> tuple[dict, float | None]:
    """Tags as bounded plain strings/ints and mutagen's idea of the length; the tag reader is chosen by
    ``content`` (see :func:`sniff`). Raises on a corrupt tag block. Dropped or cut values are
    described in ``notes``. With ``cover`` (a list), the file's cover (:mod:`player.library.covers`:
    the embedded picture, else the folder image; None when there is none) is appended to it, found
    from the tags just opened."""
    import mutagen

    notes = [] if notes is None else notes
    options = _tag_reader(content)
    audio = mutagen.File(path, easy=True) if options is None else mutagen.File(path, options=options)
    if cover is not None:
        from player.library.covers import find_cover_in_tags

        cover.append(find_cover_in_tags(audio, path))
    if audio is None:
        return {}, None
    tags = _mutagen_tags(audio)
    length = getattr(getattr(audio, "info", None), "length", None)
    try:
        length = float(length) if length else None
    except (TypeError, ValueError, OverflowError):
        length = None
    return _bounded_tags(_getter(tags), notes), length


def _getter(tags):
    def get(*keys):
        for key in keys:
            try:
                if key in tags:
                    return tags[key]
            except (KeyError, ValueError, TypeError):
                continue
        return None

    return get


def read_ffmpeg_tags(path: str, notes: list[str] | None = None) -> dict:
    """Tags of a file mutagen cannot read (Matroska, WebM), from FFmpeg's view of the container and its
    first audio stream, bounded as :func:`read_tags` bounds them; {} when there are none."""
    import av

    notes = [] if notes is None else notes
    found: dict = {}
    try:
        with av.open(os.fsdecode(path), "r", metadata_errors="replace") as c:
            streams = list(c.streams.audio[:1])
            for meta in [c.metadata] + [st.metadata for st in streams]:
                for key, value in (meta or {}).items():
                    found.setdefault(str(key).lower(), value)
    except Exception:  # noqa: BLE001 - the audio check that follows says what is wrong with the file
        return {}
    return _bounded_tags(_getter(found), notes)


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


def _mislabelled(path: str, content: str | None) -> str | None:
    """"it is an Ogg file named .flac" when the name says another format than the content, else None."""
    ext = Path(path).suffix.lower()
    expected = AUDIO_EXTENSIONS.get(ext)
    if content is None or expected is None or content == expected or content in _ALSO.get(expected, ()):
        return None
    named = FORMAT_NAMES.get(content, content)
    return f"it is {_article(named)} {named} file named {ext}"


def _tags_and_cover(path: str, content: str | None, result: Probe, covers: bool) -> tuple[dict, float | None, bool]:
    """The file's tags, mutagen's length and whether its tag block is damaged; sets ``result.cover``
    (with ``covers``) from the tags just opened, or from the folder when they cannot be read."""
    found: list | None = [] if covers else None
    damaged = False
    try:
        if content in _FFMPEG_TAGS:
            tags, length = read_ffmpeg_tags(path, result.notes), None
        else:
            tags, length = read_tags(path, content, result.notes, cover=found)
    except Exception:  # noqa: BLE001 - mutagen raises many kinds for damaged tags
        tags, length, damaged = {}, None, True
    if covers:
        if not found:
            from player.library.covers import find_cover_in_tags

            found = [find_cover_in_tags(None, path)]  # no tags to look in: the folder image
        result.cover, result.looked_for_cover = found[0], True
    return tags, length, damaged


def probe(path: str, *, covers: bool = True) -> Probe:
    """Everything the library stores about one file; never raises for a bad file. With ``covers``
    (the default) ``Probe.cover`` is the file's cover, found from the tags the probe reads anyway."""
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
    named = FORMAT_NAMES.get(content or "")
    mislabelled = _mislabelled(path, content)
    if mislabelled:
        result.notes.append(f"mislabelled: {mislabelled} (read by its content)")

    tags, tag_length, damaged_tags = _tags_and_cover(path, content, result, covers)
    try:
        info = probe_audio(path, tail_seconds=TAIL_SECONDS)
    except AudioError as exc:
        result.cover, result.looked_for_cover = None, False
        if damaged_tags and named:
            result.error = f"damaged or truncated {named} file: neither its tags nor its audio can be read"
        elif named and str(exc) == NOT_AUDIO:
            result.error = f"damaged or truncated {named} file: its audio cannot be decoded"
        elif named:
            result.error = str(exc)
        else:  # neither its first bytes nor a decoder know it (FFmpeg's own guess goes by the name)
            result.error = NOT_AUDIO
        if mislabelled:
            result.error = f"mislabelled: {mislabelled}; {result.error}"
        return result
    if damaged_tags:
        result.notes.append(f"damaged tags: the {named + ' file' if named else 'file'}'s tag block cannot be read (imported without tags)")
    result.format = info.format
    result.samplerate, result.channels = int(info.samplerate), int(info.channels)
    duration = info.duration
    if duration is None or not 0 < duration < MAX_SANE_SECONDS:
        duration = tag_length if tag_length and 0 < tag_length < MAX_SANE_SECONDS else None
    result.duration = duration
    result.warning = info.warning
    if info.warning and duration and tag_length and abs(tag_length - duration) < SHORT_WARNING_SECONDS:
        # The container's own header (as mutagen reads it) gives what decodes: FFmpeg's figure was an
        # estimate (an ASF file with a big picture in its header, for one). The file does not stop early.
        result.warning = None
    tags.setdefault("title", _title_from_name(path))
    result.tags = tags
    return result

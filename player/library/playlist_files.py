"""Playlist files: import and export M3U/M3U8, PLS and XSPF. Music files are only ever read.

Import (:func:`import_playlist`) reads a playlist file, resolves every entry to a file and makes a
saved playlist in the same order:

- absolute paths, paths relative to the playlist file's folder, ``file://`` URLs with percent-escapes
  (also of bytes that are not UTF-8), Windows paths (``C:\\Music\\a.mp3``, ``..\\a.mp3``, ``\\\\server\\x``:
  backslashes become slashes, and the path's tail is looked for under the playlist's folder: ``Music/a.mp3``,
  then ``a.mp3``);
- legacy ``.m3u`` files that are not UTF-8: each entry is tried as UTF-8, as its exact bytes, in the
  locale's encoding, cp1252 and latin-1, and the first spelling that names an existing file wins;
- a file not yet in the library is imported (probed, as a folder scan would); a file the library knows
  but that is missing now keeps its place (the entry plays again when the file is back);
- every entry that cannot be resolved is reported with its line number and why; junk lines (binary
  data, lines of thousands of characters) are skipped with a reason; nothing of that stops the import.

XSPF is XML: a file that declares a DOCTYPE or entities is refused before parsing (Python's expat
expands internal entities: a "billion laughs" file would exhaust memory), and the parser refuses them
again while parsing.

Export (:func:`export_playlist`) picks the format from the extension and writes the paths relative to
the playlist file's folder when every song lies under that folder or up to two folders above it
(``Music/Playlists/x.m3u`` next to ``Music/Artist/…``), else absolute. The file is written to a
temporary name and renamed, so an interrupted export never leaves half a playlist.
"""

from __future__ import annotations

import locale
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from player.errors import LibraryError
from player.library.store import display_path

FORMATS = {".m3u": "m3u", ".m3u8": "m3u8", ".pls": "pls", ".xspf": "xspf"}
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_LINE = 4096
XSPF_NS = "http://xspf.org/ns/0/"


class PlaylistFileError(LibraryError):
    """A playlist file that cannot be read or written, in one line."""


@dataclass
class FileEntry:
    line: int  # 1-based line of the entry's location in the file
    location: str | bytes  # as written (bytes for an M3U/PLS line that is not UTF-8)
    title: str | None = None
    duration: float | None = None


@dataclass
class ParsedPlaylist:
    format: str
    name: str | None
    entries: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (line, reason): lines that are not entries at all


@dataclass
class ImportReport:
    playlist: object  # the Playlist made (or refilled)
    format: str
    entries: int  # entries in the playlist
    imported: list = field(default_factory=list)  # paths added to the library on the way
    unresolved: list = field(default_factory=list)  # (line, location, reason)
    skipped: list = field(default_factory=list)  # (line, reason)

    def summary(self) -> str:
        parts = [f"{self.entries} songs"]
        if self.imported:
            parts.append(f"{len(self.imported)} new to the library")
        if self.unresolved:
            parts.append(f"{len(self.unresolved)} not found")
        if self.skipped:
            parts.append(f"{len(self.skipped)} lines skipped")
        return ", ".join(parts)


def format_of(path) -> str:
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in FORMATS:
        raise PlaylistFileError(f"cannot tell the playlist format of {os.fspath(path)!s}: its name should end "
                                "in .m3u, .m3u8, .pls or .xspf")
    return FORMATS[ext]


# -- reading ------------------------------------------------------------------------------------
def _read_bytes(path) -> bytes:
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise PlaylistFileError(f"{os.fspath(path)} is {size // (1024 * 1024)} MB: too big for a playlist "
                                    f"(at most {MAX_FILE_BYTES // (1024 * 1024)} MB)")
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise PlaylistFileError(f"no such playlist file: {os.fspath(path)}") from None
    except IsADirectoryError:
        raise PlaylistFileError(f"{os.fspath(path)} is a folder, not a playlist file") from None
    except OSError as exc:
        raise PlaylistFileError(f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from None


def _junk(raw: bytes) -> str | None:
    if len(raw) > MAX_LINE:
        return f"a line of {len(raw):,} characters (binary data or a broken file?)"
    if b"\x00" in raw or re.search(rb"[\x01-\x08\x0e-\x1f\x7f]", raw):
        return "binary data, not text"
    return None


def _text(raw: bytes) -> str:
    """A title or other text: UTF-8, else cp1252, else latin-1 (never fails)."""
    for enc in ("utf-8", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _lines(data: bytes, skipped: list):
    """(line number, bytes) of the text lines that hold something; junk lines go to ``skipped``
    with the reason."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        reason = _junk(raw)
        if reason:
            skipped.append((number, reason))
            continue
        yield number, raw


def _location(raw: bytes) -> str | bytes:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw  # decided when resolving: which spelling names a file


def parse_m3u(data: bytes, fmt: str = "m3u") -> ParsedPlaylist:
    out = ParsedPlaylist(fmt, None)
    pending_title = pending_len = None
    for number, raw in _lines(data, out.skipped):
        line = raw.strip()
        if line.startswith(b"#"):
            if line.upper().startswith(b"#EXTINF:"):
                head, _, title = line[8:].partition(b",")
                try:
                    pending_len = float(head.split()[0]) if head.split() else None
                except ValueError:
                    pending_len = None
                if pending_len is not None and pending_len < 0:
                    pending_len = None
                title_text = _text(title).strip()
                pending_title = title_text or None
            elif line.upper().startswith(b"#PLAYLIST:"):
                out.name = _text(line[10:]).strip() or out.name
            continue
        out.entries.append(FileEntry(number, _location(line), pending_title, pending_len))
        pending_title = pending_len = None
    return out


def parse_pls(data: bytes) -> ParsedPlaylist:
    out = ParsedPlaylist("pls", None)
    files: dict[int, tuple[int, str | bytes]] = {}
    titles: dict[int, str] = {}
    lengths: dict[int, float] = {}
    seen_header = False
    for number, raw in _lines(data, out.skipped):
        line = raw.strip()
        if line.startswith((b";", b"#")):
            continue
        if line.lower() == b"[playlist]":
            seen_header = True
            continue
        key, sep, value = line.partition(b"=")
        m = re.fullmatch(rb"(file|title|length)(\d+)", key.strip().lower())
        if not sep:
            out.skipped.append((number, "not a 'key=value' line of a PLS file"))
            continue
        if m is None:
            if key.strip().lower() not in (b"numberofentries", b"version", b"x-gnome-title", b"name"):
                out.skipped.append((number, f"unknown PLS key {_text(key.strip())!r}"))
            elif key.strip().lower() in (b"x-gnome-title", b"name"):
                out.name = _text(value).strip() or out.name
            continue
        kind, n = m.group(1), int(m.group(2))
        value = value.strip()
        if kind == b"file":
            if n in files:
                out.skipped.append((number, f"File{n} appears twice; the first one is kept"))
            else:
                files[n] = (number, _location(value))
        elif kind == b"title":
            titles[n] = _text(value).strip()
        else:
            try:
                lengths[n] = float(value)
            except ValueError:
                pass
    if not seen_header and not files:
        raise PlaylistFileError("not a PLS playlist: no [playlist] section and no File1= entries")
    for n in sorted(files):
        number, loc = files[n]
        length = lengths.get(n)
        out.entries.append(FileEntry(number, loc, titles.get(n) or None, length if length and length > 0 else None))
    return out


class _Refused(Exception):
    pass


def parse_xspf(data: bytes) -> ParsedPlaylist:
    import xml.parsers.expat

    head = data[:65536].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise PlaylistFileError("refused: this XSPF file declares a DOCTYPE or entities, which a playlist never "
                                "needs (it could expand without bound)")
    out = ParsedPlaylist("xspf", None)
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    stack: list[str] = []
    text: list[str] = []
    track: dict | None = None
    state = {"root": None}

    def local(name: str) -> str:
        return name.rsplit(" ", 1)[-1]

    def refuse(*_args):
        raise _Refused()

    def start(name, attrs):
        name = local(name)
        if state["root"] is None:
            state["root"] = name
        nonlocal track
        stack.append(name)
        text.clear()
        if name == "track" and len(stack) >= 2 and stack[-2] == "trackList":
            track = {"line": parser.CurrentLineNumber}
        elif track is not None and name == "location" and "location" not in track:
            track["location_line"] = parser.CurrentLineNumber

    def end(name):
        nonlocal track
        name = local(name)
        value = "".join(text).strip()
        text.clear()
        stack.pop()
        if track is not None:
            if name == "track":
                if track.get("location"):
                    dur = track.get("duration")
                    out.entries.append(FileEntry(track.get("location_line", track["line"]),
                                                 _xspf_location(track["location"]), _xspf_title(track), dur))
                else:
                    out.skipped.append((track["line"], "a track without a location"))
                track = None
            elif name == "location" and "location" not in track:
                track["location"] = value
            elif name in ("title", "creator") and len(stack) >= 1 and stack[-1] == "track":
                track[name] = value
            elif name == "duration" and stack and stack[-1] == "track":
                try:
                    track["duration"] = float(value) / 1000.0
                except ValueError:
                    pass
        elif name == "title" and len(stack) == 1:
            out.name = value or out.name

    def chars(data_):
        text.append(data_)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        parser.Parse(data, True)
    except _Refused:
        raise PlaylistFileError("refused: this XSPF file declares a DOCTYPE or entities, which a playlist never "
                                "needs (it could expand without bound)") from None
    except xml.parsers.expat.ExpatError as exc:
        raise PlaylistFileError(f"not a valid XSPF file: {xml.parsers.expat.ErrorString(exc.code)} "
                                f"at line {exc.lineno}") from None
    if state["root"] != "playlist":
        raise PlaylistFileError("not an XSPF playlist: its root element is not <playlist>")
    return out


def _xspf_location(value: str) -> str:
    """An XSPF location is a URI: a relative one is percent-decoded into a relative path."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", value) and not _WINDOWS.match(value):
        return value
    return os.fsdecode(urllib.parse.unquote_to_bytes(value))


def _xspf_title(track: dict) -> str | None:
    title, creator = track.get("title"), track.get("creator")
    if title and creator:
        return f"{creator} - {title}"
    return title or None


def read_playlist(path) -> ParsedPlaylist:
    """Parse a playlist file (format from its extension, else from its content)."""
    data = _read_bytes(path)
    ext = os.path.splitext(os.fspath(path))[1].lower()
    fmt = FORMATS.get(ext)
    if fmt is None:
        start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:200].lower()
        fmt = "xspf" if start.startswith(b"<") else "pls" if start.startswith(b"[playlist]") else "m3u"
    if fmt == "xspf":
        return parse_xspf(data)
    if fmt == "pls":
        return parse_pls(data)
    return parse_m3u(data, fmt)


# -- resolving an entry to a file ---------------------------------------------------------------
_WINDOWS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")


def _spellings(location: str | bytes) -> list[str]:
    """The text spellings of a location to try, best first."""
    if isinstance(location, str):
        return [location]
    out = [os.fsdecode(location)]  # the exact bytes: a file whose name is not UTF-8
    encodings = [locale.getpreferredencoding(False) or "utf-8", "cp1252", "latin-1"]
    for enc in encodings:
        try:
            text = location.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        if text not in out:
            out.append(text)
    return out


def _candidates(text: str, base: str) -> tuple[list[str], str | None]:
    """Paths a location may mean (to try in order), or a reason it names no file at all."""
    text = text.strip()
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]+)://", text)
    if m:
        scheme = m.group(1).lower()
        if scheme != "file":
            return [], f"a {scheme} stream address, not a file"
        parts = urllib.parse.urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            return [], f"a file on another computer ({parts.netloc})"
        path = os.fsdecode(urllib.parse.unquote_to_bytes(parts.path))
        if re.match(r"^/[A-Za-z]:/", path):  # file:///C:/Music/a.mp3
            return _windows(path[1:], base), None
        return [path], None
    if _WINDOWS.match(text) or ("\\" in text and "/" not in text):
        literal = text if os.path.isabs(text) else os.path.join(base, text)
        return [literal] + _windows(text, base), None
    if text.startswith("file:"):  # file:/path (one slash)
        return [os.fsdecode(urllib.parse.unquote_to_bytes(text[5:]))], None
    return [text if os.path.isabs(text) else os.path.normpath(os.path.join(base, text))], None


def _windows(text: str, base: str) -> list[str]:
    """A Windows path seen from here: its relative form, else its tails under the playlist's folder."""
    path = text.replace("\\", "/")
    drive = re.match(r"^(?:[A-Za-z]:/|//[^/]+/[^/]+/?)", path)
    if drive is None:  # relative: ..\Music\a.mp3
        return [os.path.normpath(os.path.join(base, path))]
    parts = [p for p in path[drive.end():].split("/") if p]
    return [os.path.join(base, *parts[i:]) for i in range(len(parts))]


def resolve_location(location: str | bytes, base: str, known) -> tuple[str | None, str | None]:
    """``(path, None)`` for the file an entry names (it exists, or the library knows it), or
    ``(None, reason)``. ``known(path)`` says whether the library has a track at that path."""
    first_reason = None
    tried = []
    for text in _spellings(location):
        candidates, reason = _candidates(text, base)
        if reason:
            first_reason = first_reason or reason
            continue
        for cand in candidates:
            tried.append(cand)
            if os.path.isfile(cand) or known(cand):
                return os.path.abspath(cand), None
    if first_reason:
        return None, first_reason
    shown = display_path(os.fsencode(tried[0])) if tried else str(location)
    for cand in tried:
        if os.path.isdir(cand):
            return None, f"{display_path(os.fsencode(cand))} is a folder, not a song"
    return None, f"no such file: {shown}"


# -- importing ----------------------------------------------------------------------------------
def _import_files(library, paths: list[str]) -> tuple[dict, dict]:
    """Import files the library does not know, as a folder scan does (:func:`player.library.scan.import_files`).
    Returns ``({path: track id}, {path: reason})`` (a file that cannot be read is recorded in error, as a
    scan records it, and is not in the playlist)."""
    from player.library.scan import import_files

    report = import_files(library, paths)
    failed = dict(report.failed + report.still_failing)
    return {p: i for p, i in report.track_ids.items() if p not in failed}, failed


def import_playlist(library, path, *, name: str | None = None, replace: bool = False) -> ImportReport:
    """Make a saved playlist from a playlist file (see the module docstring). ``replace``: refill an
    existing saved playlist of that name instead of refusing the name."""
    from player.library.playlists import PlaylistError, Playlists

    parsed = read_playlist(path)
    base = os.path.dirname(os.path.abspath(os.fspath(path)))
    store = Playlists(library)
    title = name if name is not None else (parsed.name or Path(os.fspath(path)).stem)
    existing = store.find(title)
    if existing is not None and not replace:
        raise PlaylistError(f"a playlist called {existing.name!r} already exists (choose another name with --name, "
                            "or --replace it)")
    if existing is not None and existing.is_smart:
        raise PlaylistError(f"{existing.name!r} is a smart playlist: it cannot be refilled from a file")

    def known(cand: str) -> bool:
        return library.track_by_path(cand) is not None

    resolved: list[tuple[FileEntry, str]] = []
    report = ImportReport(None, parsed.format, 0, skipped=list(parsed.skipped))
    for entry in parsed.entries:
        where, reason = resolve_location(entry.location, base, known)
        if where is None:
            report.unresolved.append((entry.line, _shown(entry.location), reason))
        else:
            resolved.append((entry, where))
    new_paths = list(dict.fromkeys(p for _, p in resolved if not known(p)))
    added, failed = _import_files(library, new_paths)
    report.imported = [p for p in new_paths if p in added]
    track_ids = []
    for entry, where in resolved:
        if where in failed:
            report.unresolved.append((entry.line, _shown(entry.location), failed[where]))
            continue
        track = library.track_by_path(where)
        if track is None:  # pragma: no cover - added or known above
            report.unresolved.append((entry.line, _shown(entry.location), "could not be added to the library"))
            continue
        track_ids.append(track.id)
    report.unresolved.sort()
    if parsed.entries and not track_ids:
        first = report.unresolved[0] if report.unresolved else None
        detail = f" (line {first[0]}: {first[2]})" if first else ""
        raise PlaylistFileError(f"none of the {len(parsed.entries)} songs of {os.fspath(path)} could be found"
                                f"{detail}; nothing was imported")
    if existing is not None:
        store.replace(existing.id, track_ids)
        report.playlist = store.get(existing.id)
    else:
        report.playlist = store.create(title, track_ids=track_ids)
    report.entries = len(track_ids)
    return report


def _shown(location: str | bytes) -> str:
    return location if isinstance(location, str) else display_path(location)


# -- exporting ----------------------------------------------------------------------------------
def _relative_ok(folder: str, paths: list[str]) -> bool:
    if not paths:
        return True
    try:
        common = os.path.commonpath([folder] + paths)
    except ValueError:
        return False
    if common == os.path.dirname(common):  # the file-system root: nothing shared
        return False
    up = os.path.relpath(folder, common)
    return up == "." or len(up.split(os.sep)) <= 2


def _file_url(path: str) -> str:
    return "file://" + urllib.parse.quote(os.fsencode(path), safe="/")


def _safe_line(text: str) -> str:
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text).split())


def _written(path: str, folder: str, relative: bool) -> str:
    """How a song's path is written into a text playlist (a path with a line break becomes a URL)."""
    shown = os.path.relpath(path, folder) if relative else path
    if re.search(r"[\x00-\x1f\x7f]", shown):
        return _file_url(path)
    return shown


def _extinf(track) -> tuple[int, str]:
    seconds = -1 if track.duration is None else int(round(track.duration))
    who = _safe_line(track.artist or "")
    title = _safe_line(track.title or "")
    return seconds, f"{who} - {title}" if who else title


def render_playlist(tracks, fmt: str, folder: str, *, name: str = "", relative: bool | None = None) -> bytes:
    """The bytes of a playlist file listing ``tracks`` (Track objects) for a file in ``folder``."""
    paths = [t.path for t in tracks]
    rel = _relative_ok(folder, paths) if relative is None else relative
    if fmt in ("m3u", "m3u8"):
        lines = ["#EXTM3U"]
        if name:
            lines.append(f"#PLAYLIST:{_safe_line(name)}")
        for t in tracks:
            seconds, title = _extinf(t)
            lines.append(f"#EXTINF:{seconds},{title}")
            lines.append(_written(t.path, folder, rel))
        return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    if fmt == "pls":
        lines = ["[playlist]"]
        for n, t in enumerate(tracks, start=1):
            seconds, title = _extinf(t)
            lines += [f"File{n}={_written(t.path, folder, rel)}", f"Title{n}={title}", f"Length{n}={seconds}"]
        lines += [f"NumberOfEntries={len(tracks)}", "Version=2"]
        return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    if fmt == "xspf":
        from xml.sax.saxutils import escape

        out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<playlist version="1" xmlns="{XSPF_NS}">']
        if name:
            out.append(f"  <title>{escape(_safe_line(name))}</title>")
        out.append("  <trackList>")
        for t in tracks:
            if rel:
                loc = urllib.parse.quote(os.fsencode(os.path.relpath(t.path, folder)), safe="/")
            else:
                loc = _file_url(t.path)
            out.append("    <track>")
            out.append(f"      <location>{escape(loc)}</location>")
            if t.title:
                out.append(f"      <title>{escape(_safe_line(t.title))}</title>")
            if t.artist:
                out.append(f"      <creator>{escape(_safe_line(t.artist))}</creator>")
            if t.duration is not None:
                out.append(f"      <duration>{int(round(t.duration * 1000))}</duration>")
            out.append("    </track>")
        out += ["  </trackList>", "</playlist>"]
        return ("\n".join(out) + "\n").encode("utf-8")
    raise PlaylistFileError(f"unknown playlist format {fmt!r}")


def export_playlist(library, ref, path, *, user_id: int | None = None, relative: bool | None = None) -> int:
    """Write playlist ``ref`` (a smart one as it is now) to ``path``; returns the number of songs."""
    from player.library.playlists import Playlists
    from player.library.probe import AUDIO_EXTENSIONS

    target = os.path.abspath(os.fspath(path))
    fmt = format_of(target)
    if os.path.splitext(target)[1].lower() in AUDIO_EXTENSIONS:  # pragma: no cover - format_of refuses first
        raise PlaylistFileError("refusing to write over a music file")
    store = Playlists(library)
    playlist = store.get(ref)
    tracks = [e.track for e in store.entries(playlist.id, user_id=user_id)]
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise PlaylistFileError(f"no such folder: {folder}")
    if os.path.isdir(target):
        raise PlaylistFileError(f"{target} is a folder")
    data = render_playlist(tracks, fmt, folder, name=playlist.name, relative=relative)
    tmp = f"{target}.part-{os.getpid()}"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise PlaylistFileError(f"cannot write {target}: {exc.strerror or exc}") from None
    return len(tracks)


__all__ = ["import_playlist", "export_playlist", "read_playlist", "render_playlist", "resolve_location",
           "ImportReport", "ParsedPlaylist", "FileEntry", "PlaylistFileError", "FORMATS", "format_of"]

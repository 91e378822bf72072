"""High-level library operations: tracks, listeners, ratings, plays.

No Qt, no global state: the GUI, the CLI and the workers each hold a :class:`Library`.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from player.library.db import Database, DatabaseError, now


from player.errors import LibraryError  # noqa: F401 - re-exported (a user mistake, in one line)


TRACK_COLUMNS = (
    "id, path, path_raw, title, artist, album, albumartist, tracknumber, year, genre, duration, "
    "samplerate, channels, format, size, mtime, added_at, updated_at, status, error, warning"
)


@dataclass(frozen=True)
class Track:
    id: int
    path: str  # the real file-system path (surrogate-escaped where the name is not UTF-8)
    display_path: str
    title: str
    artist: str | None
    album: str | None
    albumartist: str | None
    tracknumber: int | None
    year: int | None
    genre: str | None
    duration: float | None
    samplerate: int | None
    channels: int | None
    format: str | None
    size: int | None
    mtime: float | None
    added_at: float
    status: str
    error: str | None
    warning: str | None = None  # plays, but stops before the length its header announces

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Track":
        return cls(
            id=row["id"],
            path=os.fsdecode(bytes(row["path_raw"])),
            display_path=row["path"],
            title=row["title"] or Path(row["path"]).stem,
            artist=row["artist"],
            album=row["album"],
            albumartist=row["albumartist"],
            tracknumber=row["tracknumber"],
            year=row["year"],
            genre=row["genre"],
            duration=row["duration"],
            samplerate=row["samplerate"],
            channels=row["channels"],
            format=row["format"],
            size=row["size"],
            mtime=row["mtime"],
            added_at=row["added_at"],
            status=row["status"],
            error=row["error"],
            warning=row["warning"] if "warning" in row.keys() else None,
        )

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "path": self.display_path,
            "title": self.title,
            "artist": self.artist,
            "album": self.album,
            "albumartist": self.albumartist,
            "tracknumber": self.tracknumber,
            "year": self.year,
            "genre": self.genre,
            "duration": self.duration,
            "samplerate": self.samplerate,
            "channels": self.channels,
            "format": self.format,
            "status": self.status,
            "error": self.error,
            "warning": self.warning,
        }


@dataclass(frozen=True)
class User:
    id: int
    name: str


MAX_ID = 2**63 - 1  # SQLite's largest integer


def path_key(path: str | os.PathLike) -> bytes:
    """The exact bytes of a file's canonical path (symlinks resolved): the unique key of a track, so a
    file reached through a linked folder is still one track."""
    return os.path.realpath(os.fsencode(os.path.abspath(os.fspath(path))))


def parse_id(text: str) -> int | None:
    """A track id from its decimal text, or None when the text is not one (or is beyond any id)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def _quote(text: str, limit: int = 80) -> str:
    text = str(text)
    return f"'{text if len(text) <= limit else text[:limit] + '…'}'"


def display_path(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


class Library:
    """The player's library: wraps one :class:`Database`."""

    def __init__(self, path: str | os.PathLike):
        self.db = Database(path)

    @property
    def path(self) -> Path:
        return self.db.path

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- tracks --------------------------------------------------------------------------------
    def track(self, track_id: int) -> Track | None:
        if not isinstance(track_id, int) or not 0 < track_id <= MAX_ID:
            return None
        row = self.db.query_one(f"SELECT {TRACK_COLUMNS} FROM tracks WHERE id = ?", (track_id,))
        return None if row is None else Track.from_row(row)

    def track_by_path(self, path: str | os.PathLike) -> Track | None:
        row = self.db.query_one(f"SELECT {TRACK_COLUMNS} FROM tracks WHERE path_raw = ?", (path_key(path),))
        return None if row is None else Track.from_row(row)

    def resolve_track(self, ref: str | int) -> Track:
        """A track from an id or a path, or a :class:`LibraryError` in words."""
        text = str(ref).strip()
        track = None
        if text.isascii() and text.isdigit():
            track_id = parse_id(text)
            track = None if track_id is None else self.track(track_id)
            if track is None and not os.path.exists(text):
                shown = text if len(text) <= 30 else text[:30] + "…"
                raise LibraryError(f"no track with id {shown} in the library")
        if track is None and text:
            track = self.track_by_path(text)
        if track is None:
            raise LibraryError(f"{_quote(text)} is not in the library (scan its folder first)")
        return track

    def tracks(self, *, status: str | None = None, limit: int | None = None, offset: int = 0) -> list[Track]:
        sql = f"SELECT {TRACK_COLUMNS} FROM tracks"
        params: list = []
        if status:
            sql += " WHERE status = ?"
            params.append(status)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return [Track.from_row(r) for r in self.db.query(sql, params)]

    def remove_tracks(self, track_ids, *, keep_ratings: bool = True) -> int:
        """"Remove from library": the tracks' rows go (with their plays, analysis and playlist entries;
        playlists close up), the files stay on disk. A removed file is left out of later folder scans
        (table ``removed_files``) until it is imported again explicitly
        (:func:`player.library.scan.import_files`: a dropped file, ``scan FILE``). With
        ``keep_ratings`` its ratings are kept (table ``removed_ratings``) and come back then; without,
        they go. Returns how many tracks were removed (ids not in the library are passed over)."""
        ids = sorted({int(i) for i in track_ids})
        if not ids:
            return 0
        removed = 0
        t = now()
        with self.db.transaction() as c:
            playlists = set()
            has_playlists = c.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'playlist_entries'").fetchone()
            for track_id in ids:
                row = c.execute("SELECT path_raw, cover_hash FROM tracks WHERE id = ?", (track_id,)).fetchone()
                if row is None:
                    continue
                raw = bytes(row[0])
                c.execute("INSERT INTO removed_files(path_raw, removed_at) VALUES (?, ?) "
                          "ON CONFLICT(path_raw) DO UPDATE SET removed_at = excluded.removed_at", (raw, t))
                c.execute("DELETE FROM removed_ratings WHERE path_raw = ?", (raw,))
                if keep_ratings:
                    c.execute("INSERT INTO removed_ratings(path_raw, user_id, stars, rated_at) "
                              "SELECT ?, user_id, stars, rated_at FROM ratings WHERE track_id = ?", (raw, track_id))
                if has_playlists:
                    playlists.update(r[0] for r in c.execute(
                        "SELECT DISTINCT playlist_id FROM playlist_entries WHERE track_id = ?", (track_id,)))
                c.execute("DELETE FROM tracks WHERE id = ?", (track_id,))  # ratings, plays … cascade
                if row[1]:
                    c.execute("DELETE FROM covers WHERE hash = ? AND NOT EXISTS "
                              "(SELECT 1 FROM tracks WHERE cover_hash = ?)", (row[1], row[1]))
                removed += 1
            if playlists:
                _close_up_playlists(c, sorted(playlists))
        return removed

    def removed_files(self) -> list[str]:
        """Paths removed from the library (left out of folder scans), oldest removal first."""
        rows = self.db.query("SELECT path_raw FROM removed_files ORDER BY removed_at, path_raw")
        return [os.fsdecode(bytes(r[0])) for r in rows]

    def track_count(self, status: str | None = None) -> int:
        if status:
            return int(self.db.query_one("SELECT COUNT(*) FROM tracks WHERE status = ?", (status,))[0])
        return int(self.db.query_one("SELECT COUNT(*) FROM tracks")[0])

    # -- users ---------------------------------------------------------------------------------
    def users(self) -> list[User]:
        return [User(r["id"], r["name"]) for r in self.db.query("SELECT id, name FROM users ORDER BY name")]

    def add_user(self, name: str) -> User:
        clean = _listener_name(name)
        try:
            with self.db.transaction() as c:
                cur = c.execute("INSERT INTO users(name, created_at) VALUES (?, ?)", (clean, now()))
                return User(int(cur.lastrowid), clean)
        except sqlite3.IntegrityError:
            raise LibraryError(f"a listener called {_quote(clean)} already exists") from None

    def rename_user(self, old: str, new: str) -> User:
        """Rename a listener (their ratings and plays stay theirs); a change of case alone is a rename too."""
        user = self.user(old)
        clean = _listener_name(new)
        try:
            with self.db.transaction() as c:
                c.execute("UPDATE users SET name = ? WHERE id = ?", (clean, user.id))
        except sqlite3.IntegrityError:
            raise LibraryError(f"a listener called {_quote(clean)} already exists") from None
        return User(user.id, clean)

    def delete_user(self, name: str) -> dict[str, int]:
        """Delete a listener with their ratings and plays (the window asks first); returns how many of
        each went: ``{"ratings": n, "plays": m}``."""
        user = self.user(name)
        with self.db.transaction() as c:
            counts = {table: int(c.execute(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (user.id,)).fetchone()[0])
                      for table in ("ratings", "plays")}
            for table, column in _references(c, "users"):  # tables of later migrations too
                c.execute(f'DELETE FROM "{table}" WHERE "{column}" = ?', (user.id,))
            c.execute("DELETE FROM users WHERE id = ?", (user.id,))
        return counts

    def user(self, name: str) -> User:
        row = self.db.query_one("SELECT id, name FROM users WHERE name = ?", ((name or "").strip(),))
        if row is None:
            known = ", ".join(u.name for u in self.users()) or "none yet"
            raise LibraryError(f"unknown listener {_quote(name)} (known: {known}; add one with 'users add NAME')")
        return User(row["id"], row["name"])

    def ensure_user(self, name: str) -> User:
        try:
            return self.user(name)
        except LibraryError:
            return self.add_user(name)

    # -- ratings -------------------------------------------------------------------------------
    def rate(self, user_id: int, track_id: int, stars: int) -> None:
        """1–5 stars; 0 clears the rating. Durable when this returns."""
        try:
            stars = int(stars)
        except (TypeError, ValueError):
            raise LibraryError(f"stars must be a whole number from 0 to 5, not {_quote(stars, 20)}") from None
        if not 0 <= stars <= 5:
            raise LibraryError(f"stars must be from 1 to 5 (0 clears the rating), not {stars}")
        if self.track(track_id) is None:
            raise LibraryError(f"no track with id {track_id} in the library")
        with self.db.transaction() as c:
            if stars == 0:
                c.execute("DELETE FROM ratings WHERE user_id = ? AND track_id = ?", (user_id, track_id))
            else:
                c.execute(
                    "INSERT INTO ratings(user_id, track_id, stars, rated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(user_id, track_id) DO UPDATE SET stars = excluded.stars, rated_at = excluded.rated_at",
                    (user_id, track_id, stars, now()),
                )

    def rating(self, user_id: int, track_id: int) -> int:
        row = self.db.query_one("SELECT stars FROM ratings WHERE user_id = ? AND track_id = ?", (user_id, track_id))
        return 0 if row is None else int(row["stars"])

    def ratings(self, user_id: int) -> dict[int, int]:
        rows = self.db.query("SELECT track_id, stars FROM ratings WHERE user_id = ?", (user_id,))
        return {int(r["track_id"]): int(r["stars"]) for r in rows}

    # -- plays ---------------------------------------------------------------------------------
    def record_play(
        self, user_id: int, track_id: int, *, started_at: float, seconds_played: float, skipped: bool
    ) -> int:
        with self.db.transaction() as c:
            cur = c.execute(
                "INSERT INTO plays(user_id, track_id, started_at, seconds_played, skipped) VALUES (?, ?, ?, ?, ?)",
                (user_id, track_id, float(started_at), max(0.0, float(seconds_played)), 1 if skipped else 0),
            )
            return int(cur.lastrowid)

    def plays(self, user_id: int | None = None, limit: int | None = None) -> list[sqlite3.Row]:
        sql = "SELECT id, user_id, track_id, started_at, seconds_played, skipped FROM plays"
        params: list = []
        if user_id is not None:
            sql += " WHERE user_id = ?"
            params.append(user_id)
        sql += " ORDER BY started_at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return self.db.query(sql, params)

    def recent_track_ids(self, user_id: int, limit: int = 50) -> list[int]:
        return [int(r["track_id"]) for r in self.plays(user_id, limit)]


def _listener_name(name: str) -> str:
    clean = (name or "").strip()
    if not clean:
        raise LibraryError("a listener needs a name")
    if len(clean) > 64:
        raise LibraryError("a listener's name is at most 64 characters")
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or 0xD800 <= ord(ch) < 0xE000 for ch in clean):
        raise LibraryError("a listener's name cannot hold control characters")
    return clean


def _references(c: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    """(table, column) of every column that refers to ``table`` (tables of later migrations too)."""
    rows = c.execute(
        "SELECT m.name, f.\"from\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
        "WHERE m.type = 'table' AND f.\"table\" = ?", (table,)
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def _close_up_playlists(c: sqlite3.Connection, playlist_ids: list[int]) -> None:
    """Positions 0, 1, 2 … again in playlists whose entries were deleted."""
    from player.library.playlists import Playlists

    for pid in playlist_ids:
        entries = [r[0] for r in c.execute("SELECT id FROM playlist_entries WHERE playlist_id = ? ORDER BY position",
                                           (pid,))]
        Playlists._renumber(c, pid, entries, 0)
        c.execute("UPDATE playlists SET updated_at = ? WHERE id = ?", (now(), pid))


# -- how untagged songs are shown ----------------------------------------------------------------------
UNKNOWN_ARTIST = "Unknown artist"
UNKNOWN_ALBUM = "Unknown album"
# Folder names that say nothing about the album ("Album/CD1/01.flac", "game/music/track1.ogg"): the
# album is named after the folder above them.
_GENERIC_FOLDER = re.compile(r"^((cd|disc|disk)\s*\d+|music|audio|sound|sounds|songs|tracks|cdtracks|ogg|mp3|flac)$",
                             re.IGNORECASE)


def _value(track, name: str):
    if isinstance(track, Mapping):
        return track.get(name)
    if isinstance(track, sqlite3.Row):
        return track[name] if name in track.keys() else None
    return getattr(track, name, None)


def _path_of(track) -> str:
    path = _value(track, "path")
    return os.fsdecode(path) if path is not None else ""


def _album_folder(track) -> tuple[str, str]:
    """(the folder the album is named after, the folder above it) of a track's file."""
    folder = os.path.dirname(_path_of(track))
    name = os.path.basename(folder)
    if _GENERIC_FOLDER.match(name) and os.path.basename(os.path.dirname(folder)):
        folder = os.path.dirname(folder)
    return folder, os.path.dirname(folder)


def _clean(text) -> str | None:
    text = (str(text).strip() if text is not None else "")
    return text or None


def display_title(track) -> str:
    """The title, else the file name without its extension. ``track`` is a :class:`Track`, a row or a
    mapping with ``title`` and ``path``."""
    return _clean(_value(track, "title")) or Path(_path_of(track)).stem or "untitled"


def display_album(track) -> str:
    """The album tag, else the name of the folder the file is in (the one above a ``CD1``, ``music`` …
    folder): the untagged ``track1.ogg`` of two games' soundtracks are two albums, each named after its
    folder."""
    found = _clean(_value(track, "album"))
    if found:
        return found
    return os.path.basename(_album_folder(track)[0]) or UNKNOWN_ALBUM


def display_artist(track) -> str:
    """The artist tag, else the album artist, else the folder above the album's folder, else
    "Unknown artist"."""
    found = _clean(_value(track, "artist")) or _clean(_value(track, "albumartist"))
    if found:
        return found
    return os.path.basename(_album_folder(track)[1]) or UNKNOWN_ARTIST


def album_key(track) -> str:
    """What groups a track into an album: the album tag, case and spacing aside ("Nexuiz" and "nexuiz"
    are one album), with the album artist when there is one; for a track without an album tag, its
    album folder (two folders of the same name are two albums)."""
    album = _clean(_value(track, "album"))
    if album is None:
        return "folder:" + _album_folder(track)[0]
    artist = _clean(_value(track, "albumartist")) or ""
    return "album:" + " ".join(album.casefold().split()) + "\x1f" + " ".join(artist.casefold().split())


def album_names(tracks) -> dict[str, str]:
    """``album_key`` -> the album's name as shown: the most common spelling among its tracks (ties: the
    one first in sorted order)."""
    counts: dict[str, Counter] = {}
    for track in tracks:
        counts.setdefault(album_key(track), Counter())[display_album(track)] += 1
    return {key: min(c.items(), key=lambda item: (-item[1], item[0]))[0] for key, c in counts.items()}


__all__ = ["Library", "LibraryError", "Track", "User", "DatabaseError", "path_key", "display_path", "parse_id",
           "display_title", "display_album", "display_artist", "album_key", "album_names"]

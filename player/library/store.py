"""High-level library operations: tracks, listeners, ratings, plays.

No Qt, no global state: the GUI, the CLI and the workers each hold a :class:`Library`.
"""

from __future__ import annotations

import os
import sqlite3
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

    def track_count(self, status: str | None = None) -> int:
        if status:
            return int(self.db.query_one("SELECT COUNT(*) FROM tracks WHERE status = ?", (status,))[0])
        return int(self.db.query_one("SELECT COUNT(*) FROM tracks")[0])

    # -- users ---------------------------------------------------------------------------------
    def users(self) -> list[User]:
        return [User(r["id"], r["name"]) for r in self.db.query("SELECT id, name FROM users ORDER BY name")]

    def add_user(self, name: str) -> User:
        clean = (name or "").strip()
        if not clean:
            raise LibraryError("a listener needs a name")
        if len(clean) > 64:
            raise LibraryError("a listener's name is at most 64 characters")
        if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or 0xD800 <= ord(ch) < 0xE000 for ch in clean):
            raise LibraryError("a listener's name cannot hold control characters")
        try:
            with self.db.transaction() as c:
                cur = c.execute("INSERT INTO users(name, created_at) VALUES (?, ?)", (clean, now()))
                return User(int(cur.lastrowid), clean)
        except sqlite3.IntegrityError:
            raise LibraryError(f"a listener called {_quote(clean)} already exists") from None

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


__all__ = ["Library", "LibraryError", "Track", "User", "DatabaseError", "path_key", "display_path", "parse_id"]

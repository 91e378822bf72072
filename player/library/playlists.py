"""Playlists: saved lists of tracks in order, and smart playlists (a stored query, evaluated when read).

A saved playlist's entries reference track ids with a position (0, 1, 2 … without gaps; the same song
may appear more than once). Tracks are never deleted by the library, so an entry whose file went
missing stays listed (its track's status is ``missing``) and plays again when the file comes back.
A smart playlist stores a query (docs/playlists.md) and no entries: reading it evaluates the query, so
it follows the library, the ratings and the analysis.

Every write is one transaction (``library.db.transaction()``) and bumps :meth:`Playlists.version`, a
counter a window can poll to know that a sidebar or an open list must be refreshed (it also sees the
changes other processes make, since it lives in the database).

Positions are 0-based here (rows of a list model); the command line shows and takes them 1-based.

    pl = Playlists(library)
    road = pl.create("Road trip")
    pl.add(road.id, [12, 40, 12])            # appended; pl.add(..., position=0) inserts at the top
    pl.move(road.id, 2, 0); pl.remove(road.id, [1])
    pl.create("Piano", query="tag:piano>0.3 sort:-added")
    [e.track.title for e in pl.entries("piano", user_id=ann.id)]
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from player.errors import LibraryError
from player.library.db import now
from player.library.store import TRACK_COLUMNS, Track

VERSION_KEY = "playlists.version"
MAX_NAME = 200


class PlaylistError(LibraryError):
    """A playlist mistake in one line: unknown or duplicate name, bad position, editing a smart list."""


@dataclass(frozen=True)
class Playlist:
    id: int
    name: str
    query: str | None  # a smart playlist's query; None for a saved list
    count: int | None  # entries of a saved list (None for a smart list: evaluate it to count)
    duration: float  # seconds, over the entries whose length is known (0 for a smart list)
    missing: int  # entries whose file is missing or unreadable
    created_at: float
    updated_at: float

    @property
    def is_smart(self) -> bool:
        return self.query is not None

    def as_json(self) -> dict:
        return {"id": self.id, "name": self.name, "smart": self.is_smart, "query": self.query,
                "count": self.count, "duration": round(self.duration, 3), "missing": self.missing}


@dataclass(frozen=True)
class Entry:
    position: int  # 0-based
    entry_id: int | None  # the row of a saved list's entry (stable across moves); None in a smart list
    track: Track

    def as_json(self) -> dict:
        return {**self.track.as_json(), "position": self.position + 1, "entry_id": self.entry_id}


def _clean_name(name) -> str:
    text = " ".join(str(name if name is not None else "").split())
    if not text:
        raise PlaylistError("a playlist needs a name")
    if len(text) > MAX_NAME:
        raise PlaylistError(f"a playlist name is at most {MAX_NAME} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise PlaylistError("a playlist name cannot hold control characters")
    return text


def tracks_by_ids(library, track_ids) -> list[Track]:
    """The tracks of ``track_ids`` in that order (repeats kept; unknown ids left out)."""
    ids = [int(x) for x in track_ids]
    found: dict[int, Track] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 50_000):
        chunk = json.dumps(unique[start:start + 50_000])
        for row in library.db.query(
                f"SELECT {TRACK_COLUMNS} FROM tracks WHERE id IN (SELECT value FROM json_each(?))", (chunk,)):
            found[int(row["id"])] = Track.from_row(row)
    return [found[i] for i in ids if i in found]


class Playlists:
    """The playlists of one :class:`player.library.Library`. Cheap to create; holds no state."""

    def __init__(self, library):
        self.library = library
        self.db = library.db

    # -- reading ---------------------------------------------------------------------------------
    def version(self) -> int:
        """A counter that grows with every change to any playlist (poll it to refresh a view)."""
        return int(self.db.get_setting(VERSION_KEY, "0") or 0)

    def list(self) -> list[Playlist]:
        """Every playlist, by name (case-insensitive), with counts for the saved ones."""
        rows = self.db.query(
            "SELECT p.id, p.name, p.query, p.created_at, p.updated_at, COUNT(e.id) AS n, "
            "COALESCE(SUM(t.duration), 0) AS duration, COALESCE(SUM(t.status != 'ok'), 0) AS missing "
            "FROM playlists p LEFT JOIN playlist_entries e ON e.playlist_id = p.id "
            "LEFT JOIN tracks t ON t.id = e.track_id GROUP BY p.id ORDER BY p.name COLLATE NOCASE, p.id")
        return [self._playlist(r) for r in rows]

    @staticmethod
    def _playlist(r) -> Playlist:
        smart = r["query"] is not None
        return Playlist(int(r["id"]), r["name"], r["query"], None if smart else int(r["n"]),
                        0.0 if smart else float(r["duration"]), 0 if smart else int(r["missing"]),
                        float(r["created_at"]), float(r["updated_at"]))

    def get(self, ref) -> Playlist:
        """A playlist by id or by name (case-insensitive), or a :class:`PlaylistError`."""
        pid = self._id(ref)
        for p in self.list():
            if p.id == pid:
                return p
        raise PlaylistError(f"no playlist {ref!s}")  # pragma: no cover - _id checked it

    def find(self, name: str) -> Playlist | None:
        try:
            return self.get(name)
        except PlaylistError:
            return None

    def _id(self, ref) -> int:
        if isinstance(ref, Playlist):
            ref = ref.id
        if isinstance(ref, int):
            row = self.db.query_one("SELECT id FROM playlists WHERE id = ?", (ref,))
            if row is None:
                raise PlaylistError(f"no playlist with id {ref}")
            return int(row["id"])
        text = " ".join(str(ref or "").split())
        for row in self.db.query("SELECT id, name FROM playlists"):
            if row["name"].casefold() == text.casefold():
                return int(row["id"])
        names = [r["name"] for r in self.db.query("SELECT name FROM playlists ORDER BY name COLLATE NOCASE")]
        known = ", ".join(names[:10]) + (" …" if len(names) > 10 else "") if names else "none yet"
        raise PlaylistError(f"no playlist called {text!r} (playlists: {known})")

    def _row(self, pid: int):
        return self.db.query_one("SELECT id, name, query FROM playlists WHERE id = ?", (pid,))

    def track_ids(self, ref, *, user_id: int | None = None) -> list[int]:
        """The track ids in order (a smart playlist's query is evaluated now, for ``user_id``)."""
        pid = self._id(ref)
        row = self._row(pid)
        if row["query"] is not None:
            from player.library.smart import evaluate

            return evaluate(self.library, row["query"], user_id=user_id).track_ids
        return [int(r[0]) for r in self.db.query(
            "SELECT track_id FROM playlist_entries WHERE playlist_id = ? ORDER BY position", (pid,))]

    def entries(self, ref, *, user_id: int | None = None) -> list[Entry]:
        """The entries in order, each with its track row (missing files included)."""
        pid = self._id(ref)
        row = self._row(pid)
        if row["query"] is not None:
            tracks = tracks_by_ids(self.library, self.track_ids(pid, user_id=user_id))
            return [Entry(i, None, t) for i, t in enumerate(tracks)]
        rows = self.db.query(
            f"SELECT e.id AS entry_id, e.position AS position, {', '.join('t.' + c.strip() for c in TRACK_COLUMNS.split(','))} "
            "FROM playlist_entries e JOIN tracks t ON t.id = e.track_id WHERE e.playlist_id = ? ORDER BY e.position",
            (pid,))
        return [Entry(int(r["position"]), int(r["entry_id"]), Track.from_row(r)) for r in rows]

    # -- creating, naming, deleting ----------------------------------------------------------------
    def _check_free(self, c, name: str, except_id: int | None = None) -> None:
        for row in c.execute("SELECT id, name FROM playlists"):
            if row["name"].casefold() == name.casefold() and row["id"] != except_id:
                raise PlaylistError(f"a playlist called {row['name']!r} already exists")

    def _bump(self, c) -> None:
        c.execute(
            "INSERT INTO settings(key, value) VALUES (?, '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1", (VERSION_KEY,))

    def _check_query(self, query) -> str:
        from player.library.smart import check

        text = str(query).strip()
        if not text:
            raise PlaylistError("a smart playlist needs a query (e.g. 'stars>=4 sort:-added')")
        check(self.library, text)
        return text

    def create(self, name, *, query: str | None = None, track_ids=()) -> Playlist:
        """A new playlist: saved (optionally with ``track_ids``), or smart when ``query`` is given."""
        clean = _clean_name(name)
        q = None if query is None else self._check_query(query)
        if q is not None and track_ids:
            raise PlaylistError("a smart playlist takes its songs from its query, not a list of tracks")
        ids = self._check_tracks(track_ids)
        t = now()
        try:
            with self.db.transaction() as c:
                self._check_free(c, clean)
                cur = c.execute("INSERT INTO playlists(name, query, created_at, updated_at) VALUES (?, ?, ?, ?)",
                                (clean, q, t, t))
                pid = int(cur.lastrowid)
                self._insert(c, pid, 0, ids, t)
                self._bump(c)
        except sqlite3.IntegrityError:
            raise PlaylistError(f"a playlist called {clean!r} already exists") from None
        return self.get(pid)

    def rename(self, ref, new_name) -> Playlist:
        pid = self._id(ref)
        clean = _clean_name(new_name)
        with self.db.transaction() as c:
            self._check_free(c, clean, except_id=pid)
            c.execute("UPDATE playlists SET name = ?, updated_at = ? WHERE id = ?", (clean, now(), pid))
            self._bump(c)
        return self.get(pid)

    def set_query(self, ref, query: str) -> Playlist:
        """Change a smart playlist's query (checked first: a mistake changes nothing)."""
        pid = self._id(ref)
        if self._row(pid)["query"] is None:
            raise PlaylistError(f"{self._row(pid)['name']!r} is a saved playlist, not a smart one")
        q = self._check_query(query)
        with self.db.transaction() as c:
            c.execute("UPDATE playlists SET query = ?, updated_at = ? WHERE id = ?", (q, now(), pid))
            self._bump(c)
        return self.get(pid)

    def duplicate(self, ref, new_name=None) -> Playlist:
        """A copy with its entries (or its query): ``NAME copy``, ``NAME copy 2`` … unless named."""
        pid = self._id(ref)
        row = self._row(pid)
        if new_name is None:
            taken = {r["name"].casefold() for r in self.db.query("SELECT name FROM playlists")}
            base = f"{row['name']} copy"[:MAX_NAME]
            new_name, n = base, 2
            while new_name.casefold() in taken:
                new_name, n = f"{base} {n}", n + 1
        clean = _clean_name(new_name)
        t = now()
        with self.db.transaction() as c:
            self._check_free(c, clean)
            cur = c.execute("INSERT INTO playlists(name, query, created_at, updated_at) VALUES (?, ?, ?, ?)",
                            (clean, row["query"], t, t))
            new_id = int(cur.lastrowid)
            c.execute("INSERT INTO playlist_entries(playlist_id, position, track_id, added_at) "
                      "SELECT ?, position, track_id, added_at FROM playlist_entries WHERE playlist_id = ?",
                      (new_id, pid))
            self._bump(c)
        return self.get(new_id)

    def delete(self, ref) -> None:
        """Delete a playlist (its tracks stay in the library)."""
        pid = self._id(ref)
        with self.db.transaction() as c:
            c.execute("DELETE FROM playlist_entries WHERE playlist_id = ?", (pid,))
            c.execute("DELETE FROM playlists WHERE id = ?", (pid,))
            self._bump(c)

    # -- entries ---------------------------------------------------------------------------------
    def _check_tracks(self, track_ids) -> list[int]:
        ids = []
        for x in track_ids:
            try:
                ids.append(int(x))
            except (TypeError, ValueError):
                raise PlaylistError(f"a track id is a whole number, not {x!r}") from None
        if ids:
            unique = sorted(set(ids))
            known = {int(r[0]) for r in self.db.query(
                "SELECT id FROM tracks WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(unique),))}
            missing = [i for i in unique if i not in known]
            if missing:
                raise PlaylistError(f"no track with id {missing[0]} in the library"
                                    + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
        return ids

    def _editable(self, ref) -> tuple[int, int]:
        """(id, number of entries) of a saved playlist; a smart one cannot be edited by hand."""
        pid = self._id(ref)
        row = self._row(pid)
        if row["query"] is not None:
            raise PlaylistError(f"{row['name']!r} is a smart playlist: its songs come from its query "
                                f"({row['query']}); change the query instead")
        n = int(self.db.query_one("SELECT COUNT(*) FROM playlist_entries WHERE playlist_id = ?", (pid,))[0])
        return pid, n

    @staticmethod
    def _insert(c, pid: int, at: int, ids: list[int], t: float) -> None:
        if not ids:
            return
        k = len(ids)
        # shift the tail by k without ever holding two rows at one position (UNIQUE(playlist_id, position))
        c.execute("UPDATE playlist_entries SET position = -position - 1 - ? WHERE playlist_id = ? AND position >= ?",
                  (k, pid, at))
        c.execute("UPDATE playlist_entries SET position = -position - 1 WHERE playlist_id = ? AND position < 0",
                  (pid,))
        c.executemany("INSERT INTO playlist_entries(playlist_id, position, track_id, added_at) VALUES (?, ?, ?, ?)",
                      [(pid, at + i, tid, t) for i, tid in enumerate(ids)])

    @staticmethod
    def _renumber(c, pid: int, entry_ids: list[int], start: int) -> None:
        """Give ``entry_ids`` the positions start, start + 1 … (through negatives: no clash on the way)."""
        c.executemany("UPDATE playlist_entries SET position = ? WHERE id = ?",
                      [(-(start + i) - 1, eid) for i, eid in enumerate(entry_ids)])
        c.execute("UPDATE playlist_entries SET position = -position - 1 WHERE playlist_id = ? AND position < 0",
                  (pid,))

    def _touch(self, c, pid: int) -> None:
        c.execute("UPDATE playlists SET updated_at = ? WHERE id = ?", (now(), pid))
        self._bump(c)

    def add(self, ref, track_ids, *, position: int | None = None) -> list[int]:
        """Add tracks (appended, or inserted before ``position``); returns their positions."""
        pid, n = self._editable(ref)
        ids = self._check_tracks(track_ids)
        at = n if position is None else int(position)
        if not 0 <= at <= n:
            raise PlaylistError(f"position {at + 1} is outside the playlist (it has {n} songs; "
                                f"insert at 1 to {n + 1})")
        with self.db.transaction() as c:
            self._insert(c, pid, at, ids, now())
            self._touch(c, pid)
        return list(range(at, at + len(ids)))

    def replace(self, ref, track_ids) -> None:
        """Make the saved playlist exactly ``track_ids`` (e.g. re-importing its file)."""
        pid, _ = self._editable(ref)
        ids = self._check_tracks(track_ids)
        with self.db.transaction() as c:
            c.execute("DELETE FROM playlist_entries WHERE playlist_id = ?", (pid,))
            self._insert(c, pid, 0, ids, now())
            self._touch(c, pid)

    def _entry_ids(self, pid: int) -> list[int]:
        return [int(r[0]) for r in self.db.query(
            "SELECT id FROM playlist_entries WHERE playlist_id = ? ORDER BY position", (pid,))]

    def _check_positions(self, positions, n: int) -> list[int]:
        out = []
        for p in positions:
            try:
                p = int(p)
            except (TypeError, ValueError):
                raise PlaylistError(f"a position is a whole number, not {p!r}") from None
            if not 0 <= p < n:
                raise PlaylistError(f"there is no song at position {p + 1} (the playlist has {n})"
                                    if n else "the playlist is empty")
            out.append(p)
        return sorted(set(out))

    def remove(self, ref, positions) -> int:
        """Remove the entries at ``positions`` (0-based); the rest close up. Returns how many."""
        pid, n = self._editable(ref)
        gone = self._check_positions(positions, n)
        if not gone:
            return 0
        with self.db.transaction() as c:
            entry_ids = [int(r[0]) for r in c.execute(
                "SELECT id FROM playlist_entries WHERE playlist_id = ? ORDER BY position", (pid,))]
            drop = {entry_ids[p] for p in gone}
            c.executemany("DELETE FROM playlist_entries WHERE id = ?", [(e,) for e in drop])
            rest = [e for e in entry_ids[gone[0]:] if e not in drop]
            self._renumber(c, pid, rest, gone[0])
            self._touch(c, pid)
        return len(gone)

    def move(self, ref, from_position: int, to_position: int) -> None:
        """Move one entry so that it ends up at ``to_position`` (0-based)."""
        self.move_many(ref, [from_position], to_position)

    def move_many(self, ref, positions, to_position: int) -> None:
        """Move several entries (kept in their order) so that the first of them lands at ``to_position``
        of the resulting list (a drag and drop of a selection)."""
        pid, n = self._editable(ref)
        moving = self._check_positions(positions, n)
        to = int(to_position)
        if not 0 <= to <= n - len(moving):
            raise PlaylistError(f"position {to + 1} is outside the playlist (1 to {n - len(moving) + 1})")
        if not moving:
            return
        with self.db.transaction() as c:
            entry_ids = [int(r[0]) for r in c.execute(
                "SELECT id FROM playlist_entries WHERE playlist_id = ? ORDER BY position", (pid,))]
            picked = [entry_ids[p] for p in moving]
            rest = [e for i, e in enumerate(entry_ids) if i not in set(moving)]
            new = rest[:to] + picked + rest[to:]
            first = next((i for i, (a, b) in enumerate(zip(entry_ids, new)) if a != b), None)
            if first is None:
                return
            last = max(i for i, (a, b) in enumerate(zip(entry_ids, new)) if a != b)
            self._renumber(c, pid, new[first:last + 1], first)
            self._touch(c, pid)


__all__ = ["Playlists", "Playlist", "Entry", "PlaylistError", "tracks_by_ids"]

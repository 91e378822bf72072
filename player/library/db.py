"""The library database: one SQLite file, WAL mode, versioned migrations, one write helper.

Every write goes through :meth:`Database.transaction` (``BEGIN IMMEDIATE`` … ``COMMIT``), so a killed
process leaves either the whole batch or none of it. Each thread gets its own connection, so the
object can be shared with worker threads. Migrations are named and numbered; the schema version lives
in ``PRAGMA user_version`` (as beets' dbcore does with its own table).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


from player.errors import CorruptLibraryError, DatabaseError  # noqa: F401 - re-exported


# (name, SQL). Append only: never edit a migration that has shipped.
MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_initial",
        """
        CREATE TABLE tracks (
            id           INTEGER PRIMARY KEY,
            path_raw     BLOB NOT NULL UNIQUE,     -- os.fsencode(path): exact, also for non-UTF-8 names
            path         TEXT NOT NULL,            -- display form (undecodable bytes backslash-escaped)
            title        TEXT,
            artist       TEXT,
            album        TEXT,
            albumartist  TEXT,
            tracknumber  INTEGER,
            year         INTEGER,
            genre        TEXT,                     -- the genre tag in the file, not our analysis
            duration     REAL,
            samplerate   INTEGER,
            channels     INTEGER,
            format       TEXT,
            size         INTEGER,
            mtime        REAL,
            added_at     REAL NOT NULL,
            updated_at   REAL NOT NULL,
            status       TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'missing', 'error')),
            error        TEXT
        );
        CREATE INDEX tracks_status ON tracks(status);
        CREATE INDEX tracks_artist ON tracks(artist COLLATE NOCASE);
        CREATE INDEX tracks_album ON tracks(album COLLATE NOCASE);

        CREATE TABLE users (
            id          INTEGER PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
            created_at  REAL NOT NULL
        );

        CREATE TABLE ratings (
            user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            track_id  INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
            stars     INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
            rated_at  REAL NOT NULL,
            PRIMARY KEY (user_id, track_id)
        );
        CREATE INDEX ratings_track ON ratings(track_id);

        CREATE TABLE plays (
            id              INTEGER PRIMARY KEY,
            user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            track_id        INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
            started_at      REAL NOT NULL,
            seconds_played  REAL NOT NULL DEFAULT 0,
            skipped         INTEGER NOT NULL DEFAULT 0 CHECK (skipped IN (0, 1))
        );
        CREATE INDEX plays_user_time ON plays(user_id, started_at);
        CREATE INDEX plays_track ON plays(track_id);

        -- Filled by background analysis (player.analysis): one row per track and model set.
        CREATE TABLE analysis (
            track_id       INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
            model_version  TEXT NOT NULL,          -- e.g. "tagger@1+cnn_lstm@1"
            analysed_at    REAL NOT NULL,
            status         TEXT NOT NULL CHECK (status IN ('ok', 'error')),
            error          TEXT,
            n_excerpts     INTEGER,                -- excerpts/slices the labels were counted over
            tag_probs      BLOB,                   -- float32[n_tags], mean over excerpts
            genre_probs    BLOB,                   -- float32[n_genres], mean over slices
            embedding      BLOB                    -- float32[32], mean over slices
        );
        CREATE INDEX analysis_version ON analysis(model_version);

        -- The song's labels with counts (TF for the recommender's TF-IDF).
        CREATE TABLE track_labels (
            track_id     INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
            label        TEXT NOT NULL,
            count        INTEGER NOT NULL CHECK (count > 0),
            probability  REAL NOT NULL,
            PRIMARY KEY (track_id, label)
        );
        CREATE INDEX track_labels_label ON track_labels(label);

        CREATE TABLE settings (
            key    TEXT PRIMARY KEY,
            value  TEXT
        );
        """,
    ),
    (
        "0002_playlists",
        """
        -- Saved playlists (entries in order) and smart playlists (a stored query, evaluated when read).
        CREATE TABLE playlists (
            id          INTEGER PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
            query       TEXT,                      -- a smart playlist's query; NULL for a saved list
            created_at  REAL NOT NULL,
            updated_at  REAL NOT NULL
        );
        CREATE TABLE playlist_entries (
            id           INTEGER PRIMARY KEY,
            playlist_id  INTEGER NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
            position     INTEGER NOT NULL,         -- 0, 1, 2 … without gaps; the same track may repeat
            track_id     INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
            added_at     REAL NOT NULL,
            UNIQUE (playlist_id, position)
        );
        CREATE INDEX playlist_entries_track ON playlist_entries(track_id);
        -- the newest analysis time in O(log n): smart playlists reload their arrays when it changes
        CREATE INDEX analysis_analysed_at ON analysis(analysed_at);
        """,
    ),
]

SCHEMA_VERSION = len(MIGRATIONS)


def _explain(exc: BaseException, path: Path) -> str:
    text = str(exc)
    low = text.lower()
    if "disk is full" in low or "database or disk is full" in low:
        return f"the disk holding {path} is full: nothing was changed; free some space and try again"
    if "locked" in low or "busy" in low:
        return f"the library {path} is busy in another program; try again in a moment"
    if "not a database" in low or "malformed" in low:
        return f"{path} is not a readable library database ({text})"
    if "readonly" in low or "read-only" in low:
        return f"the library {path} is read-only"
    if "unable to open" in low:
        return f"cannot open the library {path}: its folder is missing or not writable"
    return f"library database error: {text}"


class Database:
    """A handle on the library file. Cheap to share across threads (one connection per thread)."""

    def __init__(self, path: str | os.PathLike, *, create: bool = True):
        self.path = Path(path)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise DatabaseError(f"no library at {self.path}")
        self.migrate()

    # -- connections -------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit (a rating, a scan batch) is on disk when the call returns.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(_explain(exc, self.path)) from exc
        with self._all_lock:
            self._all.append(conn)
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open()
        return conn

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- reading and writing -------------------------------------------------------------------
    def query(self, sql: str, params=()) -> list[sqlite3.Row]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise DatabaseError(_explain(exc, self.path)) from exc

    def query_one(self, sql: str, params=()) -> sqlite3.Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The one way to write: ``with db.transaction() as c: c.execute(...)``.

        Re-entrant within a thread (an inner block joins the outer transaction). On any exception the
        whole transaction is rolled back and a :class:`DatabaseError` in words is raised for SQLite
        failures (full disk, locked file).
        """
        conn = self.conn
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield conn
            finally:
                self._local.depth = depth
            return
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise DatabaseError(_explain(exc, self.path)) from exc
            self._local.depth = 1
            try:
                yield conn
            except BaseException as exc:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.OperationalError):
                    raise DatabaseError(_explain(exc, self.path)) from exc
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except sqlite3.OperationalError as exc:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                    raise DatabaseError(_explain(exc, self.path)) from exc
            finally:
                self._local.depth = 0

    # -- schema ------------------------------------------------------------------------------
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        try:
            current = self.schema_version()
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(_explain(exc, self.path)) from exc
        if current > SCHEMA_VERSION:
            raise DatabaseError(
                f"{self.path} was written by a newer version of the player (schema {current}, "
                f"this one knows {SCHEMA_VERSION}); upgrade the player"
            )
        for number, (name, sql) in enumerate(MIGRATIONS, start=1):
            if number <= current:
                continue
            with self.transaction() as conn:
                for statement in _split_sql(sql):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")

    def integrity_check(self) -> str:
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    # -- settings ----------------------------------------------------------------------------
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self.query_one("SELECT value FROM settings WHERE key = ?", (key,))
        return default if row is None else row["value"]

    def set_setting(self, key: str, value: str | None) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (``executescript`` would commit our transaction)."""
    statements, buf = [], []
    for line in script.splitlines():
        stripped = line.split("--", 1)[0].rstrip()
        if not stripped.strip():
            continue
        buf.append(stripped)
        if stripped.endswith(";"):
            statement = "\n".join(buf).strip()
            if sqlite3.complete_statement(statement):
                statements.append(statement)
                buf = []
    if buf:
        statements.append("\n".join(buf))
    return statements


def now() -> float:
    return time.time()

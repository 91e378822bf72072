"""The library database: one SQLite file, WAL mode, versioned migrations, one write helper.

Every write goes through :meth:`Database.transaction` (``BEGIN IMMEDIATE`` … ``COMMIT``), so a killed
process leaves either the whole batch or none of it. Each thread gets its own connection, so the
object can be shared with worker threads. Migrations are named and numbered; the schema version lives
in ``PRAGMA user_version`` (as beets' dbcore does with its own table); they run under one exclusive
lock, so processes opening a new library at once do not race. An existing library is backed up before
a migration and at most daily (``backups/`` next to the file). SQLite's errors become the player's in
one place, :func:`_explain`; a damaged file takes no writes.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


from player.errors import BusyError, CorruptLibraryError, DatabaseError, DiskFullError  # noqa: F401 - re-exported
from player.library.schema import MIGRATIONS, SCHEMA_VERSION  # noqa: F401 - re-exported

# SQLite's primary result codes (``exc.sqlite_errorcode & 0xff``) that the player explains.
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_NOMEM, _SQLITE_READONLY = 3, 5, 6, 7, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 10, 11, 13, 14, 26
_SQLITE_AUTH, _SQLITE_CONSTRAINT = 23, 19

KEEP_BACKUPS = 5  # automatic backups kept per library (the newest)
BACKUP_EVERY_S = 24 * 3600.0
# Above this size a first write checks the precious tables only (a full quick_check of a 130 MB library
# with 100,000 tracks and their analysis takes ~0.2 s warm; its tracks table alone ~0.05 s).
FULL_CHECK_BYTES = 16 * 1024 * 1024
CORE_TABLES = ("tracks", "users", "ratings", "plays", "settings")


def backups_dir(path: str | os.PathLike) -> Path:
    """Where a library's backups go: ``backups/`` next to the library file."""
    return Path(path).parent / "backups"


def damaged_advice(path: str | os.PathLike | None) -> str:
    where = backups_dir(path) if path else "backups/ next to the library file"
    return (
        "nothing more is written to it; 'python -m player db check' shows what is damaged, "
        "'python -m player db recover' rescues what is readable into a fresh library "
        f"(the automatic backups are in {where})"
    )


def _explain(exc: BaseException, path: str | os.PathLike | None) -> DatabaseError:
    """The one place that turns SQLite's errors into the player's, in words.

    Never shows SQLite's own text (it names internals: pages, b-trees, error codes); the result is a
    :class:`~player.errors.DatabaseError` of the fitting kind. Everything else calls this through
    :func:`translate_errors` or :meth:`Database` methods.
    """
    lib = f"the library {path}" if path else "the library"
    file = str(path) if path else "the library file"
    code = getattr(exc, "sqlite_errorcode", None)
    code = None if code is None else int(code) & 0xFF
    low = str(exc).lower()
    if code == _SQLITE_FULL or "disk is full" in low:
        return DiskFullError(
            f"the disk holding {file} is full: the last change was not saved (everything saved before it "
            "is kept); free some space and try again"
        )
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in low or "busy" in low:
        return BusyError(f"{lib} is busy in another program; try again in a moment")
    if code == _SQLITE_NOTADB or "not a database" in low:
        return CorruptLibraryError(
            f"{file} is not a readable library database: it is not an SQLite file, or its first page is "
            f"damaged; {damaged_advice(path)}"
        )
    if code == _SQLITE_CORRUPT or "malformed" in low:
        return CorruptLibraryError(f"{lib} is damaged (part of the file cannot be read): "
                                   f"{damaged_advice(path)}")
    if code == _SQLITE_READONLY or "readonly" in low or "read-only" in low:
        return DatabaseError(f"{lib} is read-only: nothing can be saved to it "
                             "(check the file's and its folder's permissions)")
    if code == _SQLITE_CANTOPEN or "unable to open" in low:
        return DatabaseError(f"cannot open {lib}: its folder is missing or not writable")
    if code in (_SQLITE_PERM, _SQLITE_AUTH):
        return DatabaseError(f"cannot use {lib}: permission denied")
    if code == _SQLITE_IOERR or "disk i/o" in low:
        return DatabaseError(f"{lib} could not be read or written (a disk or file-system "
                             "error); check the disk, then try again")
    if code == _SQLITE_NOMEM or "out of memory" in low:
        return DatabaseError(f"out of memory while using {lib}")
    if "no such table" in low or "no such column" in low or "has no column" in low:
        return DatabaseError(f"{lib} lacks part of the player's tables (was it written by "
                             "another program?); 'python -m player db check' tells more")
    if code == _SQLITE_CONSTRAINT or isinstance(exc, sqlite3.IntegrityError):
        return DatabaseError(f"{lib} refused a change that would break its rules; "
                             "nothing was changed")
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    return DatabaseError(f"{lib} could not be used (SQLite reports {name})")


@contextmanager
def translate_errors(path: str | os.PathLike, db: "Database | None" = None) -> Iterator[None]:
    """Turn any ``sqlite3.Error`` raised inside the block into the player's error in words.

    Used by :class:`Database` and by the CLI and the window as a last resort (code that reads
    ``db.conn`` directly). A damaged library seen here is remembered by ``db``: it takes no more writes.
    """
    try:
        yield
    except sqlite3.Error as exc:
        err = _explain(exc, db.path if db is not None else path)
        if db is not None and isinstance(err, CorruptLibraryError):
            db.damaged = str(err)
        raise err from exc


def _check_library_path(path: Path, create: bool) -> None:
    """Reasons, in words, why ``path`` cannot be a library file (before SQLite sees it)."""
    if path.is_dir():
        raise DatabaseError(f"{path} is a folder, not a library file (name a file in it, e.g. "
                            f"{path / 'library.db'})")
    if path.exists():
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise DatabaseError(f"cannot open the library {path}: {(exc.strerror or str(exc)).lower()}") from None
        if not stat.S_ISREG(mode):
            raise DatabaseError(f"{path} is not a regular file (a pipe, socket or device), so it cannot be "
                                "a library")
        return
    if not create:
        raise DatabaseError(f"no library at {path}")
    for parent in [path.parent, *path.parent.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise DatabaseError(f"cannot create the library {path}: {parent} is a file, not a folder")
            break
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise DatabaseError(f"cannot create the library's folder {path.parent}: {reason}") from None


class Database:
    """A handle on the library file. Cheap to share across threads (one connection per thread).

    ``damaged`` is None, or the message saying the file is damaged: once damage is seen (a read that
    fails, the check before the first write), every write is refused with that message.
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = True, backups: bool = True):
        self.path = Path(path)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self.damaged: str | None = None
        self._checked = False
        self.backup_problem: str | None = None  # why the last automatic backup failed, if it did
        _check_library_path(self.path, create)
        self.migrate()
        if backups:
            self._daily_backup()

    # -- connections -------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        with translate_errors(self.path, self):
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            try:
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA busy_timeout=30000")
                conn.execute("PRAGMA journal_mode=WAL")
                # FULL: a commit (a rating, a scan batch) is on disk when the call returns.
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute("PRAGMA foreign_keys=ON")
            except BaseException:
                conn.close()
                raise
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
        with translate_errors(self.path, self):
            return self.conn.execute(sql, params).fetchall()

    def tuples(self, sql: str, params=()) -> sqlite3.Cursor:
        """The rows as plain tuples, to iterate or ``fetchall()``: cheaper than ``sqlite3.Row`` for
        100,000 rows, and what numpy reads (``np.fromiter``)."""
        with translate_errors(self.path, self):
            cur = self.conn.cursor()
            cur.row_factory = None
            return cur.execute(sql, params)

    def query_one(self, sql: str, params=()) -> sqlite3.Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The one way to write: ``with db.transaction() as c: c.execute(...)``.

        Re-entrant within a thread (an inner block joins the outer transaction). On any exception the
        whole transaction is rolled back and a :class:`DatabaseError` in words is raised for SQLite
        failures (full disk, locked file, damage); ``sqlite3.IntegrityError`` is left to the caller.
        A damaged library takes no writes (:class:`CorruptLibraryError`).
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
        self._check_before_write()
        with self._write_lock:
            with translate_errors(self.path, self):
                conn.execute("BEGIN IMMEDIATE")
            self._local.depth = 1
            try:
                yield conn
            except BaseException as exc:
                _rollback(conn)
                if isinstance(exc, sqlite3.Error) and not isinstance(exc, sqlite3.IntegrityError):
                    with translate_errors(self.path, self):
                        raise
                raise
            else:
                try:
                    with translate_errors(self.path, self):
                        conn.execute("COMMIT")
                except BaseException:
                    _rollback(conn)
                    raise
            finally:
                self._local.depth = 0

    # -- damage --------------------------------------------------------------------------------
    def _check_before_write(self) -> None:
        if self.damaged:
            raise CorruptLibraryError(self.damaged)
        if self._checked:
            return
        with self._write_lock:
            if not self._checked:
                problems = self.quick_check(full=self.size() <= FULL_CHECK_BYTES)
                self._checked = True
                if problems:
                    self.damaged = str(_explain(sqlite3.DatabaseError("database disk image is malformed"),
                                                self.path))
        if self.damaged:
            raise CorruptLibraryError(self.damaged)

    def quick_check(self, full: bool = True) -> list[str]:
        """SQLite's quick check of the whole file (or of the precious tables): [] when sound, else
        SQLite's findings (for logs; not for people)."""
        conn = self.conn
        try:
            if full:
                rows = conn.execute("PRAGMA quick_check").fetchall()
            else:
                tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                rows = []
                for table in CORE_TABLES:
                    if table in tables:
                        rows += conn.execute(f"PRAGMA quick_check({table})").fetchall()
        except sqlite3.DatabaseError as exc:
            return [str(exc)]
        found = [str(r[0]) for r in rows if str(r[0]) != "ok"]
        if found:
            self._checked = True
        return found

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    # -- schema ------------------------------------------------------------------------------
    def schema_version(self) -> int:
        with translate_errors(self.path, self):
            return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Bring the file to :data:`SCHEMA_VERSION`: all missing migrations in one exclusive
        transaction, the version re-read inside it (two processes opening a new library at once: the
        second finds the work done). An existing library is backed up first."""
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise _newer(self.path, current)
        if current == SCHEMA_VERSION:
            return
        conn = self.conn
        with self._write_lock:
            with translate_errors(self.path, self):
                conn.execute("BEGIN EXCLUSIVE")
            try:
                with translate_errors(self.path, self):
                    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
                    if current > SCHEMA_VERSION:
                        raise _newer(self.path, current)
                    if current and current < SCHEMA_VERSION:
                        self._auto_backup(f"schema{current}")
                    for number, (_name, sql) in enumerate(MIGRATIONS, start=1):
                        if number <= current:
                            continue
                        for statement in _split_sql(sql):
                            conn.execute(statement)
                        conn.execute(f"PRAGMA user_version = {number}")
                    conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
        self._checked = True  # just written by us, and checked by the backup when it was not new

    def integrity_check(self) -> str:
        with translate_errors(self.path, self):
            return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    # -- backups -----------------------------------------------------------------------------
    def backup_to(self, dest: str | os.PathLike) -> Path:
        """A consistent copy of the library at ``dest``: see :func:`copy_database`."""
        with translate_errors(self.path, self):
            return copy_database(self.path, dest)

    def backups(self) -> list[Path]:
        """This library's backups in ``backups/``, oldest first."""
        return list_backups(self.path)

    def _auto_backup(self, reason: str) -> Path | None:
        """A backup in ``backups/`` (the newest :data:`KEEP_BACKUPS` automatic ones are kept). Never
        stops the player: a failure is remembered in ``backup_problem``."""
        folder = backups_dir(self.path)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            dest = new_backup_name(self.path, reason)
            self.backup_to(dest)
        except (OSError, DatabaseError) as exc:
            self.backup_problem = f"could not back up the library to {folder}: {exc.strerror or exc}" \
                if isinstance(exc, OSError) else str(exc)
            return None
        for old in [p for p in list_backups(self.path) if _is_automatic(p)][:-KEEP_BACKUPS]:
            try:
                old.unlink()
            except OSError:
                pass
        return dest

    def _daily_backup(self) -> None:
        """At most once a day, when the library holds something: a quick check, then a backup (a
        damaged file is not backed up over the good copies; it is marked damaged instead)."""
        newest = [p for p in list_backups(self.path) if _is_automatic(p)]
        if newest:
            try:
                if time.time() - newest[-1].stat().st_mtime < BACKUP_EVERY_S:
                    return
            except OSError:
                pass
        try:
            row = self.conn.execute(
                "SELECT EXISTS(SELECT 1 FROM tracks) OR EXISTS(SELECT 1 FROM users)").fetchone()
        except sqlite3.Error:
            row = (1,)  # unreadable: the check below tells
        if not row[0]:
            return
        if self.quick_check(full=True):
            self.damaged = str(_explain(sqlite3.DatabaseError("database disk image is malformed"), self.path))
            return
        self._checked = True
        self._auto_backup("daily")

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


def copy_database(source: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """A consistent copy of the last committed state of the SQLite file ``source`` at ``dest``
    (SQLite's online backup, through a connection of its own: other connections, even one in the
    middle of a transaction, go on). Written to a temporary name first and synced, so ``dest`` is never
    half a file. Raises ``sqlite3.Error`` / ``OSError``."""
    dest = Path(dest)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        src = sqlite3.connect(source, timeout=30.0)
        try:
            target = sqlite3.connect(tmp)
            try:
                src.backup(target)
            finally:
                target.close()
        finally:
            src.close()
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    return dest


_BACKUP_RE = r"-(\d{8}-\d{6})(?:-\d+)?-([a-z0-9]+)\.db"


def new_backup_name(path: str | os.PathLike, reason: str) -> Path:
    """``backups/<library>-YYYYmmdd-HHMMSS-<reason>.db`` (a counter when the second is taken)."""
    path = Path(path)
    folder = backups_dir(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest = folder / f"{path.stem}-{stamp}-{reason}.db"
    n = 1
    while dest.exists():
        n += 1
        dest = folder / f"{path.stem}-{stamp}-{n}-{reason}.db"
    return dest


def list_backups(path: str | os.PathLike) -> list[Path]:
    """The backups of the library at ``path`` (automatic, manual and set-aside damaged ones), oldest
    first."""
    import re

    path = Path(path)
    pattern = re.compile(re.escape(path.stem) + _BACKUP_RE)
    try:
        entries = list(os.scandir(backups_dir(path)))
    except OSError:
        return []
    found = [Path(e.path) for e in entries if pattern.fullmatch(e.name)]
    return sorted(found, key=lambda p: pattern.fullmatch(p.name).group(1) + p.name)


def _is_automatic(path: Path) -> bool:
    return not path.name.endswith(("-manual.db", "-damaged.db"))


def _newer(path: Path, version: int) -> DatabaseError:
    return DatabaseError(
        f"{path} was written by a newer version of the player (schema {version}, this one knows "
        f"{SCHEMA_VERSION}); upgrade the player"
    )


def _rollback(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("ROLLBACK")
    except sqlite3.Error:
        pass


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

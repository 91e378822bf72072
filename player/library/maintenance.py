"""Looking after the library file: check it, back it up, rescue what is readable from a damaged one.

``python -m player db check | backup [FILE] | recover [FILE]`` call these. None of them writes to the
library they look at: ``check`` and ``recover`` read a private copy of it (the file and its write-ahead
log), so a damaged file is never made worse.

Recovery builds a fresh library with the current schema and copies into it, table by table and row by
row in rowid order, what can still be read; when a read runs into damage it skips ahead to the next
readable row (probing forwards, then narrowing back, so that few readable rows are lost). Rows the new
library refuses (values that break its rules) are counted, as are ratings, plays and other rows whose
track could not be rescued.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from player.errors import CorruptLibraryError, DatabaseError
from player.library.db import (
    Database, _explain, backups_dir, copy_database, list_backups, new_backup_name,
)

SQLITE_MAGIC = b"SQLite format 3\x00"
MAX_ROWID = 2**63 - 1


@dataclass
class TableState:
    name: str
    rows: int | None  # rows that could be read (None: none could be counted)
    sound: bool


@dataclass
class CheckReport:
    path: Path
    sound: bool
    tables: list[TableState] = field(default_factory=list)
    problem: str | None = None  # the whole file: not SQLite, unreadable table of contents
    backups: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.problem:
            out = [self.problem]
        elif self.sound:
            out = [f"the library {self.path} is sound"]
        else:
            out = [f"the library {self.path} is damaged"]
        for t in self.tables:
            rows = "rows unknown" if t.rows is None else f"{_rows_text(t.rows)} readable"
            out.append(f"  {t.name}: {'sound' if t.sound else 'DAMAGED'} ({rows})")
        if not self.sound:
            out.append(f"rescue what is readable with 'python -m player db recover' ({len(self.backups)} "
                       f"backups in {backups_dir(self.path)})")
        return out


@dataclass
class TableRescue:
    name: str
    copied: int = 0
    refused: int = 0  # read, but the new library would not take them
    skipped_reads: int = 0  # times a read ran into damage and skipped ahead
    orphans: int = 0  # copied, then dropped because what they refer to was lost
    restored: int = 0  # rows lost to the damage that the newest sound backup still had


@dataclass
class RecoverReport:
    source: Path
    dest: Path
    tables: list[TableRescue] = field(default_factory=list)
    set_aside: Path | None = None  # where the damaged library went, when it was replaced
    backup_used: Path | None = None  # the backup that filled in rows lost to the damage

    @property
    def copied(self) -> int:
        return sum(t.copied for t in self.tables)

    @property
    def complete(self) -> bool:
        return not any(t.refused or t.skipped_reads or t.orphans for t in self.tables)

    def lines(self) -> list[str]:
        out = []
        for t in self.tables:
            extra = []
            if t.skipped_reads:
                extra.append(f"damage skipped {t.skipped_reads} time{'s' if t.skipped_reads != 1 else ''}")
            if t.refused:
                extra.append(f"{t.refused:,} unusable rows left out")
            if t.restored:
                extra.append(f"{_rows_text(t.restored)} restored from the backup")
            if t.orphans:
                extra.append(f"{_rows_text(t.orphans)} dropped: what they belong to was lost")
            out.append(f"  {t.name}: {_rows_text(t.copied)} recovered" + (f" ({'; '.join(extra)})" if extra else ""))
        if self.backup_used is not None:
            out.append(f"rows the damage took were filled in from the backup {self.backup_used}")
        return out


def _rows_text(n: int) -> str:
    return f"{n:,} row{'' if n == 1 else 's'}"


def _header_problem(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError as exc:
        return f"cannot read {path}: {(exc.strerror or str(exc)).lower()}"
    if not head:
        return f"{path} is empty: it holds no library"
    if not head.startswith(SQLITE_MAGIC):
        return f"{path} is not an SQLite file (its first bytes are not SQLite's): there is no library in it"
    return None


@contextmanager
def private_copy(path: str | os.PathLike) -> Iterator[sqlite3.Connection]:
    """A read-only connection on a private copy of the library: SQLite's online backup when it can
    (a consistent snapshot, even while another program writes), else the file and its write-ahead log
    copied as they are (a file too damaged for SQLite to open)."""
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="player-db-") as tmp:
        copy = Path(tmp) / "copy.db"
        try:
            copy_database(path, copy)
        except (sqlite3.Error, OSError):
            shutil.copyfile(path, copy)
            side = Path(str(path) + "-wal")
            if side.exists():
                shutil.copyfile(side, Path(str(copy) + "-wal"))
        conn = sqlite3.connect(copy, timeout=5.0)
        try:
            conn.execute("PRAGMA query_only = 1")
            yield conn
        finally:
            conn.close()


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]


def check(path: str | os.PathLike) -> CheckReport:
    """SQLite's checks, table by table, in words. Raises :class:`DatabaseError` only when there is no
    file to check."""
    path = Path(path)
    if not path.is_file():
        raise DatabaseError(f"no library at {path}")
    report = CheckReport(path=path, sound=True, backups=list_backups(path))
    problem = _header_problem(path)
    if problem:
        report.sound, report.problem = False, problem
        return report
    with private_copy(path) as conn:
        try:
            tables = _tables(conn)
        except sqlite3.DatabaseError:
            report.sound = False
            report.problem = f"the library {path} is damaged: its table of contents cannot be read"
            return report
        for name in tables:
            try:
                found = [r[0] for r in conn.execute(f'PRAGMA quick_check("{name}")')]
                sound = found == ["ok"]
            except sqlite3.DatabaseError:
                sound = False
            try:
                rows = int(conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0])
            except sqlite3.DatabaseError:
                rows, sound = None, False
            report.tables.append(TableState(name, rows, sound))
        try:
            whole = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
        except sqlite3.DatabaseError:
            whole = ["unreadable"]
        report.sound = all(t.sound for t in report.tables) and whole == ["ok"]
    return report


def backup(path: str | os.PathLike, dest: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """Copy the library to ``dest`` (default: ``backups/<name>-<time>-manual.db``, never rotated
    away); returns (where, whether the copy is sound). Refuses to overwrite a file."""
    path = Path(path)
    if not path.is_file():
        raise DatabaseError(f"no library at {path}")
    if dest is None:
        backups_dir(path).mkdir(parents=True, exist_ok=True)
        dest = new_backup_name(path, "manual")
    dest = Path(dest)
    _check_new_file(dest)
    problem = _header_problem(path)
    if problem:
        raise CorruptLibraryError(f"{problem}; nothing was copied")
    try:
        copy_database(path, dest)
    except sqlite3.Error as exc:
        raise _explain(exc, path) from None
    except OSError as exc:
        raise DatabaseError(f"cannot write the backup {dest}: {(exc.strerror or str(exc)).lower()}") from None
    try:
        conn = sqlite3.connect(dest)
        try:
            sound = [r[0] for r in conn.execute("PRAGMA quick_check")] == ["ok"]
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        sound = False
    return dest, sound


def _check_new_file(dest: Path) -> None:
    if dest.exists():
        raise DatabaseError(f"{dest} already exists: give a new file name (nothing was written)")
    if not dest.parent.is_dir():
        raise DatabaseError(f"cannot write {dest}: the folder {dest.parent} does not exist")


# -- recovery ----------------------------------------------------------------------------------------
def _readable_after(conn: sqlite3.Connection, table: str, after: int) -> int | None:
    """The first rowid past ``after`` whose row can be read again, skipping damage: probe forwards
    with doubling steps, then narrow back so as few readable rows as possible are skipped."""

    def first_from(low: int) -> int | None | bool:
        try:
            row = conn.execute(f'SELECT rowid, * FROM "{table}" WHERE rowid > ? ORDER BY rowid LIMIT 1',
                               (low,)).fetchone()
        except sqlite3.DatabaseError:
            return False  # damage in the way
        return None if row is None else int(row[0])

    bad, step = after, 1
    while True:
        low = min(MAX_ROWID - 1, after + step)
        found = first_from(low)
        if found is not False:
            break
        bad = low
        if low >= MAX_ROWID - 1:
            return None
        step *= 2
    if found is None and step == 1:
        return None
    good = low  # reading from rowid > good works; from > bad it does not
    while good - bad > 1:
        mid = (good + bad) // 2
        if first_from(mid) is False:
            bad = mid
        else:
            good = mid
    return first_from(good) or None


def _rows(conn: sqlite3.Connection, table: str, columns: list[str], rescue: TableRescue) -> Iterator[tuple]:
    """Every row of ``table`` that can be read, in rowid order, past any damage."""
    cols = ", ".join(f'"{c}"' for c in columns)
    after = -MAX_ROWID - 1
    while True:
        try:
            cur = conn.execute(f'SELECT rowid, {cols} FROM "{table}" WHERE rowid > ? ORDER BY rowid', (after,))
            for row in cur:
                after = int(row[0])
                yield tuple(row[1:])
            return
        except sqlite3.DatabaseError as exc:
            if "no such column: rowid" in str(exc).lower():  # a table without rowid: all or nothing
                try:
                    yield from (tuple(r) for r in conn.execute(f'SELECT {cols} FROM "{table}"').fetchall())
                except sqlite3.DatabaseError:
                    rescue.skipped_reads += 1
                return
            rescue.skipped_reads += 1
            nxt = _readable_after(conn, table, after)
            if nxt is None:
                return
            after = nxt - 1


def _fk_order(conn: sqlite3.Connection, tables: list[str]) -> list[str]:
    """Tables ordered so that a table comes after the tables it refers to."""
    deps = {t: {r[2] for r in conn.execute(f'PRAGMA foreign_key_list("{t}")')} - {t} for t in tables}
    order: list[str] = []
    while deps:
        ready = [t for t, d in deps.items() if not (d & set(deps))]
        if not ready:  # a cycle: keep the schema's order
            ready = list(deps)
        for t in ready:
            order.append(t)
            deps.pop(t)
    return order


def _newest_sound_backup(path: Path) -> Path | None:
    for candidate in reversed(list_backups(path)):
        if candidate.name.endswith("-damaged.db"):
            continue
        try:
            with private_copy(candidate) as conn:
                if [r[0] for r in conn.execute("PRAGMA quick_check")] == ["ok"]:
                    return candidate
        except (OSError, sqlite3.Error):
            continue
    return None


def _fill_from_backup(path: Path, out: sqlite3.Connection, damaged: list[TableRescue]) -> Path | None:
    """Rows of the damaged tables that the newest sound backup holds and the rescue lacks (rows added
    since that backup are what the rescue read; rows the damage took come back as they were then)."""
    source = _newest_sound_backup(path)
    if source is None:
        return None
    with private_copy(source) as conn:
        tables = set(_tables(conn))
        for rescue in damaged:
            if rescue.name not in tables:
                continue
            new_cols = [r[1] for r in out.execute(f'PRAGMA table_info("{rescue.name}")')]
            old_cols = {r[1] for r in conn.execute(f'PRAGMA table_info("{rescue.name}")')}
            cols = [c for c in new_cols if c in old_cols]
            names = ", ".join(f'"{c}"' for c in cols)
            out.execute("BEGIN")
            for row in conn.execute(f'SELECT {names} FROM "{rescue.name}"'):
                try:
                    cur = out.execute(f'INSERT OR IGNORE INTO "{rescue.name}" ({names}) '
                                      f'VALUES ({", ".join("?" * len(cols))})', tuple(row))
                    rescue.restored += max(0, cur.rowcount)
                except (sqlite3.IntegrityError, sqlite3.InterfaceError):
                    pass
            out.execute("COMMIT")
    return source


def recover(path: str | os.PathLike, dest: str | os.PathLike | None = None, *, replace: bool | None = None,
            progress=None) -> RecoverReport:
    """Copy what is readable of the library at ``path`` into a fresh library.

    With ``dest``: the new library is written there (a new file) and the old one is left as it is.
    Without: the new library takes the old one's place, and the damaged file (with its write-ahead
    log) is set aside in ``backups/`` as ``<name>-<time>-damaged.db``.
    """
    from player.library.leftovers import holders

    path = Path(path)
    if not path.is_file():
        raise DatabaseError(f"no library at {path}")
    replace = dest is None if replace is None else replace
    if dest is not None:
        dest = Path(dest)
        _check_new_file(dest)
    problem = _header_problem(path)
    if problem:
        raise CorruptLibraryError(f"{problem}; nothing can be recovered from it (the backups are in "
                                  f"{backups_dir(path)})")
    if replace:
        others = holders(path)
        if others:
            pid, cmd = others[0]
            raise DatabaseError(f"the library is open in another program (process {pid}: {cmd[:60]}); "
                                "close it, then recover")
    target = dest if dest is not None else path.with_name(f".{path.name}.recovering-{os.getpid()}.db")
    for leftover in (target, Path(str(target) + "-wal"), Path(str(target) + "-shm")):
        if dest is None and leftover.exists():
            leftover.unlink()
    report = RecoverReport(source=path, dest=path if replace else target)
    fresh = Database(target, backups=False)
    try:
        out = fresh.conn
        out.execute("PRAGMA foreign_keys = OFF")
        new_tables = _fk_order(out, _tables(out))
        with private_copy(path) as conn:
            try:
                old_tables = set(_tables(conn))
            except sqlite3.DatabaseError:
                old_tables = set(new_tables)  # the table of contents is damaged: try every name
            for table in new_tables:
                rescue = TableRescue(table)
                report.tables.append(rescue)
                if table not in old_tables:
                    continue
                new_cols = [r[1] for r in out.execute(f'PRAGMA table_info("{table}")')]
                try:
                    old_cols = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
                except sqlite3.DatabaseError:
                    old_cols = set(new_cols)
                cols = [c for c in new_cols if c in old_cols] or new_cols
                insert = (f'INSERT INTO "{table}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
                          f'VALUES ({", ".join("?" * len(cols))})')
                out.execute("BEGIN")
                try:
                    for row in _rows(conn, table, cols, rescue):
                        try:
                            out.execute(insert, row)
                            rescue.copied += 1
                        except (sqlite3.IntegrityError, sqlite3.InterfaceError, OverflowError, ValueError):
                            rescue.refused += 1
                        if progress and rescue.copied % 5000 == 0:
                            progress(table, rescue.copied)
                    out.execute("COMMIT")
                except BaseException:
                    out.execute("ROLLBACK")
                    raise
        damaged = [r for r in report.tables if r.skipped_reads]
        if damaged:
            report.backup_used = _fill_from_backup(path, out, damaged)
        # Rows whose track, listener or playlist was lost cannot stay.
        out.execute("BEGIN")
        for table in new_tables:
            for fk in out.execute(f'PRAGMA foreign_key_list("{table}")').fetchall():
                parent, column, parent_col = fk[2], fk[3], fk[4] or "rowid"
                cur = out.execute(
                    f'DELETE FROM "{table}" WHERE "{column}" IS NOT NULL AND "{column}" NOT IN '
                    f'(SELECT "{parent_col}" FROM "{parent}")')
                lost = cur.rowcount if cur.rowcount and cur.rowcount > 0 else 0
                for rescue in report.tables:
                    if rescue.name == table:
                        rescue.orphans += lost
                        rescue.copied -= lost
        out.execute("COMMIT")
        out.execute("PRAGMA foreign_keys = ON")
        if out.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise DatabaseError("the recovered library did not pass SQLite's check; nothing was replaced")
        out.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        fresh.close()
        raise _explain(exc, target) from None
    finally:
        fresh.close()
    if replace:
        backups_dir(path).mkdir(parents=True, exist_ok=True)
        aside = new_backup_name(path, "damaged")
        for suffix in ("-wal", "-shm"):
            side = Path(str(path) + suffix)
            if side.exists():
                os.replace(side, Path(str(aside) + suffix)) if suffix == "-wal" else side.unlink()
        os.replace(path, aside)
        os.replace(target, path)
        for suffix in ("-wal", "-shm"):
            side = Path(str(target) + suffix)
            if side.exists():
                side.unlink()
        report.set_aside = aside
    return report


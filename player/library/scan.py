"""Folder import: walk, probe, and write the library in batches.

- Recursive over one or more folders; follows symlinks but never loops (visited ``(dev, inode)``).
- One track per file: paths are canonical (symlinks resolved), so a folder scanned again through a
  link adds nothing. Tracks an older library holds under a linked path are merged into the track of
  the real path (or renamed to it when there is none): ratings keep the newer of the two, plays and
  playlist entries move over.
- Only regular files are imported (never a pipe, device or socket: opening one could block).
- Unchanged files (same size and mtime) are not re-read: a rescan of a large library is quick.
- Files that vanished under a scanned folder become ``missing`` (their ratings and plays stay); when
  they come back they are revived under the same id.
- Bad files are recorded with status ``error`` and a one-line reason; the import goes on. Every tag
  value is bounded by :mod:`.probe`, and each file is written in a savepoint of its own, so one file
  the library cannot store never rolls back the others.
- Writes are batched, one transaction per batch, so ``kill -9`` loses at most the batch in flight and
  a rerun completes the work. Inserts are upserts: two imports of one folder at once do not clash.
- ``progress(done, total, path)`` is called as files are processed; ``cancel()`` is polled.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable

from player.errors import DatabaseError, DiskFullError
from player.library.db import now
from player.library.probe import AUDIO_EXTENSIONS, Probe, probe
from player.library.store import Library, LibraryError, display_path

BATCH = 200


@dataclass
class ScanReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    revived: int = 0
    missing: int = 0
    merged: int = 0  # tracks of linked paths merged into (or renamed to) their real path
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason), new errors only
    notes: list[tuple[str, str]] = field(default_factory=list)  # (path, note): dropped/cut tags, mislabelled
    folder_errors: list[tuple[str, str]] = field(default_factory=list)  # unreadable folders
    notices: list[str] = field(default_factory=list)  # about earlier runs (player.library.leftovers)
    cancelled: bool = False
    seconds: float = 0.0

    @property
    def processed(self) -> int:
        return self.added + self.updated + self.unchanged + self.revived + len(self.failed)

    def summary(self) -> str:
        parts = [
            f"{self.added} added",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
            f"{self.missing} missing",
            f"{len(self.failed)} failed",
        ]
        if self.revived:
            parts.insert(2, f"{self.revived} back again")
        if self.merged:
            parts.append(f"{self.merged} duplicates through links merged")
        text = ", ".join(parts)
        if self.cancelled:
            text += " (cancelled before the end)"
        return text

    def _add(self, other: "ScanReport") -> None:
        for name in ("added", "updated", "revived"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failed += other.failed
        self.notes += other.notes


def walk_audio_files(roots: Iterable[str], errors: list[tuple[str, str]] | None = None) -> list[str]:
    """All audio files below ``roots``: canonical absolute paths (symlinks resolved), sorted, each file
    once, regular files only, no symlink loops."""
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[str] = set()
    out: list[str] = []
    errors = errors if errors is not None else []
    stack = [os.path.realpath(os.path.abspath(os.fspath(r))) for r in roots]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
        except OSError as exc:
            errors.append((folder, exc.strerror or str(exc)))
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            continue
        seen_dirs.add(key)
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            errors.append((folder, exc.strerror or str(exc)))
            continue
        subdirs = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=True):
                    subdirs.append(os.path.realpath(entry.path) if entry.is_symlink() else entry.path)
                    continue
                if os.path.splitext(entry.name)[1].lower() not in AUDIO_EXTENSIONS:
                    continue
                if not entry.is_file(follow_symlinks=True):  # a pipe, device or socket: never opened
                    continue
                path = os.path.realpath(entry.path) if entry.is_symlink() else entry.path
            except OSError:
                continue  # a dangling link or a vanished entry: nothing to import
            if path not in seen_files:
                seen_files.add(path)
                out.append(path)
        stack.extend(sorted(subdirs, reverse=True))
    out.sort()
    return out


def _under(path_raw: bytes, roots_raw: list[bytes]) -> bool:
    for root in roots_raw:
        if path_raw == root or path_raw.startswith(root.rstrip(b"/") + b"/"):
            return True
    return False


def _track_references(c: sqlite3.Connection) -> list[tuple[str, str]]:
    """(table, column) of every column that refers to ``tracks(id)`` (tables of later migrations too)."""
    rows = c.execute(
        "SELECT m.name, f.\"from\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
        "WHERE m.type = 'table' AND f.\"table\" = 'tracks'"
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def _merge_into(c: sqlite3.Connection, alias_id: int, target_id: int) -> None:
    """Fold the track ``alias_id`` (the same file under a linked path) into ``target_id``."""
    c.execute(
        "INSERT INTO ratings(user_id, track_id, stars, rated_at) "
        "SELECT user_id, ?, stars, rated_at FROM ratings WHERE track_id = ? AND 1 "
        "ON CONFLICT(user_id, track_id) DO UPDATE SET stars = excluded.stars, rated_at = excluded.rated_at "
        "WHERE excluded.rated_at > ratings.rated_at",
        (target_id, alias_id),
    )
    has_analysis = c.execute("SELECT 1 FROM analysis WHERE track_id = ?", (target_id,)).fetchone()
    for table, column in _track_references(c):
        if table == "ratings" or (has_analysis and table in ("analysis", "track_labels")):
            continue
        c.execute(f'UPDATE OR IGNORE "{table}" SET "{column}" = ? WHERE "{column}" = ?', (target_id, alias_id))
    c.execute("DELETE FROM tracks WHERE id = ?", (alias_id,))


def _merge_aliases(library: Library, known: dict, present: set[bytes], roots_raw: list[bytes]) -> int:
    """Tracks stored under a non-canonical path: renamed to the real path, or merged into its track."""
    dirs: dict[bytes, bytes] = {}
    aliases: list[tuple[bytes, bytes]] = []
    for raw in list(known):
        head, name = os.path.split(raw)
        real_dir = dirs.get(head)
        if real_dir is None:
            real_dir = dirs[head] = os.path.realpath(head)
        canon = os.path.join(real_dir, name)
        if canon == raw and raw not in present and _under(raw, roots_raw):
            canon = os.path.realpath(raw)  # a link to a file (rare: only for tracks not found as they are)
        if canon != raw:
            aliases.append((raw, canon))
    if not aliases:
        return 0
    with library.db.transaction() as c:
        for raw, canon in aliases:
            alias = known.pop(raw)
            target = known.get(canon)
            if target is None:
                c.execute("UPDATE tracks SET path_raw = ?, path = ? WHERE id = ?", (canon, display_path(canon), alias[0]))
                known[canon] = alias
            else:
                _merge_into(c, alias[0], target[0])
    return len(aliases)


_UPSERT = (
    "INSERT INTO tracks(path_raw, path, title, artist, album, albumartist, tracknumber, year, genre, duration, "
    "samplerate, channels, format, size, mtime, added_at, updated_at, status, error) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(path_raw) DO UPDATE SET title = excluded.title, artist = excluded.artist, "
    "album = excluded.album, albumartist = excluded.albumartist, tracknumber = excluded.tracknumber, "
    "year = excluded.year, genre = excluded.genre, duration = excluded.duration, "
    "samplerate = excluded.samplerate, channels = excluded.channels, format = excluded.format, "
    "size = excluded.size, mtime = excluded.mtime, updated_at = excluded.updated_at, "
    "status = excluded.status, error = excluded.error "
    "RETURNING id, added_at"
)
# What one file's row may fail with when a value cannot be stored; anything else stops the batch.
_ROW_ERRORS = (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.ProgrammingError, OverflowError,
               ValueError, TypeError)


def _write_track(c: sqlite3.Connection, p: Probe, t: float, old) -> tuple[int, bool]:
    """Insert or update one file's row; (id, inserted by us)."""
    raw = os.fsencode(p.path)
    tags = p.tags
    row = c.execute(_UPSERT, (
        raw, display_path(raw), tags.get("title"), tags.get("artist"), tags.get("album"), tags.get("albumartist"),
        tags.get("tracknumber"), tags.get("year"), tags.get("genre"), p.duration, p.samplerate, p.channels,
        p.format, p.size, p.mtime, t, t, "ok" if p.ok else "error", p.error,
    )).fetchone()
    track_id, inserted = int(row[0]), row[1] == t and old is None
    if old is not None:
        # A changed file: any old analysis no longer describes it.
        c.execute("DELETE FROM analysis WHERE track_id = ?", (track_id,))
        c.execute("DELETE FROM track_labels WHERE track_id = ?", (track_id,))
    return track_id, inserted


def scan(
    library: Library,
    folders: Iterable[str],
    *,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int = 4,
) -> ScanReport:
    """Import ``folders`` into ``library``. See the module docstring."""
    started = time.perf_counter()
    given = [os.path.abspath(os.fspath(f)) for f in folders]
    for folder in given:
        if not os.path.isdir(folder):
            raise LibraryError(f"{folder} is not a folder" if os.path.exists(folder) else f"no such folder: {folder}")
    folders = [os.path.realpath(f) for f in given]
    report = ScanReport()
    files = walk_audio_files(folders, report.folder_errors)
    total = len(files)
    db = library.db
    present = {os.fsencode(p) for p in files}
    roots_raw = sorted({os.fsencode(f) for f in folders + given})

    known = {
        bytes(r["path_raw"]): (r["id"], r["size"], r["mtime"], r["status"])
        for r in db.query("SELECT id, path_raw, size, mtime, status FROM tracks")
    }
    report.merged = _merge_aliases(library, known, present, roots_raw)

    # Decide what needs probing without touching the audio.
    to_probe: list[str] = []
    revive_only: list[int] = []
    for path in files:
        old = known.get(os.fsencode(path))
        if old is None:
            to_probe.append(path)
            continue
        try:
            st = os.stat(path)
        except OSError:
            to_probe.append(path)
            continue
        _id, size, mtime, status = old
        if size == st.st_size and mtime == st.st_mtime and status != "missing":
            report.unchanged += 1
        elif size == st.st_size and mtime == st.st_mtime and status == "missing":
            revive_only.append(_id)
        else:
            to_probe.append(path)

    done = report.unchanged
    saved = [0]
    if progress:
        progress(done, total, "")
    if revive_only:
        with db.transaction() as c:
            c.executemany(
                "UPDATE tracks SET status = CASE WHEN error IS NULL THEN 'ok' ELSE 'error' END, updated_at = ? WHERE id = ?",
                [(now(), i) for i in revive_only],
            )
        report.revived += len(revive_only)
        done += len(revive_only)

    def write_batch(batch: list[Probe]) -> None:
        t = now()
        part = ScanReport()
        with db.transaction() as c:
            for p in batch:
                old = known.get(os.fsencode(p.path))
                c.execute("SAVEPOINT one_file")
                try:
                    _track_id, inserted = _write_track(c, p, t, old)
                except _ROW_ERRORS:
                    c.execute("ROLLBACK TO one_file")
                    p = Probe(path=p.path, size=p.size, mtime=p.mtime,
                              error="the library could not store what this file's tags hold")
                    _track_id, inserted = _write_track(c, p, t, old)
                c.execute("RELEASE one_file")
                part.notes += [(p.path, note) for note in p.notes]
                if not p.ok:
                    part.failed.append((p.path, p.error or "unknown error"))
                elif inserted:
                    part.added += 1
                elif old is not None and old[3] == "missing":
                    part.revived += 1
                else:
                    part.updated += 1
        report._add(part)  # counted once it is on disk
        saved[0] += len(batch)

    def flush(batch: list[Probe]) -> None:
        try:
            write_batch(batch)
        except DiskFullError:
            raise DiskFullError(
                f"the disk holding {db.path} is full: this scan saved {saved[0]} files before it filled, the "
                f"last {len(batch)} were not saved; free some space and scan again to finish"
            ) from None
        except DatabaseError as exc:
            raise type(exc)(f"{exc} (this scan saved {saved[0]} files before it stopped; "
                            "scanning again finishes the work)") from None

    batch: list[Probe] = []
    workers = max(1, int(workers))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe") as pool:
        # Bounded look-ahead keeps memory flat and cancellation prompt.
        window = max(2 * workers, 16)
        pending = []
        it = iter(to_probe)
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                if cancel and cancel():
                    exhausted = True
                    report.cancelled = True
                    break
                try:
                    path = next(it)
                except StopIteration:
                    exhausted = True
                    break
                pending.append((path, pool.submit(probe, path)))
            if not pending:
                break
            path, future = pending.pop(0)
            try:
                result = future.result()
            except Exception:  # noqa: BLE001 - one file never stops the import
                result = Probe(path=path, error="could not be read: an unexpected problem in the file reader")
            batch.append(result)
            done += 1
            if progress:
                progress(done, total, result.path)
            if len(batch) >= BATCH:
                flush(batch)
                batch = []
        if batch:
            flush(batch)

    # Files under the scanned folders that are gone now: missing, never deleted.
    if not report.cancelled:
        gone = [
            track_id
            for raw, (track_id, _s, _m, status) in known.items()
            if status != "missing" and _under(raw, roots_raw) and raw not in present and not _exists(raw)
        ]
        if gone:
            with db.transaction() as c:
                c.executemany(
                    "UPDATE tracks SET status = 'missing', updated_at = ? WHERE id = ?", [(now(), i) for i in gone]
                )
        report.missing = len(gone)
    report.seconds = time.perf_counter() - started
    return report


def _exists(raw: bytes) -> bool:
    try:
        return stat.S_ISREG(os.stat(raw).st_mode)
    except OSError:
        return False

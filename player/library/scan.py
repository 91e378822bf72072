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
- Every format FFmpeg reads is imported (:data:`.probe.AUDIO_EXTENSIONS`), opened by its content. A
  file that stops before its header's length is imported with a warning on its track; only a file
  with no decodable audio is an error. Files still in error from an earlier scan (unchanged since)
  are counted as ``still_failing``, with their reasons, not as new failures.
- Covers: each file's cover (:mod:`.covers`) is found from the tags the probe reads anyway and saved
  with its row; tracks imported before covers were kept get theirs in a batched pass at the end.
- A file removed from the library (:meth:`.store.Library.remove_tracks`, table ``removed_files``) is
  left out of folder scans; :func:`import_files` (files named one by one: a dropped file, a playlist's
  songs) imports it again, with the ratings kept for it.
- ``progress(done, total, path)`` is called as files are processed; ``cancel()`` is polled.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
import functools
import itertools
import multiprocessing
from collections import deque
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Callable, Iterable

from player.errors import DatabaseError, DiskFullError
from player.library.covers import find_cover, save_cover, tracks_needing_covers
from player.library.db import now
from player.library.probe import AUDIO_EXTENSIONS, Probe, probe
from player.library.store import Library, LibraryError, _references, display_path, path_key

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
    still_failing: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): unchanged, still in error
    notes: list[tuple[str, str]] = field(default_factory=list)  # (path, note): dropped/cut tags, mislabelled
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, warning): imported, but stops early
    folder_errors: list[tuple[str, str]] = field(default_factory=list)  # unreadable folders
    notices: list[str] = field(default_factory=list)  # about earlier runs (player.library.leftovers)
    left_out: int = 0  # files removed from the library earlier: not imported again by a folder scan
    covers_filled: int = 0  # tracks from before covers were kept whose cover was looked for now
    track_ids: dict[str, int] = field(default_factory=dict)  # import_files: each path as given -> its track
    cancelled: bool = False
    seconds: float = 0.0

    @property
    def processed(self) -> int:
        return (self.added + self.updated + self.unchanged + self.revived + len(self.failed)
                + len(self.still_failing))

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
        if self.still_failing:
            parts.append(f"{len(self.still_failing)} still cannot be read")
        if self.warnings:
            n = len(self.warnings)
            parts.append(f"{n} stop{'s' if n == 1 else ''} early (imported with a warning)")
        if self.left_out:
            parts.append(f"{self.left_out} removed from the library earlier, left out")
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
        self.warnings += other.warnings


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
    for table, column in _references(c, "tracks"):
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
    "samplerate, channels, format, size, mtime, added_at, updated_at, status, error, warning) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(path_raw) DO UPDATE SET title = excluded.title, artist = excluded.artist, "
    "album = excluded.album, albumartist = excluded.albumartist, tracknumber = excluded.tracknumber, "
    "year = excluded.year, genre = excluded.genre, duration = excluded.duration, "
    "samplerate = excluded.samplerate, channels = excluded.channels, format = excluded.format, "
    "size = excluded.size, mtime = excluded.mtime, updated_at = excluded.updated_at, "
    "status = excluded.status, error = excluded.error, warning = excluded.warning "
    "RETURNING id, added_at"
)
# What one file's row may fail with when a value cannot be stored; anything else stops the batch.
_ROW_ERRORS = (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.ProgrammingError, OverflowError,
               ValueError, TypeError)


def _write_track(c: sqlite3.Connection, p: Probe, t: float, old) -> tuple[int, bool]:
    """Insert or update one file's row, and its cover when the probe looked for one; (id, inserted by us)."""
    raw = os.fsencode(p.path)
    tags = p.tags
    row = c.execute(_UPSERT, (
        raw, display_path(raw), tags.get("title"), tags.get("artist"), tags.get("album"), tags.get("albumartist"),
        tags.get("tracknumber"), tags.get("year"), tags.get("genre"), p.duration, p.samplerate, p.channels,
        p.format, p.size, p.mtime, t, t, "ok" if p.ok else "error", p.error, p.warning if p.ok else None,
    )).fetchone()
    track_id, inserted = int(row[0]), row[1] == t and old is None
    if old is not None:
        # A changed file: any old analysis no longer describes it.
        c.execute("DELETE FROM analysis WHERE track_id = ?", (track_id,))
        c.execute("DELETE FROM track_labels WHERE track_id = ?", (track_id,))
    if p.ok and p.looked_for_cover:
        save_cover(c, track_id, p.cover)
    return track_id, inserted


def _known_tracks(library: Library) -> dict[bytes, tuple]:
    """path_raw -> (id, size, mtime, status, error) of every track."""
    return {
        bytes(r["path_raw"]): (r["id"], r["size"], r["mtime"], r["status"], r["error"])
        for r in library.db.query("SELECT id, path_raw, size, mtime, status, error FROM tracks")
    }


class _Rows:
    """Writes probed files to the library in batches (one transaction each, a savepoint per file) and
    counts them into ``report`` once they are on disk. ``explicit``: files the user named one by one,
    imported even if they were removed from the library, with the ratings kept for them."""

    def __init__(self, library: Library, report: ScanReport, known: dict, *, explicit: bool = False):
        self.db, self.report, self.known, self.explicit = library.db, report, known, explicit
        self.batch: list[Probe] = []
        self.saved = 0
        self.ids: dict[str, int] = {}  # canonical path -> track id, of every row written

    def add(self, p: Probe) -> None:
        self.batch.append(p)
        if len(self.batch) >= BATCH:
            self.flush()

    def _write(self, c: sqlite3.Connection, p: Probe, t: float, part: ScanReport) -> None:
        raw = os.fsencode(p.path)
        old = self.known.get(raw)
        if self.explicit:
            c.execute("DELETE FROM removed_files WHERE path_raw = ?", (raw,))
        c.execute("SAVEPOINT one_file")
        try:
            track_id, inserted = _write_track(c, p, t, old)
        except _ROW_ERRORS:
            c.execute("ROLLBACK TO one_file")
            p = Probe(path=p.path, size=p.size, mtime=p.mtime,
                      error="the library could not store what this file's tags hold")
            track_id, inserted = _write_track(c, p, t, old)
        c.execute("RELEASE one_file")
        if self.explicit and inserted:  # ratings kept when it was removed from the library
            c.execute("INSERT INTO ratings(user_id, track_id, stars, rated_at) "
                      "SELECT user_id, ?, stars, rated_at FROM removed_ratings WHERE path_raw = ? AND 1 "
                      "ON CONFLICT(user_id, track_id) DO NOTHING", (track_id, raw))
            c.execute("DELETE FROM removed_ratings WHERE path_raw = ?", (raw,))
        self.ids[p.path] = track_id
        part.notes += [(p.path, note) for note in p.notes]
        if not p.ok:
            part.failed.append((p.path, p.error or "unknown error"))
            return
        if p.warning:
            part.warnings.append((p.path, p.warning))
        if inserted:
            part.added += 1
        elif old is not None and old[3] == "missing":
            part.revived += 1
        else:
            part.updated += 1

    def _write_batch(self, batch: list[Probe]) -> None:
        t = now()
        part = ScanReport()
        with self.db.transaction() as c:
            for p in batch:
                self._write(c, p, t, part)
        self.report._add(part)  # counted once it is on disk
        self.saved += len(batch)

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        try:
            self._write_batch(batch)
        except DiskFullError:
            raise DiskFullError(
                f"the disk holding {self.db.path} is full: this scan saved {self.saved} files before it filled, "
                f"the last {len(batch)} were not saved; free some space and scan again to finish"
            ) from None
        except DatabaseError as exc:
            raise type(exc)(f"{exc} (this scan saved {self.saved} files before it stopped; "
                            "scanning again finishes the work)") from None


PROCESS_MIN = 500  # files to probe: fewer go to threads (worker processes take about a second to start)
CHUNK = 16  # files per task for a worker process


def _probe_one(path: str, covers: bool) -> Probe:
    try:
        return probe(path) if covers else probe(path, covers=False)
    except Exception:  # noqa: BLE001 - one file never stops the import
        return Probe(path=path, error="could not be read: an unexpected problem in the file reader")


def _probe_files(paths: list[str], covers: bool) -> list[Probe]:
    return [_probe_one(path, covers) for path in paths]


def _find_covers(paths: list[str]) -> list:
    return [find_cover(path) for path in paths]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _process_pool(workers: int) -> ProcessPoolExecutor | None:
    n = min(workers, _cores())
    if n < 2 or multiprocessing.current_process().daemon:  # a daemonic process may not start any
        return None
    try:
        return ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"))
    except (OSError, ValueError, ImportError, NotImplementedError):
        return None


class _Workers:
    """Runs ``fn(list of items) -> list of results`` over items, in order, with a bounded look-ahead
    (memory stays flat, cancellation prompt). Big jobs go to worker processes, a chunk at a time: the
    decoders and mutagen hold the GIL, so threads add little on a machine with more cores. Should a
    worker process die (a decoder crashed), the rest of the job goes to threads."""

    def __init__(self, workers: int, files: int):
        self.workers = max(1, int(workers))
        self.threads = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="probe")
        self.procs = _process_pool(self.workers) if files >= PROCESS_MIN else None

    def __enter__(self) -> "_Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.threads.shutdown(wait=True, cancel_futures=True)
        if self.procs is not None:
            self.procs.shutdown(wait=True, cancel_futures=True)

    def _submit(self, fn, chunk: list):
        if self.procs is not None:
            try:
                return self.procs.submit(fn, chunk)
            except (BrokenProcessPool, RuntimeError, OSError):
                self._to_threads()
        return self.threads.submit(fn, chunk)

    def _to_threads(self) -> None:
        if self.procs is not None:
            self.procs.shutdown(wait=False, cancel_futures=True)
            self.procs = None

    def run(self, fn, items: Iterable, cancel=None, report: ScanReport | None = None) -> Iterable:
        size = CHUNK if self.procs is not None else 1
        window = max(2 * self.workers, 16) // size + 4
        pending: deque = deque()
        it = iter(items)
        exhausted = False
        while True:
            while not exhausted and len(pending) < window:
                if cancel and cancel():
                    exhausted = True
                    if report is not None:
                        report.cancelled = True
                    break
                chunk = list(itertools.islice(it, size))
                if not chunk:
                    exhausted = True
                    break
                pending.append((chunk, self._submit(fn, chunk)))
            if not pending:
                return
            chunk, future = pending.popleft()
            try:
                results = future.result()
            except BrokenProcessPool:
                self._to_threads()
                pending = deque((c, self.threads.submit(fn, c)) for c, _f in pending)
                results = fn(chunk)
            yield from results


def _sort_known(paths: Iterable[str], known: dict, report: ScanReport) -> tuple[list[str], list[int]]:
    """Which files need probing and which only come back (``missing`` before, unchanged since); the
    unchanged ones are counted in ``report`` (``still_failing`` when they are in error) without
    touching the audio."""
    to_probe: list[str] = []
    revive_only: list[int] = []
    for path in paths:
        old = known.get(os.fsencode(path))
        if old is None:
            to_probe.append(path)
            continue
        try:
            st = os.stat(path)
        except OSError:
            to_probe.append(path)
            continue
        _id, size, mtime, status, error = old
        if size != st.st_size or mtime != st.st_mtime:
            to_probe.append(path)
        elif status == "missing":
            revive_only.append(_id)
        elif status == "error":
            report.still_failing.append((path, error or "unknown error"))
        else:
            report.unchanged += 1
    return to_probe, revive_only


def _revive(library: Library, ids: list[int], report: ScanReport) -> None:
    if ids:
        with library.db.transaction() as c:
            c.executemany(
                "UPDATE tracks SET status = CASE WHEN error IS NULL THEN 'ok' ELSE 'error' END, updated_at = ? WHERE id = ?",
                [(now(), i) for i in ids],
            )
        report.revived += len(ids)


def _fill_in_covers(library: Library, pool: _Workers, roots_raw: list[bytes], cancel, report: ScanReport) -> None:
    """Covers for the tracks below ``roots_raw`` imported before covers were kept, a batch at a time."""
    needing = [(i, path) for i, path in tracks_needing_covers(library) if _under(os.fsencode(path), roots_raw)]
    for start in range(0, len(needing), BATCH):
        if cancel and cancel():
            report.cancelled = True
            return
        batch = needing[start:start + BATCH]
        found = list(pool.run(_find_covers, [path for _i, path in batch]))
        with library.db.transaction() as c:
            for (track_id, _path), ref in zip(batch, found):
                save_cover(c, track_id, ref)
        report.covers_filled += len(batch)


def _removed_paths(library: Library) -> set[bytes]:
    return {bytes(r[0]) for r in library.db.query("SELECT path_raw FROM removed_files")}


def scan(
    library: Library,
    folders: Iterable[str],
    *,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int = 4,
    covers: bool = True,
) -> ScanReport:
    """Import ``folders`` into ``library``. See the module docstring. ``covers=False`` neither finds
    nor fills in covers (a measurement's baseline)."""
    started = time.perf_counter()
    given = [os.path.abspath(os.fspath(f)) for f in folders]
    for folder in given:
        if not os.path.isdir(folder):
            raise LibraryError(f"{folder} is not a folder" if os.path.exists(folder) else f"no such folder: {folder}")
    folders = [os.path.realpath(f) for f in given]
    report = ScanReport()
    files = walk_audio_files(folders, report.folder_errors)
    removed = _removed_paths(library)
    if removed:
        kept = [f for f in files if os.fsencode(f) not in removed]
        report.left_out, files = len(files) - len(kept), kept
    total = len(files)
    present = {os.fsencode(p) for p in files}
    roots_raw = sorted({os.fsencode(f) for f in folders + given})

    known = _known_tracks(library)
    report.merged = _merge_aliases(library, known, present, roots_raw)

    # Decide what needs probing without touching the audio.
    to_probe, revive_only = _sort_known(files, known, report)
    done = report.unchanged + len(report.still_failing)
    if progress:
        progress(done, total, "")
    _revive(library, revive_only, report)
    done += len(revive_only)

    rows = _Rows(library, report, known)
    with _Workers(workers, len(to_probe)) as pool:
        for result in pool.run(functools.partial(_probe_files, covers=covers), to_probe, cancel, report):
            rows.add(result)
            done += 1
            if progress:
                progress(done, total, result.path)
        rows.flush()
        if covers and not report.cancelled:
            _fill_in_covers(library, pool, roots_raw, cancel, report)

    # Files under the scanned folders that are gone now: missing, never deleted.
    if not report.cancelled:
        gone = [
            old[0]
            for raw, old in known.items()
            if old[3] != "missing" and _under(raw, roots_raw) and raw not in present and raw not in removed
            and not _exists(raw)
        ]
        if gone:
            with library.db.transaction() as c:
                c.executemany(
                    "UPDATE tracks SET status = 'missing', updated_at = ? WHERE id = ?", [(now(), i) for i in gone]
                )
        report.missing = len(gone)
    report.seconds = time.perf_counter() - started
    return report


def import_files(
    library: Library,
    paths: Iterable[str | os.PathLike],
    progress: Callable[[int, int, str], None] | None = None,
    *,
    cancel: Callable[[], bool] | None = None,
    workers: int = 2,
    covers: bool = True,
) -> ScanReport:
    """Import files named one by one (dropped on the window, a playlist's songs), as a folder scan
    imports them: the same probe, rows, covers and counts. A file removed from the library earlier is
    imported again, with the ratings kept for it. Nothing is marked missing. A path that is not a file
    with a music extension is listed in ``failed`` and not written; a file that cannot be read is
    recorded in error as a scan records it. ``report.track_ids`` maps each path, as given, to its
    track; ``failed`` and ``still_failing`` name the paths as given too."""
    started = time.perf_counter()
    report = ScanReport()
    given: dict[str, str] = {}  # canonical -> the path as the caller gave it (first one)
    for path in paths:
        shown = os.fsdecode(os.fspath(path))
        problem = _not_importable(shown)
        if problem:
            report.failed.append((shown, problem))
            continue
        given.setdefault(os.fsdecode(path_key(shown)), shown)
    total = len(given)
    known = _known_tracks(library)
    to_probe, revive_only = _sort_known(list(given), known, report)
    report.still_failing = [(given[p], reason) for p, reason in report.still_failing]
    done = total - len(to_probe)
    if progress:
        progress(done, total, "")
    _revive(library, revive_only, report)
    rows = _Rows(library, report, known, explicit=True)
    with _Workers(workers, len(to_probe)) as pool:
        for result in pool.run(functools.partial(_probe_files, covers=covers), to_probe, cancel, report):
            rows.add(result)
            done += 1
            if progress:
                progress(done, total, given[result.path])
        rows.flush()
    report.failed = [(given.get(p, p), reason) for p, reason in report.failed]
    report.notes = [(given.get(p, p), note) for p, note in report.notes]
    report.warnings = [(given.get(p, p), w) for p, w in report.warnings]
    ids = dict(rows.ids)
    for canon in given:
        if canon not in ids and os.fsencode(canon) in known:
            ids[canon] = known[os.fsencode(canon)][0]
    report.track_ids = {given[canon]: track_id for canon, track_id in ids.items()}
    report.seconds = time.perf_counter() - started
    return report


def _not_importable(path: str) -> str | None:
    """Why a path named for import is not even tried (no such file, a folder, not a music file)."""
    ext = os.path.splitext(path)[1].lower()
    if os.path.isdir(path):
        return "a folder, not a song (import folders with a scan)"
    if not os.path.exists(path):
        return "no such file"
    if ext not in AUDIO_EXTENSIONS:
        return f"not a music file ({ext or 'no extension'})"
    return None


def _exists(raw: bytes) -> bool:
    try:
        return stat.S_ISREG(os.stat(raw).st_mode)
    except OSError:
        return False

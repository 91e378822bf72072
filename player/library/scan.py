"""Folder import: walk, probe, and write the library in batches.

- Recursive over one or more folders; follows symlinks but never loops (visited ``(dev, inode)``).
- Unchanged files (same size and mtime) are not re-read: a rescan of a large library is quick.
- Files that vanished under a scanned folder become ``missing`` (their ratings and plays stay); when
  they come back they are revived under the same id.
- Bad files are recorded with status ``error`` and a one-line reason; the import goes on.
- Writes are batched, one transaction per batch, so ``kill -9`` loses at most the batch in flight and
  a rerun completes the work.
- ``progress(done, total, path)`` is called as files are processed; ``cancel()`` is polled.
"""

from __future__ import annotations

import os
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable

from player.library.db import now
from player.library.probe import AUDIO_EXTENSIONS, Probe, probe
from player.library.store import Library, LibraryError, display_path, path_key

BATCH = 200


@dataclass
class ScanReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    revived: int = 0
    missing: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason), new errors only
    folder_errors: list[tuple[str, str]] = field(default_factory=list)  # unreadable folders
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
        text = ", ".join(parts)
        if self.cancelled:
            text += " (cancelled before the end)"
        return text


def walk_audio_files(roots: Iterable[str], errors: list[tuple[str, str]] | None = None) -> list[str]:
    """All audio files below ``roots`` (absolute paths, sorted, no duplicates, no symlink loops)."""
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[str] = set()
    out: list[str] = []
    errors = errors if errors is not None else []
    stack = [os.path.abspath(r) for r in roots]
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
                    subdirs.append(entry.path)
                    continue
                if os.path.splitext(entry.name)[1].lower() not in AUDIO_EXTENSIONS:
                    continue
                if not entry.is_file(follow_symlinks=True):
                    continue
            except OSError:
                continue  # a dangling link or a vanished entry: nothing to import
            if entry.path not in seen_files:
                seen_files.add(entry.path)
                out.append(entry.path)
        stack.extend(sorted(subdirs, reverse=True))
    out.sort()
    return out


def _under(path_raw: bytes, roots_raw: list[bytes]) -> bool:
    for root in roots_raw:
        if path_raw == root or path_raw.startswith(root.rstrip(b"/") + b"/"):
            return True
    return False


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
    folders = [os.path.abspath(os.fspath(f)) for f in folders]
    for folder in folders:
        if not os.path.isdir(folder):
            raise LibraryError(f"{folder} is not a folder" if os.path.exists(folder) else f"no such folder: {folder}")
    report = ScanReport()
    files = walk_audio_files(folders, report.folder_errors)
    total = len(files)
    db = library.db

    known = {
        bytes(r["path_raw"]): (r["id"], r["size"], r["mtime"], r["status"])
        for r in db.query("SELECT id, path_raw, size, mtime, status FROM tracks")
    }

    # Decide what needs probing without touching the audio.
    to_probe: list[str] = []
    revive_only: list[int] = []
    for path in files:
        raw = path_key(path)
        old = known.get(raw)
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
        with db.transaction() as c:
            for p in batch:
                raw = path_key(p.path)
                old = known.get(raw)
                tags = p.tags
                values = (
                    tags.get("title"), tags.get("artist"), tags.get("album"), tags.get("albumartist"),
                    tags.get("tracknumber"), tags.get("year"), tags.get("genre"),
                    p.duration, p.samplerate, p.channels, p.format, p.size, p.mtime,
                )
                status = "ok" if p.ok else "error"
                if old is None:
                    c.execute(
                        "INSERT INTO tracks(path_raw, path, title, artist, album, albumartist, tracknumber, year, "
                        "genre, duration, samplerate, channels, format, size, mtime, added_at, updated_at, status, error) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (raw, display_path(raw), *values, t, t, status, p.error),
                    )
                    report.added += p.ok
                else:
                    # A changed file: new tags, and any old analysis no longer describes it.
                    c.execute(
                        "UPDATE tracks SET title=?, artist=?, album=?, albumartist=?, tracknumber=?, year=?, genre=?, "
                        "duration=?, samplerate=?, channels=?, format=?, size=?, mtime=?, updated_at=?, status=?, error=? "
                        "WHERE id = ?",
                        (*values, t, status, p.error, old[0]),
                    )
                    c.execute("DELETE FROM analysis WHERE track_id = ?", (old[0],))
                    c.execute("DELETE FROM track_labels WHERE track_id = ?", (old[0],))
                    if p.ok:
                        if old[3] == "missing":
                            report.revived += 1
                        else:
                            report.updated += 1
                if not p.ok:
                    report.failed.append((p.path, p.error or "unknown error"))

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
                pending.append(pool.submit(probe, path))
            if not pending:
                break
            result = pending.pop(0).result()
            batch.append(result)
            done += 1
            if progress:
                progress(done, total, result.path)
            if len(batch) >= BATCH:
                write_batch(batch)
                batch = []
        if batch:
            write_batch(batch)

    # Files under the scanned folders that are gone now: missing, never deleted.
    if not report.cancelled:
        present = {path_key(p) for p in files}
        roots_raw = [os.fsencode(f) for f in folders]
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

"""Watched folders, the core side: which folders to rescan, and when (no Qt here).

- :class:`Debouncer` collects changed paths and lets them out after ``quiet`` seconds without a new
  change, or ``max_wait`` seconds after the first one when changes never stop (a long copy).
- :func:`rescan_folders` turns changed paths into the few folders to rescan: each path's nearest
  existing folder, only under the imported folders, nested ones folded into their parent (a scan is
  recursive, and it marks files that vanished under a scanned folder ``missing``).
- :func:`busy_folders`: folders holding an audio file written in the last ``quiet`` seconds (still
  being copied); the watcher waits for them instead of importing a half-written file.
- :func:`changed_folders`: the quick check at start for changes made while the player was closed,
  the library's stored size and mtime against the files (read-only; the scan does the writes).
- :func:`remember_folders` / :func:`imported_folders`: the folders the user imported, kept in the
  library's settings (older libraries: derived from where their tracks are).

The rescan itself is :func:`player.library.scan.scan` on the folders (in the window, through the
import child process).
"""

from __future__ import annotations

import json
import os
import time
from typing import Iterable

QUIET_S = 2.0
MAX_WAIT_S = 10.0
FOLDERS_KEY = "library.folders"


class Debouncer:
    """Changed paths in, batches out. Times are plain numbers (``time.monotonic()`` by default)."""

    def __init__(self, quiet: float = QUIET_S, max_wait: float = MAX_WAIT_S):
        self.quiet = float(quiet)
        self.max_wait = max(float(max_wait), self.quiet)
        self._paths: dict[str, None] = {}  # insertion-ordered set
        self._first: float | None = None
        self._last: float | None = None

    @property
    def pending(self) -> list[str]:
        return list(self._paths)

    def add(self, paths: Iterable[str], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        added = False
        for path in paths:
            self._paths[os.path.abspath(os.fspath(path))] = None
            added = True
        if not added:
            return
        if self._first is None:
            self._first = now
        self._last = now

    def deadline(self) -> float | None:
        """When :meth:`due` will next return something; ``None`` when nothing waits."""
        if self._first is None:
            return None
        return min(self._last + self.quiet, self._first + self.max_wait)

    def due(self, now: float | None = None) -> list[str]:
        """The waiting paths if it is time (and forget them), else ``[]``."""
        now = time.monotonic() if now is None else now
        deadline = self.deadline()
        if deadline is None or now < deadline:
            return []
        paths = list(self._paths)
        self._paths.clear()
        self._first = self._last = None
        return paths


def _norm(path: str | os.PathLike) -> str:
    return os.path.normpath(os.path.abspath(os.fspath(path)))


def is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def collapse(folders: Iterable[str]) -> list[str]:
    """Sorted, without duplicates and without folders inside another one of the list."""
    out: list[str] = []
    for folder in sorted({_norm(f) for f in folders}):
        if not out or not is_under(folder, out[-1]):
            out.append(folder)
    return out


def nearest_folder(path: str) -> str:
    """``path`` itself when it is a folder, else its nearest existing parent folder."""
    path = _norm(path)
    if os.path.isdir(path):
        return path
    parent = os.path.dirname(path)
    while parent and not os.path.isdir(parent):
        up = os.path.dirname(parent)
        if up == parent:
            break
        parent = up
    return parent


def rescan_folders(paths: Iterable[str], roots: Iterable[str]) -> list[str]:
    """The folders to rescan for changes at ``paths``, inside the imported ``roots`` only."""
    roots = collapse(roots)
    chosen = []
    for path in paths:
        path = _norm(path)
        root = next((r for r in roots if is_under(path, r)), None)
        if root is None:
            continue  # not in an imported folder
        folder = nearest_folder(path)
        if is_under(folder, root):
            chosen.append(folder)
        elif os.path.isdir(root):
            chosen.append(root)
        # else the imported folder itself is gone (an unplugged disk): nothing to scan
    return collapse(chosen)


def busy_folders(folders: Iterable[str], quiet: float = QUIET_S, now: float | None = None) -> list[str]:
    """Of ``folders`` (not recursive), those with an audio file modified less than ``quiet`` s ago."""
    from player.library.probe import AUDIO_EXTENSIONS

    now = time.time() if now is None else now
    busy = []
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if os.path.splitext(entry.name)[1].lower() not in AUDIO_EXTENSIONS:
                continue
            try:
                if now - entry.stat().st_mtime < quiet:
                    busy.append(_norm(folder))
                    break
            except OSError:
                continue
    return busy


def changed_folders(library, roots: Iterable[str]) -> list[str]:
    """Folders under ``roots`` whose audio changed since the library last saw them: new files, files
    whose size or mtime differ, files that are gone (not yet ``missing``), ``missing`` ones that are
    back. Reads the library and the disk only."""
    from player.library.scan import walk_audio_files
    from player.library.store import path_key

    roots = [r for r in collapse(roots) if os.path.isdir(r)]
    if not roots:
        return []
    roots_raw = [os.fsencode(r) for r in roots]
    known: dict[bytes, tuple] = {}
    for row in library.db.query("SELECT path_raw, size, mtime, status FROM tracks"):
        raw = bytes(row["path_raw"])
        if any(raw == r or raw.startswith(r.rstrip(b"/") + b"/") for r in roots_raw):
            known[raw] = (row["size"], row["mtime"], row["status"])
    changed: list[str] = []
    for path in walk_audio_files(roots):
        old = known.pop(path_key(path), None)
        if old is None:
            changed.append(os.path.dirname(path))
            continue
        size, mtime, status = old
        try:
            st = os.stat(path)
        except OSError:
            continue
        if status == "missing" or st.st_size != size or st.st_mtime != mtime:
            changed.append(os.path.dirname(path))
    for raw, (_size, _mtime, status) in known.items():  # in the library, not on disk any more
        if status != "missing":
            changed.append(nearest_folder(os.fsdecode(raw)))
    return collapse(f for f in changed if any(is_under(f, r) for r in roots))


def remember_folders(library, folders: Iterable[str]) -> list[str]:
    """Add ``folders`` to the library's imported folders (kept in its settings); returns them all."""
    merged = collapse([*_stored(library), *folders])
    library.db.set_setting(FOLDERS_KEY, json.dumps(merged))
    return merged


def forget_folder(library, folder: str) -> list[str]:
    """Stop watching ``folder`` (its tracks stay in the library)."""
    kept = [f for f in _stored(library) if f != _norm(folder)]
    library.db.set_setting(FOLDERS_KEY, json.dumps(kept))
    return kept


def _stored(library) -> list[str]:
    text = library.db.get_setting(FOLDERS_KEY)
    if not text:
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return [str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def imported_folders(library) -> list[str]:
    """The imported folders; for a library from before they were kept, where its tracks are."""
    stored = _stored(library)
    if stored or library.db.get_setting(FOLDERS_KEY) is not None:
        return collapse(stored)
    rows = library.db.query("SELECT path_raw FROM tracks")
    return collapse(os.path.dirname(os.fsdecode(bytes(r["path_raw"]))) for r in rows)

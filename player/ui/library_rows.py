"""The library table's data, without Qt: row snapshots, deltas, search, facets and sort orders.

The columns the table shows are read once, in a worker (:func:`load_rows`), into a :class:`Snapshot`
of plain tuples laid out as :class:`TrackRow` (the fields by position: ``ID``, ``TITLE`` …; the model
hands out a ``TrackRow``); later changes arrive as deltas (``updated_at >= stamp``), never as a full
reload. Listener stars and analysis labels are separate dictionaries, so a rating change updates one
cell and switching listener reloads one column. Search, browse facets and sorting
(:func:`compute_order`) run in a worker on the cached columns; tag facets are answered by SQL.

Snapshots are copy-on-write: worker jobs build new row lists and dictionaries and the GUI thread swaps
them in, so the two threads never mutate the same object (except the stars dictionary, which only the
GUI thread writes and workers only read with ``.get``).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple


class TrackRow(NamedTuple):
    """One library row as the table caches it (title, artist and album stay adjacent: the model's
    ``data()`` reads them by column number)."""

    id: int
    title: str
    artist: str
    album: str
    duration: float | None
    genre: str  # the file's genre tag
    status: str  # ok | missing | error
    error: str | None
    path: str
    trackno: int | None
    albumartist: str
    year: int | None
    text: str  # what search matches: title, artist, album, genre, album artist, case-folded


# Field positions, for the hot paths (``data()``, sorts) that index the tuple.
ID, TITLE, ARTIST, ALBUM, DURATION, GENRE, STATUS, ERROR, PATH, TRACKNO, ALBUMARTIST, YEAR, TEXT = range(13)

COLUMNS = [
    ("title", "Title"),
    ("artist", "Artist"),
    ("album", "Album"),
    ("duration", "Time"),
    ("stars", "Rating"),
    ("tags", "Top tags"),
    ("genre", "Genre"),
]
COL = {key: i for i, (key, _h) in enumerate(COLUMNS)}
STARS_COL = COL["stars"]
TAGS_COL = COL["tags"]
GENRE_COL = COL["genre"]

_SELECT = (
    "SELECT id, title, artist, album, duration, genre, status, error, path, tracknumber, albumartist, year, updated_at "
    "FROM tracks"
)
# The library order, sorted by SQLite (in C, without the interpreter lock) for the first load. It matches
# compute_order's default key: unknown (empty) values last, ASCII case folded like NOCASE, then code points.
_LIBRARY_ORDER = (
    " ORDER BY (COALESCE(NULLIF(albumartist, ''), artist, '') = ''), COALESCE(NULLIF(albumartist, ''), artist, '') COLLATE NOCASE,"
    " (COALESCE(album, '') = ''), COALESCE(album, '') COLLATE NOCASE, COALESCE(tracknumber, 0),"
    " (COALESCE(title, '') = ''), COALESCE(title, '') COLLATE NOCASE, id"
)
_DUR_CACHE: dict[int, str] = {}
_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


# Worker threads and the GUI thread share one interpreter lock, and the GUI thread takes it for every
# cell it paints; while a worker loops over 100,000 rows in Python, each of those takes waits for the
# worker to be made to let go (the switch interval, and on a busy machine the scheduler). The loops
# below therefore stop for a moment every BREATHE_EVERY rows, without the lock, so a repaint runs in
# one go.
BREATHE_EVERY = 2000
BREATHE_S = 0.0005


def breathe() -> None:
    """In a worker's long loop: a moment without the interpreter lock (not on the GUI thread)."""
    import threading
    import time

    if threading.current_thread() is not threading.main_thread():
        time.sleep(BREATHE_S)


def _chunks(n: int):
    """``range(0, n, BREATHE_EVERY)``, breathing between the chunks."""
    for start in range(0, n, BREATHE_EVERY):
        if start:
            breathe()
        yield start, min(n, start + BREATHE_EVERY)


def fmt_duration(seconds) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return ""
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


def album_fold(name: str) -> str:
    """An album name, case and spacing aside ("Nexuiz" and "nexuiz " are one album)."""
    return " ".join(name.casefold().split())


def merge_spellings(counts) -> dict[str, int]:
    """Album counts merged across spellings, each named by its most common one (ties: the first sorted)."""
    groups: dict[str, dict[str, int]] = {}
    for name, n in counts.items():
        groups.setdefault(album_fold(name), {})[name] = n
    return {min(g.items(), key=lambda kv: (-kv[1], kv[0]))[0]: sum(g.values()) for g in groups.values()}


#: the most characters of a tag the window hands to Qt: laying out a 1 MB title took about a second
#: per repaint (search still matches the whole text, kept case-folded in ``TrackRow.text``)
SHOWN_CHARS = 300


def shown(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` as the window shows it: at most ``limit`` characters, cut ones ending in an ellipsis."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _row_from_db(r, pool: dict) -> tuple:
    """A row as the snapshot keeps it: a plain tuple of strings and numbers, which the cycle collector
    stops tracking after its first pass (a ``TrackRow`` instance it would walk in every full collection:
    ~45 ms with the interpreter lock held at 100,000 rows). Artist, album and genre texts are shared
    through ``pool`` (one string per distinct value, not one per row)."""
    path = r[8]
    title = r[1] or Path(path).stem
    artist = r[2] or r[10] or ""
    album = r[3] or ""
    if not artist or not album:  # untagged: named after its folders, as everywhere else
        from player.library.store import display_album, display_artist

        named = {"title": r[1], "artist": r[2], "album": r[3], "albumartist": r[10], "path": path}
        artist = artist or display_artist(named)
        album = album or display_album(named)
    genre = r[5] or ""
    albumartist = r[10] or ""
    text = " ".join((title, artist, album, genre, albumartist)).casefold()
    if len(title) > SHOWN_CHARS or len(artist) > SHOWN_CHARS or len(album) > SHOWN_CHARS or len(genre) > SHOWN_CHARS:
        title, artist, album, genre = shown(title), shown(artist), shown(album), shown(genre)
        albumartist = shown(albumartist)
    share = pool.setdefault
    return (r[0], title, share(artist, artist), share(album, album), r[4], share(genre, genre), r[6], r[7], path,
            r[9], share(albumartist, albumartist), r[11], text)


def as_track_row(row: tuple | None) -> TrackRow | None:
    """A snapshot's row with its fields named."""
    return None if row is None else tuple.__new__(TrackRow, row)


@dataclass
class Snapshot:
    rows: list[tuple] = field(default_factory=list)  # laid out as TrackRow
    pos: dict[int, int] = field(default_factory=dict)  # track id -> index in rows
    stars: dict[int, int] = field(default_factory=dict)  # for `user_id`
    user_id: int | None = None
    tags: dict[int, str] = field(default_factory=dict)  # top labels as one line
    agenre: dict[int, str] = field(default_factory=dict)  # analysed genre
    stamp: float = 0.0  # newest tracks.updated_at seen
    label_stamp: float = 0.0  # newest analysis.analysed_at seen
    sql_ordered: bool = False  # rows are in the library order (as loaded by _LIBRARY_ORDER)
    ranks: dict = field(default_factory=dict)  # column -> rank per row (see column_rank); per snapshot

    def genre_of(self, row: tuple) -> str:
        return self.agenre.get(row[ID]) or row[GENRE]


@dataclass(frozen=True)
class OrderSpec:
    query: str = ""
    facet: tuple | None = None  # ("artist"|"album"|"genre"|"tag"|"status", value)
    sort_col: int = -1  # -1: library order (artist, album, track number)
    descending: bool = False


class DisplayRows:
    """Track id -> display row, without a Python dict of every row: the snapshot's ``pos`` (id -> row
    index) and one numpy array (row index -> display row, -1 when filtered out), made in C. A dict
    comprehension over 100,000 rows held the interpreter lock for ~150 ms of every sort and search."""

    __slots__ = ("_pos", "_inv")

    def __init__(self, pos: dict[int, int], idx: list[int], n: int):
        import numpy as np

        self._pos = pos
        inv = np.full(n, -1, dtype=np.int64)
        if idx:
            inv[np.asarray(idx, dtype=np.int64)] = np.arange(len(idx), dtype=np.int64)
        self._inv = inv

    def get(self, track_id, default=None):
        i = self._pos.get(track_id)
        if i is None or i >= len(self._inv):
            return default
        r = int(self._inv[i])
        return default if r < 0 else r


@dataclass
class Order:
    rows: list[int]  # indices into snapshot.rows, in display order
    vis: DisplayRows | dict  # track id -> display row (``.get``)
    spec: OrderSpec


# -- worker functions ----------------------------------------------------------------------------
def load_first_rows(library, n: int) -> Snapshot:
    """The first ``n`` rows in the library order (a screenful while the whole library loads)."""
    pool: dict = {}
    rows = [_row_from_db(r, pool) for r in library.db.tuples(_SELECT + _LIBRARY_ORDER + " LIMIT ?", (n,)).fetchall()]
    return Snapshot(rows=rows, pos={row[ID]: i for i, row in enumerate(rows)}, sql_ordered=True)


def load_rows(library, snap: Snapshot | None) -> Snapshot:
    """A new snapshot: everything (``snap`` None) or ``snap`` plus the tracks changed since its stamp."""
    if snap is None:
        db_rows = library.db.tuples(_SELECT + _LIBRARY_ORDER).fetchall()
        rows = []
        stamp = 0.0
        pool: dict = {}
        for a, b in _chunks(len(db_rows)):
            for r in db_rows[a:b]:
                rows.append(_row_from_db(r, pool))
                if r[12] > stamp:
                    stamp = r[12]
        pos = {}
        for a, b in _chunks(len(rows)):
            for i in range(a, b):
                pos[rows[i][ID]] = i
        return Snapshot(rows=rows, pos=pos, stamp=stamp, sql_ordered=True)
    db_rows = library.db.tuples(_SELECT + " WHERE updated_at >= ?", (snap.stamp,)).fetchall()
    if not db_rows:
        return snap
    rows = list(snap.rows)
    pos = dict(snap.pos)
    stamp = snap.stamp
    pool: dict = {}
    for r in db_rows:
        row = _row_from_db(r, pool)
        i = pos.get(row[ID])
        if i is None:
            pos[row[ID]] = len(rows)
            rows.append(row)
        else:
            rows[i] = row
        if r[12] > stamp:
            stamp = r[12]
    return replace(snap, rows=rows, pos=pos, stamp=stamp, sql_ordered=False, ranks={})


def load_stars(library, user_id: int | None) -> dict[int, int]:
    return {} if user_id is None else library.ratings(user_id)


def load_labels(library, snap: Snapshot, delta: bool) -> Snapshot:
    """``snap`` with the analysis labels: all of them, or (``delta``) those analysed since its stamp."""
    from player.analysis.store import read_library_labels

    since = snap.label_stamp if delta and snap.label_stamp else None
    found = read_library_labels(library, since)
    kept = {k: v for k, v in snap.ranks.items() if k not in (TAGS_COL, GENRE_COL)}
    stamp = max(found.stamp, snap.label_stamp)
    if since is None:
        return replace(snap, tags=found.tags, agenre=found.genres, label_stamp=stamp, ranks=kept)
    if not found.tags and not found.genres:
        return snap
    return replace(snap, tags={**snap.tags, **found.tags}, agenre={**snap.agenre, **found.genres}, label_stamp=stamp,
                   ranks=kept)


ANALYSIS_FAILED_SQL = ("SELECT a.track_id FROM analysis a JOIN tracks t ON t.id = a.track_id "
                       "WHERE a.status = 'error' AND t.status = 'ok'")


def analysis_failed_ids(library) -> frozenset[int]:
    """Playable tracks whose analysis failed: they need attention, they do not wait for analysis."""
    try:
        return frozenset(r[0] for r in library.db.query(ANALYSIS_FAILED_SQL))
    except Exception:  # noqa: BLE001 - a library without the analysis table yet
        return frozenset()


def facet_ids(library, facet: tuple | None) -> frozenset[int] | None:
    if facet and facet[0] in ("status", "unanalysed") and library is not None:
        return analysis_failed_ids(library)
    if not facet or facet[0] != "tag":
        return None
    return frozenset(r[0] for r in library.db.query("SELECT track_id FROM track_labels WHERE label = ?", (facet[1],)))


def _key_text(s: str):
    """Unknown last, then ASCII-case-insensitive (as SQLite's NOCASE), then by code point."""
    s = s or ""
    return (s == "", s.translate(_ASCII_FOLD))


def compute_order(snap: Snapshot, spec: OrderSpec, tag_ids: frozenset[int] | None = None, library=None) -> Order:
    rows = snap.rows
    if snap.sql_ordered and spec.sort_col < 0 and not spec.facet and not spec.query.strip():
        idx = list(range(len(rows)))  # already in the library order
        return Order(idx, DisplayRows(snap.pos, idx, len(rows)), spec)
    idx = range(len(rows))
    facet = spec.facet
    if facet:
        kind, value = facet
        if kind == "artist":
            idx = [i for i in idx if rows[i][ARTIST] == value]
        elif kind == "album":
            folded = album_fold(value)
            idx = [i for i in idx if album_fold(rows[i][ALBUM]) == folded]
        elif kind == "genre":
            idx = [i for i in idx if snap.genre_of(rows[i]) == value]
        elif kind == "tag":
            ids = tag_ids or frozenset()
            idx = [i for i in idx if rows[i][ID] in ids]
        elif kind == "status":
            failed = tag_ids or frozenset()
            idx = [i for i in idx if rows[i][STATUS] != "ok" or rows[i][ID] in failed]
        elif kind == "rated":
            stars = snap.stars
            idx = [i for i in idx if stars.get(rows[i][ID], 0) > 0]
        elif kind == "unanalysed":
            failed = tag_ids or frozenset()
            idx = [i for i in idx if rows[i][STATUS] == "ok" and rows[i][ID] not in snap.agenre
                   and rows[i][ID] not in snap.tags and rows[i][ID] not in failed]
    terms = spec.query.casefold().split()
    if terms:
        tags, agenre = snap.tags, snap.agenre
        out = []
        for k, i in enumerate(idx):
            if k % BREATHE_EVERY == BREATHE_EVERY - 1:
                breathe()
            row = rows[i]
            text = row[TEXT]
            tid = row[ID]
            extra = None
            for term in terms:
                if term in text:
                    continue
                if extra is None:
                    extra = (tags.get(tid, "") + " " + agenre.get(tid, "")).casefold()
                if term not in extra:
                    break
            else:
                out.append(i)
        idx = out
    idx = list(idx)

    col = spec.sort_col
    descending = spec.descending and col >= 0
    if col == STARS_COL:
        import numpy as np

        stars = snap.stars
        base = column_rank(snap, -1, library)
        a = np.asarray(idx, dtype=np.int64)
        given = np.fromiter((stars.get(rows[i][ID], 0) for i in idx), dtype=np.int64, count=len(idx))
        order = np.lexsort((base[a], -given))  # most stars first, then the library order
        idx = a[order[::-1] if descending else order].tolist()
    else:
        rank = column_rank(snap, col, library)
        if rank is not None:
            idx = order_by_rank(idx, rank, descending)
    return Order(idx, DisplayRows(snap.pos, idx, len(rows)), spec)


# Sorting without freezing the window: ``list.sort`` compares tuples of strings in C while holding the
# interpreter lock, so one sort of 100,000 rows would stop the GUI thread for 100+ ms. Sorting chunks
# and merging them in Python keeps each hold of the lock to a few milliseconds. Each column's sort order
# is computed once per snapshot as a rank per row; later sorts and filtered views sort small ints.
SORT_CHUNK = 8192


def sorted_bounded(items, key, reverse: bool = False) -> list:
    items = list(items)
    if len(items) <= SORT_CHUNK:
        return sorted(items, key=key, reverse=reverse)
    parts = []
    for k in range(0, len(items), SORT_CHUNK):
        if k:
            breathe()
        parts.append(sorted(items[k:k + SORT_CHUNK], key=key, reverse=reverse))
    return list(heapq.merge(*parts, key=key, reverse=reverse))


def order_by_rank(idx, rank, descending: bool = False) -> list[int]:
    """``idx`` sorted by ``rank[i]`` (distinct ints, a numpy array or a list): one numpy argsort, a few
    milliseconds in C for 100,000 rows, instead of a merge in Python that competes with painting for
    the interpreter lock. The ranks are distinct, so descending is the ascending order reversed."""
    import numpy as np

    a = np.asarray(idx, dtype=np.int64)
    order = np.argsort(np.asarray(rank, dtype=np.int64)[a], kind="stable")
    return a[order[::-1] if descending else order].tolist()


def _column_key(snap: Snapshot, col: int):
    rows = snap.rows
    if col == COL["title"]:
        return lambda i: (_key_text(rows[i][TITLE]), _key_text(rows[i][ARTIST]), rows[i][ID])
    if col == COL["artist"] or col < 0:
        return lambda i: (  # the same as _LIBRARY_ORDER
            _key_text(rows[i][ALBUMARTIST] or rows[i][ARTIST]), _key_text(rows[i][ALBUM]),
            rows[i][TRACKNO] or 0, _key_text(rows[i][TITLE]), rows[i][ID],
        )
    if col == COL["album"]:
        return lambda i: (_key_text(rows[i][ALBUM]), rows[i][TRACKNO] or 0, _key_text(rows[i][TITLE]), rows[i][ID])
    if col == COL["duration"]:
        return lambda i: (rows[i][DURATION] is None, rows[i][DURATION] or 0.0, rows[i][ID])
    if col == TAGS_COL:
        tags = snap.tags
        return lambda i: (_key_text(tags.get(rows[i][ID], "")), _key_text(rows[i][TITLE]), rows[i][ID])
    if col == GENRE_COL:
        return lambda i: (_key_text(snap.genre_of(rows[i])), _key_text(rows[i][ARTIST]), rows[i][ID])
    return None


# Columns SQLite can sort (in C, without the interpreter lock); the same keys as _column_key.
_SQL_ORDER = {
    -1: _LIBRARY_ORDER,
    COL["title"]: " ORDER BY (COALESCE(title, '') = ''), COALESCE(title, '') COLLATE NOCASE,"
                  " (COALESCE(artist, '') = ''), COALESCE(artist, '') COLLATE NOCASE, id",
    COL["album"]: " ORDER BY (COALESCE(album, '') = ''), COALESCE(album, '') COLLATE NOCASE, COALESCE(tracknumber, 0),"
                  " (COALESCE(title, '') = ''), COALESCE(title, '') COLLATE NOCASE, id",
    COL["duration"]: " ORDER BY (duration IS NULL), COALESCE(duration, 0.0), id",
}


def column_rank(snap: Snapshot, col: int, library=None):
    """rank[i]: where row ``i`` comes when sorting by ``col`` (-1: library order), as a numpy array
    (not a list of 100,000 ints for the collector to walk and for every sort to convert). Cached per
    snapshot; None for a column without an order."""
    import numpy as np

    if col < 0 or col == COL["artist"]:
        col = -1
    cached = snap.ranks.get(col)
    if cached is not None and len(cached) == len(snap.rows):
        return cached
    n = len(snap.rows)
    if col == -1 and snap.sql_ordered:
        rank = np.arange(n, dtype=np.int64)
    elif library is not None and col in _SQL_ORDER:
        pos = snap.pos
        rank = [n] * n  # rows the database no longer has (none, normally) go last
        k = 0
        ordered = library.db.tuples("SELECT id FROM tracks" + _SQL_ORDER[col]).fetchall()
        for a, b in _chunks(len(ordered)):
            for (tid,) in ordered[a:b]:
                i = pos.get(tid)
                if i is not None:
                    rank[i] = k
                    k += 1
        rank = np.asarray(rank, dtype=np.int64)
    elif col in (GENRE_COL, TAGS_COL):
        rows = snap.rows
        first: list = []
        second: list = []
        ids: list = []
        tags, agenre = snap.tags, snap.agenre
        for a, b in _chunks(len(rows)):
            part = rows[a:b]
            if col == GENRE_COL:
                first += [agenre.get(r[ID]) or r[GENRE] for r in part]
                second += [r[ARTIST] for r in part]
            else:
                first += [tags.get(r[ID], "") for r in part]
                second += [r[TITLE] for r in part]
            ids += [r[ID] for r in part]
        rank = text_rank([first, second], ids)
    else:
        key = _column_key(snap, col)
        if key is None:
            return None
        rank = np.empty(n, dtype=np.int64)
        rank[np.asarray(sorted_bounded(range(n), key=key), dtype=np.int64)] = np.arange(n, dtype=np.int64)
    snap.ranks[col] = rank
    return rank


def text_rank(columns: list[list], ids: list[int]):
    """The rank of each row (a numpy array) when sorting by the text ``columns`` (most significant
    first, each compared as :func:`_key_text` does), then by id -- the order ``sorted`` gives with
    ``_column_key``. Each column becomes small int codes (a sort of its distinct values only, in chunks:
    one ``sorted`` of 100,000 distinct titles compares in C for tens of milliseconds with the
    interpreter lock held), then one ``numpy.lexsort``."""
    import numpy as np

    n = len(ids)
    keys = [np.asarray(ids, dtype=np.int64)]
    for values in reversed(columns):  # lexsort: the last key is the primary one
        folded: list = []
        distinct: set = set()
        for a, b in _chunks(len(values)):
            part = [(v or "").translate(_ASCII_FOLD) for v in values[a:b]]
            folded += part
            distinct.update(part)
        code: dict = {}
        for k, v in enumerate(sorted_bounded(distinct, key=None)):
            code[v] = k
            if k % BREATHE_EVERY == BREATHE_EVERY - 1:
                breathe()
        codes: list = []
        for a, b in _chunks(n):
            codes += [code[v] for v in folded[a:b]]
        keys.append(np.asarray(codes, dtype=np.int64))
        keys.append(np.fromiter((v == "" for v in folded), dtype=bool, count=n))  # unknown last
    order = np.lexsort(keys)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return rank


# -- the columns the listener may add (header menu): read in a worker, only while one is shown ------
EXTRA_COLUMNS = [
    ("file", "File name"),
    ("folder", "Folder"),
    ("trackno", "Track"),
    ("year", "Year"),
    ("plays", "Plays"),
    ("last_played", "Last played"),
    ("added", "Date added"),
    ("format", "Format"),
    ("loudness", "Loudness"),
]
EXTRA_COL = {key: len(COLUMNS) + i for i, (key, _h) in enumerate(EXTRA_COLUMNS)}
ALL_COLUMNS = COLUMNS + EXTRA_COLUMNS


def _day(ts) -> str:
    import time as _time

    return _time.strftime("%Y-%m-%d", _time.localtime(ts)) if ts else ""


def _format(fmt, rate, channels, size, duration) -> str:
    parts = [str(fmt).upper()] if fmt else []
    if size and duration and duration > 0:
        parts.append(f"{size * 8 / duration / 1000:.0f} kb/s")
    if rate:
        parts.append(f"{rate / 1000:g} kHz")
    return " · ".join(parts)


def load_extras(library, user_id: int | None) -> dict[int, tuple]:
    """Worker: per track the added columns' texts, in :data:`EXTRA_COLUMNS` order (plays and last
    played are the listener's)."""
    import os

    plays: dict[int, tuple[int, float]] = {}
    if user_id is not None:
        for tid, n, last in library.db.query("SELECT track_id, COUNT(*), MAX(started_at) FROM plays WHERE user_id = ? "
                                             "GROUP BY track_id", (user_id,)):
            plays[int(tid)] = (int(n), last)
    loud: dict[int, float] = {}
    try:
        for tid, lufs in library.db.query("SELECT track_id, integrated FROM loudness WHERE status = 'ok'"):
            if lufs is not None:
                loud[int(tid)] = float(lufs)
    except Exception:  # noqa: BLE001 - a library from before loudness
        pass
    out: dict[int, tuple] = {}
    for r in library.db.query("SELECT id, path, tracknumber, year, added_at, format, samplerate, channels, size, "
                              "duration FROM tracks"):
        tid = int(r[0])
        n, last = plays.get(tid, (0, None))
        lufs = loud.get(tid)
        out[tid] = (os.path.basename(r[1]), os.path.dirname(r[1]), str(r[2]) if r[2] else "",
                    str(r[3]) if r[3] else "", str(n) if n else "", _day(last), _day(r[4]),
                    _format(r[5], r[6], r[7], r[8], r[9]), f"{lufs:.1f} LUFS" if lufs is not None else "")
    return out

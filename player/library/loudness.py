"""Loudness in the library: every track's EBU R128 measurement, its albums', and the gains they give.

    from player.library.loudness import gains_for_track, loudness_json, pending_loudness, measure_pending

    gains_for_track(library, 42)  # {"track_gain", "track_peak", "track_loudness", "album_gain", …}: the
                                  # form player.audio.player.Player(gain_lookup=…) wants; {} when unknown
    loudness_json(library, 42)    # {"loudness_lufs", "true_peak_dbtp", "track_gain_db", "album_gain_db"}
    pending_loudness(library)     # ids of playable tracks not measured (or measured as an older file)
    measure_pending(library)      # the pass: measure them (an analysis worker runs it after the models)

**What is stored** (tables ``loudness`` and ``album_loudness``, migration ``0005_loudness``). Per track:
the integrated loudness (LUFS) and true peak (dBTP) of the whole file
(:func:`player.audio.loudness.measure`: BS.1770-4, every format the reader opens), the power of each
400 ms block above the absolute gate (float32: 40 bytes per second of audio, about 10 KB for a
four-minute song; within 1e-6 LU of the float64 measurement), the ReplayGain values of the file's tags
(:func:`player.audio.loudness.replaygain_from_tags`), when it was measured, and the file's size and mtime
then: a track whose file has another size or mtime now is pending again, and its old values are not used.

**Albums.** Tracks belong to one album when their album tags match and so do their album artists (the
artist where a track has no album artist), both compared case-insensitively after trimming -- by tags
alone, wherever the files lie (discs in sub-folders are one album), the same rule as the player's album
mode (:func:`player.audio.gain.album_in_order`). A track without an album tag has no album loudness.
The album's loudness is BS.1770's gating over all its measured tracks' blocks together
(:func:`player.audio.loudness.album_loudness`: exactly what one measurement of the whole album would
give), its peak the loudest track's; it is recomputed whenever one of its tracks is measured.

**Which value wins.** ReplayGain tags in the file win over the measurement (the person who tagged the
file chose them); the measurement fills in what the tags lack. Gains computed from a measurement are
against ReplayGain 2.0's reference, -18 LUFS.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, NamedTuple

from player.library.db import now
from player.library.store import Library

#: Tracks measured per write transaction (about a second of work each).
BATCH = 4

_TAG_COLUMNS = ("tag_track_gain", "tag_track_peak", "tag_album_gain", "tag_album_peak")


def album_key(album, albumartist=None, artist=None) -> str | None:
    """The album a track belongs to: its album and album artist (else artist) tags, trimmed and
    case-folded; None without an album tag."""
    if not album or not str(album).strip():
        return None
    who = albumartist if albumartist and str(albumartist).strip() else artist
    return f"{str(who or '').strip().casefold()}\x1f{str(album).strip().casefold()}"


def track_unchanged(c, track_id: int, path, size, mtime) -> bool:
    """Whether the library still describes track ``track_id`` as this file (``path``, ``size``, ``mtime``)
    and it is playable: the check a result computed from the file passes before it is written."""
    row = c.execute("SELECT path_raw, size, mtime, status FROM tracks WHERE id = ?", (int(track_id),)).fetchone()
    return (row is not None and row[3] == "ok" and bytes(row[0]) == os.fsencode(path)
            and row[1] == size and row[2] == mtime)


def track_ids(library: Library, sql: str, params=(), *, limit: int | None = None,
              shard: tuple[int, int] | None = None) -> list[int]:
    """The ids ``sql`` (a ``SELECT t.id FROM tracks t … WHERE …``) selects, by id: a pass's work list.
    ``shard=(k, n)`` keeps only ids with ``id % n == k`` (n worker processes split the work)."""
    params = list(params)
    if shard is not None:
        sql += " AND t.id % ? = ?"
        params += [int(shard[1]), int(shard[0])]
    sql += " ORDER BY t.id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [int(r[0]) for r in library.db.query(sql, params)]


# ----------------------------------------------------------------------------------------- measuring

@dataclass
class Measurement:
    """One track's loudness as measured from the file ``path`` (``size``/``mtime`` as the library had
    them when it was read), or ``error`` with the reason."""

    track_id: int
    path: str
    size: int | None
    mtime: float | None
    album_key: str | None = None
    integrated: float | None = None  # LUFS
    true_peak: float | None = None  # dBTP
    blocks: bytes = b""  # float32 block powers
    tags: dict = field(default_factory=dict)  # ReplayGain from the tags
    error: str | None = None


def _finite(value) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def measure_track(track) -> Measurement:
    """Measure one library track (decodes the whole file). Never raises for a bad file: the reason is
    in ``error``."""
    import numpy as np

    from player.audio.errors import AudioError
    from player.audio.loudness import measure, replaygain_from_tags

    out = Measurement(track.id, track.path, track.size, track.mtime,
                      album_key(track.album, track.albumartist, track.artist))
    try:
        m = measure(track.path)
    except AudioError as exc:
        out.error = f"cannot decode: {exc}"
        return out
    except MemoryError:
        out.error = "not enough memory to decode this file"
        return out
    out.integrated, out.true_peak = _finite(m.integrated), _finite(m.true_peak_db)
    out.blocks = np.asarray(m.blocks, "<f4").tobytes()
    out.tags = replaygain_from_tags(track.path)
    return out


def save_loudness(library: Library, measurements: Iterable[Measurement]) -> list[int]:
    """Write measurements in one transaction, then their albums. A track whose file changed since it was
    read (another path, size or mtime in the library, or no longer playable) is not written: it stays
    pending. Returns the ids of those tracks."""
    t = now()
    stale: list[int] = []
    albums: set[str] = set()
    with library.db.transaction() as c:
        for m in measurements:
            if not track_unchanged(c, m.track_id, m.path, m.size, m.mtime):
                stale.append(int(m.track_id))
                continue
            old = c.execute("SELECT album_key FROM loudness WHERE track_id = ?", (m.track_id,)).fetchone()
            if old is not None and old[0] is not None:
                albums.add(old[0])
            c.execute(
                "INSERT OR REPLACE INTO loudness(track_id, measured_at, size, mtime, status, error, integrated, "
                "true_peak, blocks, album_key, tag_track_gain, tag_track_peak, tag_album_gain, tag_album_peak) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (int(m.track_id), t, m.size, m.mtime, "error" if m.error else "ok",
                 str(m.error)[:300] if m.error else None, m.integrated, m.true_peak,
                 None if m.error else m.blocks, m.album_key,
                 *(_finite(m.tags.get(k[4:])) for k in _TAG_COLUMNS)),
            )
            if m.album_key is not None:
                albums.add(m.album_key)
        for key in albums:
            _update_album(c, key, t)
    return stale


def _update_album(c, key: str, t: float) -> None:
    """Recompute one album's row from its tracks' stored blocks (inside a write transaction)."""
    import numpy as np

    from player.audio.loudness import album_loudness

    rows = c.execute("SELECT blocks, true_peak FROM loudness WHERE album_key = ? AND status = 'ok'",
                     (key,)).fetchall()
    if not rows:
        c.execute("DELETE FROM album_loudness WHERE album_key = ?", (key,))
        return
    blocks = [np.frombuffer(bytes(r[0] or b""), "<f4").astype(np.float64) for r in rows]
    peaks = [r[1] for r in rows if r[1] is not None]
    c.execute("INSERT OR REPLACE INTO album_loudness(album_key, integrated, true_peak, tracks, computed_at) "
              "VALUES (?, ?, ?, ?, ?)",
              (key, _finite(album_loudness(blocks)), max(peaks) if peaks else None, len(rows), t))


def refresh_albums(library: Library) -> int:
    """Recompute the albums whose measured tracks are not those they were computed from (a track removed
    from the library since); returns how many."""
    rows = library.db.query(
        "SELECT k.album_key FROM (SELECT album_key, COUNT(*) AS n FROM loudness "
        " WHERE status = 'ok' AND album_key IS NOT NULL GROUP BY album_key) k "
        "LEFT JOIN album_loudness a ON a.album_key = k.album_key WHERE a.tracks IS NOT k.n "
        "UNION SELECT a.album_key FROM album_loudness a WHERE NOT EXISTS "
        " (SELECT 1 FROM loudness l WHERE l.album_key = a.album_key AND l.status = 'ok')")
    if not rows:
        return 0
    t = now()
    with library.db.transaction() as c:
        for r in rows:
            _update_album(c, r[0], t)
    return len(rows)


class LoudnessSaved(NamedTuple):
    """A batch of measurements committed: how many, and the failures as (track id, reason)."""

    measured: int
    failures: list


def pending_loudness(library: Library, *, limit: int | None = None,
                     shard: tuple[int, int] | None = None) -> list[int]:
    """Playable tracks without a measurement of their current file (none yet, or one of a file with
    another size or mtime), by id. ``shard=(k, n)``: only ids with ``id % n == k``."""
    return track_ids(library, "SELECT t.id FROM tracks t LEFT JOIN loudness l ON l.track_id = t.id "
                     "WHERE t.status = 'ok' AND (l.track_id IS NULL OR l.size IS NOT t.size OR l.mtime IS NOT t.mtime)",
                     limit=limit, shard=shard)


def measure_pending(library: Library, *, shard: tuple[int, int] | None = None,
                    report: Callable[[LoudnessSaved], None] = lambda saved: None,
                    cancelled: Callable[[], bool] = lambda: False, paused: Callable[[], bool] = lambda: False,
                    batch: int = BATCH) -> None:
    """The loudness pass: measure the pending tracks (of ``shard``), ``batch`` per transaction, until none
    is left or ``cancelled()``. A track whose file changes meanwhile is taken again (once)."""
    refresh_albums(library)
    attempted: set[int] = set()
    retried: set[int] = set()
    while not cancelled():
        if paused():
            time.sleep(0.1)
            continue
        ids = [i for i in pending_loudness(library, limit=batch + len(attempted), shard=shard)
               if i not in attempted][:batch]
        if not ids:
            break
        attempted.update(ids)
        done = []
        for track_id in ids:
            if cancelled():
                return  # what is measured but not written is measured again next time
            track = library.track(track_id)
            if track is not None:
                done.append(measure_track(track))
        stale = set(save_loudness(library, done))
        for track_id in stale - retried:
            retried.add(track_id)
            attempted.discard(track_id)
        report(LoudnessSaved(sum(m.error is None and m.track_id not in stale for m in done),
                             [(m.track_id, m.error) for m in done if m.error and m.track_id not in stale]))


# ------------------------------------------------------------------------------------------- reading

def _row(library: Library, track_id: int):
    """The track's current measurement joined with its album's, or None (none, or of an older file)."""
    return library.db.query_one(
        "SELECT l.status, l.integrated, l.true_peak, l.tag_track_gain, l.tag_track_peak, l.tag_album_gain, "
        "l.tag_album_peak, a.integrated AS album_integrated, a.true_peak AS album_peak "
        "FROM loudness l JOIN tracks t ON t.id = l.track_id LEFT JOIN album_loudness a ON a.album_key = l.album_key "
        "WHERE l.track_id = ? AND l.size IS t.size AND l.mtime IS t.mtime", (int(track_id),))


def _linear(db) -> float | None:
    return 10.0 ** (db / 20.0) if db is not None else None


def gains_for_track(library: Library, track_id: int) -> dict:
    """What the player's ``gain_lookup`` wants for a track: ``track_gain``/``album_gain`` (dB, from the
    tags), ``track_loudness``/``album_loudness`` (LUFS, measured), ``track_peak``/``album_peak`` (linear:
    the tags', else the measured true peak). Only the values known are present; {} when the track has no
    measurement of its current file (the player then reads the file's tags itself)."""
    r = _row(library, track_id)
    if r is None:
        return {}
    values = {
        "track_gain": r["tag_track_gain"], "album_gain": r["tag_album_gain"],
        "track_loudness": r["integrated"], "album_loudness": r["album_integrated"],
        "track_peak": r["tag_track_peak"] if r["tag_track_peak"] is not None else _linear(r["true_peak"]),
        "album_peak": r["tag_album_peak"] if r["tag_album_peak"] is not None else _linear(r["album_peak"]),
    }
    return {k: float(v) for k, v in values.items() if v is not None}


def _gain(tagged, loudness) -> float | None:
    from player.audio.loudness import REFERENCE_LUFS

    if tagged is not None:
        return round(float(tagged), 2)
    return round(REFERENCE_LUFS - loudness, 2) if loudness is not None else None


def loudness_json(library: Library, track_id: int) -> dict:
    """The loudness fields of ``tracks --json``: ``loudness_lufs`` and ``true_peak_dbtp`` (measured),
    ``track_gain_db`` and ``album_gain_db`` (the tags', else computed against -18 LUFS); None when
    unknown (not measured yet, silent, no album)."""
    r = _row(library, track_id)
    if r is None:
        return {"loudness_lufs": None, "true_peak_dbtp": None, "track_gain_db": None, "album_gain_db": None}
    lufs, peak = r["integrated"], r["true_peak"]
    return {
        "loudness_lufs": round(lufs, 2) if lufs is not None else None,
        "true_peak_dbtp": round(peak, 2) if peak is not None else None,
        "track_gain_db": _gain(r["tag_track_gain"], lufs),
        "album_gain_db": _gain(r["tag_album_gain"], r["album_integrated"]),
    }


__all__ = ["gains_for_track", "loudness_json", "pending_loudness", "measure_pending", "measure_track",
           "save_loudness", "refresh_albums", "album_key", "track_unchanged", "track_ids", "Measurement",
           "LoudnessSaved"]

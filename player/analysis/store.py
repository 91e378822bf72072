"""Analysis results in the library: what is pending, and writing results or failures (no TensorFlow).

A track needs analysis when it is playable (status ``ok``) and has no ``analysis`` row for the current
model version. A new model version therefore re-queues every track; a failure is recorded per track
with its reason and is not retried until the version changes or the file changes (a rescan that sees
a changed file deletes its analysis).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from player.library.db import now
from player.library.store import Library


@dataclass
class TrackAnalysis:
    """Everything stored for one analysed track."""

    track_id: int
    tag_probs: np.ndarray  # float32[n_tags], mean over excerpts
    genre_probs: np.ndarray  # float32[n_genres], mean over slices
    embedding: np.ndarray  # float32[32], mean over slices
    labels: dict[str, tuple[int, float]] = field(default_factory=dict)  # label -> (count, probability)
    n_excerpts: int = 1


def pending_track_ids(library: Library, model_version: str, *, limit: int | None = None,
                      shard: tuple[int, int] | None = None) -> list[int]:
    """Playable tracks without an analysis for ``model_version`` (oldest first).

    ``shard=(k, n)`` keeps only ids with ``id % n == k`` so that n worker processes split the work.
    """
    sql = (
        "SELECT t.id FROM tracks t LEFT JOIN analysis a ON a.track_id = t.id "
        "WHERE t.status = 'ok' AND (a.track_id IS NULL OR a.model_version != ?)"
    )
    params: list = [model_version]
    if shard is not None:
        sql += " AND t.id % ? = ?"
        params += [int(shard[1]), int(shard[0])]
    sql += " ORDER BY t.id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [int(r[0]) for r in library.db.query(sql, params)]


def count_pending(library: Library, model_version: str) -> tuple[int, int]:
    """(pending, analysed-or-failed for this version)."""
    row = library.db.query_one(
        "SELECT SUM(CASE WHEN a.track_id IS NULL OR a.model_version != ? THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN a.model_version = ? THEN 1 ELSE 0 END) "
        "FROM tracks t LEFT JOIN analysis a ON a.track_id = t.id WHERE t.status = 'ok'",
        (model_version, model_version),
    )
    return int(row[0] or 0), int(row[1] or 0)


def _blob(values) -> bytes:
    return np.ascontiguousarray(values, dtype=np.float32).tobytes()


def save_results(library: Library, model_version: str, results: list[TrackAnalysis],
                 failures: list[tuple[int, str]] = ()) -> None:
    """Write a batch of results and failures in one transaction (a killed worker loses at most this batch)."""
    t = now()
    with library.db.transaction() as c:
        for r in results:
            c.execute(
                "INSERT OR REPLACE INTO analysis(track_id, model_version, analysed_at, status, error, n_excerpts, "
                "tag_probs, genre_probs, embedding) VALUES (?, ?, ?, 'ok', NULL, ?, ?, ?, ?)",
                (r.track_id, model_version, t, int(r.n_excerpts), _blob(r.tag_probs), _blob(r.genre_probs),
                 _blob(r.embedding)),
            )
            c.execute("DELETE FROM track_labels WHERE track_id = ?", (r.track_id,))
            c.executemany(
                "INSERT INTO track_labels(track_id, label, count, probability) VALUES (?, ?, ?, ?)",
                [(r.track_id, label, int(count), float(prob)) for label, (count, prob) in r.labels.items() if count > 0],
            )
        for track_id, reason in failures:
            c.execute(
                "INSERT OR REPLACE INTO analysis(track_id, model_version, analysed_at, status, error) "
                "VALUES (?, ?, ?, 'error', ?)",
                (int(track_id), model_version, t, str(reason)[:300]),
            )
            c.execute("DELETE FROM track_labels WHERE track_id = ?", (int(track_id),))


def load_analysis(library: Library, track_id: int) -> dict | None:
    """One track's stored analysis as plain Python (for ``show``, the GUI's details, exports)."""
    row = library.db.query_one(
        "SELECT model_version, analysed_at, status, error, n_excerpts, tag_probs, genre_probs, embedding "
        "FROM analysis WHERE track_id = ?",
        (track_id,),
    )
    if row is None:
        return None
    out = {k: row[k] for k in ("model_version", "analysed_at", "status", "error", "n_excerpts")}
    for key in ("tag_probs", "genre_probs", "embedding"):
        blob = row[key]
        out[key] = None if blob is None else np.frombuffer(blob, dtype=np.float32).copy()
    out["labels"] = {
        r["label"]: (int(r["count"]), float(r["probability"]))
        for r in library.db.query(
            "SELECT label, count, probability FROM track_labels WHERE track_id = ? ORDER BY count DESC, probability DESC",
            (track_id,),
        )
    }
    return out

"""Analysis results in the library: the one reader of what is stored, and the writer (no TensorFlow).

Reading -- every part of the player that shows or uses analysis results goes through these functions,
which return frozen dataclasses:

* :func:`read_track` -> :class:`TrackAnalysis`: one track's result (model version, named tag and genre
  probabilities, embedding, the labels that pass, when), or ``None`` when it is not analysed;
* :func:`read_counts` -> :class:`AnalysisCounts`: analysed / failed (with reasons) / pending;
* :func:`read_library_labels` -> :class:`LibraryLabels`: every track's top labels and genre (the
  library view), optionally only those analysed since a time;
* :func:`read_label_rows`, :func:`read_embeddings`, :func:`read_analysed_ids`: the whole library as
  arrays (the recommender, exports);
* :func:`read_analysis_arrays` -> :class:`AnalysisArrays`: the current model's tag and genre
  probabilities and unit embeddings of every analysed track, cached per library until the analysis
  table changes (smart playlists, and the song vectors of the recommender's similarity space, which
  are cached with them in ``derived``).

Names come from the model registry (:func:`player.analysis.registry.labels_for_version`): the models
that the stored ``model_version`` names. A vector whose models are not installed gets generic names
("tag 1", "genre 1") and ``named=False``; names are never guessed from a vector's length.

Writing -- a track needs analysis when it is playable (status ``ok``) and has no ``analysis`` row for
the current model version. A new model version therefore re-queues every track; a failure is recorded
per track with its reason and is not retried until the version changes or the file changes (a rescan
that sees a changed file deletes its analysis). :func:`save_results` writes a result only while the
track is still the file that was decoded (same path, size and mtime, checked in the write
transaction); a result of a file that changed meanwhile is dropped and the track stays pending.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import Mapping, NamedTuple

import numpy as np

from player.library.db import now
from player.library.loudness import track_ids, track_unchanged
from player.library.store import Library

# ------------------------------------------------------------------------------------------ reading


@dataclass(frozen=True, eq=False)
class Probabilities:
    """A stored probability vector with its names, in the model's output order."""

    names: tuple[str, ...]
    values: np.ndarray  # float32, one per name
    named: bool = True  # False: the model is not installed; the names are generic

    def ranked(self, top: int | None = None) -> list[tuple[str, float]]:
        """(name, probability), most probable first (ties in output order)."""
        order = np.argsort(-self.values, kind="stable")[:top]
        return [(self.names[i], float(self.values[i])) for i in order]

    def best(self) -> str | None:
        return self.names[int(np.argmax(self.values))] if self.values.size else None


@dataclass(frozen=True)
class Label:
    """A label that passes for a track: in how many excerpts, and its mean probability."""

    name: str
    count: int
    probability: float


@dataclass(frozen=True, eq=False)
class TrackAnalysis:
    """One track's stored analysis (``status`` 'ok', or 'error' with the reason in ``error``)."""

    track_id: int
    status: str
    model_version: str
    analysed_at: float
    error: str | None = None
    n_excerpts: int | None = None
    tags: Probabilities | None = None
    genres: Probabilities | None = None
    embedding: np.ndarray | None = None
    labels: tuple[Label, ...] = ()  # the labels that pass, by count then probability, highest first

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def label_counts(self) -> dict[str, tuple[int, float]]:
        return {lab.name: (lab.count, lab.probability) for lab in self.labels}


@dataclass(frozen=True)
class AnalysisCounts:
    """Playable tracks: analysed, failed (with the reasons, most common first) and pending."""

    total: int = 0
    analysed: int = 0
    failed: int = 0
    reasons: tuple[tuple[str, int], ...] = ()  # (reason, number of tracks)

    @property
    def pending(self) -> int:
        return max(0, self.total - self.analysed - self.failed)


@dataclass(frozen=True)
class LibraryLabels:
    """For the library view: per track id its top labels as one line and its most probable genre;
    ``stamp`` is the newest ``analysed_at`` seen (pass it as ``since`` for the next delta)."""

    tags: dict = field(default_factory=dict)  # track id -> "rock · guitar · happy"
    genres: dict = field(default_factory=dict)  # track id -> genre name
    stamp: float = 0.0


@dataclass(frozen=True, eq=False)
class LabelRows:
    """Every stored (track, label, count) row, labels as codes into ``names`` (sorted)."""

    track_ids: np.ndarray  # int64
    codes: np.ndarray  # int64 index into names
    counts: np.ndarray  # float64 (the TF)
    names: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Embeddings:
    """The embeddings of the analysed tracks, ascending track id (the most common length only)."""

    track_ids: np.ndarray  # int64
    vectors: np.ndarray  # float32 (n, dim)


def _vector(blob) -> np.ndarray | None:
    if blob is None or len(blob) == 0 or len(blob) % 4:
        return None
    return np.frombuffer(bytes(blob), dtype=np.float32).copy()


def _named(values: np.ndarray | None, names, kind: str) -> Probabilities | None:
    if values is None:
        return None
    if names is not None and len(names) == values.size:
        return Probabilities(tuple(names), values, True)
    return Probabilities(tuple(f"{kind} {i + 1}" for i in range(values.size)), values, False)


def read_track(library: Library, track_id: int, models_dir=None) -> TrackAnalysis | None:
    """One track's stored analysis, or ``None`` when it has none."""
    from player.analysis.registry import labels_for_version

    row = library.db.query_one(
        "SELECT model_version, analysed_at, status, error, n_excerpts, tag_probs, genre_probs, embedding "
        "FROM analysis WHERE track_id = ?",
        (int(track_id),),
    )
    if row is None:
        return None
    names = labels_for_version(row["model_version"], models_dir)
    labels = tuple(
        Label(r[0], int(r[1]), float(r[2]))
        for r in library.db.query(
            "SELECT label, count, probability FROM track_labels WHERE track_id = ? "
            "ORDER BY count DESC, probability DESC, label", (int(track_id),))
    )
    return TrackAnalysis(
        track_id=int(track_id), status=row["status"], model_version=row["model_version"],
        analysed_at=float(row["analysed_at"]), error=row["error"], n_excerpts=row["n_excerpts"],
        tags=_named(_vector(row["tag_probs"]), names.tags, "tag"),
        genres=_named(_vector(row["genre_probs"]), names.genres, "genre"),
        embedding=_vector(row["embedding"]), labels=labels,
    )


def read_counts(library: Library, model_version: str | None = None) -> AnalysisCounts:
    """Counts over the playable tracks. With ``model_version``, results of another version count as
    pending (they will be redone); without, any stored result counts."""
    version_ok = "1" if model_version is None else "a.model_version = ?"
    params = () if model_version is None else (model_version,)
    row = library.db.query_one(
        f"SELECT COUNT(*), SUM(CASE WHEN a.status = 'ok' AND {version_ok} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN a.status = 'error' AND {version_ok} THEN 1 ELSE 0 END) "
        "FROM tracks t LEFT JOIN analysis a ON a.track_id = t.id WHERE t.status = 'ok'",
        params * 2,
    )
    reasons = library.db.query(
        f"SELECT a.error, COUNT(*) AS n FROM analysis a JOIN tracks t ON t.id = a.track_id "
        f"WHERE t.status = 'ok' AND a.status = 'error' AND {version_ok} GROUP BY a.error ORDER BY n DESC, a.error",
        params,
    )
    return AnalysisCounts(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0),
                          tuple((r[0] or "unknown reason", int(r[1])) for r in reasons))


def read_library_labels(library: Library, since: float | None = None, top: int = 3,
                        models_dir=None) -> LibraryLabels:
    """Per track: its ``top`` labels (by probability) joined by " · ", and its most probable genre.

    ``since``: only tracks analysed after that time (a delta for a running analysis; each analysis batch
    commits with its own time, so a batch is seen whole or not at all)."""
    from player.analysis.registry import labels_for_version

    params: tuple = ()
    where = ""
    if since is not None:
        where = " WHERE track_id IN (SELECT track_id FROM analysis WHERE analysed_at > ?)"
        params = (since,)
    # The top labels per track, ranked and joined by SQLite (in C, without the interpreter lock).
    tags: dict[int, str] = {}
    share = {}.setdefault  # one string per distinct line of labels (a few thousand), not one per song
    for tid, line in library.db.tuples(
            "SELECT track_id, group_concat(label, ' · ') FROM ("
            " SELECT track_id, label, ROW_NUMBER() OVER (PARTITION BY track_id ORDER BY probability DESC, label) AS rn"
            f" FROM track_labels{where} ORDER BY track_id, rn) WHERE rn <= ? GROUP BY track_id",
            params + (int(top),)).fetchall():
        tags[tid] = share(line, line)
    gwhere = " AND analysed_at > ?" if since is not None else ""
    rows = library.db.tuples(
        "SELECT track_id, genre_probs, analysed_at, model_version FROM analysis WHERE status = 'ok' "
        f"AND genre_probs IS NOT NULL{gwhere}", params).fetchall()
    genres: dict[int, str] = {}
    stamp = max([since or 0.0] + [r[2] or 0.0 for r in rows])
    groups: dict[tuple, list] = {}  # one vectorised argmax per model version and length (normally one)
    for r in rows:
        groups.setdefault((r[3], len(r[1])), []).append(r)
    for (version, nbytes), group in groups.items():
        n = nbytes // 4
        if n == 0 or nbytes % 4:
            continue
        best = np.frombuffer(b"".join(bytes(r[1]) for r in group), dtype=np.float32).reshape(-1, n).argmax(axis=1)
        names = _named(np.zeros(n, np.float32), labels_for_version(version, models_dir).genres, "genre").names
        for r, k in zip(group, best.tolist()):
            genres[r[0]] = names[k]
    return LibraryLabels(tags, genres, float(stamp))


def read_label_rows(library: Library) -> LabelRows:
    """Every track's labels with counts, streamed into arrays (codes while streaming: a dict lookup
    per row beats a join on the label text)."""
    codes: dict[str, int] = {}
    rows = np.fromiter(
        ((t, codes.setdefault(lab, len(codes)), c)
         for t, lab, c in library.db.tuples("SELECT track_id, label, count FROM track_labels")),
        dtype=[("t", "i8"), ("l", "i8"), ("c", "f8")],
    )
    names = sorted(codes)
    remap = np.empty(len(codes), dtype=np.int64)
    for new_code, name in enumerate(names):
        remap[codes[name]] = new_code
    if len(rows):
        rows["l"] = remap[rows["l"]]
    return LabelRows(rows["t"].copy(), rows["l"].copy(), rows["c"].copy(), tuple(names))


def read_embeddings(library: Library) -> Embeddings:
    """The embeddings of the tracks analysed successfully. Blobs of another length than the most
    common one (another model version) are left out."""
    rows = library.db.tuples("SELECT track_id, embedding FROM analysis "
                             "WHERE status = 'ok' AND embedding IS NOT NULL ORDER BY track_id").fetchall()
    empty = Embeddings(np.zeros(0, np.int64), np.zeros((0, 32), np.float32))
    if not rows:
        return empty
    lengths = np.fromiter((len(r[1]) for r in rows), dtype=np.int64, count=len(rows))
    values, counts = np.unique(lengths[lengths > 0], return_counts=True)
    if not len(values):
        return empty
    size = int(values[np.argmax(counts)])
    if size % 4:
        return empty
    keep = lengths == size
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))[keep]
    blob = b"".join(r[1] for r, k in zip(rows, keep) if k)
    return Embeddings(ids, np.frombuffer(blob, dtype=np.float32).reshape(len(ids), size // 4).copy())


def read_analysed_ids(library: Library) -> np.ndarray:
    """Track ids with a successful analysis (whatever it holds)."""
    return np.fromiter((r[0] for r in library.db.tuples("SELECT track_id FROM analysis WHERE status = 'ok'")),
                       dtype=np.int64)


def read_label_table(library: Library) -> list[tuple[str, str, int, float]]:
    """(display path, label, count, probability) for every stored label, by track then strength."""
    return library.db.tuples(
        "SELECT t.path, l.label, l.count, l.probability FROM track_labels l JOIN tracks t ON t.id = l.track_id "
        "ORDER BY t.id, l.count DESC, l.probability DESC, l.label").fetchall()


# ------------------------------------------------------------------------------------------ writing


@dataclass(frozen=True)
class SourceFile:
    """The file a result is computed from, as the library described it when the worker read the track."""

    path: str
    size: int | None
    mtime: float | None

    @classmethod
    def of(cls, track) -> "SourceFile":
        return cls(track.path, track.size, track.mtime)


@dataclass
class AnalysisResult:
    """Everything stored for one analysed track."""

    track_id: int
    tag_probs: np.ndarray  # float32[n_tags], mean over excerpts
    genre_probs: np.ndarray  # float32[n_genres], mean over slices
    embedding: np.ndarray  # float32[32], mean over slices
    labels: dict[str, tuple[int, float]] = field(default_factory=dict)  # label -> (count, probability)
    n_excerpts: int = 1


class Failure(NamedTuple):
    """A track that could not be analysed, and why (stored with it)."""

    track_id: int
    reason: str


def pending_track_ids(library: Library, model_version: str, *, limit: int | None = None,
                      shard: tuple[int, int] | None = None) -> list[int]:
    """Playable tracks without an analysis for ``model_version`` (oldest first).

    ``shard=(k, n)`` keeps only ids with ``id % n == k`` so that n worker processes split the work.
    """
    return track_ids(library, "SELECT t.id FROM tracks t LEFT JOIN analysis a ON a.track_id = t.id "
                     "WHERE t.status = 'ok' AND (a.track_id IS NULL OR a.model_version != ?)", (model_version,),
                     limit=limit, shard=shard)


def count_pending(library: Library, model_version: str) -> tuple[int, int]:
    """(pending, analysed-or-failed for this version)."""
    c = read_counts(library, model_version)
    return c.pending, c.analysed + c.failed


def _blob(values) -> bytes:
    return np.ascontiguousarray(values, dtype=np.float32).tobytes()


def _still_the_same(c, track_id: int, source: SourceFile | None) -> bool:
    return source is None or track_unchanged(c, track_id, source.path, source.size, source.mtime)


def save_results(library: Library, model_version: str, results: list[AnalysisResult],
                 failures: list[Failure] = (), sources: Mapping[int, SourceFile] | None = None) -> list[int]:
    """Write a batch of results and failures in one transaction (a killed worker loses at most this batch).

    ``sources``: per track id the file as it was when its audio was decoded. A track whose file changed
    since (another path, size or mtime in the library, or no longer playable) is not written: it stays
    pending. Returns the ids of those tracks."""
    sources = sources or {}
    t = now()
    stale: list[int] = []
    with library.db.transaction() as c:
        for r in results:
            if not _still_the_same(c, r.track_id, sources.get(r.track_id)):
                stale.append(int(r.track_id))
                continue
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
            if not _still_the_same(c, track_id, sources.get(track_id)):
                stale.append(int(track_id))
                continue
            c.execute(
                "INSERT OR REPLACE INTO analysis(track_id, model_version, analysed_at, status, error) "
                "VALUES (?, ?, ?, 'error', ?)",
                (int(track_id), model_version, t, str(reason)[:300]),
            )
            c.execute("DELETE FROM track_labels WHERE track_id = ?", (int(track_id),))
    return stale


# ------------------------------------------------------- whole-library arrays for queries (cached)
@dataclass
class AnalysisArrays:
    version: str | None
    ids: np.ndarray  # int64, ascending: tracks with an 'ok' analysis of ``version``
    tag_names: list | None  # None: the model folder is not installed (names unknown)
    tag_probs: np.ndarray | None  # float32 (n, tags)
    genre_names: list | None
    genre_probs: np.ndarray | None  # float32 (n, genres)
    embeddings: np.ndarray | None  # float32 (n, d), unit rows (zero where the blob was empty)
    labels: dict  # casefolded label -> stored spelling, over track_labels
    fingerprint: tuple = ()
    has_emb: np.ndarray | None = None  # bool (n,): a usable embedding
    # float32 (n, tags): the stored tag probabilities whatever their names (NaN rows: another length);
    # the similarity space reads these, so that a tagger whose folder is not installed still counts
    tag_values: np.ndarray | None = None
    # what consumers derive from these arrays (the song vectors of player.recommend.space), dropped
    # with them when the analysis changes
    derived: dict = field(default_factory=dict, repr=False, compare=False)

    def index_of(self, track_id: int) -> int:
        i = int(np.searchsorted(self.ids, track_id))
        return i if i < len(self.ids) and self.ids[i] == track_id else -1


_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def _default_version() -> str | None:
    try:
        from player.analysis.engine import model_version

        return model_version()
    except Exception:  # no models installed, or a broken folder: fall back to what is stored
        return None


def _model_labels(version: str | None) -> tuple[list | None, list | None]:
    """(tag names, genre names) of the models named in a version string ``tagger@1+cnn_lstm@2``."""
    if not version:
        return None, None
    from player.analysis.registry import labels_for_version

    names = labels_for_version(version)
    return (list(names.tags) if names.tags else None), (list(names.genres) if names.genres else None)


def _matrix(blobs: list, width: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Rows of float32 blobs of the expected (else the most common) length; a mask of usable rows."""
    lengths = np.fromiter((len(b) if b is not None else 0 for b in blobs), np.int64, len(blobs))
    if width is None:
        vals, counts = np.unique(lengths[lengths > 0], return_counts=True)
        if not len(vals):
            return np.zeros((len(blobs), 0), np.float32), np.zeros(len(blobs), bool)
        size = int(vals[np.argmax(counts)])
    else:
        size = 4 * width
    keep = lengths == size
    out = np.zeros((len(blobs), size // 4), np.float32)
    if keep.any():
        out[keep] = np.frombuffer(b"".join(b for b, k in zip(blobs, keep) if k), np.float32).reshape(-1, size // 4)
    return out, keep


def read_analysis_arrays(library) -> AnalysisArrays:
    """The current model's analysis as arrays; cached per library until the analysis table changes."""
    # two queries, each answered from an index: the row count and the newest analysis time
    fp = (library.db.tuples("SELECT COUNT(*) FROM analysis").fetchone()[0],
          library.db.tuples("SELECT MAX(analysed_at) FROM analysis").fetchone()[0])
    with _CACHE_LOCK:
        cached = _CACHE.get(library)
    if cached is not None and cached.fingerprint == fp:
        return cached
    stored = dict(library.db.tuples("SELECT model_version, COUNT(*) FROM analysis WHERE status = 'ok' "
                                    "GROUP BY model_version"))
    version = _default_version()
    if version not in stored:
        version = max(stored, key=stored.get) if stored else version
    tag_names, genre_names = _model_labels(version)
    rows = library.db.tuples("SELECT track_id, tag_probs, genre_probs, embedding FROM analysis "
                             "WHERE status = 'ok' AND model_version = ? ORDER BY track_id", (version,)).fetchall()
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    tags, tag_ok = _matrix([r[1] for r in rows], len(tag_names) if tag_names else None)
    genres, genre_ok = _matrix([r[2] for r in rows], len(genre_names) if genre_names else None)
    emb, emb_ok = _matrix([r[3] for r in rows], None)
    del rows
    if emb.size:
        norms = np.linalg.norm(emb, axis=1)
        good = emb_ok & (norms > 0) & np.isfinite(norms)
        emb[good] /= norms[good, None]
        emb[~good] = 0
    # a row whose tag (genre) blob has another length than the model's is no use for tag (genre) queries
    tags[~tag_ok] = np.nan
    genres[~genre_ok] = np.nan
    labels = {}
    for (label,) in library.db.tuples("SELECT DISTINCT label FROM track_labels"):
        labels.setdefault(str(label).casefold(), label)
    arrays = AnalysisArrays(version, ids, tag_names, tags if tag_names else None, genre_names,
                            genres if genre_names else None, emb if emb.size else None, labels, fp,
                            emb.any(axis=1) if emb.size else None, tags if tags.size else None)
    with _CACHE_LOCK:
        _CACHE[library] = arrays
    return arrays

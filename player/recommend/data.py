"""Where the recommender's numbers come from: the library database, or arrays in memory.

:class:`LibraryArrays` is everything the recommender needs as flat numpy arrays. It is read from a
:class:`player.library.Library` with a handful of set-based queries streamed straight into numpy
(``np.fromiter`` over the cursor: no per-song Python objects besides titles and artist names), or
built directly (benchmarks, the offline evaluation, tests).

A *source* answers the few questions the recommender asks after loading (a listener's ratings, new
plays, recent plays); :class:`LibrarySource` asks SQLite, :class:`MemorySource` keeps them in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from player.recommend.space import DEFAULT_MODE, MODES, song_vectors

PLAY_DTYPE = np.dtype(
    [("id", "i8"), ("user", "i8"), ("track", "i8"), ("started_at", "f8"), ("seconds", "f8"), ("skipped", "i1")]
)


def empty_plays() -> np.ndarray:
    return np.zeros(0, dtype=PLAY_DTYPE)


@dataclass
class LibraryArrays:
    """The library as arrays. Tracks are in ascending id order; everything else refers to track ids."""

    track_ids: np.ndarray  # int64[T], ascending
    titles: list  # str per track
    artists: list  # str | None per track
    albums: list  # str | None per track (album title)
    album_artists: list | None = None  # str | None per track (albumartist, else artist)
    ok: np.ndarray | None = None  # bool[T]: status 'ok' (missing/broken files are never proposed)
    paths: list | None = None  # display paths (optional; the CLI asks the library)
    label_names: list = field(default_factory=list)
    lab_track: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # track id per row
    lab_label: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # index into label_names
    lab_count: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float64))  # TF
    emb_track: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # track id per row
    embeddings: np.ndarray = field(default_factory=lambda: np.zeros((0, 32), np.float32))
    # the tagger's tag probabilities, one row per emb_track entry (None: not known; zero/NaN row: none)
    tag_probs: np.ndarray | None = None
    # the tagger's tag names, one per column of tag_probs (None: not known, e.g. its folder is not installed)
    tag_names: list | None = None
    space: str = DEFAULT_MODE  # the similarity space of the index's E (player.recommend.space)
    analysed_ids: np.ndarray | None = None  # track ids with an 'ok' analysis row (None: labels|emb)
    users: dict = field(default_factory=dict)  # id -> name
    rating_user: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rating_track: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rating_stars: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    plays: np.ndarray = field(default_factory=empty_plays)  # PLAY_DTYPE, ascending id

    def __post_init__(self):
        self.track_ids = np.asarray(self.track_ids, dtype=np.int64)
        n = len(self.track_ids)
        if n > 1 and not (np.diff(self.track_ids) > 0).all():
            order = np.argsort(self.track_ids, kind="stable")
            self.track_ids = self.track_ids[order]
            for name in ("titles", "artists", "albums", "album_artists", "paths"):
                seq = getattr(self, name)
                if seq is not None:
                    setattr(self, name, [seq[i] for i in order])
            if self.ok is not None:
                self.ok = np.asarray(self.ok, bool)[order]
        for name in ("titles", "artists", "albums"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries for {n} tracks")
        if self.album_artists is None:
            self.album_artists = list(self.artists)
        self.ok = np.ones(n, dtype=bool) if self.ok is None else np.asarray(self.ok, dtype=bool)
        self.lab_track = np.asarray(self.lab_track, dtype=np.int64)
        self.lab_label = np.asarray(self.lab_label, dtype=np.int64)
        self.lab_count = np.asarray(self.lab_count, dtype=np.float64)
        self.emb_track = np.asarray(self.emb_track, dtype=np.int64)
        self.embeddings = np.asarray(self.embeddings, dtype=np.float32)
        if self.embeddings.ndim != 2 or len(self.embeddings) != len(self.emb_track):
            raise ValueError("embeddings must be a 2-d array with one row per emb_track entry")
        if self.tag_probs is not None:
            self.tag_probs = np.asarray(self.tag_probs, dtype=np.float32)
            if self.tag_probs.ndim != 2 or len(self.tag_probs) != len(self.emb_track):
                raise ValueError("tag_probs must be a 2-d array with one row per emb_track entry")
        if self.tag_names is not None:
            self.tag_names = [str(x) for x in self.tag_names]
            if self.tag_probs is None or len(self.tag_names) != self.tag_probs.shape[1]:
                self.tag_names = None  # names that do not describe the columns are no names
        if self.space not in MODES:
            raise ValueError(f"unknown similarity space '{self.space}' (one of {', '.join(MODES)})")
        self.rating_user = np.asarray(self.rating_user, dtype=np.int64)
        self.rating_track = np.asarray(self.rating_track, dtype=np.int64)
        self.rating_stars = np.asarray(self.rating_stars, dtype=np.int64)
        if self.plays is None:
            self.plays = empty_plays()
        self.plays = np.asarray(self.plays, dtype=PLAY_DTYPE)


    @classmethod
    def assemble(cls, tracks: "TrackTable", labels=None, embeddings=None, analysed_ids=None,
                 people: "People | None" = None, space: str = DEFAULT_MODE) -> "LibraryArrays":
        """The one place the arrays are put together: from the tracks, the analysis (``labels``: a
        :class:`player.analysis.store.LabelRows`, ``embeddings``: a :class:`SongInputs`, a
        :class:`~player.analysis.store.Embeddings`, or anything with the same fields) and the listeners
        (:class:`People`)."""
        people = people or People()
        parts = {}
        if labels is not None:
            parts.update(label_names=list(labels.names), lab_track=labels.track_ids, lab_label=labels.codes,
                         lab_count=labels.counts)
        if embeddings is not None:
            parts.update(emb_track=embeddings.track_ids, embeddings=embeddings.vectors,
                         tag_probs=getattr(embeddings, "tag_probs", None),
                         tag_names=getattr(embeddings, "tag_names", None))
        return cls(**vars(tracks), **parts, analysed_ids=analysed_ids, **vars(people), space=space)


@dataclass
class TrackTable:
    """The tracks' columns, in the order of ``track_ids`` (what :meth:`LibraryArrays.assemble` takes)."""

    track_ids: np.ndarray
    titles: list
    artists: list
    albums: list
    album_artists: list | None = None
    ok: np.ndarray | None = None
    paths: list | None = None


@dataclass
class People:
    """The listeners, everybody's ratings and the plays."""

    users: dict = field(default_factory=dict)
    rating_user: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rating_track: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rating_stars: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    plays: np.ndarray = field(default_factory=empty_plays)


@dataclass
class SongInputs:
    """What the similarity space is built from, one row per analysed track: the genre model's
    embedding and the tagger's tag probabilities (zero / NaN rows where a track lacks one)."""

    track_ids: np.ndarray
    vectors: np.ndarray  # float32 (n, d) embeddings
    tag_probs: np.ndarray | None = None  # float32 (n, tags)
    tag_names: list | None = None  # the tags' names (None: unknown)


def song_inputs(library) -> SongInputs:
    """The library's analysis as :class:`SongInputs` (read through the cached reader)."""
    from player.analysis.store import read_analysis_arrays

    a = read_analysis_arrays(library)
    emb = a.embeddings if a.embeddings is not None else np.zeros((len(a.ids), 0), np.float32)
    names = a.tag_names if a.tag_values is not None and a.tag_names is not None \
        and len(a.tag_names) == a.tag_values.shape[1] else None
    return SongInputs(a.ids, emb, a.tag_values, None if names is None else list(names))


def vectors_of(arrays, mode: str = DEFAULT_MODE) -> np.ndarray:
    """The song vectors of :class:`player.analysis.store.AnalysisArrays` ``arrays`` in ``mode``, rows as
    ``arrays.ids``; computed once per load of the analysis (cached in ``arrays.derived``, which is
    dropped when the analysis changes). Standardised over those tracks: the listener's library."""
    key = ("song_vectors", mode)
    vectors = arrays.derived.get(key)
    if vectors is None:
        if arrays.embeddings is None and arrays.tag_values is None:  # analysed, but nothing stored to compare
            vectors = np.zeros((len(arrays.ids), 0), np.float32)
        else:
            vectors = song_vectors(arrays.embeddings, arrays.tag_values, mode)
        vectors.setflags(write=False)
        arrays.derived[key] = vectors
    return vectors


def known_of(arrays, mode: str = DEFAULT_MODE) -> np.ndarray:
    """bool per row of :func:`vectors_of`: the track has a song vector (cached with it)."""
    key = ("song_vectors_known", mode)
    known = arrays.derived.get(key)
    if known is None:
        vectors = vectors_of(arrays, mode)
        known = np.einsum("ij,ij->i", vectors, vectors) > 0 if vectors.shape[1] else np.zeros(len(vectors), bool)
        known.setflags(write=False)
        arrays.derived[key] = known
    return known


def read_song_vectors(library, mode: str = DEFAULT_MODE) -> tuple[np.ndarray, np.ndarray]:
    """``(track_ids, vectors)``: every analysed track of ``library`` (ascending id) and its song vector,
    the one every "sounds like" question uses (float32 unit rows; a zero row for a track with neither
    an embedding nor tag probabilities). Fresh after every change of the analysis, cheap otherwise."""
    from player.analysis.store import read_analysis_arrays

    a = read_analysis_arrays(library)
    return a.ids, vectors_of(a, mode)


def load_arrays(library, space: str = DEFAULT_MODE) -> LibraryArrays:
    """Everything the recommender needs from ``library``, in a few set-based queries (the analysis
    through its reader, :mod:`player.analysis.store`); ``space``: the similarity space of the index."""
    from player.analysis.store import read_analysed_ids, read_label_rows

    db = library.db
    rows = db.tuples(
        "SELECT id, title, path, artist, album, albumartist, status FROM tracks ORDER BY id"
    ).fetchall()
    tracks = TrackTable(
        track_ids=np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
        titles=[r[1] or Path(r[2]).stem for r in rows],
        artists=[r[3] for r in rows],
        albums=[r[4] for r in rows],
        album_artists=[r[5] or r[3] for r in rows],
        ok=np.fromiter((r[6] == "ok" for r in rows), dtype=bool, count=len(rows)),
        paths=[r[2] for r in rows],
    )
    del rows
    rat = np.fromiter(
        db.tuples("SELECT user_id, track_id, stars FROM ratings"), dtype=[("u", "i8"), ("t", "i8"), ("s", "i8")]
    )
    people = People(
        users={int(r[0]): r[1] for r in db.tuples("SELECT id, name FROM users")},
        rating_user=rat["u"], rating_track=rat["t"], rating_stars=rat["s"],
        plays=np.fromiter(db.tuples(
            "SELECT id, user_id, track_id, started_at, seconds_played, skipped FROM plays ORDER BY id"),
            dtype=PLAY_DTYPE),
    )
    return LibraryArrays.assemble(tracks, read_label_rows(library), song_inputs(library),
                                  read_analysed_ids(library), people, space=space)


class LibrarySource:
    """Answers the recommender's questions from the library database (always fresh)."""

    def __init__(self, library, space: str = DEFAULT_MODE):
        self.library = library
        self.space = space

    def load(self) -> LibraryArrays:
        return load_arrays(self.library, self.space)

    def ratings_for(self, user_id: int) -> tuple[np.ndarray, np.ndarray]:
        a = np.fromiter(
            self.library.db.tuples("SELECT track_id, stars FROM ratings WHERE user_id = ?", (int(user_id),)),
            dtype=[("t", "i8"), ("s", "i8")],
        )
        return a["t"], a["s"]

    def plays_since(self, last_id: int) -> np.ndarray:
        return np.fromiter(
            self.library.db.tuples(
                "SELECT id, user_id, track_id, started_at, seconds_played, skipped FROM plays "
                "WHERE id > ? ORDER BY id",
                (int(last_id),),
            ),
            dtype=PLAY_DTYPE,
        )

    def last_play_id(self) -> int:
        row = self.library.db.tuples("SELECT MAX(id) FROM plays").fetchone()
        return int(row[0] or 0)

    def recent(self, user_id: int, limit: int) -> np.ndarray:
        if limit <= 0:
            return np.zeros(0, np.int64)
        return np.fromiter(
            (
                r[0]
                for r in self.library.db.tuples(
                    "SELECT track_id FROM plays WHERE user_id = ? ORDER BY started_at DESC, id DESC LIMIT ?",
                    (int(user_id), int(limit)),
                )
            ),
            dtype=np.int64,
        )

    def has_track(self, track_id: int) -> bool:
        return self.library.db.tuples(
            "SELECT 1 FROM tracks WHERE id = ?", (int(track_id),)).fetchone() is not None

    def user_name(self, user_id: int) -> str | None:
        row = self.library.db.tuples("SELECT name FROM users WHERE id = ?", (int(user_id),)).fetchone()
        return None if row is None else row[0]


class MemorySource:
    """The same answers from arrays in memory; ``rate`` and ``add_play`` change them."""

    def __init__(self, arrays: LibraryArrays):
        self.arrays = arrays
        self._ratings: dict[int, dict[int, int]] = {}
        for u, t, s in zip(arrays.rating_user.tolist(), arrays.rating_track.tolist(), arrays.rating_stars.tolist()):
            self._ratings.setdefault(u, {})[t] = s
        self._plays = arrays.plays

    def load(self) -> LibraryArrays:
        a = self.arrays
        users, tracks, stars = [], [], []
        for u, d in self._ratings.items():
            users += [u] * len(d)
            tracks += list(d.keys())
            stars += list(d.values())
        a.rating_user = np.asarray(users, np.int64)
        a.rating_track = np.asarray(tracks, np.int64)
        a.rating_stars = np.asarray(stars, np.int64)
        a.plays = self._plays
        return a

    def rate(self, user_id: int, track_id: int, stars: int) -> None:
        if stars == 0:
            self._ratings.get(int(user_id), {}).pop(int(track_id), None)
        else:
            self._ratings.setdefault(int(user_id), {})[int(track_id)] = int(stars)

    def add_play(self, user_id: int, track_id: int, started_at: float, seconds: float = 180.0, skipped=False) -> int:
        new_id = int(self._plays["id"].max()) + 1 if len(self._plays) else 1
        row = np.array([(new_id, user_id, track_id, started_at, seconds, int(bool(skipped)))], dtype=PLAY_DTYPE)
        self._plays = np.concatenate([self._plays, row])
        return new_id

    def ratings_for(self, user_id: int) -> tuple[np.ndarray, np.ndarray]:
        d = self._ratings.get(int(user_id), {})
        return np.fromiter(d.keys(), np.int64, len(d)), np.fromiter(d.values(), np.int64, len(d))

    def plays_since(self, last_id: int) -> np.ndarray:
        return self._plays[self._plays["id"] > last_id]

    def last_play_id(self) -> int:
        return int(self._plays["id"].max()) if len(self._plays) else 0

    def recent(self, user_id: int, limit: int) -> np.ndarray:
        if limit <= 0:
            return np.zeros(0, np.int64)
        mine = self._plays[self._plays["user"] == user_id]
        order = np.lexsort((-mine["id"], -mine["started_at"]))[:limit]
        return mine["track"][order]

    def has_track(self, track_id: int) -> bool:
        return False  # the arrays are the whole library

    def user_name(self, user_id: int) -> str | None:
        return self.arrays.users.get(int(user_id))


__all__ = ["LibraryArrays", "TrackTable", "People", "SongInputs", "LibrarySource", "MemorySource", "load_arrays",
           "read_song_vectors", "song_inputs", "vectors_of", "known_of", "PLAY_DTYPE", "empty_plays"]

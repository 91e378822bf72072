"""Possible duplicates: files that hold the same recording (numpy only).

Two files are the same recording when

* their lengths agree within a few tenths of a second (re-encodes differ by the encoder's delay and
  padding, tens of milliseconds; a truncated copy is seconds shorter and is *not* a duplicate), and
* the tagger heard the same thing: the correlation of their tag log-probabilities is at least
  :data:`MIN_TAGS` (what tells different songs of one soundtrack apart), and the genre model does not
  disagree grossly (embedding cosine at least :data:`MIN_EMBEDDING`: a check against a broken
  analysis; the embedding does not tell such songs apart). Both are measures of the pair alone: the
  joint song vectors of :mod:`player.recommend.space` are standardised over the library, which in a
  small library magnifies a re-encode's small differences, so they are not required unless
  :attr:`Params.min_joint` asks for it.

Tags (title, artist) play no part: a re-encode often loses them, and two different songs may share a
title. The thresholds were chosen on re-encodes of real music (see docs/duplicates.md).

Only songs within the length window of each other are compared: the songs are sorted by length and
each is compared with the few that follow it within the window, so a library of 100,000 songs is
grouped in under a second (no songs x songs matrix; benchmarks/bench_duplicates.py). Matching pairs are grouped by complete linkage: a group
only grows by a song that matches *every* member, so two different songs are never joined through a
chain of near matches.

    inputs = inputs_from_arrays(track_ids, durations, read_analysis_arrays(library))
    groups = find_duplicates(inputs)      # [[track id, ...], ...], two or more ids each
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from player.formats import FORMAT_NAMES
from player.recommend.space import LOG_FLOOR  # tag probabilities below this are read as this before the log

LENGTH_TOL_S = 0.25  # seconds two files' lengths may differ by (at most)
LENGTH_TOL_REL = 0.001  # ... or this fraction of the shorter length, when that is larger
MIN_JOINT = -1.0  # cosine of the joint song vectors (not required)
MIN_EMBEDDING = 0.5  # cosine of the genre embeddings (raw, unit): only a check against a broken analysis
MIN_TAGS = 0.975  # correlation of the tag log-probabilities: what tells songs apart
FEATURES = ("dlen", "joint", "emb", "tags")


@dataclass(frozen=True)
class Params:
    length_tol_s: float = LENGTH_TOL_S
    length_tol_rel: float = LENGTH_TOL_REL
    min_joint: float = MIN_JOINT
    min_embedding: float = MIN_EMBEDDING
    min_tags: float = MIN_TAGS


@dataclass
class DuplicateInputs:
    """Row-aligned: track ids, lengths in seconds (NaN: unknown), the joint song vectors (unit rows;
    a zero row: not analysed), and optionally the embeddings and the tag block (:func:`tag_block`),
    unit rows."""

    ids: np.ndarray
    durations: np.ndarray
    vectors: np.ndarray
    embeddings: np.ndarray | None = None
    tags: np.ndarray | None = None

    def __post_init__(self):
        self.ids = np.asarray(self.ids, np.int64)
        self.durations = np.asarray(self.durations, np.float64).reshape(-1)
        self.vectors = np.asarray(self.vectors, np.float32)
        n = len(self.ids)
        if len(self.durations) != n or self.vectors.ndim != 2 or len(self.vectors) != n:
            raise ValueError("ids, durations and vectors must have one row per track")
        for name in ("embeddings", "tags"):
            block = getattr(self, name)
            if block is not None:
                block = np.asarray(block, np.float32)
                if block.ndim != 2 or len(block) != n:
                    raise ValueError(f"{name} must have one row per track")
                setattr(self, name, block)

    @property
    def usable(self) -> np.ndarray:
        """Rows that take part: a known, positive length and an analysed (finite, non-zero) vector."""
        v = self.vectors
        return (np.isfinite(self.durations) & (self.durations > 0) & np.isfinite(v).all(axis=1)
                & (np.abs(v).sum(axis=1) > 0))


def tag_block(tag_probs: np.ndarray | None) -> np.ndarray | None:
    """Tag probabilities as unit rows of their centred logs: the cosine of two rows is the correlation
    of their log-probabilities (a measure of the pair alone). Rows that are not finite become zero."""
    if tag_probs is None:
        return None
    p = np.asarray(tag_probs, np.float64)
    ok = np.isfinite(p).all(axis=1)
    logs = np.log(np.clip(np.where(ok[:, None], p, 1.0), LOG_FLOOR, 1.0))
    logs -= logs.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(logs, axis=1, keepdims=True)
    out = np.divide(logs, norms, out=np.zeros_like(logs), where=(norms > 1e-12) & ok[:, None])
    return out.astype(np.float32)


def inputs_from_arrays(track_ids, durations, arrays) -> DuplicateInputs:
    """The inputs for ``track_ids`` (with their ``durations``, None: unknown) from the library's analysis
    (:class:`player.analysis.store.AnalysisArrays`); tracks not analysed get zero vectors."""
    from player.recommend.data import vectors_of

    track_ids = np.asarray(track_ids, np.int64)
    durations = np.array([np.nan if d is None else d for d in durations], np.float64)
    n = len(arrays.ids)
    if n == 0:
        return DuplicateInputs(track_ids, durations, np.zeros((len(track_ids), 1), np.float32))
    pos = np.clip(np.searchsorted(arrays.ids, track_ids), 0, n - 1)
    found = arrays.ids[pos] == track_ids

    def take(block: np.ndarray | None) -> np.ndarray | None:
        if block is None:
            return None
        out = np.zeros((len(track_ids), block.shape[1]), np.float32)
        out[found] = block[pos[found]]
        return out

    tags = arrays.tag_probs if arrays.tag_values is None else arrays.tag_values
    return DuplicateInputs(track_ids, durations, take(vectors_of(arrays, "joint")), take(vectors_of(arrays, "raw")),
                           take(tag_block(tags)))


def _cos(block: np.ndarray | None, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if block is None or block.shape[1] == 0:
        return np.ones(len(a), np.float32)
    return np.einsum("ij,ij->i", block[a], block[b])


def _window(inputs: DuplicateInputs, params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row order by length, lengths in that order, how many following rows are within the window)."""
    rows = np.flatnonzero(inputs.usable)
    order = rows[np.argsort(inputs.durations[rows], kind="stable")]
    d = inputs.durations[order]
    reach = d + np.maximum(params.length_tol_s, params.length_tol_rel * d)
    width = np.searchsorted(d, reach, side="right") - np.arange(len(order)) - 1
    return order, d, width


def _screen(inputs: DuplicateInputs, params: Params) -> tuple[np.ndarray, float]:
    """The block that rules out most pairs (the tags, else the embeddings, else the joint vectors) and its
    threshold."""
    for block, least in ((inputs.tags, params.min_tags), (inputs.embeddings, params.min_embedding)):
        if block is not None and block.shape[1]:
            return block, least
    return inputs.vectors, params.min_joint


def _pairs(inputs: DuplicateInputs, params: Params, *, screen: bool = True):
    """Pairs of rows within the length window: (i, j, dlen, joint, emb, tags) arrays. With ``screen``,
    only those that pass the screening block (:func:`_screen`); the other cosines are computed for those
    alone. The rows are taken in length order, and offset ``k`` pairs each row with the ``k``-th after it:
    while most rows still have a ``k``-th neighbour in the window, two contiguous slices are compared (no
    copies), after that only the rows that do."""
    order, d, width = _window(inputs, params)
    block, least = _screen(inputs, params) if screen else (None, 0.0)
    ordered = block[order] if block is not None else None
    n = len(order)
    parts = []
    for k in range(1, int(width.max(initial=0)) + 1):
        valid = width >= k
        count = int(np.count_nonzero(valid))
        if ordered is None:
            a = np.flatnonzero(valid)
        elif count * 4 >= n - k:  # dense: slices
            sims = np.einsum("ij,ij->i", ordered[:n - k], ordered[k:])
            a = np.flatnonzero(valid[:n - k] & (sims >= least))
        else:
            a = np.flatnonzero(valid)
            a = a[np.einsum("ij,ij->i", ordered[a], ordered[a + k]) >= least]
        parts.append((order[a], order[a + k], d[a + k] - d[a]))
    if not parts:
        empty = np.zeros(0)
        return np.zeros(0, np.int64), np.zeros(0, np.int64), empty, empty, empty, empty
    i, j, dlen = (np.concatenate(x) for x in zip(*parts))
    return i, j, dlen, _cos(inputs.vectors, i, j), _cos(inputs.embeddings, i, j), _cos(inputs.tags, i, j)


def candidate_pairs(inputs: DuplicateInputs, params: Params | None = None) -> Iterator[tuple[int, int, dict]]:
    """Every pair of rows within the length window, with its features (for measuring thresholds)."""
    i, j, *feats = _pairs(inputs, params or Params(), screen=False)
    for n in range(len(i)):
        yield int(i[n]), int(j[n]), {name: float(f[n]) for name, f in zip(FEATURES, feats)}


def _matches(params: Params, dlen, joint, emb, tags, shorter) -> np.ndarray:
    tol = np.maximum(params.length_tol_s, params.length_tol_rel * shorter)
    return (dlen <= tol) & (joint >= params.min_joint) & (emb >= params.min_embedding) & (tags >= params.min_tags)


def _score(emb, tags) -> np.ndarray:
    """How alike a matching pair is (the best pairs are grouped first)."""
    return np.asarray(emb, np.float64) + np.asarray(tags, np.float64)


def group_pairs(i: np.ndarray, j: np.ndarray, score: np.ndarray) -> list[list[int]]:
    """Rows grouped by complete linkage over the matching pairs ``(i, j)``: the best pairs first, and
    two groups merge only when every member of one matches every member of the other."""
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    matched = set(zip(lo.tolist(), hi.tolist()))
    order = np.lexsort((hi, lo, -np.round(np.asarray(score, np.float64), 5)))
    owner: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    for n in order.tolist():
        a, b = int(lo[n]), int(hi[n])
        ga, gb = owner.setdefault(a, a), owner.setdefault(b, b)
        if ga == gb:
            continue
        ma, mb = members.setdefault(ga, [ga]), members.setdefault(gb, [gb])
        if all((min(x, y), max(x, y)) in matched for x in ma for y in mb):
            if len(ma) < len(mb):
                ga, gb, ma, mb = gb, ga, mb, ma
            ma.extend(mb)
            for x in mb:
                owner[x] = ga
            del members[gb]
    return [sorted(m) for m in members.values() if len(m) > 1]


def _groups_of(inputs: DuplicateInputs, rows: list[list[int]]) -> list[list[int]]:
    groups = [sorted(int(inputs.ids[r]) for r in g) for g in rows]
    return sorted(groups)


def find_duplicates(inputs: DuplicateInputs, params: Params | None = None) -> list[list[int]]:
    """Groups of track ids that hold the same recording (two or more each; sorted)."""
    params = params or Params()
    i, j, dlen, joint, emb, tags = _pairs(inputs, params)
    shorter = np.minimum(inputs.durations[i], inputs.durations[j])
    ok = _matches(params, dlen, joint, emb, tags, shorter)
    return _groups_of(inputs, group_pairs(i[ok], j[ok], _score(emb[ok], tags[ok])))


def find_duplicates_naive(inputs: DuplicateInputs, params: Params | None = None) -> list[list[int]]:
    """The same groups by comparing every pair (a songs x songs matrix): the baseline for the benchmark
    and the tests. Use :func:`find_duplicates`."""
    params = params or Params()
    rows = np.flatnonzero(inputs.usable)
    dur = inputs.durations[rows]
    dlen = np.abs(dur[:, None] - dur[None, :])
    shorter = np.minimum(dur[:, None], dur[None, :])

    def sims(block):
        if block is None or block.shape[1] == 0:
            return np.ones_like(dlen, dtype=np.float32)
        b = block[rows]
        return b @ b.T

    emb, tags = sims(inputs.embeddings), sims(inputs.tags)
    ok = _matches(params, dlen, sims(inputs.vectors), emb, tags, shorter)
    a, b = np.nonzero(np.triu(ok, 1))
    return _groups_of(inputs, group_pairs(rows[a], rows[b], _score(emb[a, b], tags[a, b])))


# ------------------------------------------------------------------------- the library's duplicates
LOSSLESS = {"flac", "wav", "aiff", "wv", "ape", "tta", "oggflac", "alac"}
TAG_FIELDS = ("title", "artist", "album", "albumartist", "tracknumber", "year", "genre")


@dataclass(frozen=True)
class DuplicateFile:
    id: int
    path: str  # the display path
    duration: float | None
    format: str | None  # the content format as the library stores it ("flac", "mp3", ...)
    samplerate: int | None
    channels: int | None
    kbps: float | None  # the file's size over its length (tags and pictures included)
    tags: int  # how many of the title, artist, album, ... tags are set
    title: str

    @property
    def lossless(self) -> bool:
        return (self.format or "").casefold() in LOSSLESS

    @property
    def folder(self) -> str:
        return os.path.dirname(self.path)


@dataclass(frozen=True)
class DuplicateGroup:
    files: list  # DuplicateFile, the one to keep first
    keep: int  # its track id
    reason: str  # why, in words: "lossless (FLAC)", "the highest bit rate (192 kbit/s)", ...


@dataclass(frozen=True)
class DuplicateReport:
    groups: list  # DuplicateGroup
    analysed: int  # songs compared (analysed, with a known length)
    tracks: int  # playable songs in the library


# The formats' names (those of the importer's messages), where the files of one recording are compared:
# "Ogg" is Ogg Vorbis there (Opus, Speex and Ogg FLAC have names of their own), an M4A file is M4A.
_NAMES = {**FORMAT_NAMES, "ogg": "Ogg Vorbis", "m4a": "M4A"}


def format_name(fmt: str | None) -> str:
    return _NAMES.get((fmt or "").casefold(), (fmt or "").upper())


def length_text(seconds: float | None) -> str:
    """A length to the hundredth of a second (re-encodes differ by milliseconds): ``3:07.25``."""
    if seconds is None:
        return "?:??"
    m, s = divmod(float(seconds), 60.0)
    return f"{int(m)}:{s:05.2f}"


def format_text(f) -> str:
    """A file's format in words: ``Ogg Vorbis, 44.1 kHz, 160 kbit/s``."""
    parts = [format_name(f.format) or "unknown format"]
    if f.samplerate:
        parts.append(f"{f.samplerate / 1000:g} kHz")
    if f.kbps:
        parts.append(f"{f.kbps:.0f} kbit/s")
    return ", ".join(parts)


def choose_keep(files: list) -> tuple[DuplicateFile, str]:
    """The file of a group that looks best to keep, and why: lossless first (then the most tags), else
    the highest bit rate (a tenth more counts), else the most tags, else the one imported first."""
    lossless = [f for f in files if f.lossless]
    if lossless:
        best = min(lossless, key=lambda f: (-f.tags, f.id))
        if len(lossless) == 1:
            return best, f"lossless ({format_name(best.format)}), the others are lossy"
        if best.tags > min(f.tags for f in lossless):
            return best, f"lossless ({format_name(best.format)}) with the most tags ({best.tags})"
        return best, f"lossless ({format_name(best.format)}), imported first"
    top = max((f.kbps or 0.0) for f in files)
    rich = [f for f in files if (f.kbps or 0.0) >= top / 1.1] if top > 0 else list(files)
    best = min(rich, key=lambda f: (-f.tags, f.id))
    if len(rich) < len(files):
        return best, f"the highest bit rate (about {best.kbps:.0f} kbit/s)"
    if best.tags > min(f.tags for f in rich):
        return best, f"the most tags ({best.tags})"
    return best, "the same quality as the others; imported first"


def read_duplicates(library, params: Params | None = None) -> DuplicateReport:
    """The library's possible duplicates: its playable tracks' lengths and song vectors, grouped."""
    from player.analysis.store import read_analysis_arrays

    rows = library.db.query("SELECT id, path, duration, format, samplerate, channels, size, "
                            + ", ".join(TAG_FIELDS) + " FROM tracks WHERE status = 'ok' ORDER BY id")
    arrays = read_analysis_arrays(library)
    inputs = inputs_from_arrays([r["id"] for r in rows], [r["duration"] for r in rows], arrays)
    groups = find_duplicates(inputs, params)
    by_id = {int(r["id"]): r for r in rows}
    out = []
    for ids in groups:
        files = [_file(by_id[t]) for t in ids]
        best, reason = choose_keep(files)
        files.sort(key=lambda f: (f.id != best.id, f.id))
        out.append(DuplicateGroup(files, best.id, reason))
    return DuplicateReport(out, int(inputs.usable.sum()), len(rows))


def _file(r) -> DuplicateFile:
    dur, size = r["duration"], r["size"]
    kbps = size * 8 / dur / 1000 if size and dur else None
    tags = sum(1 for k in TAG_FIELDS if r[k] not in (None, ""))
    title = r["title"] or os.path.splitext(os.path.basename(r["path"]))[0]
    return DuplicateFile(int(r["id"]), r["path"], dur, r["format"], r["samplerate"], r["channels"], kbps, tags, title)


__all__ = ["DuplicateFile", "DuplicateGroup", "DuplicateInputs", "DuplicateReport", "FEATURES", "Params",
           "candidate_pairs", "choose_keep", "find_duplicates", "find_duplicates_naive", "format_name",
           "group_pairs", "inputs_from_arrays", "read_duplicates", "tag_block"]

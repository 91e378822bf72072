"""Smart playlists: evaluate a query (:mod:`player.library.smart_parse`) against the library.

Metadata and listening conditions (artist, year, length, stars, plays, …) compile to one SQL ``WHERE``
with parameters; analysis conditions (``tag:X>P``, ``genre:``, ``mood:X>P``, ``like:``, ``near:``, and
``tag:X`` / ``mood:X`` of tags the label rule hides) are numpy masks over the stored analysis of the
current model, loaded once per library and reloaded only when the analysis table changes. A mask's
matching track ids reach SQL as one JSON array parameter, or, for a big set that is ANDed with the
rest, filter the SQL result in numpy. The language is documented in docs/playlists.md.

    result = evaluate(library, 'tag:piano>0.3 stars>=4 sort:-added limit:50', user_id=ann.id)
    result.track_ids, result.warnings
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from dataclasses import dataclass, field

import numpy as np

from player.analysis.store import AnalysisArrays, read_analysis_arrays as analysis_arrays
from player.library.smart_parse import And, Cond, Not, Or, Query, SmartQueryError, Words, parse, _suggest

#: A hidden tag (one the tagger's label rule never makes a label) matches ``tag:X`` when it is among the
#: song's this many most probable tags, the label rule's ``among_top`` where it has one.
HIDDEN_AMONG_TOP = 5

#: A mask ANDed at the top level with more matches than this filters the SQL result instead of
#: being sent to SQLite as a JSON array.
INJECT_MAX = 20_000


@dataclass
class SmartResult:
    track_ids: list
    warnings: list = field(default_factory=list)
    query: Query | None = None


# -- SQL pieces ---------------------------------------------------------------------------------
_TEXT_COLUMNS = {
    "title": ("COALESCE(t.title, t.path)",),
    "artist": ("t.artist", "t.albumartist"),
    "album": ("t.album",),
    "albumartist": ("t.albumartist",),
    "path": ("t.path",),
    "filegenre": ("t.genre",),
}
_NUMBER_COLUMNS = {
    "year": "t.year", "id": "t.id", "tracknumber": "t.tracknumber", "length": "t.duration",
    "plays": "COALESCE(p.n, 0)", "skips": "COALESCE(p.skips, 0)", "stars": "COALESCE(r.stars, 0)",
}
_CMP = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_SORT_SQL = {
    "title": "COALESCE(t.title, t.path) COLLATE NOCASE",
    "artist": "t.artist COLLATE NOCASE",
    "album": "t.album COLLATE NOCASE",
    "year": "t.year",
    "length": "t.duration",
    "added": "t.added_at",
    "played": "p.last",
    "plays": "COALESCE(p.n, 0)",
    "skips": "COALESCE(p.skips, 0)",
    "stars": "COALESCE(r.stars, 0)",
    "format": "t.format COLLATE NOCASE",
    "path": "t.path",
    "tracknumber": "t.tracknumber",
    "random": "random()",
}
DEFAULT_ORDER = ("t.artist COLLATE NOCASE NULLS LAST, t.album COLLATE NOCASE NULLS LAST, "
                 "t.tracknumber NULLS LAST, COALESCE(t.title, t.path) COLLATE NOCASE, t.id")


_ROW = np.dtype([("id", "i8"), ("d", "f8")])
_ORDER: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_ORDER_LOCK = threading.Lock()
#: results up to this size are put in library order by SQLite; bigger ones by a cached rank of every song
RANK_MIN = 2000


def in_library_order(library, ids: np.ndarray) -> np.ndarray:
    """The indices that put ``ids`` in library order (artist, album, track number, title, id).

    A few songs are ordered by SQLite. Many are ordered by every song's rank in that order, computed
    once with one sort in SQLite and kept until the tracks change (their count, newest id or newest
    ``updated_at``: an import, a rescan and a file going missing all set it)."""
    if len(ids) <= RANK_MIN:
        got = [r[0] for r in library.db.tuples(
            f"SELECT t.id FROM tracks t WHERE t.id IN (SELECT value FROM json_each(?)) ORDER BY {DEFAULT_ORDER}",
            (json.dumps(ids.tolist()),))]
        where = {tid: i for i, tid in enumerate(ids.tolist())}
        return np.fromiter((where[t] for t in got), np.int64, len(got))
    fp = tuple(library.db.tuples("SELECT COUNT(*), MAX(id), MAX(updated_at) FROM tracks").fetchone())
    with _ORDER_LOCK:
        cached = _ORDER.get(library)
    if cached is None or cached[0] != fp:
        sql = f"SELECT t.id FROM tracks t NOT INDEXED ORDER BY {DEFAULT_ORDER}"
        ordered = np.fromiter((r[0] for r in library.db.tuples(sql)), np.int64)
        sorted_ids = np.sort(ordered)
        rank = np.empty(len(ordered), np.int64)
        rank[np.searchsorted(sorted_ids, ordered)] = np.arange(len(ordered))
        cached = (fp, sorted_ids, rank)
        with _ORDER_LOCK:
            _ORDER[library] = cached
    _, sorted_ids, rank = cached
    pos = np.minimum(np.searchsorted(sorted_ids, ids), max(len(sorted_ids) - 1, 0))
    return np.argsort(rank[pos], kind="stable")


def _holds(c: Cond, value: float) -> bool:
    """Whether a number condition holds for ``value`` (0: a song the listener never rated or played)."""
    if c.op == "between":
        lo, hi = c.value
        return (lo is None or value >= lo) and (hi is None or value <= hi)
    return {"eq": value == c.value, "ne": value != c.value, "lt": value < c.value, "le": value <= c.value,
            "gt": value > c.value, "ge": value >= c.value}[c.op]


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _contains(hay, needle) -> int:
    return int(hay is not None and needle.casefold() in str(hay).casefold())


def _equals(hay, needle) -> int:
    return int(hay is not None and needle.casefold() == str(hay).casefold())


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest finite scores, best first; ties go to the lower index."""
    finite = int(np.isfinite(scores).sum())
    k = min(int(k), finite)
    if k <= 0:
        return np.zeros(0, np.int64)
    if k < len(scores):
        kth = np.partition(-scores, k - 1)[k - 1]
        idx = np.flatnonzero(-scores <= kth)  # everything at least as good as the k-th, ties included
    else:
        idx = np.flatnonzero(np.isfinite(scores))
    order = np.lexsort((idx, -scores[idx]))
    return idx[order[:k]]


class _Compiler:
    """One query's evaluation: names resolved, SQL built, masks computed."""

    def __init__(self, library, query: Query, user_id, now):
        self.library = library
        self.q = query
        self.user_id = user_id
        self.now = time.time() if now is None else float(now)
        self.warnings: list[str] = []
        self._arrays: AnalysisArrays | None = None
        self.similarity: dict[int, np.ndarray] = {}  # Cond id -> cosine per analysed row
        # the listener's rows are joined per song only to sort by them; conditions read them as sets
        self.need_ratings = any(s.key == "stars" for s in query.sort)
        self.need_plays = any(s.key in ("plays", "skips", "played") for s in query.sort)
        self._columns = None

    # the analysis, loaded on first use
    @property
    def arrays(self) -> AnalysisArrays:
        if self._arrays is None:
            self._arrays = analysis_arrays(self.library)
        return self._arrays

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def table_columns(self) -> dict:
        if self._columns is None:
            self._columns = {
                table: {r[1] for r in self.library.db.tuples(f"PRAGMA table_info({table})")}
                for table in ("tracks", "analysis")
            }
        return self._columns

    # -- compiling a node to (sql, params) -------------------------------------------------------
    def sql(self, node) -> tuple[str, list]:
        if isinstance(node, And):
            parts = [self.sql(x) for x in node.items]
            return "(" + " AND ".join(p for p, _ in parts) + ")", [v for _, ps in parts for v in ps]
        if isinstance(node, Or):
            parts = [self.sql(x) for x in node.items]
            return "(" + " OR ".join(p for p, _ in parts) + ")", [v for _, ps in parts for v in ps]
        if isinstance(node, Not):
            inner, params = self.sql(node.item)
            return f"(NOT {inner})", params
        if isinstance(node, Words):
            cols = ("COALESCE(t.title, t.path)", "t.artist", "t.album", "t.albumartist")
            return self._text_any(cols, "has", node.text)
        if self.is_analysis(node):
            return self.ids_sql(self.mask_ids(node))
        sql, params = self.cond_sql(node)
        return f"COALESCE({sql}, 0)", params

    @staticmethod
    def ids_sql(ids: np.ndarray) -> tuple[str, list]:
        if len(ids) == 0:
            return "0", []
        return "t.id IN (SELECT value FROM json_each(?))", [json.dumps(ids.tolist())]

    @staticmethod
    def _text_any(cols, op, value) -> tuple[str, list]:
        ascii_only = value.isascii()
        pieces, params = [], []
        for col in cols:
            if op == "has":
                if ascii_only:
                    pieces.append(f"{col} LIKE ? ESCAPE '\\'")
                    params.append(_like(value))
                else:
                    pieces.append(f"smart_contains({col}, ?)")
                    params.append(value)
            else:
                pieces.append(f"{col} = ? COLLATE NOCASE" if ascii_only else f"smart_equals({col}, ?)")
                params.append(value)
        sql = "(" + " OR ".join(f"COALESCE({p}, 0)" for p in pieces) + ")"
        return sql, params

    def cond_sql(self, c: Cond) -> tuple[str, list]:
        f = c.field
        if f in _TEXT_COLUMNS:
            if c.op == "isnt":
                sql, params = self._text_any(_TEXT_COLUMNS[f], "is", c.value)
                return f"(NOT {sql})", params
            return self._text_any(_TEXT_COLUMNS[f], c.op, c.value)
        if f == "format":
            marks = ", ".join("?" * len(c.value))
            sql = f"LOWER(t.format) IN ({marks})"
            return (f"(NOT COALESCE({sql}, 0))" if c.op == "ne" else sql), list(c.value)
        if f == "status":
            return ("1", []) if c.value == "any" else ("t.status = ?", [c.value])
        if f in ("tag", "mood") and c.op == "label":
            labels = self.label_names(c)
            if not labels:
                return "0", []
            marks = ", ".join("?" * len(labels))
            return f"t.id IN (SELECT track_id FROM track_labels WHERE label IN ({marks}))", labels
        if f in ("stars", "plays", "skips", "played"):
            return self.listening_sql(c)
        if f == "added":
            sql, params, _ = self.time_sql(c, "t.added_at")
            return sql, params
        if f == "loudness":
            return self.loudness_sql(c)
        return self.number_sql(_NUMBER_COLUMNS[f], c)

    def listening_sql(self, c: Cond) -> tuple[str, list]:
        """A condition on the listener's stars, plays, skips or last play, as a set of track ids read from
        their rows only (no join per song): ``IN`` the songs whose value passes, or ``NOT IN`` those whose
        value fails when a song without rows (unrated, never played) passes."""
        f, uid = c.field, self.user_id
        if f == "stars":
            if uid is None:
                raise SmartQueryError("'stars' needs a listener (choose one, or pass --user NAME)", c.column)
            rows, params = "SELECT track_id, stars AS v FROM ratings WHERE user_id = ?", [int(uid)]
        else:
            mine = " WHERE user_id = ?" if uid is not None else ""
            agg = {"plays": "COUNT(*)", "skips": "SUM(skipped)", "played": "MAX(started_at)"}[f]
            rows = f"SELECT track_id, {agg} AS v FROM plays{mine} GROUP BY track_id"
            params = [int(uid)] if uid is not None else []
        if f == "played":
            if c.op == "never":
                return f"t.id NOT IN (SELECT track_id FROM ({rows}))", params
            test, tparams, none_passes = self.time_sql(c, "v")
        else:
            test, tparams = self.number_sql("v", c)
            none_passes = _holds(c, 0)
        if none_passes:
            return f"t.id NOT IN (SELECT track_id FROM ({rows}) WHERE NOT ({test}))", params + tparams
        return f"t.id IN (SELECT track_id FROM ({rows}) WHERE {test})", params + tparams

    @staticmethod
    def number_sql(col: str, c: Cond) -> tuple[str, list]:
        if c.op == "between":
            lo, hi = c.value
            parts, params = [], []
            if lo is not None:
                parts.append(f"{col} >= ?")
                params.append(lo)
            if hi is not None:
                parts.append(f"{col} <= ?")
                params.append(hi)
            return "(" + " AND ".join(parts) + ")", params
        return f"{col} {_CMP[c.op]} ?", [c.value]

    def time_sql(self, c: Cond, col: str) -> tuple[str, list, bool]:
        """``added``/``played`` against ages (relative to now) and dates: ``(sql, params, holds when
        never played)``. A ``played`` condition that means "not played since T" holds for songs never
        played."""
        if c.op == "between":
            spans = []
            for bound in c.value:
                if bound is None:
                    raise SmartQueryError(f"a range of {c.field} times needs both ends "
                                          f"(or write {c.field}<… / {c.field}>…)", c.column)
                if bound[0] == "age":
                    spans.append((self.now - bound[1], self.now - bound[1]))
                else:
                    spans.append((bound[1], bound[2] - 1e-3))
            return f"{col} BETWEEN ? AND ?", [min(s for s, _ in spans), max(e for _, e in spans)], False
        v = c.value
        if v[0] == "age":  # an age compares the other way round: added<30d is added after now - 30 days
            t = self.now - v[1]
            op = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "ge", "ne": "lt"}[c.op]
            cmp, params = f"{col} {_CMP[op]} ?", [t]
        else:
            start, end = v[1], v[2]
            cmp, params = {
                "gt": (f"{col} >= ?", [end]),
                "ge": (f"{col} >= ?", [start]),
                "lt": (f"{col} < ?", [start]),
                "le": (f"{col} < ?", [end]),
                "eq": (f"({col} >= ? AND {col} < ?)", [start, end]),
                "ne": (f"({col} < ? OR {col} >= ?)", [start, end]),
            }[c.op]
            op = c.op
        return cmp, params, op in ("lt", "le", "ne")

    def loudness_sql(self, c: Cond) -> tuple[str, list]:
        cols = self.table_columns()
        for table, alias in (("tracks", "t"), ("analysis", None)):
            for name in ("loudness", "loudness_lufs", "integrated_loudness"):
                if name in cols[table]:
                    if alias:
                        return self.number_sql(f"t.{name}", c)
                    sql, params = self.number_sql(f"a.{name}", c)
                    return f"t.id IN (SELECT a.track_id FROM analysis a WHERE a.status = 'ok' AND {sql})", params
        self.warn(f"loudness is not measured in this library yet, so '{c.text}' matches no song")
        return "0", []

    # -- analysis conditions ---------------------------------------------------------------------
    def is_analysis(self, node) -> bool:
        """Whether a condition is a mask over the stored analysis (a label condition is one when it names a
        hidden tag: :meth:`hidden_of`)."""
        if not isinstance(node, Cond):
            return False
        if node.field in ("like", "near", "genre"):
            return True
        return node.field in ("tag", "mood") and (node.op != "label" or bool(self.hidden_of(node)))

    def label_rule(self) -> tuple[set, int]:
        """(the casefolded tags the current tagger never shows as labels, the label rule's ``among_top``);
        no hidden tags when the rule cannot be read or is another tagger's. Cached with the arrays."""
        a = self.arrays
        cached = a.derived.get("smart.label_rule")
        if cached is None:
            cached = (set(), HIDDEN_AMONG_TOP)
            try:
                from player.analysis.relabel import current_rule

                _tagger, rule, names = current_rule()
            except Exception:  # noqa: BLE001 - no tagger installed, a broken rule: every tag counts as shown
                names = None
            if names is not None and a.tag_names is not None and \
                    [n.casefold() for n in names] == [n.casefold() for n in a.tag_names]:
                cached = ({n.casefold() for n, shown in zip(names, rule.shown) if not shown},
                          int(rule.among_top or HIDDEN_AMONG_TOP))
            a.derived["smart.label_rule"] = cached
        return cached

    def hidden_of(self, c: Cond) -> list:
        """The hidden tags a label condition (``tag:X``, ``mood:X``) names, in the tagger's spelling."""
        if c.op != "label" or c.field not in ("tag", "mood"):
            return []
        a = self.arrays
        if a.tag_names is None or a.tag_probs is None:
            return []
        hidden, _k = self.label_rule()
        if not hidden:
            return []
        wanted = [c.name] if c.field == "tag" else self.mood_tags(c)
        by_fold = {n.casefold(): n for n in a.tag_names}
        out = []
        for name in wanted:
            key = name.casefold()
            if key in hidden and by_fold[key] not in out:
                out.append(by_fold[key])
        return out

    def among_top(self) -> np.ndarray:
        """bool (songs, tags): the tag is among the song's most probable (ties: the tag listed first, as in
        the label rule); False for a song without usable tag probabilities."""
        a = self.arrays
        _hidden, k = self.label_rule()
        key = ("smart.among_top", k)
        top = a.derived.get(key)
        if top is None:
            from player.analysis.labels import among_top_mask  # the label rule's own ranking

            top = among_top_mask(a.tag_probs, k)
            top.setflags(write=False)
            a.derived[key] = top
        return top

    def hidden_label_ids(self, c: Cond) -> np.ndarray:
        """``tag:X`` / ``mood:X`` naming hidden tags: the songs that have one of them among their most
        probable tags, and (a mood) those with one of its shown tags as a label."""
        a = self.arrays
        hidden = self.hidden_of(c)
        _h, k = self.label_rule()
        folded = [n.casefold() for n in a.tag_names]
        cols = [folded.index(h.casefold()) for h in hidden]
        ids = a.ids[self.among_top()[:, cols].any(axis=1)]
        if c.field == "tag":
            self.warn(f"'{hidden[0]}' is a tag the player does not show as a label (the tagger is less sure of "
                      f"it), so '{c.text}' matches the songs that have it among their {k} most probable tags")
            return ids
        shown = [x for x in self.label_names(c) if x.casefold() not in {h.casefold() for h in hidden}]
        self.warn(f"the mood '{c.name}' has tags the player does not show as labels ({', '.join(hidden)}), so "
                  f"'{c.text}' matches the songs that have one of them among their {k} most probable tags"
                  + (", or another of its tags as a label" if shown else ""))
        if shown:
            marks = ", ".join("?" * len(shown))
            labelled = np.fromiter((r[0] for r in self.library.db.tuples(
                f"SELECT DISTINCT track_id FROM track_labels WHERE label IN ({marks})", shown)), np.int64)
            ids = np.union1d(ids, labelled)
        return ids

    def _require(self, what, names, c: Cond, kind: str):
        if names is None:
            a = self.arrays
            model = f"the analysis model {a.version!r}" if a.version else "an analysis model"
            raise SmartQueryError(f"{kind} probabilities cannot be read: {model} is not installed (its {kind} "
                                  "names are unknown)", c.column)
        if what is None or len(self.arrays.ids) == 0:
            self.warn(f"no song is analysed with the current models yet, so '{c.text}' matches nothing until "
                      "the analysis has run")
            return False
        return True

    def _column(self, names: list, c: Cond, kind: str) -> int:
        folded = [n.casefold() for n in names]
        key = c.name.casefold()
        if key not in folded:
            raise SmartQueryError(f"unknown {kind} '{c.name}'{_suggest(c.name, names)} "
                                  f"(known: {', '.join(names)})", c.name_column)
        return folded.index(key)

    def label_names(self, c: Cond) -> list:
        """``tag:X`` / ``mood:X`` without a threshold: the stored label spellings to look for."""
        a = self.arrays
        known = dict(a.labels)
        for name in a.tag_names or ():
            known.setdefault(name.casefold(), name)
        if c.field == "tag":
            if c.name.casefold() not in known:
                if not known:
                    self.warn(f"no song is analysed yet, so '{c.text}' matches nothing until the analysis has run")
                    return []
                names = sorted(known.values(), key=str.casefold)
                raise SmartQueryError(f"unknown tag '{c.name}'{_suggest(c.name, names)}", c.name_column)
            return [known[c.name.casefold()]]
        return [known[x.casefold()] for x in self.mood_tags(c) if x.casefold() in known]

    def mood_tags(self, c: Cond) -> list:
        from player.recommend.moods import known_moods, labels_for_mood

        tags = labels_for_mood(c.name)
        if tags is None:
            raise SmartQueryError(f"unknown mood '{c.name}'{_suggest(c.name, known_moods())} "
                                  f"(known: {', '.join(known_moods())})", c.name_column)
        if not tags:
            self.warn(f"the mood '{c.name}' has no tags, so '{c.text}' matches nothing")
        return tags

    def mask_ids(self, c: Cond) -> np.ndarray:
        """The track ids an analysis condition holds for."""
        a = self.arrays
        if c.field in ("like", "near"):
            return self.similar_ids(c)
        if c.op == "label" and c.field in ("tag", "mood"):
            return self.hidden_label_ids(c)
        if c.field == "genre":
            if not self._require(a.genre_probs, a.genre_names, c, "genre"):
                return a.ids[:0]
            k = self._column(a.genre_names, c, "genre")
            probs = a.genre_probs
            if c.op == "label":
                valid = ~np.isnan(probs).any(axis=1)
                mask = valid & (np.argmax(np.nan_to_num(probs, nan=-1.0), axis=1) == k)
            else:
                mask = self._compare(probs[:, k], c)
            return a.ids[mask]
        if not self._require(a.tag_probs, a.tag_names, c, "tag"):
            return a.ids[:0]
        if c.field == "tag":
            values = a.tag_probs[:, self._column(a.tag_names, c, "tag")]
        else:
            folded = [n.casefold() for n in a.tag_names]
            cols = [folded.index(x.casefold()) for x in self.mood_tags(c) if x.casefold() in folded]
            if not cols:
                self.warn(f"none of the mood '{c.name}' tags is a tag of the current model, so '{c.text}' matches "
                          "nothing")
                return a.ids[:0]
            values = a.tag_probs[:, cols].max(axis=1)
        return a.ids[self._compare(values, c)]

    @staticmethod
    def _compare(values: np.ndarray, c: Cond) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return {"gt": np.greater, "ge": np.greater_equal, "lt": np.less, "le": np.less_equal}[c.op](
                values, c.value)

    def similar_ids(self, c: Cond) -> np.ndarray:
        a = self.arrays
        track = self.resolve_track(c)
        i = a.index_of(track.id)
        # the recommender's similarity space (both models' outputs, standardised over this library)
        from player.recommend.data import known_of, vectors_of
        from player.recommend.engine import _one_blas_thread  # a small product: one BLAS thread

        vectors = vectors_of(a) if len(a.ids) else None
        has = known_of(a) if vectors is not None else None
        if vectors is None or i < 0 or not has[i]:
            self.warn(f"“{track.title}” is not analysed yet, so '{c.text}' matches nothing")
            return a.ids[:0]
        with _one_blas_thread():
            # to 6 decimals (float32 vectors hold no more): songs with the same analysis tie exactly
            sims = np.round((vectors @ vectors[i]).astype(np.float64), 6)
        sims[~has] = np.nan
        self.similarity[id(c)] = sims
        if c.field == "like":
            return a.ids[self._compare(sims, c)]
        cand = np.where(np.isnan(sims), -np.inf, sims)
        cand[i] = -np.inf
        if not self.q.uses("status"):  # the nearest songs that can be listed: playable ones
            cand[np.isin(a.ids, self.unplayable())] = -np.inf
        return a.ids[top_k(cand, int(c.value))]

    def unplayable(self) -> np.ndarray:
        return np.fromiter((r[0] for r in self.library.db.tuples("SELECT id FROM tracks WHERE status != 'ok'")),
                           np.int64)

    def resolve_track(self, c: Cond):
        from player.errors import LibraryError

        try:
            return self.library.resolve_track(c.name)
        except LibraryError as exc:
            raise SmartQueryError(str(exc), c.name_column) from None

    # -- running ---------------------------------------------------------------------------------
    def run(self) -> SmartResult:
        q = self.q
        conn = self.library.db.conn
        conn.create_function("smart_contains", 2, _contains, deterministic=True)
        conn.create_function("smart_equals", 2, _equals, deterministic=True)
        where, params, post = [], [], None
        items = () if q.where is None else (q.where.items if isinstance(q.where, And) else (q.where,))
        for node in items:
            if self.is_analysis(node):
                ids = self.mask_ids(node)
                post = ids if post is None else np.intersect1d(post, ids, assume_unique=True)
                continue
            sql, ps = self.sql(node)
            where.append(sql)
            params += ps
        if post is not None and len(post) <= INJECT_MAX:
            sql, ps = self.ids_sql(post)
            where.insert(0, sql)
            params[:0] = ps
            post = None
        if not q.uses("status"):
            where.append("t.status = 'ok'")
        order, numpy_sort = self.order()
        joins, jparams = [], []
        if self.need_ratings:
            if self.user_id is None:
                col = next((s.column for s in q.sort if s.key == "stars"), 1)
                raise SmartQueryError("'stars' needs a listener (choose one, or pass --user NAME)", col)
            joins.append("LEFT JOIN ratings r ON r.track_id = t.id AND r.user_id = ?")
            jparams.append(int(self.user_id))
        if self.need_plays:
            mine = "WHERE user_id = ? " if self.user_id is not None else ""
            joins.append("LEFT JOIN (SELECT track_id, COUNT(*) AS n, SUM(skipped) AS skips, MAX(started_at) AS last "
                         f"FROM plays {mine}GROUP BY track_id) p ON p.track_id = t.id")
            if self.user_id is not None:
                jparams.append(int(self.user_id))
        # NOT INDEXED: one scan of the table (or rowid lookups) beats walking an index on status (that
        # nearly every song matches) or on artist (to skip the sort) with a random read per song
        sql = "SELECT t.id, COALESCE(t.duration, 0) FROM tracks t NOT INDEXED " + " ".join(joins)
        if where:
            sql += " WHERE " + " AND ".join(where)
        limit = q.limit
        library_order = not q.sort and not numpy_sort and limit is None  # (a limit: SQLite's top-N sort)
        if not library_order:
            sql += " ORDER BY " + order
        in_sql = post is None and not numpy_sort and not library_order  # SQL's order is final: limits go in SQL
        if limit is not None and limit.count and in_sql:
            sql += f" LIMIT {int(limit.count)}"
        if limit is not None and limit.seconds and in_sql:
            # a length limit: ask for a few songs more than it can hold (SQLite then keeps only the best N
            # while sorting), and more only when they are not enough
            k = 64 + int(limit.seconds / 60)
            while True:
                rows = np.fromiter(self.library.db.tuples(f"{sql} LIMIT {k}", jparams + params), _ROW)
                if len(rows) < k or rows["d"].sum() > limit.seconds:
                    break
                k *= 4
        else:
            rows = np.fromiter(self.library.db.tuples(sql, jparams + params), _ROW)
        ids, durations = rows["id"], rows["d"]
        if post is not None:
            keep = np.isin(ids, post, assume_unique=False)
            ids, durations = ids[keep], durations[keep]
        if library_order:
            order_idx = in_library_order(self.library, ids)
            ids, durations = ids[order_idx], durations[order_idx]
        if numpy_sort:
            sims = self.similarity_of(ids)
            order_idx = np.argsort(-sims, kind="stable")
            if numpy_sort == "asc":
                order_idx = np.argsort(sims, kind="stable")
            ids, durations = ids[order_idx], durations[order_idx]
        if limit is not None:
            if limit.count:
                ids = ids[: limit.count]
            else:
                total = np.cumsum(durations)
                ids = ids[: int(np.searchsorted(total, limit.seconds + 1e-9, side="right"))]
        return SmartResult(ids.tolist(), self.warnings, q)

    def order(self) -> tuple[str, str | None]:
        """The SQL ORDER BY, and 'desc'/'asc' when the similarity sort comes first (done in numpy)."""
        q = self.q
        keys = list(q.sort)
        similar_conds = [c for c in q.conds if c.field in ("like", "near")]
        numpy_sort = None
        if keys and keys[0].key == "similar" or not keys and similar_conds:
            if keys:
                numpy_sort = "asc" if keys[0].descending else "desc"  # most similar first by default
                keys = keys[1:]
            else:
                numpy_sort = "desc"
            if not similar_conds:
                raise SmartQueryError("'sort:similar' needs like: or near: in the query", q.sort[0].column)
        for s in keys:
            if s.key == "similar":
                raise SmartQueryError("'sort:similar' must be the first sort key", s.column)
        parts = []
        for s in keys:
            expr = _SORT_SQL[s.key]
            parts.append(expr if s.key == "random" else f"{expr} {'DESC' if s.descending else 'ASC'} NULLS LAST")
        if not parts and numpy_sort:
            return "t.id", numpy_sort
        order = ", ".join(parts) + ", " + DEFAULT_ORDER if parts else DEFAULT_ORDER
        return order, numpy_sort

    def similarity_of(self, ids: np.ndarray) -> np.ndarray:
        """The highest like:/near: cosine of each song (-inf where not analysed)."""
        a = self.arrays
        best = np.full(len(ids), -np.inf)
        if not self.similarity or not len(ids):
            return best
        pos = np.searchsorted(a.ids, ids)
        pos = np.minimum(pos, max(len(a.ids) - 1, 0))
        found = (a.ids[pos] == ids) if len(a.ids) else np.zeros(len(ids), bool)
        for sims in self.similarity.values():
            vals = np.where(found, sims[pos], -np.inf)
            best = np.fmax(best, np.nan_to_num(vals, nan=-np.inf))
        return best


def evaluate(library, query, *, user_id: int | None = None, now: float | None = None) -> SmartResult:
    """The songs a smart-playlist query selects, in order (a :class:`SmartQueryError` for a mistake).

    ``user_id`` is the listener whose stars and plays ``stars:``, ``plays:``, ``skips:`` and
    ``played:`` read (without one, ``plays``/``skips``/``played`` count everybody's and ``stars`` is a
    mistake). ``now`` fixes the clock for ages (tests)."""
    q = parse(query) if isinstance(query, str) else query
    return _Compiler(library, q, user_id, now).run()


def check(library, query: str) -> Query:
    """Parse and resolve a query against the library (tag, genre and mood names, tracks) without
    keeping the result: the :class:`SmartQueryError` a playlist would give, raised now."""
    q = parse(query)
    needs_user = q.uses("stars") or any(s.key == "stars" for s in q.sort)
    user = None
    if needs_user:  # any listener will do to check the query; the real one is given when it is read
        row = library.db.query_one("SELECT id FROM users LIMIT 1")
        user = int(row[0]) if row is not None else -1
    _Compiler(library, q, user, None).run()
    return q


__all__ = ["evaluate", "check", "parse", "SmartResult", "SmartQueryError", "AnalysisArrays", "analysis_arrays"]

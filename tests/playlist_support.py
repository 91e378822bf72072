"""Helpers for the playlist tests and benchmark: songs with full metadata and an analysis of the
current models written into a real library file, and a slow, literal Python evaluator of the
smart-playlist language (one song at a time, no SQL predicates, no numpy) to compare against."""

from __future__ import annotations

import math
import os
import time

import numpy as np

from player.analysis.store import _model_labels
from player.library.smart_parse import And, Cond, Not, Or, Words, parse

NOW = 1_800_000_000.0
DAY = 86400.0


def current_models() -> tuple[str, list, list]:
    from player.analysis.engine import model_version

    version = model_version()
    tags, genres = _model_labels(version)
    return version, tags, genres


def add_song(lib, title, *, artist=None, album=None, albumartist=None, year=None, duration=200.0, fmt="ogg",
             genre_tag=None, added_days=10.0, tags=None, genre=None, embedding=None, status="ok",
             tracknumber=None, version=None, folder="/music") -> int:
    """One track row (+ its analysis when ``tags``/``genre``/``embedding`` are given). ``tags``: tag name ->
    probability (others 0.05); labels with probability >= 0.5 are stored with count 1. ``genre``: the top
    genre's name (probability 0.6, the rest share 0.4) or a dict of probabilities."""
    version_, tag_names, genre_names = current_models() if version is None else (version, None, None)
    if version is not None:
        tag_names, genre_names = _model_labels(version)
    path = os.path.join(folder, f"{title}-{time.monotonic_ns()}.{fmt}")
    with lib.db.transaction() as c:
        tid = int(c.execute(
            "INSERT INTO tracks(path_raw, path, title, artist, album, albumartist, tracknumber, year, genre, duration, "
            "format, added_at, updated_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (os.fsencode(path), path, title, artist, album, albumartist, tracknumber, year, genre_tag, duration, fmt,
             NOW - added_days * DAY, NOW, status)).lastrowid)
        if tags is None and genre is None and embedding is None:
            return tid
        tp = np.full(len(tag_names), 0.05, np.float32)
        for name, p in (tags or {}).items():
            tp[tag_names.index(name)] = p
        gp = np.full(len(genre_names), 0.4 / max(1, len(genre_names) - 1), np.float32)
        if isinstance(genre, dict):
            gp[:] = 0
            for name, p in genre.items():
                gp[genre_names.index(name)] = p
        elif genre:
            gp[genre_names.index(genre)] = 0.6
        emb = np.asarray(embedding if embedding is not None else np.ones(32), np.float32)
        c.execute("INSERT INTO analysis(track_id, model_version, analysed_at, status, n_excerpts, tag_probs, "
                  "genre_probs, embedding) VALUES (?, ?, ?, 'ok', 1, ?, ?, ?)",
                  (tid, version_, time.time(), tp.tobytes(), gp.tobytes(), emb.tobytes()))
        c.executemany("INSERT INTO track_labels(track_id, label, count, probability) VALUES (?, ?, 1, ?)",
                      [(tid, name, float(p)) for name, p in zip(tag_names, tp.tolist()) if p >= 0.5])
    return tid


# ---------------------------------------------------------------------------------------------
# the reference: every song read into a dict, the tree walked per song
# ---------------------------------------------------------------------------------------------
def _songs(lib, user_id):
    from player.analysis.store import _model_labels as labels_of

    rows = lib.db.query("SELECT * FROM tracks ORDER BY id")
    songs = []
    for r in rows:
        songs.append({k: r[k] for k in r.keys()})
    by_id = {s["id"]: s for s in songs}
    for s in songs:
        s.update(stars=0, plays=0, skips=0, last=None, labels=set(), tag=None, genre=None, emb=None)
    for r in lib.db.query("SELECT track_id, stars FROM ratings WHERE user_id = ?", (user_id if user_id else -1,)):
        by_id[r[0]]["stars"] = r[1]
    sql = "SELECT track_id, started_at, skipped FROM plays" + (" WHERE user_id = ?" if user_id else "")
    for tid, started, skipped in lib.db.query(sql, (user_id,) if user_id else ()):
        s = by_id[tid]
        s["plays"] += 1
        s["skips"] += skipped
        s["last"] = started if s["last"] is None else max(s["last"], started)
    for r in lib.db.query("SELECT track_id, label FROM track_labels"):
        by_id[r[0]]["labels"].add(r[1].casefold())
    version, tag_names, genre_names = current_models()
    for r in lib.db.query("SELECT track_id, tag_probs, genre_probs, embedding FROM analysis "
                          "WHERE status = 'ok' AND model_version = ?", (version,)):
        s = by_id[r[0]]
        s["tag"] = dict(zip([n.casefold() for n in tag_names], np.frombuffer(r[1], np.float32).tolist()))
        gp = np.frombuffer(r[2], np.float32).tolist()
        s["genre"] = dict(zip([n.casefold() for n in genre_names], gp))
        s["top_genre"] = genre_names[max(range(len(gp)), key=lambda i: gp[i])].casefold()
        e = np.frombuffer(r[3], np.float32).tolist()
        norm = math.sqrt(sum(x * x for x in e))
        s["emb"] = [x / norm for x in e] if norm else None
    return songs, by_id


def _cmp(op, a, b):
    if a is None:
        return False
    return {"eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]


def _contains(hay, needle):
    return hay is not None and needle.casefold() in str(hay).casefold()


def _time_ok(c, value, now, never_ok):
    if c.op == "never":
        return value is None
    if c.op == "between":
        spans = [(now - b[1], now - b[1]) if b[0] == "age" else (b[1], b[2] - 1e-3) for b in c.value]
        lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
        return value is not None and lo <= value <= hi
    v = c.value
    if v[0] == "age":
        t = now - v[1]
        op = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "ge", "ne": "lt"}[c.op]
        if value is None:
            return never_ok and op in ("lt", "le")
        return _cmp(op, value, t)
    start, end = v[1], v[2]
    if value is None:
        return never_ok and c.op in ("lt", "le", "ne")
    return {"gt": value >= end, "ge": value >= start, "lt": value < start, "le": value < end,
            "eq": start <= value < end, "ne": not (start <= value < end)}[c.op]


def reference_evaluate(lib, text, *, user_id=None, now=None):
    """The track ids the query selects, by walking the tree for each song (slow and literal)."""
    from player.recommend.moods import labels_for_mood

    q = parse(text)
    now = time.time() if now is None else now
    songs, by_id = _songs(lib, user_id)
    sims = {}
    for c in q.conds:
        if c.field in ("like", "near"):
            seed = by_id[int(c.name)]["emb"]
            sims[id(c)] = {s["id"]: (sum(a * b for a, b in zip(seed, s["emb"])) if s["emb"] and seed else None)
                           for s in songs}
            if c.field == "near":
                ranked = sorted((-v, tid) for tid, v in sims[id(c)].items()
                                if v is not None and tid != int(c.name)
                                and (q.uses("status") or by_id[tid]["status"] == "ok"))
                sims[("near", id(c))] = {tid for _, tid in ranked[: c.value]}

    def holds(node, s):
        if isinstance(node, And):
            return all(holds(x, s) for x in node.items)
        if isinstance(node, Or):
            return any(holds(x, s) for x in node.items)
        if isinstance(node, Not):
            return not holds(node.item, s)
        if isinstance(node, Words):
            return any(_contains(s[k] if k != "title" else (s["title"] or s["path"]), node.text)
                       for k in ("title", "artist", "album", "albumartist"))
        c: Cond = node
        f = c.field
        if f in ("title", "artist", "album", "albumartist", "path", "filegenre"):
            cols = {"title": ["title"], "artist": ["artist", "albumartist"], "filegenre": ["genre"]}.get(f, [f])
            vals = [(s["title"] or s["path"]) if k == "title" else s[k] for k in cols]
            if c.op == "has":
                return any(_contains(v, c.value) for v in vals)
            same = any(v is not None and v.casefold() == c.value.casefold() for v in vals)
            return same if c.op == "is" else not same
        if f == "format":
            inside = (s["format"] or "").lower() in c.value
            return inside if c.op == "eq" else not inside
        if f == "status":
            return c.value == "any" or s["status"] == c.value
        if f in ("added", "played"):
            return _time_ok(c, s["added_at"] if f == "added" else s["last"], now, f == "played")
        if f in ("tag", "mood") and c.op == "label":
            names = [c.name] if f == "tag" else labels_for_mood(c.name)
            return any(n.casefold() in s["labels"] for n in names)
        if f == "tag":
            return s["tag"] is not None and _cmp(c.op, s["tag"][c.name.casefold()], c.value)
        if f == "mood":
            if s["tag"] is None:
                return False
            vals = [s["tag"][n.casefold()] for n in labels_for_mood(c.name) if n.casefold() in s["tag"]]
            return bool(vals) and _cmp(c.op, max(vals), c.value)
        if f == "genre":
            if s["genre"] is None:
                return False
            if c.op == "label":
                return s["top_genre"] == c.name.casefold()
            return _cmp(c.op, s["genre"][c.name.casefold()], c.value)
        if f == "like":
            return _cmp(c.op, sims[id(c)][s["id"]], c.value)
        if f == "near":
            return s["id"] in sims[("near", id(c))]
        col = {"length": "duration"}.get(f, f)
        value = s[col]
        if c.op == "between":
            lo, hi = c.value
            return value is not None and (lo is None or value >= lo) and (hi is None or value <= hi)
        return _cmp(c.op, value, c.value)

    chosen = [s for s in songs if (q.where is None or holds(q.where, s))
              and (q.uses("status") or s["status"] == "ok")]

    def text_key(v):
        return (v is None, (v or "").casefold())

    def default_key(s):
        return (text_key(s["artist"]), text_key(s["album"]), (s["tracknumber"] is None, s["tracknumber"] or 0),
                (s["title"] or s["path"]).casefold(), s["id"])

    chosen.sort(key=default_key)
    if not q.sort and sims:  # like:/near: without a sort: the most similar first, ties by id
        def best(s):
            vals = [v[s["id"]] for k, v in sims.items() if not isinstance(k, tuple) and v[s["id"]] is not None]
            return max(vals) if vals else -math.inf
        chosen.sort(key=lambda s: (-best(s), s["id"]))
    for key in reversed(q.sort):
        getter = {"title": lambda s: (s["title"] or s["path"]).casefold(), "artist": lambda s: s["artist"],
                  "album": lambda s: s["album"], "year": lambda s: s["year"], "length": lambda s: s["duration"],
                  "added": lambda s: s["added_at"], "played": lambda s: s["last"], "plays": lambda s: s["plays"],
                  "skips": lambda s: s["skips"], "stars": lambda s: s["stars"], "path": lambda s: s["path"],
                  "tracknumber": lambda s: s["tracknumber"]}[key.key]
        known = [s for s in chosen if getter(s) is not None]
        unknown = [s for s in chosen if getter(s) is None]
        known.sort(key=lambda s: getter(s).casefold() if isinstance(getter(s), str) else getter(s),
                   reverse=key.descending)
        chosen = known + unknown
    if q.limit is not None:
        if q.limit.count:
            chosen = chosen[: q.limit.count]
        else:
            total, out = 0.0, []
            for s in chosen:
                total += s["duration"] or 0.0
                if total > q.limit.seconds + 1e-9:
                    break
                out.append(s)
            chosen = out
    return [s["id"] for s in chosen]

"""Song radio: an endless stream of songs from a seed (a song, an album, an artist, a tag or a playlist).

Every song s is scored against what the radio knows, each term a cosine in [-1, 1] or a score in [0, 1]:

* **seed**: cos(c0, e_s), c0 the unit mean song vector of the seed's songs (for a tag seed, the songs
  carrying it, weighted by the tag's TF-IDF weight, plus that weight itself; for a tag the label rule
  hides, the songs above the library's mean for it in the tag probabilities, plus that cosine);
* **recent**: cos(c, e_s), where the centre c starts at c0 and drifts towards every song the radio
  gives or the listener plays: c <- unit((1 - drift) c + drift e) (``drift`` 0.2: slowly);
* **taste**: for each listener, the mean of the label-profile cosine (``Recommender.profile_scores``)
  and the taste-embedding cosine, averaged over the listeners who have rated songs;
* **history**: the listeners' co-occurrence history score (``Recommender.history_scores``);

  score(s) = sum W_c v_c(s) / sum W_c  -  W_skip * max(0, cos(k, e_s)),

k the unit sum of the song vectors of the songs skipped (or rated 1-2 stars) while the radio plays
(W_skip 1.0: in the similarity space an unrelated song is near 0, so a skip pushes as hard as the seed
pulls). A song without a song vector gets each embedding term's mean (and "not analysed yet" in its reason).

Never: a song that is not playable, one any listener rated at or below ``dislike_threshold``, one
given or played within ``no_repeat_hours`` (4 h), or the same artist twice in a row (unless no other
artist is left). The radio is endless while songs remain: :meth:`Radio.next` gives the next batch, and
iterating over the radio yields songs until every playable song was heard within the window.
:meth:`Radio.played` and :meth:`Radio.rated` steer it while it plays. numpy only.

    radio = Radio(rec, seed_from(rec, "artist:Ada Lumen"), user_ids=[ann.id])
    for pick in radio.next(10): ...           # RadioPick(track_id, score, reason, parts)
    radio.played(pick.track_id, skipped=True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from player.errors import PlayerError
from player.recommend.engine import _one_blas_thread as one_blas_thread  # small products: one BLAS thread
from player.recommend.explain import shorten
from player.recommend.vectors import unit


class RadioError(PlayerError, LookupError):
    """A seed the radio cannot start from (unknown artist, album, tag; an empty playlist), in words."""


@dataclass(frozen=True)
class RadioSettings:
    batch: int = 10  # songs per call of next()
    no_repeat_hours: float = 4.0  # a song given or played this recently is not given again
    weight_seed: float = 1.0
    weight_recent: float = 0.6  # the centre drifting with what was played
    weight_taste: float = 0.5
    weight_history: float = 0.25
    # how hard songs like the skipped ones are pushed down: as hard as the seed pulls, since cosines in the
    # similarity space (centred on the library) put an unrelated song near 0 or below, not near 1
    weight_skip: float = 1.0
    drift: float = 0.2  # how far the centre moves towards each song played
    dislike_threshold: int = 2  # songs any listener rated at or below this are never given

    def __post_init__(self):
        for name in ("no_repeat_hours", "weight_seed", "weight_recent", "weight_taste", "weight_history",
                     "weight_skip"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
                raise ValueError(f"radio setting {name} must be a number >= 0, not {value!r}")
        if not 0 <= self.drift <= 1:
            raise ValueError(f"radio setting drift must be from 0 to 1, not {self.drift!r}")
        if int(self.batch) < 1:
            raise ValueError(f"radio setting batch must be at least 1, not {self.batch!r}")


@dataclass(frozen=True, eq=False)
class RadioSeed:
    kind: str  # 'song', 'album', 'artist', 'tag', 'playlist'
    label: str  # how reasons name it: “Moonlight”, Ada Lumen, piano, “Road trip”
    positions: np.ndarray  # the seed's songs (positions in the recommender's index)
    weights: np.ndarray | None = None  # per seed song (tag seeds: the tag's weight)
    label_column: int = -1  # tag seeds: the tag's column in the label matrix
    tag_direction: np.ndarray | None = None  # a tag the labels hide: its direction in the tag block


@dataclass(frozen=True)
class RadioPick:
    track_id: int
    score: float
    reason: str
    analysed: bool
    parts: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"id": self.track_id, "score": round(self.score, 6), "reason": self.reason, "analysed": self.analysed}


def _match(values: list, name: str) -> np.ndarray:
    key = " ".join(str(name).split()).casefold()
    return np.fromiter((v is not None and " ".join(str(v).split()).casefold() == key for v in values), bool,
                       len(values))


def _hidden_tag_seed(index, name: str) -> RadioSeed:
    """A tag that is no song's label (the label rule hides the tags the tagger is less sure of) still seeds
    a radio through the tag probabilities: its seed songs are those above the library's mean for it,
    weighted by how far above, as the mood reads it (:meth:`LibraryIndex.mood_query`)."""
    basis, direction, tags = index.mood_query([name], "tags")
    if basis != "tags" or direction is None:
        raise RadioError(f"no analysed song has the tag {name!r} (yet)")
    scores = index.mood_scores(direction)
    hit = np.flatnonzero(index.has_tags & (scores > 0))
    if not hit.size:
        raise RadioError(f"no analysed song has the tag {name!r} (yet)")
    return RadioSeed("tag", tags[0], hit, scores[hit], tag_direction=direction)


def seed_from(rec, spec, *, playlist=None) -> RadioSeed:
    """The seed ``spec`` names: a track id (int or digits), ``album:NAME``, ``artist:NAME``, ``tag:NAME``
    or ``playlist:NAME`` (``playlist(name) -> (shown name, track ids)`` looks a playlist up).
    A :class:`RadioError` in words when nothing matches."""
    index = rec.index
    text = str(spec).strip()
    kind, sep, name = text.partition(":")
    kind = kind.strip().lower()
    if isinstance(spec, (int, np.integer)) or text.isdigit():
        pos = int(index.positions(np.array([int(text)]))[0])
        if pos < 0:
            raise RadioError(f"no track with id {text} in the library (or it was added since the last reload)")
        return RadioSeed("song", f"“{shorten(index.titles[pos])}”", np.array([pos]))
    if not sep or kind not in ("album", "artist", "tag", "playlist") or not name.strip():
        raise RadioError(f"cannot start a radio from {text!r}: give a track, album:NAME, artist:NAME, tag:NAME "
                         "or playlist:NAME")
    name = name.strip()
    if kind == "artist":
        hit = np.flatnonzero(_match(index.artists, name))
        if not hit.size:
            raise RadioError(f"no artist called {name!r} in the library")
        return RadioSeed("artist", shorten(index.artists[hit[0]], 24), hit)
    if kind == "album":
        hit = np.flatnonzero(_match(index.albums, name))
        if not hit.size:
            raise RadioError(f"no album called {name!r} in the library")
        return RadioSeed("album", f"the album “{shorten(index.albums[hit[0]])}”", hit)
    if kind == "tag":
        col = index.label_index.get(name.casefold())
        if col is None:
            return _hidden_tag_seed(index, name)
        weights = np.asarray(index.X[:, col].todense()).ravel()
        hit = np.flatnonzero(weights > 0)
        return RadioSeed("tag", index.label_names[col], hit, weights[hit], col)
    if playlist is None:
        raise RadioError("a playlist seed needs the library's playlists")
    shown, ids = playlist(name)
    pos = index.positions(np.asarray(list(ids), np.int64))
    pos = np.unique(pos[pos >= 0])
    if not pos.size:
        raise RadioError(f"the playlist {shown!r} has no songs the radio knows")
    return RadioSeed("playlist", f"“{shorten(shown)}”", pos)


def recent_plays(rec, user_ids, since: float) -> dict[int, float]:
    """position -> time of the latest play since ``since`` by any of ``user_ids`` (all listeners if none)."""
    history = rec.state.history
    history.sync(rec.source)
    p = history.plays
    if not len(p):
        return {}
    keep = p["started_at"] >= since
    if user_ids:
        keep &= np.isin(p["user"], np.asarray(list(user_ids), np.int64))
    pos = rec.index.positions(p["track"][keep])
    out: dict[int, float] = {}
    for j, t in zip(pos.tolist(), p["started_at"][keep].tolist()):
        if j >= 0 and t > out.get(j, -np.inf):
            out[j] = t
    return out


def join_names(names: list[str]) -> str:
    names = [str(n) for n in names]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def listeners_terms(rec, user_ids) -> tuple[list[dict], np.ndarray | None, np.ndarray | None]:
    """Per listener: their profile cosine, taste-embedding cosine and history score for every song
    (positions order), and the means over the listeners that have them (None: nobody has)."""
    index = rec.index
    out = []
    for uid in user_ids:
        lst = rec.listener(uid)
        parts = {"user_id": int(uid), "name": index.users.get(int(uid), str(uid)), "listener": lst}
        terms = []
        if lst.profile_norm > 0:
            terms.append(rec.profile_scores(uid))
        if lst.taste_norm > 0:
            terms.append(np.where(index.has_emb, index.E @ lst.taste_unit, 0.0).astype(np.float64))
        parts["taste"] = np.mean(terms, axis=0) if terms else None
        h = rec.history_scores(uid)
        parts["history"] = h if np.any(h > 0) else None
        out.append(parts)
    tastes = [p["taste"] for p in out if p["taste"] is not None]
    hists = [p["history"] for p in out if p["history"] is not None]
    return out, (np.mean(tastes, axis=0) if tastes else None), (np.mean(hists, axis=0) if hists else None)


def disliked_by_any(listeners: list[dict], n_tracks: int, threshold: int) -> np.ndarray:
    """bool[T]: songs at least one listener rated at or below ``threshold`` stars."""
    out = np.zeros(n_tracks, dtype=bool)
    for parts in listeners:
        lst = parts["listener"]
        out[lst.rated_pos[lst.stars <= threshold]] = True
    return out


class Radio:
    """An endless radio from a seed; see the module docstring."""

    def __init__(self, rec, seed: RadioSeed, *, user_ids=(), settings: RadioSettings | None = None,
                 clock=time.time):
        self.rec = rec
        self.index = index = rec.index
        self.seed = seed
        self.settings = s = settings or RadioSettings()
        self.clock = clock
        self.user_ids = [int(u) for u in user_ids]
        T = index.n_tracks
        E, has = index.E, index.has_emb
        # the seed: its centre in the embedding space, and what each song shares with it
        pos = seed.positions
        w = np.ones(pos.size) if seed.weights is None else np.asarray(seed.weights, np.float64)
        with_emb = has[pos]
        self.c0 = None
        if with_emb.any():
            c0, norm = unit(np.asarray(w[with_emb] @ E[pos[with_emb]], np.float64))
            self.c0 = c0.astype(np.float32) if norm > 0 else None
        seed_sim = np.full(T, np.nan)
        if self.c0 is not None:
            with one_blas_thread():
                seed_sim = np.where(has, E @ self.c0, np.nan)
        if seed.label_column >= 0 or seed.tag_direction is not None:  # a tag counts as much as the sound
            tag = (np.asarray(index.X[:, seed.label_column].todense()).ravel() if seed.label_column >= 0
                   else index.mood_scores(seed.tag_direction))
            seed_sim = np.where(np.isnan(seed_sim), tag, 0.5 * (seed_sim + tag))
        elif self.c0 is None:  # nothing analysed in the seed: its artists and albums
            seed_sim = (0.5 * np.isin(index.artist_code, index.artist_code[pos][index.artist_code[pos] >= 0])
                        + 0.5 * np.isin(index.album_code, index.album_code[pos][index.album_code[pos] >= 0]))
        self.seed_sim = seed_sim
        self.c = None if self.c0 is None else self.c0.copy()
        self.skip_vec = np.zeros(E.shape[1], np.float64)
        self._skip_push = None  # max(0, cos(skips, e)) per song, recomputed when a skip comes
        self._static_cache = None
        # the listeners: taste and history, and what none of them may hear
        self.listeners, self.taste, self.history = listeners_terms(rec, self.user_ids)
        self.blocked = ~index.ok.copy()
        self.blocked |= disliked_by_any(self.listeners, T, s.dislike_threshold)
        # what was heard lately: never again within the window
        now = self.clock()
        self.heard: dict[int, float] = recent_plays(rec, self.user_ids, now - s.no_repeat_hours * 3600)
        self.trail: list[int] = []  # the songs given or played, latest last
        if seed.kind == "song":
            self.heard[int(pos[0])] = now
            self.trail.append(int(pos[0]))

    # -- feedback ----------------------------------------------------------------------------------
    def _pos(self, track_id: int) -> int:
        return int(self.index.positions(np.array([int(track_id)]))[0])

    def _pull(self, j: int, rate: float) -> None:
        if self.c is None or not self.index.has_emb[j] or rate == 0:
            return
        c, norm = unit((1 - rate) * self.c.astype(np.float64) + rate * self.index.E[j].astype(np.float64))
        if norm > 0:
            self.c = c.astype(np.float32)

    def played(self, track_id: int, *, skipped: bool = False, at: float | None = None) -> None:
        """The listener played (or skipped) a song: a skip pushes the radio away from songs like it; a
        song played that the radio did not give pulls the centre towards it."""
        j = self._pos(track_id)
        if j < 0:
            return
        self.heard[j] = self.clock() if at is None else float(at)
        given = j in self.trail
        if skipped:
            if self.index.has_emb[j]:
                self.skip_vec += self.index.E[j]
                self._skip_push = None
                if given:
                    self._pull(j, -self.settings.drift)  # undo the pull it had when it was given
        elif not given:
            self._pull(j, self.settings.drift)
            self.trail.append(j)

    def rated(self, track_id: int, stars: int) -> None:
        """A rating while the radio plays: a dislike blocks the song and pushes away from it; 4-5 stars
        pull the centre towards it."""
        j = self._pos(track_id)
        if j < 0:
            return
        if 0 < stars <= self.settings.dislike_threshold:
            self.blocked[j] = True
            if self.index.has_emb[j]:
                self.skip_vec += self.index.E[j]
                self._skip_push = None
        elif stars >= 4:
            self._pull(j, 2 * self.settings.drift)

    # -- picking -----------------------------------------------------------------------------------
    def _eligible(self, now: float) -> np.ndarray:
        ok = ~self.blocked
        window = self.settings.no_repeat_hours * 3600
        recent = [j for j, t in self.heard.items() if now - t < window]
        ok[recent] = False
        return ok

    def _static(self) -> tuple[float, np.ndarray, list]:
        """The terms that do not move while the radio plays (seed, taste, history), blended once:
        (the total weight, their weighted sum, [(name, weight / total, values, mean)])."""
        if self._static_cache is None:
            s = self.settings
            terms = [("seed", s.weight_seed, self.seed_sim)]
            if self.taste is not None and s.weight_taste > 0:
                terms.append(("taste", s.weight_taste, self.taste))
            if self.history is not None and s.weight_history > 0:
                terms.append(("history", s.weight_history, self.history))
            total_w = sum(w for _, w, _ in terms) + (s.weight_recent if self.c is not None else 0.0) or 1.0
            score = np.zeros(self.index.n_tracks)
            parts = []
            for name, w, v in terms:
                known = ~np.isnan(v)
                mean = float(v[known].mean()) if known.any() else 0.0
                score += (w / total_w) * np.where(known, v, mean)
                parts.append((name, w / total_w, v, mean))
            self._static_cache = (total_w, score, parts)
        return self._static_cache

    def scores(self) -> tuple[np.ndarray, list]:
        """The radio's score of every song now (positions order) and the terms behind it."""
        s, index = self.settings, self.index
        total_w, static, parts = self._static()
        score = static.copy()
        parts = list(parts)
        if self.c is not None and s.weight_recent > 0:
            sims = index.E @ self.c  # zero rows (no embedding) give 0; they get the mean instead
            mean = float(sims[index.has_emb].mean()) if index.n_embedded else 0.0
            sims = np.where(index.has_emb, sims, np.nan)
            score += (s.weight_recent / total_w) * np.where(index.has_emb, sims, mean)
            parts.append(("recent", s.weight_recent / total_w, sims, mean))
        if self._skip_push is None:
            skip, norm = unit(self.skip_vec)
            self._skip_push = (np.maximum(0.0, index.E @ skip.astype(np.float32)) if norm > 0
                               else np.zeros(index.n_tracks, np.float32))
        if s.weight_skip > 0 and self.skip_vec.any():
            score -= s.weight_skip * self._skip_push
            parts.append(("skip", -s.weight_skip, self._skip_push, 0.0))
        return score, parts

    def next(self, n: int | None = None) -> list[RadioPick]:
        """The next ``n`` songs (``settings.batch`` by default); fewer (or none) when every playable song
        was heard within the no-repeat window."""
        with one_blas_thread():
            return self._next(self.settings.batch if n is None else int(n))

    def _next(self, n: int) -> list[RadioPick]:
        out: list[RadioPick] = []
        index = self.index
        for _ in range(max(0, n)):
            now = self.clock()
            eligible = self._eligible(now)
            cand = np.flatnonzero(eligible)
            if not cand.size:
                break
            score, terms = self.scores()
            k = min(cand.size, 64)
            top = cand[np.argpartition(-score[cand], k - 1)[:k]] if k < cand.size else cand
            top = top[np.lexsort((index.track_ids[top], -score[top]))]
            last = self.trail[-1] if self.trail else -1
            artist = index.artist_code[last] if last >= 0 else -1
            j = next((int(x) for x in top if artist < 0 or index.artist_code[x] != artist), None)
            if j is None:  # every candidate near the top is by the same artist: look further, then give way
                others = cand[(index.artist_code[cand] != artist) | (index.artist_code[cand] < 0)]
                j = int(others[np.argmax(score[others])]) if others.size else int(top[0])
            out.append(self._explain(j, float(score[j]), terms))
            self.heard[j] = now
            self.trail.append(j)
            self._pull(j, self.settings.drift)
        return out

    def __iter__(self):
        while True:
            batch = self.next()
            if not batch:
                return
            yield from batch

    # -- reasons -----------------------------------------------------------------------------------
    def _explain(self, j: int, score: float, terms: list) -> RadioPick:
        index = self.index
        parts: dict = {}
        pieces: list[tuple[float, str]] = []
        for name, w, v, mean in terms:
            value = float(v[j]) if not np.isnan(v[j]) else mean
            parts[name] = round(value, 4)
            contrib = w * value
            if name == "seed":
                pieces.append((contrib, self._seed_text()))
            elif name == "recent" and len(self.trail) > (1 if self.seed.kind == "song" else 0):
                near = self._nearest_recent(j)
                if near >= 0:
                    pieces.append((contrib, f"after “{shorten(index.titles[near])}”"))
            elif name == "taste":
                text = self._taste_text(j)
                if text:
                    pieces.append((contrib, text))
            elif name == "history" and value > 0.3:
                pieces.append((contrib, "often played with your songs"))
        pieces.sort(key=lambda x: -x[0])
        texts = [t for _, t in pieces[:2]]
        analysed = bool(index.analysed[j])
        if not analysed:
            texts.insert(0, "not analysed yet")
        return RadioPick(int(index.track_ids[j]), score, " · ".join(texts) or "on the radio", analysed, parts)

    def _seed_text(self) -> str:
        kind, label = self.seed.kind, self.seed.label
        if kind == "song":
            return f"sounds like {label}"
        if kind == "tag":
            return f"{label} radio"
        if kind == "playlist":
            return f"fits {label}"
        return f"like {label}"

    def _nearest_recent(self, j: int) -> int:
        index = self.index
        if not index.has_emb[j]:
            return -1
        recent = [x for x in self.trail[-5:] if index.has_emb[x] and x != j]
        if not recent:
            return -1
        sims = index.E[recent] @ index.E[j]
        return int(recent[int(np.argmax(sims))])

    def _taste_text(self, j: int) -> str:
        served = [p for p in self.listeners if p["taste"] is not None and p["taste"][j] > 0.25]
        if not served:
            return ""
        names = join_names([p["name"] for p in served])
        labels = self.index.top_labels(j, served[0]["listener"].profile_unit) if len(served) == 1 else []
        return f"for {names}" + (f": {', '.join(labels)}" if labels else "")


__all__ = ["Radio", "RadioPick", "RadioSeed", "RadioSettings", "RadioError", "seed_from", "recent_plays"]

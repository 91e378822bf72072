"""A small adapter between the window and background analysis (issue 7).

Reading what analysis has stored (counts, a track's tag/genre probabilities, label names) works from
the database alone, so it works before the analysis engine exists. Controlling analysis (start, pause,
resume, cancel, progress) goes through :class:`AnalysisControl`, which looks for the engine in
``player.analysis`` and, when it is not there, says so in one line (shown as the disabled control's
tooltip).

No Qt here: the window runs these functions in its workers.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from player.paths import models_dir


# -- label names ---------------------------------------------------------------------------------
_LABELS: dict | None = None


def _read_labels(path: Path) -> list[str] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict):
        for key in ("labels", "tags", "genres", "classes", "names"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
        else:
            return None
    if isinstance(data, list) and all(isinstance(x, str) for x in data):
        return list(data)
    return None


def model_label_sets() -> dict[str, list[str]]:
    """``{model folder name: label names}`` from ``models/<name>/labels.json``."""
    global _LABELS
    if _LABELS is None:
        out: dict[str, list[str]] = {}
        root = models_dir()
        try:
            candidates = sorted(root.glob("*/labels.json")) + sorted(root.glob("*/*/labels.json"))
        except OSError:
            candidates = []
        for path in candidates:
            names = _read_labels(path)
            if names:
                out.setdefault(path.parent.name, names)
        _LABELS = out
    return _LABELS


def label_names(n: int, kind: str) -> list[str]:
    """Names for a probability vector of length ``n`` (``kind`` 'tag' or 'genre'); generic if unknown."""
    sets = model_label_sets()
    hint = "genre" if kind == "genre" else "tag"
    matching = [(name, labels) for name, labels in sets.items() if len(labels) == n]
    matching.sort(key=lambda item: (hint not in item[0].lower(), item[0]))
    if matching:
        return matching[0][1]
    return [f"{kind} {i + 1}" for i in range(n)]


def names_for_version(model_version: str | None, n: int, kind: str) -> list[str]:
    """Label names for a stored vector, from the models its ``model_version`` names.

    The analysis stores ``"<tagger>@<v>+<genre>@<v>"``; the names come from those model folders'
    ``labels.json`` when they are installed and have ``n`` labels, else from :func:`label_names`."""
    if model_version:
        parts = [p.split("@", 1)[0] for p in str(model_version).split("+")]
        want = parts[0] if kind == "tag" else parts[-1]
        if want:
            names = _read_labels(models_dir() / want / "labels.json")
            if names and len(names) == n:
                return names
    return label_names(n, kind)


def reset_label_cache() -> None:
    global _LABELS
    _LABELS = None


# -- what is stored ------------------------------------------------------------------------------
@dataclass
class AnalysisCounts:
    total: int = 0  # playable tracks
    analysed: int = 0
    failed: int = 0

    @property
    def pending(self) -> int:
        return max(0, self.total - self.analysed - self.failed)


def counts(library) -> AnalysisCounts:
    row = library.db.query_one(
        "SELECT (SELECT COUNT(*) FROM tracks WHERE status = 'ok') AS total, "
        "(SELECT COUNT(*) FROM analysis a JOIN tracks t ON t.id = a.track_id WHERE t.status = 'ok' AND a.status = 'ok') AS ok, "
        "(SELECT COUNT(*) FROM analysis a JOIN tracks t ON t.id = a.track_id WHERE t.status = 'ok' AND a.status = 'error') AS bad"
    )
    return AnalysisCounts(int(row["total"]), int(row["ok"]), int(row["bad"]))


@dataclass
class TrackAnalysis:
    track_id: int
    status: str | None = None  # None: not analysed yet
    error: str | None = None
    model_version: str | None = None
    analysed_at: float | None = None
    tags: list[tuple[str, float]] = field(default_factory=list)  # (name, probability), high first
    genres: list[tuple[str, float]] = field(default_factory=list)
    labels: list[tuple[str, int, float]] = field(default_factory=list)  # (label, count, probability)
    has_embedding: bool = False


def _vector(blob):
    import numpy as np

    if blob is None:
        return None
    try:
        v = np.frombuffer(bytes(blob), dtype=np.float32)
    except ValueError:
        return None
    return v if v.size else None


def track_analysis(library, track_id: int) -> TrackAnalysis:
    out = TrackAnalysis(track_id)
    row = library.db.query_one(
        "SELECT status, error, model_version, analysed_at, tag_probs, genre_probs, embedding FROM analysis WHERE track_id = ?",
        (track_id,),
    )
    if row is not None:
        out.status, out.error = row["status"], row["error"]
        out.model_version, out.analysed_at = row["model_version"], row["analysed_at"]
        tags = _vector(row["tag_probs"])
        if tags is not None:
            names = names_for_version(row["model_version"], tags.size, "tag")
            out.tags = sorted(zip(names, map(float, tags)), key=lambda t: -t[1])
        genres = _vector(row["genre_probs"])
        if genres is not None:
            names = names_for_version(row["model_version"], genres.size, "genre")
            out.genres = sorted(zip(names, map(float, genres)), key=lambda t: -t[1])
        out.has_embedding = _vector(row["embedding"]) is not None
    out.labels = [
        (r["label"], int(r["count"]), float(r["probability"]))
        for r in library.db.query(
            "SELECT label, count, probability FROM track_labels WHERE track_id = ? ORDER BY probability DESC", (track_id,)
        )
    ]
    if not out.tags and out.labels:  # only the labels that passed: still worth showing
        out.tags = [(label, p) for label, _c, p in out.labels]
    return out


def top_labels(library, since: float | None = None, top: int = 3) -> tuple[dict[int, str], dict[int, str], float]:
    """Per track: its top labels as one line and its most likely analysed genre; and the newest stamp.

    ``since``: only tracks analysed after that time (a delta for a running analysis; each analysis
    batch commits with its own time, so a batch is seen whole or not at all).
    """
    params: tuple = ()
    where = ""
    if since is not None:
        where = " WHERE track_id IN (SELECT track_id FROM analysis WHERE analysed_at > ?)"
        params = (since,)
    # The top labels per track, ranked and joined by SQLite (in C, without the interpreter lock).
    sql = (
        "SELECT track_id, group_concat(label, ' · ') FROM ("
        " SELECT track_id, label, ROW_NUMBER() OVER (PARTITION BY track_id ORDER BY probability DESC, label) AS rn"
        f" FROM track_labels{where} ORDER BY track_id, rn) WHERE rn <= ? GROUP BY track_id"
    )
    cur = library.db.conn.cursor()
    cur.row_factory = None
    try:
        tags = dict(cur.execute(sql, params + (int(top),)).fetchall())
    finally:
        cur.close()
    import numpy as np

    genre: dict[int, str] = {}
    stamp = since or 0.0
    gwhere = " AND analysed_at > ?" if since is not None else ""
    rows = library.db.query(
        f"SELECT track_id, genre_probs, analysed_at, model_version FROM analysis WHERE status = 'ok' "
        f"AND genre_probs IS NOT NULL{gwhere}", params)
    if rows:
        stamp = max(stamp, max(r[2] or 0.0 for r in rows))
        # one vectorised argmax per model version and vector length (normally a single group)
        by_len: dict[tuple, list] = {}
        for r in rows:
            by_len.setdefault((r[3], len(r[1])), []).append(r)
        for (version, nbytes), group in by_len.items():
            n = nbytes // 4
            if n == 0:
                continue
            mat = np.frombuffer(b"".join(bytes(r[1]) for r in group), dtype=np.float32).reshape(len(group), n)
            best = mat.argmax(axis=1)
            names = names_for_version(version, n, "genre")
            for r, k in zip(group, best.tolist()):
                genre[r[0]] = names[k]
    return tags, genre, stamp


# -- control -------------------------------------------------------------------------------------
@dataclass
class AnalysisProgress:
    done: int
    total: int
    rate: float = 0.0  # tracks per second
    eta: float | None = None  # seconds
    paused: bool = False
    message: str = ""
    finished: bool = False
    state: str = "running"  # starting | running | paused | finished | cancelled | error | idle
    failed: int = 0


class AnalysisControl:
    """Start/pause/resume/cancel background analysis (``player.analysis.service.AnalysisService``).

    The service runs worker processes (TensorFlow never enters the GUI process) and calls back from a
    listener thread; ``on_progress`` receives :class:`AnalysisProgress` there (the window marshals it).
    :meth:`start` blocks for the pending count (a query): call it from a worker.
    :attr:`reason` says why control is unavailable.
    """

    def __init__(self, library, on_progress: Callable[[AnalysisProgress], None] | None = None,
                 workers: int | None = None):
        self.library = library
        self.on_progress = on_progress
        self.workers = workers
        self._service = None
        self.reason = self._find_engine()

    @property
    def available(self) -> bool:
        return self.reason is None

    @staticmethod
    def _find_engine() -> str | None:
        import importlib.util

        try:
            spec = importlib.util.find_spec("player.analysis.service")
        except (ImportError, ValueError) as exc:
            return f"background analysis failed to load: {exc}"
        if spec is None:
            return "background analysis is not part of this build; tags, genres and similarity need it"
        return None

    @property
    def running(self) -> bool:
        s = self._service
        return s is not None and s.is_running()

    def start(self) -> AnalysisProgress:
        """Start analysing what is pending (worker thread). Returns the first progress (total known).

        Raises in words when the models are missing or broken (nothing is started then)."""
        if not self.available:
            raise RuntimeError(self.reason)
        if self.running:
            return AnalysisProgress(self._service.progress.done, self._service.progress.total, state="running")
        from player.analysis.engine import model_version
        from player.analysis.service import AnalysisOptions, AnalysisService
        from player.analysis.store import count_pending

        version = model_version()  # ModelError in words when a model folder is missing or broken
        total = count_pending(self.library, version)[0]
        if total == 0:
            return AnalysisProgress(0, 0, finished=True, state="idle")
        import os

        workers = self.workers or max(1, min(2, (os.cpu_count() or 2) // 2))
        self.close()
        # The workers yield the CPU to the window (a 2-core machine stays responsive).
        service = AnalysisService(self.library.path, workers=workers, options=AnalysisOptions(niceness=10),
                                  on_event=self._event)
        service.start(total=total)
        self._service = service
        return AnalysisProgress(0, total, state="starting")

    def _event(self, ev) -> None:
        """``ev``: :class:`player.analysis.service.AnalysisProgress` (from the service's listener thread)."""
        if self.on_progress is None:
            return
        self.on_progress(AnalysisProgress(
            done=ev.done, total=ev.total, rate=ev.rate, eta=ev.eta_s, paused=ev.state == "paused",
            message=ev.message, finished=ev.state in ("finished", "cancelled", "error"), state=ev.state,
            failed=ev.failed,
        ))

    def pause(self) -> None:
        if self._service is not None:
            self._service.pause()

    def resume(self) -> None:
        if self._service is not None:
            self._service.resume()

    def cancel(self) -> None:
        if self._service is not None:
            self._service.cancel()

    def close(self) -> None:
        s, self._service = self._service, None
        if s is not None:
            try:
                s.close(timeout=5.0)
            except Exception:  # noqa: BLE001 - closing never fails the window
                pass


def eta_text(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "–"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def now() -> float:
    return time.time()

"""Sonic path: from song A to song B in N steps, each close to the one before and moving towards B.

In the similarity space (the unit song vectors of :mod:`player.recommend.space`), the N waypoints w_1..w_N lie on the great circle from a to b
(spherical interpolation at t_i = i / (N + 1)). Step i takes the unused playable song s maximising

  (cos(w_i, e_s) + closeness * cos(e_prev, e_s)) / (1 + closeness)  -  backtrack * max(0, p(prev) - p(s))

where ``prev`` is the song chosen before (A at first) and p(s) in [0, 1] says how far along from A to
B a song lies: p(s) = (1 - (cos(a, e_s) - cos(b, e_s)) / (1 - cos(a, b))) / 2 -- so a song that would
step back towards A is penalised. Since every w_i is a combination of a and b, cos(w_i, e) comes from
the two products E a and E b computed once; each step adds one product E e_prev. No artist twice in a
row (unless nothing else is left). numpy only.

    steps = sonic_path(rec, a_id, b_id, n=8)   # [A, 8 songs, B], each a PathStep with a reason
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from player.errors import PlayerError
from player.recommend.engine import _one_blas_thread as one_blas_thread  # small products: one BLAS thread
from player.recommend.explain import shorten


class PathError(PlayerError, LookupError):
    """A sonic path that cannot be made (an end not analysed, the same song twice), in words."""


@dataclass(frozen=True)
class PathStep:
    track_id: int
    step: int  # 0 for A, 1..N for the songs between, N + 1 for B
    score: float
    reason: str
    parts: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"id": self.track_id, "step": self.step, "score": round(self.score, 6), "reason": self.reason}


def waypoints(a: np.ndarray, b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The coefficients (alpha_i, beta_i) of the N waypoints w_i = alpha_i a + beta_i b on the great circle
    from unit ``a`` to unit ``b`` (spherical interpolation; linear and renormalised when they are parallel)."""
    t = np.arange(1, n + 1, dtype=np.float64) / (n + 1)
    dot = float(np.clip(np.dot(a, b), -1.0, 1.0))
    omega = float(np.arccos(dot))
    if np.sin(omega) < 1e-6:
        alpha, beta = 1 - t, t
        norms = np.sqrt(alpha ** 2 + beta ** 2 + 2 * alpha * beta * dot)
        return alpha / np.maximum(norms, 1e-12), beta / np.maximum(norms, 1e-12)
    return np.sin((1 - t) * omega) / np.sin(omega), np.sin(t * omega) / np.sin(omega)


def sonic_path(rec, a_id: int, b_id: int, n: int = 8, *, exclude_ids=(), closeness: float = 0.5,
               backtrack: float = 1.0, distinct_artists: bool = True) -> list[PathStep]:
    """[A, up to ``n`` songs, B] (see the module docstring); fewer songs between when fewer are left."""
    with one_blas_thread():
        return _path(rec, a_id, b_id, n, exclude_ids, closeness, backtrack, distinct_artists)


def _path(rec, a_id, b_id, n, exclude_ids, closeness, backtrack, distinct_artists) -> list[PathStep]:
    index = rec.index
    E, has = index.E, index.has_emb
    ja, jb = (int(index.positions(np.array([int(x)]))[0]) for x in (a_id, b_id))
    for j, tid in ((ja, a_id), (jb, b_id)):
        if j < 0:
            raise PathError(f"no track with id {tid} in the library (or it was added since the last reload)")
        if not has[j]:
            raise PathError(f"“{shorten(index.titles[j])}” is not analysed yet: a sonic path needs the sound of "
                            "both its ends")
    if ja == jb:
        raise PathError("a sonic path needs two different songs")
    n = max(0, int(n))
    a, b = E[ja].astype(np.float64), E[jb].astype(np.float64)
    sa = (E @ E[ja]).astype(np.float64)
    sb = (E @ E[jb]).astype(np.float64)
    ab = float(np.dot(a, b))
    progress = 0.5 * (1 - (sa - sb) / max(1e-9, 1 - ab))
    alpha, beta = waypoints(a, b, n)
    eligible = has & index.ok
    eligible[[ja, jb]] = False
    if exclude_ids is not None and len(exclude_ids):
        pos = index.positions(np.fromiter((int(x) for x in exclude_ids), np.int64))
        eligible[pos[pos >= 0]] = False
    steps = [PathStep(int(index.track_ids[ja]), 0, 1.0, "the start", {"progress": 0.0})]
    prev = ja
    title_b = shorten(index.titles[jb])
    for i in range(n):
        if not eligible.any():
            break
        to_wp = alpha[i] * sa + beta[i] * sb
        to_prev = (E @ E[prev]).astype(np.float64)
        score = (to_wp + closeness * to_prev) / (1 + closeness)
        score -= backtrack * np.maximum(0.0, progress[prev] - progress)
        allowed = eligible
        if distinct_artists and index.artist_code[prev] >= 0:
            other = eligible & (index.artist_code != index.artist_code[prev])
            if other.any():
                allowed = other
        masked = np.where(allowed, score, -np.inf)
        j = int(np.argmax(masked))
        parts = {"waypoint": round(float(to_wp[j]), 4), "previous": round(float(to_prev[j]), 4),
                 "progress": round(float(progress[j]), 4)}
        reason = (f"step {i + 1} of {n} towards “{title_b}” · {to_prev[j]:.2f} from "
                  f"“{shorten(index.titles[prev])}”")
        steps.append(PathStep(int(index.track_ids[j]), i + 1, float(score[j]), reason, parts))
        eligible[j] = False
        prev = j
    last = float(E[prev] @ E[jb])
    steps.append(PathStep(int(index.track_ids[jb]), len(steps), 1.0,
                          f"the end · {last:.2f} from “{shorten(index.titles[prev])}”", {"progress": 1.0}))
    return steps


__all__ = ["sonic_path", "PathStep", "PathError", "waypoints"]

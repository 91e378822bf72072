"""The play queue that survives a restart: the songs (the playing one and Up next), which one plays,
how far into it, and which of the songs the recommender placed (with their reasons), per listener.

Kept in the library's ``settings`` table under ``queue.state.<listener id>`` (``queue.state.none``
without a listener) as one JSON value: one small write, in one transaction, whatever the queue holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

KEY = "queue.state."
MAX_TRACKS = 5000  # a longer queue keeps its first songs from the playing one on


@dataclass
class QueueState:
    track_ids: list[int]  # the queue in play order
    index: int  # the playing (or paused) song's place in track_ids
    position: float = 0.0  # seconds into it
    recommended: list[int] = field(default_factory=list)  # the ids the recommender placed
    reasons: dict[int, str] = field(default_factory=dict)  # their one-line reasons

    def as_json(self) -> dict:
        return {"track_ids": self.track_ids, "index": self.index, "position": round(self.position, 3),
                "recommended": self.recommended, "reasons": {str(k): v for k, v in self.reasons.items()}}


def _key(user_id: int | None) -> str:
    return KEY + ("none" if user_id is None else str(int(user_id)))


def save(library, user_id: int | None, state: QueueState | None) -> None:
    """Keep ``state`` for ``user_id`` (``None`` forgets it)."""
    if state is None or not state.track_ids:
        library.db.set_setting(_key(user_id), None)
        return
    ids = [int(i) for i in state.track_ids]
    index = max(0, min(int(state.index), len(ids) - 1))
    if len(ids) > MAX_TRACKS:
        ids, index = ids[index:index + MAX_TRACKS], 0
    keep = set(ids)
    state = QueueState(ids, index, max(0.0, float(state.position or 0.0)),
                       [int(i) for i in state.recommended if int(i) in keep],
                       {int(k): str(v) for k, v in state.reasons.items() if int(k) in keep})
    library.db.set_setting(_key(user_id), json.dumps(state.as_json()))


def load(library, user_id: int | None) -> QueueState | None:
    """The kept queue of ``user_id`` with the songs the library no longer has left out (the index
    follows), or None when there is none or it cannot be read."""
    raw = library.db.get_setting(_key(user_id))
    if not raw:
        return None
    try:
        data = json.loads(raw)
        ids = [int(i) for i in data["track_ids"]]
        index = int(data.get("index", 0))
        position = float(data.get("position", 0.0))
        recommended = [int(i) for i in data.get("recommended", [])]
        reasons = {int(k): str(v) for k, v in (data.get("reasons") or {}).items()}
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if not ids:
        return None
    known = _known(library, ids)
    kept, new_index = [], None
    for i, tid in enumerate(ids):
        if tid in known:
            if i == index:
                new_index = len(kept)
            kept.append(tid)
    if not kept:
        return None
    if new_index is None:  # the playing song is gone: the next one, from its start
        new_index = min(sum(1 for tid in ids[:index] if tid in known), len(kept) - 1)
        position = 0.0
    return QueueState(kept, new_index, max(0.0, position), [i for i in recommended if i in known],
                      {k: v for k, v in reasons.items() if k in known})


def _known(library, ids: list[int]) -> set[int]:
    unique = list(dict.fromkeys(ids))
    found: set[int] = set()
    for start in range(0, len(unique), 50_000):
        chunk = json.dumps(unique[start:start + 50_000])
        found.update(int(r[0]) for r in library.db.query(
            "SELECT id FROM tracks WHERE id IN (SELECT value FROM json_each(?))", (chunk,)))
    return found

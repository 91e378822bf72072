"""The player's values: events, tracks outside the library, what is pending and playing, the skip rule.

Shared by :class:`player.audio.player.Player` and whoever listens to it; no threads here.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

SKIP_SECONDS = 30.0
EVENT_KINDS = ("state", "position", "track", "error", "skipped", "ended", "queue")


def is_skip(seconds_played: float, duration: float | None, *, ended_naturally: bool = False) -> bool:
    """The skip rule: left by the listener before 30 s and before half the track's length."""
    if ended_naturally:
        return False
    if seconds_played >= SKIP_SECONDS:
        return False
    if duration and seconds_played >= duration / 2.0:
        return False
    return True


@dataclass(frozen=True)
class PlayerEvent:
    """``kind`` is one of "state", "position", "track", "error", "skipped", "ended", "queue".

    * state    data: state ("stopped"|"playing"|"paused"), reason (or None), volume, muted
    * position data: position, duration (seconds; duration may be None)
    * track    a new track began playing. track; data: index (in queue.items or None), duration, position
    * ended    ``track`` played to its end. data: {}
    * skipped  ``track`` could not be played (or broke part-way) and was passed over. data: reason
    * error    data: message (e.g. the whole queue is unplayable, the device went away)
    * queue    the queue changed. data: reason ("content" | "order" | "current")
    """

    kind: str
    track: Any = None
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FileTrack:
    """A file that is not (or need not be) in the library; quacks like :class:`player.library.Track`."""

    path: str
    title: str
    artist: str | None = None
    album: str | None = None
    duration: float | None = None
    id: int | None = None
    albumartist: str | None = None
    tracknumber: int | None = None

    @classmethod
    def from_path(cls, path: str | bytes | os.PathLike) -> "FileTrack":
        """``path`` as str or bytes; a name that is not UTF-8 is kept as a surrogate-escaped str."""
        p = os.fsdecode(os.path.abspath(os.fspath(path)))
        return cls(path=p, title=Path(p).stem)


class Pending(NamedTuple):
    """What the player asked to play, until the output gets there (a flush in flight)."""

    gen: int
    uid: int
    track: Any
    offset: float
    duration: float | None


class Now(NamedTuple):
    """What is playing (or about to)."""

    uid: int
    track: Any
    position: float
    duration: float | None


class _Session:
    __slots__ = ("uid", "track", "started_at", "frames", "duration")

    def __init__(self, uid, track, duration):
        self.uid = uid
        self.track = track
        self.started_at = time.time()
        self.frames = 0
        self.duration = duration

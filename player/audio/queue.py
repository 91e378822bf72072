"""The play queue: tracks, the current index, shuffle, repeat, "play next", and a refill hook.

Thread-safe (one re-entrant lock). Listeners (the :class:`~player.audio.Player`) are told about every
change *after* the lock is released. Items are any objects with ``.id``, ``.path``, ``.title`` and
``.artist`` (normally :class:`player.library.Track`).

Semantics
    * ``items`` keep the order they were given; ``current_index`` points into ``items``.
    * With ``shuffle`` on, the *play order* is a random permutation with the current item first;
      ``items`` do not move. Tracks added later are placed at random points after the current one;
      "play next" always goes right after the current one. ``upcoming()`` lists the play order.
    * ``repeat``: ``"off"`` stops after the last item of the play order; ``"all"`` wraps around (with
      shuffle: a fresh permutation each round); ``"one"`` replays the current item when it ends
      (``next()``/``previous()`` still move, wrapping around).
    * ``refill(queue) -> list[Track]`` is called when fewer than ``low_water`` items remain after the
      current one and ``repeat`` is ``"off"``; what it returns is appended. The player calls it from
      its monitor thread when a track begins, and from its decoder thread as a last resort when the
      decoder reaches the end of the queue (so even a fast run never ends early). Never from the
      audio callback; never from the GUI thread.
"""

from __future__ import annotations

import itertools
import random
import threading
from typing import Any, Callable, Iterable, NamedTuple

REPEAT_MODES = ("off", "one", "all")


class Entry(NamedTuple):
    """A queue entry as the player sees it: its uid in the queue (stable across edits) and the track."""

    uid: int
    track: Any


class _Entry:
    __slots__ = ("uid", "track")

    def __init__(self, uid: int, track: Any):
        self.uid = uid
        self.track = track


def _same_track(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return a.id is not None and a.id == b.id and a.path == b.path
    except AttributeError:
        return False


class Queue:
    """Ordered tracks plus what plays now and next. See the module docstring for the rules."""

    def __init__(self, tracks: Iterable[Any] = (), *, seed: int | None = None):
        self._lock = threading.RLock()
        self._uids = itertools.count(1)
        self._entries: list[_Entry] = []
        self._current: int | None = None
        self._shuffle = False
        self._repeat = "off"
        self._order: list[int] = []  # uids in play order (shuffle only)
        self._rng = random.Random(seed)
        self._listeners: list[Callable[[str], None]] = []
        self._refill_lock = threading.RLock()
        self.low_water = 2
        self.refill: Callable[["Queue"], list] | None = None
        tracks = list(tracks)
        if tracks:
            self.set_tracks(tracks)

    # -- reading ------------------------------------------------------------------------------------
    @property
    def items(self) -> list[Any]:
        with self._lock:
            return [e.track for e in self._entries]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, index: int) -> Any:
        with self._lock:
            return self._entries[index].track

    @property
    def current_index(self) -> int | None:
        return self._current

    @current_index.setter
    def current_index(self, index: int | None) -> None:
        with self._lock:
            if index is not None:
                index = self._check_index(index)
            changed = index != self._current
            self._current = index
            reshuffled = self._shuffle and index is not None and self._reshuffle(keep_first=True)
        if changed or reshuffled:
            self._notify("order" if reshuffled else "current")

    @property
    def current(self) -> Any | None:
        with self._lock:
            return None if self._current is None else self._entries[self._current].track

    @property
    def shuffle(self) -> bool:
        return self._shuffle

    @shuffle.setter
    def shuffle(self, on: bool) -> None:
        on = bool(on)
        with self._lock:
            if on == self._shuffle:
                return
            self._shuffle = on
            if on:
                self._reshuffle(keep_first=True)
            else:
                self._order = []
        self._notify("order")

    @property
    def repeat(self) -> str:
        return self._repeat

    @repeat.setter
    def repeat(self, mode: str) -> None:
        if mode not in REPEAT_MODES:
            raise ValueError(f"repeat must be one of {', '.join(REPEAT_MODES)}, not {mode!r}")
        with self._lock:
            if mode == self._repeat:
                return
            self._repeat = mode
        self._notify("order")

    def upcoming(self, limit: int | None = None) -> list[Any]:
        """The tracks that follow the current one in play order (one round; no repeats)."""
        with self._lock:
            order = self._play_order()
            if not order:
                return []
            start = 0 if self._current is None else order.index(self._entries[self._current].uid) + 1
            by_uid = {e.uid: e.track for e in self._entries}
            uids = order[start:] if limit is None else order[start:start + limit]
            return [by_uid[u] for u in uids]

    def remaining(self) -> int:
        """How many items follow the current one in play order."""
        with self._lock:
            order = self._play_order()
            if self._current is None:
                return len(order)
            return len(order) - 1 - order.index(self._entries[self._current].uid)

    # -- editing ------------------------------------------------------------------------------------
    def set_tracks(self, tracks: Iterable[Any], start: int = 0) -> None:
        """Replace everything; ``start`` becomes the current index. If the track now playing is the one
        at ``start``, it keeps playing (its entry is kept), otherwise the player switches to it."""
        tracks = list(tracks)
        with self._lock:
            if tracks:
                start = self._check_index(start, len(tracks))
            keep = self._entries[self._current] if self._current is not None else None
            entries = []
            for i, t in enumerate(tracks):
                if keep is not None and i == start and _same_track(keep.track, t):
                    keep.track = t
                    entries.append(keep)
                else:
                    entries.append(_Entry(next(self._uids), t))
            self._entries = entries
            self._current = start if tracks else None
            self._order = []
            if self._shuffle:
                self._reshuffle(keep_first=True)
        self._notify("content")

    def append(self, tracks: Iterable[Any] | Any) -> None:
        tracks = self._as_list(tracks)
        if not tracks:
            return
        with self._lock:
            new = [_Entry(next(self._uids), t) for t in tracks]
            self._entries.extend(new)
            if self._shuffle:
                lo = 1 + self._order.index(self._entries[self._current].uid) if self._current is not None else 0
                for e in new:
                    self._order.insert(self._rng.randint(lo, len(self._order)), e.uid)
        self._notify("content")

    def insert_next(self, track: Any) -> int:
        """Put ``track`` right after the current one (in list and play order); returns its index."""
        with self._lock:
            entry = _Entry(next(self._uids), track)
            index = 0 if self._current is None else self._current + 1
            self._entries.insert(index, entry)
            if self._shuffle:
                pos = 0 if self._current is None else self._order.index(self._entries[self._current].uid) + 1
                self._order.insert(pos, entry.uid)
        self._notify("content")
        return index

    def remove(self, index: int) -> Any:
        """Remove one item. Removing the playing item makes the player go on with the one that
        followed it in play order (or stop, if none did)."""
        with self._lock:
            index = self._check_index(index)
            entry = self._entries[index]
            opos = self._order.index(entry.uid) if self._shuffle else None
            self._entries.pop(index)
            if self._shuffle:
                self._order.pop(opos)
            if self._current is not None:
                if not self._entries:
                    self._current = None
                elif index < self._current:
                    self._current -= 1
                elif index == self._current:
                    if self._shuffle:
                        if opos < len(self._order):
                            self._current = self._index_of(self._order[opos])
                        else:
                            self._current = self._index_of(self._order[0]) if self._repeat != "off" else None
                    elif index < len(self._entries):
                        self._current = index
                    else:
                        self._current = 0 if self._repeat != "off" else None
        self._notify("content")
        return entry.track

    def move(self, src: int, dst: int) -> None:
        with self._lock:
            src = self._check_index(src)
            dst = self._check_index(dst)
            if src == dst:
                return
            cur_uid = None if self._current is None else self._entries[self._current].uid
            entry = self._entries.pop(src)
            self._entries.insert(dst, entry)
            if cur_uid is not None:
                self._current = self._index_of(cur_uid)
        self._notify("content")

    def clear(self) -> None:
        with self._lock:
            self._entries = []
            self._current = None
            self._order = []
        self._notify("content")

    # -- listeners ----------------------------------------------------------------------------------
    def add_listener(self, fn: Callable[[str], None]) -> Callable[[], None]:
        """``fn(reason)`` after each change; reason is "content", "order" or "current"."""
        self._listeners.append(fn)
        return lambda: self._listeners.remove(fn) if fn in self._listeners else None

    def _notify(self, reason: str) -> None:
        for fn in list(self._listeners):
            fn(reason)

    # -- for the player (uid based, so edits never confuse what is playing) -----------------------
    def entry(self, index: int | None = None) -> Entry | None:
        with self._lock:
            if index is None:
                index = self._current
            if index is None or not 0 <= index < len(self._entries):
                return None
            e = self._entries[index]
            return Entry(e.uid, e.track)

    def first_entry(self) -> Entry | None:
        with self._lock:
            order = self._play_order()
            if not order:
                return None
            i = self._index_of(order[0])
            return Entry(self._entries[i].uid, self._entries[i].track)

    def index_of_uid(self, uid: int | None) -> int | None:
        with self._lock:
            return None if uid is None else self._index_of(uid)

    def next_after(self, uid: int, *, auto: bool) -> Entry | None | bool:
        """The entry after ``uid``: ``auto`` is the end of a track (repeat one replays it), otherwise
        it is the listener's "next" (or a skip after an error). False when ``uid`` is not queued."""
        with self._lock:
            order = self._play_order()
            if uid not in order:
                return False
            if auto and self._repeat == "one":
                i = self._index_of(uid)
                return Entry(uid, self._entries[i].track)
            pos = order.index(uid) + 1
            if pos >= len(order):
                if self._repeat == "off" or not order:
                    return None
                pos = 0
            i = self._index_of(order[pos])
            return Entry(self._entries[i].uid, self._entries[i].track)

    def previous_before(self, uid: int) -> Entry | None | bool:
        with self._lock:
            order = self._play_order()
            if uid not in order:
                return False
            pos = order.index(uid) - 1
            if pos < 0:
                if self._repeat == "off":
                    return None
                pos = len(order) - 1
            i = self._index_of(order[pos])
            return Entry(self._entries[i].uid, self._entries[i].track)

    def set_current_uid(self, uid: int) -> None:
        """The player reached this entry. With shuffle + repeat all, wrapping deals a new permutation."""
        with self._lock:
            index = self._index_of(uid)
            if index is None or index == self._current:
                return
            reshuffled = False
            if self._shuffle and self._repeat == "all" and self._current is not None and self._order:
                old_uid = self._entries[self._current].uid
                if self._order[-1] == old_uid and self._order[0] == uid and len(self._order) > 2:
                    reshuffled = self._reshuffle(keep_first=False, first=uid)
            self._current = index
        self._notify("order" if reshuffled else "current")

    def maybe_refill(self, after: int | None = None) -> list | None:
        """Ask ``refill`` for more when fewer than ``low_water`` items follow the current one (or, with
        ``after`` = an entry uid, when nothing follows that entry). Returns what was appended, or None.
        One call at a time."""
        fn = self.refill
        if fn is None or self._repeat != "off":
            return None
        with self._refill_lock:
            with self._lock:
                if not self._entries:
                    return None
                if after is not None:
                    if self.next_after(after, auto=True) is not None:
                        return None  # something follows it (again): no need
                elif self.remaining() >= self.low_water:
                    return None
            got = fn(self)
            got = self._as_list(got) if got else []
            if got:
                self.append(got)
            return got

    # -- internals ---------------------------------------------------------------------------------
    def _play_order(self) -> list[int]:
        if self._shuffle:
            return self._order
        return [e.uid for e in self._entries]

    def _index_of(self, uid: int) -> int | None:
        for i, e in enumerate(self._entries):
            if e.uid == uid:
                return i
        return None

    def _reshuffle(self, keep_first: bool, first: int | None = None) -> bool:
        uids = [e.uid for e in self._entries]
        if first is None and keep_first and self._current is not None:
            first = self._entries[self._current].uid
        rest = [u for u in uids if u != first]
        self._rng.shuffle(rest)
        new = ([first] if first is not None else []) + rest
        changed = new != self._order
        self._order = new
        return changed

    def _check_index(self, index: int, length: int | None = None) -> int:
        n = len(self._entries) if length is None else length
        try:
            i = int(index)
        except (TypeError, ValueError):
            raise IndexError(f"queue index must be a whole number, not {index!r}") from None
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"queue index {index} is out of range (the queue has {n} item{'s' * (n != 1)})")
        return i

    @staticmethod
    def _as_list(tracks) -> list:
        if tracks is None:
            return []
        if hasattr(tracks, "path") and not isinstance(tracks, (list, tuple)):
            return [tracks]
        return list(tracks)

    def __repr__(self) -> str:
        return f"<Queue {len(self._entries)} items, current={self._current}, shuffle={self._shuffle}, repeat={self._repeat}>"

"""Queue semantics (no audio): editing, current index, shuffle, repeat, refill."""

from __future__ import annotations

import pytest

from player.audio import FileTrack, Queue


def T(name: str) -> FileTrack:
    return FileTrack(path=f"/music/{name}.flac", title=name)


def titles(tracks) -> list[str]:
    return [t.title for t in tracks]


def follow(q: Queue, steps: int, auto: bool = True) -> list[str]:
    """Titles visited by repeatedly taking the entry after the current one."""
    out = []
    entry = q.entry()
    for _ in range(steps):
        entry = q.next_after(entry[0], auto=auto)
        if not entry:
            break
        q.set_current_uid(entry[0])
        out.append(entry[1].title)
    return out


def test_editing_keeps_the_current_item():
    q = Queue()
    changes = []
    q.add_listener(changes.append)
    q.set_tracks([T("a"), T("b"), T("c")], start=1)
    assert q.current.title == "b" and q.current_index == 1
    q.append([T("d")])
    q.append(T("e"))  # a single track is fine too
    assert titles(q.items) == ["a", "b", "c", "d", "e"]
    assert q.insert_next(T("x")) == 2
    assert titles(q.items) == ["a", "b", "x", "c", "d", "e"]
    q.move(0, 5)  # a to the end: b moves down to index 0 and stays current
    assert titles(q.items) == ["b", "x", "c", "d", "e", "a"] and q.current.title == "b"
    assert q.remove(3).title == "d"
    assert q.current_index == 0 and titles(q.upcoming()) == ["x", "c", "e", "a"]
    assert q.remaining() == 4
    q.clear()
    assert q.items == [] and q.current is None and q.current_index is None
    assert set(changes) <= {"content", "order", "current"} and changes.count("content") == 7


def test_removing_the_current_item_moves_to_the_following_one():
    q = Queue([T("a"), T("b"), T("c")])
    q.current_index = 1
    q.remove(1)
    assert q.current.title == "c"
    q.remove(1)  # the last one, repeat off: nothing is current any more
    assert q.current is None and titles(q.items) == ["a"]
    q.repeat = "all"
    q.current_index = 0
    q.append([T("b")])
    q.current_index = 1
    q.remove(1)  # with repeat all it wraps to the first
    assert q.current.title == "a"


def test_bad_indexes_and_modes_are_explained():
    q = Queue([T("a")])
    with pytest.raises(IndexError, match="out of range"):
        q.current_index = 5
    with pytest.raises(IndexError, match="out of range"):
        q.remove(1)
    with pytest.raises(IndexError, match="whole number"):
        q.move("x", 0)
    with pytest.raises(ValueError, match="repeat must be one of off, one, all"):
        q.repeat = "twice"
    with pytest.raises(IndexError):
        q.set_tracks([T("b")], start=3)
    assert titles(q.items) == ["a"]  # a failed edit changes nothing


def test_repeat_modes():
    q = Queue([T("a"), T("b"), T("c")])
    assert follow(q, 5) == ["b", "c"]  # off: stops after the last
    q.current_index = 0
    q.repeat = "all"
    assert follow(q, 5) == ["b", "c", "a", "b", "c"]
    q.repeat = "one"
    q.current_index = 1
    assert follow(q, 3) == ["b", "b", "b"]  # the end of a track replays it
    assert follow(q, 2, auto=False) == ["c", "a"]  # next/previous still move (and wrap)
    uid = q.entry()[0]
    assert q.previous_before(uid)[1].title == "c"
    q.repeat = "off"
    q.current_index = 0
    assert q.previous_before(q.entry()[0]) is None
    assert q.next_after(12345, auto=True) is False  # not in the queue


def test_shuffle_is_a_permutation_with_the_current_first():
    items = [T(str(i)) for i in range(12)]
    q = Queue(items, seed=5)
    q.current_index = 4
    q.shuffle = True
    order = ["4"] + titles(q.upcoming())
    assert sorted(order, key=int) == [str(i) for i in range(12)]
    assert order[1:] != [str(i) for i in range(12) if i != 4]
    assert titles(q.items) == [str(i) for i in range(12)]  # the list itself does not move
    assert follow(q, 20) == order[1:]  # repeat off: each once, then the end
    q.insert_next(T("next"))
    assert titles(q.upcoming()) == ["next"]
    q.shuffle = False
    assert q.upcoming()[0].title == "next"  # "play next" is also next in list order


def test_shuffle_with_repeat_all_deals_a_new_round():
    q = Queue([T(str(i)) for i in range(6)], seed=1)
    q.repeat = "all"
    q.shuffle = True
    rounds = [["0"] + follow(q, 5)]
    for _ in range(3):
        rounds.append(follow(q, 6))
    for r in rounds:
        assert sorted(r) == [str(i) for i in range(6)]
    assert len({tuple(r[1:]) for r in rounds}) > 1  # not the same order every round
    appended = T("late")
    q.append(appended)
    assert "late" in titles(q.upcoming())


def test_set_tracks_keeps_the_playing_entry_when_it_is_the_same_track():
    a, b = FileTrack(path="/m/a.mp3", title="a", id=1), FileTrack(path="/m/b.mp3", title="b", id=2)
    q = Queue([a, b])
    uid = q.entry()[0]
    q.set_tracks([FileTrack(path="/m/a.mp3", title="a", id=1), b], start=0)
    assert q.entry()[0] == uid  # the player keeps playing it without a restart
    q.set_tracks([b, a], start=0)
    assert q.entry()[0] != uid


def test_refill_when_running_low():
    q = Queue([T("a"), T("b"), T("c")])
    calls = []

    def refill(queue):
        calls.append(queue.remaining())
        return [T(f"more{len(calls)}")]

    q.refill = refill
    q.low_water = 2
    assert q.maybe_refill() is None and calls == []  # two follow: enough
    q.current_index = 1
    assert titles(q.maybe_refill()) == ["more1"] and calls == [1]
    q.repeat = "all"
    q.current_index = 3
    assert q.maybe_refill() is None  # repeat never runs out
    q.repeat = "off"
    last = q.entry(3)[0]
    assert titles(q.maybe_refill(after=last)) == ["more2"]
    assert q.maybe_refill(after=last) is None  # something follows it now

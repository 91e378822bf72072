"""The mood decided over time: confidence-weighted window, hysteresis, "no face" hold — on scripted
sequences of readings (no camera, no model)."""

import pytest

from player.mood.model import EMOTIONS
from player.mood.smoothing import MoodSmoother


def probs(top, p=0.8, second=None, q=None):
    """A 7-class distribution with ``top`` at ``p`` (and optionally ``second`` at ``q``)."""
    rest = 1.0 - p - (q or 0.0)
    others = [e for e in EMOTIONS if e not in (top, second)]
    out = {e: rest / len(others) for e in others}
    out[top] = p
    if second:
        out[second] = q
    return out


def feed(sm, seq, t0=0.0, fps=5.0):
    """Feed (probs_or_None) readings at fps; returns [(t, mood, changed)]."""
    out = []
    for i, p in enumerate(seq):
        t = t0 + i / fps
        mood, _, changed = sm.update(p, t)
        out.append((t, mood, changed))
    return out


def test_first_mood_needs_several_readings():
    sm = MoodSmoother(window_s=5.0, min_readings=3)
    res = feed(sm, [probs("happy")] * 3)
    assert [m for _, m, _ in res] == [None, None, "happy"]
    assert [c for _, _, c in res] == [False, False, True]


def test_one_odd_frame_does_not_swing_the_mood():
    sm = MoodSmoother(window_s=5.0)
    feed(sm, [probs("happy", 0.9)] * 15)
    assert sm.mood == "happy"
    # a single, very confident sad frame; then happy again
    res = feed(sm, [probs("sad", 0.99)] + [probs("happy", 0.9)] * 5, t0=3.0)
    assert all(m == "happy" for _, m, _ in res)
    assert not any(c for _, _, c in res)


def test_short_burst_does_not_switch_but_a_sustained_change_does():
    sm = MoodSmoother(window_s=5.0, switch_margin=0.15)
    feed(sm, [probs("happy", 0.85)] * 25)  # 5 s happy
    burst = feed(sm, [probs("sad", 0.85)] * 4, t0=5.0)  # 0.8 s sad
    assert {m for _, m, _ in burst} == {"happy"}
    sustained = feed(sm, [probs("sad", 0.85)] * 30, t0=5.8)  # 6 s sad
    moods = [m for _, m, _ in sustained]
    assert moods[-1] == "sad"
    switch = moods.index("sad")
    assert switch > 0, "switched at the first sad frame after the burst"
    # exactly one change reported
    assert sum(c for _, _, c in sustained) == 1
    # the switch needs the window to lean clearly to sad: after at least ~2 s of sad in 5 s
    assert sustained[switch][0] - 5.0 >= 2.0


def test_hysteresis_keeps_a_close_call_from_flip_flopping():
    sm = MoodSmoother(window_s=3.0, switch_margin=0.15)
    seq = []
    for i in range(100):  # happy and neutral alternate, neither clearly ahead
        seq.append(probs("happy", 0.5, "neutral", 0.4) if i % 2 else probs("neutral", 0.5, "happy", 0.4))
    res = feed(sm, seq)
    changes = sum(c for _, _, c in res)
    assert changes == 1  # the first decision only
    assert res[-1][1] in ("happy", "neutral")


def test_confidence_weighting_favours_confident_readings():
    sm = MoodSmoother(window_s=5.0, min_readings=3, switch_margin=0.0)
    # as many unsure "sad" readings (top 0.3) as confident "happy" ones (0.95)
    seq = []
    for _ in range(10):
        seq += [probs("happy", 0.95), probs("sad", 0.30, "happy", 0.25)]
    feed(sm, seq)
    assert sm.mood == "happy"
    assert sm.mean["happy"] > sm.mean["sad"]


def test_no_face_keeps_the_mood_for_a_while_then_clears_it():
    sm = MoodSmoother(window_s=2.0, hold_s=4.0)
    feed(sm, [probs("sad")] * 10)  # 0 .. 1.8 s
    assert sm.mood == "sad"
    last_face = 1.8
    res = feed(sm, [None] * 30, t0=2.0)  # 2.0 .. 7.8 s without a face
    kept = [m for t, m, _ in res if t - last_face <= 4.0]
    cleared = [(m, c) for t, m, c in res if t - last_face > 4.0]
    assert kept and set(kept) == {"sad"}
    assert cleared and all(m is None for m, _ in cleared)
    assert sum(c for _, c in cleared) == 1  # the clearing is reported once
    # a face again: the mood needs a few readings to come back
    res = feed(sm, [probs("happy")] * 3, t0=8.0)
    assert [m for _, m, _ in res] == [None, None, "happy"]


def test_old_readings_leave_the_window():
    sm = MoodSmoother(window_s=1.0, switch_margin=0.1)
    feed(sm, [probs("angry", 0.9)] * 10)  # 0 .. 1.8 s
    assert sm.mood == "angry"
    res = feed(sm, [probs("surprise", 0.9)] * 10, t0=2.0)
    assert res[-1][1] == "surprise"
    assert "angry" not in sm.mean or sm.mean["angry"] < 0.1


def test_bad_window_is_refused():
    with pytest.raises(ValueError):
        MoodSmoother(window_s=0)

"""Deciding the mood over time: a confidence-weighted window with hysteresis.

Each reading with a face adds its 7 class probabilities to a window of the last ``window_s``
seconds, weighted by its confidence (its top probability). The window's weighted mean picks a
candidate; the mood only changes when

* there is no mood yet and the window holds at least ``min_readings`` readings, or
* the candidate leads the current mood's mean probability by at least ``switch_margin``.

So one odd frame (a blink, a sneeze) does not swing the up-next queue. Frames without a face add
nothing; the last mood is kept for ``hold_s`` seconds after the last face, then cleared.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from player.mood.model import EMOTIONS


@dataclass
class MoodState:
    """What the monitor reports to ``on_update`` (from its thread). No pixels in here."""

    mood: str | None = None  # the decided (smoothed) emotion, None when unknown / cleared
    labels: list[str] = field(default_factory=list)  # tagger labels for ``mood`` under ``policy``
    confidence: float = 0.0  # the window's mean probability of ``mood``
    probs: dict[str, float] = field(default_factory=dict)  # the window's mean probabilities
    face: bool = False  # a face in the latest frame
    faces: list[tuple[int, int, int, int]] = field(default_factory=list)  # boxes in the latest frame
    frame_size: tuple[int, int] | None = None  # (width, height) of the latest frame
    emotion: str | None = None  # the latest frame's own top emotion (unsmoothed)
    changed: bool = False  # ``mood`` changed with this update
    running: bool = True
    message: str = ""  # "no face", "starting", "stopped", "source ended", or the error
    error: str | None = None
    error_kind: str | None = None
    policy: str = "match"
    time: float = 0.0  # the monitor's clock (seconds)

    def as_dict(self) -> dict:
        return {
            "mood": self.mood, "labels": list(self.labels), "confidence": round(self.confidence, 4),
            "probs": {k: round(v, 4) for k, v in self.probs.items()}, "face": self.face,
            "faces": [list(b) for b in self.faces], "emotion": self.emotion, "changed": self.changed,
            "running": self.running, "message": self.message, "error": self.error,
            "error_kind": self.error_kind, "policy": self.policy,
        }


class MoodSmoother:
    """``update(probs_or_None, t)`` → (mood, mean_probs, changed). ``t`` is in seconds, increasing."""

    def __init__(self, *, window_s: float = 5.0, switch_margin: float = 0.15, min_readings: int = 3,
                 hold_s: float = 10.0, classes=EMOTIONS):
        if window_s <= 0:
            raise ValueError("window_s must be > 0")
        self.window_s = float(window_s)
        self.switch_margin = float(switch_margin)
        self.min_readings = max(1, int(min_readings))
        self.hold_s = float(hold_s)
        self.classes = tuple(classes)
        self._window: deque = deque()  # (t, probs tuple, weight)
        self.mood: str | None = None
        self.last_face_t: float | None = None
        self.mean: dict[str, float] = {}

    def reset(self):
        self._window.clear()
        self.mood = None
        self.last_face_t = None
        self.mean = {}

    def _mean(self) -> dict[str, float]:
        total = sum(w for _, _, w in self._window)
        if total <= 0:
            return {}
        sums = [0.0] * len(self.classes)
        for _, p, w in self._window:
            for i, v in enumerate(p):
                sums[i] += w * v
        return {c: s / total for c, s in zip(self.classes, sums)}

    def update(self, probs: dict[str, float] | None, t: float):
        before = self.mood
        if probs:
            vec = tuple(float(probs.get(c, 0.0)) for c in self.classes)
            weight = max(vec) if vec else 0.0
            self._window.append((t, vec, max(weight, 1e-6)))
            self.last_face_t = t
        while self._window and self._window[0][0] <= t - self.window_s:
            self._window.popleft()
        if self.mood is not None and self.last_face_t is not None and t - self.last_face_t > self.hold_s:
            # nobody in front of the camera for a while: forget the mood
            self.mood = None
            self._window.clear()
        self.mean = self._mean()
        if self.mean:
            top = max(self.mean, key=self.mean.get)
            if self.mood is None:
                if len(self._window) >= self.min_readings and probs:
                    self.mood = top
            elif top != self.mood and self.mean[top] - self.mean.get(self.mood, 0.0) >= self.switch_margin:
                self.mood = top
        return self.mood, dict(self.mean), self.mood != before

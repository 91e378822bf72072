"""player.mood — the listener's mood from the webcam: opt-in, private, no Qt.

    from player.mood import read_mood_once, MoodMonitor, MoodReading, MoodState, open_source, MoodError
    from player.mood.mapping import labels_for

* ``open_source(spec)`` — a camera index, or an image / image folder / video file standing in for one.
* ``read_mood_once(camera=0, image=None, policy="match")`` — one MoodReading (camera released after).
* ``MoodMonitor(spec, on_update=cb, window_s=5.0, fps=5, policy="match")`` — background thread,
  smoothed mood, ``.start()`` / ``.stop()`` (camera released within 1 s), ``.latest_frame_small``.
* ``mapping.labels_for(emotion_or_mood, policy)`` — tagger labels for the recommender's query.

Importing this package loads nothing heavy: OpenCV, NumPy and h5py are imported when a reading is
made; TensorFlow is never needed (the expression model runs in NumPy). See docs/mood.md.
"""

from __future__ import annotations

from player.mood.errors import MoodError

__all__ = [
    "MoodError", "MoodReading", "MoodState", "MoodMonitor", "MoodAnalyzer", "MoodSmoother",
    "read_mood_once", "open_source", "labels_for", "EMOTIONS", "NO_FACE",
]

_LAZY = {
    "MoodReading": "player.mood.reading",
    "MoodAnalyzer": "player.mood.reading",
    "read_mood_once": "player.mood.reading",
    "NO_FACE": "player.mood.reading",
    "MoodMonitor": "player.mood.monitor",
    "MoodState": "player.mood.smoothing",
    "MoodSmoother": "player.mood.smoothing",
    "open_source": "player.mood.sources",
    "FrameSource": "player.mood.sources",
    "labels_for": "player.mood.mapping",
    "EMOTIONS": "player.mood.model",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'player.mood' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

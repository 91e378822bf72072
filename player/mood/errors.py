"""The one exception of player.mood: a clear, one-line message the GUI and CLI can show as-is."""

from __future__ import annotations


class MoodError(Exception):
    """Something stops the mood reading: no camera, a busy camera, no permission, black or frozen
    frames, a missing or broken model file, an unreadable image or video.

    ``kind`` is a short machine-readable tag so callers can react (e.g. the GUI turns its toggle
    back off): ``no_camera``, ``busy``, ``permission``, ``black``, ``frozen``, ``ended``,
    ``model_missing``, ``model_broken``, ``bad_source``, ``no_detector`` (and ``cancelled`` when a
    camera being opened was stopped).
    """

    def __init__(self, message: str, kind: str = "error"):
        super().__init__(message)
        self.kind = kind

    @property
    def message(self) -> str:
        return str(self)

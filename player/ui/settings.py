"""Window settings in ``QSettings``: geometry, volume, listener, mood weight, audio device …"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from player import APP_NAME


def default_settings() -> QSettings:
    return QSettings(APP_NAME, "player")


class Settings:
    """Typed accessors over a ``QSettings`` (tests pass an INI file in a temp folder)."""

    def __init__(self, qs: QSettings | None = None):
        self.qs = qs if qs is not None else default_settings()

    def _get(self, key: str, default, kind):
        value = self.qs.value(key, default)
        if value is None:
            return default
        try:
            if kind is bool:
                if isinstance(value, str):
                    return value.strip().lower() in ("1", "true", "yes", "on")
                return bool(value)
            return kind(value)
        except (TypeError, ValueError):
            return default

    def _set(self, key: str, value) -> None:
        self.qs.setValue(key, value)

    # window
    @property
    def geometry(self) -> QByteArray | None:
        v = self.qs.value("window/geometry")
        return v if isinstance(v, QByteArray) and not v.isEmpty() else None

    @geometry.setter
    def geometry(self, v: QByteArray) -> None:
        self._set("window/geometry", v)

    def blob(self, key: str) -> QByteArray | None:
        v = self.qs.value(key)
        return v if isinstance(v, QByteArray) and not v.isEmpty() else None

    def set_blob(self, key: str, v: QByteArray) -> None:
        self._set(key, v)

    # playback
    @property
    def volume(self) -> float:
        return max(0.0, min(1.0, self._get("playback/volume", 0.8, float)))

    @volume.setter
    def volume(self, v: float) -> None:
        self._set("playback/volume", float(v))

    @property
    def muted(self) -> bool:
        return self._get("playback/muted", False, bool)

    @muted.setter
    def muted(self, v: bool) -> None:
        self._set("playback/muted", bool(v))

    @property
    def audio_device(self) -> str:
        return self._get("playback/device", "", str)

    @audio_device.setter
    def audio_device(self, v: str) -> None:
        self._set("playback/device", v or "")

    @property
    def shuffle(self) -> bool:
        return self._get("playback/shuffle", False, bool)

    @shuffle.setter
    def shuffle(self, v: bool) -> None:
        self._set("playback/shuffle", bool(v))

    @property
    def repeat(self) -> str:
        v = self._get("playback/repeat", "off", str)
        return v if v in ("off", "one", "all") else "off"

    @repeat.setter
    def repeat(self, v: str) -> None:
        self._set("playback/repeat", v)

    # listener
    @property
    def listener(self) -> str:
        return self._get("listener/name", "", str)

    @listener.setter
    def listener(self, v: str) -> None:
        self._set("listener/name", v or "")

    # mood
    @property
    def mood_weight(self) -> float:
        return max(0.0, min(2.0, self._get("mood/weight", 0.8, float)))

    @mood_weight.setter
    def mood_weight(self, v: float) -> None:
        self._set("mood/weight", float(v))

    @property
    def mood_policy(self) -> str:
        v = self._get("mood/policy", "match", str)
        return v if v in ("match", "cheer_up") else "match"

    @mood_policy.setter
    def mood_policy(self, v: str) -> None:
        self._set("mood/policy", v)

    @property
    def camera(self) -> str:
        return self._get("mood/camera", "0", str)

    @camera.setter
    def camera(self, v: str) -> None:
        self._set("mood/camera", str(v))

    def sync(self) -> None:
        self.qs.sync()

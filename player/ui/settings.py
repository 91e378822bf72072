"""The settings file as a ``QSettings`` INI file, read and written through :mod:`player.options`.

``settings[VOLUME]`` reads an option (its default when missing or unacceptable, an environment
override where the option has one); ``settings[VOLUME] = 0.5`` checks and writes it. Opening a file
upgrades it to the current settings version. The file is ``player.conf`` in the player's config
folder (:func:`player.options.settings_path`, moved by ``PLAYER_DATA_DIR``); tests pass their own.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from player import options
from player.options import Option


def redirect_qt_settings(folder: Path) -> None:
    """Qt's own settings (the file dialog's ``QtProject.conf``) go to ``folder`` too, not ``~/.config``."""
    for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
        QSettings.setPath(fmt, QSettings.UserScope, str(folder))


def _plain(raw):
    return bytes(raw.data()) if isinstance(raw, QByteArray) else raw


class Settings:
    """The player's options in a ``QSettings`` (see the module docstring)."""

    def __init__(self, qs: QSettings | None = None):
        self.qs = qs if qs is not None else QSettings(str(options.settings_path()), QSettings.IniFormat)
        options.upgrade(self)

    @classmethod
    def at(cls, path: str | Path) -> "Settings":
        return cls(QSettings(str(path), QSettings.IniFormat))

    @property
    def path(self) -> Path:
        return Path(self.qs.fileName())

    def __getitem__(self, option: Option):
        env = option.from_environment()
        return env if env is not None else option.parse(_plain(self.qs.value(option.key)))

    def __setitem__(self, option: Option, value) -> None:
        value = option.validate(value)
        self.qs.setValue(option.key, QByteArray(value) if isinstance(value, bytes) else value)

    # -- raw access, for upgrades (player.options.RawStore) ----------------------------------------
    def keys(self) -> list[str]:
        return list(self.qs.allKeys())

    def raw(self, key: str):
        return _plain(self.qs.value(key))

    def set_raw(self, key: str, value) -> None:
        self.qs.setValue(key, value)

    def remove(self, key: str) -> None:
        self.qs.remove(key)

    def sync(self) -> None:
        self.qs.sync()

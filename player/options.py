"""Every option the player keeps, declared once: its key, default, check, scope and meaning.

As Picard's ``options.py`` and ``config_upgrade.py``: stores read and write *through* these
declarations, so a default or a rule is written in one place.

Scopes:

* ``setting`` — chosen by the listener (volume, camera, mood policy …), in the settings file;
* ``state``   — the window's own state (geometry, splitter, column widths), in the same file;
* ``library`` — the recommender's settings of one library, kept as JSON in its SQLite ``settings``
  table (:class:`player.recommend.settings.RecommendSettings` takes its fields from here).

The settings file (``player.conf`` in :func:`player.paths.config_dir`) carries a version number;
:func:`upgrade` brings an older file up to :data:`SETTINGS_VERSION` with the ordered functions in
:data:`UPGRADES` (a renamed key, a changed meaning). No Qt here: ``player/ui/settings.py`` is the
QSettings-backed store, and the CLI and the recommender read the same declarations.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

from player.errors import PlayerError

SETTING = "setting"
STATE = "state"
LIBRARY = "library"


class OptionError(PlayerError, ValueError):
    """A value an option does not accept, said in words (``volume must be from 0 to 1, not 7``)."""


def _shown(value) -> str:
    return value if isinstance(value, str) else str(value)


# -- checks: each returns the value in its kind, or raises ValueError with the rule in words -----
def choice(*values: str) -> Callable[[Any], str]:
    def check(value):
        if value not in values:
            raise ValueError(f"must be one of {', '.join(values)}, not {_shown(value)}")
        return value

    return check


def number(low: float | None = 0.0, high: float | None = None, *, clamp: bool = False) -> Callable[[Any], float]:
    """A finite number from ``low`` to ``high``; ``clamp``: out-of-range values are moved into it."""
    rule = f"from {low:g} to {high:g}" if low is not None and high is not None else f">= {low:g}"

    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"must be a number {rule}, not {_shown(value)}")
        out = float(value)
        if clamp:
            return max(low, min(high, out))
        if (low is not None and out < low) or (high is not None and out > high):
            raise ValueError(f"must be a number {rule}, not {_shown(value)}")
        return out

    return check


def whole(low: int = 0) -> Callable[[Any], int]:
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"must be a whole number >= {low}, not {_shown(value)}")
        return value

    return check


def numbers(count: int, what: str) -> Callable[[Any], tuple]:
    def check(value):
        try:
            out = tuple(float(x) for x in value)
        except (TypeError, ValueError):
            out = ()
        if len(out) != count or not all(math.isfinite(x) for x in out):
            raise ValueError(f"must be {count} finite numbers, {what}")
        return out

    return check


_KIND_WORDS = {str: "text", bool: "true or false", bytes: "bytes"}


def kind_of(kind: type) -> Callable[[Any], Any]:
    """A value of ``kind`` (str, bool, bytes) as it is."""

    def check(value):
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ValueError(f"must be {_KIND_WORDS.get(kind, kind.__name__)}")
        return value

    return check


@dataclass(frozen=True)
class Option:
    """One option. ``check`` converts a value of the right kind or raises ``ValueError``;
    ``env`` names an environment variable that overrides the stored value."""

    key: str
    default: Any
    kind: type
    check: Callable[[Any], Any]
    scope: str = SETTING
    doc: str = ""
    env: str | None = None

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    def validate(self, value, *, label: str | None = None):
        """``value`` checked (an :class:`OptionError` naming the option when it is wrong)."""
        try:
            return self.check(value)
        except (TypeError, ValueError) as exc:
            raise OptionError(f"{label or self.name} {exc}") from None

    def parse(self, raw):
        """A stored value (text in an INI file, or already typed) as the option's value; the default
        when it is missing or not acceptable."""
        if raw is None:
            return self.default
        try:
            if isinstance(raw, str) and self.kind is bool:
                raw = raw.strip().lower() in ("1", "true", "yes", "on")
            elif isinstance(raw, str) and self.kind in (int, float):
                raw = self.kind(raw)
            elif isinstance(raw, bool) and self.kind in (int, float):
                return self.default
            elif self.kind is float and isinstance(raw, int):
                raw = float(raw)
            elif self.kind is str and not isinstance(raw, str):
                raw = str(raw)
            return self.check(raw)
        except (TypeError, ValueError):
            return self.default

    def from_environment(self, environ=os.environ):
        """The value the environment variable sets (None when unset or empty); a wrong one is an
        :class:`OptionError` that names the variable."""
        if not self.env:
            return None
        text = environ.get(self.env, "").strip()
        if not text:
            return None
        return self.validate(text.lower() if self.kind is str else self.parse(text), label=self.env)


def _declare(*options: Option) -> dict[str, Option]:
    return {o.key: o for o in options}


# -- the settings file: the listener's choices and the window's state -----------------------------
GEOMETRY = Option("window/geometry", b"", bytes, kind_of(bytes), STATE, "the window's size and place")
SPLITTER = Option("window/splitter", b"", bytes, kind_of(bytes), STATE, "sidebar | library | Up next widths")
HEADER = Option("window/header", b"", bytes, kind_of(bytes), STATE, "the library table's columns")
HEADER_CUSTOM = Option("window/header_custom", False, bool, kind_of(bool), STATE,
                       "the listener resized a column: restore the widths instead of fitting them")
IMPORT_FOLDER = Option("import/last", "", str, kind_of(str), STATE,
                       "where Import folder… opens (empty: the home folder)")
VOLUME = Option("playback/volume", 0.8, float, number(0.0, 1.0, clamp=True), doc="volume, 0 to 1")
MUTED = Option("playback/muted", False, bool, kind_of(bool), doc="sound muted")
SHUFFLE = Option("playback/shuffle", False, bool, kind_of(bool), doc="shuffle the queue")
REPEAT = Option("playback/repeat", "off", str, choice("off", "one", "all"), doc="repeat off, one song or all")
OUTPUT_DEVICE = Option("playback/output_device", "", str, kind_of(str),
                       doc="the sound card by name (empty: the system default); used from the next start")
AUDIO_BACKEND = Option("playback/backend", "auto", str,
                       choice("auto", "sounddevice", "null", "null-realtime", "null-manual"),
                       doc="the audio output: auto (the sound card, else silent), sounddevice, or null "
                           "(silent, for tests and machines without sound)", env="PLAYER_AUDIO")
LISTENER = Option("listener/name", "", str, kind_of(str), doc="who is listening (empty: the first listener)")
MOOD_WEIGHT = Option("mood/weight", 0.8, float, number(0.0, 2.0, clamp=True),
                     doc="how much the detected mood weighs in Up next, 0 to 2")
MOOD_POLICY = Option("mood/policy", "match", str, choice("match", "cheer_up"),
                     doc="music that matches the mood, or music to cheer the listener up")
CAMERA = Option("mood/camera", "0", str, kind_of(str), doc="a camera number, or a video or picture file")

NOTIFY_SONGS = Option("desktop/notify_songs", False, bool, kind_of(bool),
                      doc="a desktop notification when a new song starts")
CLOSE_TO_TRAY = Option("desktop/close_to_tray", False, bool, kind_of(bool),
                       doc="closing the window hides it into the tray (while a tray icon is shown)")
COLUMNS = Option("window/columns", "", str, kind_of(str), STATE,
                 "the library table's extra columns, by name, comma-separated (empty: the usual ones)")
GAIN_MODE = Option("playback/gain_mode", "auto", str, choice("off", "track", "album", "auto"),
                   doc="volume levelling: off, track, album, or auto (album gain while an album plays in "
                       "order, else track gain)")
PREAMP_DB = Option("playback/preamp_db", 0.0, float, number(-15.0, 15.0, clamp=True),
                   doc="the volume levelling's preamp in dB, -15 to +15")
PREVENT_CLIPPING = Option("playback/prevent_clipping", True, bool, kind_of(bool),
                          doc="lower the levelling gain where the peak would clip")
CROSSFADE = Option("playback/crossfade", 0.0, float, number(0.0, 10.0, clamp=True),
                   doc="crossfade between songs in seconds, 0 (off) to 10")
VIEW = Option("window/view", "list", str, choice("list", "albums"), STATE,
              "the library shown as a list of songs or as a grid of albums")

SETTINGS = _declare(GEOMETRY, SPLITTER, HEADER, HEADER_CUSTOM, IMPORT_FOLDER, VOLUME, MUTED, SHUFFLE, REPEAT,
                    OUTPUT_DEVICE, AUDIO_BACKEND, LISTENER, MOOD_WEIGHT, MOOD_POLICY, CAMERA,
                    NOTIFY_SONGS, CLOSE_TO_TRAY, COLUMNS, GAIN_MODE, PREAMP_DB, PREVENT_CLIPPING, CROSSFADE, VIEW)


# -- per library: the recommender (RecommendSettings, JSON in the library's settings table) ---------
def _recommend(name: str, default, kind: type, check, doc: str) -> Option:
    return Option(f"recommend/{name}", default, kind, check, LIBRARY, doc)


RECOMMEND = {o.name: o for o in (
    _recommend("mode", "stars", str, choice("stars", "seed"),
               'the listener profile: "stars" (liked songs pull it towards their labels, disliked ones push '
               'it away) or "seed" (the sum of the unit TF-IDF vectors of every rated song, whatever its stars)'),
    _recommend("star_weights", (-1.0, -0.5, 0.0, 0.5, 1.0), tuple, numbers(5, "for 1 to 5 stars"),
               'weight of 1, 2, 3, 4 and 5 stars in "stars" mode (> 0 pulls, < 0 pushes, 0 is neutral)'),
    _recommend("dislike_weight", 0.5, float, number(),
               "how hard the disliked songs push, relative to the liked songs' pull"),
    _recommend("weight_profile", 1.0, float, number(), "cosine(label profile, song labels)"),
    _recommend("weight_mood", 0.8, float, number(), "cosine(mood labels, song labels), the mood query"),
    _recommend("weight_embedding", 0.6, float, number(), "cosine(current track embedding, song embedding)"),
    _recommend("weight_taste_embedding", 0.4, float, number(),
               "cosine(embedding profile of rated songs, song embedding)"),
    _recommend("weight_history", 0.5, float, number(), "co-occurrence collaborative filtering from plays"),
    _recommend("weight_artist", 0.1, float, number(), "the listener's stars for the song's artist/album"),
    _recommend("recent_window", 50, int, whole(0), "the listener's last N plays are not proposed again"),
    _recommend("dislike_threshold", 2, int, whole(0), "songs rated at or below this are never proposed"),
    _recommend("max_artist_run", 2, int, whole(1), "at most this many songs of one artist in a row"),
    _recommend("max_album_run", 1, int, whole(1), "at most this many songs of one album in a row"),
    _recommend("max_familiar_fraction", 0.5, float, number(0.0, 1.0),
               "at most this share of a list is songs the listener already knows"),
    _recommend("history_unit", "user+session", str, choice("user", "session", "user+session"),
               'baskets whose co-occurrence is counted: "user" (one per listener), "session" (one per '
               'listening session) or "user+session" (the mean of both scores)'),
    _recommend("session_gap_s", 1800.0, float, number(), "a pause longer than this starts a new session"),
    _recommend("min_play_seconds", 30.0, float, number(), "a skipped play shorter than this is not a positive signal"),
    _recommend("similar_label_weight", 0.0, float, number(),
               'add cosine of labels to "more like this" (0: embedding only)'),
)}


# -- where the settings file lives, and its upgrades -------------------------------------------------
def settings_path() -> Path:
    """``player.conf`` in the config folder (moved by ``PLAYER_DATA_DIR``)."""
    from player.paths import config_dir

    return config_dir() / "player.conf"


VERSION_KEY = "settings/version"
SETTINGS_VERSION = 2


class RawStore(Protocol):
    """What :func:`upgrade` needs of a store: its keys and raw values."""

    def keys(self) -> Iterable[str]: ...
    def raw(self, key: str): ...
    def set_raw(self, key: str, value) -> None: ...
    def remove(self, key: str) -> None: ...


def rename(store: RawStore, old: str, new: str) -> None:
    """``old`` becomes ``new`` (a value already under ``new`` wins)."""
    value = store.raw(old)
    if value is None:
        return
    if store.raw(new) is None:
        store.set_raw(new, value)
    store.remove(old)


def _upgrade_to_2(store: RawStore) -> None:
    # "playback/device" was ambiguous next to the audio backend: it names the output device.
    rename(store, "playback/device", OUTPUT_DEVICE.key)


#: (version, function): run in order on a file older than ``version``.
UPGRADES: tuple[tuple[int, Callable[[RawStore], None]], ...] = ((2, _upgrade_to_2),)


def stored_version(store: RawStore) -> int:
    """The file's settings version; 1 for a file from before versions were written, and the current
    one for an empty (new) file."""
    raw = store.raw(VERSION_KEY)
    if raw is None:
        return 1 if any(k != VERSION_KEY for k in store.keys()) else SETTINGS_VERSION
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 1


def upgrade(store: RawStore) -> list[int]:
    """Bring ``store`` to :data:`SETTINGS_VERSION`; the versions it went through. A file written by a
    newer player is left as it is (its unknown keys are kept, known ones read as declared)."""
    version = stored_version(store)
    if version > SETTINGS_VERSION:
        return []
    done = []
    for target, fn in UPGRADES:
        if target > version:
            fn(store)
            done.append(target)
    if version != SETTINGS_VERSION or store.raw(VERSION_KEY) is None:
        store.set_raw(VERSION_KEY, SETTINGS_VERSION)
    return done


__all__ = ["Option", "OptionError", "SETTING", "STATE", "LIBRARY", "SETTINGS", "RECOMMEND", "SETTINGS_VERSION",
           "UPGRADES", "upgrade", "rename", "settings_path", "choice", "number", "whole", "numbers", "kind_of"]

"""Guarded access to the cores the window drives.

Other parts of the player (audio, recommend, mood, analysis) may be missing or broken on a given
install; the window then shows the feature disabled, with a tooltip saying why, instead of failing to
start. Each probe imports lazily and remembers the answer.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Core:
    name: str
    module: Any | None
    reason: str | None  # why it is unavailable (None when available)

    @property
    def ok(self) -> bool:
        return self.module is not None

    def get(self, attr: str):
        return getattr(self.module, attr, None) if self.module is not None else None


_CACHE: dict[str, Core] = {}

# module, names it must export, what the feature is called in messages
_SPECS = {
    "audio": ("player.audio", ("Player",), "playback"),
    "recommend": ("player.recommend", ("Recommender",), "recommendations"),
    "mood": ("player.mood", ("MoodMonitor",), "the mood camera"),
    "analysis": ("player.analysis", (), "background analysis"),
}


def core(name: str) -> Core:
    """The core ``name`` ('audio', 'recommend', 'mood', 'analysis') or why it is unavailable."""
    if name in _CACHE:
        return _CACHE[name]
    module_name, needed, feature = _SPECS[name]
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - a broken core must not stop the window
        result = Core(name, None, f"{feature} is unavailable: {module_name} failed to load ({exc})")
    else:
        missing = [n for n in needed if not hasattr(module, n)]
        if missing:
            result = Core(name, None, f"{feature} is not installed in this build yet ({module_name} has no {', '.join(missing)})")
        else:
            result = Core(name, module, None)
    _CACHE[name] = result
    return result


def present(name: str) -> Core:
    """Cheap: is the core's module there at all (no import of its heavy parts)? ``module`` stays None.

    The window uses this at start-up and imports the core in a worker when it first needs it.
    """
    import importlib.util

    module_name, _needed, feature = _SPECS[name]
    if name in _CACHE and _CACHE[name].module is None:
        return _CACHE[name]
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError) as exc:
        return Core(name, None, f"{feature} is unavailable: {exc}")
    if spec is None:
        return Core(name, None, f"{feature} is not installed in this build ({module_name} is missing)")
    return Core(name, True, None)


def forget() -> None:
    """Forget cached probes (tests; a core landing while the window runs is not supported)."""
    _CACHE.clear()

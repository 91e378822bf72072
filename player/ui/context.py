"""What the window's parts share.

:class:`Services` is what the adapters to the cores need: the library, the worker pools, the settings,
the library model and the two ways to tell the listener something (a notice, a status-bar line).
:class:`WindowContext` adds those adapters (playback, recommendations, mood, analysis control), for
the controllers; :class:`Controller` is their common base.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QObject

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from player.ui.analysis_adapter import AnalysisControl
    from player.ui.library_model import LibraryModel
    from player.ui.mood_control import MoodController
    from player.ui.playback import PlaybackController
    from player.ui.recommend_control import RecommendController
    from player.ui.settings import Settings
    from player.ui.workers import Pools


@dataclass(frozen=True)
class Services:
    library: Any  # player.library.Library
    pools: "Pools"
    settings: "Settings"
    model: "LibraryModel"
    #: ``notify(text, level="info", actions=None)``: a notice above the library (errors stay)
    notify: Callable[..., None]
    #: ``status(text, ms)``: a passing line in the status bar
    status: Callable[[str, int], None]


@dataclass(frozen=True)
class WindowContext(Services):
    playback: "PlaybackController"
    recs: "RecommendController"
    mood: "MoodController"
    analysis: "AnalysisControl"

    @classmethod
    def of(cls, services: Services, **cores) -> "WindowContext":
        return cls(**{f.name: getattr(services, f.name) for f in fields(Services)}, **cores)


class Controller(QObject):
    """One concern of the window, over the shared :class:`WindowContext`."""

    def __init__(self, ctx: WindowContext, parent=None):
        super().__init__(parent)
        self.ctx = ctx

"""What the window's controllers share: the library, the worker pools, the settings, the library model
and the two ways to tell the listener something (a notice, a status-bar line)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from player.ui.library_model import LibraryModel
    from player.ui.settings import Settings
    from player.ui.workers import Pools


@dataclass(frozen=True)
class WindowContext:
    library: Any  # player.library.Library
    pools: "Pools"
    settings: "Settings"
    model: "LibraryModel"
    #: ``notify(text, level="info", actions=None)``: a notice above the library (errors stay)
    notify: Callable[..., None]
    #: ``status(text, ms)``: a passing line in the status bar
    status: Callable[[str, int], None]

"""Playback ▸ Volume levelling (off / track / album / auto) and Playback ▸ Crossfade: checkable
choices that drive :class:`~player.ui.playback.PlaybackController` and are kept in the settings."""

from __future__ import annotations

from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QMenu

from player.options import CROSSFADE, GAIN_MODE

GAIN_CHOICES = (("off", "&Off"), ("track", "&Track"), ("album", "&Album"),
                ("auto", "A&uto (album gain while an album plays in order)"))
CROSSFADE_CHOICES = (0.0, 2.0, 5.0, 10.0)


def _crossfade_text(seconds: float) -> str:
    return "&Off" if seconds == 0 else f"{seconds:g} s"


class LevellingMenus:
    """Fills the two submenus once; choosing an entry applies it and remembers it."""

    def __init__(self, levelling: QMenu, crossfade: QMenu, playback, settings):
        self.playback = playback
        self.gain_actions = self._fill(levelling, GAIN_CHOICES, settings[GAIN_MODE], playback.set_gain)
        chosen = settings[CROSSFADE]
        choices = CROSSFADE_CHOICES if chosen in CROSSFADE_CHOICES else tuple(sorted({*CROSSFADE_CHOICES, chosen}))
        self.crossfade_actions = self._fill(crossfade, [(s, _crossfade_text(s)) for s in choices], chosen,
                                            playback.set_crossfade)

    @staticmethod
    def _fill(menu: QMenu, choices, current, apply) -> dict:
        group = QActionGroup(menu)
        group.setExclusive(True)
        actions = {}
        for value, text in choices:
            action = menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(value == current)
            group.addAction(action)
            action.triggered.connect(lambda _checked=False, v=value: apply(v))
            actions[value] = action
        return actions

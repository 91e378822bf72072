"""Playback ▸ Volume levelling (off / track / album / auto, and its preamp) and Playback ▸ Crossfade:
checkable choices that drive :class:`~player.ui.playback.PlaybackController` and are kept in the
settings."""

from __future__ import annotations

from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QMenu

from player.options import CROSSFADE, GAIN_MODE, PREAMP_DB

GAIN_CHOICES = (("off", "&Off"), ("track", "&Track"), ("album", "&Album"),
                ("auto", "A&uto (album gain while an album plays in order)"))
CROSSFADE_CHOICES = (0.0, 2.0, 5.0, 10.0)
PREAMP_CHOICES = (-6.0, -3.0, 0.0, 3.0, 6.0)  # dB; a value set in the settings file is listed too


def _crossfade_text(seconds: float) -> str:
    return "&Off" if seconds == 0 else f"{seconds:g} s"


def _preamp_text(db: float) -> str:
    sign = "\u2212" if db < 0 else "+" if db > 0 else ""
    return f"{sign}{abs(db):g} dB"


def _with_current(choices: tuple, current) -> tuple:
    """The menu's choices, and the current value in order among them when it is none of them."""
    return choices if current in choices else tuple(sorted({*choices, current}))


class LevellingMenus:
    """Fills the submenus once; choosing an entry applies it and remembers it."""

    def __init__(self, levelling: QMenu, crossfade: QMenu, playback, settings):
        self.playback = playback
        self.gain_actions = self._fill(levelling, GAIN_CHOICES, settings[GAIN_MODE], self._set_gain)
        levelling.addSeparator()
        self.preamp_menu = levelling.addMenu("&Preamp")
        self.preamp_menu.setToolTipsVisible(True)
        self.preamp_menu.menuAction().setToolTip("Raises or lowers every levelled song by this much "
                                                 "(clipping is still prevented)")
        chosen = settings[PREAMP_DB]
        self.preamp_actions = self._fill(self.preamp_menu, [(db, _preamp_text(db))
                                                            for db in _with_current(PREAMP_CHOICES, chosen)],
                                         chosen, playback.set_preamp)
        self._show_preamp(settings[GAIN_MODE])
        chosen = settings[CROSSFADE]
        self.crossfade_actions = self._fill(crossfade, [(s, _crossfade_text(s))
                                                        for s in _with_current(CROSSFADE_CHOICES, chosen)],
                                            chosen, playback.set_crossfade)

    def _set_gain(self, mode: str) -> None:
        self.playback.set_gain(mode)
        self._show_preamp(mode)

    def _show_preamp(self, mode: str) -> None:
        """The preamp acts on levelled songs only: offered while levelling is on."""
        self.preamp_menu.menuAction().setEnabled(mode != "off")

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

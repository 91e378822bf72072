"""The tray icon, song-change notifications and close-to-tray.

- :class:`Tray`: a ``QSystemTrayIcon`` with a menu (the current song, play/pause, next, previous,
  show/hide the window, quit) whose actions emit signals the window connects to its controls. Where
  the platform has no tray (offscreen, some Wayland desktops) it stays hidden but keeps its menu and
  tooltip up to date, and :attr:`Tray.available` is False.
- :class:`Notifier`: "now playing" notifications through ``org.freedesktop.Notifications`` on the
  session bus when a notification server is there (each replaces the previous one), else the tray's
  balloon (``QSystemTrayIcon.showMessage``); off unless the setting says so.
- :class:`CloseToTray`: an event filter on the window: with the setting on and a tray to come back
  from, closing the window hides it instead; :meth:`CloseToTray.quit` closes for real.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from player.ui.dbus import SessionBus, reply_error

log = logging.getLogger("player.tray")

APP_NAME = "Tastebuds"
NOTHING_PLAYING = "Nothing playing"


def song_line(title: str | None, artist: str | None) -> str:
    title = (title or "").strip() or "Unknown title"
    artist = (artist or "").strip()
    return f"{title} — {artist}" if artist else title


class Tray(QObject):
    """The tray icon and its menu. Connect the signals; call the ``set_…`` methods as things change."""

    play_pause_requested = Signal()
    next_requested = Signal()
    previous_requested = Signal()
    show_hide_requested = Signal()
    quit_requested = Signal()

    def __init__(self, icon: QIcon | None = None, parent: QObject | None = None):
        super().__init__(parent)
        from player.ui.icons import app_icon, transport_icon

        self._transport_icon = transport_icon
        self.icon = QSystemTrayIcon(icon or app_icon(), self)
        self.menu = QMenu()
        self.act_song = QAction(NOTHING_PLAYING, self)
        self.act_song.setEnabled(False)
        self.act_play_pause = QAction(transport_icon("play"), "Play", self)
        self.act_next = QAction(transport_icon("next"), "Next", self)
        self.act_previous = QAction(transport_icon("prev"), "Previous", self)
        self.act_show_hide = QAction("Hide window", self)
        self.act_quit = QAction("Quit", self)
        self.act_play_pause.triggered.connect(self.play_pause_requested)
        self.act_next.triggered.connect(self.next_requested)
        self.act_previous.triggered.connect(self.previous_requested)
        self.act_show_hide.triggered.connect(self.show_hide_requested)
        self.act_quit.triggered.connect(self.quit_requested)
        self.menu.addAction(self.act_song)
        self.menu.addSeparator()
        for act in (self.act_play_pause, self.act_next, self.act_previous):
            self.menu.addAction(act)
        self.menu.addSeparator()
        self.menu.addAction(self.act_show_hide)
        self.menu.addAction(self.act_quit)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.title: str | None = None
        self.artist: str | None = None
        self.playing = False
        self.set_can_go(next=True, previous=False)
        self._update_tooltip()

    @property
    def available(self) -> bool:
        """Whether the desktop shows tray icons (and so whether the window may hide into it)."""
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> bool:
        """Show the icon where there is a tray; False (and hidden) where there is none."""
        if not self.available:
            log.info("no system tray on this desktop: the tray icon stays hidden")
            return False
        self.icon.show()
        return True

    def hide(self) -> None:
        self.icon.hide()

    @property
    def visible(self) -> bool:
        return self.available and self.icon.isVisible()

    # -- state -------------------------------------------------------------------------------
    def set_track(self, title: str | None, artist: str | None = None) -> None:
        """The current song (``title`` None: nothing playing)."""
        self.title, self.artist = title, artist
        self.act_song.setText(song_line(title, artist) if title is not None else NOTHING_PLAYING)
        self._update_tooltip()

    def set_playing(self, playing: bool) -> None:
        self.playing = bool(playing)
        self.act_play_pause.setText("Pause" if playing else "Play")
        self.act_play_pause.setIcon(self._transport_icon("pause" if playing else "play"))
        self._update_tooltip()

    def set_can_go(self, *, next: bool | None = None, previous: bool | None = None,  # noqa: A002
                   play: bool | None = None) -> None:
        if next is not None:
            self.act_next.setEnabled(bool(next))
        if previous is not None:
            self.act_previous.setEnabled(bool(previous))
        if play is not None:
            self.act_play_pause.setEnabled(bool(play))

    def set_window_visible(self, visible: bool) -> None:
        self.act_show_hide.setText("Hide window" if visible else "Show window")

    def tooltip(self) -> str:
        return self.icon.toolTip()

    def _update_tooltip(self) -> None:
        if self.title is None:
            text = f"{APP_NAME}\n{NOTHING_PLAYING}"
        else:
            text = f"{APP_NAME}{'' if self.playing else ' (paused)'}\n{song_line(self.title, self.artist)}"
        self.icon.setToolTip(text)

    def _activated(self, reason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.show_hide_requested.emit()
        elif reason == QSystemTrayIcon.ActivationReason.MiddleClick:
            self.play_pause_requested.emit()


class Notifier(QObject):
    """Song-change notifications: ``org.freedesktop.Notifications`` when a server answers on the
    session bus, else the tray's balloon. ``enabled`` is the setting (off: nothing is shown)."""

    delivered = Signal(str)  # "dbus" or "tray"

    def __init__(self, tray: Tray | None = None, *, bus: SessionBus | None = None, enabled: bool = False,
                 app_icon: str = "tastebuds", parent: QObject | None = None):
        super().__init__(parent)
        self.tray = tray
        self.bus = bus
        self.enabled = bool(enabled)
        self.app_icon = app_icon
        self._last_id = 0
        self._server_missing = False

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)

    def song_changed(self, title: str | None, artist: str | None = None, album: str | None = None,
                     cover_path: str | None = None) -> None:
        """Call when a new song starts; shows it when notifications are on."""
        if not self.enabled or title is None:
            return
        body = " — ".join(p for p in ((artist or "").strip(), (album or "").strip()) if p)
        self.notify(title.strip() or "Unknown title", body, cover_path)

    def notify(self, summary: str, body: str = "", image_path: str | None = None) -> None:
        if self.bus is not None and self.bus.connected and not self._server_missing:
            self._notify_dbus(summary, body, image_path)
        else:
            self._notify_tray(summary, body)

    def _notify_dbus(self, summary: str, body: str, image_path: str | None) -> None:
        from jeepney import DBusAddress, new_method_call

        hints = {"desktop-entry": ("s", "tastebuds"), "category": ("s", "x-gnome.music"),
                 "transient": ("b", True)}
        if image_path and Path(image_path).is_file():
            hints["image-path"] = ("s", Path(image_path).absolute().as_uri())
        address = DBusAddress("/org/freedesktop/Notifications", bus_name="org.freedesktop.Notifications",
                              interface="org.freedesktop.Notifications")
        msg = new_method_call(address, "Notify", "susssasa{sv}i",
                              (APP_NAME, self._last_id, self.app_icon, summary,
                               html.escape(body, quote=False), [], hints, -1))

        def done(reply) -> None:
            error = reply_error(reply)
            if error is None:
                self._last_id = int(reply.body[0])
                self.delivered.emit("dbus")
                return
            log.info("no notification server (%s): notifications go to the tray", error)
            self._server_missing = True
            self._notify_tray(summary, body)

        self.bus.call(msg, done)

    def _notify_tray(self, summary: str, body: str) -> None:
        if self.tray is None:
            return
        self.tray.icon.showMessage(summary, body, self.tray.icon.icon(), 5000)
        self.delivered.emit("tray")


def hides_on_close(enabled: bool, tray_visible: bool, quitting: bool) -> bool:
    """Whether closing the window should hide it into the tray instead."""
    return bool(enabled and tray_visible and not quitting)


class CloseToTray(QObject):
    """Installs itself on ``window``. ``can_hide`` (default: the tray is visible) says whether there is
    a tray to come back from; without one the window closes as usual."""

    hidden_to_tray = Signal()

    def __init__(self, window: QWidget, tray: Tray | None = None, *, enabled: bool = False,
                 can_hide: Callable[[], bool] | None = None):
        super().__init__(window)
        self.window = window
        self.enabled = bool(enabled)
        self.quitting = False
        self._can_hide = can_hide or (lambda: tray is not None and tray.visible)
        window.installEventFilter(self)

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)

    def quit(self) -> None:
        """Close the window for real (the tray's Quit, File ▸ Quit)."""
        self.quitting = True
        self.window.close()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if obj is self.window and event.type() == QEvent.Type.Close:
            if hides_on_close(self.enabled, self._can_hide(), self.quitting):
                event.ignore()
                self.window.hide()
                self.hidden_to_tray.emit()
                return True
        return False

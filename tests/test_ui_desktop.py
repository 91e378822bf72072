"""The window on the desktop (player/ui/desktop.py): the real MainWindow offscreen on a private
dbus-daemon, driven through gdbus as a desktop's media controls would; no bus: off, one line."""

from __future__ import annotations

import logging

import pytest

from dbus_session import Gdbus, session_bus  # noqa: F401 - the fixture
from player.options import CLOSE_TO_TRAY, NOTIFY_SONGS
from player.ui.mpris import BUS_NAME, OBJECT_PATH, PLAYER_IFACE

pytestmark = pytest.mark.gui


@pytest.fixture
def on_bus(session_bus, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus)
    return session_bus


def test_media_controls_drive_the_window(on_bus, playing_window, qtbot):
    w = playing_window
    qtbot.waitUntil(lambda: w.desktop.mpris.active, timeout=20000)
    g = Gdbus(qtbot, on_bus, BUS_NAME)
    assert "'Stopped'" in g.get(OBJECT_PATH, PLAYER_IFACE, "PlaybackStatus")

    # PlayPause with nothing playing starts playing, as Space does
    g.call(OBJECT_PATH, f"{PLAYER_IFACE}.PlayPause")
    qtbot.waitUntil(lambda: w.playback.state() == "playing", timeout=10000)
    first = w.playback.current_track()
    assert first is not None
    assert "'Playing'" in g.get(OBJECT_PATH, PLAYER_IFACE, "PlaybackStatus")
    meta = g.get(OBJECT_PATH, PLAYER_IFACE, "Metadata")
    assert f"'xesam:title': <'{first.title}'>" in meta
    assert f"/org/tastebuds/track/{first.id}" in meta

    g.call(OBJECT_PATH, f"{PLAYER_IFACE}.Next")
    qtbot.waitUntil(lambda: w.playback.current_track_id() not in (None, first.id), timeout=10000)
    second = w.playback.current_track()
    qtbot.waitUntil(lambda: f"'{second.title}'" in g.get(OBJECT_PATH, PLAYER_IFACE, "Metadata"), timeout=10000)
    assert w.windowTitle().startswith(second.title)

    g.call(OBJECT_PATH, f"{PLAYER_IFACE}.PlayPause")
    qtbot.waitUntil(lambda: w.playback.state() == "paused", timeout=10000)
    assert "'Paused'" in g.get(OBJECT_PATH, PLAYER_IFACE, "PlaybackStatus")

    # shuffle and volume from the desktop show in the bar and are remembered
    g.call(OBJECT_PATH, "org.freedesktop.DBus.Properties.Set", PLAYER_IFACE, "Shuffle", "<true>")
    qtbot.waitUntil(lambda: w.now_playing.shuffle.isChecked(), timeout=10000)
    g.call(OBJECT_PATH, "org.freedesktop.DBus.Properties.Set", PLAYER_IFACE, "Volume", "<0.25>")
    qtbot.waitUntil(lambda: w.now_playing.volume.value() == 25, timeout=10000)
    from player.options import SHUFFLE

    assert w.settings[SHUFFLE] is True
    # the tray menu follows the song
    assert second.title in w.desktop.tray.tooltip()


def test_no_bus_leaves_the_window_working_with_one_line(monkeypatch, playing_window, qtbot, caplog):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus/socket")
    w = playing_window
    reasons = []
    w.desktop.mpris.unavailable.connect(reasons.append)
    with caplog.at_level(logging.INFO, logger="player.mpris"):
        w.desktop.stop()
        from player.ui.desktop import DesktopController

        d = DesktopController(w.ctx, w.transport, w, parent=w)
        d.mpris.unavailable.connect(reasons.append)
        d.start()
        qtbot.waitUntil(lambda: bool(reasons), timeout=20000)
    assert not d.mpris.active
    assert len([r for r in caplog.records if r.getMessage().startswith("MPRIS off: ")]) == 1
    w.transport.toggle_play()
    qtbot.waitUntil(lambda: w.playback.state() == "playing", timeout=10000)


def test_desktop_settings_are_menu_toggles_kept_in_the_settings(playing_window):
    w = playing_window
    d = w.desktop
    assert not d.notify_action.isChecked() and not d.tray_action.isChecked()  # off by default
    assert d.notify_action in w.menus.file.actions() and d.tray_action in w.menus.file.actions()
    d.notify_action.setChecked(True)
    d.tray_action.setChecked(True)
    assert w.settings[NOTIFY_SONGS] is True and w.settings[CLOSE_TO_TRAY] is True
    assert d.notifier.enabled and d.close_to_tray.enabled
    # offscreen there is no tray: closing still closes, nothing is hidden away
    assert not d.tray.visible


def test_seeking_from_the_keys_is_announced(playing_window, qtbot):
    w = playing_window
    jumps = []
    w.transport.seeked.connect(jumps.append)
    w.transport.toggle_play()
    qtbot.waitUntil(lambda: w.playback.state() == "playing", timeout=10000)
    w.transport.seek_relative(1.0)
    assert jumps and jumps[-1] >= 1.0

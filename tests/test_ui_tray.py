"""The tray icon's menu and tooltip, notifications over a real private bus, close-to-tray."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QWidget

from dbus_session import session_bus  # noqa: F401 - the fixture
from player.ui.dbus import SessionBus
from player.ui.tray import NOTHING_PLAYING, CloseToTray, Notifier, Tray, hides_on_close

pytestmark = pytest.mark.gui


def test_menu_actions_states_and_tooltip(qtbot):
    tray = Tray()
    texts = [a.text() for a in tray.menu.actions() if not a.isSeparator()]
    assert texts == [NOTHING_PLAYING, "Play", "Next", "Previous", "Hide window", "Quit"]
    assert not tray.act_song.isEnabled()
    assert tray.act_play_pause.isEnabled() and tray.act_next.isEnabled() and not tray.act_previous.isEnabled()
    assert tray.tooltip() == f"Tastebuds\n{NOTHING_PLAYING}"

    tray.set_track("Blue", "Trio")
    tray.set_playing(True)
    tray.set_can_go(previous=True)
    assert tray.act_song.text() == "Blue — Trio"
    assert tray.act_play_pause.text() == "Pause" and tray.act_previous.isEnabled()
    assert tray.tooltip() == "Tastebuds\nBlue — Trio"
    tray.set_playing(False)
    assert tray.tooltip() == "Tastebuds (paused)\nBlue — Trio"
    tray.set_track("", None)
    assert tray.act_song.text() == "Unknown title"
    tray.set_window_visible(False)
    assert tray.act_show_hide.text() == "Show window"
    tray.set_can_go(next=False, play=False)
    assert not tray.act_next.isEnabled() and not tray.act_play_pause.isEnabled()

    fired = []
    for name in ("play_pause_requested", "next_requested", "previous_requested", "show_hide_requested",
                 "quit_requested"):
        getattr(tray, name).connect(lambda name=name: fired.append(name))
    for act in (tray.act_play_pause, tray.act_next, tray.act_previous, tray.act_show_hide, tray.act_quit):
        act.setEnabled(True)
        act.trigger()
    assert fired == ["play_pause_requested", "next_requested", "previous_requested", "show_hide_requested",
                     "quit_requested"]
    # Without a tray on this platform (offscreen) it says so and stays hidden.
    assert tray.show() == tray.available
    assert tray.visible == tray.available


class NotificationServer:
    """The desktop's side: owns org.freedesktop.Notifications on the bus, records Notify calls, answers
    with increasing ids (plain jeepney in a thread, independent of the player's bus code)."""

    def __init__(self, address: str):
        from jeepney.bus_messages import message_bus
        from jeepney.io.blocking import open_dbus_connection

        self.conn = open_dbus_connection(address)
        reply = self.conn.send_and_get_reply(message_bus.RequestName("org.freedesktop.Notifications", 4))
        assert reply.body[0] == 1
        self.calls: list[tuple[str, tuple]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        from jeepney import HeaderFields, MessageType, new_method_return

        while not self.stop.is_set():
            try:
                msg = self.conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            except OSError:
                return
            if msg.header.message_type is MessageType.method_call and \
                    msg.header.fields.get(HeaderFields.member) == "Notify":
                self.calls.append((msg.header.fields.get(HeaderFields.signature), msg.body))
                self.conn.send(new_method_return(msg, "u", (100 + len(self.calls),)))

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.conn.close()


def started_bus(qtbot, address) -> SessionBus:
    bus = SessionBus(address)
    bus.start()
    qtbot.waitUntil(lambda: bus.connected, timeout=20000)
    return bus


def test_song_change_notification_over_dbus(qtbot, session_bus, tmp_path):  # noqa: F811
    server = NotificationServer(session_bus)
    bus = started_bus(qtbot, session_bus)
    try:
        via = []
        notifier = Notifier(Tray(), bus=bus, enabled=True)
        notifier.delivered.connect(via.append)
        cover = tmp_path / "cover.png"
        cover.write_bytes(b"\x89PNG\r\n\x1a\n")
        notifier.song_changed("Blue & Green", "Trio", "Night <live>", str(cover))
        qtbot.waitUntil(lambda: via == ["dbus"], timeout=20000)
        notifier.song_changed("Red", "Duo")
        qtbot.waitUntil(lambda: via == ["dbus", "dbus"], timeout=20000)
        (sig1, first), (sig2, second) = server.calls
        assert sig1 == sig2 == "susssasa{sv}i"
        app, replaces, icon, summary, body, actions, hints, timeout = first
        assert (app, replaces, icon, summary, actions, timeout) == ("Tastebuds", 0, "tastebuds", "Blue & Green", [], -1)
        assert body == "Trio — Night &lt;live&gt;"  # servers may read markup: escaped
        assert hints["image-path"] == ("s", cover.as_uri())
        assert hints["desktop-entry"] == ("s", "tastebuds")
        assert second[1] == 101  # replaces the first notification
        assert second[3:5] == ("Red", "Duo")

        notifier.set_enabled(False)
        notifier.song_changed("Quiet", "Nobody")
        qtbot.wait(300)  # a notification now would be a bug
        assert len(server.calls) == 2
    finally:
        server.close()
        bus.close()


def test_without_a_notification_server_the_tray_shows_it(qtbot, session_bus):  # noqa: F811
    bus = started_bus(qtbot, session_bus)
    via = []
    notifier = Notifier(Tray(), bus=bus, enabled=True)
    notifier.delivered.connect(via.append)
    notifier.song_changed("Blue", "Trio")
    qtbot.waitUntil(lambda: via == ["tray"], timeout=20000)
    notifier.song_changed("Red")  # no second try on the bus
    assert via == ["tray", "tray"]
    bus.close()
    no_bus = Notifier(Tray(), enabled=True)
    no_bus.delivered.connect(via.append)
    no_bus.song_changed("Green")
    assert via[-1] == "tray"


class Window(QWidget):
    def __init__(self):
        super().__init__()
        self.closed = 0

    def closeEvent(self, event):  # noqa: N802
        self.closed += 1
        super().closeEvent(event)


def test_close_to_tray(qtbot):
    assert hides_on_close(True, True, False)
    assert not hides_on_close(False, True, False)
    assert not hides_on_close(True, False, False)  # no tray to come back from
    assert not hides_on_close(True, True, True)

    tray_there = [True]
    win = Window()
    qtbot.addWidget(win)
    ctt = CloseToTray(win, enabled=True, can_hide=lambda: tray_there[0])
    hidden = []
    ctt.hidden_to_tray.connect(lambda: hidden.append(True))
    win.show()
    qtbot.waitUntil(win.isVisible)
    assert win.close() is False  # hidden, not closed
    assert not win.isVisible() and win.closed == 0 and hidden == [True]

    win.show()
    tray_there[0] = False
    assert win.close() is True and win.closed == 1

    win.show()
    tray_there[0] = True
    ctt.quit()
    assert win.closed == 2 and not win.isVisible()

    other = Window()
    qtbot.addWidget(other)
    CloseToTray(other, Tray())  # off by default
    other.show()
    assert other.close() is True and other.closed == 1

"""MPRIS 2 against a real private dbus-daemon, driven and read by gdbus."""

from __future__ import annotations

import logging
import os

import pytest

from dbus_session import Gdbus, session_bus  # noqa: F401 - the fixture
from player.ui.mpris import BUS_NAME, OBJECT_PATH, MprisPlayer, MprisService, TrackInfo

pytestmark = pytest.mark.gui
PLAYER = "org.mpris.MediaPlayer2.Player"


class Recorder(MprisPlayer):
    """The app side: a little player that remembers what it was asked to do."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.status = "Stopped"
        self.current: TrackInfo | None = None
        self.pos = 0.0
        self.vol = 0.8
        self.shuf = False
        self.loop = "None"

    def playback_status(self):
        return self.status

    def track(self):
        return self.current

    def position_s(self):
        return self.pos

    def volume(self):
        return self.vol

    def shuffle(self):
        return self.shuf

    def loop_status(self):
        return self.loop

    def can_go_next(self):
        return True

    def can_go_previous(self):
        return self.current is not None

    def can_play(self):
        return True

    def can_pause(self):
        return self.current is not None

    def can_seek(self):
        return self.current is not None

    def play_pause(self):
        self.calls.append(("play_pause",))

    def next(self):
        self.calls.append(("next",))

    def start_up_next(self):
        self.calls.append(("start_up_next",))

    def seek_to(self, seconds):
        self.calls.append(("seek_to", round(seconds, 3)))

    def set_volume(self, volume):
        self.vol = volume
        self.calls.append(("set_volume", volume))

    def set_loop_status(self, status):
        self.loop = status


@pytest.fixture
def mpris(qtbot, session_bus, tmp_path):  # noqa: F811
    player = Recorder()
    service = MprisService(player, address=session_bus)
    service.start()
    qtbot.waitUntil(lambda: service.active, timeout=20000)
    yield service, player, Gdbus(qtbot, session_bus, service.bus_name)
    service.stop()
    service.bus.close()


def song(tmp_path) -> TrackInfo:
    cover = tmp_path / "cover.png"
    cover.write_bytes(b"\x89PNG\r\n\x1a\n")
    return TrackInfo(42, "Blue", ["Trio", "Guest"], "Night", 201.5, str(tmp_path / "Blue.flac"), str(cover))


def test_introspection_and_properties_have_the_spec_types(mpris, tmp_path):
    service, player, gdbus = mpris
    assert service.bus_name == BUS_NAME
    xml = gdbus.run("introspect", "--session", "--dest", BUS_NAME, "--object-path", OBJECT_PATH, "--xml")
    for needle in ('interface name="org.mpris.MediaPlayer2"', f'interface name="{PLAYER}"', 'name="PlayPause"',
                   'name="Seeked"', 'property name="Position" type="x"', 'property name="Metadata" type="a{sv}"'):
        assert needle in xml
    assert "node name=\"org\"" in gdbus.run("introspect", "--session", "--dest", BUS_NAME, "--object-path", "/",
                                            "--xml")

    assert gdbus.get(OBJECT_PATH, "org.mpris.MediaPlayer2", "Identity") == "(<'Tastebuds'>,)"
    root = gdbus.call(OBJECT_PATH, "org.freedesktop.DBus.Properties.GetAll", "org.mpris.MediaPlayer2")
    for needle in ("'CanQuit': <false>", "'CanRaise': <false>", "'HasTrackList': <false>",
                   "'DesktopEntry': <'tastebuds'>", "'SupportedUriSchemes': <['file']>", "audio/flac"):
        assert needle in root

    # Nothing loaded: the NoTrack id, stopped, position 0 as int64.
    assert "/org/mpris/MediaPlayer2/TrackList/NoTrack" in gdbus.get(OBJECT_PATH, PLAYER, "Metadata")
    assert gdbus.get(OBJECT_PATH, PLAYER, "PlaybackStatus") == "(<'Stopped'>,)"
    assert gdbus.get(OBJECT_PATH, PLAYER, "Position") == "(<int64 0>,)"

    player.current, player.status, player.pos = song(tmp_path), "Playing", 12.25
    everything = gdbus.call(OBJECT_PATH, "org.freedesktop.DBus.Properties.GetAll", PLAYER)
    for needle in ("'mpris:trackid': <objectpath '/org/tastebuds/track/42'>", "'xesam:title': <'Blue'>",
                   "'xesam:artist': <['Trio', 'Guest']>", "'xesam:album': <'Night'>",
                   "'mpris:length': <int64 201500000>", f"'mpris:artUrl': <'file://{tmp_path}/cover.png'>",
                   "'Position': <int64 12250000>", "'PlaybackStatus': <'Playing'>", "'Volume': <0.8",
                   "'Rate': <1.0>", "'CanSeek': <true>", "'CanControl': <true>", "'LoopStatus': <'None'>"):
        assert needle in everything, needle
    wrong = gdbus.call(OBJECT_PATH, "org.freedesktop.DBus.Properties.Get", PLAYER, "Nope", check=False)
    assert "InvalidArgs" in wrong


def test_commands_reach_the_player(mpris, tmp_path):
    service, player, gdbus = mpris
    # PlayPause with nothing playing starts Up next.
    gdbus.call(OBJECT_PATH, f"{PLAYER}.PlayPause")
    assert player.calls == [("start_up_next",)]

    player.current, player.status, player.pos = song(tmp_path), "Playing", 10.0
    gdbus.call(OBJECT_PATH, f"{PLAYER}.PlayPause")
    gdbus.call(OBJECT_PATH, f"{PLAYER}.Next")
    gdbus.call(OBJECT_PATH, f"{PLAYER}.Seek", "2500000")
    gdbus.call(OBJECT_PATH, f"{PLAYER}.SetPosition", "/org/tastebuds/track/42", "60000000")
    gdbus.call(OBJECT_PATH, f"{PLAYER}.SetPosition", "/org/tastebuds/track/7", "1000000")  # stale: ignored
    gdbus.call(OBJECT_PATH, f"{PLAYER}.Seek", "500000000")  # past the end: like Next
    assert player.calls[1:] == [("play_pause",), ("next",), ("seek_to", 12.5), ("seek_to", 60.0), ("next",)]

    gdbus.call(OBJECT_PATH, "org.freedesktop.DBus.Properties.Set", PLAYER, "Volume", "<0.25>")
    assert player.vol == 0.25
    gdbus.call(OBJECT_PATH, "org.freedesktop.DBus.Properties.Set", PLAYER, "LoopStatus", "<'Playlist'>")
    assert gdbus.get(OBJECT_PATH, PLAYER, "LoopStatus") == "(<'Playlist'>,)"
    bad = gdbus.call(OBJECT_PATH, "org.freedesktop.DBus.Properties.Set", PLAYER, "LoopStatus", "<'Forever'>",
                     check=False)
    assert "InvalidArgs" in bad and player.loop == "Playlist"
    readonly = gdbus.call(OBJECT_PATH, "org.freedesktop.DBus.Properties.Set", PLAYER, "PlaybackStatus",
                          "<'Playing'>", check=False)
    assert "PropertyReadOnly" in readonly
    refused = gdbus.call(OBJECT_PATH, f"{PLAYER}.OpenUri", "http://example.org/a.mp3", check=False)
    assert "InvalidArgs" in refused


def test_properties_changed_and_seeked_signals(mpris, qtbot, tmp_path):
    service, player, gdbus = mpris
    log = tmp_path / "monitor.txt"
    monitor = gdbus.monitor(log, OBJECT_PATH)
    try:
        qtbot.waitUntil(lambda: "is owned by" in log.read_text(), timeout=20000)
        player.current, player.status = song(tmp_path), "Playing"
        service.track_changed()
        service.seeked(30.0)
        qtbot.waitUntil(lambda: "Seeked" in log.read_text(), timeout=20000)
        text = log.read_text()
        changed = next(line for line in text.splitlines() if "PropertiesChanged" in line)
        assert "'PlaybackStatus': <'Playing'>" in changed
        assert "'/org/tastebuds/track/42'" in changed
        assert "Position" not in changed  # Position is never signalled, only Seeked
        assert "CanPlay" not in changed  # unchanged properties stay out
        assert "Seeked (int64 30000000,)" in text

        service.refresh()  # nothing changed: no second PropertiesChanged
        player.vol = 0.5
        service.volume_changed()
        qtbot.waitUntil(lambda: "'Volume': <0.5>" in log.read_text(), timeout=20000)
        assert log.read_text().count("PropertiesChanged") == 2
    finally:
        monitor.kill()
        monitor.wait(10)


def test_a_second_player_takes_an_instance_name(mpris, qtbot, session_bus):  # noqa: F811
    first, _player, _gdbus = mpris
    second = MprisService(Recorder(), address=session_bus)
    second.start()
    qtbot.waitUntil(lambda: second.active, timeout=20000)
    assert first.bus_name == BUS_NAME
    assert second.bus_name == f"{BUS_NAME}.instance{os.getpid()}"
    second.stop()
    second.bus.close()


@pytest.mark.parametrize("address", ["unix:path=/nonexistent/bus/socket", None])
def test_no_bus_means_mpris_off_with_one_line(qtbot, monkeypatch, caplog, address):
    if address is None:
        monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    else:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    service = MprisService(Recorder())
    reasons = []
    service.unavailable.connect(reasons.append)
    with caplog.at_level(logging.INFO, logger="player.mpris"):
        service.start()
        qtbot.waitUntil(lambda: bool(reasons), timeout=20000)
    assert not service.active
    records = [r for r in caplog.records if r.name == "player.mpris"]
    assert len(records) == 1 and records[0].getMessage().startswith("MPRIS off: ")
    assert "\n" not in reasons[0]
    assert ("not set" in reasons[0]) if address is None else ("/nonexistent/bus/socket" in reasons[0])
    service.refresh()  # harmless while off
    service.seeked(1.0)

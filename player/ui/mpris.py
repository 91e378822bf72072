"""MPRIS 2 on the session bus: desktop media controls, media keys and lock screens drive the player.

:class:`MprisService` exports ``/org/mpris/MediaPlayer2`` (interfaces ``org.mpris.MediaPlayer2`` and
``org.mpris.MediaPlayer2.Player``) under the name ``org.mpris.MediaPlayer2.tastebuds`` (or
``….tastebuds.instance<pid>`` when another Tastebuds holds it). It is an adaptor over a
:class:`MprisPlayer`, the small interface the app implements over its playback controller: the service
reads state from it and forwards the desktop's commands to it. The app tells the service when its
state changed (:meth:`MprisService.refresh`, after a new track, play/pause, volume …) and when the
position jumped (:meth:`MprisService.seeked`); the service then sends ``PropertiesChanged`` for what
actually changed and ``Seeked``.

No session bus: the service logs one line and stays off (:attr:`MprisService.unavailable`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from player.ui.dbus import DBusError, SessionBus, reply_error

log = logging.getLogger("player.mpris")

OBJECT_PATH = "/org/mpris/MediaPlayer2"
ROOT_IFACE = "org.mpris.MediaPlayer2"
PLAYER_IFACE = "org.mpris.MediaPlayer2.Player"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
BUS_NAME = "org.mpris.MediaPlayer2.tastebuds"
NO_TRACK = "/org/mpris/MediaPlayer2/TrackList/NoTrack"
TRACK_PATH = "/org/tastebuds/track/{}"
IDENTITY = "Tastebuds"
DESKTOP_ENTRY = "tastebuds"
URI_SCHEMES = ["file"]
MIME_TYPES = ["audio/flac", "audio/mpeg", "audio/ogg", "audio/opus", "audio/vorbis", "audio/wav",
              "audio/x-flac", "audio/x-vorbis+ogg", "audio/x-wav"]
PLAYBACK_STATUSES = ("Playing", "Paused", "Stopped")
LOOP_STATUSES = ("None", "Track", "Playlist")
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"


@dataclass(frozen=True)
class TrackInfo:
    """What MPRIS shows of the current song."""

    track_id: int
    title: str = ""
    artists: list[str] = field(default_factory=list)
    album: str = ""
    length_s: float | None = None
    path: str | None = None  # the audio file, for xesam:url
    art_path: str | None = None  # a cover image file, when the app knows one


class MprisPlayer:
    """What the app provides. Override what it supports; the defaults describe a player that can do
    nothing (so a half-wired window never claims abilities it lacks). Called on the GUI thread; keep
    every method quick."""

    # state
    def playback_status(self) -> str:
        """'Playing', 'Paused' or 'Stopped'."""
        return "Stopped"

    def track(self) -> TrackInfo | None:
        return None

    def position_s(self) -> float:
        return 0.0

    def volume(self) -> float:
        return 1.0

    def shuffle(self) -> bool:
        return False

    def loop_status(self) -> str:
        """'None', 'Track' or 'Playlist'."""
        return "None"

    def can_go_next(self) -> bool:
        return False

    def can_go_previous(self) -> bool:
        return False

    def can_play(self) -> bool:
        return False

    def can_pause(self) -> bool:
        return False

    def can_seek(self) -> bool:
        return False

    def can_control(self) -> bool:
        return True

    def can_raise(self) -> bool:
        return False

    def can_quit(self) -> bool:
        return False

    # commands
    def play_pause(self) -> None: ...

    def play(self) -> None: ...

    def pause(self) -> None: ...

    def stop(self) -> None: ...

    def next(self) -> None: ...

    def previous(self) -> None: ...

    def seek_to(self, seconds: float) -> None: ...

    def start_up_next(self) -> None:
        """Play/PlayPause with nothing loaded: start playing the Up next queue."""

    def open_uri(self, uri: str) -> bool:
        """Play ``uri`` (a file:// URI); False when it cannot (an error goes back to the caller)."""
        return False

    def set_volume(self, volume: float) -> None: ...

    def set_shuffle(self, on: bool) -> None: ...

    def set_loop_status(self, status: str) -> None: ...

    def raise_window(self) -> None: ...

    def quit(self) -> None: ...


def _file_uri(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).absolute().as_uri()
    except ValueError:
        return None


def metadata(info: TrackInfo | None) -> dict:
    """The ``Metadata`` a{sv} (jeepney variants: ``(signature, value)``)."""
    if info is None:
        return {"mpris:trackid": ("o", NO_TRACK)}
    meta = {"mpris:trackid": ("o", TRACK_PATH.format(int(info.track_id)))}
    if info.title:
        meta["xesam:title"] = ("s", info.title)
    artists = [a for a in info.artists if a]
    if artists:
        meta["xesam:artist"] = ("as", artists)
    if info.album:
        meta["xesam:album"] = ("s", info.album)
    if info.length_s and info.length_s > 0:
        meta["mpris:length"] = ("x", int(round(info.length_s * 1_000_000)))
    url = _file_uri(info.path)
    if url:
        meta["xesam:url"] = ("s", url)
    art = _file_uri(info.art_path) if info.art_path and Path(info.art_path).is_file() else None
    if art:
        meta["mpris:artUrl"] = ("s", art)
    return meta


def _arg(name: str, sig: str, direction: str = "in") -> str:
    return f'<arg name="{name}" type="{sig}" direction="{direction}"/>'


def _method(name: str, *args: str) -> str:
    return f'<method name="{name}">{"".join(args)}</method>'


def _prop(name: str, sig: str, access: str = "read") -> str:
    return f'<property name="{name}" type="{sig}" access="{access}"/>'


ROOT_PROPS = {"CanQuit": "b", "CanRaise": "b", "HasTrackList": "b", "Identity": "s", "DesktopEntry": "s",
              "SupportedUriSchemes": "as", "SupportedMimeTypes": "as"}
PLAYER_PROPS = {"PlaybackStatus": "s", "LoopStatus": "s", "Rate": "d", "Shuffle": "b", "Metadata": "a{sv}",
                "Volume": "d", "Position": "x", "MinimumRate": "d", "MaximumRate": "d", "CanGoNext": "b",
                "CanGoPrevious": "b", "CanPlay": "b", "CanPause": "b", "CanSeek": "b", "CanControl": "b"}
WRITABLE = {"LoopStatus", "Rate", "Shuffle", "Volume"}

INTERFACES_XML = (
    f'<interface name="{ROOT_IFACE}">' + _method("Raise") + _method("Quit")
    + "".join(_prop(n, s) for n, s in ROOT_PROPS.items()) + "</interface>\n"
    + f'<interface name="{PLAYER_IFACE}">'
    + "".join(_method(m) for m in ("Next", "Previous", "Pause", "PlayPause", "Stop", "Play"))
    + _method("Seek", _arg("Offset", "x")) + _method("SetPosition", _arg("TrackId", "o"), _arg("Position", "x"))
    + _method("OpenUri", _arg("Uri", "s"))
    + '<signal name="Seeked"><arg name="Position" type="x"/></signal>'
    + "".join(_prop(n, s, "readwrite" if n in WRITABLE else "read") for n, s in PLAYER_PROPS.items())
    + "</interface>\n"
    + f'<interface name="{PROPS_IFACE}">'
    + _method("Get", _arg("interface_name", "s"), _arg("property_name", "s"), _arg("value", "v", "out"))
    + _method("GetAll", _arg("interface_name", "s"), _arg("properties", "a{sv}", "out"))
    + _method("Set", _arg("interface_name", "s"), _arg("property_name", "s"), _arg("value", "v"))
    + '<signal name="PropertiesChanged"><arg name="interface_name" type="s"/>'
      '<arg name="changed_properties" type="a{sv}"/><arg name="invalidated_properties" type="as"/></signal>'
    + "</interface>\n"
)


class MprisService(QObject):
    """Exports :class:`MprisPlayer` ``player`` over MPRIS 2. ``bus``: a :class:`SessionBus` to share
    (started or not); by default one of its own on ``address`` (default: the session bus)."""

    started = Signal(str)  # the bus name we own
    unavailable = Signal(str)  # why MPRIS is off, one line

    def __init__(self, player: MprisPlayer, *, bus: SessionBus | None = None, address: str | None = None,
                 identity: str = IDENTITY, desktop_entry: str = DESKTOP_ENTRY, parent: QObject | None = None):
        super().__init__(parent)
        self.player = player
        self.identity = identity
        self.desktop_entry = desktop_entry
        self.bus = bus if bus is not None else SessionBus(address, self)
        self.bus_name: str | None = None
        self._sent: dict[str, tuple] = {}
        self._active = False

    # -- life --------------------------------------------------------------------------------
    def start(self) -> None:
        self.bus.failed.connect(self._off)
        self.bus.closed.connect(self._off)
        if self.bus.connected:
            self._on_ready()
        else:
            self.bus.ready.connect(self._on_ready)
            if self.bus._sock is None:
                self.bus.start()

    @property
    def active(self) -> bool:
        return self._active and self.bus.connected

    def _off(self, reason: str) -> None:
        if self._active or self.bus_name is None:
            log.info("MPRIS off: %s", reason)
            self.unavailable.emit(reason)
        self._active = False

    def _on_ready(self, *_args) -> None:
        self.bus.export(OBJECT_PATH, self._handle, INTERFACES_XML)
        self._request_name(BUS_NAME, fallback=True)

    def _request_name(self, name: str, fallback: bool) -> None:
        from jeepney.bus_messages import message_bus

        def done(reply) -> None:
            error = reply_error(reply)
            code = reply.body[0] if error is None else None
            if code in (1, 4):  # primary owner / already the owner
                self.bus_name = name
                self._active = True
                self._sent = self._player_props()
                log.info("MPRIS on as %s", name)
                self.started.emit(name)
            elif fallback:
                self._request_name(f"{BUS_NAME}.instance{os.getpid()}", fallback=False)
            else:
                self._off(f"cannot own the D-Bus name {name} ({error or 'taken'})")

        self.bus.call(message_bus.RequestName(name, 4), done)  # 4: DO_NOT_QUEUE

    def stop(self) -> None:
        """Give the name back and stop answering (the shared bus stays open)."""
        if self.bus_name and self.bus.connected:
            from jeepney.bus_messages import message_bus

            self.bus.call(message_bus.ReleaseName(self.bus_name))
        self.bus.unexport(OBJECT_PATH)
        self._active = False
        self.bus_name = None

    # -- what the app calls ------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the player and signal the properties that changed (not Position: see :meth:`seeked`)."""
        if not self.active:
            return
        now = self._player_props()
        changed = {k: v for k, v in now.items() if k != "Position" and self._sent.get(k) != v}
        self._sent = now
        if changed:
            self.bus.emit_signal(OBJECT_PATH, PROPS_IFACE, "PropertiesChanged", "sa{sv}as",
                                 (PLAYER_IFACE, changed, []))

    track_changed = status_changed = options_changed = volume_changed = refresh

    def seeked(self, position_s: float | None = None) -> None:
        """The position jumped (a seek, or a track restarted): the ``Seeked`` signal."""
        if not self.active:
            return
        pos = self.player.position_s() if position_s is None else position_s
        self.bus.emit_signal(OBJECT_PATH, PLAYER_IFACE, "Seeked", "x", (_us(pos),))

    # -- properties --------------------------------------------------------------------------
    def _root_props(self) -> dict[str, tuple]:
        p = self.player
        values = {"CanQuit": bool(p.can_quit()), "CanRaise": bool(p.can_raise()), "HasTrackList": False,
                  "Identity": self.identity, "DesktopEntry": self.desktop_entry,
                  "SupportedUriSchemes": list(URI_SCHEMES), "SupportedMimeTypes": list(MIME_TYPES)}
        return {k: (ROOT_PROPS[k], v) for k, v in values.items()}

    def _player_props(self) -> dict[str, tuple]:
        p = self.player
        status = p.playback_status()
        loop = p.loop_status()
        values = {
            "PlaybackStatus": status if status in PLAYBACK_STATUSES else "Stopped",
            "LoopStatus": loop if loop in LOOP_STATUSES else "None",
            "Rate": 1.0, "MinimumRate": 1.0, "MaximumRate": 1.0,
            "Shuffle": bool(p.shuffle()),
            "Metadata": metadata(p.track()),
            "Volume": max(0.0, min(1.0, float(p.volume()))),
            "Position": _us(p.position_s()),
            "CanGoNext": bool(p.can_go_next()), "CanGoPrevious": bool(p.can_go_previous()),
            "CanPlay": bool(p.can_play()), "CanPause": bool(p.can_pause()),
            "CanSeek": bool(p.can_seek()), "CanControl": bool(p.can_control()),
        }
        return {k: (PLAYER_PROPS[k], v) for k, v in values.items()}

    def _props(self, interface: str) -> dict[str, tuple]:
        if interface == ROOT_IFACE:
            return self._root_props()
        if interface == PLAYER_IFACE:
            return self._player_props()
        if interface == PROPS_IFACE:
            return {}
        raise DBusError("org.freedesktop.DBus.Error.UnknownInterface", f"no interface {interface}")

    def _set(self, interface: str, name: str, variant) -> None:
        if interface != PLAYER_IFACE or name not in WRITABLE:
            self._props(interface)  # an unknown interface says so
            raise DBusError("org.freedesktop.DBus.Error.PropertyReadOnly", f"{name} cannot be set")
        sig, value = variant
        want = PLAYER_PROPS[name]
        if sig != want and not (want == "d" and sig in "iuxtny"):
            raise DBusError(INVALID_ARGS, f"{name} takes a value of type {want}, not {sig}")
        if not self.player.can_control():
            raise DBusError("org.freedesktop.DBus.Error.AccessDenied", "this player cannot be controlled")
        p = self.player
        if name == "Volume":
            p.set_volume(max(0.0, min(1.0, float(value))))
        elif name == "Shuffle":
            p.set_shuffle(bool(value))
        elif name == "LoopStatus":
            if value not in LOOP_STATUSES:
                raise DBusError(INVALID_ARGS, f"LoopStatus is one of {', '.join(LOOP_STATUSES)}")
            p.set_loop_status(value)
        elif name == "Rate" and float(value) <= 0:  # the only rate is 1.0; 0 means pause (spec)
            p.pause()
        self.refresh()

    # -- the message handler -----------------------------------------------------------------
    def _handle(self, msg):
        from jeepney import HeaderFields, new_method_return

        fields = msg.header.fields
        interface = fields.get(HeaderFields.interface)
        member = fields.get(HeaderFields.member)
        args = msg.body
        if interface == PROPS_IFACE or (interface is None and member in ("Get", "GetAll", "Set")):
            if member == "Get":
                props = self._props(args[0])
                if args[1] not in props:
                    raise DBusError(INVALID_ARGS, f"no property {args[1]} on {args[0]}")
                return new_method_return(msg, "v", (props[args[1]],))
            if member == "GetAll":
                return new_method_return(msg, "a{sv}", (self._props(args[0]),))
            if member == "Set":
                self._set(args[0], args[1], args[2])
                return new_method_return(msg)
        elif interface in (ROOT_IFACE, PLAYER_IFACE, None):
            handler = self._commands().get(member)
            if handler is not None:
                handler(*args)
                return new_method_return(msg)
        raise DBusError("org.freedesktop.DBus.Error.UnknownMethod", f"no method {interface}.{member}")

    def _commands(self) -> dict:
        p = self.player
        control = self._control

        def play_pause() -> None:
            if p.playback_status() == "Stopped" and p.track() is None:
                control(p.start_up_next)
            else:
                control(p.play_pause)

        def play() -> None:
            if p.playback_status() == "Stopped" and p.track() is None:
                control(p.start_up_next)
            else:
                control(p.play)

        def seek(offset_us: int) -> None:
            if not p.can_seek():
                return
            info = p.track()
            target = p.position_s() + offset_us / 1_000_000
            if info is not None and info.length_s and target > info.length_s:
                control(p.next)  # past the end: the spec's "act like Next"
            else:
                control(p.seek_to, max(0.0, target))

        def set_position(track_path: str, position_us: int) -> None:
            info = p.track()
            if not p.can_seek() or info is None or track_path != TRACK_PATH.format(int(info.track_id)):
                return  # the spec: a stale track id is ignored
            pos = position_us / 1_000_000
            if pos < 0 or (info.length_s and pos > info.length_s):
                return
            control(p.seek_to, pos)

        def open_uri(uri: str) -> None:
            if not uri.startswith("file://"):
                raise DBusError(INVALID_ARGS, f"only file:// URIs can be opened, not {uri}")
            if not p.open_uri(uri):
                raise DBusError("org.freedesktop.DBus.Error.Failed", f"cannot play {uri}")

        def raise_window() -> None:
            if p.can_raise():
                p.raise_window()

        def quit_app() -> None:
            if p.can_quit():
                p.quit()

        return {
            "PlayPause": play_pause, "Play": play,
            "Pause": lambda: control(p.pause), "Stop": lambda: control(p.stop),
            "Next": lambda: control(p.next) if p.can_go_next() else None,
            "Previous": lambda: control(p.previous) if p.can_go_previous() else None,
            "Seek": seek, "SetPosition": set_position, "OpenUri": open_uri,
            "Raise": raise_window, "Quit": quit_app,
        }

    def _control(self, fn, *args) -> None:
        if self.player.can_control():
            fn(*args)


def _us(seconds: float | None) -> int:
    return int(round(max(0.0, float(seconds or 0.0)) * 1_000_000))

"""A D-Bus session-bus connection on the Qt event loop (jeepney for the wire format).

Why not QtDBus: PySide6 turns a Python ``int`` into a D-Bus ``int32`` when it fits and offers no way
to ask for another integer type, so MPRIS's ``x`` values (``Position``, ``mpris:length``) and the
notification server's ``u`` (``replaces_id``) cannot be sent with the types the specifications and
strict clients (GDBus proxies such as playerctl's) require. jeepney builds messages from explicit
signatures; this module only moves its bytes: the connection and authentication happen in a short
thread (never on the GUI thread), then a ``QSocketNotifier`` reads and the GUI thread dispatches.

No bus (no address, nothing listening, jeepney missing): :attr:`SessionBus.failed` says so in one
line and nothing else happens.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Callable
from xml.sax.saxutils import quoteattr

from PySide6.QtCore import QObject, QSocketNotifier, Signal

MethodHandler = Callable[[object], object]  # jeepney Message in, reply Message (or None) out
ReplyHandler = Callable[[object], None]

BUS_NAME = "org.freedesktop.DBus"
NO_REPLY_EXPECTED = 1
INTROSPECT_HEAD = ('<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN" '
                   '"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n')
STANDARD_INTERFACES = """
  <interface name="org.freedesktop.DBus.Introspectable">
    <method name="Introspect"><arg name="xml_data" type="s" direction="out"/></method>
  </interface>
  <interface name="org.freedesktop.DBus.Peer">
    <method name="Ping"/>
    <method name="GetMachineId"><arg name="machine_uuid" type="s" direction="out"/></method>
  </interface>
"""


def bus_address() -> str | None:
    return os.environ.get("DBUS_SESSION_BUS_ADDRESS") or None


def _connect(address: str, timeout: float) -> socket.socket:
    """Connect and authenticate (blocking, bounded by ``timeout``); an ``OSError``/``RuntimeError`` in
    words otherwise."""
    from jeepney.bus import get_connectable_addresses
    from jeepney.io.blocking import prep_socket

    try:
        target = next(get_connectable_addresses(address))
    except (RuntimeError, ValueError, StopIteration) as exc:
        raise RuntimeError(f"unusable D-Bus address {address!r} ({exc})") from None
    try:
        return prep_socket(target, timeout=timeout)
    except TimeoutError:
        raise RuntimeError(f"the D-Bus session bus at {address} did not answer") from None
    except OSError as exc:
        raise RuntimeError(f"cannot reach the D-Bus session bus at {address}: {exc.strerror or exc}") from None
    except Exception as exc:  # noqa: BLE001 - authentication refused and the like
        raise RuntimeError(f"the D-Bus session bus at {address} refused the connection: {exc}") from None


class SessionBus(QObject):
    """One connection to the session bus. :meth:`start` connects in the background; then
    :attr:`ready` (our unique name) or :attr:`failed` (one line). Methods are called on the GUI thread."""

    ready = Signal(str)
    failed = Signal(str)
    closed = Signal(str)
    _socket_ready = Signal(object, str)  # from the connecting thread: (socket or None, error)

    def __init__(self, address: str | None = None, parent: QObject | None = None, *, timeout: float = 2.0):
        super().__init__(parent)
        self.address = address
        self.timeout = timeout
        self.unique_name: str | None = None
        self._sock: socket.socket | None = None
        self._parser = None
        self._serial = 0
        self._out = bytearray()
        self._reader: QSocketNotifier | None = None
        self._writer: QSocketNotifier | None = None
        self._pending: dict[int, ReplyHandler | None] = {}
        self._objects: dict[str, tuple[MethodHandler, str]] = {}
        self._signal_handlers: list[tuple[dict, Callable[[object], None]]] = []
        self._socket_ready.connect(self._attach)

    # -- connecting --------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.unique_name is not None

    def start(self) -> None:
        address = self.address or bus_address()
        if not address:
            self._fail("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
            return
        try:
            import jeepney  # noqa: F401
        except ImportError:
            self._fail("D-Bus support needs the Python package jeepney, which is not installed")
            return

        def connect() -> None:
            try:
                sock = _connect(address, self.timeout)
            except RuntimeError as exc:
                self._emit_socket(None, str(exc))
            else:
                self._emit_socket(sock, "")

        threading.Thread(target=connect, name="dbus-connect", daemon=True).start()

    def _emit_socket(self, sock, error: str) -> None:
        try:
            self._socket_ready.emit(sock, error)
        except RuntimeError:  # the bus object went away while we connected
            if sock is not None:
                sock.close()

    def _fail(self, message: str) -> None:
        self.failed.emit(message)

    def _attach(self, sock, error: str) -> None:
        if sock is None:
            self._fail(error)
            return
        from jeepney import Parser
        from jeepney.bus_messages import message_bus

        sock.setblocking(False)
        self._sock = sock
        self._parser = Parser()
        self._reader = QSocketNotifier(sock.fileno(), QSocketNotifier.Type.Read, self)
        self._reader.activated.connect(self._on_readable)
        self._writer = QSocketNotifier(sock.fileno(), QSocketNotifier.Type.Write, self)
        self._writer.setEnabled(False)
        self._writer.activated.connect(self._flush)

        def hello(reply) -> None:
            if reply_error(reply):
                self._fail(f"the D-Bus session bus refused us: {reply_error(reply)}")
                self.close()
                return
            self.unique_name = reply.body[0]
            self.ready.emit(self.unique_name)

        self.call(message_bus.Hello(), hello)

    def close(self, reason: str = "") -> None:
        if self._sock is None:
            return
        for notifier in (self._reader, self._writer):
            if notifier is not None:
                notifier.setEnabled(False)
                notifier.deleteLater()
        self._reader = self._writer = None
        try:
            self._sock.close()
        except OSError:
            pass
        self._sock = None
        was = self.unique_name
        self.unique_name = None
        self._pending.clear()
        if was is not None:
            self.closed.emit(reason or "the D-Bus connection was closed")

    # -- sending -----------------------------------------------------------------------------
    def send(self, message) -> int:
        """Queue ``message`` (a jeepney ``Message``); returns its serial (0 when not connected)."""
        if self._sock is None:
            return 0
        self._serial += 1
        self._out += message.serialise(serial=self._serial)
        self._flush()
        return self._serial

    def call(self, message, on_reply: ReplyHandler | None = None) -> int:
        """Send a method call; ``on_reply(reply)`` gets the return or the error message."""
        serial = self.send(message)
        if serial:
            self._pending[serial] = on_reply
        return serial

    def _flush(self, *_args) -> None:
        sock = self._sock
        while sock is not None and self._out:
            try:
                sent = sock.send(self._out)
            except BlockingIOError:
                break
            except OSError as exc:
                self.close(f"the D-Bus connection broke: {exc.strerror or exc}")
                return
            del self._out[:sent]
        if self._writer is not None:
            self._writer.setEnabled(bool(self._out))

    # -- receiving ---------------------------------------------------------------------------
    def _on_readable(self, *_args) -> None:
        while self._sock is not None:
            try:
                data = self._sock.recv(65536)
            except BlockingIOError:
                break
            except OSError as exc:
                self.close(f"the D-Bus connection broke: {exc.strerror or exc}")
                return
            if not data:
                self.close("the D-Bus session bus went away")
                return
            self._parser.add_data(data)
            while self._sock is not None:
                msg = self._parser.get_next_message()
                if msg is None:
                    break
                self._dispatch(msg)

    def _dispatch(self, msg) -> None:
        from jeepney import HeaderFields, MessageType

        kind = msg.header.message_type
        fields = msg.header.fields
        if kind in (MessageType.method_return, MessageType.error):
            serial = fields.get(HeaderFields.reply_serial)
            if serial in self._pending:
                handler = self._pending.pop(serial)
                if handler is not None:
                    handler(msg)
        elif kind is MessageType.method_call:
            self._answer(msg)
        elif kind is MessageType.signal:
            for match, handler in list(self._signal_handlers):
                if all(fields.get(getattr(HeaderFields, k)) == v for k, v in match.items()):
                    handler(msg)

    def _answer(self, msg) -> None:
        from jeepney import HeaderFields, new_error, new_method_return

        fields = msg.header.fields
        path = fields.get(HeaderFields.path, "/")
        interface = fields.get(HeaderFields.interface)
        member = fields.get(HeaderFields.member)
        if interface == "org.freedesktop.DBus.Peer" or (interface is None and member in ("Ping", "GetMachineId")):
            reply = new_method_return(msg) if member == "Ping" else new_method_return(msg, "s", (_machine_id(),))
        elif interface == "org.freedesktop.DBus.Introspectable" and member == "Introspect":
            reply = new_method_return(msg, "s", (self._introspect(path),))
        elif path in self._objects:
            try:
                reply = self._objects[path][0](msg)
            except DBusError as exc:
                reply = new_error(msg, exc.name, "s", (str(exc),))
            except Exception as exc:  # noqa: BLE001 - a bug in a handler is an error reply, not a crash
                reply = new_error(msg, "org.freedesktop.DBus.Error.Failed", "s", (f"{type(exc).__name__}: {exc}",))
        else:
            reply = new_error(msg, "org.freedesktop.DBus.Error.UnknownObject", "s", (f"no object at {path}",))
        if reply is not None and not (msg.header.flags & NO_REPLY_EXPECTED):
            self.send(reply)

    # -- objects and signals -----------------------------------------------------------------
    def export(self, path: str, handler: MethodHandler, interfaces_xml: str) -> None:
        """Answer method calls to ``path`` with ``handler(msg) -> reply | None`` (it may raise
        :class:`DBusError`); ``interfaces_xml`` is the ``<interface>`` elements for Introspect."""
        self._objects[path] = (handler, interfaces_xml)

    def unexport(self, path: str) -> None:
        self._objects.pop(path, None)

    def _introspect(self, path: str) -> str:
        prefix = path.rstrip("/") + "/"
        children = sorted({p[len(prefix):].split("/")[0] for p in self._objects if p.startswith(prefix)})
        body = self._objects[path][1] if path in self._objects else ""
        nodes = "".join(f"  <node name={quoteattr(c)}/>\n" for c in children)
        return f"{INTROSPECT_HEAD}<node>{STANDARD_INTERFACES}{body}{nodes}</node>\n"

    def on_signal(self, handler: Callable[[object], None], **match: str) -> None:
        """``handler(msg)`` for signals whose header fields equal ``match`` (e.g. ``member=...``,
        ``interface=...``); also subscribes on the bus."""
        from jeepney.bus_messages import MatchRule, message_bus

        self._signal_handlers.append((match, handler))
        self.call(message_bus.AddMatch(MatchRule(type="signal", **match)))

    def emit_signal(self, path: str, interface: str, member: str, signature: str, body: tuple) -> None:
        from jeepney import DBusAddress, new_signal

        self.send(new_signal(DBusAddress(path, interface=interface), member, signature, body))


class DBusError(Exception):
    """Raised by a method handler: becomes an error reply named ``name``."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


def reply_error(msg) -> str | None:
    """The error text of an error reply, ``None`` for a normal return."""
    from jeepney import HeaderFields, MessageType

    if msg.header.message_type is not MessageType.error:
        return None
    name = msg.header.fields.get(HeaderFields.error_name, "error")
    text = msg.body[0] if msg.body and isinstance(msg.body[0], str) else ""
    return f"{name}: {text}" if text else name


def _machine_id() -> str:
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            with open(path, encoding="ascii") as fh:
                return fh.read().strip()
        except OSError:
            continue
    return "0" * 32

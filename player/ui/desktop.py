"""The player on the desktop: MPRIS media controls, the tray icon, song notifications and close-to-tray,
wired to the window's playback.

:class:`AppPlayer` is the :class:`~player.ui.mpris.MprisPlayer` over the window's
:class:`~player.ui.playback.PlaybackController` and :class:`~player.ui.transport.TransportController`:
PlayPause with nothing playing starts *Up next* exactly as Space does. :class:`DesktopController`
owns one session-bus connection shared by MPRIS and the notifier, tells MPRIS what changed (track,
state, volume, shuffle, repeat; ``Seeked`` after a jump) and keeps the tray's menu current. No bus:
one log line (``MPRIS off: …``) and everything else works.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from player.options import CLOSE_TO_TRAY, NOTIFY_SONGS
from player.ui.context import WindowContext
from player.ui.dbus import SessionBus
from player.ui.icons import app_icon
from player.ui.mpris import MprisPlayer, MprisService, TrackInfo
from player.ui.tray import CloseToTray, Notifier, Tray

log = logging.getLogger("player.desktop")

_STATUS = {"playing": "Playing", "paused": "Paused"}
_LOOP_TO_MPRIS = {"off": "None", "one": "Track", "all": "Playlist"}
_LOOP_FROM_MPRIS = {v: k for k, v in _LOOP_TO_MPRIS.items()}
ART_SIZE = 256


def cover_file(library, track_id: int) -> str | None:
    """A JPEG of the track's cover (the thumbnail cache), or None. Reads the picture: a worker's job."""
    try:
        from player.library.covers import cover_for_track, thumbnail
    except ImportError:  # pragma: no cover - a build without covers
        return None
    try:
        ref = cover_for_track(library, track_id)
        path = thumbnail(ref, ART_SIZE) if ref is not None else None
    except Exception as exc:  # noqa: BLE001 - a missing cover never stops playback
        log.info("no cover for track %s: %s", track_id, exc)
        return None
    return str(path) if path else None


class AppPlayer(MprisPlayer):
    """What the desktop may ask of the window (all on the GUI thread, all quick)."""

    def __init__(self, ctx: WindowContext, transport, window):
        self.ctx = ctx
        self.transport = transport
        self.window = window
        self.art: dict[int, str | None] = {}

    @property
    def _pb(self):
        return self.ctx.playback

    def _ready(self) -> bool:
        return self._pb.available and self._pb.player is not None

    # -- state -----------------------------------------------------------------------------
    def playback_status(self) -> str:
        return _STATUS.get(self._pb.state(), "Stopped") if self._pb.current_track() is not None else "Stopped"

    def track(self) -> TrackInfo | None:
        t = self._pb.current_track()
        if t is None:
            return None
        from player.ui.library_rows import shown  # a 1 MB tag is not sent to every panel on the bus

        return TrackInfo(track_id=int(t.id), title=shown(t.title or ""), artists=[shown(t.artist)] if t.artist else [],
                         album=shown(t.album or ""), length_s=t.duration or None, path=getattr(t, "path", None),
                         art_path=self.art.get(int(t.id)))

    def position_s(self) -> float:
        return self._pb.position()

    def volume(self) -> float:
        bar = self.transport.bar
        return 0.0 if bar.mute.isChecked() else bar.volume.value() / 100.0

    def shuffle(self) -> bool:
        return bool(self.transport.bar.shuffle.isChecked())

    def loop_status(self) -> str:
        return _LOOP_TO_MPRIS.get(getattr(self.transport.bar, "_repeat", "off"), "None")

    def can_go_next(self) -> bool:
        return self._ready() and self._pb.current_track() is not None

    def can_go_previous(self) -> bool:
        return self.can_go_next()

    def can_play(self) -> bool:
        return self._ready()

    def can_pause(self) -> bool:
        return self._ready()

    def can_seek(self) -> bool:
        return self._ready() and self._pb.current_track() is not None

    def can_raise(self) -> bool:
        return True

    def can_quit(self) -> bool:
        return True

    # -- commands --------------------------------------------------------------------------
    def play_pause(self) -> None:
        self.transport.toggle_play()

    def play(self) -> None:
        if self._pb.current_track() is None:
            self.transport.toggle_play()
        elif self._pb.state() != "playing":
            self._pb.toggle()

    def pause(self) -> None:
        if self._pb.state() == "playing":
            self._pb.pause()

    def stop(self) -> None:
        self.transport.stop()

    def next(self) -> None:
        self.transport.next_track()

    def previous(self) -> None:
        self.transport.previous_track()

    def seek_to(self, seconds: float) -> None:
        self.transport.seek_to(seconds)

    def start_up_next(self) -> None:
        self.transport.toggle_play()

    def open_uri(self, uri: str) -> bool:
        from PySide6.QtCore import QUrl

        path = QUrl(uri).toLocalFile()
        track = self.ctx.library.track_by_path(path) if path else None
        if track is None:
            return False
        self.transport.play_track(int(track.id))
        return True

    def set_volume(self, volume: float) -> None:
        bar = self.transport.bar
        if volume > 0 and bar.mute.isChecked():
            bar.mute.setChecked(False)
        bar.volume.setValue(int(round(max(0.0, min(1.0, volume)) * 100)))

    def set_shuffle(self, on: bool) -> None:
        bar = self.transport.bar
        if bar.shuffle.isChecked() != bool(on):
            bar.shuffle.setChecked(bool(on))  # the bar applies and remembers it

    def set_loop_status(self, status: str) -> None:
        mode = _LOOP_FROM_MPRIS.get(status, "off")
        bar = self.transport.bar
        bar.set_repeat(mode)
        bar.repeatChanged.emit(mode)

    def raise_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def quit(self) -> None:
        self.window.close_for_real() if hasattr(self.window, "close_for_real") else self.window.close()


class DesktopController(QObject):
    """MPRIS, the tray, notifications and close-to-tray for ``window``. ``address``: the session bus
    (default: ``DBUS_SESSION_BUS_ADDRESS``)."""

    def __init__(self, ctx: WindowContext, transport, window, *, address: str | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.window = window
        self.player = AppPlayer(ctx, transport, window)
        self.bus = SessionBus(address, self)
        self.mpris = MprisService(self.player, bus=self.bus, parent=self)
        self.tray = Tray(app_icon(), self)
        s = ctx.settings
        self.notifier = Notifier(self.tray, bus=self.bus, enabled=s[NOTIFY_SONGS], parent=self)
        self.close_to_tray = CloseToTray(window, self.tray, enabled=s[CLOSE_TO_TRAY])
        self.notify_action = self._toggle("&Notify when a song starts", NOTIFY_SONGS, self.notifier.set_enabled)
        self.tray_action = self._toggle("&Close to the tray", CLOSE_TO_TRAY, self.close_to_tray.set_enabled)
        self._last_track: int | None = None

        pb = ctx.playback
        pb.trackChanged.connect(self._track_changed)
        pb.stateChanged.connect(self._state_changed)
        pb.ready.connect(lambda _ok: self.refresh())
        bar = transport.bar
        for sig in (bar.volumeChanged, bar.muteToggled, bar.shuffleToggled, bar.repeatChanged):
            sig.connect(lambda *_a: self.refresh())
        transport.seeked.connect(self.mpris.seeked)
        t = self.tray
        t.play_pause_requested.connect(transport.toggle_play)
        t.next_requested.connect(transport.next_track)
        t.previous_requested.connect(transport.previous_track)
        t.show_hide_requested.connect(self._show_hide)
        t.quit_requested.connect(self.close_to_tray.quit)

    def _toggle(self, text: str, option, apply) -> QAction:
        a = QAction(text, self.window)
        a.setCheckable(True)
        a.setChecked(bool(self.ctx.settings[option]))

        def changed(on: bool) -> None:
            self.ctx.settings[option] = bool(on)
            apply(bool(on))

        a.toggled.connect(changed)
        return a

    def start(self) -> None:
        """Connect to the session bus (in a short thread) and show the tray icon where there is a tray."""
        self.mpris.start()
        self.tray.show()
        self.refresh()

    def stop(self) -> None:
        self.mpris.stop()
        self.tray.hide()

    def refresh(self) -> None:
        p = self.player
        info = p.track()
        self.tray.set_track(info.title if info else None, info.artists[0] if info and info.artists else None)
        self.tray.set_playing(p.playback_status() == "Playing")
        self.tray.set_can_go(next=p.can_go_next(), previous=p.can_go_previous())
        if self.mpris.active:
            self.mpris.refresh()

    def _track_changed(self, track) -> None:
        self.refresh()
        if track is None:
            self._last_track = None
            return
        tid = int(track.id)
        if tid == self._last_track:
            return
        self._last_track = tid
        if tid in self.player.art:
            self._announce(track)
            return
        library = self.ctx.library

        def done(path) -> None:
            self.player.art[tid] = path
            self.refresh()
            self._announce(track)

        self.ctx.pools.media.submit(cover_file, library, tid, on_result=done,
                                    on_error=lambda _e: done(None))

    def _announce(self, track) -> None:
        if self.player._pb.current_track_id() == int(track.id):
            self.notifier.song_changed(track.title, track.artist, track.album, self.player.art.get(int(track.id)))

    def _state_changed(self, _state: str) -> None:
        self.refresh()

    def _show_hide(self) -> None:
        w = self.window
        if w.isVisible() and not w.isMinimized():
            w.hide()
        else:
            self.player.raise_window()
        self.tray.set_window_visible(w.isVisible())

"""Playing songs: the now-playing bar and the transport actions over :class:`PlaybackController`.

Volume, mute, shuffle and repeat are remembered in the settings; the output device is chosen in
Playback ▸ Output device and used from the next start.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMenu

from player.options import MUTED, OUTPUT_DEVICE, REPEAT, SHUFFLE, VOLUME
from player.ui.context import Controller, WindowContext
from player.ui.library_view import LibraryView
from player.ui.nowplaying import NowPlayingBar

APP_TITLE = "Tastebuds"


class TransportController(Controller):
    titleChanged = Signal(str)  # the window title: the playing song, or the app's name
    seeked = Signal(float)  # the position jumped to this (a key, the bar, the desktop)

    def __init__(self, ctx: WindowContext, bar: NowPlayingBar, view: LibraryView, actions: list, parent=None):
        super().__init__(ctx, parent)
        self.bar = bar
        self.view = view
        self.actions = actions  # enabled only while playback works
        playback = ctx.playback
        bar.playPauseClicked.connect(self.toggle_play)
        bar.nextClicked.connect(self.next_track)
        bar.previousClicked.connect(self.previous_track)
        bar.seekRequested.connect(self.seek_to)
        playback.ready.connect(self._ready)
        playback.trackChanged.connect(self._track_changed)
        playback.stateChanged.connect(lambda st: bar.set_playing(st == "playing"))
        playback.positionChanged.connect(self._position_changed)
        s = ctx.settings
        bar.set_volume(s[VOLUME], s[MUTED])
        bar.set_shuffle(s[SHUFFLE])
        bar.set_repeat(s[REPEAT])
        # the bar's controls: applied to the player and remembered
        for changed, option, apply in ((bar.volumeChanged, VOLUME, playback.set_volume),
                                       (bar.muteToggled, MUTED, playback.set_muted),
                                       (bar.shuffleToggled, SHUFFLE, playback.set_shuffle),
                                       (bar.repeatChanged, REPEAT, playback.set_repeat)):
            apply(s[option])
            changed.connect(lambda value, option=option, apply=apply: self._remember(option, apply, value))
        if not playback.available:
            self._ready(False)
        elif playback.player is None:
            bar.set_enabled_reason("Starting the audio output…", starting=True)

    # -- commands --------------------------------------------------------------------------------
    def play_row(self, row: int) -> None:
        tid = self.ctx.model.track_id_at(row)
        if tid is not None:
            self.play_track(tid)

    def play_track(self, track_id: int, *, context: list[int] | None = None) -> None:
        pb = self.ctx.playback
        if not pb.available:
            self.ctx.notify(pb.reason, "info")
            return
        if pb.player is None:
            self.ctx.status("The audio output is still starting; try again in a moment.", 3000)
            return
        row = self.ctx.model.track_row(track_id)
        if row is not None and row.status != "ok":
            self.ctx.notify(f"“{row.title}” cannot be played: {row.error or 'the file is missing'}", "warning")
            return
        pb.play_ids([track_id] if context is None else context, 0 if context is None else context.index(track_id))
        self.ctx.recs.refresh()

    def play_all_from_selection(self) -> None:
        ids = self.ctx.model.track_ids()
        cur = self.view.current_track_id()
        if cur is None or not ids:
            return
        i = ids.index(cur)
        self.play_track(cur, context=ids[i:i + 1000])

    def toggle_play(self) -> None:
        pb = self.ctx.playback
        if not pb.available:
            self.ctx.notify(pb.reason, "info")
            return
        if pb.player is None:
            return
        if pb.current_track_id() is None:
            tid = self.view.current_track_id() or self.ctx.model.track_id_at(0)
            if tid is not None:
                self.play_track(tid)
            return
        pb.toggle()

    def pause(self) -> None:
        self.ctx.playback.pause()

    def stop(self) -> None:
        self.ctx.playback.stop()

    def next_track(self) -> None:
        self.ctx.playback.next()

    def previous_track(self) -> None:
        self.ctx.playback.previous()

    def seek_relative(self, delta: float) -> None:
        if self.ctx.playback.current_track_id() is not None:
            self.seek_to(self.ctx.playback.position() + delta)

    def seek_to(self, seconds: float) -> None:
        if self.ctx.playback.current_track_id() is not None:
            target = max(0.0, float(seconds))
            self.ctx.playback.seek(target)
            self.seeked.emit(target)

    def change_volume(self, delta: float) -> None:
        v = self.bar.volume.value() / 100.0 + delta
        self.bar.volume.setValue(int(round(max(0.0, min(1.0, v)) * 100)))

    def toggle_mute(self) -> None:
        self.bar.mute.toggle()

    def _remember(self, option, apply, value) -> None:
        apply(value)
        self.ctx.settings[option] = value

    def save(self) -> None:
        self.ctx.settings[VOLUME] = self.bar.volume.value() / 100.0
        self.ctx.settings[MUTED] = self.bar.mute.isChecked()

    # -- what the player says --------------------------------------------------------------------
    def _ready(self, ok: bool) -> None:
        reason = None if ok else self.ctx.playback.reason
        self.bar.set_enabled_reason(reason)
        for a in self.actions:
            a.setEnabled(ok)
            a.setToolTip(a.text().split("\t")[0].replace("&", "") if ok else reason)
        if not ok and reason:
            self.ctx.notify(reason, "warning")

    def _track_changed(self, track) -> None:
        if track is None:
            self.bar.set_track(None)
            self.ctx.model.set_current_track(None)
            self.titleChanged.emit(APP_TITLE)
        else:
            self.bar.set_track(track.title, track.artist, track.album, track.duration)
            self.ctx.model.set_current_track(track.id)
            self.titleChanged.emit(f"{track.title} — {track.artist or APP_TITLE}")
            self.ctx.recs.track_changed(track.id)

    def _position_changed(self, pos: float, dur: float) -> None:
        self.bar.set_duration(dur)
        self.bar.set_position(pos)

    # -- Playback ▸ Output device ----------------------------------------------------------------
    def fill_device_menu(self, menu: QMenu) -> None:
        menu.clear()
        devices, reason = self.ctx.playback.output_devices()
        current = self.ctx.settings[OUTPUT_DEVICE]
        a = menu.addAction("System default")
        a.setCheckable(True)
        a.setChecked(not current)
        a.triggered.connect(lambda: self.choose_device(""))
        for name in devices:
            a = menu.addAction(name)
            a.setCheckable(True)
            a.setChecked(name == current)
            a.triggered.connect(lambda _c=False, n=name: self.choose_device(n))
        if reason:
            a = menu.addAction(reason)
            a.setEnabled(False)

    def choose_device(self, name: str) -> None:
        self.ctx.settings[OUTPUT_DEVICE] = name
        self.ctx.notify(f"Sound will go to {name or 'the system default output'} the next time the player starts.",
                        "info")

"""The now-playing bar: cover, title/artist, transport buttons, seek slider with times, volume."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QSizePolicy, QSlider, QStyle, QStyleOptionSlider,
                               QToolButton, QVBoxLayout, QWidget)

from PySide6.QtGui import QColor, QPainter, QPalette

from player.ui.icons import cover_pixmap, speaker_icon, transport_icon
from player.ui.library_rows import fmt_duration


class ClickSlider(QSlider):
    """A slider that jumps to where it is clicked, and tells when the user is dragging it."""

    def mousePressEvent(self, event):  # noqa: N802
        if event.button() == Qt.LeftButton:
            opt = QStyleOptionSlider()
            self.initStyleOption(opt)
            handle = self.style().subControlRect(QStyle.CC_Slider, opt, QStyle.SC_SliderHandle, self)
            if not handle.contains(event.position().toPoint()):
                groove = self.style().subControlRect(QStyle.CC_Slider, opt, QStyle.SC_SliderGroove, self)
                x = event.position().x() - groove.x() - handle.width() / 2
                span = max(1, groove.width() - handle.width())
                value = QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), int(x), span, opt.upsideDown)
                self.setSliderDown(True)
                self.setValue(value)
                self.sliderMoved.emit(value)
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event):  # noqa: N802
        was_down = self.isSliderDown()
        super().mouseReleaseEvent(event)
        if was_down and self.isSliderDown():
            self.setSliderDown(False)  # emits sliderReleased


class ElidedLabel(QLabel):
    """A one-line label that ends in an ellipsis when its text is wider than it (``text()`` stays whole)."""

    def elided_text(self) -> str:
        width = max(0, self.contentsRect().width())
        return self.fontMetrics().elidedText(self.text(), Qt.ElideRight, width)

    def minimumSizeHint(self):  # noqa: N802 - the layout may make it as narrow as it likes
        hint = super().minimumSizeHint()
        hint.setWidth(0)
        return hint

    def paintEvent(self, _event):  # noqa: N802
        p = QPainter(self)
        self.style().drawItemText(p, self.contentsRect(), Qt.AlignLeft | Qt.AlignVCenter, self.palette(),
                                  self.isEnabled(), self.elided_text(), QPalette.WindowText)
        p.end()


def _transport_button(icon, tip: str, size: int = 20) -> QToolButton:
    b = QToolButton()
    b.setIcon(icon)
    b.setIconSize(QSize(size, size))
    b.setToolTip(tip)
    b.setAutoRaise(True)
    b.setProperty("class", "transport")
    b.setFocusPolicy(Qt.NoFocus)
    return b


class NowPlayingBar(QFrame):
    playPauseClicked = Signal()
    nextClicked = Signal()
    previousClicked = Signal()
    seekRequested = Signal(float)  # seconds
    volumeChanged = Signal(float)  # 0..1
    muteToggled = Signal(bool)
    shuffleToggled = Signal(bool)
    repeatChanged = Signal(str)  # off | all | one
    titleClicked = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("nowPlaying")
        self.setFixedHeight(84)
        self.duration = 0.0  # seconds, of the song shown
        self.position = 0.0
        self._playing = False
        self._repeat = "off"
        self._covers = None  # a CoverLoader, once follow_covers is called
        self._cover_track = None

        root = QHBoxLayout(self)
        root.setContentsMargins(14, 8, 18, 8)
        root.setSpacing(14)

        # left: cover + text
        left = QWidget()
        left.setFixedWidth(300)
        ll = QHBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(10)
        self.cover = QLabel()
        self.cover.setFixedSize(58, 58)
        self.cover.setPixmap(cover_pixmap("", 58))
        ll.addWidget(self.cover)
        txt = QVBoxLayout()
        txt.setSpacing(1)
        txt.addStretch(1)
        self.title = ElidedLabel("Nothing playing")
        self.title.setObjectName("npTitle")
        self.title.setTextFormat(Qt.PlainText)
        self.artist = ElidedLabel("Double-click a song to play it")
        self.artist.setObjectName("npArtist")
        self.artist.setTextFormat(Qt.PlainText)
        for lab in (self.title, self.artist):
            lab.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        txt.addWidget(self.title)
        txt.addWidget(self.artist)
        txt.addStretch(1)
        ll.addLayout(txt, 1)
        root.addWidget(left)

        # centre: transport + seek
        centre = QVBoxLayout()
        centre.setSpacing(2)
        buttons = QHBoxLayout()
        buttons.setSpacing(10)
        buttons.addStretch(1)
        self.shuffle = _transport_button(transport_icon("shuffle", 18), "Shuffle", 18)
        self.shuffle.setCheckable(True)
        self.prev = _transport_button(transport_icon("prev", 20), "Previous (Ctrl+Left)")
        self.play = QToolButton()
        self.play.setObjectName("playButton")
        self.play.setFixedSize(40, 40)
        self.play.setIconSize(QSize(20, 20))
        self.play.setFocusPolicy(Qt.NoFocus)
        self.next = _transport_button(transport_icon("next", 20), "Next (Ctrl+Right)")
        self.repeat = _transport_button(transport_icon("repeat", 18), "Repeat: off", 18)
        self.repeat.setCheckable(True)
        for w in (self.shuffle, self.prev, self.play, self.next, self.repeat):
            buttons.addWidget(w)
        buttons.addStretch(1)
        centre.addLayout(buttons)
        seek = QHBoxLayout()
        seek.setSpacing(8)
        self.elapsed = QLabel("0:00")
        self.elapsed.setObjectName("npTime")
        self.elapsed.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.elapsed.setMinimumWidth(44)
        self.slider = ClickSlider(Qt.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setFocusPolicy(Qt.NoFocus)
        self.slider.setToolTip("Seek (Left/Right: 5 s)")
        self.remaining = QLabel("-0:00")
        self.remaining.setObjectName("npTime")
        self.remaining.setMinimumWidth(48)
        seek.addWidget(self.elapsed)
        seek.addWidget(self.slider, 1)
        seek.addWidget(self.remaining)
        centre.addLayout(seek)
        root.addLayout(centre, 1)

        # right: volume
        right = QHBoxLayout()
        right.setSpacing(6)
        self.mute = _transport_button(speaker_icon(18), "Mute (M)", 18)
        self.mute.setCheckable(True)
        self.volume = ClickSlider(Qt.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setValue(80)
        self.volume.setFixedWidth(110)
        self.volume.setFocusPolicy(Qt.NoFocus)
        self.volume.setToolTip("Volume")
        right.addWidget(self.mute)
        right.addWidget(self.volume)
        root.addLayout(right)

        self.play.clicked.connect(self.playPauseClicked)
        self.next.clicked.connect(self.nextClicked)
        self.prev.clicked.connect(self.previousClicked)
        self.slider.sliderMoved.connect(self._preview_seek)
        self.slider.sliderReleased.connect(self._commit_seek)
        self.volume.valueChanged.connect(self._volume)
        self.mute.toggled.connect(self._mute)
        self.shuffle.toggled.connect(self.shuffleToggled)
        self.shuffle.toggled.connect(lambda on: self.shuffle.setIcon(
            transport_icon("shuffle", 18, QColor(79, 107, 237) if on else None)))
        self.repeat.clicked.connect(self._cycle_repeat)
        self.set_playing(False)

    # -- inputs --------------------------------------------------------------------------------
    def _preview_seek(self, value: int) -> None:
        self._show_times(value / 1000.0)

    def _commit_seek(self) -> None:
        self.seekRequested.emit(self.slider.value() / 1000.0)

    def _volume(self, value: int) -> None:
        self.mute.setIcon(speaker_icon(18, self.mute.isChecked() or value == 0, value / 100.0))
        self.volumeChanged.emit(value / 100.0)

    def _mute(self, on: bool) -> None:
        self.mute.setIcon(speaker_icon(18, on or self.volume.value() == 0, self.volume.value() / 100.0))
        self.mute.setToolTip("Unmute (M)" if on else "Mute (M)")
        self.muteToggled.emit(on)

    def _cycle_repeat(self) -> None:
        nxt = {"off": "all", "all": "one", "one": "off"}[self._repeat]
        self.set_repeat(nxt)
        self.repeatChanged.emit(nxt)

    # -- state ---------------------------------------------------------------------------------
    def set_repeat(self, mode: str) -> None:
        self._repeat = mode if mode in ("off", "all", "one") else "off"
        self.repeat.blockSignals(True)
        self.repeat.setChecked(self._repeat != "off")
        self.repeat.blockSignals(False)
        self.repeat.setIcon(transport_icon("repeat1" if self._repeat == "one" else "repeat", 18, QColor(79, 107, 237) if self._repeat != "off" else None))
        self.repeat.setToolTip({"off": "Repeat: off", "all": "Repeat: all", "one": "Repeat: this song"}[self._repeat])

    def set_shuffle(self, on: bool) -> None:
        self.shuffle.blockSignals(True)
        self.shuffle.setChecked(on)
        self.shuffle.blockSignals(False)
        self.shuffle.setIcon(transport_icon("shuffle", 18, QColor(79, 107, 237) if on else None))

    def set_volume(self, volume: float, muted: bool = False) -> None:
        self.volume.blockSignals(True)
        self.volume.setValue(int(round(max(0.0, min(1.0, volume)) * 100)))
        self.volume.blockSignals(False)
        self.mute.blockSignals(True)
        self.mute.setChecked(muted)
        self.mute.blockSignals(False)
        self.mute.setIcon(speaker_icon(18, muted or volume == 0, volume))

    def set_playing(self, playing: bool) -> None:
        self._playing = playing
        self.play.setIcon(transport_icon("pause" if playing else "play", 20, QColor(255, 255, 255)))
        self.play.setToolTip("Pause (Space)" if playing else "Play (Space)")

    def set_track(self, title: str | None, artist: str | None = None, album: str | None = None,
                  duration: float | None = None) -> None:
        if title is None:
            self.title.setText("Nothing playing")
            self.artist.setText("Double-click a song to play it")
            self.cover.setPixmap(cover_pixmap("", 58))
            self.title.setToolTip("")
            self.duration = 0.0
        else:
            from player.ui.library_rows import shown

            title, artist, album = shown(title), shown(artist or ""), shown(album or "")
            self.title.setText(title)
            sub = " · ".join(x for x in (artist, album) if x)
            self.artist.setText(sub or "Unknown artist")
            self.title.setToolTip(f"{title}\n{sub}" if sub else title)
            if self._covers is None:
                self.cover.setPixmap(cover_pixmap(album or title, 58))
            self.duration = float(duration or 0.0)
        self.slider.setRange(0, int(self.duration * 1000))
        self.set_position(0.0)

    # -- the cover and the file's warning, from the playing track ---------------------------------
    COVER = 58

    def follow_covers(self, covers, track_changed) -> None:
        """Show the playing track's cover from ``covers`` (a CoverLoader) and its file's warning as a
        tooltip; ``track_changed`` emits the Track (or None). Connect after the bar's text is set."""
        self._covers = covers
        track_changed.connect(self.show_track_extras)
        covers.ready.connect(self._cover_ready)

    def show_track_extras(self, track) -> None:
        self._cover_track = track
        if track is None:
            self.cover.setPixmap(cover_pixmap("", self.COVER))
            self.cover.setToolTip("")
            return
        warning = getattr(track, "warning", None)
        tip = self.title.toolTip()
        if warning:
            self.title.setToolTip(f"{tip}\n⚠ {warning}" if tip else f"⚠ {warning}")
        self.cover.setToolTip(f"⚠ {warning}" if warning else "")
        self._show_cover()

    def _show_cover(self) -> None:
        t = self._cover_track
        if t is None or self._covers is None:
            return
        from player.ui.cover_art import blank_tile

        pm = self._covers.cover(t.id, self.COVER, t.album or t.title or "")
        self.cover.setPixmap(pm if pm is not None else blank_tile(self.COVER))

    def _cover_ready(self, track_id: int, size: int) -> None:
        t = self._cover_track
        if t is not None and t.id == track_id and size == self.COVER:
            self._show_cover()

    def set_duration(self, duration: float | None) -> None:
        if duration and abs(float(duration) - self.duration) > 0.01:
            self.duration = float(duration)
            self.slider.setRange(0, int(self.duration * 1000))

    def set_position(self, seconds: float) -> None:
        self.position = max(0.0, float(seconds or 0.0))
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(int(self.position * 1000))
            self.slider.blockSignals(False)
            self._show_times(self.position)

    def _show_times(self, pos: float) -> None:
        self.elapsed.setText(fmt_duration(pos) or "0:00")
        rem = max(0.0, self.duration - pos)
        self.remaining.setText("-" + (fmt_duration(rem) or "0:00"))

    def set_enabled_reason(self, reason: str | None, *, starting: bool = False) -> None:
        """Disable the transport with a tooltip saying why (no playback engine), or enable it."""
        on = reason is None
        for w in (self.play, self.prev, self.next, self.slider, self.shuffle, self.repeat, self.volume, self.mute):
            w.setEnabled(on)
        if not on:
            self.play.setToolTip(reason)
            self.slider.setToolTip(reason)
            self.artist.setText("Starting the audio output…" if starting else "Playback is unavailable")
            self.artist.setToolTip(reason)
        else:
            self.set_playing(self._playing)
            self.slider.setToolTip("Seek (Left/Right: 5 s)")
            self.artist.setToolTip("")
            if self.title.text() == "Nothing playing":
                self.artist.setText("Double-click a song to play it")

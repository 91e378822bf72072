"""Track details: facts, tag probabilities as bars, genre probabilities, and the mel spectrogram.

The analysis data is read and the spectrogram computed in workers; the dialog is non-modal and is
reused for whichever track is asked for next.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QScrollArea, QSizePolicy, QVBoxLayout, QWidget)

from player.ui.context import Controller
from player.ui.icons import ACCENT, cover_pixmap
from player.ui.library_rows import TrackRow, fmt_duration

SPEC_SECONDS = 30.0
N_MELS = 96


class BarChart(QWidget):
    """Horizontal probability bars: label, bar, percentage."""

    def __init__(self, color: QColor = ACCENT, parent=None):
        super().__init__(parent)
        self.items: list[tuple[str, float]] = []
        self.color = color
        self.empty_text = "Not analysed yet"
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def set_items(self, items: list[tuple[str, float]], empty_text: str | None = None) -> None:
        self.items = list(items)
        if empty_text is not None:
            self.empty_text = empty_text
        self.updateGeometry()
        self.update()

    def _row_h(self) -> int:
        return QFontMetrics(self.font()).height() + 6

    def sizeHint(self) -> QSize:
        return QSize(260, max(1, len(self.items)) * self._row_h() + 4)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, _ev):  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing, True)
        fm = QFontMetrics(self.font())
        if not self.items:
            p.setPen(QColor(130, 135, 145))
            p.drawText(self.rect(), Qt.AlignLeft | Qt.AlignVCenter, self.empty_text)
            return
        rh = self._row_h()
        label_w = min(int(self.width() * 0.4), max(fm.horizontalAdvance(n) for n, _ in self.items) + 10)
        pct_w = fm.horizontalAdvance("100%") + 8
        bar_w = max(10, self.width() - label_w - pct_w - 8)
        for i, (name, prob) in enumerate(self.items):
            y = i * rh + 2
            p.setPen(QColor(45, 50, 60))
            p.drawText(QRectF(0, y, label_w - 6, rh), Qt.AlignRight | Qt.AlignVCenter,
                       fm.elidedText(name, Qt.ElideRight, label_w - 6))
            track = QRectF(label_w, y + rh * 0.25, bar_w, rh * 0.5)
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(230, 233, 240))
            p.drawRoundedRect(track, 3, 3)
            v = max(0.0, min(1.0, float(prob)))
            if v > 0:
                c = QColor(self.color)
                c.setAlphaF(0.45 + 0.55 * v)
                p.setBrush(c)
                p.drawRoundedRect(QRectF(track.left(), track.top(), max(3.0, bar_w * v), track.height()), 3, 3)
            p.setPen(QColor(95, 100, 112))
            p.drawText(QRectF(label_w + bar_w + 6, y, pct_w, rh), Qt.AlignLeft | Qt.AlignVCenter, f"{v * 100:.0f}%")


# -- spectrogram (worker) -------------------------------------------------------------------------
_MAGMA = [
    [0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
    [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191],
]


def colormap(x):
    """Values in [0, 1] → uint8 RGB with a magma-like ramp."""
    import numpy as np

    magma = np.array(_MAGMA, dtype=np.float32)
    x = np.clip(x, 0.0, 1.0) * (len(_MAGMA) - 1)
    lo = np.floor(x).astype(np.int32)
    hi = np.minimum(lo + 1, len(_MAGMA) - 1)
    f = (x - lo)[..., None]
    return (magma[lo] * (1 - f) + magma[hi] * f).astype(np.uint8)


FLOOR_DB = -80.0  # the spectrogram's darkest colour: absolute, so silence stays dark


def mel_spectrogram_rgb(path: str, seconds: float = SPEC_SECONDS, n_mels: int = N_MELS):
    """The mel spectrogram (dB) of up to ``seconds`` from the middle of the track, as an RGB image.

    Power is in dB against a full-scale sine's (``ref=1.0``) from :data:`FLOOR_DB` to 0 dB, not against
    the excerpt's own maximum: a quiet song looks quiet and a silent one dark. Returns (image[n_mels,
    frames, 3] uint8, low frequencies at the bottom; info: ``start`` and ``seconds`` of what is shown,
    in the file's time).
    """
    import numpy as np

    from player.audio.reader import read_excerpt

    sr = 22050
    ex = read_excerpt(path, seconds, "centre", samplerate=sr, mono=True)
    mono = np.asarray(ex.audio, dtype=np.float32)
    if mono.size == 0:
        raise ValueError("the file holds no audio to draw")
    import librosa  # heavy: only here, in a worker

    n_fft = 2048
    mel = librosa.feature.melspectrogram(y=mono, sr=sr, n_fft=n_fft, hop_length=512, n_mels=n_mels, fmax=sr / 2)
    # A full-scale sine's power in one mel band is about (n_fft / 4)^2 with librosa's Hann window
    # (slaney-normalised filters scale it down further): this is 0 dB.
    full_scale = (n_fft / 4.0) ** 2 * float(np.max(librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)))
    db = 10.0 * np.log10(np.maximum(mel / full_scale, 1e-12))
    norm = (np.clip(db, FLOOR_DB, 0.0) - FLOOR_DB) / -FLOOR_DB
    img = colormap(norm[::-1])  # low frequencies at the bottom
    return np.ascontiguousarray(img), {"start": float(ex.start), "seconds": len(mono) / sr, "sr": sr}


def rgb_to_qimage(img) -> QImage:
    h, w, _ = img.shape
    return QImage(img.data, w, h, img.strides[0], QImage.Format_RGB888).copy()


class SpectrogramView(QLabel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumHeight(170)
        self.setAlignment(Qt.AlignCenter)
        self.setStyleSheet("background: #14161c; color: #9aa1ad; border-radius: 6px;")
        self._image: QImage | None = None
        self.setText("computing the spectrogram…")

    def set_image(self, image: QImage | None, text: str = "") -> None:
        self._image = image
        if image is None:
            self.setPixmap(QPixmap())
            self.setText(text)
        else:
            self.setText("")
            self._rescale()

    def has_image(self) -> bool:
        return self._image is not None

    def resizeEvent(self, ev):  # noqa: N802
        super().resizeEvent(ev)
        self._rescale()

    def _rescale(self) -> None:
        if self._image is not None:
            self.setPixmap(QPixmap.fromImage(self._image).scaled(self.width() - 4, self.height() - 4,
                                                                 Qt.IgnoreAspectRatio, Qt.SmoothTransformation))


class TrackDetails(QDialog):
    """Non-modal details of one track."""

    COVER = 160

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Track details")
        self.setModal(False)
        self.resize(760, 820)
        self.track_id: int | None = None
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 16, 16, 12)
        root.setSpacing(12)

        head = QHBoxLayout()
        head.setSpacing(14)
        self.cover = QLabel()
        self.cover.setFixedSize(self.COVER, self.COVER)
        head.addWidget(self.cover, 0, Qt.AlignTop)
        info = QVBoxLayout()
        info.setSpacing(2)
        self.title = QLabel()
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() + 4)
        f.setBold(True)
        self.title.setFont(f)
        self.title.setWordWrap(True)
        self.sub = QLabel()
        self.sub.setWordWrap(True)
        self.sub.setStyleSheet("color: #5b6170;")
        info.addWidget(self.title)
        info.addWidget(self.sub)
        self.facts = QFormLayout()
        self.facts.setHorizontalSpacing(12)
        self.facts.setVerticalSpacing(2)
        info.addLayout(self.facts)
        info.addStretch(1)
        head.addLayout(info, 1)
        root.addLayout(head)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.NoFrame)
        body = QWidget()
        grid = QGridLayout(body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(10)
        self.tags_box = QGroupBox("Tags")
        tl = QVBoxLayout(self.tags_box)
        self.tags = BarChart(ACCENT)
        tl.addWidget(self.tags)
        tl.addStretch(1)
        self.genres_box = QGroupBox("Genre")
        gl = QVBoxLayout(self.genres_box)
        self.genres = BarChart(QColor(140, 70, 200))
        gl.addWidget(self.genres)
        gl.addStretch(1)
        grid.addWidget(self.tags_box, 0, 0, 2, 1)
        grid.addWidget(self.genres_box, 0, 1)
        self.analysis_note = QLabel()
        self.analysis_note.setWordWrap(True)
        self.analysis_note.setStyleSheet("color: #7a808c;")
        grid.addWidget(self.analysis_note, 1, 1, Qt.AlignTop)
        self.spec_box = QGroupBox("Mel spectrogram")
        sl = QVBoxLayout(self.spec_box)
        self.spectrogram = SpectrogramView()
        sl.addWidget(self.spectrogram)
        self.spec_note = QLabel()
        self.spec_note.setStyleSheet("color: #7a808c;")
        sl.addWidget(self.spec_note)
        grid.addWidget(self.spec_box, 2, 0, 1, 2)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        scroll.setWidget(body)
        root.addWidget(scroll, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.close)
        root.addWidget(buttons)

    def show_track(self, row: TrackRow | None, track_id: int) -> None:
        self.track_id = track_id
        while self.facts.rowCount():
            self.facts.removeRow(0)
        if row is None:
            self.title.setText(f"Track {track_id}")
            self.sub.setText("")
            self.cover.setPixmap(cover_pixmap(str(track_id), self.COVER))
        else:
            self.title.setText(row.title)
            self.sub.setText(" · ".join(x for x in (row.artist, row.album) if x) or "Unknown artist")
            self.cover.setPixmap(cover_pixmap(row.album or row.title, self.COVER))
            facts = [("Length", fmt_duration(row.duration) or "unknown")]
            if row.trackno:
                facts.append(("Track", str(row.trackno)))
            if row.year:
                facts.append(("Year", str(row.year)))
            if row.genre:
                facts.append(("Genre tag", row.genre))
            facts.append(("File", row.path))
            if row.status != "ok":
                facts.append(("Problem", row.error or row.status))
            for k, v in facts:
                lab = QLabel(v)
                lab.setTextInteractionFlags(Qt.TextSelectableByMouse)
                lab.setWordWrap(True)
                self.facts.addRow(QLabel(f"<span style='color:#7a808c'>{k}</span>"), lab)
        self.tags.set_items([], "loading…")
        self.genres.set_items([], "loading…")
        self.analysis_note.setText("")
        self.spectrogram.set_image(None, "computing the spectrogram…")
        self.spec_note.setText("")
        self.setWindowTitle(f"Track details — {row.title if row else track_id}")

    def add_fact(self, name: str, value: str, tip: str = "") -> QLabel:
        lab = QLabel(value)
        lab.setTextFormat(Qt.PlainText)
        lab.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lab.setWordWrap(True)
        lab.setToolTip(tip)
        self.facts.addRow(QLabel(f"<span style='color:#7a808c'>{name}</span>"), lab)
        return lab

    def fact(self, name: str) -> str | None:
        """The text shown for a fact (None when it is not shown)."""
        for i in range(self.facts.rowCount()):
            label = self.facts.itemAt(i, QFormLayout.LabelRole)
            field = self.facts.itemAt(i, QFormLayout.FieldRole)
            if label and field and f">{name}<" in label.widget().text():
                return field.widget().text()
        return None

    def set_file_facts(self, facts: dict) -> None:
        """From :func:`read_file_facts` (a worker): format and bit rate, loudness, the file's warning."""
        if facts.get("format"):
            self.add_fact("Format", facts["format"])
        loud = facts.get("loudness") or {}
        if loud.get("loudness_lufs") is not None:
            text = f"{loud['loudness_lufs']:.1f} LUFS"
            if loud.get("true_peak_dbtp") is not None:
                text += f", true peak {loud['true_peak_dbtp']:+.1f} dBTP"
            self.add_fact("Loudness", text)
        else:
            self.add_fact("Loudness", "not measured yet")
        gains = [f"{name} {loud[key]:+.2f} dB" for name, key in (("track", "track_gain_db"), ("album", "album_gain_db"))
                 if loud.get(key) is not None]
        if gains:
            self.add_fact("Gain", ", ".join(gains) + f" ({facts.get('gain_source', 'measured')})")
        if facts.get("warning"):
            self.add_fact("Warning", "⚠ " + facts["warning"], facts["warning"])

    def set_cover(self, pixmap: QPixmap | None) -> None:
        if pixmap is not None:
            self.cover.setPixmap(pixmap)

    def set_analysis(self, a) -> None:
        """``a``: the stored :class:`player.analysis.store.TrackAnalysis`, or None (not analysed)."""
        if a is None:
            note = "This song has not been analysed yet; its tags and genre appear once analysis has run."
        elif not a.ok:
            note = f"Analysis failed: {a.error or 'unknown reason'}"
        else:
            note = f"Analysed with {a.model_version}."
            if a.labels:
                note += "  Labels (count): " + ", ".join(f"{lab.name} ({lab.count})" for lab in a.labels[:8])
        if a is not None and a.tags is not None:
            tags = a.tags.ranked(12)
        else:  # only the labels that passed: still worth showing
            tags = sorted(((lab.name, lab.probability) for lab in a.labels), key=lambda t: -t[1])[:12] if a else []
        genres = a.genres.ranked(8) if a is not None and a.genres is not None else []
        self.tags.set_items(tags, "Not analysed yet" if a is None else "No tags")
        self.genres.set_items(genres, "Not analysed yet" if a is None else "No genre")
        self.analysis_note.setText(note)

    def set_analysis_error(self, message: str) -> None:
        self.tags.set_items([], "could not be read")
        self.genres.set_items([], "could not be read")
        self.analysis_note.setText(message)

    def set_spectrogram(self, img, info: dict) -> None:
        self.spectrogram.set_image(rgb_to_qimage(img))
        self.spec_note.setText(
            f"{info['seconds']:.0f} s from {fmt_duration(info['start']) or '0:00'} · {N_MELS} mel bands · "
            f"low frequencies at the bottom · dark is {FLOOR_DB:.0f} dB and below"
        )

    def set_spectrogram_error(self, message: str) -> None:
        self.spectrogram.set_image(None, f"No spectrogram: {message}")


def read_track(library, track_id: int):
    """Worker: the track's stored analysis (numpy loads here, not at start-up)."""
    from player.analysis.store import read_track as read

    return read(library, track_id)


def _format_text(track) -> str:
    parts = [(track.format or "").upper() or None]
    if track.samplerate:
        parts.append(f"{track.samplerate / 1000:g} kHz")
    if track.channels:
        parts.append({1: "mono", 2: "stereo"}.get(track.channels, f"{track.channels} channels"))
    if track.size and track.duration:
        parts.append(f"{track.size * 8 / track.duration / 1000:.0f} kbit/s")
    return ", ".join(p for p in parts if p)


def read_file_facts(library, track_id: int) -> dict:
    """Worker: the track's format and bit rate, its loudness (and whether the gains come from the file's
    tags or were measured) and its file's warning."""
    from player.library.loudness import gains_for_track, loudness_json

    track = library.track(track_id)
    if track is None:
        return {}
    gains = gains_for_track(library, track_id)
    return {"format": _format_text(track), "loudness": loudness_json(library, track_id),
            "gain_source": "from the tags" if "track_gain" in gains or "album_gain" in gains else "measured",
            "warning": track.warning}


class DetailsController(Controller):
    """Opens the one details dialog for a song and fills it from workers; it follows the selection
    while it is open."""

    def __init__(self, ctx, view, parent=None):
        super().__init__(ctx, parent)
        self.view = view
        self.dialog: TrackDetails | None = None
        self.covers = None  # the window's CoverLoader
        view.selectionModel().currentRowChanged.connect(lambda *_: self._selection_changed())

    def _selection_changed(self) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            tid = self.view.current_track_id()
            if tid is not None and tid != self.dialog.track_id:
                self.show_details(tid)

    def show_for_selection(self) -> None:
        tid = self.view.current_track_id()
        if tid is None:
            tid = self.ctx.playback.current_track_id()
        if tid is not None:
            self.show_details(tid)

    def show_details(self, track_id: int) -> TrackDetails:
        if self.dialog is None:
            self.dialog = TrackDetails(self.parent())
        d = self.dialog
        row = self.ctx.model.track_row(track_id)
        d.show_track(row, track_id)
        d.show()
        d.raise_()

        def ok_analysis(a, tid=track_id):
            if d.track_id == tid:
                d.set_analysis(a)

        def ok_spec(res, tid=track_id):
            if d.track_id == tid:
                d.set_spectrogram(*res)

        def bad_spec(err, tid=track_id):
            if d.track_id == tid:
                d.set_spectrogram_error(err.message)

        pools = self.ctx.pools
        pools.query.submit(read_file_facts, self.ctx.library, track_id,
                           on_result=lambda facts, tid=track_id: d.track_id == tid and d.set_file_facts(facts),
                           on_error=lambda e: d.add_fact("File facts", e.message))
        self._show_cover(track_id, row.album or row.title if row else str(track_id))
        pools.query.submit(read_track, self.ctx.library, track_id, on_result=ok_analysis,
                           on_error=lambda e: d.set_analysis_error(e.message))
        if row is None or row.status != "ok":
            d.set_spectrogram_error("the file cannot be read" if row else "unknown track")
        else:
            pools.media.submit(mel_spectrogram_rgb, row.path, on_result=ok_spec, on_error=bad_spec)
        return d

    def _show_cover(self, track_id: int, key: str) -> None:
        if self.covers is None:
            return
        d, size = self.dialog, TrackDetails.COVER
        pm = self.covers.cover(track_id, size, key)
        if pm is not None:
            d.set_cover(pm)
            return

        def ready(tid, got):
            if tid == track_id and got == size:
                self.covers.ready.disconnect(ready)
                if d.track_id == track_id:
                    d.set_cover(self.covers.cover(track_id, size, key))

        self.covers.ready.connect(ready)

"""The status bar's progress parts: import (label, bar, Stop) and analysis (label, bar, pause, stop)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QToolButton, QWidget

from player.ui.icons import std


class ProgressPart(QWidget):
    """A label, a progress bar and a Stop button in a row; ``extra`` buttons go before Stop."""

    def __init__(self, text: str, bar_width: int, stop_tip: str, spacing: int, extra=(), parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(spacing)
        self.label = QLabel(text)
        self.bar = QProgressBar()
        self.bar.setFixedWidth(bar_width)
        self.bar.setTextVisible(False)
        self.cancel = QToolButton()
        self.cancel.setIcon(std("DialogCancelButton"))
        self.cancel.setAutoRaise(True)
        self.cancel.setToolTip(stop_tip)
        for w in (self.label, self.bar, *extra, self.cancel):
            lay.addWidget(w)
        self.setSizePolicy(QSizePolicy.Maximum, QSizePolicy.Preferred)


class ImportStatus(ProgressPart):
    """Import progress, hidden when no import runs."""

    def __init__(self, parent=None):
        super().__init__("Importing…", 160, "Stop the import (what is done is kept)", 6, parent=parent)
        self.setVisible(False)


class AnalysisStatus(ProgressPart):
    """Analysis progress, or the stored counts; pause and stop while an analysis runs."""

    def __init__(self, parent=None):
        self.pause = QToolButton()
        self.pause.setIcon(std("MediaPause"))
        self.pause.setAutoRaise(True)
        self.pause.setCheckable(True)
        self.pause.setToolTip("Pause analysis")
        super().__init__("", 120, "Stop analysis (finished songs are kept)", 4, extra=(self.pause,), parent=parent)

    def set_live(self, live: bool) -> None:
        """Pause and stop show while an analysis runs."""
        for w in (self.pause, self.cancel):
            w.setEnabled(live)
            w.setVisible(live)
        if not live:
            self.pause.blockSignals(True)
            self.pause.setChecked(False)
            self.pause.blockSignals(False)
            self.show_paused(False)

    def show_paused(self, paused: bool) -> None:
        self.pause.setIcon(std("MediaPlay") if paused else std("MediaPause"))
        self.pause.setToolTip("Resume analysis" if paused else "Pause analysis")

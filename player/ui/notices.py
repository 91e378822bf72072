"""Non-modal notices: messages floating over the bottom of the library (errors stay until closed, others
fade away). They float over the window's middle (:meth:`NoticeArea.float_over`) rather than taking a
place in its layout, so the table never jumps when one appears or goes."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from player.ui.icons import std

_ICONS = {"info": "MessageBoxInformation", "success": "DialogApplyButton", "warning": "MessageBoxWarning",
          "error": "MessageBoxCritical"}
_TIMEOUTS = {"info": 8000, "success": 8000, "warning": 15000, "error": 0}


class Notice(QFrame):
    closed = Signal()

    def __init__(self, text: str, level: str = "info", actions: list[tuple[str, Callable]] | None = None,
                 timeout_ms: int | None = None, parent=None):
        super().__init__(parent)
        self.level = level
        self.text = text
        self.setProperty("class", "notice")
        self.setProperty("level", level)
        self.setObjectName("notice")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        lay.setSpacing(8)
        icon = QLabel()
        icon.setPixmap(std(_ICONS.get(level, "MessageBoxInformation")).pixmap(18, 18))
        lay.addWidget(icon, 0, Qt.AlignVCenter)
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay.addWidget(self.label, 1)
        self.buttons = []
        for title, fn in actions or []:
            b = QPushButton(title)
            b.clicked.connect(fn)
            b.clicked.connect(self.dismiss)
            lay.addWidget(b)
            self.buttons.append(b)
        close = QToolButton()
        close.setAutoRaise(True)
        close.setIcon(std("TitleBarCloseButton"))
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        lay.addWidget(close, 0, Qt.AlignVCenter)
        ms = _TIMEOUTS.get(level, 8000) if timeout_ms is None else timeout_ms
        self._done = False
        if ms:
            self._timer = QTimer(self)  # a child: it dies with the notice
            self._timer.setSingleShot(True)
            self._timer.timeout.connect(self.dismiss)
            self._timer.start(ms)

    def dismiss(self) -> None:
        if self._done:
            return
        self._done = True
        self.hide()
        self.closed.emit()


class NoticeArea(QWidget):
    """Holds up to ``limit`` notices; the newest at the bottom. The same text is not shown twice."""

    def __init__(self, parent=None, limit: int = 3):
        super().__init__(parent)
        self.limit = limit
        self._lay = QVBoxLayout(self)
        self._lay.setContentsMargins(8, 6, 8, 0)
        self._lay.setSpacing(4)
        self._items: list[Notice] = []
        self.setVisible(False)
        self.history: list[tuple[str, str]] = []  # (level, text): what was shown, for tests and the log
        self._over: QWidget | None = None

    # -- floating over a widget ----------------------------------------------------------------
    def float_over(self, widget: QWidget) -> None:
        """Float at the bottom of ``widget`` (a sibling in the same parent), above it, at most 900 px
        wide; follows its size."""
        self._over = widget
        widget.installEventFilter(self)
        self.setAttribute(Qt.WA_StyledBackground, False)
        self._place()

    def eventFilter(self, obj: QObject, event) -> bool:  # noqa: N802 - Qt's name
        if obj is self._over and event.type() in (QEvent.Type.Resize, QEvent.Type.Move, QEvent.Type.Show):
            self._place()
        return False

    def _place(self) -> None:
        w = self._over
        if w is None:
            return
        g = w.geometry()
        width = min(900, max(200, g.width() - 24))
        self.setFixedWidth(width)
        height = self.sizeHint().height() if self._items else 0
        self.setGeometry(g.x() + (g.width() - width) // 2, g.y() + g.height() - height - 8, width, height)
        self.raise_()

    def show_notice(self, text: str, level: str = "info", actions=None, timeout_ms: int | None = None) -> Notice:
        for n in self._items:
            if n.text == text:
                self._remove(n)
                break
        n = Notice(text, level, actions, timeout_ms, self)
        n.closed.connect(lambda n=n: self._remove(n))
        self._items.append(n)
        self._lay.addWidget(n)
        self.history.append((level, text))
        while len(self._items) > self.limit:
            self._remove(self._items[0])
        self.setVisible(True)
        self._place()
        return n

    def _remove(self, n: Notice) -> None:
        if n in self._items:
            self._items.remove(n)
            n.hide()
            self._lay.removeWidget(n)
            n.setParent(None)
            n.deleteLater()
        self.setVisible(bool(self._items))
        # give the space back at once (otherwise the remaining notices grow into it)
        self._lay.invalidate()
        self.adjustSize()
        self.updateGeometry()
        self._place()

    def dismiss_matching(self, text: str) -> None:
        for n in list(self._items):
            if text in n.text:
                self._remove(n)

    def notices(self) -> list[Notice]:
        return list(self._items)

    def clear(self) -> None:
        for n in list(self._items):
            self._remove(n)

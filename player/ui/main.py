"""Start the window: ``python -m player [--db PATH]``."""

from __future__ import annotations

import gc
import os
import signal
import socket
import sys
import traceback
from pathlib import Path

#: signals that close the window as its Quit does (logout, ``kill``, a closed terminal, Ctrl+C)
CLOSING_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def _install_excepthook(window_ref: list):
    """An unexpected exception in a slot becomes a notice, not a vanished window. Returns the
    previous hook (to put back)."""
    previous = sys.excepthook

    def hook(kind, value, tb):
        traceback.print_exception(kind, value, tb)
        win = window_ref[0] if window_ref else None
        if win is not None:
            try:
                from player.ui.workers import describe_exception

                win.notify(f"Something went wrong: {describe_exception(value)}", "error")
                return
            except Exception:  # noqa: BLE001
                pass
        previous(kind, value, tb)

    sys.excepthook = hook
    return previous


def keep_writes_in_player_folders() -> None:
    """What Qt and the libraries under it write (the file dialog's ``QtProject.conf``, font caches …)
    goes to the player's folders, and with ``PLAYER_DATA_DIR`` never to the home folder. Call before
    the ``QApplication`` exists; child processes inherit the environment."""
    from player.paths import config_dir, data_dir, redirect_library_files
    from player.ui.settings import redirect_qt_settings

    redirect_library_files()  # the caches (XDG_CACHE_HOME with PLAYER_DATA_DIR)
    if os.environ.get("PLAYER_DATA_DIR"):
        for name, folder in (("XDG_CONFIG_HOME", config_dir() / "xdg"), ("XDG_DATA_HOME", data_dir() / "xdg")):
            folder.mkdir(parents=True, exist_ok=True)
            os.environ[name] = str(folder)
    redirect_qt_settings(config_dir())


class CloseOnSignal:
    """SIGTERM, SIGHUP and SIGINT quit as File ▸ Quit does (settings saved, workers and child
    processes ended), then the event loop ends.

    Python runs a signal handler only when the interpreter gets control, and Qt's event loop may sit
    in C for a long time; so the signal also writes a byte to a socket (``signal.set_wakeup_fd``)
    that a ``QSocketNotifier`` watches, which wakes the loop at once."""

    def __init__(self, app, close):
        from PySide6.QtCore import QSocketNotifier

        self._app = app
        self._close = close
        self._read, self._write = socket.socketpair()
        for s in (self._read, self._write):
            s.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno())
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Read)
        self._notifier.activated.connect(self._drain)
        self._previous = {sig: signal.signal(sig, self._handle) for sig in CLOSING_SIGNALS}

    def _drain(self, *_args) -> None:
        try:
            self._read.recv(256)
        except OSError:
            pass

    def _handle(self, _signum, _frame) -> None:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(0, self._quit)

    def _quit(self) -> None:
        try:
            self._close()
        finally:
            self._app.quit()  # also ends a dialog's own loop, if one is open

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._notifier.setEnabled(False)
        self._read.close()
        self._write.close()


#: how long a thread holding the interpreter lock runs before one waiting for it takes over
SWITCH_INTERVAL_S = 0.0002


def tune_interpreter() -> None:
    """Once the window is up: short waits for the interpreter lock, and the start-up's objects out of
    the collector's reach.

    Worker threads run Python too, and each call from Qt into Python (a painted cell, a slot) waits
    for the lock while one does: a 0.2 ms switch interval (:data:`SWITCH_INTERVAL_S`; Python's default
    is 5 ms, and 1 ms left a scrolled album grid's repaints ~10 ms longer) keeps those waits short.
    Everything made so far (modules, Qt wrappers, the window) lives as long as the app:
    ``gc.freeze()`` moves it to the permanent generation, so a full collection no longer walks it (each
    one was a stall the window never needs); freed objects are still freed by reference counting. The
    library table's rows are plain tuples, which the collector stops tracking after its first pass
    (:func:`player.ui.library_rows._row_from_db`). The collector then runs only on the GUI thread
    (:class:`GuiThreadCollector`)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.collect()
    gc.freeze()
    GuiThreadCollector.start()


class GuiThreadCollector:
    """The cycle collector, run from a timer on the GUI thread instead of in whichever thread happens to
    allocate. A collection in a pool thread freed a Qt connection's Python slot, whose clean-up
    disconnected it: Qt took the sender's connection lock and then waited for the interpreter lock,
    which the GUI thread held while it waited for that same Qt lock to connect a signal -- the window
    froze for good. Young generations are collected when Python would have (its thresholds, checked
    every :data:`INTERVAL_MS`); the oldest only every :data:`FULL_EVERY_S`, as nearly everything in it
    is the library's, long-lived."""

    INTERVAL_MS = 250
    FULL_EVERY_S = 600.0
    _timer = None
    _last_full = 0.0

    @classmethod
    def start(cls) -> None:
        import time

        from PySide6.QtCore import QTimer

        gc.disable()
        if cls._timer is None:
            cls._timer = QTimer()
            cls._timer.setInterval(cls.INTERVAL_MS)
            cls._timer.timeout.connect(cls.collect)
            cls._last_full = time.monotonic()
        cls._timer.start()

    @classmethod
    def collect(cls) -> None:
        import time

        count, threshold = gc.get_count(), gc.get_threshold()
        if time.monotonic() - cls._last_full >= cls.FULL_EVERY_S:
            cls._last_full = time.monotonic()
            gc.collect(2)
        elif count[0] >= threshold[0]:
            gc.collect(1 if count[1] >= threshold[1] else 0)


def _cannot_start(what: str, exc: Exception) -> int:
    """One line on stderr; started from a desktop menu nobody reads stderr: said in a window too."""
    print(f"error: {exc}", file=sys.stderr)
    if os.environ.get("QT_QPA_PLATFORM", "") != "offscreen":
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, "Tastebuds", f"{what}:\n\n{exc}")
    return 2


def run(db_path: str | os.PathLike, argv: list[str] | None = None) -> int:
    keep_writes_in_player_folders()
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication

    from player import APP_NAME
    from player.errors import PlayerError
    from player.library import Library
    from player.options import AUDIO_BACKEND
    from player.ui.icons import app_icon
    from player.ui.main_window import MainWindow
    from player.ui.settings import Settings
    from player.ui.style import apply_style

    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName("player")
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationDisplayName("Tastebuds")
    app.setDesktopFileName("tastebuds")  # the desktop entry: its icon and name in docks and task lists
    app.setWindowIcon(app_icon())
    app.setAttribute(Qt.AA_DontShowIconsInMenus, False)
    apply_style(app)
    sys.setswitchinterval(SWITCH_INTERVAL_S)  # as soon as workers may start (see tune_interpreter)
    try:
        settings = Settings()
        backend = settings[AUDIO_BACKEND]
    except PlayerError as exc:
        return _cannot_start("The player cannot start", exc)
    try:
        library = Library(Path(db_path))
    except (PlayerError, OSError) as exc:
        return _cannot_start("The music library cannot be opened", exc)
    ref: list = []
    previous_hook = _install_excepthook(ref)
    signals = None
    try:
        window = MainWindow(library, settings=settings, audio_backend=backend)
        ref.append(window)
        signals = CloseOnSignal(app, window.actions.quit.trigger)  # as File ▸ Quit (not to the tray)
        window.show()
        tune_interpreter()
        return int(app.exec())
    finally:
        if signals is not None:
            signals.restore()
        sys.excepthook = previous_hook
        library.close()

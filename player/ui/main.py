"""Start the window: ``python -m player [--db PATH]``."""

from __future__ import annotations

import gc
import os
import sys
import traceback
from pathlib import Path


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


def run(db_path: str | os.PathLike, argv: list[str] | None = None) -> int:
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication

    from player import APP_NAME
    from player.library import Library
    from player.ui.icons import app_icon
    from player.ui.main_window import MainWindow
    from player.ui.style import apply_style

    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName("player")
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationDisplayName("Tastebuds")
    app.setWindowIcon(app_icon())
    app.setAttribute(Qt.AA_DontShowIconsInMenus, False)
    apply_style(app)
    # Worker threads run Python too; a short switch interval keeps the GUI thread's waits for the
    # interpreter lock short while an import or a query runs.
    sys.setswitchinterval(0.001)
    from player.library import DatabaseError, LibraryError

    try:
        library = Library(Path(db_path))
    except (DatabaseError, LibraryError, OSError) as exc:
        # Started from a desktop menu nobody reads stderr: say it in a window too.
        print(f"error: {exc}", file=sys.stderr)
        if os.environ.get("QT_QPA_PLATFORM", "") != "offscreen":
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.critical(None, "Tastebuds", f"The music library cannot be opened:\n\n{exc}")
        return 2
    backend = os.environ.get("PLAYER_AUDIO", "auto")
    ref: list = []
    previous_hook = _install_excepthook(ref)
    try:
        window = MainWindow(library, audio_backend=backend)
        ref.append(window)
        window.show()
        # Everything made so far (modules, Qt wrappers, the window) lives as long as the app: moving it
        # out of the collector's reach makes a full collection ~8 ms shorter, a stall the window never
        # needs. Freed objects are still freed by reference counting.
        gc.freeze()
        return int(app.exec())
    finally:
        sys.excepthook = previous_hook
        library.close()

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).parent))

from audiogen import write_audio  # noqa: E402


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "library.db"


@pytest.fixture
def library(db_path):
    from player.library import Library

    lib = Library(db_path)
    yield lib
    lib.close()


@pytest.fixture
def music_dir(tmp_path):
    """A small folder of real, tagged and untagged audio in every format."""
    root = tmp_path / "music"
    write_audio(root / "rock" / "01 - Loud.mp3", freq=220, tags={"title": "Loud", "artist": "The Band", "album": "First", "tracknumber": "1", "date": "1999", "genre": "Rock"})
    write_audio(root / "rock" / "02 - Quiet.ogg", freq=330, tags={"title": "Quiet", "artist": "The Band", "album": "First", "tracknumber": "2"})
    write_audio(root / "jazz" / "Blue.flac", freq=440, channels=2, tags={"title": "Blue", "artist": "Trio", "album": "Night"})
    write_audio(root / "jazz" / "untagged_song.wav", freq=550)
    write_audio(root / "voice.opus", freq=660)
    return root


# -- the window tests (tests/test_ui_*.py) ----------------------------------------------------------
def settle_window(qtbot, window, ms: int = 50) -> None:
    """Let queued signals land (and the window's worker pools drain)."""
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        qtbot.wait(ms)
        if all(p.active == 0 for p in window.pools.all()):
            qtbot.wait(ms)
            if all(p.active == 0 for p in window.pools.all()):
                return
    raise AssertionError("worker pools did not go idle")


def make_window(library, tmp_path: Path, *, synchronous: bool = True, mood_source=None, audio_backend: str = "null"):
    """A MainWindow on ``library`` whose settings live in ``tmp_path/settings.ini`` (not shown)."""
    from PySide6.QtWidgets import QApplication

    from player.options import GEOMETRY
    from player.ui.main_window import MainWindow
    from player.ui.settings import Settings
    from player.ui.style import apply_style

    apply_style(QApplication.instance())
    settings = Settings.at(tmp_path / "settings.ini")
    restored = bool(settings[GEOMETRY])
    w = MainWindow(library, settings=settings, synchronous=synchronous, audio_backend=audio_backend,
                   mood_source=mood_source)
    if not restored:
        w.resize(1360, 820)
    return w


@pytest.fixture
def settle(qtbot):
    """``settle(window, ms=50)``: wait until the window's signals landed and its pools are idle."""
    return lambda window, ms=50: settle_window(qtbot, window, ms)


@pytest.fixture
def open_window(qtbot, library, tmp_path, settle):
    """``open_window(synchronous=True, audio_backend="null", mood_source=None)``: a shown, settled
    window on the test's library (settings in ``tmp_path/settings.ini``); closed after the test."""
    opened = []

    def open_(**kw):
        w = make_window(library, tmp_path, **kw)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        settle(w)
        opened.append(w)
        return w

    yield open_
    for w in opened:
        if w.isVisible():
            w.close()


@pytest.fixture
def import_music(qtbot, settle):
    """``import_music(window, folder)``: import through the window, wait for it; the ScanReport."""

    def import_(window, folder):
        with qtbot.waitSignal(window.imports.finished, timeout=30000) as blocker:
            window.imports.import_folders([str(folder)])
        settle(window)
        return blocker.args[0]

    return import_


@pytest.fixture
def playing_window(open_window, import_music, tmp_path, settle):
    """A window on the tagged library (3 s songs) with the null audio backend on a manual clock, and
    a listener, alice."""
    from uimusic import make_music

    make_music(tmp_path / "music", seconds=3.0, broken=False)
    w = open_window(audio_backend="null-manual")
    import_music(w, tmp_path / "music")
    w.listeners.add("alice")
    settle(w)
    assert w.playback.available, w.playback.reason
    return w


@pytest.fixture
def tagged_music(tmp_path):
    """``tagged_music(**kw)``: the window tests' small tagged library (tests/uimusic.py) in
    ``tmp_path/music``; its folder."""
    from uimusic import make_music

    def make(**kw):
        make_music(tmp_path / "music", **kw)
        return tmp_path / "music"

    return make


@pytest.fixture
def fake_models(tmp_path, monkeypatch):
    """``PLAYER_MODELS_DIR`` → a models folder holding only label names (stored probabilities get names)."""
    from uimusic import write_fake_models

    root = write_fake_models(tmp_path / "models")
    monkeypatch.setenv("PLAYER_MODELS_DIR", str(root))
    return root


@pytest.fixture
def shoot():
    """``shoot(widget, name, keep_notices=False)``: render the widget; saved as ``NAME.png`` only when
    ``PLAYER_SCREENSHOTS`` names a folder (e.g. ``PLAYER_SCREENSHOTS=docs/screenshots``). Notices are
    cleared first unless ``keep_notices``: they fade by themselves in use, the pictures are about the window."""
    from PySide6.QtWidgets import QApplication

    from player.ui.main_window import MainWindow

    folder = os.environ.get("PLAYER_SCREENSHOTS", "").strip()

    def shoot_(widget, name: str, *, keep_notices: bool = False):
        if isinstance(widget, MainWindow) and not keep_notices:
            widget.notices.clear()
            widget.statusBar().clearMessage()
        QApplication.processEvents()
        image = widget.grab()
        assert not image.isNull()
        if not folder:
            return None
        path = Path(folder) / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(str(path))
        return path

    return shoot_

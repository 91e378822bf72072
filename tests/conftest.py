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

"""Where the player writes: its data, config and cache folders (moved by PLAYER_DATA_DIR), and nothing
anywhere else, not even by the libraries it uses (real `analyse` and `mood` runs with a fresh HOME)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from audiogen import write_audio

from player import paths

ROOT = Path(__file__).resolve().parent.parent
FACE = Path("/usr/share/doc/opencv-doc/opencv4/html/face_swapped.jpg")


def test_folders_follow_player_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.delenv("PLAYER_DB", raising=False)
    assert paths.data_dir() == tmp_path / "d"
    assert paths.config_dir() == tmp_path / "d" / "config" and paths.config_dir().is_dir()
    assert paths.cache_dir() == tmp_path / "d" / "cache" and paths.cache_dir().is_dir()
    assert paths.default_db_path() == tmp_path / "d" / "library.db"


def test_library_files_are_redirected_to_the_cache_and_the_users_choice_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "d"))
    for name in ("KERAS_HOME", "MPLCONFIGDIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(paths, "_REDIRECTED", {})
    paths.redirect_library_files()
    assert os.environ["KERAS_HOME"] == str(tmp_path / "d" / "cache" / "keras")
    assert os.environ["MPLCONFIGDIR"] == str(tmp_path / "d" / "cache" / "matplotlib")
    assert os.environ["XDG_CACHE_HOME"] == str(tmp_path / "d" / "cache" / "xdg")
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "e"))  # a later call follows a moved folder
    paths.redirect_library_files()
    assert os.environ["KERAS_HOME"] == str(tmp_path / "e" / "cache" / "keras")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "mine"))
    paths.redirect_library_files()
    assert os.environ["KERAS_HOME"] == str(tmp_path / "mine")


def test_an_unusable_data_folder_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    env = dict(os.environ, PYTHONPATH=str(ROOT), PLAYER_DATA_DIR=str(tmp_path / "file" / "data"))
    env.pop("PLAYER_DB", None)
    proc = subprocess.run([sys.executable, "-m", "player", "tracks"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and "cannot create the player's data folder" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.slow
@pytest.mark.skipif(not FACE.exists(), reason="the face photograph comes from Debian's opencv-doc package")
def test_analyse_and_mood_write_nothing_outside_the_data_folder(tmp_path):
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    write_audio(tmp_path / "music" / "a.wav", seconds=3.0)
    env = {k: v for k, v in os.environ.items()
           if k not in ("KERAS_HOME", "MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "PLAYER_DB")}
    env.update(HOME=str(home), PLAYER_DATA_DIR=str(data), PYTHONPATH=str(ROOT))
    for args in (["scan", str(tmp_path / "music")], ["analyse"], ["mood", "--once", "--image", str(FACE)]):
        proc = subprocess.run([sys.executable, "-m", "player", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    assert files_under(home) == []
    written = files_under(data)
    assert "cache/keras/keras.json" in written  # Keras did write its file: into the player's cache

"""`python -m player install-desktop` into a temporary XDG data folder, and --uninstall."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dbus_session import need
from player.commands.desktop import exec_arg, exec_line
from player.paths import assets_dir, repo_root


def player(*args, env=None):
    full = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "player", *args], capture_output=True, text=True, env=full,
                          cwd=repo_root())


def test_install_and_uninstall(tmp_path):
    home = tmp_path / "data"
    out = player("install-desktop", env={"XDG_DATA_HOME": str(home)})
    assert out.returncode == 0, out.stderr
    wrote = [line.split(" ", 1)[1] for line in out.stdout.splitlines() if line.startswith("wrote ")]
    entry = home / "applications" / "tastebuds.desktop"
    expected = {entry, home / "icons/hicolor/scalable/apps/tastebuds.svg",
                home / "metainfo/io.github.tastebuds.metainfo.xml",
                *(home / f"icons/hicolor/{n}x{n}/apps/tastebuds.png" for n in (16, 22, 24, 32, 48, 64, 128, 256, 512))}
    assert set(map(Path, wrote)) == expected
    assert all(p.is_file() for p in expected)
    assert (home / "icons/hicolor/48x48/apps/tastebuds.png").read_bytes() == \
        (assets_dir() / "hicolor/48x48/apps/tastebuds.png").read_bytes()

    text = entry.read_text()
    assert f"Exec={exec_line(sys.executable)}\n" in text
    assert f"Path={repo_root()}\n" in text  # run from this checkout
    assert "Icon=tastebuds\n" in text
    need("desktop-file-validate")
    check = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout

    again = player("install-desktop", env={"XDG_DATA_HOME": str(home)})  # idempotent
    assert again.returncode == 0 and entry.read_text() == text

    gone = player("install-desktop", "--uninstall", env={"XDG_DATA_HOME": str(home)})
    assert gone.returncode == 0
    assert {Path(line.split(" ", 1)[1]) for line in gone.stdout.splitlines()} == expected
    assert not any(p.exists() for p in expected)
    nothing = player("install-desktop", "--uninstall", env={"XDG_DATA_HOME": str(home)})
    assert nothing.returncode == 0 and "nothing to remove" in nothing.stdout


def test_relative_xdg_data_home_is_ignored_and_missing_assets_are_one_line(tmp_path):
    out = player("install-desktop", env={"XDG_DATA_HOME": "relative/share", "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert (tmp_path / ".local/share/applications/tastebuds.desktop").is_file()

    empty = tmp_path / "no-assets"
    empty.mkdir()
    bad = player("install-desktop", env={"XDG_DATA_HOME": str(tmp_path / "x"), "PLAYER_ASSETS_DIR": str(empty)})
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("error: the player's desktop files are missing")
    assert not (tmp_path / "x").exists()  # nothing half-written


def test_exec_quoting():
    assert exec_arg("/usr/bin/python3") == "/usr/bin/python3"
    assert exec_arg("/opt/my apps/python") == '"/opt/my apps/python"'
    assert exec_arg('/a/$HOME/"x"') == '"/a/\\$HOME/\\"x\\""'
    assert exec_arg("/a/100%/py") == "/a/100%%/py"
    # In the file the string value escapes each backslash once more.
    assert exec_line("/opt/$x/python") == '"/opt/\\\\$x/python" -m player'

"""assets/: the SVG glyphs the window uses, the application icon, the desktop entry and AppStream file,
and that an installed (wheel) player finds them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QSize
from PySide6.QtGui import QColor, QImage
from PySide6.QtSvg import QSvgRenderer

from dbus_session import need
from player.paths import assets_dir, repo_root
from player.ui import icons

ASSETS = assets_dir()
GLYPHS = sorted(p.stem for p in (ASSETS / "icons").glob("*.svg"))


def painted(image: QImage) -> list[QColor]:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    return [image.pixelColor(x, y) for y in range(image.height()) for x in range(image.width())
            if image.pixelColor(x, y).alpha() == 255]


def test_assets_are_found_in_the_checkout():
    assert ASSETS == repo_root() / "assets"
    assert {"play", "pause", "next", "prev", "shuffle", "repeat", "repeat1", "playing", "camera", "sparkle",
            "star", "note", "speaker-1", "speaker-2", "speaker-3", "speaker-muted"} <= set(GLYPHS)


@pytest.mark.parametrize("name", GLYPHS)
def test_every_glyph_renders_in_the_colour_asked_for(qtbot, name):
    assert QSvgRenderer(QByteArray((ASSETS / "icons" / f"{name}.svg").read_bytes().replace(
        b"currentColor", b"black"))).isValid()
    for color in (QColor(20, 200, 40), QColor(240, 240, 250)):  # a dark style's light ink too
        pm = icons.svg_pixmap(name, 24, color, scale=2)
        assert (pm.width(), pm.height(), pm.devicePixelRatio()) == (48, 48, 2.0)
        solid = painted(pm.toImage())
        assert len(solid) > 40, "the glyph paints almost nothing"
        tinted = [c for c in solid if (c.red(), c.green(), c.blue()) == (color.red(), color.green(), color.blue())]
        assert len(tinted) > len(solid) / 2, "currentColor did not take the colour"


def test_public_icon_functions_still_work(qtbot):
    for icon in (icons.transport_icon("play"), icons.transport_icon("repeat1", 18, QColor("red")),
                 icons.playing_icon(), icons.speaker_icon(18, muted=True), icons.speaker_icon(18, level=0.5),
                 icons.camera_icon(), icons.sparkle_icon(), icons.star_icon(filled=False), icons.app_icon(),
                 icons.dot_icon(QColor("blue")), icons.text_icon("A")):
        assert not icon.isNull()
    # 1x and 2x renderings for high-DPI screens.
    hidpi = icons.transport_icon("next", 20).pixmap(QSize(20, 20), 2.0)
    assert (hidpi.width(), hidpi.devicePixelRatio()) == (40, 2.0)
    star_on = painted(icons.star_icon(16, True).pixmap(16, 16).toImage())
    assert star_on and all(c.name() == icons.STAR_ON.name() for c in star_on)
    # Levels pick different glyphs: one wave paints less than three.
    quiet = len(painted(icons.speaker_icon(18, level=0.2).pixmap(18, 18).toImage()))
    loud = len(painted(icons.speaker_icon(18, level=1.0).pixmap(18, 18).toImage()))
    assert loud > quiet
    cover = icons.cover_pixmap("Night", 64).toImage()
    assert cover.pixelColor(32, 32).alpha() == 255
    assert cover.pixelColor(25, 42).lightness() > 200  # the note's head, white over the gradient


def test_app_icon_pngs_match_the_svg(qtbot):
    for size in icons.APP_ICON_SIZES:
        png = QImage(str(ASSETS / "hicolor" / f"{size}x{size}" / "apps" / "tastebuds.png"))
        assert (png.width(), png.height()) == (size, size)
    sys.path.insert(0, str(repo_root() / "scripts"))
    try:
        import make_icons
    finally:
        sys.path.pop(0)
    assert make_icons.main(["--check"]) == 0, "assets/tastebuds.svg changed: run scripts/make_icons.py"
    assert QSvgRenderer(str(ASSETS / "tastebuds.svg")).isValid()
    sizes = {s.width() for s in icons.app_icon().availableSizes()}
    assert sizes == set(icons.APP_ICON_SIZES)


def test_desktop_entry_is_valid():
    need("desktop-file-validate")
    out = subprocess.run(["desktop-file-validate", str(ASSETS / "tastebuds.desktop")], capture_output=True,
                         text=True)
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout


def test_appstream_metainfo_is_valid():
    need("appstreamcli")
    out = subprocess.run(["appstreamcli", "validate", "--no-net", str(ASSETS / "io.github.tastebuds.metainfo.xml")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_wheel_install_finds_its_assets(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(repo_root() / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(repo_root() / "player", src / "player", ignore=ignore)
    shutil.copytree(repo_root() / "assets", src / "assets", ignore=ignore)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "dist"), str(src)], check=True, capture_output=True, cwd=src)
    wheel = next((tmp_path / "dist").glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n.split("/share/tastebuds/assets/", 1)[1] for n in names if "/share/tastebuds/assets/" in n}
    in_tree = {str(p.relative_to(ASSETS)) for p in ASSETS.rglob("*") if p.is_file()}
    assert shipped == in_tree, "pyproject.toml's data-files do not list every file of assets/"

    prefix = tmp_path / "prefix"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-warn-script-location",
                    "--prefix", str(prefix), str(wheel)], check=True, capture_output=True)
    site = next(prefix.glob("lib/python*/site-packages"))
    found = subprocess.run([sys.executable, "-c", "from player.paths import assets_dir; print(assets_dir())"],
                           capture_output=True, text=True, cwd=tmp_path, check=True,
                           env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}).stdout.strip()
    assert Path(found) == prefix / "share" / "tastebuds" / "assets"
    assert (Path(found) / "icons" / "play.svg").is_file()

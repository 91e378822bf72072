"""Render the application icon's PNGs from its SVG (Qt's QSvgRenderer), for the hicolor icon theme.

    python scripts/make_icons.py [--check]

Writes ``assets/hicolor/<N>x<N>/apps/tastebuds.png`` for every size in
``player.ui.icons.APP_ICON_SIZES`` from ``assets/tastebuds.svg``. ``--check`` writes nothing and exits
1 when a committed PNG differs from a fresh rendering (after the SVG changed).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def render(svg: Path, size: int):
    """The SVG at ``size`` x ``size`` as a ``QImage`` (ARGB32, transparent outside the shape)."""
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"error: {svg} is not a readable SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def png_path(assets: Path, size: int) -> Path:
    return assets / "hicolor" / f"{size}x{size}" / "apps" / "tastebuds.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the committed PNGs")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication, QImage

    from player.paths import assets_dir
    from player.ui.icons import APP_ICON_SIZES

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - QImage's text needs it
    assets = assets_dir()
    svg = assets / "tastebuds.svg"
    stale = []
    for size in APP_ICON_SIZES:
        image = render(svg, size)
        out = png_path(assets, size)
        if args.check:
            old = QImage(str(out)).convertToFormat(QImage.Format.Format_ARGB32)
            if old.isNull() or old != image:
                stale.append(str(out))
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(out), "PNG"):
            raise SystemExit(f"error: cannot write {out}")
        print(f"wrote {out}")
    if stale:
        print("out of date (run scripts/make_icons.py):\n  " + "\n  ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

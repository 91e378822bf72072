"""The window's glyphs (player/ui/icons.py): rendered from the SVGs once, each caller with its own copy."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_a_glyph_is_rendered_once_and_a_copy_painted_on_leaves_the_others(qtbot):
    from PySide6.QtGui import QColor, QPainter

    from player.ui import icons

    icons._rendered_svg.cache_clear()
    a = icons.svg_pixmap("play", 20, QColor(10, 20, 30))
    b = icons.svg_pixmap("play", 20, QColor(10, 20, 30))
    info = icons._rendered_svg.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert a.toImage() == b.toImage() and not a.toImage().isNull()
    assert icons.svg_pixmap("play", 20, QColor(200, 20, 30)).toImage() != a.toImage()  # the colour counts
    p = QPainter(a)
    p.fillRect(0, 0, 20, 20, QColor(255, 0, 0))
    p.end()
    assert a.toImage() != b.toImage()
    assert icons.svg_pixmap("play", 20, QColor(10, 20, 30)).toImage() == b.toImage()

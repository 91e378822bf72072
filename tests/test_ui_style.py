"""The look (player/ui/style.py): the header keeps room for its sort arrow, and shuffle/repeat
show clearly when they are on."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from player.ui.library_rows import COL
from player.ui.style import HEADER_ARROW_ROOM

pytestmark = pytest.mark.gui


def test_the_sort_arrow_has_room_beside_the_header_text(open_window, import_music, tagged_music, settle):
    w = open_window()
    import_music(w, tagged_music(broken=False))
    header = w.view.horizontalHeader()
    w.view.sortByColumn(COL["title"], Qt.AscendingOrder)
    settle(w)
    col = COL["title"]
    text = w.model.headerData(col, Qt.Horizontal)
    fm = header.fontMetrics()
    assert header.sectionSizeHint(col) >= fm.horizontalAdvance(text) + HEADER_ARROW_ROOM
    assert header.sectionSize(col) >= fm.horizontalAdvance(text) + HEADER_ARROW_ROOM


def test_shuffle_and_repeat_look_different_when_on(open_window, settle):
    w = open_window()
    bar = w.now_playing
    for button, turn_on in ((bar.shuffle, lambda: bar.set_shuffle(True)), (bar.repeat, lambda: bar.set_repeat("all"))):
        off = button.grab().toImage()
        turn_on()
        settle(w)
        on = button.grab().toImage()
        assert button.isChecked()
        # the frame of the button (away from the glyph) changes: the "on" state is a filled, outlined pill
        edge = (2, on.height() // 2)
        assert off.pixelColor(*edge) != on.pixelColor(*edge)
        c = on.pixelColor(*edge)
        assert c.blue() > c.red() + 10  # the accent's blue

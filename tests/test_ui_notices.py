"""Notices (player/ui/notices.py): they float over the window, so the table never jumps."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_a_notice_appearing_or_going_does_not_move_the_table(qtbot, open_window, import_music, tagged_music,
                                                               settle):
    w = open_window()
    import_music(w, tagged_music(broken=False))
    w.notices.clear()
    settle(w)
    view = w.view

    def row_y() -> int:
        return view.viewport().mapToGlobal(view.visualRect(w.model.index(2, 0)).topLeft()).y()

    before = row_y()
    notice = w.notices.show_notice("Something to say, at some length, that may wrap onto a second line.", "info")
    settle(w)
    assert w.notices.isVisible() and notice.isVisible()
    assert row_y() == before
    # it sits over the bottom of the middle of the window, inside it
    area = w.notices.geometry()
    assert w.splitter.geometry().contains(area)
    assert area.bottom() > w.splitter.geometry().center().y()
    notice.dismiss()
    settle(w)
    assert row_y() == before and not w.notices.isVisible()

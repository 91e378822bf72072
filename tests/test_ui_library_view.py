"""The library table (player/ui/library_view.py): sorting keeps the row the listener is on in place."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from audiogen import write_audio
from player.ui.library_rows import COL

pytestmark = pytest.mark.gui


@pytest.fixture
def many(tmp_path):
    root = tmp_path / "many"
    for k in range(90):
        write_audio(root / f"{k:03d}.wav", seconds=0.05, sr=8000,
                    tags={"title": f"Song {(k * 37) % 90:03d}", "artist": f"Artist {k % 7}", "album": "Big"})
    return root


def test_sorting_keeps_the_current_row_where_it_was_on_screen(qtbot, open_window, import_music, many, settle):
    w = open_window()
    import_music(w, many)
    view, m = w.view, w.model
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum() // 2)
    settle(w)
    row = view.indexAt(view.viewport().rect().center()).row()
    tid = m.track_id_at(row)
    view.selectRow(row)
    view.setCurrentIndex(m.index(row, 0))

    def y_of(track_id) -> int:
        return view.visualRect(m.index(m.row_of(track_id), 0)).y()

    before = y_of(tid)
    for col, order in ((COL["title"], Qt.DescendingOrder), (COL["artist"], Qt.AscendingOrder)):
        view.sortByColumn(col, order)
        settle(w)
        assert m.row_of(tid) != row or col != COL["title"]  # it did move in the list
        assert abs(y_of(tid) - before) < view.rowHeight(m.row_of(tid))
        assert view.selected_track_ids() == [tid]


def test_a_1mb_title_reaches_the_view_cut_and_search_finds_it(qtbot, open_window, library, settle):
    """The table is handed a few hundred characters of a 1 MB title (in one call per cell: Qt's
    multiData), and a search by the title's last word still finds the song."""
    import time

    from PySide6.QtCore import QModelRoleData, QModelRoleDataSpan

    from player.ui.library_rows import SHOWN_CHARS

    now = time.time()
    with library.db.transaction() as c:
        c.execute("INSERT INTO tracks(path_raw, path, title, artist, album, duration, format, size, mtime, added_at, "
                  "updated_at, status) VALUES (?, ?, ?, 'A', 'B', 200.0, 'flac', 1, ?, ?, ?, 'ok')",
                  (b"/music/big.flac", "/music/big.flac", "lorem ipsum " * 90_000 + "zanzibarquux", now, now, now))
    w = open_window()
    settle(w)
    w.browse.set_search("zanzibarquux")
    settle(w)
    assert w.model.rowCount() == 1
    ix = w.model.index(0, COL["title"])
    title = w.model.data(ix, Qt.DisplayRole)
    assert len(title) == SHOWN_CHARS and title.startswith("lorem ipsum") and title.endswith("…")
    roles = [QModelRoleData(int(r.value)) for r in (Qt.DisplayRole, Qt.ToolTipRole)]
    try:
        w.model.multiData(ix, QModelRoleDataSpan(roles))
    except TypeError:  # a PySide without the span's constructor: Qt's own call is exercised by painting
        pass
    else:
        assert roles[0].data() == title and roles[1].data() == "/music/big.flac"
    w.view.viewport().repaint()  # painted through multiData without an error



def _assert_header_fits(hh, col: int) -> None:
    """The title of header section ``col`` shows whole at its width, and the sort arrow beside it."""
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QFont, QFontMetrics
    from PySide6.QtWidgets import QStyle, QStyleOptionHeader

    title = hh.model().headerData(col, Qt.Orientation.Horizontal)
    assert title
    # the section as the style lays it out: the title's room and the sort arrow's place
    opt = QStyleOptionHeader()
    hh.initStyleOption(opt)
    opt.section, opt.text = col, title
    opt.rect = QRect(0, 0, hh.sectionSize(col), hh.height())
    opt.sortIndicator = QStyleOptionHeader.SortIndicator.SortUp
    label = hh.style().subElementRect(QStyle.SubElement.SE_HeaderLabel, opt, hh)
    arrow = hh.style().subElementRect(QStyle.SubElement.SE_HeaderArrow, opt, hh)
    # the title in the header's font, bold (the style sheet's weight is 600)
    bold = QFont(hh.font())
    bold.setBold(True)
    fm = QFontMetrics(bold)
    assert fm.elidedText(title, Qt.ElideRight, label.width()) == title, (title, label, hh.sectionSize(col))
    assert arrow.isValid() and arrow.left() >= label.left() + fm.horizontalAdvance(title), (title, label, arrow)


def test_the_time_and_rating_headers_fit_their_title_and_sort_arrow(qtbot, open_window, import_music, many, settle):
    """At the default widths the Time and Rating titles are not clipped, with the sort arrow shown; nor
    are the titles of columns the header's menu adds."""
    from player.ui.library_rows import EXTRA_COL, STARS_COL

    w = open_window()
    import_music(w, many)
    view, m = w.view, w.model
    hh = view.horizontalHeader()
    assert view.auto_fit and hh.isSortIndicatorShown()
    for col in (COL["duration"], STARS_COL):
        view.sortByColumn(col, Qt.AscendingOrder)
        settle(w)
        _assert_header_fits(hh, col)
    # the other columns still share the rest of the table's width
    assert sum(hh.sectionSize(c) for c in range(m.columnCount()) if not hh.isSectionHidden(c)) \
        <= view.viewport().width()
    w.browse.show_columns(list(EXTRA_COL))
    settle(w)
    for col in EXTRA_COL.values():
        assert not hh.isSectionHidden(col)
        _assert_header_fits(hh, col)

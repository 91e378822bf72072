"""The window's library side: import, ratings by keys and clicks, listeners, search, browse, details."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from test_ui_support import fake_analysis, fake_models_dir, make_music, make_window, settle, shoot

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, library, tmp_path):
    w = make_window(library, tmp_path)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    settle(qtbot, w)
    yield w
    w.close()


def _import(qtbot, w, folder):
    with qtbot.waitSignal(w.importFinished, timeout=30000) as blocker:
        w.import_folders([str(folder)])
    settle(qtbot, w)
    return blocker.args[0]


def _titles(w):
    m = w.model
    return [m.data(m.index(r, 0)) for r in range(m.rowCount())]


def test_import_shows_rows_and_failure_summary(qtbot, window, tmp_path, library):
    make_music(tmp_path / "music")
    shoot(window, "empty")
    report = _import(qtbot, window, tmp_path / "music")
    assert report.added == 14 and len(report.failed) == 1
    # rows appear (the broken file is listed too, marked with its problem)
    assert window.model.total_count() == 15
    titles = _titles(window)
    assert "Neon Avenue" in titles and "Thunderhead" in titles
    # library order: artist, album, track number
    assert titles.index("Neon Avenue") < titles.index("Slow Lights")
    # the summary is readable and names the reason; details list it
    level, text = next(n for n in window.notices.history if n[1].startswith("Import finished"))
    assert level == "warning" and "1 failed" in text and "not really audio.mp3" in text
    window.notices.dismiss_matching("cannot be analysed")  # no models in a bare checkout: not this picture's point
    shoot(window, "import-summary", keep_notices=True)
    dlg = window.show_import_failures()
    assert dlg.table.rowCount() == 1
    assert "not really audio.mp3" in dlg.table.item(0, 0).text()
    reason = dlg.table.item(0, 2).text()
    assert len(reason) > 10 and "Traceback" not in reason
    shoot(dlg, "import-failures")
    dlg.close()
    # the sidebar counts artists
    assert "Artists  (4)" == window.sidebar._top["artist"].text(0)
    assert window.count_label.text() == "15 songs"


def test_import_in_real_threads_keeps_window_responsive(qtbot, library, tmp_path):
    make_music(tmp_path / "music", broken=False)
    w = make_window(library, tmp_path, synchronous=False)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.importFinished, timeout=30000):
        w.import_folders([str(tmp_path / "music")])
        assert w.importing  # returned at once: the scan runs in the scan pool
    qtbot.waitUntil(lambda: w.model.total_count() == 14, timeout=10000)
    qtbot.waitUntil(lambda: not w.import_widget.isVisible(), timeout=5000)
    w.close()


def test_rate_by_keys_and_clicks_saved_for_listener(qtbot, window, tmp_path, library):
    make_music(tmp_path / "music", broken=False)
    _import(qtbot, window, tmp_path / "music")
    # no listener yet: rating asks for one instead of failing
    window.view.setFocus()
    window.view.selectRow(0)
    qtbot.keyClick(window.view, Qt.Key_4)
    assert window.notices.history[-1][0] == "warning" and "listener" in window.notices.history[-1][1]
    window.add_listener("alice")
    settle(qtbot, window)
    alice = library.user("alice")
    assert window.user.id == alice.id
    m = window.model
    ids = [m.track_id_at(r) for r in range(3)]
    # keys: 4 on row 0, 5 on row 1
    window.view.selectRow(0)
    qtbot.keyClick(window.view, Qt.Key_4)
    window.view.selectRow(1)
    qtbot.keyClick(window.view, Qt.Key_5)
    # click: the 2nd star in row 2's rating cell
    from player.ui.library_model import STARS_COL

    rect = window.view.visualRect(m.index(2, STARS_COL))
    x = rect.left() + 4 + 13 + 3 + 6  # inside the second star
    qtbot.mouseClick(window.view.viewport(), Qt.LeftButton, pos=QPoint(x, rect.center().y()))
    settle(qtbot, window)
    assert library.ratings(alice.id) == {ids[0]: 4, ids[1]: 5, ids[2]: 2}
    assert m.data(m.index(1, STARS_COL), Qt.UserRole + 2) == 5
    # 0 clears
    window.view.selectRow(0)
    qtbot.keyClick(window.view, Qt.Key_0)
    settle(qtbot, window)
    assert library.ratings(alice.id) == {ids[1]: 5, ids[2]: 2}
    # clicking the current value again clears it too
    qtbot.mouseClick(window.view.viewport(), Qt.LeftButton, pos=QPoint(x, rect.center().y()))
    settle(qtbot, window)
    assert library.ratings(alice.id) == {ids[1]: 5}
    window.statusBar().clearMessage()
    shoot(window, "library-rated")


def test_listener_switch_shows_their_own_stars(qtbot, window, tmp_path, library):
    make_music(tmp_path / "music", broken=False)
    _import(qtbot, window, tmp_path / "music")
    a = library.add_user("alice")
    b = library.add_user("bob")
    t0 = window.model.track_id_at(0)
    library.rate(a.id, t0, 5)
    library.rate(b.id, t0, 1)
    window.switch_listener("alice")
    settle(qtbot, window)
    assert window.model.stars_of(t0) == 5
    window.switch_listener("bob")
    settle(qtbot, window)
    assert window.model.stars_of(t0) == 1
    assert window.listener_box.currentText() == "bob"
    assert window.settings.listener == "bob"
    # a rating now goes to bob, not alice
    window.rate([t0], 3)
    settle(qtbot, window)
    assert library.rating(b.id, t0) == 3 and library.rating(a.id, t0) == 5
    # an unknown listener is a message, not a crash
    window.switch_listener("nobody")
    assert window.notices.history[-1][0] == "error" and "nobody" in window.notices.history[-1][1]


def test_search_filter_sort_and_browse(qtbot, window, tmp_path, library):
    make_music(tmp_path / "music", broken=False)
    _import(qtbot, window, tmp_path / "music")
    # Ctrl+F focuses the search box
    window.view.setFocus()
    qtbot.keyClick(window, Qt.Key_F, Qt.ControlModifier)
    assert window.search.hasFocus()
    qtbot.keyClicks(window.search, "brass")
    qtbot.waitUntil(lambda: window.model.shown_count() == 4, timeout=3000)
    assert set(_titles(window)) == {"Thunderhead", "Iron Sky", "Breakwater", "Gale"}
    assert window.count_label.text() == "4 of 14 songs"
    # two words must both match (artist + title)
    window.set_search("brass gale")
    settle(qtbot, window)
    assert _titles(window) == ["Gale"]
    window.set_search("no such song anywhere")
    settle(qtbot, window)
    assert window.model.rowCount() == 0 and window.empty_hint.isVisible()
    qtbot.keyClick(window.search, Qt.Key_Escape)
    settle(qtbot, window)
    assert window.model.shown_count() == 14
    # sort by title, descending
    from player.ui.library_model import COL

    window.view.sortByColumn(COL["title"], Qt.DescendingOrder)
    settle(qtbot, window)
    titles = _titles(window)
    assert titles == sorted(titles, key=str.casefold, reverse=True)
    # browse: an album from the sidebar
    window.sidebar.choose(("album", "Paper Boats"))
    settle(qtbot, window)
    assert set(_titles(window)) == {"Harbour", "Low Tide", "Lanterns"}
    window.sidebar.choose(None)
    settle(qtbot, window)
    assert window.model.shown_count() == 14


def test_rating_updates_one_row_without_reset(qtbot, window, tmp_path, library):
    make_music(tmp_path / "music", broken=False)
    _import(qtbot, window, tmp_path / "music")
    window.add_listener("alice")
    settle(qtbot, window)
    resets = []
    changed = []
    window.model.modelReset.connect(lambda: resets.append(1))
    window.model.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row(), a.column(), b.column())))
    window.view.selectRow(5)
    qtbot.keyClick(window.view, Qt.Key_3)
    settle(qtbot, window)
    assert not resets
    from player.ui.library_model import STARS_COL

    assert (5, 5, STARS_COL, STARS_COL) in changed


def test_browse_by_tag_and_details_show_analysis(qtbot, window, tmp_path, library, monkeypatch):
    fake_models_dir(tmp_path, monkeypatch)
    make_music(tmp_path / "music", broken=False)
    _import(qtbot, window, tmp_path / "music")
    fake_analysis(library, seed=3)
    window.model.refresh_labels(delta=False)
    window._refresh_facets()
    settle(qtbot, window)
    m = window.model
    from player.ui.library_model import COL

    tags_cell = m.data(m.index(0, COL["tags"]))
    assert tags_cell and "·" in tags_cell
    label = tags_cell.split(" · ")[0]
    want = {r[0] for r in library.db.query("SELECT track_id FROM track_labels WHERE label = ?", (label,))}
    window.sidebar.choose(("tag", label))
    settle(qtbot, window)
    assert set(window.model.track_ids()) == want
    # the search also finds tags
    window.sidebar.choose(None)
    window.set_search(label)
    settle(qtbot, window)
    assert want <= set(window.model.track_ids())
    window.set_search("")
    settle(qtbot, window)
    # details: tag bars, genre bars and a spectrogram computed in a worker
    tid = window.model.track_id_at(0)
    window.view.selectRow(0)
    d = window.show_details(tid)
    settle(qtbot, window, 100)
    assert len(d.tags.items) >= 4 and d.tags.items[0][1] >= d.tags.items[-1][1]
    assert len(d.genres.items) == 8 and abs(sum(p for _n, p in d.genres.items) - 1.0) < 1e-3
    assert d.spectrogram.has_image()
    d.close()


def test_big_sorts_match_pythons_sorted():
    """The sorts used for big libraries (chunked merge, numpy argsort by rank) give sorted()'s order."""
    import random

    from player.ui.library_model import SORT_CHUNK, order_by_rank, sorted_bounded

    rng = random.Random(3)
    n = 3 * SORT_CHUNK + 17
    rank = list(range(n))
    rng.shuffle(rank)
    idx = rng.sample(range(n), 2 * SORT_CHUNK + 5)
    for descending in (False, True):
        assert order_by_rank(idx, rank, descending) == sorted(idx, key=rank.__getitem__, reverse=descending)
        assert order_by_rank(idx[:50], rank, descending) == sorted(idx[:50], key=rank.__getitem__, reverse=descending)
    keys = [rng.randrange(50) for _ in range(n)]
    assert sorted_bounded(range(n), key=lambda i: (keys[i], i)) == sorted(range(n), key=lambda i: (keys[i], i))


def test_text_rank_orders_like_the_python_key():
    """Genre and tag columns rank with numpy; the order must be the one the Python sort key gives
    (unknown last, ASCII case folded, then the second column, then id)."""
    import random

    from player.ui.library_model import _key_text, text_rank

    rng = random.Random(5)
    words = ["", None, "Rock", "rock", "ROCK", "Électro", "electro", "jazz", "Jazz Fusion", "zeta", "Äb", "a b"]
    n = 5000
    first = [rng.choice(words) for _ in range(n)]
    second = [rng.choice(words) for _ in range(n)]
    ids = rng.sample(range(10 * n), n)
    rank = text_rank([first, second], ids)
    expected = sorted(range(n), key=lambda i: (_key_text(first[i]), _key_text(second[i]), ids[i]))
    assert [i for _, i in sorted(zip(rank, range(n)))] == expected

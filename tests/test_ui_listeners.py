"""Listeners and their stars (player/ui/listeners.py): rating by keys and clicks, one listener's stars
never another's, one changed cell per rating."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from player.options import LISTENER
from player.ui.library_rows import STARS_COL

pytestmark = pytest.mark.gui


@pytest.fixture
def window(open_window, import_music, tagged_music):
    w = open_window()
    import_music(w, tagged_music(broken=False))
    return w


def test_rate_by_keys_and_clicks_saved_for_listener(qtbot, window, library, settle, shoot):
    # no listener yet: rating asks for one instead of failing
    window.view.setFocus()
    window.view.selectRow(0)
    qtbot.keyClick(window.view, Qt.Key_4)
    assert window.notices.history[-1][0] == "warning" and "listener" in window.notices.history[-1][1]
    window.listeners.add("alice")
    settle(window)
    alice = library.user("alice")
    assert window.listeners.user.id == alice.id
    m = window.model
    ids = [m.track_id_at(r) for r in range(3)]
    # keys: 4 on row 0, 5 on row 1
    window.view.selectRow(0)
    qtbot.keyClick(window.view, Qt.Key_4)
    window.view.selectRow(1)
    qtbot.keyClick(window.view, Qt.Key_5)
    # click: the 2nd star in row 2's rating cell
    rect = window.view.visualRect(m.index(2, STARS_COL))
    x = rect.left() + 4 + 13 + 3 + 6  # inside the second star
    qtbot.mouseClick(window.view.viewport(), Qt.LeftButton, pos=QPoint(x, rect.center().y()))
    settle(window)
    assert library.ratings(alice.id) == {ids[0]: 4, ids[1]: 5, ids[2]: 2}
    assert m.data(m.index(1, STARS_COL), Qt.UserRole + 2) == 5
    # 0 clears
    window.view.selectRow(0)
    qtbot.keyClick(window.view, Qt.Key_0)
    settle(window)
    assert library.ratings(alice.id) == {ids[1]: 5, ids[2]: 2}
    # clicking the current value again clears it too
    qtbot.mouseClick(window.view.viewport(), Qt.LeftButton, pos=QPoint(x, rect.center().y()))
    settle(window)
    assert library.ratings(alice.id) == {ids[1]: 5}
    window.statusBar().clearMessage()
    shoot(window, "library-rated")


def test_listener_switch_shows_their_own_stars(window, library, settle):
    a = library.add_user("alice")
    b = library.add_user("bob")
    t0 = window.model.track_id_at(0)
    library.rate(a.id, t0, 5)
    library.rate(b.id, t0, 1)
    window.listeners.switch("alice")
    settle(window)
    assert window.model.stars_of(t0) == 5
    window.listeners.switch("bob")
    settle(window)
    assert window.model.stars_of(t0) == 1
    assert window.listeners.box.currentText() == "bob"
    assert window.settings[LISTENER] == "bob"
    # a rating now goes to bob, not alice
    window.listeners.rate([t0], 3)
    settle(window)
    assert library.rating(b.id, t0) == 3 and library.rating(a.id, t0) == 5
    # an unknown listener is a message, not a crash
    window.listeners.switch("nobody")
    assert window.notices.history[-1][0] == "error" and "nobody" in window.notices.history[-1][1]


def test_rating_updates_one_row_without_reset(qtbot, window, settle):
    window.listeners.add("alice")
    settle(window)
    resets = []
    changed = []
    window.model.modelReset.connect(lambda: resets.append(1))
    window.model.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row(), a.column(), b.column())))
    window.view.selectRow(5)
    qtbot.keyClick(window.view, Qt.Key_3)
    settle(window)
    assert not resets
    assert (5, 5, STARS_COL, STARS_COL) in changed


def test_rename_and_delete_a_listener_from_the_menu(qtbot, window, library, settle, monkeypatch):
    from PySide6.QtWidgets import QInputDialog, QMessageBox

    window.listeners.add("alice")
    window.listeners.add("bob")
    settle(window)
    bob = library.user("bob")
    tid = window.model.track_id_at(0)
    window.listeners.rate([tid], 5)
    settle(window)
    menu = window.menus.listener
    menu.aboutToShow.emit()
    texts = [a.text() for a in menu.actions()]
    assert "&Rename bob…" in texts and "&Delete bob…" in texts

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Robert", True))
    next(a for a in menu.actions() if a.text() == "&Rename bob…").trigger()
    settle(window)
    assert library.user("Robert").id == bob.id
    assert window.listeners.box.currentText() == "Robert"
    assert window.settings[LISTENER] == "Robert"
    assert library.rating(bob.id, tid) == 5  # the stars stay theirs

    asked = []

    def question(_parent, _title, text, *_a):
        asked.append(text)
        return QMessageBox.Cancel

    monkeypatch.setattr(QMessageBox, "question", question)
    menu.aboutToShow.emit()
    next(a for a in menu.actions() if a.text() == "&Delete Robert…").trigger()
    settle(window)
    assert "1 rating and 0 plays" in asked[0]
    assert library.user("Robert")  # cancelled: still there
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.Yes)
    window.listeners.ask_delete("Robert")
    settle(window)
    assert [u.name for u in library.users()] == ["alice"]
    assert window.listeners.user.name == "alice"
    assert window.listeners.box.currentText() == "alice"

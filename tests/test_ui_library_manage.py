"""Remove from library (player/ui/library_manage.py): through the library table's menu, files kept on
disk, ratings kept unless the box is ticked."""

from __future__ import annotations

import os

import pytest
from PySide6.QtWidgets import QMenu, QMessageBox

pytestmark = pytest.mark.gui


@pytest.fixture
def window(open_window, import_music, tagged_music, settle):
    w = open_window()
    import_music(w, tagged_music(broken=False))
    w.listeners.add("alice")
    settle(w)
    return w


@pytest.mark.parametrize("forget", [False, True])
def test_remove_from_library_keeps_files_and_by_default_ratings(qtbot, window, library, settle, monkeypatch,
                                                                forget):
    w = window
    tid = w.model.track_id_at(0)
    path = library.track(tid).path
    w.listeners.rate([tid], 4)
    settle(w)
    w.view.selectRow(0)
    menu = QMenu()
    w.removal.add_to_menu(menu, w.view.selected_track_ids())
    action = next(a for a in menu.actions() if a.text() == "Remove from library…")
    asked = []

    def exec_(box):
        asked.append(box.text())
        box.checkBox().setChecked(forget)
        return QMessageBox.Yes

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    before = w.model.total_count()
    action.trigger()
    settle(w)
    assert "files stay on disk" in asked[0]
    assert library.track(tid) is None
    assert os.path.exists(path)
    assert w.model.row_of(tid) is None and w.model.total_count() == before - 1
    kept = library.db.query("SELECT COUNT(*) FROM removed_ratings")[0][0]
    assert (kept == 0) if forget else (kept == 1)


def test_not_offered_in_up_next_menus(window):
    menu = QMenu()
    window.view.clearSelection()
    window.removal.add_to_menu(menu, [window.model.track_id_at(0)])
    assert not menu.actions()

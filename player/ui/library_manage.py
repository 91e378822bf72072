"""Library ▸ “Remove from library…” in a song's menu: the rows go, the files stay on disk; the
listener's ratings are kept for when the file is imported again, unless they tick the box."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QMessageBox

from player.ui.context import Controller, WindowContext


def removal_question(count: int, title: str | None) -> str:
    what = f"“{title}”" if count == 1 and title else f"{count} songs"
    return (f"Remove {what} from the library? The files stay on disk; a folder rescan leaves "
            f"{'it' if count == 1 else 'them'} out until you import {'it' if count == 1 else 'them'} again.")


class RemoveFromLibrary(Controller):
    removed = Signal(int)  # how many tracks went

    def __init__(self, ctx: WindowContext, view, parent=None):
        super().__init__(ctx, parent)
        self.view = view

    def add_to_menu(self, menu, ids: list[int]) -> None:
        """A ``LibraryMenus.song_entries`` entry: only in the library table's menu."""
        if ids and sorted(ids) == sorted(self.view.selected_track_ids()):
            menu.addAction("Remove from library…", lambda: self.ask(ids))

    def ask(self, ids: list[int]) -> None:
        row = self.ctx.model.track_row(ids[0]) if len(ids) == 1 else None
        box = QMessageBox(QMessageBox.Question, "Remove from library", removal_question(len(ids), row and row.title),
                          QMessageBox.Yes | QMessageBox.Cancel, self.parent())
        box.setDefaultButton(QMessageBox.Cancel)
        forget = QCheckBox("Also forget the ratings of " + ("this song" if len(ids) == 1 else "these songs"))
        box.setCheckBox(forget)
        if box.exec() == QMessageBox.Yes:
            self.remove(ids, keep_ratings=not forget.isChecked())

    def remove(self, ids: list[int], *, keep_ratings: bool = True) -> None:
        def done(n: int) -> None:
            self.ctx.model.drop_tracks(ids)
            self.ctx.recs.library_changed()
            kept = " (their ratings are kept for when they come back)" if keep_ratings else ""
            self.ctx.status(f"{n} song{'s' if n != 1 else ''} removed from the library{kept}", 6000)
            self.removed.emit(n)

        self.ctx.pools.db_write.submit(self.ctx.library.remove_tracks, ids, keep_ratings=keep_ratings,
                                       on_result=done, on_error=lambda e: self.ctx.notify(e.message, "error"))

"""Who is listening (the combo box at the top right, the Listener menu) and their ratings.

Ratings show at once, are saved in the database pool (one thread: they keep their order) and are
undone, with a message, when the write fails.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QInputDialog, QMenu, QMessageBox

from player.errors import LibraryError
from player.options import LISTENER
from player.ui.context import Controller, WindowContext
from player.ui.icons import star_icon, std
from player.ui.workers import WorkerError

ADD_LISTENER = "__add__"


class ListenerController(Controller):
    changed = Signal(object)  # User or None
    ratingSaved = Signal(int, int, int)  # user id, track id, stars
    ratingsChanged = Signal(int)  # user id: a rating of theirs is saved

    def __init__(self, ctx: WindowContext, parent=None):
        super().__init__(ctx, parent)
        self.user = None
        self.box = QComboBox()
        self.box.setObjectName("listener")
        self.box.setToolTip("Who is listening: ratings and recommendations are per listener")
        self.box.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.box.activated.connect(self._activated)

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None

    def reload(self, select: str | None = None) -> None:
        """Fill the box from the library; choose ``select`` (a name), else keep the current listener,
        else the first one."""
        users = self.ctx.library.users()
        box = self.box
        box.blockSignals(True)
        box.clear()
        for u in users:
            box.addItem(star_icon(14), u.name, u.id)
        if users:
            box.insertSeparator(box.count())
        box.addItem(std("FileDialogNewFolder"), "Add listener…", ADD_LISTENER)
        chosen = None
        if select:
            chosen = next((u for u in users if u.name.casefold() == select.casefold()), None)
        if chosen is None and self.user is not None:
            chosen = next((u for u in users if u.id == self.user.id), None)
        if chosen is None and users:
            chosen = users[0]
        if chosen is not None:
            box.setCurrentIndex(box.findData(chosen.id))
        else:
            box.setCurrentIndex(-1)
            box.setPlaceholderText("No listener")
        box.blockSignals(False)
        if (chosen and (self.user is None or chosen.id != self.user.id)) or (chosen is None and self.user is not None):
            self._set_user(chosen)

    def _set_user(self, user) -> None:
        self.user = user
        self.ctx.settings[LISTENER] = user.name if user else ""
        self.changed.emit(user)

    def _activated(self, index: int) -> None:
        data = self.box.itemData(index)
        if data == ADD_LISTENER:
            self.reload()  # put the combo back while the dialog is open
            self.ask_add()
            return
        if data is None:
            return
        if self.user is None or self.user.id != data:
            self.switch(self.box.itemText(index))

    def switch(self, name: str) -> None:
        try:
            user = self.ctx.library.user(name)
        except LibraryError as exc:
            self.ctx.notify(str(exc), "error")
            return
        self.reload(select=user.name)
        if self.user is None or self.user.id != user.id:
            self._set_user(user)
        self.ctx.status(f"Listening as {user.name}", 4000)

    def ask_add(self) -> None:
        name, ok = QInputDialog.getText(self.parent(), "Add listener", "Name of the new listener:")
        if ok and name.strip():
            self.add(name)

    def add(self, name: str) -> None:
        """Add a listener and switch to them (the write runs in the DB pool)."""

        def done(user):
            self.reload(select=user.name)
            self.ctx.notify(f"Welcome, {user.name}! Rate a few songs (keys 1–5) and your Up next will follow your "
                            "taste.", "success")

        self.ctx.pools.db_write.submit(self.ctx.library.add_user, name, on_result=done,
                                       on_error=lambda e: self.ctx.notify(e.message, "error"))

    def fill_menu(self, menu: QMenu, add_action) -> None:
        menu.clear()
        for u in self.ctx.library.users():
            a = menu.addAction(u.name)
            a.setCheckable(True)
            a.setChecked(self.user is not None and self.user.id == u.id)
            a.triggered.connect(lambda _c=False, n=u.name: self.switch(n))
        menu.addSeparator()
        menu.addAction(add_action)
        if self.user is not None:
            name = self.user.name
            menu.addAction(f"&Rename {name}…").triggered.connect(lambda *_: self.ask_rename(name))
            menu.addAction(f"&Delete {name}…").triggered.connect(lambda *_: self.ask_delete(name))

    # -- renaming and deleting -------------------------------------------------------------------
    def ask_rename(self, name: str) -> None:
        new, ok = QInputDialog.getText(self.parent(), "Rename listener", f"New name for {name}:", text=name)
        if ok and new.strip() and new.strip() != name:
            self.rename(name, new)

    def rename(self, old: str, new: str) -> None:
        """Rename a listener (a write in the DB pool); their stars and plays stay theirs."""

        def done(user):
            if self.user is not None and self.user.id == user.id:
                self.user = user
                self.ctx.settings[LISTENER] = user.name
                self.changed.emit(user)
            self.reload(select=self.user.name if self.user else None)
            self.ctx.status(f"{old} is now called {user.name}", 4000)

        self.ctx.pools.db_write.submit(self.ctx.library.rename_user, old, new, on_result=done,
                                       on_error=lambda e: self.ctx.notify(e.message, "error"))

    def delete_question(self, name: str) -> str:
        """What the confirmation says: how many ratings and plays go with the listener."""
        user = self.ctx.library.user(name)
        db = self.ctx.library.db
        ratings, plays = (int(db.query_one(f"SELECT COUNT(*) FROM {t} WHERE user_id = ?", (user.id,))[0])
                          for t in ("ratings", "plays"))

        def n(count, word):
            return f"{count} {word}{'s' if count != 1 else ''}"

        return (f"Delete the listener {user.name}? Their {n(ratings, 'rating')} and {n(plays, 'play')} go with "
                "them; the songs stay in the library.")

    def ask_delete(self, name: str) -> None:
        try:
            question = self.delete_question(name)
        except LibraryError as exc:
            self.ctx.notify(str(exc), "error")
            return
        answer = QMessageBox.question(self.parent(), "Delete listener", question,
                                      QMessageBox.Yes | QMessageBox.Cancel, QMessageBox.Cancel)
        if answer == QMessageBox.Yes:
            self.delete(name)

    def delete(self, name: str) -> None:
        """Delete a listener with their ratings and plays (a write in the DB pool)."""
        was_current = self.user is not None and self.user.name.casefold() == name.casefold()

        def done(counts):
            if was_current:
                self.user = None
                self.ctx.settings[LISTENER] = ""
            self.reload()
            if was_current and self.user is None:
                self.changed.emit(None)
            self.ctx.notify(f"{name} was deleted, with {counts.get('ratings', 0)} ratings and "
                            f"{counts.get('plays', 0)} plays.", "info")

        self.ctx.pools.db_write.submit(self.ctx.library.delete_user, name, on_result=done,
                                       on_error=lambda e: self.ctx.notify(e.message, "error"))

    # -- ratings -------------------------------------------------------------------------------
    def rate(self, track_ids: list[int], stars: int) -> None:
        """Rate tracks for the current listener: shown at once, saved in the DB pool, undone on error."""
        if not track_ids:
            return
        ctx = self.ctx
        if self.user is None:
            ctx.notify("Choose who is listening before rating (a listener keeps their own stars).", "warning",
                       [("Add listener…", self.ask_add)])
            return
        stars = int(stars)
        user_id = self.user.id
        model = ctx.model
        before = {tid: model.stars_of(tid) for tid in track_ids}
        for tid in track_ids:
            model.set_stars_local(tid, stars)

        def job():
            for tid in track_ids:
                ctx.library.rate(user_id, tid, stars)
            return track_ids

        def ok(ids):
            for tid in ids:
                self.ratingSaved.emit(user_id, tid, stars)
            row = model.track_row(ids[0])
            what = f"“{row.title}”" if row and len(ids) == 1 else f"{len(ids)} songs"
            name = self.user.name if self.user else ""
            ctx.status(f"{what}: rating cleared" if stars == 0 else f"{what}: {'★' * stars} for {name}", 4000)
            self.ratingsChanged.emit(user_id)

        def fail(err: WorkerError):
            if self.user is not None and self.user.id == user_id:
                for tid, s in before.items():
                    model.set_stars_local(tid, s)
            ctx.notify(f"The rating was not saved: {err.message}", "error")

        ctx.pools.db_write.submit(job, on_result=ok, on_error=fail)

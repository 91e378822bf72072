"""The mood toggle's wiring: the Mood box, the Mood menu (on/off, policy, camera) and the camera badge
in the status bar, over :class:`MoodController`; the detected mood's labels go to the recommender."""

from __future__ import annotations

import os

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QFileDialog, QLabel, QMenu

from player.options import CAMERA, MOOD_POLICY, MOOD_WEIGHT
from player.ui.context import Controller, WindowContext
from player.ui.panels import MoodBox

POLICIES = (("match", "Music that &matches my mood"), ("cheer_up", "Music to &cheer me up"))
WEIGHT_DEBOUNCE_MS = 250
CAMERAS = 4


class MoodPanelController(Controller):
    def __init__(self, ctx: WindowContext, box: MoodBox, toggle: QAction, badge: QLabel, parent=None):
        super().__init__(ctx, parent)
        self.mood = mood = ctx.mood
        self.recs = recs = ctx.recs
        self.box = box
        self.toggle = toggle
        self.badge = badge
        # a drag of the weight slider sends many values: the recommender gets the last one
        self._weight_timer = QTimer(self)
        self._weight_timer.setSingleShot(True)
        self._weight_timer.setInterval(WEIGHT_DEBOUNCE_MS)
        self._weight_timer.timeout.connect(lambda: recs.set_mood_weight(ctx.settings[MOOD_WEIGHT]))
        weight = ctx.settings[MOOD_WEIGHT]
        box.set_weight(weight)
        recs.set_mood_weight(weight)
        box.weightChanged.connect(self._weight_changed)
        box.toggled.connect(self.set_enabled)
        toggle.toggled.connect(self.set_enabled)
        mood.started.connect(self._started)
        mood.stopped.connect(self._stopped)
        mood.moodChanged.connect(self._changed)
        mood.frame.connect(box.set_frame)
        if not mood.available:
            box.set_unavailable(mood.reason)
            toggle.setEnabled(False)
            toggle.setToolTip(mood.reason)

    def add_policy_actions(self, menu: QMenu) -> dict[str, QAction]:
        """The policy choices, checkable and exclusive, in ``menu``."""
        group = QActionGroup(menu)
        current = self.ctx.settings[MOOD_POLICY]
        out = {}
        for key, title in POLICIES:
            a = menu.addAction(title)
            a.setCheckable(True)
            a.setChecked(current == key)
            a.triggered.connect(lambda _c=False, k=key: self.set_policy(k))
            group.addAction(a)
            out[key] = a
        return out

    def _show_checked(self, on: bool) -> None:
        self.box.set_checked_silently(on)
        self.toggle.blockSignals(True)
        self.toggle.setChecked(on)
        self.toggle.blockSignals(False)

    def set_enabled(self, on: bool) -> None:
        self._show_checked(on)
        if on:
            self.box.set_starting()
            self.mood.start()
        else:
            self.mood.stop()

    def _started(self) -> None:
        self.box.set_camera_on(True)
        self.badge.setVisible(True)

    def _stopped(self, reason: str) -> None:
        self._show_checked(False)
        self.box.set_camera_on(False)
        self.badge.setVisible(False)
        if reason:
            self.ctx.notify(reason, "warning")
        self.recs.set_mood(None)

    def _changed(self, state) -> None:
        text, labels = self.mood.describe(state)
        self.box.set_mood_text(text)
        self.recs.set_mood(labels, state.mood)

    def set_policy(self, policy: str) -> None:
        self.ctx.settings[MOOD_POLICY] = policy
        self.mood.set_policy(policy)

    def _weight_changed(self, w: float) -> None:
        self.ctx.settings[MOOD_WEIGHT] = w
        if self.ctx.pools.synchronous:
            self.recs.set_mood_weight(w)
        else:
            self._weight_timer.start()

    def save(self) -> None:
        self.ctx.settings[MOOD_WEIGHT] = self.box.weight.value() / 50.0

    # -- Mood ▸ Camera -----------------------------------------------------------------------------
    def fill_camera_menu(self, menu: QMenu) -> None:
        menu.clear()
        current = self.ctx.settings[CAMERA]
        for k in range(CAMERAS):
            a = menu.addAction(f"Camera {k}" + ("  (the usual built-in one)" if k == 0 else ""))
            a.setCheckable(True)
            a.setChecked(current == str(k))
            a.triggered.connect(lambda _c=False, k=k: self.choose_camera(str(k)))
        menu.addSeparator()
        a = menu.addAction("A video file instead (demo)…")
        a.triggered.connect(self._choose_camera_file)
        if not current.isdigit():
            a.setText(f"Video file: {os.path.basename(current)}")
            a.setCheckable(True)
            a.setChecked(True)

    def choose_camera(self, spec: str) -> None:
        self.ctx.settings[CAMERA] = spec
        if self.mood.running:
            self.ctx.notify("The new camera is used the next time you switch the mood on.", "info")

    def _choose_camera_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent(), "A video or picture to use as the camera", "",
                                              "Videos and pictures (*.mp4 *.avi *.mkv *.webm *.mov *.jpg *.jpeg *.png)")
        if path:
            self.choose_camera(path)

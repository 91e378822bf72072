"""Drives ``player.mood.MoodMonitor`` for the window: start/stop off the GUI thread, callbacks marshalled.

The monitor's callbacks run in its own thread; they are re-emitted as Qt signals so the GUI only ever
touches widgets on its thread. The preview is polled (``latest_frame_small``) ten times a second while
the camera is on; frames are never stored.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from player.options import CAMERA, MOOD_POLICY
from player.ui.context import Services


def _model_problem() -> str | None:
    """Why the mood cannot be read on this install (the expression model is missing), or None."""
    from player.mood.errors import MoodError
    from player.mood.model import read_model_config  # json and paths only: cheap

    try:
        read_model_config()
    except MoodError as exc:
        return f"the mood camera is unavailable: {exc}"
    return None


class MoodController(QObject):
    started = Signal()
    stopped = Signal(str)  # reason ("" when the listener turned it off)
    moodChanged = Signal(object)  # MoodState
    frame = Signal(object)  # small BGR ndarray
    message = Signal(str, str)
    _state = Signal(object)  # from the monitor's thread

    def __init__(self, ctx: Services, source: str | int | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.pools = ctx.pools
        self.reason = _model_problem()
        self.available = self.reason is None
        self._source = source
        self.monitor = None
        self.last_state = None
        self._on = False
        self._last_mood = object()
        self._state.connect(self._on_state)
        self._preview = QTimer(self)
        self._preview.setInterval(100)
        self._preview.timeout.connect(self._poll_frame)

    @property
    def running(self) -> bool:
        return self._on

    def source_spec(self):
        if self._source is not None:
            return self._source
        spec = self.ctx.settings[CAMERA]
        return int(spec) if str(spec).strip().isdigit() else spec

    def start(self) -> None:
        if not self.available:
            self.message.emit(self.reason, "info")
            self.stopped.emit("")
            return
        if self._on:
            return
        try:
            from player.mood import MoodMonitor

            policy = self.ctx.settings[MOOD_POLICY]
            self.monitor = MoodMonitor(self.source_spec(), on_update=self._state.emit, preview_width=192,
                                       loop=not str(self.source_spec()).isdigit(), policy=policy)
            self.monitor.start()  # opens the camera in its own thread; returns at once
        except Exception as exc:  # noqa: BLE001 - e.g. a bad setting: a message, the toggle goes off
            self.monitor = None
            self.stopped.emit(f"The mood camera could not start: {exc}")
            return
        self._on = True
        self._last_mood = object()
        self.started.emit()  # the indicator shows from the moment the camera may be opened
        self._preview.start()

    def stop(self) -> None:
        """Turn off; the camera is released in a worker (MoodMonitor.stop waits up to 1 s)."""
        mon = self.monitor
        self._preview.stop()
        if not self._on and mon is None:
            self.stopped.emit("")
            return
        self._on = False

        def job():
            released = mon.stop(timeout=1.0) if mon is not None else True
            return released

        def done(released):
            if self.monitor is mon:
                self.monitor = None
            if not released:
                self.message.emit("The camera did not close within a second; it will be released as soon as it "
                                  "answers.", "warning")

        self.stopped.emit("")
        self.pools.media.submit(job, on_result=done, on_error=lambda e: self.message.emit(e.message, "error"))

    def set_policy(self, policy: str) -> None:
        """"match" or "cheer_up": the labels the mood maps to (applies at once while on)."""
        mon = self.monitor
        if mon is not None:
            try:
                mon.policy = policy
            except (ValueError, AttributeError) as exc:
                self.message.emit(f"Mood: {exc}", "warning")

    def shutdown(self) -> None:
        self._preview.stop()
        if self.monitor is not None:
            try:
                self.monitor.stop(timeout=1.0)
            except Exception:  # noqa: BLE001
                pass
            self.monitor = None
        self._on = False

    def _poll_frame(self) -> None:
        mon = self.monitor
        if mon is None:
            return
        f = mon.latest_frame_small
        if f is not None:
            self.frame.emit(f)

    def _on_state(self, state) -> None:
        """A :class:`player.mood.MoodState` from the monitor (queued to the GUI thread)."""
        if self.monitor is None and not self._on:
            return
        self.last_state = state
        if not state.running:
            if self._on:
                self._on = False
                self._preview.stop()
                mon, self.monitor = self.monitor, None
                if mon is not None:
                    self.pools.media.submit(lambda: mon.stop(timeout=1.0), on_error=lambda e: None)
                self.stopped.emit(f"Mood turned off: {state.error}" if state.error else "")
            return
        if state.mood != self._last_mood or state.changed:
            self._last_mood = state.mood
            self.moodChanged.emit(state)
        elif state.message:
            self.moodChanged.emit(state)

    @staticmethod
    def describe(state) -> tuple[str, list[str] | None]:
        """A line for the panel and the labels to give the recommender (None: no mood)."""
        labels = list(state.labels or [])
        if not state.mood:
            msg = state.message or "reading…"
            if msg == "starting":
                msg = "starting the camera…"
            return f"No mood yet ({msg}).", None
        text = f"You look {state.mood} ({(state.confidence or 0.0) * 100:.0f}%)"
        if labels:
            text += f" → more {', '.join(labels[:4])}"
        if not state.face:
            text += "  · no face right now"
        return text, labels or None

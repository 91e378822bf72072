"""MoodMonitor: a background thread that watches a camera (or a file standing in for one) and
reports the smoothed mood.

    monitor = MoodMonitor(0, on_update=callback, window_s=5.0, fps=5, policy="match")
    monitor.start()          # returns at once; the camera is opened in the thread
    ...                      # callback(MoodState) runs in the monitor's thread for every frame
    monitor.stop()           # camera released within 1 s; returns True when it is

Privacy: frames are only ever in memory. The camera is opened by ``start()`` and released by
``stop()`` (or on any error); nothing is written to disk, logged or stored — the state carries the
mood label, probabilities and face boxes only. ``latest_frame_small`` is a downscaled copy of the
latest frame for a live preview, kept in memory and dropped on stop.

Errors (no camera, busy, no permission, black or frozen picture, missing model) end the thread
with a final MoodState whose ``error`` is the message and ``running`` is False, so the GUI can
turn its toggle back off; ``on_error(MoodError)`` is called too when given.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from player.mood.errors import MoodError
from player.mood.smoothing import MoodSmoother, MoodState

log = logging.getLogger("player.mood")


@dataclass(frozen=True)
class MonitorSettings:
    window_s: float = 5.0  # the smoothing window
    fps: float = 5.0  # frames analysed per second (at most)
    hold_s: float = 10.0  # a mood is kept at least this long
    switch_margin: float = 0.15
    min_readings: int = 3
    stall_s: float = 3.0  # no frame for this long: the camera has stalled
    preview_width: int = 160  # the width of latest_frame_small (0: no preview)
    realtime: bool = True  # a file source plays at its own pace (False: as fast as it decodes)
    loop: bool = False  # a file source starts again at its end
    backend: str = "numpy"
    model_folder: object = None

    def __post_init__(self):
        if self.fps <= 0:
            raise ValueError("fps must be > 0")


class MoodMonitor:
    """Keywords besides ``policy`` and ``on_error`` are those of :class:`MonitorSettings`."""

    def __init__(self, source_spec=0, on_update=None, *, policy: str = "match", on_error=None, **settings):
        from player.mood.mapping import normalize_policy

        self.settings = MonitorSettings(**settings)
        self.source_spec = source_spec
        self.on_update = on_update
        self.on_error = on_error
        self._policy = normalize_policy(policy)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._source = None
        self._preview = None
        self._state = MoodState(running=False, message="stopped", policy=self._policy)
        self.frames_read = 0
        self.frames_analyzed = 0

    # -- public ---------------------------------------------------------------------------------

    @property
    def policy(self) -> str:
        return self._policy

    @policy.setter
    def policy(self, value: str) -> None:
        from player.mood.mapping import normalize_policy

        self._policy = normalize_policy(value)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def state(self) -> MoodState:
        with self._lock:
            return self._state

    @property
    def mood(self) -> str | None:
        return self.state.mood

    @property
    def labels(self) -> list[str]:
        return list(self.state.labels)

    @property
    def latest_frame_small(self):
        """A downscaled BGR copy of the latest frame (``preview_width`` px wide) or None; memory only."""
        with self._lock:
            return self._preview

    @property
    def source_open(self) -> bool:
        src = self._source
        return src is not None and src.is_open

    def start(self) -> None:
        """Start watching (no-op when already running). The source is opened in the thread."""
        if self.running:
            if not self._stop.is_set():
                return
            self._thread.join(1.0)  # a previous run that is still finishing
            if self._thread.is_alive():
                raise MoodError("the camera is still being released; try again in a moment", "busy")
        self._stop = stop = threading.Event()  # one per run: an old thread never sees a new run's flag
        with self._lock:
            self._state = MoodState(running=True, message="starting", policy=self._policy)
        self._thread = threading.Thread(target=self._run, args=(stop,), name="mood-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop and release the camera. Returns True when the source is released (within ``timeout``).

        The thread normally ends by itself within a frame; if it is held up (a slow ``on_update``),
        the source is released from here — that is thread-safe, a read in progress finishes first.
        """
        deadline = time.monotonic() + timeout
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(0.0, timeout * 0.8))
        src = self._source
        if src is not None and src.is_open:
            src.release(timeout=max(0.0, deadline - time.monotonic()))
        with self._lock:
            self._preview = None
        return not self.source_open

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end by itself (a file source's end, an error). True when it has."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.running

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- the thread -----------------------------------------------------------------------------

    def _emit(self, state: MoodState) -> None:
        with self._lock:
            self._state = state
        if self.on_update is not None:
            try:
                self.on_update(state)
            except Exception:  # a broken callback must not kill the camera thread silently
                log.exception("mood on_update callback failed")

    def _open(self, stop):
        from player.mood.sources import CameraSource, open_source

        spec = self.source_spec
        if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
            return CameraSource(int(spec), cancel=stop)
        return open_source(spec, loop=self.settings.loop)

    def _run(self, stop: threading.Event) -> None:
        from player.mood.mapping import labels_for
        from player.mood.reading import NO_FACE, MoodAnalyzer
        from player.mood.sources import FrameChecker

        smoother = MoodSmoother(window_s=self.settings.window_s, switch_margin=self.settings.switch_margin,
                                min_readings=self.settings.min_readings, hold_s=self.settings.hold_s)
        final = MoodState(running=False, message="stopped", policy=self._policy)
        error = None
        try:
            analyzer = MoodAnalyzer(policy=self._policy, backend=self.settings.backend, model_folder=self.settings.model_folder,
                                    track=True)
            if stop.is_set():
                return
            self._source = source = self._open(stop)
            if stop.is_set():
                return
            checker = FrameChecker(source.description, stall_s=self.settings.stall_s, check_frozen=source.live)
            period = 1.0 / self.settings.fps
            start = time.monotonic()
            next_tick = start
            last_good = start
            n = 0
            while not stop.is_set():
                frame = source.read()
                now = time.monotonic()
                if frame is None:
                    if not source.live:
                        final.message = "source ended"
                        break
                    if now - last_good > self.settings.stall_s:
                        raise MoodError(f"the {source.description} stopped giving pictures "
                                        "(unplugged, or taken by another program?)", "busy")
                    stop.wait(0.05)
                    continue
                last_good = now
                self.frames_read += 1
                # live sources run on the wall clock; files on a virtual one (frame n at n / fps),
                # so a video gives the same moods however fast it is read
                t = (now - start) if source.live else n * period
                n += 1
                usable = checker.check(frame, t)
                self._keep_preview(frame)
                if usable:
                    reading = analyzer.analyze(frame)
                    self.frames_analyzed += 1
                else:
                    reading = None
                mood, mean, changed = smoother.update(reading.probs if reading and reading.has_face else None, t)
                policy = self._policy
                self._emit(MoodState(
                    mood=mood, labels=labels_for(mood, policy) if mood else [],
                    confidence=mean.get(mood, 0.0) if mood else 0.0, probs=mean,
                    face=bool(reading and reading.has_face), faces=list(reading.faces) if reading else [],
                    frame_size=(frame.shape[1], frame.shape[0]),
                    emotion=reading.emotion if reading else None, changed=changed, running=True,
                    message="" if reading and reading.has_face else (NO_FACE if reading else "black frame"),
                    policy=policy, time=t,
                ))
                if self.settings.realtime or source.live:
                    next_tick += period
                    delay = next_tick - time.monotonic()
                    if delay > 0:
                        stop.wait(delay)
                    else:
                        next_tick = time.monotonic()
        except MoodError as exc:
            if exc.kind != "cancelled":
                error = exc
        except Exception as exc:  # noqa: BLE001 - reported as a state, the player carries on
            log.exception("mood monitor failed")
            error = MoodError(f"mood reading failed: {exc}", "error")
        finally:
            src, self._source = self._source, None
            if src is not None:
                src.release()
            self._source = src  # keep the (released) handle so callers can check source_open
            with self._lock:
                self._preview = None
            if error is not None:
                final.message = str(error)
                final.error = str(error)
                final.error_kind = error.kind
            final.policy = self._policy
            final.changed = self.state.mood is not None
            self._emit(final)
            if error is not None and self.on_error is not None:
                try:
                    self.on_error(error)
                except Exception:
                    log.exception("mood on_error callback failed")

    def _keep_preview(self, frame) -> None:
        if not self.settings.preview_width:
            return
        import cv2

        h, w = frame.shape[:2]
        if w > self.settings.preview_width:
            small = cv2.resize(frame, (self.settings.preview_width, max(1, round(h * self.settings.preview_width / w))),
                               interpolation=cv2.INTER_AREA)
        else:
            small = frame.copy()
        with self._lock:
            self._preview = small

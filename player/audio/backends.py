"""Output backends: the sound card (sounddevice/PortAudio) and a null output for machines without one.

A backend owns the output clock: it calls :meth:`Renderer.render` for each block. Interface::

    backend.samplerate, backend.channels, backend.name, backend.message (why this backend, or None)
    backend.start(renderer)      # begin pulling blocks; may raise AudioUnavailable
    backend.close()

``make_backend("auto")`` gives the sound card when PortAudio and an output device exist, else a
real-time :class:`NullBackend` whose ``message`` says why.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

log = logging.getLogger(__name__)


class AudioUnavailable(RuntimeError):
    """No sound output here (no PortAudio library, no output device, device busy …), in words."""


class Backend:
    name = "backend"
    samplerate = 44100
    channels = 2
    message: str | None = None

    def start(self, renderer) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.samplerate} Hz x{self.channels}>"


class NullBackend(Backend):
    """Consumes the stream without a sound card.

    * ``realtime=True``: one block every blocksize/samplerate seconds, like a sound card (the GUI and
      ``play --audio null`` on a machine without audio).
    * ``realtime=False``: as fast as decoding allows, never underrunning (it waits for data instead of
      inventing silence): tests and ``play --fast``.
    * ``manual=True``: no thread at all; the caller moves the clock with :meth:`advance` (tests).

    ``capture=True`` keeps every produced frame; :meth:`captured` returns them as one array.
    """

    def __init__(self, realtime: bool = True, *, capture: bool = False, manual: bool = False,
                 samplerate: int = 44100, channels: int = 2, blocksize: int | None = None,
                 capture_limit_seconds: float = 900.0, message: str | None = None):
        self.realtime = bool(realtime) and not manual
        self.manual = bool(manual)
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self.blocksize = int(blocksize or (1024 if self.realtime else 4096))
        self.capture = bool(capture)
        self.capture_limit = int(capture_limit_seconds * self.samplerate)
        self.message = message
        self.name = "null (manual)" if self.manual else "null (real time)" if self.realtime else "null (fast)"
        self.frames = 0
        self._blocks: list[np.ndarray] = []
        self._captured = 0
        self._renderer = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def start(self, renderer) -> None:
        self._renderer = renderer
        if self.manual:
            return
        self._thread = threading.Thread(target=self._run, name="audio-null-output", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._renderer is not None:
            self._renderer.wake.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=2)

    # -- capture -----------------------------------------------------------------------------------
    def _keep(self, data: np.ndarray) -> None:
        if self.capture and self._captured < self.capture_limit:
            with self._lock:
                self._blocks.append(data.copy())
                self._captured += len(data)

    def captured(self) -> np.ndarray:
        with self._lock:
            if not self._blocks:
                return np.zeros((0, self.channels), np.float32)
            if len(self._blocks) > 1:
                self._blocks = [np.concatenate(self._blocks)]
            return self._blocks[0].copy()

    def clear_capture(self) -> None:
        with self._lock:
            self._blocks = []
            self._captured = 0

    # -- clocks ------------------------------------------------------------------------------------
    def advance(self, seconds: float | None = None, *, frames: int | None = None, timeout: float = 10.0) -> int:
        """Manual mode: produce ``frames`` (or ``seconds``) of output now, waiting for the decoder as
        needed; stops early when the stream ends or is paused. Returns the frames produced."""
        if not self.manual:
            raise RuntimeError("advance() is for NullBackend(manual=True)")
        rend = self._renderer
        want = int(frames if frames is not None else round(float(seconds) * self.samplerate))
        buf = np.zeros((self.blocksize, self.channels), np.float32)
        done = 0
        deadline = time.monotonic() + timeout
        while done < want:
            view = buf[:min(self.blocksize, want - done)]
            rend.wake.clear()
            n = rend.render(view, fill=False)
            rend.space.set()
            if n:
                self._keep(view[:n])
                done += n
                self.frames += n
                continue
            if rend.idle:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"no audio arrived within {timeout} s")
            rend.wake.wait(0.005)
        return done

    def _run(self) -> None:
        rend = self._renderer
        buf = np.zeros((self.blocksize, self.channels), np.float32)
        period = self.blocksize / self.samplerate
        next_t = time.monotonic()
        try:
            while not self._stop.is_set():
                if self.realtime:
                    n = rend.render(buf, fill=True)
                    rend.space.set()
                    if n:
                        self._keep(buf[:n])
                        self.frames += n
                    next_t += period
                    delay = next_t - time.monotonic()
                    if delay > 0:
                        self._stop.wait(delay)
                    elif delay < -0.5:  # fell far behind (machine suspended, debugger): resync
                        next_t = time.monotonic()
                    continue
                rend.wake.clear()
                n = rend.render(buf, fill=False)
                rend.space.set()
                if n:
                    self._keep(buf[:n])
                    self.frames += n
                if n < len(buf):
                    rend.wake.wait(0.05 if rend.idle else 0.002)
        except Exception:
            log.exception("null output thread failed")


def _import_sounddevice():
    try:
        import sounddevice as sd
    except OSError as exc:
        raise AudioUnavailable(
            f"the PortAudio library is not installed ({exc}); on Debian/Ubuntu: sudo apt install libportaudio2"
        ) from None
    except ImportError:
        raise AudioUnavailable("the Python package 'sounddevice' is not installed") from None
    return sd


class SoundDeviceBackend(Backend):
    """The sound card, through a PortAudio ``OutputStream`` whose callback is :meth:`Renderer.render`."""

    def __init__(self, device=None, *, samplerate: int | None = None, channels: int | None = None,
                 blocksize: int = 0, latency: str | float = "high"):
        sd = _import_sounddevice()
        try:
            info = sd.query_devices(device, kind="output")
        except Exception as exc:  # PortAudioError "Error querying device -1", ValueError for a bad name
            if device is None:
                raise AudioUnavailable("no audio output device was found") from None
            raise AudioUnavailable(f"audio output device {device!r} is not available ({exc})") from None
        max_ch = int(info.get("max_output_channels", 0))
        if max_ch < 1:
            raise AudioUnavailable(f"{info.get('name', 'the device')} has no output channels")
        self.sd = sd
        self.device = device
        self.channels = int(channels or min(2, max_ch))
        self.samplerate = int(samplerate or info.get("default_samplerate") or 48000)
        self.blocksize = int(blocksize)
        self.latency = latency
        self.name = f"sounddevice: {info.get('name', 'default')}"
        self.stream = None
        self.error: str | None = None
        self.underflows = 0
        self._renderer = None
        try:
            sd.check_output_settings(device=device, channels=self.channels, dtype="float32",
                                     samplerate=self.samplerate)
        except Exception as exc:
            raise AudioUnavailable(f"{info.get('name', 'the output device')} refuses "
                                   f"{self.samplerate} Hz float32 x{self.channels}: {exc}") from None

    def start(self, renderer) -> None:
        self._renderer = renderer
        render = renderer.render

        def callback(outdata, frames, time_info, status):  # PortAudio's thread: no locks, no allocation
            if status.output_underflow:
                self.underflows += 1
            try:
                render(outdata, True)
            except BaseException:  # never let an exception abort the stream
                outdata.fill(0.0)
                self.error = "the audio callback failed"

        def finished():
            if self.stream is not None and not getattr(self, "_closing", False):
                self.error = self.error or "the audio device stopped (unplugged or taken by another program?)"

        try:
            self.stream = self.sd.OutputStream(
                samplerate=self.samplerate, channels=self.channels, dtype="float32", device=self.device,
                blocksize=self.blocksize, latency=self.latency, callback=callback, finished_callback=finished,
            )
            self.stream.start()
        except Exception as exc:
            self.stream = None
            raise AudioUnavailable(f"cannot open the audio output: {exc}") from None

    def close(self) -> None:
        self._closing = True
        stream, self.stream = self.stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:
                pass


def make_backend(kind="auto", **options) -> Backend:
    """A backend from a name: "auto", "null" (fast), "null-realtime", "null-manual", "sounddevice".

    "auto" never raises: without PortAudio or an output device it returns a real-time null backend
    whose ``message`` says why. "sounddevice" raises :class:`AudioUnavailable` instead.
    A :class:`Backend` instance is returned as it is.
    """
    if isinstance(kind, Backend):
        return kind
    kind = (kind or "auto").strip().lower()
    if kind == "null":
        return NullBackend(realtime=False, **options)
    if kind in ("null-realtime", "null-rt"):
        return NullBackend(realtime=True, **options)
    if kind == "null-manual":
        return NullBackend(manual=True, **options)
    if kind == "sounddevice":
        return SoundDeviceBackend(**options)
    if kind == "auto":
        try:
            return SoundDeviceBackend(**options)
        except AudioUnavailable as exc:
            return NullBackend(realtime=True, message=f"{exc}: playing silently (null audio output)")
    raise ValueError(f"unknown audio backend {kind!r} (use auto, sounddevice, null or null-realtime)")


__all__ = ["Backend", "NullBackend", "SoundDeviceBackend", "AudioUnavailable", "make_backend"]

"""Frame sources: a camera (OpenCV ``VideoCapture``), or, for tests and demos, an image, a folder of
images or a video file that stands in for the camera.

``open_source(spec)`` returns a ``FrameSource``: ``.read()`` gives the next frame (a BGR uint8
ndarray) or ``None`` when there is none (end of a file source; a camera that gave nothing),
``.release()`` closes it (idempotent), and it is a context manager. Frames live only in memory.

The camera is opened in the constructor and released by ``release()``; problems opening it are a
``MoodError`` with a clear message and a ``kind`` (``no_camera``, ``permission``, ``busy``).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from player.mood.errors import MoodError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm", ".jp2"}
VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".wmv", ".ogv", ".mjpeg", ".mjpg"}


class FrameSource:
    """Base class. ``live`` is True for a camera (frames are real-time, never repeat by design)."""

    live = False
    description = "frames"

    def __init__(self):
        self._lock = threading.Lock()
        self._released = False

    @property
    def is_open(self) -> bool:
        return not self._released

    def read(self):
        raise NotImplementedError

    def release(self, timeout: float = -1) -> bool:
        """Close the source (idempotent, thread-safe: waits for a read in progress, at most
        ``timeout`` seconds when given). True when it is released."""
        if not self._lock.acquire(timeout=timeout if timeout is not None and timeout >= 0 else -1):
            return False
        try:
            if not self._released:
                self._released = True
                self._close()
        finally:
            self._lock.release()
        return True

    def _close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
        return False

    def __del__(self):
        try:
            self.release()
        except Exception:
            pass

    def __repr__(self):
        state = "open" if self.is_open else "released"
        return f"<{type(self).__name__} {self.description} {state}>"


_REDUCED = {1: "IMREAD_COLOR", 2: "IMREAD_REDUCED_COLOR_2", 4: "IMREAD_REDUCED_COLOR_4", 8: "IMREAD_REDUCED_COLOR_8"}


def _imread(path: Path):
    """Decode an image file to BGR, after its header said it is an image of a size that fits the
    memory budget (:func:`player.images.check_image`: an image "bomb" is refused, never decoded)."""
    import cv2
    import numpy as np

    from player.errors import ImageError
    from player.images import check_image

    try:
        _info, reduction = check_image(path)
    except ImageError as exc:
        raise MoodError(str(exc), "bad_source") from None
    # np.fromfile + imdecode copes with any file name (cv2.imread does not on every platform)
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError as exc:
        raise MoodError(f"cannot read the image {path}: {(exc.strerror or str(exc)).lower()}", "bad_source") from None
    try:
        frame = cv2.imdecode(data, getattr(cv2, _REDUCED[reduction])) if data.size else None
    except cv2.error:
        frame = None
    if frame is None:
        raise MoodError(f"not an image OpenCV can read: {path}", "bad_source")
    return frame


class ImageSource(FrameSource):
    """One image file: read() gives it once (or forever with ``loop=True``), then None."""

    def __init__(self, path, loop: bool = False):
        super().__init__()
        self.path = Path(path)
        self.description = str(self.path)
        self.loop = loop
        self._frame = _imread(self.path)
        self._given = False

    def read(self):
        if self._released or (self._given and not self.loop):
            return None
        self._given = True
        return self._frame.copy()

    def _close(self):
        self._frame = None


class FolderSource(FrameSource):
    """The images of a folder in name order (decoded one at a time), then None (or again, looping)."""

    def __init__(self, path, loop: bool = False):
        super().__init__()
        self.path = Path(path)
        self.description = str(self.path)
        self.loop = loop
        try:
            self.files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        except OSError as exc:
            raise MoodError(f"cannot list the folder {self.path}: {exc.strerror or exc}", "bad_source") from exc
        if not self.files:
            raise MoodError(f"no images in the folder {self.path}", "bad_source")
        self._index = 0

    def read(self):
        while not self._released:
            if self._index >= len(self.files):
                if not self.loop:
                    return None
                self._index = 0
            path = self.files[self._index]
            self._index += 1
            try:
                return _imread(path)
            except MoodError:
                continue  # a broken file in the folder is skipped
        return None


class VideoFileSource(FrameSource):
    """A video file read frame by frame through OpenCV, then None (or from the start, looping)."""

    def __init__(self, path, loop: bool = False):
        import cv2

        super().__init__()
        self.path = Path(path)
        self.description = str(self.path)
        self.loop = loop
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            self._cap.release()
            self._released = True
            raise MoodError(f"cannot open the video {self.path} (not a video OpenCV can decode)", "bad_source")
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or 0.0

    def read(self):
        import cv2

        with self._lock:
            if self._released:
                return None
            ok, frame = self._cap.read()
            if not ok and self.loop:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._cap.read()
        return frame if ok else None

    def _close(self):
        self._cap.release()


DEVICE_DIR = Path("/dev")  # where Linux V4L2 camera devices live (a module setting for tests)


def _video_device(index: int) -> Path | None:
    if sys.platform.startswith("linux"):
        return DEVICE_DIR / f"video{index}"
    return None


class CameraSource(FrameSource):
    """A webcam through OpenCV. Opening checks the device and reads one frame, so that "no camera",
    "no permission" and "busy" are told apart before anything else runs."""

    live = True

    def __init__(self, index: int = 0, width: int = 640, height: int = 480, first_frame_timeout: float = 3.0,
                 cancel: threading.Event | None = None):
        import cv2

        super().__init__()
        self.index = int(index)
        self.description = f"camera {self.index}"
        device = _video_device(self.index)
        if device is not None:
            if not device.exists():
                others = sorted(p.name for p in DEVICE_DIR.glob("video*")) if DEVICE_DIR.is_dir() else []
                hint = f" (found: {', '.join(others)})" if others else " (no /dev/video* devices: is a webcam connected?)"
                self._released = True
                raise MoodError(f"no camera {self.index}: {device} does not exist{hint}", "no_camera")
            if not os.access(device, os.R_OK | os.W_OK):
                self._released = True
                raise MoodError(
                    f"permission denied for camera {self.index} ({device}): add your user to the "
                    "'video' group (sudo usermod -aG video $USER, then log in again)",
                    "permission",
                )
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        self._cap = cv2.VideoCapture(self.index, api)
        if not self._cap.isOpened():
            self._cap.release()
            self._released = True
            if device is None:
                raise MoodError(
                    f"cannot open camera {self.index}: it does not exist, another program is using it, "
                    "or the system denied access (check the privacy settings for the camera)",
                    "no_camera",
                )
            raise MoodError(f"cannot open camera {self.index} ({device}): another program may be using it", "busy")
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        self._cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a queue of old ones
        deadline = time.monotonic() + first_frame_timeout
        frame = None
        while frame is None and time.monotonic() < deadline:
            if cancel is not None and cancel.is_set():
                break
            ok, frame = self._cap.read()
            if not ok:
                frame = None
                time.sleep(0.05)
        if frame is None:
            self._cap.release()
            self._released = True
            if cancel is not None and cancel.is_set():
                raise MoodError(f"opening camera {self.index} was cancelled", "cancelled")
            raise MoodError(
                f"camera {self.index} opened but gives no picture: another program may be using it"
                + ("" if device is None else f" ({device})"),
                "busy",
            )
        self._first = frame

    def read(self):
        with self._lock:
            if self._released:
                return None
            if self._first is not None:
                frame, self._first = self._first, None
                return frame
            ok, frame = self._cap.read()
        return frame if ok else None

    def _close(self):
        self._first = None
        self._cap.release()


def open_source(spec, *, loop: bool = False) -> FrameSource:
    """A FrameSource for ``spec``: an int (or a string of digits) is a camera index; a path is an
    image, a folder of images or a video file. ``loop`` repeats a file source forever."""
    if isinstance(spec, FrameSource):
        return spec
    if isinstance(spec, bool):
        raise MoodError(f"not a camera index or a file: {spec!r}", "bad_source")
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        index = int(spec)
        if index < 0:
            raise MoodError(f"camera index must be 0 or more, not {index}", "bad_source")
        return CameraSource(index)
    path = Path(os.fspath(spec)).expanduser()
    if not path.exists():
        raise MoodError(f"no such file or folder: {path}", "bad_source")
    if path.is_dir():
        return FolderSource(path, loop=loop)
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return ImageSource(path, loop=loop)
    if suffix in VIDEO_SUFFIXES:
        return VideoFileSource(path, loop=loop)
    # unknown suffix: try as an image, then as a video
    try:
        return ImageSource(path, loop=loop)
    except MoodError:
        return VideoFileSource(path, loop=loop)


# ---------------------------------------------------------------------------------------------
# Frame checks


def frame_signature(frame):
    """A small grayscale thumbnail (about 40x30) used to tell black and frozen frames."""
    import cv2
    import numpy as np

    frame = np.asarray(frame)
    gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape[:2]
    step = max(1, min(h, w) // 30)
    return np.ascontiguousarray(gray[::step, ::step])


def is_black(signature, max_mean: float = 8.0, max_std: float = 4.0) -> bool:
    """Nearly black and flat: a covered lens, a switched-off camera, a driver giving zeros."""
    return float(signature.mean()) <= max_mean and float(signature.std()) <= max_std


class FrameChecker:
    """Watches a live source for black or frozen frames that last ``stall_s`` seconds; raises
    MoodError then. One black frame (cameras give some while starting) is not an error."""

    def __init__(self, description: str = "camera", stall_s: float = 3.0, min_frames: int = 5,
                 check_frozen: bool = True):
        self.description = description
        self.check_frozen = check_frozen
        self.stall_s = stall_s
        self.min_frames = min_frames
        self._black_since = None
        self._black_count = 0
        self._prev = None
        self._same_since = None
        self._same_count = 0

    def check(self, frame, now: float | None = None) -> bool:
        """True when the frame is usable; False while a black/frozen spell is shorter than stall_s."""
        import numpy as np

        now = time.monotonic() if now is None else now
        sig = frame_signature(frame)
        usable = True
        if is_black(sig):
            usable = False
            if self._black_since is None:
                self._black_since, self._black_count = now, 0
            self._black_count += 1
            if self._black_count >= self.min_frames and now - self._black_since >= self.stall_s:
                raise MoodError(
                    f"the {self.description} gives only black frames: is the lens covered or the camera switched off?",
                    "black",
                )
        else:
            self._black_since = None
        if self.check_frozen and self._prev is not None and self._prev.shape == sig.shape and np.array_equal(self._prev, sig):
            # a repeated frame is still a picture; only a long spell of them is an error
            if self._same_since is None:
                self._same_since, self._same_count = now, 0
            self._same_count += 1
            if self._same_count >= self.min_frames and now - self._same_since >= self.stall_s:
                raise MoodError(
                    f"the {self.description} picture is frozen (the same frame for {now - self._same_since:.0f} s): "
                    "unplug and replug it, or close other programs using it",
                    "frozen",
                )
        else:
            self._same_since = None
        self._prev = sig
        return usable

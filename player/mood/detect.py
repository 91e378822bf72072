"""Face detection with OpenCV's Haar cascade (``haarcascade_frontalface_default.xml``).

The cascade file comes from the ``opencv-python`` 4.x wheel (``cv2.data.haarcascades``); Debian's
``opencv-data`` package and ``models/expression/`` are also looked in, so a 5.x wheel without the
files still works when the XML is there. A missing file is a MoodError naming it.

Speed: a 640x480 frame is searched at half size, in steps of 15 % (faces smaller than 15 % of the
frame height — 72 px of 480 — are not looked for; a listener at a webcam is bigger), and once a face is found the next frame is
searched first in a window around it, at nearby scales only (``track=True``); a full search runs
when that finds nothing or every ``full_every`` frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from player.mood.errors import MoodError

CASCADE_NAME = "haarcascade_frontalface_default.xml"


def cascade_candidates(name: str = CASCADE_NAME) -> list[Path]:
    places = []
    from player.mood.model import model_folder

    places.append(model_folder() / name)
    try:
        import cv2

        base = getattr(getattr(cv2, "data", None), "haarcascades", None)
        if base:
            places.append(Path(base) / name)
    except ImportError:  # pragma: no cover
        pass
    for d in ("/usr/share/opencv4/haarcascades", "/usr/share/opencv/haarcascades",
              "/usr/local/share/opencv4/haarcascades"):
        places.append(Path(d) / name)
    return places


def find_cascade(name: str = CASCADE_NAME) -> Path:
    for path in cascade_candidates(name):
        if path.is_file():
            return path
    tried = ", ".join(str(p) for p in cascade_candidates(name))
    raise MoodError(
        f"the face detector file {name} is missing (looked in: {tried}); it ships with opencv-python 4.x "
        "(cv2.data.haarcascades) and Debian's opencv-data package",
        "no_detector",
    )


def load_cascade(path: Path):
    import cv2

    if not hasattr(cv2, "CascadeClassifier"):
        raise MoodError("this OpenCV build has no CascadeClassifier (OpenCV 5.x dropped it): "
                        "install opencv-python 4.x", "no_detector")
    clf = cv2.CascadeClassifier(str(path))
    if clf.empty():
        raise MoodError(f"cannot load the face detector file {path}", "no_detector")
    return clf


@dataclass(frozen=True)
class DetectorSettings:
    detect_width: int | None = 320  # frames wider than this are searched scaled down to it
    min_face_frac: float = 0.15  # the smallest face looked for, as a share of the frame's shorter side
    scale_factor: float = 1.15
    min_neighbors: int = 5
    track: bool = True  # search near the last face first
    full_every: int = 10  # a full search at least every this many frames


class FaceDetector:
    """``detect(gray) -> [(x, y, w, h), …]`` in the coordinates of ``gray``, largest first.

    Keywords are those of :class:`DetectorSettings`. Each detector has its own classifier (about
    30 ms to load); use one detector per thread.
    """

    def __init__(self, *, cascade: Path | str | None = None, **settings):
        self.settings = DetectorSettings(**settings)
        self.cascade_path = Path(cascade) if cascade else find_cascade()
        self._last = None  # last box (full-frame coordinates) and frame shape
        self._since_full = 0
        self._clf = load_cascade(self.cascade_path)

    def reset(self):
        self._last = None
        self._since_full = 0

    def detect(self, gray) -> list[tuple[int, int, int, int]]:
        import cv2

        o = self.settings
        h, w = gray.shape[:2]
        scale = 1.0
        small = gray
        if o.detect_width and w > o.detect_width:
            scale = o.detect_width / w
            small = cv2.resize(gray, (o.detect_width, max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        clf = self._clf
        boxes = None
        if o.track and self._last is not None and self._last[1] == gray.shape and self._since_full < o.full_every:
            boxes = self._detect_near(clf, small, scale)
            self._since_full += 1
        if not boxes:
            sh, sw = small.shape[:2]
            min_side = max(20, int(round(o.min_face_frac * min(sh, sw))))
            found = clf.detectMultiScale(small, scaleFactor=o.scale_factor, minNeighbors=o.min_neighbors,
                                         minSize=(min_side, min_side), flags=cv2.CASCADE_SCALE_IMAGE)
            boxes = [tuple(int(round(v / scale)) for v in b) for b in found]
            self._since_full = 0
        boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
        self._last = (boxes[0], gray.shape) if boxes else None
        return boxes

    def _detect_near(self, clf, small, scale):
        """Search a window 2x the last face around it, for faces 0.7x-1.4x its size."""
        import cv2

        (x, y, w, h), _ = self._last
        x, y, w, h = (v * scale for v in (x, y, w, h))
        sh, sw = small.shape[:2]
        x0, y0 = max(0, int(x - 0.5 * w)), max(0, int(y - 0.5 * h))
        x1, y1 = min(sw, int(x + 1.5 * w)), min(sh, int(y + 1.5 * h))
        roi = small[y0:y1, x0:x1]
        lo, hi = max(20, int(0.7 * w)), max(21, int(1.4 * w))
        if roi.shape[0] < lo or roi.shape[1] < lo:
            return []
        found = clf.detectMultiScale(roi, scaleFactor=1.1, minNeighbors=self.settings.min_neighbors,
                                     minSize=(lo, lo), maxSize=(hi, hi), flags=cv2.CASCADE_SCALE_IMAGE)
        return [tuple(int(round(v / scale)) for v in (bx + x0, by + y0, bw, bh)) for bx, by, bw, bh in found]


def crop_face(gray, box, size=(64, 64), margin: float = 0.1):
    """The face as a square crop with ``margin`` (fraction of its side) around it, resized to
    ``size``; parts outside the frame are filled by repeating the border."""
    import cv2

    x, y, w, h = box
    side = max(w, h)
    cx, cy = x + w / 2.0, y + h / 2.0
    half = side * (1 + 2 * margin) / 2.0
    x0, y0, x1, y1 = int(round(cx - half)), int(round(cy - half)), int(round(cx + half)), int(round(cy + half))
    H, W = gray.shape[:2]
    pad = (max(0, -y0), max(0, y1 - H), max(0, -x0), max(0, x1 - W))
    crop = gray[max(0, y0):min(H, y1), max(0, x0):min(W, x1)]
    if any(pad):
        crop = cv2.copyMakeBorder(crop, *pad, borderType=cv2.BORDER_REPLICATE)
    interp = cv2.INTER_AREA if crop.shape[0] > size[1] else cv2.INTER_LINEAR
    return cv2.resize(crop, tuple(size), interpolation=interp)

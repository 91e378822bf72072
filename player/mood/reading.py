"""One reading: faces in a frame, the expression of the largest, and its mood labels."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from player.mood.errors import MoodError
from player.mood.model import EMOTIONS

NO_FACE = "no face"


@dataclass
class MoodReading:
    """What one frame (or one ``read_mood_once``) says.

    ``faces`` are (x, y, w, h) boxes in frame pixels, largest first; ``probs`` the 7 FER-2013
    class probabilities of the largest face (empty without a face); ``emotion`` the most likely
    class or None; ``labels`` the tagger labels for it under ``policy``; ``message`` is ``"no
    face"`` when there was none.
    """

    faces: list[tuple[int, int, int, int]] = field(default_factory=list)
    probs: dict[str, float] = field(default_factory=dict)
    emotion: str | None = None
    confidence: float = 0.0
    labels: list[str] = field(default_factory=list)
    message: str = ""
    policy: str = "match"
    frame_size: tuple[int, int] | None = None  # (width, height)
    frames: int = 1  # how many frames were combined

    @property
    def box(self):
        return self.faces[0] if self.faces else None

    @property
    def has_face(self) -> bool:
        return self.emotion is not None

    def as_dict(self) -> dict:
        return {
            "faces": [list(b) for b in self.faces],
            "emotion": self.emotion,
            "confidence": round(self.confidence, 4),
            "probs": {k: round(v, 4) for k, v in self.probs.items()},
            "labels": list(self.labels),
            "policy": self.policy,
            "message": self.message,
            "frame_size": list(self.frame_size) if self.frame_size else None,
            "frames": self.frames,
        }

    def format(self) -> str:
        if not self.has_face:
            return self.message or NO_FACE
        lines = []
        for i, (x, y, w, h) in enumerate(self.faces):
            tag = "  (largest, used)" if i == 0 and len(self.faces) > 1 else ""
            lines.append(f"face {i + 1}: x={x} y={y} w={w} h={h}{tag}")
        for name in sorted(self.probs, key=self.probs.get, reverse=True):
            p = self.probs[name]
            lines.append(f"  {name:<8} {p:6.1%}  {'#' * int(round(p * 30))}")
        lines.append(f"emotion: {self.emotion} ({self.confidence:.0%})")
        lines.append(f"mood labels ({self.policy}): {', '.join(self.labels) if self.labels else '(none)'}")
        return "\n".join(lines)


class MoodAnalyzer:
    """Face detection + expression classification for single frames.

    ``analyze(frame)`` takes a BGR (or grayscale) uint8 frame and returns a MoodReading. The model
    and the face detector are loaded on construction (NumPy + h5py + OpenCV; no TensorFlow unless
    ``backend="keras"``).
    """

    def __init__(self, *, policy: str = "match", backend: str = "numpy", model_folder=None,
                 detect_width: int | None = 320, min_face_frac: float = 0.15, track: bool = False,
                 classify_all: bool = False, scale_factor: float = 1.15):
        from player.mood.detect import FaceDetector
        from player.mood.mapping import normalize_policy
        from player.mood.model import load_expression_model

        self.policy = normalize_policy(policy)
        self.model = load_expression_model(model_folder, backend=backend)
        if tuple(self.model.labels) != EMOTIONS and set(self.model.labels) != set(EMOTIONS):
            raise MoodError(f"the expression model's labels {list(self.model.labels)} are not the 7 FER classes",
                            "model_broken")
        self.detector = FaceDetector(detect_width=detect_width, min_face_frac=min_face_frac, track=track,
                                     scale_factor=scale_factor)
        self.classify_all = classify_all

    def classify(self, gray, boxes):
        """Probabilities (N, 7) for the given boxes of the grayscale frame."""
        import numpy as np

        from player.mood.detect import crop_face

        size = self.model.input_size
        crops = np.stack([crop_face(gray, b, size=size, margin=self.model.config.crop_margin) for b in boxes])
        return self.model.predict(crops)

    def analyze(self, frame) -> MoodReading:
        import cv2
        import numpy as np

        frame = np.asarray(frame)
        if frame.ndim == 3 and frame.shape[2] == 4:
            gray = cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
        elif frame.ndim == 3:
            gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        elif frame.ndim == 2:
            gray = frame
        else:
            raise MoodError(f"not an image frame: array of shape {frame.shape}", "bad_source")
        if gray.dtype != np.uint8:
            gray = np.clip(gray, 0, 255).astype(np.uint8)
        h, w = gray.shape[:2]
        boxes = self.detector.detect(gray)
        if not boxes:
            return MoodReading(message=NO_FACE, policy=self.policy, frame_size=(w, h))
        probs = self.classify(gray, boxes if self.classify_all else boxes[:1])[0]
        return self.reading_from_probs(probs, boxes, (w, h))

    def reading_from_probs(self, probs, boxes, frame_size, frames: int = 1) -> MoodReading:
        from player.mood.mapping import labels_for

        probs_d = {name: float(p) for name, p in zip(self.model.labels, probs)}
        emotion = max(probs_d, key=probs_d.get)
        return MoodReading(faces=[tuple(int(v) for v in b) for b in boxes], probs=probs_d, emotion=emotion,
                           confidence=probs_d[emotion], labels=labels_for(emotion, self.policy),
                           policy=self.policy, frame_size=frame_size, frames=frames)


def read_mood_once(camera: int | str = 0, image=None, *, policy: str = "match", max_seconds: float = 2.0,
                   face_frames: int = 3, backend: str = "numpy") -> MoodReading:
    """Read the mood once, from an image (a path, or a BGR ndarray) when given, else from the camera.

    The camera is opened, read for at most ``max_seconds`` (skipping the black frames webcams give
    while starting; combining up to ``face_frames`` frames with a face), and released before this
    returns — also on error. Returns a MoodReading with ``message == "no face"`` when no face was
    seen; raises MoodError for no camera, a busy camera, no permission, only black frames, an
    unreadable image or a missing model file.
    """
    import numpy as np

    from player.mood.sources import CameraSource, frame_signature, is_black, open_source

    if image is not None:
        if isinstance(image, np.ndarray):
            frame, name = image, "image"
        else:
            with open_source(image) as src:
                frame = src.read()
                name = str(image)
            if frame is None:
                raise MoodError(f"no picture in {image}", "bad_source")
        if frame.size == 0:
            raise MoodError(f"the {name} is empty", "bad_source")
        if is_black(frame_signature(frame)):
            raise MoodError(f"the {name} is black: there is nothing to read", "black")
        # still images: look for smaller faces too, at up to 1280 px wide
        analyzer = MoodAnalyzer(policy=policy, backend=backend, detect_width=1280, min_face_frac=0.05,
                                scale_factor=1.1)
        return analyzer.analyze(frame)

    analyzer = MoodAnalyzer(policy=policy, backend=backend)  # model errors before the camera opens
    source = open_source(camera)  # a camera index, or a video file / folder standing in for one
    try:
        deadline = time.monotonic() + max_seconds
        seen = black = 0
        readings: list[MoodReading] = []
        last = None
        while time.monotonic() < deadline and len(readings) < face_frames:
            frame = source.read()
            if frame is None:
                if not isinstance(source, CameraSource):
                    break  # end of a file source
                continue
            seen += 1
            if is_black(frame_signature(frame)):
                black += 1
                continue
            last = analyzer.analyze(frame)
            if last.has_face:
                readings.append(last)
        if seen == 0:
            raise MoodError(f"the {source.description} gave no picture", "busy" if source.live else "bad_source")
        if black == seen:
            raise MoodError(f"the {source.description} gives only black frames: "
                            "is the lens covered or the camera switched off?", "black")
    finally:
        source.release()
    if not readings:
        return last or MoodReading(message=NO_FACE, policy=analyzer.policy)
    if len(readings) == 1:
        return readings[0]
    # combine: confidence-weighted mean of the probabilities; boxes of the last frame
    labels = list(readings[0].probs)
    weights = np.array([r.confidence for r in readings])
    mean = (np.array([[r.probs[k] for k in labels] for r in readings]) * weights[:, None]).sum(0) / weights.sum()
    return analyzer.reading_from_probs(mean, readings[-1].faces, readings[-1].frame_size, frames=len(readings))

"""The mood toggle with a video file as the camera: preview, detected mood, indicator, release."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from test_ui_support import make_music, make_window, settle, shoot

pytestmark = pytest.mark.gui

FACE = Path("/usr/share/doc/opencv-doc/opencv4/html/face_swapped.jpg")


def write_face_video(path: Path, frames: int = 40, fps: float = 10.0) -> Path:
    import cv2

    rng = np.random.default_rng(1)
    bg = rng.integers(60, 200, (480, 640, 3), dtype=np.uint8)
    face = cv2.resize(cv2.imread(str(FACE)), (240, 240))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))
    assert writer.isOpened()
    for i in range(frames):
        frame = bg.copy()
        x, y = 200 + (i % 5) * 4, 120 + (i % 3) * 3
        frame[y:y + 240, x:x + 240] = face
        writer.write(np.clip(frame + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8))
    writer.release()
    return path


@pytest.fixture
def face_video(tmp_path):
    if not FACE.is_file():
        pytest.skip("the face photograph comes from Debian's opencv-doc package (apt-get install opencv-doc)")
    return write_face_video(tmp_path / "camera.avi")


def test_mood_on_shows_preview_mood_and_indicator_then_releases_camera(qtbot, library, tmp_path, face_video):
    make_music(tmp_path / "music", broken=False)
    w = make_window(library, tmp_path, mood_source=str(face_video))
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.importFinished, timeout=30000):
        w.import_folders([str(tmp_path / "music")])
    w.add_listener("alice")
    settle(qtbot, w)
    assert w.mood.available, w.mood.reason
    # off by default: no camera, no indicator
    assert not w.mood_box.button.isChecked() and not w.camera_label.isVisible()
    assert w.mood.monitor is None
    w.mood_box.button.click()
    assert w.camera_label.isVisible() and w.mood_box.indicator.isVisible()
    # a face → a mood (smoothed over a few frames) → labels for the recommender
    qtbot.waitUntil(lambda: bool(w.recs.mood_labels), timeout=15000)
    assert "You look" in w.mood_box.mood.text()
    qtbot.waitUntil(lambda: w.mood_box.preview.pixmap() is not None and not w.mood_box.preview.pixmap().isNull(),
                    timeout=5000)
    settle(qtbot, w)
    shoot(w, "mood-on")
    mon = w.mood.monitor
    assert mon is not None and mon.source_open
    # the policy (Mood menu) reaches the running monitor and is remembered
    w.act_policy["cheer_up"].trigger()
    assert mon.policy == "cheer_up" and w.settings.mood_policy == "cheer_up"
    # off: the camera is released within a second, the indicator goes away
    t0 = time.monotonic()
    w.mood_box.button.click()
    assert not w.camera_label.isVisible() and not w.mood_box.indicator.isVisible()
    qtbot.waitUntil(lambda: not mon.source_open, timeout=1500)
    assert time.monotonic() - t0 < 1.5
    settle(qtbot, w)
    assert w.mood.monitor is None and w.recs.mood_labels is None
    w.close()


def test_no_camera_gives_a_message_and_the_toggle_returns_off(qtbot, library, tmp_path):
    w = make_window(library, tmp_path, mood_source=str(tmp_path / "no-such-camera.avi"))
    qtbot.addWidget(w)
    w.show()
    settle(qtbot, w)
    if not w.mood.available:
        pytest.skip(w.mood.reason)
    w.mood_box.button.click()
    qtbot.waitUntil(lambda: not w.mood_box.button.isChecked(), timeout=10000)
    assert not w.camera_label.isVisible()
    level, text = w.notices.history[-1]
    assert level == "warning" and "Mood turned off" in text and "no-such-camera" in text
    w.close()

"""The mood toggle (player/ui/mood_panel.py, mood_control.py) with a video file as the camera:
preview, detected mood, indicator, policy, release; no camera is a message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from player.options import MOOD_POLICY

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


def test_mood_on_shows_preview_mood_and_indicator_then_releases_camera(qtbot, open_window, import_music,
                                                                         tagged_music, face_video, settle, shoot):
    w = open_window(mood_source=str(face_video))
    import_music(w, tagged_music(broken=False))
    w.listeners.add("alice")
    settle(w)
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
    settle(w)
    shoot(w, "mood-on")
    mon = w.mood.monitor
    assert mon is not None and mon.source_open
    # the policy (Mood menu) reaches the running monitor and is remembered
    w.act_policy["cheer_up"].trigger()
    assert mon.policy == "cheer_up" and w.settings[MOOD_POLICY] == "cheer_up"
    # off: the indicator goes away at once, the camera is released (off the GUI thread) and the
    # monitor let go of
    w.mood_box.button.click()
    assert not w.camera_label.isVisible() and not w.mood_box.indicator.isVisible()
    assert not w.mood_box.button.isChecked() and not w.actions.mood.isChecked()
    qtbot.waitUntil(lambda: not mon.source_open and w.mood.monitor is None, timeout=10000)
    settle(w)
    assert w.recs.mood_labels is None


def test_no_camera_gives_a_message_and_the_toggle_returns_off(qtbot, open_window, tmp_path):
    w = open_window(mood_source=str(tmp_path / "no-such-camera.avi"))
    assert w.mood.available, w.mood.reason
    w.mood_box.button.click()
    qtbot.waitUntil(lambda: not w.mood_box.button.isChecked(), timeout=10000)
    assert not w.camera_label.isVisible()
    level, text = w.notices.history[-1]
    assert level == "warning" and "Mood turned off" in text and "no-such-camera" in text

"""The background monitor on a generated video file standing in for the camera; frame sources; the
camera is released on stop and on errors; black / frozen pictures; nothing is written to disk."""

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from player.mood import MoodError, MoodMonitor, open_source, read_mood_once
from player.mood.sources import CameraSource, FrameSource, FrameChecker

ROOT = Path(__file__).resolve().parent.parent
DOC = Path("/usr/share/doc/opencv-doc")
FACE = DOC / "opencv4/html/face_swapped.jpg"
BACKGROUND = DOC / "examples/data/home.jpg"

needs_photos = pytest.mark.skipif(
    not FACE.is_file(), reason="face photographs come from Debian's opencv-doc package (apt-get install opencv-doc)"
)


@pytest.fixture(autouse=True)
def own_data(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir(exist_ok=True)
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))


def background():
    import cv2
    import numpy as np

    if BACKGROUND.is_file():
        return cv2.resize(cv2.imread(str(BACKGROUND)), (640, 480))
    return np.random.default_rng(1).integers(60, 200, (480, 640, 3), dtype=np.uint8)


def write_video(path, frames_with_face=20, frames_without=20, fps=10.0):
    """An MJPG .avi, 640x480: the face photo pasted (moving a little) over a background, then the
    background alone."""
    import cv2
    import numpy as np

    bg = background()
    face = cv2.resize(cv2.imread(str(FACE)), (240, 240)) if FACE.is_file() else None
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))
    assert writer.isOpened()
    rng = np.random.default_rng(0)
    for i in range(frames_with_face + frames_without):
        frame = bg.copy()
        if i < frames_with_face and face is not None:
            x, y = 200 + (i % 5) * 4, 120 + (i % 3) * 3
            frame[y:y + 240, x:x + 240] = face
        frame = np.clip(frame + rng.normal(0, 2, frame.shape), 0, 255).astype(np.uint8)
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module")
def face_video(tmp_path_factory):
    if not FACE.is_file():
        pytest.skip("face photographs come from Debian's opencv-doc package (apt-get install opencv-doc)")
    return write_video(tmp_path_factory.mktemp("video") / "camera.avi")


@pytest.fixture(scope="module")
def plain_video(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("video") / "plain.avi", frames_with_face=0, frames_without=15)


class Recorder:
    def __init__(self):
        self.states = []
        self.first = threading.Event()
        self.done = threading.Event()
        self.previews = []
        self.monitor = None

    def __call__(self, state):
        self.states.append(state)
        if self.monitor is not None and state.running:
            p = self.monitor.latest_frame_small
            self.previews.append(None if p is None else p.shape)
        self.first.set()
        if not state.running:
            self.done.set()


class ScriptedCamera(FrameSource):
    """A live source that gives frames from a function: a stand-in for a webcam that misbehaves."""

    live = True

    def __init__(self, make_frame):
        super().__init__()
        self.description = "test camera"
        self.make_frame = make_frame
        self.n = 0

    def read(self):
        if self._released:
            return None
        self.n += 1
        time.sleep(0.005)
        return self.make_frame(self.n)


# -- sources -------------------------------------------------------------------------------------


def test_file_sources(tmp_path, plain_video):
    import cv2
    import numpy as np

    with open_source(plain_video) as src:
        frames = []
        while (f := src.read()) is not None:
            frames.append(f)
        assert src.is_open and not src.live
    assert not src.is_open and src.read() is None
    assert len(frames) == 15 and frames[0].shape == (480, 640, 3)

    folder = tmp_path / "pics"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.png"), np.full((20, 30, 3), 50 * i + 20, np.uint8))
    (folder / "notes.txt").write_text("skip me")
    src = open_source(folder)
    means = [int(src.read().mean()) for _ in range(3)]
    assert means == [20, 70, 120] and src.read() is None
    looping = open_source(str(folder / "1.png"), loop=True)
    assert all(looping.read() is not None for _ in range(3))
    looping.release()
    with pytest.raises(MoodError, match="no images in the folder"):
        open_source(tmp_path / "data")
    with pytest.raises(MoodError, match="no such file"):
        open_source(tmp_path / "none.avi")


def test_no_camera_is_a_clear_error(tmp_path, monkeypatch):
    from player.mood import sources

    monkeypatch.setattr(sources, "DEVICE_DIR", tmp_path)
    with pytest.raises(MoodError, match=r"no camera 2: .*video2 does not exist \(no /dev/video\* devices") as err:
        open_source(2)
    assert err.value.kind == "no_camera"
    (tmp_path / "video0").write_bytes(b"")
    with pytest.raises(MoodError, match=r"found: video0"):
        open_source("2")
    with pytest.raises(MoodError, match="0 or more"):
        open_source(-1)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may open any device file")
def test_camera_permission_denied_is_a_clear_error(tmp_path, monkeypatch):
    from player.mood import sources

    monkeypatch.setattr(sources, "DEVICE_DIR", tmp_path)
    dev = tmp_path / "video0"
    dev.write_bytes(b"")
    dev.chmod(0)
    with pytest.raises(MoodError, match="permission denied for camera 0.*'video' group") as err:
        CameraSource(0)
    assert err.value.kind == "permission"


def test_frame_checker_tells_black_and_frozen_from_a_few_bad_frames():
    import numpy as np

    black = np.zeros((480, 640, 3), np.uint8)
    still = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    c = FrameChecker("camera 0", stall_s=1.0)
    assert c.check(black, 0.0) is False  # a black frame: not used, not yet an error
    assert c.check(still, 0.1) is True
    with pytest.raises(MoodError, match="only black frames") as err:
        for i in range(20):
            c.check(black, 0.2 + i * 0.1)
    assert err.value.kind == "black"
    c = FrameChecker("camera 0", stall_s=1.0)
    with pytest.raises(MoodError, match="frozen") as err:
        for i in range(20):
            c.check(still, i * 0.1)
    assert err.value.kind == "frozen"
    assert FrameChecker(check_frozen=False, stall_s=1.0).check(still, 5.0)


# -- read_mood_once on a camera stand-in ----------------------------------------------------------


def test_read_once_from_a_video_as_camera(face_video):
    r = read_mood_once(camera=str(face_video))
    assert r.emotion == "happy" and r.frames == 3 and len(r.faces) == 1


def test_read_once_black_camera_is_an_error_and_releases_it():
    import numpy as np

    cam = ScriptedCamera(lambda n: np.zeros((480, 640, 3), np.uint8))
    with pytest.raises(MoodError, match="only black frames") as err:
        read_mood_once(camera=cam, max_seconds=0.3)
    assert err.value.kind == "black"
    assert not cam.is_open


# -- the monitor ---------------------------------------------------------------------------------


def test_monitor_on_a_video_smooths_then_clears_the_mood(face_video):
    rec = Recorder()
    mon = MoodMonitor(str(face_video), on_update=rec, window_s=1.0, fps=10, hold_s=1.0,
                      realtime=False, policy="cheer_up")
    rec.monitor = mon
    mon.start()
    assert mon.wait(30), "the monitor did not reach the end of the video"
    states = rec.states
    assert len(states) == 41  # 40 frames + the final state
    moods = [s.mood for s in states[:-1]]
    # no mood from the first frames alone; then happy while the face is there
    assert moods[0] is None and moods[2] == "happy"
    assert set(moods[2:20]) == {"happy"}
    with_face = states[:20]
    assert all(s.face and len(s.faces) == 1 and s.emotion == "happy" for s in with_face)
    assert states[5].labels and states[5].policy == "cheer_up"
    # the face leaves at frame 20 (t=2.0 s): the mood stays for hold_s, then is cleared, once
    after = states[20:40]
    assert all(not s.face and s.message == "no face" for s in after)
    kept = [s.mood for s in after if s.time <= 1.9 + 1.0]
    cleared = [s for s in after if s.time > 1.9 + 1.0]
    assert kept and set(kept) == {"happy"}
    assert cleared and all(s.mood is None and s.labels == [] for s in cleared)
    assert sum(s.changed for s in states) == 2
    # the last state: stopped at the end of the file; the source is released, the preview gone
    last = states[-1]
    assert not last.running and last.message == "source ended" and last.error is None
    assert not mon.source_open and mon.latest_frame_small is None
    assert set(rec.previews) == {(120, 160, 3)}  # a small preview was there while running
    # the state is plain data: no pixels
    assert "frame" not in json.dumps(last.as_dict())


def test_monitor_releases_the_source_within_a_second(plain_video):
    rec = Recorder()
    mon = MoodMonitor(str(plain_video), on_update=rec, fps=5, loop=True)  # real time, 5 frames/s
    mon.start()
    assert rec.first.wait(20)
    assert mon.running and mon.source_open
    assert mon.stop(timeout=1.0) is True
    assert not mon.source_open and not mon.running
    assert rec.done.is_set() and not rec.states[-1].running
    assert mon.latest_frame_small is None
    # it can be started again, and stopped from inside a callback
    stopper = []

    def stop_from_callback(state):
        if state.running and not stopper:
            stopper.append(mon.stop())
    mon.on_update = stop_from_callback
    mon.start()
    assert mon.wait(10) and not mon.source_open


def test_stop_releases_the_source_even_while_a_callback_is_slow(plain_video):
    in_callback = threading.Event()

    def slow(state):
        if state.running:
            in_callback.set()
            time.sleep(2.0)  # a GUI that does not return in time
    mon = MoodMonitor(str(plain_video), on_update=slow, loop=True)
    mon.start()
    assert in_callback.wait(20)
    assert mon.source_open
    assert mon.stop(timeout=1.0) is True
    assert not mon.source_open
    assert mon.wait(5) and not mon.running


def test_monitor_reports_camera_errors_and_turns_off(tmp_path, monkeypatch):
    import numpy as np

    from player.mood import sources

    monkeypatch.setattr(sources, "DEVICE_DIR", tmp_path)
    errors = []
    rec = Recorder()
    mon = MoodMonitor(0, on_update=rec, on_error=errors.append)
    mon.start()
    assert mon.wait(10)
    last = rec.states[-1]
    assert not last.running and last.error_kind == "no_camera" and "no camera 0" in last.error
    assert isinstance(errors[0], MoodError)

    cam = ScriptedCamera(lambda n: np.zeros((480, 640, 3), np.uint8))
    rec = Recorder()
    mon = MoodMonitor(cam, on_update=rec, stall_s=0.3, fps=50)
    mon.start()
    assert mon.wait(10)
    assert rec.states[-1].error_kind == "black" and not cam.is_open
    assert all(s.message == "black frame" for s in rec.states[:-1])

    still = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    cam = ScriptedCamera(lambda n: still)
    rec = Recorder()
    mon = MoodMonitor(cam, on_update=rec, stall_s=0.3, fps=50)
    mon.start()
    assert mon.wait(10)
    assert rec.states[-1].error_kind == "frozen" and not cam.is_open


def test_monitor_missing_model_names_the_file(tmp_path, monkeypatch, plain_video):
    monkeypatch.setenv("PLAYER_MODELS_DIR", str(tmp_path / "nomodels"))
    rec = Recorder()
    mon = MoodMonitor(str(plain_video), on_update=rec)
    mon.start()
    assert mon.wait(10)
    last = rec.states[-1]
    assert last.error_kind == "model_missing" and "nomodels" in last.error and "config.json" in last.error
    assert not mon.source_open


def test_a_broken_callback_does_not_kill_the_monitor(plain_video):
    seen = []

    def bad(state):
        seen.append(state)
        raise RuntimeError("GUI bug")
    mon = MoodMonitor(str(plain_video), on_update=bad, realtime=False, fps=10)
    mon.start()
    assert mon.wait(20)
    assert len(seen) == 16 and seen[-1].message == "source ended"


# -- privacy: nothing on disk --------------------------------------------------------------------

PRIVACY_SCRIPT = r"""
import json, os, sys
writes = []
def hook(event, args):
    if event == "open":
        path, mode, flags = (list(args) + [None, None])[:3]
        if isinstance(path, int) or str(path) == os.devnull:
            return
        w = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND))
        if w:
            writes.append(["open", str(path)])
    elif event in ("os.mkdir", "os.rename", "os.replace", "os.remove", "os.unlink", "shutil.copyfile",
                   "os.truncate", "sqlite3.connect", "os.link", "os.symlink"):
        target = str(args[0]) if args else ""
        if event == "os.mkdir" and os.path.isdir(target):
            return  # an existing folder (the data folder): nothing is created
        writes.append([event, target])
sys.addaudithook(hook)
from player.mood import read_mood_once, MoodMonitor
video, image = sys.argv[1], sys.argv[2]
moods = []
once = read_mood_once(image=image) if image != "-" else None
once_video = read_mood_once(camera=video)
m = MoodMonitor(video, on_update=lambda s: moods.append(s.mood), realtime=False, fps=10, window_s=1.0)
m.start(); m.wait(60); m.stop()
print(json.dumps({"writes": writes, "moods": moods, "once": once.emotion if once else None}))
"""


def snapshot(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*"))


def test_nothing_is_written_to_disk(tmp_path, plain_video, library):
    """Run a reading and a monitor in a fresh process whose home, temp, data and working folders are
    empty: afterwards they are still empty, the database is unchanged, and no file was opened for
    writing (Python audit hook)."""
    video = plain_video
    image = "-"
    if FACE.is_file():
        video = write_video(tmp_path / "face.avi", frames_with_face=10, frames_without=5)
        image = str(FACE)
    library.ensure_user("ann")
    db_file = Path(library.db.path)
    library.close()
    db_before = hashlib.sha256(db_file.read_bytes()).hexdigest()
    dirs = {name: tmp_path / "sandbox" / name for name in ("home", "tmp", "data", "cwd")}
    for d in dirs.values():
        d.mkdir(parents=True)
    env = dict(os.environ, HOME=str(dirs["home"]), TMPDIR=str(dirs["tmp"]), TEMP=str(dirs["tmp"]),
               PLAYER_DATA_DIR=str(dirs["data"]), PLAYER_DB=str(db_file), XDG_CACHE_HOME=str(dirs["home"] / ".cache"),
               XDG_DATA_HOME=str(dirs["home"] / ".local/share"), PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=str(ROOT))
    env.pop("PLAYER_MODELS_DIR", None)
    out = subprocess.run([sys.executable, "-c", PRIVACY_SCRIPT, str(video), image], cwd=dirs["cwd"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["writes"] == []
    assert len(result["moods"]) == 16  # 15 frames + the final state
    if image != "-":
        assert result["once"] == "happy" and "happy" in result["moods"]
    for name, d in dirs.items():
        assert snapshot(d) == [], f"something was written under {name}: {snapshot(d)}"
    assert hashlib.sha256(db_file.read_bytes()).hexdigest() == db_before
    assert sorted(p.name for p in db_file.parent.iterdir() if p.name.startswith("library.db")) == ["library.db"]


@needs_photos
def test_mood_watch_command_prints_changes(tmp_path, capsys):
    from player.cli import main

    video = write_video(tmp_path / "short.avi", frames_with_face=8, frames_without=0)
    assert main(["mood", "--watch", "20", "--video", str(video), "--policy", "cheer_up"]) == 0
    out = capsys.readouterr().out
    assert "mood: happy" in out and "labels: happy" in out
    assert "stopped (source ended)" in out
    assert main(["mood", "--watch", "5", "--image", str(FACE)]) == 2
    assert "use --once for an image" in capsys.readouterr().err

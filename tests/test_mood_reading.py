"""One reading from real photographs (Debian's opencv-doc), images without a face, bad input, the
model folder, and the ``mood --once`` command."""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from player.mood import MoodError, read_mood_once
from player.mood.mapping import labels_for
from player.mood.model import EMOTIONS

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "models" / "expression"
DOC = Path("/usr/share/doc/opencv-doc")
FACE = DOC / "opencv4/html/face_swapped.jpg"  # one frontal, smiling face, 320x320
FOUR_FACES = DOC / "opencv4/html/facereg.jpg"  # four faces in a 2x2 grid, 200x200
NO_FACE_PHOTOS = [DOC / "examples/data/baboon.jpg", DOC / "examples/data/fruits.jpg"]

needs_photos = pytest.mark.skipif(
    not FACE.is_file() or not FOUR_FACES.is_file(),
    reason="face photographs come from Debian's opencv-doc package (apt-get install opencv-doc)",
)


@pytest.fixture(autouse=True)
def own_data(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("PLAYER_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def fake_models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv("PLAYER_MODELS_DIR", str(folder))
    return folder


def write_image(path, array):
    import cv2

    assert cv2.imwrite(str(path), array)
    return path


# -- the model folder ----------------------------------------------------------------------------


def test_model_folder_is_complete_and_documented():
    config = json.loads((MODEL_DIR / "config.json").read_text())
    labels = json.loads((MODEL_DIR / "labels.json").read_text())
    assert labels == list(EMOTIONS) == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    model = MODEL_DIR / config["model_file"]
    assert hashlib.sha256(model.read_bytes()).hexdigest() == config["sha256"]
    assert config["input"]["size"] == [64, 64] and config["input"]["range"] == [-1.0, 1.0]
    card = (MODEL_DIR / "README.md").read_text()
    for needle in ("fer", "25.10.3", "MIT", "Permission is hereby granted", "angry, disgust, fear, happy, sad, surprise, neutral",
                   config["sha256"], "64x64"):
        assert needle in card, needle
    assert "Permission is hereby granted" in (MODEL_DIR / "LICENSE").read_text()


def test_missing_model_file_is_named(fake_models):
    shutil.copytree(MODEL_DIR, fake_models / "expression", ignore=shutil.ignore_patterns("*.hdf5"))
    with pytest.raises(MoodError) as err:
        read_mood_once(image=str(FACE) if FACE.is_file() else np_image())
    assert err.value.kind == "model_missing"
    assert str(fake_models / "expression" / "emotion_model.hdf5") in str(err.value)


def test_missing_model_folder_is_named(fake_models):
    from player.mood.model import load_expression_model

    with pytest.raises(MoodError, match=r"missing: .*expression.config\.json") as err:
        load_expression_model()
    assert err.value.kind == "model_missing"


def test_broken_model_file_is_a_clear_error(fake_models):
    from player.mood.model import load_expression_model

    shutil.copytree(MODEL_DIR, fake_models / "expression")
    (fake_models / "expression" / "emotion_model.hdf5").write_bytes(b"this is not HDF5")
    with pytest.raises(MoodError, match="cannot read the expression model file") as err:
        load_expression_model()
    assert err.value.kind == "model_broken"


def test_missing_face_detector_file_is_named():
    from player.mood.detect import find_cascade

    with pytest.raises(MoodError, match="face detector file no_such_cascade.xml is missing") as err:
        find_cascade("no_such_cascade.xml")
    assert err.value.kind == "no_detector"
    assert find_cascade().name == "haarcascade_frontalface_default.xml"


@pytest.mark.tf
def test_numpy_forward_pass_matches_keras():
    import cv2
    import numpy as np

    from player.mood.model import load_expression_model

    ours = load_expression_model()
    keras = load_expression_model(backend="keras")
    rng = np.random.default_rng(3)
    faces = [rng.integers(0, 256, (64, 64), dtype=np.uint8), np.full((64, 64), 128, np.uint8)]
    if FACE.is_file():
        gray = cv2.imread(str(FACE), cv2.IMREAD_GRAYSCALE)
        faces.append(cv2.resize(gray[60:220, 80:240], (64, 64)))
    batch = np.stack(faces)
    a, b = ours.predict(batch), keras.predict(batch)
    assert a.shape == b.shape == (len(faces), 7)
    assert np.allclose(a.sum(axis=1), 1.0, atol=1e-5)
    assert np.abs(a - b).max() < 1e-4


def test_importing_player_mood_loads_nothing_heavy():
    code = (
        "import sys; import player.mood, player.mood.mapping, player.mood.monitor, player.commands.mood;"
        "from player.mood import MoodError;"
        "print(sorted(m for m in ('cv2','numpy','h5py','tensorflow','keras','PySide6') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- real photographs ----------------------------------------------------------------------------


@needs_photos
def test_a_face_photo_gives_a_box_probabilities_and_labels():
    r = read_mood_once(image=FACE)
    assert len(r.faces) == 1
    x, y, w, h = r.faces[0]
    assert 60 <= x <= 110 and 40 <= y <= 95 and 110 <= w <= 170  # the face, not the shirt
    assert set(r.probs) == set(EMOTIONS)
    assert abs(sum(r.probs.values()) - 1.0) < 1e-4
    assert r.emotion == "happy" and r.probs["happy"] > 0.5  # he smiles
    assert r.confidence == r.probs["happy"]
    assert r.labels == labels_for("happy") and r.labels
    assert r.message == ""
    assert r.frame_size == (320, 320)
    cheer = read_mood_once(image=str(FACE), policy="cheer_up")
    assert cheer.labels == labels_for("happy", "cheer_up") and cheer.policy == "cheer_up"


@needs_photos
def test_several_faces_use_the_largest():
    r = read_mood_once(image=FOUR_FACES)
    assert len(r.faces) == 4
    areas = [w * h for _, _, w, h in r.faces]
    assert areas == sorted(areas, reverse=True)
    assert r.box == r.faces[0]
    assert r.emotion in EMOTIONS and set(r.probs) == set(EMOTIONS)
    # the probabilities are those of the largest face: classify that crop alone and compare
    import cv2
    import numpy as np

    from player.mood.reading import MoodAnalyzer

    gray = cv2.cvtColor(cv2.imread(str(FOUR_FACES)), cv2.COLOR_BGR2GRAY)
    each = MoodAnalyzer().classify(gray, r.faces)
    got = [r.probs[e] for e in EMOTIONS]
    assert np.allclose(got, each[0], atol=1e-6)
    assert not np.allclose(got, each[1], atol=1e-3)  # the faces really differ


@pytest.mark.parametrize("photo", NO_FACE_PHOTOS, ids=lambda p: p.name)
def test_photos_without_a_face(photo):
    if not photo.is_file():
        pytest.skip("photographs come from Debian's opencv-doc package (apt-get install opencv-doc)")
    r = read_mood_once(image=photo)
    assert r.faces == [] and r.emotion is None and r.probs == {} and r.labels == []
    assert r.message == "no face" and r.format() == "no face"


def np_image():
    import numpy as np

    return np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)


def test_generated_images_without_a_face(tmp_path):
    import numpy as np

    noise = write_image(tmp_path / "noise.png", np_image())
    plain = write_image(tmp_path / "plain.jpg", np.full((480, 640, 3), 170, np.uint8))
    for path in (noise, plain):
        r = read_mood_once(image=path)
        assert r.message == "no face" and r.emotion is None
    assert read_mood_once(image=np_image()).message == "no face"  # an in-memory frame


def test_bad_images_are_clear_errors(tmp_path):
    import numpy as np

    black = write_image(tmp_path / "black.png", np.zeros((480, 640, 3), np.uint8))
    with pytest.raises(MoodError, match="black") as err:
        read_mood_once(image=black)
    assert err.value.kind == "black"
    fake = tmp_path / "photo.jpg"
    fake.write_text("not a picture")
    with pytest.raises(MoodError, match="is not an image the player can read"):
        read_mood_once(image=fake)
    with pytest.raises(MoodError, match="no such file"):
        read_mood_once(image=tmp_path / "missing.png")


# -- the command ---------------------------------------------------------------------------------


@needs_photos
def test_mood_once_command_prints_boxes_probabilities_labels(capsys):
    from player.cli import main

    assert main(["mood", "--once", "--image", str(FACE)]) == 0
    out = capsys.readouterr().out
    assert "face 1: x=" in out and "happy" in out and "neutral" in out
    assert f"mood labels (match): {', '.join(labels_for('happy'))}" in out
    assert main(["mood", "--once", "--image", str(FACE), "--json", "--policy", "cheer-up"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["emotion"] == "happy" and len(data["faces"]) == 1 and data["policy"] == "cheer_up"
    assert len(data["probs"]) == 7


def test_mood_once_command_no_face_and_errors(tmp_path, capsys):
    import numpy as np

    from player.cli import main

    noise = write_image(tmp_path / "noise.png", np_image())
    assert main(["mood", "--once", "--image", str(noise)]) == 0
    assert capsys.readouterr().out.strip() == "no face"
    assert main(["mood", "--once", "--image", str(tmp_path / "nope.jpg")]) == 2
    assert "error: no such file" in capsys.readouterr().err
    black = write_image(tmp_path / "black.png", np.zeros((48, 64, 3), np.uint8))
    assert main(["mood", "--once", "--image", str(black)]) == 2
    assert "black" in capsys.readouterr().err
    assert main(["mood", "--once", "--camera", "57"]) == 2
    err = capsys.readouterr().err
    assert "camera 57" in err and "Traceback" not in err


# -- image bombs: sizes from the header, refused before decoding ---------------------------------


def png_bomb(path, width, height):
    """A valid PNG (IHDR, a little zlib data, IEND) that claims ``width`` x ``height`` pixels."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = zlib.compress(b"\x00" * (1 + width) * 16, 9)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    return path


def test_image_sizes_come_from_the_header_in_every_format(tmp_path):
    import cv2
    import numpy as np

    from player.images import image_info

    frame = np.full((37, 53, 3), 100, np.uint8)
    for ext, fmt in ((".png", "png"), (".jpg", "jpeg"), (".bmp", "bmp"), (".webp", "webp"), (".tiff", "tiff"),
                     (".ppm", "pnm"), (".jp2", "jp2")):
        ok, data = cv2.imencode(ext, frame)
        assert ok
        path = tmp_path / f"x{ext}"
        path.write_bytes(data.tobytes())
        info = image_info(path)
        assert (info.format, info.width, info.height) == (fmt, 53, 37), ext
    gif = tmp_path / "x.gif"
    gif.write_bytes(b"GIF89a" + (53).to_bytes(2, "little") + (37).to_bytes(2, "little") + b"\x00" * 10)
    assert image_info(gif).width == 53
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    assert image_info(tmp_path / "junk.png") is None
    assert image_info(png_bomb(tmp_path / "b.png", 30000, 30000)).pixels == 900_000_000


PEAK = (
    "import sys\n"
    "from player.cli import main\n"
    "code = main(sys.argv[2:])\n"
    "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "open(sys.argv[1], 'w').write(peak)\n"
    "sys.exit(code)\n"
)


def run_mood(image, tmp_path):
    """``mood --once --image`` in a child process: (exit status, stdout, stderr, its peak memory in MB,
    from the kernel's high-water mark of the child's own address space)."""
    import os

    root = Path(__file__).resolve().parent.parent
    peak = tmp_path / "peak.txt"
    proc = subprocess.run([sys.executable, "-c", PEAK, str(peak), "mood", "--once", "--image", str(image)],
                          cwd=root, env=dict(os.environ, PYTHONPATH=str(root)), capture_output=True, text=True,
                          timeout=120)
    return proc.returncode, proc.stdout, proc.stderr, int(peak.read_text()) / 1024


@pytest.mark.parametrize("side", [30000, 60000])
def test_an_image_bomb_is_refused_in_words_without_the_memory(tmp_path, side):
    bomb = png_bomb(tmp_path / "bomb.png", side, side)
    assert bomb.stat().st_size < 100_000
    with pytest.raises(MoodError, match=f"is {side}x{side} pixels: too large to read") as err:
        read_mood_once(image=bomb)
    assert err.value.kind == "bad_source"
    code, _out, stderr, peak_mb = run_mood(bomb, tmp_path)
    assert code == 2 and "too large to read" in stderr and "cv2" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert peak_mb < 300, peak_mb


def test_a_big_jpeg_is_decoded_reduced_within_the_budget(tmp_path):
    import cv2
    import numpy as np

    from player.images import check_image

    path = tmp_path / "big.jpg"
    ok, data = cv2.imencode(".jpg", np.full((6000, 10000, 3), 128, np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 50])
    path.write_bytes(data.tobytes())
    del data
    info, reduction = check_image(path)
    assert (info.width, info.height, reduction) == (10000, 6000, 2)
    code, out, stderr, peak_mb = run_mood(path, tmp_path)
    assert code == 0 and out.strip() == "no face", stderr
    assert peak_mb < 300, peak_mb

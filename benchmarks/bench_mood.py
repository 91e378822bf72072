"""Benchmark: face detection + expression classification per 640x480 frame, on one core.

    .venv/bin/python benchmarks/bench_mood.py [--frames 60] [--no-keras]

Runs in one process, pinned to one CPU, with OpenCV, OpenMP, BLAS and TensorFlow limited to one
thread, over a synthetic webcam clip (a real face photo from Debian's opencv-doc, moving a little
over a real background photo, with sensor noise). Prints milliseconds of CPU time per frame
(median and 90th percentile; the wall-clock median too — on a busy machine that is inflated by other
processes sharing the core) for

* ``player.mood`` as the monitor runs it (half-size Haar search + tracking window, NumPy model)
* ``player.mood`` with a full search on every frame (no tracking: the worst frame of the monitor)
* the baseline: the naive path — full-size Haar search (fer's settings) + ``keras model.predict``
  on the face — in the same run, and the ratio baseline / ours.

Also the classifier alone: the NumPy forward pass vs Keras ``model(x)`` vs ``model.predict(x)``.
Target: detect + classify ≤ 50 ms per 640x480 frame on one core.
"""

from __future__ import annotations

import os
import sys

# one core, one thread everywhere — before NumPy / OpenCV / TensorFlow load
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
            "TF_NUM_INTEROP_THREADS"):
    os.environ[var] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FACE_PHOTOS = [
    "/usr/share/doc/opencv-doc/opencv4/html/face_swapped.jpg",
    "/usr/share/doc/opencv-doc/opencv4/html/julia_facedetect_sample.jpg",
]
BACKGROUNDS = ["/usr/share/doc/opencv-doc/examples/data/home.jpg",
               "/usr/share/doc/opencv-doc/examples/data/building.jpg"]


def pin_one_core() -> str:
    try:
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[-1]})
        return f"pinned to CPU {cpus[-1]} (of {len(cpus)})"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity)"


def make_clip(n: int, with_face: bool = True):
    """n 640x480 BGR frames: a face drifting a few pixels per frame over a background, plus noise."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(7)
    bg_path = next((p for p in BACKGROUNDS if Path(p).is_file()), None)
    bg = cv2.resize(cv2.imread(bg_path), (640, 480)) if bg_path else rng.integers(0, 255, (480, 640, 3), np.uint8)
    face_path = next((p for p in FACE_PHOTOS if Path(p).is_file()), None) if with_face else None
    face = None
    if face_path is not None:
        face = cv2.resize(cv2.imread(face_path), (240, 240), interpolation=cv2.INTER_AREA)
    elif with_face:
        print("warning: no face photo (apt-get install opencv-doc); the clip has no face", file=sys.stderr)
    frames = []
    for i in range(n):
        f = bg.copy()
        if face is not None:
            x = 200 + int(20 * np.sin(i / 6.0))
            y = 120 + int(10 * np.cos(i / 9.0))
            f[y:y + 240, x:x + 240] = face
        noise = rng.normal(0, 3, f.shape)
        frames.append(np.clip(f + noise, 0, 255).astype(np.uint8))
    return frames


def timeit(fn, frames, repeat: int = 1):
    """Median and 90th percentile per call, in ms of process CPU time (the work done on our one
    core, whatever else the machine runs), plus the median wall time."""
    cpu, wall = [], []
    for _ in range(repeat):
        for f in frames:
            w, c = time.perf_counter(), time.process_time()
            fn(f)
            cpu.append((time.process_time() - c) * 1000)
            wall.append((time.perf_counter() - w) * 1000)
    cpu.sort()
    return statistics.median(cpu), cpu[int(0.9 * (len(cpu) - 1))], statistics.median(wall)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--no-keras", action="store_true", help="skip the TensorFlow baseline (classifier in NumPy)")
    args = ap.parse_args(argv)

    where = pin_one_core()
    import cv2
    import numpy as np

    cv2.setNumThreads(1)
    from player.mood.detect import crop_face, find_cascade
    from player.mood.reading import MoodAnalyzer

    frames = make_clip(args.frames)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"bench_mood: {len(frames)} frames 640x480, {where}, cv2 {cv2.__version__} threads={cv2.getNumThreads()}, "
          f"load average {load:.1f}")
    print("  (ms of CPU time per frame: median, p90; wall-clock median in brackets)")

    t = time.perf_counter()
    ours = MoodAnalyzer(track=True)
    load_ms = (time.perf_counter() - t) * 1000
    ours.analyze(frames[0])  # warm-up
    ours.detector.reset()
    med_ours, p90_ours, wall_ours = timeit(ours.analyze, frames)
    found = sum(ours.analyze(f).has_face for f in frames)

    cold = MoodAnalyzer(track=False)
    cold.analyze(frames[0])
    med_cold, p90_cold, wall_cold = timeit(cold.analyze, frames)
    empty = make_clip(min(20, len(frames)), with_face=False)
    med_empty, p90_empty, wall_empty = timeit(ours.analyze, empty)

    # the naive baseline: full-size Haar (fer's defaults) + keras predict per face
    clf = cv2.CascadeClassifier(str(find_cascade()))
    if args.no_keras:
        classifier_name = "NumPy classifier"
        predict = ours.model.predict
    else:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        from player.mood.model import load_expression_model

        t = time.perf_counter()
        km = load_expression_model(backend="keras")
        keras_load_ms = (time.perf_counter() - t) * 1000
        classifier_name = "keras model.predict"

        def predict(crops):
            return km.keras_model.predict([km.preprocess(crops)], verbose=0)

    def naive(frame):
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        boxes = clf.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(50, 50))
        out = []
        for b in boxes:  # one predict call per face
            out.append(predict(crop_face(gray, tuple(b))[None])[0])
        return out

    naive(frames[0])
    med_base, p90_base, wall_base = timeit(naive, frames)

    print(f"  model load (NumPy from HDF5): {load_ms:.0f} ms" + ("" if args.no_keras else f"; Keras: {keras_load_ms:.0f} ms"))
    print(f"  faces found by the monitor path: {found}/{len(frames)} frames")
    print(f"  player.mood, monitor path (tracking) : median {med_ours:6.1f} ms  p90 {p90_ours:6.1f} ms  [{wall_ours:6.1f}]")
    print(f"  player.mood, full search every frame  : median {med_cold:6.1f} ms  p90 {p90_cold:6.1f} ms  [{wall_cold:6.1f}]")
    print(f"  player.mood, frames without a face    : median {med_empty:6.1f} ms  p90 {p90_empty:6.1f} ms  [{wall_empty:6.1f}]")
    print(f"  baseline: full-size Haar + {classifier_name:<20}: median {med_base:6.1f} ms  p90 {p90_base:6.1f} ms  [{wall_base:6.1f}]")
    print(f"  ratio baseline / monitor path: {med_base / med_ours:.1f}x;  baseline / full search: {med_base / med_cold:.1f}x"
          f"  (wall clock: {wall_base / wall_ours:.1f}x, {wall_base / wall_cold:.1f}x)")

    # the classifier alone (one face)
    gray = cv2.cvtColor(frames[0], cv2.COLOR_BGR2GRAY)
    box = ours.detector.detect(gray)[0] if ours.detector.detect(gray) else (200, 120, 240, 240)
    crop = crop_face(gray, box)[None]
    med_np, _, _ = timeit(lambda _: ours.model.predict(crop), range(50))
    line = f"  classifier alone, 1 face: NumPy {med_np:.2f} ms"
    if not args.no_keras:
        x = km.preprocess(crop)
        med_call, _, _ = timeit(lambda _: km.keras_model([x], training=False), range(30))
        med_pred, _, _ = timeit(lambda _: km.keras_model.predict([x], verbose=0), range(15))
        diff = float(np.abs(ours.model.predict(crop) - km.predict(crop)).max())
        line += f"; keras model(x) {med_call:.2f} ms; keras predict {med_pred:.2f} ms (max |NumPy-Keras| {diff:.1e})"
    print(line)
    worst = max(p90_cold, p90_empty)
    verdict = "meets" if worst <= 50 else ("median meets" if max(med_cold, med_empty) <= 50 else "MISSES")
    print(f"  target <= 50 ms per frame (worst case: full search / no face, p90 {worst:.1f} ms): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Label a folder of music with the pretrained musicnn taggers (the *teacher*), for distillation.

    python scripts/label_with_teacher.py MUSIC_DIR OUT [--workers N] [--limit N]

For every audio file under MUSIC_DIR the teacher runs on consecutive, non-overlapping 3-second patches
(its training input: 187 frames of a 16 kHz, 96-band log-mel) of the **whole** track, with both of
musicnn's models: ``MSD_musicnn`` (Million Song Dataset, 50 tags) and ``MTT_musicnn`` (MagnaTagATune,
50 tags). Per patch it keeps the 100 tag probabilities and both models' 200-unit penultimate layers
(the teacher's embedding, the baseline the students must beat). Students then average the patches that
fall inside whatever excerpt they train on.

Output (OUT/):
  tracks/<id>.npz    one file per labelled track (this is what makes the run resumable)
  skipped.tsv        path, reason: files that could not be read (they are skipped, never fatal)
  labels.npz         everything merged (written at the end of every run): see :func:`merge`
  tags.json          the teacher's tag names (``msd``, ``mtt``), the tagger vocabulary and genre map

The package of a track (used to split train/val/test so that a package is wholly on one side) comes
from MUSIC_DIR/manifest.tsv (written by ../shared/data/fetch_training_music.sh) when it exists, else
from the track's first folder below MUSIC_DIR (for your own library: usually the artist or album).

The teacher is a training-only extra: ``pip install --no-deps musicnn==0.1.0`` (see docs/training.md).
Only its checkpoint files are used. Its own code is **not** imported: it needs the legacy tf-keras,
switches TensorFlow to graph mode for the whole process, casts the mel to float16 before
``log10(10000 x + 1)`` (which overflows: every tag becomes NaN) and restores its weights inside a bare
``except:``. Here the network is rebuilt from plain TensorFlow ops (:class:`MusicnnTeacher`) with the
weights read by ``tf.compat.v1.train.NewCheckpointReader`` and checked, and the log is computed in float32.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

# ---- the teacher's front end (musicnn/configuration.py) ------------------------------------------------
TEACHER_SR = 16000
TEACHER_N_FFT = 512
TEACHER_HOP = 256
TEACHER_N_MELS = 96
PATCH_FRAMES = 187  # librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1
PATCH_SECONDS = PATCH_FRAMES * TEACHER_HOP / TEACHER_SR  # 2.992 s
BN_EPS = 1e-3  # tf.compat.v1.layers.batch_normalization's default
TEACHER_MODELS = ("MSD_musicnn", "MTT_musicnn")
AUDIO_EXTENSIONS = {".mp3", ".ogg", ".oga", ".opus", ".flac", ".wav", ".wave", ".m4a", ".aac"}

# musicnn/configuration.py, in the order of the models' outputs
MTT_LABELS = ['guitar', 'classical', 'slow', 'techno', 'strings', 'drums', 'electronic', 'rock', 'fast',
              'piano', 'ambient', 'beat', 'violin', 'vocal', 'synth', 'female', 'indian', 'opera', 'male',
              'singing', 'vocals', 'no vocals', 'harpsichord', 'loud', 'quiet', 'flute', 'woman', 'male vocal',
              'no vocal', 'pop', 'soft', 'sitar', 'solo', 'man', 'classic', 'choir', 'voice', 'new age',
              'dance', 'male voice', 'female vocal', 'beats', 'harp', 'cello', 'no voice', 'weird', 'country',
              'metal', 'female voice', 'choral']
MSD_LABELS = ['rock', 'pop', 'alternative', 'indie', 'electronic', 'female vocalists', 'dance', '00s',
              'alternative rock', 'jazz', 'beautiful', 'metal', 'chillout', 'male vocalists', 'classic rock',
              'soul', 'indie rock', 'Mellow', 'electronica', '80s', 'folk', '90s', 'chill', 'instrumental',
              'punk', 'oldies', 'blues', 'hard rock', 'ambient', 'acoustic', 'experimental', 'female vocalist',
              'guitar', 'Hip-Hop', '70s', 'party', 'country', 'easy listening', 'sexy', 'catchy', 'funk',
              'electro', 'heavy metal', 'Progressive rock', '60s', 'rnb', 'indie pop', 'sad', 'House', 'happy']

# ---- the students' targets -----------------------------------------------------------------------------
# The tagger's 50 tags, each the max over the teacher tags it merges ("msd:" / "mtt:" prefixes).
# docs/training.md explains the choice. Left out: the decades (00s..60s, oldies), solo, harp, opera and
# Progressive rock.
TAGGER_VOCABULARY: dict[str, list[str]] = {
    # genres and styles
    "rock": ["mtt:rock", "msd:rock", "msd:classic rock", "msd:hard rock"],
    "pop": ["mtt:pop", "msd:pop"],
    "indie": ["msd:indie", "msd:indie rock", "msd:indie pop", "msd:alternative", "msd:alternative rock"],
    "electronic": ["mtt:electronic", "msd:electronic", "msd:electronica", "msd:electro"],
    "dance": ["mtt:dance", "msd:dance"],
    "techno": ["mtt:techno"],
    "house": ["msd:House"],
    "ambient": ["mtt:ambient", "msd:ambient"],
    "new age": ["mtt:new age"],
    "classical": ["mtt:classical", "mtt:classic"],
    "jazz": ["msd:jazz"],
    "blues": ["msd:blues"],
    "soul": ["msd:soul", "msd:rnb"],
    "funk": ["msd:funk"],
    "hip-hop": ["msd:Hip-Hop"],
    "metal": ["mtt:metal", "msd:metal", "msd:heavy metal"],
    "punk": ["msd:punk"],
    "folk": ["msd:folk"],
    "country": ["mtt:country", "msd:country"],
    "indian": ["mtt:indian", "mtt:sitar"],
    "experimental": ["msd:experimental"],
    # moods and character
    "happy": ["msd:happy"],
    "sad": ["msd:sad"],
    "mellow": ["msd:Mellow"],
    "chill": ["msd:chill", "msd:chillout"],
    "party": ["msd:party"],
    "beautiful": ["msd:beautiful"],
    "sexy": ["msd:sexy"],
    "catchy": ["msd:catchy"],
    "easy listening": ["msd:easy listening"],
    "quiet": ["mtt:quiet", "mtt:soft"],
    "loud": ["mtt:loud"],
    "weird": ["mtt:weird"],
    "fast": ["mtt:fast"],
    "slow": ["mtt:slow"],
    # instruments and voices
    "guitar": ["mtt:guitar", "msd:guitar"],
    "acoustic": ["msd:acoustic"],
    "piano": ["mtt:piano"],
    "drums": ["mtt:drums"],
    "beat": ["mtt:beat", "mtt:beats"],
    "synth": ["mtt:synth"],
    "strings": ["mtt:strings", "mtt:cello"],
    "violin": ["mtt:violin"],
    "flute": ["mtt:flute"],
    "harpsichord": ["mtt:harpsichord"],
    "choir": ["mtt:choir", "mtt:choral"],
    "female vocals": ["mtt:female", "mtt:woman", "mtt:female vocal", "mtt:female voice",
                      "msd:female vocalists", "msd:female vocalist"],
    "male vocals": ["mtt:male", "mtt:man", "mtt:male vocal", "mtt:male voice", "msd:male vocalists"],
    "vocals": ["mtt:vocal", "mtt:vocals", "mtt:singing", "mtt:voice"],
    "instrumental": ["mtt:no vocals", "mtt:no vocal", "mtt:no voice", "msd:instrumental"],
}

# FMA-small's eight genres (seed 000's classes, in its order-independent alphabetical form) from the
# teacher's tags: each genre's score is the max over its tags. docs/training.md discusses each one.
GENRES = ["Electronic", "Experimental", "Folk", "Hip-Hop", "Instrumental", "International", "Pop", "Rock"]
GENRE_MAP: dict[str, list[str]] = {
    "Electronic": ["mtt:electronic", "msd:electronic", "msd:electronica", "msd:electro", "mtt:techno",
                   "msd:House"],
    "Experimental": ["msd:experimental", "mtt:weird"],
    "Folk": ["msd:folk", "mtt:country", "msd:country"],
    "Hip-Hop": ["msd:Hip-Hop"],
    "Instrumental": ["msd:instrumental", "mtt:no vocals", "mtt:no vocal", "mtt:no voice"],
    "International": ["mtt:indian", "mtt:sitar"],
    "Pop": ["mtt:pop", "msd:pop", "msd:indie pop"],
    "Rock": ["mtt:rock", "msd:rock", "msd:classic rock", "msd:hard rock", "msd:alternative rock",
             "msd:indie rock", "msd:punk", "mtt:metal", "msd:metal", "msd:heavy metal"],
}


def teacher_columns() -> list[str]:
    """The 100 teacher outputs in the column order of ``labels.npz['teacher']``: MSD's 50, then MTT's."""
    return [f"msd:{t}" for t in MSD_LABELS] + [f"mtt:{t}" for t in MTT_LABELS]


def _combine(probs: np.ndarray, groups: dict[str, list[str]]) -> np.ndarray:
    cols = {name: i for i, name in enumerate(teacher_columns())}
    probs = np.asarray(probs, dtype=np.float32)
    if probs.shape[-1] != len(cols):
        raise ValueError(f"expected {len(cols)} teacher columns (MSD then MTT), got {probs.shape[-1]}")
    out = [probs[..., [cols[s] for s in sources]].max(axis=-1) for sources in groups.values()]
    return np.stack(out, axis=-1)


def tagger_targets(teacher: np.ndarray) -> np.ndarray:
    """(..., 100) teacher probabilities → (..., 50) soft targets of the tagger vocabulary (max-merge)."""
    return _combine(teacher, TAGGER_VOCABULARY)


def genre_scores(teacher: np.ndarray) -> np.ndarray:
    """(..., 100) teacher probabilities → (..., 8) per-genre scores (max over each genre's tags)."""
    return _combine(teacher, GENRE_MAP)


# ---- the split -------------------------------------------------------------------------------------------
SPLIT_FRACTIONS = {"train": 0.60, "val": 0.15, "test": 0.25}


def assign_splits(tracks_per_package: dict[str, int],
                  fractions: dict[str, float] | None = None) -> dict[str, str]:
    """package → 'train' | 'val' | 'test', every package wholly on one side; deterministic.

    Packages are taken from the largest to the smallest (ties by name) and each goes to the split that
    is furthest below its target share of tracks (ties in the order train, val, test). With a handful
    of packages of very different sizes this balances the tracks far better than hashing names.
    """
    fractions = fractions or SPLIT_FRACTIONS
    total = sum(tracks_per_package.values())
    have = {s: 0 for s in fractions}
    out = {}
    for package, n in sorted(tracks_per_package.items(), key=lambda kv: (-kv[1], kv[0])):
        split = max(fractions, key=lambda s: (fractions[s] * total - have[s], -list(fractions).index(s)))
        out[package] = split
        have[split] += n
    return out


# ---- audio -----------------------------------------------------------------------------------------------
class AudioError(Exception):
    """A file that cannot be decoded; the message is a one-line reason."""


def load_mono(path: str | os.PathLike, sr: int, max_seconds: float | None = None) -> np.ndarray:
    """Decode a file to mono float32 at ``sr`` (soundfile + soxr HQ, as librosa.load does)."""
    import soundfile as sf
    import soxr

    try:
        with sf.SoundFile(str(path)) as f:
            native = f.samplerate
            frames = -1 if max_seconds is None else int(max_seconds * native)
            data = f.read(frames=frames, dtype="float32", always_2d=True)
    except Exception as e:  # libsndfile's messages are one line already
        raise AudioError(f"cannot decode: {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}")
    if data.size == 0:
        raise AudioError("no audio frames")
    y = data.mean(axis=1)
    if not np.all(np.isfinite(y)):
        raise AudioError("decoded audio has NaN/inf samples")
    if native != sr:
        y = soxr.resample(y, native, sr, quality="HQ").astype(np.float32)
    return y


def teacher_logmel(y: np.ndarray) -> np.ndarray:
    """musicnn's input: (frames, 96) of log10(10000 * mel + 1), in float32 (musicnn's float16 overflows)."""
    import librosa

    mel = librosa.feature.melspectrogram(y=y, sr=TEACHER_SR, hop_length=TEACHER_HOP, n_fft=TEACHER_N_FFT,
                                         n_mels=TEACHER_N_MELS).T.astype(np.float32)
    return np.log10(10000.0 * mel + 1.0, dtype=np.float32)


def patches(logmel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping 187-frame patches (n, 187, 96) and their start times in seconds.

    A track shorter than one patch is repeat-padded (musicnn's training did the same: ``repeat-pad``).
    """
    n_frames = logmel.shape[0]
    if n_frames < PATCH_FRAMES:
        reps = int(np.ceil(PATCH_FRAMES / max(n_frames, 1)))
        logmel = np.tile(logmel, (reps, 1))[:PATCH_FRAMES]
        n_frames = PATCH_FRAMES
    n = n_frames // PATCH_FRAMES
    x = logmel[: n * PATCH_FRAMES].reshape(n, PATCH_FRAMES, TEACHER_N_MELS)
    starts = np.arange(n, dtype=np.float32) * PATCH_SECONDS
    return x, starts


# ---- the teacher -----------------------------------------------------------------------------------------
def musicnn_dir() -> Path:
    """The folder of the installed musicnn package (found without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the teacher is not installed: .venv/bin/pip install --no-deps musicnn==0.1.0 "
                         "(see docs/training.md)")
    return Path(list(spec.submodule_search_locations)[0])


class MusicnnTeacher:
    """musicnn's ``build_musicnn`` (models.py) in inference mode, rebuilt from plain TensorFlow ops.

    Variable names follow the creation order of ``tf.compat.v1.layers`` in musicnn/models.py:
    conv2d..conv2d_4 = front end (timbral 7x38, 7x67; temporal 128x1, 64x1, 32x1), conv2d_5..7 = mid end,
    dense = penultimate (200), dense_1 = logits; batch_normalization(_k) in the same order.
    """

    def __init__(self, name: str, folder: Path | None = None):
        import tensorflow as tf

        self.name = name
        ckpt = str((folder or musicnn_dir()) / name) + "/"
        try:
            reader = tf.compat.v1.train.NewCheckpointReader(ckpt)  # the prefix, not the folder
        except Exception as e:
            raise SystemExit(f"cannot read the teacher checkpoint {ckpt}: {e}")
        shapes = reader.get_variable_to_shape_map()
        self.w = {k: tf.constant(reader.get_tensor(k), dtype=tf.float32) for k in shapes
                  if "Adam" not in k and not k.endswith("_power")}
        expected = {"conv2d/kernel": [7, 38, 1, 204], "conv2d_5/kernel": [7, 561, 1, 64],
                    "dense/kernel": [1506, 200], "dense_1/kernel": [200, 50]}
        for k, shape in expected.items():
            if list(shapes.get(k, [])) != shape:
                raise SystemExit(f"{name}: unexpected checkpoint ({k} is {shapes.get(k)}, expected {shape})")
        for k, v in self.w.items():  # restored for real: nothing left at an initialiser's constant
            if k.endswith("kernel") and float(tf.math.reduce_std(v)) == 0.0:
                raise SystemExit(f"{name}: checkpoint variable {k} is constant: weights did not load")
        self._fn = tf.function(self._forward, input_signature=[
            tf.TensorSpec([None, PATCH_FRAMES, TEACHER_N_MELS], tf.float32)])

    def _bn(self, x, k):
        import tensorflow as tf

        p = "batch_normalization" + ("" if k == 0 else f"_{k}")
        w = self.w
        return tf.nn.batch_normalization(x, w[p + "/moving_mean"], w[p + "/moving_variance"], w[p + "/beta"],
                                         w[p + "/gamma"], BN_EPS)

    def _conv(self, x, k, padding):
        import tensorflow as tf

        p = "conv2d" + ("" if k == 0 else f"_{k}")
        y = tf.nn.conv2d(x, self.w[p + "/kernel"], strides=1, padding=padding) + self.w[p + "/bias"]
        return tf.nn.relu(y)

    def _dense(self, x, k):
        p = "dense" + ("" if k == 0 else f"_{k}")
        return x @ self.w[p + "/kernel"] + self.w[p + "/bias"]

    def _forward(self, x):
        import tensorflow as tf

        x = self._bn(x[..., None], 0)  # (B, T, 96, 1)
        pad7 = tf.pad(x, [[0, 0], [3, 3], [0, 0], [0, 0]])
        front = []
        for conv_k, bn_k, inp, padding in ((0, 1, pad7, "VALID"), (1, 2, pad7, "VALID"), (2, 3, x, "SAME"),
                                           (3, 4, x, "SAME"), (4, 5, x, "SAME")):
            h = self._bn(self._conv(inp, conv_k, padding), bn_k)
            front.append(tf.reduce_max(h, axis=2))  # pool over all frequencies → (B, T, C)
        front = tf.concat(front, axis=2)  # (B, T, 561)
        # mid end: 1-D convolutions over time (kernel 7 x all channels), two residual
        h0 = front[..., None]
        h1 = self._bn(self._conv(tf.pad(h0, [[0, 0], [3, 3], [0, 0], [0, 0]]), 5, "VALID"), 6)
        h1 = tf.transpose(h1, [0, 1, 3, 2])  # (B, T, 64, 1)
        h2 = self._bn(self._conv(tf.pad(h1, [[0, 0], [3, 3], [0, 0], [0, 0]]), 6, "VALID"), 7)
        h2 = tf.transpose(h2, [0, 1, 3, 2]) + h1
        h3 = self._bn(self._conv(tf.pad(h2, [[0, 0], [3, 3], [0, 0], [0, 0]]), 7, "VALID"), 8)
        h3 = tf.transpose(h3, [0, 1, 3, 2]) + h2
        mid = tf.concat([h0, h1, h2, h3], axis=2)  # (B, T, 753, 1)
        # back end: max and mean over time, interleaved as musicnn's flatten of concat([max, mean], 2)
        pooled = tf.concat([tf.reduce_max(mid, axis=1), tf.reduce_mean(mid, axis=1)], axis=2)  # (B, 753, 2)
        flat = self._bn(tf.reshape(pooled, [-1, 753 * 2]), 9)
        penultimate = self._bn(tf.nn.relu(self._dense(flat, 0)), 10)
        logits = self._dense(penultimate, 1)
        return tf.sigmoid(logits), penultimate

    def __call__(self, x: np.ndarray, batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
        """(n, 187, 96) log-mel patches → tag probabilities (n, 50) and penultimate layers (n, 200)."""
        probs, emb = [], []
        for i in range(0, len(x), batch):
            p, e = self._fn(np.ascontiguousarray(x[i:i + batch], dtype=np.float32))
            probs.append(p.numpy())
            emb.append(e.numpy())
        if not probs:
            return np.zeros((0, 50), np.float32), np.zeros((0, 200), np.float32)
        return np.concatenate(probs), np.concatenate(emb)


def check_teacher(teachers: list[MusicnnTeacher]) -> None:
    """Refuse to label with a teacher whose outputs are NaN or do not depend on the input."""
    t = np.arange(int(PATCH_SECONDS * TEACHER_SR) + TEACHER_SR) / TEACHER_SR
    rng = np.random.default_rng(0)
    sig = [0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 330 * t),
           0.3 * rng.standard_normal(t.size) * (np.sin(2 * np.pi * 2 * t) > 0)]
    x = np.stack([patches(teacher_logmel(s.astype(np.float32)))[0][0] for s in sig])
    for teacher in teachers:
        p, e = teacher(x)
        if not (np.all(np.isfinite(p)) and np.all(np.isfinite(e))):
            raise SystemExit(f"{teacher.name}: the teacher outputs NaN: its weights or input are broken")
        if np.abs(p[0] - p[1]).max() < 1e-3:
            raise SystemExit(f"{teacher.name}: the same output for a chord and for noise: weights did not load")


# ---- the corpus ------------------------------------------------------------------------------------------
def read_manifest(music_dir: Path) -> dict[str, str]:
    """relative path → package from MUSIC_DIR/manifest.tsv (the fetch script's), if there is one."""
    m = music_dir / "manifest.tsv"
    if not m.exists():
        return {}
    out = {}
    with open(m, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if "path" not in header or "package" not in header:
            raise SystemExit(f"{m}: expected the columns 'path' and 'package', got {header}")
        ip, ik = header.index("path"), header.index("package")
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) > max(ip, ik):
                out[cols[ip]] = cols[ik]
    return out


def find_tracks(music_dir: Path) -> list[tuple[str, str]]:
    """(relative path, package) of every audio file, sorted; the manifest decides when there is one."""
    manifest = read_manifest(music_dir)
    if manifest:
        return sorted(manifest.items())
    found = []
    for root, dirs, files in os.walk(music_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if Path(name).suffix.lower() in AUDIO_EXTENSIONS:
                rel = os.path.relpath(os.path.join(root, name), music_dir).replace(os.sep, "/")
                package = rel.split("/")[0] if "/" in rel else "."
                found.append((rel, package))
    return sorted(found)


def track_id(rel: str) -> str:
    return hashlib.sha1(rel.encode("utf-8")).hexdigest()[:16]


def label_track(path: Path, teachers: list[MusicnnTeacher], max_seconds: float | None) -> dict:
    y = load_mono(path, TEACHER_SR, max_seconds)
    x, starts = patches(teacher_logmel(y))
    probs, embs = zip(*(t(x) for t in teachers))
    return {"starts": starts, "teacher": np.concatenate(probs, axis=1).astype(np.float32),
            "msd_penultimate": embs[0].astype(np.float16), "mtt_penultimate": embs[1].astype(np.float16),
            "seconds": np.float32(len(y) / TEACHER_SR)}


def merge(out: Path, tracks: list[tuple[str, str]]) -> dict:
    """Gather OUT/tracks/*.npz of ``tracks`` into OUT/labels.npz.

    Arrays: ``path`` / ``package`` / ``split`` / ``seconds`` per track; per patch ``track`` (index into
    path), ``start`` (s), ``teacher`` (n, 100) probabilities (MSD's 50 then MTT's 50, see tags.json),
    ``msd_penultimate`` / ``mtt_penultimate`` (n, 200) float16.
    """
    paths, packages, seconds, per = [], [], [], {k: [] for k in ("track", "start", "teacher", "msd_penultimate",
                                                                 "mtt_penultimate")}
    for rel, package in tracks:
        f = out / "tracks" / f"{track_id(rel)}.npz"
        if not f.exists():
            continue
        with np.load(f) as z:
            i = len(paths)
            paths.append(rel)
            packages.append(package)
            seconds.append(float(z["seconds"]))
            per["track"].append(np.full(len(z["starts"]), i, np.int32))
            per["start"].append(z["starts"])
            for k in ("teacher", "msd_penultimate", "mtt_penultimate"):
                per[k].append(z[k])
    if not paths:
        raise SystemExit("no track could be labelled: nothing to merge")
    counts: dict[str, int] = {}
    for p in packages:
        counts[p] = counts.get(p, 0) + 1
    splits = assign_splits(counts)
    arrays = {"path": np.array(paths), "package": np.array(packages),
              "split": np.array([splits[p] for p in packages]),
              "seconds": np.array(seconds, np.float32)}
    arrays.update({k: np.concatenate(v) for k, v in per.items()})
    tmp = out / "labels.tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, out / "labels.npz")
    return arrays


def write_tags_json(out: Path) -> None:
    info = {"teacher": {"models": list(TEACHER_MODELS), "columns": teacher_columns(), "msd": MSD_LABELS,
                        "mtt": MTT_LABELS, "sample_rate": TEACHER_SR, "n_fft": TEACHER_N_FFT,
                        "hop_length": TEACHER_HOP, "n_mels": TEACHER_N_MELS, "patch_frames": PATCH_FRAMES,
                        "patch_seconds": PATCH_SECONDS, "log": "log10(10000*mel+1), float32"},
            "tagger_vocabulary": TAGGER_VOCABULARY, "genres": GENRES, "genre_map": GENRE_MAP,
            "split": {"fractions": SPLIT_FRACTIONS,
                      "rule": "packages largest first, each to the split furthest below its share of tracks"}}
    (out / "tags.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Resumable: tracks already in OUT/tracks are not labelled again.")
    ap.add_argument("music_dir", metavar="MUSIC_DIR", type=Path, help="folder of audio files (any depth)")
    ap.add_argument("out", metavar="OUT", type=Path, help="output folder (created)")
    ap.add_argument("--max-seconds", type=float, default=None,
                    help="label only the first N seconds of each track (default: all of it)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N tracks (for a quick look)")
    ap.add_argument("--threads", type=int, default=None, help="TensorFlow threads (default: TF's choice)")
    args = ap.parse_args(argv)

    if not args.music_dir.is_dir():
        print(f"error: not a folder: {args.music_dir}", file=sys.stderr)
        return 2
    tracks = find_tracks(args.music_dir)
    if args.limit:
        tracks = tracks[: args.limit]
    if not tracks:
        print(f"error: no audio files ({', '.join(sorted(AUDIO_EXTENSIONS))}) under {args.music_dir}",
              file=sys.stderr)
        return 2
    (args.out / "tracks").mkdir(parents=True, exist_ok=True)
    write_tags_json(args.out)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    from tqdm import tqdm

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    teachers = [MusicnnTeacher(name) for name in TEACHER_MODELS]
    check_teacher(teachers)

    skipped_file = args.out / "skipped.tsv"
    skipped = {}
    if skipped_file.exists():
        for line in skipped_file.read_text(encoding="utf-8").splitlines():
            rel, _, reason = line.partition("\t")
            skipped[rel] = reason
    todo = [(rel, pkg) for rel, pkg in tracks
            if not (args.out / "tracks" / f"{track_id(rel)}.npz").exists() and rel not in skipped]
    t0, audio_s = time.perf_counter(), 0.0
    bar = tqdm(todo, unit="track", desc="teacher", dynamic_ncols=True)
    for rel, pkg in bar:
        try:
            result = label_track(args.music_dir / rel, teachers, args.max_seconds)
        except AudioError as e:
            skipped[rel] = str(e)
            with open(skipped_file, "a", encoding="utf-8") as f:
                f.write(f"{rel}\t{e}\n")
            tqdm.write(f"skip {rel}: {e}", file=sys.stderr)
            continue
        audio_s += float(result["seconds"])
        tmp = args.out / "tracks" / f"{track_id(rel)}.tmp.npz"
        np.savez(tmp, **result)
        os.replace(tmp, args.out / "tracks" / f"{track_id(rel)}.npz")
        bar.set_postfix(audio_h=f"{audio_s / 3600:.2f}")
    bar.close()
    arrays = merge(args.out, tracks)
    dt = time.perf_counter() - t0
    n_split = {s: len({p for p, sp in zip(arrays["package"], arrays["split"]) if sp == s})
               for s in ("train", "val", "test")}
    print(f"labelled {len(todo) - sum(1 for r, _ in todo if r in skipped)} new tracks "
          f"({audio_s / 3600:.2f} h of audio) in {dt:.0f} s; {len(arrays['path'])} tracks, "
          f"{len(arrays['track'])} patches in {args.out / 'labels.npz'}; packages per split {n_split}; "
          f"{len(skipped)} skipped (see {skipped_file})" if skipped else
          f"labelled {len(todo)} new tracks ({audio_s / 3600:.2f} h of audio) in {dt:.0f} s; "
          f"{len(arrays['path'])} tracks, {len(arrays['track'])} patches in {args.out / 'labels.npz'}; "
          f"packages per split {n_split}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

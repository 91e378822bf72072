"""The explicit model registry: model folders under ``models/`` -> ready-to-run models.

A model folder ``models/<name>/`` holds (see ``models/README.md``)::

    config.json   every preprocessing constant (the ``frontend`` section, read by features.py), the
                  architecture name (a key of architectures.ARCHITECTURES), version, input shape, ...
    labels.json   the class / tag names, in output order (a JSON list of strings)
    weights.npz   the weights, one array per variable path (float16 by default); Keras'
                  ``*.weights.h5`` is accepted too
    README.md     the model card

:func:`load` builds the architecture named in the config (never unpickles code), loads the weights and
returns a :class:`Model`. Every problem is a :class:`ModelError` whose message names the file at fault.
Nothing here imports Keras until a model is loaded.

The folder root is ``player.paths.models_dir()`` (``PLAYER_MODELS_DIR`` overrides it) or the
``models_dir`` argument.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from player.analysis import features as F

__all__ = ["ModelError", "Model", "ModelInfo", "VersionLabels", "load", "available", "default_name",
           "read_config", "read_labels", "labels_for_version", "parse_version", "save_weights", "load_weights",
           "write_model_folder", "models_root", "CONFIG_FILE", "LABELS_FILE", "CARD_FILE", "CONFIG_FORMAT",
           "TASKS"]

CONFIG_FILE = "config.json"
LABELS_FILE = "labels.json"
CARD_FILE = "README.md"
INDEX_FILE = "registry.json"
CONFIG_FORMAT = 1
TASKS = ("genre", "tags")
#: The order in which a default model is chosen when ``registry.json`` names none (seed 000 found the
#: CNN-LSTM best).
PREFERENCE = ("cnn_lstm", "cnn_bilstm", "cnn", "fcn_tagger")
_REQUIRED = ("format", "name", "version", "task", "architecture", "input_shape", "n_classes", "weights",
             "frontend")


class ModelError(Exception):
    """A model folder is missing, incomplete or corrupt; the message names the file."""


def models_root(models_dir=None) -> Path:
    if models_dir is not None:
        return Path(models_dir)
    from player import paths

    return paths.models_dir()


def _read_json(path: Path, what: str):
    if not path.is_file():
        raise ModelError(f"{path}: missing ({what})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: not valid JSON ({exc})") from None


def read_config(folder) -> dict:
    """Read and check ``folder/config.json``; raises :class:`ModelError` naming the file."""
    path = Path(folder) / CONFIG_FILE
    cfg = _read_json(path, "the model's configuration")
    if not isinstance(cfg, dict):
        raise ModelError(f"{path}: must be a JSON object")
    missing = [k for k in _REQUIRED if k not in cfg]
    if missing:
        raise ModelError(f"{path}: lacks {', '.join(missing)}")
    if cfg["format"] != CONFIG_FORMAT:
        raise ModelError(f"{path}: format {cfg['format']!r} is not supported (this player reads {CONFIG_FORMAT})")
    if cfg["task"] not in TASKS:
        raise ModelError(f"{path}: task must be one of {TASKS}, got {cfg['task']!r}")
    from player.analysis.architectures import ARCHITECTURES

    if cfg["architecture"] not in ARCHITECTURES:
        raise ModelError(f"{path}: unknown architecture {cfg['architecture']!r} "
                         f"(known: {', '.join(sorted(ARCHITECTURES))})")
    try:
        F.validate_frontend(cfg["frontend"])
    except F.FrontendError as exc:
        raise ModelError(f"{path}: {exc}") from None
    expect = list(F.feature_shape(cfg["frontend"]))
    if list(cfg["input_shape"]) != expect:
        raise ModelError(f"{path}: input_shape {cfg['input_shape']} does not match its frontend, "
                         f"which produces {expect}")
    return cfg


def read_labels(folder, n_classes: int | None = None) -> list:
    path = Path(folder) / LABELS_FILE
    labels = _read_json(path, "the class / tag names")
    if not isinstance(labels, list) or not all(isinstance(x, str) and x for x in labels):
        raise ModelError(f"{path}: must be a JSON list of non-empty strings")
    if len(set(labels)) != len(labels):
        raise ModelError(f"{path}: names must be unique")
    if n_classes is not None and len(labels) != n_classes:
        raise ModelError(f"{path}: has {len(labels)} names but config.json says n_classes = {n_classes}")
    return labels


# ------------------------------------------------------------------------- a stored version's names

@dataclass(frozen=True)
class VersionLabels:
    """The label names of the models an analysis was stored under (``None``: that model's folder is not
    installed, or its labels.json is unreadable: the stored vector has no names)."""

    model_version: str
    tags: tuple[str, ...] | None
    genres: tuple[str, ...] | None


def parse_version(model_version: str | None) -> tuple[tuple[str, str], ...]:
    """``"tagger@1+cnn_lstm@2"`` -> ``(("tagger", "1"), ("cnn_lstm", "2"))``: the tagger first, the genre
    model last (the form :func:`player.analysis.engine.model_version` writes)."""
    parts = []
    for part in str(model_version or "").split("+"):
        name, _, version = part.strip().partition("@")
        if name:
            parts.append((name, version))
    return tuple(parts)


_NAMES_CACHE: dict[Path, tuple[object, tuple[str, ...] | None]] = {}


def _cached_labels(folder: Path) -> tuple[str, ...] | None:
    path = folder / LABELS_FILE
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        return None
    hit = _NAMES_CACHE.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    try:
        names = tuple(read_labels(folder))
    except ModelError:
        names = None
    _NAMES_CACHE[path] = (stamp, names)
    return names


def labels_for_version(model_version: str | None, models_dir=None) -> VersionLabels:
    """The tag and genre names for vectors stored under ``model_version``, from the named models'
    ``labels.json`` (re-read when a file changes). Names are never inferred from a vector's length."""
    parts = parse_version(model_version)
    root = models_root(models_dir)
    tags = _cached_labels(root / parts[0][0]) if parts else None
    genres = _cached_labels(root / parts[-1][0]) if len(parts) > 1 else None
    return VersionLabels(str(model_version or ""), tags, genres)


# ------------------------------------------------------------------------------------------ weights

def save_weights(model, path, dtype: str = "float16") -> Path:
    """Write ``model``'s variables (not the optimizer's) to ``path`` (``.npz``), keyed by variable path.

    ``dtype='float16'`` halves the file; a variable that would overflow float16 is kept in float32.
    """
    import keras

    path = Path(path)
    arrays = {}
    for v in model.weights:
        a = np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float32)
        if dtype == "float16":
            h = a.astype(np.float16)
            if np.all(np.isfinite(h)):
                a = h
        if v.path in arrays:
            raise ValueError(f"two variables share the path {v.path!r}; name the layers uniquely")
        arrays[v.path] = a
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    os.replace(tmp, path)
    return path


def load_weights(model, path) -> None:
    """Load weights written by :func:`save_weights` (or Keras' ``.weights.h5``) into ``model``."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: missing (the model's weights)")
    if path.name.endswith(".weights.h5"):
        try:
            model.load_weights(str(path))
        except Exception as exc:
            raise ModelError(f"{path}: cannot load these weights into {model.name} ({exc})") from None
        return
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise ModelError(f"{path}: corrupt or not a weights file ({type(exc).__name__}: {exc})") from None
    names = [v.path for v in model.weights]
    missing = [n for n in names if n not in arrays]
    extra = [k for k in arrays if k not in set(names)]
    if missing or extra:
        detail = []
        if missing:
            detail.append(f"lacks {len(missing)} variable(s) e.g. {missing[0]}")
        if extra:
            detail.append(f"has {len(extra)} unknown variable(s) e.g. {extra[0]}")
        raise ModelError(f"{path}: does not fit architecture {model.name} ({'; '.join(detail)})")
    for v in model.weights:
        a = arrays[v.path]
        if tuple(a.shape) != tuple(v.shape):
            raise ModelError(f"{path}: variable {v.path} has shape {tuple(a.shape)}, "
                             f"{model.name} needs {tuple(v.shape)}")
        if not np.all(np.isfinite(a)):
            raise ModelError(f"{path}: variable {v.path} holds NaN or infinite values")
        v.assign(a.astype(np.float32))


# -------------------------------------------------------------------------------------------- model

@dataclass
class ModelInfo:
    name: str
    folder: Path
    task: str | None = None
    architecture: str | None = None
    version: object = None
    error: str | None = None


@dataclass
class Model:
    """A loaded model: its config, labels and Keras network, and batch prediction helpers."""

    name: str
    folder: Path
    config: dict
    labels: list
    keras_model: object = field(repr=False)
    _with_embedding: object = field(default=None, repr=False)
    _runners: dict = field(default_factory=dict, repr=False)  # id(network) -> its forward pass

    # --- facts from config.json
    @property
    def version(self):
        return self.config["version"]

    @property
    def version_tag(self) -> str:
        """``name@version``: what the library records as the analysis' model version."""
        return f"{self.name}@{self.config['version']}"

    @property
    def task(self) -> str:
        return self.config["task"]

    @property
    def frontend(self) -> dict:
        return self.config["frontend"]

    @property
    def input_shape(self) -> tuple:
        return tuple(self.config["input_shape"])

    @property
    def n_classes(self) -> int:
        return int(self.config["n_classes"])

    @property
    def embedding_dim(self) -> int:
        from player.analysis.architectures import embedding_dim

        return embedding_dim(self.keras_model)

    @property
    def thresholds(self) -> np.ndarray:
        """Per-label decision thresholds (``config['thresholds']``: a number or a list; default 0.5)."""
        t = self.config.get("thresholds", 0.5)
        arr = np.asarray(t, dtype=np.float32)
        if arr.ndim == 0:
            arr = np.full(self.n_classes, float(arr), np.float32)
        return arr

    # --- features (delegated to features.py with this model's constants)
    def features(self, audio: np.ndarray) -> np.ndarray:
        """Model input batch for one mono excerpt already at ``frontend['sample_rate']``."""
        return F.features(audio, self.frontend)

    def load_features(self, path, offset=None, duration: float | None = None) -> np.ndarray:
        """Decode the excerpt this model needs from an audio file and return its input batch."""
        return F.load_features(path, self.frontend, offset=offset, duration=duration)

    # --- inference
    def _check(self, batch) -> np.ndarray:
        x = np.asarray(batch, dtype=np.float32)
        if x.ndim == len(self.input_shape):
            x = x[None]
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"{self.name} expects a batch of shape (n, {', '.join(map(str, self.input_shape))}),"
                             f" got {x.shape}")
        return x

    def _runner(self, net):
        """``net``'s forward pass (inference) as one callable: on TensorFlow a ``tf.function`` traced once
        for any batch size (``predict_on_batch`` traces again for each new size: about 0.3 s of CPU each,
        the last, smaller batch of a run included), elsewhere ``predict_on_batch``."""
        key = id(net)
        fn = self._runners.get(key)
        if fn is None:
            import keras

            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                spec = tf.TensorSpec((None, *self.input_shape), tf.float32)
                fn = tf.function(lambda x: net(x, training=False), input_signature=[spec])
            else:
                fn = net.predict_on_batch
            self._runners[key] = fn
        return fn

    def _run(self, net, x: np.ndarray, batch_size: int):
        outs = []
        run = self._runner(net)
        for i in range(0, len(x), batch_size):
            y = run(x[i:i + batch_size])
            outs.append(y if isinstance(y, (list, tuple)) else [y])
        if not outs:
            return None
        return [np.concatenate([np.asarray(o[j], dtype=np.float32) for o in outs]) for j in range(len(outs[0]))]

    def predict(self, batch, batch_size: int = 64) -> np.ndarray:
        """Probabilities ``(n, n_classes)`` float32 for a batch of inputs (softmax or sigmoid)."""
        x = self._check(batch)
        if len(x) == 0:
            return np.zeros((0, self.n_classes), np.float32)
        return self._run(self.keras_model, x, batch_size)[0]

    def predict_with_embedding(self, batch, batch_size: int = 64) -> tuple:
        """``(probabilities (n, n_classes), embeddings (n, embedding_dim))`` from one forward pass."""
        x = self._check(batch)
        if len(x) == 0:
            return np.zeros((0, self.n_classes), np.float32), np.zeros((0, self.embedding_dim), np.float32)
        if self._with_embedding is None:
            from player.analysis.architectures import with_embedding

            self._with_embedding = with_embedding(self.keras_model)
        probs, emb = self._run(self._with_embedding, x, batch_size)
        return probs, emb

    def embed(self, batch, batch_size: int = 64) -> np.ndarray:
        return self.predict_with_embedding(batch, batch_size)[1]

    def summarise(self, probs: np.ndarray, emb: np.ndarray | None = None) -> dict:
        """Aggregate one track's per-slice / per-excerpt outputs as the seeds do: mean probabilities,
        mean embedding, and per label the count of rows where it passes its threshold."""
        probs = np.asarray(probs, np.float32)
        out = {"probabilities": probs.mean(axis=0), "n": int(len(probs))}
        if self.config.get("output", "softmax") == "softmax":
            counts = np.bincount(probs.argmax(axis=1), minlength=self.n_classes)
        else:
            counts = (probs >= self.thresholds[None, :]).sum(axis=0)
        out["counts"] = counts.astype(np.int64)
        if emb is not None:
            out["embedding"] = np.asarray(emb, np.float32).mean(axis=0)
        return out


def _build(cfg: dict, folder: Path):
    from player.analysis.architectures import build

    try:
        return build(cfg["architecture"], int(cfg["n_classes"]), cfg["input_shape"])
    except Exception as exc:
        raise ModelError(f"{folder / CONFIG_FILE}: cannot build {cfg['architecture']} ({exc})") from None


def load(name, models_dir=None) -> Model:
    """Load model ``name`` (a folder under the models root, or a path to a model folder)."""
    text = os.fspath(name)
    if os.path.isabs(text) or os.sep in text or (os.altsep and os.altsep in text):
        folder = Path(text)  # a path to a model folder
    else:
        folder = models_root(models_dir) / text
    if not folder.is_dir():
        known = [m.name for m in available(models_dir)]
        raise ModelError(f"{folder}: no such model folder (available: {', '.join(known) or 'none'})")
    cfg = read_config(folder)
    labels = read_labels(folder, int(cfg["n_classes"]))
    net = _build(cfg, folder)
    load_weights(net, folder / cfg["weights"])
    return Model(name=folder.name, folder=folder, config=cfg, labels=labels, keras_model=net)


def _is_analysis_model(folder: Path) -> bool:
    """Other areas keep models in models/ too (e.g. the mood area's ``expression``): a config.json that
    is a JSON object naming neither a ``task`` nor a ``frontend`` is not ours and is ignored."""
    try:
        data = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return True  # unreadable: list it with its error
    return not isinstance(data, dict) or "task" in data or "frontend" in data


def available(models_dir=None) -> list:
    """Every analysis model folder under the root (folders holding a ``config.json``), sorted by name.

    Broken folders are listed with ``error`` set rather than hidden; other areas' model folders (a
    config.json without ``task`` or ``frontend``) are skipped."""
    root = models_root(models_dir)
    out = []
    if not root.is_dir():
        return out
    for d in sorted(p for p in root.iterdir() if p.is_dir() and (p / CONFIG_FILE).exists()):
        if not _is_analysis_model(d):
            continue
        try:
            cfg = read_config(d)
            out.append(ModelInfo(d.name, d, cfg["task"], cfg["architecture"], cfg["version"]))
        except ModelError as exc:
            out.append(ModelInfo(d.name, d, error=str(exc)))
    return out


def default_name(task: str, models_dir=None) -> str:
    """The model used for ``task`` ('genre' or 'tags') when none is chosen.

    ``models/registry.json`` (``{"defaults": {"genre": NAME, "tags": NAME}}``) decides when present;
    otherwise the first working model of that task in :data:`PREFERENCE` order of architectures."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}")
    root = models_root(models_dir)
    index = root / INDEX_FILE
    if index.exists():
        data = _read_json(index, "the default models")
        name = (data.get("defaults") or {}).get(task) if isinstance(data, dict) else None
        if name:
            if not (root / name / CONFIG_FILE).exists():
                raise ModelError(f"{index}: default {task} model {name!r} has no folder with a config.json")
            return name
    infos = [m for m in available(models_dir) if m.error is None and m.task == task]
    if not infos:
        raise ModelError(f"{root}: no {task} model installed")
    infos.sort(key=lambda m: (PREFERENCE.index(m.architecture) if m.architecture in PREFERENCE else 99, m.name))
    return infos[0].name


def write_model_folder(folder, model, config: dict, labels: list, card: str | None = None,
                       weights_dtype: str = "float16") -> Path:
    """Write a complete model folder (weights, labels.json, config.json, README.md) and check it loads."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = dict(config)
    cfg.setdefault("format", CONFIG_FORMAT)
    cfg.setdefault("weights", "weights.npz")
    cfg["weights_dtype"] = weights_dtype
    cfg["n_classes"] = len(labels)
    from player.analysis.architectures import OUTPUT_KIND

    cfg.setdefault("output", OUTPUT_KIND[cfg["architecture"]])
    save_weights(model, folder / cfg["weights"], dtype=weights_dtype)
    (folder / LABELS_FILE).write_text(json.dumps(list(labels), indent=1) + "\n", encoding="utf-8")
    (folder / CONFIG_FILE).write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
    if card is not None:
        (folder / CARD_FILE).write_text(card, encoding="utf-8")
    read_config(folder)
    read_labels(folder, len(labels))
    return folder

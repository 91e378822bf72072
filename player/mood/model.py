"""The facial-expression classifier: the shipped Keras model run as a small NumPy forward pass.

The model folder (``models/expression/``) holds the original Keras-2 HDF5 file from the ``fer``
package (see its README.md model card), ``labels.json`` (the class order) and ``config.json``
(input size and value range, face crop margin). The HDF5 file is read with ``h5py`` — the graph
(``model_config``) and the weights — and evaluated layer by layer in NumPy. That avoids loading
TensorFlow at all (seconds of start-up, hundreds of MB) for a 58k-parameter network whose forward
pass is a couple of milliseconds. ``backend="keras"`` runs the same file through Keras 3 instead
(used by the tests, to check the NumPy pass against it, and by the benchmark's baseline); Keras is
imported only then.

Nothing here is imported at ``import player.mood`` time except this module's own code; NumPy and
h5py are imported when a model is loaded.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

from player.mood.errors import MoodError

EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

MODEL_FOLDER_NAME = "expression"


def model_folder() -> Path:
    from player.paths import models_dir

    return models_dir() / MODEL_FOLDER_NAME


@dataclass
class ModelConfig:
    folder: Path
    model_file: Path
    labels: tuple[str, ...]
    input_size: tuple[int, int] = (64, 64)
    value_range: tuple[float, float] = (-1.0, 1.0)
    crop_margin: float = 0.1
    extra: dict = field(default_factory=dict)


def read_model_config(folder: Path | None = None) -> ModelConfig:
    """Read ``config.json`` and ``labels.json`` of the model folder; MoodError naming the file."""
    folder = Path(folder) if folder is not None else model_folder()
    config_path = folder / "config.json"
    labels_path = folder / "labels.json"
    for path in (config_path, labels_path):
        if not path.is_file():
            raise MoodError(
                f"the facial-expression model file is missing: {path} "
                "(it ships with the player in models/expression/; restore it from the repository)",
                "model_missing",
            )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MoodError(f"cannot read the expression model's settings {config_path.name}/{labels_path.name} "
                        f"in {folder}: {exc}", "model_broken") from exc
    if isinstance(labels, dict):  # {"0": "angry", …} is accepted too
        labels = [labels[k] for k in sorted(labels, key=int)]
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise MoodError(f"{labels_path} must be a JSON list of class names", "model_broken")
    model_file = folder / config.get("model_file", "emotion_model.hdf5")
    if not model_file.is_file():
        raise MoodError(
            f"the facial-expression model file is missing: {model_file} "
            "(it ships with the player in models/expression/; restore it from the repository)",
            "model_missing",
        )
    inp = config.get("input", {})
    return ModelConfig(
        folder=folder,
        model_file=model_file,
        labels=tuple(labels),
        input_size=tuple(inp.get("size", (64, 64))),
        value_range=tuple(inp.get("range", (-1.0, 1.0))),
        crop_margin=float(config.get("crop_margin", 0.1)),
        extra=config,
    )


# ---------------------------------------------------------------------------------------------
# Layers, one sample at a time, channels first (C, H, W), float32. Weights keep Keras' layout
# (kh, kw, cin, cout); padding follows TensorFlow's "same" (extra row/column after).


def _same_pads(n: int, k: int, s: int) -> tuple[int, int]:
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _pad(x, kh: int, kw: int, sh: int, sw: int, padding: str, value: float = 0.0):
    import numpy as np

    if padding != "same":
        return x
    top, bottom = _same_pads(x.shape[1], kh, sh)
    left, right = _same_pads(x.shape[2], kw, sw)
    if top or bottom or left or right:
        x = np.pad(x, ((0, 0), (top, bottom), (left, right)), constant_values=value)
    return x


def _windows(x, kh, kw, sh, sw):
    """(kh*kw) strided views of x, one per kernel tap, each (C, OH, OW)."""
    _, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    return [x[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw] for i in range(kh) for j in range(kw)], oh, ow


def _conv2d(x, kernel, strides, padding, bias=None):
    import numpy as np

    kh, kw, cin, cout = kernel.shape
    sh, sw = strides
    x = _pad(x, kh, kw, sh, sw, padding)
    if kh == 1 and kw == 1:
        xs = x[:, ::sh, ::sw]
        oh, ow = xs.shape[1:]
        y = kernel[0, 0].T @ xs.reshape(cin, -1)
    else:
        taps, oh, ow = _windows(x, kh, kw, sh, sw)
        cols = np.stack(taps, axis=1).reshape(cin * kh * kw, oh * ow)  # rows: (c, tap)
        y = kernel.transpose(3, 2, 0, 1).reshape(cout, cin * kh * kw) @ cols
    if bias is not None:
        y += bias[:, None]
    return y.reshape(cout, oh, ow)


def _depthwise(x, kernel, strides, padding):
    """Depthwise conv (depth_multiplier 1): OpenCV's filter2D per channel when it can (stride 1,
    odd kernel), else a sum of shifted, per-channel scaled copies."""
    import numpy as np

    kh, kw, c, mult = kernel.shape
    if mult != 1:
        raise MoodError("the expression model uses depth_multiplier != 1, which is not supported", "model_broken")
    sh, sw = strides
    if (sh, sw) == (1, 1) and kh % 2 == 1 and kw % 2 == 1:
        import cv2

        y = np.empty_like(x)
        for ch in range(c):
            y[ch] = cv2.filter2D(x[ch], -1, kernel[:, :, ch, 0], borderType=cv2.BORDER_CONSTANT)
        if padding == "valid":
            y = y[:, kh // 2 : y.shape[1] - kh // 2, kw // 2 : y.shape[2] - kw // 2]
        return y
    x = _pad(x, kh, kw, sh, sw, padding)
    taps, oh, ow = _windows(x, kh, kw, sh, sw)
    y = np.zeros((c, oh, ow), dtype=x.dtype)
    for t, part in enumerate(taps):
        y += part * kernel[t // kw, t % kw, :, 0][:, None, None]
    return y


def _maxpool(x, pool, strides, padding):
    import numpy as np

    ph, pw = pool
    sh, sw = strides
    x = _pad(x, ph, pw, sh, sw, padding, value=-np.inf)
    taps, _, _ = _windows(x, ph, pw, sh, sw)
    y = taps[0].copy()
    for part in taps[1:]:
        np.maximum(y, part, out=y)
    return y


def _activation(x, name, axis=0):
    import numpy as np

    if name in (None, "linear"):
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "softmax":
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    raise MoodError(f"the expression model uses activation {name!r}, which is not supported", "model_broken")


class NumpyKerasGraph:
    """A Keras-2 functional model from an HDF5 file, evaluated with NumPy (and OpenCV's filter2D).

    Supports the layers of the mini-Xception expression model: InputLayer, Conv2D,
    SeparableConv2D, BatchNormalization, Activation, MaxPooling2D, Add, GlobalAveragePooling2D
    (and Dropout, Flatten, Dense). Any other layer is a clear MoodError. BatchNormalization is
    folded into the convolution before it when that convolution feeds nothing else.
    """

    SUPPORTED = {"InputLayer", "Conv2D", "SeparableConv2D", "BatchNormalization", "Activation",
                 "MaxPooling2D", "Add", "GlobalAveragePooling2D", "Dropout", "Flatten", "Dense"}

    def __init__(self, path: Path):
        import numpy as np

        try:
            import h5py
        except ImportError as exc:  # pragma: no cover - h5py comes with keras
            raise MoodError("h5py is needed to read the expression model (it comes with keras)", "model_broken") from exc
        self.path = Path(path)
        try:
            with h5py.File(self.path, "r") as f:
                config = json.loads(_as_str(f.attrs["model_config"]))
                group = f["model_weights"] if "model_weights" in f else f
                weights = {}
                for layer in config["config"]["layers"]:
                    name = layer["config"].get("name", layer.get("name"))
                    if name in group:
                        g = group[name]
                        names = [_as_str(n) for n in g.attrs.get("weight_names", [])]
                        weights[name] = [np.asarray(g[n], dtype=np.float32) for n in names]
        except MoodError:
            raise
        except Exception as exc:  # OSError from h5py, KeyError for a file that is not a Keras model
            raise MoodError(f"cannot read the expression model file {self.path}: {exc}", "model_broken") from exc
        if config.get("class_name") not in ("Model", "Functional"):
            raise MoodError(f"{self.path} is not a Keras functional model", "model_broken")
        self.input_shape = None
        self.nodes = []  # [name, kind, inputs, params]
        consumers: dict[str, int] = {}
        for layer in config["config"]["layers"]:
            for inbound in (layer.get("inbound_nodes") or [[]])[0]:
                consumers[inbound[0]] = consumers.get(inbound[0], 0) + 1
        try:
            for layer in config["config"]["layers"]:
                self.nodes.append(self._node(layer, weights))
        except (KeyError, IndexError, TypeError) as exc:
            raise MoodError(f"cannot read the expression model file {self.path}: layer settings or weights "
                            f"missing ({exc})", "model_broken") from exc
        self.output = config["config"]["output_layers"][0][0]
        self._fold_batchnorm(consumers)

    def _node(self, layer, weights):
        import numpy as np

        kind = layer["class_name"]
        cfg = layer["config"]
        name = layer.get("name") or cfg["name"]
        if kind not in self.SUPPORTED:
            raise MoodError(f"{self.path}: layer {name} of type {kind} is not supported by the NumPy runner",
                            "model_broken")
        inputs = [n[0] for n in (layer.get("inbound_nodes") or [[]])[0]]
        w = weights.get(name, [])
        params: dict = {}
        if kind == "InputLayer":
            self.input_shape = tuple(cfg.get("batch_input_shape") or cfg.get("batch_shape"))
        elif kind == "Conv2D":
            params = dict(kernel=w[0], bias=w[1] if cfg.get("use_bias") else None,
                          strides=tuple(cfg["strides"]), padding=cfg["padding"], act=cfg.get("activation"))
        elif kind == "SeparableConv2D":
            params = dict(depthwise=np.ascontiguousarray(w[0]), pointwise=np.ascontiguousarray(w[1][0, 0].T),
                          bias=w[2] if cfg.get("use_bias") else None,
                          strides=tuple(cfg["strides"]), padding=cfg["padding"], act=cfg.get("activation"))
        elif kind == "BatchNormalization":
            names = []
            if cfg.get("scale", True):
                names.append("gamma")
            if cfg.get("center", True):
                names.append("beta")
            names += ["mean", "var"]
            vals = dict(zip(names, w))
            gamma = vals.get("gamma", np.ones_like(vals["mean"]))
            beta = vals.get("beta", np.zeros_like(vals["mean"]))
            scale = gamma / np.sqrt(vals["var"] + float(cfg.get("epsilon", 1e-3)))
            params = dict(scale=scale.astype(np.float32), shift=(beta - vals["mean"] * scale).astype(np.float32))
        elif kind == "Activation":
            params = dict(act=cfg["activation"])
        elif kind == "MaxPooling2D":
            params = dict(pool=tuple(cfg["pool_size"]), strides=tuple(cfg.get("strides") or cfg["pool_size"]),
                          padding=cfg["padding"])
        elif kind == "Dense":
            params = dict(kernel=w[0], bias=w[1] if cfg.get("use_bias") else None, act=cfg.get("activation"))
        return [name, kind, inputs, params]

    def _fold_batchnorm(self, consumers):
        """conv (no activation) → BN, where the conv feeds only the BN: scale the conv's weights."""
        import numpy as np

        by_name = {n[0]: n for n in self.nodes}
        for node in self.nodes:
            name, kind, inputs, params = node
            if kind != "BatchNormalization" or len(inputs) != 1:
                continue
            src = by_name.get(inputs[0])
            if src is None or src[1] not in ("Conv2D", "SeparableConv2D") or consumers.get(src[0], 0) != 1:
                continue
            sp = src[3]
            if sp.get("act") not in (None, "linear"):
                continue
            scale, shift = params["scale"], params["shift"]
            if src[1] == "Conv2D":
                sp["kernel"] = (sp["kernel"] * scale).astype(np.float32)  # (kh, kw, cin, cout) * cout
            else:
                sp["pointwise"] = (sp["pointwise"] * scale[:, None]).astype(np.float32)  # (cout, cin)
            bias = sp["bias"] if sp["bias"] is not None else np.zeros_like(shift)
            sp["bias"] = (bias * scale + shift).astype(np.float32)
            node[1] = "Identity"
            node[3] = {}

    def run_one(self, x):
        """One sample, channels last (H, W, C) as Keras takes it; returns the output vector."""
        import numpy as np

        values: dict = {}
        for name, kind, inputs, p in self.nodes:
            if kind == "InputLayer":
                values[name] = np.ascontiguousarray(np.asarray(x, dtype=np.float32).transpose(2, 0, 1))
                continue
            a = values[inputs[0]]
            if kind == "Conv2D":
                y = _activation(_conv2d(a, p["kernel"], p["strides"], p["padding"], p["bias"]), p["act"])
            elif kind == "SeparableConv2D":
                d = _depthwise(a, p["depthwise"], p["strides"], p["padding"])
                c, h, w = d.shape
                y = p["pointwise"] @ d.reshape(c, h * w)
                if p["bias"] is not None:
                    y += p["bias"][:, None]
                y = _activation(y.reshape(-1, h, w), p["act"])
            elif kind == "BatchNormalization":
                shape = (-1,) + (1,) * (a.ndim - 1)
                y = a * p["scale"].reshape(shape) + p["shift"].reshape(shape)
            elif kind == "Activation":
                y = _activation(a, p["act"])
            elif kind == "MaxPooling2D":
                y = _maxpool(a, p["pool"], p["strides"], p["padding"])
            elif kind == "Add":
                y = a.copy()
                for other in inputs[1:]:
                    y += values[other]
            elif kind == "GlobalAveragePooling2D":
                y = a.mean(axis=(1, 2))
            elif kind == "Flatten":
                y = np.ascontiguousarray(a.transpose(1, 2, 0)).reshape(-1) if a.ndim == 3 else a.reshape(-1)
            elif kind == "Dense":
                y = a @ p["kernel"]
                if p["bias"] is not None:
                    y = y + p["bias"]
                y = _activation(y, p["act"])
            else:  # Identity (folded BN), Dropout
                y = a
            values[name] = y
        return values[self.output]

    def __call__(self, x):
        """A batch, channels last (N, H, W, C) → (N, outputs)."""
        import numpy as np

        return np.stack([self.run_one(sample) for sample in np.asarray(x, dtype=np.float32)])


def _as_str(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class ExpressionModel:
    """The classifier: ``predict(faces)`` with faces a (N, H, W) uint8 grayscale batch of crops
    already resized to ``input_size``; returns (N, 7) probabilities in ``labels`` order."""

    def __init__(self, config: ModelConfig, backend: str = "numpy"):
        self.config = config
        self.labels = config.labels
        self.input_size = config.input_size
        self.backend = backend
        if backend == "numpy":
            self._graph = NumpyKerasGraph(config.model_file)
            self._run = self._graph
        elif backend == "keras":
            self._run = self._load_keras()
        else:
            raise ValueError(f"unknown backend {backend!r} (numpy or keras)")

    def _load_keras(self):
        import os

        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras

        try:
            model = keras.models.load_model(str(self.config.model_file), compile=False)
        except Exception as exc:
            raise MoodError(f"cannot load the expression model {self.config.model_file} with Keras: {exc}",
                            "model_broken") from exc
        self.keras_model = model

        def run(x):
            return model([x], training=False).numpy()  # a list: the model was saved with one named input

        return run

    def preprocess(self, faces):
        import numpy as np

        lo, hi = self.config.value_range
        x = np.asarray(faces, dtype=np.float32) * ((hi - lo) / 255.0) + lo
        return x[..., None]

    def predict(self, faces):
        import numpy as np

        faces = np.asarray(faces)
        if faces.ndim == 2:
            faces = faces[None]
        if len(faces) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return np.asarray(self._run(self.preprocess(faces)), dtype=np.float32)


_cache: dict = {}
_cache_lock = threading.Lock()


def load_expression_model(folder: Path | None = None, backend: str = "numpy") -> ExpressionModel:
    """The expression model of ``folder`` (default ``models/expression``), loaded once per process."""
    config = read_model_config(folder)
    key = (str(config.model_file), config.model_file.stat().st_mtime_ns, backend)
    with _cache_lock:
        model = _cache.get(key)
        if model is None:
            model = _cache[key] = ExpressionModel(config, backend=backend)
    return model

"""The seeds' networks as Keras 3 definitions (backend-agnostic: no TensorFlow calls, channels-last).

Seed 000 (genre, 128x128x1 mel slices, 8-way softmax) — layer for layer the tables of its report:

* ``cnn``        4,273,512 parameters (7,040 non-trainable)
* ``cnn_lstm``   2,759,016 parameters (2,944 non-trainable)
* ``cnn_bilstm`` 3,152,744 parameters (2,944 non-trainable)

The 32-unit ``Dense`` before the softmax is named ``embedding``: :func:`with_embedding` returns a model
that outputs ``[probabilities, embedding]`` from one forward pass (the song embedding is its mean over a
song's slices, as the seed does). The recurrent variants keep the seed's ``Reshape((512, -1))`` +
``Permute((2, 1))`` exactly: on a channels-last ``(2, 2, 512)`` map that reshape regroups the flat
memory into 512 rows of 4 consecutive values, so each of the 4 LSTM steps sees every 4th value of the
flattened map, not one spatial position. It is odd, but it is what was trained and measured.

Seed 002 (Choi et al. FCN tagger, 96x1366x1 log-mel, 50 sigmoid tags) — ``fcn_tagger``: a batch-norm
over the frequency axis of the input, five blocks of 3x3 conv (64/128/128/128/64) + batch-norm + ELU +
max-pool (2,4) (2,4) (2,4) (3,5) (4,4), flatten (64) and the 50-unit sigmoid layer. Its 64-d flatten is
named ``embedding`` too. The seed trained it with categorical cross-entropy; multi-label tags need binary
cross-entropy (what the training script uses).

Every builder takes ``n_classes`` (8 / 50 by default, the seeds' numbers) and builds a functional model
whose layer names are fixed, so weight files map onto variables by name on every backend.
"""

from __future__ import annotations

__all__ = ["ARCHITECTURES", "build", "with_embedding", "embedding_dim", "cnn", "cnn_lstm", "cnn_bilstm",
           "fcn_tagger", "EMBEDDING_LAYER", "OUTPUT_LAYER"]

EMBEDDING_LAYER = "embedding"
OUTPUT_LAYER = "output"
GENRE_INPUT = (128, 128, 1)
TAGGER_INPUT = (96, 1366, 1)


def _he():
    import keras

    return keras.initializers.HeNormal(seed=1)


def _conv_trunk(x, L):
    """Seed 000's four conv blocks (shared by all three genre models)."""
    x = L.Conv2D(64, (7, 7), activation="relu", kernel_initializer=_he(), name="conv1")(x)
    x = L.BatchNormalization(name="bn1")(x)
    x = L.AveragePooling2D((2, 2), strides=2, name="pool1")(x)
    x = L.Conv2D(128, (7, 7), strides=2, activation="relu", kernel_initializer=_he(), name="conv2")(x)
    x = L.BatchNormalization(name="bn2")(x)
    x = L.AveragePooling2D((2, 2), strides=2, name="pool2")(x)
    x = L.Conv2D(256, (3, 3), activation="relu", kernel_initializer=_he(), name="conv3")(x)
    x = L.BatchNormalization(name="bn3")(x)
    x = L.AveragePooling2D((2, 2), strides=2, name="pool3")(x)
    x = L.Conv2D(512, (3, 3), activation="relu", kernel_initializer=_he(), name="conv4")(x)
    x = L.BatchNormalization(name="bn4")(x)
    x = L.AveragePooling2D((2, 2), strides=2, name="pool4")(x)
    x = L.BatchNormalization(name="bn5")(x)
    return x


def _dense_head(x, L, n_classes):
    x = L.Dense(1024, activation="relu", kernel_initializer=_he(), name="dense1")(x)
    x = L.Dropout(0.5, name="dropout_dense1")(x)
    x = L.Dense(256, activation="relu", kernel_initializer=_he(), name="dense2")(x)
    x = L.Dropout(0.25, name="dropout_dense2")(x)
    x = L.Dense(64, activation="relu", kernel_initializer=_he(), name="dense3")(x)
    x = L.Dense(32, activation="relu", kernel_initializer=_he(), name=EMBEDDING_LAYER)(x)
    # float32 output even under a mixed-precision policy (stable softmax / loss).
    return L.Dense(n_classes, activation="softmax", kernel_initializer=_he(), dtype="float32",
                   name=OUTPUT_LAYER)(x)


def cnn(n_classes: int = 8, input_shape=GENRE_INPUT):
    """Seed 000 §6.1, "CNN": 4,273,512 parameters for 8 classes."""
    import keras
    from keras import layers as L

    inp = keras.Input(shape=tuple(input_shape), name="mel")
    x = _conv_trunk(inp, L)
    x = L.Flatten(name="flatten")(x)
    x = L.BatchNormalization(name="bn6")(x)
    x = L.Dropout(0.6, name="dropout_features")(x)
    return keras.Model(inp, _dense_head(x, L, n_classes), name="cnn")


def _recurrent(n_classes, input_shape, bidirectional: bool, name: str):
    import keras
    from keras import layers as L

    inp = keras.Input(shape=tuple(input_shape), name="mel")
    x = _conv_trunk(inp, L)
    x = L.Dropout(0.6, name="dropout_features")(x)
    x = L.Reshape((512, -1), name="reshape")(x)
    x = L.Permute((2, 1), name="permute")(x)
    first = L.LSTM(128, return_sequences=True, name="lstm1")
    x = (L.Bidirectional(first, name="bilstm1") if bidirectional else first)(x)
    x = L.LSTM(128, name="lstm2")(x)
    return keras.Model(inp, _dense_head(x, L, n_classes), name=name)


def cnn_lstm(n_classes: int = 8, input_shape=GENRE_INPUT):
    """Seed 000 §6.2, "CNNLSTM": 2,759,016 parameters for 8 classes."""
    return _recurrent(n_classes, input_shape, False, "cnn_lstm")


def cnn_bilstm(n_classes: int = 8, input_shape=GENRE_INPUT):
    """Seed 000 §6.3, "CNNBiLSTM": 3,152,744 parameters for 8 classes."""
    return _recurrent(n_classes, input_shape, True, "cnn_bilstm")


def fcn_tagger(n_classes: int = 50, input_shape=TAGGER_INPUT):
    """Seed 002's FCN (Choi et al. 2016), channels-last: input (96 mel, 1366 frames, 1)."""
    import keras
    from keras import layers as L

    inp = keras.Input(shape=tuple(input_shape), name="mel")
    x = L.BatchNormalization(axis=1, name="bn_0_freq")(inp)  # seed: axis=freq_axis
    blocks = [(64, (2, 4)), (128, (2, 4)), (128, (2, 4)), (128, (3, 5)), (64, (4, 4))]
    for i, (filters, pool) in enumerate(blocks, 1):
        x = L.Conv2D(filters, (3, 3), padding="same", name=f"conv{i}")(x)
        x = L.BatchNormalization(axis=-1, name=f"bn{i}")(x)
        x = L.ELU(name=f"elu{i}")(x)
        x = L.MaxPooling2D(pool_size=pool, name=f"pool{i}")(x)
    x = L.Flatten(name=EMBEDDING_LAYER)(x)
    out = L.Dense(n_classes, activation="sigmoid", dtype="float32", name=OUTPUT_LAYER)(x)
    return keras.Model(inp, out, name="fcn_tagger")


#: The explicit registry of architectures a ``config.json`` may name.
ARCHITECTURES = {
    "cnn": cnn,
    "cnn_lstm": cnn_lstm,
    "cnn_bilstm": cnn_bilstm,
    "fcn_tagger": fcn_tagger,
}
#: What each architecture's output means (``softmax``: one class; ``sigmoid``: independent tags).
OUTPUT_KIND = {"cnn": "softmax", "cnn_lstm": "softmax", "cnn_bilstm": "softmax", "fcn_tagger": "sigmoid"}


def build(name: str, n_classes: int, input_shape=None):
    """Build architecture ``name`` (a key of :data:`ARCHITECTURES`)."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r} (known: {', '.join(sorted(ARCHITECTURES))})")
    if input_shape is None:
        return ARCHITECTURES[name](n_classes)
    return ARCHITECTURES[name](n_classes, tuple(input_shape))


def with_embedding(model):
    """A model sharing ``model``'s weights that returns ``[output, embedding]`` in one pass."""
    import keras

    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, [model.output, model.get_layer(EMBEDDING_LAYER).output],
                       name=f"{model.name}_with_embedding")


def embedding_dim(model) -> int:
    return int(model.get_layer(EMBEDDING_LAYER).output.shape[-1])

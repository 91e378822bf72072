"""The Keras definitions reproduce the seeds' networks layer for layer (player/analysis/architectures.py)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.tf

# Seed 000's tables: (layer type, output shape without batch, parameters).
TRUNK = [
    ("Conv2D", (122, 122, 64), 3200), ("BatchNormalization", (122, 122, 64), 256), ("AveragePooling2D", (61, 61, 64), 0),
    ("Conv2D", (28, 28, 128), 401536), ("BatchNormalization", (28, 28, 128), 512), ("AveragePooling2D", (14, 14, 128), 0),
    ("Conv2D", (12, 12, 256), 295168), ("BatchNormalization", (12, 12, 256), 1024), ("AveragePooling2D", (6, 6, 256), 0),
    ("Conv2D", (4, 4, 512), 1180160), ("BatchNormalization", (4, 4, 512), 2048), ("AveragePooling2D", (2, 2, 512), 0),
    ("BatchNormalization", (2, 2, 512), 2048),
]
HEAD = [("Dense", (256,), 262400), ("Dropout", (256,), 0), ("Dense", (64,), 16448), ("Dense", (32,), 2080),
        ("Dense", (8,), 264)]
SEED_TABLES = {
    "cnn": (TRUNK + [("Flatten", (2048,), 0), ("BatchNormalization", (2048,), 8192), ("Dropout", (2048,), 0),
                     ("Dense", (1024,), 2098176), ("Dropout", (1024,), 0)] + HEAD,
            4_273_512, 7_040),
    "cnn_lstm": (TRUNK + [("Dropout", (2, 2, 512), 0), ("Reshape", (512, 4), 0), ("Permute", (4, 512), 0),
                          ("LSTM", (4, 128), 328192), ("LSTM", (128,), 131584), ("Dense", (1024,), 132096),
                          ("Dropout", (1024,), 0)] + HEAD,
                 2_759_016, 2_944),
    "cnn_bilstm": (TRUNK + [("Dropout", (2, 2, 512), 0), ("Reshape", (512, 4), 0), ("Permute", (4, 512), 0),
                            ("Bidirectional", (4, 256), 656384), ("LSTM", (128,), 197120), ("Dense", (1024,), 132096),
                            ("Dropout", (1024,), 0)] + HEAD,
                   3_152_744, 2_944),
}


def _n(weights):
    return int(sum(np.prod(w.shape) for w in weights))


@pytest.mark.parametrize("name", ["cnn", "cnn_lstm", "cnn_bilstm"])
def test_genre_models_match_seed_tables(name):
    from player.analysis import architectures as A

    model = A.build(name, 8)
    table, total, frozen = SEED_TABLES[name]
    layers = [l for l in model.layers if type(l).__name__ != "InputLayer"]
    got = [(type(l).__name__, tuple(l.output.shape[1:]), l.count_params()) for l in layers]
    assert got == table
    assert model.count_params() == total
    assert _n(model.non_trainable_weights) == frozen
    assert _n(model.trainable_weights) == total - frozen
    assert model.input.shape[1:] == (128, 128, 1)
    assert layers[-1].get_config()["activation"] == "softmax"
    assert model.get_layer(A.EMBEDDING_LAYER).output.shape[-1] == 32


def test_fcn_tagger_matches_seed002():
    from player.analysis import architectures as A

    model = A.build("fcn_tagger", 50)
    assert model.input.shape[1:] == (96, 1366, 1)
    assert model.output.shape[1:] == (50,)
    convs = [l for l in model.layers if type(l).__name__ == "Conv2D"]
    assert [c.filters for c in convs] == [64, 128, 128, 128, 64]
    assert all(tuple(c.kernel_size) == (3, 3) and c.padding == "same" for c in convs)
    pools = [tuple(l.pool_size) for l in model.layers if type(l).__name__ == "MaxPooling2D"]
    assert pools == [(2, 4), (2, 4), (2, 4), (3, 5), (4, 4)]
    assert sum(type(l).__name__ == "ELU" for l in model.layers) == 5
    # batch norm over frequency on the input, then one per conv block over channels
    bn0 = model.get_layer("bn_0_freq")
    assert bn0.count_params() == 4 * 96
    assert model.get_layer("pool5").output.shape[1:] == (1, 1, 64)
    assert model.get_layer("output").get_config()["activation"] == "sigmoid"
    assert model.count_params() == 449_138


def test_embedding_model_shares_weights_and_outputs():
    from player.analysis import architectures as A

    model = A.build("cnn", 8)
    both = A.with_embedding(model)
    x = np.random.default_rng(0).random((3, 128, 128, 1), dtype=np.float32)
    probs, emb = both.predict_on_batch(x)
    np.testing.assert_allclose(probs, model.predict_on_batch(x), atol=1e-5)
    assert emb.shape == (3, 32) and (np.asarray(emb) >= 0).all()  # ReLU layer
    np.testing.assert_allclose(np.asarray(probs).sum(axis=1), 1.0, atol=1e-5)
    assert A.embedding_dim(model) == 32


def test_unknown_architecture_and_other_class_counts():
    from player.analysis import architectures as A

    with pytest.raises(ValueError, match="unknown architecture"):
        A.build("resnet", 8)
    m = A.build("cnn_lstm", 3)
    assert m.output.shape[1:] == (3,)
    assert m.count_params() == 2_759_016 - 264 + (32 * 3 + 3)

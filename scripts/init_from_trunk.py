#!/usr/bin/env python
"""Start a genre model from another one's trained convolutional trunk (seed 000's three models share it).

    python scripts/init_from_trunk.py models/cnn_lstm cnn /work/cache/cnn.init.npz

Builds ARCHITECTURE (8 classes, fresh seeded initialisation), copies the variables of the four conv
blocks and their batch norms (``conv1..conv4``, ``bn1..bn5``) from SOURCE's weights, and writes a
weights file for ``train_genre.py --init-weights``. Everything after the trunk (flatten / LSTM / dense
head) stays freshly initialised. This saves most of the CPU time of training the second and third
genre models; their model cards say so.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TRUNK = ("conv1", "conv2", "conv3", "conv4", "bn1", "bn2", "bn3", "bn4", "bn5")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("source", help="a genre model folder (or name under models/)")
    ap.add_argument("architecture", choices=["cnn", "cnn_lstm", "cnn_bilstm"])
    ap.add_argument("out", type=Path, help="weights file to write (.npz)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from player.analysis import architectures as A
    from player.analysis import registry as R

    try:
        src = R.load(args.source)
    except R.ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if src.task != "genre":
        print(f"error: {src.name} is not a genre model", file=sys.stderr)
        return 2
    keras.utils.set_random_seed(args.seed)
    dst = A.build(args.architecture, src.n_classes, src.input_shape)
    have = {v.path: v for v in src.keras_model.weights}
    copied = []
    for v in dst.weights:
        if v.path.split("/")[0] in TRUNK:
            s = have.get(v.path)
            if s is None or tuple(s.shape) != tuple(v.shape):
                print(f"error: {src.name} has no variable {v.path} of shape {tuple(v.shape)}", file=sys.stderr)
                return 2
            v.assign(np.asarray(keras.ops.convert_to_numpy(s)))
            copied.append(v.path)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    R.save_weights(dst, args.out, dtype="float32")
    print(f"{args.out}: {args.architecture} with {len(copied)} trunk variables from {src.version_tag}, "
          f"{len(dst.weights) - len(copied)} fresh")
    return 0


if __name__ == "__main__":
    sys.exit(main())

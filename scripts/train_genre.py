#!/usr/bin/env python
"""Train one of seed 000's genre models (CNN, CNN-LSTM, CNN-BiLSTM) and write its model folder.

Input: a feature store of 128x128 mel slices (scripts/prepare_fma.py or extract_features.py), with the
store's genre labels, or a label table of soft labels (probabilities per genre, e.g. a teacher's). Each
slice is a training sample, as in the seed. Every epoch is checkpointed; early stopping on validation
loss; the best epoch by validation loss is chosen automatically (the seed asked the user). Interrupted?
Run the same command again: it resumes from the last finished epoch.

Examples:
  python scripts/train_genre.py --model cnn_lstm --features data/fma_small.features
  python scripts/train_genre.py --model cnn --features STORE --labels teacher_genres.csv \\
      --epochs 5 --steps-per-epoch 200 --out models/cnn
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import _training as T  # noqa: E402


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="train_genre.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, choices=["cnn", "cnn_lstm", "cnn_bilstm"], help="architecture")
    T.add_data_args(p, "genre")
    T.add_training_args(p, default_batch=32, default_lr=1e-3)
    p.add_argument("--contrastive", type=float, default=0.0, metavar="W",
                   help="add W x a contrastive loss (two slices of one item are a positive pair, NT-Xent on the "
                        "32-d embedding): trains the embedding for similarity; 0 = off (the seed)")
    p.add_argument("--temperature", type=float, default=0.1, help="NT-Xent temperature")
    return p


def main(argv=None) -> int:
    def run(argv):
        argv = list(sys.argv[1:] if argv is None else argv)
        args = parser().parse_args(argv)
        T.train(args, argv, "genre", args.model)
        return 0

    return C.run_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())

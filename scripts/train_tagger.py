#!/usr/bin/env python
"""Train seed 002's FCN tagger (Choi et al.: 96 mel x 1366 frames at 12 kHz, 50 sigmoid tags).

Input: a label table in seed 002's label-map form — an audio file column (path, or preview_file) and one
0/1 column per tag — or soft labels (a probability per tag, e.g. a teacher's), CSV or TSV. Optional
columns: offset (seconds where the excerpt starts; default: the centre), split (train/val/test), group
(items of one group stay in one split), key. Features are computed once into --cache (resumable), or
read from --features STORE. Loss: binary cross-entropy (the seed used categorical cross-entropy, which
is wrong for independent tags). An empty or single-class label set is refused.

Examples:
  python scripts/train_tagger.py --labels label_map.tsv --audio-root song_preview/
  python scripts/train_tagger.py --features STORE --labels teacher_tags.csv --epochs 5 --steps-per-epoch 100
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import _training as T  # noqa: E402


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="train_tagger.py", description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    T.add_data_args(p, "tags")
    T.add_training_args(p, default_batch=16, default_lr=1e-3)
    return p


def main(argv=None) -> int:
    def run(argv):
        argv = list(sys.argv[1:] if argv is None else argv)
        args = parser().parse_args(argv)
        if not args.labels:
            raise C.ScriptError("--labels TABLE is required (audio file + one 0/1 or probability column per tag)")
        T.train(args, argv, "tags", "fcn_tagger")
        return 0

    return C.run_main(run, argv)


if __name__ == "__main__":
    sys.exit(main())

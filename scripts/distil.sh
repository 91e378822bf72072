#!/usr/bin/env bash
# The exact commands that made the shipped models (models/tagger, cnn_lstm, cnn, cnn_bilstm): students of
# the musicnn teacher on the Debian game music of ../shared/data. Everything ran on 2 shared CPU cores.
# docs/training.md explains each step.
#   bash scripts/distil.sh [STAGE...]   stages: music teacher tables features cnn_lstm tagger cnn cnn_bilstm cnn_lstm2 evaluate
# No stage = all of them, in that order. Every stage is resumable (run it again after an interruption).
# Environment: PY (python, default .venv/bin/python), MUSIC (default /work/music), CACHE (default /work/cache).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
MUSIC=${MUSIC:-/work/music}
CACHE=${CACHE:-/work/cache}
STAGES=${*:-music teacher tables features cnn_lstm tagger cnn cnn_bilstm cnn_lstm2 evaluate}
export TF_CPP_MIN_LOG_LEVEL=2 KERAS_BACKEND=tensorflow

# Training settings (CPU budget: an "epoch" is --steps-per-epoch random batches, not a full pass).
TAGGER_ARGS="--batch-size 16 --lr 1e-3 --steps-per-epoch 60 --val-steps 20 --epochs 14 --patience 4
 --precise-bn 10 --seed 1 --version 1"
DISTIL_ARGS="--features $CACHE/genre.features --teacher $CACHE/teacher --calibration $CACHE/tables/genre_calibration.json
 --steps-per-epoch 40 --val-steps 8 --batch-size 64 --contrastive 0.5 --teacher-embedding 1.0 --pca 16"

for stage in $STAGES; do
  echo "== $stage" >&2
  case $stage in
    music)     [ -f "$MUSIC/manifest.tsv" ] || PYTHON=$PY bash ../shared/data/fetch_training_music.sh "$MUSIC" ;;
    teacher)   $PY scripts/label_with_teacher.py "$MUSIC" "$CACHE/teacher" ;;
    tables)    $PY scripts/teacher_tables.py "$CACHE/teacher" "$MUSIC" "$CACHE/tables" --excerpts 6 ;;
    features)  $PY scripts/extract_features.py --table "$CACHE/tables/genre.csv" --frontend genre --workers 2 \
                   "$CACHE/genre.features"
               $PY scripts/extract_features.py --table "$CACHE/tables/tags.csv" --frontend tagger --workers 2 \
                   "$CACHE/tagger.features" ;;
    cnn_lstm)  # cnn_lstm@1, from scratch: the trunk the CNN and CNN-BiLSTM start from (cnn_lstm2 replaces it)
               $PY scripts/distil_train.py --model cnn_lstm $DISTIL_ARGS --epochs 30 --patience 6 \
                   --out models/cnn_lstm --work "$CACHE/work/distil_cnn_lstm" ;;
    tagger)    $PY scripts/train_tagger.py --features "$CACHE/tagger.features" --labels "$CACHE/tables/tags.csv" \
                   $TAGGER_ARGS --out models/tagger --work "$CACHE/work/tagger" ;;
    cnn|cnn_bilstm)   # start from the CNN-LSTM's trained conv trunk (the three share it): cnn_lstm@1, so
                      # when rerunning these alone after cnn_lstm2, run the cnn_lstm stage first
               $PY scripts/init_from_trunk.py models/cnn_lstm "$stage" "$CACHE/work/$stage.init.npz"
               if [ "$stage" = cnn ]; then EPOCHS="--epochs 24 --patience 6" WORK=distil_cnn24  # 12 were too few
               else EPOCHS="--epochs 12 --patience 4" WORK=distil_$stage; fi
               $PY scripts/distil_train.py --model "$stage" $DISTIL_ARGS $EPOCHS \
                   --init-weights "$CACHE/work/$stage.init.npz" --out "models/$stage" --work "$CACHE/work/$WORK" ;;
    cnn_lstm2) # the shipped cnn_lstm@2: the CNN-LSTM again, from the CNN-BiLSTM's further-trained trunk (it
               # ran to /work/cache/exp/cnn_lstm_v2 and was copied into models/cnn_lstm after its evaluation)
               $PY scripts/init_from_trunk.py models/cnn_bilstm cnn_lstm "$CACHE/work/cnn_lstm.from_bilstm.init.npz"
               $PY scripts/distil_train.py --model cnn_lstm $DISTIL_ARGS --epochs 12 --patience 4 --version 2 \
                   --init-weights "$CACHE/work/cnn_lstm.from_bilstm.init.npz" --out models/cnn_lstm \
                   --work "$CACHE/work/distil_cnn_lstm_v2"
               $PY scripts/evaluate.py models/cnn_lstm --labels "$CACHE/tables/genre.csv" --split test ;;
    evaluate)  $PY scripts/evaluate_distillation.py --teacher "$CACHE/teacher" --music "$MUSIC" \
                   --fit-thresholds 0.1 --write-cards --out "$CACHE/distillation_eval.json" ;;
    *) echo "unknown stage $stage" >&2; exit 2 ;;
  esac
done

#!/usr/bin/env bash
# Acceptance run of issue 4: distil a goose student from TEACHER on real English text.
# WikiText-2 convention of this project: train on test.txt, report perplexity on valid.txt.
# Usage: perf/distill/run.sh TEACHER [OUTPUT_DIR]
#   TEACHER: a Hugging Face causal-LM id or directory (e.g. gpt2 once it can be had offline,
#            or the stand-in from perf/distill/standin_teacher.sh)
# Env: SPIKELITE_DATA (default ../shared/data), STEPS (default 3000), MAX_MINUTES (default 15),
#      LR (default 5e-4: the sweep in sweep.sh diverged at 1.5e-3), COMPILE (default --compile; set to " " off)
set -euo pipefail
TEACHER=${1:?usage: perf/distill/run.sh TEACHER [OUTPUT_DIR]}
OUT=${2:-artifacts/distill-acceptance}
DATA=${SPIKELITE_DATA:-../shared/data}
spikelite distill --teacher-model "$TEACHER" \
  --dataset-path "$DATA/wikitext-2/test.txt" --val-dataset-path "$DATA/wikitext-2/valid.txt" \
  --output-dir "$OUT" --student goose --d-model 256 --n-layers 4 \
  --max-length 256 --batch-size 16 --num-steps "${STEPS:-3000}" --max-minutes "${MAX_MINUTES:-15}" \
  --lr "${LR:-5e-4}" --alpha 0.5 --temperature 2.0 --eval-interval 250 --eval-batches 64 \
  --log-interval 50 --device "${DEVICE:-cuda}" ${COMPILE:---compile} --json

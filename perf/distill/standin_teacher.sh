#!/usr/bin/env bash
# Pre-train the stand-in teacher used while no pretrained GPT-2 can be had offline:
# GPT-2 architecture (6 layers x 512, 8 heads), the real GPT-2 tokenizer, trained from
# scratch on WikiText-2 test.txt, perplexity on valid.txt. Label its figures "stand-in".
# Usage: perf/distill/standin_teacher.sh OUTPUT_DIR
set -euo pipefail
OUT=${1:?usage: perf/distill/standin_teacher.sh OUTPUT_DIR}
DATA=${SPIKELITE_DATA:-../shared/data}
spikelite pretrain-teacher \
  --tokenizer "$DATA/gpt2-tokenizer/tokenizer.json" \
  --dataset-path "$DATA/wikitext-2/test.txt" --val-dataset-path "$DATA/wikitext-2/valid.txt" \
  --output-dir "$OUT" --n-layer 6 --n-embd 512 --n-head 8 --max-length 256 \
  --num-steps "${TEACHER_STEPS:-600}" --batch-size 32 --lr 6e-4 --device "${DEVICE:-cuda}" --json

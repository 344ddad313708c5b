#!/usr/bin/env bash
# Stability sweep behind the defaults in perf/distill/README.md: learning rate x wkv_norm,
# same teacher, data and step budget; prints one JSON line per run.
# Usage: perf/distill/sweep.sh TEACHER [STEPS]
set -euo pipefail
TEACHER=${1:?usage: perf/distill/sweep.sh TEACHER [STEPS]}
STEPS=${2:-1500}
DATA=${SPIKELITE_DATA:-../shared/data}
for norm in false true; do
  for lr in 1.5e-3 5e-4; do
    out=artifacts/sweep/norm-$norm-lr-$lr
    spikelite distill --teacher-model "$TEACHER" \
      --dataset-path "$DATA/wikitext-2/test.txt" --val-dataset-path "$DATA/wikitext-2/valid.txt" \
      --output-dir "$out" --d-model 256 --n-layers 4 --max-length 256 --batch-size 16 \
      --num-steps "$STEPS" --lr "$lr" --eval-interval 250 --eval-batches 32 --log-interval 50 \
      --student-config "{\"wkv_norm\": $norm}" --device "${DEVICE:-cuda}" --json 2>/dev/null >/dev/null
    python3 - "$out/summary.json" "$norm" "$lr" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); c = s["curves"]
print(json.dumps({"wkv_norm": sys.argv[2], "lr": sys.argv[3], "best_ppl": round(s["student"]["val_ppl"], 1),
                  "best_step": s["student"]["best_step"], "teacher_ppl": round(s["teacher"]["val_ppl"], 1),
                  "val_ppl": [round(v, 1) for v in c["val_ppl"]], "density_first_last": [round(c["density"][0], 2), round(c["density"][-1], 2)],
                  "ce_first_min_last": [round(c["ce"][0], 2), round(min(c["ce"]), 2), round(c["ce"][-1], 2)],
                  "tokens_per_s": round(s["throughput_tokens_per_s"])}))
PY
  done
done

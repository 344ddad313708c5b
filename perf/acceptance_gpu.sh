#!/usr/bin/env bash
# One device call: stand-in teacher -> goose distillation -> export comparison.
# Figures land in $OUT (or ./artifacts/acceptance): teacher.json, distill.json, summary.json,
# training.png, export_table.json, export_table.md.
set -euo pipefail
OUT=${OUT:-artifacts/acceptance}
mkdir -p "$OUT"
WORK=${WORK:-/tmp/spikelite-acceptance}
export PYTHONUNBUFFERED=1
perf/distill/standin_teacher.sh "$WORK/teacher" > "$OUT/teacher.json" 2> "$OUT/teacher.err"
perf/distill/run.sh "$WORK/teacher" "$WORK/student" > "$OUT/distill.json" 2> "$OUT/distill.err"
cp "$WORK/student/summary.json" "$WORK/student/training.png" "$OUT/"
python3 perf/export/compare.py "$WORK/student" "$WORK/bundles" > "$OUT/export_table.md" 2> "$OUT/export.err"
cp "$WORK/bundles/export_table.json" "$OUT/"

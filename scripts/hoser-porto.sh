#!/usr/bin/env bash
# The Porto protocol of the HOSER-style route generator (issue 6): train on the Porto OSM
# network with synthetic demand (first 100,000 of 200,000 trips) plus the map-matched real
# Porto taxi trips, generate 5,000 routes for training ODs and 5,000 for held-out test ODs,
# and run the metrics suite, for seeds 0, 1, 2.
#
#   bash scripts/hoser-porto.sh [OUT] [EPOCHS] [MAX_BATCHES]
#
# Needs ../shared/data (roads/porto-osm, gps/porto-taxi). On 2 CPU cores one seed takes about
# 25 minutes with the defaults (4 epochs of 150 batches of 64 trips).
#
# Distilled (issue 7): TEACHER=DIR trains with `traj distill --teacher DIR` (Porto preset:
# λ 0.006, τ 2.5, w 4; KD="--kd-lambda ..." adds flags). The teacher of the README's table:
#   urbancast traj teacher --network ../shared/data/roads/porto-osm --train OUT/synth.csv \
#     --train OUT/matched.csv --epochs 1 --max-batches 600 --seed 0 --out OUT/teacher
# Compare runs with: python3 scripts/compare-runs.py OUT_VANILLA OUT_DISTILLED
set -euo pipefail
OUT=${1:-runs/hoser-porto}
EPOCHS=${2:-4}
MAX_BATCHES=${3:-150}
DATA=${DATA:-../shared/data}
NET=$DATA/roads/porto-osm
U=${U:-target/release/urbancast}
[ -x "$U" ] || cargo build --release -p urbancast
mkdir -p "$OUT"
[ -f "$OUT/matched.csv" ] || "$U" traj match --network "$NET" --gps "$DATA/gps/porto-taxi/porto-taxi-2014-sample.csv" --out "$OUT/matched.csv"
if [ ! -f "$OUT/synth.csv" ]; then
  "$U" traj synth --network "$NET" --trips 200000 --seed 0 --out "$OUT/synth-200k.csv"
  head -n 100001 "$OUT/synth-200k.csv" > "$OUT/synth.csv"
fi
TEACHER=${TEACHER:-}
KD=${KD:-}
for s in ${SEEDS:-0 1 2}; do
  M=$OUT/seed$s
  if [ -n "$TEACHER" ]; then
    # shellcheck disable=SC2086
    "$U" traj distill --teacher "$TEACHER" $KD --network "$NET" --train "$OUT/synth.csv" --train "$OUT/matched.csv" \
      --epochs "$EPOCHS" --max-batches "$MAX_BATCHES" --seed "$s" --out "$M"
  else
    "$U" traj train --network "$NET" --train "$OUT/synth.csv" --train "$OUT/matched.csv" \
      --epochs "$EPOCHS" --max-batches "$MAX_BATCHES" --seed "$s" --out "$M"
  fi
  for w in train test; do
    "$U" traj generate --network "$NET" --model "$M" --sample 5000 --from "$M/$w.csv" --beam 4 --seed "$s" --out "$M/gen-$w.csv"
    "$U" traj eval --network "$NET" --real "$M/gen-$w.real.csv" --generated "$M/gen-$w.csv" \
      --train "$M/train.csv" --intended "$M/gen-$w.real.csv" --out "$M/eval-$w"
  done
done
echo "metrics per seed: $OUT/seed*/eval-{train,test}/metrics.md"

#!/usr/bin/env bash
# A small λ / τ / w grid for cross-task distillation (issue 7): the vanilla generator (λ = 0)
# and 11 distilled points around the thesis's Porto values (the last: the public fork's variant, last
# step only and no τ²), each trained with the same seed and
# the same short budget on a subset of the Porto data, then 500 routes generated for held-out
# test ODs and scored. Writes OUT/grid.md (table) and OUT/grid.json.
#
#   bash scripts/kd-grid.sh TEACHER TRAIN_CSV [TRAIN_CSV ...]
#
# Env: ONLY ("name name ...": run only these points), OUT (runs/kd-grid), EPOCHS (2), MAX_BATCHES (50), SAMPLE (500), SEED (0), DATA (../shared/data),
# U (target/release/urbancast). On 2 CPU cores one point takes about 4 minutes.
# shellcheck disable=SC2086
set -euo pipefail
TEACHER=$1; shift
TRAIN=(); for f in "$@"; do TRAIN+=(--train "$f"); done
OUT=${OUT:-runs/kd-grid}
EPOCHS=${EPOCHS:-2}
MAX_BATCHES=${MAX_BATCHES:-50}
SAMPLE=${SAMPLE:-500}
SEED=${SEED:-0}
DATA=${DATA:-../shared/data}
NET=${NET:-$DATA/roads/porto-osm}
U=${U:-target/release/urbancast}
[ -x "$U" ] || cargo build --release -p urbancast
mkdir -p "$OUT"
: > "$OUT/points.txt"
# name  lambda  tau  window  [extra flags]   (lambda 0 = the vanilla generator)
POINTS="vanilla 0 1 1
porto 0.006 2.5 4
beijing 0.0014 4.37 7
tau1 0.006 1 4
tau4 0.006 4.37 4
lam0.03 0.03 2.5 4
lam0.1 0.1 2.5 4
w2 0.006 2.5 2
w7 0.006 2.5 7
lam0.3 0.3 2.5 4
lam1 1 2.5 4
fork 0.006 2.5 4 --kd-last-only --kd-no-tau-sq"
while read -r name lam tau w flags; do
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then continue; fi
  M=$OUT/$name
  echo "== $name: λ $lam, τ $tau, w $w $flags"
  if [ ! -f "$M/eval-test/metrics.json" ]; then
    if [ "$lam" = 0 ]; then
      "$U" traj train --network "$NET" "${TRAIN[@]}" --epochs "$EPOCHS" --max-batches "$MAX_BATCHES" --seed "$SEED" --out "$M"
    else
      "$U" traj distill --teacher "$TEACHER" --network "$NET" "${TRAIN[@]}" --epochs "$EPOCHS" --max-batches "$MAX_BATCHES" \
        --seed "$SEED" --kd-lambda "$lam" --kd-tau "$tau" --kd-window "$w" $flags --out "$M"
    fi
    "$U" traj generate --network "$NET" --model "$M" --sample "$SAMPLE" --from "$M/test.csv" --beam 4 --seed "$SEED" --out "$M/gen-test.csv"
    "$U" traj eval --network "$NET" --real "$M/gen-test.real.csv" --generated "$M/gen-test.csv" --train "$M/train.csv" \
      --intended "$M/gen-test.real.csv" --out "$M/eval-test"
  fi
  echo "$name $lam $tau $w $flags" >> "$OUT/points.txt"
done <<< "$POINTS"
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
rows = []
for line in open(f"{out}/points.txt"):
    name, lam, tau, w, *flags = line.split()
    log = json.load(open(f"{out}/{name}/train-log.json"))
    last = log["epochs"][-1]
    best = log["epochs"][log["best_epoch"] - 1]
    m = json.load(open(f"{out}/{name}/eval-test/metrics.json"))["all"]
    g = json.load(open(f"{out}/{name}/gen-test.summary.json"))
    rows.append(dict(name=name, flags=" ".join(flags), lam=float(lam), tau=float(tau), w=int(w), val_acc=best["val_acc"], val_ce=best["val_ce"],
                     train_kd=last.get("train_kd"), reached=g["reached_share"], **{k: m[k] for k in
                     ["od_match_rate", "jsd_distance", "jsd_radius", "jsd_duration", "hausdorff_km", "dtw_km", "edr",
                      "generated_mean_distance_km", "real_mean_distance_km"]}, train_s=sum(e["train_seconds"] for e in log["epochs"])))
json.dump(rows, open(f"{out}/grid.json", "w"), indent=2)
with open(f"{out}/grid.md", "w") as f:
    f.write("| point | λ | τ | w | val acc | val CE | KD term | reached | OD match | JSD dist | JSD radius | JSD dur | Hausdorff km | DTW km | EDR | km gen / real | train s |\n")
    f.write("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    for r in rows:
        kd = "–" if r["lam"] == 0 or r["train_kd"] is None else f"{r['train_kd']:.3f}"
        f.write(f"| {r['name']}{(' (' + r['flags'] + ')') if r['flags'] else ''} | {r['lam']:g} | {'–' if r['lam']==0 else format(r['tau'],'g')} | {'–' if r['lam']==0 else r['w']} | "
                f"{r['val_acc']:.4f} | {r['val_ce']:.4f} | {kd} | {r['reached']:.3f} | {r['od_match_rate']:.3f} | {r['jsd_distance']:.4f} | "
                f"{r['jsd_radius']:.4f} | {r['jsd_duration']:.4f} | {r['hausdorff_km']:.3f} | {r['dtw_km']:.2f} | {r['edr']:.3f} | "
                f"{r['generated_mean_distance_km']:.2f} / {r['real_mean_distance_km']:.2f} | {r['train_s']:.0f} |\n")
print(open(f"{out}/grid.md").read())
PY

#!/usr/bin/env python3
"""Vanilla vs distilled generator over seeds: mean ± sd of the metrics suite per OD set, and the
difference with Welch's t (|t| > 2.78 ≈ p < 0.05 at 3 + 3 seeds, 4 df).

    python3 scripts/compare-runs.py "VANILLA_SEED_DIRS" "DISTILLED_SEED_DIRS" [--md OUT.md]

Each argument is a space-separated list (or a glob) of model folders holding
eval-{train,test}/metrics.json, gen-{train,test}.summary.json and train-log.json, as written by
scripts/hoser-porto.sh."""
import glob, json, math, statistics as st, sys

KEYS = [("od_match_rate", "OD match rate"), ("jsd_distance", "JSD distance"), ("jsd_radius", "JSD radius"),
        ("jsd_duration", "JSD duration"), ("hausdorff_km", "Hausdorff (km)"), ("dtw_km", "DTW (km)"), ("edr", "EDR"),
        ("generated_mean_distance_km", "mean trip km, generated"), ("real_mean_distance_km", "mean trip km, real")]

def dirs(arg):
    out = []
    for a in arg.split():
        out += sorted(glob.glob(a)) or [a]
    return out

def load(ds):
    rows = []
    for d in ds:
        r = {}
        for w in ("train", "test"):
            m = json.load(open(f"{d}/eval-{w}/metrics.json"))["all"]
            g = json.load(open(f"{d}/gen-{w}.summary.json"))
            for k, _ in KEYS:
                r[(w, k)] = m[k]
            r[(w, "reached_share")] = g["reached_share"]
        log = json.load(open(f"{d}/train-log.json"))
        best = log["epochs"][log["best_epoch"] - 1]
        r[("val", "val_acc")] = best["val_acc"]
        r[("val", "val_ce")] = best["val_ce"]
        rows.append(r)
    return rows

def fmt(v):
    m = st.mean(v); sd = st.stdev(v) if len(v) > 1 else 0.0
    return f"{m:.4f} ± {sd:.4f}" if abs(m) < 10 else f"{m:.2f} ± {sd:.2f}"

def welch(a, b):
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    va, vb = st.variance(a) / len(a), st.variance(b) / len(b)
    if va + vb == 0:
        return 0.0 if st.mean(a) == st.mean(b) else float("inf")
    return (st.mean(b) - st.mean(a)) / math.sqrt(va + vb)

def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--md")]
    md = next((sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "--md"), None)
    if len(args) < 2:
        sys.exit(__doc__)
    van, dis = load(dirs(args[0])), load(dirs(args[1]))
    lines = [f"| metric | OD set | vanilla ({len(van)} seeds) | distilled ({len(dis)} seeds) | Welch t |", "|---|---|---:|---:|---:|"]
    rows = [("val", "val_acc", "next-step accuracy"), ("val", "val_ce", "next-step CE")]
    rows += [(w, k, n) for w in ("train", "test") for k, n in KEYS + [("reached_share", "reached destination")]]
    for w, k, n in rows:
        a, b = [r[(w, k)] for r in van], [r[(w, k)] for r in dis]
        t = welch(a, b)
        lines.append(f"| {n} | {'validation' if w == 'val' else w + ' OD'} | {fmt(a)} | {fmt(b)} | {t:+.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if md:
        open(md, "w").write(text)

main()

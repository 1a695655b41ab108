"""PyTorch peer of urbancast's target-only ST-net training (issue 15's plateau study).

Trains CrossTReS's `STNet_nobn` (conv 3x3 C->64, 3 residual units, LSTM 64->128 over the lags,
head on [last output || last hidden] 256 -> 64 -> 1 per channel model, optional sigmoid) with
PyTorch's default initialisation on the same windows and scaling as `urbancast transfer`:

  * per-channel min-max scaling, max = sorted[int(n * 0.999)], min = max(0, min), clip at max;
  * a region is active when its total flow over every step and channel is > 0;
  * target split: last `test_days` days test, `val_days` before validation, `days` before
    that training; when the series is too short, the last 20 % test and 20 % before validation;
  * loss = mean over the batch, sum over active regions (CrossTReS `train_epoch`), Adam
    lr 1e-3, weight decay 5e-5, eps 1e-8, batch 32, global clip 2.

Input: a folder written by `urbancast inspect SPEC --write-crosstres DIR` (the city's
`{mode}{name}_pickup.npy` / `_dropoff.npy`, shape (T, H, W)). Prints one JSON line per
epoch (training loss, validation and test RMSE in original units, gradient norm, clipped share)
and the simple predictors, so the curve can be laid beside urbancast's `train-log.jsonl`.

    python3 scripts/torch_stnet_train.py --dir /tmp/boston/boston --days 3 --epochs 80 --seed 1
"""

import argparse
import glob
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load(dirname):
    chans = []
    for ch in ("pickup", "dropoff"):
        f = glob.glob(os.path.join(dirname, f"*_{ch}.npy"))
        if len(f) != 1:
            sys.exit(f"{dirname}: expected one *_{ch}.npy, found {f}")
        chans.append(np.load(f[0]).astype(np.float32))
    return np.stack(chans, axis=-1)  # (T, H, W, C)


def scale(flow, percentile=0.999):
    """Per-channel min-max scaling; returns the scaled array and (min, span) per channel."""
    out = np.empty_like(flow)
    params = []
    for c in range(flow.shape[-1]):
        v = np.sort(flow[..., c].ravel())
        hi = v[min(int(len(v) * percentile), len(v) - 1)]
        lo = max(0.0, float(v[0]))
        span = hi - lo if hi - lo > 0 else 1.0
        out[..., c] = (np.minimum(flow[..., c], hi) - lo) / span
        params.append((lo, span))
    return out, params


def splits(t, lags, days, spd=24, test_days=60, val_days=60):
    tl, vl = test_days * spd, val_days * spd
    if lags + days * spd + vl + tl > t:
        tl, vl = int(t * 0.2), int(t * 0.2)
    ts = t - tl
    vs = ts - vl
    return list(range(vs - days * spd, vs)), list(range(vs, ts)), list(range(ts, t))


class ResUnit(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, 1, 1)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1)

    def forward(self, x):
        return self.conv2(F.relu(self.conv1(F.relu(x)))) + x


class STNetNoBn(nn.Module):
    def __init__(self, channels, mask, sigmoid_out, head_hidden=64):
        super().__init__()
        self.c = channels
        self.mask = mask
        self.conv1 = nn.Conv2d(channels, 64, 3, 1, 1)
        self.layers = nn.ModuleList([ResUnit(64) for _ in range(3)])
        self.lstm = nn.LSTM(64, 128)
        self.linear1 = nn.Linear(256, head_hidden)
        self.linear2 = nn.Linear(head_hidden, channels)
        self.sigmoid_out = sigmoid_out

    def forward(self, x):  # x (B, L, C, H, W) -> (B, active, C)
        b, lags = x.shape[:2]
        outs = []
        for i in range(lags):
            z = self.conv1(x[:, i])
            for layer in self.layers:
                z = layer(z)
            outs.append(z.permute(0, 2, 3, 1).reshape(-1, 64))
        seq = torch.stack(outs, 0)
        out, (hid, _) = self.lstm(seq)
        feat = torch.cat([out[-1].view(b, -1, 128), hid.view(b, -1, 128)], -1)[:, self.mask]
        y = self.linear2(F.relu(self.linear1(feat)))
        return torch.sigmoid(y) if self.sigmoid_out else y


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--days", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=80)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lags", type=int, default=6)
    ap.add_argument("--channel", choices=["pickup", "dropoff", "both"], default="pickup")
    ap.add_argument("--loss", choices=["sum", "mean"], default="sum")
    ap.add_argument("--no-sigmoid", action="store_true")
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)

    flow = load(a.dir)
    t, h, w, _ = flow.shape
    mask_np = flow.sum(axis=(0, 3)).reshape(-1) > 0
    scaled, all_params = scale(flow)
    cidx = {"pickup": [0], "dropoff": [1], "both": [0, 1]}[a.channel]
    params = [all_params[c] for c in cidx]
    data = scaled[..., cidx]  # (T, H, W, C)
    tr, va, te = splits(t, a.lags, a.days)
    mask = torch.tensor(mask_np)
    x_all = torch.tensor(data).permute(0, 3, 1, 2)  # (T, C, H, W)
    y_all = torch.tensor(data).reshape(t, h * w, len(cidx))[:, mask_np]  # (T, A, C)

    def batch(steps):
        x = torch.stack([x_all[s - a.lags:s] for s in steps])
        return x, y_all[steps]

    def orig(v, c):
        lo, span = params[c]
        return v * span + lo

    def rmse(pred, steps):
        y = y_all[steps]
        errs = [((orig(pred[..., c], c) - orig(y[..., c], c)) ** 2).mean().sqrt().item() for c in range(len(cidx))]
        return float(np.mean(errs))

    net = STNetNoBn(len(cidx), mask, not a.no_sigmoid)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=5e-5, eps=a.eps)

    def predict(steps):
        net.eval()
        with torch.no_grad():
            out = torch.cat([net(batch(steps[i:i + 64])[0]) for i in range(0, len(steps), 64)])
        net.train()
        return out.clamp_min(0) if a.no_sigmoid else out

    # simple predictors on the same evaluator
    ytr = y_all[tr]
    base = {
        "global-constant": rmse(ytr.mean(dim=(0, 1), keepdim=True).expand(len(te), -1, -1), te),
        "region-mean": rmse(ytr.mean(dim=0, keepdim=True).expand(len(te), -1, -1), te),
        "persistence": rmse(y_all[[s - 1 for s in te]], te),
    }
    print(json.dumps({"baselines": base, "train": len(tr), "val": len(va), "test": len(te), "active": int(mask_np.sum())}))
    step = 0
    for ep in range(1, a.epochs + 1):
        perm = np.random.permutation(tr)
        losses, norms, clipped = [], [], 0
        for i in range(0, len(perm), 32):
            x, y = batch(list(perm[i:i + 32]))
            se = (net(x) - y) ** 2
            loss = se.mean(0).sum() if a.loss == "sum" else se.mean()
            opt.zero_grad()
            loss.backward()
            n = torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm=2).item()
            clipped += n > 2
            opt.step()
            step += 1
            losses.append(loss.item())
            norms.append(n)
        print(json.dumps({
            "epoch": ep, "step": step, "loss": float(np.mean(losses)), "grad_norm": float(np.mean(norms)),
            "clipped": clipped / len(norms), "val_rmse": rmse(predict(va), va), "test_rmse": rmse(predict(te), te),
        }), flush=True)


if __name__ == "__main__":
    main()

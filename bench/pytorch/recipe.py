"""galaxy's default cnn recipe in PyTorch, on galaxy's own split.

The accuracy reference of the README's "Against PyTorch" table: it trains
the network and recipe of `galaxy train --arch cnn` with PyTorch and scores
it as galaxy scores its own runs, so the two can be compared seed for seed.

    galaxy info --data gz1_sdss_69.h5 --scheme morph4 --seed 1 --split-out split1.csv
    /usr/bin/python3 bench/pytorch/recipe.py --data gz1_sdss_69.h5 --split split1.csv --seed 1

The split file says which image of the HDF5 file (dataset "images", N x H x W
x C uint8) is in which part (train, val, test) with its class in galaxy's
scheme; galaxy carves the validation part with the run's seed, so write one
split per seed. The script prints one JSON line: test accuracy, balanced
accuracy (mean recall over classes) and ECE, as galaxy's metrics.json and
`galaxy eval --json` report them.

The recipe, each item as galaxy's defaults (train/config.go, model/cnn):
- network: cnnref.cnn_ref (widths 32, 64, 128, 128, dropout 0.3); conv
  weights He-normal (sd sqrt(2/fan_in)), dense weights N(0, 1/in), biases 0,
  batch norm eps 1e-5 momentum 0.1 (PyTorch's defaults, as galaxy's);
- input: bytes / 256, no standardisation;
- augmentation: per image a uniform symmetry of the square (D4);
- loss: softmax cross-entropy;
- optimiser: Adam (0.9, 0.999, eps 1e-8), no weight decay, batch 64 (the
  last partial batch dropped), 25 epochs, learning rate 1e-3 with cosine
  decay to 0, set per step;
- the last epoch is kept (a tenth of the training split held out as the
  validation part all the same);
- then, on the validation part with 8-fold TTA (mean logits over D4): the
  logit adjustment tau (0, 0.1, ..., 1; the best balanced accuracy costing at
  most 0.01 accuracy; offsets -tau log prior of the training counts), then
  the temperature minimising the validation cross-entropy.

Flags change single items: --epochs 30 --label-smoothing 0.1 --shift 3
--warmup 1 --best-epoch is galaxy's default until 2026-12-06 (shifts of
-3..3 pixels on each axis, zeros shifted in; one epoch of linear warm-up;
the epoch with the best validation accuracy, without TTA, kept), and
--no-val --standardise --no-adjust the simpler recipe of issue 16. The random
streams are PyTorch's and NumPy's, so seed N here and seed N in galaxy draw
different weights and batches: compare means over seeds.

Runs with glibc's allocator tuned (tuned.py); needs python3-torch, python3-h5py.
"""
import argparse
import csv
import json
import math
import time

import tuned

tuned.ensure()

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from cnnref import cnn_ref  # noqa: E402

TAUS = [i / 10 for i in range(11)]
ADJUST_COST = 0.01
BINS = 10


def read(path, split):
    """Images (N, C, H, W uint8) and labels of each part named in split."""
    with h5py.File(path, "r") as f:
        images = f["images"][:]
    if images.ndim == 3:
        images = images[..., None]
    parts = {}
    with open(split, newline="") as fh:
        for row in csv.DictReader(fh):
            idx, lab = parts.setdefault(row["part"], ([], []))
            idx.append(int(row["index"]))
            lab.append(int(row["label"]))
    return {p: (np.ascontiguousarray(images[idx].transpose(0, 3, 1, 2)), np.array(lab)) for p, (idx, lab) in parts.items()}


def augment(x, rng, shift):
    """x (N, C, H, W float32) with each image under a random D4 symmetry and shift."""
    out = np.zeros_like(x)
    n, _, h, w = x.shape
    for j in range(n):
        img = x[j]
        s = rng.integers(8)
        if s & 4:
            img = img[:, :, ::-1]
        img = np.rot90(img, s & 3, axes=(1, 2))
        dy, dx = rng.integers(-shift, shift + 1, size=2)
        # out[y, x] = img[y + dy, x + dx], zero outside
        ys, yd = (dy, 0) if dy >= 0 else (0, -dy)
        xs, xd = (dx, 0) if dx >= 0 else (0, -dx)
        out[j, :, yd:h - ys, xd:w - xs] = img[:, ys:h - yd, xs:w - xd]
    return out


def init(m):
    for mod in m.modules():
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode="fan_in", nonlinearity="relu")
        elif isinstance(mod, nn.Linear):
            nn.init.normal_(mod.weight, 0, 1 / math.sqrt(mod.in_features))
            nn.init.zeros_(mod.bias)


def schedule(peak, step, warm, total):
    """galaxy's train.Schedule: linear warm-up, then cosine decay to 0."""
    if step < warm:
        return peak * (step + 1) / warm
    if total <= warm:
        return peak
    return peak * 0.5 * (1 + math.cos(math.pi * (step - warm) / (total - warm)))


def logits(m, x, tta, batch=256):
    """Logits of x (float32 NCHW), averaged over the 8 symmetries with tta."""
    m.eval()
    out = []
    with torch.no_grad():
        for lo in range(0, len(x), batch):
            xb = torch.from_numpy(x[lo:lo + batch])
            if not tta:
                out.append(m(xb))
                continue
            z = 0
            for s in range(8):
                t = torch.flip(xb, dims=(3,)) if s & 4 else xb
                z = z + m(torch.rot90(t, s & 3, dims=(2, 3)))
            out.append(z / 8)
    return torch.cat(out).double().numpy()


def scores(z, y, k):
    pred = z.argmax(1)
    recalls = [np.mean(pred[y == c] == c) for c in range(k) if np.any(y == c)]
    return float(np.mean(pred == y)), float(np.mean(recalls))


def nll(z, y):
    z = z - z.max(1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y]))


def fit_temperature(z, y):
    """galaxy's train.FitTemperature: golden-section search over log T in [1/20, 20]."""
    f = lambda lt: nll(z * math.exp(-lt), y)  # noqa: E731
    lo, hi, g = math.log(1 / 20), math.log(20), (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = f(a), f(b)
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = f(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = f(b)
    return math.exp((lo + hi) / 2)


def ece(z, y):
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    conf, right = p.max(1), p.argmax(1) == y
    b = np.clip(np.floor(conf * BINS).astype(int), 0, BINS - 1)
    return float(sum(abs(right[b == i].mean() - conf[b == i].mean()) * np.sum(b == i) / len(y) for i in range(BINS) if np.any(b == i)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=float, default=0)
    ap.add_argument("--label-smoothing", type=float, default=0)
    ap.add_argument("--shift", type=int, default=0)
    ap.add_argument("--no-val", action="store_true", help="train on train+val and keep the last epoch")
    ap.add_argument("--best-epoch", action="store_true", help="keep the epoch with the best validation accuracy instead of the last")
    ap.add_argument("--standardise", action="store_true", help="inputs standardised per channel (training mean and sd)")
    ap.add_argument("--no-adjust", action="store_true", help="no logit adjustment")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    parts = read(a.data, a.split)
    (xtr, ytr), (xva, yva), (xte, yte) = parts["train"], parts.get("val", (None, None)), parts["test"]
    if a.no_val and xva is not None:
        xtr, ytr, xva, yva = np.concatenate([xtr, xva]), np.concatenate([ytr, yva]), None, None
    k = int(max(ytr.max(), yte.max())) + 1
    scale = lambda x: x.astype(np.float32) / 256  # noqa: E731
    xtr, xte = scale(xtr), scale(xte)
    xva = None if xva is None else scale(xva)
    if a.standardise:
        mu, sd = xtr.mean((0, 2, 3), keepdims=True), xtr.std((0, 2, 3), keepdims=True)
        xtr, xte = (xtr - mu) / sd, (xte - mu) / sd
        xva = None if xva is None else (xva - mu) / sd
    m = cnn_ref(cin=xtr.shape[1], k=k)
    init(m)
    opt = torch.optim.Adam(m.parameters(), a.lr, betas=(0.9, 0.999), eps=1e-8)
    n = len(ytr)
    per = n // a.batch
    total, warm = per * a.epochs, int(a.warmup * per)
    step, best, best_epoch, state = 0, -1.0, 0, None
    start = time.perf_counter()
    for epoch in range(1, a.epochs + 1):
        order = rng.permutation(n)
        m.train()
        for b in range(per):
            idx = order[b * a.batch:(b + 1) * a.batch]
            xb = torch.from_numpy(augment(xtr[idx], rng, a.shift))
            yb = torch.from_numpy(ytr[idx])
            opt.zero_grad()
            F.cross_entropy(m(xb), yb, label_smoothing=a.label_smoothing).backward()
            for g in opt.param_groups:
                g["lr"] = schedule(a.lr, step, warm, total)
            opt.step()
            step += 1
        acc = float(epoch) if xva is None else scores(logits(m, xva, False), yva, k)[0]
        if acc > best or not a.best_epoch:
            best, best_epoch = acc, epoch
            state = {n_: t.detach().clone() for n_, t in m.state_dict().items()}
    seconds = time.perf_counter() - start
    m.load_state_dict(state)
    zte = logits(m, xte, True)
    tau, temp = 0.0, 1.0
    if xva is not None:
        zva = logits(m, xva, True)
        if not a.no_adjust:
            prior = np.maximum(np.bincount(ytr, minlength=k), 1) / n
            acc0, bal = scores(zva, yva, k)
            for t in TAUS:
                acc_t, bal_t = scores(zva - t * np.log(prior), yva, k)
                if acc_t >= acc0 - ADJUST_COST - 1e-12 and bal_t > bal:
                    tau, bal = t, bal_t
            zva, zte = zva - tau * np.log(prior), zte - tau * np.log(prior)
        temp = fit_temperature(zva, yva)
    acc, bal = scores(zte, yte, k)
    print(json.dumps({"torch_version": torch.__version__, "malloc": tuned.settings(), "threads": a.threads, "seed": a.seed,
                      "epochs": a.epochs, "best_epoch": best_epoch, "logit_adjust_tau": tau, "temperature": round(temp, 4),
                      "test_accuracy": round(acc, 4), "test_balanced_accuracy": round(bal, 4),
                      "ece": round(ece(zte / temp, yte), 4), "ece_uncalibrated": round(ece(zte, yte), 4),
                      "train_seconds": round(seconds, 1), "train_images_per_s": round(per * a.batch * a.epochs / seconds, 1)}))


if __name__ == "__main__":
    main()

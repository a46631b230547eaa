"""PyTorch reference for galaxy's cnn-ref speed figures (README, Speed).

The same architecture as `galaxy train --arch cnn-ref`: four blocks conv3x3 (no
bias) -> batch norm -> ReLU of widths 32, 64, 128, 128, 2x2 max-pool after the
first three, global average pool, dropout 0.3, dense to 4 classes; Adam 1e-3.
It prints the median images/s of single training steps at batch 64 and of
inference at batch 256, each over SECONDS seconds, as one JSON line: the
figures galaxy bench reports as cnn_ref_train_images_per_s and
cnn_ref_infer_images_per_s.

    /usr/bin/python3 bench/pytorch/cnnref.py [SECONDS [THREADS [SIZE]]]

SIZE is the side of the square 3-channel images (69, as galaxy bench's
cnn_ref_* figures; 128 for its cnn_ref_*_128 figures).

Needs Debian's python3-torch (PyTorch 1.13, CPU, mkldnn). Run it in turn
with galaxy's figures on an otherwise idle machine.

PyTorch at its best: the script runs with glibc's allocator tuned
(tuned.py says why and how) and reports the allocator settings it ran with;
GALAXY_TORCH_DEFAULT_MALLOC=1 measures the untuned configuration instead.
"""
import json
import statistics
import sys
import time

import tuned

tuned.ensure()

import torch  # noqa: E402 (after the re-exec: glibc reads the variables at start)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def cnn_ref(widths=(32, 64, 128, 128), cin=3, k=4, p=0.3):
    layers, c = [], cin
    for i, w in enumerate(widths):
        layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
        if i < len(widths) - 1:
            layers.append(nn.MaxPool2d(2))
        c = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(p), nn.Linear(c, k)]
    return nn.Sequential(*layers)


def rates(fn, images, seconds):
    out, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        fn()
        out.append(images / (time.perf_counter() - t))
    return statistics.median(out)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 69
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    m = cnn_ref()
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    x, y = torch.rand(64, 3, size, size), torch.randint(0, 4, (64,))

    def step():
        opt.zero_grad()
        F.cross_entropy(m(x), y).backward()
        opt.step()

    m.train()
    step()
    step()
    train = rates(step, 64, seconds)
    m.eval()
    xi = torch.rand(256, 3, size, size)
    with torch.no_grad():
        m(xi)
        infer = rates(lambda: m(xi), 256, seconds)
    malloc = tuned.settings()
    print(json.dumps({"torch_version": torch.__version__, "threads": threads, "size": size, "malloc": malloc,
                      "cnn_ref_train_images_per_s": round(train, 1), "cnn_ref_infer_images_per_s": round(infer, 1)}))


if __name__ == "__main__":
    main()

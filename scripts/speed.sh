#!/bin/bash
# speed.sh: galaxy's cnn-ref against PyTorch 1.13 at its best (the README's
# Speed rows, issue 17's acceptance): ROUNDS rounds (default 3) in which
# galaxy (go test ./train -bench CNNRef, 69 and 128 px) and PyTorch
# (bench/pytorch/cnnref.py, tuned allocator, 69 then 128 px) take turns on
# this machine, then the median images/s of each and their ratios.
#
#   scripts/speed.sh [ROUNDS [SECONDS]]
#
# Run it on an otherwise idle machine; it takes about 3 minutes a round.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
secs=${2:-10}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go test -c -o "$out/train.test" ./train
for r in $(seq "$rounds"); do
	echo "round $r of $rounds" >&2
	"$out/train.test" -test.run '^$' -test.bench CNNRef -test.benchtime "${secs}s" |
		awk '/^BenchmarkCNNRef/ { split($1, a, "[/-]"); kind = (a[1] ~ /Train/) ? "train" : "infer"; print "galaxy", kind, a[2], $(NF-1) }' >>"$out/rates"
	for size in 69 128; do
		/usr/bin/python3 bench/pytorch/cnnref.py "$secs" 2 "$size" |
			/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print("pytorch train", d["size"], d["cnn_ref_train_images_per_s"]); print("pytorch infer", d["size"], d["cnn_ref_infer_images_per_s"])' >>"$out/rates"
	done
done
/usr/bin/python3 - "$out/rates" <<'PY'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    who, kind, size, v = line.split()
    rates.setdefault((who, kind, int(size)), []).append(float(v))
print(f"{'figure':<22} {'galaxy':>22} {'PyTorch at its best':>26} {'ratio':>6}")
for kind in ("train", "infer"):
    for size in (69, 128):
        g, p = rates[("galaxy", kind, size)], rates[("pytorch", kind, size)]
        gm, pm = statistics.median(g), statistics.median(p)
        fmt = lambda v: "/".join(f"{x:.0f}" for x in v)
        print(f"{kind} {size} px{'':<12} {gm:7.1f} ({fmt(g)}) {pm:7.1f} ({fmt(p)}) {gm/pm:5.2f}x")
PY

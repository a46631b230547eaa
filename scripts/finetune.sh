#!/bin/sh
# Label efficiency on ../shared/data/gz2_spiral_69.h5 (spiral or not): 100, 300
# and 1000 stratified training labels, 3 seeds each, trained from scratch and
# from the built-in model's trunk three ways; then the README's table and
# docs/images/finetune-gz2.png. Runs already finished in RUNS are kept. About
# an hour on a 2-core machine. The runs use the recipe that was cnn's default
# until 2026-12-06 (the one the README's table was measured with; the recipe
# flags below), as the built-in model does (scripts/builtin.sh).
#   scripts/finetune.sh [RUNS]   (default /tmp/finetune-runs)
set -eu
cd "$(dirname "$0")/.."
runs=${1:-/tmp/finetune-runs}
mkdir -p "$runs"
go build -o "$runs/galaxy" ./cmd/galaxy
for n in 100 300 1000; do for s in 1 2 3; do
	for mode in scratch builtin frozen probe; do
		out=$runs/$mode-$n-$s
		[ -f "$out/metrics.json" ] && continue
		case $mode in
		scratch) extra="--batch 16" ;;
		builtin) extra="--batch 16 --init builtin --trunk-lr 0.1" ;;
		frozen) extra="--batch 16 --init builtin --freeze 4" ;;
		probe) extra="--init builtin --probe" ;;
		esac
		"$runs/galaxy" train --arch cnn --data ../shared/data/gz2_spiral_69.h5 --train-n $n --seed $s $extra \
			--epochs 30 --label-smoothing 0.1 --shift 3 --warmup 1 --keep-last=false --checkpoint-every 0 --out "$out" >"$out.log" 2>&1
	done
done; done
go run ./scripts/finetuneplot "$runs" docs/images/finetune-gz2

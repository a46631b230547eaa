// Package bench measures the project's speed figures the way the issues
// define them, for "galaxy bench" (and its --json form): medians of repeated
// timed rounds on synthetic inputs of the real sizes, so figures from noisy,
// shared machines stay comparable.
package bench

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"time"

	"galaxy/model/cnn"
	"galaxy/model/seed"
	"galaxy/num"
	"galaxy/train"
)

// Seed network sizes of the assignment: 69x69 g-band images, 100 hidden
// units, the course's 5 classes.
const (
	SeedN = 69 * 69
	SeedD = 100
	SeedK = 5
)

// Median returns the median of xs (0 for none).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Rounds times fn rounds times after one warm-up call and returns the
// median duration of one call in milliseconds divided by per (the number of
// operations one call does).
func Rounds(rounds, per int, fn func()) float64 {
	fn()
	ms := make([]float64, rounds)
	for r := range ms {
		t := time.Now()
		fn()
		ms[r] = float64(time.Since(t).Nanoseconds()) / 1e6 / float64(per)
	}
	return Median(ms)
}

// seedData returns a network and m random images with pixel-like values.
func seedData(m int) (train.Stepper, []float32, []int) {
	rng := rand.New(rand.NewPCG(1, 2))
	net, _ := seed.New(SeedN, SeedD, SeedK, rng)
	x := make([]float32, m*SeedN)
	for i := range x {
		x[i] = float32(rng.IntN(256)) / 256
	}
	y := make([]int, m)
	for i := range y {
		y[i] = rng.IntN(SeedK)
	}
	return net, x, y
}

// SeedStepBatch1 returns the median time of one SGD step of the seed
// network at batch 1, in milliseconds.
func SeedStepBatch1(rounds int) float64 {
	const imgs, steps = 64, 500
	net, x, y := seedData(imgs)
	team := num.NewTeam(runtime.GOMAXPROCS(0))
	defer team.Close()
	net.SetTeam(team)
	rng := rand.New(rand.NewPCG(3, 4))
	return Rounds(rounds, steps, func() {
		for s := 0; s < steps; s++ {
			i := rng.IntN(imgs)
			net.Step(x[i*SeedN:(i+1)*SeedN], y[i], 0.001)
		}
	})
}

// SeedForward returns the median time to score m images with the seed
// network in one batched pass, in milliseconds.
func SeedForward(m, rounds int) float64 {
	net, x, _ := seedData(m)
	out := make([]float32, m*SeedK)
	return Rounds(rounds, 1, func() { net.Logits(x, m, out) })
}

// SeedStepBatch returns the median time of one mini-batch step of the seed
// network at batch b in the given mode, in milliseconds.
func SeedStepBatch(b int, mode seed.Mode, rounds int) float64 {
	const imgs = 256
	net, x, y := seedData(imgs)
	rng := rand.New(rand.NewPCG(5, 6))
	xb, yb := make([]float32, b*SeedN), make([]int, b)
	steps := max(2, 2000/b)
	return Rounds(rounds, steps, func() {
		for s := 0; s < steps; s++ {
			for r := range yb {
				i := rng.IntN(imgs)
				copy(xb[r*SeedN:(r+1)*SeedN], x[i*SeedN:(i+1)*SeedN])
				yb[r] = y[i]
			}
			net.StepBatch(xb, yb, 0.001, mode)
		}
	})
}

// SgemmGflops returns the median GFLOP/s of num.Gemm for an s x s x s product.
func SgemmGflops(s, rounds int) float64 {
	a, b, c := make([]float32, s*s), make([]float32, s*s), make([]float32, s*s)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range a {
		a[i], b[i] = rng.Float32(), rng.Float32()
	}
	ms := Rounds(rounds, 1, func() { num.Gemm(false, false, s, s, s, 1, a, s, b, s, 0, c, s) })
	return 2 * float64(s) * float64(s) * float64(s) / (ms / 1e3) / 1e9
}

// CNNRefThroughput returns the images/s of cnn-ref (size x size x 3
// images, 4 classes) training at batch 64 and classifying at batch 256:
// medians of rounds rounds (at most 5; each round 2 training steps, 1
// inference batch).
func CNNRefThroughput(size, rounds int) (trainRate, inferRate float64) {
	net, err := cnn.New(cnn.Spec{InC: 3, H: size, W: size, K: 4, Widths: cnn.Widths, Dropout: 0.3}, train.NewRand(1))
	if err != nil {
		return math.NaN(), math.NaN()
	}
	r := min(rounds, 5)
	return train.Throughput(net, 64, 1, r, 2, true), train.Throughput(net, 256, 1, r, 1, false)
}

// Figures are the speed figures galaxy bench reports, by name.
type Figures map[string]float64

// All measures every figure with rounds rounds each.
func All(rounds int) Figures {
	f := Figures{
		"seed_step_batch1_ms":   SeedStepBatch1(rounds),
		"seed_step_batch10_ms":  SeedStepBatch(10, seed.Vector, rounds),
		"seed_step_batch128_ms": SeedStepBatch(128, seed.Vector, rounds),
		"seed_forward_2000_ms":  SeedForward(2000, rounds),
		"sgemm_1024_gflops":     SgemmGflops(1024, rounds),
	}
	f["cnn_ref_train_images_per_s"], f["cnn_ref_infer_images_per_s"] = CNNRefThroughput(69, rounds)
	f["cnn_ref_train_images_per_s_128"], f["cnn_ref_infer_images_per_s_128"] = CNNRefThroughput(128, rounds)
	return f
}

// WriteText writes the figures as a table.
func (f Figures) WriteText(w io.Writer, rounds int) {
	fmt.Fprintf(w, "galaxy bench: medians of %d rounds, GOMAXPROCS %d, %s/%s\n\n", rounds, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "%-46s %10s\n", "figure", "value")
	for _, r := range []struct{ key, name, format string }{
		{"seed_step_batch1_ms", "seed network SGD step, batch 1", "%7.4f ms"},
		{"seed_step_batch10_ms", "seed network SGD step, batch 10 (vector)", "%7.4f ms"},
		{"seed_step_batch128_ms", "seed network SGD step, batch 128 (vector)", "%7.4f ms"},
		{"seed_forward_2000_ms", "seed network forward, 2000 images", "%7.3f ms"},
		{"sgemm_1024_gflops", "SGEMM 1024x1024x1024", "%7.1f GFLOP/s"},
		{"cnn_ref_train_images_per_s", "cnn-ref training, batch 64 (69x69x3, k=4)", "%7.1f images/s"},
		{"cnn_ref_infer_images_per_s", "cnn-ref inference, batch 256", "%7.1f images/s"},
		{"cnn_ref_train_images_per_s_128", "cnn-ref training, batch 64, 128x128x3", "%7.1f images/s"},
		{"cnn_ref_infer_images_per_s_128", "cnn-ref inference, batch 256, 128x128x3", "%7.1f images/s"},
	} {
		fmt.Fprintf(w, "%-46s "+r.format+"\n", r.name, f[r.key])
	}
}

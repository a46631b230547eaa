package num

import (
	"fmt"
	"testing"
)

// raceEnabled is set under -race (race_test.go).
var raceEnabled bool

func benchVecs(n int) (x, y, z []float32) {
	r := newRand(42)
	return randVec(r, n), randVec(r, n), randVec(r, n)
}

var sink float32

func BenchmarkDot4761(b *testing.B) {
	x, y, _ := benchVecs(4761)
	b.SetBytes(2 * 4 * 4761)
	for b.Loop() {
		sink += Dot(x, y)
	}
}

func BenchmarkAxpy4761(b *testing.B) {
	x, y, _ := benchVecs(4761)
	b.SetBytes(3 * 4 * 4761)
	for b.Loop() {
		Axpy(1e-7, x, y)
	}
}

func BenchmarkAxpyDot4761(b *testing.B) {
	x, y, z := benchVecs(4761)
	b.SetBytes(4 * 4 * 4761)
	for b.Loop() {
		sink += AxpyDot(1e-7, x, y, z)
	}
}

// The network's first layer: W1 is 100×4761 (1.9 MB).
func BenchmarkGemv100x4761(b *testing.B) {
	r := newRand(43)
	a, x, y := randVec(r, 100*4761), randVec(r, 4761), make([]float32, 100)
	b.SetBytes(4 * 100 * 4761)
	for b.Loop() {
		Gemv(100, 4761, a, 4761, x, y)
	}
}

func BenchmarkGemvT100x4761(b *testing.B) {
	r := newRand(44)
	a, x, y := randVec(r, 100*4761), randVec(r, 100), make([]float32, 4761)
	b.SetBytes(4 * 100 * 4761)
	for b.Loop() {
		GemvT(100, 4761, 1e-7, a, 4761, x, y)
	}
}

func BenchmarkGer100x4761(b *testing.B) {
	r := newRand(45)
	a, x, y := randVec(r, 100*4761), randVec(r, 100), randVec(r, 4761)
	b.SetBytes(2 * 4 * 100 * 4761)
	for b.Loop() {
		Ger(100, 4761, 1e-9, x, y, a, 4761)
	}
}

// BenchmarkTrainStep100x4761 is the batch-1 training step of the first layer:
// W1 -= lr*outer(delta, v) fused with the next forward W1 v' (AxpyDot per row).
func BenchmarkTrainStep100x4761(b *testing.B) {
	r := newRand(46)
	w, v, delta := randVec(r, 100*4761), randVec(r, 4761), randVec(r, 100)
	h := make([]float32, 100)
	for b.Loop() {
		for i := 0; i < 100; i++ {
			h[i] = AxpyDot(-1e-9*delta[i], v, w[i*4761:(i+1)*4761], v)
		}
	}
}

func benchGemm(b *testing.B, gemm gemmFunc, tA, tB bool, m, n, k int) {
	r := newRand(47)
	a, bb, c := randVec(r, m*k), randVec(r, k*n), make([]float32, m*n)
	lda, ldb := k, n
	if tA {
		lda = m
	}
	if tB {
		ldb = k
	}
	for b.Loop() {
		gemm(tA, tB, m, n, k, 1, a, lda, bb, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkGemm(b *testing.B) {
	for _, s := range []int{64, 128, 256, 512, 1024} {
		b.Run(fmt.Sprint(s), func(b *testing.B) { benchGemm(b, Gemm, false, false, s, s, s) })
	}
	for tc, name := range []string{"NN", "TN", "NT", "TT"} {
		b.Run(name+"512", func(b *testing.B) { benchGemm(b, Gemm, tc&1 != 0, tc&2 != 0, 512, 512, 512) })
	}
}

// BenchmarkKernels compares the implementations on the hot kernels.
func BenchmarkKernels(b *testing.B) {
	for _, ks := range kernelSets() {
		x, y, z := benchVecs(4761)
		b.Run("Dot4761/"+ks.name, func(b *testing.B) {
			for b.Loop() {
				sink += ks.Dot(x, y)
			}
		})
		b.Run("AxpyDot4761/"+ks.name, func(b *testing.B) {
			for b.Loop() {
				sink += ks.AxpyDot(1e-7, x, y, z)
			}
		})
		r := newRand(48)
		a, v, h := randVec(r, 100*4761), randVec(r, 4761), make([]float32, 100)
		b.Run("Gemv100x4761/"+ks.name, func(b *testing.B) {
			for b.Loop() {
				ks.Gemv(100, 4761, a, 4761, v, h)
			}
		})
		b.Run("Ger100x4761/"+ks.name, func(b *testing.B) {
			for b.Loop() {
				ks.Ger(100, 4761, 1e-9, h, v, a, 4761)
			}
		})
		for _, s := range []int{64, 256, 1024} {
			if ks.name == "generic" && s > 256 {
				continue
			}
			b.Run(fmt.Sprintf("Gemm%d/%s", s, ks.name), func(b *testing.B) { benchGemm(b, ks.Gemm, false, false, s, s, s) })
		}
	}
}

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
		impl.Gemv(100, 4761, a, 4761, x, y)
	}
}

func BenchmarkGemvT100x4761(b *testing.B) {
	r := newRand(44)
	a, x, y := randVec(r, 100*4761), randVec(r, 100), make([]float32, 4761)
	b.SetBytes(4 * 100 * 4761)
	for b.Loop() {
		impl.GemvT(100, 4761, 1e-7, a, 4761, x, y)
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
	lda, ldb := leadingDims(tA, tB, m, n, k)
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
		for _, s := range []int{64, 256, 1024} {
			if ks.name == "generic" && s > 256 {
				continue
			}
			b.Run(fmt.Sprintf("Gemm%d/%s", s, ks.name), func(b *testing.B) { benchGemm(b, ks.Gemm, false, false, s, s, s) })
		}
	}
}

// seedGemm is one Gemm call of the seed network (n = 4761 inputs, d = 100
// hidden units, k = 5 outputs), with the leading dimensions it uses.
type seedGemm struct {
	name          string
	tA, tB        bool
	m, n, k       int
	alpha, beta   float32
	lda, ldb, ldc int
}

// seedGemms returns the Gemm calls of the seed network's forward pass over
// 2000 images and of one mini-batch SGD step at batch b, in the order
// model/seed makes them.
func seedGemms(b int) []seedGemm {
	const n, d, k = 4761, 100, 5
	if b == 0 {
		return []seedGemm{
			{"X*W1t", false, true, 2000, d, n, 1, 0, n, n, d},
			{"H*W2t", false, true, 2000, k, d, 1, 0, d, d, k},
		}
	}
	return []seedGemm{
		{"X*W1t", false, true, b, d, n, 1, 0, n, n, d},
		{"H*W2t", false, true, b, k, d, 1, 0, d, d, k},
		{"dZ*W2", false, false, b, d, k, 1, 0, k, d, d},
		{"dZt*H", true, false, k, d, b, -1e-3, 1, k, d, d},
		{"dUt*X", true, false, d, n, b, -1e-3, 1, d, n, n},
	}
}

func (s seedGemm) mats(r interface{ Float32() float32 }) (a, b, c []float32) {
	ar, br := s.m, s.k
	if s.tA {
		ar = s.k
	}
	if s.tB {
		br = s.n
	}
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = r.Float32() - 0.5
		}
		return v
	}
	return fill(ar * s.lda), fill(br * s.ldb), fill(s.m * s.ldc)
}

// seedStep holds the matrices of the seed network's Gemm calls (seedGemms)
// for one batch size, shared between the calls as in the network: the
// forward product reads the W1 and X the update writes and reads.
type seedStep struct {
	calls   []seedGemm
	a, b, c [][]float32
}

func newSeedStep(batch int) *seedStep {
	calls := seedGemms(batch)
	r := newRand(49)
	st := &seedStep{calls: calls}
	for _, s := range calls {
		a, b, c := s.mats(r)
		st.a, st.b, st.c = append(st.a, a), append(st.b, b), append(st.c, c)
	}
	if batch > 0 {
		// X, W1, H, W2, dZ, dU as model/seed/batch.go passes them.
		x, w1, h, w2 := st.a[0], st.b[0], st.c[0], st.b[1]
		dz, du := st.a[2], st.c[2]
		st.a[1] = h
		st.b[2] = w2
		st.a[3], st.b[3], st.c[3] = dz, h, w2
		st.a[4], st.b[4], st.c[4] = du, x, w1
	} else {
		st.a[1] = st.c[0]
	}
	return st
}

func (st *seedStep) run(i int) {
	s := st.calls[i]
	Gemm(s.tA, s.tB, s.m, s.n, s.k, s.alpha, st.a[i], s.lda, st.b[i], s.ldb, s.beta, st.c[i], s.ldc)
}

// BenchmarkGemmSeed times the seed network's Gemm calls one by one and, as
// "all", the calls of a forward pass over 2000 images or of a mini-batch
// step in a row.
func BenchmarkGemmSeed(b *testing.B) {
	for _, batch := range []int{0, 10, 128} {
		st := newSeedStep(batch)
		prefix := fmt.Sprintf("batch%d/", batch)
		if batch == 0 {
			prefix = "forward2000/"
		}
		for i, s := range st.calls {
			b.Run(prefix+s.name, func(b *testing.B) {
				for b.Loop() {
					st.run(i)
				}
				b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		b.Run(prefix+"all", func(b *testing.B) {
			for b.Loop() {
				for i := range st.calls {
					st.run(i)
				}
			}
		})
	}
}

package num

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// eps32 is float32's machine epsilon (2^-23).
const eps32 = 1.0 / (1 << 23)

// errConst is the constant in every error bound tol = errConst*sqrt(k+1)*eps32*scale,
// where scale is the sum of the magnitudes of the terms that were added.
const errConst = 4

var vecSizes = []int{0, 1, 3, 7, 15, 16, 17, 31, 33, 63, 64, 65, 100, 257, 4761}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.Float64()*2 - 1)
	}
	return v
}

// guarded returns a slice of length n (capacity n) inside a larger buffer
// whose other elements are NaN, and a function that reports whether the
// guard elements are still untouched.
func guarded(r *rand.Rand, n int) ([]float32, func() bool) {
	const g = 37
	buf := make([]float32, n+2*g)
	for i := range buf {
		buf[i] = float32(math.NaN())
	}
	s := buf[g : g+n : g+n]
	copy(s, randVec(r, n))
	return s, func() bool {
		for i := 0; i < g; i++ {
			if !math.IsNaN(float64(buf[i])) || !math.IsNaN(float64(buf[g+n+i])) {
				return false
			}
		}
		return true
	}
}

func tol(k int, scale float64) float64 {
	return errConst*math.Sqrt(float64(k+1))*eps32*scale + 1e-30
}

// forEachSet runs f on every implementation this CPU can run.
func forEachSet(t *testing.T, f func(t *testing.T, ks *kernelSet)) {
	for _, ks := range kernelSets() {
		t.Run(ks.name, func(t *testing.T) { f(t, ks) })
	}
}

func TestKernelSets(t *testing.T) {
	sets := kernelSets()
	if sets[0].name != "generic" {
		t.Fatalf("first set is %q, want generic", sets[0].name)
	}
	found := false
	for _, s := range sets {
		if s.name == impl.name {
			found = true
		}
	}
	if !found {
		t.Fatalf("active implementation %q is not among the tested sets", impl.name)
	}
	t.Logf("active implementation: %s; tested: %d sets", impl.name, len(sets))
}

func TestDot(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(1)
		for _, n := range vecSizes {
			x, okx := guarded(r, n)
			y, oky := guarded(r, n)
			var ref, scale float64
			for i := range x {
				ref += float64(x[i]) * float64(y[i])
				scale += math.Abs(float64(x[i]) * float64(y[i]))
			}
			got := ks.Dot(x, y)
			if d := math.Abs(float64(got) - ref); !(d <= tol(n, scale)) {
				t.Errorf("n=%d: Dot = %v, want %v (err %g > %g)", n, got, ref, d, tol(n, scale))
			}
			if !okx() || !oky() {
				t.Errorf("n=%d: guard elements changed", n)
			}
		}
	})
}

// checkVec compares got with a float64 reference element by element; scale[i]
// is the sum of magnitudes that went into element i, k the number of terms.
func checkVec(t *testing.T, what string, got []float32, ref, scale []float64, k int) {
	t.Helper()
	bad := 0
	for i := range got {
		if d := math.Abs(float64(got[i]) - ref[i]); !(d <= tol(k, scale[i])) {
			if bad < 5 {
				t.Errorf("%s: [%d] = %v, want %v (err %g)", what, i, got[i], ref[i], d)
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d elements wrong in all", what, bad)
	}
}

func TestAxpy(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(3)
		for _, n := range vecSizes {
			for _, alpha := range []float32{0, 1, -0.75} {
				x, okx := guarded(r, n)
				y, oky := guarded(r, n)
				ref := make([]float64, n)
				scale := make([]float64, n)
				for i := range x {
					p := float64(alpha) * float64(x[i])
					ref[i] = float64(y[i]) + p
					scale[i] = math.Abs(float64(y[i])) + math.Abs(p)
				}
				ks.Axpy(alpha, x, y)
				checkVec(t, fmt.Sprintf("Axpy n=%d alpha=%v", n, alpha), y, ref, scale, 1)
				if !okx() || !oky() {
					t.Errorf("n=%d: guard elements changed", n)
				}
			}
		}
	})
}

func TestAxpyDot(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(4)
		for _, n := range vecSizes {
			x, okx := guarded(r, n)
			y, oky := guarded(r, n)
			z, okz := guarded(r, n)
			const alpha = -0.3
			ref := make([]float64, n)
			scale := make([]float64, n)
			var dref, dscale float64
			for i := range x {
				p := alpha * float64(x[i])
				ref[i] = float64(y[i]) + p
				scale[i] = math.Abs(float64(y[i])) + math.Abs(p)
				dref += ref[i] * float64(z[i])
				dscale += scale[i] * math.Abs(float64(z[i]))
			}
			got := ks.AxpyDot(alpha, x, y, z)
			checkVec(t, fmt.Sprintf("AxpyDot y n=%d", n), y, ref, scale, 1)
			if d := math.Abs(float64(got) - dref); !(d <= tol(n, dscale)) {
				t.Errorf("n=%d: AxpyDot = %v, want %v", n, got, dref)
			}
			if !okx() || !oky() || !okz() {
				t.Errorf("n=%d: guard elements changed", n)
			}
		}
	})
}

func TestAdd(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(5)
		for _, n := range vecSizes {
			x, okx := guarded(r, n)
			ref := make([]float64, n)
			scale := make([]float64, n)
			dst, okd := guarded(r, n)
			for i := range x {
				ref[i] = float64(dst[i]) + float64(x[i])
				scale[i] = math.Abs(float64(dst[i])) + math.Abs(float64(x[i]))
			}
			ks.Add(dst, x)
			checkVec(t, fmt.Sprintf("Add n=%d", n), dst, ref, scale, 1)
			if !okx() || !okd() {
				t.Errorf("n=%d: guard elements changed", n)
			}
		}
	})
}

// matSizes are (m, n) pairs for the matrix-vector kernels.
func matSizes() [][2]int {
	var s [][2]int
	for _, m := range []int{0, 1, 3, 4, 5, 7, 8, 9, 17, 100} {
		for _, n := range vecSizes {
			s = append(s, [2]int{m, n})
		}
	}
	return s
}

// guardedMatrix returns an m×n matrix with leading dimension n+pad inside a
// NaN-guarded buffer; the padding inside the matrix is NaN too.
func guardedMatrix(r *rand.Rand, m, n, pad int) ([]float32, int, func() bool) {
	lda := n + pad
	size := 0
	if m > 0 {
		size = (m-1)*lda + n
	}
	a, ok := guarded(r, size)
	for i := 0; i < m; i++ {
		for j := n; j < lda && i*lda+j < size; j++ {
			a[i*lda+j] = float32(math.NaN())
		}
	}
	check := func() bool {
		if !ok() {
			return false
		}
		for i := 0; i < m; i++ {
			for j := n; j < lda && i*lda+j < size; j++ {
				if !math.IsNaN(float64(a[i*lda+j])) {
					return false
				}
			}
		}
		return true
	}
	return a, lda, check
}

func TestGemv(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(6)
		for _, mn := range matSizes() {
			m, n := mn[0], mn[1]
			a, lda, oka := guardedMatrix(r, m, n, 3)
			x, okx := guarded(r, n)
			y, oky := guarded(r, m)
			ref := make([]float64, m)
			scale := make([]float64, m)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					p := float64(a[i*lda+j]) * float64(x[j])
					ref[i] += p
					scale[i] += math.Abs(p)
				}
			}
			ks.Gemv(m, n, a, lda, x, y)
			checkVec(t, fmt.Sprintf("Gemv %dx%d", m, n), y, ref, scale, n)
			if !oka() || !okx() || !oky() {
				t.Errorf("%dx%d: guard elements changed", m, n)
			}
		}
	})
}

func TestGemvT(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(7)
		for _, mn := range matSizes() {
			m, n := mn[0], mn[1]
			a, lda, oka := guardedMatrix(r, m, n, 5)
			x, okx := guarded(r, m)
			y, oky := guarded(r, n)
			const alpha = 0.7
			ref := make([]float64, n)
			scale := make([]float64, n)
			for j := 0; j < n; j++ {
				ref[j] = float64(y[j])
				scale[j] = math.Abs(float64(y[j]))
				for i := 0; i < m; i++ {
					p := alpha * float64(a[i*lda+j]) * float64(x[i])
					ref[j] += p
					scale[j] += math.Abs(p)
				}
			}
			ks.GemvT(m, n, alpha, a, lda, x, y)
			checkVec(t, fmt.Sprintf("GemvT %dx%d", m, n), y, ref, scale, m)
			if !oka() || !okx() || !oky() {
				t.Errorf("%dx%d: guard elements changed", m, n)
			}
		}
	})
}

// mustPanic checks that f panics with a message that starts with "num.".
func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("%s: no panic", what)
			return
		}
		if s, ok := r.(string); !ok || !strings.HasPrefix(s, "num.") {
			t.Errorf("%s: panic %v, want a message starting with num.", what, r)
		}
	}()
	f()
}

func TestPanics(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		a := make([]float32, 100)
		mustPanic(t, "Dot", func() { ks.Dot(a[:3], a[:4]) })
		mustPanic(t, "Axpy", func() { ks.Axpy(1, a[:3], a[:2]) })
		mustPanic(t, "AxpyDot y", func() { ks.AxpyDot(1, a[:3], a[:2], a[:3]) })
		mustPanic(t, "AxpyDot z", func() { ks.AxpyDot(1, a[:3], a[:3], a[:2]) })
		mustPanic(t, "Add", func() { ks.Add(a[:3], a[:2]) })
		mustPanic(t, "Gemv a", func() { ks.Gemv(10, 10, a[:99], 10, a, a) })
		mustPanic(t, "Gemv lda", func() { ks.Gemv(2, 10, a, 9, a, a) })
		mustPanic(t, "Gemv x", func() { ks.Gemv(5, 10, a, 10, a[:9], a) })
		mustPanic(t, "Gemv y", func() { ks.Gemv(5, 10, a, 10, a, a[:4]) })
		mustPanic(t, "Gemv neg", func() { ks.Gemv(-1, 10, a, 10, a, a) })
		mustPanic(t, "GemvT a", func() { ks.GemvT(10, 10, 1, a[:95], 10, a, a) })
		mustPanic(t, "GemvT x", func() { ks.GemvT(10, 10, 1, a, 10, a[:9], a) })
		mustPanic(t, "GemvT y", func() { ks.GemvT(10, 10, 1, a, 10, a, a[:9]) })
		mustPanic(t, "Gemm neg", func() { ks.Gemm(false, false, 1, -1, 1, 1, a, 1, a, 1, 0, a, 1) })
		mustPanic(t, "Gemm a", func() { ks.Gemm(false, false, 10, 5, 10, 1, a[:99], 10, a, 5, 0, a, 5) })
		mustPanic(t, "Gemm aT", func() { ks.Gemm(true, false, 10, 5, 10, 1, a[:99], 10, a, 5, 0, a, 5) })
		mustPanic(t, "Gemm lda", func() { ks.Gemm(false, false, 2, 5, 10, 1, a, 9, a, 5, 0, a, 5) })
		mustPanic(t, "Gemm ldaT", func() { ks.Gemm(true, false, 10, 5, 2, 1, a, 9, a, 5, 0, a, 5) })
		mustPanic(t, "Gemm b", func() { ks.Gemm(false, false, 5, 10, 10, 1, a, 10, a[:99], 10, 0, a, 10) })
		mustPanic(t, "Gemm bT", func() { ks.Gemm(false, true, 5, 10, 10, 1, a, 10, a[:99], 10, 0, a, 10) })
		mustPanic(t, "Gemm c", func() { ks.Gemm(false, false, 10, 10, 5, 1, a, 5, a, 10, 0, a[:99], 10) })
		mustPanic(t, "Gemm ldc", func() { ks.Gemm(false, false, 2, 10, 5, 1, a, 5, a, 10, 0, a, 9) })
		mustPanic(t, "Gemm overflow", func() { ks.Gemm(false, false, math.MaxInt/2, 10, 5, 1, a, 5, a, 10, 0, a, 10) })
	})
	mustPanic(t, "Dot public", func() { Dot(make([]float32, 2), nil) })
}

func TestEmptyAndZero(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		if ks.Dot(nil, nil) != 0 || ks.AxpyDot(2, nil, nil, nil) != 0 {
			t.Error("empty reductions are not 0")
		}
		ks.Axpy(1, nil, nil)
		ks.Add(nil, nil)
		// Gemv with n == 0 zeroes y; m == 0 touches nothing.
		y := []float32{1, 2, 3}
		ks.Gemv(3, 0, nil, 1, nil, y)
		if y[0] != 0 || y[1] != 0 || y[2] != 0 {
			t.Errorf("Gemv n=0: y = %v, want zeros", y)
		}
		ks.Gemv(0, 5, nil, 5, make([]float32, 5), nil)
		ks.GemvT(0, 5, 1, nil, 5, nil, make([]float32, 5))
	})
}

func TestParallel(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 100, 1001} {
		for _, grain := range []int{0, 1, 3, 50, 2000} {
			hits := make([]int32, n)
			calls := 0
			Parallel(n, grain, func(lo, hi int) {
				if lo >= hi || lo < 0 || hi > n {
					t.Errorf("n=%d grain=%d: bad range [%d,%d)", n, grain, lo, hi)
					return
				}
				for i := lo; i < hi; i++ {
					hits[i]++ // ranges are disjoint, so no race
				}
			})
			_ = calls
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("n=%d grain=%d: index %d covered %d times", n, grain, i, h)
				}
			}
		}
	}
	// Below 2*grain, fn runs inline exactly once.
	calls := 0
	Parallel(10, 6, func(lo, hi int) {
		calls++
		if lo != 0 || hi != 10 {
			t.Errorf("inline call got [%d,%d)", lo, hi)
		}
	})
	if calls != 1 {
		t.Errorf("inline: %d calls", calls)
	}
	// A panic in any range reaches the caller.
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want boom", r)
		}
	}()
	Parallel(1000, 1, func(lo, hi int) {
		if hi == 1000 {
			panic("boom")
		}
	})
	t.Error("Parallel did not panic")
}

// specialVec returns n values of many magnitudes with, here and there, the
// values where rounding and comparisons go wrong: ±0, ±Inf, NaN, subnormals
// and the largest float32.
func specialVec(r *rand.Rand, n int) []float32 {
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), 1e-40, -1e-40, math.MaxFloat32, -math.MaxFloat32, 1, -1}
	v := make([]float32, n)
	for i := range v {
		if r.IntN(8) == 0 {
			v[i] = specials[r.IntN(len(specials))]
		} else {
			v[i] = float32((r.Float64()*2 - 1) * math.Pow(10, float64(r.IntN(9)-4)))
		}
	}
	return v
}

// sameBits reports whether a and b are the same float32, NaN or not (any
// NaN matches any NaN).
func sameBits(a, b float32) bool {
	if a != a && b != b {
		return true
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

// TestScaleShift checks ScaleShift and ScaleShiftReLU bit for bit against
// the Go expressions they promise, on values with every special case.
func TestScaleShift(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(11)
		for _, n := range append(vecSizes, 1000) {
			for _, relu := range []bool{false, true} {
				src := specialVec(r, n)
				a, b := specialVec(r, 1)[0], specialVec(r, 1)[0]
				if r.IntN(2) == 0 {
					a, b = float32(r.NormFloat64()), float32(r.NormFloat64())
				}
				dst, ok := guarded(r, n)
				if relu {
					ks.ScaleShiftReLU(dst, src, a, b)
				} else {
					ks.ScaleShift(dst, src, a, b)
				}
				for i, v := range src {
					prod := a * v
					want := float32(prod) + b
					if relu {
						switch {
						case want != want: // NaN stays NaN
						case want > 0:
						default:
							want = 0 // +0, also for -0 and negative values
						}
					}
					if !sameBits(dst[i], want) {
						t.Fatalf("relu=%v n=%d i=%d: %v*%v+%v gave %v (bits %08x), want %v (bits %08x)", relu, n, i, a, v, b, dst[i], math.Float32bits(dst[i]), want, math.Float32bits(want))
					}
				}
				if !ok() {
					t.Errorf("n=%d: guard elements changed", n)
				}
			}
		}
	})
}

// TestBatchNormGrad checks BatchNormGrad bit for bit against its formula
// written out in float32 steps, on values with every special case.
func TestBatchNormGrad(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(12)
		for _, n := range append(vecSizes, 1000) {
			g, x := specialVec(r, n), specialVec(r, n)
			c := specialVec(r, 6)
			if r.IntN(2) == 0 {
				for i := range c {
					c[i] = float32(r.NormFloat64())
				}
			}
			sc, sh, mu, a, b, cc := c[0], c[1], c[2], c[3], c[4], c[5]
			d, ok := guarded(r, n)
			ks.BatchNormGrad(d, g, x, sc, sh, mu, a, b, cc)
			for i := range d {
				ag := a * g[i]
				masked := float32(ag) * 0
				scaled := sc * x[i]
				if y := float32(scaled) + sh; y > 0 {
					masked = float32(ag)
				}
				sum := masked + b
				diff := x[i] - mu
				grad := cc * diff
				want := sum + float32(grad)
				if !sameBits(d[i], want) {
					t.Fatalf("n=%d i=%d: g=%v x=%v sc=%v sh=%v mu=%v a=%v b=%v c=%v gave %v, want %v", n, i, g[i], x[i], sc, sh, mu, a, b, cc, d[i], want)
				}
			}
			if !ok() {
				t.Errorf("n=%d: guard elements changed", n)
			}
		}
	})
}

// TestMaxPool2Row checks MaxPool2Row bit for bit against Go's max on values
// with ties, ±0, infinities and NaN.
func TestMaxPool2Row(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(13)
		for _, n := range append(vecSizes, 1000) {
			r0, r1 := specialVec(r, 2*n+1), specialVec(r, 2*n+1)
			for i := range r0 {
				if r.IntN(5) == 0 {
					r0[i] = float32(r.IntN(2)) // ties
				}
			}
			dst, ok := guarded(r, n)
			ks.MaxPool2Row(dst, r0, r1)
			for i := range dst {
				want := max(max(r0[2*i], r0[2*i+1]), max(r1[2*i], r1[2*i+1]))
				if !sameBits(dst[i], want) || (want != want) != (dst[i] != dst[i]) {
					t.Fatalf("n=%d i=%d: max(%v %v %v %v) gave %v, want %v", n, i, r0[2*i], r0[2*i+1], r1[2*i], r1[2*i+1], dst[i], want)
				}
			}
			if !ok() {
				t.Errorf("n=%d: guard elements changed", n)
			}
		}
	})
}

// TestSumsF64 checks SumsF64 and MaskedSumsF64 against plain float64 sums
// (to float64 rounding, as the order differs) and their NaN propagation.
func TestSumsF64(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(14)
		for _, n := range append(vecSizes, 1000, 100003) {
			for _, special := range []bool{false, true} {
				v, x := randVec(r, n), randVec(r, n)
				if special && n > 0 {
					v = specialVec(r, n)
				}
				mu, sc, sh := r.NormFloat64(), float32(r.NormFloat64()), float32(r.NormFloat64())
				var s, q, sg, sgx, abs, absx float64
				for i := range v {
					a := float64(v[i])
					s, q, abs = s+a, q+a*a, abs+math.Abs(a)
					gm := float64(v[i] * 0)
					if float32(sc*x[i])+sh > 0 {
						gm = a
					}
					sg, sgx, absx = sg+gm, sgx+gm*(float64(x[i])-mu), absx+math.Abs(gm*(float64(x[i])-mu))
				}
				gs, gq := ks.SumsF64(v)
				ms, msx := ks.MaskedSumsF64(v, x, sc, sh, mu)
				tol := func(scale float64) float64 { return 4 * float64(n+1) * 0x1p-52 * scale }
				for _, c := range []struct {
					name            string
					got, want, tolv float64
				}{{"sum", gs, s, tol(abs)}, {"sumSq", gq, q, tol(q)}, {"sg", ms, sg, tol(abs)}, {"sgx", msx, sgx, tol(absx)}} {
					if math.IsNaN(c.want) || math.IsInf(c.want, 0) {
						if !(math.IsNaN(c.got) || c.got == c.want) {
							t.Fatalf("n=%d special=%v: %s = %v, want %v", n, special, c.name, c.got, c.want)
						}
						continue
					}
					if math.Abs(c.got-c.want) > c.tolv {
						t.Fatalf("n=%d special=%v: %s = %v, want %v (tolerance %g)", n, special, c.name, c.got, c.want, c.tolv)
					}
				}
			}
		}
	})
}

// TestMaskedSumsPieces checks that MaskedSums over a slice cut into random
// pieces (empty ones, pieces shorter and longer than a chunk) gives the
// bits of MaskedSumsF64 over the whole slice.
func TestMaskedSumsPieces(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(16)
		for _, n := range append(vecSizes, 1000, 4761) {
			g, x := randVec(r, n), randVec(r, n)
			sc, sh, mu := float32(r.NormFloat64()), float32(r.NormFloat64()), r.NormFloat64()
			wantS, wantX := ks.MaskedSumsF64(g, x, sc, sh, mu)
			for trial := range 20 {
				m := ks.newMaskedSums(sc, sh, mu)
				for i := 0; i < n; {
					j := min(n, i+r.IntN(3*maskedChunk+1))
					if trial == 0 {
						j = n
					}
					m.Add(g[i:j], x[i:j])
					i = j
				}
				gotS, gotX := m.Sums()
				if math.Float64bits(gotS) != math.Float64bits(wantS) || math.Float64bits(gotX) != math.Float64bits(wantX) {
					t.Fatalf("n=%d trial %d: pieces gave %v %v, the whole %v %v", n, trial, gotS, gotX, wantS, wantX)
				}
			}
		}
	})
}

// TestMaxPool2RowArg checks MaxPool2RowArg's values and argmax places, and
// MaxUnpool2Row's writes, bit for bit against direct loops, on values with
// ties, ±0, infinities and NaN, at several bases and widths.
func TestMaxPool2RowArg(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(15)
		for _, n := range append(vecSizes, 1000) {
			w := int32(2*n + 1 + r.IntN(3))
			base := int32(r.IntN(1000))
			r0, r1 := specialVec(r, 2*n+1), specialVec(r, 2*n+1)
			for i := range r0 {
				if r.IntN(4) == 0 {
					r0[i], r1[i] = float32(r.IntN(2)), float32(r.IntN(2)) // ties
				}
			}
			dst, ok := guarded(r, n)
			arg := make([]int32, n+3)
			ks.MaxPool2RowArg(dst, arg[:n], r0, r1, base, w)
			for i := range dst {
				win := []float32{r0[2*i], r0[2*i+1], r1[2*i], r1[2*i+1]}
				want := max(max(win[0], win[1]), max(win[2], win[3]))
				// Each row's larger (the right one only when greater),
				// then the bottom row only when its maximum (Go's max) is
				// greater than the top row's: NaN is never greater.
				at := 0
				if win[1] > win[0] {
					at = 1
				}
				bat := 2
				if win[3] > win[2] {
					bat = 3
				}
				if max(win[2], win[3]) > max(win[0], win[1]) {
					at = bat
				}
				wantArg := base + int32(2*i) + []int32{0, 1, w, w + 1}[at]
				if !sameBits(dst[i], want) || arg[i] != wantArg {
					t.Fatalf("n=%d i=%d: window %v gave %v at %d, want %v at %d", n, i, win, dst[i], arg[i], want, wantArg)
				}
			}
			if !ok() || arg[n] != 0 {
				t.Errorf("n=%d: wrote outside dst or arg", n)
			}
			// The backward pass: NaN-filled rows, every window written.
			g := specialVec(r, n)
			u0, ok0 := guarded(r, 2*n)
			u1, ok1 := guarded(r, 2*n)
			for i := range u0 {
				u0[i], u1[i] = float32(math.NaN()), float32(math.NaN())
			}
			ks.MaxUnpool2Row(u0, u1, g, arg, base, w)
			for i, v := range g {
				want := [4]float32{}
				switch arg[i] - base - int32(2*i) {
				case 0:
					want[0] = 0 + v
				case 1:
					want[1] = 0 + v
				case w:
					want[2] = 0 + v
				default:
					want[3] = 0 + v
				}
				got := [4]float32{u0[2*i], u0[2*i+1], u1[2*i], u1[2*i+1]}
				for j := range got {
					if !sameBits(got[j], want[j]) || (got[j] != got[j]) != (want[j] != want[j]) {
						t.Fatalf("n=%d window %d: unpool wrote %v, want %v", n, i, got, want)
					}
				}
			}
			if !ok0() || !ok1() {
				t.Errorf("n=%d: unpool wrote outside its rows", n)
			}
		}
	})
}

// TestGatherTaps checks GatherTaps against a direct loop: rows of every
// width up to 32, strides past the width (whose gap must stay as it was),
// 1 to 10 taps starting anywhere in the pattern, masks with holes, full
// and empty masks, and offsets whose clear bits lie before the start or
// past the end of src; and its refusals.
func TestGatherTaps(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(17)
		src := randVec(r, 400)
		for _, width := range []int{1, 7, 15, 16, 17, 31, 32} {
			for trial := range 30 {
				taps, rows, stride, step := 1+r.IntN(10), r.IntN(25), width+r.IntN(3), r.IntN(20)
				first := r.IntN(3 * taps)
				c0, c1 := first/taps, (first+max(rows, 1)-1)/taps
				off, mask := make([]int, taps), make([]uint32, taps)
				for p := range off {
					lo, hi := r.IntN(width+1), r.IntN(width+1)
					if lo > hi {
						lo, hi = hi, lo
					}
					switch r.IntN(4) {
					case 0:
						lo, hi = 0, width // full
					case 1:
						lo, hi = 0, 0 // empty
					}
					m := uint32(uint64(1)<<hi-1) &^ uint32(uint64(1)<<lo-1)
					if trial%3 == 0 && hi > lo+2 {
						m &^= 1 << (lo + 1) // a hole
					}
					mask[p] = m
					// The lowest offset whose set bits stay in src in the
					// first channel, or the highest in the last.
					least, most := -c0*step-lo, len(src)-c1*step-hi
					off[p] = least + r.IntN(most-least+1)
					switch r.IntN(4) {
					case 0:
						off[p] = least
					case 1:
						off[p] = most
					}
				}
				n := 0
				if rows > 0 {
					n = (rows-1)*stride + width
				}
				dst, ok := guarded(r, n)
				before := append([]float32(nil), dst...)
				ks.GatherTaps(dst, stride, src, step, off, mask, first, rows, width)
				for p := range rows {
					q := first + p
					tp, o := q%taps, q/taps*step+off[q%taps]
					for i := range stride {
						at := p*stride + i
						if at >= n {
							break
						}
						want := before[at]
						if i < width {
							want = 0
							if mask[tp]&(1<<i) != 0 {
								want = src[o+i]
							}
						}
						if !sameBits(dst[at], want) {
							t.Fatalf("width %d stride %d taps %d first %d row %d value %d: got %v, want %v", width, stride, taps, first, p, i, dst[at], want)
						}
					}
				}
				if !ok() {
					t.Fatalf("width %d stride %d: guard elements changed", width, stride)
				}
			}
		}
		d := make([]float32, 40)
		for _, bad := range []func(){
			func() { ks.GatherTaps(d, 33, src, 0, []int{0}, []uint32{1}, 0, 1, 33) },
			func() { ks.GatherTaps(d, 8, src, 0, []int{0}, []uint32{1}, 0, 1, 16) },
			func() { ks.GatherTaps(d, 16, src, 0, []int{0}, []uint32{1 << 20}, 0, 1, 16) },
			func() { ks.GatherTaps(d, 16, src, 0, []int{-1}, []uint32{1}, 0, 1, 16) },
			func() { ks.GatherTaps(d, 16, src, 0, []int{395}, []uint32{0xff}, 0, 1, 16) },
			func() { ks.GatherTaps(d[:20], 16, src, 0, []int{0}, []uint32{1}, 0, 2, 16) }, // dst too short
			func() { ks.GatherTaps(d, 16, src, 0, []int{0, 0}, []uint32{1}, 0, 1, 16) },   // too few masks
			func() { ks.GatherTaps(d, 16, src, -1, []int{0}, []uint32{1}, 0, 1, 16) },     // negative step
			func() { ks.GatherTaps(d, 16, src, 200, []int{0}, []uint32{1}, 0, 3, 8) },     // the third channel reads src[400]
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Error("no panic")
					}
				}()
				bad()
			}()
		}
	})
}

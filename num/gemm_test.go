package num

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

var gemmSizes = []int{1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 100, 127, 129}

// gemmTriples returns the (m, n, k) triples Gemm is tested on: the whole
// cartesian product of gemmSizes, or with short (-short, -race) every triple
// of the small sizes, every size in each position against a few others, and
// a deterministic random sample of the rest.
func gemmTriples(short bool) [][3]int {
	seen := map[[3]int]bool{}
	var out [][3]int
	add := func(m, n, k int) {
		t := [3]int{m, n, k}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if !short {
		for _, m := range gemmSizes {
			for _, n := range gemmSizes {
				for _, k := range gemmSizes {
					add(m, n, k)
				}
			}
		}
		return out
	}
	small := []int{1, 2, 3, 5, 8, 9, 17}
	for _, m := range small {
		for _, n := range small {
			for _, k := range small {
				add(m, n, k)
			}
		}
	}
	for _, v := range gemmSizes {
		for _, w := range []int{1, 7, 33, 129} {
			add(v, w, 17)
			add(w, v, 9)
			add(17, w, v)
			add(v, v, w)
		}
	}
	r := rand.New(rand.NewPCG(11, 12))
	for i := 0; i < 40; i++ {
		add(gemmSizes[r.IntN(len(gemmSizes))], gemmSizes[r.IntN(len(gemmSizes))], gemmSizes[r.IntN(len(gemmSizes))])
	}
	return out
}

type alphaBeta struct{ alpha, beta float32 }

var gemmAlphaBeta = []alphaBeta{{1, 0}, {0.5, 1}, {-1.5, 0.25}, {2, 0}, {1, -1}, {0, 0.5}, {0, 0}}

// checkGemm runs ks.Gemm on random matrices with padded leading dimensions
// and compares with a float64 reference.
func checkGemm(t *testing.T, ks *kernelSet, r *rand.Rand, tA, tB bool, m, n, k int, ab alphaBeta) {
	t.Helper()
	checkGemmWith(t, ks.Gemm, r, tA, tB, m, n, k, ab)
}

type gemmFunc = func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

func checkGemmWith(t *testing.T, gemm gemmFunc, r *rand.Rand, tA, tB bool, m, n, k int, ab alphaBeta) {
	t.Helper()
	checkGemmPad(t, gemm, r, tA, tB, m, n, k, ab, func() int { return 1 + r.IntN(4) })
}

// checkGemmPad is checkGemmWith with the leading dimensions' padding chosen
// by pad.
func checkGemmPad(t *testing.T, gemm gemmFunc, r *rand.Rand, tA, tB bool, m, n, k int, ab alphaBeta, pad func() int) {
	t.Helper()
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	a, lda, oka := guardedMatrix(r, ar, ac, pad())
	b, ldb, okb := guardedMatrix(r, br, bc, pad())
	c, ldc, okc := guardedMatrix(r, m, n, pad())
	if ab.beta == 0 {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				c[i*ldc+j] = float32(math.NaN())
			}
		}
	}
	// Float64 copies of op(A) (m×k) and op(B)ᵀ (n×k), so that every
	// reference element is a contiguous dot product.
	fa := make([]float64, m*k)
	fb := make([]float64, n*k)
	for i := 0; i < m; i++ {
		for p := 0; p < k; p++ {
			if tA {
				fa[i*k+p] = float64(a[p*lda+i])
			} else {
				fa[i*k+p] = float64(a[i*lda+p])
			}
		}
	}
	for j := 0; j < n; j++ {
		for p := 0; p < k; p++ {
			if tB {
				fb[j*k+p] = float64(b[j*ldb+p])
			} else {
				fb[j*k+p] = float64(b[p*ldb+j])
			}
		}
	}
	ref := make([]float64, m*n)
	scale := make([]float64, m*n)
	al := float64(ab.alpha)
	for i := 0; i < m; i++ {
		ra := fa[i*k : i*k+k]
		for j := 0; j < n; j++ {
			rb := fb[j*k : j*k+k]
			var s, sa float64
			for p, x := range ra {
				v := x * rb[p]
				s += v
				sa += math.Abs(v)
			}
			ref[i*n+j] = al * s
			scale[i*n+j] = math.Abs(al) * sa
			if ab.beta != 0 {
				cv := float64(ab.beta) * float64(c[i*ldc+j])
				ref[i*n+j] += cv
				scale[i*n+j] += math.Abs(cv)
			}
		}
	}
	gemm(tA, tB, m, n, k, ab.alpha, a, lda, b, ldb, ab.beta, c, ldc)
	bad := 0
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			got := float64(c[i*ldc+j])
			want := ref[i*n+j]
			if d := math.Abs(got - want); !(d <= tol(k, scale[i*n+j])) {
				if bad < 3 {
					t.Errorf("Gemm(%v,%v) m=%d n=%d k=%d alpha=%v beta=%v: C[%d,%d] = %v, want %v (err %g, tol %g)",
						tA, tB, m, n, k, ab.alpha, ab.beta, i, j, got, want, d, tol(k, scale[i*n+j]))
				}
				bad++
			}
		}
	}
	if bad > 3 {
		t.Errorf("Gemm(%v,%v) m=%d n=%d k=%d: %d elements wrong", tA, tB, m, n, k, bad)
	}
	if !oka() || !okb() || !okc() {
		t.Errorf("Gemm(%v,%v) m=%d n=%d k=%d: guard or padding elements changed", tA, tB, m, n, k)
	}
}

func TestGemm(t *testing.T) {
	triples := gemmTriples(testing.Short() || raceEnabled)
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		for tc := 0; tc < 4; tc++ {
			tA, tB := tc&1 != 0, tc&2 != 0
			t.Run(fmt.Sprintf("transA=%v,transB=%v", tA, tB), func(t *testing.T) {
				t.Parallel()
				r := newRand(uint64(100 + tc))
				for i, s := range triples {
					checkGemm(t, ks, r, tA, tB, s[0], s[1], s[2], gemmAlphaBeta[i%len(gemmAlphaBeta)])
					if t.Failed() {
						return
					}
				}
			})
		}
	})
}

// TestGemmAlphaBeta runs every alpha/beta combination on sizes that take the
// edge, full-tile, multi-block and parallel paths.
func TestGemmAlphaBeta(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(200)
		for _, s := range [][3]int{{1, 1, 1}, {12, 32, 3}, {13, 33, 300}, {129, 100, 65}, {200, 150, 530}} {
			for tc := 0; tc < 4; tc++ {
				for i, ab := range gemmAlphaBeta {
					if s[0] == 200 && i%3 != tc%3 && (testing.Short() || raceEnabled) {
						continue // the largest size takes every combination only without -short and -race
					}
					checkGemm(t, ks, r, tc&1 != 0, tc&2 != 0, s[0], s[1], s[2], ab)
				}
			}
		}
	})
}

// TestGemmLarge covers several mc/nc/kc blocks and the parallel split in
// both directions.
func TestGemmLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large Gemm in -short")
	}
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(300)
		for _, s := range [][3]int{{300, 37, 260}, {37, 2100, 40}, {259, 271, 513}} {
			checkGemm(t, ks, r, false, false, s[0], s[1], s[2], alphaBeta{1.5, 0.5})
			checkGemm(t, ks, r, true, true, s[0], s[1], s[2], alphaBeta{-1, 0})
		}
	})
}

func TestGemmZeroSizes(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		c := []float32{1, 2, 3, 4}
		ks.Gemm(false, false, 0, 2, 3, 1, nil, 3, make([]float32, 6), 2, 0, nil, 2)
		ks.Gemm(false, false, 2, 0, 3, 1, make([]float32, 6), 3, nil, 1, 0, nil, 1)
		// k == 0: C = beta*C, and beta == 0 clears it without reading.
		ks.Gemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 2, c, 2)
		if c[0] != 2 || c[3] != 8 {
			t.Errorf("k=0 beta=2: C = %v", c)
		}
		nan := float32(math.NaN())
		c = []float32{nan, nan, nan, nan}
		ks.Gemm(true, true, 2, 2, 0, 1, nil, 2, nil, 1, 0, c, 2)
		for _, v := range c {
			if v != 0 {
				t.Errorf("k=0 beta=0: C = %v, want zeros", c)
				break
			}
		}
	})
}

// TestGemmPublic checks that the exported Gemm is the active set's.
func TestGemmPublic(t *testing.T) {
	r := newRand(400)
	m, n, k := 20, 30, 40
	a, b := randVec(r, m*k), randVec(r, k*n)
	c1, c2 := make([]float32, m*n), make([]float32, m*n)
	Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c1, n)
	impl.Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c2, n)
	for i := range c1 {
		if c1[i] != c2[i] {
			t.Fatalf("Gemm differs from the active set at %d", i)
		}
	}
}

// TestGemmPaths calls every driver directly with every kernel of each set,
// whatever GOMAXPROCS is and whatever Gemm would choose, on sizes with
// several blocks in every dimension.
func TestGemmPaths(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		for i := range ks.gemms {
			g := &ks.gemms[i]
			t.Run(fmt.Sprintf("mr=%d", g.mr), func(t *testing.T) { testGemmPaths(t, g) })
		}
		if ks.dotTile != nil {
			t.Run("dot", func(t *testing.T) { testGemmDot(t, ks) })
		}
	})
}

func testGemmPaths(t *testing.T, g *gemmKernel) {
	sizes := [][3]int{{1, 1, 1}, {5, 3, 2}, {13, 33, 7}, {100, 65, 300}, {37, 2100, 20}, {250, 17, 9}, {64, 700, 33},
		{100, 300, 10}, {30, 500, 70}, {120, 40, 600}}
	r := newRand(600)
	type driver struct {
		name string
		run  func(workers int) gemmFunc
	}
	drivers := []driver{
		{"rows", func(workers int) gemmFunc { return bindDriver(g.parallelRows, workers) }},
		{"cols", func(workers int) gemmFunc {
			cols := func(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				g.parallelCols(workers, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
			}
			return bindDriver(cols, workers)
		}},
		{"longk", func(workers int) gemmFunc {
			longK := func(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
				g.parallelLongK(workers, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
			}
			return bindDriver(longK, workers)
		}},
		{"swapped", func(workers int) gemmFunc { return bindDriver(g.swapped, workers) }},
		{"run", func(workers int) gemmFunc { return bindDriver(g.run, workers) }},
	}
	workerCounts := []int{1, 2, 3, 8}
	if raceEnabled {
		workerCounts = []int{1, 3}
	}
	for _, d := range drivers {
		for _, workers := range workerCounts {
			gemm := d.run(workers)
			for i, s := range sizes {
				if (testing.Short() || raceEnabled) && workers != 1 && i%2 == 1 {
					continue
				}
				checkGemmWith(t, gemm, r, i%2 == 0, i%3 == 0, s[0], s[1], s[2], gemmAlphaBeta[(i+workers)%len(gemmAlphaBeta)])
			}
			if t.Failed() {
				t.Fatalf("driver %s, %d workers", d.name, workers)
			}
		}
	}
	serial := func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		g.serial(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	for i, s := range sizes {
		checkGemmWith(t, serial, r, i%2 == 1, i%3 == 1, s[0], s[1], s[2], gemmAlphaBeta[i%4])
	}
}

type gemmDriver = func(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

func bindDriver(d gemmDriver, workers int) gemmFunc {
	return func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		d(workers, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// testGemmDot runs the dot-product path (A not transposed, B transposed)
// directly on sizes with one or several k chunks and partial tiles.
func testGemmDot(t *testing.T, ks *kernelSet) {
	sizes := [][3]int{{1, 1, 1}, {1, 9, 16}, {5, 4, 17}, {10, 100, 300}, {3, 7, 1300}, {16, 33, 900}, {7, 1, 2000},
		{11, 50, 4761}, {300, 5, 300}, {64, 6, 129}, {4, 3, 15}, {40, 9, 2000}, {64, 3, 500}}
	r := newRand(650)
	for _, workers := range []int{1, 2, 3} {
		dot := func(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			if tA || !tB {
				t.Fatal("dot path needs transA false, transB true")
			}
			ks.gemmDot(workers, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
		}
		for i, s := range sizes {
			checkGemmWith(t, dot, r, false, true, s[0], s[1], s[2], gemmAlphaBeta[(i+workers)%len(gemmAlphaBeta)])
		}
	}
}

// TestGemmSeedShapes runs the seed network's products (seedGemms, the
// forward pass on 300 images instead of 2000) through Gemm on every set,
// against the float64 reference, with tight leading dimensions as the
// network has them (under -race, only batch 10 and 40 images).
func TestGemmSeedShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("large products in -short")
	}
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(800)
		for _, batch := range []int{0, 10, 128} {
			if raceEnabled && batch == 128 {
				continue
			}
			for _, s := range seedGemms(batch) {
				m := s.m
				if batch == 0 {
					m = 300
					if raceEnabled {
						m = 40
					}
				}
				checkGemmPad(t, ks.Gemm, r, s.tA, s.tB, m, s.n, s.k, alphaBeta{s.alpha, s.beta}, func() int { return 0 })
			}
		}
	})
}

// TestGemmConcurrent runs products that take the parallel paths from
// several goroutines at once (one of them gets the helpers, the others run
// alone) and checks that each gives the same bits as when run by itself.
func TestGemmConcurrent(t *testing.T) {
	type job struct {
		tA, tB  bool
		m, n, k int
		a, b, c []float32
		want    []float32
	}
	r := newRand(950)
	var jobs []*job
	for _, s := range [][5]int{{10, 100, 1200, 0, 1}, {100, 1000, 12, 1, 0}, {120, 100, 300, 0, 1}, {130, 140, 150, 0, 0}, {60, 500, 80, 1, 1}} {
		j := &job{m: s[0], n: s[1], k: s[2], tA: s[3] == 1, tB: s[4] == 1}
		j.a, j.b, j.c = randVec(r, j.m*j.k), randVec(r, j.k*j.n), randVec(r, j.m*j.n)
		jobs = append(jobs, j)
	}
	lds := func(j *job) (int, int) {
		lda, ldb := j.k, j.n
		if j.tA {
			lda = j.m
		}
		if j.tB {
			ldb = j.k
		}
		return lda, ldb
	}
	for _, j := range jobs {
		lda, ldb := lds(j)
		j.want = append([]float32(nil), j.c...)
		Gemm(j.tA, j.tB, j.m, j.n, j.k, 0.5, j.a, lda, j.b, ldb, 1, j.want, j.n)
	}
	rounds := 20
	if testing.Short() || raceEnabled {
		rounds = 3
	}
	var wg sync.WaitGroup
	errs := make(chan string, len(jobs))
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lda, ldb := lds(j)
			for range rounds {
				c := append([]float32(nil), j.c...)
				Gemm(j.tA, j.tB, j.m, j.n, j.k, 0.5, j.a, lda, j.b, ldb, 1, c, j.n)
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(j.want[i]) {
						errs <- fmt.Sprintf("m=%d n=%d k=%d: element %d is %v, alone %v", j.m, j.n, j.k, i, c[i], j.want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestGemmDeterministic checks that Gemm gives bit-identical results run
// after run on products that take the parallel paths, and with 1 to 3
// goroutines.
func TestGemmDeterministic(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(900)
		for _, s := range [][5]int{{10, 100, 4761, 0, 1}, {100, 4761, 10, 1, 0}, {128, 100, 600, 0, 1}, {300, 100, 250, 0, 1}, {200, 210, 150, 0, 0}} {
			m, n, k, tA, tB := s[0], s[1], s[2], s[3] == 1, s[4] == 1
			if (testing.Short() || raceEnabled) && m*n*k > 1<<23 {
				continue
			}
			a, b := randVec(r, m*k), randVec(r, k*n)
			lda, ldb := leadingDims(tA, tB, m, n, k)
			c0 := randVec(r, m*n)
			var first []float32
			for run := 0; run < 8; run++ {
				c := append([]float32(nil), c0...)
				if run < 5 {
					ks.Gemm(tA, tB, m, n, k, 0.5, a, lda, b, ldb, 1, c, n)
				} else {
					// Any number of goroutines gives the same bits.
					ks.gemm(run-4, tA, tB, m, n, k, 0.5, a, lda, b, ldb, 1, c, n)
				}
				if first == nil {
					first = c
					continue
				}
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
						t.Fatalf("m=%d n=%d k=%d: run %d differs at %d: %v vs %v", m, n, k, run, i, c[i], first[i])
					}
				}
			}
		}
	})
}

// TestGemmVectorShapes covers the one-row and one-column products, which
// use the matrix-vector kernels, with tight and padded leading dimensions.
func TestGemmVectorShapes(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(700)
		for _, p := range []int{0, 3} {
			pad := func() int { return p }
			for tc := 0; tc < 4; tc++ {
				tA, tB := tc&1 != 0, tc&2 != 0
				for i, s := range [][3]int{{1, 1, 1}, {1, 100, 33}, {1, 129, 7}, {100, 1, 33}, {129, 1, 65}, {1, 1, 300}, {2, 1, 5}, {1, 2, 5}} {
					checkGemmPad(t, ks.Gemm, r, tA, tB, s[0], s[1], s[2], gemmAlphaBeta[(i+tc)%len(gemmAlphaBeta)], pad)
				}
			}
		}
	})
}

// TestGemmLongK checks that parallelLongK, which run takes for products of
// few rows and a long k, gives the bits of parallelRows, which it replaces
// there, for both transpositions and partial tiles.
func TestGemmLongK(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(22)
		for _, g := range ks.gemms {
			g := g
			m, n, k := min(g.mc, 2*g.mr+3), 5*g.nr+7, gemmLongK*g.kc+37
			for tc := range 4 {
				tA, tB := tc&1 != 0, tc&2 != 0
				lda, ldb := leadingDims(tA, tB, m, n, k)
				a, b := randVec(r, m*k), randVec(r, k*n)
				want, got := randVec(r, m*n), make([]float32, m*n)
				copy(got, want)
				g.parallelRows(2, tA, tB, m, n, k, 1.25, a, lda, b, ldb, 0.5, want, n)
				g.parallelLongK(2, tA, tB, m, n, k, 1.25, a, lda, b, ldb, 0.5, got, n, nil)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%dx%d kernel, transA %v transB %v: element %d is %v, parallelRows gives %v", g.mr, g.nr, tA, tB, i, got[i], want[i])
					}
				}
			}
		}
	})
}

// TestGemmFill checks that GemmFunc and GemmNTFunc, B written by a
// function, give the bits of Gemm with B stored (transposed for
// GemmNTFunc), on products that take each block-reading path (column
// split, long k, dot products: a convolution's forward product and weight
// gradient) and on ones that fall back, and that fill is asked only for
// blocks inside B.
func TestGemmFill(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		r := newRand(21)
		for _, c := range []struct {
			transB bool
			beta   float32
			shapes [][3]int
		}{
			{false, 0.5, [][3]int{{32, 4761, 27}, {64, 1200, 288}, {128, 4096, 1152}, {13, 333, 70}, {100, 129, 127}, {1, 50, 9}, {7, 1, 9}, {5, 7, 0}, {3, 5, 2}}},
			{true, 1, [][3]int{{32, 27, 20000}, {64, 288, 9300}, {128, 576, 3000}, {128, 160, 40000}, {7, 5, 3000}, {13, 9, 100}, {100, 40, 70}, {1, 9, 50}, {6, 1, 50}, {5, 7, 0}}},
		} {
			for _, s := range c.shapes {
				m, n, k := s[0], s[1], s[2]
				rows, cols := k, n // B as stored
				if c.transB {
					rows, cols = n, k
				}
				a, b := randVec(r, m*k), randVec(r, rows*cols)
				want, got := randVec(r, m*n), make([]float32, m*n)
				copy(got, want)
				ks.Gemm(false, c.transB, m, n, k, 1.5, a, max(1, k), b, max(1, cols), c.beta, want, n)
				fill := func(dst []float32, stride, p0, kb, j0, nc int) {
					if len(dst) != kb*stride || nc > stride || p0 < 0 || p0+kb > rows || j0 < 0 || j0+nc > cols {
						t.Errorf("transB %v %v: fill(len %d, stride %d, p0 %d, kb %d, j0 %d, cols %d) outside B", c.transB, s, len(dst), stride, p0, kb, j0, nc)
						return
					}
					for p := range kb {
						copy(dst[p*stride:p*stride+nc], b[(p0+p)*cols+j0:(p0+p)*cols+j0+nc])
						clear(dst[p*stride+nc : (p+1)*stride])
					}
				}
				if c.transB {
					ks.GemmNTFunc(m, n, k, 1.5, a, max(1, k), fill, c.beta, got, n)
				} else {
					ks.GemmFunc(m, n, k, 1.5, a, max(1, k), fill, c.beta, got, n)
				}
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("transB %v %v: element %d is %v, Gemm gives %v", c.transB, s, i, got[i], want[i])
					}
				}
			}
		}
	})
}

// leadingDims returns the leading dimensions of A and B stored as op(A)
// (m×k) and op(B) (k×n) ask.
func leadingDims(tA, tB bool, m, n, k int) (lda, ldb int) {
	lda, ldb = k, n
	if tA {
		lda = m
	}
	if tB {
		ldb = k
	}
	return lda, ldb
}

package num

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// gemmKernel describes a Gemm micro-kernel and the cache blocking around it
// (Goto/BLIS): C is computed in blocks of mc×nc with k split in chunks of kc;
// for each chunk a kc×nc panel of op(B) is packed into nr-wide column panels
// and an mc×kc block of alpha*op(A) into mr-high row panels, and kern
// multiplies one row panel by one column panel into an mr×nr tile of C.
type gemmKernel struct {
	mr, nr     int
	mc, kc, nc int
	// kern computes ab = sum_p a[p*mr+i]*b[p*bs+j] (i < mr, j < nr) over
	// p < kc and, for i < rows <= mr and j < cols <= nr, stores
	// c[i*ldc+j] = ab[i][j] when load is false, or ab[i][j] + beta*c[i*ldc+j]
	// when it is true; nothing else of c is touched. kc >= 1,
	// len(a) >= kc*mr, len(b) >= (kc-1)*bs+cols, len(c) >= (rows-1)*ldc+cols.
	// bs is nr (a packed panel, zero-padded to nr columns) unless inPlaceB,
	// when it may also be the leading dimension of B read in place, and only
	// b[p*bs : p*bs+cols] is read.
	// While it runs, kern may prefetch (a hint, never a fault) the memory
	// at pf: pfLines cache lines from pf[0], as many from pf[pfStride],
	// and so on, about one line every 4 steps; pf is nil for none.
	kern func(kc int, a, b, c []float32, ldc int, beta float32, load bool, rows, cols, bs int, pf []float32, pfLines, pfStride int)
	// cost is the kernel's time per element of a full tile, relative to the
	// other kernels of its set: kernelSet.kernelFor weighs it against the
	// padding of partial tiles.
	cost float64
	// inPlaceB says kern can read B in place (any bs, masked columns).
	inPlaceB bool
	// transpose stores dst[p*dstStride+r] = alpha*src[r*ld+p] for
	// r < rows <= 16, p < cols, touching nothing else: the packing of A
	// (not transposed) and of B (transposed).
	transpose func(src []float32, ld, rows, cols int, alpha float32, dst []float32, dstStride int)
	// panelCopy stores dst[p*dstStride+r] = alpha*src[p*ld+r] for r < rows
	// and 0 for rows <= r < width (<= 32), p < cols, touching nothing
	// else: the packing of A (transposed) and of B (not transposed).
	panelCopy func(src []float32, ld, rows, cols int, alpha float32, dst []float32, dstStride, width int)
}

// gemmParallelMin is the smallest m*n*k for which Gemm splits the work over
// several goroutines. The shared Team's helpers poll for work between the
// calls of a training step, so handing a piece over costs a few
// microseconds; a product of this size takes ~5µs on one core.
const gemmParallelMin = 1 << 19

// Gemm computes C = alpha*op(A)*op(B) + beta*C with row-major matrices, where
// op(X) is X, or Xᵀ when the matching trans flag is set; op(A) is m×k, op(B)
// is k×n and C is m×n. A is stored m×k (lda >= max(1,k)) or, transposed, k×m
// (lda >= max(1,m)); B is stored k×n (ldb >= max(1,n)) or n×k (ldb >= max(1,k));
// ldc >= max(1,n). When beta is 0, C is not read, so NaNs or infinities in it
// do not propagate. Large products run on up to GOMAXPROCS goroutines.
//
// Gemm panics if a size is negative, a leading dimension is too small, or a
// slice is shorter than its matrix needs.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	impl.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func (ks *kernelSet) Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panicNegGemm(m, n, k)
	}
	if transA {
		checkMatrix("Gemm", "a", k, m, a, lda)
	} else {
		checkMatrix("Gemm", "a", m, k, a, lda)
	}
	if transB {
		checkMatrix("Gemm", "b", n, k, b, ldb)
	} else {
		checkMatrix("Gemm", "b", k, n, b, ldb)
	}
	checkMatrix("Gemm", "c", m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleMatrix(m, n, beta, c, ldc)
		return
	}
	if m == 1 && (!transA || lda == 1) {
		ks.gemmRow(transB, n, k, alpha, a[:k], b, ldb, beta, c[:n])
		return
	}
	if n == 1 && !transA && (transB || ldb == 1) {
		ks.gemmCol(m, k, alpha, a, lda, b[:k], beta, c, ldc)
		return
	}
	ks.gemm(gemmWorkers(m, n, k), transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmWorkers returns how many goroutines an m×n×k product is split over.
func gemmWorkers(m, n, k int) int {
	if float64(m)*float64(n)*float64(k) >= gemmParallelMin {
		return runtime.GOMAXPROCS(0)
	}
	return 1
}

// BPanelFunc writes a block of a matrix B that GemmFunc never stores: rows
// p0 to p0+kb-1 and columns j0 to j0+cols-1 of B, element (p0+p, j0+j) at
// dst[p*stride+j], and zeros at dst[p*stride+j] for cols <= j < stride.
// cols <= stride and len(dst) = kb*stride. It may be called from several
// goroutines at once, on different blocks.
type BPanelFunc func(dst []float32, stride, p0, kb, j0, cols int)

// GemmFunc computes C = alpha*A*B + beta*C like Gemm (A m×k, not
// transposed), with B (k×n) written block by block by fill as the product
// needs it rather than stored: a convolution's im2col matrix gathered
// straight into Gemm's packed panels. The result has the bits of Gemm with
// B stored (ldb = n). Small products, which Gemm would not split by
// columns, have B written whole by fill and then go through Gemm.
func GemmFunc(m, n, k int, alpha float32, a []float32, lda int, fill BPanelFunc, beta float32, c []float32, ldc int) {
	impl.GemmFunc(m, n, k, alpha, a, lda, fill, beta, c, ldc)
}

func (ks *kernelSet) GemmFunc(m, n, k int, alpha float32, a []float32, lda int, fill BPanelFunc, beta float32, c []float32, ldc int) {
	ks.gemmFill("GemmFunc", false, m, n, k, alpha, a, lda, fill, beta, c, ldc)
}

// GemmNTFunc computes C = alpha*A*Bᵀ + beta*C like Gemm with B transposed
// (A m×k, not transposed; B n×k), with B written block by block by fill as
// the product needs it rather than stored: fill(dst, stride, p0, kb, j0,
// cols) writes rows p0..p0+kb-1 and columns j0..j0+cols-1 of B (the
// BPanelFunc contract, B being n×k here). A convolution's weight gradient
// is one: the output gradient times its im2col matrix transposed. The
// result has the bits of Gemm with B stored (ldb = k). Small products, and
// others that Gemm would not compute as dot products over rows of B or by
// packing B one panel at a time, have B written whole by fill and then go
// through Gemm.
func GemmNTFunc(m, n, k int, alpha float32, a []float32, lda int, fill BPanelFunc, beta float32, c []float32, ldc int) {
	impl.GemmNTFunc(m, n, k, alpha, a, lda, fill, beta, c, ldc)
}

func (ks *kernelSet) GemmNTFunc(m, n, k int, alpha float32, a []float32, lda int, fill BPanelFunc, beta float32, c []float32, ldc int) {
	ks.gemmFill("GemmNTFunc", true, m, n, k, alpha, a, lda, fill, beta, c, ldc)
}

// gemmFill is GemmFunc (B k×n) and GemmNTFunc (transB: B n×k, used
// transposed). It takes the path Gemm takes for B stored with rows of its
// own length when that path reads B a block at a time (dot products,
// parallelCols, parallelLongK), with fill writing the blocks; otherwise it
// has fill write B whole, into a pooled buffer, and calls Gemm.
func (ks *kernelSet) gemmFill(name string, transB bool, m, n, k int, alpha float32, a []float32, lda int, fill BPanelFunc, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panicNegGemm(m, n, k)
	}
	checkMatrix(name, "a", m, k, a, lda)
	checkMatrix(name, "c", m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	rows, cols := k, n // B as stored
	if transB {
		rows, cols = n, k
	}
	workers := gemmWorkers(m, n, k)
	if k > 0 && alpha != 0 && m > 1 && n > 1 {
		if ks.useDot(false, transB, m, n, k) {
			ks.gemmDot(workers, m, n, k, alpha, a, lda, nil, cols, beta, c, ldc, fill)
			return
		}
		if g, swap := ks.plan(m, n, k); !swap {
			switch g.route(workers, transB, m, n, k, cols) {
			case byCols:
				g.parallelCols(workers, false, transB, m, n, k, alpha, a, lda, nil, cols, beta, c, ldc, fill)
				return
			case byLongK:
				g.parallelLongK(workers, false, transB, m, n, k, alpha, a, lda, nil, cols, beta, c, ldc, fill)
				return
			}
		}
	}
	w := gemmPool.Get().(*gemmWork)
	defer gemmPool.Put(w)
	b := aligned64(&w.bbuf, rows*cols)
	for r0 := 0; r0 < rows; r0 += 256 {
		fill(b[r0*cols:min(rows, r0+256)*cols], cols, r0, min(256, rows-r0), 0, cols)
	}
	ks.Gemm(false, transB, m, n, k, alpha, a, lda, b, max(1, cols), beta, c, ldc)
}

// gemm computes a product with m, n > 1 and k, alpha != 0 on up to workers
// goroutines. The result does not depend on workers.
func (ks *kernelSet) gemm(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if ks.useDot(transA, transB, m, n, k) {
		ks.gemmDot(workers, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
		return
	}
	g, swap := ks.plan(m, n, k)
	if swap {
		g.swapped(workers, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	g.run(workers, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmRow computes the one-row product c = alpha*x*op(B) + beta*c with the
// matrix-vector kernels (x and c contiguous, len(x) = k, len(c) = n).
func (ks *kernelSet) gemmRow(transB bool, n, k int, alpha float32, x, b []float32, ldb int, beta float32, c []float32) {
	if !transB {
		// c = beta*c, then c += alpha*Bᵀx.
		scaleMatrix(1, n, beta, c, n)
		ks.GemvT(k, n, alpha, b, ldb, x, c)
		return
	}
	// B is n×k: c[j] = alpha*dot(B[j,:], x) + beta*c[j], in chunks.
	var t [64]float32
	for j0 := 0; j0 < n; j0 += len(t) {
		nb := min(len(t), n-j0)
		ks.Gemv(nb, k, b[j0*ldb:], ldb, x, t[:nb])
		combine(c[j0:j0+nb], t[:nb], 1, alpha, beta)
	}
}

// gemmCol computes the one-column product c = alpha*A*y + beta*c (A m×k
// not transposed, y contiguous, c with stride ldc).
func (ks *kernelSet) gemmCol(m, k int, alpha float32, a []float32, lda int, y []float32, beta float32, c []float32, ldc int) {
	var t [64]float32
	for i0 := 0; i0 < m; i0 += len(t) {
		mb := min(len(t), m-i0)
		ks.Gemv(mb, k, a[i0*lda:], lda, y, t[:mb])
		combine(c[i0*ldc:], t[:mb], ldc, alpha, beta)
	}
}

// combine stores c[i*ldc] = alpha*t[i] + beta*c[i*ldc], not reading c when
// beta is 0.
func combine(c, t []float32, ldc int, alpha, beta float32) {
	for i, v := range t {
		if beta == 0 {
			c[i*ldc] = alpha * v
		} else {
			c[i*ldc] = alpha*v + beta*c[i*ldc]
		}
	}
}

//go:noinline
func panicNegGemm(m, n, k int) {
	panic("num.Gemm: negative dimension m=" + itoa(m) + " n=" + itoa(n) + " k=" + itoa(k))
}

func itoa(v int) string {
	var buf [24]byte
	i := len(buf)
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	for {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// scaleMatrix computes C = beta*C for an m×n matrix; with beta 0 it stores
// zeros without reading C.
func scaleMatrix(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else {
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// gemmWork holds the buffers of one goroutine's Gemm.
type gemmWork struct {
	a                  []float32
	abuf, bbuf, shared []float32 // backing arrays, before 64-byte alignment
	tbuf, acc          []float32
}

var gemmPool = sync.Pool{New: func() any { return new(gemmWork) }}

// aligned64 returns a slice of length n from buf (grown if needed) whose
// first element is 64-byte aligned.
func aligned64(buf *[]float32, n int) []float32 {
	if cap(*buf) < n+16 {
		*buf = make([]float32, n+16)
	}
	s := (*buf)[:cap(*buf)]
	off := int((64 - uintptr(unsafe.Pointer(&s[0]))%64) % 64 / 4)
	return s[off : off+n : off+n]
}

// blockSize splits total into the fewest chunks of at most max and returns
// an even chunk size, rounded up to a multiple of unit.
func blockSize(total, max, unit int) int {
	if total <= max {
		return (total + unit - 1) / unit * unit
	}
	nb := (total + max - 1) / max
	s := (total + nb - 1) / nb
	return (s + unit - 1) / unit * unit
}

// ---- choice of kernel and orientation ----

// padded returns the work of a kernel on an m×n block of C: the tiles it
// computes, scaled by its relative cost per tile element.
func (g *gemmKernel) padded(m, n int) float64 {
	return float64((m+g.mr-1)/g.mr*g.mr) * float64((n+g.nr-1)/g.nr*g.nr) * g.cost
}

// kernelFor returns the kernel of the set that does the least work on an
// m×n C (the first of equals).
func (ks *kernelSet) kernelFor(m, n int) (*gemmKernel, float64) {
	best, cost := &ks.gemms[0], ks.gemms[0].padded(m, n)
	for i := 1; i < len(ks.gemms); i++ {
		if c := ks.gemms[i].padded(m, n); c < cost {
			best, cost = &ks.gemms[i], c
		}
	}
	return best, cost
}

// gemmSwapMinK is the smallest k for which Gemm computes Cᵀ = op(B)ᵀop(A)ᵀ
// instead of C when that wastes less of the tiles: the two transpositions
// of C it costs are then small beside the product.
const gemmSwapMinK = 64

// plan returns the kernel for the product and whether to compute Cᵀ
// (swap): the kernels' tiles are mr×nr with nr a whole number of vectors
// and mr a few rows, so a C with few columns (n = 100 fills 100/128 of
// 32-wide tiles) is done transposed when that fills the tiles better.
func (ks *kernelSet) plan(m, n, k int) (*gemmKernel, bool) {
	g, cost := ks.kernelFor(m, n)
	if k < gemmSwapMinK {
		return g, false
	}
	if gs, cs := ks.kernelFor(n, m); cs < 0.9*cost {
		return gs, true
	}
	return g, false
}

// run computes the product with kernel g, on workers goroutines or fewer.
func (g *gemmKernel) run(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	switch g.route(workers, transB, m, n, k, ldb) {
	case byCols:
		g.parallelCols(workers, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
	case bySerial:
		g.serial(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	case byLongK:
		g.parallelLongK(workers, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
	default:
		g.parallelRows(workers, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// gemmRoute names a blocked driver of run.
type gemmRoute int

const (
	byCols   gemmRoute = iota // parallelCols
	bySerial                  // serial
	byLongK                   // parallelLongK
	byRows                    // parallelRows
)

// route returns the driver run takes for a product on workers goroutines
// (B's leading dimension ldb): the one decision that GemmFunc and
// GemmNTFunc follow too.
func (g *gemmKernel) route(workers int, transB bool, m, n, k, ldb int) gemmRoute {
	switch {
	case g.colsSplit(transB, m, n, k, ldb) && (workers > 1 || float64(m)*float64(n)*float64(k) >= gemmParallelMin):
		// (Small products skip the set-up of parallelCols.)
		return byCols
	case workers <= 1:
		return bySerial
	case m <= g.mc && n >= 2*workers*g.nr && k >= gemmLongK*g.kc:
		return byLongK
	default:
		return byRows
	}
}

// gemmLongK is the smallest k, in k chunks, for which a product whose rows
// fit one row block goes to parallelLongK rather than parallelRows.
const gemmLongK = 16

// parallelLongK runs a product with few rows and a long k (a convolution's
// weight gradient at 128 px: 128 output channels × 576 filter values,
// summed over the 65,536 pixels of a batch) on up to workers goroutines,
// each owning an even share of the column panels of C and packing its own
// chunks of A and B, one k chunk at a time: nothing spans the whole of k,
// where parallelRows packs op(B) for all of k and then A again for every
// block of columns. It takes parallelRows' k chunks in the same order into
// the same tiles, so the result has its bits.
//
// With fill set, B is not stored: fill writes each panel (GemmNTFunc).
func (g *gemmKernel) parallelLongK(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, fill BPanelFunc) {
	mr, nr := g.mr, g.nr
	kc := blockSize(k, g.kc, 1)
	mR := (m + mr - 1) / mr * mr
	panels := (n + nr - 1) / nr
	shares := min(panels, workers)
	inPlace := fill == nil && g.bInPlace(transB, m, ldb)
	item := func(i int, w *gemmWork) {
		p0, p1 := i*panels/shares, (i+1)*panels/shares
		j0, j1 := p0*nr, min(p1*nr, n)
		var bp []float32
		if !inPlace {
			bp = aligned64(&w.bbuf, kc*(p1-p0)*nr)
		}
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			g.packA(transA, a, lda, 0, pc, m, kb, alpha, w.a)
			bsrc := bPanels{p: bp, step: nr, panel: kb * nr}
			if inPlace {
				bsrc = bPanels{p: b[pc*ldb+j0:], step: ldb, panel: nr}
			} else {
				if fill != nil {
					for q := p0; q < p1; q++ { // packBFill works one panel at a time
						jq := q * nr
						g.packBFill(fill, transB, pc, jq, kb, min(nr, j1-jq), bp[(q-p0)*kb*nr:(q-p0+1)*kb*nr], w)
					}
				} else {
					g.packB(transB, b, ldb, pc, j0, kb, j1-j0, bp)
				}
			}
			g.macro(w.a, m, j1-j0, kb, bsrc, pc > 0, beta, c[j0:], ldc, prefetch{})
		}
	}
	g.runPhased(workers, 0, nil, shares, mR*kc, item)
}

// gemmColsMaxM is the largest m for which a parallel Gemm may share the
// packed alpha*op(A) and split the columns of C (parallelCols).
const gemmColsMaxM = 384

// gemmRowsInPlaceMax bounds the B read in place (k×n, in floats) for which
// a parallel product with one k chunk splits the rows of C whatever their
// number: every goroutine then reads the whole of B, which stays in its
// core's cache.
const gemmRowsInPlaceMax = 64 << 10

// colsSplit reports whether a parallel product splits the columns of C
// (sharing the packed A, small beside B) rather than its rows (sharing the
// packed B). A product with a small B read in place and one k chunk splits
// the rows: each goroutine then reads and writes its own rows of C, the
// same ones from call to call (the weight update of a training step: its
// rows stay in that core's cache for the next forward product).
func (g *gemmKernel) colsSplit(transB bool, m, n, k, ldb int) bool {
	if g.bInPlace(transB, m, ldb) && k <= g.kc && k*n <= gemmRowsInPlaceMax {
		return false
	}
	return m <= gemmColsMaxM && m < n && (m+g.mr-1)/g.mr*g.mr*k <= gemmSharedBMax
}

// swapped computes C = alpha*op(A)*op(B) + beta*C as Cᵀ = alpha*op(B)ᵀop(A)ᵀ
// + beta*Cᵀ with kernel g, through an n×m buffer T: T = beta*Cᵀ (unless beta
// is 0), the transposed product into T, then C = Tᵀ.
func (g *gemmKernel) swapped(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	w := gemmPool.Get().(*gemmWork)
	ldt := m
	if ldt%32 == 0 {
		ldt += 16 // rows of T a multiple of 128 bytes apart would share L1 sets
	}
	t := aligned64(&w.tbuf, (n-1)*ldt+m)
	if beta != 0 {
		g.transposeMatrix(m, n, beta, c, ldc, t, ldt)
		beta = 1
	}
	g.run(workers, !transB, !transA, n, m, k, alpha, b, ldb, a, lda, beta, t, ldt)
	g.transposeMatrix(n, m, 1, t, ldt, c, ldc)
	gemmPool.Put(w)
}

// transposeMatrix stores dst[j*ldd+i] = alpha*src[i*lds+j] for i < r, j < c.
func (g *gemmKernel) transposeMatrix(r, c int, alpha float32, src []float32, lds int, dst []float32, ldd int) {
	for i0 := 0; i0 < r; i0 += 16 {
		rows := min(16, r-i0)
		g.transpose(src[i0*lds:(i0+rows-1)*lds+c], lds, rows, c, alpha, dst[i0:(c-1)*ldd+i0+rows], ldd)
	}
}

// ---- blocked drivers ----

// serial runs the blocked product on the calling goroutine.
func (g *gemmKernel) serial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := g.mr, g.nr
	kc := blockSize(k, g.kc, 1)
	mc := min(g.mc, (m+mr-1)/mr*mr)
	nc := min(g.nc, (n+nr-1)/nr*nr)
	inPlace := g.bInPlace(transB, m, ldb)

	w := getWork(g, mc*kc)
	var bp []float32
	if !inPlace {
		bp = aligned64(&w.bbuf, kc*nc)
	}
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			bsrc := bPanels{p: bp, step: nr, panel: kb * nr}
			if inPlace {
				bsrc = bPanels{p: b[pc*ldb+jc:], step: ldb, panel: nr}
			} else {
				g.packB(transB, b, ldb, pc, jc, kb, nb, bp)
			}
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				g.packA(transA, a, lda, ic, pc, mb, kb, alpha, w.a)
				g.macro(w.a, mb, nb, kb, bsrc, pc > 0, beta, c[ic*ldc+jc:], ldc, prefetch{})
			}
		}
	}
	gemmPool.Put(w)
}

// gemmInPlaceMaxM is the largest m for which Gemm reads a non-transposed B
// in place instead of packing it: each element of B then serves few rows of
// C, so copying it costs more than the packed layout saves.
const gemmInPlaceMaxM = 128

// bInPlace reports whether B is read in place rather than packed. A leading
// dimension that is a multiple of 64 floats is avoided: its rows would fall
// into a few L1 sets and evict each other.
func (g *gemmKernel) bInPlace(transB bool, m, ldb int) bool {
	return g.inPlaceB && !transB && m <= gemmInPlaceMaxM && bits.TrailingZeros(uint(ldb)) < 6
}

// bPanels locates the column panels of B for one k chunk: panel q starts at
// p[q*panel], and its step p at p[q*panel+p*step].
type bPanels struct {
	p           []float32
	step, panel int
}

// getWork returns pooled buffers with an A block of aSize floats.
func getWork(g *gemmKernel, aSize int) *gemmWork {
	w := gemmPool.Get().(*gemmWork)
	w.a = aligned64(&w.abuf, aSize)
	return w
}

// macro multiplies the packed A block ap (mb rows in panels of mr, panel q
// at ap[q*kb*mr]) by the B panels of bs (nb columns) over kb steps into the
// mb×nb block of C at c. For the first k chunk (notFirst false)
// C = AB + beta*C, reading C only if beta != 0; later chunks accumulate.
func (g *gemmKernel) macro(ap []float32, mb, nb, kb int, bs bPanels, notFirst bool, beta float32, c []float32, ldc int, pf prefetch) {
	mr, nr := g.mr, g.nr
	load := notFirst || beta != 0
	if notFirst {
		beta = 1
	}
	calls := ((mb + mr - 1) / mr) * ((nb + nr - 1) / nr)
	call := 0
	for jr := 0; jr < nb; jr += nr {
		nrr := min(nr, nb-jr)
		q := (jr / nr) * bs.panel
		bpan := bs.p[q : q+(kb-1)*bs.step+nrr]
		for ir := 0; ir < mb; ir += mr {
			mrr := min(mr, mb-ir)
			apan := ap[(ir/mr)*kb*mr : (ir/mr+1)*kb*mr]
			off := ir*ldc + jr
			var pfp []float32
			if pf.rows > 0 {
				// This call's share of the rows to prefetch.
				if r := call * pf.rows / calls; r < pf.rows {
					pfp = pf.p[r*pf.stride:]
				}
			}
			call++
			g.kern(kb, apan, bpan, c[off:off+(mrr-1)*ldc+nrr], ldc, beta, load, mrr, nrr, bs.step, pfp, pf.lines, pf.stride)
		}
	}
}

// prefetch describes memory a macro prefetches while it runs (the source
// of the next packing): rows rows of lines cache lines, the row r at
// p[r*stride]. rows 0 prefetches nothing.
type prefetch struct {
	p                   []float32
	rows, lines, stride int
}

// packSource returns the memory packB reads for rows [pc, pc+kb) and
// columns [jc, jc+nb) of op(B).
func packSource(trans bool, b []float32, ldb, pc, jc, kb, nb int) prefetch {
	if trans {
		return prefetch{p: b[jc*ldb+pc : (jc+nb-1)*ldb+pc+kb], rows: nb, lines: (kb*4+63)/64 + 1, stride: ldb}
	}
	return prefetch{p: b[pc*ldb+jc : (pc+kb-1)*ldb+jc+nb], rows: kb, lines: (nb*4+63)/64 + 1, stride: ldb}
}

// mergeTile stores the rows×cols corner of an mr×nr tile computed into a
// buffer (row stride nr) to c like gemmKernel.kern: used by kernels that
// always write whole tiles.
func mergeTile(tile []float32, nr int, c []float32, ldc int, beta float32, load bool, rows, cols int) {
	for i := 0; i < rows; i++ {
		crow := c[i*ldc : i*ldc+cols]
		trow := tile[i*nr : i*nr+cols]
		if load {
			for j := range crow {
				crow[j] = trow[j] + beta*crow[j]
			}
		} else {
			copy(crow, trow)
		}
	}
}

// gemmSharedBMax bounds the packed B shared by the goroutines of a parallel
// Gemm (k × column block), in floats.
const gemmSharedBMax = 4 << 20

// runPhased runs a two-phase job on up to workers goroutines of the shared
// Team: first pack(i) for i < packItems, then, once every one of those has
// returned (or panicked), item(i, w) for i < items, with w the goroutine's
// pooled buffers (A block of aSize floats). Each goroutine does an even,
// contiguous share of each phase first, the same share at every call (so
// the data of its items stays in its core's cache from call to call), then
// takes items of the others' shares nobody has claimed yet, so a goroutine
// that starts late or runs on a busy CPU does fewer.
func (g *gemmKernel) runPhased(workers, packItems int, pack func(i int), items, aSize int, item func(i int, w *gemmWork)) {
	workers = max(1, min(workers, max(packItems, items)))
	packClaimed := make([]atomic.Bool, packItems)
	itemClaimed := make([]atomic.Bool, items)
	var packed atomic.Int64
	slot := func(s int) {
		own := s * packItems / workers
		for q := range packItems {
			i := (own + q) % packItems
			if packClaimed[i].Load() || !packClaimed[i].CompareAndSwap(false, true) {
				continue
			}
			func() { defer packed.Add(1); pack(i) }()
		}
		for spins := 0; packed.Load() < int64(packItems); spins++ {
			if spins > 32 {
				runtime.Gosched()
			}
		}
		var w *gemmWork
		own = s * items / workers
		for q := range items {
			i := (own + q) % items
			if itemClaimed[i].Load() || !itemClaimed[i].CompareAndSwap(false, true) {
				continue
			}
			if w == nil {
				w = getWork(g, aSize)
			}
			item(i, w)
		}
		if w != nil {
			gemmPool.Put(w)
		}
	}
	shared.run(workers, workers, slot)
}

// parallelRows runs the product on up to workers goroutines (the caller's
// included), splitting the rows of C. For each block of columns, op(B) is
// packed once for the whole of k into a shared buffer (unless read in
// place), then C is cut into row×column blocks.
func (g *gemmKernel) parallelRows(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := g.mr, g.nr
	kc := blockSize(k, g.kc, 1)
	kBlocks := (k + kc - 1) / kc
	nc := min(g.nc, max(nr, gemmSharedBMax/k/nr*nr), (n+nr-1)/nr*nr)
	inPlace := g.bInPlace(transB, m, ldb)

	// Row blocks: at most mc rows, and about 3 per worker when m allows;
	// with a small B in place and one k chunk, one block per worker.
	rb := min(g.mc, max(mr, (m+3*workers-1)/(3*workers)+mr-1)/mr*mr)
	oneEach := inPlace && kBlocks == 1 && k*n <= gemmRowsInPlaceMax
	if oneEach {
		rb = min(g.mc, ((m+workers-1)/workers+mr-1)/mr*mr)
	}
	rowBlocks := (m + rb - 1) / rb

	w0 := gemmPool.Get().(*gemmWork)
	defer gemmPool.Put(w0)
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		ncR := (nb + nr - 1) / nr * nr
		panels := ncR / nr
		var bp []float32
		if !inPlace {
			bp = aligned64(&w0.shared, k*ncR)
		}

		// Column groups split the panels further when there are too few
		// row blocks to keep every worker busy.
		groups := min(panels, max(1, (3*workers+rowBlocks-1)/rowBlocks))
		if oneEach {
			groups = 1
		}
		// Packing is handed out in pieces of a k chunk by up to 8 panels.
		packGroups := (panels + 7) / 8
		if inPlace {
			packGroups = 0
		}
		pack := func(i int) {
			pc := (i / packGroups) * kc
			kb := min(kc, k-pc)
			q0 := (i % packGroups) * 8
			cols := min(8*nr, nb-q0*nr)
			g.packB(transB, b, ldb, pc, jc+q0*nr, kb, cols, bp[pc*ncR+q0*kb*nr:pc*ncR+kb*ncR])
		}
		item := func(i int, w *gemmWork) {
			r0 := (i / groups) * rb
			mb := min(rb, m-r0)
			g0 := i % groups
			p0, p1 := g0*panels/groups, (g0+1)*panels/groups
			j0, j1 := p0*nr, min(p1*nr, nb)
			for pc := 0; pc < k; pc += kc {
				kb := min(kc, k-pc)
				g.packA(transA, a, lda, r0, pc, mb, kb, alpha, w.a)
				var bsrc bPanels
				if inPlace {
					bsrc = bPanels{p: b[pc*ldb+jc+j0:], step: ldb, panel: nr}
				} else {
					bsrc = bPanels{p: bp[pc*ncR+p0*kb*nr : pc*ncR+ncR*kb], step: nr, panel: kb * nr}
				}
				g.macro(w.a, mb, j1-j0, kb, bsrc, pc > 0, beta, c[r0*ldc+jc+j0:], ldc, prefetch{})
			}
		}
		g.runPhased(workers, kBlocks*packGroups, pack, rowBlocks*groups, rb*kc, item)
	}
}

// gemmColsA bounds a k chunk of the packed A of parallelCols, in floats.
const gemmColsA = 96 << 10

// colsKC returns the k chunk of parallelCols: longer than kc, up to 4kc,
// as long as the chunk of A stays well inside the L2 cache. Long chunks
// read op(B) in long runs, which matters when it is transposed (rows of a
// large, uncached B are read a chunk at a time) and C is reloaded less.
func (g *gemmKernel) colsKC(m, k int) int {
	mR := (m + g.mr - 1) / g.mr * g.mr
	return blockSize(k, max(g.kc, min(4*g.kc, gemmColsA/mR)), 1)
}

// parallelCols runs the product on up to workers goroutines (the caller's
// included), splitting the columns of C: alpha*op(A), small, is packed once
// for the whole of k into a shared buffer; then each piece, a block of
// columns, goes through k one chunk at a time (so that the chunk of A stays
// in the core's cache), packing its op(B) one column panel at a time (or
// reading it in place) and multiplying it by the whole chunk of A.
//
// With fill set, B is not stored: fill writes each panel (GemmFunc).
func (g *gemmKernel) parallelCols(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, fill BPanelFunc) {
	mr, nr := g.mr, g.nr
	kc := g.colsKC(m, k)
	kBlocks := (k + kc - 1) / kc
	mR := (m + mr - 1) / mr * mr
	mPanels := mR / mr
	inPlace := fill == nil && g.bInPlace(transB, m, ldb)

	w0 := gemmPool.Get().(*gemmWork)
	defer gemmPool.Put(w0)
	ap := aligned64(&w0.shared, mR*k)
	packGroups := (mPanels + 7) / 8
	pack := func(i int) {
		pc := (i / packGroups) * kc
		kb := min(kc, k-pc)
		q0 := (i % packGroups) * 8
		rows := min(8*mr, m-q0*mr)
		g.packA(transA, a, lda, q0*mr, pc, rows, kb, alpha, ap[pc*mR+q0*kb*mr:pc*mR+kb*mR])
	}

	// Blocks of columns: about 6 per worker, so that a goroutine that
	// starts late (a helper that has to be woken) or is slowed down by other
	// work on its CPU leaves little for the others to wait for at the end.
	panels := (n + nr - 1) / nr
	per := (panels + 6*workers - 1) / (6 * workers)
	items := (panels + per - 1) / per
	item := func(i int, w *gemmWork) {
		j0 := i * per * nr
		j1 := min(n, j0+per*nr)
		var bp []float32
		if !inPlace {
			bp = aligned64(&w.bbuf, kc*nr)
		}
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			for jr := j0; jr < j1; jr += nr {
				nb := min(nr, j1-jr)
				bsrc := bPanels{p: bp, step: nr, panel: kb * nr}
				switch {
				case inPlace:
					bsrc = bPanels{p: b[pc*ldb+jr:], step: ldb, panel: nr}
				case fill != nil:
					g.packBFill(fill, transB, pc, jr, kb, nb, bp, w)
				default:
					g.packB(transB, b, ldb, pc, jr, kb, nb, bp)
				}
				// Prefetch what the next packing reads: the next panel,
				// or the first one of the next k chunk.
				var pf prefetch
				if jn, pn := jr+nr, pc; !inPlace && fill == nil {
					if jn >= j1 {
						jn, pn = j0, pc+kc
					}
					if pn < k {
						pf = packSource(transB, b, ldb, pn, jn, min(kc, k-pn), min(nr, j1-jn))
					}
				}
				g.macro(ap[pc*mR:pc*mR+kb*mR], m, nb, kb, bsrc, pc > 0, beta, c[jr:], ldc, pf)
			}
		}
	}
	g.runPhased(workers, kBlocks*packGroups, pack, items, 0, item)
}

// ---- dot-product path ----

// gemmDotMaxM is the largest m for which Gemm computes C = A Bᵀ (A not
// transposed, B transposed) with dot products over rows of A and B read in
// place: with few rows of A, packing B would cost more than the product.
// Up to gemmDotMaxMLongK rows, so does a product whose k is at least
// gemmDotLongK times n (the weight gradient of a convolution: few output
// channels and filter elements, one k step per pixel of the batch), where
// packing both operands would cost as much as the product.
const (
	gemmDotMaxM      = 16
	gemmDotMaxMLongK = 64
	gemmDotLongK     = 32
)

// useDot reports whether the product takes the dot-product path.
func (ks *kernelSet) useDot(transA, transB bool, m, n, k int) bool {
	if ks.dotTile == nil || transA || !transB || k < 16 {
		return false
	}
	return m <= gemmDotMaxM || m <= gemmDotMaxMLongK && k >= gemmDotLongK*n
}

// gemmDot computes C = alpha*A*Bᵀ + beta*C (A m×k, B n×k, both read in
// place) with the dot-product kernel. With several workers, the rows of B
// (columns of C) are split in equal contiguous parts, one per worker.
//
// With fill set, B is not stored: fill writes each dotNB-row block of it
// for each k chunk (GemmNTFunc).
func (ks *kernelSet) gemmDot(workers, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, fill BPanelFunc) {
	parts := 1
	if workers > 1 && n >= 2*dotNB {
		parts = workers
	}
	shared.run(parts, parts, func(p int) {
		j0, j1 := p*n/parts, (p+1)*n/parts
		ks.dotBlock(m, j0, j1, k, alpha, a, lda, b, ldb, beta, c, ldc, fill)
	})
}

// The dot-product kernels compute dotMA×dotNB tiles of C; their
// accumulators take dotAcc floats per tile.
const (
	dotMA, dotNB = 5, 4
	dotAcc       = dotMA * dotNB * 16
)

// dotKC returns the k chunk of the dot-product path for m rows of A: long
// enough that the accumulators are loaded and stored rarely, short enough
// that the chunk of A stays in the L1 or L2 cache while every row of B
// passes by it.
func dotKC(m int) int {
	return max(256, min(768, (96<<10)/(4*m))) &^ 15
}

// dotBlock computes columns [j0, j1) of C on the dot-product path.
func (ks *kernelSet) dotBlock(m, j0, j1, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, fill BPanelFunc) {
	kc := dotKC(m)
	if k <= kc+kc/2 {
		kc = k
	}
	tiles := (m + dotMA - 1) / dotMA * ((j1 - j0 + dotNB - 1) / dotNB)
	w := gemmPool.Get().(*gemmWork)
	var acc []float32
	if kc < k {
		acc = aligned64(&w.acc, tiles*dotAcc)
	}
	var sums [dotMA * dotNB]float32
	var filled []float32
	if fill != nil {
		filled = aligned64(&w.bbuf, dotNB*kc)
	}
	for p0 := 0; p0 < k; p0 += kc {
		kb := min(kc, k-p0)
		first, last := p0 == 0, p0+kb == k
		t := 0
		for jj := j0; jj < j1; jj += dotNB {
			cols := min(dotNB, j1-jj)
			var bt []float32
			bld := ldb
			if fill != nil {
				bt, bld = filled[:cols*kb], kb
				fill(bt, kb, jj, cols, p0, kb)
			} else {
				bt = b[jj*ldb+p0 : (jj+cols-1)*ldb+p0+kb]
			}
			for i0 := 0; i0 < m; i0 += dotMA {
				rows := min(dotMA, m-i0)
				var at []float32
				if acc != nil {
					at = acc[t*dotAcc : (t+1)*dotAcc]
				}
				ks.dotTile(kb, a[i0*lda+p0:(i0+rows-1)*lda+p0+kb], lda, bt, bld, at, first, last, rows, cols, sums[:])
				t++
				if !last {
					continue
				}
				for i := 0; i < rows; i++ {
					crow := c[(i0+i)*ldc+jj : (i0+i)*ldc+jj+cols]
					for j := range crow {
						if beta == 0 {
							crow[j] = alpha * sums[i*dotNB+j]
						} else {
							crow[j] = alpha*sums[i*dotNB+j] + beta*crow[j]
						}
					}
				}
			}
		}
	}
	gemmPool.Put(w)
}

// packA packs rows [ic, ic+mb) and columns [pc, pc+kb) of alpha*op(A) into
// row panels of mr rows: element (i, p) of panel q goes to
// dst[q*kb*mr + p*mr + i]. Rows past mb are zero.
func (g *gemmKernel) packA(trans bool, a []float32, lda, ic, pc, mb, kb int, alpha float32, dst []float32) {
	mr := g.mr
	for q := 0; q*mr < mb; q++ {
		rows := min(mr, mb-q*mr)
		d := dst[q*kb*mr : (q+1)*kb*mr]
		i0 := ic + q*mr
		if trans {
			// op(A)[i][p] = a[p*lda+i]: each step p is a contiguous run.
			g.panelCopy(a[pc*lda+i0:(pc+kb-1)*lda+i0+rows], lda, rows, kb, alpha, d, mr, mr)
			continue
		}
		if rows < mr {
			clear(d)
		}
		for r0 := 0; r0 < rows; r0 += 16 {
			nr := min(16, rows-r0)
			g.transpose(a[(i0+r0)*lda+pc:(i0+r0+nr-1)*lda+pc+kb], lda, nr, kb, alpha, d[r0:], mr)
		}
	}
}

// packB packs rows [pc, pc+kb) and columns [jc, jc+nb) of op(B) into column
// panels of nr columns: element (p, j) of panel q goes to
// dst[q*kb*nr + p*nr + j]. Columns past nb are zero.
func (g *gemmKernel) packB(trans bool, b []float32, ldb, pc, jc, kb, nb int, dst []float32) {
	nr := g.nr
	for q := 0; q*nr < nb; q++ {
		cols := min(nr, nb-q*nr)
		d := dst[q*kb*nr : (q+1)*kb*nr]
		j0 := jc + q*nr
		if !trans {
			g.panelCopy(b[pc*ldb+j0:(pc+kb-1)*ldb+j0+cols], ldb, cols, kb, 1, d, nr, nr)
			continue
		}
		// op(B)[p][j] = b[j*ldb+p]: column j of the panel is a contiguous run.
		if cols < nr {
			clear(d)
		}
		for c0 := 0; c0 < cols; c0 += 16 {
			nc := min(16, cols-c0)
			g.transpose(b[(j0+c0)*ldb+pc:(j0+c0+nc-1)*ldb+pc+kb], ldb, nc, kb, 1, d[c0:], nr)
		}
	}
}

// packBFill is packB for a B that fill writes (GemmFunc, GemmNTFunc): one
// panel, columns jc..jc+nb-1 (nb <= nr) of op(B) over rows pc..pc+kb-1, into
// dst. Not transposed, fill writes the panel itself; transposed, it writes
// the block of B (nb rows of kb) into w's buffer, which packB then packs as
// it packs a stored B, so the panel holds the same values either way.
func (g *gemmKernel) packBFill(fill BPanelFunc, trans bool, pc, jc, kb, nb int, dst []float32, w *gemmWork) {
	if !trans {
		fill(dst[:kb*g.nr], g.nr, pc, kb, jc, nb)
		return
	}
	t := aligned64(&w.tbuf, nb*kb)
	fill(t, kb, jc, nb, pc, kb)
	g.packB(true, t, kb, 0, 0, kb, nb, dst)
}

// panelCopyGeneric is the portable gemmKernel.panelCopy.
func panelCopyGeneric(src []float32, ld, rows, cols int, alpha float32, dst []float32, dstStride, width int) {
	for p := 0; p < cols; p++ {
		s := src[p*ld : p*ld+rows]
		d := dst[p*dstStride : p*dstStride+width]
		if alpha == 1 {
			copy(d, s)
		} else {
			for i, v := range s {
				d[i] = alpha * v
			}
		}
		clear(d[rows:])
	}
}

// transposeGeneric is the portable gemmKernel.transpose.
func transposeGeneric(src []float32, ld, rows, cols int, alpha float32, dst []float32, dstStride int) {
	r := 0
	for ; r+4 <= rows; r += 4 {
		s0 := src[r*ld : r*ld+cols]
		s1 := src[(r+1)*ld : (r+1)*ld+cols]
		s2 := src[(r+2)*ld : (r+2)*ld+cols]
		s3 := src[(r+3)*ld : (r+3)*ld+cols]
		for p, v := range s0 {
			d := dst[p*dstStride+r : p*dstStride+r+4 : p*dstStride+r+4]
			d[0] = alpha * v
			d[1] = alpha * s1[p]
			d[2] = alpha * s2[p]
			d[3] = alpha * s3[p]
		}
	}
	for ; r < rows; r++ {
		for p, v := range src[r*ld : r*ld+cols] {
			dst[p*dstStride+r] = alpha * v
		}
	}
}

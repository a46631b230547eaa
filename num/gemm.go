package num

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

//go:generate go run gen_gemm_amd64.go

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
	kern func(kc int, a, b, c []float32, ldc int, beta float32, load bool, rows, cols, bs int)
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
// several goroutines. On the 2-vCPU VMs this was measured on, a new goroutine
// often starts running on the idle vCPU only ~100µs after the go statement,
// so the split pays only from about 224³-256³ up (256³: 230→210µs, 320³:
// 450→370µs, 192³: 98→108µs).
const gemmParallelMin = 240 * 240 * 240

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
	g := &ks.gemm
	if m <= gemmSmallM && ks.gemmSmall.kern != nil {
		g = &ks.gemmSmall
	}
	if workers := runtime.GOMAXPROCS(0); workers > 1 && float64(m)*float64(n)*float64(k) >= gemmParallelMin {
		g.parallel(workers, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	g.serial(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
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

// gemmWork holds the packing buffers of one goroutine's Gemm.
type gemmWork struct {
	a          []float32
	abuf, bbuf []float32 // backing arrays, before 64-byte alignment
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
				g.macro(w, mb, nb, kb, bsrc, pc > 0, beta, c[ic*ldc+jc:], ldc)
			}
		}
	}
	gemmPool.Put(w)
}

// gemmSmallM is the largest m for which kernelSet.gemmSmall is used.
const gemmSmallM = 64

// gemmInPlaceMaxM is the largest m for which Gemm reads a non-transposed B
// in place instead of packing it: each element of B then serves few rows of
// C, so copying it costs more than the packed layout saves.
const gemmInPlaceMaxM = 64

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

// macro multiplies the packed A block in w.a (mb rows) by the B panels of bs
// (nb columns) over kb steps into the mb×nb block of C at c. For the first k
// chunk (notFirst false) C = AB + beta*C, reading C only if beta != 0; later
// chunks accumulate.
func (g *gemmKernel) macro(w *gemmWork, mb, nb, kb int, bs bPanels, notFirst bool, beta float32, c []float32, ldc int) {
	mr, nr := g.mr, g.nr
	load := notFirst || beta != 0
	if notFirst {
		beta = 1
	}
	ap := w.a
	for jr := 0; jr < nb; jr += nr {
		nrr := min(nr, nb-jr)
		q := (jr / nr) * bs.panel
		bpan := bs.p[q : q+(kb-1)*bs.step+nrr]
		for ir := 0; ir < mb; ir += mr {
			mrr := min(mr, mb-ir)
			apan := ap[(ir/mr)*kb*mr : (ir/mr+1)*kb*mr]
			off := ir*ldc + jr
			g.kern(kb, apan, bpan, c[off:off+(mrr-1)*ldc+nrr], ldc, beta, load, mrr, nrr, bs.step)
		}
	}
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

// parallel runs the product on up to workers goroutines (the caller's
// included). For each block of columns, op(B) is packed once for the whole
// of k into a shared buffer, then C is cut into row×column blocks; both
// steps are handed out one piece at a time through atomic counters, so a
// goroutine that starts late or runs on a busy CPU simply takes fewer pieces.
func (g *gemmKernel) parallel(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := g.mr, g.nr
	kc := blockSize(k, g.kc, 1)
	kBlocks := (k + kc - 1) / kc
	nc := min(g.nc, max(nr, gemmSharedBMax/k/nr*nr), (n+nr-1)/nr*nr)

	// Row blocks: at most mc rows, and about 3 per worker when m allows.
	rb := min(g.mc, max(mr, (m+3*workers-1)/(3*workers)+mr-1)/mr*mr)
	rowBlocks := (m + rb - 1) / rb

	inPlace := g.bInPlace(transB, m, ldb)
	w0 := gemmPool.Get().(*gemmWork)
	defer gemmPool.Put(w0)
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		ncR := (nb + nr - 1) / nr * nr
		panels := ncR / nr
		var bp []float32
		if !inPlace {
			bp = aligned64(&w0.bbuf, k*ncR)
		}

		// Column groups split the panels further when there are too few
		// row blocks to keep every worker busy.
		groups := min(panels, max(1, (3*workers+rowBlocks-1)/rowBlocks))
		// Packing is handed out in pieces of a k chunk by up to 8 panels.
		packGroups := (panels + 7) / 8
		if inPlace {
			packGroups = 0
		}
		j := &gemmJob{
			packItems: kBlocks * packGroups,
			items:     rowBlocks * groups,
		}
		j.packed.Add(j.packItems)
		j.done.Add(j.items)
		run := func() {
			for {
				i := int(j.nextPack.Add(1) - 1)
				if i >= j.packItems {
					break
				}
				pc := (i / packGroups) * kc
				kb := min(kc, k-pc)
				q0 := (i % packGroups) * 8
				cols := min(8*nr, nb-q0*nr)
				g.packB(transB, b, ldb, pc, jc+q0*nr, kb, cols, bp[pc*ncR+q0*kb*nr:pc*ncR+kb*ncR])
				j.packed.Done()
			}
			j.packed.Wait()
			var w *gemmWork
			for {
				i := int(j.next.Add(1) - 1)
				if i >= j.items {
					break
				}
				if w == nil {
					w = getWork(g, rb*kc)
				}
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
					g.macro(w, mb, j1-j0, kb, bsrc, pc > 0, beta, c[r0*ldc+jc+j0:], ldc)
				}
				j.done.Done()
			}
			if w != nil {
				gemmPool.Put(w)
			}
		}
		for h := 1; h < min(workers, j.items); h++ {
			go run()
		}
		run()
		j.done.Wait()
	}
}

// gemmJob is the shared state of one column block of a parallel Gemm.
type gemmJob struct {
	nextPack, next   atomic.Int64
	packItems, items int
	packed, done     sync.WaitGroup
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

//go:build linux

package num

import (
	"fmt"
	"syscall"
	"testing"
	"unsafe"
)

// fenced returns a float32 slice of length n that either ends right before
// an inaccessible page (atStart false) or starts right after one (atStart
// true), so that any access outside it faults. The memory is unmapped when
// the test ends.
func fenced(t *testing.T, n int, atStart bool) []float32 {
	t.Helper()
	page := syscall.Getpagesize()
	data := (4*n + page - 1) / page * page
	if data == 0 {
		data = page
	}
	mem, err := syscall.Mmap(-1, 0, page+data+page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	if err := syscall.Mprotect(mem[page+data:], syscall.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	if n == 0 {
		return nil
	}
	off := page + data - 4*n
	if atStart {
		off = page
	}
	s := unsafe.Slice((*float32)(unsafe.Pointer(&mem[off])), n)
	for i := range s {
		s[i] = float32(i%7) - 3
	}
	return s
}

// TestFencedAccess runs every kernel on slices that touch inaccessible pages
// at their ends: a read or write outside a slice crashes the test.
func TestFencedAccess(t *testing.T) {
	forEachSet(t, func(t *testing.T, ks *kernelSet) {
		for _, atStart := range []bool{false, true} {
			for _, n := range vecSizes {
				f := func() []float32 { return fenced(t, n, atStart) }
				x, y, z := f(), f(), f()
				ks.Dot(x, y)
				ks.Axpy(0.5, x, y)
				ks.AxpyDot(0.5, x, y, z)
				ks.Add(x, y)
				ks.ScaleShift(x, y, 0.5, 1)
				ks.ScaleShiftReLU(x, y, 0.5, 1)
				ks.BatchNormGrad(x, y, z, 0.5, -0.1, 0.1, 0.5, 1, 2)
				ks.MaxPool2Row(fenced(t, n/2, atStart), x, y)
				ks.SumsF64(x)
				arg := make([]int32, n/2)
				ks.MaxPool2RowArg(fenced(t, n/2, atStart), arg, x, y, 0, int32(n))
				ks.MaxUnpool2Row(x, y, fenced(t, n/2, atStart), arg, 0, int32(n))
				ks.MaskedSumsF64(x, y, 0.5, -0.1, 0.5)
				if wd := min(n, 32); wd > 0 { // rows that end at either end of x, and start before or past them
					full := uint32(uint64(1)<<wd - 1)
					ks.GatherTaps(fenced(t, 4*wd, atStart), wd, x, 0, []int{0, n - wd, -3, n - wd + 3}, []uint32{full, full, full &^ 7, full >> 3}, 0, 4, wd)
				}
				for _, m := range []int{1, 4, 5, 9} {
					a := fenced(t, m*n, atStart)
					ym := fenced(t, m, atStart)
					xm := fenced(t, m, atStart)
					ks.Gemv(m, n, a, max(n, 1), x, ym)
					ks.GemvT(m, n, 1.5, a, max(n, 1), xm, y)
				}
			}
			for _, s := range [][3]int{{1, 1, 1}, {13, 33, 7}, {12, 32, 5}, {25, 65, 17}, {100, 129, 127}} {
				m, n, k := s[0], s[1], s[2]
				for tc := 0; tc < 4; tc++ {
					tA, tB := tc&1 != 0, tc&2 != 0
					lda, ldb := leadingDims(tA, tB, m, n, k)
					a, b, c := fenced(t, m*k, atStart), fenced(t, k*n, atStart), fenced(t, m*n, atStart)
					t.Run(fmt.Sprintf("gemm%v%v_%dx%dx%d", tA, tB, m, n, k), func(t *testing.T) {
						ks.Gemm(tA, tB, m, n, k, 1, a, lda, b, ldb, 0.5, c, n)
					})
				}
			}
		}
	})
}

//go:build openblas && cgo

// OpenBLAS comparison, used only to measure Gemm against a reference BLAS:
//
//	apt-get install -y libopenblas-dev
//	go test -tags openblas -run OpenBLAS -bench 'OpenBLAS|Gemm/1024' ./num/
//
// The default build does not use or need it. The cgo call itself lives in
// num/internal/cblas because a cgo package cannot hold Go assembly.

package num

import "galaxy/num/internal/cblas"

// OpenBLASGemm computes C = alpha*op(A)*op(B) + beta*C like Gemm, with the
// same arguments and checks, by calling OpenBLAS's cblas_sgemm (row-major).
func OpenBLASGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panicNegGemm(m, n, k)
	}
	if transA {
		checkMatrix("OpenBLASGemm", "a", k, m, a, lda)
	} else {
		checkMatrix("OpenBLASGemm", "a", m, k, a, lda)
	}
	if transB {
		checkMatrix("OpenBLASGemm", "b", n, k, b, ldb)
	} else {
		checkMatrix("OpenBLASGemm", "b", k, n, b, ldb)
	}
	checkMatrix("OpenBLASGemm", "c", m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	cblas.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

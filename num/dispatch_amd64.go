//go:build amd64 && !purego

package num

import "golang.org/x/sys/cpu"

var (
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F
)

var avx2Kernels = kernelSet{
	name:           "avx2",
	dot:            dotAVX2,
	axpy:           axpyAVX2,
	axpyDot:        axpyDotAVX2,
	dot4:           dot4AVX2,
	axpy4:          axpy4AVX2,
	add:            addAVX2,
	scaleShift:     scaleShiftAVX2,
	scaleShiftReLU: scaleShiftReLUAVX2,
	batchNormGrad:  batchNormGradAVX2,
	maxPool2Row:    maxPool2RowVector,
	maxPool2RowArg: maxPool2RowArgVector,
	maxUnpool2Row:  maxUnpool2RowVector,
	sumsF64:        sumsF64AVX2,
	maskedSumsF64:  maskedSumsF64AVX2,
	gemms: []gemmKernel{{mr: 6, nr: 16, mc: 144, kc: 256, nc: 2048, kern: sgemm6x16AVX2, cost: 1,
		transpose: transposeGeneric, panelCopy: panelCopyGeneric}},
}

var avx512Kernels = kernelSet{
	name:           "avx512",
	dot:            dotAVX512,
	axpy:           axpyAVX512,
	axpyDot:        axpyDotAVX512,
	dot4:           dot4AVX512,
	axpy4:          axpy4AVX512,
	add:            addAVX512,
	scaleShift:     scaleShiftAVX512,
	scaleShiftReLU: scaleShiftReLUAVX512,
	batchNormGrad:  batchNormGradAVX512,
	maxPool2Row:    maxPool2RowVector,
	maxPool2RowArg: maxPool2RowArgVector,
	maxUnpool2Row:  maxUnpool2RowVector,
	gatherTapsAsm:  true,
	sumsF64:        sumsF64AVX512,
	maskedSumsF64:  maskedSumsF64AVX512,
	// 12 rows make the fastest tile; 10 and 8 rows waste less of it when m
	// (or n, for a product done transposed) is a multiple of 10 or 8, such
	// as the 100 hidden units of the seed network or the channels of a
	// convolution.
	gemms: []gemmKernel{
		{mr: 12, nr: 32, mc: 192, kc: 256, nc: 2048, kern: sgemmKernel12x32AVX512, inPlaceB: true, cost: 1,
			transpose: transpose16AVX512, panelCopy: panelCopyAVX512},
		{mr: 10, nr: 32, mc: 200, kc: 256, nc: 2048, kern: sgemmKernel10x32AVX512, inPlaceB: true, cost: 1.03,
			transpose: transpose16AVX512, panelCopy: panelCopyAVX512},
		{mr: 8, nr: 32, mc: 192, kc: 256, nc: 2048, kern: sgemmKernel8x32AVX512, inPlaceB: true, cost: 1.08,
			transpose: transpose16AVX512, panelCopy: panelCopyAVX512},
	},
	dotTile: sdotKernel5x4AVX512,
}

func init() {
	switch {
	case hasAVX512:
		impl = avx512Kernels
	case hasAVX2:
		impl = avx2Kernels
	default:
		impl = genericKernels
	}
}

// kernelSets returns every implementation this CPU can run, the portable
// one first.
func kernelSets() []*kernelSet {
	s := []*kernelSet{&genericKernels}
	if hasAVX2 {
		s = append(s, &avx2Kernels)
	}
	if hasAVX512 {
		s = append(s, &avx512Kernels)
	}
	return s
}

// Assembly kernels (kernels_amd64.s, gemm_amd64.s). They trust the lengths
// the kernelSet methods checked; see the matching kernelSet fields.

//go:noescape
func dotAVX2(x, y []float32) float32

//go:noescape
func axpyAVX2(alpha float32, x, y []float32)

//go:noescape
func axpyDotAVX2(alpha float32, x, y, z []float32) float32

//go:noescape
func dot4AVX2(a []float32, lda int, x, y []float32)

//go:noescape
func axpy4AVX2(c, a []float32, lda int, y []float32)

//go:noescape
func addAVX2(dst, x []float32)

//go:noescape
func maxPool2RowAVX2(dst, r0, r1 []float32)

// maxPool2RowVector is the kernelSet.maxPool2Row of both vector sets: the
// AVX2 kernel for whole blocks of 8 outputs, the portable loop for the rest.
func maxPool2RowVector(dst, r0, r1 []float32) {
	n := len(dst) &^ 7
	if n > 0 {
		maxPool2RowAVX2(dst[:n], r0, r1)
	}
	maxPool2RowGeneric(dst[n:], r0[2*n:], r1[2*n:])
}

//go:noescape
func maxPool2RowArgAVX2(dst []float32, arg []int32, r0, r1 []float32, base, w int32)

//go:noescape
func maxUnpool2RowAVX2(r0, r1, g []float32, arg []int32, base, w int32)

// maxPool2RowArgVector and maxUnpool2RowVector are the kernelSet methods of
// both vector sets: AVX2 kernels for whole blocks of 8 windows, the
// portable loop for the rest.
func maxPool2RowArgVector(dst []float32, arg []int32, r0, r1 []float32, base, w int32) {
	n := len(dst) &^ 7
	if n > 0 {
		maxPool2RowArgAVX2(dst[:n], arg, r0, r1, base, w)
	}
	maxPool2RowArgGeneric(dst[n:], arg[n:], r0[2*n:], r1[2*n:], base+int32(2*n), w)
}

func maxUnpool2RowVector(r0, r1, g []float32, arg []int32, base, w int32) {
	n := len(g) &^ 7
	if n > 0 {
		maxUnpool2RowAVX2(r0, r1, g[:n], arg, base, w)
	}
	maxUnpool2RowGeneric(r0[2*n:], r1[2*n:], g[n:], arg[n:], base+int32(2*n), w)
}

//go:noescape
func sumsF64AVX2(v []float32) (sum, sumSq float64)

//go:noescape
func maskedSumsF64AVX2(g, x []float32, sc, sh float32, mu float64, acc *[32]float64, last bool) (sg, sgx float64)

//go:noescape
func scaleShiftAVX2(dst, src []float32, a, b float32)

//go:noescape
func scaleShiftReLUAVX2(dst, src []float32, a, b float32)

//go:noescape
func batchNormGradAVX2(d, g, x []float32, sc, sh, mu, a, b, c float32)

//go:noescape
func sgemmKernel6x16AVX2(kc int, a, b, c []float32, ldc int, beta float32, load bool)

// sgemm6x16AVX2 is the AVX2 gemmKernel.kern: edge tiles go through a buffer.
func sgemm6x16AVX2(kc int, a, b, c []float32, ldc int, beta float32, load bool, rows, cols, _ int, _ []float32, _, _ int) {
	if rows == 6 && cols == 16 {
		sgemmKernel6x16AVX2(kc, a, b, c, ldc, beta, load)
		return
	}
	var tile [6 * 16]float32
	sgemmKernel6x16AVX2(kc, a, b, tile[:], 16, 0, false)
	mergeTile(tile[:], 16, c, ldc, beta, load, rows, cols)
}

//go:noescape
func dotAVX512(x, y []float32) float32

//go:noescape
func axpyAVX512(alpha float32, x, y []float32)

//go:noescape
func axpyDotAVX512(alpha float32, x, y, z []float32) float32

//go:noescape
func dot4AVX512(a []float32, lda int, x, y []float32)

//go:noescape
func axpy4AVX512(c, a []float32, lda int, y []float32)

//go:noescape
func addAVX512(dst, x []float32)

//go:noescape
func gatherTapsAVX512(dst []float32, stride int, src []float32, step int, tapOff []int, tapMask []uint32, t0, base, rows, width int)

//go:noescape
func sumsF64AVX512(v []float32) (sum, sumSq float64)

//go:noescape
func maskedSumsF64AVX512(g, x []float32, sc, sh float32, mu float64, acc *[32]float64, last bool) (sg, sgx float64)

//go:noescape
func scaleShiftAVX512(dst, src []float32, a, b float32)

//go:noescape
func scaleShiftReLUAVX512(dst, src []float32, a, b float32)

//go:noescape
func batchNormGradAVX512(d, g, x []float32, sc, sh, mu, a, b, c float32)

//go:noescape
func transpose16AVX512(src []float32, ld, rows, cols int, alpha float32, dst []float32, dstStride int)

//go:noescape
func panelCopyAVX512(src []float32, ld, rows, cols int, alpha float32, dst []float32, dstStride, width int)

//go:noescape
func sgemmKernel12x32AVX512(kc int, a, b, c []float32, ldc int, beta float32, load bool, rows, cols, ldb int, pf []float32, pfLines, pfStride int)

//go:noescape
func sgemmKernel10x32AVX512(kc int, a, b, c []float32, ldc int, beta float32, load bool, rows, cols, ldb int, pf []float32, pfLines, pfStride int)

//go:noescape
func sdotKernel5x4AVX512(kb int, a []float32, lda int, b []float32, ldb int, acc []float32, first, last bool, rows, cols int, sums []float32)

//go:noescape
func sgemmKernel8x32AVX512(kc int, a, b, c []float32, ldc int, beta float32, load bool, rows, cols, ldb int, pf []float32, pfLines, pfStride int)

// Package cnn holds convolutional networks for galaxy cutouts: layers with
// forward and backward passes, losses, the D4 augmentation of square images,
// and Net, a sequence of layers that is a model.Classifier.
//
// # Layout
//
// Activations are stored channel-major over the whole batch, C×N×H×W
// (row-major, W fastest): every channel of every image is one contiguous
// plane, so a convolution's im2col matrix for the whole batch is
// (Cin·kh·kw)×(N·Hout·Wout) and the convolution is a single large GEMM,
// W(Cout×Cin·kh·kw) · col, whose output is already in C×N×H×W order; batch
// normalisation reduces over one contiguous row per channel. Images arrive
// as HWC bytes or features (data.Split) and are laid out by ToCNHW.
//
// Nothing im2col-sized is written. num.GemmFunc gathers each panel of a
// convolution's product straight from the input (num.GatherTaps: a row per
// kernel tap, the padding as a mask of lanes), and the weight gradient
// gathers its blocks the same way through num.GemmNTFunc; the input
// gradient goes through the batch a few images at a time, so its
// im2col-sized intermediate stays in cache. A batch norm, ReLU and 2×2
// max-pool run as one pass: in training a plane at a time through a buffer
// in cache, so the ReLU's output is never stored (backward unpools a plane
// at a time and recomputes where the ReLU was on from the batch norm's
// input), and in inference pooling first, a quarter of the work.
//
// # Precision and determinism
//
// Every layer is generic over float32 and float64. float32 runs on the
// shared numerical core (num.Gemm, and num's vector kernels for batch norm,
// ReLU and max-pooling, which give the bits of the plain loops except batch
// norm's float64 sums, whose order is the kernel's); float64 runs plain
// loops and is what the tests use to check every backward pass against
// central finite differences. Parallel loops split work into pieces whose
// outputs are disjoint, and every reduction runs in a fixed order, so the
// same seed gives the same bits whatever the thread timing. The inference
// path (gathered panels, pooling first) gives the bits of the training
// path's layers, which the tests check.
package cnn

import (
	"math/rand/v2"

	"galaxy/num"
)

// Float is the element type of a network: float32 to train and classify,
// float64 to check gradients.
type Float interface{ ~float32 | ~float64 }

// Shape is the size of an activation, laid out C×N×H×W.
type Shape struct{ C, N, H, W int }

// Len returns C*N*H*W.
func (s Shape) Len() int { return s.C * s.N * s.H * s.W }

// Tensor is an activation or its gradient.
type Tensor[T Float] struct {
	Shape
	D []T
}

// Param is a named tensor of the network: a trainable parameter (with its
// gradient G) or, when G is nil, a buffer such as batch normalisation's
// running statistics. Decay marks weights that weight decay applies to.
type Param[T Float] struct {
	Name  string
	Shape []int
	W, G  []T
	Decay bool
}

// Layer is one stage of a network. Forward keeps what Backward needs;
// Backward takes the gradient of the loss with respect to the last
// Forward's output, accumulates (adds) parameter gradients into the
// params' G, and returns the gradient with respect to the input. Returned
// tensors belong to the layer and are overwritten by its next call.
type Layer[T Float] interface {
	Forward(x *Tensor[T], train bool) *Tensor[T]
	Backward(dy *Tensor[T]) *Tensor[T]
	Params() []*Param[T]
	OutShape(in Shape) (Shape, error)
}

// grow returns t resized to s, reusing its storage when large enough.
func grow[T Float](t *Tensor[T], s Shape) *Tensor[T] {
	if t == nil {
		t = &Tensor[T]{}
	}
	t.Shape = s
	if cap(t.D) < s.Len() {
		t.D = make([]T, s.Len())
	}
	t.D = t.D[:s.Len()]
	return t
}

func growSlice[T Float](d []T, n int) []T {
	if cap(d) < n {
		return make([]T, n)
	}
	return d[:n]
}

func newParam[T Float](name string, decay bool, shape ...int) *Param[T] {
	n := 1
	for _, v := range shape {
		n *= v
	}
	return &Param[T]{Name: name, Shape: shape, W: make([]T, n), G: make([]T, n), Decay: decay}
}

// gemm computes C = alpha*op(A)*op(B) + beta*C (row-major), on num.Gemm for
// float32 and a plain loop for float64.
func gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if a32, ok := any(a).([]float32); ok {
		num.Gemm(transA, transB, m, n, k, float32(alpha), a32, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
		return
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s T
			for p := 0; p < k; p++ {
				var av, bv T
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// addTo adds src to dst element by element (num.Add's vector kernel for
// float32).
func addTo[T Float](dst, src []T) {
	if d, ok := any(dst).([]float32); ok {
		num.Add(d, any(src).([]float32))
		return
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}

// parallel runs fn over [0, n) split into fixed ranges (num.Parallel).
func parallel(n, grain int, fn func(lo, hi int)) { num.Parallel(n, grain, fn) }

// heInit fills w with N(0, 2/fanIn) draws (He initialisation for ReLU).
func heInit[T Float](w []T, fanIn int, rng *rand.Rand) {
	sd := sqrt(2 / float64(fanIn))
	for i := range w {
		w[i] = T(rng.NormFloat64() * sd)
	}
}

package cnn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"galaxy/num"
)

func sqrt(v float64) float64 { return math.Sqrt(v) }

// Conv2D is a 2-D convolution with square kernels, computed as im2col
// followed by one GEMM over the whole batch.
type Conv2D[T Float] struct {
	Cin, Cout, K, Stride, Pad int
	Wt, B                     *Param[T] // Wt: Cout×(Cin·K·K); B nil without bias
	in                        Shape
	col                       []T
	x32                       []float32 // the float32 training input, from which backwardParams gathers
	out, dx                   *Tensor[T]
	dcol                      []T
}

// NewConv2D returns a convolution with He-initialised weights.
func NewConv2D[T Float](name string, cin, cout, k, stride, pad int, bias bool, rng *rand.Rand) *Conv2D[T] {
	c := &Conv2D[T]{Cin: cin, Cout: cout, K: k, Stride: stride, Pad: pad}
	c.Wt = newParam[T](name+".weight", true, cout, cin, k, k)
	heInit(c.Wt.W, cin*k*k, rng)
	if bias {
		c.B = newParam[T](name+".bias", false, cout)
	}
	return c
}

// OutShape implements Layer.
func (c *Conv2D[T]) OutShape(in Shape) (Shape, error) {
	if in.C != c.Cin {
		return Shape{}, fmt.Errorf("conv: %d input channels, expects %d", in.C, c.Cin)
	}
	ho := (in.H+2*c.Pad-c.K)/c.Stride + 1
	wo := (in.W+2*c.Pad-c.K)/c.Stride + 1
	if ho < 1 || wo < 1 {
		return Shape{}, fmt.Errorf("conv: %dx%d input too small for kernel %d stride %d padding %d", in.H, in.W, c.K, c.Stride, c.Pad)
	}
	return Shape{C: c.Cout, N: in.N, H: ho, W: wo}, nil
}

// Params implements Layer.
func (c *Conv2D[T]) Params() []*Param[T] {
	if c.B != nil {
		return []*Param[T]{c.Wt, c.B}
	}
	return []*Param[T]{c.Wt}
}

// Forward implements Layer.
func (c *Conv2D[T]) Forward(x *Tensor[T], train bool) *Tensor[T] {
	os, err := c.OutShape(x.Shape)
	if err != nil {
		panic("cnn: " + err.Error())
	}
	c.in = x.Shape
	kk := c.Cin * c.K * c.K
	cols := os.N * os.H * os.W
	c.out = grow(c.out, os)
	c.x32 = nil
	if x32, ok := any(x.D).([]float32); ok {
		// float32 keeps no im2col matrix: the product gathers its panels
		// straight from x as it needs them, and so does the weight
		// gradient's (num.GemmFunc, num.GemmNTFunc; the same bits).
		num.GemmFunc(c.Cout, cols, kk, 1, any(c.Wt.W).([]float32), kk, c.gather(x32, x.Shape, os), 0, any(c.out.D).([]float32), cols)
		if train {
			c.x32 = x32
		}
	} else {
		c.col = growSlice(c.col, kk*cols)
		c.im2col(x, os)
		gemm(false, false, c.Cout, cols, kk, 1, c.Wt.W, kk, c.col, cols, 0, c.out.D, cols)
	}
	if c.B != nil {
		for o := 0; o < c.Cout; o++ {
			b, row := c.B.W[o], c.out.D[o*cols:(o+1)*cols]
			for i := range row {
				row[i] += b
			}
		}
	}
	return c.out
}

// im2col fills c.col: row (ci, ky, kx), column (n, oy, ox).
func (c *Conv2D[T]) im2col(x *Tensor[T], os Shape) {
	in := x.Shape
	cols := os.N * os.H * os.W
	kk := c.Cin * c.K * c.K
	parallel(kk, 4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			ci, ky, kx := r/(c.K*c.K), r/c.K%c.K, r%c.K
			dst := c.col[r*cols : (r+1)*cols]
			for n := 0; n < os.N; n++ {
				plane := x.D[(ci*in.N+n)*in.H*in.W : (ci*in.N+n+1)*in.H*in.W]
				for oy := 0; oy < os.H; oy++ {
					iy := oy*c.Stride - c.Pad + ky
					d := dst[(n*os.H+oy)*os.W : (n*os.H+oy+1)*os.W]
					if iy < 0 || iy >= in.H {
						clear(d)
						continue
					}
					src := plane[iy*in.W : (iy+1)*in.W]
					if c.Stride == 1 {
						ix0 := kx - c.Pad // ix = ox + ix0
						lo := min(max(0, -ix0), os.W)
						hi := max(min(os.W, in.W-ix0), lo)
						for i := range lo { // the padding: a value or two, not worth a call
							d[i] = 0
						}
						copy(d[lo:hi], src[lo+ix0:hi+ix0])
						for i := hi; i < len(d); i++ {
							d[i] = 0
						}
						continue
					}
					for ox := range d {
						ix := ox*c.Stride - c.Pad + kx
						if ix < 0 || ix >= in.W {
							d[ox] = 0
						} else {
							d[ox] = src[ix]
						}
					}
				}
			}
		}
	})
}

// gather returns the num.BPanelFunc that writes blocks of the im2col
// matrix of x (output shape os) that im2col would write to c.col.
func (c *Conv2D[T]) gather(x []float32, in, os Shape) num.BPanelFunc {
	hw, plane := os.H*os.W, in.N*in.H*in.W
	// Row (ci, ky, kx) of the matrix reads input channel ci shifted by
	// (ky-Pad, kx-Pad): a table, so the loops below divide nothing.
	type tap struct{ off, dy, dx int }
	taps := make([]tap, c.Cin*c.K*c.K)
	for r := range taps {
		ci, ky, kx := r/(c.K*c.K), r/c.K%c.K, r%c.K
		taps[r] = tap{off: ci * plane, dy: ky - c.Pad, dx: kx - c.Pad}
	}
	type run struct{ o, len, oy, ox, base int } // base: the input row of (n, oy*Stride)
	return func(dst []float32, stride, p0, kb, j0, cols int) {
		// The columns j0..j0+cols-1 in runs along an output row.
		var buf [64]run
		runs := buf[:0]
		for o := 0; o < cols; {
			j := j0 + o
			n, rem := j/hw, j%hw
			r := run{o: o, oy: rem / os.W, ox: rem % os.W}
			r.len = min(os.W-r.ox, cols-o)
			r.base = (n*in.H + r.oy*c.Stride) * in.W
			runs = append(runs, r)
			o += r.len
		}
		// In a "same" convolution (stride 1, output as wide as the input)
		// the runs of a row of the matrix are consecutive in x, rows of
		// one channel plane, so each row is one copy, then the padding
		// zeroed: the columns past the image's edges, and the runs above
		// or below it.
		same := c.Stride == 1 && os.W == in.W
		if same && stride <= 32 && c.K <= 7 {
			// A panel at most 32 wide (the product's own packing): num
			// gathers each row, with the padding as a mask of lanes that
			// depends only on the row's kernel position.
			kk := c.K * c.K
			var offs [49]int
			var masks [49]uint32
			at := runs[0].base + runs[0].ox
			for t, tp := range taps[:kk] {
				offs[t] = at + tp.dy*in.W + tp.dx
				for _, r := range runs {
					if iy := r.oy + tp.dy; iy < 0 || iy >= in.H {
						continue
					}
					// The run's values whose input column is in the image.
					if lo, hi := max(0, -(r.ox+tp.dx)), min(r.len, in.W-r.ox-tp.dx); hi > lo {
						masks[t] |= uint32(uint64(1)<<(hi-lo)-1) << (r.o + lo)
					}
				}
			}
			num.GatherTaps(dst, stride, x, plane, offs[:kk], masks[:kk], p0, kb, stride)
			return
		}
		for p, tp := range taps[p0 : p0+kb] {
			d := dst[p*stride : (p+1)*stride]
			if same {
				from := tp.off + runs[0].base + tp.dy*in.W + runs[0].ox + tp.dx
				if from >= 0 && from+cols <= len(x) {
					copy(d[:cols], x[from:from+cols])
				} else {
					lo, hi := min(max(0, -from), cols), min(cols, max(0, len(x)-from))
					clear(d[:cols])
					if hi > lo {
						copy(d[lo:hi], x[from+lo:from+hi])
					}
				}
				for i := range runs {
					r := &runs[i]
					if iy := r.oy + tp.dy; iy < 0 || iy >= in.H {
						clear(d[r.o : r.o+r.len])
						continue
					}
					// The padding columns: a value or two, not worth a call.
					for t := r.o; t < r.o+min(-(r.ox+tp.dx), r.len); t++ {
						d[t] = 0
					}
					for t := r.o + max(0, r.len-(r.ox+r.len+tp.dx-in.W)); t < r.o+r.len; t++ {
						d[t] = 0
					}
				}
				continue
			}
			for _, r := range runs {
				seg := d[r.o : r.o+r.len]
				if iy := r.oy*c.Stride + tp.dy; iy < 0 || iy >= in.H {
					clear(seg)
					continue
				}
				src := x[tp.off+r.base+tp.dy*in.W:]
				if c.Stride != 1 {
					for t := range seg {
						if ix := (r.ox+t)*c.Stride + tp.dx; ix >= 0 && ix < in.W {
							seg[t] = src[ix]
						} else {
							seg[t] = 0
						}
					}
					continue
				}
				ix0 := r.ox + tp.dx // the input column of seg[0]
				lo := min(max(0, -ix0), len(seg))
				hi := max(min(len(seg), in.W-ix0), lo)
				for t := range lo {
					seg[t] = 0
				}
				copy(seg[lo:hi], src[ix0+lo:ix0+hi])
				for t := hi; t < len(seg); t++ {
					seg[t] = 0
				}
			}
			clear(d[cols:])
		}
	}
}

// Backward implements Layer.
func (c *Conv2D[T]) Backward(dy *Tensor[T]) *Tensor[T] {
	c.backwardParams(dy)
	os := dy.Shape
	kk := c.Cin * c.K * c.K
	hw := os.H * os.W
	cols := os.N * hw
	in := c.in
	c.dx = grow(c.dx, in)
	clear(c.dx.D)
	// The images go through in chunks whose im2col gradient (dcol, kk ×
	// their pixels) is about 2 MB or one image, so that the product writes
	// it and col2im reads it back from the cache rather than memory. The
	// chunking changes no bit: each value of dcol is one sum over Cout
	// (within one of Gemm's k chunks), and each element of dx adds its rows
	// in the same order.
	chunk := col2imChunk(os.N, kk, hw)
	c.dcol = growSlice(c.dcol, kk*chunk*hw)
	for n0 := 0; n0 < os.N; n0 += chunk {
		nb := min(chunk, os.N-n0)
		c.col2im(dy, n0, nb, cols)
	}
	return c.dx
}

// col2imChunk returns how many of n images Backward takes at a time: those
// whose im2col gradient (kk values for each of their hw pixels) makes
// about 2 MB, and at least one.
func col2imChunk(n, kk, hw int) int { return max(1, min(n, (1<<19)/(kk*hw))) }

// col2im adds to c.dx the input gradient of images n0..n0+nb-1: dcol =
// Wᵀ·dy for their columns, then each input channel gathers its own rows of
// dcol, in a fixed order.
func (c *Conv2D[T]) col2im(dy *Tensor[T], n0, nb, cols int) {
	os, in := dy.Shape, c.in
	kk, hw := c.Cin*c.K*c.K, os.H*os.W
	gemm(true, false, kk, nb*hw, c.Cout, 1, c.Wt.W, kk, dy.D[n0*hw:], cols, 0, c.dcol, nb*hw)
	// In a "same" convolution (stride 1, output the size of the input)
	// each row of dcol adds to its image as one run, shifted by
	// (ky-Pad)·W + kx-Pad, once the values that would wrap around a row's
	// edge are set to 0: adding +0 to a sum that started at +0 changes no
	// bit (such a sum is never -0).
	same := c.Stride == 1 && os.W == in.W && os.H == in.H
	parallel(c.Cin, 1, func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			for r := ci * c.K * c.K; r < (ci+1)*c.K*c.K; r++ {
				ky, kx := r/c.K%c.K, r%c.K
				src := c.dcol[r*nb*hw : (r+1)*nb*hw]
				for n := n0; n < n0+nb; n++ {
					plane := c.dx.D[(ci*in.N+n)*in.H*in.W : (ci*in.N+n+1)*in.H*in.W]
					if same {
						dy, dx, w := ky-c.Pad, kx-c.Pad, os.W
						oyLo, oyHi := max(0, -dy), min(os.H, os.H-dy)
						if oyLo >= oyHi {
							continue
						}
						img := src[(n-n0)*hw : (n-n0+1)*hw]
						for oy := oyLo; oy < oyHi && dx != 0; oy++ {
							row := img[oy*w : (oy+1)*w]
							for j := 0; j < -dx; j++ {
								row[j] = 0
							}
							for j := max(0, w-dx); j < w; j++ {
								row[j] = 0
							}
						}
						a, b := oyLo*w+max(0, -dx), oyHi*w-max(0, dx)
						if a < b {
							addTo(plane[a+dy*w+dx:b+dy*w+dx], img[a:b])
						}
						continue
					}
					for oy := 0; oy < os.H; oy++ {
						iy := oy*c.Stride - c.Pad + ky
						if iy < 0 || iy >= in.H {
							continue
						}
						s := src[((n-n0)*os.H+oy)*os.W : ((n-n0)*os.H+oy+1)*os.W]
						d := plane[iy*in.W : (iy+1)*in.W]
						if c.Stride == 1 {
							ix0 := kx - c.Pad // ix = ox + ix0
							lo := min(max(0, -ix0), os.W)
							hi := max(min(os.W, in.W-ix0), lo)
							addTo(d[lo+ix0:hi+ix0], s[lo:hi])
							continue
						}
						for ox, v := range s {
							ix := ox*c.Stride - c.Pad + kx
							if ix >= 0 && ix < in.W {
								d[ix] += v
							}
						}
					}
				}
			}
		}
	})
}

// backwardParams accumulates the weight and bias gradients only.
func (c *Conv2D[T]) backwardParams(dy *Tensor[T]) {
	os := dy.Shape
	kk := c.Cin * c.K * c.K
	cols := os.N * os.H * os.W
	if c.x32 != nil {
		num.GemmNTFunc(c.Cout, kk, cols, 1, any(dy.D).([]float32), cols, c.gather(c.x32, c.in, os), 1, any(c.Wt.G).([]float32), kk)
	} else {
		gemm(false, true, c.Cout, kk, cols, 1, dy.D, cols, c.col, cols, 1, c.Wt.G, kk)
	}
	if c.B != nil {
		for o := 0; o < c.Cout; o++ {
			var s float64
			for _, v := range dy.D[o*cols : (o+1)*cols] {
				s += float64(v)
			}
			c.B.G[o] += T(s)
		}
	}
}

// BatchNorm normalises each channel over the batch and the image (training
// mode, which also updates the running statistics) or with the running
// statistics (inference), then scales by Gamma and shifts by Beta.
//
// When a ReLU follows it in a Seq, the Seq runs the two as one pass over
// memory; with a 2×2 max-pool after the ReLU, the three (forwardPool in
// training, poolFirst in inference). The result is the same as running
// them one after the other.
type BatchNorm[T Float] struct {
	C               int
	Eps, Momentum   float64
	Gamma, Beta     *Param[T]
	RunMean, RunVar *Param[T]  // buffers (G nil)
	x               *Tensor[T] // the training-mode input, kept for Backward
	mean, invStd    []float64
	scale, shift    []T        // the training forward's y = scale·x + shift, per channel
	relu            bool       // the last training Forward applied ReLU
	pool            *Pool2D[T] // and this pool after it (forwardPool), or nil
	out, dx         *Tensor[T]
	// Frozen normalises with the running statistics in training too, and
	// leaves them as they are: a fine-tuned network's frozen blocks
	// (Seq.FreezeNorms) compute what they computed when they were trained,
	// whatever the new data's batches hold.
	Frozen bool
}

// NewBatchNorm returns batch normalisation over c channels (eps 1e-5,
// momentum 0.1, PyTorch's defaults).
func NewBatchNorm[T Float](name string, c int) *BatchNorm[T] {
	b := &BatchNorm[T]{C: c, Eps: 1e-5, Momentum: 0.1,
		Gamma: newParam[T](name+".weight", false, c), Beta: newParam[T](name+".bias", false, c),
		RunMean: &Param[T]{Name: name + ".running_mean", Shape: []int{c}, W: make([]T, c)},
		RunVar:  &Param[T]{Name: name + ".running_var", Shape: []int{c}, W: make([]T, c)}}
	for i := range c {
		b.Gamma.W[i], b.RunVar.W[i] = 1, 1
	}
	return b
}

// OutShape implements Layer.
func (b *BatchNorm[T]) OutShape(in Shape) (Shape, error) {
	if in.C != b.C {
		return Shape{}, fmt.Errorf("batch norm: %d channels, expects %d", in.C, b.C)
	}
	return in, nil
}

// Params implements Layer.
func (b *BatchNorm[T]) Params() []*Param[T] {
	return []*Param[T]{b.Gamma, b.Beta, b.RunMean, b.RunVar}
}

// Forward implements Layer.
func (b *BatchNorm[T]) Forward(x *Tensor[T], train bool) *Tensor[T] {
	return b.forward(x, train, false)
}

// Backward implements Layer (training mode).
func (b *BatchNorm[T]) Backward(dy *Tensor[T]) *Tensor[T] { return b.backward(dy) }

// forward normalises x and, with relu, applies max(0, ·) to the result.
// Each channel reads its plane twice (sums, then output) and writes it
// once; the normalised values are recomputed by backward rather than kept.
func (b *BatchNorm[T]) forward(x *Tensor[T], train, relu bool) *Tensor[T] {
	m := x.N * x.H * x.W
	b.out = grow(b.out, x.Shape)
	if train {
		b.start(x, relu, nil)
	}
	parallel(b.C, 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			sc, sh := b.affine(c, x.D[c*m:(c+1)*m], train)
			affine(b.out.D[c*m:(c+1)*m], x.D[c*m:(c+1)*m], sc, sh, relu)
		}
	})
	return b.out
}

// forwardPool is training through the batch norm, a ReLU and p, a 2×2
// stride-2 max-pool: each image's plane is normalised into a buffer that
// stays in cache and pooled from there, so the ReLU's output is never
// stored (backward recomputes where it was positive from x). The pool's
// output and argmax are what the three layers give one after the other.
func (b *BatchNorm[T]) forwardPool(x *Tensor[T], p *Pool2D[T]) *Tensor[T] {
	in, os := x.Shape, p.start(x.Shape, true)
	b.start(x, true, p)
	hw, ohw, m := in.H*in.W, os.H*os.W, in.N*in.H*in.W
	parallel(b.C, 1, func(lo, hi int) {
		buf := make([]T, hw)
		for c := lo; c < hi; c++ {
			sc, sh := b.affine(c, x.D[c*m:(c+1)*m], true)
			for pl := c * in.N; pl < (c+1)*in.N; pl++ {
				affine(buf, x.D[pl*hw:(pl+1)*hw], sc, sh, true)
				maxPool2(p.out.D[pl*ohw:(pl+1)*ohw], p.arg[pl*ohw:(pl+1)*ohw], buf, in.W, os.H, os.W)
			}
		}
	})
	return p.out
}

// start records a training forward pass over x (with relu, and pooled
// through p when not nil) for backward.
func (b *BatchNorm[T]) start(x *Tensor[T], relu bool, p *Pool2D[T]) {
	b.x, b.relu, b.pool = x, relu, p
	if len(b.invStd) != b.C {
		b.mean, b.invStd = make([]float64, b.C), make([]float64, b.C)
		b.scale, b.shift = make([]T, b.C), make([]T, b.C)
	}
}

// affine returns channel c's y = sc·x + sh, where src holds the channel's
// values: in training (unless Frozen) from their mean and variance, which
// also update the running statistics, otherwise from the running
// statistics. In training it records μ, 1/σ, sc and sh for backward.
func (b *BatchNorm[T]) affine(c int, src []T, train bool) (sc, sh T) {
	g, be := float64(b.Gamma.W[c]), float64(b.Beta.W[c])
	var mu, inv float64
	if train && !b.Frozen {
		m := len(src)
		var vr float64
		mu, vr = meanVar(src)
		inv = 1 / math.Sqrt(vr+b.Eps)
		unb := vr
		if m > 1 {
			unb = vr * float64(m) / float64(m-1)
		}
		b.RunMean.W[c] = T((1-b.Momentum)*float64(b.RunMean.W[c]) + b.Momentum*mu)
		b.RunVar.W[c] = T((1-b.Momentum)*float64(b.RunVar.W[c]) + b.Momentum*unb)
	} else {
		mu, inv = float64(b.RunMean.W[c]), 1/math.Sqrt(float64(b.RunVar.W[c])+b.Eps)
	}
	sc, sh = T(g*inv), T(be-g*inv*mu)
	if train {
		b.mean[c], b.invStd[c], b.scale[c], b.shift[c] = mu, inv, sc, sh
	}
	return sc, sh
}

// poolFirst is inference through the batch norm, a ReLU and p, a 2×2
// stride-2 max-pool, in one pass: each channel is pooled first and
// normalised after, a quarter of the values. The result has the same bits
// as the three layers one after the other: y = max(sc·x+sh, 0) is rounded
// monotonically, non-decreasing in x when sc ≥ 0, so the largest y of a
// window is y(the largest x), and when sc < 0 it is y(the smallest x). A
// NaN anywhere in a window gives NaN either way; with sc = 0, an infinite x
// gives NaN too, so both extremes are normalised.
func (b *BatchNorm[T]) poolFirst(x *Tensor[T], p *Pool2D[T]) *Tensor[T] {
	in, os := x.Shape, p.start(x.Shape, false)
	parallel(in.C, 1, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			sc, sh := b.affine(c, nil, false)
			for n := range in.N {
				pl := c*in.N + n
				src := x.D[pl*in.H*in.W : (pl+1)*in.H*in.W]
				dst := p.out.D[pl*os.H*os.W : (pl+1)*os.H*os.W]
				switch {
				case sc > 0:
					maxPool2(dst, nil, src, in.W, os.H, os.W)
				case sc < 0:
					minPool2(dst, src, in.W, os.H, os.W)
				default:
					// A zero scale maps an infinite x to NaN, which no
					// extreme of the window stands for: normalise all four.
					minPool2(dst, src, in.W, os.H, os.W)
					tmp := make([]T, len(dst))
					maxPool2(tmp, nil, src, in.W, os.H, os.W)
					for i, v := range tmp {
						dst[i] = max(max(sc*dst[i]+sh, 0), max(sc*v+sh, 0))
					}
					continue
				}
				affine(dst, dst, sc, sh, true)
			}
		}
	})
	return p.out
}

// minPool2 is maxPool2 with the minimum of each window, without argmin.
func minPool2[T Float](dst []T, src []T, w, oh, ow int) {
	for oy := 0; oy < oh; oy++ {
		r0 := src[2*oy*w : 2*oy*w+2*ow]
		r1 := src[(2*oy+1)*w : (2*oy+1)*w+2*ow]
		d := dst[oy*ow : (oy+1)*ow]
		for ox := range d {
			d[ox] = min(min(r0[2*ox], r0[2*ox+1]), min(r1[2*ox], r1[2*ox+1]))
		}
	}
}

// meanVar returns the mean and the (biased) variance of v, from sums
// accumulated in float64 in one pass over memory.
func meanVar[T Float](v []T) (mean, variance float64) {
	s, q := sums(v)
	n := float64(len(v))
	mean = s / n
	return mean, max(q/n-mean*mean, 0)
}

// sums returns Σv and Σv² in float64: num's vector sums, in their own
// order, for float32; four running sums, added in a fixed order, for
// float64.
func sums[T Float](v []T) (s, q float64) {
	if v32, ok := any(v).([]float32); ok {
		return num.SumsF64(v32)
	}
	var s0, s1, s2, s3, q0, q1, q2, q3 float64
	i := 0
	for ; i+4 <= len(v); i += 4 {
		a, b, c, d := float64(v[i]), float64(v[i+1]), float64(v[i+2]), float64(v[i+3])
		s0, s1, s2, s3 = s0+a, s1+b, s2+c, s3+d
		q0, q1, q2, q3 = q0+a*a, q1+b*b, q2+c*c, q3+d*d
	}
	for ; i < len(v); i++ {
		a := float64(v[i])
		s0, q0 = s0+a, q0+a*a
	}
	return s0 + s1 + s2 + s3, q0 + q1 + q2 + q3
}

// affine writes dst = sc·src + sh, or max(0, sc·src + sh) with relu (the
// same bits on num's vector kernels for float32).
func affine[T Float](dst, src []T, sc, sh T, relu bool) {
	dst = dst[:len(src)]
	if d, ok := any(dst).([]float32); ok {
		if relu {
			num.ScaleShiftReLU(d, any(src).([]float32), float32(sc), float32(sh))
		} else {
			num.ScaleShift(d, any(src).([]float32), float32(sc), float32(sh))
		}
		return
	}
	if !relu {
		for i, v := range src {
			dst[i] = sc*v + sh
		}
		return
	}
	for i, v := range src {
		dst[i] = max(sc*v+sh, 0)
	}
}

// backward is Backward after forward or forwardPool. dy is the gradient of
// the layer after the batch norm: with relu, of the ReLU's output, masked
// here where the ReLU was off (sc·x+sh ≤ 0, recomputed from x); after
// forwardPool, of the pool's output, unpooled here an image's plane at a
// time into a buffer that stays in cache. Each channel goes through its
// planes twice, for the sums and for the gradient.
func (b *BatchNorm[T]) backward(dy *Tensor[T]) *Tensor[T] {
	in := b.x.Shape
	hw, m := in.H*in.W, in.N*in.H*in.W
	b.dx = grow(b.dx, in)
	parallel(b.C, 1, func(lo, hi int) {
		grad := func(pl int) []T { return dy.D[pl*hw : (pl+1)*hw] }
		if p := b.pool; p != nil {
			buf, os := make([]T, hw), dy.Shape
			ohw := os.H * os.W
			grad = func(pl int) []T {
				maxUnpool2(buf, p.arg[pl*ohw:(pl+1)*ohw], dy.D[pl*ohw:(pl+1)*ohw], in.H, in.W, os.H, os.W)
				return buf
			}
		}
		for c := lo; c < hi; c++ {
			mu, inv, sc, sh := b.mean[c], b.invStd[c], b.scale[c], b.shift[c]
			s := newGradSums(b.relu, sc, sh, mu)
			for pl := c * in.N; pl < (c+1)*in.N; pl++ {
				s.add(grad(pl), b.x.D[pl*hw:(pl+1)*hw])
			}
			sg, sgx := s.sums()
			sgx *= inv // Σ g·x̂ with x̂ = (x-μ)·inv
			b.Gamma.G[c] += T(sgx)
			b.Beta.G[c] += T(sg)
			// dx = γ·inv/m · (m·g - Σg - x̂·Σg·x̂); frozen (fixed μ and
			// inv): dx = γ·inv·g.
			k := float64(b.Gamma.W[c]) * inv
			bb, cc := T(-k*sg/float64(m)), T(-k*inv*sgx/float64(m))
			if b.Frozen {
				bb, cc = 0, 0
			}
			for pl := c * in.N; pl < (c+1)*in.N; pl++ {
				bnInputGrad(b.dx.D[pl*hw:(pl+1)*hw], grad(pl), b.x.D[pl*hw:(pl+1)*hw], b.relu, sc, sh, T(mu), T(k), bb, cc)
			}
		}
	})
	return b.dx
}

// gradSums accumulates Σg and Σg·(x-mu) in float64 over a channel's
// planes, in order, where g is masked to 0 where the ReLU (with relu) was
// off: num.MaskedSums, in num's order, for float32 with a ReLU; a loop
// otherwise.
type gradSums[T Float] struct {
	relu    bool
	sc, sh  T
	mu      float64
	vec     bool
	ms      num.MaskedSums
	sg, sgx float64
}

func newGradSums[T Float](relu bool, sc, sh T, mu float64) *gradSums[T] {
	s := &gradSums[T]{relu: relu, sc: sc, sh: sh, mu: mu}
	if _, ok := any(sc).(float32); ok && relu {
		s.vec, s.ms = true, num.NewMaskedSums(float32(sc), float32(sh), mu)
	}
	return s
}

func (s *gradSums[T]) add(g, x []T) {
	x = x[:len(g)]
	if s.vec {
		s.ms.Add(any(g).([]float32), any(x).([]float32))
		return
	}
	for i, v := range g {
		if s.relu {
			v *= reluOn(s.sc, s.sh, x[i])
		}
		s.sg += float64(v)
		s.sgx += float64(v) * (float64(x[i]) - s.mu)
	}
}

func (s *gradSums[T]) sums() (sg, sgx float64) {
	if s.vec {
		return s.ms.Sums()
	}
	return s.sg, s.sgx
}

// bnInputGrad writes d = a·g' + b + c·(x-mu), with g' = g masked (with
// relu) where sc·x+sh ≤ 0, as in gradSums; with backward's a, b, c it is
// γ·inv/m·(m·g - Σg - x̂·Σg·x̂).
func bnInputGrad[T Float](d, g, x []T, relu bool, sc, sh, mu, a, b, c T) {
	x, d = x[:len(g)], d[:len(g)]
	if !relu {
		for i, v := range g {
			d[i] = a*v + b + c*(x[i]-mu)
		}
		return
	}
	if d32, ok := any(d).([]float32); ok { // the same bits on num's vector kernel
		num.BatchNormGrad(d32, any(g).([]float32), any(x).([]float32), float32(sc), float32(sh), float32(mu), float32(a), float32(b), float32(c))
		return
	}
	for i, v := range g {
		d[i] = a*v*reluOn(sc, sh, x[i]) + b + c*(x[i]-mu)
	}
}

// reluOn is 1 where the ReLU after a batch norm whose output is sc·x+sh
// was on and 0 where it was off, the product rounded to T first as the
// forward pass rounds it.
func reluOn[T Float](sc, sh, x T) T { return positive(T(sc*x) + sh) }

// positive returns 1 when v > 0 and 0 otherwise, without a branch (ReLU
// masks are unpredictable, and a mispredicted branch per value would cost
// more than the arithmetic).
func positive[T Float](v T) T {
	var m int32
	if v > 0 {
		m = 1
	}
	return T(m)
}

// ReLU is max(0, x).
type ReLU[T Float] struct{ out, dx *Tensor[T] }

// OutShape implements Layer.
func (r *ReLU[T]) OutShape(in Shape) (Shape, error) { return in, nil }

// Params implements Layer.
func (r *ReLU[T]) Params() []*Param[T] { return nil }

// Forward implements Layer.
func (r *ReLU[T]) Forward(x *Tensor[T], train bool) *Tensor[T] {
	r.out = grow(r.out, x.Shape)
	out := r.out.D
	parallel(len(x.D), 1<<14, func(lo, hi int) {
		affine(out[lo:hi], x.D[lo:hi], 1, 0, true)
	})
	return r.out
}

// Backward implements Layer.
func (r *ReLU[T]) Backward(dy *Tensor[T]) *Tensor[T] {
	r.dx = grow(r.dx, dy.Shape)
	out, dx := r.out.D, r.dx.D
	parallel(len(dy.D), 1<<14, func(lo, hi int) {
		g, y := dy.D[lo:hi], out[lo:hi]
		d := dx[lo:hi]
		for i, v := range g {
			d[i] = v * positive(y[i])
		}
	})
	return r.dx
}

// Pool2D is max or average pooling with a square window (no padding;
// windows that do not fit are dropped, as floor mode does).
type Pool2D[T Float] struct {
	Max       bool
	K, Stride int
	in        Shape
	arg       []int32
	out, dx   *Tensor[T]
}

// OutShape implements Layer.
func (p *Pool2D[T]) OutShape(in Shape) (Shape, error) {
	ho, wo := (in.H-p.K)/p.Stride+1, (in.W-p.K)/p.Stride+1
	if in.H < p.K || in.W < p.K || ho < 1 || wo < 1 {
		return Shape{}, fmt.Errorf("pool: %dx%d input smaller than window %d", in.H, in.W, p.K)
	}
	return Shape{C: in.C, N: in.N, H: ho, W: wo}, nil
}

// Params implements Layer.
func (p *Pool2D[T]) Params() []*Param[T] { return nil }

// Forward implements Layer.
func (p *Pool2D[T]) Forward(x *Tensor[T], train bool) *Tensor[T] {
	os := p.start(x.Shape, p.Max)
	in := x.Shape
	inv := 1 / T(p.K*p.K)
	parallel(in.C*in.N, 4, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			src := x.D[pl*in.H*in.W : (pl+1)*in.H*in.W]
			dst := p.out.D[pl*os.H*os.W : (pl+1)*os.H*os.W]
			if p.Max && p.K == 2 && p.Stride == 2 {
				var arg []int32 // inference needs no argmax
				if train {
					arg = p.arg[pl*os.H*os.W : (pl+1)*os.H*os.W]
				}
				maxPool2(dst, arg, src, in.W, os.H, os.W)
				continue
			}
			for oy := 0; oy < os.H; oy++ {
				for ox := 0; ox < os.W; ox++ {
					base := oy*p.Stride*in.W + ox*p.Stride
					if p.Max {
						best, bi := src[base], base
						for ky := 0; ky < p.K; ky++ {
							for kx := 0; kx < p.K; kx++ {
								if v := src[base+ky*in.W+kx]; v > best {
									best, bi = v, base+ky*in.W+kx
								}
							}
						}
						dst[oy*os.W+ox] = best
						p.arg[pl*os.H*os.W+oy*os.W+ox] = int32(bi)
					} else {
						var s T
						for ky := 0; ky < p.K; ky++ {
							for kx := 0; kx < p.K; kx++ {
								s += src[base+ky*in.W+kx]
							}
						}
						dst[oy*os.W+ox] = s * inv
					}
				}
			}
		}
	})
	return p.out
}

// start readies a forward pass over an input of shape in (and, with arg,
// the argmax of each window, for Backward) and returns the output shape.
func (p *Pool2D[T]) start(in Shape, arg bool) Shape {
	os, err := p.OutShape(in)
	if err != nil {
		panic("cnn: " + err.Error())
	}
	p.in = in
	p.out = grow(p.out, os)
	if arg {
		if cap(p.arg) < os.Len() {
			p.arg = make([]int32, os.Len())
		}
		p.arg = p.arg[:os.Len()]
	}
	return os
}

// maxPool2 is 2×2 max pooling with stride 2 of one plane of width w into
// dst (oh×ow), recording in arg (when not nil) the plane index of each
// maximum; ties go to the first in row-major order, as in the general
// loop. Comparisons select with conditional moves, not branches.
func maxPool2[T Float](dst []T, arg []int32, src []T, w, oh, ow int) {
	if d, ok := any(dst).([]float32); ok { // num's vector kernels, the same bits
		s := any(src).([]float32)
		for oy := 0; oy < oh; oy++ {
			r0, r1 := s[2*oy*w:2*oy*w+2*ow], s[(2*oy+1)*w:(2*oy+1)*w+2*ow]
			if arg == nil {
				num.MaxPool2Row(d[oy*ow:(oy+1)*ow], r0, r1)
			} else {
				num.MaxPool2RowArg(d[oy*ow:(oy+1)*ow], arg[oy*ow:(oy+1)*ow], r0, r1, int32(2*oy*w), int32(w))
			}
		}
		return
	}
	for oy := 0; oy < oh; oy++ {
		r0 := src[2*oy*w : 2*oy*w+2*ow]
		r1 := src[(2*oy+1)*w : (2*oy+1)*w+2*ow]
		d := dst[oy*ow : (oy+1)*ow]
		base := int32(2 * oy * w)
		for ox := range d {
			a, b, c, e := r0[2*ox], r0[2*ox+1], r1[2*ox], r1[2*ox+1]
			top, bot := max(a, b), max(c, e)
			d[ox] = max(top, bot)
			if arg == nil {
				continue
			}
			it := int32(0)
			if b > a {
				it = 1
			}
			ib := int32(w)
			if e > c {
				ib = int32(w) + 1
			}
			if bot > top {
				it = ib
			}
			arg[oy*ow+ox] = base + int32(2*ox) + it
		}
	}
}

// Backward implements Layer.
func (p *Pool2D[T]) Backward(dy *Tensor[T]) *Tensor[T] {
	in, os := p.in, dy.Shape
	p.dx = grow(p.dx, in)
	inv := 1 / T(p.K*p.K)
	parallel(in.C*in.N, 4, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			d := p.dx.D[pl*in.H*in.W : (pl+1)*in.H*in.W]
			g := dy.D[pl*os.H*os.W : (pl+1)*os.H*os.W]
			if p.Max && p.K == 2 && p.Stride == 2 {
				maxUnpool2(d, p.arg[pl*os.H*os.W:(pl+1)*os.H*os.W], g, in.H, in.W, os.H, os.W)
				continue
			}
			clear(d)
			for oy := 0; oy < os.H; oy++ {
				for ox := 0; ox < os.W; ox++ {
					v := g[oy*os.W+ox]
					if p.Max {
						d[p.arg[pl*os.H*os.W+oy*os.W+ox]] += v
						continue
					}
					base := oy*p.Stride*in.W + ox*p.Stride
					for ky := 0; ky < p.K; ky++ {
						for kx := 0; kx < p.K; kx++ {
							d[base+ky*in.W+kx] += v * inv
						}
					}
				}
			}
		}
	})
	return p.dx
}

// maxUnpool2 is the backward pass of maxPool2 for one plane: it writes
// every element of d (h×w) once, g[j] where arg[j] points and 0 elsewhere,
// instead of clearing d and scattering g. Each value is 0+g[j], the sum
// the scatter computes (so -0 becomes +0, as there).
func maxUnpool2[T Float](d []T, arg []int32, g []T, h, w, oh, ow int) {
	g32, vec := any(g).([]float32)
	for oy := 0; oy < oh; oy++ {
		r0 := d[2*oy*w : (2*oy+1)*w]
		r1 := d[(2*oy+1)*w : (2*oy+2)*w]
		if vec { // num's vector kernel, the same bits
			num.MaxUnpool2Row(any(r0).([]float32), any(r1).([]float32), g32[oy*ow:(oy+1)*ow], arg[oy*ow:(oy+1)*ow], int32(2*oy*w), int32(w))
		} else {
			for ox := 0; ox < ow; ox++ {
				r0[2*ox], r0[2*ox+1], r1[2*ox], r1[2*ox+1] = 0, 0, 0, 0
				var zero T
				d[arg[oy*ow+ox]] = zero + g[oy*ow+ox] // no branch on where the maximum was
			}
		}
		clear(r0[2*ow:]) // the column no window covers (odd w)
		clear(r1[2*ow:])
	}
	clear(d[2*oh*w : h*w]) // the row no window covers (odd h)
}

// GlobalAvgPool averages each channel plane to one value: C×N×H×W to C×N×1×1.
type GlobalAvgPool[T Float] struct {
	in      Shape
	out, dx *Tensor[T]
}

// OutShape implements Layer.
func (g *GlobalAvgPool[T]) OutShape(in Shape) (Shape, error) {
	return Shape{C: in.C, N: in.N, H: 1, W: 1}, nil
}

// Params implements Layer.
func (g *GlobalAvgPool[T]) Params() []*Param[T] { return nil }

// Forward implements Layer.
func (g *GlobalAvgPool[T]) Forward(x *Tensor[T], train bool) *Tensor[T] {
	g.in = x.Shape
	g.out = grow(g.out, Shape{C: x.C, N: x.N, H: 1, W: 1})
	hw := x.H * x.W
	for pl := range x.C * x.N {
		var s float64
		for _, v := range x.D[pl*hw : (pl+1)*hw] {
			s += float64(v)
		}
		g.out.D[pl] = T(s / float64(hw))
	}
	return g.out
}

// Backward implements Layer.
func (g *GlobalAvgPool[T]) Backward(dy *Tensor[T]) *Tensor[T] {
	g.dx = grow(g.dx, g.in)
	hw := g.in.H * g.in.W
	for pl := range g.in.C * g.in.N {
		v := dy.D[pl] / T(hw)
		d := g.dx.D[pl*hw : (pl+1)*hw]
		for i := range d {
			d[i] = v
		}
	}
	return g.dx
}

// Dropout zeroes each value with probability P in training and scales the
// rest by 1/(1-P) (inverted dropout); it is the identity in inference. Its
// masks come from Rng, so a seeded run repeats them.
type Dropout[T Float] struct {
	P       float64
	Rng     *rand.Rand
	Src     *rand.PCG // Rng's source, when known: its state goes into training checkpoints
	mask    []T
	out, dx *Tensor[T]
	train   bool
}

// OutShape implements Layer.
func (d *Dropout[T]) OutShape(in Shape) (Shape, error) { return in, nil }

// Params implements Layer.
func (d *Dropout[T]) Params() []*Param[T] { return nil }

// Forward implements Layer.
func (d *Dropout[T]) Forward(x *Tensor[T], train bool) *Tensor[T] {
	d.train = train && d.P > 0
	if !d.train {
		return x
	}
	d.out = grow(d.out, x.Shape)
	d.mask = growSlice(d.mask, x.Len())
	sc := T(1 / (1 - d.P))
	for i, v := range x.D {
		if d.Rng.Float64() < d.P {
			d.mask[i] = 0
		} else {
			d.mask[i] = sc
		}
		d.out.D[i] = v * d.mask[i]
	}
	return d.out
}

// Backward implements Layer.
func (d *Dropout[T]) Backward(dy *Tensor[T]) *Tensor[T] {
	if !d.train {
		return dy
	}
	d.dx = grow(d.dx, dy.Shape)
	for i, v := range dy.D {
		d.dx.D[i] = v * d.mask[i]
	}
	return d.dx
}

// Dense is a fully connected layer on C×N×1×1 activations (put a global
// pool before it): out (K×N) = W (K×C) · x + b.
type Dense[T Float] struct {
	In, Out int
	Wt, B   *Param[T]
	x       *Tensor[T]
	out, dx *Tensor[T]
}

// NewDense returns a dense layer with weights drawn N(0, 1/in).
func NewDense[T Float](name string, in, out int, rng *rand.Rand) *Dense[T] {
	d := &Dense[T]{In: in, Out: out, Wt: newParam[T](name+".weight", true, out, in), B: newParam[T](name+".bias", false, out)}
	heInit(d.Wt.W, 2*in, rng)
	return d
}

// OutShape implements Layer.
func (d *Dense[T]) OutShape(in Shape) (Shape, error) {
	if in.H != 1 || in.W != 1 || in.C != d.In {
		return Shape{}, fmt.Errorf("dense: input %dx%dx%d, expects %dx1x1 (global pool first)", in.C, in.H, in.W, d.In)
	}
	return Shape{C: d.Out, N: in.N, H: 1, W: 1}, nil
}

// Params implements Layer.
func (d *Dense[T]) Params() []*Param[T] { return []*Param[T]{d.Wt, d.B} }

// Forward implements Layer.
func (d *Dense[T]) Forward(x *Tensor[T], train bool) *Tensor[T] {
	os, err := d.OutShape(x.Shape)
	if err != nil {
		panic("cnn: " + err.Error())
	}
	d.x = x
	d.out = grow(d.out, os)
	n := x.N
	for o := 0; o < d.Out; o++ {
		row := d.out.D[o*n : (o+1)*n]
		for i := range row {
			row[i] = d.B.W[o]
		}
	}
	gemm(false, false, d.Out, n, d.In, 1, d.Wt.W, d.In, x.D, n, 1, d.out.D, n)
	return d.out
}

// Backward implements Layer.
func (d *Dense[T]) Backward(dy *Tensor[T]) *Tensor[T] {
	n := dy.N
	gemm(false, true, d.Out, d.In, n, 1, dy.D, n, d.x.D, n, 1, d.Wt.G, d.In)
	for o := 0; o < d.Out; o++ {
		var s float64
		for _, v := range dy.D[o*n : (o+1)*n] {
			s += float64(v)
		}
		d.B.G[o] += T(s)
	}
	d.dx = grow(d.dx, d.x.Shape)
	gemm(true, false, d.In, n, d.Out, 1, d.Wt.W, d.In, dy.D, n, 0, d.dx.D, n)
	return d.dx
}

// trainer is a layer that keeps buffers only Backward needs.
type trainer interface{ releaseTraining() }

func (c *Conv2D[T]) releaseTraining()        { c.dx, c.dcol, c.col, c.x32 = nil, nil, nil, nil }
func (b *BatchNorm[T]) releaseTraining()     { b.dx, b.x, b.pool = nil, nil, nil }
func (r *ReLU[T]) releaseTraining()          { r.dx = nil }
func (p *Pool2D[T]) releaseTraining()        { p.dx = nil }
func (g *GlobalAvgPool[T]) releaseTraining() { g.dx = nil }
func (d *Dropout[T]) releaseTraining()       { d.dx, d.mask = nil, nil }
func (d *Dense[T]) releaseTraining()         { d.dx = nil }

// ReleaseTraining drops the buffers only backpropagation uses (gradients
// of the activations, unrolled input gradients), so that a trained network
// classifies in the memory its forward pass needs: at 128x128 pixels and
// batch 64 they are about 1 GB. Training again makes them anew.
func (q *Seq[T]) ReleaseTraining() {
	for _, l := range q.Layers {
		if t, ok := l.(trainer); ok {
			t.releaseTraining()
		}
	}
}

// FreezeNorms sets Frozen on each batch normalisation whose weight's name
// frozen accepts (the blocks fine-tuning keeps fixed).
func (q *Seq[T]) FreezeNorms(frozen func(name string) bool) {
	for _, l := range q.Layers {
		if b, ok := l.(*BatchNorm[T]); ok {
			b.Frozen = frozen(b.Gamma.Name)
		}
	}
}

package cnn

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"galaxy/model/modelfile"
)

// Spec describes a network of len(Widths) blocks, each one or more
// conv3x3 (stride 1, padding 1, no bias) → batch norm → ReLU, with a 2×2
// max-pool after every block but the last, then global average pooling,
// dropout and a dense layer to K logits.
type Spec struct {
	InC, H, W, K int     // input channels and size; classes
	Widths       []int   // output channels of each block
	Convs        []int   // convolutions in each block (nil: one each)
	Crop         int     // the network sees the central Crop×Crop pixels of each image (0: all H×W)
	Dropout      float64 // before the dense layer
	TTA          bool    // Logits averages over the 8 symmetries of the square
}

// In returns the size of the network's input: the crop, or the whole image.
func (s Spec) In() (h, w int) {
	if s.Crop > 0 {
		return s.Crop, s.Crop
	}
	return s.H, s.W
}

// AveragesSymmetries reports whether Logits averages over the 8 symmetries
// of the square: with TTA, on a square input.
func (s Spec) AveragesSymmetries() bool {
	h, w := s.In()
	return s.TTA && h == w
}

// BlockConvs returns the number of convolutions in block i.
func (s Spec) BlockConvs(i int) int {
	if i < len(s.Convs) {
		return s.Convs[i]
	}
	return 1
}

// Widths are the block widths of the registered cnn and cnn-ref (the
// experiments behind them: docs/experiments.md).
var Widths = []int{32, 64, 128, 128}

// Check reports a spec that cannot be built.
func (s Spec) Check() error {
	switch {
	case s.InC < 1 || s.H < 1 || s.W < 1:
		return fmt.Errorf("cnn: input %dx%dx%d is empty", s.H, s.W, s.InC)
	case s.K < 2:
		return fmt.Errorf("cnn: %d classes; need at least 2", s.K)
	case len(s.Widths) < 1 || len(s.Widths) > 8:
		return fmt.Errorf("cnn: depth %d: need 1 to 8 blocks", len(s.Widths))
	case !(s.Dropout >= 0 && s.Dropout < 1):
		return fmt.Errorf("cnn: dropout %v: must be in [0, 1)", s.Dropout)
	}
	for i, w := range s.Widths {
		if w < 1 || w > 4096 {
			return fmt.Errorf("cnn: block %d width %d: must be 1 to 4096", i+1, w)
		}
	}
	if s.Convs != nil && len(s.Convs) != len(s.Widths) {
		return fmt.Errorf("cnn: %d convolution counts for %d blocks", len(s.Convs), len(s.Widths))
	}
	for i, n := range s.Convs {
		if n < 1 || n > 8 {
			return fmt.Errorf("cnn: block %d has %d convolutions: must be 1 to 8", i+1, n)
		}
	}
	if s.Crop != 0 && (s.Crop < 1 || s.Crop > min(s.H, s.W) || (s.H-s.Crop)%2 != 0 || (s.W-s.Crop)%2 != 0) {
		return fmt.Errorf("cnn: crop %d of %dx%d images: need 1 to %d pixels, leaving an even margin so the window is centred", s.Crop, s.H, s.W, min(s.H, s.W))
	}
	h, w := s.In()
	for range len(s.Widths) - 1 {
		h, w = h/2, w/2
	}
	if h < 1 || w < 1 {
		return fmt.Errorf("cnn: %dx%d images are too small for %d blocks (each but the last halves them)", s.H, s.W, len(s.Widths))
	}
	return nil
}

// Hyper returns the spec's sizes for the model file header: depth,
// width1..widthD, convs1..convsD (where a block has more than one), crop
// (when set), dropout_permille, tta.
func (s Spec) Hyper() map[string]int {
	h := map[string]int{"depth": len(s.Widths), "dropout_permille": int(s.Dropout*1000 + 0.5)}
	for i, w := range s.Widths {
		h["width"+strconv.Itoa(i+1)] = w
		if n := s.BlockConvs(i); n > 1 {
			h["convs"+strconv.Itoa(i+1)] = n
		}
	}
	if s.TTA {
		h["tta"] = 1
	}
	if s.Crop > 0 {
		h["crop"] = s.Crop
	}
	return h
}

// SpecFromHyper rebuilds a spec from a model file header.
func SpecFromHyper(h map[string]int, inC, height, width, k int) (Spec, error) {
	s := Spec{InC: inC, H: height, W: width, K: k, Crop: h["crop"], Dropout: float64(h["dropout_permille"]) / 1000, TTA: h["tta"] != 0}
	d := h["depth"]
	if d < 1 || d > 8 {
		return s, fmt.Errorf("cnn: depth %d in the header", d)
	}
	many := false
	for i := range d {
		s.Widths = append(s.Widths, h["width"+strconv.Itoa(i+1)])
		n, ok := h["convs"+strconv.Itoa(i+1)]
		if !ok {
			n = 1
		}
		s.Convs = append(s.Convs, n)
		many = many || n != 1
	}
	if !many {
		s.Convs = nil
	}
	return s, s.Check()
}

// Seq is a sequence of layers.
type Seq[T Float] struct {
	Layers []Layer[T]
}

// Build returns the network of spec s with weights drawn from rng; rng also
// seeds the dropout masks.
func Build[T Float](s Spec, rng *rand.Rand) (*Seq[T], error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	q := &Seq[T]{}
	in := s.InC
	for i, w := range s.Widths {
		for j := range s.BlockConvs(i) {
			name := "block" + strconv.Itoa(i+1)
			if j > 0 { // the first keeps the names of one-convolution blocks
				name += "." + strconv.Itoa(j+1)
			}
			q.Layers = append(q.Layers, NewConv2D[T](name+".conv", in, w, 3, 1, 1, false, rng), NewBatchNorm[T](name+".bn", w), &ReLU[T]{})
			in = w
		}
		if i < len(s.Widths)-1 {
			q.Layers = append(q.Layers, &Pool2D[T]{Max: true, K: 2, Stride: 2})
		}
	}
	q.Layers = append(q.Layers, &GlobalAvgPool[T]{})
	if s.Dropout > 0 {
		src := rand.NewPCG(rng.Uint64(), rng.Uint64())
		q.Layers = append(q.Layers, &Dropout[T]{P: s.Dropout, Rng: rand.New(src), Src: src})
	}
	q.Layers = append(q.Layers, NewDense[T]("fc", in, s.K, rng))
	return q, nil
}

// Forward runs every layer. A batch norm followed by a ReLU runs as one
// fused pass (same values); the ReLU then holds the fused output, so
// Backward and the layers' own methods see what unfused layers would. A
// batch norm, ReLU and 2×2 max-pool run as one pass, the same values: in
// training a plane at a time through a buffer in cache
// (BatchNorm.forwardPool; the ReLU then holds no output), in inference
// pooling first (BatchNorm.poolFirst, a quarter of the work).
func (q *Seq[T]) Forward(x *Tensor[T], train bool) *Tensor[T] {
	return q.forwardTo(x, train, len(q.Layers))
}

// forwardTo is Forward through the first n layers.
func (q *Seq[T]) forwardTo(x *Tensor[T], train bool, n int) *Tensor[T] {
	for i := 0; i < n; i++ {
		if bn, r := q.bnReLU(i); r != nil && i+2 < n {
			if p, ok := q.Layers[i+2].(*Pool2D[T]); ok && p.Max && p.K == 2 && p.Stride == 2 {
				if train {
					x, r.out = bn.forwardPool(x, p), nil
				} else {
					x = bn.poolFirst(x, p)
				}
				i += 2
				continue
			}
		}
		if bn, r := q.bnReLU(i); r != nil && i+1 < n {
			x = bn.forward(x, train, true)
			r.out = x
			i++
			continue
		}
		x = q.Layers[i].Forward(x, train)
	}
	return x
}

// bnReLU returns layer i and the ReLU after it when layer i is a batch
// norm followed by a ReLU.
func (q *Seq[T]) bnReLU(i int) (*BatchNorm[T], *ReLU[T]) {
	if i+1 >= len(q.Layers) {
		return nil, nil
	}
	bn, ok := q.Layers[i].(*BatchNorm[T])
	if !ok {
		return nil, nil
	}
	r, ok := q.Layers[i+1].(*ReLU[T])
	if !ok {
		return nil, nil
	}
	return bn, r
}

// Backward runs every layer's backward pass, last first, accumulating
// parameter gradients, and returns the gradient with respect to the input.
func (q *Seq[T]) Backward(dy *Tensor[T]) *Tensor[T] { return q.backward(dy, true) }

// BackwardParams is Backward for training: it accumulates the parameter
// gradients but does not compute the gradient with respect to the network's
// input (a first convolution skips its input-gradient GEMM), and returns
// nothing.
func (q *Seq[T]) BackwardParams(dy *Tensor[T]) { q.backward(dy, false) }

func (q *Seq[T]) backward(dy *Tensor[T], input bool) *Tensor[T] {
	for i := len(q.Layers) - 1; i >= 0; i-- {
		if p, ok := q.Layers[i].(*Pool2D[T]); ok && i >= 2 {
			if bn, r := q.bnReLU(i - 2); r != nil && bn.pool == p {
				dy = bn.backward(dy)
				i -= 2
				continue
			}
		}
		if i >= 1 {
			if bn, r := q.bnReLU(i - 1); r != nil && bn.relu {
				dy = bn.backward(dy)
				i--
				continue
			}
		}
		if c, ok := q.Layers[i].(*Conv2D[T]); ok && i == 0 && !input {
			c.backwardParams(dy)
			return nil
		}
		dy = q.Layers[i].Backward(dy)
	}
	return dy
}

// Params returns every named tensor, parameters and buffers, in a fixed order.
func (q *Seq[T]) Params() []*Param[T] {
	var ps []*Param[T]
	for _, l := range q.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// ZeroGrad clears every gradient.
func (q *Seq[T]) ZeroGrad() {
	for _, p := range q.Params() {
		clear(p.G)
	}
}

// InferBatch is how many images Logits passes through the network at once.
const InferBatch = 64

// Net is a float32 network and its spec: a model.Network.
type Net struct {
	Spec Spec
	*Seq[float32]
	x *Tensor[float32]
}

// New builds a float32 network.
func New(s Spec, rng *rand.Rand) (*Net, error) {
	q, err := Build[float32](s, rng)
	if err != nil {
		return nil, err
	}
	return &Net{Spec: s, Seq: q}, nil
}

// Logits implements model.Classifier: x holds b images as scaled HWC
// features; out gets b×K logits. The network sees the central crop when
// Spec.Crop is set. With Spec.TTA it averages the logits of the 8
// symmetries of each image (square inputs only).
func (n *Net) Logits(x []float32, b int, out []float32) {
	n.averaged(x, b, out, len(n.Seq.Layers), n.Spec.K)
}

// EmbedDim implements model.Embedder: the channels of the last block.
func (n *Net) EmbedDim() int { return n.Spec.Widths[len(n.Spec.Widths)-1] }

// Embed implements model.Embedder: the globally average-pooled features of
// the last block (the dense layer's input), averaged over the 8 symmetries
// of the square with TTA as Logits averages the logits, so that a galaxy
// and its rotations have the same representation.
func (n *Net) Embed(x []float32, b int, out []float32) {
	gap := slices.IndexFunc(n.Seq.Layers, func(l Layer[float32]) bool { _, ok := l.(*GlobalAvgPool[float32]); return ok })
	n.averaged(x, b, out, gap+1, n.EmbedDim())
}

// averaged writes into out (b x k) the output of the first layers layers
// for the b images of x (scaled HWC features), averaged over the 8
// symmetries with TTA.
func (n *Net) averaged(x []float32, b int, out []float32, layers, k int) {
	s := n.Spec
	dim := s.H * s.W * s.InC
	ih, iw := s.In()
	syms := 1
	if s.AveragesSymmetries() {
		syms = Symmetries
	}
	clear(out[:b*k])
	for lo := 0; lo < b; lo += InferBatch {
		nb := min(InferBatch, b-lo)
		n.x = grow(n.x, Shape{C: s.InC, N: nb, H: ih, W: iw})
		for sym := range syms {
			parallel(nb, 8, func(a, e int) {
				for i := a; i < e; i++ {
					featuresToCNHW(x[(lo+i)*dim:(lo+i+1)*dim], s.H, s.W, s.InC, ih, iw, sym, n.x.D, i, nb)
				}
			})
			z := n.Seq.forwardTo(n.x, false, layers)
			for i := range nb {
				for c := range k {
					out[(lo+i)*k+c] += z.D[c*nb+i]
				}
			}
		}
	}
	if syms > 1 {
		for i := range out[:b*k] {
			out[i] /= float32(syms)
		}
	}
}

// Layout returns the network's spec.
func (n *Net) Layout() Spec { return n.Spec }

// SetTTA turns test-time averaging over the symmetries of the square on or
// off (training scores its epochs without it, 8x cheaper).
func (n *Net) SetTTA(on bool) { n.Spec.TTA = on }

// RandomSources returns the random sources of the dropout layers, in layer
// order: with the weights, what a checkpoint must record to continue a run
// exactly.
func (n *Net) RandomSources() []*rand.PCG {
	var out []*rand.PCG
	for _, l := range n.Layers {
		if d, ok := l.(*Dropout[float32]); ok {
			out = append(out, d.Src)
		}
	}
	return out
}

// head returns the output layer: the last dense layer.
func (n *Net) head() (*Dense[float32], error) {
	for i := len(n.Layers) - 1; i >= 0; i-- {
		if d, ok := n.Layers[i].(*Dense[float32]); ok {
			return d, nil
		}
	}
	return nil, fmt.Errorf("cnn: the network has no dense layer")
}

// AddLogitOffsets adds off[c] to every logit of class c (through the bias
// of the last dense layer), as a logit adjustment does.
func (n *Net) AddLogitOffsets(off []float64) error {
	d, err := n.head()
	if err != nil {
		return err
	}
	if len(off) != d.Out {
		return fmt.Errorf("cnn: %d logit offsets for %d classes", len(off), d.Out)
	}
	for c, v := range off {
		d.B.W[c] += float32(v)
	}
	return nil
}

// SetHead sets the last dense layer (the output layer): w is K x D by
// class, b has K values.
func (n *Net) SetHead(w, b []float64) error {
	d, err := n.head()
	if err != nil {
		return err
	}
	if len(w) != d.Out*d.In || len(b) != d.Out {
		return fmt.Errorf("cnn: a head of %d weights and %d biases for a %dx%d layer", len(w), len(b), d.Out, d.In)
	}
	for j, v := range w {
		d.Wt.W[j] = float32(v)
	}
	for c, v := range b {
		d.B.W[c] = float32(v)
	}
	return nil
}

// ScaleLogits multiplies every logit by s (through the weights and bias of
// the last dense layer), as temperature scaling with T = 1/s does.
func (n *Net) ScaleLogits(s float64) error {
	d, err := n.head()
	if err != nil {
		return err
	}
	for _, p := range []*Param[float32]{d.Wt, d.B} {
		for j := range p.W {
			p.W[j] = float32(float64(p.W[j]) * s)
		}
	}
	return nil
}

// Tensors implements model.Network: every parameter and buffer by name,
// sharing memory with the network.
func (n *Net) Tensors() []modelfile.Tensor {
	var ts []modelfile.Tensor
	for _, p := range n.Params() {
		ts = append(ts, modelfile.Tensor{Name: p.Name, Shape: p.Shape, Data: p.W})
	}
	return ts
}

// Hyper implements model.Network: the spec's sizes (Spec.Hyper).
func (n *Net) Hyper() map[string]int { return n.Spec.Hyper() }

// Load copies named tensors into the network; get returns a tensor's data
// by name and shape.
func (n *Net) Load(get func(name string, shape ...int) ([]float32, error)) error {
	for _, p := range n.Params() {
		d, err := get(p.Name, p.Shape...)
		if err != nil {
			return err
		}
		copy(p.W, d)
	}
	return nil
}

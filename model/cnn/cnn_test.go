package cnn

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func randTensor(rng *rand.Rand, s Shape) *Tensor[float64] {
	t := &Tensor[float64]{Shape: s, D: make([]float64, s.Len())}
	for i := range t.D {
		t.D[i] = rng.NormFloat64()
	}
	return t
}

// randTensor32 is randTensor in float32.
func randTensor32(rng *rand.Rand, s Shape) *Tensor[float32] {
	t := &Tensor[float32]{Shape: s, D: make([]float32, s.Len())}
	for i := range t.D {
		t.D[i] = float32(rng.NormFloat64())
	}
	return t
}

func relErr(fd, an float64) float64 {
	if math.Abs(fd-an) < 1e-9 {
		return 0
	}
	return math.Abs(fd-an) / math.Max(math.Abs(fd)+math.Abs(an), 1e-8)
}

// checkLayer compares the layer's input and parameter gradients of the loss
// Σ r·Forward(x) with central finite differences in float64. reset, when
// not nil, runs before every forward pass (to replay dropout masks).
func checkLayer(t *testing.T, name string, l Layer[float64], x *Tensor[float64], reset func()) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	if reset != nil {
		reset()
	}
	y := l.Forward(x, true)
	r := make([]float64, len(y.D))
	for i := range r {
		r[i] = rng.NormFloat64()
	}
	loss := func() float64 {
		if reset != nil {
			reset()
		}
		out := l.Forward(x, true)
		var s float64
		for i, v := range out.D {
			s += v * r[i]
		}
		return s
	}
	for _, p := range l.Params() {
		clear(p.G)
	}
	if reset != nil {
		reset()
	}
	l.Forward(x, true)
	dx := l.Backward(&Tensor[float64]{Shape: y.Shape, D: append([]float64(nil), r...)})
	dxc := append([]float64(nil), dx.D...)
	grads := map[string][]float64{}
	for _, p := range l.Params() {
		if p.G != nil {
			grads[p.Name] = append([]float64(nil), p.G...)
		}
	}
	const h = 1e-6
	check := func(what string, v []float64, an []float64) {
		worst := 0.0
		for i := range v {
			old := v[i]
			v[i] = old + h
			lp := loss()
			v[i] = old - h
			lm := loss()
			v[i] = old
			worst = math.Max(worst, relErr((lp-lm)/(2*h), an[i]))
		}
		if worst > 1e-5 {
			t.Errorf("%s: %s gradient: worst relative error %.3g", name, what, worst)
		}
	}
	check("input", x.D, dxc)
	for _, p := range l.Params() {
		if p.G != nil {
			check(p.Name, p.W, grads[p.Name])
		}
	}
}

func TestLayerGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := Shape{C: 3, N: 2, H: 7, W: 6}
	conv := func(k, stride, pad int, bias bool) Layer[float64] {
		c := NewConv2D[float64]("c", 3, 4, k, stride, pad, bias, rng)
		if bias {
			for i := range c.B.W {
				c.B.W[i] = rng.NormFloat64()
			}
		}
		return c
	}
	bn := NewBatchNorm[float64]("bn", 3)
	for i := range 3 {
		bn.Gamma.W[i], bn.Beta.W[i] = 1+rng.NormFloat64()*0.3, rng.NormFloat64()
	}
	frozen := NewBatchNorm[float64]("bnf", 3)
	for i := range 3 {
		frozen.Gamma.W[i], frozen.Beta.W[i] = 1+rng.NormFloat64()*0.3, rng.NormFloat64()
		frozen.RunMean.W[i], frozen.RunVar.W[i] = rng.NormFloat64(), 0.5+rng.Float64()
	}
	frozen.Frozen = true
	drop := &Dropout[float64]{P: 0.4}
	cases := []struct {
		name  string
		l     Layer[float64]
		in    Shape
		reset func()
	}{
		{"conv3x3 s1 p1", conv(3, 1, 1, false), s, nil},
		{"conv3x3 s2 p1 bias", conv(3, 2, 1, true), s, nil},
		{"conv2x2 s2 p0", conv(2, 2, 0, false), s, nil},
		{"conv5x5 s1 p2 bias", conv(5, 1, 2, true), s, nil},
		{"batchnorm train", bn, s, nil},
		{"batchnorm frozen", frozen, s, nil},
		{"relu", &ReLU[float64]{}, s, nil},
		{"maxpool 2/2", &Pool2D[float64]{Max: true, K: 2, Stride: 2}, s, nil},
		{"maxpool 3/2", &Pool2D[float64]{Max: true, K: 3, Stride: 2}, s, nil},
		{"avgpool 2/2", &Pool2D[float64]{K: 2, Stride: 2}, s, nil},
		{"avgpool 3/1", &Pool2D[float64]{K: 3, Stride: 1}, s, nil},
		{"global avg pool", &GlobalAvgPool[float64]{}, s, nil},
		{"dropout", drop, s, func() { drop.Rng = rand.New(rand.NewPCG(9, 9)) }},
		{"dense", NewDense[float64]("fc", 5, 3, rng), Shape{C: 5, N: 4, H: 1, W: 1}, nil},
	}
	for _, c := range cases {
		checkLayer(t, c.name, c.l, randTensor(rng, c.in), c.reset)
	}
}

// TestBatchNormInference checks inference mode against the running statistics.
func TestBatchNormInference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	bn := NewBatchNorm[float64]("bn", 2)
	x := randTensor(rng, Shape{C: 2, N: 3, H: 2, W: 2})
	for i := range x.D {
		x.D[i] = 3 + 2*x.D[i]
	}
	bn.Forward(x, true)
	// After one step with momentum 0.1: mean 0.1*μ, var 0.9+0.1*unbiased var.
	m := 12
	for c := range 2 {
		var s, ss float64
		for _, v := range x.D[c*m : (c+1)*m] {
			s += v
		}
		mu := s / float64(m)
		for _, v := range x.D[c*m : (c+1)*m] {
			ss += (v - mu) * (v - mu)
		}
		if math.Abs(bn.RunMean.W[c]-0.1*mu) > 1e-12 || math.Abs(bn.RunVar.W[c]-(0.9+0.1*ss/float64(m-1))) > 1e-12 {
			t.Fatalf("channel %d running stats %v %v", c, bn.RunMean.W[c], bn.RunVar.W[c])
		}
		y := bn.Forward(x, false)
		want := (x.D[c*m] - bn.RunMean.W[c]) / math.Sqrt(bn.RunVar.W[c]+1e-5)
		if math.Abs(y.D[c*m]-want) > 1e-12 {
			t.Fatalf("inference output %v, want %v", y.D[c*m], want)
		}
	}
}

func checkLoss(t *testing.T, name string, f func(z, dz []float64) float64, z []float64) {
	t.Helper()
	dz := make([]float64, len(z))
	f(z, dz)
	scratch := make([]float64, len(z))
	const h = 1e-6
	worst := 0.0
	for i := range z {
		old := z[i]
		z[i] = old + h
		lp := f(z, scratch)
		z[i] = old - h
		lm := f(z, scratch)
		z[i] = old
		worst = math.Max(worst, relErr((lp-lm)/(2*h), dz[i]))
	}
	if worst > 1e-6 {
		t.Errorf("%s: worst relative error %.3g", name, worst)
	}
}

func TestLossGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	k, n := 4, 6
	z := make([]float64, k*n)
	for i := range z {
		z[i] = 2 * rng.NormFloat64()
	}
	labels := []int{0, 1, 2, 3, 0, 3}
	w := []float64{0.5, 2, 1, 4}
	checkLoss(t, "softmax CE", func(z, dz []float64) float64 { return SoftmaxCE(z, k, n, labels, 0, nil, dz) }, z)
	checkLoss(t, "softmax CE smoothing 0.1 + class weights", func(z, dz []float64) float64 { return SoftmaxCE(z, k, n, labels, 0.1, w, dz) }, z)
	checkLoss(t, "summed BCE", func(z, dz []float64) float64 { return SummedBCE(z, k, n, labels, dz) }, z)
	// Known value: uniform logits give log K.
	zero := make([]float64, k*n)
	if l := SoftmaxCE(zero, k, n, labels, 0, nil, make([]float64, k*n)); math.Abs(l-math.Log(4)) > 1e-12 {
		t.Errorf("CE of uniform logits %v, want log 4", l)
	}
}

// TestNetworkGradient checks a whole small network (conv, BN, ReLU, pool,
// GAP, dropout, dense) and the loss end to end.
// The second block has two convolutions (conv → BN → ReLU → conv → BN →
// ReLU).
func TestNetworkGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	spec := Spec{InC: 2, H: 6, W: 6, K: 3, Widths: []int{3, 4}, Convs: []int{1, 2}, Dropout: 0.25}
	q, err := Build[float64](spec, rng)
	if err != nil {
		t.Fatal(err)
	}
	var drop *Dropout[float64]
	for _, l := range q.Layers {
		if d, ok := l.(*Dropout[float64]); ok {
			drop = d
		}
	}
	x := randTensor(rng, Shape{C: 2, N: 4, H: 6, W: 6})
	labels := []int{0, 2, 1, 2}
	loss := func(dz []float64) float64 {
		drop.Rng = rand.New(rand.NewPCG(1, 1))
		z := q.Forward(x, true)
		if dz == nil {
			dz = make([]float64, len(z.D))
		}
		return SoftmaxCE(z.D, 3, 4, labels, 0.1, []float64{1, 2, 0.5}, dz)
	}
	q.ZeroGrad()
	dz := make([]float64, 12)
	loss(dz)
	q.Backward(&Tensor[float64]{Shape: Shape{C: 3, N: 4, H: 1, W: 1}, D: dz})
	const h = 1e-6
	for _, p := range q.Params() {
		if p.G == nil {
			continue
		}
		worst := 0.0
		for i := range p.W {
			old := p.W[i]
			p.W[i] = old + h
			lp := loss(nil)
			p.W[i] = old - h
			lm := loss(nil)
			p.W[i] = old
			worst = math.Max(worst, relErr((lp-lm)/(2*h), p.G[i]))
		}
		if worst > 1e-5 {
			t.Errorf("%s: worst relative error %.3g", p.Name, worst)
		}
	}
}

// TestFloat32MatchesFloat64 runs the same network in float32 (num.Gemm) and
// float64 (reference loops).
func TestFloat32MatchesFloat64(t *testing.T) {
	spec := Spec{InC: 3, H: 12, W: 12, K: 4, Widths: []int{8, 16, 16}}
	q64, _ := Build[float64](spec, rand.New(rand.NewPCG(7, 7)))
	q32, _ := Build[float32](spec, rand.New(rand.NewPCG(7, 7)))
	rng := rand.New(rand.NewPCG(8, 8))
	x64 := randTensor(rng, Shape{C: 3, N: 5, H: 12, W: 12})
	x32 := &Tensor[float32]{Shape: x64.Shape, D: make([]float32, len(x64.D))}
	for i, v := range x64.D {
		x32.D[i] = float32(v)
	}
	for _, train := range []bool{true, false} {
		a, b := q64.Forward(x64, train), q32.Forward(x32, train)
		for i := range a.D {
			if math.Abs(a.D[i]-float64(b.D[i])) > 1e-3*(1+math.Abs(a.D[i])) {
				t.Fatalf("train=%v logit %d: float64 %v, float32 %v", train, i, a.D[i], b.D[i])
			}
		}
	}
}

// TestD4 checks that the 8 symmetries are distinct bijections and that TTA
// logits are invariant to them.
func TestD4(t *testing.T) {
	const s = 5
	seen := map[[s * s]int]bool{}
	for sym := range Symmetries {
		var img [s * s]int
		hit := map[int]bool{}
		for y := range s {
			for x := range s {
				sy, sx := d4(sym, s, y, x)
				img[y*s+x] = sy*s + sx
				hit[sy*s+sx] = true
			}
		}
		if len(hit) != s*s || seen[img] {
			t.Fatalf("symmetry %d is not a new bijection", sym)
		}
		seen[img] = true
	}
	spec := Spec{InC: 3, H: 9, W: 9, K: 3, Widths: []int{4, 4}, TTA: true}
	net, err := New(spec, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	img := make([]uint8, 9*9*3)
	for i := range img {
		img[i] = uint8(rng.IntN(256))
	}
	feat := func(sym int) []float32 {
		c := make([]float32, 9*9*3)
		ToCNHW(img, 9, 9, 3, 9, 9, float32(1), sym, 0, 0, c, 0, 1)
		hwc := make([]float32, len(c))
		for ch := range 3 {
			for p := range 81 {
				hwc[p*3+ch] = c[ch*81+p]
			}
		}
		return hwc
	}
	base := make([]float32, 3)
	net.Logits(feat(0), 1, base)
	for sym := 1; sym < Symmetries; sym++ {
		out := make([]float32, 3)
		net.Logits(feat(sym), 1, out)
		for c := range out {
			if math.Abs(float64(out[c]-base[c])) > 1e-4 {
				t.Fatalf("symmetry %d: TTA logits %v, identity %v", sym, out, base)
			}
		}
	}
}

func TestSpecErrors(t *testing.T) {
	for _, s := range []Spec{
		{InC: 3, H: 69, W: 69, K: 4, Widths: []int{0, 4}},
		{InC: 3, H: 69, W: 69, K: 4},
		{InC: 3, H: 4, W: 4, K: 4, Widths: []int{2, 2, 2, 2}},
		{InC: 3, H: 69, W: 69, K: 1, Widths: []int{2}},
		{InC: 3, H: 69, W: 69, K: 4, Widths: []int{2}, Dropout: 1},
		{InC: 3, H: 69, W: 69, K: 4, Widths: []int{2, 2}, Convs: []int{1}},
		{InC: 3, H: 69, W: 69, K: 4, Widths: []int{2, 2}, Convs: []int{1, 0}},
		{InC: 3, H: 69, W: 69, K: 4, Widths: []int{2, 2}, Convs: []int{9, 1}},
	} {
		if _, err := New(s, rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("spec %+v built", s)
		}
	}
	h := Spec{InC: 3, H: 69, W: 69, K: 4, Widths: Widths, Dropout: 0.3, TTA: true}
	got, err := SpecFromHyper(h.Hyper(), 3, 69, 69, 4)
	if err != nil || got.Dropout != 0.3 || !got.TTA || len(got.Widths) != 4 || got.Widths[2] != 128 {
		t.Fatalf("hyper round trip: %+v %v", got, err)
	}
	if got.Convs != nil {
		t.Errorf("one convolution per block came back as Convs %v", got.Convs)
	}
	h.Convs = []int{1, 1, 2, 3}
	got, err = SpecFromHyper(h.Hyper(), 3, 69, 69, 4)
	if err != nil || !slices.Equal(got.Convs, h.Convs) {
		t.Fatalf("hyper round trip of convs %v: %v, %v", h.Convs, got.Convs, err)
	}
	q, err := Build[float32](h, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range q.Params() {
		if strings.HasSuffix(p.Name, ".conv.weight") || p.Name == "fc.weight" {
			names = append(names, strings.TrimSuffix(p.Name, ".weight"))
		}
	}
	want := []string{"block1.conv", "block2.conv", "block3.conv", "block3.2.conv", "block4.conv", "block4.2.conv", "block4.3.conv", "fc"}
	if !slices.Equal(names, want) {
		t.Errorf("weights %v, want %v", names, want)
	}
}

// TestFusedBatchNormReLU checks that a Seq, which runs batch norm and the
// ReLU after it as one fused pass, gives the values and gradients of the
// two layers run one after the other, in both modes.
func TestFusedBatchNormReLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	bn := NewBatchNorm[float64]("bn", 3)
	for i := range 3 {
		bn.Gamma.W[i], bn.Beta.W[i] = 1+rng.NormFloat64()*0.3, rng.NormFloat64()*0.5
	}
	r := &ReLU[float64]{}
	q := &Seq[float64]{Layers: []Layer[float64]{bn, r}}
	x := randTensor(rng, Shape{C: 3, N: 4, H: 5, W: 5})
	dy := randTensor(rng, x.Shape)
	for _, train := range []bool{true, false} {
		// Unfused reference: the layers' own methods.
		ref := NewBatchNorm[float64]("bn", 3)
		copy(ref.Gamma.W, bn.Gamma.W)
		copy(ref.Beta.W, bn.Beta.W)
		copy(ref.RunMean.W, bn.RunMean.W)
		copy(ref.RunVar.W, bn.RunVar.W)
		rr := &ReLU[float64]{}
		want := rr.Forward(ref.Forward(x, train), train)
		got := q.Forward(x, train)
		for i := range want.D {
			if math.Abs(want.D[i]-got.D[i]) > 1e-12 {
				t.Fatalf("train=%v: output %d: fused %v, unfused %v", train, i, got.D[i], want.D[i])
			}
		}
		if !train {
			continue
		}
		for i := range ref.RunVar.W {
			if math.Abs(ref.RunVar.W[i]-bn.RunVar.W[i]) > 1e-12 || math.Abs(ref.RunMean.W[i]-bn.RunMean.W[i]) > 1e-12 {
				t.Fatalf("running statistics differ: fused %v %v, unfused %v %v", bn.RunMean.W, bn.RunVar.W, ref.RunMean.W, ref.RunVar.W)
			}
		}
		q.ZeroGrad()
		wantDx := ref.Backward(rr.Backward(dy))
		gotDx := q.Backward(dy)
		for i := range wantDx.D {
			if math.Abs(wantDx.D[i]-gotDx.D[i]) > 1e-9 {
				t.Fatalf("input gradient %d: fused %v, unfused %v", i, gotDx.D[i], wantDx.D[i])
			}
		}
		for i := range bn.Gamma.G {
			if math.Abs(bn.Gamma.G[i]-ref.Gamma.G[i]) > 1e-9 || math.Abs(bn.Beta.G[i]-ref.Beta.G[i]) > 1e-9 {
				t.Fatalf("channel %d: fused gamma/beta gradients %v %v, unfused %v %v", i, bn.Gamma.G[i], bn.Beta.G[i], ref.Gamma.G[i], ref.Beta.G[i])
			}
		}
	}
}

// TestFusedBatchNormReLUPool checks the training pass that runs a batch
// norm, ReLU and 2×2 max-pool as one (BatchNorm.forwardPool and its
// backward, which recomputes the ReLU's mask from x) against the three
// layers' own methods, in float64 and float32, on odd sizes (a row and a
// column no window covers) and with a negative and a zero scale: the
// pool's output, its argmax and the running statistics to the bit; the
// gradients to rounding (the unfused batch norm sums in another order).
func TestFusedBatchNormReLUPool(t *testing.T) {
	t.Run("float64", func(t *testing.T) { fusedPoolCase[float64](t, 1e-12) })
	t.Run("float32", func(t *testing.T) { fusedPoolCase[float32](t, 1e-5) })
}

func fusedPoolCase[T Float](t *testing.T, tol float64) {
	rng := rand.New(rand.NewPCG(13, 14))
	const ch = 4
	bn, ref := NewBatchNorm[T]("bn", ch), NewBatchNorm[T]("bn", ch)
	for i := range ch {
		bn.Gamma.W[i], bn.Beta.W[i] = T(1+rng.NormFloat64()*0.3), T(rng.NormFloat64()*0.5)
	}
	bn.Gamma.W[1], bn.Gamma.W[2] = -0.7, 0 // a negative and a zero scale
	copy(ref.Gamma.W, bn.Gamma.W)
	copy(ref.Beta.W, bn.Beta.W)
	p, rp := &Pool2D[T]{Max: true, K: 2, Stride: 2}, &Pool2D[T]{Max: true, K: 2, Stride: 2}
	q := &Seq[T]{Layers: []Layer[T]{bn, &ReLU[T]{}, p}}
	rr := &ReLU[T]{}
	for _, s := range []Shape{{C: ch, N: 3, H: 7, W: 5}, {C: ch, N: 2, H: 8, W: 18}} {
		x := &Tensor[T]{Shape: s, D: make([]T, s.Len())}
		for i := range x.D {
			x.D[i] = T(rng.NormFloat64())
		}
		for i := 0; i < len(x.D); i += 7 {
			x.D[i] = x.D[max(i-1, 0)] // ties in some windows
		}
		got := q.Forward(x, true)
		want := rp.Forward(rr.Forward(ref.Forward(x, true), true), true)
		for i := range want.D {
			if got.D[i] != want.D[i] || p.arg[i] != rp.arg[i] {
				t.Fatalf("%v: output %d: fused %v (at %d), unfused %v (at %d)", s, i, got.D[i], p.arg[i], want.D[i], rp.arg[i])
			}
		}
		for i := range ch {
			if bn.RunMean.W[i] != ref.RunMean.W[i] || bn.RunVar.W[i] != ref.RunVar.W[i] {
				t.Fatalf("%v: running statistics differ: fused %v %v, unfused %v %v", s, bn.RunMean.W, bn.RunVar.W, ref.RunMean.W, ref.RunVar.W)
			}
		}
		dy := &Tensor[T]{Shape: got.Shape, D: make([]T, len(got.D))}
		for i := range dy.D {
			dy.D[i] = T(rng.NormFloat64())
		}
		q.ZeroGrad()
		ref.Gamma.G, ref.Beta.G = make([]T, ch), make([]T, ch)
		gotDx := q.Backward(dy)
		wantDx := ref.Backward(rr.Backward(rp.Backward(dy)))
		scale := 0.0
		for _, v := range wantDx.D {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		for i := range wantDx.D {
			if math.Abs(float64(wantDx.D[i]-gotDx.D[i])) > tol*scale {
				t.Fatalf("%v: input gradient %d: fused %v, unfused %v", s, i, gotDx.D[i], wantDx.D[i])
			}
		}
		for i := range ch {
			if math.Abs(float64(bn.Gamma.G[i]-ref.Gamma.G[i])) > tol*scale*float64(s.Len()) || math.Abs(float64(bn.Beta.G[i]-ref.Beta.G[i])) > tol*scale*float64(s.Len()) {
				t.Fatalf("%v: channel %d: fused gamma/beta gradients %v %v, unfused %v %v", s, i, bn.Gamma.G[i], bn.Beta.G[i], ref.Gamma.G[i], ref.Beta.G[i])
			}
		}
	}
}

// TestFloat32GradientsMatchFloat64 runs a training step's backward pass of
// the same network in float32 (num.Gemm, fused layers) and float64, and
// checks that BackwardParams (which skips the first convolution's input
// gradient) accumulates the same parameter gradients as Backward.
func TestFloat32GradientsMatchFloat64(t *testing.T) {
	spec := Spec{InC: 3, H: 13, W: 13, K: 4, Widths: []int{8, 16, 16}}
	q64, _ := Build[float64](spec, rand.New(rand.NewPCG(7, 7)))
	q32, _ := Build[float32](spec, rand.New(rand.NewPCG(7, 7)))
	rng := rand.New(rand.NewPCG(8, 8))
	x64 := randTensor(rng, Shape{C: 3, N: 6, H: 13, W: 13})
	x32 := &Tensor[float32]{Shape: x64.Shape, D: make([]float32, len(x64.D))}
	for i, v := range x64.D {
		x32.D[i] = float32(v)
	}
	labels := []int{0, 1, 2, 3, 1, 0}
	z64 := q64.Forward(x64, true)
	dz64 := make([]float64, len(z64.D))
	SoftmaxCE(z64.D, 4, 6, labels, 0, nil, dz64)
	q64.ZeroGrad()
	q64.Backward(&Tensor[float64]{Shape: z64.Shape, D: dz64})
	z32 := q32.Forward(x32, true)
	dz32 := make([]float32, len(z32.D))
	SoftmaxCE(z32.D, 4, 6, labels, 0, nil, dz32)
	q32.ZeroGrad()
	q32.BackwardParams(&Tensor[float32]{Shape: z32.Shape, D: dz32})
	p64, p32 := q64.Params(), q32.Params()
	for j, p := range p64 {
		if p.G == nil {
			continue
		}
		scale := 0.0
		for _, g := range p.G {
			scale = math.Max(scale, math.Abs(g))
		}
		for i, g := range p.G {
			if math.Abs(g-float64(p32[j].G[i])) > 1e-3*scale+1e-6 {
				t.Fatalf("%s[%d]: float64 gradient %v, float32 %v", p.Name, i, g, p32[j].G[i])
			}
		}
	}
}

// TestMaxPool2 checks the 2×2 stride-2 max pool against a direct loop,
// ties included (the first maximum in row-major order wins).
func TestMaxPool2(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, hw := range [][2]int{{2, 2}, {5, 7}, {8, 6}, {69, 69}} {
		h, w := hw[0], hw[1]
		src := make([]float32, h*w)
		for i := range src {
			src[i] = float32(rng.IntN(4)) // many ties
		}
		oh, ow := h/2, w/2
		dst, arg := make([]float32, oh*ow), make([]int32, oh*ow)
		maxPool2(dst, arg, src, w, oh, ow)
		for oy := range oh {
			for ox := range ow {
				best, bi := src[2*oy*w+2*ox], 2*oy*w+2*ox
				for _, o := range []int{1, w, w + 1} {
					if v := src[2*oy*w+2*ox+o]; v > best {
						best, bi = v, 2*oy*w+2*ox+o
					}
				}
				if dst[oy*ow+ox] != best || int(arg[oy*ow+ox]) != bi {
					t.Fatalf("%dx%d (%d,%d): got %v at %d, want %v at %d", h, w, oy, ox, dst[oy*ow+ox], arg[oy*ow+ox], best, bi)
				}
			}
		}
		// Its backward pass writes every element (d starts as NaN) with
		// the bits of clearing and scattering.
		g := make([]float32, oh*ow)
		for i := range g {
			g[i] = float32(rng.NormFloat64())
		}
		g[0] = float32(math.Copysign(0, -1))
		d, want := make([]float32, h*w), make([]float32, h*w)
		for i := range d {
			d[i] = float32(math.NaN())
		}
		for j, a := range arg {
			want[a] += g[j]
		}
		maxUnpool2(d, arg, g, h, w, oh, ow)
		for i := range d {
			if math.Float32bits(d[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%dx%d: unpool element %d is %v, want %v", h, w, i, d[i], want[i])
			}
		}
	}
}

func TestClassWeightsPow(t *testing.T) {
	counts := []int{90, 10, 0}
	for _, c := range []struct {
		pow  float64
		want []float64
	}{
		{1, []float64{100.0 / 180, 100.0 / 20, 0}},
		{0, []float64{1, 1, 0}},
		// ∝ 1/sqrt(count), weighted mean 1: a = 100 / (90/sqrt(90) + 10/sqrt(10)).
		{0.5, []float64{100 / (math.Sqrt(90) + math.Sqrt(10)) / math.Sqrt(90), 100 / (math.Sqrt(90) + math.Sqrt(10)) / math.Sqrt(10), 0}},
	} {
		got := ClassWeightsPow(counts, c.pow)
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-12 {
				t.Errorf("pow %v: weights %v, want %v", c.pow, got, c.want)
				break
			}
		}
	}
}

// TestScaleLogits: scaling the logits through the last layer multiplies
// every logit (with TTA, after the average) by the factor.
func TestScaleLogits(t *testing.T) {
	net, err := New(Spec{InC: 2, H: 7, W: 7, K: 3, Widths: []int{3, 4}, Dropout: 0.2, TTA: true}, rand.New(rand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 2*7*7*2)
	for i := range x {
		x[i] = float32(i%13) / 13
	}
	before, after := make([]float32, 6), make([]float32, 6)
	net.Logits(x, 2, before)
	if err := net.ScaleLogits(0.25); err != nil {
		t.Fatal(err)
	}
	net.Logits(x, 2, after)
	for i := range before {
		if d := math.Abs(float64(after[i]) - 0.25*float64(before[i])); d > 1e-6*(1+math.Abs(float64(before[i]))) {
			t.Errorf("logit %d: %v after scaling by 1/4, %v before", i, after[i], before[i])
		}
	}
}

// TestEmbedFeedsTheHead checks Embed against Logits: the logits are the
// dense layer applied to the embedding (with TTA too: the dense layer is
// linear, so the mean of the logits is the dense layer of the mean
// features), so Embed returns exactly what the head classifies from.
func TestEmbedFeedsTheHead(t *testing.T) {
	for _, tta := range []bool{false, true} {
		net, err := New(Spec{InC: 3, H: 11, W: 11, K: 3, Widths: []int{4, 6}, Dropout: 0.2, TTA: tta}, rand.New(rand.NewPCG(4, 5)))
		if err != nil {
			t.Fatal(err)
		}
		const b = 5
		x := make([]float32, b*11*11*3)
		rng := rand.New(rand.NewPCG(6, 7))
		for i := range x {
			x[i] = rng.Float32()
		}
		d := net.EmbedDim()
		emb, z := make([]float32, b*d), make([]float32, b*3)
		net.Embed(x, b, emb)
		net.Logits(x, b, z)
		fc := net.Seq.Layers[len(net.Seq.Layers)-1].(*Dense[float32])
		for i := range b {
			for c := range 3 {
				want := float64(fc.B.W[c])
				for j := range d {
					want += float64(fc.Wt.W[c*d+j]) * float64(emb[i*d+j])
				}
				if got := float64(z[i*3+c]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("tta %v: image %d class %d: logit %v, dense layer of the embedding %v", tta, i, c, got, want)
				}
			}
		}
	}
}

// TestLogitsBatchIndependent: an image's logits (with TTA) agree whatever
// batch it is scored in, to float32 rounding (the SIMD GEMM gives the same
// bits for batches of 2 or more; the portable one and a lone image's vector
// path can differ in the last bit), so evaluation may choose its batch for
// memory (model.BatchLogits).
func TestLogitsBatchIndependent(t *testing.T) {
	net, err := New(Spec{InC: 3, H: 13, W: 13, K: 4, Widths: []int{5, 7, 6}, TTA: true}, rand.New(rand.NewPCG(8, 1)))
	if err != nil {
		t.Fatal(err)
	}
	const n, dim = 37, 13 * 13 * 3
	x := make([]float32, n*dim)
	rng := rand.New(rand.NewPCG(2, 2))
	for i := range x {
		x[i] = rng.Float32()
	}
	all := make([]float32, n*4)
	net.Logits(x, n, all)
	for _, bs := range []int{1, 2, 5, 16, 36} {
		got := make([]float32, n*4)
		for lo := 0; lo < n; lo += bs {
			hi := min(n, lo+bs)
			net.Logits(x[lo*dim:hi*dim], hi-lo, got[lo*4:hi*4])
		}
		for i := range all {
			if d := math.Abs(float64(got[i] - all[i])); d > 1e-6*(1+math.Abs(float64(all[i]))) {
				t.Fatalf("batch %d: logit %d is %v, %v in one batch of %d", bs, i, got[i], all[i], n)
			}
		}
	}
}

// TestReleaseTraining: after ReleaseTraining a network classifies as before
// and trains again with the same gradients.
func TestReleaseTraining(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	spec := Spec{InC: 2, H: 6, W: 6, K: 3, Widths: []int{3, 4}, Convs: []int{1, 2}}
	q, err := Build[float64](spec, rng)
	if err != nil {
		t.Fatal(err)
	}
	x := randTensor(rng, Shape{C: 2, N: 4, H: 6, W: 6})
	grads := func() [][]float64 {
		q.ZeroGrad()
		z := q.Forward(x, true)
		dz := make([]float64, len(z.D))
		SoftmaxCE(z.D, 3, 4, []int{0, 2, 1, 2}, 0, nil, dz)
		q.Backward(&Tensor[float64]{Shape: Shape{C: 3, N: 4, H: 1, W: 1}, D: dz})
		var g [][]float64
		for _, p := range q.Params() {
			g = append(g, slices.Clone(p.G))
		}
		return g
	}
	before := grads()
	eval := slices.Clone(q.Forward(x, false).D)
	q.ReleaseTraining()
	for _, l := range q.Layers {
		if c, ok := l.(*Conv2D[float64]); ok && (c.dcol != nil || c.dx != nil) {
			t.Fatal("a convolution kept its backward buffers")
		}
	}
	if got := q.Forward(x, false).D; !slices.Equal(got, eval) {
		t.Errorf("released: logits %v, before %v", got, eval)
	}
	after := grads()
	for i := range before {
		if !slices.Equal(before[i], after[i]) {
			t.Errorf("param %d: gradients differ after ReleaseTraining", i)
		}
	}
}

// TestFrozenNorm: a frozen batch normalisation trains as it classifies
// (running statistics, left unchanged), also fused with the ReLU after it.
func TestFrozenNorm(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 1))
	q, err := Build[float64](Spec{InC: 2, H: 6, W: 6, K: 3, Widths: []int{3, 4}}, rng)
	if err != nil {
		t.Fatal(err)
	}
	x := randTensor(rng, Shape{C: 2, N: 5, H: 6, W: 6})
	for i := 0; i < 3; i++ { // running statistics away from their start
		q.Forward(x, true)
	}
	q.FreezeNorms(func(name string) bool { return true })
	var stats []float64
	for _, p := range q.Params() {
		if p.G == nil {
			stats = append(stats, p.W...)
		}
	}
	want := slices.Clone(q.Forward(x, false).D)
	got := q.Forward(x, true).D
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("frozen, training output %d is %v, inference %v", i, got[i], want[i])
		}
	}
	var after []float64
	for _, p := range q.Params() {
		if p.G == nil {
			after = append(after, p.W...)
		}
	}
	if !slices.Equal(stats, after) {
		t.Error("a frozen norm changed its running statistics")
	}
}

// TestPoolFirst checks that inference through batch norm, ReLU and a 2×2
// max-pool, which a Seq runs pooling first, gives the bits of the three
// layers one after the other: float32, gammas of both signs and zero, odd
// sizes, ties, ±0, infinities and NaN in the input.
func TestPoolFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for _, s := range []Shape{{C: 5, N: 3, H: 7, W: 9}, {C: 4, N: 2, H: 8, W: 8}, {C: 3, N: 1, H: 2, W: 3}, {C: 6, N: 2, H: 35, W: 37}} {
		bn := NewBatchNorm[float32]("bn", s.C)
		for c := range s.C {
			bn.Gamma.W[c], bn.Beta.W[c] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			bn.RunMean.W[c], bn.RunVar.W[c] = float32(rng.NormFloat64()), float32(0.1+rng.Float64())
		}
		bn.Gamma.W[0] = 0
		if s.C > 3 {
			bn.Gamma.W[1] = float32(math.Copysign(0, -1))
			bn.Beta.W[2] = 0
		}
		x := &Tensor[float32]{Shape: s, D: make([]float32, s.Len())}
		for i := range x.D {
			switch rng.IntN(10) {
			case 0:
				x.D[i] = specials[rng.IntN(len(specials))]
			case 1, 2:
				x.D[i] = float32(rng.IntN(3)) // ties
			default:
				x.D[i] = float32(rng.NormFloat64())
			}
		}
		pool := &Pool2D[float32]{Max: true, K: 2, Stride: 2}
		got := (&Seq[float32]{Layers: []Layer[float32]{bn, &ReLU[float32]{}, pool}}).Forward(x, false)
		ref := &Pool2D[float32]{Max: true, K: 2, Stride: 2}
		want := ref.Forward((&ReLU[float32]{}).Forward(bn.Forward(x, false), false), false)
		if got.Shape != want.Shape {
			t.Fatalf("%v: shape %v, want %v", s, got.Shape, want.Shape)
		}
		for i := range want.D {
			if !(got.D[i] != got.D[i] && want.D[i] != want.D[i]) && math.Float32bits(got.D[i]) != math.Float32bits(want.D[i]) {
				t.Fatalf("%v: output %d is %v, want %v", s, i, got.D[i], want.D[i])
			}
		}
	}
}

// TestConvGather checks that a float32 convolution in inference, which
// gathers its im2col panels straight from the input (num.GemmFunc), gives
// the bits of the training path, which writes the im2col matrix, for
// several kernels, strides, paddings and sizes, small and large.
func TestConvGather(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, c := range []struct{ cin, cout, k, stride, pad, n, h, w int }{
		{3, 32, 3, 1, 1, 4, 23, 23}, {32, 64, 3, 1, 1, 3, 17, 17}, {5, 7, 3, 2, 1, 2, 9, 11},
		{4, 6, 2, 2, 0, 2, 8, 8}, {3, 8, 5, 1, 2, 1, 7, 6}, {2, 3, 3, 1, 1, 1, 3, 3}, {8, 128, 3, 1, 1, 64, 8, 8},
	} {
		conv := NewConv2D[float32]("c", c.cin, c.cout, c.k, c.stride, c.pad, false, rng)
		x := randTensor32(rng, Shape{C: c.cin, N: c.n, H: c.h, W: c.w})
		want := slices.Clone(conv.Forward(x, true).D)
		got := conv.Forward(x, false).D
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v: output %d is %v in inference, %v in training", c, i, got[i], want[i])
			}
		}
	}
}

// TestConvBackwardChunks checks that the input gradient a float32
// convolution computes in chunks of images (Backward) has the bits of the
// whole batch at once.
func TestConvBackwardChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, c := range []struct{ cin, cout, n, h int }{{32, 64, 5, 34}, {64, 128, 9, 17}, {8, 16, 3, 128}} {
		conv := NewConv2D[float32]("c", c.cin, c.cout, 3, 1, 1, false, rng)
		x := randTensor32(rng, Shape{C: c.cin, N: c.n, H: c.h, W: c.h})
		y := conv.Forward(x, true)
		dy := randTensor32(rng, y.Shape)
		got := slices.Clone(conv.Backward(dy).D)
		cols := y.N * y.H * y.W
		if col2imChunk(c.n, c.cin*9, y.H*y.W) == c.n {
			t.Fatalf("%+v: one chunk; the test needs several", c)
		}
		conv.dcol = make([]float32, c.cin*9*cols)
		clear(conv.dx.D)
		conv.col2im(dy, 0, c.n, cols)
		for i, v := range conv.dx.D {
			if math.Float32bits(v) != math.Float32bits(got[i]) {
				t.Fatalf("%+v: dx[%d] is %v in chunks, %v at once", c, i, got[i], v)
			}
		}
	}
}

// TestCol2imReference checks a float32 convolution's input gradient bit for
// bit against col2im written out element by element (rows in order), for
// "same" convolutions (one shifted run per row and image) and others.
func TestCol2imReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	for _, c := range []struct{ cin, cout, k, stride, pad, n, h, w int }{
		{32, 64, 3, 1, 1, 3, 17, 17}, {3, 5, 3, 1, 1, 2, 7, 9}, {4, 6, 5, 1, 2, 2, 9, 6}, {5, 7, 3, 2, 1, 2, 9, 11}, {2, 3, 3, 1, 1, 1, 1, 2},
	} {
		conv := NewConv2D[float32]("c", c.cin, c.cout, c.k, c.stride, c.pad, false, rng)
		x := randTensor32(rng, Shape{C: c.cin, N: c.n, H: c.h, W: c.w})
		y := conv.Forward(x, true)
		dy := randTensor32(rng, y.Shape)
		got := conv.Backward(dy).D
		kk, cols := c.cin*c.k*c.k, y.N*y.H*y.W
		dcol := make([]float32, kk*cols)
		gemm(true, false, kk, cols, c.cout, 1, conv.Wt.W, kk, dy.D, cols, 0, dcol, cols)
		want := make([]float32, len(x.D))
		for r := range kk {
			ci, ky, kx := r/(c.k*c.k), r/c.k%c.k, r%c.k
			for n := range y.N {
				for oy := range y.H {
					for ox := range y.W {
						iy, ix := oy*c.stride-c.pad+ky, ox*c.stride-c.pad+kx
						if iy >= 0 && iy < c.h && ix >= 0 && ix < c.w {
							want[((ci*c.n+n)*c.h+iy)*c.w+ix] += dcol[r*cols+(n*y.H+oy)*y.W+ox]
						}
					}
				}
			}
		}
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v: dx[%d] is %v, the element-by-element col2im gives %v", c, i, got[i], want[i])
			}
		}
	}
}

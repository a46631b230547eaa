package seed

import (
	"galaxy/num"
	"math"
	"math/rand/v2"
	"testing"
)

func randomParams64(rng *rand.Rand, n, d, k int) *Params[float64] {
	p := NewParams[float64](n, d, k)
	p.Init(rng)
	// Larger second-layer weights than the initialisation, so every
	// gradient block is far from zero.
	for i := range p.W2 {
		p.W2[i] = rng.NormFloat64()
	}
	return p
}

// TestGradFiniteDifferences checks the hand-derived gradient of every
// parameter block against central finite differences in float64.
func TestGradFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, sz := range []struct{ n, d, k int }{{1, 1, 1}, {5, 3, 2}, {17, 8, 5}, {40, 10, 4}} {
		p := randomParams64(rng, sz.n, sz.d, sz.k)
		v := make([]float64, sz.n)
		for i := range v {
			v[i] = rng.Float64()
		}
		y := rng.IntN(sz.k)
		g := NewParams[float64](sz.n, sz.d, sz.k)
		p.Grad(v, y, g)
		names, blocks := p.Blocks()
		_, gblocks := g.Blocks()
		const h = 1e-5
		for b, blk := range blocks {
			worst := 0.0
			for i := range blk {
				old := blk[i]
				blk[i] = old + h
				lp := p.Loss(v, y)
				blk[i] = old - h
				lm := p.Loss(v, y)
				blk[i] = old
				fd := (lp - lm) / (2 * h)
				an := gblocks[b][i]
				rel := math.Abs(fd-an) / math.Max(math.Abs(fd)+math.Abs(an), 1e-8)
				if math.Abs(fd-an) < 1e-10 {
					rel = 0
				}
				worst = math.Max(worst, rel)
			}
			if worst > 1e-6 {
				t.Errorf("n=%d d=%d k=%d block %s: worst relative error %.3g > 1e-6", sz.n, sz.d, sz.k, names[b], worst)
			}
		}
	}
}

// TestBCEStable checks the loss from logits: saturated outputs give finite
// values equal to the textbook formula where that is computable.
func TestBCEStable(t *testing.T) {
	for _, c := range []struct{ z, y, want float64 }{
		{0, 1, math.Log(2)}, {0, 0, math.Log(2)},
		{2, 1, -math.Log(1 / (1 + math.Exp(-2)))},
		{-3, 0, -math.Log(1 - 1/(1+math.Exp(3)))},
		{1000, 1, 0}, {-1000, 0, 0}, {1000, 0, 1000}, {-1000, 1, 1000},
	} {
		got := num.BCE(c.z, c.y)
		if math.IsNaN(got) || math.IsInf(got, 0) || math.Abs(got-c.want) > 1e-12*math.Max(1, c.want) {
			t.Errorf("BCE(%v, %v) = %v, want %v", c.z, c.y, got, c.want)
		}
		if g32 := num.BCE(float32(c.z), float32(c.y)); math.IsNaN(float64(g32)) || math.IsInf(float64(g32), 0) {
			t.Errorf("BCE32(%v, %v) = %v", c.z, c.y, g32)
		}
	}
	if s := num.Sigmoid(-1000.0); s != 0 || math.IsNaN(s) {
		t.Errorf("Sigmoid(-1000) = %v", s)
	}
}

// TestInit checks the assignment's initialisation: b1 in [0,1), weights
// with standard deviation 0.1.
func TestInit(t *testing.T) {
	p := NewParams[float64](200, 50, 5)
	p.Init(rand.New(rand.NewPCG(1, 1)))
	for _, b := range p.B1 {
		if b < 0 || b >= 1 {
			t.Fatalf("b1 value %v outside [0,1)", b)
		}
	}
	var s, s2 float64
	for _, w := range p.W1 {
		s += w
		s2 += w * w
	}
	n := float64(len(p.W1))
	if sd := math.Sqrt(s2/n - (s/n)*(s/n)); math.Abs(sd-0.1) > 0.005 {
		t.Errorf("W1 standard deviation %v, want 0.1", sd)
	}
}

// TestStepMatchesReference runs the fast float32 path (with its deferred W1
// update) and the plain float64 algorithm side by side for many steps.
func TestStepMatchesReference(t *testing.T) {
	const n, d, k, steps = 300, 20, 5, 200
	const lr = 0.01
	rng := rand.New(rand.NewPCG(3, 3))
	ref := NewParams[float64](n, d, k)
	ref.Init(rng)
	p32 := NewParams[float32](n, d, k)
	for b, blk := range [][]float64{ref.W1, ref.B1, ref.W2, ref.B2} {
		dst := [][]float32{p32.W1, p32.B1, p32.W2, p32.B2}[b]
		for i, v := range blk {
			dst[i] = float32(v)
		}
	}
	net, err := FromParams(p32)
	if err != nil {
		t.Fatal(err)
	}
	imgs := make([][]float32, 10)
	for i := range imgs {
		imgs[i] = make([]float32, n)
		for j := range imgs[i] {
			imgs[i][j] = float32(rng.IntN(256)) / 256
		}
	}
	for s := 0; s < steps; s++ {
		i, y := rng.IntN(len(imgs)), rng.IntN(k)
		v64 := make([]float64, n)
		for j, x := range imgs[i] {
			v64[j] = float64(x)
		}
		g := NewParams[float64](n, d, k)
		lref := ref.Grad(v64, y, g)
		_, blocks := ref.Blocks()
		_, gb := g.Blocks()
		for b := range blocks {
			for j := range blocks[b] {
				blocks[b][j] -= lr * gb[b][j]
			}
		}
		l32 := net.Step(imgs[i], y, lr)
		if math.Abs(float64(l32)-lref) > 1e-4*math.Max(1, lref) {
			t.Fatalf("step %d: loss %v, reference %v", s, l32, lref)
		}
	}
	got := net.Params()
	_, want := ref.Blocks()
	_, have := got.Blocks()
	for b := range want {
		for j := range want[b] {
			if math.Abs(float64(have[b][j])-want[b][j]) > 1e-4 {
				t.Fatalf("after %d steps block %d element %d: %v, reference %v", steps, b, j, have[b][j], want[b][j])
			}
		}
	}
	// Logits of the batched path agree with the reference forward pass.
	x := make([]float32, 3*n)
	for r := 0; r < 3; r++ {
		copy(x[r*n:], imgs[r])
	}
	z := make([]float32, 3*k)
	net.Logits(x, 3, z)
	h, zr := make([]float64, d), make([]float64, k)
	for r := 0; r < 3; r++ {
		v64 := make([]float64, n)
		for j, v := range imgs[r] {
			v64[j] = float64(v)
		}
		ref.Forward(v64, h, zr)
		for c := 0; c < k; c++ {
			if math.Abs(float64(z[r*k+c])-zr[c]) > 1e-4 {
				t.Errorf("image %d class %d: logit %v, reference %v", r, c, z[r*k+c], zr[c])
			}
		}
	}
}

func TestNewRejectsBadSizes(t *testing.T) {
	for _, s := range [][3]int{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}, {-1, 5, 5}} {
		if _, err := New(s[0], s[1], s[2], rand.New(rand.NewPCG(1, 1))); err == nil {
			t.Errorf("New(%v) succeeded", s)
		}
	}
}

// TestBatchModesAgree: the vectorised batch gradient equals the per-image
// loop's to float32 rounding, and both equal the float64 reference.
func TestBatchModesAgree(t *testing.T) {
	const n, d, k = 257, 13, 5
	rng := rand.New(rand.NewPCG(9, 9))
	for _, b := range []int{1, 2, 7, 10, 33} {
		net, _ := New(n, d, k, rng)
		x := make([]float32, b*n)
		for i := range x {
			x[i] = float32(rng.IntN(256)) / 256
		}
		ys := make([]int, b)
		for i := range ys {
			ys[i] = rng.IntN(k)
		}
		gv, gl := NewParams[float32](n, d, k), NewParams[float32](n, d, k)
		lv := net.BatchGrad(x, ys, Vector, gv)
		ll := net.BatchGrad(x, ys, Loop, gl)
		// float64 reference: mean of per-image gradients.
		p := net.Params()
		ref := NewParams[float64](n, d, k)
		_, rb := ref.Blocks()
		_, pb := p.Blocks()
		for i := range rb {
			for j := range rb[i] {
				rb[i][j] = float64(pb[i][j])
			}
		}
		g64 := NewParams[float64](n, d, k)
		var l64 float64
		for r := 0; r < b; r++ {
			v := make([]float64, n)
			for j := range v {
				v[j] = float64(x[r*n+j])
			}
			l64 += ref.Grad(v, ys[r], g64)
		}
		l64 /= float64(b)
		if math.Abs(float64(lv)-l64) > 1e-5*l64 || math.Abs(float64(ll)-l64) > 1e-5*l64 {
			t.Errorf("b=%d: losses vector %v loop %v reference %v", b, lv, ll, l64)
		}
		names, vb := gv.Blocks()
		_, lb := gl.Blocks()
		_, r64 := g64.Blocks()
		for i := range vb {
			scale := 0.0
			for j := range r64[i] {
				scale = math.Max(scale, math.Abs(r64[i][j]/float64(b)))
			}
			for j := range vb[i] {
				want := r64[i][j] / float64(b)
				if math.Abs(float64(vb[i][j])-float64(lb[i][j])) > 1e-5*scale+1e-7 ||
					math.Abs(float64(vb[i][j])-want) > 1e-5*scale+1e-7 {
					t.Fatalf("b=%d %s[%d]: vector %v loop %v reference %v", b, names[i], j, vb[i][j], lb[i][j], want)
				}
			}
		}
	}
}

// TestStepBatchMovesAlongGradient: a vector step equals params - lr·grad.
func TestStepBatchMovesAlongGradient(t *testing.T) {
	const n, d, k, b = 50, 7, 3, 6
	rng := rand.New(rand.NewPCG(4, 4))
	for _, mode := range []Mode{Vector, Loop} {
		net, _ := New(n, d, k, rng)
		x := make([]float32, b*n)
		for i := range x {
			x[i] = rng.Float32()
		}
		ys := []int{0, 1, 2, 0, 1, 2}
		g := NewParams[float32](n, d, k)
		net.BatchGrad(x, ys, Vector, g)
		before := NewParams[float32](n, d, k)
		_, bb := before.Blocks()
		_, pb := net.Params().Blocks()
		for i := range bb {
			copy(bb[i], pb[i])
		}
		net.StepBatch(x, ys, 0.5, mode)
		_, after := net.Params().Blocks()
		_, gb := g.Blocks()
		for i := range bb {
			for j := range bb[i] {
				want := bb[i][j] - 0.5*gb[i][j]
				if math.Abs(float64(after[i][j]-want)) > 1e-5 {
					t.Fatalf("%v block %d[%d]: %v, want %v", mode, i, j, after[i][j], want)
				}
			}
		}
	}
}

// TestEmbedFeedsTheHead checks Embed against Logits: the logits are the
// output layer applied to the hidden activations Embed returns, and each is
// tanh of the first layer, computed here in float64.
func TestEmbedFeedsTheHead(t *testing.T) {
	const n, d, k, b = 13, 7, 3, 4
	net, err := New(n, d, k, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, b*n)
	for i := range x {
		x[i] = float32(i%11) / 11
	}
	emb, z := make([]float32, b*d), make([]float32, b*k)
	net.Embed(x, b, emb)
	net.Logits(x, b, z)
	p := net.Params()
	for i := range b {
		for j := range d {
			u := float64(p.B1[j])
			for q := range n {
				u += float64(p.W1[j*n+q]) * float64(x[i*n+q])
			}
			if math.Abs(math.Tanh(u)-float64(emb[i*d+j])) > 1e-5 {
				t.Fatalf("image %d unit %d: embedding %v, tanh of the first layer %v", i, j, emb[i*d+j], math.Tanh(u))
			}
		}
		for c := range k {
			want := float64(p.B2[c])
			for j := range d {
				want += float64(p.W2[c*d+j]) * float64(emb[i*d+j])
			}
			if math.Abs(want-float64(z[i*k+c])) > 1e-5 {
				t.Fatalf("image %d class %d: logit %v, output layer of the embedding %v", i, c, z[i*k+c], want)
			}
		}
	}
}

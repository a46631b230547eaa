package seed

import (
	"fmt"
	"math"
	"math/rand/v2"

	"galaxy/num"
)

// Net is the float32 fast path of the network, for training and inference.
//
// One SGD step at batch 1 touches W1 (d x n, 1.9 MB at n = 4761, d = 100)
// twice: once to compute W1·v, once to subtract lr·(dL/du)·vᵀ. Net defers the
// second pass of step t into the first pass of step t+1 (num.AxpyDot updates a
// row and takes its product with the next image while the row is in cache),
// so each step reads and writes W1 once. The pending update is applied before
// anyone else sees the weights: Params, Predict and Save all flush it. The
// result is the same arithmetic as the plain algorithm, step for step.
type Net struct {
	p Params[float32]

	// Scratch for one step.
	h, z, dz, du []float32
	// The deferred rank-1 update of W1: W1 += coef ⊗ pv.
	coef    []float32
	pv      []float32
	pending bool

	// Optional team that shares the rows of W1 in Step; cur is the image
	// of the step in progress, rows the method value the team runs.
	team *num.Team
	cur  []float32
	rows func(lo, hi int)

	bs batchScratch // mini-batch scratch (batch.go)
}

// New returns a network for n inputs, d hidden units and k classes,
// initialised as the assignment does from rng.
func New(n, d, k int, rng *rand.Rand) (*Net, error) {
	if n < 1 || d < 1 || k < 1 {
		return nil, fmt.Errorf("seed network: sizes n=%d, hidden=%d, classes=%d must be positive", n, d, k)
	}
	p := NewParams[float32](n, d, k)
	p.Init(rng)
	return FromParams(p)
}

// FromParams wraps existing parameters (the Net owns them afterwards).
func FromParams(p *Params[float32]) (*Net, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	d, k := p.D, p.K
	m := &Net{p: *p, h: make([]float32, d), z: make([]float32, k), dz: make([]float32, k),
		du: make([]float32, d), coef: make([]float32, d)}
	m.rows = m.hiddenRows
	return m, nil
}

// SetTeam lets Step share the rows of W1 among the members of t (nil: the
// calling goroutine alone). Results are the same either way: each row is
// computed whole by one member, with the same operations.
func (m *Net) SetTeam(t *num.Team) { m.team = t }

// Params returns the network's parameters with every update applied. The
// slices are the network's own: read them, do not keep them across steps.
func (m *Net) Params() *Params[float32] {
	m.flush()
	return &m.p
}

// Sizes returns n, d and k.
func (m *Net) Sizes() (n, d, k int) { return m.p.N, m.p.D, m.p.K }

func (m *Net) flush() {
	if !m.pending {
		return
	}
	n := m.p.N
	for i, c := range m.coef {
		num.Axpy(c, m.pv, m.p.W1[i*n:(i+1)*n])
	}
	m.pending = false
}

// Step does one step of stochastic gradient descent on image v (length n,
// already scaled) of class y with learning rate lr, and returns the loss
// before the step. v must stay unchanged until the next call (the deferred
// update of W1 reads it).
func (m *Net) Step(v []float32, y int, lr float32) float32 {
	p := &m.p
	// Forward, hidden layer: u = W1 v + b1, h = tanh(u), applying the
	// previous step's W1 update on the way.
	m.cur = v
	if m.team != nil {
		m.team.For(p.D, rowChunk, m.rows)
	} else {
		m.hiddenRows(0, p.D)
	}
	m.pending = false
	loss := m.outputStep(y, lr)
	// dL/dW1 = du vᵀ: deferred to the next forward pass (or flush).
	for i, g := range m.du {
		m.coef[i] = -lr * g
		p.B1[i] -= lr * g
	}
	m.pv = v
	m.pending = true
	return loss
}

// rowChunk is how many rows of W1 a team member takes at a time.
const rowChunk = 10

// hiddenRows computes hidden units [lo, hi) of the step in progress.
func (m *Net) hiddenRows(lo, hi int) {
	p := &m.p
	n := p.N
	v := m.cur
	for i := lo; i < hi; i++ {
		row := p.W1[i*n : (i+1)*n]
		var u float32
		if m.pending {
			u = num.AxpyDot(m.coef[i], m.pv, row, v)
		} else {
			u = num.Dot(row, v)
		}
		m.h[i] = float32(math.Tanh(float64(u + p.B1[i])))
	}
}

// outputStep finishes a step from m.h: output layer, loss, dz, du, and the
// updates of W2 and b2. It leaves dL/du in m.du.
func (m *Net) outputStep(y int, lr float32) float32 {
	p := &m.p
	d := p.D
	var loss float32
	for c := 0; c < p.K; c++ {
		z := num.Dot(p.W2[c*d:(c+1)*d], m.h) + p.B2[c]
		t := target[float32](c, y)
		loss += num.BCE(z, t)
		m.dz[c] = num.Sigmoid(z) - t
	}
	// du = (W2ᵀ dz) ⊙ (1 - h²), with W2 before its update.
	clear(m.du)
	for c, g := range m.dz {
		num.Axpy(g, p.W2[c*d:(c+1)*d], m.du)
	}
	for i, h := range m.h {
		m.du[i] *= 1 - h*h
	}
	for c, g := range m.dz {
		num.Axpy(-lr*g, m.h, p.W2[c*d:(c+1)*d])
		p.B2[c] -= lr * g
	}
	return loss
}

// Logits computes the output logits z = W2 tanh(W1 v + b1) + b2 for each of
// the b images in x (b x n, row-major) into out (b x k), as two matrix
// products over the whole batch.
func (m *Net) Logits(x []float32, b int, out []float32) {
	m.flush()
	p := &m.p
	n, d, k := p.N, p.D, p.K
	if len(x) < b*n || len(out) < b*k {
		panic(fmt.Sprintf("seed.Logits: %d images need x of %d and out of %d values", b, b*n, b*k))
	}
	hid := make([]float32, b*d)
	// U = X W1ᵀ (b x d), H = tanh(U + b1), Z = H W2ᵀ + b2.
	num.Gemm(false, true, b, d, n, 1, x, n, p.W1, n, 0, hid, d)
	hiddenTanh(hid, p.B1, b)
	num.Gemm(false, true, b, k, d, 1, hid, d, p.W2, d, 0, out, k)
	for r := 0; r < b; r++ {
		o := out[r*k : (r+1)*k]
		for c := range o {
			o[c] += p.B2[c]
		}
	}
}

// EmbedDim implements model.Embedder: the hidden units.
func (m *Net) EmbedDim() int { return m.p.D }

// Embed implements model.Embedder: the hidden layer's activations
// tanh(W1 v + b1) of b images (b x d into out).
func (m *Net) Embed(x []float32, b int, out []float32) {
	m.flush()
	p := &m.p
	num.Gemm(false, true, b, p.D, p.N, 1, x, p.N, p.W1, p.N, 0, out[:b*p.D], p.D)
	hiddenTanh(out[:b*p.D], p.B1, b)
}

// tanhGrain is the number of rows below which hiddenTanh stays on one core
// (a tanh costs tens of nanoseconds; starting a goroutine, tens of microseconds).
const tanhGrain = 256

// hiddenTanh sets each of the b rows h of hid (b x len(b1)) to tanh(h + b1),
// rows spread over the cores for large batches. Each value is computed the
// same way whichever goroutine does it.
func hiddenTanh(hid, b1 []float32, b int) {
	d := len(b1)
	num.Parallel(b, tanhGrain, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			h := hid[r*d : (r+1)*d]
			for i := range h {
				h[i] = float32(math.Tanh(float64(h[i] + b1[i])))
			}
		}
	})
}

// Scores computes the class scores a = σ(z) for b images (see Logits).
func (m *Net) Scores(x []float32, b int, out []float32) {
	m.Logits(x, b, out)
	for i, z := range out[:b*m.p.K] {
		out[i] = num.Sigmoid(z)
	}
}

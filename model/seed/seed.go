// Package seed is the course assignment's network, exactly as it defines it:
//
//	v_out = sigmoid(W2 · tanh(W1 · v + b1) + b2)
//
// with W1 d x n, b1 d, W2 k x d, b2 k (d = 100 hidden units by default, k the
// number of classes), trained on the summed binary cross-entropy
//
//	L = sum_i -y_i log a_i - (1-y_i) log(1-a_i)
//
// by stochastic gradient descent with gradients derived by hand.
//
// Two implementations share the equations. The generic one (the functions
// on Params[F]) is written for reading and, in float64, for tests
// against finite differences. Net is the float32 fast path: one image per step
// or a batch at once, on the kernels of package num.
package seed

import (
	"fmt"
	"math"
	"math/rand/v2"

	"galaxy/num"
)

// Float is the element type of the generic reference path.
type Float interface{ ~float32 | ~float64 }

// Params are the network's weights, row-major.
type Params[F Float] struct {
	N, D, K int
	W1      []F // D x N
	B1      []F // D
	W2      []F // K x D
	B2      []F // K
}

// NewParams allocates zero parameters for n inputs, d hidden units and k outputs.
func NewParams[F Float](n, d, k int) *Params[F] {
	return &Params[F]{N: n, D: d, K: k,
		W1: make([]F, d*n), B1: make([]F, d), W2: make([]F, k*d), B2: make([]F, k)}
}

// Init sets the parameters as the assignment does: weights 0.1·randn,
// b1 uniform in [0, 1), b2 0.1·randn, drawn in the order W1, b1, W2, b2.
func (p *Params[F]) Init(rng *rand.Rand) {
	for i := range p.W1 {
		p.W1[i] = F(0.1 * rng.NormFloat64())
	}
	for i := range p.B1 {
		p.B1[i] = F(rng.Float64())
	}
	for i := range p.W2 {
		p.W2[i] = F(0.1 * rng.NormFloat64())
	}
	for i := range p.B2 {
		p.B2[i] = F(0.1 * rng.NormFloat64())
	}
}

// Blocks returns the parameter blocks in a fixed order with their names.
func (p *Params[F]) Blocks() (names []string, blocks [][]F) {
	return []string{"W1", "b1", "W2", "b2"}, [][]F{p.W1, p.B1, p.W2, p.B2}
}

// Check reports whether the blocks have the sizes N, D and K promise.
func (p *Params[F]) Check() error {
	if p.N < 1 || p.D < 1 || p.K < 1 {
		return fmt.Errorf("seed network: sizes n=%d d=%d k=%d must be positive", p.N, p.D, p.K)
	}
	if len(p.W1) != p.D*p.N || len(p.B1) != p.D || len(p.W2) != p.K*p.D || len(p.B2) != p.K {
		return fmt.Errorf("seed network: parameter sizes do not match n=%d d=%d k=%d", p.N, p.D, p.K)
	}
	return nil
}

// Forward computes the hidden activations h = tanh(W1 v + b1) and the output
// logits z = W2 h + b2 for one image v; a = sigmoid(z) are the class scores.
func (p *Params[F]) Forward(v, h, z []F) {
	for i := 0; i < p.D; i++ {
		s := p.B1[i]
		row := p.W1[i*p.N : (i+1)*p.N]
		for j, x := range v {
			s += row[j] * x
		}
		h[i] = F(math.Tanh(float64(s)))
	}
	for c := 0; c < p.K; c++ {
		s := p.B2[c]
		row := p.W2[c*p.D : (c+1)*p.D]
		for i, x := range h {
			s += row[i] * x
		}
		z[c] = s
	}
}

// Loss returns the summed binary cross-entropy of one image with class y.
func (p *Params[F]) Loss(v []F, y int) F {
	h, z := make([]F, p.D), make([]F, p.K)
	p.Forward(v, h, z)
	var l F
	for c := range z {
		l += num.BCE(z[c], target[F](c, y))
	}
	return l
}

// Grad adds the gradient of one image's loss to g and returns the loss. The
// derivation, with a = σ(z) and t the one-hot target:
//
//	dL/dz  = a - t                      (σ and the cross-entropy cancel)
//	dL/dW2 = (a - t) hᵀ,  dL/db2 = a - t
//	dL/du  = (W2ᵀ (a - t)) ⊙ (1 - h²)   (u = W1 v + b1, h = tanh u)
//	dL/dW1 = (dL/du) vᵀ,  dL/db1 = dL/du
func (p *Params[F]) Grad(v []F, y int, g *Params[F]) F {
	h, z := make([]F, p.D), make([]F, p.K)
	p.Forward(v, h, z)
	var loss F
	dz := make([]F, p.K)
	for c := range z {
		t := target[F](c, y)
		loss += num.BCE(z[c], t)
		dz[c] = num.Sigmoid(z[c]) - t
	}
	du := make([]F, p.D)
	for c, d := range dz {
		g.B2[c] += d
		for i := range h {
			g.W2[c*p.D+i] += d * h[i]
			du[i] += p.W2[c*p.D+i] * d
		}
	}
	for i := range du {
		du[i] *= 1 - h[i]*h[i]
		g.B1[i] += du[i]
		row := g.W1[i*p.N : (i+1)*p.N]
		for j, x := range v {
			row[j] += du[i] * x
		}
	}
	return loss
}

func target[F Float](c, y int) F {
	if c == y {
		return 1
	}
	return 0
}

package seed

import (
	"fmt"
	"math"

	"galaxy/num"
)

// Mode says how a mini-batch gradient is computed.
type Mode int

const (
	// Vector computes the whole batch at once with matrix-matrix products
	// (the assignment's vmap version).
	Vector Mode = iota
	// Loop computes it one image at a time and averages (the assignment's
	// first version, kept as a reference).
	Loop
)

// ParseMode reads "vector" or "loop".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "vector", "":
		return Vector, nil
	case "loop":
		return Loop, nil
	}
	return 0, fmt.Errorf("batch mode %q: want vector or loop", s)
}

func (md Mode) String() string {
	if md == Loop {
		return "loop"
	}
	return "vector"
}

// batchScratch holds the per-batch matrices of the vector path.
type batchScratch struct {
	h, z, dz, du []float32
	grad         *Params[float32]
}

func (m *Net) scratch(b int) *batchScratch {
	s := &m.bs
	d, k := m.p.D, m.p.K
	if cap(s.h) < b*d {
		s.h, s.du = make([]float32, b*d), make([]float32, b*d)
		s.z, s.dz = make([]float32, b*k), make([]float32, b*k)
	}
	s.h, s.du, s.z, s.dz = s.h[:b*d], s.du[:b*d], s.z[:b*k], s.dz[:b*k]
	return s
}

// StepBatch does one step of mini-batch gradient descent on the b = len(ys)
// images in x (b x n, row-major): the parameters move by -lr times the
// gradient of the loss averaged over the batch. It returns the mean loss
// before the step.
func (m *Net) StepBatch(x []float32, ys []int, lr float32, mode Mode) float32 {
	m.checkBatch(x, ys)
	m.flush()
	if mode == Vector {
		// Adds -lr·(mean gradient) straight into the parameters.
		return m.batchVector(x, ys, &m.p, -lr)
	}
	g := m.gradBuffer()
	loss := m.batchLoop(x, ys, g)
	_, gb := g.Blocks()
	_, pb := m.p.Blocks()
	for i := range pb {
		num.Axpy(-lr, gb[i], pb[i])
	}
	return loss
}

// BatchGrad writes the gradient of the loss averaged over the batch into g
// and returns the mean loss, computed in the given mode.
func (m *Net) BatchGrad(x []float32, ys []int, mode Mode, g *Params[float32]) float32 {
	m.checkBatch(x, ys)
	m.flush()
	if mode == Vector {
		_, gb := g.Blocks()
		for _, blk := range gb {
			clear(blk)
		}
		return m.batchVector(x, ys, g, 1)
	}
	return m.batchLoop(x, ys, g)
}

func (m *Net) checkBatch(x []float32, ys []int) {
	if len(ys) == 0 || len(x) != len(ys)*m.p.N {
		panic(fmt.Sprintf("seed: batch of %d labels needs %d inputs, have %d", len(ys), len(ys)*m.p.N, len(x)))
	}
}

func (m *Net) gradBuffer() *Params[float32] {
	if m.bs.grad == nil {
		m.bs.grad = NewParams[float32](m.p.N, m.p.D, m.p.K)
	}
	return m.bs.grad
}

// batchVector adds alpha times the mean gradient of the batch to dst (the
// parameters themselves for a step, or a zeroed gradient buffer), with the
// same equations as Grad written as matrix products over the batch:
//
//	H  = tanh(X W1ᵀ + b1)           Z  = H W2ᵀ + b2
//	dZ = (σ(Z) - T) / b             dU = (dZ W2) ⊙ (1 - H²)
//	W2 += alpha dZᵀ H,  b2 += alpha Σ dZ,  W1 += alpha dUᵀ X,  b1 += alpha Σ dU
//
// Every product reads the parameters before they change.
func (m *Net) batchVector(x []float32, ys []int, dst *Params[float32], alpha float32) float32 {
	p := &m.p
	n, d, k, b := p.N, p.D, p.K, len(ys)
	s := m.scratch(b)
	num.Gemm(false, true, b, d, n, 1, x, n, p.W1, n, 0, s.h, d)
	hiddenTanh(s.h, p.B1, b)
	num.Gemm(false, true, b, k, d, 1, s.h, d, p.W2, d, 0, s.z, k)
	var loss float32
	inv := 1 / float32(b)
	for r, y := range ys {
		for c := 0; c < k; c++ {
			z := s.z[r*k+c] + p.B2[c]
			t := target[float32](c, y)
			loss += num.BCE(z, t)
			s.dz[r*k+c] = (num.Sigmoid(z) - t) * inv
		}
	}
	num.Gemm(false, false, b, d, k, 1, s.dz, k, p.W2, d, 0, s.du, d)
	for j, h := range s.h {
		s.du[j] *= 1 - h*h
	}
	num.Gemm(true, false, k, d, b, alpha, s.dz, k, s.h, d, 1, dst.W2, d)
	num.Gemm(true, false, d, n, b, alpha, s.du, d, x, n, 1, dst.W1, n)
	for r := 0; r < b; r++ {
		num.Axpy(alpha, s.dz[r*k:(r+1)*k], dst.B2)
		num.Axpy(alpha, s.du[r*d:(r+1)*d], dst.B1)
	}
	return loss * inv
}

// batchLoop computes the mean gradient one image at a time into g.
func (m *Net) batchLoop(x []float32, ys []int, g *Params[float32]) float32 {
	p := &m.p
	n, d, k, b := p.N, p.D, p.K, len(ys)
	_, gb := g.Blocks()
	for _, blk := range gb {
		clear(blk)
	}
	inv := 1 / float32(b)
	var loss float32
	for r, y := range ys {
		v := x[r*n : (r+1)*n]
		for i := 0; i < d; i++ {
			m.h[i] = float32(math.Tanh(float64(num.Dot(p.W1[i*n:(i+1)*n], v) + p.B1[i])))
		}
		clear(m.du)
		for c := 0; c < k; c++ {
			z := num.Dot(p.W2[c*d:(c+1)*d], m.h) + p.B2[c]
			t := target[float32](c, y)
			loss += num.BCE(z, t)
			dz := (num.Sigmoid(z) - t) * inv
			g.B2[c] += dz
			num.Axpy(dz, m.h, g.W2[c*d:(c+1)*d])
			num.Axpy(dz, p.W2[c*d:(c+1)*d], m.du)
		}
		for i, h := range m.h {
			du := m.du[i] * (1 - h*h)
			g.B1[i] += du
			num.Axpy(du, v, g.W1[i*n:(i+1)*n])
		}
	}
	return loss * inv
}

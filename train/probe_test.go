package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestFitSoftmaxOptimum checks fitSoftmax's objective's gradient against
// central differences, through the fit: at the optimum the gradient
// vanishes and the loss is below any nearby point's.
func TestFitSoftmaxOptimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 7))
	const n, d, k = 60, 5, 3
	X := make([]float32, n*d)
	y := make([]int, n)
	for i := range n {
		y[i] = i % k
		for j := range d {
			X[i*d+j] = float32(rng.NormFloat64() + 0.8*b2f(y[i] == j%k))
		}
	}
	lambda := 0.05
	w := fitSoftmax(X, y, n, d, k, lambda)
	// The objective, written again independently (float64, log-sum-exp).
	obj := func(w []float64) float64 {
		s := 0.0
		for i := range n {
			z := make([]float64, k)
			for c := range k {
				z[c] = w[k*d+c]
				for j := range d {
					z[c] += w[c*d+j] * float64(X[i*d+j])
				}
			}
			lse := 0.0
			for _, v := range z {
				lse += math.Exp(v)
			}
			s += math.Log(lse) - z[y[i]]
		}
		s /= n
		for j := range k * d {
			s += lambda / 2 * w[j] * w[j]
		}
		return s
	}
	f0 := obj(w)
	const h = 1e-4
	for j := range w {
		old := w[j]
		w[j] = old + h
		fp := obj(w)
		w[j] = old - h
		fm := obj(w)
		w[j] = old
		if g := (fp - fm) / (2 * h); math.Abs(g) > 1e-4 {
			t.Errorf("weight %d: gradient %.3g at the fitted optimum", j, g)
		}
		if fp < f0-1e-12 || fm < f0-1e-12 {
			t.Errorf("weight %d: a step of %g lowers the objective", j, h)
		}
	}
}

// TestProbeLambdaSeparates: on well-separated classes the cross-validated
// probe classifies almost every held-out row.
func TestProbeLambdaSeparates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const n, d, k = 90, 8, 3
	X := make([]float32, n*d)
	y := make([]int, n)
	for i := range n {
		y[i] = rng.IntN(k)
		for j := range d {
			X[i*d+j] = float32(0.5*rng.NormFloat64() + 2*b2f(y[i] == j%k))
		}
	}
	standardise(X, n, d)
	lam, acc := probeLambda(X, y, n, d, k, 1)
	if acc < 0.95 {
		t.Errorf("cross-validated accuracy %v (penalty %g) on separated classes", acc, lam)
	}
}

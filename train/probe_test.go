package train

import (
	"math"
	"math/rand/v2"
	"testing"
)

// blobs returns n rows of d values in k classes (row i in class i mod k):
// Gaussian noise of deviation noise, plus gap in the columns j with
// j mod k equal to the class.
func blobs(rng *rand.Rand, n, d, k int, noise, gap float64) ([]float32, []int) {
	X, y := make([]float32, n*d), make([]int, n)
	for i := range n {
		y[i] = i % k
		for j := range d {
			v := noise * rng.NormFloat64()
			if j%k == y[i] {
				v += gap
			}
			X[i*d+j] = float32(v)
		}
	}
	return X, y
}

// TestFitSoftmaxOptimum checks fitSoftmax's objective's gradient against
// central differences, through the fit: at the optimum the gradient
// vanishes and the loss is below any nearby point's.
func TestFitSoftmaxOptimum(t *testing.T) {
	const n, d, k = 60, 5, 3
	X, y := blobs(rand.New(rand.NewPCG(1, 7)), n, d, k, 1, 0.8)
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
	const n, d, k = 90, 8, 3
	X, y := blobs(rand.New(rand.NewPCG(3, 3)), n, d, k, 0.5, 2)
	standardise(X, n, d)
	lam, acc := probeLambda(X, y, n, d, k, 1)
	if acc < 0.95 {
		t.Errorf("cross-validated accuracy %v (penalty %g) on separated classes", acc, lam)
	}
}

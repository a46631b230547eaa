package train

import (
	"math"

	"galaxy/data"
	"galaxy/model"
	"galaxy/num"
)

// FitTemperature returns the temperature T that minimises the mean
// cross-entropy of softmax(z/T) of c's logits on s (temperature scaling,
// Guo et al. 2017): one parameter fitted on held-out images, which changes
// the probabilities but no image's ranking of the classes. T > 1 softens
// over-confident probabilities, T < 1 sharpens under-confident ones. The
// search is a golden-section search over log T in [1/20, 20] (the mean
// cross-entropy is convex in 1/T). It also returns the mean cross-entropy
// at T = 1 and at T.
func FitTemperature(c model.Classifier, s *data.Split, k int) (t, nll1, nllT float64) {
	z := model.BatchLogits(c, s, k)
	nll := func(logT float64) float64 {
		inv := math.Exp(-logT)
		row, p := make([]float64, k), make([]float64, k)
		var sum float64
		for i, y := range s.Labels {
			for j, v := range z[i*k : (i+1)*k] {
				row[j] = float64(v) * inv
			}
			mx, se := num.SoftmaxExp(row, k, 1, p)
			sum += math.Log(se) + mx - row[y]
		}
		return sum / float64(max(len(s.Labels), 1))
	}
	lo, hi := math.Log(1.0/20), math.Log(20)
	g := (math.Sqrt(5) - 1) / 2
	a, b := hi-g*(hi-lo), lo+g*(hi-lo)
	fa, fb := nll(a), nll(b)
	for range 60 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - g*(hi-lo)
			fa = nll(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + g*(hi-lo)
			fb = nll(b)
		}
	}
	logT := (lo + hi) / 2
	return math.Exp(logT), nll(0), nll(logT)
}

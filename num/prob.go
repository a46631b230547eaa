package num

import "math"

// Real is the element type of the generic helpers below.
type Real interface{ ~float32 | ~float64 }

// The one place for the functions that turn class logits into decisions,
// probabilities and losses: the seed network, the CNN's losses, training's
// scores and the saved models' probabilities all call these.

// Argmax returns the index of the largest value of s (the first on ties; 0
// for an empty s).
func Argmax[T Real](s []T) int {
	best := 0
	for c, v := range s {
		if v > s[best] {
			best = c
		}
	}
	return best
}

// Sigmoid is 1/(1+e^-z), stable for large |z|.
func Sigmoid[T Real](z T) T {
	zf := float64(z)
	if zf >= 0 {
		return T(1 / (1 + math.Exp(-zf)))
	}
	e := math.Exp(zf)
	return T(e / (1 + e))
}

// BCE returns the binary cross-entropy of one output with logit z and target
// y, -y log σ(z) - (1-y) log(1-σ(z)), computed stably from the logit:
// max(z,0) - z·y + log(1 + e^-|z|). It never takes log(0).
func BCE[T Real](z, y T) T {
	zf, yf := float64(z), float64(y)
	return T(math.Max(zf, 0) - zf*yf + math.Log1p(math.Exp(-math.Abs(zf))))
}

// SoftmaxExp is the softmax of the k logits z[0], z[stride], ...,
// z[(k-1)*stride], in float64 and unnormalised: it sets p[c] = e^(z_c - max)
// and returns max and sum = Σ p. The probabilities are p[c]/sum, the
// log-probabilities z_c - max - log(sum), and the cross-entropy of class y
// log(sum) + max - z_y. p must hold k values.
func SoftmaxExp[T Real](z []T, k, stride int, p []float64) (mx, sum float64) {
	mx = math.Inf(-1)
	for c := range k {
		mx = math.Max(mx, float64(z[c*stride]))
	}
	for c := range k {
		p[c] = math.Exp(float64(z[c*stride]) - mx)
		sum += p[c]
	}
	return mx, sum
}

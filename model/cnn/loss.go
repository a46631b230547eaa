package cnn

import (
	"math"

	"galaxy/num"
)

// SoftmaxCE returns the softmax cross-entropy of logits z laid out K×N (a
// Dense layer's output: class c of image i at z[c*n+i]) against labels, and
// writes its gradient with respect to z into dz. With smoothing ε the
// target is (1-ε) on the label and ε/K on every class. With class weights
// w (nil for none) image i counts w[label] times and the loss is
// Σ w·CE / Σ w (PyTorch's weighted mean); without, the plain mean.
func SoftmaxCE[T Float](z []T, k, n int, labels []int, smoothing float64, weights []float64, dz []T) float64 {
	var loss, wsum float64
	p := make([]float64, k)
	for i := 0; i < n; i++ {
		w := 1.0
		if weights != nil {
			w = weights[labels[i]]
		}
		wsum += w
	}
	for i := 0; i < n; i++ {
		y := labels[i]
		w := 1.0
		if weights != nil {
			w = weights[y]
		}
		mx, s := num.SoftmaxExp(z[i:], k, n, p)
		ls := math.Log(s)
		for c := 0; c < k; c++ {
			q := smoothing / float64(k)
			if c == y {
				q += 1 - smoothing
			}
			logp := float64(z[c*n+i]) - mx - ls
			loss -= w * q * logp
			dz[c*n+i] = T(w * (p[c]/s - q) / wsum)
		}
	}
	return loss / wsum
}

// SummedBCE returns the assignment's loss, the binary cross-entropy of each
// class's sigmoid output against the one-hot label summed over classes,
// averaged over the batch, and writes its gradient into dz (K×N as in
// SoftmaxCE).
func SummedBCE[T Float](z []T, k, n int, labels []int, dz []T) float64 {
	var loss float64
	for i := 0; i < n; i++ {
		for c := 0; c < k; c++ {
			v := float64(z[c*n+i])
			t := 0.0
			if c == labels[i] {
				t = 1
			}
			loss += num.BCE(v, t)
			dz[c*n+i] = T((num.Sigmoid(v) - t) / float64(n))
		}
	}
	return loss / float64(n)
}

// ClassWeights returns weights inversely proportional to class counts,
// normalised so that the weighted mean over the counts is 1 (n / (K·count);
// 0 for an empty class).
func ClassWeights(counts []int) []float64 { return ClassWeightsPow(counts, 1) }

// ClassWeightsPow returns weights proportional to count^-pow, normalised so
// that the weighted mean over the counts is 1 (0 for an empty class): pow 1
// is ClassWeights, 0.5 the milder square-root weighting, 0 no weighting.
func ClassWeightsPow(counts []int, pow float64) []float64 {
	w := make([]float64, len(counts))
	var total, sum float64
	for i, c := range counts {
		if c > 0 {
			w[i] = math.Pow(float64(c), -pow)
			total += float64(c)
			sum += w[i] * float64(c)
		}
	}
	for i := range w {
		if sum > 0 {
			w[i] *= total / sum
		}
	}
	return w
}

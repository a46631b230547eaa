package num

import (
	"math"
	"testing"
)

func TestArgmaxSigmoidBCE(t *testing.T) {
	if Argmax([]float32{3, 3, 1}) != 0 || Argmax([]float64{-2, 5, 7}) != 2 {
		t.Error("argmax: ties go to the first, the largest wins")
	}
	for _, z := range []float64{-800, -30, -1, 0, 0.5, 30, 800} {
		naive := 1 / (1 + math.Exp(-z))
		if s := Sigmoid(z); math.Abs(s-naive) > 1e-15 || math.IsNaN(s) {
			t.Errorf("Sigmoid(%v) = %v, want %v", z, s, naive)
		}
		for _, y := range []float64{0, 1} {
			// The textbook formula, in big-exponent-safe form where it is
			// finite; 1-p is computed as 1/(1+e^z), not by a subtraction
			// that loses its digits when p is near 1.
			p, q := naive, 1/(1+math.Exp(z))
			want := -y*math.Log(p) - (1-y)*math.Log(q)
			if got := BCE(z, y); !math.IsInf(want, 0) && math.Abs(got-want) > 1e-9*math.Max(1, want) {
				t.Errorf("BCE(%v, %v) = %v, want %v", z, y, got, want)
			} else if math.IsInf(got, 0) || math.IsNaN(got) {
				t.Errorf("BCE(%v, %v) = %v: not finite", z, y, got)
			}
		}
	}
}

func TestSoftmaxExp(t *testing.T) {
	// Two logits strided 3 apart: z = {1, 3}.
	z := []float32{1, 9, 9, 3, 9, 9}
	p := make([]float64, 2)
	mx, sum := SoftmaxExp(z, 2, 3, p)
	if mx != 3 || p[1] != 1 || math.Abs(p[0]-math.Exp(-2)) > 1e-15 || sum != p[0]+p[1] {
		t.Fatalf("max %v sum %v p %v", mx, sum, p)
	}
	// Large logits do not overflow; probabilities sum to 1.
	z64 := []float64{1000, 1001, 999}
	p = make([]float64, 3)
	_, sum = SoftmaxExp(z64, 3, 1, p)
	if tot := (p[0] + p[1] + p[2]) / sum; math.Abs(tot-1) > 1e-15 || math.IsInf(sum, 0) {
		t.Errorf("probabilities sum to %v", tot)
	}
}

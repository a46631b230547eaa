package train

import (
	"math"
	"testing"

	"galaxy/data"
)

// fixedLogits is a model.Classifier that returns stored logits for images
// whose first pixel is their index.
type fixedLogits struct {
	z []float32
	k int
}

func (f fixedLogits) Logits(x []float32, b int, out []float32) {
	for i := range b {
		j := int(math.Round(float64(x[i]) / data.Scale))
		copy(out[i*f.k:(i+1)*f.k], f.z[j*f.k:(j+1)*f.k])
	}
}

func TestLogitOffsets(t *testing.T) {
	off := LogitOffsets([]int{90, 10}, 1)
	if math.Abs(off[0]+math.Log(0.9)) > 1e-12 || math.Abs(off[1]+math.Log(0.1)) > 1e-12 {
		t.Fatalf("offsets %v, want -log(0.9), -log(0.1)", off)
	}
	if off := LogitOffsets([]int{5, 0}, 0.5); math.IsInf(off[1], 0) || off[1] <= off[0] {
		t.Fatalf("empty class: offsets %v", off)
	}
}

// TestFitLogitAdjustment builds scores where the rare class is always
// ranked just below the common one: a moderate tau recovers it without
// costing accuracy, and a too-strong tau would flip common images too.
func TestFitLogitAdjustment(t *testing.T) {
	// 8 common images (class 0) and 2 rare (class 1), one pixel each.
	// Common: logit margin 3 for class 0. Rare: margin 0.5 for class 0.
	s := &data.Split{H: 1, W: 1, C: 1}
	var z []float32
	for i := range 10 {
		s.Pixels = append(s.Pixels, uint8(i))
		if i < 8 {
			s.Labels = append(s.Labels, 0)
			z = append(z, 3, 0)
		} else {
			s.Labels = append(s.Labels, 1)
			z = append(z, 0.5, 0)
		}
	}
	counts := []int{80, 20} // log(80/20) = 1.386: tau >= 0.37 flips the rare ones, tau >= 2.2 the common ones
	a := FitLogitAdjustment(fixedLogits{z, 2}, s, 2, counts, AdjustTaus)
	if a.Accuracy0 != 0.8 || a.Balanced0 != 0.5 {
		t.Fatalf("unadjusted: accuracy %v balanced %v, want 0.8 0.5", a.Accuracy0, a.Balanced0)
	}
	if math.Abs(a.Tau-0.4) > 1e-12 || a.Accuracy != 1 || a.Balanced != 1 {
		t.Fatalf("chose tau %v (accuracy %v, balanced %v); want the smallest tau that recovers the rare class, 0.4, with 1 and 1", a.Tau, a.Accuracy, a.Balanced)
	}
	// Without rare images in the split nothing is gained: tau 0.
	s2 := &data.Split{H: 1, W: 1, C: 1, Pixels: s.Pixels[:8], Labels: s.Labels[:8]}
	if a := FitLogitAdjustment(fixedLogits{z, 2}, s2, 2, counts, AdjustTaus); a.Tau != 0 {
		t.Fatalf("no rare images: tau %v, want 0", a.Tau)
	}
}

// TestFitLogitAdjustmentCost: a tau that would recover the rare class but
// flips common images too, costing more than AdjustCost of accuracy, is
// not taken.
func TestFitLogitAdjustmentCost(t *testing.T) {
	s := &data.Split{H: 1, W: 1, C: 1}
	var z []float32
	for i := range 21 {
		s.Pixels = append(s.Pixels, uint8(i))
		switch {
		case i < 18: // common, confidently right
			s.Labels = append(s.Labels, 0)
			z = append(z, 3, 0)
		case i < 20: // common, barely right: flips at tau 0.3
			s.Labels = append(s.Labels, 0)
			z = append(z, 0.4, 0)
		default: // rare, barely wrong: recovered at tau 0.4
			s.Labels = append(s.Labels, 1)
			z = append(z, 0.5, 0)
		}
	}
	a := FitLogitAdjustment(fixedLogits{z, 2}, s, 2, []int{80, 20}, AdjustTaus)
	if a.Tau != 0 || a.Accuracy != a.Accuracy0 {
		t.Fatalf("chose tau %v (accuracy %v -> %v, balanced %v -> %v); the only gain costs 4.8 points: want tau 0", a.Tau, a.Accuracy0, a.Accuracy, a.Balanced0, a.Balanced)
	}
}

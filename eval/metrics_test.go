package eval

import (
	"math"
	"testing"
)

// Hand-made predictions with known answers.
func TestCompute(t *testing.T) {
	classes := []string{"a", "b", "c"}
	// 6 images; scores chosen so that the ranking per image is explicit.
	scores := []float32{
		0.9, 0.05, 0.05, // true a, pred a
		0.8, 0.15, 0.05, // true a, pred a
		0.2, 0.7, 0.1, // true a, pred b, second a
		0.1, 0.8, 0.1, // true b, pred b
		0.6, 0.3, 0.1, // true b, pred a, second b
		0.5, 0.4, 0.1, // true c, pred a, c ranked third
	}
	labels := []int{0, 0, 0, 1, 1, 2}
	m, err := Compute(scores, labels, classes, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{2, 1, 0}, {1, 1, 0}, {1, 0, 0}}
	for i := range want {
		for j := range want[i] {
			if m.Confusion[i][j] != want[i][j] {
				t.Fatalf("confusion %v, want %v", m.Confusion, want)
			}
		}
	}
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("accuracy", m.Accuracy, 3.0/6)
	near("balanced", m.BalancedAccuracy, (2.0/3+1.0/2+0)/3)
	near("top2", m.Top2Accuracy, 5.0/6)
	near("top3", m.TopK[2], 1)
	near("recall a", m.Recall[0], 2.0/3)
	near("precision a", m.Precision[0], 2.0/4)
	near("precision b", m.Precision[1], 1.0/2)
	near("f1 a", m.F1[0], 2*(0.5*2.0/3)/(0.5+2.0/3))
	near("f1 c", m.F1[2], 0)
	near("majority", m.MajorityAccuracy, 3.0/6)
	if m.N != 6 || m.Support[0] != 3 || m.Support[2] != 1 {
		t.Errorf("n %d support %v", m.N, m.Support)
	}
}

func TestComputeRejects(t *testing.T) {
	if _, err := Compute([]float32{1, 2, 3}, []int{0, 1}, []string{"a", "b"}, 0); err == nil {
		t.Error("score count mismatch accepted")
	}
	if _, err := Compute([]float32{1, 2}, []int{5}, []string{"a", "b"}, 0); err == nil {
		t.Error("label out of range accepted")
	}
}

func TestRanksTies(t *testing.T) {
	r := Ranks([]float32{1, 1, 2}, 3)
	if r[0][0] != 2 || r[0][1] != 0 || r[0][2] != 1 {
		t.Errorf("ranks %v: ties must keep lower class first", r)
	}
}

// TestAveragePrecision checks scikit-learn's documented example (AP 0.8333
// for scores 0.1, 0.4, 0.35, 0.8 of labels 0, 0, 1, 1), ties taken
// together, and a class without images.
func TestAveragePrecision(t *testing.T) {
	probs := func(pos ...float32) []float32 { // two classes: class 1 gets pos
		out := make([]float32, 0, 2*len(pos))
		for _, p := range pos {
			out = append(out, 1-p, p)
		}
		return out
	}
	ap := AveragePrecision(probs(0.1, 0.4, 0.35, 0.8), []int{0, 0, 1, 1}, 2)
	if math.Abs(ap[1]-(0.5*1+0.5*2.0/3)) > 1e-12 {
		t.Errorf("AP %v, want 0.8333", ap[1])
	}
	// All tied: one threshold, precision 2/4 at recall 1.
	if ap := AveragePrecision(probs(0.5, 0.5, 0.5, 0.5), []int{0, 0, 1, 1}, 2); ap[1] != 0.5 {
		t.Errorf("tied AP %v, want 0.5", ap[1])
	}
	if ap := AveragePrecision(probs(0.1, 0.9), []int{0, 0}, 2); ap[1] != 0 || ap[0] != 1 {
		t.Errorf("class without images: %v", ap)
	}
}

package eval

import (
	"math"
	"reflect"
	"testing"
)

// Six hand-made predictions over three classes, with probabilities exact in
// binary so that the bin of every confidence is known.
var (
	handProbs = []float32{
		0.875, 0.0625, 0.0625, // true 0: right, confidence 0.875
		0.75, 0.125, 0.125, // true 0: right, 0.75
		0.25, 0.625, 0.125, // true 0: wrong (1), second choice 0 is right, 0.625
		0.125, 0.75, 0.125, // true 1: right, 0.75
		0.5, 0.375, 0.125, // true 1: wrong (0), second choice 1 is right, 0.5
		0.5, 0.25, 0.25, // true 2: wrong (0), classes 1 and 2 tie: 1 ranks second, 2 third
	}
	handLabels = []int{0, 0, 0, 1, 1, 2}
)

func handLogits() []float32 {
	l := make([]float32, len(handProbs))
	for i, p := range handProbs {
		l[i] = float32(math.Log(float64(p)))
	}
	return l
}

func TestPredictSummarise(t *testing.T) {
	preds, err := Predict(handLogits(), handProbs, handLabels, 3)
	if err != nil {
		t.Fatal(err)
	}
	wantPred := []int{0, 0, 1, 1, 0, 0}
	wantRank := []int{1, 1, 2, 1, 2, 3}
	wantSecond := []int{1, 1, 0, 0, 1, 1}
	for i, p := range preds {
		if p.Pred != wantPred[i] || p.TrueRank != wantRank[i] || p.Second != wantSecond[i] || p.Index != i {
			t.Errorf("image %d: %+v, want pred %d second %d true rank %d", i, p, wantPred[i], wantSecond[i], wantRank[i])
		}
	}
	if preds[2].Conf != 0.625 || preds[2].TrueProb != 0.25 || !preds[2].SecondHit || preds[5].SecondHit || preds[0].SecondHit {
		t.Errorf("probabilities or second-choice flags: %+v %+v", preds[2], preds[5])
	}
	m := Summarise(preds, 3)
	if m.N != 6 || m.Wrong != 3 || m.SecondRight != 2 || math.Abs(m.SecondFrac-2.0/3) > 1e-15 {
		t.Errorf("summary %+v: want 3 wrong, second choice right in 2", m)
	}
	if !reflect.DeepEqual(m.RankCounts, []int{3, 2, 1}) {
		t.Errorf("rank counts %v, want [3 2 1]", m.RankCounts)
	}
	for j, want := range []float64{3.0 / 6, 5.0 / 6, 1} {
		if math.Abs(m.TopK[j]-want) > 1e-15 {
			t.Errorf("top-%d %v, want %v", j+1, m.TopK[j], want)
		}
	}
	// The same figures as Compute, from the logits alone.
	met, err := Compute(handLogits(), handLabels, []string{"a", "b", "c"}, -1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(met.TopK, m.TopK) || met.Accuracy != 0.5 {
		t.Errorf("Compute top-k %v accuracy %v, Summarise %v", met.TopK, met.Accuracy, m.TopK)
	}
	wantPairs := []Pair{{0, 1, 1, 1.0 / 3, 1.0 / 3}, {1, 0, 1, 0.5, 1.0 / 3}, {2, 0, 1, 1, 1.0 / 3}}
	if len(m.Pairs) != len(wantPairs) {
		t.Fatalf("pairs %+v", m.Pairs)
	}
	for i, p := range m.Pairs {
		w := wantPairs[i]
		if p.True != w.True || p.Pred != w.Pred || p.Count != w.Count || math.Abs(p.OfTrue-w.OfTrue) > 1e-15 || math.Abs(p.OfErrors-w.OfErrors) > 1e-15 {
			t.Errorf("pair %d: %+v, want %+v", i, p, w)
		}
	}
	if w := Worst(preds, 10); len(w) != 3 || w[0].Index != 2 || w[1].Index != 4 || w[2].Index != 5 {
		t.Errorf("worst %+v: want images 2 (0.625), 4, 5 (0.5, split order)", w)
	}
	if w := Worst(preds, 1); len(w) != 1 || w[0].Index != 2 {
		t.Errorf("worst 1: %+v", w)
	}
	if b := Best(preds, 0, 5); len(b) != 2 || b[0].Index != 0 || b[1].Index != 1 {
		t.Errorf("best of class 0: %+v", b)
	}
	if b := Best(preds, 2, 5); len(b) != 0 {
		t.Errorf("best of class 2 (never right): %+v", b)
	}
}

func TestConfusedPairsOrder(t *testing.T) {
	conf := [][]int{{5, 2, 4}, {4, 3, 0}, {0, 0, 1}}
	p := ConfusedPairs(conf)
	want := [][3]int{{0, 2, 4}, {1, 0, 4}, {0, 1, 2}}
	if len(p) != 3 {
		t.Fatalf("pairs %+v", p)
	}
	for i, w := range want {
		if p[i].True != w[0] || p[i].Pred != w[1] || p[i].Count != w[2] {
			t.Errorf("pair %d %+v, want %v", i, p[i], w)
		}
	}
	if math.Abs(p[1].OfTrue-4.0/7) > 1e-15 || math.Abs(p[0].OfErrors-0.4) > 1e-15 {
		t.Errorf("fractions %+v", p[:2])
	}
}

// ECE computed by hand: with 4 bins, the confidences 0.625, 0.5, 0.5 (all
// wrong) fall in [0.5, 0.75) with mean 0.541667 and accuracy 0, and 0.875,
// 0.75, 0.75 (all right) in [0.75, 1] with mean 0.791667 and accuracy 1:
// ECE = 3/6*0.541667 + 3/6*0.208333 = 0.375. With 10 bins: bins 5 {0.5, 0.5
// wrong}, 6 {0.625 wrong}, 7 {0.75, 0.75 right}, 8 {0.875 right}: ECE =
// (2*0.5 + 0.625 + 2*0.25 + 0.125)/6 = 0.375, MCE 0.625.
func TestCalibrate(t *testing.T) {
	preds, err := Predict(handLogits(), handProbs, handLabels, 3)
	if err != nil {
		t.Fatal(err)
	}
	c4, err := Calibrate(preds, 4)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(c4.ECE-0.375) > 1e-12 || c4.N != 6 {
		t.Errorf("ECE (4 bins) %v, want 0.375", c4.ECE)
	}
	b := c4.Bins[2]
	if b.Lo != 0.5 || b.Hi != 0.75 || b.Count != 3 || b.Accuracy != 0 || math.Abs(b.Confidence-1.625/3) > 1e-12 {
		t.Errorf("bin [0.5,0.75): %+v", b)
	}
	if c4.Bins[3].Count != 3 || c4.Bins[3].Accuracy != 1 || c4.Bins[0].Count != 0 {
		t.Errorf("bins %+v", c4.Bins)
	}
	c10, err := Calibrate(preds, DefaultBins)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, 10)
	for i, b := range c10.Bins {
		counts[i] = b.Count
	}
	if !reflect.DeepEqual(counts, []int{0, 0, 0, 0, 0, 2, 1, 2, 1, 0}) {
		t.Errorf("10-bin counts %v", counts)
	}
	if math.Abs(c10.ECE-0.375) > 1e-12 || math.Abs(c10.MCE-0.625) > 1e-12 {
		t.Errorf("ECE (10 bins) %v MCE %v, want 0.375 and 0.625", c10.ECE, c10.MCE)
	}
	// Confidence 1 falls in the last bin; a perfectly calibrated set scores 0.
	one, _ := Calibrate([]Prediction{{Conf: 1, Correct: true}, {Conf: 0.55, Correct: true}, {Conf: 0.55, Correct: false}}, 10)
	if one.Bins[9].Count != 1 || one.Bins[5].Count != 2 || math.Abs(one.ECE-0.05*2/3) > 1e-12 {
		t.Errorf("edge bins: %+v ECE %v", one.Bins, one.ECE)
	}
	if _, err := Calibrate(preds, 0); err == nil {
		t.Error("0 bins accepted")
	}
}

func TestPredictRejects(t *testing.T) {
	if _, err := Predict([]float32{1, 2}, []float32{0.5}, []int{0}, 2); err == nil {
		t.Error("probability count mismatch accepted")
	}
	if _, err := Predict([]float32{1, 2}, []float32{0.5, 0.5}, []int{2}, 2); err == nil {
		t.Error("label out of range accepted")
	}
}

func TestRowNormalised(t *testing.T) {
	n := RowNormalised([][]int{{3, 1}, {0, 0}})
	if !reflect.DeepEqual(n, [][]float64{{0.75, 0.25}, {0, 0}}) {
		t.Errorf("row-normalised %v", n)
	}
	m, _ := Compute([]float32{1, 0, 1, 0, 0, 1}, []int{0, 1, 1}, []string{"a", "b"}, 0)
	if !reflect.DeepEqual(m.ConfusionNorm, [][]float64{{1, 0}, {0.5, 0.5}}) {
		t.Errorf("Compute's row-normalised confusion %v", m.ConfusionNorm)
	}
}

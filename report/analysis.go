// Package report shows what a trained model gets right and wrong: it scores
// a split with any model.Model (never a particular architecture), derives
// every figure with package eval (metrics, mistakes, second choices,
// calibration), draws galleries of galaxies titled with their true and
// predicted classes, one galaxy beside its class probabilities, and writes
// a self-contained HTML report of a training run: settings, learning
// curves, confusion heat map, per-class table, top-k, reliability diagram,
// galleries of correct examples and of the worst mistakes, every picture
// embedded, nothing fetched from the network.
package report

import (
	"fmt"

	"galaxy/data"
	"galaxy/eval"
	"galaxy/model"
)

// Analysis is a model's verdict on every image of one split.
type Analysis struct {
	Model     *model.Model
	Data      *data.Dataset
	Split     *data.Split
	SplitName string
	Logits    []float32 // Len x K
	Probs     []float32 // Len x K, rows sum to 1 (Model.Probabilities)
	Metrics   *eval.Metrics
	Preds     []eval.Prediction
	Mistakes  *eval.Mistakes
	Calib     *eval.Calibration
	CalibRaw  *eval.Calibration // before the model's temperature scaling (Calib when it had none)
}

// Analyze scores the named split of ds with m and measures it; bins is the
// number of confidence bins of the calibration (eval.DefaultBins when < 1).
func Analyze(m *model.Model, ds *data.Dataset, split string, bins int) (*Analysis, error) {
	if bins < 1 || bins > 1000 {
		return nil, fmt.Errorf("%d calibration bins: want 1 to 1000", bins)
	}
	if err := m.Check(ds); err != nil {
		return nil, err
	}
	s, err := ds.Split(split)
	if err != nil {
		return nil, err
	}
	if s.Len() == 0 {
		return nil, fmt.Errorf("the %s split of %s is empty", split, ds.Source)
	}
	if bins < 1 {
		bins = eval.DefaultBins
	}
	k := m.K()
	a := &Analysis{Model: m, Data: ds, Split: s, SplitName: split}
	a.Logits = m.LogitSplit(s)
	a.Probs = Probabilities(m, a.Logits)
	if a.Metrics, err = eval.Compute(a.Logits, s.Labels, m.Meta.Classes, ds.MajorityClass()); err != nil {
		return nil, err
	}
	if a.Preds, err = eval.Predict(a.Logits, a.Probs, s.Labels, k); err != nil {
		return nil, err
	}
	a.Mistakes = eval.Summarise(a.Preds, k)
	if a.Calib, err = eval.Calibrate(a.Preds, bins); err != nil {
		return nil, err
	}
	// Before the model's temperature scaling: its logits times T.
	a.CalibRaw = a.Calib
	if t := m.Temperature(); t != 1 {
		raw := make([]float32, len(a.Logits))
		for i, z := range a.Logits {
			raw[i] = float32(float64(z) * t)
		}
		preds, err := eval.Predict(raw, Probabilities(m, raw), s.Labels, k)
		if err != nil {
			return nil, err
		}
		if a.CalibRaw, err = eval.Calibrate(preds, bins); err != nil {
			return nil, err
		}
	}
	a.Metrics.AveragePrecision = eval.AveragePrecision(a.Probs, s.Labels, k)
	a.Metrics.ECE, a.Metrics.ECEUncalibrated = &a.Calib.ECE, &a.CalibRaw.ECE
	return a, nil
}

// Probabilities turns rows of logits (n x K) into class probabilities with
// the model's own rule (Model.Probabilities).
func Probabilities(m *model.Model, logits []float32) []float32 {
	k := m.K()
	out := make([]float32, len(logits))
	for i := 0; i+k <= len(logits); i += k {
		m.Probabilities(logits[i:i+k], out[i:i+k])
	}
	return out
}

// One is the model's verdict on a single image.
type One struct {
	Index   int       // position in the split
	True    int       // true class
	Logits  []float32 // by class
	Probs   []float32 // by class
	Ranking []int     // classes, best first (by logit; ties: lower class first)
}

// Inspect scores image i of split s with m.
func Inspect(m *model.Model, s *data.Split, i int) (*One, error) {
	if i < 0 || i >= s.Len() {
		return nil, fmt.Errorf("index %d out of range: the %s split has %d images (0..%d)", i, s.Name, s.Len(), s.Len()-1)
	}
	one := &data.Split{Name: s.Name, H: s.H, W: s.W, C: s.C, Pixels: s.Image(i), Labels: []int{s.Labels[i]}, Index: []int{s.Index[i]}}
	logits := m.LogitSplit(one)
	probs := Probabilities(m, logits)
	return &One{Index: i, True: s.Labels[i], Logits: logits, Probs: probs, Ranking: eval.Ranks(logits, m.K())[0]}, nil
}

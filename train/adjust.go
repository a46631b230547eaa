package train

import (
	"math"

	"galaxy/data"
	"galaxy/model"
	"galaxy/num"
)

// AdjustTaus are the strengths FitLogitAdjustment tries.
var AdjustTaus = []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}

// LogitOffsets returns -tau·log(prior) per class for class counts counts
// (logit adjustment, Menon et al. 2021: with tau 1 the argmax of the
// adjusted logits is the Bayes decision for balanced accuracy when the
// model's probabilities are calibrated to the training prior; tau 0 leaves
// the logits as they are). An empty class gets the offset of a class of
// one image.
func LogitOffsets(counts []int, tau float64) []float64 {
	total := 0
	for _, c := range counts {
		total += c
	}
	off := make([]float64, len(counts))
	for i, c := range counts {
		off[i] = -tau * math.Log(float64(max(c, 1))/float64(max(total, 1)))
	}
	return off
}

// Adjustment is what FitLogitAdjustment chose and what it measured on the
// split it was fitted on.
type Adjustment struct {
	Tau                float64
	Offsets            []float64 // added to the logits of each class
	Accuracy, Balanced float64   // with the offsets
	Accuracy0          float64   // without (tau 0)
	Balanced0          float64
}

// AdjustCost is the most validation accuracy FitLogitAdjustment gives up
// for balanced accuracy.
const AdjustCost = 0.01

// FitLogitAdjustment scores c on s once and picks, among taus, the
// strength whose offsets (LogitOffsets of counts) give the highest balanced
// accuracy on s while costing at most AdjustCost of its accuracy (against
// tau 0); ties go to the smaller tau. It trades a little accuracy on the
// common classes for recall on the rare ones only where s says the trade is
// cheap. (A rule that maximised a mix of the two would follow the few rare
// images of a validation part too closely: one merger more or less moves
// balanced accuracy by several points.)
func FitLogitAdjustment(c model.Classifier, s *data.Split, k int, counts []int, taus []float64) Adjustment {
	z := model.BatchLogits(c, s, k)
	a := Adjustment{Tau: 0, Offsets: LogitOffsets(counts, 0)}
	a.Accuracy0, a.Balanced0 = adjustedScores(z, s.Labels, k, a.Offsets)
	a.Accuracy, a.Balanced = a.Accuracy0, a.Balanced0
	for _, tau := range taus {
		off := LogitOffsets(counts, tau)
		acc, bal := adjustedScores(z, s.Labels, k, off)
		if acc >= a.Accuracy0-AdjustCost-1e-12 && bal > a.Balanced {
			a.Tau, a.Offsets, a.Accuracy, a.Balanced = tau, off, acc, bal
		}
	}
	return a
}

// adjustedScores returns the accuracy and balanced accuracy (the mean
// recall over the classes present) of the argmax of logits z (n×k) plus
// off (nil: none) against labels.
func adjustedScores(z []float32, labels []int, k int, off []float64) (acc, bal float64) {
	hit, seen := make([]int, k), make([]int, k)
	row := make([]float32, k)
	correct := 0
	for i, y := range labels {
		copy(row, z[i*k:(i+1)*k])
		for c, o := range off {
			row[c] += float32(o)
		}
		seen[y]++
		if num.Argmax(row) == y {
			correct++
			hit[y]++
		}
	}
	present := 0
	for c := range k {
		if seen[c] > 0 {
			bal += float64(hit[c]) / float64(seen[c])
			present++
		}
	}
	if len(labels) == 0 {
		return 0, 0
	}
	return float64(correct) / float64(len(labels)), bal / float64(max(present, 1))
}

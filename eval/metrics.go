// Package eval measures a classifier: accuracy, balanced accuracy (mean
// per-class recall), top-k accuracy, per-class precision, recall and F1, the
// confusion matrix (counts and row-normalised), and the majority-class
// baseline to read them against (Compute); what it gets wrong: the mistakes,
// whether the second choice was right, the rank of the true class, the most
// confused class pairs, the most confident mistakes (Predict, Summarise,
// Worst); and calibration: expected calibration error over confidence bins,
// the data of a reliability diagram (Calibrate). Every figure comes from
// class scores, probabilities and true labels alone, so the same code serves
// galaxy eval, train, errors and the reports.
package eval

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Metrics summarises predictions on a set of images.
type Metrics struct {
	N                int       `json:"n"`
	Accuracy         float64   `json:"accuracy"`
	BalancedAccuracy float64   `json:"balanced_accuracy"`
	Top2Accuracy     float64   `json:"top2_accuracy"`
	TopK             []float64 `json:"top_k"` // TopK[j] = fraction whose true class is among the j+1 best
	MeanLoss         float64   `json:"mean_loss,omitempty"`
	Confusion        [][]int   `json:"confusion"` // Confusion[true][predicted]
	// ConfusionNorm is Confusion with each row divided by its sum (the
	// diagonal is per-class recall).
	ConfusionNorm    [][]float64 `json:"confusion_normalised"`
	Classes          []string    `json:"classes"`
	Precision        []float64   `json:"precision"`
	Recall           []float64   `json:"recall"`
	F1               []float64   `json:"f1"`
	Support          []int       `json:"support"`
	MajorityAccuracy float64     `json:"majority_accuracy"`
}

// Ranks returns, for each image, the classes ordered from highest score to
// lowest (ties broken by lower class number).
func Ranks(scores []float32, k int) [][]int {
	n := len(scores) / k
	out := make([][]int, n)
	for i := range out {
		s := scores[i*k : (i+1)*k]
		r := make([]int, k)
		for c := range r {
			r[c] = c
		}
		sort.SliceStable(r, func(a, b int) bool { return s[r[a]] > s[r[b]] })
		out[i] = r
	}
	return out
}

// Compute derives the metrics from scores (len(labels) x k, row-major) and
// true labels. majority is the class a majority-class guesser answers (the
// most common training class), or -1 to take the most common class of labels.
func Compute(scores []float32, labels []int, classes []string, majority int) (*Metrics, error) {
	k := len(classes)
	if k == 0 || len(scores) != len(labels)*k {
		return nil, fmt.Errorf("eval: %d scores for %d images of %d classes", len(scores), len(labels), k)
	}
	m := &Metrics{N: len(labels), Classes: classes, Confusion: make([][]int, k), TopK: make([]float64, k),
		Precision: make([]float64, k), Recall: make([]float64, k), F1: make([]float64, k), Support: make([]int, k)}
	for c := range m.Confusion {
		m.Confusion[c] = make([]int, k)
	}
	ranks := Ranks(scores, k)
	for i, y := range labels {
		if y < 0 || y >= k {
			return nil, fmt.Errorf("eval: label %d of image %d out of range (0..%d)", y, i, k-1)
		}
		m.Confusion[y][ranks[i][0]]++
		m.Support[y]++
		for pos, c := range ranks[i] {
			if c == y {
				for j := pos; j < k; j++ {
					m.TopK[j]++
				}
				break
			}
		}
	}
	m.ConfusionNorm = RowNormalised(m.Confusion)
	if m.N == 0 {
		return m, nil
	}
	correct := 0
	for c := 0; c < k; c++ {
		correct += m.Confusion[c][c]
	}
	m.Accuracy = float64(correct) / float64(m.N)
	for j := range m.TopK {
		m.TopK[j] /= float64(m.N)
	}
	if k >= 2 {
		m.Top2Accuracy = m.TopK[1]
	} else {
		m.Top2Accuracy = 1
	}
	present := 0
	for c := 0; c < k; c++ {
		predicted := 0
		for t := 0; t < k; t++ {
			predicted += m.Confusion[t][c]
		}
		tp := float64(m.Confusion[c][c])
		if predicted > 0 {
			m.Precision[c] = tp / float64(predicted)
		}
		if m.Support[c] > 0 {
			m.Recall[c] = tp / float64(m.Support[c])
			m.BalancedAccuracy += m.Recall[c]
			present++
		}
		if m.Precision[c]+m.Recall[c] > 0 {
			m.F1[c] = 2 * m.Precision[c] * m.Recall[c] / (m.Precision[c] + m.Recall[c])
		}
	}
	if present > 0 {
		m.BalancedAccuracy /= float64(present)
	}
	if majority < 0 {
		majority = 0
		for c := range m.Support {
			if m.Support[c] > m.Support[majority] {
				majority = c
			}
		}
	}
	if majority < k {
		m.MajorityAccuracy = float64(m.Support[majority]) / float64(m.N)
	}
	return m, nil
}

// WriteText writes the metrics as galaxy eval prints them: the figures,
// a per-class table and the confusion matrix, naming split.
func (m *Metrics) WriteText(w io.Writer, split string) {
	fmt.Fprintf(w, "%d images (%s split)\n", m.N, split)
	fmt.Fprintf(w, "accuracy          %.4f\n", m.Accuracy)
	fmt.Fprintf(w, "balanced accuracy %.4f\n", m.BalancedAccuracy)
	fmt.Fprintf(w, "top-2 accuracy    %.4f\n", m.Top2Accuracy)
	fmt.Fprintf(w, "majority class    %.4f\n\n", m.MajorityAccuracy)
	width := 10
	for _, c := range m.Classes {
		width = max(width, len(c))
	}
	fmt.Fprintf(w, "%-*s %9s %9s %9s %8s\n", width, "class", "precision", "recall", "f1", "support")
	for c, name := range m.Classes {
		fmt.Fprintf(w, "%-*s %9.4f %9.4f %9.4f %8d\n", width, name, m.Precision[c], m.Recall[c], m.F1[c], m.Support[c])
	}
	fmt.Fprintf(w, "\nconfusion (rows: true class, columns: predicted)\n%-*s", width, "")
	for c := range m.Classes {
		fmt.Fprintf(w, " %6d", c)
	}
	fmt.Fprintln(w)
	for c, row := range m.Confusion {
		fmt.Fprintf(w, "%-*s", width, fmt.Sprintf("%d %s", c, abbreviate(m.Classes[c], width-2)))
		for _, v := range row {
			fmt.Fprintf(w, " %6d", v)
		}
		fmt.Fprintln(w)
	}
}

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.TrimSpace(s[:n])
}

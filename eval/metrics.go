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
	// AveragePrecision is each class's area under its precision-recall
	// curve, the images ranked by their probability of the class (nil
	// when only scores were given).
	AveragePrecision []float64 `json:"average_precision,omitempty"`
	// ECE is the expected calibration error of the probabilities (see
	// Calibration), ECEUncalibrated that of the model's probabilities
	// before its temperature scaling; nil when not measured.
	ECE             *float64 `json:"ece,omitempty"`
	ECEUncalibrated *float64 `json:"ece_uncalibrated,omitempty"`
}

// PRCurve returns the precision-recall curve of class c: the images ranked
// by their probability of c (probs n x k), one point per distinct
// probability t, recall and precision of calling "c" every image with
// probability >= t. Images of equal probability are taken together (as
// scikit-learn's precision_recall_curve). It returns nothing for a class
// without images.
func PRCurve(probs []float32, labels []int, k, c int) (recall, precision, threshold []float64) {
	n := len(labels)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return probs[order[a]*k+c] > probs[order[b]*k+c] })
	pos := 0
	for _, y := range labels {
		if y == c {
			pos++
		}
	}
	if pos == 0 {
		return nil, nil, nil
	}
	tp := 0
	for i := 0; i < n; {
		t, j := probs[order[i]*k+c], i
		for ; j < n && probs[order[j]*k+c] == t; j++ {
			if labels[order[j]] == c {
				tp++
			}
		}
		recall = append(recall, float64(tp)/float64(pos))
		precision = append(precision, float64(tp)/float64(j))
		threshold = append(threshold, float64(t))
		i = j
	}
	return recall, precision, threshold
}

// AveragePrecision returns, for each of k classes, the area under its
// precision-recall curve (PRCurve): the sum over its points of the recall
// gained times the precision there, as scikit-learn's
// average_precision_score. A class with no image gets 0.
func AveragePrecision(probs []float32, labels []int, k int) []float64 {
	out := make([]float64, k)
	for c := range k {
		r, p, _ := PRCurve(probs, labels, k, c)
		prev := 0.0
		for i := range r {
			out[c] += (r[i] - prev) * p[i]
			prev = r[i]
		}
	}
	return out
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
	fmt.Fprintf(w, "majority class    %.4f\n", m.MajorityAccuracy)
	if m.ECE != nil && m.ECEUncalibrated != nil {
		fmt.Fprintf(w, "calibration error %.4f (ECE; %.4f before the model's temperature scaling)\n", *m.ECE, *m.ECEUncalibrated)
	}
	fmt.Fprintln(w)
	width := 10
	for _, c := range m.Classes {
		width = max(width, len(c))
	}
	fmt.Fprintf(w, "%-*s %9s %9s %9s %8s", width, "class", "precision", "recall", "f1", "support")
	if m.AveragePrecision != nil {
		fmt.Fprintf(w, " %9s", "avg prec")
	}
	fmt.Fprintln(w)
	for c, name := range m.Classes {
		fmt.Fprintf(w, "%-*s %9.4f %9.4f %9.4f %8d", width, name, m.Precision[c], m.Recall[c], m.F1[c], m.Support[c])
		if m.AveragePrecision != nil {
			fmt.Fprintf(w, " %9.4f", m.AveragePrecision[c])
		}
		fmt.Fprintln(w)
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

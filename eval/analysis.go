package eval

import (
	"fmt"
	"math"
	"sort"
)

// Prediction is what a classifier said about one image: its classes ranked
// by logit (ties broken by lower class number, as Ranks does) and the
// probabilities of the ones that matter.
type Prediction struct {
	Index     int     `json:"index"`      // position of the image in its split
	True      int     `json:"true"`       // true class
	Pred      int     `json:"pred"`       // top-1 class (highest logit)
	Second    int     `json:"second"`     // second-ranked class; -1 with a single class
	Conf      float64 `json:"confidence"` // probability of Pred: the top-1 probability
	TrueProb  float64 `json:"true_prob"`  // probability of the true class
	TrueRank  int     `json:"true_rank"`  // 1 = predicted, 2 = second choice, ...
	Ranking   []int   `json:"ranking"`    // every class, best first
	Correct   bool    `json:"correct"`
	SecondHit bool    `json:"second_right"` // wrong, and the second choice is the true class
}

// Predict ranks the classes of every image by its logits (n x k, row-major)
// and records the probabilities (n x k, each row summing to 1, in the same
// class order) of the top-1 and the true class. Ranking uses the logits, not
// the probabilities, because saturated probabilities tie where logits do not.
func Predict(logits, probs []float32, labels []int, k int) ([]Prediction, error) {
	n := len(labels)
	if k < 1 || len(logits) != n*k || len(probs) != n*k {
		return nil, fmt.Errorf("eval: %d logits and %d probabilities for %d images of %d classes", len(logits), len(probs), n, k)
	}
	ranks := Ranks(logits, k)
	out := make([]Prediction, n)
	for i, y := range labels {
		if y < 0 || y >= k {
			return nil, fmt.Errorf("eval: label %d of image %d out of range (0..%d)", y, i, k-1)
		}
		r := ranks[i]
		p := probs[i*k : (i+1)*k]
		pr := Prediction{Index: i, True: y, Pred: r[0], Second: -1, Conf: float64(p[r[0]]), TrueProb: float64(p[y]), Ranking: r}
		if k > 1 {
			pr.Second = r[1]
		}
		for pos, c := range r {
			if c == y {
				pr.TrueRank = pos + 1
				break
			}
		}
		pr.Correct = pr.Pred == y
		pr.SecondHit = !pr.Correct && pr.Second == y
		out[i] = pr
	}
	return out, nil
}

// Pair is one off-diagonal cell of the confusion matrix: images of class True
// predicted as Pred.
type Pair struct {
	True     int     `json:"true"`
	Pred     int     `json:"pred"`
	Count    int     `json:"count"`
	OfTrue   float64 `json:"of_true"`   // Count / images of class True
	OfErrors float64 `json:"of_errors"` // Count / all misclassified images
}

// Mistakes summarises what a classifier got wrong.
type Mistakes struct {
	N           int     `json:"n"`
	Wrong       int     `json:"wrong"`
	SecondRight int     `json:"second_right"`      // mistakes whose second choice is the true class
	SecondFrac  float64 `json:"second_right_frac"` // SecondRight / Wrong (0 without mistakes)
	// RankCounts[r] counts images whose true class was ranked r+1: RankCounts[0]
	// are the correct ones, RankCounts[1] the mistakes the second choice got.
	RankCounts []int `json:"rank_counts"`
	// TopK[j] is the fraction of images whose true class is among the j+1
	// highest ranked: the top-1, top-2, ... curve.
	TopK  []float64 `json:"top_k"`
	Pairs []Pair    `json:"pairs"` // confused pairs, most frequent first (ties: lower true, then lower predicted class)
}

// Summarise counts the mistakes among predictions of k classes.
func Summarise(preds []Prediction, k int) *Mistakes {
	m := &Mistakes{N: len(preds), RankCounts: make([]int, k), TopK: make([]float64, k)}
	conf := make([][]int, k)
	for c := range conf {
		conf[c] = make([]int, k)
	}
	for _, p := range preds {
		conf[p.True][p.Pred]++
		m.RankCounts[p.TrueRank-1]++
		if !p.Correct {
			m.Wrong++
			if p.SecondHit {
				m.SecondRight++
			}
		}
	}
	if m.Wrong > 0 {
		m.SecondFrac = float64(m.SecondRight) / float64(m.Wrong)
	}
	cum := 0
	for r, c := range m.RankCounts {
		cum += c
		if m.N > 0 {
			m.TopK[r] = float64(cum) / float64(m.N)
		}
	}
	m.Pairs = ConfusedPairs(conf)
	return m
}

// ConfusedPairs lists the non-zero off-diagonal cells of a confusion matrix
// (conf[true][predicted]), most frequent first; ties go to the lower true
// class, then the lower predicted class. OfTrue and OfErrors are filled in.
func ConfusedPairs(conf [][]int) []Pair {
	var out []Pair
	wrong := 0
	for t, row := range conf {
		n := 0
		for p, c := range row {
			n += c
			if p != t && c > 0 {
				out = append(out, Pair{True: t, Pred: p, Count: c})
				wrong += c
			}
		}
		for i := range out {
			if out[i].True == t && n > 0 {
				out[i].OfTrue = float64(out[i].Count) / float64(n)
			}
		}
	}
	for i := range out {
		out[i].OfErrors = float64(out[i].Count) / float64(wrong)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Count > out[b].Count })
	return out
}

// Worst returns up to n mistakes, the most confident first: the images the
// classifier was surest about and got wrong. Ties keep split order.
func Worst(preds []Prediction, n int) []Prediction {
	var w []Prediction
	for _, p := range preds {
		if !p.Correct {
			w = append(w, p)
		}
	}
	sort.SliceStable(w, func(a, b int) bool { return w[a].Conf > w[b].Conf })
	return w[:min(n, len(w))]
}

// Best returns up to n correctly classified images of class c, the most
// confident first (ties keep split order).
func Best(preds []Prediction, c, n int) []Prediction {
	var w []Prediction
	for _, p := range preds {
		if p.Correct && p.True == c {
			w = append(w, p)
		}
	}
	sort.SliceStable(w, func(a, b int) bool { return w[a].Conf > w[b].Conf })
	return w[:min(n, len(w))]
}

// Bin is one confidence bin of a calibration measurement.
type Bin struct {
	Lo         float64 `json:"lo"`
	Hi         float64 `json:"hi"`
	Count      int     `json:"count"`
	Confidence float64 `json:"confidence"` // mean top-1 probability of the images in the bin (0 when empty)
	Accuracy   float64 `json:"accuracy"`   // fraction of them classified correctly (0 when empty)
}

// Calibration says how well the top-1 probability matches the chance of
// being right.
//
// The images are put into B equal-width bins by their confidence, the
// top-1 probability p (the probability of the highest-ranked class): bin b
// holds b/B <= p < (b+1)/B, the last bin also p = 1. With n_b images in bin
// b, acc_b the fraction of them classified correctly and conf_b their mean
// confidence, the expected calibration error is
//
//	ECE = sum over b of (n_b / N) * |acc_b - conf_b|
//
// (Guo et al. 2017, "On calibration of modern neural networks"); 0 is
// perfect, and a classifier that says 0.9 but is right half the time adds
// 0.4 for each such image's share.
type Calibration struct {
	N    int     `json:"n"`
	ECE  float64 `json:"ece"`
	MCE  float64 `json:"mce"` // largest |acc_b - conf_b| over the non-empty bins
	Bins []Bin   `json:"bins"`
}

// DefaultBins is the number of confidence bins Calibrate is usually given.
const DefaultBins = 10

// Calibrate measures calibration over nbins equal-width confidence bins.
func Calibrate(preds []Prediction, nbins int) (*Calibration, error) {
	if nbins < 1 {
		return nil, fmt.Errorf("eval: %d calibration bins, want at least 1", nbins)
	}
	c := &Calibration{N: len(preds), Bins: make([]Bin, nbins)}
	sumConf := make([]float64, nbins)
	right := make([]int, nbins)
	for _, p := range preds {
		if math.IsNaN(p.Conf) {
			return nil, fmt.Errorf("eval: image %d has no probability (NaN): the model's scores are not numbers (did training diverge?)", p.Index)
		}
		b := min(max(int(math.Floor(p.Conf*float64(nbins))), 0), nbins-1)
		c.Bins[b].Count++
		sumConf[b] += p.Conf
		if p.Correct {
			right[b]++
		}
	}
	for b := range c.Bins {
		bin := &c.Bins[b]
		bin.Lo, bin.Hi = float64(b)/float64(nbins), float64(b+1)/float64(nbins)
		if bin.Count == 0 {
			continue
		}
		bin.Confidence = sumConf[b] / float64(bin.Count)
		bin.Accuracy = float64(right[b]) / float64(bin.Count)
		gap := math.Abs(bin.Accuracy - bin.Confidence)
		c.ECE += float64(bin.Count) / float64(c.N) * gap
		c.MCE = max(c.MCE, gap)
	}
	return c, nil
}

// RowNormalised returns the confusion matrix with each row divided by its
// sum: entry [t][p] is the fraction of class t predicted as p (the diagonal
// is per-class recall). Rows of absent classes are all zero.
func RowNormalised(conf [][]int) [][]float64 {
	out := make([][]float64, len(conf))
	for t, row := range conf {
		out[t] = make([]float64, len(row))
		n := 0
		for _, c := range row {
			n += c
		}
		if n == 0 {
			continue
		}
		for p, c := range row {
			out[t][p] = float64(c) / float64(n)
		}
	}
	return out
}

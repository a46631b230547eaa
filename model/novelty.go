package model

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/mat"

	"galaxy/data"
	"galaxy/model/modelfile"
)

// Novelty says how unlike the model's training images an image is, so that
// predict and serve can warn about inputs that are not galaxies of the kind
// the model knows (blank sky, a star, a screenshot) instead of giving them a
// confident class. The score is the Mahalanobis distance of the image's
// representation (Embedder) to the nearest class mean of the training
// images, with their pooled within-class covariance (Lee et al. 2018, "A
// simple unified framework for detecting out-of-distribution samples"): it
// needs K means and one D x D matrix, 68 KB for the built-in model, not the
// training images themselves.
type Novelty struct {
	K, D      int
	Means     []float32 // K x D: the class means of the training representations
	Precision []float32 // D x D: the inverse of their pooled covariance, shrunk towards its diagonal scale
	// Threshold is the score above which an image gets a warning: chosen
	// on the validation part so that about NoveltyQuantile of its galaxies
	// stay below it.
	Threshold float64
}

// NoveltyQuantile is the share of validation galaxies FitNovelty's threshold
// keeps below it.
const NoveltyQuantile = 0.99

// noveltyShrink is the weight of the identity (times the mean variance) in
// the covariance FitNovelty inverts: representations of a few thousand
// images in 128 dimensions leave small eigenvalues poorly measured.
const noveltyShrink = 0.1

// The model file's names for the novelty statistics.
const (
	tensorNoveltyMeans     = "novelty.means"
	tensorNoveltyPrecision = "novelty.precision"
	InfoNoveltyThreshold   = "novelty_threshold"
)

// FitNovelty fits the novelty statistics to the representations emb (n x
// d) of training images with classes labels (0..k-1), and sets the
// threshold to the NoveltyQuantile quantile of the scores of the
// validation representations val (m x d; nil: of the training ones).
func FitNovelty(emb []float32, labels []int, k, d int, val []float32) (*Novelty, error) {
	n := len(labels)
	if n < 2 || len(emb) != n*d {
		return nil, fmt.Errorf("novelty: %d representations of %d values for %d labels", len(emb)/max(d, 1), d, n)
	}
	nv := &Novelty{K: k, D: d, Means: make([]float32, k*d)}
	sum := make([]float64, k*d)
	count := make([]int, k)
	for i, y := range labels {
		count[y]++
		for j := range d {
			sum[y*d+j] += float64(emb[i*d+j])
		}
	}
	for c := range k {
		for j := range d {
			nv.Means[c*d+j] = float32(sum[c*d+j] / float64(max(count[c], 1)))
		}
	}
	cov := mat.NewSymDense(d, nil)
	diff := make([]float64, d)
	for i, y := range labels {
		for j := range d {
			diff[j] = float64(emb[i*d+j]) - float64(nv.Means[y*d+j])
		}
		cov.SymRankOne(cov, 1/float64(n), mat.NewVecDense(d, diff))
	}
	var scale float64
	for j := range d {
		scale += cov.At(j, j) / float64(d)
	}
	if !(scale > 0) {
		return nil, fmt.Errorf("novelty: the training representations do not vary")
	}
	for a := range d {
		for b := a; b < d; b++ {
			v := (1 - noveltyShrink) * cov.At(a, b)
			if a == b {
				v += noveltyShrink * scale
			}
			cov.SetSym(a, b, v)
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(cov) {
		return nil, fmt.Errorf("novelty: the covariance of the training representations is not positive definite")
	}
	var inv mat.SymDense
	if err := ch.InverseTo(&inv); err != nil {
		return nil, fmt.Errorf("novelty: %w", err)
	}
	nv.Precision = make([]float32, d*d)
	for a := range d {
		for b := range d {
			nv.Precision[a*d+b] = float32(inv.At(a, b))
		}
	}
	if val == nil {
		val = emb
	}
	scores := make([]float64, len(val)/d)
	nv.Scores(val, len(scores), scores)
	sort.Float64s(scores)
	nv.Threshold = scores[min(len(scores)-1, int(math.Ceil(NoveltyQuantile*float64(len(scores))))-1)]
	return nv, nil
}

// Scores writes into out the score of each of the b representations in emb
// (b x D): the Mahalanobis distance to the nearest class mean.
func (nv *Novelty) Scores(emb []float32, b int, out []float64) {
	d := nv.D
	diff := make([]float64, d)
	for i := range b {
		best := math.Inf(1)
		for c := range nv.K {
			for j := range d {
				diff[j] = float64(emb[i*d+j]) - float64(nv.Means[c*d+j])
			}
			var q float64
			for a := range d {
				row := nv.Precision[a*d : (a+1)*d]
				var s float64
				for bb, p := range row {
					s += float64(p) * diff[bb]
				}
				q += diff[a] * s
			}
			best = min(best, q)
		}
		out[i] = math.Sqrt(max(best, 0))
	}
}

// Warning returns the reason an image with novelty score s gets a warning,
// or "" when it gets none.
func (nv *Novelty) Warning(s float64) string {
	if s <= nv.Threshold {
		return ""
	}
	return fmt.Sprintf("unlike the galaxies the model was trained on (novelty %.1f > %.1f)", s, nv.Threshold)
}

// tensors returns the statistics as model-file tensors.
func (nv *Novelty) tensors() []modelfile.Tensor {
	return []modelfile.Tensor{{Name: tensorNoveltyMeans, Shape: []int{nv.K, nv.D}, Data: nv.Means},
		{Name: tensorNoveltyPrecision, Shape: []int{nv.D, nv.D}, Data: nv.Precision}}
}

// readNovelty returns the statistics a model file holds (nil when none).
func readNovelty(meta modelfile.Meta, tensors []modelfile.Tensor) (*Novelty, error) {
	i := slices.IndexFunc(tensors, func(t modelfile.Tensor) bool { return t.Name == tensorNoveltyMeans })
	if i < 0 {
		return nil, nil
	}
	sh := tensors[i].Shape
	if len(sh) != 2 {
		return nil, fmt.Errorf("novelty means of shape %v", sh)
	}
	nv := &Novelty{K: sh[0], D: sh[1], Means: tensors[i].Data}
	p, err := modelfile.Find(tensors, tensorNoveltyPrecision, nv.D, nv.D)
	if err != nil {
		return nil, err
	}
	nv.Precision = p
	if nv.Threshold, err = strconv.ParseFloat(meta.Info[InfoNoveltyThreshold], 64); err != nil || !(nv.Threshold > 0) {
		return nil, fmt.Errorf("novelty threshold %q", meta.Info[InfoNoveltyThreshold])
	}
	return nv, nil
}

// SetNovelty records nv in the model (saved with it).
func (m *Model) SetNovelty(nv *Novelty) {
	m.Novelty = nv
	m.Meta.Info[InfoNoveltyThreshold] = strconv.FormatFloat(nv.Threshold, 'g', -1, 64)
}

// NoveltyScores writes into out the novelty score of each of the b images
// of x (scaled features) and reports whether the model has novelty
// statistics and a network that gives representations.
func (m *Model) NoveltyScores(x []float32, b int, out []float64) bool {
	e, ok := m.Net.(Embedder)
	if m.Novelty == nil || !ok {
		return false
	}
	emb := make([]float32, b*e.EmbedDim())
	m.mu.Lock()
	e.Embed(x, b, emb)
	m.mu.Unlock()
	m.Novelty.Scores(emb, b, out)
	return true
}

// BatchEmbed returns e's representations of every image of s (Len x
// EmbedDim), in batches as BatchLogits scores them.
func BatchEmbed(e Embedder, s *data.Split) []float32 { return batched(s, e.EmbedDim(), e.Embed) }

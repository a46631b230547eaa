package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestNoveltyScores checks FitNovelty's statistics and Scores against a
// direct float64 computation (means, pooled covariance, shrinkage, inverse)
// on two Gaussian classes, and that points far from both score above the
// threshold while most of a fresh sample scores below it.
func TestNoveltyScores(t *testing.T) {
	const n, d, k = 600, 5, 2
	rng := rand.New(rand.NewPCG(3, 4))
	draw := func(c int) []float64 {
		v := make([]float64, d)
		for j := range v {
			v[j] = rng.NormFloat64() * float64(1+j%3)
			if c == 1 {
				v[j] += 6
			}
		}
		v[1] += 0.8 * v[0] // correlated coordinates
		return v
	}
	emb, labels := make([]float32, 0, n*d), make([]int, 0, n)
	rows := [][]float64{}
	for i := range n {
		v := draw(i % k)
		rows = append(rows, v)
		for _, x := range v {
			emb = append(emb, float32(x))
		}
		labels = append(labels, i%k)
	}
	nv, err := FitNovelty(emb, labels, k, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The reference, in float64.
	means := mat.NewDense(k, d, nil)
	for i, v := range rows {
		for j, x := range v {
			means.Set(labels[i], j, means.At(labels[i], j)+x/float64(n/k))
		}
	}
	cov := mat.NewDense(d, d, nil)
	for i, v := range rows {
		for a := range d {
			for b := range d {
				cov.Set(a, b, cov.At(a, b)+(v[a]-means.At(labels[i], a))*(v[b]-means.At(labels[i], b))/n)
			}
		}
	}
	tr := 0.0
	for j := range d {
		tr += cov.At(j, j) / d
	}
	for a := range d {
		for b := range d {
			v := 0.9 * cov.At(a, b)
			if a == b {
				v += 0.1 * tr
			}
			cov.Set(a, b, v)
		}
	}
	var inv mat.Dense
	if err := inv.Inverse(cov); err != nil {
		t.Fatal(err)
	}
	ref := func(v []float64) float64 {
		best := math.Inf(1)
		for c := range k {
			diff := mat.NewVecDense(d, nil)
			for j := range d {
				diff.SetVec(j, v[j]-means.At(c, j))
			}
			var pd mat.VecDense
			pd.MulVec(&inv, diff)
			best = min(best, mat.Dot(diff, &pd))
		}
		return math.Sqrt(best)
	}
	got := make([]float64, 1)
	for _, v := range append(rows[:20], []float64{30, -30, 0, 5, 9}, make([]float64, d)) {
		x := make([]float32, d)
		for j := range v {
			x[j] = float32(v[j])
		}
		nv.Scores(x, 1, got)
		if want := ref(v); math.Abs(got[0]-want) > 1e-4*(1+want) {
			t.Fatalf("score of %v: %v, float64 reference %v", v, got[0], want)
		}
	}
	far := []float32{30, -30, 0, 5, 9}
	nv.Scores(far, 1, got)
	if nv.Warning(got[0]) == "" {
		t.Errorf("a point far from both classes scored %.2f, threshold %.2f: no warning", got[0], nv.Threshold)
	}
	flagged := 0
	for range 1000 {
		v := draw(rng.IntN(k))
		x := make([]float32, d)
		for j := range v {
			x[j] = float32(v[j])
		}
		nv.Scores(x, 1, got)
		if nv.Warning(got[0]) != "" {
			flagged++
		}
	}
	if flagged > 30 {
		t.Errorf("%d of 1000 fresh in-distribution points flagged; the threshold keeps %.0f%% of the fitted ones", flagged, 100*NoveltyQuantile)
	}
}

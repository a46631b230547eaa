package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"galaxy/data"
	"galaxy/num"
)

// indexed scores image i (its index written in two pixels) with logits[i].
type indexed [][]float32

func (ix indexed) Logits(x []float32, b int, out []float32) {
	k := len(ix[0])
	for r := range b {
		i := int(math.Round(float64(x[2*r])*256))*256 + int(math.Round(float64(x[2*r+1])*256))
		copy(out[r*k:(r+1)*k], ix[i])
	}
}

// TestFitTemperature draws labels from softmax(u) and gives the classifier
// logits 3u (three times too confident): the fitted temperature is about
// 3, and its cross-entropy is the minimum (below T = 1 and T ± 10%).
func TestFitTemperature(t *testing.T) {
	const n, k = 4000, 4
	rng := rand.New(rand.NewPCG(1, 2))
	s := &data.Split{Name: "val", H: 1, W: 2, C: 1}
	ix := make(indexed, n)
	p := make([]float64, k)
	for i := range n {
		u := make([]float32, k)
		for c := range u {
			u[c] = float32(2 * rng.NormFloat64())
		}
		_, se := num.SoftmaxExp(u, k, 1, p)
		y, r := 0, rng.Float64()*se
		for r > p[y] && y < k-1 {
			r -= p[y]
			y++
		}
		for c := range u {
			u[c] *= 3
		}
		ix[i] = u
		s.Pixels = append(s.Pixels, uint8(i/256), uint8(i%256))
		s.Labels = append(s.Labels, y)
	}
	temp, nll1, nllT := FitTemperature(ix, s, k)
	if math.Abs(temp-3) > 0.3 || !(nllT < nll1) {
		t.Fatalf("temperature %v (want about 3), cross-entropy %v at T=1, %v at T", temp, nll1, nllT)
	}
	// The minimum: compare with the cross-entropy a little either side.
	ce := func(tt float64) float64 {
		var sum float64
		for i, y := range s.Labels {
			row := make([]float64, k)
			for c, v := range ix[i] {
				row[c] = float64(v) / tt
			}
			mx, se := num.SoftmaxExp(row, k, 1, p)
			sum += math.Log(se) + mx - row[y]
		}
		return sum / n
	}
	if d := math.Abs(ce(temp) - nllT); d > 1e-12 || ce(temp*1.1) <= nllT || ce(temp/1.1) <= nllT {
		t.Errorf("T %v is not the minimum: %v, %v either side (at T %v)", temp, ce(temp/1.1), ce(temp*1.1), nllT)
	}
}

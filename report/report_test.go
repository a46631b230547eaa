package report

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"galaxy/data"
	"galaxy/model"
	"galaxy/model/modelfile"
	"galaxy/train"
)

// table is a Classifier of another architecture than the seed network: it
// answers fixed logits (4 classes) by the image's first pixel, so the test
// knows every ranking, ties included.
type table map[uint8][]float32

func (t table) Tensors() []modelfile.Tensor { return nil }
func (t table) Hyper() map[string]int       { return nil }

func (t table) Logits(x []float32, b int, out []float32) {
	n := len(x) / b
	for i := range b {
		v := uint8(math.Round(float64(x[i*n] / data.Scale)))
		copy(out[i*4:(i+1)*4], t[v])
	}
}

// fixture: 12 one-channel 4x4 images of the four morph4 classes, all in the
// training split (the test split is empty); the first pixel says which
// logits the table gives.
func fixture(t *testing.T) (*model.Model, *data.Dataset) {
	t.Helper()
	const n, h = 12, 4
	raw := &data.Raw{Path: "fixture", N: n, H: h, W: h, C: 1, Pixels: make([]uint8, n*h*h), Codes: make([]int, n), Space: "gz1"}
	// morph4 classes by gz1 code: 0 smooth, 1 spiral, 3 edge-on, 5 merger.
	codes := []int{0, 0, 0, 0, 0, 0, 1, 1, 1, 3, 3, 5}
	for i := range n {
		raw.Codes[i] = codes[i]
		raw.Pixels[i*h*h] = uint8(i)
		for p := 1; p < h*h; p++ {
			raw.Pixels[i*h*h+p] = uint8(40 * (p % 5))
		}
	}
	ds, err := data.Prepare(raw, data.Options{Scheme: "morph4", Channels: "all", TestFrac: 0, SplitSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Logits per image (first pixel = image number). Ties rank the lower
	// class first.
	tab := table{}
	logit := [][]float32{
		{5, 0, 0, 0}, {4, 1, 0, 0}, {3, 0, 1, 0}, // smooth: right
		{0, 3, 0, 0}, // smooth: wrong, second choice (0 of the tied 0, 2, 3) right
		{0, 0, 2, 0}, // smooth: wrong, second right
		{1, 1, 1, 1}, // smooth: all tie, predicted 0: right
		{0, 4, 0, 0}, // spiral: right
		{2, 1, 0, 0}, // spiral: wrong, second right
		{0, 0, 0, 3}, // spiral: wrong, ranked 3rd (after 3 and the tied 0)
		{0, 0, 6, 0}, // edge-on: right
		{0, 0, 1, 2}, // edge-on: wrong, second right
		{3, 0, 0, 1}, // merger: wrong, second right
	}
	for i, l := range logit {
		tab[uint8(i)] = append(l[:0:0], l...)
	}
	m := &model.Model{Net: tab, Meta: modelfile.Meta{Arch: "table", Scheme: "morph4", Classes: ds.Scheme.Classes,
		Input: modelfile.Input{Height: h, Width: h, Channels: []int{0}, SourceChannels: 1, Scale: data.Scale}}}
	return m, ds
}

func TestAnalyzeAnyClassifier(t *testing.T) {
	m, ds := fixture(t)
	a, err := Analyze(m, ds, "all", 10)
	if err != nil {
		t.Fatal(err)
	}
	if a.Metrics.N != 12 {
		t.Fatalf("n %d", a.Metrics.N)
	}
	// Right: images 0,1,2,5,6,9 = 6. Wrong: 3,4,7,8,10,11 = 6.
	mk := a.Mistakes
	if mk.Wrong != 6 || a.Metrics.Accuracy != 0.5 {
		t.Errorf("wrong %d accuracy %v, want 6 and 0.5", mk.Wrong, a.Metrics.Accuracy)
	}
	// Second choice right: images 3, 4, 7, 10, 11; image 8's true class is
	// ranked 3rd.
	if mk.SecondRight != 5 || mk.RankCounts[0] != 6 || mk.RankCounts[1] != 5 || mk.RankCounts[2] != 1 {
		t.Errorf("second right %d, rank counts %v; want 5 and [6 5 1 0]", mk.SecondRight, mk.RankCounts)
	}
	if math.Abs(a.Metrics.Top2Accuracy-11.0/12) > 1e-12 || math.Abs(mk.TopK[1]-a.Metrics.Top2Accuracy) > 1e-12 {
		t.Errorf("top-2 %v / %v, want 11/12", a.Metrics.Top2Accuracy, mk.TopK[1])
	}
	// Not a seed network: probabilities are a softmax of the logits.
	p5 := a.Probs[5*4 : 6*4]
	for _, p := range p5 {
		if math.Abs(float64(p)-0.25) > 1e-6 {
			t.Errorf("softmax of equal logits %v", p5)
		}
	}
	if a.Calib.ECE < 0 || a.Calib.ECE > 1 || a.Calib.N != 12 {
		t.Errorf("calibration %+v", a.Calib)
	}
	one, err := Inspect(m, a.Split, 8)
	if err != nil {
		t.Fatal(err)
	}
	if one.Ranking[0] != 3 || one.Ranking[1] != 0 || one.True != 1 {
		t.Errorf("inspect image 8: %+v", one)
	}
	if _, err := Inspect(m, a.Split, 12); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("index 12: %v", err)
	}
	img, err := InspectImage(m.Meta.Classes, a.Split, one, "image 8")
	if err != nil || img.Bounds().Dx() < 300 {
		t.Fatalf("inspect image: %v", err)
	}
	g, worst, err := MistakeGallery(a, 4, 2)
	if err != nil || g == nil || len(worst) != 4 {
		t.Fatalf("gallery: %v, %d tiles", err, len(worst))
	}
	if worst[0].Conf < worst[3].Conf {
		t.Errorf("worst mistakes not most confident first: %+v", worst)
	}
	if _, err := Analyze(m, ds, "test", 10); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty split: %v", err)
	}
}

func TestHTML(t *testing.T) {
	m, ds := fixture(t)
	a, err := Analyze(m, ds, "all", 10)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := &train.Record{Dir: dir, Model: m, Metrics: &train.Metrics{Steps: 100, Config: train.Config{Steps: 100, LR: 0.001}}}
	path := filepath.Join(dir, "report.html")
	if err := Write(path, run, a, Options{Now: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"<!DOCTYPE html>", "face-on spiral", "Confusion matrix", "reliability diagram", "Worst mistakes",
		"data:image/png;base64,", "2026-01-02 03:04 UTC", "steps 100", "no learning curve", "second choice was the true class for 5", "Precision and recall by class", "avg precision"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(s, "http://") || strings.Contains(s, "https://") || strings.Contains(s, "ZgotmplZ") {
		t.Error("report has a URL or a refused value")
	}
	if strings.Count(s, "<img ") < 3+6+4 {
		t.Errorf("%d pictures", strings.Count(s, "<img "))
	}
}

func TestGalaxyImageChannels(t *testing.T) {
	s := &data.Split{Name: "x", H: 2, W: 2, C: 2, Pixels: []uint8{0, 9, 50, 9, 100, 9, 200, 9}, Labels: []int{0}, Index: []int{0}}
	img, err := GalaxyImage(s, 0, 3)
	if err != nil || img.Bounds().Dx() != 6 {
		t.Fatalf("two channels: %v", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if tileScale(69, 19) != 2 || tileScale(69, 20) != 3 || tileScale(69, 100) != 4 {
		t.Errorf("tile scales %d %d %d", tileScale(69, 19), tileScale(69, 20), tileScale(69, 100))
	}
}

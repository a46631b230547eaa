package plot

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"galaxy/eval"
)

// keep writes the figure as PNG and SVG into $GALAXY_PLOT_OUT (to look at)
// or a temporary folder, and checks both are drawn.
func keep(t *testing.T, name string, f *Figure) image.Image {
	t.Helper()
	dir := os.Getenv("GALAXY_PLOT_OUT")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := f.Save(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	colours := map[[3]uint32]bool{}
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y += 3 {
		for x := bd.Min.X; x < bd.Max.X; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
		}
	}
	if len(colours) < 8 {
		t.Errorf("%s: %d colours: nearly blank", name, len(colours))
	}
	return img
}

func svgOf(t *testing.T, f *Figure) string {
	var buf bytes.Buffer
	if err := f.Write(&buf, "svg"); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestConfusion(t *testing.T) {
	classes := []string{"smooth", "face-on spiral", "edge-on disk", "merger"}
	counts := [][]int{{380, 10, 7, 0}, {40, 25, 5, 0}, {20, 3, 62, 0}, {8, 1, 1, 0}}
	f, err := Confusion(classes, counts, "Confusion matrix (test split)")
	if err != nil {
		t.Fatal(err)
	}
	keep(t, "confusion", f)
	s := svgOf(t, f)
	for _, want := range []string{"face-on spiral", "predicted class", "true class", "380", "96%"} {
		if !strings.Contains(s, want) {
			t.Errorf("confusion SVG lacks %q", want)
		}
	}
	g10 := make([]string, 10)
	c10 := make([][]int, 10)
	for i := range g10 {
		g10[i] = "Disk, edge-on, rounded bulge"[:10+i]
		c10[i] = make([]int, 10)
		c10[i][i], c10[i][(i+1)%10] = 30, i
	}
	f, err = Confusion(g10, c10, "Ten classes with long names")
	if err != nil {
		t.Fatal(err)
	}
	keep(t, "confusion10", f)
	if _, err := Confusion(classes, counts[:2], "x"); err == nil {
		t.Error("2 rows for 4 classes accepted")
	}
}

func TestReliabilityTopKProbabilities(t *testing.T) {
	c := &eval.Calibration{N: 500, ECE: 0.061, Bins: make([]eval.Bin, 10)}
	for b := range c.Bins {
		c.Bins[b] = eval.Bin{Lo: float64(b) / 10, Hi: float64(b+1) / 10}
		if b >= 3 {
			c.Bins[b].Count = 20 * b
			c.Bins[b].Confidence = float64(b)/10 + 0.05
			c.Bins[b].Accuracy = float64(b)/10 - 0.03*float64(b%3)
		}
	}
	f, err := Reliability(c, "Reliability diagram")
	if err != nil {
		t.Fatal(err)
	}
	keep(t, "reliability", f)
	if s := svgOf(t, f); !strings.Contains(s, "ECE 0.061") || !strings.Contains(s, "n=180") {
		t.Error("reliability SVG lacks the ECE or bin counts")
	}
	f, err = TopK([]float64{0.787, 0.95, 0.99, 1}, "Top-k accuracy")
	if err != nil {
		t.Fatal(err)
	}
	keep(t, "topk", f)
	if s := svgOf(t, f); !strings.Contains(s, "top-2") || !strings.Contains(s, "95.0%") {
		t.Error("top-k SVG lacks labels")
	}
	f, err = Probabilities([]string{"smooth", "face-on spiral", "edge-on disk", "merger"}, []float64{0.55, 0.3, 0.1, 0.05}, []int{0, 1, 2, 3}, 1, "Test galaxy 17")
	if err != nil {
		t.Fatal(err)
	}
	keep(t, "probabilities", f)
	if s := svgOf(t, f); !strings.Contains(s, "2. face-on spiral") || !strings.Contains(s, "(true class)") {
		t.Error("probability SVG lacks ranked class names")
	}
	if _, err := Reliability(&eval.Calibration{}, "x"); err == nil {
		t.Error("no bins accepted")
	}
	if _, err := Probabilities([]string{"a"}, []float64{1, 0}, []int{0}, 0, "x"); err == nil {
		t.Error("mismatched probabilities accepted")
	}
}

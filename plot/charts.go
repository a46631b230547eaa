package plot

import (
	"fmt"
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"galaxy/eval"
)

var (
	white = color.RGBA{255, 255, 255, 255}
	// blues is ColorBrewer's 9-class "Blues" (matplotlib's Blues), light to dark.
	blues = []color.RGBA{
		{0xf7, 0xfb, 0xff, 255}, {0xde, 0xeb, 0xf7, 255}, {0xc6, 0xdb, 0xef, 255},
		{0x9e, 0xca, 0xe1, 255}, {0x6b, 0xae, 0xd6, 255}, {0x42, 0x92, 0xc6, 255},
		{0x21, 0x71, 0xb5, 255}, {0x08, 0x51, 0x9c, 255}, {0x08, 0x30, 0x6b, 255},
	}
	barBlue  = color.RGBA{0x1f, 0x77, 0xb4, 255}
	barGreen = color.RGBA{0x2c, 0xa0, 0x2c, 255}
	barRed   = color.RGBA{0xd6, 0x27, 0x28, 255}
	barGrey  = color.RGBA{0x9a, 0xa7, 0xb4, 255}
	gapRed   = color.NRGBA{0xd6, 0x27, 0x28, 120}
	darkGrey = color.RGBA{0x44, 0x44, 0x44, 255}
)

// Confusion draws a confusion matrix (counts[true][predicted]) as a heat
// map: true classes top to bottom, predicted classes left to right, each
// cell coloured by the share of its true class (row-normalised, white 0 to
// dark blue 1) and labelled with the count and that share.
func Confusion(classes []string, counts [][]int, title string) (*Figure, error) {
	k := len(classes)
	if k == 0 || len(counts) != k {
		return nil, fmt.Errorf("plot: confusion matrix of %d rows for %d classes", len(counts), k)
	}
	for _, row := range counts {
		if len(row) != k {
			return nil, fmt.Errorf("plot: confusion matrix row of %d for %d classes", len(row), k)
		}
	}
	norm := eval.RowNormalised(counts)
	p := newPlot(title, "predicted class", "true class")
	size := 11.0
	if k > 6 {
		size = 9
	}
	cells := &rects{font: font.From(sans, vg.Length(size))}
	for t := range k {
		y := float64(k - 1 - t)
		for c := range k {
			v := norm[t][c]
			lc := color.Color(color.Black)
			if v >= 0.55 {
				lc = white
			}
			label := "0"
			if counts[t][c] > 0 {
				label = fmt.Sprintf("%d\n%.0f%%", counts[t][c], 100*v)
			}
			cells.r = append(cells.r, rect{x0: float64(c) - 0.5, x1: float64(c) + 0.5, y0: y - 0.5, y1: y + 0.5,
				fill: ramp(blues, v), stroke: white, label: label, labelColour: lc})
		}
	}
	p.Add(cells)
	p.X.Tick.Marker = classTicks(classes, false)
	p.Y.Tick.Marker = classTicks(classes, true)
	p.X.Padding, p.Y.Padding = 0, 0
	p.X.Tick.Length, p.Y.Tick.Length = 0, 0
	p.X.Min, p.X.Max = -0.5, float64(k)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(k)-0.5
	w, h := 5.6*vg.Inch, 4.5*vg.Inch
	if long := longest(classes); long > 14 || k > 6 {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YTop
		w, h = 9*vg.Inch, 7.5*vg.Inch
	}
	return &Figure{Plot: p, W: w, H: h}, nil
}

// Reliability draws the reliability diagram of a calibration measurement:
// for each confidence bin a bar up to the fraction of its images classified
// correctly, a translucent red bar for the gap to the bin's mean confidence
// (above the bar when the model is overconfident, over it when it is
// underconfident),
// the image count above it, and the diagonal a perfectly calibrated
// classifier would follow. The title carries the expected calibration
// error.
func Reliability(c *eval.Calibration, title string) (*Figure, error) {
	if c == nil || len(c.Bins) == 0 {
		return nil, fmt.Errorf("plot: no calibration bins")
	}
	p := newPlot(fmt.Sprintf("%s (ECE %.3f, %d bins)", title, c.ECE, len(c.Bins)),
		"confidence (top-1 probability)", "fraction correct")
	p.Add(plotter.NewGrid())
	bars, gaps, counts := &rects{}, &rects{}, &rects{font: font.From(sans, 8)}
	for _, b := range c.Bins {
		if b.Count == 0 {
			continue
		}
		bars.r = append(bars.r, rect{x0: b.Lo, x1: b.Hi, y0: 0, y1: b.Accuracy, fill: barBlue, stroke: white})
		gaps.r = append(gaps.r, rect{x0: b.Lo + 0.15*(b.Hi-b.Lo), x1: b.Hi - 0.15*(b.Hi-b.Lo), y0: b.Accuracy, y1: b.Confidence, fill: gapRed, stroke: barRed})
		top := max(b.Accuracy, b.Confidence)
		counts.r = append(counts.r, rect{x0: b.Lo, x1: b.Hi, y0: top, y1: top, label: fmt.Sprintf("n=%d", b.Count), labelAt: "above", labelColour: darkGrey})
	}
	p.Add(bars, gaps, counts)
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return nil, err
	}
	diag.Color = darkGrey
	diag.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(diag)
	p.Legend.Add("fraction correct in bin", swatch(barBlue))
	p.Legend.Add("gap to mean confidence", swatch(gapRed))
	p.Legend.Add("perfect calibration", diag)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(6), -vg.Points(4)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1.08
	p.X.Tick.Marker = fixedTicks(0, 1, 0.1)
	p.Y.Tick.Marker = fixedTicks(0, 1, 0.2)
	return &Figure{Plot: p, W: 6 * vg.Inch, H: 5 * vg.Inch}, nil
}

// TopK draws top-k accuracy as bars: bar k is the fraction of images whose
// true class is among the k highest ranked, labelled in per cent.
func TopK(topk []float64, title string) (*Figure, error) {
	if len(topk) == 0 {
		return nil, fmt.Errorf("plot: no top-k figures")
	}
	p := newPlot(title, "k (classes allowed)", "true class among the top k")
	p.Add(plotter.NewGrid())
	bars := &rects{font: font.From(sans, 10)}
	names := make([]string, len(topk))
	for j, v := range topk {
		bars.r = append(bars.r, rect{x0: float64(j) - 0.35, x1: float64(j) + 0.35, y0: 0, y1: v, fill: barBlue,
			label: fmt.Sprintf("%.1f%%", 100*v), labelAt: "above"})
		names[j] = fmt.Sprintf("top-%d", j+1)
	}
	p.Add(bars)
	p.X.Tick.Marker = classTicks(names, false)
	p.Y.Tick.Marker = fixedTicks(0, 1, 0.2)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.6, float64(len(topk))-0.4, 0, 1.1
	return &Figure{Plot: p, W: vg.Length(max(4, 1+0.6*float64(len(topk)))) * vg.Inch, H: 3.5 * vg.Inch}, nil
}

// Probabilities draws one image's class probabilities as horizontal bars,
// highest first (order gives the classes by rank), the true class green, a
// wrong top-1 class red, the others grey, each labelled with its value.
func Probabilities(classes []string, probs []float64, order []int, trueClass int, title string) (*Figure, error) {
	k := len(classes)
	if len(probs) != k || len(order) != k {
		return nil, fmt.Errorf("plot: %d probabilities and %d ranks for %d classes", len(probs), len(order), k)
	}
	p := newPlot(title, "probability", "")
	p.Add(plotter.NewGrid())
	bars := &rects{font: font.From(sans, 10)}
	names := make([]string, k)
	for pos, c := range order {
		y := float64(k - 1 - pos)
		fill := barGrey
		switch {
		case c == trueClass:
			fill = barGreen
		case pos == 0:
			fill = barRed
		}
		label := fmt.Sprintf("%.3f", probs[c])
		if c == trueClass {
			label += "  (true class)"
		}
		bars.r = append(bars.r, rect{x0: 0, x1: probs[c], y0: y - 0.35, y1: y + 0.35, fill: fill, label: label, labelAt: "right"})
		names[pos] = fmt.Sprintf("%d. %s", pos+1, classes[c])
	}
	p.Add(bars)
	p.Y.Tick.Marker = classTicks(names, true)
	p.Y.Tick.Length = 0
	p.X.Tick.Marker = fixedTicks(0, 1, 0.2)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1.3, -0.6, float64(k)-0.4
	return &Figure{Plot: p, W: 5.5 * vg.Inch, H: vg.Length(max(2.2, 0.9+0.35*float64(k))) * vg.Inch}, nil
}

// fixedTicks labels lo, lo+step, ..., hi.
func fixedTicks(lo, hi, step float64) gplot.ConstantTicks {
	var t gplot.ConstantTicks
	for i := 0; ; i++ {
		v := lo + float64(i)*step
		if v > hi+step/2 {
			break
		}
		t = append(t, gplot.Tick{Value: v, Label: fmt.Sprintf("%g", math.Round(v*1000)/1000)})
	}
	return t
}

// swatch is a legend entry showing a filled square.
type swatchThumb struct{ c color.Color }

func swatch(c color.Color) swatchThumb { return swatchThumb{c} }

func (s swatchThumb) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(s.c, pts)
}

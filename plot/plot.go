// Package plot draws the project's charts with gonum/plot, as PNG and SVG,
// titled and labelled: the learning curve the assignment asks for (test
// accuracy against step) and the loss curves (Chart); the confusion matrix
// as a heat map, the reliability diagram of calibration, top-k accuracy, and
// one image's class probabilities (Confusion, Reliability, TopK,
// Probabilities). Classes are named, never numbered.
package plot

import (
	"fmt"
	"image/color"
	"io"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Series is one line of a chart.
type Series struct {
	Name string
	X, Y []float64
}

// Chart describes a line chart.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
	// YMin and YMax fix the vertical range when YMax > YMin.
	YMin, YMax float64
	// Baseline draws a dashed horizontal reference line (e.g. the
	// majority-class accuracy) when BaselineName is not empty.
	Baseline     float64
	BaselineName string
	// LegendTop puts the legend in the top right corner instead of the
	// bottom right (for curves that fall, such as losses).
	LegendTop bool
}

var palette = []color.RGBA{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 255}, {R: 0xff, G: 0x7f, B: 0x0e, A: 255},
	{R: 0x2c, G: 0xa0, B: 0x2c, A: 255}, {R: 0xd6, G: 0x27, B: 0x28, A: 255},
}

func (c Chart) build() (*gplot.Plot, error) {
	p := newPlot(c.Title, c.XLabel, c.YLabel)
	p.Add(plotter.NewGrid())
	xmin, xmax := 0.0, 1.0
	for i, s := range c.Series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("plot %q: series %q has %d x and %d y values", c.Title, s.Name, len(s.X), len(s.Y))
		}
		pts := make(plotter.XYs, len(s.X))
		for j := range s.X {
			pts[j].X, pts[j].Y = s.X[j], s.Y[j]
			if i == 0 && j == 0 {
				xmin, xmax = s.X[j], s.X[j]
			}
			xmin, xmax = min(xmin, s.X[j]), max(xmax, s.X[j])
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("plot %q: %w", c.Title, err)
		}
		line.Color = palette[i%len(palette)]
		line.Width = vg.Points(1.5)
		p.Add(line)
		if len(c.Series) > 1 || c.BaselineName != "" {
			p.Legend.Add(s.Name, line)
		}
	}
	if c.BaselineName != "" {
		base, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: c.Baseline}, {X: xmax, Y: c.Baseline}})
		if err != nil {
			return nil, err
		}
		base.Color = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 255}
		base.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(base)
		p.Legend.Add(c.BaselineName, base)
	}
	p.Legend.Top = c.LegendTop
	p.Legend.Left = false
	p.Legend.YOffs = vg.Points(8)
	if c.LegendTop {
		p.Legend.YOffs = -vg.Points(4)
	}
	if c.YMax > c.YMin {
		p.Y.Min, p.Y.Max = c.YMin, c.YMax
	}
	return p, nil
}

// Figure returns the chart as a 6x4 inch figure.
func (c Chart) Figure() (*Figure, error) {
	p, err := c.build()
	if err != nil {
		return nil, err
	}
	return &Figure{Plot: p, W: 6 * vg.Inch, H: 4 * vg.Inch}, nil
}

// Write renders the chart in the format named by ext ("png" or "svg") at
// 6x4 inches.
func (c Chart) Write(w io.Writer, ext string) error {
	f, err := c.Figure()
	if err != nil {
		return err
	}
	return f.Write(w, ext)
}

// Save writes the chart to base+".png" and base+".svg", each atomically.
func (c Chart) Save(base string) error {
	f, err := c.Figure()
	if err != nil {
		return err
	}
	return f.Save(base)
}

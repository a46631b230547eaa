package plot

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"galaxy/internal/atomicfile"
)

// Figure is a finished chart and the size it is drawn at.
type Figure struct {
	Plot *gplot.Plot
	W, H vg.Length
}

// DefaultDPI is the resolution of PNG files written by Write and Save.
const DefaultDPI = 96

// sans is the typeface of every chart: Liberation Sans (bundled with
// gonum/plot, so drawing needs no system font), easier to read at small
// sizes than the default serif.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// newPlot returns a plot with the project's text styles: sans-serif, a 13 pt
// title, 11 pt axis labels, 10 pt tick labels and legend.
func newPlot(title, xlabel, ylabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 13)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 11)
		a.Tick.Label.Font = font.From(sans, 10)
	}
	p.Legend.TextStyle.Font = font.From(sans, 10)
	return p
}

// Image draws the figure at dpi dots per inch.
func (f *Figure) Image(dpi int) image.Image {
	c := vgimg.NewWith(vgimg.UseWH(f.W, f.H), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	f.Plot.Draw(draw.New(c))
	return c.Image()
}

// PNG encodes the figure as a PNG at dpi dots per inch.
func (f *Figure) PNG(dpi int) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, f.Image(dpi)); err != nil {
		return nil, fmt.Errorf("plot %q: %w", f.Plot.Title.Text, err)
	}
	return buf.Bytes(), nil
}

// Write renders the figure in the format named by ext: "png" (at
// DefaultDPI) or "svg".
func (f *Figure) Write(w io.Writer, ext string) error {
	if ext == "png" {
		b, err := f.PNG(DefaultDPI)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	wt, err := f.Plot.WriterTo(f.W, f.H, ext)
	if err != nil {
		return fmt.Errorf("plot %q: %w", f.Plot.Title.Text, err)
	}
	_, err = wt.WriteTo(w)
	return err
}

// Save writes the figure to base+".png" and base+".svg", each atomically.
func (f *Figure) Save(base string) error {
	for _, ext := range []string{"png", "svg"} {
		var buf bytes.Buffer
		if err := f.Write(&buf, ext); err != nil {
			return err
		}
		if err := atomicfile.WriteBytes(base+"."+ext, buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// rect is one filled rectangle of a chart, in data coordinates, with an
// optional label.
type rect struct {
	x0, x1, y0, y1 float64
	fill           color.Color
	stroke         color.Color // nil: no outline
	label          string
	labelColour    color.Color
	labelAt        string // "centre" (default), "above", "right"
}

// rects is a plotter of rectangles, drawn in order.
type rects struct {
	r    []rect
	font font.Font
}

func (rs *rects) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, r := range rs.r {
		x0, x1, y0, y1 := trX(r.x0), trX(r.x1), trY(r.y0), trY(r.y1)
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		if r.fill != nil {
			c.FillPolygon(r.fill, c.ClipPolygonXY(pts))
		}
		if r.stroke != nil {
			c.StrokeLines(draw.LineStyle{Color: r.stroke, Width: vg.Points(0.75)}, c.ClipLinesXY(append(pts, pts[0]))...)
		}
		if r.label == "" {
			continue
		}
		sty := draw.TextStyle{Color: r.labelColour, Font: rs.font, Handler: p.TextHandler, XAlign: draw.XCenter, YAlign: draw.YCenter}
		if sty.Color == nil {
			sty.Color = color.Black
		}
		pt := vg.Point{X: (x0 + x1) / 2, Y: (y0 + y1) / 2}
		switch r.labelAt {
		case "above":
			pt.Y, sty.YAlign = max(y0, y1)+vg.Points(2), draw.YBottom
		case "right":
			pt.X, sty.XAlign = max(x0, x1)+vg.Points(3), draw.XLeft
		}
		c.FillText(sty, pt, r.label)
	}
}

func (rs *rects) DataRange() (xmin, xmax, ymin, ymax float64) {
	if len(rs.r) == 0 {
		return 0, 1, 0, 1
	}
	xmin, xmax, ymin, ymax = rs.r[0].x0, rs.r[0].x0, rs.r[0].y0, rs.r[0].y0
	for _, r := range rs.r {
		xmin, xmax = min(xmin, r.x0, r.x1), max(xmax, r.x0, r.x1)
		ymin, ymax = min(ymin, r.y0, r.y1), max(ymax, r.y0, r.y1)
	}
	return xmin, xmax, ymin, ymax
}

// mix returns a + t*(b-a) per channel, t in [0, 1].
func mix(a, b color.RGBA, t float64) color.RGBA {
	t = min(max(t, 0), 1)
	f := func(x, y uint8) uint8 { return uint8(float64(x) + t*(float64(y)-float64(x)) + 0.5) }
	return color.RGBA{f(a.R, b.R), f(a.G, b.G), f(a.B, b.B), 255}
}

// ramp interpolates the colour stops at t in [0, 1].
func ramp(stops []color.RGBA, t float64) color.RGBA {
	t = min(max(t, 0), 1) * float64(len(stops)-1)
	i := min(int(t), len(stops)-2)
	return mix(stops[i], stops[i+1], t-float64(i))
}

// classTicks labels the integer positions 0..len(names)-1 with names, in
// reverse when top is true (position len-1-i gets names[i]).
func classTicks(names []string, top bool) gplot.ConstantTicks {
	t := make(gplot.ConstantTicks, len(names))
	for i, n := range names {
		v := float64(i)
		if top {
			v = float64(len(names) - 1 - i)
		}
		t[i] = gplot.Tick{Value: v, Label: n}
	}
	return t
}

func longest(names []string) int {
	n := 0
	for _, s := range names {
		n = max(n, len(s))
	}
	return n
}

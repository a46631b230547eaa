package report

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/png"

	"gonum.org/v1/plot/vg"

	"galaxy/data"
	"galaxy/eval"
	"galaxy/plot"
	"galaxy/render"
)

// GalaxyImage draws image i of s with render.Galaxy (viridis for one
// channel, true colour for three), each pixel scale x scale. Images of two
// channels, which have no natural colouring, are drawn from their first.
func GalaxyImage(s *data.Split, i, scale int) (*image.RGBA, error) {
	pix, c := s.Image(i), s.C
	if c != 1 && c != 3 {
		one := make([]uint8, s.H*s.W)
		for p := range one {
			one[p] = pix[p*c]
		}
		pix, c = one, 1
	}
	return render.Galaxy(pix, s.H, s.W, c, scale)
}

// tileScale is the smallest upscaling (2 to 4) at which an image w pixels
// wide leaves room for a line of chars characters of the gallery's font.
func tileScale(w, chars int) int {
	const advance = 7 // render's glyph advance
	need := chars*advance - 1
	for s := 2; s < 4; s++ {
		if w*s >= need {
			return s
		}
	}
	return 4
}

// MistakeTitle is the first text line of a mistake's tile: its index in
// the split and its true class.
func MistakeTitle(classes []string, p eval.Prediction) string {
	return fmt.Sprintf("#%d true: %s", p.Index, classes[p.True])
}

// MistakeSub is the second line: the predicted class and its probability.
func MistakeSub(classes []string, p eval.Prediction) string {
	return fmt.Sprintf("pred: %s %.2f", classes[p.Pred], p.Conf)
}

// MistakeGallery draws the worst mistakes (the n most confident wrong
// predictions) in rows of cols tiles, each titled with the true class and
// the predicted class with its probability. It returns the picture and the
// mistakes it shows, in order; with no mistakes the picture is nil.
func MistakeGallery(a *Analysis, n, cols int) (*image.RGBA, []eval.Prediction, error) {
	worst := eval.Worst(a.Preds, n)
	if len(worst) == 0 {
		return nil, nil, nil
	}
	classes := a.Model.Meta.Classes
	chars := 0
	for _, p := range worst {
		chars = max(chars, len(MistakeTitle(classes, p)), len(MistakeSub(classes, p)))
	}
	scale := tileScale(a.Split.W, chars)
	tiles := make([]render.Tile, len(worst))
	for j, p := range worst {
		img, err := GalaxyImage(a.Split, p.Index, scale)
		if err != nil {
			return nil, nil, err
		}
		tiles[j] = render.Tile{Img: img, Title: MistakeTitle(classes, p), Sub: MistakeSub(classes, p)}
	}
	return render.Gallery(tiles, cols), worst, nil
}

// InspectImage draws galaxy i of s (scaled by 4) beside a chart of the
// model's class probabilities, ranked, the true class marked.
func InspectImage(classes []string, s *data.Split, one *One, title string) (image.Image, error) {
	gal, err := GalaxyImage(s, one.Index, 4)
	if err != nil {
		return nil, err
	}
	probs := make([]float64, len(one.Probs))
	for c, p := range one.Probs {
		probs[c] = float64(p)
	}
	fig, err := plot.Probabilities(classes, probs, one.Ranking, one.True, title)
	if err != nil {
		return nil, err
	}
	gh := gal.Bounds().Dy()
	fig.H = vg.Length(max(float64(gh), float64(fig.H.Dots(plot.DefaultDPI)))) / plot.DefaultDPI * vg.Inch
	chart := fig.Image(plot.DefaultDPI)
	const pad = 12
	cb := chart.Bounds()
	h := max(gh, cb.Dy()) + 2*pad
	out := image.NewRGBA(image.Rect(0, 0, pad+gal.Bounds().Dx()+pad+cb.Dx()+pad, h))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(out, gal.Bounds().Add(image.Pt(pad, (h-gh)/2)), gal, image.Point{}, draw.Src)
	draw.Draw(out, cb.Sub(cb.Min).Add(image.Pt(2*pad+gal.Bounds().Dx(), pad)), chart, cb.Min, draw.Src)
	return out, nil
}

// pngBytes encodes img as PNG.
func pngBytes(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

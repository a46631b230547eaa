// Package nongalaxy draws images that are not galaxy cutouts, of the kinds a
// galaxy classifier is given by mistake: blank sky, a lone star, noise, a
// photo-like scene, a screenshot of a page, and a galaxy with its bands in
// the wrong order. Tests check that a model's novelty score (model.Novelty)
// flags them; testdata holds the set, which TestCommittedSet regenerates
// with -update.
package nongalaxy

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"galaxy/data/synth"
)

// Size is the side of the images: the size the models take.
const Size = 69

// Kinds are the kinds of image, in the order Set draws them.
var Kinds = []string{"sky", "star", "noise", "photo", "screenshot", "bands"}

// Set returns perKind images of each kind, drawn from seed.
func Set(perKind int, seed uint64) (imgs []*image.RGBA, kinds []string) {
	rng := rand.New(rand.NewPCG(seed, 0x6e6f6e))
	for _, k := range Kinds {
		for range perKind {
			imgs = append(imgs, Draw(k, Size, Size, rng))
			kinds = append(kinds, k)
		}
	}
	return imgs, kinds
}

// Draw draws one w x h image of kind k.
func Draw(k string, w, h int, rng *rand.Rand) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	set := func(x, y int, r, g, b float64) {
		c := func(v float64) uint8 { return uint8(max(0, min(255, math.Round(v)))) }
		img.SetRGBA(x, y, color.RGBA{c(r), c(g), c(b), 255})
	}
	switch k {
	case "sky", "star":
		sky, sd := 5+20*rng.Float64(), 1+4*rng.Float64()
		amp, sigma := 0.0, 1+2*rng.Float64()
		cx, cy := float64(w)/2+4*rng.NormFloat64(), float64(h)/2+4*rng.NormFloat64()
		tint := [3]float64{0.8 + 0.4*rng.Float64(), 1, 0.8 + 0.4*rng.Float64()}
		if k == "star" {
			amp = 80 + 175*rng.Float64()
		}
		for y := range h {
			for x := range w {
				d2 := (float64(x)-cx)*(float64(x)-cx) + (float64(y)-cy)*(float64(y)-cy)
				v := amp * math.Exp(-d2/(2*sigma*sigma))
				set(x, y, sky+v*tint[0]+sd*rng.NormFloat64(), sky+v*tint[1]+sd*rng.NormFloat64(), sky+v*tint[2]+sd*rng.NormFloat64())
			}
		}
	case "noise":
		grey := rng.IntN(2) == 0
		for y := range h {
			for x := range w {
				r := 255 * rng.Float64()
				if grey {
					set(x, y, r, r, r)
				} else {
					set(x, y, r, 255*rng.Float64(), 255*rng.Float64())
				}
			}
		}
	case "photo":
		// A sky gradient over ground, a sun or lamp, and a few blocks.
		top, bottom := randColor(rng), randColor(rng)
		horizon := h/3 + rng.IntN(h/3)
		ground := randColor(rng)
		for y := range h {
			t := float64(y) / float64(h)
			for x := range w {
				c := [3]float64{top[0]*(1-t) + bottom[0]*t, top[1]*(1-t) + bottom[1]*t, top[2]*(1-t) + bottom[2]*t}
				if y > horizon {
					c = ground
				}
				set(x, y, c[0]+4*rng.NormFloat64(), c[1]+4*rng.NormFloat64(), c[2]+4*rng.NormFloat64())
			}
		}
		for range 2 + rng.IntN(4) {
			fillRect(img, rng, randColor(rng))
		}
	case "screenshot":
		bg := 235 + 20*rng.Float64()
		for y := range h {
			for x := range w {
				set(x, y, bg, bg, bg)
			}
		}
		bar := randColor(rng)
		for y := range max(3, h/10) {
			for x := range w {
				set(x, y, bar[0], bar[1], bar[2])
			}
		}
		// Lines of "text": short dark runs with gaps.
		for y := h/10 + 4; y+2 < h; y += 4 + rng.IntN(3) {
			x := 3 + rng.IntN(4)
			for x < w-3 {
				run := 2 + rng.IntN(6)
				ink := 20 + 60*rng.Float64()
				for xx := x; xx < min(x+run, w-3); xx++ {
					set(xx, y, ink, ink, ink)
					set(xx, y+1, ink, ink, ink)
				}
				x += run + 1 + rng.IntN(2)
				if rng.IntN(12) == 0 {
					break
				}
			}
		}
	case "bands":
		// A synthetic galaxy with its bands reversed (g, r, i instead of i, r, g).
		pix := make([]uint8, w*h*3)
		codes, _ := synth.Codes("galaxy10")
		if err := synth.Render(pix, w, "galaxy10", codes[rng.IntN(len(codes))], rng); err != nil {
			panic(err) // the size and scheme are valid
		}
		for p := range w * h {
			set(p%w, p/w, float64(pix[3*p+2]), float64(pix[3*p+1]), float64(pix[3*p]))
		}
	}
	return img
}

func randColor(rng *rand.Rand) [3]float64 {
	return [3]float64{255 * rng.Float64(), 255 * rng.Float64(), 255 * rng.Float64()}
}

func fillRect(img *image.RGBA, rng *rand.Rand, c [3]float64) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	x0, y0 := rng.IntN(w), rng.IntN(h)
	x1, y1 := min(w, x0+3+rng.IntN(w/3)), min(h, y0+3+rng.IntN(h/3))
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(c[0]), uint8(c[1]), uint8(c[2]), 255})
		}
	}
}

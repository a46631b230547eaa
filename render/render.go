// Package render draws galaxy images a person can look at: one image
// upscaled with visible pixels (viridis for one channel, true colour for
// three), labelled galleries of such images, and PNG files written
// atomically.
//
// The gallery's text is drawn in the public-domain X11 "fixed" 6x13 font
// (golang.org/x/image/font/basicfont).
package render

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"

	"galaxy/internal/atomicfile"
)

// MaxPixels bounds the size of an image Galaxy draws (h*scale * w*scale).
const MaxPixels = 1 << 27

// Viridis returns matplotlib's viridis colour for t in [0, 1]: entry
// floor(t*256) of the 256-entry table, t = 1 giving the last. t is clamped,
// so t < 0 gives the first colour and t > 1 the last (matplotlib's default
// "under" and "over" colours); NaN gives transparent black (its "bad"
// colour).
func Viridis(t float64) color.RGBA {
	switch {
	case math.IsNaN(t):
		return color.RGBA{}
	case t <= 0:
		return viridisLUT[0]
	case t >= 1:
		return viridisLUT[255]
	}
	return viridisLUT[min(int(t*256), 255)]
}

// viridisIndex maps v to the table as matplotlib's Normalize() followed by
// its colour map does, in float32 as matplotlib (3.6, NumPy 1.x) computes
// for uint8 and float32 images: t = (v - vmin) / (vmax - vmin), index
// floor(t*256), t = 1 giving 255, all 0 when vmin = vmax.
func viridisIndex(v, vmin, vmax float32) int {
	if vmin == vmax {
		return 0
	}
	t := float32(v-vmin) / float32(vmax-vmin)
	x := float32(t * 256)
	switch {
	case x >= 256:
		return 255
	case x < 0:
		return 0
	}
	return int(x)
}

func checkArgs(n, h, w, c, scale int) error {
	switch {
	case h < 1 || w < 1:
		return fmt.Errorf("render: image size %dx%d, want at least 1x1", h, w)
	case c != 1 && c != 3:
		return fmt.Errorf("render: %d channels, want 1 (colour map) or 3 (RGB)", c)
	case scale < 1:
		return fmt.Errorf("render: scale %d, want at least 1", scale)
	}
	if int64(h)*int64(w)*int64(c) != int64(n) {
		return fmt.Errorf("render: %d values for a %dx%dx%d image (want %d)", n, h, w, c, int64(h)*int64(w)*int64(c))
	}
	if oh, ow := int64(h)*int64(scale), int64(w)*int64(scale); oh*ow > MaxPixels {
		return fmt.Errorf("render: a %dx%d picture is over the %d-pixel limit", ow, oh, MaxPixels)
	}
	return nil
}

// Galaxy draws an image of h rows, w columns and c channels held as HWC
// uint8 values, each pixel a scale x scale square (nearest neighbour), row 0
// at the top as matshow draws it. One channel is coloured with viridis,
// normalised from the image's minimum (first colour) to its maximum (last
// colour) as matplotlib's imshow/matshow default does; three channels are
// drawn as RGB. The result is opaque and (w*scale) x (h*scale) pixels.
func Galaxy(pix []uint8, h, w, c, scale int) (*image.RGBA, error) {
	if err := checkArgs(len(pix), h, w, c, scale); err != nil {
		return nil, err
	}
	if c == 3 {
		return upscale(h, w, scale, func(i int) color.RGBA {
			return color.RGBA{pix[3*i], pix[3*i+1], pix[3*i+2], 0xff}
		}), nil
	}
	lo, hi := pix[0], pix[0]
	for _, v := range pix {
		lo, hi = min(lo, v), max(hi, v)
	}
	var pal [256]color.RGBA
	for v := int(lo); v <= int(hi); v++ {
		pal[v] = viridisLUT[viridisIndex(float32(v), float32(lo), float32(hi))]
	}
	return upscale(h, w, scale, func(i int) color.RGBA { return pal[pix[i]] }), nil
}

// GalaxyFloat is Galaxy for float32 values. One channel: normalised from the
// minimum to the maximum of the finite values; NaN is drawn transparent
// (matplotlib's "bad" colour), +Inf with the last colour and -Inf with the
// first. Three channels: values on the 0..255 scale (v/255 clipped to
// [0, 1], as RGB), rounded to the nearest byte; NaN gives 0.
func GalaxyFloat(pix []float32, h, w, c, scale int) (*image.RGBA, error) {
	if err := checkArgs(len(pix), h, w, c, scale); err != nil {
		return nil, err
	}
	if c == 3 {
		b := func(v float32) uint8 {
			if !(v > 0) { // also NaN
				return 0
			}
			if v >= 255 {
				return 255
			}
			return uint8(v + 0.5)
		}
		return upscale(h, w, scale, func(i int) color.RGBA {
			return color.RGBA{b(pix[3*i]), b(pix[3*i+1]), b(pix[3*i+2]), 0xff}
		}), nil
	}
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range pix {
		if !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if lo > hi { // no finite value
		lo, hi = 0, 0
	}
	return upscale(h, w, scale, func(i int) color.RGBA {
		v := pix[i]
		switch {
		case math.IsNaN(float64(v)):
			return color.RGBA{}
		case math.IsInf(float64(v), 1):
			return viridisLUT[255]
		case math.IsInf(float64(v), -1):
			return viridisLUT[0]
		}
		return viridisLUT[viridisIndex(v, lo, hi)]
	}), nil
}

// upscale draws pixel i = row*w + col of an h x w image, colour at(i), as a
// scale x scale square.
func upscale(h, w, scale int, at func(i int) color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w*scale, h*scale))
	for r := range h {
		line := img.Pix[r*scale*img.Stride : r*scale*img.Stride+4*w*scale]
		for col := range w {
			c := at(r*w + col)
			px := line[4*col*scale : 4*(col+1)*scale]
			for k := 0; k < len(px); k += 4 {
				px[k], px[k+1], px[k+2], px[k+3] = c.R, c.G, c.B, c.A
			}
		}
		for k := 1; k < scale; k++ {
			copy(img.Pix[(r*scale+k)*img.Stride:], line)
		}
	}
	return img
}

// WritePNG writes img as a PNG file at path, atomically: readers see the old
// file or the complete new one, never part of it.
func WritePNG(path string, img image.Image) error {
	return atomicfile.Write(path, func(w io.Writer) error { return png.Encode(w, img) })
}

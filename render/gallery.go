package render

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Tile is one image of a gallery with a title line above it and an optional
// second, grey line (Sub). Text is drawn in ASCII; other characters show as
// a replacement glyph.
type Tile struct {
	Img   image.Image // nil leaves the cell empty
	Title string
	Sub   string
}

// Layout of galleries, in pixels.
const (
	glyphW, glyphH = 6, 13 // font cell
	advance        = 7     // glyph advance
	lineH          = glyphH + 2
	margin         = 8 // around the gallery
	gap            = 10
)

var (
	titleColour = color.RGBA{0x10, 0x10, 0x10, 0xff}
	subColour   = color.RGBA{0x60, 0x60, 0x60, 0xff}
)

// Gallery lays tiles out in rows of cols cells on a white background: each
// cell holds the title line, the Sub line when any tile has one, then the
// image, centred. Cells are as wide as the widest image (at least 10
// characters) and as tall as the tallest; text too long for its cell is cut
// with "...". cols < 1 picks about a square grid. No tiles give a small blank
// image.
func Gallery(tiles []Tile, cols int) *image.RGBA {
	n := len(tiles)
	if cols < 1 {
		cols = int(math.Ceil(math.Sqrt(float64(n))))
	}
	cols = max(1, min(cols, n))
	rows := (n + cols - 1) / cols
	cellW, imgH, hasSub := 10*advance, 0, false
	for _, t := range tiles {
		if t.Img != nil {
			b := t.Img.Bounds()
			cellW, imgH = max(cellW, b.Dx()), max(imgH, b.Dy())
		}
		hasSub = hasSub || t.Sub != ""
	}
	textH := lineH
	if hasSub {
		textH += lineH
	}
	cellH := textH + imgH
	W := 2*margin + cols*cellW + (cols-1)*gap
	H := 2*margin + rows*cellH + max(rows-1, 0)*gap
	if n == 0 {
		W, H = 2*margin, 2*margin
	}
	dst := image.NewRGBA(image.Rect(0, 0, W, H))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	for i, t := range tiles {
		x0 := margin + (i%cols)*(cellW+gap)
		y0 := margin + (i/cols)*(cellH+gap)
		drawText(dst, x0, y0, fit(t.Title, cellW), titleColour)
		if t.Sub != "" {
			drawText(dst, x0, y0+lineH, fit(t.Sub, cellW), subColour)
		}
		if t.Img != nil {
			b := t.Img.Bounds()
			at := image.Pt(x0+(cellW-b.Dx())/2, y0+textH)
			draw.Draw(dst, image.Rectangle{Min: at, Max: at.Add(b.Size())}, t.Img, b.Min, draw.Over)
		}
	}
	return dst
}

// fit cuts s to what fits in width pixels, ending it with "..." when cut.
func fit(s string, width int) string {
	r := []rune(s)
	maxChars := (width + advance - glyphW) / advance
	if len(r) <= maxChars {
		return s
	}
	if maxChars <= 3 {
		return string(r[:max(maxChars, 0)])
	}
	return string(r[:maxChars-3]) + "..."
}

// drawText draws s with its top-left corner at (x, y), in the X11 fixed
// 6x13 font of golang.org/x/image/font/basicfont.
func drawText(dst *image.RGBA, x, y int, s string, c color.RGBA) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y+basicfont.Face7x13.Ascent)}
	d.DrawString(s)
}

package render

import (
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"galaxy/data/cutout"
	"galaxy/internal/shared"
)

var (
	first = color.RGBA{0x44, 0x01, 0x54, 0xff} // #440154
	last  = color.RGBA{0xfd, 0xe7, 0x25, 0xff} // #fde725
)

func TestViridis(t *testing.T) {
	cases := []struct {
		t    float64
		want color.RGBA
	}{
		{0, first}, {1, last}, {-3, first}, {7, last}, {math.Inf(1), last},
		{0.5, color.RGBA{0x21, 0x91, 0x8c, 0xff}},       // entry 128
		{1.0 / 256, color.RGBA{0x44, 0x02, 0x56, 0xff}}, // entry 1
		{0.999, last},
		{math.NaN(), color.RGBA{}},
	}
	for _, c := range cases {
		if got := Viridis(c.t); got != c.want {
			t.Errorf("Viridis(%v) = %v, want %v", c.t, got, c.want)
		}
	}
	if len(viridisLUT) != 256 || viridisLUT[0] != first || viridisLUT[255] != last {
		t.Errorf("table endpoints %v %v", viridisLUT[0], viridisLUT[255])
	}
}

// TestNormMatchesMatplotlib compares the colour of every value of a few
// arrays with what matplotlib 3.6's Normalize() + viridis picks
// (testdata/norm_vectors.json, written by gen_viridis.py).
func TestNormMatchesMatplotlib(t *testing.T) {
	b, err := os.ReadFile("testdata/norm_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vec struct {
		Cases []struct {
			Kind   string
			Values []float64
			Index  []int
		}
	}
	if err := json.Unmarshal(b, &vec); err != nil {
		t.Fatal(err)
	}
	if len(vec.Cases) == 0 {
		t.Fatal("no cases")
	}
	for ci, c := range vec.Cases {
		n := len(c.Values)
		var img *image.RGBA
		switch c.Kind {
		case "uint8":
			pix := make([]uint8, n)
			for i, v := range c.Values {
				pix[i] = uint8(v)
			}
			img, err = Galaxy(pix, 1, n, 1, 1)
		case "float32":
			pix := make([]float32, n)
			for i, v := range c.Values {
				pix[i] = float32(v)
			}
			img, err = GalaxyFloat(pix, 1, n, 1, 1)
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range c.Index {
			if got := img.RGBAAt(i, 0); got != viridisLUT[want] {
				t.Errorf("case %d (%s) value %v: colour %v, matplotlib picks entry %d %v", ci, c.Kind, c.Values[i], got, want, viridisLUT[want])
				break
			}
		}
	}
}

func TestNormalisationEndpoints(t *testing.T) {
	img, err := Galaxy([]uint8{7, 100, 200, 50}, 2, 2, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if img.RGBAAt(0, 0) != first || img.RGBAAt(0, 1) != last {
		t.Errorf("min %v max %v, want %v %v", img.RGBAAt(0, 0), img.RGBAAt(0, 1), first, last)
	}
	fimg, err := GalaxyFloat([]float32{-2.5, 1e-3, 3.25, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}, 1, 6, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []color.RGBA{first, fimg.RGBAAt(1, 0), last, {}, last, first}
	for x, w := range want {
		if got := fimg.RGBAAt(x, 0); got != w {
			t.Errorf("float pixel %d: %v, want %v", x, got, w)
		}
	}
	// A constant image takes the first colour, as matplotlib draws it.
	for _, pix := range [][]uint8{{9, 9, 9}, {0}} {
		img, err := Galaxy(pix, 1, len(pix), 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := img.RGBAAt(0, 0); got != first {
			t.Errorf("constant %v: %v", pix, got)
		}
	}
	if img, _ := GalaxyFloat([]float32{float32(math.NaN())}, 1, 1, 1, 1); img.RGBAAt(0, 0) != (color.RGBA{}) {
		t.Errorf("all-NaN image: %v", img.RGBAAt(0, 0))
	}
}

func TestOrientationAndSize(t *testing.T) {
	const h, w, scale = 2, 3, 4
	rgb := make([]uint8, h*w*3)
	rgb[0], rgb[1], rgb[2] = 255, 255, 255 // row 0, column 0
	rgb[(1*w+2)*3] = 200                   // row 1, column 2: red
	grey := make([]uint8, h*w)
	grey[0] = 255
	fgrey := make([]float32, h*w)
	fgrey[0] = 1
	frgb := make([]float32, len(rgb))
	for i, v := range rgb {
		frgb[i] = float32(v)
	}
	check := func(name string, img *image.RGBA, err error, bright, dark, red color.RGBA) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := img.Bounds(); got != image.Rect(0, 0, w*scale, h*scale) {
			t.Fatalf("%s: bounds %v, want %dx%d", name, got, w*scale, h*scale)
		}
		for y := range h * scale {
			for x := range w * scale {
				want := dark
				if x < scale && y < scale {
					want = bright
				}
				if x >= 2*scale && y >= scale {
					want = red
				}
				if got := img.RGBAAt(x, y); got != want {
					t.Fatalf("%s: pixel (x=%d, y=%d) = %v, want %v", name, x, y, got, want)
				}
			}
		}
	}
	white, black, red := color.RGBA{255, 255, 255, 255}, color.RGBA{0, 0, 0, 255}, color.RGBA{200, 0, 0, 255}
	img, err := Galaxy(rgb, h, w, 3, scale)
	check("uint8 RGB", img, err, white, black, red)
	img, err = GalaxyFloat(frgb, h, w, 3, scale)
	check("float RGB", img, err, white, black, red)
	img, err = Galaxy(grey, h, w, 1, scale)
	check("uint8 grey", img, err, last, first, first)
	img, err = GalaxyFloat(fgrey, h, w, 1, scale)
	check("float grey", img, err, last, first, first)
}

func TestFloatRGBClipping(t *testing.T) {
	img, err := GalaxyFloat([]float32{-5, 300, 127.6, float32(math.NaN()), 0.4, 254.5}, 1, 2, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := img.RGBAAt(0, 0), img.RGBAAt(1, 0); a != (color.RGBA{0, 255, 128, 255}) || b != (color.RGBA{0, 0, 255, 255}) {
		t.Errorf("got %v %v", a, b)
	}
}

func TestBadArguments(t *testing.T) {
	cases := []struct {
		n, h, w, c, scale int
		msg               string
	}{
		{11, 2, 2, 3, 1, "12"},
		{4, 2, 2, 3, 1, "values"},
		{8, 2, 2, 2, 1, "channels"},
		{16, 2, 2, 4, 1, "channels"},
		{4, 2, 2, 1, 0, "scale"},
		{4, 2, 2, 1, -1, "scale"},
		{0, 0, 2, 1, 1, "size"},
		{4, -2, -2, 1, 1, "size"},
		{4, 2, 2, 1, 1 << 20, "limit"},
	}
	for _, c := range cases {
		_, err1 := Galaxy(make([]uint8, c.n), c.h, c.w, c.c, c.scale)
		_, err2 := GalaxyFloat(make([]float32, c.n), c.h, c.w, c.c, c.scale)
		for _, err := range []error{err1, err2} {
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("%+v: got %v, want an error mentioning %q", c, err, c.msg)
			}
		}
	}
}

func TestWritePNG(t *testing.T) {
	dir := t.TempDir()
	img, err := Galaxy([]uint8{0, 10, 20, 30}, 2, 2, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "g.png")
	if err := WritePNG(p, img); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	for y := range 6 {
		for x := range 6 {
			if color.RGBAModel.Convert(back.At(x, y)) != color.Color(img.RGBAAt(x, y)) {
				t.Fatalf("(%d,%d): %v, wrote %v", x, y, back.At(x, y), img.RGBAAt(x, y))
			}
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left %d files in the folder", len(ents))
	}
	if err := WritePNG(filepath.Join(dir, "no", "such", "dir.png"), img); err == nil {
		t.Error("no error writing into a missing folder")
	}
}

func TestGallery(t *testing.T) {
	tile := func(c color.RGBA, w, h int) image.Image {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for k := 0; k < len(img.Pix); k += 4 {
			img.Pix[k], img.Pix[k+1], img.Pix[k+2], img.Pix[k+3] = c.R, c.G, c.B, c.A
		}
		return img
	}
	red, blue := color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}
	tiles := []Tile{
		{tile(red, 100, 80), "smooth", "p=0.93"},
		{tile(blue, 100, 80), "spiral", ""},
		{tile(red, 60, 40), "a very long title that cannot possibly fit in the cell", ""},
		{nil, "missing", "no image"},
	}
	g := Gallery(tiles, 2)
	cellH := 2*lineH + 80
	wantW, wantH := 2*margin+2*100+gap, 2*margin+2*cellH+gap
	if g.Bounds() != image.Rect(0, 0, wantW, wantH) {
		t.Fatalf("bounds %v, want %dx%d", g.Bounds(), wantW, wantH)
	}
	// Images below their two text lines, in reading order.
	if got := g.RGBAAt(margin+50, margin+2*lineH+40); got != red {
		t.Errorf("tile 0 centre %v", got)
	}
	if got := g.RGBAAt(margin+100+gap+50, margin+2*lineH+40); got != blue {
		t.Errorf("tile 1 centre %v", got)
	}
	if got := g.RGBAAt(margin+50, margin+cellH+gap+2*lineH+20); got != red {
		t.Errorf("tile 2 (centred 60x40) %v", got)
	}
	// Text is drawn in the title line of each cell, and nowhere past the
	// cell's right edge.
	ink := func(r image.Rectangle) int {
		n := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if g.RGBAAt(x, y) != (color.RGBA{255, 255, 255, 255}) {
					n++
				}
			}
		}
		return n
	}
	for i := range tiles {
		x0, y0 := margin+(i%2)*(100+gap), margin+(i/2)*(cellH+gap)
		if ink(image.Rect(x0, y0, x0+100, y0+lineH)) == 0 {
			t.Errorf("tile %d: no title", i)
		}
	}
	if ink(image.Rect(margin+100, margin+cellH+gap, margin+100+gap, margin+cellH+gap+lineH)) != 0 {
		t.Error("long title spills out of its cell")
	}
	if got := fit("a very long title", 10*advance); got != "a very ..." {
		t.Errorf("fit: %q", got)
	}
	if g := Gallery(nil, 3); g.Bounds().Empty() {
		t.Error("empty gallery has no pixels")
	}
	if g := Gallery(tiles, 0); g.Bounds().Dx() != wantW { // 4 tiles: 2 columns
		t.Errorf("default columns: width %d", g.Bounds().Dx())
	}
}

// TestRealGalaxy renders a real cutout prepared by cutout.Prepare, in true
// colour and as its g-like channel in viridis, and a gallery of four. Set
// GALAXY_RENDER_OUT to a folder to keep the PNGs and look at them.
func TestRealGalaxy(t *testing.T) {
	dir := filepath.Dir(shared.File(t, "gz1_cutouts/catalog.csv"))
	out := os.Getenv("GALAXY_RENDER_OUT")
	if out == "" {
		out = t.TempDir()
	}
	names := []struct{ file, class string }{
		{"587722982829719804.jpeg", "smooth"},
		{"587725473882439843.jpeg", "spiral (CW)"},
		{"587722983907459348.jpeg", "edge-on disk"},
		{"587724232104411220.jpeg", "merger"},
	}
	var tiles []Tile
	for i, n := range names {
		img, err := cutout.DecodeFile(filepath.Join(dir, n.file), cutout.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		pix := cutout.Prepare(img)
		rgb, err := Galaxy(pix, cutout.Size, cutout.Size, 3, 4)
		if err != nil {
			t.Fatal(err)
		}
		if rgb.Bounds().Dx() != 4*cutout.Size {
			t.Fatalf("bounds %v", rgb.Bounds())
		}
		g := make([]uint8, cutout.Size*cutout.Size)
		for k := range g {
			g[k] = pix[3*k+2]
		}
		vir, err := Galaxy(g, cutout.Size, cutout.Size, 1, 4)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			for name, img := range map[string]image.Image{"galaxy_rgb.png": rgb, "galaxy_viridis.png": vir} {
				if err := WritePNG(filepath.Join(out, name), img); err != nil {
					t.Fatal(err)
				}
			}
		}
		tiles = append(tiles, Tile{rgb, n.class, strings.TrimSuffix(n.file, ".jpeg")})
	}
	if err := WritePNG(filepath.Join(out, "gallery.png"), Gallery(tiles, 2)); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkGalaxy(b *testing.B) {
	pix := make([]uint8, 69*69*3)
	for i := range pix {
		pix[i] = uint8(i)
	}
	for b.Loop() {
		Galaxy(pix, 69, 69, 3, 4)
	}
}

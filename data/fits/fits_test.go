package fits

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
	"strings"
	"testing"
	"time"
)

// build writes a FITS file: header cards (padded to blocks), then data
// (padded). extra HDUs are appended before the image when tableFirst.
func build(cards []string, data []byte) []byte {
	var b bytes.Buffer
	for _, c := range append(cards, "END") {
		b.WriteString(fmt.Sprintf("%-80s", c))
	}
	for b.Len()%blockSize != 0 {
		b.WriteByte(' ')
	}
	b.Write(data)
	for b.Len()%blockSize != 0 {
		b.WriteByte(0)
	}
	return b.Bytes()
}

func kv(k string, v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%-8s= %-20s", k, "'"+v+"'")
	case bool:
		s := "F"
		if v {
			s = "T"
		}
		return fmt.Sprintf("%-8s= %20s", k, s)
	default:
		return fmt.Sprintf("%-8s= %20v / a comment", k, v)
	}
}

// pixels encodes values with BITPIX bp, big-endian.
func pixels(bp int, vals []float64) []byte {
	var b bytes.Buffer
	for _, v := range vals {
		switch bp {
		case 8:
			b.WriteByte(uint8(v))
		case 16:
			binary.Write(&b, binary.BigEndian, int16(v))
		case 32:
			binary.Write(&b, binary.BigEndian, int32(v))
		case -32:
			binary.Write(&b, binary.BigEndian, float32(v))
		case -64:
			binary.Write(&b, binary.BigEndian, v)
		}
	}
	return b.Bytes()
}

func imageHeader(first bool, bp int, axes ...int) []string {
	var c []string
	if first {
		c = append(c, kv("SIMPLE", true))
	} else {
		c = append(c, kv("XTENSION", "IMAGE"))
	}
	c = append(c, kv("BITPIX", bp), kv("NAXIS", len(axes)))
	for i, a := range axes {
		c = append(c, kv(fmt.Sprintf("NAXIS%d", i+1), a))
	}
	if !first {
		c = append(c, kv("PCOUNT", 0), kv("GCOUNT", 1))
	}
	return c
}

func TestBitpixAndScaling(t *testing.T) {
	vals := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100}
	for _, bp := range []int{8, 16, 32, -32, -64} {
		cards := append(imageHeader(true, bp, 4, 3), kv("BSCALE", 2.0), kv("BZERO", -1))
		img, err := Decode(bytes.NewReader(build(cards, pixels(bp, vals))), Limits{})
		if err != nil {
			t.Fatalf("BITPIX %d: %v", bp, err)
		}
		if img.Width != 4 || img.Height != 3 || len(img.Planes) != 1 {
			t.Fatalf("BITPIX %d: %dx%d x%d", bp, img.Width, img.Height, len(img.Planes))
		}
		for i, v := range vals {
			if got := img.Planes[0][i]; got != float32(2*v-1) {
				t.Errorf("BITPIX %d value %d: %v, want %v", bp, i, got, 2*v-1)
			}
		}
	}
	// BLANK marks missing integers.
	cards := append(imageHeader(true, 16, 2, 2), kv("BLANK", -32768))
	img, err := Decode(bytes.NewReader(build(cards, pixels(16, []float64{1, -32768, 3, 4}))), Limits{})
	if err != nil || !math.IsNaN(float64(img.Planes[0][1])) || img.Planes[0][2] != 3 {
		t.Errorf("BLANK: %v %v", img, err)
	}
}

func TestExtensionAnd3D(t *testing.T) {
	// An empty primary HDU, a table to skip, then a 3-plane image.
	prim := build([]string{kv("SIMPLE", true), kv("BITPIX", 8), kv("NAXIS", 0), kv("EXTEND", true)}, nil)
	table := build([]string{kv("XTENSION", "BINTABLE"), kv("BITPIX", 8), kv("NAXIS", 2), kv("NAXIS1", 10), kv("NAXIS2", 400), kv("PCOUNT", 0), kv("GCOUNT", 1)}, make([]byte, 4000))
	vals := make([]float64, 5*4*3)
	for i := range vals {
		vals[i] = float64(i)
	}
	ext := build(imageHeader(false, -32, 5, 4, 3), pixels(-32, vals))
	img, err := Decode(bytes.NewReader(append(append(prim, table...), ext...)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if img.Width != 5 || img.Height != 4 || len(img.Planes) != 3 || img.Planes[2][19] != 59 || img.Planes[1][0] != 20 {
		t.Fatalf("got %dx%d x%d", img.Width, img.Height, len(img.Planes))
	}
	rgb, ok := img.Stretch().(*image.RGBA)
	if !ok || rgb.Bounds().Dx() != 5 {
		t.Fatalf("stretch: %T", img.Stretch())
	}
	// Row 0 of the picture is the file's last row: brightest at the top.
	if top, bottom := rgb.Pix[2], rgb.Pix[3*rgb.Stride+2]; top <= bottom {
		t.Errorf("not flipped: top %d bottom %d", top, bottom)
	}
}

func TestStretch(t *testing.T) {
	// Noise around a sky of 100, a bright source: sky maps to 0, the peak
	// to 255, faint flux above noise well above 0 (arcsinh lifts it).
	w := 64
	vals := make([]float64, w*w)
	for i := range vals {
		vals[i] = 100 + float64((i*7919)%11) - 5
	}
	vals[32*w+32] = 10000
	vals[10*w+10] = 130
	img, err := Decode(bytes.NewReader(build(imageHeader(true, -64, w, w), pixels(-64, vals))), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	g := img.Stretch().(*image.Gray)
	at := func(x, y int) uint8 { return g.Pix[(w-1-y)*g.Stride+x] }
	if at(32, 32) != 255 || at(0, 0) > 40 || at(10, 10) < 60 {
		t.Errorf("peak %d, sky %d, faint %d", at(32, 32), at(0, 0), at(10, 10))
	}
}

func TestBadFiles(t *testing.T) {
	good := build(imageHeader(true, 16, 10, 10), pixels(16, make([]float64, 100)))
	lie := build(imageHeader(true, 16, 60000, 60000), pixels(16, make([]float64, 100)))
	cases := []struct {
		name string
		b    []byte
		lim  Limits
		is   error
	}{
		{"empty", nil, Limits{}, ErrFormat},
		{"text", []byte("hello world"), Limits{}, ErrFormat},
		{"header cut", good[:1000], Limits{}, ErrCorrupt},
		{"data cut", good[:blockSize+50], Limits{}, ErrCorrupt},
		{"size lie", lie, Limits{MaxPixels: 1 << 32}, ErrCorrupt},
		{"over limit", lie, Limits{}, ErrTooLarge},
		{"no END", bytes.Repeat([]byte(fmt.Sprintf("%-80s", kv("SIMPLE", true))), 36*3), Limits{}, ErrCorrupt},
		{"bad BITPIX", build([]string{kv("SIMPLE", true), kv("BITPIX", 12), kv("NAXIS", 2), kv("NAXIS1", 1), kv("NAXIS2", 1)}, []byte{1, 2}), Limits{}, ErrCorrupt},
		{"NAXIS order", build([]string{kv("SIMPLE", true), kv("NAXIS", 2), kv("BITPIX", 8), kv("NAXIS1", 1), kv("NAXIS2", 1)}, []byte{1}), Limits{}, ErrCorrupt},
		{"4 planes", build(imageHeader(true, 8, 2, 2, 4), make([]byte, 16)), Limits{}, ErrCorrupt},
		{"1-D", build(imageHeader(true, 8, 20), make([]byte, 20)), Limits{}, ErrNoImage},
		{"binary in header", append(append([]byte{}, good[:100]...), append([]byte{0}, good[101:]...)...), Limits{}, ErrCorrupt},
	}
	for _, c := range cases {
		start := time.Now()
		_, err := Decode(bytes.NewReader(c.b), c.lim)
		if !errors.Is(err, c.is) {
			t.Errorf("%s: %v, want %v", c.name, err, c.is)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s took %v", c.name, d)
		}
	}
	if _, err := Decode(bytes.NewReader(lie), Limits{MaxPixels: 1 << 32}); err == nil || !strings.Contains(err.Error(), "cut short") {
		t.Errorf("lie: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(build(imageHeader(true, 16, 4, 4), pixels(16, make([]float64, 16))))
	f.Add(build(imageHeader(true, -32, 3, 2, 3), pixels(-32, make([]float64, 18))))
	f.Add(append(build([]string{kv("SIMPLE", true), kv("BITPIX", 8), kv("NAXIS", 0)}, nil), build(imageHeader(false, 8, 2, 2), make([]byte, 4))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := Decode(bytes.NewReader(b), Limits{MaxPixels: 1 << 20})
		if err != nil {
			return
		}
		if img.Width*img.Height*len(img.Planes) > 1<<20 {
			t.Fatalf("over the limit: %dx%dx%d", img.Width, img.Height, len(img.Planes))
		}
		img.Stretch()
	})
}

// BenchmarkDecode decodes cutouts of the sizes the project sees (69x69 and
// 256x256, 1 and 3 planes, 32-bit floats and 16-bit integers), the figures
// the package comment compares with fitsio.
func BenchmarkDecode(b *testing.B) {
	for _, side := range []int{69, 256} {
		for _, planes := range []int{1, 3} {
			for _, bp := range []int{-32, 16} {
				axes := []int{side, side, planes}
				if planes == 1 {
					axes = axes[:2]
				}
				vals := make([]float64, side*side*planes)
				for i := range vals {
					vals[i] = float64(i % 1000)
				}
				in := build(imageHeader(true, bp, axes...), pixels(bp, vals))
				b.Run(fmt.Sprintf("%dx%dx%d/bitpix%d", side, side, planes, bp), func(b *testing.B) {
					b.SetBytes(int64(len(in)))
					b.ReportAllocs()
					for b.Loop() {
						if _, err := Decode(bytes.NewReader(in), Limits{}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

package cnn

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randImage(rng *rand.Rand, h, w, c int) []uint8 {
	img := make([]uint8, h*w*c)
	for i := range img {
		img[i] = uint8(rng.IntN(256))
	}
	return img
}

// TestWarpQuarterTurns checks WarpToCNHW against ToCNHW: the identity, the
// eight symmetries of the square (quarter turns with and without a flip
// are each one of them, all different) and whole-pixel shifts away from
// the border.
func TestWarpQuarterTurns(t *testing.T) {
	const s, c = 9, 3
	rng := rand.New(rand.NewPCG(3, 5))
	img := randImage(rng, s, s, c)
	render := func(wp *Warp, sym, dy, dx int) []float64 {
		dst := make([]float64, s*s*c)
		if wp != nil {
			WarpToCNHW(img, s, s, c, s, s, 1, *wp, dst, 0, 1)
		} else {
			ToCNHW(img, s, s, c, s, s, 1, sym, dy, dx, dst, 0, 1)
		}
		return dst
	}
	same := func(a, b []float64) bool {
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-9 {
				return false
			}
		}
		return true
	}
	if !same(render(&Warp{Scale: 1}, 0, 0, 0), render(nil, 0, 0, 0)) {
		t.Fatal("the identity warp differs from the untransformed image")
	}
	found := map[int]bool{}
	for q := range 4 {
		for _, flip := range []bool{false, true} {
			got := render(&Warp{Flip: flip, Angle: float64(q) * math.Pi / 2, Scale: 1}, 0, 0, 0)
			match := -1
			for sym := range Symmetries {
				if same(got, render(nil, sym, 0, 0)) {
					match = sym
				}
			}
			if match < 0 || found[match] {
				t.Fatalf("quarter turns %d, flip %v: matches symmetry %d (already seen: %v)", q, flip, match, found[match])
			}
			found[match] = true
		}
	}
	// A shift by (dy, dx) moves the content by (dy, dx); ToCNHW's moves it
	// by minus its arguments. Compare away from the border.
	got, want := render(&Warp{Scale: 1, DY: 2, DX: -1}, 0, 0, 0), render(nil, 0, -2, 1)
	for ch := range c {
		for y := 2; y < s; y++ {
			for x := 0; x < s-1; x++ {
				if i := ch*s*s + y*s + x; got[i] != want[i] {
					t.Fatalf("shift: channel %d pixel (%d,%d) %v, want %v", ch, y, x, got[i], want[i])
				}
			}
		}
	}
}

// TestWarpAnyAngle checks what holds for every warp: a constant image stays
// constant (no black corners), the centre pixel of an odd-sized image is
// fixed by rotation and scaling, and values stay within the image's range.
func TestWarpAnyAngle(t *testing.T) {
	const s, c = 11, 2
	rng := rand.New(rand.NewPCG(8, 1))
	flat := make([]uint8, s*s*c)
	for i := range flat {
		flat[i] = 77
	}
	img := randImage(rng, s, s, c)
	for range 200 {
		wp := Warp{Flip: rng.IntN(2) == 1, Angle: 2 * math.Pi * rng.Float64(), Scale: math.Exp(rng.Float64() - 0.5)}
		dst := make([]float32, s*s*c)
		WarpToCNHW(flat, s, s, c, s, s, 1, wp, dst, 0, 1)
		for i, v := range dst {
			if math.Abs(float64(v)-77) > 1e-3 {
				t.Fatalf("%+v: constant image has %v at %d", wp, v, i)
			}
		}
		WarpToCNHW(img, s, s, c, s, s, 1, wp, dst, 0, 1)
		for ch := range c {
			mid := s/2*s + s/2
			if got, want := float64(dst[ch*s*s+mid]), float64(img[mid*c+ch]); math.Abs(got-want) > 1e-3 {
				t.Fatalf("%+v: centre of channel %d is %v, want %v", wp, ch, got, want)
			}
		}
		for i, v := range dst {
			if v < 0 || v > 255 {
				t.Fatalf("%+v: value %v at %d outside the image's range", wp, v, i)
			}
		}
	}
}

func TestReflect(t *testing.T) {
	want := []int{3, 2, 1, 0, 1, 2, 3, 2, 1, 0}
	for i, w := range want {
		if got := reflect(i-3, 4); got != w {
			t.Errorf("reflect(%d, 4) = %d, want %d", i-3, got, w)
		}
	}
	if reflect(-5, 1) != 0 || reflect(7, 1) != 0 {
		t.Error("a one-pixel axis must map everything to 0")
	}
}

// TestCrop checks the central window: ToCNHW and WarpToCNHW of a crop are
// the crop of the whole image's, with shifts bringing in real pixels from
// outside the window, and a network with Spec.Crop classifies an image as
// the same network without a crop classifies the image's centre.
func TestCrop(t *testing.T) {
	const h, w, c, o = 11, 9, 2, 5
	rng := rand.New(rand.NewPCG(2, 9))
	img := randImage(rng, h, w, c)
	full := make([]float64, h*w*c)
	ToCNHW(img, h, w, c, h, w, 1, 0, 0, 0, full, 0, 1)
	at := func(ch, y, x int) float64 { return full[ch*h*w+y*w+x] }
	for _, sh := range [][2]int{{0, 0}, {2, -1}, {-3, 2}} {
		win := make([]float64, o*o*c)
		ToCNHW(img, h, w, c, o, o, 1, 0, sh[0], sh[1], win, 0, 1)
		warped := make([]float64, o*o*c)
		WarpToCNHW(img, h, w, c, o, o, 1, Warp{Scale: 1, DY: float64(-sh[0]), DX: float64(-sh[1])}, warped, 0, 1)
		for ch := range c {
			for y := range o {
				for x := range o {
					want := at(ch, y+(h-o)/2+sh[0], x+(w-o)/2+sh[1])
					if got := win[ch*o*o+y*o+x]; got != want {
						t.Fatalf("shift %v: ToCNHW window (%d,%d,%d) = %v, want %v", sh, ch, y, x, got, want)
					}
					if got := warped[ch*o*o+y*o+x]; math.Abs(got-want) > 1e-9 {
						t.Fatalf("shift %v: WarpToCNHW window (%d,%d,%d) = %v, want %v", sh, ch, y, x, got, want)
					}
				}
			}
		}
	}

	const s, cr = 13, 9
	spec := Spec{InC: c, H: s, W: s, K: 3, Widths: []int{4, 6}, Crop: cr, TTA: true}
	cropped, err := New(spec, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	inner := spec
	inner.H, inner.W, inner.Crop = cr, cr, 0
	plain, err := New(inner, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	const n = 3
	x := make([]float32, n*s*s*c)
	centre := make([]float32, n*cr*cr*c)
	for i := range x {
		x[i] = rng.Float32()
	}
	for i := range n {
		for y := range cr {
			for xx := range cr {
				for ch := range c {
					centre[((i*cr+y)*cr+xx)*c+ch] = x[((i*s+y+2)*s+xx+2)*c+ch]
				}
			}
		}
	}
	a, b := make([]float32, n*3), make([]float32, n*3)
	cropped.Logits(x, n, a)
	plain.Logits(centre, n, b)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("logit %d: %v with Crop, %v on the cropped images", i, a[i], b[i])
		}
	}
	for _, bad := range []int{-1, 14, 8} {
		sp := spec
		sp.Crop = bad
		if sp.Check() == nil {
			t.Errorf("crop %d of 13x13 images accepted", bad)
		}
	}
}

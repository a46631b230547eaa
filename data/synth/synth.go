// Package synth renders synthetic SDSS galaxy cutouts with exactly known
// Galaxy10 classes: a data set that needs no download, and the only way here
// to exercise the course's 5-class scheme without its file.
//
// Each galaxy is drawn from a physical model, not a template: Sersic
// spheroids and bulges (index n, effective radius, axis ratio), exponential
// disks seen at a random inclination and position angle, edge-on disks with
// rounded, boxy or no bulges and dust lanes, face-on disks with or without
// bars and rings, and spirals whose logarithmic arms have the class's pitch
// angle (tight 8-16 degrees, medium 16-26, loose 26-40), with star-forming
// knots along them. Components have their own colours (bulges red-yellow,
// disks paler, arms blue-white, as in the SDSS composites), then the image
// is blurred by a Gaussian point-spread function (FWHM 1.3-2.4 px), gets
// neighbouring galaxies and stars now and then, sky and source Poisson noise
// (Gaussian limit) plus read noise, and is mapped to bytes with the asinh
// stretch of the SDSS colour composites (Lupton et al. 2004): dark sky around
// 5-10 grey levels, cores up to 150-255.
//
// Cutouts are 69x69x3 uint8 in the Galaxy10 layout, channels stored as the
// composites' R, G, B = the i, r and g bands (channel 2 is g, so --channels g
// picks the g band as for the real files). Labels are Galaxy10 class codes
// (0..9); scheme course5 generates only classes 0, 1, 2, 4 and 7. Classes
// are balanced (counts differ by at most one) and shuffled.
//
// Generation is deterministic for a seed whatever the number of cores: galaxy
// i draws every random number from its own stream, seeded by (seed, i), so
// galaxies are rendered in parallel and the same seed gives the same bytes.
package synth

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"

	"galaxy/data"
	"galaxy/data/array"
	"galaxy/data/hdf5"
	"galaxy/data/scheme"
)

// The built-in data set: what `galaxy train` uses without --data.
const (
	DefaultN      = 6000
	DefaultSeed   = 1
	DefaultScheme = "course5"
	// BuiltinName is the --data value that names the built-in set.
	BuiltinName = "synth"
)

// MaxN bounds the number of galaxies of one set (14 KB each in memory).
const MaxN = 2_000_000

// Options say what to generate.
type Options struct {
	Scheme string // "course5" or "galaxy10"
	N      int    // number of galaxies
	Seed   uint64
}

// Codes returns the Galaxy10 class codes a scheme generates.
func Codes(schemeName string) ([]int, error) {
	switch strings.ToLower(schemeName) {
	case "course5":
		return []int{0, 1, 2, 4, 7}, nil
	case "galaxy10":
		return []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, nil
	}
	return nil, fmt.Errorf("synth: unknown scheme %q (want course5 or galaxy10)", schemeName)
}

// Labels returns the Galaxy10 codes of the n galaxies of a set: the scheme's
// classes in equal numbers (the first n mod k classes one more), shuffled by
// the seed.
func Labels(codes []int, n int, seed uint64) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = codes[i%len(codes)]
	}
	rng := rand.New(rand.NewPCG(seed, 0x1abe15))
	rng.Shuffle(n, func(a, b int) { out[a], out[b] = out[b], out[a] })
	return out
}

// stream returns galaxy i's random stream.
func stream(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, uint64(i)*0xbf58476d1ce4e5b9+0x94d049bb133111eb))
}

// Render draws one galaxy of Galaxy10 class code (0..9) into dst, which
// must hold Size*Size*3 bytes (HWC, channels i, r, g). The same rng state
// gives the same image.
func Render(dst []uint8, code int, rng *rand.Rand) error {
	if len(dst) != Size*Size*3 {
		return fmt.Errorf("synth: destination of %d bytes, want %d", len(dst), Size*Size*3)
	}
	if code < 0 || code > 9 {
		return fmt.Errorf("synth: class code %d, want a Galaxy10 class 0..9", code)
	}
	var g renderer
	g.render(dst, code, rng)
	return nil
}

// Generate renders a data set in memory, in parallel over the cores. The
// result's label space is galaxy10 (codes 0..9).
func Generate(opt Options) (*data.Raw, error) {
	codes, err := Codes(opt.Scheme)
	if err != nil {
		return nil, err
	}
	if opt.N < 1 || opt.N > MaxN {
		return nil, fmt.Errorf("synth: %d galaxies: want 1 to %d", opt.N, MaxN)
	}
	raw := &data.Raw{
		Path: fmt.Sprintf("synth(%s, n=%d, seed=%d)", strings.ToLower(opt.Scheme), opt.N, opt.Seed),
		N:    opt.N, H: Size, W: Size, C: 3,
		Pixels: make([]uint8, opt.N*Size*Size*3),
		Codes:  Labels(codes, opt.N, opt.Seed),
		Space:  "galaxy10",
	}
	workers := min(runtime.GOMAXPROCS(0), opt.N)
	var wg sync.WaitGroup
	const batch = 16
	next := make(chan int, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := new(renderer)
			for start := range next {
				for i := start; i < min(start+batch, opt.N); i++ {
					g.render(raw.Image(i), raw.Codes[i], stream(opt.Seed, i))
				}
			}
		}()
	}
	for i := 0; i < opt.N; i += batch {
		next <- i
	}
	close(next)
	wg.Wait()
	return raw, nil
}

// Builtin returns the built-in set: DefaultN galaxies of scheme course5 from
// DefaultSeed, named BuiltinName.
func Builtin() (*data.Raw, error) {
	raw, err := Generate(Options{Scheme: DefaultScheme, N: DefaultN, Seed: DefaultSeed})
	if err != nil {
		return nil, err
	}
	raw.Path = BuiltinName
	return raw, nil
}

// WriteFile writes a set as HDF5 in the Galaxy10 layout (images uint8
// (N,69,69,3), ans uint8 (N,)), chunked and deflated, with the root
// attributes class_names (the ten Galaxy10 class names, indexed by ans) and
// source. The file is written atomically.
func WriteFile(path string, raw *data.Raw, source string) error {
	ans := make([]byte, raw.N)
	for i, c := range raw.Codes {
		if c < 0 || c > 255 {
			return fmt.Errorf("synth: label %d of image %d does not fit a byte", c, i)
		}
		ans[i] = byte(c)
	}
	g10, _ := scheme.Get("galaxy10")
	ds := []hdf5.NamedArray{
		{Name: "images", Array: &array.Array{Shape: []int{raw.N, raw.H, raw.W, raw.C}, DType: array.Uint8, Data: raw.Pixels}},
		{Name: "ans", Array: &array.Array{Shape: []int{raw.N}, DType: array.Uint8, Data: ans}},
	}
	attrs := []hdf5.StringAttr{{Name: "class_names", Values: g10.Classes}}
	if source != "" {
		attrs = append(attrs, hdf5.StringAttr{Name: "source", Values: []string{source}})
	}
	return hdf5.WriteFile(path, ds, hdf5.WriteOptions{Deflate: 4, Attrs: attrs})
}

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
// is blurred by a Gaussian point-spread function (FWHM 1.3-2.4 px at 69 px),
// gets neighbouring galaxies and stars now and then, sky and source Poisson
// noise (Gaussian limit) plus read noise, and is mapped to bytes with the
// asinh stretch of the SDSS colour composites (Lupton et al. 2004): dark sky
// around 5-10 grey levels, cores up to 150-255.
//
// Cutouts are 69x69x3 uint8 by default (Options.Size: any side from 16 to
// 512 pixels; every length of the model scales with the side, so a larger
// cutout is the same galaxy at a finer pixel scale), channels stored as the
// composites' R, G, B = the i, r and g bands (channel 2 is g, so --channels g
// picks the g band as for the real files). Labels are Galaxy10 class codes
// (0..9); scheme course5 generates only classes 0, 1, 2, 4 and 7. Scheme
// galaxy10-decals generates the ten Galaxy10 DECaLS classes, labelled with
// their DECaLS numbers, from the same models (barred spirals with a strong
// bar, unbarred spirals without, and two more: mergers and disturbed
// galaxies), and WriteFile writes them in the Galaxy10_DECals.h5 layout; the
// channels then stand for z, r and g, the R, G, B of the Legacy Surveys
// composites (channel 2 is g in both layouts). Classes are balanced (counts
// differ by at most one) and shuffled.
//
// Generation is deterministic for a seed whatever the number of cores: galaxy
// i draws every random number from its own stream, seeded by (seed, i), so
// galaxies are rendered in parallel and the same seed gives the same bytes.
// At the default size the bytes are those of every earlier version, which
// had no other size.
package synth

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
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

// MaxN bounds the number of galaxies of one set (14 KB each at 69 px), and
// MaxBytes the pixels of one set in memory (256 px cutouts: 192 KB each).
const (
	MaxN     = 2_000_000
	MaxBytes = 64 << 30
)

// Options say what to generate.
type Options struct {
	Scheme string // "course5", "galaxy10" or "galaxy10-decals"
	N      int    // number of galaxies
	Seed   uint64
	Size   int // side of the cutouts in pixels, MinSize to MaxSize; 0 means DefaultSize
}

// side returns the side of the cutouts.
func (o Options) side() int {
	if o.Size == 0 {
		return DefaultSize
	}
	return o.Size
}

// Check reports options that cannot generate a set: an unknown scheme, a
// size out of range, fewer galaxies than classes or more than MaxN, more
// than MaxBytes of pixels.
func (o Options) Check() error {
	codes, err := Codes(o.Scheme)
	if err != nil {
		return err
	}
	if o.Size != 0 && (o.Size < MinSize || o.Size > MaxSize) {
		return fmt.Errorf("synth: cutouts of %d pixels: want %d to %d (0 for %d)", o.Size, MinSize, MaxSize, DefaultSize)
	}
	if o.N < len(codes) || o.N > MaxN {
		return fmt.Errorf("synth: %d galaxies: want %d (one galaxy per class) to %d", o.N, len(codes), MaxN)
	}
	if s := o.side(); int64(o.N)*int64(s*s*3) > MaxBytes {
		return fmt.Errorf("synth: %d galaxies of %dx%d pixels need %.1f GiB: more than the %d GiB allowed", o.N, s, s, float64(o.N)*float64(s*s*3)/(1<<30), MaxBytes>>30)
	}
	return nil
}

// Source returns the command line that renders the set (what WriteFile
// records as the file's source).
func (o Options) Source() string {
	src := fmt.Sprintf("galaxy synth --scheme %s --n %d --seed %d", o.Scheme, o.N, o.Seed)
	if o.side() != DefaultSize {
		src += fmt.Sprintf(" --size %d", o.side())
	}
	return src
}

// Job is one run of `galaxy synth`: a set to render, written as HDF5 to Out
// and/or drawn as a montage PNG (Montage) of the first PerClass galaxies of
// each class, each enlarged Scale times ("" for either: not written).
type Job struct {
	Options
	Out, Montage    string
	PerClass, Scale int
}

// Check reports a job that cannot run, before anything is rendered.
func (j Job) Check() error {
	if err := j.Options.Check(); err != nil {
		return err
	}
	switch {
	case j.Out == "" && j.Montage == "":
		return fmt.Errorf("synth: nothing to write: no HDF5 file and no montage named")
	case j.Montage != "" && (j.PerClass < 1 || j.PerClass > 100):
		return fmt.Errorf("synth: montage of %d galaxies per class: want 1 to 100", j.PerClass)
	case j.Montage != "" && (j.Scale < 1 || j.Scale > 16):
		return fmt.Errorf("synth: montage scale %d: want 1 to 16", j.Scale)
	}
	if j.Out != "" {
		if err := checkLayout(spaceOf(j.Scheme), j.side()); err != nil {
			return err
		}
	}
	for _, p := range []string{j.Out, j.Montage} {
		if p == "" {
			continue
		}
		if st, err := os.Stat(filepath.Dir(p)); err != nil || !st.IsDir() {
			return fmt.Errorf("cannot write %s: no folder %s", p, filepath.Dir(p))
		}
	}
	return nil
}

// Codes returns the class codes a scheme generates, in its label space:
// Galaxy10 class codes for course5 and galaxy10, Galaxy10 DECaLS class
// numbers for galaxy10-decals.
func Codes(schemeName string) ([]int, error) {
	switch strings.ToLower(schemeName) {
	case "course5":
		return []int{0, 1, 2, 4, 7}, nil
	case "galaxy10", "galaxy10-decals":
		return []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, nil
	}
	return nil, fmt.Errorf("synth: unknown scheme %q (want course5, galaxy10 or galaxy10-decals)", schemeName)
}

// spaceOf returns the label space of a known scheme's codes.
func spaceOf(schemeName string) string {
	if strings.EqualFold(schemeName, "galaxy10-decals") {
		return "galaxy10-decals"
	}
	return "galaxy10"
}

// kindOf returns what to draw for a code of the label space.
func kindOf(space string, code int) int {
	if space == "galaxy10-decals" {
		return decalsKinds[code]
	}
	return code
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

// Render draws one galaxy of class code (0..9, in the label space of the
// scheme: see Codes) into dst, which must hold size*size*3 bytes (HWC,
// channels i, r, g); size 0 means DefaultSize. The same rng state gives the
// same image.
func Render(dst []uint8, size int, schemeName string, code int, rng *rand.Rand) error {
	if _, err := Codes(schemeName); err != nil {
		return err
	}
	if size == 0 {
		size = DefaultSize
	}
	if size < MinSize || size > MaxSize {
		return fmt.Errorf("synth: cutouts of %d pixels: want %d to %d", size, MinSize, MaxSize)
	}
	if len(dst) != size*size*3 {
		return fmt.Errorf("synth: destination of %d bytes, want %d", len(dst), size*size*3)
	}
	space := spaceOf(schemeName)
	if code < 0 || code > 9 {
		return fmt.Errorf("synth: class code %d, want a %s class 0..9", code, space)
	}
	var g renderer
	g.render(dst, size, kindOf(space, code), rng)
	return nil
}

// Generate renders a data set in memory, in parallel over the cores. The
// result's label space is galaxy10 (codes 0..9), or galaxy10-decals for that
// scheme. Its pixels are the only large allocation: N*Size*Size*3 bytes.
func Generate(opt Options) (*data.Raw, error) {
	if err := opt.Check(); err != nil {
		return nil, err
	}
	codes, _ := Codes(opt.Scheme)
	size, space := opt.side(), spaceOf(opt.Scheme)
	path := fmt.Sprintf("synth(%s, n=%d, seed=%d)", strings.ToLower(opt.Scheme), opt.N, opt.Seed)
	if size != DefaultSize {
		path = fmt.Sprintf("synth(%s, n=%d, seed=%d, size=%d)", strings.ToLower(opt.Scheme), opt.N, opt.Seed, size)
	}
	raw := &data.Raw{
		Path: path,
		N:    opt.N, H: size, W: size, C: 3,
		Pixels: make([]uint8, opt.N*size*size*3),
		Codes:  Labels(codes, opt.N, opt.Seed),
		Space:  space,
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
					g.render(raw.Image(i), size, kindOf(space, raw.Codes[i]), stream(opt.Seed, i))
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

// DECaLSSize is the side of Galaxy10 DECaLS cutouts, and DECaLSPixelScale
// their pixel scale (arcsec per pixel).
const (
	DECaLSSize       = 256
	DECaLSPixelScale = 0.262
)

// checkLayout reports a set whose file would not read back in its label
// space: data/load takes a file for Galaxy10 DECaLS by its 256x256 images.
func checkLayout(space string, size int) error {
	if space == "galaxy10-decals" && size != DECaLSSize {
		return fmt.Errorf("synth: galaxy10-decals files hold %dx%d cutouts (read back as Galaxy10 SDSS otherwise), not %dx%d", DECaLSSize, DECaLSSize, size, size)
	}
	return nil
}

// WriteFile writes a set as HDF5, chunked and deflated, atomically, with
// the root attributes class_names (the class names of its label space,
// indexed by ans) and source (opt.Source()). opt are the options that
// generated raw. A galaxy10 set is written in the Galaxy10 layout: images
// uint8 (N,H,W,3), ans uint8 (N,). A galaxy10-decals set (256x256 only) is
// written in the Galaxy10_DECals.h5 layout: images and ans as well as
// float64 (N,) ra, dec (uniform on the sky, dec -30 to +70 degrees),
// redshift (0.01 to 0.15), drawn from a stream of (opt.Seed, i) for galaxy
// i, and pxscale (0.262 arcsec). The images are written from raw.Pixels
// without a copy; the deflated chunks are held in memory until written.
func WriteFile(path string, raw *data.Raw, opt Options) error {
	ans := make([]byte, raw.N)
	for i, c := range raw.Codes {
		if c < 0 || c > 255 {
			return fmt.Errorf("synth: label %d of image %d does not fit a byte", c, i)
		}
		ans[i] = byte(c)
	}
	space := raw.Space
	if space != "galaxy10-decals" {
		space = "galaxy10"
	}
	if err := checkLayout(space, raw.H); err != nil {
		return err
	}
	names, _ := scheme.Get(space)
	ds := []hdf5.NamedArray{
		{Name: "images", Array: &array.Array{Shape: []int{raw.N, raw.H, raw.W, raw.C}, DType: array.Uint8, Data: raw.Pixels}},
		{Name: "ans", Array: &array.Array{Shape: []int{raw.N}, DType: array.Uint8, Data: ans}},
	}
	if space == "galaxy10-decals" {
		ds = append(ds, catalog(raw.N, opt.Seed)...)
	}
	attrs := []hdf5.StringAttr{{Name: "class_names", Values: names.Classes}, {Name: "source", Values: []string{opt.Source()}}}
	return hdf5.WriteFile(path, ds, hdf5.WriteOptions{Deflate: 4, Attrs: attrs})
}

// catalog returns the ra, dec, redshift and pxscale datasets of n DECaLS
// galaxies.
func catalog(n int, seed uint64) []hdf5.NamedArray {
	cols := [4][]byte{}
	for k := range cols {
		cols[k] = make([]byte, 8*n)
	}
	lo, hi := math.Sin(-30*math.Pi/180), math.Sin(70*math.Pi/180)
	for i := range n {
		rng := rand.New(rand.NewPCG(seed^0x2545f4914f6cdd1d, uint64(i)*0x9e3779b97f4a7c15+0xd1b54a32d192ed03))
		ra := 360 * rng.Float64()
		dec := math.Asin(lo+(hi-lo)*rng.Float64()) * 180 / math.Pi // uniform on the sphere
		z := 0.01 + 0.14*rng.Float64()
		for k, v := range [4]float64{ra, dec, z, DECaLSPixelScale} {
			binary.LittleEndian.PutUint64(cols[k][8*i:], math.Float64bits(v))
		}
	}
	var out []hdf5.NamedArray
	for k, name := range []string{"ra", "dec", "redshift", "pxscale"} {
		out = append(out, hdf5.NamedArray{Name: name, Array: &array.Array{Shape: []int{n}, DType: array.Float64, Data: cols[k]}})
	}
	return out
}

package synth

import (
	"bytes"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"galaxy/data"
)

func TestDeterministic(t *testing.T) {
	opt := Options{Scheme: "galaxy10", N: 60, Seed: 42}
	a, err := Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	prev := runtime.GOMAXPROCS(1) // one worker must give the same bytes
	b, err := Generate(opt)
	runtime.GOMAXPROCS(prev)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Pixels, b.Pixels) || !slices.Equal(a.Codes, b.Codes) {
		t.Fatal("same seed, different sets")
	}
	opt.Seed = 43
	c, _ := Generate(opt)
	if bytes.Equal(a.Pixels, c.Pixels) {
		t.Fatal("different seeds, same images")
	}
	// A galaxy depends on (seed, index) only: a longer set starts the same.
	opt.Seed, opt.N = 42, 90
	d, _ := Generate(opt)
	for i := range 60 {
		if d.Codes[i] == a.Codes[i] && !bytes.Equal(d.Image(i), a.Image(i)) {
			t.Fatalf("image %d of class %d differs between sets of 60 and 90", i, a.Codes[i])
		}
	}
}

func TestBalanceAndScheme(t *testing.T) {
	for _, tc := range []struct {
		scheme string
		n      int
		codes  []int
	}{
		{"course5", 103, []int{0, 1, 2, 4, 7}},
		{"galaxy10", 57, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
	} {
		raw, err := Generate(Options{Scheme: tc.scheme, N: tc.n, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		count := map[int]int{}
		for _, c := range raw.Codes {
			count[c]++
		}
		var keys []int
		for c, k := range count {
			keys = append(keys, c)
			if lo := tc.n / len(tc.codes); k < lo || k > lo+1 {
				t.Errorf("%s: class %d has %d of %d galaxies", tc.scheme, c, k, tc.n)
			}
		}
		sort.Ints(keys)
		if !slices.Equal(keys, tc.codes) {
			t.Errorf("%s: codes %v, want %v", tc.scheme, keys, tc.codes)
		}
		if raw.Space != "galaxy10" || raw.H != DefaultSize || raw.W != DefaultSize || raw.C != 3 || len(raw.Pixels) != tc.n*DefaultSize*DefaultSize*3 {
			t.Errorf("%s: raw %+v", tc.scheme, raw)
		}
		ds, err := data.Prepare(raw, data.Options{Scheme: tc.scheme, Channels: "g", TestFrac: data.DefaultTestFrac, SplitSeed: data.DefaultSplitSeed})
		if err != nil {
			t.Fatal(err)
		}
		if ds.DroppedCount() != 0 || ds.All().Len() != tc.n {
			t.Errorf("%s: Prepare dropped %d", tc.scheme, ds.DroppedCount())
		}
	}
}

// TestPixelStatistics checks that the cutouts look like SDSS composites:
// dark sky, bright cores, red smooth galaxies and blue spirals.
func TestPixelStatistics(t *testing.T) {
	raw, err := Generate(Options{Scheme: "course5", N: 200, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var sky, core []float64
	gi := map[int][2]float64{} // class -> summed g and i light above the sky
	for i := range raw.N {
		img := raw.Image(i)
		var corner []int
		for y := range 6 {
			for x := range 6 {
				corner = append(corner, int(img[(y*DefaultSize+x)*3+1]))
			}
		}
		sort.Ints(corner)
		skyV := float64(corner[len(corner)/2])
		sky = append(sky, skyV)
		mx := 0
		for y := 30; y < 39; y++ {
			for x := 30; x < 39; x++ {
				mx = max(mx, int(img[(y*DefaultSize+x)*3]))
			}
		}
		core = append(core, float64(mx))
		s := gi[raw.Codes[i]]
		for p := 0; p < DefaultSize*DefaultSize; p++ {
			s[0] += float64(img[3*p+2]) - skyV
			s[1] += float64(img[3*p]) - skyV
		}
		gi[raw.Codes[i]] = s
	}
	sort.Float64s(sky)
	sort.Float64s(core)
	if m := sky[len(sky)/2]; m < 2 || m > 12 {
		t.Errorf("median sky %v, want dark (2..12)", m)
	}
	if m := core[len(core)/2]; m < 120 || m > 255 {
		t.Errorf("median core (i band) %v, want 120..255", m)
	}
	smooth := gi[1][0] / gi[1][1]
	spiral := gi[7][0] / gi[7][1]
	if !(smooth < 0.85 && spiral > smooth+0.1) {
		t.Errorf("g/i light: smooth round %.2f, tight spiral %.2f; want red ellipticals, bluer spirals", smooth, spiral)
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Scheme: "nope", N: 10}, `unknown scheme "nope"`},
		{Options{Scheme: "course5", N: 0}, "0 galaxies: want 5 (one galaxy per class)"},
		{Options{Scheme: "course5", N: -1}, "-1 galaxies"},
		{Options{Scheme: "galaxy10", N: 9}, "want 10 (one galaxy per class)"},
		{Options{Scheme: "galaxy10", N: MaxN + 1}, "galaxies"},
		{Options{Scheme: "galaxy10", N: 10, Size: 15}, "cutouts of 15 pixels: want 16 to 512"},
		{Options{Scheme: "galaxy10", N: 10, Size: 513}, "cutouts of 513 pixels"},
		{Options{Scheme: "galaxy10", N: 10, Size: -69}, "cutouts of -69 pixels"},
		{Options{Scheme: "galaxy10-decals", N: 400_000, Size: 256}, "GiB"},
	} {
		_, err := Generate(c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "--") {
			t.Errorf("%+v: %v, want an error with %q naming no flag", c.opt, err, c.want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	if err := Render(make([]byte, 10), 0, "galaxy10", 1, rng); err == nil {
		t.Error("short destination accepted")
	}
	if err := Render(make([]byte, DefaultSize*DefaultSize*3), 0, "galaxy10", 10, rng); err == nil {
		t.Error("class 10 accepted")
	}
	if err := Render(make([]byte, 8*8*3), 8, "galaxy10", 1, rng); err == nil || !strings.Contains(err.Error(), "8 pixels") {
		t.Errorf("8x8 render: %v", err)
	}
	if err := Render(make([]byte, DefaultSize*DefaultSize*3), 0, "gz1", 1, rng); err == nil {
		t.Error("scheme gz1 accepted")
	}
	dst := make([]byte, DefaultSize*DefaultSize*3)
	if err := Render(dst, 0, "galaxy10", 7, rng); err != nil || bytes.Count(dst, []byte{0}) == len(dst) {
		t.Errorf("Render: %v", err)
	}
	dst = make([]byte, 40*40*3)
	if err := Render(dst, 40, "galaxy10-decals", 1, rng); err != nil || bytes.Count(dst, []byte{0}) == len(dst) {
		t.Errorf("Render 40 px merger: %v", err)
	}
}

func TestSoftening(t *testing.T) {
	for _, c := range [][3]float64{{2, 1000, 200}, {3, 150, 170}, {1.5, 8000, 235}} {
		s := softening(c[0], c[1], c[2])
		if got := c[0] * s * math.Asinh(c[1]/s); got < c[2]-0.5 || got > c[2]+0.5 {
			t.Errorf("softening%v = %v gives %v", c, s, got)
		}
	}
	if s := softening(1, 50, 200); s < 1e5 {
		t.Errorf("faint peak: softening %v, want the linear limit", s)
	}
}

// BenchmarkGenerate reports galaxies per second of the parallel generator.
func BenchmarkGenerate(b *testing.B) {
	n := 0
	for b.Loop() {
		if _, err := Generate(Options{Scheme: "course5", N: 1000, Seed: uint64(n)}); err != nil {
			b.Fatal(err)
		}
		n += 1000
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "galaxies/s")
}

// BenchmarkRender is one galaxy on one core.
func BenchmarkRender(b *testing.B) {
	var g renderer
	dst := make([]byte, DefaultSize*DefaultSize*3)
	i := 0
	for b.Loop() {
		g.render(dst, DefaultSize, []int{0, 1, 2, 4, 7}[i%5], stream(1, i))
		i++
	}
}

// BenchmarkRender256 is one DECaLS-sized galaxy on one core.
func BenchmarkRender256(b *testing.B) {
	var g renderer
	dst := make([]byte, 256*256*3)
	i := 0
	for b.Loop() {
		g.render(dst, 256, decalsKinds[i%10], stream(1, i))
		i++
	}
}

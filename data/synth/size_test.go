package synth

import (
	"crypto/sha256"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestPinnedBytes pins the bytes of small 69-px sets of both Galaxy10
// schemes to those of the version before cutouts had a size: the built-in
// set, and the models trained on it, depend on them.
func TestPinnedBytes(t *testing.T) {
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Scheme: "galaxy10", N: 40, Seed: 11}, "7c46890e329760c785c7b02ca6588090c6093584c00f8fe62d6b213728b8e394"},
		{Options{Scheme: "galaxy10", N: 40, Seed: 11, Size: DefaultSize}, "7c46890e329760c785c7b02ca6588090c6093584c00f8fe62d6b213728b8e394"},
		{Options{Scheme: "course5", N: 25, Seed: 2}, "9a14df4b94a952ca271cd4687873876ec9b783f7adb5ed0c9d82964c10878eaa"},
	} {
		raw, err := Generate(c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(raw.Pixels)); got != c.want {
			t.Errorf("%+v: pixels sha256 %s, want %s", c.opt, got, c.want)
		}
		if raw.Path != fmt.Sprintf("synth(%s, n=%d, seed=%d)", c.opt.Scheme, c.opt.N, c.opt.Seed) {
			t.Errorf("path %q", raw.Path)
		}
	}
	if got := (Options{Scheme: "galaxy10", N: 500, Seed: 3, Size: 69}).Source(); got != "galaxy synth --scheme galaxy10 --n 500 --seed 3" {
		t.Errorf("source %q", got)
	}
}

// shape measures a cutout: the light above the sky (band mean, bytes),
// its centroid and the radius around the centroid that holds half of it.
func shape(img []uint8, n int) (light, cx, cy, r50 float64) {
	v := make([]float64, n*n)
	var border []float64
	for p := range v {
		v[p] = (float64(img[3*p]) + float64(img[3*p+1]) + float64(img[3*p+2])) / 3
		if x, y := p%n, p/n; x < 3 || y < 3 || x >= n-3 || y >= n-3 {
			border = append(border, v[p])
		}
	}
	sort.Float64s(border)
	sky := border[len(border)/2]
	for p := range v {
		v[p] = max(v[p]-sky, 0)
		light += v[p]
		cx += v[p] * float64(p%n)
		cy += v[p] * float64(p/n)
	}
	cx, cy = cx/light, cy/light
	type pr struct{ r, v float64 }
	ps := make([]pr, len(v))
	for p := range v {
		ps[p] = pr{math.Hypot(float64(p%n)-cx, float64(p/n)-cy), v[p]}
	}
	sort.Slice(ps, func(a, b int) bool { return ps[a].r < ps[b].r })
	acc := 0.0
	for _, q := range ps {
		if acc += q.v; acc >= light/2 {
			return light, cx, cy, q.r
		}
	}
	return light, cx, cy, ps[len(ps)-1].r
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	sort.Float64s(v)
	return v[len(v)/2]
}

// TestSizeScaling renders the same galaxies at 69 and 128 px: at 128 they
// are centred, their half-light radius is 128/69 times larger (in each
// class) and their light (above the sky, in grey levels) (128/69)^2 times
// more. (The stretch of a galaxy differs between the two sizes, so the light
// is compared over all classes.)
func TestSizeScaling(t *testing.T) {
	const n = 150
	type meas struct{ light, r50, off []float64 }
	at := func(size int) map[int]*meas {
		raw, err := Generate(Options{Scheme: "galaxy10", N: n, Seed: 9, Size: size})
		if err != nil {
			t.Fatal(err)
		}
		if raw.H != size || raw.W != size || len(raw.Pixels) != n*size*size*3 {
			t.Fatalf("size %d: raw %dx%d, %d bytes", size, raw.H, raw.W, len(raw.Pixels))
		}
		out := map[int]*meas{-1: new(meas)}
		for i := range raw.N {
			light, cx, cy, r50 := shape(raw.Image(i), size)
			c := float64(size-1) / 2
			for _, k := range []int{raw.Codes[i], -1} {
				m := out[k]
				if m == nil {
					m = new(meas)
					out[k] = m
				}
				m.light, m.r50, m.off = append(m.light, light), append(m.r50, r50), append(m.off, math.Hypot(cx-c, cy-c))
			}
		}
		return out
	}
	small, big := at(DefaultSize), at(128)
	f := 128.0 / DefaultSize
	for code := -1; code < 10; code++ {
		s, b := small[code], big[code]
		rr := median(b.r50) / median(s.r50)
		lr := median(b.light) / median(s.light)
		off := median(b.off)
		t.Logf("class %d: r50 %.1f -> %.1f px (x%.2f), light x%.2f, centroid off by %.1f px", code, median(s.r50), median(b.r50), rr, lr, off)
		tol := 0.2
		if code == -1 { // all classes
			tol = 0.1
			if lr < f*f*0.85 || lr > f*f*1.15 {
				t.Errorf("light grows %.2f times from 69 to 128 px, want about %.2f", lr, f*f)
			}
		}
		if rr < f*(1-tol) || rr > f*(1+tol) {
			t.Errorf("class %d: half-light radius grows %.2f times from 69 to 128 px, want about %.2f", code, rr, f)
		}
		if off > 0.04*128 {
			t.Errorf("class %d: light centroid %.1f px from the centre of a 128 px cutout", code, off)
		}
	}
}

// TestDECaLSKinds: the DECaLS scheme renders its ten classes, balanced, in
// its own label space, through the kinds of decalsKinds.
func TestDECaLSKinds(t *testing.T) {
	raw, err := Generate(Options{Scheme: "galaxy10-decals", N: 30, Seed: 4, Size: 48})
	if err != nil {
		t.Fatal(err)
	}
	count := make([]int, 10)
	for _, c := range raw.Codes {
		count[c]++
	}
	if raw.Space != "galaxy10-decals" || raw.H != 48 || !slices.Equal(count, []int{3, 3, 3, 3, 3, 3, 3, 3, 3, 3}) || !strings.Contains(raw.Path, "size=48") {
		t.Errorf("space %s, %dx%d, counts %v, path %s", raw.Space, raw.H, raw.W, count, raw.Path)
	}
	seen := map[int]bool{}
	for _, k := range decalsKinds {
		seen[k] = true
	}
	for _, k := range []int{barredSpiral, tightNoBar, looseNoBar, merging, disturbed} {
		if !seen[k] {
			t.Errorf("kind %d not used", k)
		}
	}
}

func TestJobCheck(t *testing.T) {
	dir := t.TempDir()
	ok := Job{Options: Options{Scheme: "galaxy10-decals", N: 20, Size: 256}, Out: filepath.Join(dir, "d.h5"), PerClass: 8, Scale: 2}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	bad := func(f func(j *Job)) Job { j := ok; f(&j); return j }
	for _, c := range []struct {
		job  Job
		want string
	}{
		{bad(func(j *Job) { j.Out = "" }), "nothing to write"},
		{bad(func(j *Job) { j.N = 3 }), "one galaxy per class"},
		{bad(func(j *Job) { j.Size = 600 }), "cutouts of 600 pixels"},
		{bad(func(j *Job) { j.Size = 128 }), "galaxy10-decals files hold 256x256 cutouts"},
		{bad(func(j *Job) { j.Out = filepath.Join(dir, "no", "d.h5") }), "cannot write"},
		{bad(func(j *Job) { j.Montage, j.PerClass = filepath.Join(dir, "m.png"), 0 }), "0 galaxies per class"},
		{bad(func(j *Job) { j.Montage, j.Scale = filepath.Join(dir, "m.png"), 17 }), "scale 17"},
	} {
		if err := c.job.Check(); err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "--") {
			t.Errorf("%+v: %v, want an error with %q naming no flag", c.job, err, c.want)
		}
	}
	// A montage alone may be of DECaLS classes at any size; so is a set in memory.
	j := bad(func(j *Job) { j.Out, j.Montage, j.Size = "", filepath.Join(dir, "m.png"), 64 })
	if err := j.Check(); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}

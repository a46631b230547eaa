package data

import (
	"strconv"
	"strings"
	"testing"
)

// synthRaw makes n tiny 2x2x3 images whose pixel values encode their index
// and channel, with gz1 codes cycling through 0..5.
func synthRaw(n int) *Raw {
	r := &Raw{Path: "synth", N: n, H: 2, W: 2, C: 3, Space: "gz1"}
	r.Pixels = make([]uint8, n*12)
	r.Codes = make([]int, n)
	for i := 0; i < n; i++ {
		for p := 0; p < 4; p++ {
			for c := 0; c < 3; c++ {
				r.Pixels[i*12+p*3+c] = uint8((i*7 + p*3 + c) % 256)
			}
		}
		r.Codes[i] = i % 6
	}
	return r
}

func TestPrepareSchemeAndDrops(t *testing.T) {
	raw := synthRaw(600)
	ds, err := Prepare(raw, Options{Scheme: "morph4", Channels: "all", TestFrac: 0.1, SplitSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if ds.DroppedCount() != 100 || ds.Dropped[4] != 100 {
		t.Errorf("dropped %v, want 100 of code 4", ds.Dropped)
	}
	if ds.All().Len() != 500 || ds.Train.Len()+ds.Test.Len() != 500 {
		t.Errorf("kept %d, train %d, test %d", ds.All().Len(), ds.Train.Len(), ds.Test.Len())
	}
	// Stratified: each class loses round(0.1*count) to test.
	k := ds.Scheme.K()
	all, te := ds.All().Counts(k), ds.Test.Counts(k)
	want := []int{10, 20, 10, 10} // smooth 100, spiral 200, edge-on 100, merger 100
	for c := range want {
		if te[c] != want[c] || all[c] != want[c]*10 {
			t.Errorf("class %d: %d of %d in test, want %d of %d", c, te[c], all[c], want[c], want[c]*10)
		}
	}
	// Images follow their labels: image at file index i has code i%6.
	for j, i := range ds.Test.Index {
		if got, want := ds.Test.Image(j)[0], uint8((i*7)%256); got != want {
			t.Fatalf("test image %d (file %d) pixel %d, want %d", j, i, got, want)
		}
		cls, _, _ := ds.Scheme.Class("gz1", i%6)
		if ds.Test.Labels[j] != cls {
			t.Fatalf("test image %d label %d, want %d", j, ds.Test.Labels[j], cls)
		}
	}
}

func TestSplitDeterministic(t *testing.T) {
	raw := synthRaw(300)
	opt := Options{Scheme: "gz1", TestFrac: 0.2, SplitSeed: 7}
	a, _ := Prepare(raw, opt)
	b, _ := Prepare(raw, opt)
	if strings.Join(ints(a.Test.Index), ",") != strings.Join(ints(b.Test.Index), ",") {
		t.Error("same seed, different splits")
	}
	opt.SplitSeed = 8
	c, _ := Prepare(raw, opt)
	if strings.Join(ints(a.Test.Index), ",") == strings.Join(ints(c.Test.Index), ",") {
		t.Error("different seeds, same split")
	}
	seen := map[int]bool{}
	for _, i := range append(append([]int(nil), a.Train.Index...), a.Test.Index...) {
		if seen[i] {
			t.Fatalf("image %d in both splits", i)
		}
		seen[i] = true
	}
}

func ints(v []int) []string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return s
}

func TestChannels(t *testing.T) {
	raw := synthRaw(12)
	ds, err := Prepare(raw, Options{Scheme: "gz1", Channels: "g", TestFrac: 0})
	if err != nil {
		t.Fatal(err)
	}
	if ds.C != 1 || ds.Channels[0] != 2 || ds.Dim() != 4 {
		t.Fatalf("g: C=%d channels %v", ds.C, ds.Channels)
	}
	for p := 0; p < 4; p++ {
		if got, want := ds.All().Image(1)[p], raw.Image(1)[p*3+2]; got != want {
			t.Errorf("pixel %d: %d, want %d", p, got, want)
		}
	}
	f := make([]float32, 4)
	ds.All().Features(1, f)
	if f[0] != float32(raw.Image(1)[2])/256 {
		t.Errorf("features not scaled by 1/256: %v", f)
	}
	for spec, want := range map[string]string{"0,2": "0,2", "all": "all", "r": "1", "i": "0", " G ": "2"} {
		ch, err := ParseChannels(spec, 3)
		if err != nil || ChannelSpec(ch, 3) != want {
			t.Errorf("%q -> %v %v", spec, ch, err)
		}
	}
	for _, bad := range []string{"3", "x", "0,0", "-1", "g,r"} {
		if _, err := ParseChannels(bad, 3); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if ch, err := ParseChannels("g", 1); err != nil || ch[0] != 0 {
		t.Errorf("g of a 1-channel file: %v %v", ch, err)
	}
}

func TestPrepareErrors(t *testing.T) {
	raw := synthRaw(10)
	raw.Codes[3] = 9
	_, err := Prepare(raw, Options{Scheme: "morph4"})
	if err == nil || !strings.Contains(err.Error(), "image 3") || !strings.Contains(err.Error(), "synth") || !strings.Contains(err.Error(), "morph4") {
		t.Errorf("code out of range: %v", err)
	}
	raw = synthRaw(10)
	if _, err := Prepare(raw, Options{Scheme: "course5"}); err == nil || !strings.Contains(err.Error(), "gz1 labels") {
		t.Errorf("wrong label space: %v", err)
	}
	if _, err := Prepare(raw, Options{Scheme: "gz1", TestFrac: 1}); err == nil {
		t.Error("test fraction 1 accepted")
	}
	raw.Codes = nil
	if _, err := Prepare(raw, Options{}); err == nil {
		t.Error("no labels accepted")
	}
}

func TestPrepareResize(t *testing.T) {
	// 4x4 images of 2x2 blocks of one value: halving gives those values.
	raw := &Raw{Path: "blocks", N: 20, H: 4, W: 4, C: 3, Space: "gz1", Pixels: make([]uint8, 20*48), Codes: make([]int, 20)}
	for i := range raw.N {
		raw.Codes[i] = i % 2
		for y := range 4 {
			for x := range 4 {
				for c := range 3 {
					raw.Pixels[i*48+(y*4+x)*3+c] = uint8(10*i + 4*(y/2) + 2*(x/2) + 100*c)
				}
			}
		}
	}
	for _, channels := range []string{"all", "g", "0,2"} {
		ds, err := Prepare(raw, Options{Scheme: "morph4", Channels: channels, TestFrac: 0.2, SplitSeed: 1, Resize: 2})
		if err != nil {
			t.Fatal(err)
		}
		if ds.H != 2 || ds.W != 2 || ds.SourceSize != 4 || ds.Train.H != 2 || ds.Test.Dim() != 2*2*ds.C {
			t.Fatalf("%s: prepared %dx%d (source %d), train %dx%d", channels, ds.H, ds.W, ds.SourceSize, ds.Train.H, ds.Train.W)
		}
		for j, fi := range ds.All().Index {
			img := ds.All().Image(j)
			for y := range 2 {
				for x := range 2 {
					for q, c := range ds.Channels {
						if got, want := img[(y*2+x)*ds.C+q], uint8(10*fi+4*y+2*x+100*c); got != want {
							t.Fatalf("%s: image %d pixel (%d,%d) channel %d = %d, want %d", channels, fi, y, x, c, got, want)
						}
					}
				}
			}
		}
		if d := ds.Describe(raw); !strings.Contains(d, "4x4x3 resized to 2x2") {
			t.Errorf("Describe = %q, want the resize named", d)
		}
	}
	if _, err := Prepare(&Raw{Path: "wide", N: 1, H: 4, W: 6, C: 1, Space: "gz1", Pixels: make([]uint8, 24), Codes: []int{0}},
		Options{Scheme: "morph4", Resize: 2}); err == nil || !strings.Contains(err.Error(), "not square") {
		t.Errorf("non-square resize: err %v, want one saying the images are not square", err)
	}
}

func TestImages(t *testing.T) {
	raw := synthRaw(30) // gz1 codes 0..5, code 4 ("don't know") dropped by morph4
	ds, err := Prepare(raw, Options{Scheme: "morph4", Channels: "g", TestFrac: 0.2, SplitSeed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Images(raw, Options{Scheme: "morph4", Channels: "g", TestFrac: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 30 || s.C != 1 || s.H != 2 {
		t.Fatalf("%d images of %dx%dx%d, want all 30 of 2x2x1", s.Len(), s.H, s.W, s.C)
	}
	all := ds.All()
	j := 0
	for i := range s.Len() {
		if s.Index[i] != i || s.Labels[i] != raw.Codes[i] {
			t.Fatalf("image %d: index %d, label %d; want %d, code %d", i, s.Index[i], s.Labels[i], i, raw.Codes[i])
		}
		if want := raw.Image(i)[2]; s.Image(i)[0] != want {
			t.Fatalf("image %d: first g pixel %d, want %d", i, s.Image(i)[0], want)
		}
		if raw.Codes[i] == 4 {
			continue // Prepare dropped it
		}
		if string(s.Image(i)) != string(all.Image(j)) {
			t.Fatalf("image %d differs from Prepare's", i)
		}
		j++
	}
	// Every channel at the file's size: the file's pixels, not a copy.
	if s, err = Images(raw, Options{Channels: "all"}); err != nil || s.Len() != 30 || &s.Pixels[0] != &raw.Pixels[0] || len(s.Pixels) != len(raw.Pixels) || s.Image(29)[11] != raw.Image(29)[11] {
		t.Fatalf("all channels: err %v, shares the pixels: %v", err, err == nil && &s.Pixels[0] == &raw.Pixels[0])
	}
	raw.Codes = nil // a file without labels
	if s, err = Images(raw, Options{Resize: 1}); err != nil || s.Len() != 30 || s.H != 1 || s.Labels[7] != -1 {
		t.Fatalf("unlabelled, resized to 1: err %v, split %+v", err, s)
	}
	for _, opt := range []Options{{Channels: "5"}, {Resize: -1}} {
		if _, err := Images(raw, opt); err == nil {
			t.Errorf("%+v: no error", opt)
		}
	}
}

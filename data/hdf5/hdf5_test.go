package hdf5

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"galaxy/data/array"
	"galaxy/internal/shared"
)

// expectedFile is what testdata/gen.py recorded from h5py for one fixture.
type expectedFile struct {
	Names    []string                   `json:"names"`
	Datasets map[string]expectedDataset `json:"datasets"`
	Attrs    map[string][]string        `json:"attrs"`
}

type expectedDataset struct {
	Shape   []int    `json:"shape"`
	DType   string   `json:"dtype"`
	Chunks  []int    `json:"chunks"`
	Filters []string `json:"filters"`
	Hex     string   `json:"hex"`
}

func loadExpected(t testing.TB) map[string]expectedFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp map[string]expectedFile
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	return exp
}

// TestFixtures compares every dataset of every fixture, element by element,
// with what h5py read from it.
func TestFixtures(t *testing.T) {
	exp := loadExpected(t)
	if len(exp) < 8 {
		t.Fatalf("expected.json describes %d files", len(exp))
	}
	for name, want := range exp {
		t.Run(name, func(t *testing.T) {
			f, err := Open(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := f.Names(); !slices.Equal(got, want.Names) {
				t.Errorf("Names() = %q, want %q", got, want.Names)
			}
			for dsName, w := range want.Datasets {
				t.Run(dsName, func(t *testing.T) { checkDataset(t, f, dsName, w) })
			}
			for attr, w := range want.Attrs { // the root's string attributes
				got, err := f.AttrStrings(attr)
				if err != nil {
					t.Errorf("AttrStrings(%q): %v", attr, err)
				} else if !slices.Equal(got, w) {
					t.Errorf("AttrStrings(%q) = %q, want %q", attr, got, w)
				}
			}
		})
	}
}

func checkDataset(t *testing.T, f *File, name string, w expectedDataset) {
	info, err := f.Info(name)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(info.Shape, w.Shape) || info.DType.String() != w.DType || !slices.Equal(info.Chunks, w.Chunks) ||
		!slices.Equal(info.Filters, w.Filters) {
		t.Errorf("Info = %+v, want shape %v dtype %s chunks %v filters %v", info, w.Shape, w.DType, w.Chunks, w.Filters)
	}
	a, err := f.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Check(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Shape, w.Shape) || a.DType.String() != w.DType {
		t.Fatalf("Read: shape %v %v, want %v %s", a.Shape, a.DType, w.Shape, w.DType)
	}
	want, err := hex.DecodeString(w.Hex)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Data) != len(want) {
		t.Fatalf("Read: %d bytes, h5py read %d", len(a.Data), len(want))
	}
	size := a.DType.Size()
	bad := 0
	for i := 0; i < len(want); i += size {
		if !bytes.Equal(a.Data[i:i+size], want[i:i+size]) {
			if bad < 5 {
				t.Errorf("element %d = %v, h5py read %v", i/size, element(a.DType, a.Data[i:]), element(a.DType, want[i:]))
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d elements differ from h5py", bad, len(want)/size)
	}
}

func element(t array.DType, b []byte) any {
	a := array.Array{Shape: []int{}, DType: t, Data: b[:t.Size()]}
	switch t {
	case array.Float32, array.Float64:
		return a.Float64s()[0]
	}
	v, _ := a.Int64s()
	return v[0]
}

// TestEdgeCases checks a few values by hand, independently of expected.json.
func TestEdgeCases(t *testing.T) {
	tests := []struct {
		file, dataset string
		check         func(a *array.Array) bool
	}{
		{"contig.h5", "i64", func(a *array.Array) bool {
			v, _ := a.Int64s()
			return slices.Equal(v, []int64{math.MinInt64, -1, 0, 1, math.MaxInt64, 587722981741363294})
		}},
		{"contig.h5", "scalar", func(a *array.Array) bool { return len(a.Shape) == 0 && a.Float64s()[0] == 42.5 }},
		{"contig.h5", "empty", func(a *array.Array) bool { return slices.Equal(a.Shape, []int{0}) && len(a.Data) == 0 }},
		{"contig.h5", "never_written", func(a *array.Array) bool { // fill value of a contiguous dataset
			v, _ := a.Int64s()
			return slices.Equal(v, []int64{-3, -3, -3, -3, -3, -3})
		}},
		{"contig.h5", "flag", func(a *array.Array) bool { return a.DType == array.Bool && bytes.Equal(a.Data, []byte{1, 0, 1}) }},
		{"bigendian.h5", "i64", func(a *array.Array) bool {
			v, _ := a.Int64s()
			return slices.Equal(v, []int64{-5, 587722981741363294, 1 << 62})
		}},
		{"bigendian.h5", "i32_fill", func(a *array.Array) bool {
			v, _ := a.Int64s()
			return slices.Equal(v, []int64{1, 2, -70000, -70000, -70000})
		}},
		{"chunked.h5", "sparse", func(a *array.Array) bool { // chunks never written hold the fill value 7
			v, _ := a.Int64s()
			return v[0] == 0 && v[35*0+7] == 7 && v[20*5+5] == 5*6+5 && v[20*19+19] == 7 && v[20*18+13] == -1
		}},
		{"latest.h5", "ext_sparse", func(a *array.Array) bool {
			v, _ := a.Int64s()
			return v[0] == 9 && v[19] == 9 && v[20] == 1 && v[23] == 4 && v[39] == 9
		}},
		{"super1.h5", "v", func(a *array.Array) bool {
			v, _ := a.Int64s()
			return len(v) == 100 && v[0] == 0 && v[99] == 99
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.dataset, func(t *testing.T) {
			f, err := Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			a, err := f.Read(tt.dataset)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(a) {
				t.Errorf("unexpected contents: shape %v %v % x", a.Shape, a.DType, a.Data[:min(len(a.Data), 64)])
			}
		})
	}
}

func TestAttrStrings(t *testing.T) {
	f, err := Open(filepath.Join("testdata", "attrs.h5"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := []struct {
		name string
		want []string
		err  string
	}{
		{"class_names", []string{"Elliptical", "Spiral clockwise", "Spiral anticlockwise", "Edge-on disk", "Don't know", "Merger"}, ""},
		{"fixed_names", []string{"alpha", "beta", "gamma"}, ""},
		{"one_vlen", []string{"a single variable-length string"}, ""},
		{"source", []string{"synthetic Galaxy10-like fixture for the Go HDF5 reader tests"}, ""},
		{"floats", nil, "not strings"},
		{"nope", nil, "attributes: "},
	}
	for _, tt := range tests {
		got, err := f.AttrStrings(tt.name)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("AttrStrings(%q) error %v, want one containing %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("AttrStrings(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

// TestConcurrentReads reads datasets from many goroutines at once (run with
// -race).
func TestConcurrentReads(t *testing.T) {
	f, err := Open(filepath.Join("testdata", "chunked.h5"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, err := f.Read("images")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, n := range []string{"images", "shuffled", "sparse", "ans"} {
				a, err := f.Read(n)
				if err != nil {
					t.Error(err)
					return
				}
				if n == "images" && !bytes.Equal(a.Data, want.Data) {
					t.Error("concurrent read differs")
				}
			}
		}()
	}
	wg.Wait()
}

func TestRealData(t *testing.T) {
	t.Run("gz1", func(t *testing.T) {
		f, err := Open(shared.File(t, "gz1_sdss_69.h5"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got, want := f.Names(), []string{"ans", "images", "objid"}; !slices.Equal(got, want) {
			t.Errorf("Names() = %q, want %q", got, want)
		}
		a, err := f.Read("images")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Shape, []int{5665, 69, 69, 3}) || a.DType != array.Uint8 {
			t.Fatalf("images: %v %v", a.Shape, a.DType)
		}
		var sum, sum2 uint64
		for i, v := range a.Data {
			sum += uint64(v)
			if i%3 == 2 {
				sum2 += uint64(v)
			}
		}
		if sum != 1433655625 || sum2 != 365288051 {
			t.Errorf("pixel sums %d (channel 2: %d), want 1433655625 (365288051)", sum, sum2)
		}
		checkCounts(t, f, map[int]int{0: 3970, 1: 345, 2: 360, 3: 845, 4: 47, 5: 98})
		names, err := f.AttrStrings("class_names")
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"Elliptical", "Spiral clockwise", "Spiral anticlockwise", "Edge-on disk", "Don't know", "Merger"}; !slices.Equal(names, want) {
			t.Errorf("class_names = %q, want %q", names, want)
		}
		ids, err := f.Read("objid")
		if err != nil || ids.DType != array.Int64 || !slices.Equal(ids.Shape, []int{5665}) {
			t.Errorf("objid: %v %v", ids, err)
		}
	})
	t.Run("gz2", func(t *testing.T) {
		f, err := Open(shared.File(t, "gz2_spiral_69.h5"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		a, err := f.Read("images")
		if err != nil {
			t.Fatal(err)
		}
		var sum uint64
		for _, v := range a.Data {
			sum += uint64(v)
		}
		if sum != 1813274202 {
			t.Errorf("pixel sum %d, want 1813274202", sum)
		}
		checkCounts(t, f, map[int]int{0: 4228, 1: 1325})
	})
}

func checkCounts(t *testing.T, f *File, want map[int]int) {
	t.Helper()
	a, err := f.Read("ans")
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]int{}
	for _, v := range a.Data {
		got[int(v)]++
	}
	if len(got) != len(want) {
		t.Errorf("ans counts %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("ans counts %v, want %v", got, want)
			break
		}
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "nope.h5"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of a missing file: %v, want fs.ErrNotExist", err)
	}
	if !strings.HasPrefix(err.Error(), "hdf5: ") {
		t.Errorf("error %q lacks the hdf5 prefix", err)
	}
}

func TestMissingDataset(t *testing.T) {
	f, err := Open(filepath.Join("testdata", "bigendian.h5"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, op := range []func() error{
		func() error { _, err := f.Read("images"); return err },
		func() error { _, err := f.Info("images"); return err },
	} {
		err := op()
		if err == nil {
			t.Fatal("reading a missing dataset succeeded")
		}
		msg := err.Error()
		for _, want := range []string{"bigendian.h5", `"images"`, "f32, f64, f64_chunked, i16, i32_fill, i64, u32"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not mention %s", msg, want)
			}
		}
	}
}

// imagesChunk returns the file offset and size of the first chunk of
// "images" in the fixture.
func imagesChunk(t *testing.T, data []byte) (off, size int) {
	t.Helper()
	f, err := OpenReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	ds := f.datasets["images"]
	g := &geometry{rank: 4, dims: ds.dims, chunk: ds.layout.chunk, elemSize: 1, chunkBytes: 1}
	g.grid = make([]uint64, 4)
	for d := range g.grid {
		g.grid[d] = (g.dims[d] + g.chunk[d] - 1) / g.chunk[d]
	}
	chunks, err := f.chunkList(ds, g)
	if err != nil || len(chunks) == 0 {
		t.Fatal(chunks, err)
	}
	return int(chunks[0].addr + f.base), int(chunks[0].size)
}

// TestBadInput: truncated files, garbage and corrupted chunks give errors
// (one line each), never a panic.
func TestBadInput(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "galaxy10_small.h5"))
	if err != nil {
		t.Fatal(err)
	}
	chunkOff, chunkSize := imagesChunk(t, good)
	cut := func(n int) []byte { return good[:n] }
	flip := func(at int) []byte {
		b := bytes.Clone(good)
		b[at] ^= 0x55
		return b
	}
	rng := rand.New(rand.NewSource(1))
	garbage := make([]byte, 4096)
	rng.Read(garbage)
	withSig := bytes.Clone(garbage)
	copy(withSig, signature)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"signature only", signature},
		{"cut at 10%", cut(len(good) / 10)},
		{"cut at 50%", cut(len(good) / 2)},
		{"cut at 90%", cut(len(good) * 9 / 10)},
		{"cut inside a chunk", cut(chunkOff + chunkSize/2)},
		{"cut just before the chunk ends", cut(chunkOff + chunkSize - 1)},
		{"corrupt chunk", flip(chunkOff + chunkSize/2)},
		{"corrupt chunk checksum", flip(chunkOff + chunkSize - 2)},
		{"random garbage", garbage},
		{"garbage after a signature", withSig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errs []error
			f, err := OpenReader(bytes.NewReader(tt.data), int64(len(tt.data)))
			if err != nil {
				errs = append(errs, err)
			} else {
				for _, n := range append(f.Names(), "images") {
					if _, err := f.Read(n); err != nil {
						errs = append(errs, err)
					}
				}
				if _, err := f.AttrStrings("class_names"); err != nil {
					errs = append(errs, err)
				}
			}
			if len(errs) == 0 {
				t.Fatal("no error")
			}
			for _, err := range errs {
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error spans lines: %q", err)
				}
				t.Log(err)
			}
		})
	}
}

// TestTruncatedAfterOpen: a file cut short after Open (being rewritten)
// fails in Read with the dataset, the chunk and the cause.
func TestTruncatedAfterOpen(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "galaxy10_small.h5"))
	if err != nil {
		t.Fatal(err)
	}
	chunkOff, chunkSize := imagesChunk(t, good)
	p := filepath.Join(t.TempDir(), "gz1.h5")
	if err := os.WriteFile(p, good, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Truncate(p, int64(chunkOff+chunkSize/2)); err != nil {
		t.Fatal(err)
	}
	_, err = f.Read("images")
	want := fmt.Sprintf(`hdf5 gz1.h5: dataset "images": chunk at offset %d: unexpected EOF`, chunkOff)
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) || err.Error() != want {
		t.Errorf("truncated chunk: %v, want %s", err, want)
	}
}

// TestHugeShape: a dataset that claims far more data than the file could
// hold fails before allocating it.
func TestHugeShape(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "galaxy10_small.h5"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := OpenReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	ds := f.datasets["images"]
	ds.dims = []uint64{1 << 40, 10, 10, 3}
	if _, err := f.Read("images"); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("huge shape: %v", err)
	}
}

func TestFletcher32(t *testing.T) {
	// Reference values computed with libhdf5's algorithm.
	b := []byte("abcdefgh")
	sum := fletcher32(b)
	var want uint32
	{
		var s1, s2 uint32
		for i := 0; i < len(b); i += 2 {
			s1 += uint32(binary.BigEndian.Uint16(b[i:]))
			s2 += s1
		}
		s1 = s1&0xffff + s1>>16
		s2 = s2&0xffff + s2>>16
		want = s2<<16 | s1
	}
	if sum != want {
		t.Errorf("fletcher32 = %#x, want %#x", sum, want)
	}
}

// FuzzOpenRead opens arbitrary bytes and reads everything in them: errors
// are fine, panics and runaway allocations are not.
func FuzzOpenRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.h5"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := OpenReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, n := range h.Names() {
			info, _ := h.Info(n)
			a, err := h.Read(n)
			if err == nil {
				if err := a.Check(); err != nil {
					t.Fatalf("%s: %v", n, err)
				}
			}
			// A window of rows: when the whole read succeeds, the same
			// slice of it.
			if len(info.Shape) == 0 {
				h.ReadRows(n, 0, 1)
				continue
			}
			rows := info.Shape[0]
			lo, hi := rows/3, rows-rows/4
			w, werr := h.ReadRows(n, lo, hi)
			if err == nil && rows > 0 {
				rowBytes := len(a.Data) / rows
				if werr != nil || w.Check() != nil || !bytes.Equal(w.Data, a.Data[lo*rowBytes:hi*rowBytes]) {
					t.Fatalf("%s: ReadRows(%d, %d) = %v, not that slice of Read", n, lo, hi, werr)
				}
			}
		}
		h.AttrStrings("class_names")
		h.AttrStrings("source")
	})
}

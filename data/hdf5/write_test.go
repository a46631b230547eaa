package hdf5

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"galaxy/data/array"
)

// writeFixture is a Galaxy10-layout set with ids, a float dataset and the
// class names.
func writeFixture(n int) ([]NamedArray, []StringAttr) {
	rng := rand.New(rand.NewPCG(7, 8))
	img := &array.Array{Shape: []int{n, 9, 7, 3}, DType: array.Uint8, Data: make([]byte, n*9*7*3)}
	for i := range img.Data {
		img.Data[i] = uint8(rng.IntN(40) + 100*(i%5))
	}
	ans := &array.Array{Shape: []int{n}, DType: array.Uint8, Data: make([]byte, n)}
	ids := &array.Array{Shape: []int{n}, DType: array.Int64, Data: make([]byte, 8*n)}
	f32 := &array.Array{Shape: []int{n, 2}, DType: array.Float32, Data: make([]byte, 4*2*n)}
	for i := range n {
		ans.Data[i] = uint8(i % 10)
		binary.LittleEndian.PutUint64(ids.Data[8*i:], uint64(int64(i)*1_000_000_007-5))
		binary.LittleEndian.PutUint32(f32.Data[8*i:], math.Float32bits(float32(i)/3))
		binary.LittleEndian.PutUint32(f32.Data[8*i+4:], math.Float32bits(-float32(i)))
	}
	ds := []NamedArray{{"images", img}, {"ans", ans}, {"objid", ids}, {"ra", f32}}
	attrs := []StringAttr{{"class_names", []string{"Disk, face-on, no spiral", "Smooth, completely round", "x"}}, {"source", []string{"galaxy synth"}}}
	return ds, attrs
}

func TestWriteRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		opt  WriteOptions
	}{
		{"contiguous", 50, WriteOptions{}},
		{"deflate", 50, WriteOptions{Deflate: 4, ChunkRows: 16}},       // 4 chunks, the last partial
		{"deflate-many", 1000, WriteOptions{Deflate: 1, ChunkRows: 3}}, // rows raised to keep 64 chunks
		{"empty", 0, WriteOptions{Deflate: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds, attrs := writeFixture(tc.n)
			tc.opt.Attrs = attrs
			path := filepath.Join(t.TempDir(), "w.h5")
			if err := WriteFile(path, ds, tc.opt); err != nil {
				t.Fatal(err)
			}
			f, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got, want := f.Names(), []string{"ans", "images", "objid", "ra"}; !slices.Equal(got, want) {
				t.Fatalf("names %q, want %q", got, want)
			}
			for _, d := range ds {
				a, err := f.Read(d.Name)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(a.Shape, d.Array.Shape) || a.DType != d.Array.DType || !bytes.Equal(a.Data, d.Array.Data) {
					t.Errorf("%s: read %v %v (%d bytes), wrote %v %v (%d bytes)", d.Name, a.Shape, a.DType, len(a.Data), d.Array.Shape, d.Array.DType, len(d.Array.Data))
				}
				info, _ := f.Info(d.Name)
				if compressed := len(info.Filters) > 0; compressed != (tc.opt.Deflate > 0 && tc.n > 0) {
					t.Errorf("%s: filters %v with deflate %d", d.Name, info.Filters, tc.opt.Deflate)
				}
			}
			for _, a := range attrs {
				got, err := f.AttrStrings(a.Name)
				if err != nil || !slices.Equal(got, a.Values) {
					t.Errorf("attribute %s: %q, %v; want %q", a.Name, got, err, a.Values)
				}
			}
			if tc.n > 0 {
				h5pyCheck(t, path, ds)
			}
		})
	}
}

// h5pyCheck reads the file with h5py, when Debian's python3-h5py is there,
// and compares shapes, dtypes and sums.
func h5pyCheck(t *testing.T, path string, ds []NamedArray) {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import h5py").Run(); err != nil {
		t.Log("h5py not available: skipping the h5py check")
		return
	}
	script := `import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
out = {}
for k in f:
    a = f[k][()]
    out[k] = {"shape": list(a.shape), "dtype": a.dtype.str, "sum": float(a.astype(np.float64).sum()), "first": float(a.reshape(-1)[0]), "last": float(a.reshape(-1)[-1])}
out["_attrs"] = {k: [x.decode() for x in f.attrs[k]] for k in f.attrs}
print(json.dumps(out))`
	b, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("h5py: %v: %s", err, b)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("h5py output %q: %v", b, err)
	}
	for _, d := range ds {
		var g struct {
			Shape            []int
			DType            string
			Sum, First, Last float64
		}
		if err := json.Unmarshal(got[d.Name], &g); err != nil {
			t.Fatalf("%s: %v in %s", d.Name, err, b)
		}
		v := d.Array.Float64s()
		sum := 0.0
		for _, x := range v {
			sum += x
		}
		want := map[array.DType]string{array.Uint8: "|u1", array.Int64: "<i8", array.Float32: "<f4"}[d.Array.DType]
		if !slices.Equal(g.Shape, d.Array.Shape) || g.DType != want || math.Abs(g.Sum-sum) > 1e-6*math.Max(1, math.Abs(sum)) ||
			g.First != v[0] || g.Last != v[len(v)-1] {
			t.Errorf("h5py reads %s as %+v; wrote shape %v %s sum %v first %v last %v", d.Name, g, d.Array.Shape, want, sum, v[0], v[len(v)-1])
		}
	}
	if !strings.Contains(string(got["_attrs"]), `"Smooth, completely round"`) {
		t.Errorf("h5py attributes: %s", got["_attrs"])
	}
}

func TestWriteErrors(t *testing.T) {
	a := &array.Array{Shape: []int{2}, DType: array.Uint8, Data: []byte{1, 2}}
	bad := &array.Array{Shape: []int{3}, DType: array.Uint8, Data: []byte{1, 2}}
	boolean := &array.Array{Shape: []int{2}, DType: array.Bool, Data: []byte{1, 0}}
	for name, ds := range map[string][]NamedArray{
		"none":   nil,
		"slash":  {{"a/b", a}},
		"empty":  {{"", a}},
		"twice":  {{"a", a}, {"a", a}},
		"short":  {{"a", bad}},
		"nil":    {{"a", nil}},
		"bool":   {{"a", boolean}},
		"scalar": {{"a", &array.Array{DType: array.Uint8, Data: []byte{1}}}},
	} {
		if err := Encode(&bytes.Buffer{}, ds, WriteOptions{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := Encode(&bytes.Buffer{}, []NamedArray{{"a", a}}, WriteOptions{Deflate: 10}); err == nil {
		t.Error("deflate 10 accepted")
	}
	if err := Encode(&bytes.Buffer{}, []NamedArray{{"a", a}}, WriteOptions{Attrs: []StringAttr{{"n", []string{"é"}}}}); err == nil {
		t.Error("non-ASCII attribute accepted")
	}
	dir := filepath.Join(t.TempDir(), "missing", "x.h5")
	if err := WriteFile(dir, []NamedArray{{"a", a}}, WriteOptions{}); err == nil {
		t.Error("write into a missing folder: no error")
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("file left behind")
	}
}

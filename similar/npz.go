package similar

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"

	"galaxy/data/array"
	"galaxy/data/npy"
	"galaxy/internal/atomicfile"
)

// The .npz file (galaxy embed's output) holds, for N rows of D values:
//
//	embedding     float32 (N, D)  the representations, as the model gave them
//	center        float32 (D,)    subtracted before comparing (Index.Center)
//	label         int64 (N,)      class number in classes, -1 unknown
//	row           int64 (N,)      position in the data file or catalog
//	part          int8 (N,)       0 training split, 1 test split, -1 neither
//	novelty       float64 (N,)    the model's novelty score (model.Novelty), NaN without one
//	id_utf8       uint8           the ids, one per line (UTF-8)
//	file_utf8     uint8           the source files, one per line
//	classes_utf8  uint8           the class names, one per line
//	source_utf8   uint8           two lines: the model, the data
//
// Text is stored as bytes because .npz has no portable string type that
// NumPy reads without pickling: in Python,
// np.load(f)["id_utf8"].tobytes().decode().split("\n").
var members = []string{"embedding", "center", "label", "row", "part", "novelty", "id_utf8", "file_utf8", "classes_utf8", "source_utf8"}

// Save writes the index as .npz to path, atomically.
func (ix *Index) Save(path string) error {
	if err := ix.Check(); err != nil {
		return err
	}
	n := ix.Len()
	f64s := func(v []float64) []byte {
		b := make([]byte, 8*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
		}
		return b
	}
	floats := func(v []float32) []byte {
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		return b
	}
	ints := func(v []int) *array.Array {
		b := make([]byte, 8*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(int64(x)))
		}
		return &array.Array{Shape: []int{len(v)}, DType: array.Int64, Data: b}
	}
	parts := make([]byte, n)
	for i, p := range ix.Parts {
		parts[i] = byte(int8(p))
	}
	text := func(s []string) *array.Array {
		b := []byte(strings.Join(s, "\n"))
		return &array.Array{Shape: []int{len(b)}, DType: array.Uint8, Data: b}
	}
	arrays := map[string]*array.Array{
		"embedding": {Shape: []int{n, ix.Dim}, DType: array.Float32, Data: floats(ix.Vectors)},
		"center":    {Shape: []int{ix.Dim}, DType: array.Float32, Data: floats(ix.Center)},
		"label":     ints(ix.Labels), "row": ints(ix.Rows),
		"part":    {Shape: []int{n}, DType: array.Int8, Data: parts},
		"novelty": {Shape: []int{n}, DType: array.Float64, Data: f64s(ix.Novelty)},
		"id_utf8": text(ix.IDs), "file_utf8": text(ix.Files), "classes_utf8": text(ix.Classes),
		"source_utf8": text([]string{ix.Model, ix.Data}),
	}
	return atomicfile.Write(path, func(w io.Writer) error { return npy.WriteNPZ(w, members, arrays) })
}

// Load reads an index that Save wrote.
func Load(path string) (*Index, error) {
	_, a, err := npy.ReadNPZ(path)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if a[m] == nil {
			return nil, fmt.Errorf("%s: no array %q: not an index galaxy embed wrote", path, m)
		}
	}
	e := a["embedding"]
	if e.DType != array.Float32 || len(e.Shape) != 2 || e.Shape[1] < 1 {
		return nil, fmt.Errorf("%s: embedding is %v %v, want float32 (N, D)", path, e.DType, e.Shape)
	}
	n, c := e.Shape[0], a["center"]
	if c.DType != array.Float32 || len(c.Shape) != 1 || c.Shape[0] != e.Shape[1] {
		return nil, fmt.Errorf("%s: center is %v %v, want float32 (%d,)", path, c.DType, c.Shape, e.Shape[1])
	}
	floats := func(b []byte) []float32 {
		v := make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return v
	}
	ix := &Index{Dim: e.Shape[1], Vectors: floats(e.Data), Center: floats(c.Data)}
	for _, c := range []struct {
		name string
		dst  *[]int
	}{{"label", &ix.Labels}, {"row", &ix.Rows}, {"part", &ix.Parts}} {
		v, err := a[c.name].Int64s()
		if err != nil || len(v) != n {
			return nil, fmt.Errorf("%s: %s: want %d integers (%v)", path, c.name, n, err)
		}
		for _, x := range v {
			*c.dst = append(*c.dst, int(x))
		}
	}
	if nv := a["novelty"]; nv.DType != array.Float64 || len(nv.Shape) != 1 || nv.Shape[0] != n {
		return nil, fmt.Errorf("%s: novelty is %v %v, want float64 (%d,)", path, nv.DType, nv.Shape, n)
	}
	for i := range n {
		ix.Novelty = append(ix.Novelty, math.Float64frombits(binary.LittleEndian.Uint64(a["novelty"].Data[8*i:])))
	}
	lines := func(name string, want int) ([]string, error) {
		b := a[name].Data
		s := strings.Split(string(b), "\n")
		if want >= 0 && len(s) != want && !(want == 0 && len(b) == 0) {
			return nil, fmt.Errorf("%s: %s holds %d lines, want %d", path, name, len(s), want)
		}
		if len(b) == 0 && want <= 0 {
			return []string{}, nil
		}
		return s, nil
	}
	if ix.IDs, err = lines("id_utf8", n); err != nil {
		return nil, err
	}
	if ix.Files, err = lines("file_utf8", n); err != nil {
		return nil, err
	}
	if ix.Classes, err = lines("classes_utf8", -1); err != nil {
		return nil, err
	}
	src, err := lines("source_utf8", 2)
	if err != nil {
		return nil, err
	}
	ix.Model, ix.Data = src[0], src[1]
	if err := ix.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ix, nil
}

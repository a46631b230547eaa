package pickle

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// A course-sized pickle: the tuple (train images uint8 (17457,69,69,1),
// train labels float64 (17457,5), test images (1000,69,69,1), test labels
// (1000,5)), written opcode by opcode at protocol 4 as numpy does, each
// array's data one BINBYTES8.
var course = sync.OnceValue(func() []byte {
	const n, m, side = 17457, 1000, 69
	img := func(n int) []byte {
		b := make([]byte, n*side*side)
		for i := range b {
			b[i] = byte(i*7 + i/4761)
		}
		return b
	}
	lab := func(n int) []byte {
		b := make([]byte, n*5*8)
		for i := range n {
			b[i*40+(i%5)*8+6], b[i*40+(i%5)*8+7] = 0xf0, 0x3f // 1.0
		}
		return b
	}
	p := new(pk).op("\x80\x04(")
	p.array([]int{n, side, side, 1}, "u1", "|", false, img(n))
	p.array([]int{n, 5}, "f8", "<", false, lab(n))
	p.array([]int{m, side, side, 1}, "u1", "|", false, img(m))
	p.array([]int{m, 5}, "f8", "<", false, lab(m))
	return p.op("t.").b
})

func checkCourse(b *testing.B, v any) {
	t, ok := v.([]any)
	if !ok || len(t) != 4 {
		b.Fatalf("got %T", v)
	}
}

// BenchmarkLoad: Load from memory. Its one copy of the data (into Load's
// input buffer) is the floor; arrays then point into that buffer.
func BenchmarkLoad(b *testing.B) {
	in := course()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := Load(bytes.NewReader(in))
		if err != nil {
			b.Fatal(err)
		}
		checkCourse(b, v)
	}
}

// BenchmarkCopy is the memory-bandwidth baseline: allocating and copying
// the same bytes once, as BenchmarkLoad must.
func BenchmarkCopy(b *testing.B) {
	in := course()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		out := make([]byte, len(in))
		copy(out, in)
		if out[len(out)-1] != in[len(in)-1] {
			b.Fatal("copy")
		}
	}
}

func BenchmarkReadArrays(b *testing.B) {
	in := course()
	path := filepath.Join(b.TempDir(), "data.pkl")
	if err := os.WriteFile(path, in, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		arrs, err := ReadArrays(path)
		if err != nil || len(arrs) != 4 || arrs[0].Shape[0] != 17457 {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadArraysGzip is bound by inflate, not by the unpickler;
// MB/s counts uncompressed bytes.
func BenchmarkReadArraysGzip(b *testing.B) {
	in := course()
	path := filepath.Join(b.TempDir(), "dataG.pkl.gz")
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	zw.Write(in)
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		arrs, err := ReadArrays(path)
		if err != nil || len(arrs) != 4 || arrs[0].Shape[0] != 17457 {
			b.Fatal(err)
		}
	}
}

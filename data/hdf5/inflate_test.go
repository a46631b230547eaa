package hdf5

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand"
	"testing"

	"galaxy/internal/shared"
)

// flateRef decodes with compress/flate, the reference.
func flateRef(src []byte, limit int) ([]byte, error) {
	r := flate.NewReader(bytes.NewReader(src))
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	return out, err
}

func compressible(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	switch rng.Intn(4) {
	case 0:
		rng.Read(b)
	case 1: // runs
		for i := range b {
			b[i] = byte(i / (1 + rng.Intn(50)))
		}
	case 2: // small alphabet
		for i := range b {
			b[i] = byte(rng.Intn(4) * 60)
		}
	default: // smooth image-like
		v := 128
		for i := range b {
			v += rng.Intn(7) - 3
			b[i] = byte(v)
		}
	}
	return b
}

func TestInflateMatchesFlate(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	var z inflater
	for i := 0; i < 300; i++ {
		data := compressible(rng, rng.Intn(200000))
		level := rng.Intn(12) - 2 // includes HuffmanOnly (-2) and stored (0)
		var buf bytes.Buffer
		w, err := flate.NewWriter(&buf, level)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		w.Close()
		src := buf.Bytes()
		dst := make([]byte, len(data))
		n, used, err := z.inflate(dst, src)
		if err != nil || n != len(data) || !bytes.Equal(dst, data) || used != len(src) {
			t.Fatalf("case %d (level %d, %d bytes): n=%d used=%d/%d err=%v equal=%v", i, level, len(data), n, used, len(src), err, bytes.Equal(dst[:n], data[:n]))
		}
		// Too small a destination is an error, not a panic.
		if len(data) > 0 {
			if _, _, err := z.inflate(dst[:len(data)-1], src); err == nil {
				t.Fatalf("case %d: short destination accepted", i)
			}
		}
	}
}

// FuzzInflate compares the inflater with compress/flate on arbitrary input.
func FuzzInflate(f *testing.F) {
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < 8; i++ {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, i-1)
		w.Write(compressible(rng, 3000))
		w.Close()
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		const limit = 1 << 20
		want, wantErr := flateRef(src, limit)
		if len(want) > limit {
			return
		}
		var z inflater
		dst := make([]byte, len(want))
		n, _, err := z.inflate(dst, src)
		if wantErr == nil {
			if err != nil || n != len(want) || !bytes.Equal(dst, want) {
				t.Fatalf("compress/flate decodes %d bytes; inflate: n=%d err=%v", len(want), n, err)
			}
			return
		}
		// compress/flate failed: inflate must not report a different full
		// decode (it may be more lenient about incomplete codes).
		if err == nil && n == len(want) && !bytes.Equal(dst[:n], want) {
			t.Fatalf("inflate decodes differently where compress/flate fails (%v)", wantErr)
		}
	})
}

// BenchmarkInflate decodes the first chunk of "images" in
// gz1_sdss_69.h5 as h5py wrote it (256 cutouts of 69x69x3, zlib level 4)
// with this package's inflater and with compress/flate reading into a
// preallocated buffer, the best compress/flate can do for a known size.
func BenchmarkInflate(b *testing.B) {
	f, err := Open(shared.File(b, "gz1_sdss_69.h5"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ds, err := f.lookup("images")
	if err != nil {
		b.Fatal(err)
	}
	g := &geometry{rank: len(ds.dims), dims: ds.dims, chunk: ds.layout.chunk, elemSize: uint64(ds.dtype.size), chunkBytes: uint64(ds.dtype.size)}
	g.grid = make([]uint64, g.rank)
	for d := range g.grid {
		g.grid[d] = (g.dims[d] + g.chunk[d] - 1) / g.chunk[d]
		g.chunkBytes *= g.chunk[d]
	}
	chunks, err := f.chunkList(ds, g)
	if err != nil || len(chunks) == 0 {
		b.Fatal(err)
	}
	raw := make([]byte, chunks[0].size)
	if _, err := f.r.ReadAt(raw, int64(f.base+chunks[0].addr)); err != nil {
		b.Fatal(err)
	}
	src := raw[2:] // the raw DEFLATE stream inside the zlib wrapper
	dst := make([]byte, g.chunkBytes)
	b.Run("own", func(b *testing.B) {
		var z inflater
		b.SetBytes(int64(len(dst)))
		for b.Loop() {
			if n, _, err := z.inflate(dst, src); err != nil || n != len(dst) {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("compress-flate", func(b *testing.B) {
		r := flate.NewReader(bytes.NewReader(src))
		b.SetBytes(int64(len(dst)))
		for b.Loop() {
			r.(flate.Resetter).Reset(bytes.NewReader(src), nil)
			if _, err := io.ReadFull(r, dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}

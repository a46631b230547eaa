package hdf5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"galaxy/data/array"
	"galaxy/internal/shared"
)

// rowWindows returns the windows [lo, hi) to try on a dataset of n rows
// stored in chunks of c rows (c = 0: not chunked): every window when n is
// small, else every pair of rows near the ends and near chunk boundaries,
// so that windows start and end inside chunks, on their edges, on the
// first and last rows, and are empty or whole.
func rowWindows(n, c int) [][2]int {
	var rows []int
	if n <= 24 {
		for i := 0; i <= n; i++ {
			rows = append(rows, i)
		}
	} else {
		if c <= 0 {
			c = 7
		}
		for _, r := range []int{0, 1, 2, 3, c - 1, c, c + 1, 2*c - 1, 2*c + 1, n / 2, n/2 + 1, n - c - 1, n - c, n - c + 1, n - 2, n - 1, n} {
			if r >= 0 && r <= n {
				rows = append(rows, r)
			}
		}
		slices.Sort(rows)
		rows = slices.Compact(rows)
	}
	var w [][2]int
	for i, lo := range rows {
		for _, hi := range rows[i:] {
			w = append(w, [2]int{lo, hi})
		}
	}
	return w
}

// checkRows compares ReadRows(name, lo, hi) with rows [lo, hi) of want,
// the whole dataset, for each window, and returns how many windows
// straddled a chunk boundary strictly inside them or started or ended
// inside a chunk (chunk: rows per chunk, 0 for none).
func checkRows(t *testing.T, f *File, name string, want *array.Array, windows [][2]int, chunk int) (straddling int) {
	t.Helper()
	n := want.Shape[0]
	rowBytes := 0
	if n > 0 {
		rowBytes = len(want.Data) / n
	}
	bad := 0
	for _, w := range windows {
		lo, hi := w[0], w[1]
		a, err := f.ReadRows(name, lo, hi)
		if err != nil {
			t.Errorf("%s: ReadRows(%d, %d): %v", name, lo, hi, err)
			bad++
		} else {
			wantShape := append([]int{hi - lo}, want.Shape[1:]...)
			if err := a.Check(); err != nil {
				t.Errorf("%s: ReadRows(%d, %d): %v", name, lo, hi, err)
				bad++
			} else if !slices.Equal(a.Shape, wantShape) || a.DType != want.DType {
				t.Errorf("%s: ReadRows(%d, %d): %v %v, want %v %v", name, lo, hi, a.Shape, a.DType, wantShape, want.DType)
				bad++
			} else if !bytes.Equal(a.Data, want.Data[lo*rowBytes:hi*rowBytes]) {
				t.Errorf("%s: ReadRows(%d, %d) differs from rows [%d, %d) of the whole dataset", name, lo, hi, lo, hi)
				bad++
			}
		}
		if bad >= 5 {
			t.Fatalf("%s: giving up after %d bad windows", name, bad)
		}
		if chunk > 0 && hi > lo && (lo%chunk != 0 || hi%chunk != 0 || hi-lo > chunk) {
			straddling++
		}
	}
	return straddling
}

// TestReadRowsWritten: on files of this package's writer, contiguous and
// deflated in chunks of odd row counts, ranks 1 to 4, every window of
// ReadRows equals that slice of what was written (and of Read).
func TestReadRowsWritten(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	mk := func(dt array.DType, shape ...int) *array.Array {
		n := dt.Size()
		for _, s := range shape {
			n *= s
		}
		a := &array.Array{Shape: shape, DType: dt, Data: make([]byte, n)}
		for i := range a.Data {
			a.Data[i] = uint8(rng.IntN(7) + 30*(i%9)) // compressible, not constant
		}
		return a
	}
	datasets := []NamedArray{
		{"r1", mk(array.Uint8, 23)},
		{"r1_i64", mk(array.Int64, 29)},
		{"r2_i16", mk(array.Int16, 23, 5)},
		{"r3_f32", mk(array.Float32, 19, 4, 3)},
		{"r4_u8", mk(array.Uint8, 17, 5, 3, 2)},
		{"r4_f64", mk(array.Float64, 41, 2, 3, 1)},
		{"one_row", mk(array.Uint16, 1, 6)},
	}
	straddling := 0
	for _, opt := range []WriteOptions{{}, {Deflate: 1, ChunkRows: 1}, {Deflate: 6, ChunkRows: 3}, {Deflate: 4, ChunkRows: 7}, {Deflate: 9, ChunkRows: 1000}} {
		t.Run(fmt.Sprintf("deflate%d_rows%d", opt.Deflate, opt.ChunkRows), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, datasets, opt); err != nil {
				t.Fatal(err)
			}
			f, err := OpenReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range datasets {
				info, err := f.Info(d.Name)
				if err != nil {
					t.Fatal(err)
				}
				chunk := 0
				if opt.Deflate > 0 {
					chunk = min(opt.ChunkRows, d.Array.Shape[0])
					if len(info.Chunks) == 0 || info.Chunks[0] != chunk {
						t.Fatalf("%s: chunks %v, want %d rows", d.Name, info.Chunks, chunk)
					}
				} else if info.Chunks != nil {
					t.Fatalf("%s: chunks %v, want contiguous", d.Name, info.Chunks)
				}
				whole, err := f.Read(d.Name)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(whole.Data, d.Array.Data) {
					t.Fatalf("%s: Read differs from what was written", d.Name)
				}
				straddling += checkRows(t, f, d.Name, d.Array, rowWindows(d.Array.Shape[0], chunk), chunk)
			}
		})
	}
	t.Logf("%d windows cut through chunks", straddling)
	if straddling < 2000 {
		t.Errorf("only %d windows cut through chunks", straddling)
	}
}

// TestReadRowsFixtures: on every dataset of the h5py fixtures (all layouts,
// chunk indexes and filters, big-endian types, fill values, chunks cut in
// every dimension), ReadRows equals the slice of Read, which TestFixtures
// holds to h5py.
func TestReadRowsFixtures(t *testing.T) {
	exp := loadExpected(t)
	straddling, scalars := 0, 0
	for file, want := range exp {
		f, err := Open(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range want.Names {
			whole, err := f.Read(name)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if len(whole.Shape) == 0 {
				if _, err := f.ReadRows(name, 0, 1); err == nil || !strings.Contains(err.Error(), "scalar") {
					t.Errorf("%s: ReadRows of the scalar %q: %v, want an error", file, name, err)
				}
				scalars++
				continue
			}
			chunk := 0
			if c := want.Datasets[name].Chunks; len(c) > 0 {
				chunk = c[0]
			}
			straddling += checkRows(t, f, name, whole, rowWindows(whole.Shape[0], chunk), chunk)
		}
		f.Close()
	}
	t.Logf("%d windows cut through chunks, %d scalars refused", straddling, scalars)
	if straddling < 1000 || scalars != 1 {
		t.Errorf("only %d windows cut through chunks, %d scalars", straddling, scalars)
	}
}

// synthSpec describes a chunked dataset that synthChunked builds with a v1
// B-tree chunk index, for shapes, filters and fill values that neither the
// writer nor the fixtures combine.
type synthSpec struct {
	dims, chunk []uint64
	es          int      // element size: 1, 2, 4 or 8
	bigEndian   bool     // stored big-endian (then swapped on reading)
	filters     []uint16 // pipeline in write order
	fill        []byte   // fill value in file byte order; nil: zeros
	missing     float64  // probability of a chunk never written
}

// synthChunked builds an HDF5 File (no superblock: the dataset is set up
// directly) holding one chunked dataset "x" of spec, its chunks stored in
// random order, each with a random subset of the filters skipped (the
// filter mask), and returns it with the array Read must return.
func synthChunked(t *testing.T, rng *rand.Rand, spec synthSpec) (*File, *array.Array) {
	t.Helper()
	rank, es := len(spec.dims), uint64(spec.es)
	dtypes := map[int]array.DType{1: array.Uint8, 2: array.Int16, 4: array.Uint32, 8: array.Int64}
	nelem, chunkElems := uint64(1), uint64(1)
	grid := make([]uint64, rank)
	for d := range rank {
		nelem *= spec.dims[d]
		chunkElems *= spec.chunk[d]
		grid[d] = (spec.dims[d] + spec.chunk[d] - 1) / spec.chunk[d]
	}
	stored := make([]byte, nelem*es) // element bytes in file order
	for i := range stored {
		stored[i] = uint8(rng.IntN(5) + 40*(i%6))
	}
	want := bytes.Clone(stored)

	// Element strides of the dataset and of a chunk.
	dsStride, chStride := make([]uint64, rank), make([]uint64, rank)
	for d, s, c := rank-1, uint64(1), uint64(1); d >= 0; d-- {
		dsStride[d], chStride[d] = s, c
		s *= spec.dims[d]
		c *= spec.chunk[d]
	}
	type stored1 struct {
		scaled []uint64
		data   []byte
		mask   uint32
	}
	var chunks []stored1
	scaled := make([]uint64, rank)
	for {
		missing := rng.Float64() < spec.missing
		buf := bytes.Repeat([]byte{0xee}, int(chunkElems*es)) // past the edges: garbage
		for e := uint64(0); e < chunkElems; e++ {
			var g uint64
			inside := true
			for d := range rank {
				c := scaled[d]*spec.chunk[d] + e/chStride[d]%spec.chunk[d]
				if c >= spec.dims[d] {
					inside = false
					break
				}
				g += c * dsStride[d]
			}
			if !inside {
				continue
			}
			if missing {
				if spec.fill != nil {
					copy(want[g*es:(g+1)*es], spec.fill)
				} else {
					clear(want[g*es : (g+1)*es])
				}
			} else {
				copy(buf[e*es:], stored[g*es:(g+1)*es])
			}
		}
		if !missing {
			var mask uint32
			for i, id := range spec.filters {
				if rng.IntN(4) == 0 {
					mask |= 1 << i
					continue
				}
				switch id {
				case filterShuffle:
					buf = shuffleBytes(buf, spec.es)
				case filterDeflate:
					var z bytes.Buffer
					zw, _ := zlib.NewWriterLevel(&z, 1+rng.IntN(9))
					zw.Write(buf)
					zw.Close()
					buf = z.Bytes()
				case filterFletcher32:
					buf = binary.LittleEndian.AppendUint32(buf, fletcher32(buf))
				}
			}
			chunks = append(chunks, stored1{slices.Clone(scaled), buf, mask})
		}
		d := rank - 1
		for ; d >= 0; d-- {
			if scaled[d]++; scaled[d] < grid[d] {
				break
			}
			scaled[d] = 0
		}
		if d < 0 {
			break
		}
	}
	rng.Shuffle(len(chunks), func(i, j int) { chunks[i], chunks[j] = chunks[j], chunks[i] })

	// The file: 8 bytes, a v1 B-tree leaf of all the chunks, the chunks.
	keySize := 8 + 8*(rank+1)
	const btreeAt = 8
	at := uint64(btreeAt + 8 + 2*8 + len(chunks)*(keySize+8) + keySize)
	file := make([]byte, btreeAt)
	file = append(file, "TREE"...)
	file = append(file, 1, 0) // raw data chunks, leaf
	file = binary.LittleEndian.AppendUint16(file, uint16(len(chunks)))
	file = binary.LittleEndian.AppendUint64(file, undef)
	file = binary.LittleEndian.AppendUint64(file, undef)
	key := func(size uint64, mask uint32, scaled []uint64) {
		file = binary.LittleEndian.AppendUint32(file, uint32(size))
		file = binary.LittleEndian.AppendUint32(file, mask)
		for d, s := range scaled {
			file = binary.LittleEndian.AppendUint64(file, s*spec.chunk[d])
		}
		file = binary.LittleEndian.AppendUint64(file, 0)
	}
	for _, c := range chunks {
		key(uint64(len(c.data)), c.mask, c.scaled)
		file = binary.LittleEndian.AppendUint64(file, at)
		at += uint64(len(c.data))
	}
	key(0, 0, grid)
	for _, c := range chunks {
		file = append(file, c.data...)
	}
	if uint64(len(file)) != at {
		t.Fatalf("synthetic file of %d bytes, want %d", len(file), at)
	}

	ds := &dataset{
		name:   "x",
		dims:   spec.dims,
		dtype:  datatype{size: uint32(es), bigEndian: spec.bigEndian, dtype: dtypes[spec.es]},
		layout: layout{version: 3, class: layoutChunked, addr: btreeAt, chunk: spec.chunk, elemSize: es, index: idxBTree1},
		fill:   spec.fill,
	}
	for _, id := range spec.filters {
		ds.filters = append(ds.filters, filter{id: id})
	}
	f := &File{name: "synth.h5", r: bytes.NewReader(file), size: int64(len(file)), sizeO: 8, sizeL: 8,
		datasets: map[string]*dataset{"x": ds}, names: []string{"x"}}
	if spec.bigEndian {
		swapBytes(want, spec.es)
	}
	shape := make([]int, rank)
	for d, n := range spec.dims {
		shape[d] = int(n)
	}
	return f, &array.Array{Shape: shape, DType: dtypes[spec.es], Data: want}
}

// shuffleBytes is the shuffle filter: byte 0 of every element, then byte
// 1, and so on; a remainder that is not a whole element stays at the end.
func shuffleBytes(b []byte, size int) []byte {
	out := bytes.Clone(b)
	n := len(b) / size
	for i := range n {
		for k := range size {
			out[k*n+i] = b[i*size+k]
		}
	}
	return out
}

// TestReadRowsSynthetic: random chunk shapes of rank 1 to 4 (chunks cut in
// every dimension, larger than the dataset in some), element sizes 1 to 8,
// either byte order, filter pipelines with per-chunk filter masks, and
// chunks never written (fill values): Read and every window of ReadRows
// equal the data the file was built from.
func TestReadRowsSynthetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	pipelines := [][]uint16{
		nil,
		{filterDeflate},
		{filterShuffle, filterDeflate},
		{filterDeflate, filterShuffle},
		{filterShuffle, filterDeflate, filterFletcher32},
		{filterFletcher32},
		{filterShuffle},
	}
	straddling := 0
	for i := range 60 {
		rank := 1 + i%4
		spec := synthSpec{es: []int{1, 2, 4, 8}[rng.IntN(4)], bigEndian: rng.IntN(2) == 0, filters: pipelines[i%len(pipelines)]}
		for d := range rank {
			n := uint64(1 + rng.IntN(map[int]int{1: 40, 2: 14, 3: 8, 4: 6}[rank]))
			if d == 0 {
				n = uint64(1 + rng.IntN(30))
			}
			spec.dims = append(spec.dims, n)
			spec.chunk = append(spec.chunk, uint64(1+rng.IntN(int(n)+2)))
		}
		if i%3 == 0 {
			spec.missing = 0.3
			if i%2 == 0 {
				spec.fill = make([]byte, spec.es)
				for k := range spec.fill {
					spec.fill[k] = uint8(0x81 + k)
				}
			}
		}
		name := fmt.Sprintf("%d_%v_chunk%v_es%d_be%v_filters%v_fill%v", i, spec.dims, spec.chunk, spec.es, spec.bigEndian, spec.filters, spec.fill != nil)
		t.Run(name, func(t *testing.T) {
			f, want := synthChunked(t, rng, spec)
			whole, err := f.Read("x")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(whole.Shape, want.Shape) || !bytes.Equal(whole.Data, want.Data) {
				t.Fatalf("Read: %v, want %v; data equal: %v", whole.Shape, want.Shape, bytes.Equal(whole.Data, want.Data))
			}
			c := int(spec.chunk[0])
			straddling += checkRows(t, f, "x", want, rowWindows(want.Shape[0], c), c)
		})
	}
	t.Logf("%d windows cut through chunks", straddling)
	if straddling < 3000 {
		t.Errorf("only %d windows cut through chunks", straddling)
	}
}

// TestReadRowsErrors: windows out of range, scalars, missing datasets and
// bad chunks give one-line errors naming the file, the dataset and its row
// count; empty windows give empty arrays of the right shape; a bad chunk
// outside the window is not read.
func TestReadRowsErrors(t *testing.T) {
	f, err := Open(filepath.Join("testdata", "chunked.h5"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range [][2]int{{-1, 3}, {0, 38}, {5, 4}, {37, 36}, {38, 38}, {-2, -1}} {
		_, err := f.ReadRows("images", w[0], w[1])
		if err == nil {
			t.Errorf("ReadRows(images, %d, %d) of 37 rows succeeded", w[0], w[1])
			continue
		}
		msg := err.Error()
		for _, want := range []string{"chunked.h5", `"images"`, fmt.Sprintf("[%d, %d)", w[0], w[1]), "37 rows", "out of range"} {
			if !strings.Contains(msg, want) {
				t.Errorf("ReadRows(images, %d, %d): error %q does not mention %s", w[0], w[1], msg, want)
			}
		}
	}
	for _, lo := range []int{0, 17, 37} {
		a, err := f.ReadRows("images", lo, lo)
		if err != nil || !slices.Equal(a.Shape, []int{0, 9, 11, 3}) || len(a.Data) != 0 || a.DType != array.Uint8 {
			t.Errorf("ReadRows(images, %d, %d) = %v, %v; want an empty (0, 9, 11, 3) uint8 array", lo, lo, a, err)
		}
	}
	if _, err := f.ReadRows("nope", 0, 1); err == nil || !strings.Contains(err.Error(), `no dataset "nope"`) {
		t.Errorf("missing dataset: %v", err)
	}

	c, err := Open(filepath.Join("testdata", "contig.h5"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ReadRows("scalar", 0, 0); err == nil || !strings.Contains(err.Error(), `"scalar"`) || !strings.Contains(err.Error(), "scalar has no rows") {
		t.Errorf("scalar: %v", err)
	}
	if a, err := c.ReadRows("empty", 0, 0); err != nil || !slices.Equal(a.Shape, []int{0}) {
		t.Errorf("ReadRows(empty, 0, 0) = %v, %v", a, err)
	}
	if _, err := c.ReadRows("empty", 0, 1); err == nil || !strings.Contains(err.Error(), "0 rows") {
		t.Errorf("ReadRows(empty, 0, 1): %v", err)
	}

	// A chunked scalar (only a malformed file has one) is an error, not a
	// panic, for Read as for ReadRows.
	s := &File{name: "s.h5", r: bytes.NewReader(nil), datasets: map[string]*dataset{"s": {
		name: "s", dtype: datatype{size: 1, dtype: array.Uint8},
		layout: layout{version: 3, class: layoutChunked, addr: undef, elemSize: 1, index: idxBTree1},
	}}, names: []string{"s"}}
	if _, err := s.Read("s"); err == nil || !strings.Contains(err.Error(), "chunked layout for a scalar") {
		t.Errorf("Read of a chunked scalar: %v", err)
	}
	if _, err := s.ReadRows("s", 0, 1); err == nil || !strings.Contains(err.Error(), "scalar has no rows") {
		t.Errorf("ReadRows of a chunked scalar: %v", err)
	}

	// A corrupt first chunk (rows 0-15 of 24): windows that reach it fail
	// with the chunk's offset, the others are read.
	good, err := Open(filepath.Join("testdata", "galaxy10_small.h5"))
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	whole, err := good.Read("images")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "galaxy10_small.h5"))
	if err != nil {
		t.Fatal(err)
	}
	chunkOff, chunkSize := imagesChunk(t, data)
	data[chunkOff+chunkSize/2] ^= 0x55
	bad, err := OpenReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range [][2]int{{0, 1}, {10, 20}, {15, 16}, {0, 24}} {
		_, err := bad.ReadRows("images", w[0], w[1])
		want := fmt.Sprintf(`dataset "images": rows [%d, %d): chunk at offset %d: `, w[0], w[1], chunkOff)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ReadRows(%d, %d) with a corrupt chunk: %v, want an error containing %q", w[0], w[1], err, want)
		}
	}
	if _, err := bad.Read("images"); err == nil {
		t.Error("Read with a corrupt chunk succeeded")
	}
	checkRows(t, bad, "images", whole, [][2]int{{16, 24}, {17, 23}, {16, 16}, {0, 0}}, 16)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// TestReadRowsCost: a window of a large dataset reads from the file only
// the chunks that overlap it (plus the chunk index), or for a contiguous
// dataset only its rows, and allocates about the window plus a few chunks,
// not the dataset.
func TestReadRowsCost(t *testing.T) {
	const n, h = 2000, 16
	img := &array.Array{Shape: []int{n, h, h, 3}, DType: array.Uint8, Data: make([]byte, n*h*h*3)}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range img.Data {
		img.Data[i] = uint8(rng.IntN(256))
	}
	rowBytes := h * h * 3
	for _, opt := range []WriteOptions{{}, {Deflate: 1, ChunkRows: 40}} {
		t.Run(fmt.Sprintf("deflate%d", opt.Deflate), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, []NamedArray{{"images", img}}, opt); err != nil {
				t.Fatal(err)
			}
			cr := &countingReader{r: bytes.NewReader(buf.Bytes())}
			f, err := OpenReader(cr, int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			const lo, hi = 390, 410 // straddles the chunks of rows 360-399 and 400-439
			allowed := int64((hi - lo) * rowBytes)
			if opt.Deflate > 0 {
				ds := f.datasets["images"]
				g := &geometry{rank: 4, dims: ds.dims, chunk: ds.layout.chunk, elemSize: 1, chunkBytes: 1, grid: make([]uint64, 4)}
				for d := range g.grid {
					g.grid[d] = (g.dims[d] + g.chunk[d] - 1) / g.chunk[d]
				}
				chunks, err := f.chunkList(ds, g)
				if err != nil || len(chunks) != 50 {
					t.Fatalf("%d chunks, %v", len(chunks), err)
				}
				allowed = 0
				for _, c := range chunks {
					if c.scaled[0] == 9 || c.scaled[0] == 10 {
						allowed += int64(c.size)
					}
				}
				allowed += int64(btreeNodeLen(chunkInternK, 8+8*5)) // the chunk index
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			cr.n.Store(0)
			a, err := f.ReadRows("images", lo, hi)
			read := cr.n.Load()
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Data, img.Data[lo*rowBytes:hi*rowBytes]) {
				t.Fatal("ReadRows differs from the data written")
			}
			if read > allowed {
				t.Errorf("ReadRows(%d, %d) read %d bytes of the file, want at most %d", lo, hi, read, allowed)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			chunkBytes := uint64(40 * rowBytes)
			limit := uint64((hi-lo)*rowBytes) + 4*uint64(runtime.GOMAXPROCS(0))*chunkBytes + 64<<10
			if alloc > limit {
				t.Errorf("ReadRows(%d, %d) allocated %d bytes, want at most %d (the dataset is %d)", lo, hi, alloc, limit, len(img.Data))
			}
			t.Logf("ReadRows(%d, %d): read %d bytes of %d, allocated %d bytes", lo, hi, read, buf.Len(), alloc)
		})
	}
}

// TestReadRowsRealData: a window of gz1_sdss_69.h5 that cuts through its
// chunks equals the slice of the whole read.
func TestReadRowsRealData(t *testing.T) {
	p := shared.File(t, "gz1_sdss_69.h5")
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, name := range []string{"images", "ans", "objid"} {
		whole, err := f.Read(name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := f.Info(name)
		if err != nil {
			t.Fatal(err)
		}
		chunk := 0
		if len(info.Chunks) > 0 {
			chunk = info.Chunks[0]
		}
		t.Logf("%s: shape %v, chunks %v", name, info.Shape, info.Chunks)
		checkRows(t, f, name, whole, [][2]int{{100, 357}, {0, 1}, {5664, 5665}, {0, 5665}}, chunk)
	}
}

// BenchmarkReadRowsGZ1Images reads "images" of gz1_sdss_69.h5 in slabs of
// 512 rows per iteration (compare BenchmarkReadGZ1Images, the whole read).
func BenchmarkReadRowsGZ1Images(b *testing.B) {
	p := shared.File(b, "gz1_sdss_69.h5")
	b.SetBytes(5665 * 69 * 69 * 3)
	for b.Loop() {
		f, err := Open(p)
		if err != nil {
			b.Fatal(err)
		}
		for lo := 0; lo < 5665; lo += 512 {
			if _, err := f.ReadRows("images", lo, min(lo+512, 5665)); err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
	}
}

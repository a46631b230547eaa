package hdf5

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"galaxy/data/array"
)

// maxBytes bounds the memory one Read may allocate for a dataset or a chunk:
// more than any deflate-compressed content of the file can expand to.
func (f *File) maxBytes() uint64 {
	n, ok := mulOK(uint64(f.size), maxExpansion, math.MaxInt/2)
	if !ok {
		return math.MaxInt / 2
	}
	return min(n+allocSlack, math.MaxInt/2)
}

// readDataset reads the whole dataset: all its rows, or a scalar's element.
func (f *File) readDataset(ds *dataset) (*array.Array, error) {
	if len(ds.dims) == 0 {
		return f.readRows(ds, 0, 1)
	}
	return f.readRows(ds, 0, ds.dims[0])
}

// readRows reads rows [lo, hi) of the first dimension (0 <= lo <= hi <=
// dims[0], checked by the caller) into an array of shape (hi-lo, dims[1:]...).
// A scalar is read as the window [0, 1) of one row of one element, and keeps
// its empty shape.
func (f *File) readRows(ds *dataset, lo, hi uint64) (*array.Array, error) {
	es := uint64(ds.dtype.size)
	limit := f.maxBytes()
	// The window's shape: (hi-lo, dims[1:]...), or a scalar's ().
	nrows, shape64 := uint64(1), []uint64(nil)
	if len(ds.dims) > 0 {
		nrows = ds.dims[0]
		shape64 = append([]uint64{hi - lo}, ds.dims[1:]...)
	}
	nelem := hi - lo
	if nelem > limit {
		return nil, fmt.Errorf("shape %v too large for a file of %d bytes", shape64, f.size)
	}
	for _, d := range shape64[min(1, len(shape64)):] {
		var ok bool
		if nelem, ok = mulOK(nelem, d, limit); !ok {
			return nil, fmt.Errorf("shape %v too large for a file of %d bytes", shape64, f.size)
		}
	}
	nbytes, ok := mulOK(nelem, es, limit)
	if !ok {
		return nil, fmt.Errorf("shape %v of %v (%d bytes each) too large for a file of %d bytes", shape64, ds.dtype.dtype, es, f.size)
	}
	out := make([]byte, nbytes)
	l := &ds.layout
	switch l.class {
	case layoutCompact, layoutContiguous:
		if nbytes == 0 {
			break
		}
		// The window is bytes [first, end) of the dataset's total.
		rowBytes := nbytes / (hi - lo)
		total, ok := mulOK(nrows, rowBytes, math.MaxUint64)
		if !ok {
			return nil, fmt.Errorf("shape %v too large for a file of %d bytes", ds.dims, f.size)
		}
		first, end := lo*rowBytes, hi*rowBytes
		if l.class == layoutCompact {
			if uint64(len(l.compact)) < total {
				return nil, fmt.Errorf("compact data of %d bytes, want %d", len(l.compact), total)
			}
			copy(out, l.compact[first:end])
			break
		}
		if l.addr == undef {
			fillPattern(out, ds.fill)
			break
		}
		if l.size != undef && l.size < total {
			return nil, fmt.Errorf("contiguous data of %d bytes, want %d", l.size, total)
		}
		off, err := f.abs(l.addr, end)
		if err != nil {
			return nil, fmt.Errorf("contiguous data: %w", err)
		}
		off += int64(first)
		if err := f.readFull(out, off); err != nil {
			return nil, fmt.Errorf("contiguous data at offset %d: %w", off, err)
		}
	case layoutChunked:
		if nbytes > 0 {
			if err := f.readChunked(ds, out, limit, lo, hi); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("layout class %d not supported", l.class)
	}
	if ds.dtype.bigEndian {
		swapBytes(out, int(es))
	}
	shape := make([]int, len(shape64))
	for i, d := range shape64 {
		shape[i] = int(d)
	}
	return &array.Array{Shape: shape, DType: ds.dtype.dtype, Data: out}, nil
}

// fillPattern fills out with copies of the element fill (nothing for zeros).
func fillPattern(out, fill []byte) {
	if len(fill) == 0 || len(out) == 0 {
		return
	}
	n := copy(out, fill)
	for n < len(out) {
		n += copy(out[n:], out[:n])
	}
}

// swapBytes reverses the bytes of every size-byte element.
func swapBytes(b []byte, size int) {
	switch size {
	case 2:
		for i := 0; i+2 <= len(b); i += 2 {
			binary.LittleEndian.PutUint16(b[i:], binary.BigEndian.Uint16(b[i:]))
		}
	case 4:
		for i := 0; i+4 <= len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], binary.BigEndian.Uint32(b[i:]))
		}
	case 8:
		for i := 0; i+8 <= len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], binary.BigEndian.Uint64(b[i:]))
		}
	}
}

// readChunked decodes into out rows [lo, hi) (lo < hi) of a chunked
// dataset: the chunks that overlap them, in parallel; the chunks' rows
// outside the window are skipped when placed.
func (f *File) readChunked(ds *dataset, out []byte, limit, lo, hi uint64) error {
	l := &ds.layout
	if len(ds.dims) == 0 {
		return errors.New("chunked layout for a scalar dataset")
	}
	g := &geometry{rank: len(ds.dims), dims: ds.dims, chunk: l.chunk, elemSize: uint64(ds.dtype.size), lo: lo, hi: hi}
	g.grid = make([]uint64, g.rank)
	g.nchunks = 1
	g.chunkBytes = g.elemSize
	for d := range g.grid {
		g.grid[d] = g.dims[d]/g.chunk[d] + min(g.dims[d]%g.chunk[d], 1)
		g.nchunks *= g.grid[d] // at most the number of elements
		var ok bool
		if g.chunkBytes, ok = mulOK(g.chunkBytes, g.chunk[d], limit); !ok {
			return fmt.Errorf("chunk shape %v too large for a file of %d bytes", g.chunk, f.size)
		}
	}
	for _, fl := range ds.filters {
		if !fl.supported() {
			return fmt.Errorf("filter %s not supported", fl)
		}
	}
	chunks, err := f.chunkList(ds, g)
	if err != nil {
		return err
	}
	first, last, _ := g.windowChunks() // chunks lists only those
	if uint64(len(chunks)) < (last-first+1)*(g.nchunks/g.grid[0]) {
		fillPattern(out, ds.fill)
	}
	if len(chunks) == 0 {
		return nil
	}
	// In file order, so that the reads sweep the file.
	slices.SortFunc(chunks, func(a, b chunkRef) int {
		switch {
		case a.addr < b.addr:
			return -1
		case a.addr > b.addr:
			return 1
		}
		return 0
	})

	workers := min(runtime.GOMAXPROCS(0), len(chunks))
	if workers == 1 {
		r := &chunkReader{f: f, ds: ds, g: g, out: out}
		for _, c := range chunks {
			if err := r.chunk(c); err != nil {
				return f.chunkErr(c, err)
			}
		}
		return nil
	}
	// Chunks are claimed in order, so every chunk before a failing one has
	// been claimed and runs to its end: keeping the error of the lowest
	// index reports the first bad chunk in file order, whatever the timing.
	var (
		next     atomic.Int64
		stop     atomic.Bool
		mu       sync.Mutex
		firstErr error
		errIdx   = len(chunks)
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &chunkReader{f: f, ds: ds, g: g, out: out}
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(chunks) {
					return
				}
				if err := r.chunk(chunks[i]); err != nil {
					mu.Lock()
					if i < errIdx {
						errIdx, firstErr = i, f.chunkErr(chunks[i], err)
					}
					mu.Unlock()
					stop.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func (f *File) chunkErr(c chunkRef, err error) error {
	return fmt.Errorf("chunk at offset %d: %w", c.addr+f.base, err)
}

// chunkReader decodes chunks into the output; each goroutine has its own.
type chunkReader struct {
	f    *File
	ds   *dataset
	g    *geometry
	out  []byte
	raw  []byte // stored bytes
	bufs [2][]byte
	tail []byte // a whole edge chunk
	z    inflater
	org  []uint64 // scratch: chunk origin and extent
	ext  []uint64
	idx  []uint64
}

// buf returns scratch buffer i resized to n bytes.
func (r *chunkReader) buf(i int, n uint64) []byte {
	if uint64(cap(r.bufs[i])) < n {
		r.bufs[i] = make([]byte, n)
	}
	return r.bufs[i][:n]
}

// plan works out where chunk scaled lands in the output, the row window
// [g.lo, g.hi): the element origin and extent per dimension of the chunk's
// part inside the dataset and the window, the number of bytes skip of the
// chunk's rows before the window, the first dimension k of the longest run
// that is contiguous in both the chunk and the output, and whether the part
// is a single run (then its bytes are chunk[skip:skip+n], landing at
// out[start:start+n]).
func (r *chunkReader) plan(scaled []uint64) (k int, single bool, skip, start, n uint64) {
	g := r.g
	if r.org == nil {
		r.org, r.ext, r.idx = make([]uint64, g.rank), make([]uint64, g.rank), make([]uint64, g.rank)
	}
	for d := range scaled {
		r.org[d] = scaled[d] * g.chunk[d]
		r.ext[d] = min(g.chunk[d], g.dims[d]-r.org[d])
	}
	// Clip dimension 0 to the window (the caller keeps only chunks that
	// overlap it) and make its origin relative to the window's first row.
	end := min(r.org[0]+r.ext[0], g.hi)
	if r.org[0] < g.lo {
		skip = (g.lo - r.org[0]) * (g.chunkBytes / g.chunk[0])
		r.org[0] = g.lo
	}
	r.ext[0] = end - r.org[0]
	r.org[0] -= g.lo
	k = g.rank - 1
	for k > 0 && r.ext[k] == g.chunk[k] && r.ext[k] == g.dims[k] {
		k--
	}
	single = true
	for d := 0; d < k; d++ {
		if r.ext[d] != 1 {
			single = false
		}
	}
	stride := g.elemSize
	n = r.ext[k] * g.elemSize
	for d := g.rank - 1; d >= 0; d-- {
		start += r.org[d] * stride
		if d > k {
			n *= g.dims[d]
		}
		stride *= g.dims[d]
	}
	return k, single, skip, start, n
}

// scatter copies the part of a decoded chunk that plan found into the
// output.
func (r *chunkReader) scatter(data []byte, k int, skip, start, n uint64) {
	g := r.g
	if k == 0 {
		copy(r.out[start:start+n], data[skip:skip+n])
		return
	}
	// Byte strides of dimensions 0..k-1 in the output and in the chunk.
	var outStride, chStride [maxRank + 1]uint64
	so, sc := g.elemSize, g.elemSize
	for d := g.rank - 1; d >= 0; d-- {
		outStride[d], chStride[d] = so, sc
		so *= g.dims[d]
		sc *= g.chunk[d]
	}
	idx := r.idx[:k]
	clear(idx)
	for {
		o, c := uint64(0), skip
		for d := 0; d < k; d++ {
			o += idx[d] * outStride[d]
			c += idx[d] * chStride[d]
		}
		copy(r.out[start+o:start+o+n], data[c:c+n])
		d := k - 1
		for ; d >= 0; d-- {
			if idx[d]++; idx[d] < r.ext[d] {
				break
			}
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// chunk reads, decodes and places one chunk: its part inside the dataset
// and the row window.
func (r *chunkReader) chunk(c chunkRef) error {
	f, g := r.f, r.g
	k, single, skip, start, n := r.plan(c.scaled)
	dst := r.out[start : start+n] // where a single-run chunk's bytes go

	// The filters applied to this chunk, in the order they are undone.
	var undo [32]int
	nundo := 0
	for i := len(r.ds.filters) - 1; i >= 0; i-- {
		if i >= 32 || c.mask&(1<<uint(i)) == 0 {
			undo[nundo] = i
			nundo++
		}
	}
	if nundo == 0 {
		if c.size < g.chunkBytes {
			return fmt.Errorf("%d bytes stored, want %d", c.size, g.chunkBytes)
		}
		if single { // straight from the file into the output
			off, err := f.abs(c.addr, skip+n)
			if err != nil {
				return err
			}
			return f.readFull(dst, off+int64(skip))
		}
	}
	off, err := f.abs(c.addr, c.size)
	if err != nil {
		return err
	}
	if max, ok := mulOK(c.size, maxExpansion, math.MaxInt/2); ok && g.chunkBytes > max+1024 {
		// Not even deflate expands this much: fail before allocating.
		return fmt.Errorf("%d bytes stored cannot decode to a chunk of %d", c.size, g.chunkBytes)
	}
	if uint64(cap(r.raw)) < c.size {
		r.raw = make([]byte, c.size)
	}
	data := r.raw[:c.size]
	if err := f.readFull(data, off); err != nil {
		return err
	}
	cur := -1 // scratch buffer holding data, -1 for raw
	for j := 0; j < nundo; j++ {
		fl := r.ds.filters[undo[j]]
		last := j == nundo-1
		switch fl.id {
		case filterFletcher32:
			if err := checkFletcher32(data); err != nil {
				return err
			}
			data = data[:len(data)-4]
		case filterDeflate:
			if last && single {
				return r.inflate(data, dst, skip, g.chunkBytes)
			}
			nb := (cur + 1) % 2
			out := r.buf(nb, g.chunkBytes)
			if err := r.inflate(data, out, 0, g.chunkBytes); err != nil {
				return err
			}
			data, cur = out, nb
		case filterShuffle:
			size := g.elemSize
			if len(fl.cd) > 0 && fl.cd[0] > 0 {
				size = uint64(fl.cd[0])
			}
			if last && single && skip == 0 && uint64(len(data)) == n {
				unshuffle(dst, data, int(size))
				return nil
			}
			nb := (cur + 1) % 2
			out := r.buf(nb, uint64(len(data)))
			unshuffle(out, data, int(size))
			data, cur = out, nb
		default:
			return fmt.Errorf("filter %s not supported", fl)
		}
	}
	if uint64(len(data)) < g.chunkBytes {
		return fmt.Errorf("decoded chunk of %d bytes, want %d", len(data), g.chunkBytes)
	}
	if single {
		copy(dst, data[skip:])
		return nil
	}
	r.scatter(data, k, skip, start, n)
	return nil
}

// inflate decompresses the zlib stream src of a chunk of full bytes, checks
// the stream's Adler-32 and leaves bytes [skip, skip+len(dst)) of the chunk
// in dst. Unless that is the whole chunk, it is decoded into scratch space
// and the part copied (an edge chunk, or one that straddles a row window).
func (r *chunkReader) inflate(src, dst []byte, skip, full uint64) error {
	if len(src) < 6 {
		return fmt.Errorf("deflate: %d bytes: %w", len(src), io.ErrUnexpectedEOF)
	}
	cmf, flg := src[0], src[1]
	if cmf&0x0f != 8 || (uint16(cmf)<<8|uint16(flg))%31 != 0 || flg&0x20 != 0 {
		return errors.New("deflate: not a zlib stream")
	}
	target := dst
	whole := skip == 0 && uint64(len(dst)) == full
	if !whole {
		if uint64(cap(r.tail)) < full {
			r.tail = make([]byte, full)
		}
		target = r.tail[:full]
	}
	n, used, err := r.z.inflate(target, src[2:])
	if err != nil {
		if err == errInflateShort {
			return fmt.Errorf("deflate: %w", io.ErrUnexpectedEOF)
		}
		return err
	}
	if uint64(n) != full {
		return fmt.Errorf("deflate: stream holds %d bytes, the chunk %d", n, full)
	}
	trailer := src[2+used:]
	if len(trailer) < 4 {
		return fmt.Errorf("deflate: Adler-32 checksum: %w", io.ErrUnexpectedEOF)
	}
	if binary.BigEndian.Uint32(trailer) != adler32.Checksum(target) {
		return errors.New("deflate: Adler-32 checksum mismatch")
	}
	if !whole {
		copy(dst, target[skip:])
	}
	return nil
}

// unshuffle undoes the shuffle filter: src holds byte 0 of every element,
// then byte 1, and so on; a remainder that is not a whole element stays put.
func unshuffle(dst, src []byte, size int) {
	n := 0
	if size > 1 {
		n = len(src) / size
	}
	if n == 0 {
		copy(dst, src)
		return
	}
	for b := 0; b < size; b++ {
		s := src[b*n : (b+1)*n]
		for i, v := range s {
			dst[i*size+b] = v
		}
	}
	copy(dst[n*size:], src[n*size:])
}

// checkFletcher32 verifies the checksum that ends data, as libhdf5 computes
// it (also accepting the byte-swapped value of libraries before 1.6.3).
func checkFletcher32(data []byte) error {
	if len(data) < 4 {
		return fmt.Errorf("fletcher32: %d bytes: %w", len(data), io.ErrUnexpectedEOF)
	}
	body := data[:len(data)-4]
	stored := binary.LittleEndian.Uint32(data[len(data)-4:])
	sum := fletcher32(body)
	swapped := (sum&0x00ff00ff)<<8 | (sum>>8)&0x00ff00ff
	if stored != sum && stored != swapped {
		return errors.New("fletcher32 checksum mismatch")
	}
	return nil
}

func fletcher32(b []byte) uint32 {
	var sum1, sum2 uint32
	n := len(b) / 2
	for n > 0 {
		t := min(n, 360)
		n -= t
		for ; t > 0; t-- {
			sum1 += uint32(b[0])<<8 | uint32(b[1])
			b = b[2:]
			sum2 += sum1
		}
		sum1 = sum1&0xffff + sum1>>16
		sum2 = sum2&0xffff + sum2>>16
	}
	if len(b) > 0 {
		sum1 += uint32(b[0]) << 8
		sum2 += sum1
		sum1 = sum1&0xffff + sum1>>16
		sum2 = sum2&0xffff + sum2>>16
	}
	sum1 = sum1&0xffff + sum1>>16
	sum2 = sum2&0xffff + sum2>>16
	return sum2<<16 | sum1
}

package hdf5

// The writer: the smallest HDF5 file that libhdf5, h5py and this package's
// reader all accept, for the Galaxy10 layout (a few numeric datasets and
// string attributes in the root group).
//
// File layout (every structure 8-byte aligned, offsets and lengths 8 bytes):
//
//	superblock version 0 (root symbol table entry caching the group's B-tree and heap)
//	root object header (v1): symbol table message, one attribute message per attribute
//	v1 B-tree node of the root group (type 0, one leaf), allocated at libhdf5's full node size
//	local heap (prefix, then the data segment with the link names)
//	symbol table node (SNOD) with the datasets, sorted by name
//	one object header (v1) per dataset: dataspace, datatype, [filter pipeline,] layout
//	per chunked dataset: its v1 B-tree node of chunks (type 1, one leaf)
//	raw data: contiguous bytes, or the deflated chunks
//
// Chunked datasets are split along their first dimension into at most 64
// chunks (one B-tree leaf, libhdf5's default node width of 2x32), each
// compressed with zlib (the deflate filter).

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"

	"galaxy/data/array"
	"galaxy/internal/atomicfile"
)

// NamedArray is a dataset to write: a name in the root group and its data.
type NamedArray struct {
	Name  string
	Array *array.Array
}

// StringAttr is a root attribute holding fixed-length ASCII strings (a
// one-dimensional array; h5py reads it as an array of bytes).
type StringAttr struct {
	Name   string
	Values []string
}

// WriteOptions say how to store the datasets.
type WriteOptions struct {
	// Deflate 1..9 stores every dataset of at least ChunkMin bytes chunked
	// along its first dimension and compressed with zlib at that level; 0
	// stores them contiguous.
	Deflate int
	// ChunkRows is the number of first-dimension rows per chunk (default:
	// 256, raised so that a dataset has at most 64 chunks).
	ChunkRows int
	Attrs     []StringAttr
}

// maxChunks is the most chunks a dataset may have: one leaf of a v1 B-tree
// with libhdf5's default K of 32 for chunk indexes (superblock version 0
// cannot store another).
const maxChunks = 64

// Write layout constants (sizes of offsets and lengths: 8 bytes).
const (
	wO            = 8
	superblockLen = 96
	ohPrefixLen   = 16 // v1 object header prefix, padded
	msgHeaderLen  = 8
	entryLen      = 40 // symbol table entry
	heapPrefixLen = 32
	groupInternK  = 16
	chunkInternK  = 32
	btreeHdrLen   = 24
)

// Message types.
const (
	wMsgDataspace   = 0x0001
	wMsgDatatype    = 0x0003
	wMsgLayout      = 0x0008
	wMsgFilter      = 0x000B
	wMsgAttribute   = 0x000C
	wMsgSymbolTable = 0x0011
)

// WriteFile writes the datasets and attributes as an HDF5 file at path,
// atomically (a temporary file renamed into place).
func WriteFile(path string, datasets []NamedArray, opt WriteOptions) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Encode(w, datasets, opt) })
}

// Encode writes the datasets and attributes as an HDF5 file to w.
func Encode(w io.Writer, datasets []NamedArray, opt WriteOptions) error {
	enc, err := plan(datasets, opt)
	if err != nil {
		return fmt.Errorf("hdf5: %w", err)
	}
	if err := enc.write(w); err != nil {
		return fmt.Errorf("hdf5: %w", err)
	}
	return nil
}

type wDataset struct {
	name    string
	a       *array.Array
	nameOff uint64 // in the local heap
	ohAddr  uint64
	oh      []byte // object header, built once addresses are known
	chunked bool
	rows    int      // rows of dimension 0 per chunk
	chunks  [][]byte // compressed chunks
	btree   uint64   // address of the chunk B-tree
	data    uint64   // address of the raw data (contiguous) or the first chunk
}

type encoder struct {
	ds        []*wDataset
	attrs     []StringAttr
	leafK     int
	rootOH    uint64
	rootOHLen int
	btree     uint64
	heap      uint64
	heapData  []byte
	snod      uint64
	eof       uint64
	deflate   int
}

func align8(n int) int { return (n + 7) &^ 7 }

func plan(datasets []NamedArray, opt WriteOptions) (*encoder, error) {
	if len(datasets) == 0 {
		return nil, errors.New("no datasets to write")
	}
	if opt.Deflate < 0 || opt.Deflate > 9 {
		return nil, fmt.Errorf("deflate level %d: want 0 (none) to 9", opt.Deflate)
	}
	e := &encoder{attrs: opt.Attrs, deflate: opt.Deflate}
	seen := map[string]bool{}
	for _, d := range datasets {
		if d.Name == "" || strings.ContainsAny(d.Name, "/\x00") || d.Name == "." {
			return nil, fmt.Errorf("dataset name %q: want a plain name (no / or NUL)", d.Name)
		}
		if seen[d.Name] {
			return nil, fmt.Errorf("dataset %q named twice", d.Name)
		}
		seen[d.Name] = true
		if d.Array == nil {
			return nil, fmt.Errorf("dataset %q: no data", d.Name)
		}
		if err := d.Array.Check(); err != nil {
			return nil, fmt.Errorf("dataset %q: %w", d.Name, err)
		}
		if _, err := datatypeMessage(d.Array.DType); err != nil {
			return nil, fmt.Errorf("dataset %q: %w", d.Name, err)
		}
		if len(d.Array.Shape) == 0 || len(d.Array.Shape) > 30 {
			return nil, fmt.Errorf("dataset %q: shape %v: want 1 to 30 dimensions", d.Name, d.Array.Shape)
		}
		e.ds = append(e.ds, &wDataset{name: d.Name, a: d.Array})
	}
	for _, a := range opt.Attrs {
		if a.Name == "" || strings.ContainsRune(a.Name, 0) {
			return nil, fmt.Errorf("attribute name %q", a.Name)
		}
		for _, v := range a.Values {
			for _, r := range v {
				if r == 0 || r > 0x7f {
					return nil, fmt.Errorf("attribute %q: value %q is not plain ASCII", a.Name, v)
				}
			}
		}
	}
	// Symbol table entries must be sorted by name (libhdf5 searches them).
	sort.Slice(e.ds, func(i, j int) bool { return e.ds[i].name < e.ds[j].name })
	e.leafK = max(4, (len(e.ds)+1)/2)
	if e.leafK > 0xffff/2 {
		return nil, fmt.Errorf("%d datasets: too many for one group node", len(e.ds))
	}

	// Local heap data segment: "" at 0, then the names.
	e.heapData = make([]byte, 8)
	for _, d := range e.ds {
		d.nameOff = uint64(len(e.heapData))
		b := make([]byte, align8(len(d.name)+1))
		copy(b, d.name)
		e.heapData = append(e.heapData, b...)
	}

	// Compress chunked datasets now: their sizes decide the addresses.
	for _, d := range e.ds {
		if opt.Deflate == 0 || d.a.Shape[0] == 0 {
			continue
		}
		rowBytes := len(d.a.Data) / d.a.Shape[0]
		if rowBytes == 0 {
			continue
		}
		rows := opt.ChunkRows
		if rows <= 0 {
			rows = 256
		}
		rows = max(rows, (d.a.Shape[0]+maxChunks-1)/maxChunks)
		rows = min(rows, d.a.Shape[0])
		if uint64(rows)*uint64(rowBytes) >= 1<<32 {
			return nil, fmt.Errorf("dataset %q: chunks of %d rows exceed 4 GiB", d.name, rows)
		}
		d.chunked, d.rows = true, rows
		d.chunks = compressChunks(d.a.Data, rows*rowBytes, opt.Deflate)
	}

	// Addresses.
	at := uint64(superblockLen)
	e.rootOH = at
	e.rootOHLen = ohPrefixLen + msgHeaderLen + 16
	for _, a := range e.attrs {
		e.rootOHLen += msgHeaderLen + align8(len(attributeMessage(a)))
	}
	at += uint64(e.rootOHLen)
	e.btree = at
	at += uint64(btreeNodeLen(groupInternK, wO))
	e.heap = at
	at += heapPrefixLen + uint64(len(e.heapData))
	e.snod = at
	at += uint64(8 + 2*e.leafK*entryLen)
	for _, d := range e.ds {
		d.ohAddr = at
		at += uint64(len(e.objectHeader(d))) // length only; rebuilt with addresses below
	}
	for _, d := range e.ds {
		if d.chunked {
			d.btree = at
			at += uint64(btreeNodeLen(chunkInternK, chunkKeyLen(d)))
		}
	}
	for _, d := range e.ds {
		d.data = at
		if d.chunked {
			for _, c := range d.chunks {
				at += uint64(len(c))
			}
		} else {
			at += uint64(len(d.a.Data))
		}
	}
	e.eof = at
	for _, d := range e.ds {
		d.oh = e.objectHeader(d)
	}
	return e, nil
}

// compressChunks deflates data in pieces of size bytes, in parallel.
func compressChunks(data []byte, size, level int) [][]byte {
	n := (len(data) + size - 1) / size
	out := make([][]byte, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				piece := data[i*size : min((i+1)*size, len(data))]
				var b bytes.Buffer
				zw, _ := zlib.NewWriterLevel(&b, level)
				zw.Write(piece)
				if len(piece) < size { // an edge chunk is stored at full size
					zw.Write(make([]byte, size-len(piece)))
				}
				zw.Close()
				out[i] = b.Bytes()
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

func btreeNodeLen(k, keyLen int) int { return btreeHdrLen + 2*k*wO + (2*k+1)*keyLen }

func chunkKeyLen(d *wDataset) int { return 8 + 8*(len(d.a.Shape)+1) }

// buf is a little-endian byte builder.
type buf struct{ b []byte }

func (b *buf) u8(v uint8)   { b.b = append(b.b, v) }
func (b *buf) u16(v uint16) { b.b = binary.LittleEndian.AppendUint16(b.b, v) }
func (b *buf) u32(v uint32) { b.b = binary.LittleEndian.AppendUint32(b.b, v) }
func (b *buf) u64(v uint64) { b.b = binary.LittleEndian.AppendUint64(b.b, v) }
func (b *buf) raw(p []byte) { b.b = append(b.b, p...) }
func (b *buf) pad(n int)    { b.b = append(b.b, make([]byte, n)...) }
func (b *buf) align()       { b.pad(align8(len(b.b)) - len(b.b)) }

// message appends a v1 object header message with its data padded to 8 bytes.
func (b *buf) message(typ uint16, data []byte) {
	n := align8(len(data))
	b.u16(typ)
	b.u16(uint16(n))
	b.u8(0) // flags
	b.pad(3)
	b.raw(data)
	b.pad(n - len(data))
}

// objectHeader builds a v1 object header: prefix and one chunk of messages.
func objectHeaderBytes(msgs *buf, count int) []byte {
	var b buf
	b.u8(1) // version
	b.u8(0)
	b.u16(uint16(count))
	b.u32(1) // reference count
	b.u32(uint32(len(msgs.b)))
	b.pad(4) // align the message chunk
	b.raw(msgs.b)
	return b.b
}

func dataspaceMessage(shape []int) []byte {
	var b buf
	b.u8(1) // version
	b.u8(uint8(len(shape)))
	b.u8(0) // no maximum dimensions: they equal the dimensions
	b.pad(5)
	for _, s := range shape {
		b.u64(uint64(s))
	}
	return b.b
}

// datatypeMessage encodes a little-endian numeric type.
func datatypeMessage(t array.DType) ([]byte, error) {
	var b buf
	size := t.Size()
	switch t {
	case array.Uint8, array.Uint16, array.Uint32, array.Uint64, array.Int8, array.Int16, array.Int32, array.Int64:
		signed := uint8(0)
		if t == array.Int8 || t == array.Int16 || t == array.Int32 || t == array.Int64 {
			signed = 0x08
		}
		b.u8(0x10) // version 1, class 0 (fixed point)
		b.u8(signed)
		b.u8(0)
		b.u8(0)
		b.u32(uint32(size))
		b.u16(0)                // bit offset
		b.u16(uint16(8 * size)) // precision
	case array.Float32, array.Float64:
		b.u8(0x11) // version 1, class 1 (floating point)
		b.u8(0x20) // little-endian, mantissa normalised with an implied 1
		if t == array.Float32 {
			b.u8(31) // sign bit
			b.u8(0)
			b.u32(4)
			b.u16(0)
			b.u16(32)
			b.u8(23) // exponent location
			b.u8(8)  // exponent size
			b.u8(0)  // mantissa location
			b.u8(23) // mantissa size
			b.u32(127)
		} else {
			b.u8(63)
			b.u8(0)
			b.u32(8)
			b.u16(0)
			b.u16(64)
			b.u8(52)
			b.u8(11)
			b.u8(0)
			b.u8(52)
			b.u32(1023)
		}
	default:
		return nil, fmt.Errorf("cannot write elements of type %v", t)
	}
	return b.b, nil
}

func stringDatatype(size int) []byte {
	var b buf
	b.u8(0x13) // version 1, class 3 (string)
	b.u8(1)    // null-padded, ASCII
	b.u8(0)
	b.u8(0)
	b.u32(uint32(size))
	return b.b
}

func attributeMessage(a StringAttr) []byte {
	size := 1
	for _, v := range a.Values {
		size = max(size, len(v))
	}
	dt := stringDatatype(size)
	sp := dataspaceMessage([]int{len(a.Values)})
	var b buf
	b.u8(1) // version
	b.u8(0)
	b.u16(uint16(len(a.Name) + 1))
	b.u16(uint16(len(dt)))
	b.u16(uint16(len(sp)))
	b.raw([]byte(a.Name))
	b.u8(0)
	b.align()
	b.raw(dt)
	b.align()
	b.raw(sp)
	b.align()
	for _, v := range a.Values {
		b.raw([]byte(v))
		b.pad(size - len(v))
	}
	return b.b
}

func (e *encoder) objectHeader(d *wDataset) []byte {
	var m buf
	dt, _ := datatypeMessage(d.a.DType)
	m.message(wMsgDataspace, dataspaceMessage(d.a.Shape))
	m.message(wMsgDatatype, dt)
	count := 3
	var l buf
	l.u8(3) // layout message version
	if d.chunked {
		var f buf
		f.u8(1) // filter pipeline version
		f.u8(1) // one filter
		f.pad(6)
		f.u16(1) // deflate
		f.u16(0) // no name
		f.u16(0) // flags: mandatory
		f.u16(1) // one client value
		f.u32(uint32(e.deflate))
		f.pad(4) // odd number of client values: pad
		m.message(wMsgFilter, f.b)
		count++
		l.u8(2) // chunked
		l.u8(uint8(len(d.a.Shape) + 1))
		l.u64(d.btree)
		l.u32(uint32(d.rows))
		for _, s := range d.a.Shape[1:] {
			l.u32(uint32(s))
		}
		l.u32(uint32(d.a.DType.Size()))
	} else {
		l.u8(1) // contiguous
		l.u64(d.data)
		l.u64(uint64(len(d.a.Data)))
	}
	m.message(wMsgLayout, l.b)
	return objectHeaderBytes(&m, count)
}

// symbolEntry appends a symbol table entry.
func (b *buf) symbolEntry(nameOff, oh uint64, cache uint32, scratch ...uint64) {
	b.u64(nameOff)
	b.u64(oh)
	b.u32(cache)
	b.u32(0)
	for _, s := range scratch {
		b.u64(s)
	}
	b.pad(16 - 8*len(scratch))
}

func (e *encoder) write(w io.Writer) error {
	var b buf
	// Superblock version 0.
	b.raw(signature)
	b.u8(0) // superblock version
	b.u8(0) // free-space storage version
	b.u8(0) // root group symbol table entry version
	b.u8(0)
	b.u8(0) // shared header message format version
	b.u8(wO)
	b.u8(wO)
	b.u8(0)
	b.u16(uint16(e.leafK))
	b.u16(groupInternK)
	b.u32(0)          // file consistency flags
	b.u64(0)          // base address
	b.u64(^uint64(0)) // free-space info: none
	b.u64(e.eof)
	b.u64(^uint64(0)) // driver information: none
	b.symbolEntry(0, e.rootOH, 1, e.btree, e.heap)

	// Root object header.
	var m buf
	var st buf
	st.u64(e.btree)
	st.u64(e.heap)
	m.message(wMsgSymbolTable, st.b)
	for _, a := range e.attrs {
		m.message(wMsgAttribute, attributeMessage(a))
	}
	b.raw(objectHeaderBytes(&m, 1+len(e.attrs)))

	// Root group B-tree: one leaf pointing at the symbol table node.
	node := len(b.b)
	b.raw([]byte("TREE"))
	b.u8(0) // group node
	b.u8(0) // leaf
	b.u16(1)
	b.u64(^uint64(0))
	b.u64(^uint64(0))
	b.u64(0) // key 0: the empty name
	b.u64(e.snod)
	b.u64(e.ds[len(e.ds)-1].nameOff) // key 1: the largest name
	b.pad(node + btreeNodeLen(groupInternK, wO) - len(b.b))

	// Local heap.
	b.raw([]byte("HEAP"))
	b.u8(0)
	b.pad(3)
	b.u64(uint64(len(e.heapData)))
	b.u64(1) // no free block (libhdf5's H5HL_FREE_NULL)
	b.u64(e.heap + heapPrefixLen)
	b.raw(e.heapData)

	// Symbol table node.
	snod := len(b.b)
	b.raw([]byte("SNOD"))
	b.u8(1)
	b.u8(0)
	b.u16(uint16(len(e.ds)))
	for _, d := range e.ds {
		b.symbolEntry(d.nameOff, d.ohAddr, 0)
	}
	b.pad(snod + 8 + 2*e.leafK*entryLen - len(b.b))

	for _, d := range e.ds {
		b.raw(d.oh)
	}
	for _, d := range e.ds {
		if d.chunked {
			e.chunkBTree(&b, d)
		}
	}
	if uint64(len(b.b)) != e.ds[0].data {
		return fmt.Errorf("internal error: metadata is %d bytes, planned %d", len(b.b), e.ds[0].data)
	}
	if _, err := w.Write(b.b); err != nil {
		return err
	}
	for _, d := range e.ds {
		if d.chunked {
			for _, c := range d.chunks {
				if _, err := w.Write(c); err != nil {
					return err
				}
			}
		} else if _, err := w.Write(d.a.Data); err != nil {
			return err
		}
	}
	return nil
}

// chunkBTree appends the v1 B-tree leaf indexing d's chunks: key i gives
// chunk i's stored size, filter mask and element offset; the last key is one
// chunk past the end, as libhdf5 writes it.
func (e *encoder) chunkBTree(b *buf, d *wDataset) {
	start := len(b.b)
	b.raw([]byte("TREE"))
	b.u8(1) // raw data chunks
	b.u8(0) // leaf
	b.u16(uint16(len(d.chunks)))
	b.u64(^uint64(0))
	b.u64(^uint64(0))
	key := func(size uint32, row0 uint64, past bool) {
		b.u32(size)
		b.u32(0) // filter mask: all filters applied
		b.u64(row0)
		for _, s := range d.a.Shape[1:] {
			if past {
				b.u64(uint64(s))
			} else {
				b.u64(0)
			}
		}
		b.u64(0)
	}
	addr := d.data
	for i, c := range d.chunks {
		key(uint32(len(c)), uint64(i*d.rows), false)
		b.u64(addr)
		addr += uint64(len(c))
	}
	key(0, uint64(len(d.chunks)*d.rows), true)
	b.pad(start + btreeNodeLen(chunkInternK, chunkKeyLen(d)) - len(b.b))
}

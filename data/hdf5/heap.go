package hdf5

import (
	"errors"
	"fmt"
)

// fractalHeap is the part of a fractal heap header needed to fetch managed
// and tiny objects by heap ID.
type fractalHeap struct {
	f             *File
	addr          uint64
	idLen         int
	maxManaged    uint64
	width         uint64
	startBlock    uint64
	maxDirect     uint64
	maxHeapBits   int
	rootAddr      uint64
	rootRows      uint64
	checksummed   bool // direct blocks carry a checksum
	offSize       int  // bytes of a heap offset (block offsets and IDs)
	lenSize       int  // bytes of an object length in IDs
	maxDirectRows uint64
	firstRowBits  int

	blocks map[uint64][]byte // direct blocks read so far
}

func (f *File) openFractalHeap(addr uint64) (*fractalHeap, error) {
	b, err := f.readMeta(addr, uint64(4+1+2+2+1+4+12*f.sizeL+3*f.sizeO+2+2+2+2+4+f.sizeL+4))
	if err != nil {
		return nil, fmt.Errorf("fractal heap at %d: %w", addr, err)
	}
	d := f.dec(b)
	if err := d.sig("FRHP"); err != nil {
		return nil, fmt.Errorf("fractal heap at %d: %w", addr, err)
	}
	h := &fractalHeap{f: f, addr: addr, blocks: map[uint64][]byte{}}
	if v := d.u8(); v != 0 {
		return nil, fmt.Errorf("fractal heap at %d: version %d not supported", addr, v)
	}
	h.idLen = int(d.u16())
	filterLen := d.u16()
	flags := d.u8()
	h.checksummed = flags&2 != 0
	h.maxManaged = uint64(d.u32())
	d.length() // next huge object ID
	d.addr()   // huge object B-tree
	d.length() // free space in managed blocks
	d.addr()   // free-space manager
	d.length() // managed space
	d.length() // allocated managed space
	d.length() // direct block allocation iterator offset
	d.length() // managed objects
	d.length() // size of huge objects
	d.length() // huge objects
	d.length() // size of tiny objects
	d.length() // tiny objects
	h.width = uint64(d.u16())
	h.startBlock = d.length()
	h.maxDirect = d.length()
	h.maxHeapBits = int(d.u16())
	d.u16() // starting rows in root indirect block
	h.rootAddr = d.addr()
	h.rootRows = uint64(d.u16())
	if d.err != nil {
		return nil, fmt.Errorf("fractal heap at %d: %w", addr, d.err)
	}
	if filterLen != 0 {
		return nil, fmt.Errorf("fractal heap at %d: filtered heaps not supported", addr)
	}
	if !isPow2(h.width) || !isPow2(h.startBlock) || !isPow2(h.maxDirect) || h.maxDirect < h.startBlock ||
		h.maxHeapBits < 1 || h.maxHeapBits > 64 || h.idLen < 2 || h.idLen > 64 || h.rootRows > 64 {
		return nil, fmt.Errorf("fractal heap at %d: inconsistent header", addr)
	}
	h.offSize = (h.maxHeapBits + 7) / 8
	h.lenSize = min((log2Floor(h.maxDirect)+7)/8, (log2Floor(h.maxManaged)+7)/8)
	h.maxDirectRows = uint64(log2Floor(h.maxDirect)-log2Floor(h.startBlock)) + 2
	h.firstRowBits = log2Floor(h.startBlock) + log2Floor(h.width)
	if h.firstRowBits > 62 {
		return nil, fmt.Errorf("fractal heap at %d: inconsistent header", addr)
	}
	return h, nil
}

// rowSize is the size of the blocks in row r of the doubling table.
func (h *fractalHeap) rowSize(r uint64) uint64 {
	if r == 0 {
		return h.startBlock
	}
	if r-1 >= 63-uint64(log2Floor(h.startBlock)) {
		return undef
	}
	return h.startBlock << (r - 1)
}

// rowOffset is the heap offset (relative to its indirect block) of row r:
// startBlock*width*2^(r-1) for r >= 1.
func (h *fractalHeap) rowOffset(r uint64) uint64 {
	if r == 0 {
		return 0
	}
	if uint64(h.firstRowBits)+r-1 >= 64 {
		return undef
	}
	return uint64(1) << (uint64(h.firstRowBits) + r - 1)
}

// get returns the object whose heap ID is id.
func (h *fractalHeap) get(id []byte) ([]byte, error) {
	if len(id) < 1 {
		return nil, errors.New("empty heap ID")
	}
	if id[0]>>6 != 0 {
		return nil, fmt.Errorf("heap ID version %d not supported", id[0]>>6)
	}
	switch (id[0] >> 4) & 3 {
	case 0: // managed
		d := &decoder{b: id[1:]}
		off := d.uintN(h.offSize)
		n := d.uintN(h.lenSize)
		if d.err != nil {
			return nil, fmt.Errorf("heap ID: %w", d.err)
		}
		return h.managed(off, n)
	case 2: // tiny: stored in the ID itself
		if h.idLen <= 18 {
			n := int(id[0]&0x0f) + 1
			if 1+n > len(id) {
				return nil, errors.New("tiny heap object longer than its ID")
			}
			return id[1 : 1+n], nil
		}
		if len(id) < 2 {
			return nil, errShort
		}
		n := (int(id[0]&0x0f)<<8 | int(id[1])) + 1
		if 2+n > len(id) {
			return nil, errors.New("tiny heap object longer than its ID")
		}
		return id[2 : 2+n], nil
	case 1:
		return nil, errors.New("huge fractal heap objects not supported")
	}
	return nil, errors.New("unknown heap ID type")
}

// managed locates the object at heap offset off, n bytes long, by walking
// the doubling table from the root.
func (h *fractalHeap) managed(off, n uint64) ([]byte, error) {
	if h.rootAddr == undef {
		return nil, errors.New("object in an empty heap")
	}
	if h.rootRows == 0 { // the root is a direct block
		return h.fromDirect(h.rootAddr, h.startBlock, off, n)
	}
	iblock, rows := h.rootAddr, h.rootRows
	for depth := 0; depth < maxDepth; depth++ {
		var row, col uint64
		if first := h.startBlock * h.width; off < first {
			row, col = 0, off/h.startBlock
		} else {
			high := log2Floor(off)
			row = uint64(high-h.firstRowBits) + 1
			col = (off - uint64(1)<<high) / h.rowSize(row)
		}
		if row >= rows || col >= h.width {
			return nil, fmt.Errorf("heap offset %d outside indirect block at %d", off, iblock)
		}
		entry, err := h.iblockEntry(iblock, rows, row*h.width+col)
		if err != nil {
			return nil, err
		}
		start := h.rowOffset(row) + col*h.rowSize(row)
		if row < h.maxDirectRows {
			return h.fromDirect(entry, h.rowSize(row), off-start, n)
		}
		// A child indirect block covering [start, start+rowSize).
		iblock = entry
		rows = uint64(log2Floor(h.rowSize(row))-h.firstRowBits) + 1
		off -= start
	}
	return nil, fmt.Errorf("fractal heap deeper than %d", maxDepth)
}

// iblockEntry reads entry i of the indirect block at addr with rows rows.
func (h *fractalHeap) iblockEntry(addr, rows, i uint64) (uint64, error) {
	f := h.f
	prefix := uint64(4 + 1 + f.sizeO + h.offSize)
	b, err := f.readAt(addr, prefix+(i+1)*uint64(f.sizeO))
	if err != nil {
		return 0, fmt.Errorf("fractal heap indirect block at %d: %w", addr, err)
	}
	d := f.dec(b)
	if err := d.sig("FHIB"); err != nil {
		return 0, fmt.Errorf("fractal heap indirect block at %d: %w", addr, err)
	}
	d.skip(int(prefix - 4 + i*uint64(f.sizeO)))
	a := d.addr()
	if d.err != nil {
		return 0, fmt.Errorf("fractal heap indirect block at %d: %w", addr, d.err)
	}
	if a == undef {
		return 0, fmt.Errorf("fractal heap indirect block at %d: entry %d not allocated", addr, i)
	}
	return a, nil
}

// fromDirect returns n bytes at offset off of the direct block at addr.
func (h *fractalHeap) fromDirect(addr, size, off, n uint64) ([]byte, error) {
	blk, ok := h.blocks[addr]
	if !ok {
		var err error
		blk, err = h.f.readAt(addr, size)
		if err != nil {
			return nil, fmt.Errorf("fractal heap direct block at %d: %w", addr, err)
		}
		if string(blk[:min(4, len(blk))]) != "FHDB" {
			return nil, fmt.Errorf("fractal heap direct block at %d: bad signature", addr)
		}
		h.blocks[addr] = blk
	}
	hdr := uint64(5 + h.f.sizeO + h.offSize)
	if h.checksummed {
		hdr += 4
	}
	if off < hdr || off > uint64(len(blk)) || n > uint64(len(blk))-off {
		return nil, fmt.Errorf("heap object (offset %d, %d bytes) outside direct block at %d", off, n, addr)
	}
	return blk[off : off+n], nil
}

// btree2 is a version 2 B-tree header.
type btree2 struct {
	f        *File
	typ      uint8
	nodeSize uint64
	recSize  int
	depth    int
	root     uint64
	rootN    uint64
	maxNrec  []uint64 // per depth
	cumSize  []int    // bytes of "total records" per depth
	nrecSize int      // bytes of "records in child"
}

func (f *File) openBTree2(addr uint64, typ uint8) (*btree2, error) {
	b, err := f.readMeta(addr, uint64(4+1+1+4+2+2+1+1+f.sizeO+2+f.sizeL+4))
	if err != nil {
		return nil, fmt.Errorf("v2 B-tree at %d: %w", addr, err)
	}
	d := f.dec(b)
	if err := d.sig("BTHD"); err != nil {
		return nil, fmt.Errorf("v2 B-tree at %d: %w", addr, err)
	}
	t := &btree2{f: f}
	if v := d.u8(); v != 0 {
		return nil, fmt.Errorf("v2 B-tree at %d: version %d not supported", addr, v)
	}
	t.typ = d.u8()
	t.nodeSize = uint64(d.u32())
	t.recSize = int(d.u16())
	t.depth = int(d.u16())
	d.skip(2) // split and merge percents
	t.root = d.addr()
	t.rootN = uint64(d.u16())
	if d.err != nil {
		return nil, fmt.Errorf("v2 B-tree at %d: %w", addr, d.err)
	}
	if t.typ != typ {
		return nil, fmt.Errorf("v2 B-tree at %d has type %d, want %d", addr, t.typ, typ)
	}
	if t.recSize == 0 || t.nodeSize < 10+uint64(t.recSize) || t.nodeSize > 1<<24 || t.depth > maxDepth {
		return nil, fmt.Errorf("v2 B-tree at %d: inconsistent header", addr)
	}
	// Node capacities, as libhdf5 computes them (H5B2__hdr_init).
	const prefix = 10 // signature, version, type, checksum
	t.maxNrec = make([]uint64, t.depth+1)
	cum := make([]uint64, t.depth+1)
	t.cumSize = make([]int, t.depth+1)
	t.maxNrec[0] = (t.nodeSize - prefix) / uint64(t.recSize)
	cum[0] = t.maxNrec[0]
	t.nrecSize = log2Floor(t.maxNrec[0])/8 + 1
	for u := 1; u <= t.depth; u++ {
		ptr := uint64(f.sizeO + t.nrecSize)
		if u > 1 {
			ptr += uint64(t.cumSize[u-1])
		}
		if t.nodeSize < prefix+ptr {
			return nil, fmt.Errorf("v2 B-tree at %d: nodes too small for depth %d", addr, t.depth)
		}
		t.maxNrec[u] = (t.nodeSize - (prefix + ptr)) / (uint64(t.recSize) + ptr)
		c, ok := mulOK(t.maxNrec[u]+1, cum[u-1], undef/2)
		if !ok {
			c = undef / 2
		}
		cum[u] = c + t.maxNrec[u]
		t.cumSize[u] = log2Floor(cum[u])/8 + 1
	}
	return t, nil
}

// walk calls visit with every record of the tree.
func (t *btree2) walk(visit func(rec []byte) error) error {
	if t.root == undef || t.rootN == 0 {
		return nil
	}
	seen := map[uint64]bool{}
	var node func(addr, nrec uint64, depth int) error
	node = func(addr, nrec uint64, depth int) error {
		if seen[addr] {
			return fmt.Errorf("v2 B-tree node at %d visited twice (a cycle)", addr)
		}
		seen[addr] = true
		if nrec > t.maxNrec[depth] {
			return fmt.Errorf("v2 B-tree node at %d: %d records, at most %d fit", addr, nrec, t.maxNrec[depth])
		}
		b, err := t.f.readMeta(addr, t.nodeSize)
		if err != nil {
			return fmt.Errorf("v2 B-tree node at %d: %w", addr, err)
		}
		d := t.f.dec(b)
		want := "BTLF"
		if depth > 0 {
			want = "BTIN"
		}
		if err := d.sig(want); err != nil {
			return fmt.Errorf("v2 B-tree node at %d: %w", addr, err)
		}
		d.skip(2) // version, type
		recs := d.bytes(int(nrec) * t.recSize)
		type child struct{ addr, n uint64 }
		var children []child
		if depth > 0 {
			children = make([]child, nrec+1)
			for i := range children {
				children[i].addr = d.addr()
				children[i].n = d.uintN(t.nrecSize)
				if depth > 1 {
					d.skip(t.cumSize[depth-1])
				}
			}
		}
		if d.err != nil {
			return fmt.Errorf("v2 B-tree node at %d: %w", addr, d.err)
		}
		for i := 0; i < int(nrec); i++ {
			if err := visit(recs[i*t.recSize : (i+1)*t.recSize]); err != nil {
				return err
			}
		}
		for _, c := range children {
			if err := node(c.addr, c.n, depth-1); err != nil {
				return err
			}
		}
		return nil
	}
	return node(t.root, t.rootN, t.depth)
}

// denseLinks lists the links of a group stored in a fractal heap indexed by
// a v2 B-tree of link names.
func (f *File) denseLinks(heapAddr, indexAddr uint64) ([]link, error) {
	h, err := f.openFractalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	t, err := f.openBTree2(indexAddr, 5)
	if err != nil {
		return nil, err
	}
	var links []link
	err = t.walk(func(rec []byte) error {
		if len(rec) < 4+h.idLen {
			return errors.New("link name record shorter than a heap ID")
		}
		obj, err := h.get(rec[4 : 4+h.idLen])
		if err != nil {
			return err
		}
		l, ok, err := f.parseLink(obj)
		if err != nil {
			return err
		}
		if ok {
			links = append(links, l)
		}
		if len(links) > maxLinks {
			return fmt.Errorf("more than %d links", maxLinks)
		}
		return nil
	})
	return links, err
}

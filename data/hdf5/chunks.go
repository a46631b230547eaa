package hdf5

import (
	"errors"
	"fmt"
)

// chunkRef locates one stored chunk.
type chunkRef struct {
	scaled []uint64 // chunk coordinates: element offset / chunk dimension
	addr   uint64
	size   uint64 // bytes stored
	mask   uint32 // bit i set: filter i was not applied
}

// geometry is the chunk grid of a chunked dataset.
type geometry struct {
	rank       int
	dims       []uint64
	chunk      []uint64
	grid       []uint64 // chunks per dimension over dims
	nchunks    uint64   // product of grid
	chunkBytes uint64
	elemSize   uint64
	lo, hi     uint64 // the row window read: dimension 0 in [lo, hi); hi == 0: all
}

// windowChunks returns the first and last chunk coordinates in dimension 0
// that overlap the row window (the whole grid when hi is 0), and whether
// there are any.
func (g *geometry) windowChunks() (first, last uint64, ok bool) {
	if g.hi == 0 {
		return 0, g.grid[0] - 1, g.grid[0] > 0
	}
	if g.lo >= g.hi {
		return 0, 0, false
	}
	return g.lo / g.chunk[0], (g.hi - 1) / g.chunk[0], true
}

// chunkSet collects chunk references, dropping chunks outside the dataset's
// current extent (left by a shrink) and those of rows outside the window
// read (so that memory follows the window, not the dataset), and rejecting
// duplicates.
type chunkSet struct {
	g           *geometry
	first, last uint64 // chunk rows kept: scaled[0] in [first, last]
	chunks      []chunkRef
	seen        map[uint64]bool
}

func (s *chunkSet) add(scaled []uint64, addr, size uint64, mask uint32) error {
	if addr == undef {
		return nil // never written
	}
	var lin uint64
	for d, c := range scaled {
		if c >= s.g.grid[d] {
			return nil
		}
		lin = lin*s.g.grid[d] + c
	}
	if len(scaled) > 0 && (scaled[0] < s.first || scaled[0] > s.last) {
		return nil
	}
	if s.seen[lin] {
		return fmt.Errorf("chunk %v indexed twice", scaled)
	}
	s.seen[lin] = true
	s.chunks = append(s.chunks, chunkRef{scaled: append([]uint64(nil), scaled...), addr: addr, size: size, mask: mask})
	return nil
}

// addLinear adds the chunk with linear index i in grid (row-major; the first
// dimension may be unbounded). unlim >= 0 names the dataset dimension that
// was swizzled to the front (extensible array).
func (s *chunkSet) addLinear(i uint64, grid []uint64, unlim int, addr, size uint64, mask uint32) error {
	if addr == undef {
		return nil
	}
	c := make([]uint64, len(grid))
	for d := len(grid) - 1; d >= 1; d-- {
		if grid[d] == 0 {
			return errors.New("empty chunk grid")
		}
		c[d] = i % grid[d]
		i /= grid[d]
	}
	c[0] = i
	if unlim > 0 { // undo the swizzle: move coordinate 0 back to unlim
		u := c[0]
		copy(c, c[1:unlim+1])
		c[unlim] = u
	}
	return s.add(c, addr, size, mask)
}

// maxGrid is the chunk grid over the maximum dimensions, as libhdf5 uses to
// number chunks in implicit, fixed-array and extensible-array indexes; an
// unlimited dimension gives 0.
func (ds *dataset) maxGrid(g *geometry) []uint64 {
	mg := make([]uint64, g.rank)
	for d := range mg {
		m := g.dims[d]
		if ds.maxdims != nil {
			m = ds.maxdims[d]
		}
		if m == undef {
			continue
		}
		mg[d] = m/g.chunk[d] + min(m%g.chunk[d], 1)
	}
	return mg
}

// chunkList returns the dataset's stored chunks that overlap the row window
// of g.
func (f *File) chunkList(ds *dataset, g *geometry) ([]chunkRef, error) {
	first, last, ok := g.windowChunks()
	if !ok {
		return nil, nil
	}
	s := &chunkSet{g: g, first: first, last: last, seen: map[uint64]bool{}}
	l := &ds.layout
	var err error
	switch l.index {
	case idxBTree1:
		err = f.btree1Chunks(l.addr, g, s)
	case idxSingle:
		size, mask := g.chunkBytes, uint32(0)
		if l.flags&2 != 0 {
			size, mask = l.singleSize, l.singleMask
		}
		err = s.add(make([]uint64, g.rank), l.addr, size, mask)
	case idxImplicit:
		err = f.implicitChunks(ds, g, s)
	case idxFixed:
		err = f.fixedArrayChunks(ds, g, s)
	case idxExtensib:
		err = f.extArrayChunks(ds, g, s)
	case idxBTree2:
		err = f.btree2Chunks(l.addr, ds, g, s)
	default:
		err = fmt.Errorf("chunk index type %d not supported", l.index)
	}
	if err != nil {
		name := "chunk index"
		if l.index < len(indexNames) {
			name = indexNames[l.index] + " chunk index"
		}
		return nil, fmt.Errorf("%s at %d: %w", name, l.addr, err)
	}
	return s.chunks, nil
}

func (f *File) btree1Chunks(addr uint64, g *geometry, s *chunkSet) error {
	keySize := 8 + 8*(g.rank+1)
	scaled := make([]uint64, g.rank)
	return f.walkBTree1(addr, 1, keySize, func(child uint64, key []byte) error {
		d := f.dec(key)
		size := uint64(d.u32())
		mask := d.u32()
		for i := range scaled {
			off := d.u64()
			if off%g.chunk[i] != 0 {
				return fmt.Errorf("chunk at %d: offset %d not a multiple of the chunk dimension %d", child, off, g.chunk[i])
			}
			scaled[i] = off / g.chunk[i]
		}
		return s.add(scaled, child, size, mask)
	})
}

// implicitChunks: chunks stored back to back in the order of the grid over
// the maximum dimensions, all allocated.
func (f *File) implicitChunks(ds *dataset, g *geometry, s *chunkSet) error {
	if ds.layout.addr == undef {
		return nil
	}
	mg := ds.maxGrid(g)
	for _, m := range mg {
		if m == 0 {
			return errors.New("implicit index with an unlimited dimension")
		}
	}
	if len(ds.filters) > 0 {
		return errors.New("implicit index with filters")
	}
	scaled := make([]uint64, g.rank)
	for n := uint64(0); n < g.nchunks; n++ {
		var idx uint64
		for d := range scaled {
			idx = idx*mg[d] + scaled[d]
		}
		off, ok := mulOK(idx, g.chunkBytes, uint64(f.size))
		if !ok || ds.layout.addr > uint64(f.size)-off {
			return fmt.Errorf("chunk %v beyond the end of the file", scaled)
		}
		if err := s.add(scaled, ds.layout.addr+off, g.chunkBytes, 0); err != nil {
			return err
		}
		for d := g.rank - 1; d >= 0; d-- { // next coordinate in the current grid
			if scaled[d]++; scaled[d] < g.grid[d] {
				break
			}
			scaled[d] = 0
		}
	}
	return nil
}

// chunkElement decodes one chunk address element of a fixed or extensible
// array: the address, and for filtered chunks the stored size and mask.
func chunkElement(d *decoder, filtered bool, sizeLen int) (addr, size uint64, mask uint32) {
	addr = d.addr()
	if filtered {
		size = d.uintN(sizeLen)
		mask = d.u32()
	}
	return
}

// elementFormat checks an array's element size: an address, plus for
// filtered chunks a size and a 4-byte filter mask.
func (f *File) elementFormat(client, elemSize uint8) (filtered bool, sizeLen int, err error) {
	switch client {
	case 0:
		if int(elemSize) != f.sizeO {
			return false, 0, fmt.Errorf("element size %d for unfiltered chunks", elemSize)
		}
		return false, 0, nil
	case 1:
		sizeLen = int(elemSize) - f.sizeO - 4
		if sizeLen < 1 || sizeLen > 8 {
			return false, 0, fmt.Errorf("element size %d for filtered chunks", elemSize)
		}
		return true, sizeLen, nil
	}
	return false, 0, fmt.Errorf("client ID %d not supported", client)
}

func (f *File) fixedArrayChunks(ds *dataset, g *geometry, s *chunkSet) error {
	addr := ds.layout.addr
	if addr == undef {
		return nil
	}
	b, err := f.readMeta(addr, uint64(8+f.sizeL+f.sizeO+4))
	if err != nil {
		return err
	}
	d := f.dec(b)
	if err := d.sig("FAHD"); err != nil {
		return err
	}
	if v := d.u8(); v != 0 {
		return fmt.Errorf("version %d not supported", v)
	}
	client, elemSize, pageBits := d.u8(), d.u8(), d.u8()
	nelmts := d.length()
	dblk := d.addr()
	if d.err != nil {
		return d.err
	}
	filtered, sizeLen, err := f.elementFormat(client, elemSize)
	if err != nil {
		return err
	}
	mg := ds.maxGrid(g)
	for _, m := range mg {
		if m == 0 {
			return errors.New("fixed array index with an unlimited dimension")
		}
	}
	if dblk == undef || nelmts == 0 {
		return nil
	}
	es := uint64(elemSize)
	total, ok := mulOK(nelmts, es, uint64(f.size))
	if !ok {
		return fmt.Errorf("%d elements do not fit in the file", nelmts)
	}
	prefix := uint64(4 + 1 + 1 + f.sizeO)
	pageN := uint64(1) << min(pageBits, 63)
	if pageBits == 0 || nelmts <= pageN {
		b, err := f.readAt(dblk, prefix+total)
		if err != nil {
			return fmt.Errorf("data block at %d: %w", dblk, err)
		}
		if string(b[:4]) != "FADB" {
			return fmt.Errorf("data block at %d: bad signature", dblk)
		}
		d := f.dec(b[prefix:])
		for i := uint64(0); i < nelmts; i++ {
			a, size, mask := chunkElement(d, filtered, sizeLen)
			if !filtered {
				size = g.chunkBytes
			}
			if err := s.addLinear(i, mg, -1, a, size, mask); err != nil {
				return err
			}
		}
		return d.err
	}
	// Paged: a bitmap of initialized pages, then the pages, each with a
	// checksum.
	npages := (nelmts + pageN - 1) / pageN
	bitmapLen := (npages + 7) / 8
	b, err = f.readAt(dblk, prefix+bitmapLen)
	if err != nil {
		return fmt.Errorf("data block at %d: %w", dblk, err)
	}
	if string(b[:4]) != "FADB" {
		return fmt.Errorf("data block at %d: bad signature", dblk)
	}
	bitmap := b[prefix:]
	pagesAt := dblk + prefix + bitmapLen + 4
	pageSize := pageN*es + 4
	for p := uint64(0); p < npages; p++ {
		if bitmap[p/8]&(0x80>>(p%8)) == 0 {
			continue
		}
		n := min(pageN, nelmts-p*pageN)
		pb, err := f.readAt(pagesAt+p*pageSize, n*es)
		if err != nil {
			return fmt.Errorf("data block page %d: %w", p, err)
		}
		d := f.dec(pb)
		for i := uint64(0); i < n; i++ {
			a, size, mask := chunkElement(d, filtered, sizeLen)
			if !filtered {
				size = g.chunkBytes
			}
			if err := s.addLinear(p*pageN+i, mg, -1, a, size, mask); err != nil {
				return err
			}
		}
		if d.err != nil {
			return d.err
		}
	}
	return nil
}

func (f *File) extArrayChunks(ds *dataset, g *geometry, s *chunkSet) error {
	addr := ds.layout.addr
	if addr == undef {
		return nil
	}
	b, err := f.readMeta(addr, uint64(12+6*f.sizeL+f.sizeO+4))
	if err != nil {
		return err
	}
	d := f.dec(b)
	if err := d.sig("EAHD"); err != nil {
		return err
	}
	if v := d.u8(); v != 0 {
		return fmt.Errorf("version %d not supported", v)
	}
	client, elemSize := d.u8(), d.u8()
	maxBits, idxElmts, minElmts, minPtrs, pageBits := d.u8(), uint64(d.u8()), uint64(d.u8()), uint64(d.u8()), d.u8()
	for i := 0; i < 4; i++ {
		d.length() // super and data block counts and sizes
	}
	maxIdx := d.length() // one past the highest index set
	d.length()           // elements realized
	iblock := d.addr()
	if d.err != nil {
		return d.err
	}
	filtered, sizeLen, err := f.elementFormat(client, elemSize)
	if err != nil {
		return err
	}
	if !isPow2(minElmts) || !isPow2(minPtrs) || maxBits == 0 || maxBits > 64 || log2Floor(minElmts) > int(maxBits) || pageBits > 63 {
		return errors.New("inconsistent header")
	}
	// The unlimited dimension is numbered first (swizzled).
	mg := ds.maxGrid(g)
	unlim := -1
	for dim, m := range mg {
		if m == 0 {
			if unlim >= 0 {
				return errors.New("extensible array index with two unlimited dimensions")
			}
			unlim = dim
		}
	}
	if unlim < 0 {
		return errors.New("extensible array index without an unlimited dimension")
	}
	swz := append([]uint64{mg[unlim]}, mg[:unlim]...)
	swz = append(swz, mg[unlim+1:]...)
	if iblock == undef {
		return nil
	}
	es := uint64(elemSize)
	pageN := uint64(1) << pageBits
	arrOff := (int(maxBits) + 7) / 8

	// Super block geometry (H5EA__hdr_init).
	type sblkInfo struct{ ndblks, dblkNelmts, startIdx, startDblk uint64 }
	nsblks := 1 + int(maxBits) - log2Floor(minElmts)
	info := make([]sblkInfo, nsblks)
	var startIdx, startDblk uint64
	for u := range info {
		info[u] = sblkInfo{ndblks: 1 << (u / 2), dblkNelmts: minElmts << ((u + 1) / 2), startIdx: startIdx, startDblk: startDblk}
		if info[u].dblkNelmts < minElmts { // shifted out
			info[u].dblkNelmts = undef
		}
		n, ok := mulOK(info[u].ndblks, info[u].dblkNelmts, undef/4)
		if !ok || startIdx > undef/4 {
			startIdx = undef / 2
		} else {
			startIdx += n
		}
		startDblk += info[u].ndblks
	}

	element := func(d *decoder, idx uint64) error {
		a, size, mask := chunkElement(d, filtered, sizeLen)
		if !filtered {
			size = g.chunkBytes
		}
		if idx >= maxIdx {
			return nil
		}
		return s.addLinear(idx, swz, unlim, a, size, mask)
	}
	// dataBlock reads the n elements of the data block at a, numbered from base.
	dataBlock := func(a, base, n uint64, pageInit []byte) error {
		if a == undef || base >= maxIdx {
			return nil
		}
		prefix := uint64(4 + 1 + 1 + f.sizeO + arrOff)
		if n <= pageN {
			total, ok := mulOK(n, es, uint64(f.size))
			if !ok {
				return fmt.Errorf("data block at %d too large", a)
			}
			b, err := f.readAt(a, prefix+total)
			if err != nil {
				return fmt.Errorf("data block at %d: %w", a, err)
			}
			if string(b[:4]) != "EADB" {
				return fmt.Errorf("data block at %d: bad signature", a)
			}
			d := f.dec(b[prefix:])
			for i := uint64(0); i < n && d.err == nil; i++ {
				if err := element(d, base+i); err != nil {
					return err
				}
			}
			return d.err
		}
		npages := n / pageN
		pageSize := pageN*es + 4
		for p := uint64(0); p < npages; p++ {
			if pageInit != nil && (p/8 >= uint64(len(pageInit)) || pageInit[p/8]&(0x80>>(p%8)) == 0) {
				continue
			}
			if base+p*pageN >= maxIdx {
				break
			}
			pb, err := f.readAt(a+prefix+4+p*pageSize, pageN*es)
			if err != nil {
				return fmt.Errorf("data block at %d, page %d: %w", a, p, err)
			}
			d := f.dec(pb)
			for i := uint64(0); i < pageN && d.err == nil; i++ {
				if err := element(d, base+p*pageN+i); err != nil {
					return err
				}
			}
			if d.err != nil {
				return d.err
			}
		}
		return nil
	}

	// Index block: elements, data block addresses, super block addresses.
	ibNsblks := 2 * log2Floor(minPtrs)
	ndblkAddrs := 2 * (minPtrs - 1)
	if ibNsblks > nsblks {
		ibNsblks = nsblks
	}
	nsblkAddrs := uint64(nsblks - ibNsblks)
	ibSize := uint64(4+1+1+f.sizeO) + idxElmts*es + (ndblkAddrs+nsblkAddrs)*uint64(f.sizeO)
	b, err = f.readAt(iblock, ibSize)
	if err != nil {
		return fmt.Errorf("index block at %d: %w", iblock, err)
	}
	d = f.dec(b)
	if err := d.sig("EAIB"); err != nil {
		return fmt.Errorf("index block at %d: %w", iblock, err)
	}
	d.skip(2 + f.sizeO)
	for i := uint64(0); i < idxElmts; i++ {
		if err := element(d, i); err != nil {
			return err
		}
	}
	dblks := make([]uint64, ndblkAddrs)
	for i := range dblks {
		dblks[i] = d.addr()
	}
	sblks := make([]uint64, nsblkAddrs)
	for i := range sblks {
		sblks[i] = d.addr()
	}
	if d.err != nil {
		return fmt.Errorf("index block at %d: %w", iblock, d.err)
	}
	u := 0
	for j, a := range dblks {
		for u < ibNsblks && uint64(j) >= info[u].startDblk+info[u].ndblks {
			u++
		}
		if u >= ibNsblks {
			break
		}
		k := uint64(j) - info[u].startDblk
		base := idxElmts + info[u].startIdx + k*info[u].dblkNelmts
		if err := dataBlock(a, base, info[u].dblkNelmts, nil); err != nil {
			return err
		}
	}
	for i, a := range sblks {
		u := ibNsblks + i
		in := info[u]
		if a == undef || idxElmts+in.startIdx >= maxIdx {
			continue
		}
		var bitmapLen uint64
		if in.dblkNelmts > pageN {
			n, ok := mulOK(in.ndblks, (in.dblkNelmts/pageN+7)/8, uint64(f.size))
			if !ok {
				return fmt.Errorf("secondary block at %d too large", a)
			}
			bitmapLen = n
		}
		addrs, ok := mulOK(in.ndblks, uint64(f.sizeO), uint64(f.size))
		if !ok {
			return fmt.Errorf("secondary block at %d too large", a)
		}
		b, err := f.readAt(a, uint64(4+1+1+f.sizeO+arrOff)+bitmapLen+addrs)
		if err != nil {
			return fmt.Errorf("secondary block at %d: %w", a, err)
		}
		d := f.dec(b)
		if err := d.sig("EASB"); err != nil {
			return fmt.Errorf("secondary block at %d: %w", a, err)
		}
		d.skip(2 + f.sizeO + arrOff)
		bitmap := d.bytes(int(bitmapLen))
		per := bitmapLen / max(in.ndblks, 1)
		for k := uint64(0); k < in.ndblks && d.err == nil; k++ {
			da := d.addr()
			var pageInit []byte
			if bitmapLen > 0 {
				pageInit = bitmap[k*per : (k+1)*per]
			}
			if err := dataBlock(da, idxElmts+in.startIdx+k*in.dblkNelmts, in.dblkNelmts, pageInit); err != nil {
				return err
			}
		}
		if d.err != nil {
			return fmt.Errorf("secondary block at %d: %w", a, d.err)
		}
	}
	return nil
}

func (f *File) btree2Chunks(addr uint64, ds *dataset, g *geometry, s *chunkSet) error {
	b, err := f.readMeta(addr, 6)
	if err != nil {
		return err
	}
	typ := uint8(10)
	if len(b) == 6 && b[5] == 11 {
		typ = 11
	}
	t, err := f.openBTree2(addr, typ)
	if err != nil {
		return err
	}
	sizeLen := 0
	fixed := f.sizeO + 8*g.rank
	if typ == 11 {
		sizeLen = t.recSize - fixed - 4
		if sizeLen < 1 || sizeLen > 8 {
			return fmt.Errorf("record size %d for a filtered dataset of rank %d", t.recSize, g.rank)
		}
	} else if t.recSize != fixed {
		return fmt.Errorf("record size %d for a dataset of rank %d", t.recSize, g.rank)
	}
	scaled := make([]uint64, g.rank)
	return t.walk(func(rec []byte) error {
		d := f.dec(rec)
		a, size, mask := chunkElement(d, typ == 11, sizeLen)
		if typ == 10 {
			size = g.chunkBytes
		}
		for i := range scaled {
			scaled[i] = d.u64()
		}
		if d.err != nil {
			return d.err
		}
		return s.add(scaled, a, size, mask)
	})
}

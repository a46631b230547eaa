package hdf5

import (
	"fmt"
)

// walker walks the group tree from the root, recording every dataset.
type walker struct {
	f      *File
	groups map[uint64]bool // group object headers already walked
	links  int
}

// maxLinks caps the links followed in one file.
const maxLinks = 1 << 20

type link struct {
	name string
	addr uint64
}

// group walks the group whose object header is at addr; prefix is its path
// ("" for the root, else "a/b/").
func (w *walker) group(addr uint64, prefix string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("group %q: nested more than %d deep", prefix, maxDepth)
	}
	w.groups[addr] = true
	msgs, err := w.f.objectHeader(addr)
	if err != nil {
		return groupErr(prefix, err)
	}
	links, err := w.f.groupLinks(msgs)
	if err != nil {
		return groupErr(prefix, err)
	}
	for _, l := range links {
		if w.links++; w.links > maxLinks {
			return fmt.Errorf("more than %d links", maxLinks)
		}
		if err := w.object(l.addr, prefix+l.name, depth); err != nil {
			return err
		}
	}
	return nil
}

func groupErr(prefix string, err error) error {
	if prefix == "" {
		return fmt.Errorf("root group: %w", err)
	}
	return fmt.Errorf("group %q: %w", prefix[:len(prefix)-1], err)
}

// object classifies the object at addr: a dataset is recorded, a group
// walked, anything else (a committed datatype) ignored.
func (w *walker) object(addr uint64, path string, depth int) error {
	if w.groups[addr] {
		return nil // a group seen before (hard links may form cycles)
	}
	msgs, err := w.f.objectHeader(addr)
	if err != nil {
		return fmt.Errorf("object %q: %w", path, err)
	}
	if _, ok := find(msgs, msgLayout); ok {
		w.f.datasets[path] = w.f.newDataset(path, msgs)
		return nil
	}
	if isGroup(msgs) {
		return w.group(addr, path+"/", depth+1)
	}
	return nil
}

func isGroup(msgs []message) bool {
	for _, m := range msgs {
		switch m.typ {
		case msgSymbolTable, msgLinkInfo, msgLink:
			return true
		}
	}
	return false
}

// groupLinks lists the hard links of a group from its header messages.
func (f *File) groupLinks(msgs []message) ([]link, error) {
	var links []link
	if m, ok := find(msgs, msgSymbolTable); ok {
		d := f.dec(m.data)
		btree, heap := d.addr(), d.addr()
		if d.err != nil {
			return nil, fmt.Errorf("symbol table message: %w", d.err)
		}
		return f.symbolTableLinks(btree, heap)
	}
	for _, m := range msgs {
		if m.typ != msgLink {
			continue
		}
		l, ok, err := f.parseLink(m.data)
		if err != nil {
			return nil, err
		}
		if ok {
			links = append(links, l)
		}
	}
	if m, ok := find(msgs, msgLinkInfo); ok {
		d := f.dec(m.data)
		if v := d.u8(); v != 0 {
			return nil, fmt.Errorf("link info version %d not supported", v)
		}
		flags := d.u8()
		if flags&1 != 0 {
			d.skip(8) // maximum creation index
		}
		heap, nameIndex := d.addr(), d.addr()
		if d.err != nil {
			return nil, fmt.Errorf("link info: %w", d.err)
		}
		if heap != undef && nameIndex != undef {
			dense, err := f.denseLinks(heap, nameIndex)
			if err != nil {
				return nil, fmt.Errorf("dense links: %w", err)
			}
			links = append(links, dense...)
		}
	}
	return links, nil
}

// parseLink decodes a link message; ok is false for soft and external links.
func (f *File) parseLink(b []byte) (l link, ok bool, err error) {
	d := f.dec(b)
	if v := d.u8(); v != 1 {
		return l, false, fmt.Errorf("link message version %d not supported", v)
	}
	flags := d.u8()
	typ := uint8(0)
	if flags&0x08 != 0 {
		typ = d.u8()
	}
	if flags&0x04 != 0 {
		d.skip(8) // creation order
	}
	if flags&0x10 != 0 {
		d.skip(1) // character set
	}
	n := int(d.uintN(1 << (flags & 3)))
	name := d.bytes(n)
	if typ == 0 {
		l.addr = d.addr()
	}
	if d.err != nil {
		return l, false, fmt.Errorf("link message: %w", d.err)
	}
	if typ != 0 {
		return l, false, nil
	}
	l.name = string(name)
	return l, true, nil
}

// symbolTableLinks lists an old-style group: a v1 B-tree of symbol table
// nodes whose names live in a local heap.
func (f *File) symbolTableLinks(btree, heapAddr uint64) ([]link, error) {
	heap, err := f.localHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	var links []link
	err = f.walkBTree1(btree, 0, f.sizeL, func(child uint64, _ []byte) error {
		b, err := f.readMeta(child, 8)
		if err != nil {
			return fmt.Errorf("symbol table node at %d: %w", child, err)
		}
		d := f.dec(b)
		if err := d.sig("SNOD"); err != nil {
			return fmt.Errorf("symbol table node at %d: %w", child, err)
		}
		d.skip(2)
		n := uint64(d.u16())
		entry := uint64(2*f.sizeO + 24)
		b, err = f.readAt(child, 8+n*entry)
		if err != nil {
			return fmt.Errorf("symbol table node at %d: %w", child, err)
		}
		d = f.dec(b[8:])
		for i := uint64(0); i < n; i++ {
			nameOff := d.addr()
			addr := d.addr()
			d.skip(24) // cache type, reserved, scratch pad
			if d.err != nil {
				return fmt.Errorf("symbol table node at %d: %w", child, d.err)
			}
			if nameOff >= uint64(len(heap)) {
				return fmt.Errorf("symbol table node at %d: name offset %d outside the local heap (%d bytes)", child, nameOff, len(heap))
			}
			links = append(links, link{cstring(heap[nameOff:]), addr})
			if len(links) > maxLinks {
				return fmt.Errorf("more than %d links", maxLinks)
			}
		}
		return nil
	})
	return links, err
}

// localHeap returns the data segment of the local heap at addr.
func (f *File) localHeap(addr uint64) ([]byte, error) {
	b, err := f.readMeta(addr, uint64(8+2*f.sizeL+f.sizeO))
	if err != nil {
		return nil, fmt.Errorf("local heap at %d: %w", addr, err)
	}
	d := f.dec(b)
	if err := d.sig("HEAP"); err != nil {
		return nil, fmt.Errorf("local heap at %d: %w", addr, err)
	}
	d.skip(4) // version, reserved
	size := d.length()
	d.length() // free list
	data := d.addr()
	if d.err != nil {
		return nil, fmt.Errorf("local heap at %d: %w", addr, d.err)
	}
	seg, err := f.readAt(data, size)
	if err != nil {
		return nil, fmt.Errorf("local heap at %d: data segment: %w", addr, err)
	}
	return seg, nil
}

// walkBTree1 visits the children of the leaves of the version 1 B-tree of
// type typ (0 groups, 1 chunks) rooted at addr, with the key (of keySize
// bytes) before each.
func (f *File) walkBTree1(addr uint64, typ uint8, keySize int, visit func(child uint64, key []byte) error) error {
	if addr == undef {
		return nil // an empty tree
	}
	seen := map[uint64]bool{}
	var walk func(addr uint64, level int, depth int) error
	walk = func(addr uint64, wantLevel int, depth int) error {
		if depth > maxDepth {
			return fmt.Errorf("B-tree deeper than %d", maxDepth)
		}
		if seen[addr] {
			return fmt.Errorf("B-tree node at %d visited twice (a cycle)", addr)
		}
		seen[addr] = true
		hdr := uint64(8 + 2*f.sizeO)
		b, err := f.readMeta(addr, hdr)
		if err != nil {
			return fmt.Errorf("B-tree node at %d: %w", addr, err)
		}
		d := f.dec(b)
		if err := d.sig("TREE"); err != nil {
			return fmt.Errorf("B-tree node at %d: %w", addr, err)
		}
		if t := d.u8(); t != typ {
			return fmt.Errorf("B-tree node at %d has type %d, want %d", addr, t, typ)
		}
		level := int(d.u8())
		n := uint64(d.u16())
		if d.err != nil {
			return fmt.Errorf("B-tree node at %d: %w", addr, d.err)
		}
		if wantLevel >= 0 && level != wantLevel {
			return fmt.Errorf("B-tree node at %d has level %d, want %d", addr, level, wantLevel)
		}
		ks := uint64(keySize)
		b, err = f.readAt(addr, hdr+n*(ks+uint64(f.sizeO))+ks)
		if err != nil {
			return fmt.Errorf("B-tree node at %d with %d entries: %w", addr, n, err)
		}
		d = f.dec(b[hdr:])
		for i := uint64(0); i < n; i++ {
			key := d.bytes(int(ks))
			child := d.addr()
			if d.err != nil {
				return fmt.Errorf("B-tree node at %d: %w", addr, d.err)
			}
			if level > 0 {
				if err := walk(child, level-1, depth+1); err != nil {
					return err
				}
			} else if err := visit(child, key); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(addr, -1, 0)
}

package hdf5

import (
	"errors"
	"fmt"
	"strings"
)

// attribute is a decoded attribute message. err says why its datatype or
// dataspace could not be decoded; other attributes stay usable.
type attribute struct {
	name string
	dt   datatype
	dims []uint64
	data []byte
	err  error
}

func (f *File) parseAttribute(b []byte) (attribute, error) {
	var a attribute
	d := f.dec(b)
	version := d.u8()
	var flags uint8
	if version == 1 {
		d.skip(1)
	} else {
		flags = d.u8()
	}
	nameSize, dtSize, dsSize := int(d.u16()), int(d.u16()), int(d.u16())
	pad := func(n int) int { return n }
	switch version {
	case 1:
		pad = func(n int) int { return (n + 7) &^ 7 }
	case 2:
	case 3:
		d.skip(1) // name character set
	default:
		return a, fmt.Errorf("attribute message version %d not supported", version)
	}
	name := d.bytes(pad(nameSize))
	dtRaw := d.bytes(pad(dtSize))
	dsRaw := d.bytes(pad(dsSize))
	if d.err != nil {
		return a, fmt.Errorf("attribute message: %w", d.err)
	}
	a.name = cstring(name)
	a.data = d.b[d.p:]
	if flags&1 != 0 {
		a.dt, a.err = f.sharedDatatype(dtRaw, 0)
	} else {
		a.dt, _, a.err = parseDatatype(dtRaw)
	}
	if a.err != nil {
		return a, nil
	}
	if flags&2 != 0 {
		a.err = errors.New("shared dataspace not supported")
		return a, nil
	}
	space, err := f.parseDataspace(dsRaw)
	if err != nil {
		a.err = err
		return a, nil
	}
	a.dims = space.dims
	if space.null {
		a.dims = []uint64{0}
	}
	return a, nil
}

// rootAttributes lists the root group's attributes, compact and dense.
func (f *File) rootAttributes() ([]attribute, error) {
	msgs, err := f.objectHeader(f.root)
	if err != nil {
		return nil, fmt.Errorf("root group: %w", err)
	}
	var attrs []attribute
	for _, m := range msgs {
		if m.typ != msgAttribute {
			continue
		}
		if m.flags&msgFlagShared != 0 {
			return nil, errors.New("shared attribute messages not supported")
		}
		a, err := f.parseAttribute(m.data)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, a)
	}
	if m, ok := find(msgs, msgAttrInfo); ok {
		d := f.dec(m.data)
		if v := d.u8(); v != 0 {
			return nil, fmt.Errorf("attribute info version %d not supported", v)
		}
		if flags := d.u8(); flags&1 != 0 {
			d.skip(2) // maximum creation index
		}
		heap, nameIndex := d.addr(), d.addr()
		if d.err != nil {
			return nil, fmt.Errorf("attribute info: %w", d.err)
		}
		if heap != undef && nameIndex != undef {
			dense, err := f.denseAttributes(heap, nameIndex)
			if err != nil {
				return nil, fmt.Errorf("dense attributes: %w", err)
			}
			attrs = append(attrs, dense...)
		}
	}
	return attrs, nil
}

func (f *File) denseAttributes(heapAddr, indexAddr uint64) ([]attribute, error) {
	h, err := f.openFractalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	t, err := f.openBTree2(indexAddr, 8)
	if err != nil {
		return nil, err
	}
	var attrs []attribute
	err = t.walk(func(rec []byte) error {
		// Heap ID (8 bytes), message flags, creation order, name hash.
		if len(rec) < 9 {
			return errors.New("attribute name record too short")
		}
		if rec[8]&msgFlagShared != 0 {
			return errors.New("shared attribute messages not supported")
		}
		obj, err := h.get(rec[:min(8, h.idLen)])
		if err != nil {
			return err
		}
		a, err := f.parseAttribute(obj)
		if err != nil {
			return err
		}
		attrs = append(attrs, a)
		if len(attrs) > maxLinks {
			return fmt.Errorf("more than %d attributes", maxLinks)
		}
		return nil
	})
	return attrs, err
}

func (f *File) attrStrings(name string) ([]string, error) {
	attrs, err := f.rootAttributes()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, a := range attrs {
		if a.name == name {
			return f.decodeStrings(a)
		}
		names = append(names, a.name)
	}
	if len(names) == 0 {
		return nil, errors.New("no such root attribute: the root group has no attributes")
	}
	return nil, fmt.Errorf("no such root attribute (attributes: %s)", strings.Join(names, ", "))
}

func (f *File) decodeStrings(a attribute) ([]string, error) {
	if a.err != nil {
		return nil, a.err
	}
	n := uint64(1)
	for _, d := range a.dims {
		var ok bool
		if n, ok = mulOK(n, d, uint64(len(a.data))); !ok {
			return nil, fmt.Errorf("%v elements in %d bytes", a.dims, len(a.data))
		}
	}
	switch {
	case a.dt.class == classString:
		size := uint64(a.dt.size)
		if total, ok := mulOK(n, size, uint64(len(a.data))); !ok || total > uint64(len(a.data)) {
			return nil, fmt.Errorf("%d strings of %d bytes in %d bytes", n, size, len(a.data))
		}
		out := make([]string, n)
		for i := range out {
			out[i] = trimString(a.data[uint64(i)*size:uint64(i+1)*size], a.dt.strPad)
		}
		return out, nil
	case a.dt.class == classVlen && a.dt.vlenString:
		es := uint64(4 + f.sizeO + 4)
		if total, ok := mulOK(n, es, uint64(len(a.data))); !ok || total > uint64(len(a.data)) {
			return nil, fmt.Errorf("%d variable-length strings in %d bytes", n, len(a.data))
		}
		heaps := map[uint64]map[uint32][]byte{}
		out := make([]string, n)
		d := f.dec(a.data)
		for i := range out {
			length := uint64(d.u32())
			addr := d.addr()
			index := d.u32()
			if d.err != nil {
				return nil, d.err
			}
			if length == 0 {
				continue
			}
			objs, ok := heaps[addr]
			if !ok {
				var err error
				if objs, err = f.globalHeap(addr); err != nil {
					return nil, err
				}
				heaps[addr] = objs
			}
			obj, ok := objs[index]
			if !ok {
				return nil, fmt.Errorf("string %d: no object %d in the global heap at %d", i, index, addr)
			}
			if length > uint64(len(obj)) {
				return nil, fmt.Errorf("string %d: %d bytes in a heap object of %d", i, length, len(obj))
			}
			out[i] = string(obj[:length])
		}
		return out, nil
	}
	what := a.dt.unsupported
	if what == "" {
		what = a.dt.dtype.String()
	}
	return nil, fmt.Errorf("holds %s, not strings", what)
}

// trimString removes a fixed-length string's padding.
func trimString(b []byte, pad int) string {
	switch pad {
	case 0, 1: // NUL-terminated, NUL-padded
		return cstring(b)
	case 2:
		return strings.TrimRight(string(b), " ")
	}
	return string(b)
}

// globalHeap reads the objects of the global heap collection at addr.
func (f *File) globalHeap(addr uint64) (map[uint32][]byte, error) {
	b, err := f.readMeta(addr, uint64(8+f.sizeL))
	if err != nil {
		return nil, fmt.Errorf("global heap at %d: %w", addr, err)
	}
	d := f.dec(b)
	if err := d.sig("GCOL"); err != nil {
		return nil, fmt.Errorf("global heap at %d: %w", addr, err)
	}
	d.skip(4) // version, reserved
	size := d.length()
	if d.err != nil {
		return nil, fmt.Errorf("global heap at %d: %w", addr, d.err)
	}
	b, err = f.readAt(addr, size)
	if err != nil {
		return nil, fmt.Errorf("global heap at %d: %w", addr, err)
	}
	objs := map[uint32][]byte{}
	d = f.dec(b)
	d.skip(8 + f.sizeL)
	for d.err == nil && d.rest() >= 8+f.sizeL {
		index := d.u16()
		d.skip(6) // reference count, reserved
		n := d.length()
		if index == 0 { // free space: the end
			break
		}
		if n > uint64(d.rest()) {
			return nil, fmt.Errorf("global heap at %d: object %d of %d bytes overruns the collection", addr, index, n)
		}
		objs[uint32(index)] = d.bytes(int(n))
		if pad := int(n % 8); pad != 0 {
			d.skip(min(8-pad, d.rest()))
		}
	}
	return objs, nil
}

package hdf5

import (
	"encoding/binary"
	"errors"
	"fmt"

	"galaxy/data/array"
)

// Datatype classes.
const (
	classFixed    = 0
	classFloat    = 1
	classTime     = 2
	classString   = 3
	classBitfield = 4
	classOpaque   = 5
	classCompound = 6
	classRef      = 7
	classEnum     = 8
	classVlen     = 9
	classArray    = 10
	classComplex  = 11
)

var classNames = [...]string{"fixed-point", "floating-point", "time", "string", "bitfield", "opaque",
	"compound", "reference", "enumerated", "variable-length", "array", "complex"}

// datatype is a decoded datatype message. dtype is Invalid when the type
// cannot be read as a dataset; unsupported then says why.
type datatype struct {
	class       int
	size        uint32
	bigEndian   bool
	dtype       array.DType
	unsupported string

	// Strings: padding (0 NUL-terminated, 1 NUL-padded, 2 space-padded).
	strPad     int
	vlenString bool // variable-length string (class 9, type 1)
}

// parseDatatype decodes a datatype message and returns how many bytes it
// used.
func parseDatatype(b []byte) (datatype, int, error) {
	dt, n, err := parseDatatypeDepth(b, 0)
	if err != nil {
		return dt, n, fmt.Errorf("datatype: %w", err)
	}
	return dt, n, nil
}

func parseDatatypeDepth(b []byte, depth int) (datatype, int, error) {
	if depth > 8 {
		return datatype{}, 0, errors.New("nested too deeply")
	}
	d := &decoder{b: b}
	cv := d.u8()
	bf := [3]byte{d.u8(), d.u8(), d.u8()}
	size := d.u32()
	if d.err != nil {
		return datatype{}, 0, d.err
	}
	class, version := int(cv&0x0f), int(cv>>4)
	dt := datatype{class: class, size: size}
	if version < 1 || version > 5 {
		return dt, 0, fmt.Errorf("version %d not supported", version)
	}
	switch class {
	case classFixed:
		d.skip(4) // bit offset, precision
		dt.bigEndian = bf[0]&1 != 0
		signed := bf[0]&0x08 != 0
		switch {
		case size == 1 && signed:
			dt.dtype = array.Int8
		case size == 1:
			dt.dtype = array.Uint8
		case size == 2 && signed:
			dt.dtype = array.Int16
		case size == 2:
			dt.dtype = array.Uint16
		case size == 4 && signed:
			dt.dtype = array.Int32
		case size == 4:
			dt.dtype = array.Uint32
		case size == 8 && signed:
			dt.dtype = array.Int64
		case size == 8:
			dt.dtype = array.Uint64
		default:
			dt.unsupported = fmt.Sprintf("%d-byte integers", size)
		}
	case classFloat:
		d.skip(12) // bit offset, precision, exponent and mantissa layout, bias
		order := bf[0]&1 | (bf[0]>>5)&2
		switch order {
		case 0:
		case 1:
			dt.bigEndian = true
		default:
			dt.unsupported = "VAX byte order"
		}
		switch size {
		case 4:
			dt.dtype = array.Float32
		case 8:
			dt.dtype = array.Float64
		default:
			dt.unsupported = fmt.Sprintf("%d-byte floats", size)
		}
	case classString:
		dt.strPad = int(bf[0] & 0x0f)
		dt.unsupported = "strings"
	case classEnum:
		nmemb := int(binary.LittleEndian.Uint16(bf[:2]))
		base, n, err := parseDatatypeDepth(b[d.p:], depth+1)
		if err != nil {
			return dt, 0, fmt.Errorf("enumeration base: %w", err)
		}
		d.skip(n)
		if base.class != classFixed || base.dtype == array.Invalid {
			dt.unsupported = "enumeration of a non-integer type"
			break
		}
		dt.bigEndian, dt.dtype = base.bigEndian, base.dtype
		names := make([]string, 0, min(nmemb, 64))
		for i := 0; i < nmemb && d.err == nil; i++ {
			start := d.p
			for d.need(1) && d.b[d.p] != 0 {
				d.p++
			}
			name := string(d.b[start:d.p])
			d.skip(1)
			if version < 3 { // names padded to a multiple of 8 bytes
				if pad := (d.p - start) % 8; pad != 0 {
					d.skip(8 - pad)
				}
			}
			if len(names) < 64 {
				names = append(names, name)
			}
		}
		values := d.bytes(nmemb * int(base.size))
		// h5py stores bool as the enumeration FALSE = 0, TRUE = 1 of int8.
		if base.size == 1 && nmemb == 2 && d.err == nil && names[0] == "FALSE" && names[1] == "TRUE" &&
			values[0] == 0 && values[1] == 1 {
			dt.dtype = array.Bool
		}
	case classVlen:
		dt.vlenString = bf[0]&0x0f == 1
		dt.strPad = int(bf[0] >> 4)
		_, n, err := parseDatatypeDepth(b[d.p:], depth+1)
		if err != nil {
			return dt, 0, fmt.Errorf("variable-length base: %w", err)
		}
		d.skip(n)
		dt.unsupported = "variable-length data"
		if dt.vlenString {
			dt.unsupported = "variable-length strings"
		}
	default:
		name := fmt.Sprintf("class %d", class)
		if class < len(classNames) {
			name = classNames[class]
		}
		dt.unsupported = name + " data"
		// The rest of the message is not decoded; callers that need its
		// length (attributes) know it from elsewhere.
		return dt, len(b), d.err
	}
	if d.err != nil {
		return dt, 0, d.err
	}
	if dt.unsupported != "" {
		dt.dtype = array.Invalid
	}
	return dt, d.p, nil
}

// dataspace is a decoded dataspace message.
type dataspace struct {
	dims    []uint64
	maxdims []uint64 // nil when not stored (same as dims)
	null    bool
}

func (f *File) parseDataspace(b []byte) (dataspace, error) {
	d := f.dec(b)
	version := d.u8()
	rank := int(d.u8())
	flags := d.u8()
	var ds dataspace
	switch version {
	case 1:
		d.skip(5)
	case 2:
		switch d.u8() {
		case 0: // scalar
			rank = 0
		case 1:
		case 2:
			ds.null = true
			rank = 0
		default:
			return ds, errors.New("dataspace: unknown type")
		}
	default:
		return ds, fmt.Errorf("dataspace version %d not supported", version)
	}
	if rank > maxRank {
		return ds, fmt.Errorf("dataspace of rank %d", rank)
	}
	ds.dims = make([]uint64, rank)
	for i := range ds.dims {
		ds.dims[i] = d.length()
	}
	if flags&1 != 0 {
		ds.maxdims = make([]uint64, rank)
		for i := range ds.maxdims {
			ds.maxdims[i] = d.length() // undef = unlimited
		}
	}
	if d.err != nil {
		return ds, fmt.Errorf("dataspace: %w", d.err)
	}
	return ds, nil
}

// Layout classes.
const (
	layoutCompact    = 0
	layoutContiguous = 1
	layoutChunked    = 2
	layoutVirtual    = 3
)

// Chunk index types (layout message version 4; idxBTree1 for older ones).
const (
	idxBTree1   = 0
	idxSingle   = 1
	idxImplicit = 2
	idxFixed    = 3
	idxExtensib = 4
	idxBTree2   = 5
)

var indexNames = [...]string{"v1 B-tree", "single chunk", "implicit", "fixed array", "extensible array", "v2 B-tree"}

type layout struct {
	version  int
	class    int
	addr     uint64 // contiguous data, or the chunk index
	size     uint64 // contiguous: bytes stored
	compact  []byte
	chunk    []uint64 // chunk dimensions (dataset rank)
	elemSize uint64   // chunked: element size recorded in the layout
	index    int

	flags      uint8  // version 4 chunked
	singleSize uint64 // filtered single chunk: stored size
	singleMask uint32 // filtered single chunk: filter mask
	faPageBits uint8  // fixed array
	ea         eaParams
}

type eaParams struct {
	maxBits, idxElmts, minPtrs, minElmts, pageBits uint8
}

func (f *File) parseLayout(b []byte) (layout, error) {
	d := f.dec(b)
	var l layout
	l.version = int(d.u8())
	switch l.version {
	case 1, 2:
		ndims := int(d.u8())
		l.class = int(d.u8())
		d.skip(5)
		if l.class != layoutCompact {
			l.addr = d.addr()
		}
		if ndims < 1 || ndims > maxRank+1 {
			return l, fmt.Errorf("layout: %d dimensions", ndims)
		}
		dims := make([]uint64, ndims)
		for i := range dims {
			dims[i] = uint64(d.u32())
		}
		switch l.class {
		case layoutCompact:
			n := int(d.u32())
			l.compact = d.bytes(n)
		case layoutContiguous:
			l.size = undef // computed from the dataspace
		case layoutChunked:
			l.chunk = dims[:ndims-1]
			l.elemSize = dims[ndims-1]
			l.index = idxBTree1
		}
	case 3, 4, 5:
		l.class = int(d.u8())
		switch l.class {
		case layoutCompact:
			n := int(d.u16())
			l.compact = d.bytes(n)
		case layoutContiguous:
			l.addr = d.addr()
			l.size = d.length()
		case layoutChunked:
			if l.version == 3 {
				ndims := int(d.u8())
				l.addr = d.addr()
				if ndims < 2 || ndims > maxRank+1 {
					return l, fmt.Errorf("layout: %d chunk dimensions", ndims)
				}
				dims := make([]uint64, ndims)
				for i := range dims {
					dims[i] = uint64(d.u32())
				}
				l.chunk, l.elemSize = dims[:ndims-1], dims[ndims-1]
				l.index = idxBTree1
				break
			}
			l.flags = d.u8()
			ndims := int(d.u8())
			enc := int(d.u8())
			if ndims < 2 || ndims > maxRank+1 || enc < 1 || enc > 8 {
				return l, fmt.Errorf("layout: %d chunk dimensions of %d bytes", ndims, enc)
			}
			dims := make([]uint64, ndims)
			for i := range dims {
				dims[i] = d.uintN(enc)
			}
			l.chunk, l.elemSize = dims[:ndims-1], dims[ndims-1]
			l.index = int(d.u8())
			switch l.index {
			case idxSingle:
				if l.flags&2 != 0 {
					l.singleSize = d.length()
					l.singleMask = d.u32()
				}
			case idxImplicit:
			case idxFixed:
				l.faPageBits = d.u8()
			case idxExtensib:
				l.ea = eaParams{maxBits: d.u8(), idxElmts: d.u8(), minPtrs: d.u8(), minElmts: d.u8(), pageBits: d.u8()}
			case idxBTree2:
				d.skip(6) // node size, split and merge percents
			default:
				return l, fmt.Errorf("layout: unknown chunk index type %d", l.index)
			}
			l.addr = d.addr()
		case layoutVirtual:
			return l, errors.New("virtual datasets not supported")
		default:
			return l, fmt.Errorf("layout class %d not supported", l.class)
		}
	default:
		return l, fmt.Errorf("layout message version %d not supported", l.version)
	}
	if d.err != nil {
		return l, fmt.Errorf("layout: %w", d.err)
	}
	if l.class == layoutChunked {
		for _, c := range l.chunk {
			if c == 0 {
				return l, fmt.Errorf("layout: chunk shape %v has a zero dimension", l.chunk)
			}
		}
	}
	return l, nil
}

// Filter identifiers.
const (
	filterDeflate    = 1
	filterShuffle    = 2
	filterFletcher32 = 3
	filterSzip       = 4
	filterNbit       = 5
	filterScaleOff   = 6
)

type filter struct {
	id    uint16
	flags uint16
	name  string
	cd    []uint32
}

func (fl filter) String() string {
	switch fl.id {
	case filterDeflate:
		return "deflate"
	case filterShuffle:
		return "shuffle"
	case filterFletcher32:
		return "fletcher32"
	case filterSzip:
		return "szip"
	case filterNbit:
		return "nbit"
	case filterScaleOff:
		return "scaleoffset"
	}
	if fl.name != "" {
		return fmt.Sprintf("filter %d (%s)", fl.id, fl.name)
	}
	return fmt.Sprintf("filter %d", fl.id)
}

func (fl filter) supported() bool {
	return fl.id == filterDeflate || fl.id == filterShuffle || fl.id == filterFletcher32
}

func parseFilters(b []byte) ([]filter, error) {
	d := &decoder{b: b}
	version := d.u8()
	n := int(d.u8())
	switch version {
	case 1:
		d.skip(6)
	case 2:
	default:
		return nil, fmt.Errorf("filter pipeline version %d not supported", version)
	}
	if n > 32 {
		return nil, fmt.Errorf("filter pipeline of %d filters", n)
	}
	var out []filter
	for i := 0; i < n && d.err == nil; i++ {
		var fl filter
		fl.id = d.u16()
		nameLen := 0
		if version == 1 || fl.id >= 256 {
			nameLen = int(d.u16())
		}
		fl.flags = d.u16()
		ncd := int(d.u16())
		if nameLen > 0 {
			if version == 1 && nameLen%8 != 0 {
				nameLen += 8 - nameLen%8
			}
			fl.name = cstring(d.bytes(nameLen))
		}
		if ncd > d.rest()/4 {
			d.err = errShort
			break
		}
		fl.cd = make([]uint32, ncd)
		for j := range fl.cd {
			fl.cd[j] = d.u32()
		}
		if version == 1 && ncd%2 == 1 {
			d.skip(4)
		}
		out = append(out, fl)
	}
	if d.err != nil {
		return nil, fmt.Errorf("filter pipeline: %w", d.err)
	}
	return out, nil
}

// parseFill decodes a fill value message (new or old style); nil means
// zeros.
func parseFill(typ uint16, b []byte) ([]byte, error) {
	d := &decoder{b: b}
	if typ == msgFillOld {
		n := int(d.u32())
		v := d.bytes(n)
		if d.err != nil {
			return nil, fmt.Errorf("fill value: %w", d.err)
		}
		return v, nil
	}
	version := d.u8()
	var v []byte
	switch version {
	case 1, 2:
		d.skip(2) // allocation and fill write times
		if defined := d.u8(); defined != 0 {
			n := int(d.u32())
			v = d.bytes(n)
		}
	case 3:
		flags := d.u8()
		if flags&0x20 != 0 {
			n := int(d.u32())
			v = d.bytes(n)
		}
	default:
		return nil, fmt.Errorf("fill value message version %d not supported", version)
	}
	if d.err != nil {
		return nil, fmt.Errorf("fill value: %w", d.err)
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

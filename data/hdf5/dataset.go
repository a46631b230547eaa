package hdf5

import (
	"errors"
	"fmt"
)

// dataset is what Open learns about a dataset from its object header. A
// dataset whose messages cannot be decoded or are not supported keeps the
// reason in err, reported by Info and Read; the rest of the file stays
// readable.
type dataset struct {
	name    string
	dims    []uint64
	maxdims []uint64 // undef entries are unlimited; nil means dims
	dtype   datatype
	layout  layout
	filters []filter
	fill    []byte // one element in file byte order; nil for zeros
	err     error
}

func (f *File) newDataset(name string, msgs []message) *dataset {
	ds := &dataset{name: name}
	ds.err = f.parseDataset(ds, msgs)
	return ds
}

func (f *File) parseDataset(ds *dataset, msgs []message) error {
	if _, ok := find(msgs, msgExternal); ok {
		return errors.New("external storage not supported")
	}
	m, ok := find(msgs, msgDataspace)
	if !ok {
		return errors.New("no dataspace message")
	}
	if m.flags&msgFlagShared != 0 {
		return errors.New("shared dataspace messages not supported")
	}
	space, err := f.parseDataspace(m.data)
	if err != nil {
		return err
	}
	if space.null {
		return errors.New("null dataspace: the dataset holds no data")
	}
	ds.dims, ds.maxdims = space.dims, space.maxdims
	for i, m := range ds.maxdims {
		if m < ds.dims[i] {
			return fmt.Errorf("dataspace: maximum dimensions %v below dimensions %v", ds.maxdims, ds.dims)
		}
	}

	m, ok = find(msgs, msgDatatype)
	if !ok {
		return errors.New("no datatype message")
	}
	if m.flags&msgFlagShared != 0 {
		ds.dtype, err = f.sharedDatatype(m.data, 0)
	} else {
		ds.dtype, _, err = parseDatatype(m.data)
	}
	if err != nil {
		return err
	}
	if ds.dtype.unsupported != "" {
		return fmt.Errorf("datatype: %s not supported", ds.dtype.unsupported)
	}

	m, ok = find(msgs, msgLayout)
	if !ok {
		return errors.New("no layout message")
	}
	if ds.layout, err = f.parseLayout(m.data); err != nil {
		return err
	}
	l := &ds.layout
	if l.class == layoutChunked {
		if len(l.chunk) != len(ds.dims) {
			return fmt.Errorf("layout: chunk shape %v for a dataset of rank %d", l.chunk, len(ds.dims))
		}
		if l.elemSize != uint64(ds.dtype.size) {
			return fmt.Errorf("layout: element size %d, datatype size %d", l.elemSize, ds.dtype.size)
		}
	}

	if m, ok := find(msgs, msgFilters); ok {
		if ds.filters, err = parseFilters(m.data); err != nil {
			return err
		}
		if len(ds.filters) > 0 && l.class != layoutChunked {
			return errors.New("filters on a dataset that is not chunked")
		}
	}

	m, ok = find(msgs, msgFill)
	if !ok {
		m, ok = find(msgs, msgFillOld)
	}
	if ok {
		if ds.fill, err = parseFill(m.typ, m.data); err != nil {
			return err
		}
		if ds.fill != nil && len(ds.fill) != int(ds.dtype.size) {
			return fmt.Errorf("fill value of %d bytes for %d-byte elements", len(ds.fill), ds.dtype.size)
		}
		if allZero(ds.fill) {
			ds.fill = nil
		}
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

package hdf5

import (
	"errors"
	"fmt"
)

// Object header message types the reader uses; all others are skipped.
const (
	msgNil          = 0x00
	msgDataspace    = 0x01
	msgLinkInfo     = 0x02
	msgDatatype     = 0x03
	msgFillOld      = 0x04
	msgFill         = 0x05
	msgLink         = 0x06
	msgExternal     = 0x07
	msgLayout       = 0x08
	msgFilters      = 0x0B
	msgAttribute    = 0x0C
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
	msgAttrInfo     = 0x15
)

// Message flag bits.
const (
	msgFlagShared = 0x02
)

type message struct {
	typ   uint16
	flags uint8
	data  []byte
}

// objectHeader reads the messages of the object header at addr, following
// continuation blocks.
func (f *File) objectHeader(addr uint64) ([]message, error) {
	msgs, err := f.readObjectHeader(addr)
	if err != nil {
		return nil, fmt.Errorf("object header at %d: %w", addr, err)
	}
	return msgs, nil
}

type block struct {
	addr, size uint64
}

func (f *File) readObjectHeader(addr uint64) ([]message, error) {
	head, err := f.readMeta(addr, 16)
	if err != nil {
		return nil, err
	}
	var (
		msgs    []message
		pending []block
		v2      bool
		crtOrd  bool // version 2: messages carry a creation order
	)
	if len(head) >= 4 && string(head[:4]) == "OHDR" {
		v2 = true
		d := f.dec(head)
		d.skip(4)
		if v := d.u8(); v != 2 {
			return nil, fmt.Errorf("object header version %d not supported", v)
		}
		flags := d.u8()
		prefix := uint64(6)
		if flags&0x20 != 0 {
			prefix += 16 // access, modification, change and birth times
		}
		if flags&0x10 != 0 {
			prefix += 4 // attribute phase change values
		}
		crtOrd = flags&0x04 != 0
		sizeLen := uint64(1) << (flags & 3)
		b, err := f.readMeta(addr, prefix+sizeLen)
		if err != nil {
			return nil, err
		}
		d = f.dec(b)
		d.skip(int(prefix))
		chunk0 := d.uintN(int(sizeLen))
		if d.err != nil {
			return nil, d.err
		}
		// Messages of chunk 0 follow the size field; a checksum follows them.
		if chunk0 > uint64(f.size) {
			return nil, fmt.Errorf("first chunk of %d bytes in a file of %d", chunk0, f.size)
		}
		pending = append(pending, block{addr + prefix + sizeLen, chunk0})
	} else {
		d := f.dec(head)
		version := d.u8()
		if d.err != nil {
			return nil, d.err
		}
		if version != 1 {
			return nil, fmt.Errorf("object header version %d not supported", version)
		}
		d.skip(1 + 2 + 4) // reserved, number of messages, reference count
		size := uint64(d.u32())
		if d.err != nil {
			return nil, d.err
		}
		pending = append(pending, block{addr + 16, size})
	}
	seen := map[uint64]bool{}
	for nblocks := 0; len(pending) > 0; nblocks++ {
		if nblocks >= maxBlocks {
			return nil, fmt.Errorf("more than %d continuation blocks", maxBlocks)
		}
		blk := pending[0]
		pending = pending[1:]
		if seen[blk.addr] {
			return nil, fmt.Errorf("continuation block at %d visited twice (a cycle)", blk.addr)
		}
		seen[blk.addr] = true
		b, err := f.readAt(blk.addr, blk.size)
		if err != nil {
			return nil, fmt.Errorf("header block at %d: %w", blk.addr, err)
		}
		d := f.dec(b)
		if v2 && nblocks > 0 {
			// A continuation chunk: signature, messages, checksum. (The
			// first chunk's size counts its messages only.)
			if err := d.sig("OCHK"); err != nil {
				return nil, fmt.Errorf("continuation block at %d: %w", blk.addr, err)
			}
			if len(b) < 8 {
				return nil, fmt.Errorf("continuation block at %d: %w", blk.addr, errShort)
			}
			d.b = d.b[:len(b)-4]
		}
		for d.err == nil {
			var typ uint16
			var size int
			var flags uint8
			if v2 {
				hdr := 4
				if crtOrd {
					hdr = 6
				}
				if d.rest() < hdr {
					break // gap at the end of the block
				}
				typ = uint16(d.u8())
				size = int(d.u16())
				flags = d.u8()
				if crtOrd {
					d.skip(2)
				}
			} else {
				if d.rest() < 8 {
					break
				}
				typ = d.u16()
				size = int(d.u16())
				flags = d.u8()
				d.skip(3)
			}
			data := d.bytes(size)
			if d.err != nil {
				return nil, fmt.Errorf("message type %#x of %d bytes overruns its header block: %w", typ, size, d.err)
			}
			if len(msgs) >= maxMessages {
				return nil, fmt.Errorf("more than %d header messages", maxMessages)
			}
			if typ == msgContinuation {
				cd := f.dec(data)
				a, n := cd.addr(), cd.length()
				if cd.err != nil {
					return nil, fmt.Errorf("continuation message: %w", cd.err)
				}
				pending = append(pending, block{a, n})
				continue
			}
			if typ != msgNil {
				msgs = append(msgs, message{typ, flags, data})
			}
		}
	}
	return msgs, nil
}

// find returns the first message of type typ.
func find(msgs []message, typ uint16) (message, bool) {
	for _, m := range msgs {
		if m.typ == typ {
			return m, true
		}
	}
	return message{}, false
}

// sharedAddr decodes a shared message stored in another object header (a
// committed datatype) and returns that header's address.
func (f *File) sharedAddr(b []byte) (uint64, error) {
	d := f.dec(b)
	version := d.u8()
	typ := d.u8()
	switch version {
	case 1:
		d.skip(6)
	case 2:
	case 3:
		if typ != 2 {
			return 0, errors.New("shared message in the shared-message heap not supported")
		}
	default:
		return 0, fmt.Errorf("shared message version %d not supported", version)
	}
	a := d.addr()
	if d.err != nil {
		return 0, fmt.Errorf("shared message: %w", d.err)
	}
	return a, nil
}

// sharedDatatype follows a shared (committed) datatype message.
func (f *File) sharedDatatype(b []byte, depth int) (datatype, error) {
	a, err := f.sharedAddr(b)
	if err != nil {
		return datatype{}, err
	}
	if depth > 4 {
		return datatype{}, errors.New("shared datatype chain too long")
	}
	msgs, err := f.objectHeader(a)
	if err != nil {
		return datatype{}, fmt.Errorf("committed datatype: %w", err)
	}
	m, ok := find(msgs, msgDatatype)
	if !ok {
		return datatype{}, fmt.Errorf("committed datatype at %d has no datatype message", a)
	}
	if m.flags&msgFlagShared != 0 {
		return f.sharedDatatype(m.data, depth+1)
	}
	dt, _, err := parseDatatype(m.data)
	return dt, err
}

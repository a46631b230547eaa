package hdf5

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// undef is the "undefined address" (all bits set) once decoded to 64 bits.
const undef = ^uint64(0)

// Limits that keep hostile files from making the reader loop or allocate
// without bound. Every structure the reader follows lies inside the file, so
// most sizes are bounded by the file size; these cap what is not.
const (
	maxRank      = 32       // HDF5's own limit on dataspace rank
	maxDepth     = 64       // group nesting, B-tree and heap depth
	maxMessages  = 1 << 16  // messages per object header
	maxBlocks    = 1 << 12  // continuation blocks per object header
	maxExpansion = 1100     // more than deflate's best ratio (1032:1)
	allocSlack   = 16 << 20 // output allowed beyond maxExpansion x file size
)

// errShort marks a structure that ends before its fields do.
var errShort = fmt.Errorf("structure truncated: %w", io.ErrUnexpectedEOF)

// abs turns a file address and a length into an absolute offset, checking
// that the whole range lies inside the file.
func (f *File) abs(addr, n uint64) (int64, error) {
	if addr == undef {
		return 0, errors.New("undefined address")
	}
	a, carry := bits.Add64(addr, f.base, 0)
	if carry != 0 || a > uint64(f.size) || n > uint64(f.size)-a {
		return 0, fmt.Errorf("%d bytes past the end of the file (size %d): %w", n, f.size, io.ErrUnexpectedEOF)
	}
	return int64(a), nil
}

// readAt reads n bytes at file address addr into a new slice.
func (f *File) readAt(addr, n uint64) ([]byte, error) {
	off, err := f.abs(addr, n)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if err := f.readFull(b, off); err != nil {
		return nil, err
	}
	return b, nil
}

// readFull fills b from absolute offset off.
func (f *File) readFull(b []byte, off int64) error {
	n, err := f.r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// readMeta reads at most n bytes at addr, fewer when the file ends first; for
// structures whose size is only known once their start is decoded.
func (f *File) readMeta(addr, n uint64) ([]byte, error) {
	off, err := f.abs(addr, 0)
	if err != nil {
		return nil, err
	}
	if rest := uint64(f.size - off); n > rest {
		n = rest
	}
	b := make([]byte, n)
	if err := f.readFull(b, off); err != nil {
		return nil, err
	}
	return b, nil
}

// decoder reads little-endian fields from a byte slice. Reading past the end
// sets a sticky error and yields zeros, so parsers check err once at the end.
type decoder struct {
	b    []byte
	p    int
	o, l int // size of offsets and lengths
	err  error
}

func (f *File) dec(b []byte) *decoder { return &decoder{b: b, o: f.sizeO, l: f.sizeL} }

func (d *decoder) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || n > len(d.b)-d.p {
		d.err = errShort
		return false
	}
	return true
}

func (d *decoder) rest() int { return len(d.b) - d.p }

func (d *decoder) skip(n int) {
	if d.need(n) {
		d.p += n
	}
}

func (d *decoder) bytes(n int) []byte {
	if !d.need(n) {
		return nil
	}
	b := d.b[d.p : d.p+n : d.p+n]
	d.p += n
	return b
}

func (d *decoder) u8() uint8 {
	if !d.need(1) {
		return 0
	}
	v := d.b[d.p]
	d.p++
	return v
}

func (d *decoder) u16() uint16 {
	if !d.need(2) {
		return 0
	}
	v := binary.LittleEndian.Uint16(d.b[d.p:])
	d.p += 2
	return v
}

func (d *decoder) u32() uint32 {
	if !d.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b[d.p:])
	d.p += 4
	return v
}

func (d *decoder) u64() uint64 { return d.uintN(8) }

// uintN decodes an n-byte little-endian unsigned integer (0 <= n <= 8).
func (d *decoder) uintN(n int) uint64 {
	if n > 8 {
		d.err = fmt.Errorf("integer field of %d bytes", n)
		return 0
	}
	if !d.need(n) {
		return 0
	}
	v := leUint(d.b[d.p : d.p+n])
	d.p += n
	return v
}

// addr decodes a file address; the all-ones value becomes undef.
func (d *decoder) addr() uint64 { return widen(d.uintN(d.o), d.o) }

// length decodes a length field; the all-ones value becomes undef.
func (d *decoder) length() uint64 { return widen(d.uintN(d.l), d.l) }

// sig checks a 4-byte signature.
func (d *decoder) sig(s string) error {
	b := d.bytes(4)
	if d.err != nil {
		return d.err
	}
	if string(b) != s {
		return fmt.Errorf("bad signature %q, want %q", b, s)
	}
	return nil
}

func leUint(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// widen maps the all-ones value of an n-byte field to undef.
func widen(v uint64, n int) uint64 {
	if n < 8 && v == 1<<(8*uint(n))-1 {
		return undef
	}
	return v
}

// mulOK multiplies with an overflow check against limit.
func mulOK(a, b, limit uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 || lo > limit {
		return 0, false
	}
	return lo, true
}

// log2Floor is floor(log2(v)) for v > 0 and 0 for v == 0.
func log2Floor(v uint64) int {
	if v == 0 {
		return 0
	}
	return bits.Len64(v) - 1
}

// isPow2 reports whether v is a power of two.
func isPow2(v uint64) bool { return v != 0 && v&(v-1) == 0 }

// cstring returns b up to its first NUL byte.
func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

package hdf5

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// A raw DEFLATE (RFC 1951) decoder for chunks whose decompressed size is
// known: it decodes the whole stream into one destination slice, which is
// also the LZ77 window, so there is no intermediate window and no copy.
// compress/flate decodes through a 32 KiB window and an io.ByteReader and is
// about three times slower on image chunks; the HDF5 reader calls this one
// and checks every stream's Adler-32, and a differential fuzz test compares
// it with compress/flate.

// Decoding table entries (uint32):
//
//	bits 0-7   code length: bits to consume
//	bits 8-11  extra bits of a length or distance; subtable index bits
//	bits 12-15 flags
//	bits 16-31 literal, length or distance base, or subtable offset
const (
	entryLiteral = 1 << 15
	entryEnd     = 1 << 14
	entrySub     = 1 << 13
	entryInvalid = 1 << 12

	litBits  = 10 // primary table index bits, literal/length codes
	distBits = 8  // primary table index bits, distance codes
)

var (
	errInflateData  = errors.New("deflate: corrupt stream")
	errInflateShort = errors.New("deflate: stream truncated")
	errInflateLong  = errors.New("deflate: more data than the chunk holds")
)

var lengthBase = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
	35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
var lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
	3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
var distBase = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
	257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
var distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
	7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

// Order of the code length code lengths in a dynamic block header.
var clOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// inflater holds reusable decoding tables; one per goroutine.
type inflater struct {
	lit, dist           []uint32
	fixedLit, fixedDist []uint32
	cl                  []uint32
	lens                [320]uint8
	codes               [320]uint16
	maxLen              [1 << litBits]uint8
}

// bitReader reads bits LSB first. Bits above nbits in buf are the stream's
// next bits (or zero), so refills may overlap.
type bitReader struct {
	src  []byte
	pos  int // bytes loaded into buf (may run past len(src) by zero padding)
	buf  uint64
	nbit uint
}

// refill makes at least 56 bits available (never more than 63), padding
// with zeros past the end.
func (br *bitReader) refill() {
	if br.nbit >= 56 {
		return
	}
	if br.pos+8 <= len(br.src) {
		br.buf |= binary.LittleEndian.Uint64(br.src[br.pos:]) << br.nbit
		br.pos += int(63-br.nbit) >> 3
		br.nbit |= 56
		return
	}
	for br.nbit < 56 {
		if br.pos < len(br.src) {
			br.buf |= uint64(br.src[br.pos]) << br.nbit
		}
		br.pos++
		br.nbit += 8
	}
}

// overrun reports whether more bits were consumed than the stream has.
func (br *bitReader) overrun() bool {
	return br.pos-int(br.nbit>>3) > len(br.src)
}

func (br *bitReader) take(n uint) uint64 {
	v := br.buf & (1<<n - 1)
	br.buf >>= n
	br.nbit -= n
	return v
}

// inflate decodes the raw deflate stream src into dst. It returns the bytes
// written and the bytes of src the stream used; a stream that would write
// past len(dst) is an error.
func (z *inflater) inflate(dst, src []byte) (n, used int, err error) {
	br := bitReader{src: src}
	o := 0
	for {
		br.refill()
		final := br.take(1)
		typ := br.take(2)
		switch typ {
		case 0: // stored
			br.take(br.nbit & 7) // to a byte boundary
			p := br.pos - int(br.nbit>>3)
			br.buf, br.nbit = 0, 0
			if p+4 > len(src) {
				return o, 0, errInflateShort
			}
			length := int(binary.LittleEndian.Uint16(src[p:]))
			if binary.LittleEndian.Uint16(src[p+2:]) != ^uint16(length) {
				return o, 0, errInflateData
			}
			p += 4
			if p+length > len(src) {
				return o, 0, errInflateShort
			}
			if o+length > len(dst) {
				return o, 0, errInflateLong
			}
			copy(dst[o:], src[p:p+length])
			o += length
			br.pos = p + length
		case 1:
			if z.fixedLit == nil {
				if err := z.buildFixed(); err != nil {
					return o, 0, err
				}
			}
			if o, err = z.block(dst, o, &br, z.fixedLit, z.fixedDist); err != nil {
				return o, 0, err
			}
		case 2:
			if err := z.dynamicTables(&br); err != nil {
				return o, 0, err
			}
			if o, err = z.block(dst, o, &br, z.lit, z.dist); err != nil {
				return o, 0, err
			}
		default:
			return o, 0, errInflateData
		}
		if br.overrun() {
			return o, 0, errInflateShort
		}
		if final == 1 {
			return o, br.pos - int(br.nbit>>3), nil
		}
	}
}

// block decodes one Huffman-coded block into dst from offset o. The bit
// reader's state lives in locals for speed and is stored back on return.
func (z *inflater) block(dst []byte, o int, br *bitReader, lit, dist []uint32) (int, error) {
	const litMask = 1<<litBits - 1
	const distMask = 1<<distBits - 1
	src := br.src
	buf, nbit, pos := br.buf, br.nbit, br.pos
	var err error
	for {
		// 48 bits cover the longest symbol: 15+5 length, 15+13 distance.
		if nbit < 48 {
			if pos+8 <= len(src) {
				buf |= binary.LittleEndian.Uint64(src[pos:]) << nbit
				pos += int(63-nbit) >> 3
				nbit |= 56
			} else {
				for nbit < 56 {
					if pos < len(src) {
						buf |= uint64(src[pos]) << nbit
					}
					pos++
					nbit += 8
				}
				if pos > len(src)+8 {
					err = errInflateShort
					break
				}
			}
		}
		e := lit[buf&litMask]
		if e&entryLiteral != 0 {
			if o >= len(dst) {
				err = errInflateLong
				break
			}
			buf >>= e & 0xff
			nbit -= uint(e & 0xff)
			dst[o] = byte(e >> 16)
			o++
			continue
		}
		if e&entrySub != 0 {
			buf >>= litBits
			nbit -= litBits
			e = lit[uint64(e>>16)+buf&(1<<((e>>8)&0xf)-1)]
		}
		buf >>= e & 0xff
		nbit -= uint(e & 0xff)
		if e&entryLiteral != 0 {
			if o >= len(dst) {
				err = errInflateLong
				break
			}
			dst[o] = byte(e >> 16)
			o++
			continue
		}
		if e&(entryEnd|entryInvalid) != 0 {
			if e&entryInvalid != 0 {
				err = errInflateData
			}
			break
		}
		n := uint(e>>8) & 0xf
		length := int(e>>16) + int(buf&(1<<n-1))
		buf >>= n
		nbit -= n
		d := dist[buf&distMask]
		if d&entrySub != 0 {
			buf >>= distBits
			nbit -= distBits
			d = dist[uint64(d>>16)+buf&(1<<((d>>8)&0xf)-1)]
		}
		if d&entryInvalid != 0 {
			err = errInflateData
			break
		}
		buf >>= d & 0xff
		nbit -= uint(d & 0xff)
		n = uint(d>>8) & 0xf
		distance := int(d>>16) + int(buf&(1<<n-1))
		buf >>= n
		nbit -= n
		if distance > o {
			err = errInflateData
			break
		}
		if length > len(dst)-o {
			err = errInflateLong
			break
		}
		switch {
		case distance >= 8 && length <= len(dst)-o-8:
			// Eight bytes at a time; the source always lies before the
			// bytes being written, and overshoot stays inside dst (it is
			// overwritten by what follows).
			s := o - distance
			for i := 0; i < length; i += 8 {
				binary.LittleEndian.PutUint64(dst[o+i:], binary.LittleEndian.Uint64(dst[s+i:]))
			}
		case distance >= length:
			copy(dst[o:o+length], dst[o-distance:])
		case distance == 1:
			b := dst[o-1]
			for i := o; i < o+length; i++ {
				dst[i] = b
			}
		default:
			for i := 0; i < length; {
				i += copy(dst[o+i:o+length], dst[o-distance:o+i])
			}
		}
		o += length
	}
	br.buf, br.nbit, br.pos = buf, nbit, pos
	return o, err
}

func (z *inflater) buildFixed() error {
	var l [320]uint8
	for i := 0; i < 144; i++ {
		l[i] = 8
	}
	for i := 144; i < 256; i++ {
		l[i] = 9
	}
	for i := 256; i < 280; i++ {
		l[i] = 7
	}
	for i := 280; i < 288; i++ {
		l[i] = 8
	}
	for i := 288; i < 320; i++ {
		l[i] = 5
	}
	var err error
	if z.fixedLit, err = z.build(z.fixedLit, l[:288], litBits, alphaLitLen); err != nil {
		return err
	}
	z.fixedDist, err = z.build(z.fixedDist, l[288:320], distBits, alphaDist)
	return err
}

// dynamicTables reads a dynamic block header and builds z.lit and z.dist.
func (z *inflater) dynamicTables(br *bitReader) error {
	br.refill()
	nlit := int(br.take(5)) + 257
	ndist := int(br.take(5)) + 1
	nclen := int(br.take(4)) + 4
	if nlit > 286 || ndist > 30 {
		return errInflateData
	}
	var cl [19]uint8
	for i := 0; i < nclen; i++ {
		if br.nbit < 3 {
			br.refill()
		}
		cl[clOrder[i]] = uint8(br.take(3))
	}
	var err error
	if z.cl, err = z.build(z.cl, cl[:], 7, alphaCodeLen); err != nil {
		return err
	}
	lens := z.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		br.refill()
		if br.overrun() {
			return errInflateShort
		}
		e := z.cl[br.buf&(1<<7-1)]
		if e&entryInvalid != 0 {
			return errInflateData
		}
		br.take(uint(e & 0xff))
		sym := e >> 16
		var rep int
		var val uint8
		switch {
		case sym < 16:
			lens[i] = uint8(sym)
			i++
			continue
		case sym == 16:
			if i == 0 {
				return errInflateData
			}
			val, rep = lens[i-1], 3+int(br.take(2))
		case sym == 17:
			rep = 3 + int(br.take(3))
		default:
			rep = 11 + int(br.take(7))
		}
		if i+rep > len(lens) {
			return errInflateData
		}
		for ; rep > 0; rep-- {
			lens[i] = val
			i++
		}
	}
	if lens[256] == 0 {
		return errInflateData // no end-of-block code
	}
	if z.lit, err = z.build(z.lit, lens[:nlit], litBits, alphaLitLen); err != nil {
		return err
	}
	z.dist, err = z.build(z.dist, lens[nlit:], distBits, alphaDist)
	return err
}

// build makes a two-level decoding table for the canonical Huffman code with
// code lengths lens over alphabet: a primary table indexed by the next
// primary bits of input, and subtables for longer codes. Over-subscribed
// codes are rejected; unused entries of incomplete codes decode as invalid.
func (z *inflater) build(table []uint32, lens []uint8, primary uint, alphabet int) ([]uint32, error) {
	var count [16]int
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	left := 1
	for l := 1; l < 16; l++ {
		left = left<<1 - count[l]
		if left < 0 {
			return table, errInflateData // over-subscribed
		}
	}
	var next [16]int
	code := 0
	for l := 1; l < 16; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	size := 1 << primary
	if cap(table) < size {
		table = make([]uint32, size, 4*size)
	}
	table = table[:size]
	for i := range table {
		table[i] = entryInvalid
	}
	// Subtable sizes: the longest code under each primary prefix.
	maxLen := z.maxLen[:size]
	clear(maxLen)
	codes := z.codes[:len(lens)]
	for s, l := range lens {
		if l == 0 {
			continue
		}
		c := next[l]
		next[l]++
		r := int(bits.Reverse16(uint16(c)) >> (16 - l))
		codes[s] = uint16(r)
		if uint(l) > primary {
			p := r & (size - 1)
			maxLen[p] = max(maxLen[p], l)
		}
	}
	for p, l := range maxLen {
		if l == 0 {
			continue
		}
		sub := uint(l) - primary
		off := len(table)
		if off >= 1<<16 {
			return table, errInflateData
		}
		table[p] = entrySub | uint32(sub)<<8 | uint32(off)<<16
		for i := 0; i < 1<<sub; i++ {
			table = append(table, entryInvalid)
		}
	}
	for s, l := range lens {
		if l == 0 {
			continue
		}
		e := symbolEntry(s, alphabet)
		r := int(codes[s])
		if uint(l) <= primary {
			for i := r; i < size; i += 1 << l {
				table[i] = e | uint32(l)
			}
			continue
		}
		ptr := table[r&(size-1)]
		sub := (ptr >> 8) & 0xf
		base := int(ptr >> 16)
		sl := uint(l) - primary
		for i := r >> primary; i < 1<<sub; i += 1 << sl {
			table[base+i] = e | uint32(sl)
		}
	}
	return table, nil
}

// Alphabets of the decoding tables.
const (
	alphaCodeLen = iota
	alphaLitLen
	alphaDist
)

// symbolEntry is the table entry of symbol s without its code length.
func symbolEntry(s int, alphabet int) uint32 {
	switch alphabet {
	case alphaCodeLen:
		return uint32(s) << 16
	case alphaDist:
		if s < len(distBase) {
			return uint32(distExtra[s])<<8 | uint32(distBase[s])<<16
		}
		return entryInvalid
	}
	switch {
	case s < 256:
		return entryLiteral | uint32(s)<<16
	case s == 256:
		return entryEnd
	case s-257 < len(lengthBase):
		return uint32(lengthExtra[s-257])<<8 | uint32(lengthBase[s-257])<<16
	}
	return entryInvalid
}

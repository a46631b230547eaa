package pickle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unsafe"
)

// Values on the machine's stack: nil, bool, int64, float64, string, []byte,
// and the pointer types below (containers are pointers so that APPEND and
// SETITEM reach every reference the memo holds).
type (
	tuple struct {
		items []any
		done  bool // converted by finish
	}
	list struct {
		items []any
		done  bool
	}
	dict struct {
		m    map[any]any
		done bool
	}
)

type machine struct {
	in     []byte // the whole pickle; never modified
	pos    int
	op     byte // the opcode being run, and its offset, for errors
	opPos  int
	stack  []any
	marks  []int // stack heights at each MARK
	memo   map[uint64]any
	budget int // bytes that array conversions may still allocate
}

// run executes the pickle in and returns the machine value it STOPs with.
func run(in []byte) (any, error) {
	m := &machine{
		in:   in,
		memo: map[uint64]any{},
		// Byte swaps, transposes and latin-1 decoding copy array data; a
		// real pickle copies each byte at most about once. Sharing one
		// payload among many arrays must not multiply memory.
		budget: 2*len(in) + 1<<16,
	}
	for {
		if m.pos >= len(in) {
			if len(in) == 0 {
				return nil, errors.New("pickle: empty input")
			}
			return nil, fmt.Errorf("pickle: offset %d: unexpected end of input (no STOP opcode)", m.pos)
		}
		m.opPos, m.op = m.pos, in[m.pos]
		m.pos++
		v, stop, err := m.step()
		if err != nil {
			return nil, fmt.Errorf("pickle: opcode 0x%02x at offset %d: %w", m.op, m.opPos, err)
		}
		if stop {
			return v, nil
		}
	}
}

var errUnderflow = errors.New("stack underflow")

// base is the stack height below which the current MARK forbids popping.
func (m *machine) base() int {
	if len(m.marks) > 0 {
		return m.marks[len(m.marks)-1]
	}
	return 0
}

func (m *machine) push(v any) { m.stack = append(m.stack, v) }

func (m *machine) pop() (any, error) {
	if len(m.stack) <= m.base() {
		if len(m.marks) > 0 {
			return nil, errors.New("stack underflow (at a MARK)")
		}
		return nil, errUnderflow
	}
	v := m.stack[len(m.stack)-1]
	m.stack[len(m.stack)-1] = nil
	m.stack = m.stack[:len(m.stack)-1]
	return v, nil
}

func (m *machine) top() (any, error) {
	if len(m.stack) <= m.base() {
		return nil, errUnderflow
	}
	return m.stack[len(m.stack)-1], nil
}

// popMark pops everything above the last MARK, and the MARK; the returned
// slice is a copy.
func (m *machine) popMark() ([]any, error) {
	if len(m.marks) == 0 {
		return nil, errors.New("no MARK on the stack")
	}
	k := m.marks[len(m.marks)-1]
	m.marks = m.marks[:len(m.marks)-1]
	items := make([]any, len(m.stack)-k)
	copy(items, m.stack[k:])
	clear(m.stack[k:])
	m.stack = m.stack[:k]
	return items, nil
}

// take returns the next n bytes of input (a view, capacity-limited).
func (m *machine) take(n uint64) ([]byte, error) {
	left := uint64(len(m.in) - m.pos)
	if n > left {
		return nil, fmt.Errorf("%d bytes announced, %d left: %w", n, left, io.ErrUnexpectedEOF)
	}
	b := m.in[m.pos : m.pos+int(n) : m.pos+int(n)]
	m.pos += int(n)
	return b, nil
}

func (m *machine) uint(size int) (uint64, error) {
	b, err := m.take(uint64(size))
	if err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.LittleEndian.Uint16(b)), nil
	case 4:
		return uint64(binary.LittleEndian.Uint32(b)), nil
	}
	return binary.LittleEndian.Uint64(b), nil
}

// takeLen reads a size-byte length and then that many bytes.
func (m *machine) takeLen(size int) ([]byte, error) {
	n, err := m.uint(size)
	if err != nil {
		return nil, err
	}
	return m.take(n)
}

// line returns the input up to the next '\n' (protocol 0 arguments).
func (m *machine) line() ([]byte, error) {
	for i := m.pos; i < len(m.in); i++ {
		if m.in[i] == '\n' {
			b := m.in[m.pos:i:i]
			m.pos = i + 1
			return b, nil
		}
	}
	return nil, fmt.Errorf("no newline ending the argument: %w", io.ErrUnexpectedEOF)
}

// str makes a string of input bytes. Large ones share the input's memory:
// the input is never modified and payloads never overlap.
func str(b []byte) string {
	if len(b) >= 1024 {
		return unsafe.String(&b[0], len(b))
	}
	return string(b)
}

func (m *machine) step() (any, bool, error) {
	switch m.op {
	case '(': // MARK
		m.marks = append(m.marks, len(m.stack))
	case '.': // STOP
		v, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		if len(m.marks) > 0 {
			return nil, false, errors.New("STOP with a MARK still open")
		}
		if len(m.stack) > 0 {
			return nil, false, fmt.Errorf("STOP with %d more values on the stack", len(m.stack))
		}
		return v, true, nil
	case '0': // POP
		if len(m.stack) > m.base() {
			m.pop()
		} else if len(m.marks) > 0 {
			m.marks = m.marks[:len(m.marks)-1] // as Python: POP of an empty frame drops the MARK
		} else {
			return nil, false, errUnderflow
		}
	case '1': // POP_MARK
		if _, err := m.popMark(); err != nil {
			return nil, false, err
		}
	case '2': // DUP
		v, err := m.top()
		if err != nil {
			return nil, false, err
		}
		m.push(v)

	case 'N': // NONE
		m.push(nil)
	case 0x88: // NEWTRUE
		m.push(true)
	case 0x89: // NEWFALSE
		m.push(false)
	case 'I': // INT
		b, err := m.line()
		if err != nil {
			return nil, false, err
		}
		v, err := parseTextInt(b, true)
		if err != nil {
			return nil, false, err
		}
		m.push(v)
	case 'L': // LONG
		b, err := m.line()
		if err != nil {
			return nil, false, err
		}
		v, err := parseTextInt(b, false)
		if err != nil {
			return nil, false, err
		}
		m.push(v)
	case 'J': // BININT
		v, err := m.uint(4)
		if err != nil {
			return nil, false, err
		}
		m.push(int64(int32(uint32(v))))
	case 'K': // BININT1
		v, err := m.uint(1)
		if err != nil {
			return nil, false, err
		}
		m.push(int64(v))
	case 'M': // BININT2
		v, err := m.uint(2)
		if err != nil {
			return nil, false, err
		}
		m.push(int64(v))
	case 0x8a, 0x8b: // LONG1, LONG4
		size := 1
		if m.op == 0x8b {
			size = 4
		}
		n, err := m.uint(size)
		if err != nil {
			return nil, false, err
		}
		if size == 4 && int32(uint32(n)) < 0 {
			return nil, false, fmt.Errorf("negative length %d", int32(uint32(n)))
		}
		b, err := m.take(n)
		if err != nil {
			return nil, false, err
		}
		v, err := decodeLong(b)
		if err != nil {
			return nil, false, err
		}
		m.push(v)
	case 'F': // FLOAT
		b, err := m.line()
		if err != nil {
			return nil, false, err
		}
		v, err := strconv.ParseFloat(string(trimSpace(b)), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, false, fmt.Errorf("malformed float %q", clip(b))
		}
		m.push(v)
	case 'G': // BINFLOAT
		b, err := m.take(8)
		if err != nil {
			return nil, false, err
		}
		m.push(math.Float64frombits(binary.BigEndian.Uint64(b)))

	case 'S': // STRING (Python 2 str, as a quoted literal)
		b, err := m.line()
		if err != nil {
			return nil, false, err
		}
		s, err := parseQuoted(b)
		if err != nil {
			return nil, false, err
		}
		m.push(s)
	case 'T': // BINSTRING
		n, err := m.uint(4)
		if err != nil {
			return nil, false, err
		}
		if int32(uint32(n)) < 0 {
			return nil, false, fmt.Errorf("negative length %d", int32(uint32(n)))
		}
		b, err := m.take(n)
		if err != nil {
			return nil, false, err
		}
		m.push(str(b))
	case 'U', 0x8c: // SHORT_BINSTRING, SHORT_BINUNICODE
		b, err := m.takeLen(1)
		if err != nil {
			return nil, false, err
		}
		m.push(str(b))
	case 'X': // BINUNICODE
		b, err := m.takeLen(4)
		if err != nil {
			return nil, false, err
		}
		m.push(str(b))
	case 0x8d: // BINUNICODE8
		b, err := m.takeLen(8)
		if err != nil {
			return nil, false, err
		}
		m.push(str(b))
	case 'V': // UNICODE (raw-unicode-escape)
		b, err := m.line()
		if err != nil {
			return nil, false, err
		}
		m.push(rawUnicodeEscape(b))
	case 'C': // SHORT_BINBYTES
		b, err := m.takeLen(1)
		if err != nil {
			return nil, false, err
		}
		m.push(b)
	case 'B': // BINBYTES
		b, err := m.takeLen(4)
		if err != nil {
			return nil, false, err
		}
		m.push(b)
	case 0x8e, 0x96: // BINBYTES8, BYTEARRAY8
		b, err := m.takeLen(8)
		if err != nil {
			return nil, false, err
		}
		m.push(b)
	case 0x97, 0x98: // NEXT_BUFFER, READONLY_BUFFER
		return nil, false, errors.New("out-of-band buffers are not supported")

	case ')': // EMPTY_TUPLE
		m.push(&tuple{items: []any{}})
	case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
		n := int(m.op-0x85) + 1
		if len(m.stack)-m.base() < n {
			return nil, false, errUnderflow
		}
		items := make([]any, n)
		copy(items, m.stack[len(m.stack)-n:])
		clear(m.stack[len(m.stack)-n:])
		m.stack = m.stack[:len(m.stack)-n]
		m.push(&tuple{items: items})
	case 't': // TUPLE
		items, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		m.push(&tuple{items: items})
	case ']': // EMPTY_LIST
		m.push(&list{items: []any{}})
	case 'l': // LIST
		items, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		m.push(&list{items: items})
	case 'a': // APPEND
		v, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		if err := m.extend([]any{v}); err != nil {
			return nil, false, err
		}
	case 'e': // APPENDS
		items, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		if err := m.extend(items); err != nil {
			return nil, false, err
		}
	case '}': // EMPTY_DICT
		m.push(&dict{m: map[any]any{}})
	case 'd': // DICT
		items, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		d := &dict{m: map[any]any{}}
		if err := setItems(d, items); err != nil {
			return nil, false, err
		}
		m.push(d)
	case 's': // SETITEM
		v, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		k, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		if err := m.update([]any{k, v}); err != nil {
			return nil, false, err
		}
	case 'u': // SETITEMS
		items, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		if err := m.update(items); err != nil {
			return nil, false, err
		}
	case 0x8f, 0x90, 0x91: // EMPTY_SET, ADDITEMS, FROZENSET
		return nil, false, errors.New("sets are not supported")

	case 'g': // GET
		b, err := m.line()
		if err != nil {
			return nil, false, err
		}
		k, err := parseMemoKey(b)
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.get(k)
	case 'h': // BINGET
		k, err := m.uint(1)
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.get(k)
	case 'j': // LONG_BINGET
		k, err := m.uint(4)
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.get(k)
	case 'p': // PUT
		b, err := m.line()
		if err != nil {
			return nil, false, err
		}
		k, err := parseMemoKey(b)
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.put(k)
	case 'q': // BINPUT
		k, err := m.uint(1)
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.put(k)
	case 'r': // LONG_BINPUT
		k, err := m.uint(4)
		if err != nil {
			return nil, false, err
		}
		return nil, false, m.put(k)
	case 0x94: // MEMOIZE
		return nil, false, m.put(uint64(len(m.memo)))

	case 0x80: // PROTO
		v, err := m.uint(1)
		if err != nil {
			return nil, false, err
		}
		if v > 5 {
			return nil, false, fmt.Errorf("unsupported protocol %d", v)
		}
	case 0x95: // FRAME: a length prefix for buffered reading; nothing to do
		n, err := m.uint(8)
		if err != nil {
			return nil, false, err
		}
		if left := uint64(len(m.in) - m.pos); n > left {
			return nil, false, fmt.Errorf("frame of %d bytes, %d left: %w", n, left, io.ErrUnexpectedEOF)
		}

	case 'c': // GLOBAL
		mod, err := m.line()
		if err != nil {
			return nil, false, err
		}
		name, err := m.line()
		if err != nil {
			return nil, false, err
		}
		g, err := lookupGlobal(string(mod), string(name))
		if err != nil {
			return nil, false, err
		}
		m.push(g)
	case 0x93: // STACK_GLOBAL
		name, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		mod, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		ms, ok1 := mod.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return nil, false, fmt.Errorf("STACK_GLOBAL of %s and %s, want two str", typeName(mod), typeName(name))
		}
		g, err := lookupGlobal(ms, ns)
		if err != nil {
			return nil, false, err
		}
		m.push(g)
	case 'R': // REDUCE
		args, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		f, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		t, ok := args.(*tuple)
		if !ok {
			return nil, false, fmt.Errorf("REDUCE with arguments of type %s, want a tuple", typeName(args))
		}
		v, err := m.call(f, t.items)
		if err != nil {
			return nil, false, err
		}
		m.push(v)
	case 'i': // INST: module and name lines, arguments above a MARK
		mod, err := m.line()
		if err != nil {
			return nil, false, err
		}
		name, err := m.line()
		if err != nil {
			return nil, false, err
		}
		g, err := lookupGlobal(string(mod), string(name))
		if err != nil {
			return nil, false, err
		}
		args, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		v, err := m.call(g, args)
		if err != nil {
			return nil, false, err
		}
		m.push(v)
	case 'o': // OBJ: class and arguments above a MARK
		items, err := m.popMark()
		if err != nil {
			return nil, false, err
		}
		if len(items) == 0 {
			return nil, false, errUnderflow
		}
		v, err := m.call(items[0], items[1:])
		if err != nil {
			return nil, false, err
		}
		m.push(v)
	case 'b': // BUILD
		state, err := m.pop()
		if err != nil {
			return nil, false, err
		}
		obj, err := m.top()
		if err != nil {
			return nil, false, err
		}
		if err := m.build(obj, state); err != nil {
			return nil, false, err
		}
	case 0x81, 0x92: // NEWOBJ, NEWOBJ_EX
		return nil, false, m.refuseNewobj()
	case 'P', 'Q': // PERSID, BINPERSID
		return nil, false, errors.New("persistent ids are not supported")
	case 0x82, 0x83, 0x84: // EXT1, EXT2, EXT4
		return nil, false, errors.New("extension registry codes are not supported")
	default:
		if m.op == 0x1f && m.opPos == 0 {
			return nil, false, errors.New("not a pickle (gzip data: use ReadArrays or decompress first)")
		}
		return nil, false, errors.New("unknown opcode")
	}
	return nil, false, nil
}

func (m *machine) get(k uint64) error {
	v, ok := m.memo[k]
	if !ok {
		return fmt.Errorf("memo key %d not found", k)
	}
	m.push(v)
	return nil
}

func (m *machine) put(k uint64) error {
	v, err := m.top()
	if err != nil {
		return err
	}
	m.memo[k] = v
	return nil
}

func (m *machine) extend(items []any) error {
	top, err := m.top()
	if err != nil {
		return err
	}
	l, ok := top.(*list)
	if !ok {
		return fmt.Errorf("APPEND to %s, want a list", typeName(top))
	}
	l.items = append(l.items, items...)
	return nil
}

func (m *machine) update(items []any) error {
	top, err := m.top()
	if err != nil {
		return err
	}
	d, ok := top.(*dict)
	if !ok {
		return fmt.Errorf("SETITEM on %s, want a dict", typeName(top))
	}
	return setItems(d, items)
}

func setItems(d *dict, items []any) error {
	if len(items)%2 != 0 {
		return fmt.Errorf("odd number of items (%d) for a dict", len(items))
	}
	for i := 0; i < len(items); i += 2 {
		switch k := items[i].(type) {
		case nil, bool, int64, float64, string:
			d.m[k] = items[i+1]
		default:
			return fmt.Errorf("dict key of type %s is not supported", typeName(k))
		}
	}
	return nil
}

// refuseNewobj names the class NEWOBJ would instantiate.
func (m *machine) refuseNewobj() error {
	n := 2
	if m.op == 0x92 {
		n = 3
	}
	if len(m.stack)-m.base() >= n {
		if g, ok := m.stack[len(m.stack)-n].(*global); ok {
			return fmt.Errorf("NEWOBJ of %s is not supported", g)
		}
	}
	return errors.New("NEWOBJ is not supported")
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:37]) + "..."
	}
	return string(b)
}

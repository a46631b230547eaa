package onnx_test

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"galaxy/model/onnx"
	"math"
	"strings"
	"testing"
)

// An ONNX reader for the tests that shares nothing with proto.go: the
// protobuf wire format walked by hand, and the field numbers, names and
// types of the messages written out below from the ONNX specification,
// onnx/onnx.proto3 (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto3).
// The tests read exported files through it by field name, so a wrong field
// number in proto.go makes a file read differently here (a field missing,
// one its message does not have, or one of the wrong type) and fails them.
// Do not replace the literal numbers with proto.go's constants: the point is
// that they are written twice, from the specification each time.

// pbKind is how a field is encoded.
type pbKind int

const (
	pbVarint pbKind = iota // int32, int64, enum: wire type 0
	pbFloat                // float: wire type 5
	pbBytes                // string, bytes: wire type 2
	pbMsgK                 // nested message: wire type 2
	pbInts                 // repeated int64: packed (wire type 2) or not (0)
)

type pbSpec struct {
	name string
	kind pbKind
	msg  string // the message type of a pbMsgK field
	rep  bool   // repeated
}

// onnxProto lists the fields of the messages an exported model holds,
// number -> field, as onnx.proto3 declares them: those the exporter writes
// and a few it may (domain, doc_string, ...). Fields the exporter has no
// business writing (float_data, int32_data, sparse_initializer, ...) are
// left out, so one written under a wrong number is reported.
var onnxProto = map[string]map[int]pbSpec{
	"ModelProto": {
		1:  {"ir_version", pbVarint, "", false},
		8:  {"opset_import", pbMsgK, "OperatorSetIdProto", true},
		2:  {"producer_name", pbBytes, "", false},
		3:  {"producer_version", pbBytes, "", false},
		4:  {"domain", pbBytes, "", false},
		5:  {"model_version", pbVarint, "", false},
		6:  {"doc_string", pbBytes, "", false},
		7:  {"graph", pbMsgK, "GraphProto", false},
		14: {"metadata_props", pbMsgK, "StringStringEntryProto", true},
	},
	"OperatorSetIdProto": {
		1: {"domain", pbBytes, "", false},
		2: {"version", pbVarint, "", false},
	},
	"StringStringEntryProto": {
		1: {"key", pbBytes, "", false},
		2: {"value", pbBytes, "", false},
	},
	"GraphProto": {
		1:  {"node", pbMsgK, "NodeProto", true},
		2:  {"name", pbBytes, "", false},
		5:  {"initializer", pbMsgK, "TensorProto", true},
		10: {"doc_string", pbBytes, "", false},
		11: {"input", pbMsgK, "ValueInfoProto", true},
		12: {"output", pbMsgK, "ValueInfoProto", true},
		13: {"value_info", pbMsgK, "ValueInfoProto", true},
	},
	"NodeProto": {
		1: {"input", pbBytes, "", true},
		2: {"output", pbBytes, "", true},
		3: {"name", pbBytes, "", false},
		4: {"op_type", pbBytes, "", false},
		7: {"domain", pbBytes, "", false},
		5: {"attribute", pbMsgK, "AttributeProto", true},
		6: {"doc_string", pbBytes, "", false},
	},
	"AttributeProto": {
		1:  {"name", pbBytes, "", false},
		13: {"doc_string", pbBytes, "", false},
		20: {"type", pbVarint, "", false},
		2:  {"f", pbFloat, "", false},
		3:  {"i", pbVarint, "", false},
		4:  {"s", pbBytes, "", false},
		8:  {"ints", pbInts, "", true},
	},
	"TensorProto": {
		1:  {"dims", pbInts, "", true},
		2:  {"data_type", pbVarint, "", false},
		7:  {"int64_data", pbInts, "", true},
		8:  {"name", pbBytes, "", false},
		12: {"doc_string", pbBytes, "", false},
		9:  {"raw_data", pbBytes, "", false},
	},
	"ValueInfoProto": {
		1: {"name", pbBytes, "", false},
		2: {"type", pbMsgK, "TypeProto", false},
		3: {"doc_string", pbBytes, "", false},
	},
	"TypeProto": {
		1: {"tensor_type", pbMsgK, "TypeProto.Tensor", false},
		6: {"denotation", pbBytes, "", false},
	},
	"TypeProto.Tensor": {
		1: {"elem_type", pbVarint, "", false},
		2: {"shape", pbMsgK, "TensorShapeProto", false},
	},
	"TensorShapeProto": {
		1: {"dim", pbMsgK, "TensorShapeProto.Dimension", true},
	},
	"TensorShapeProto.Dimension": {
		1: {"dim_value", pbVarint, "", false},
		2: {"dim_param", pbBytes, "", false},
		3: {"denotation", pbBytes, "", false},
	},
}

// Enumeration values of onnx.proto3: TensorProto.DataType and
// AttributeProto.AttributeType.
const (
	specFLOAT = 1 // DataType FLOAT
	specINT64 = 7 // DataType INT64

	specAttrFLOAT = 1 // AttributeType FLOAT
	specAttrINT   = 2 // AttributeType INT
	specAttrINTS  = 7 // AttributeType INTS
)

// pbVal is one value of a field.
type pbVal struct {
	u    uint64  // pbVarint
	f    float32 // pbFloat
	s    string  // pbBytes
	m    *pbMsg  // pbMsgK
	ints []int64 // pbInts: all occurrences of the field, concatenated
}

// pbMsg is a decoded message: the values of its fields by name, in order.
type pbMsg struct {
	path string // where in the file, for messages
	typ  string
	f    map[string][]pbVal
}

// readPB decodes b as a message of type typ, failing the test on malformed
// input, on a field number typ does not have, on a field of the wrong wire
// type, and on a singular field that occurs more than once.
func readPB(t *testing.T, typ, path string, b []byte) *pbMsg {
	t.Helper()
	spec, ok := onnxProto[typ]
	if !ok {
		t.Fatalf("no specification for %s", typ)
	}
	m := &pbMsg{path: path, typ: typ, f: map[string][]pbVal{}}
	uvarint := func(what string) uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatalf("%s (%s): bad varint in %s", path, typ, what)
		}
		b = b[n:]
		return v
	}
	for len(b) > 0 {
		key := uvarint("a key")
		num, wire := int(key>>3), int(key&7)
		fs, ok := spec[num]
		if !ok {
			t.Fatalf("%s: field number %d (wire type %d) is not one of the %s fields of onnx.proto3 an export may hold", path, num, wire, typ)
		}
		where := fmt.Sprintf("%s.%s", path, fs.name)
		var v pbVal
		var data []byte
		if wire == 2 {
			l := uvarint(where + " length")
			if uint64(len(b)) < l {
				t.Fatalf("%s: length %d runs past the end of %s", where, l, path)
			}
			data, b = b[:l], b[l:]
		}
		want := map[pbKind]int{pbVarint: 0, pbFloat: 5, pbBytes: 2, pbMsgK: 2}[fs.kind]
		if fs.kind == pbInts && wire == 0 {
			want = 0
		} else if fs.kind == pbInts {
			want = 2
		}
		if wire != want {
			t.Fatalf("%s (field %d of %s): wire type %d, want %d", where, num, typ, wire, want)
		}
		switch fs.kind {
		case pbVarint:
			v.u = uvarint(where)
		case pbFloat:
			if len(b) < 4 {
				t.Fatalf("%s: short float", where)
			}
			v.f, b = math.Float32frombits(binary.LittleEndian.Uint32(b)), b[4:]
		case pbBytes:
			v.s = string(data)
		case pbMsgK:
			v.m = readPB(t, fs.msg, fmt.Sprintf("%s[%d]", where, len(m.f[fs.name])), data)
		case pbInts:
			if wire == 0 {
				v.ints = []int64{int64(uvarint(where))}
			}
			for len(data) > 0 {
				x, n := binary.Uvarint(data)
				if n <= 0 {
					t.Fatalf("%s: bad packed varint", where)
				}
				v.ints, data = append(v.ints, int64(x)), data[n:]
			}
			if prev := m.f[fs.name]; len(prev) > 0 { // occurrences concatenate
				prev[0].ints = append(prev[0].ints, v.ints...)
				continue
			}
		}
		if !fs.rep && len(m.f[fs.name]) > 0 {
			t.Fatalf("%s: singular field %d occurs twice", where, num)
		}
		m.f[fs.name] = append(m.f[fs.name], v)
	}
	return m
}

// readModel decodes an ONNX file.
func readModel(t *testing.T, b []byte) *pbMsg {
	t.Helper()
	return readPB(t, "ModelProto", "model", b)
}

func (m *pbMsg) has(name string) bool { return len(m.f[name]) > 0 }

func (m *pbMsg) all(name string) []pbVal { return m.f[name] }

// one returns the value of a field that must be present.
func (m *pbMsg) one(t *testing.T, name string) pbVal {
	t.Helper()
	if _, ok := m.fieldSpec(name); !ok {
		t.Fatalf("test error: %s has no field %q", m.typ, name)
	}
	vs := m.f[name]
	if len(vs) != 1 {
		t.Fatalf("%s.%s occurs %d times, want once", m.path, name, len(vs))
	}
	return vs[0]
}

func (m *pbMsg) fieldSpec(name string) (pbSpec, bool) {
	for _, s := range onnxProto[m.typ] {
		if s.name == name {
			return s, true
		}
	}
	return pbSpec{}, false
}

func (m *pbMsg) str(t *testing.T, name string) string { t.Helper(); return m.one(t, name).s }
func (m *pbMsg) int(t *testing.T, name string) int64  { t.Helper(); return int64(m.one(t, name).u) }
func (m *pbMsg) msg(t *testing.T, name string) *pbMsg { t.Helper(); return m.one(t, name).m }

// strs returns a repeated string field.
func (m *pbMsg) strs(name string) []string {
	var out []string
	for _, v := range m.f[name] {
		out = append(out, v.s)
	}
	return out
}

// ints returns a repeated int64 field (empty when absent).
func (m *pbMsg) ints(name string) []int64 {
	if vs := m.f[name]; len(vs) > 0 {
		return vs[0].ints
	}
	return nil
}

// shape returns a ValueInfoProto's float tensor shape as strings
// ("N", "69", ...).
func (m *pbMsg) shape(t *testing.T) string {
	t.Helper()
	tt := m.msg(t, "type").msg(t, "tensor_type")
	if et := tt.int(t, "elem_type"); et != specFLOAT {
		t.Errorf("%s: elem_type %d, want FLOAT", m.path, et)
	}
	var out []string
	for _, d := range tt.msg(t, "shape").all("dim") {
		if d.m.has("dim_param") {
			out = append(out, d.m.str(t, "dim_param"))
		} else {
			out = append(out, fmt.Sprint(d.m.int(t, "dim_value")))
		}
	}
	return strings.Join(out, ",")
}

// attrs returns a NodeProto's attributes by name, checking that each says
// in its type which of its value fields it uses and holds that one only.
func (m *pbMsg) attrs(t *testing.T) map[string]*pbMsg {
	t.Helper()
	out := map[string]*pbMsg{}
	for _, a := range m.all("attribute") {
		name := a.m.str(t, "name")
		field := map[int64]string{specAttrFLOAT: "f", specAttrINT: "i", specAttrINTS: "ints"}[a.m.int(t, "type")]
		for _, f := range []string{"f", "i", "s", "ints"} {
			if a.m.has(f) != (f == field) {
				t.Errorf("%s: attribute %s of type %d has field %s: %v", m.path, name, a.m.int(t, "type"), f, a.m.has(f))
			}
		}
		out[name] = a.m
	}
	return out
}

// metadata returns a ModelProto's metadata_props.
func (m *pbMsg) metadata(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range m.all("metadata_props") {
		k := e.m.str(t, "key")
		if _, dup := out[k]; dup {
			t.Errorf("metadata key %q twice", k)
		}
		out[k] = e.m.str(t, "value")
	}
	return out
}

// checkGraph checks what any ONNX reader relies on: every node reads values
// defined before it (graph inputs, initializers, earlier node outputs),
// names are not defined twice, the outputs are computed, and each
// initializer's raw_data holds exactly its dims' count of values of its
// data_type. It returns the initializers by name.
func checkGraph(t *testing.T, g *pbMsg) map[string]*pbMsg {
	t.Helper()
	defined := map[string]bool{}
	def := func(n string) {
		if n == "" || defined[n] {
			t.Errorf("value %q empty or defined twice", n)
		}
		defined[n] = true
	}
	for _, in := range g.all("input") {
		def(in.m.str(t, "name"))
	}
	inits := map[string]*pbMsg{}
	for _, in := range g.all("initializer") {
		tm := in.m
		name := tm.str(t, "name")
		def(name)
		inits[name] = tm
		size := int64(map[int64]int{specFLOAT: 4, specINT64: 8}[tm.int(t, "data_type")])
		if size == 0 {
			t.Errorf("initializer %s: data_type %d", name, tm.int(t, "data_type"))
		}
		for _, d := range tm.ints("dims") {
			size *= d
		}
		if n := int64(len(tm.str(t, "raw_data"))); n != size {
			t.Errorf("initializer %s: %d bytes of raw_data for dims %v", name, n, tm.ints("dims"))
		}
	}
	for _, n := range g.all("node") {
		for _, in := range n.m.strs("input") {
			if !defined[in] {
				t.Errorf("%s (%s) reads %q before it is defined", n.m.path, n.m.str(t, "op_type"), in)
			}
		}
		for _, out := range n.m.strs("output") {
			def(out)
		}
	}
	for _, o := range g.all("output") {
		if !defined[o.m.str(t, "name")] {
			t.Errorf("output %q not computed", o.m.str(t, "name"))
		}
	}
	return inits
}

// float32s and int64s decode a TensorProto's little-endian raw_data.
func float32s(t *testing.T, tm *pbMsg) []float32 {
	t.Helper()
	if tm.int(t, "data_type") != specFLOAT {
		t.Fatalf("%s: not FLOAT", tm.path)
	}
	raw := tm.str(t, "raw_data")
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32([]byte(raw[4*i:])))
	}
	return out
}

func int64s(t *testing.T, tm *pbMsg) []int64 {
	t.Helper()
	if tm.int(t, "data_type") != specINT64 {
		t.Fatalf("%s: not INT64", tm.path)
	}
	raw := tm.str(t, "raw_data")
	out := make([]int64, len(raw)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64([]byte(raw[8*i:])))
	}
	return out
}

// TestWireBytes compares the encoding of a tiny model, one of every field
// and attribute kind the package writes, with bytes written out by hand from
// onnx.proto3 and the protobuf encoding rules: key = field number << 3 |
// wire type (0 varint, 2 length-delimited, 5 32-bit), fields in number
// order as protobuf serializers write them, repeated int64 packed (proto3's
// default). Python's onnx 1.12 reads these bytes as the model built here
// (checked when the test was written: onnx.load_from_string, then printing
// the model; re-serialized, they differ only in the repeated int64 fields,
// which its proto2 onnx.proto writes unpacked).
func TestWireBytes(t *testing.T) {
	g := &onnx.Graph{Name: "t", Doc: "G"}
	x := g.Input("x", "X", onnx.Dim{Param: "N"}, onnx.Dim{Value: 2})
	w := g.Floats("w", []float32{1, -2}, 2)
	g.Int64s("s", []int64{-1}, 1)
	g.Op("Mul", "y", []string{x, w}, onnx.AttrFloat("f", 0.5), onnx.AttrInt("i", -1), onnx.AttrInts("p", 1, 300))
	g.Nodes[0].Doc = "D"
	g.Output("y", "", onnx.Dim{Param: "N"}, onnx.Dim{Value: 2})
	m := &onnx.Model{IRVersion: 8, Opset: 13, ProducerName: "galaxy", ProducerVersion: "1", Doc: "M",
		Graph: g, Metadata: [][2]string{{"k", "v"}}}
	got, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := golden(t, `
		08 08                      ModelProto.ir_version (1, varint) = 8
		12 06 67616c617879         producer_name (2) = "galaxy"
		1a 01 31                   producer_version (3) = "1"
		32 01 4d                   doc_string (6) = "M"
		3a a401                    graph (7), 164 bytes:
		  0a 45                      GraphProto.node (1), 69 bytes:
		    0a 01 78                   NodeProto.input (1) = "x"
		    0a 01 77                   input = "w"
		    12 01 79                   output (2) = "y"
		    1a 05 4d756c5f79           name (3) = "Mul_y"
		    22 03 4d756c               op_type (4) = "Mul"
		    2a 0b                      attribute (5), 11 bytes:
		      0a 01 66                   AttributeProto.name (1) = "f"
		      15 0000003f                f (2, 32-bit) = 0.5
		      a001 01                    type (20) = FLOAT (1)
		    2a 11                      attribute, 17 bytes:
		      0a 01 69                   name = "i"
		      18 ffffffffffffffffff01    i (3) = -1 (ten-byte varint)
		      a001 02                    type = INT (2)
		    2a 0b                      attribute, 11 bytes:
		      0a 01 70                   name = "p"
		      42 03 01ac02               ints (8, packed) = 1, 300
		      a001 07                    type = INTS (7)
		    32 01 44                   doc_string (6) = "D"
		  12 01 74                   name (2) = "t"
		  2a 12                      initializer (5), 18 bytes:
		    0a 01 02                   TensorProto.dims (1, packed) = 2
		    10 01                      data_type (2) = FLOAT (1)
		    42 01 77                   name (8) = "w"
		    4a 08 0000803f 000000c0    raw_data (9) = 1.0, -2.0 little-endian
		  2a 12                      initializer, 18 bytes:
		    0a 01 01                   dims = 1
		    10 07                      data_type = INT64 (7)
		    42 01 73                   name = "s"
		    4a 08 ffffffffffffffff     raw_data = -1
		  52 01 47                   doc_string (10) = "G"
		  5a 17                      input (11), 23 bytes:
		    0a 01 78                   ValueInfoProto.name (1) = "x"
		    12 0f                      type (2), 15 bytes:
		      0a 0d                      TypeProto.tensor_type (1), 13 bytes:
		        08 01                      elem_type (1) = FLOAT
		        12 09                      shape (2), 9 bytes:
		          0a 03 12 01 4e             TensorShapeProto.dim (1): dim_param (2) = "N"
		          0a 02 08 02                dim: dim_value (1) = 2
		    1a 01 58                   doc_string (3) = "X"
		  62 14                      output (12), 20 bytes:
		    0a 01 79                   name = "y"
		    12 0f 0a 0d 08 01 12 09 0a 03 12 01 4e 0a 02 08 02   type as above
		42 04                      opset_import (8), 4 bytes:
		  0a 00                      OperatorSetIdProto.domain (1) = ""
		  10 0d                      version (2) = 13
		72 06                      metadata_props (14), 6 bytes:
		  0a 01 6b 12 01 76          StringStringEntryProto key (1) = "k", value (2) = "v"
	`)
	if !bytesEqual(got, want) {
		t.Errorf("encoding differs from onnx.proto3's at byte %d:\ngot  %x\nwant %x", firstDiff(got, want), got, want)
	}
	// The independent reader reads the hand-written bytes as the model.
	r := readModel(t, want)
	gr := r.msg(t, "graph")
	a := gr.all("node")[0].m.attrs(t)
	if a["f"].one(t, "f").f != 0.5 || a["i"].int(t, "i") != -1 || fmt.Sprint(a["p"].ints("ints")) != "[1 300]" {
		t.Errorf("attributes read back as %v, %v, %v", a["f"].one(t, "f").f, a["i"].int(t, "i"), a["p"].ints("ints"))
	}
	inits := checkGraph(t, gr)
	if fmt.Sprint(float32s(t, inits["w"])) != "[1 -2]" || fmt.Sprint(int64s(t, inits["s"])) != "[-1]" {
		t.Errorf("initializers read back wrong")
	}
	if s := gr.all("input")[0].m.shape(t); s != "N,2" {
		t.Errorf("input shape %s", s)
	}
}

// golden decodes hex bytes written one field a line, each line's hex
// digits followed by at least two spaces and a comment.
func golden(t *testing.T, s string) []byte {
	t.Helper()
	var h strings.Builder
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if i := strings.Index(line, "   "); i >= 0 {
			line = line[:i]
		}
		h.WriteString(strings.ReplaceAll(line, " ", ""))
	}
	b, err := hex.DecodeString(h.String())
	if err != nil {
		t.Fatalf("golden hex: %v", err)
	}
	return b
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

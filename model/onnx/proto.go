package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The ONNX file format is a protobuf ModelProto (onnx/onnx.proto). This file
// writes the few messages an exported network needs by hand, in the protobuf
// wire format: each field is a key (field number << 3 | wire type) followed
// by a varint (wire type 0) or a length and bytes (wire type 2, for strings,
// packed numbers and nested messages). Field numbers are onnx.proto's.

// Protobuf wire types.
const (
	wireVarint = 0
	wireBytes  = 2
)

// Field numbers of onnx.proto.
const (
	// ModelProto
	modelIRVersion     = 1
	modelProducerName  = 2
	modelProducerVer   = 3
	modelDocString     = 6
	modelGraph         = 7
	modelOpsetImport   = 8
	modelMetadataProps = 14
	// OperatorSetIdProto
	opsetDomain  = 1
	opsetVersion = 2
	// StringStringEntryProto
	entryKey   = 1
	entryValue = 2
	// GraphProto
	graphNode        = 1
	graphName        = 2
	graphInitializer = 5
	graphDocString   = 10
	graphInput       = 11
	graphOutput      = 12
	// NodeProto
	nodeInput     = 1
	nodeOutput    = 2
	nodeName      = 3
	nodeOpType    = 4
	nodeAttribute = 5
	nodeDocString = 6
	// AttributeProto
	attrName   = 1
	attrF      = 2
	attrI      = 3
	attrInts   = 8
	attrType   = 20
	attrFloat  = 1 // AttributeProto.AttributeType values
	attrInt    = 2
	attrIntsTy = 7
	// TensorProto
	tensorDims     = 1
	tensorDataType = 2
	tensorName     = 8
	tensorRawData  = 9
	// ValueInfoProto
	valueName      = 1
	valueType      = 2
	valueDocString = 3
	// TypeProto, TypeProto.Tensor, TensorShapeProto(.Dimension)
	typeTensorType = 1
	tensorElemType = 1
	tensorShape    = 2
	shapeDim       = 1
	dimValue       = 1
	dimParam       = 2
)

// TensorProto.DataType values.
const (
	Float32 = 1
	Int64   = 7
)

// buf is a protobuf message being written.
type buf []byte

func (b *buf) varint(v uint64) { *b = binary.AppendUvarint(*b, v) }

func (b *buf) key(field, wire int) { b.varint(uint64(field)<<3 | uint64(wire)) }

// int writes an int64/int32 field (negative values as ten-byte varints, as protobuf does).
func (b *buf) int(field int, v int64) {
	b.key(field, wireVarint)
	b.varint(uint64(v))
}

func (b *buf) bytes(field int, p []byte) {
	b.key(field, wireBytes)
	b.varint(uint64(len(p)))
	*b = append(*b, p...)
}

func (b *buf) str(field int, s string) { b.bytes(field, []byte(s)) }

// float writes a 32-bit float field (wire type 5).
func (b *buf) float(field int, f float32) {
	b.key(field, 5)
	*b = binary.LittleEndian.AppendUint32(*b, math.Float32bits(f))
}

// packedInts writes a repeated int64 field packed.
func (b *buf) packedInts(field int, vs []int64) {
	var p buf
	for _, v := range vs {
		p.varint(uint64(v))
	}
	b.bytes(field, p)
}

// Dim is one dimension of a graph input or output: a fixed size, or a
// symbolic name (Param, e.g. "N" for the batch) when Param is not empty.
type Dim struct {
	Value int64
	Param string
}

// ValueInfo names a float32 graph input or output and its shape.
type ValueInfo struct {
	Name string
	Dims []Dim
	Doc  string
}

// Tensor is an initializer: a named constant, row-major.
type Tensor struct {
	Name    string
	Dims    []int64
	Float32 []float32 // data when DataType is Float32
	Int64   []int64   // data when DataType is Int64
}

// Attr is a node attribute of one of the kinds the exporters use.
type Attr struct {
	Name string
	Kind int // attrInt, attrFloat or attrIntsTy
	I    int64
	F    float32
	Ints []int64
}

// AttrInt, AttrFloat and AttrInts make attributes.
func AttrInt(name string, v int64) Attr      { return Attr{Name: name, Kind: attrInt, I: v} }
func AttrFloat(name string, v float32) Attr  { return Attr{Name: name, Kind: attrFloat, F: v} }
func AttrInts(name string, vs ...int64) Attr { return Attr{Name: name, Kind: attrIntsTy, Ints: vs} }

// Node is one operator application.
type Node struct {
	Op      string
	Name    string
	Inputs  []string
	Outputs []string
	Attrs   []Attr
	Doc     string
}

// Graph is a computation graph being built: initializers, nodes in
// topological order (the order they are added), and the graph's inputs and
// outputs. Exporters for each architecture add to it.
type Graph struct {
	Name         string
	Doc          string
	Inputs       []ValueInfo
	Outputs      []ValueInfo
	Initializers []Tensor
	Nodes        []Node
}

// Input declares a float32 graph input.
func (g *Graph) Input(name, doc string, dims ...Dim) string {
	g.Inputs = append(g.Inputs, ValueInfo{Name: name, Dims: dims, Doc: doc})
	return name
}

// Output declares a float32 graph output (a value some node produces).
func (g *Graph) Output(name, doc string, dims ...Dim) {
	g.Outputs = append(g.Outputs, ValueInfo{Name: name, Dims: dims, Doc: doc})
}

// Floats adds a float32 initializer and returns its name.
func (g *Graph) Floats(name string, data []float32, dims ...int64) string {
	g.Initializers = append(g.Initializers, Tensor{Name: name, Dims: dims, Float32: data})
	return name
}

// Int64s adds an int64 initializer and returns its name.
func (g *Graph) Int64s(name string, data []int64, dims ...int64) string {
	g.Initializers = append(g.Initializers, Tensor{Name: name, Dims: dims, Int64: data})
	return name
}

// Op adds a node computing op on inputs into one output named out, and
// returns out.
func (g *Graph) Op(op, out string, inputs []string, attrs ...Attr) string {
	g.Nodes = append(g.Nodes, Node{Op: op, Name: op + "_" + out, Inputs: inputs, Outputs: []string{out}, Attrs: attrs})
	return out
}

// Rename gives value v the name out: v must be the output of the last node
// added, which is renamed; otherwise an Identity node copies v to out.
func (g *Graph) Rename(v, out string) string {
	if n := len(g.Nodes); n > 0 && len(g.Nodes[n-1].Outputs) == 1 && g.Nodes[n-1].Outputs[0] == v {
		nd := &g.Nodes[n-1]
		nd.Outputs[0], nd.Name = out, nd.Op+"_"+out
		return out
	}
	return g.Op("Identity", out, []string{v})
}

// Check reports a graph whose names are duplicated, whose nodes read a value
// nothing defined before them, or whose outputs nothing produces.
func (g *Graph) Check() error {
	defined := map[string]bool{}
	def := func(n, what string) error {
		if n == "" {
			return fmt.Errorf("onnx graph: %s has no name", what)
		}
		if defined[n] {
			return fmt.Errorf("onnx graph: value %q defined twice", n)
		}
		defined[n] = true
		return nil
	}
	for _, v := range g.Inputs {
		if err := def(v.Name, "an input"); err != nil {
			return err
		}
	}
	for _, t := range g.Initializers {
		if err := def(t.Name, "an initializer"); err != nil {
			return err
		}
		size := int64(1)
		for _, d := range t.Dims {
			size *= d
		}
		if n := int64(len(t.Float32) + len(t.Int64)); n != size {
			return fmt.Errorf("onnx graph: initializer %q has %d values for shape %v", t.Name, n, t.Dims)
		}
	}
	for _, nd := range g.Nodes {
		for _, in := range nd.Inputs {
			if !defined[in] {
				return fmt.Errorf("onnx graph: node %s reads %q before anything defines it", nd.Name, in)
			}
		}
		for _, out := range nd.Outputs {
			if err := def(out, "a node output"); err != nil {
				return err
			}
		}
	}
	for _, v := range g.Outputs {
		if !defined[v.Name] {
			return fmt.Errorf("onnx graph: output %q is not computed", v.Name)
		}
	}
	return nil
}

// Model is an ONNX model: a graph, the operator set it uses, and metadata.
type Model struct {
	IRVersion       int64
	Opset           int64
	ProducerName    string
	ProducerVersion string
	Doc             string
	Graph           *Graph
	Metadata        [][2]string // metadata_props, key and value, in order
}

// Marshal encodes the model as an ONNX file (a ModelProto).
func (m *Model) Marshal() ([]byte, error) {
	if err := m.Graph.Check(); err != nil {
		return nil, err
	}
	var b buf
	b.int(modelIRVersion, m.IRVersion)
	b.str(modelProducerName, m.ProducerName)
	if m.ProducerVersion != "" {
		b.str(modelProducerVer, m.ProducerVersion)
	}
	if m.Doc != "" {
		b.str(modelDocString, m.Doc)
	}
	b.bytes(modelGraph, m.Graph.marshal())
	var op buf
	op.str(opsetDomain, "")
	op.int(opsetVersion, m.Opset)
	b.bytes(modelOpsetImport, op)
	for _, kv := range m.Metadata {
		var e buf
		e.str(entryKey, kv[0])
		e.str(entryValue, kv[1])
		b.bytes(modelMetadataProps, e)
	}
	return b, nil
}

func (g *Graph) marshal() []byte {
	var b buf
	for _, n := range g.Nodes {
		b.bytes(graphNode, n.marshal())
	}
	b.str(graphName, g.Name)
	for _, t := range g.Initializers {
		b.bytes(graphInitializer, t.marshal())
	}
	if g.Doc != "" {
		b.str(graphDocString, g.Doc)
	}
	for _, v := range g.Inputs {
		b.bytes(graphInput, v.marshal())
	}
	for _, v := range g.Outputs {
		b.bytes(graphOutput, v.marshal())
	}
	return b
}

func (n Node) marshal() []byte {
	var b buf
	for _, in := range n.Inputs {
		b.str(nodeInput, in)
	}
	for _, out := range n.Outputs {
		b.str(nodeOutput, out)
	}
	if n.Name != "" {
		b.str(nodeName, n.Name)
	}
	b.str(nodeOpType, n.Op)
	for _, a := range n.Attrs {
		var ab buf
		ab.str(attrName, a.Name)
		switch a.Kind {
		case attrFloat:
			ab.float(attrF, a.F)
		case attrInt:
			ab.int(attrI, a.I)
		case attrIntsTy:
			ab.packedInts(attrInts, a.Ints)
		}
		ab.int(attrType, int64(a.Kind))
		b.bytes(nodeAttribute, ab)
	}
	if n.Doc != "" {
		b.str(nodeDocString, n.Doc)
	}
	return b
}

func (t Tensor) marshal() []byte {
	var b buf
	b.packedInts(tensorDims, t.Dims)
	raw := make([]byte, 0, 4*len(t.Float32)+8*len(t.Int64))
	if t.Int64 != nil {
		b.int(tensorDataType, Int64)
		for _, v := range t.Int64 {
			raw = binary.LittleEndian.AppendUint64(raw, uint64(v))
		}
	} else {
		b.int(tensorDataType, Float32)
		for _, v := range t.Float32 {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	}
	b.str(tensorName, t.Name)
	b.bytes(tensorRawData, raw)
	return b
}

func (v ValueInfo) marshal() []byte {
	var shape buf
	for _, d := range v.Dims {
		var db buf
		if d.Param != "" {
			db.str(dimParam, d.Param)
		} else {
			db.int(dimValue, d.Value)
		}
		shape.bytes(shapeDim, db)
	}
	var tt buf
	tt.int(tensorElemType, Float32)
	tt.bytes(tensorShape, shape)
	var ty buf
	ty.bytes(typeTensorType, tt)
	var b buf
	b.str(valueName, v.Name)
	b.bytes(valueType, ty)
	if v.Doc != "" {
		b.str(valueDocString, v.Doc)
	}
	return b
}

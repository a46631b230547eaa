package onnx

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"galaxy/model"
	"galaxy/model/modelfile"
	"galaxy/model/seed"
)

// seedModel returns an untrained seed network on h x w images of the given
// source channels, with d hidden units and k classes.
func seedModel(t *testing.T, h, w int, chans []int, d, k int, s uint64) *model.Model {
	t.Helper()
	n := h * w * len(chans)
	net, err := seed.New(n, d, k, rand.New(rand.NewPCG(s, 7)))
	if err != nil {
		t.Fatal(err)
	}
	classes := []string{"smooth", "face-on spiral", "edge-on disk", "merger", "other"}[:k]
	return &model.Model{Net: net, Meta: modelfile.Meta{Arch: model.ArchSeed, Scheme: "test",
		Classes: classes,
		Input:   modelfile.Input{Height: h, Width: w, Channels: chans, ChannelSpec: "test", SourceChannels: 3, Scale: 1.0 / 256},
		Hyper:   map[string]int{"hidden": d}}}
}

// field is one decoded protobuf field.
type field struct {
	num, wire int
	v         uint64 // varint or fixed32 value
	b         []byte // length-delimited content
}

// decode splits a protobuf message into its fields, failing on malformed input.
func decode(t *testing.T, b []byte) []field {
	t.Helper()
	var fs []field
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatalf("bad key varint")
		}
		b = b[n:]
		f := field{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case 0:
			f.v, n = binary.Uvarint(b)
			if n <= 0 {
				t.Fatalf("field %d: bad varint", f.num)
			}
			b = b[n:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				t.Fatalf("field %d: bad length", f.num)
			}
			f.b = b[n : n+int(l)]
			b = b[n+int(l):]
		case 5:
			if len(b) < 4 {
				t.Fatalf("field %d: short fixed32", f.num)
			}
			f.v = uint64(binary.LittleEndian.Uint32(b))
			b = b[4:]
		default:
			t.Fatalf("field %d: unexpected wire type %d", f.num, f.wire)
		}
		fs = append(fs, f)
	}
	return fs
}

func get(fs []field, num int) []field {
	var out []field
	for _, f := range fs {
		if f.num == num {
			out = append(out, f)
		}
	}
	return out
}

func one(t *testing.T, fs []field, num int) field {
	t.Helper()
	g := get(fs, num)
	if len(g) != 1 {
		t.Fatalf("field %d occurs %d times, want once", num, len(g))
	}
	return g[0]
}

func strs(fs []field, num int) []string {
	var out []string
	for _, f := range get(fs, num) {
		out = append(out, string(f.b))
	}
	return out
}

// dims decodes a ValueInfoProto's shape as strings ("N", "69", ...).
func dims(t *testing.T, vi []field) []string {
	ty := decode(t, one(t, vi, valueType).b)
	tt := decode(t, one(t, ty, typeTensorType).b)
	if et := one(t, tt, tensorElemType).v; et != Float32 {
		t.Errorf("elem_type %d, want float", et)
	}
	var out []string
	for _, d := range get(decode(t, one(t, tt, tensorShape).b), shapeDim) {
		df := decode(t, d.b)
		if p := get(df, dimParam); len(p) > 0 {
			out = append(out, string(p[0].b))
		} else {
			out = append(out, fmt.Sprint(one(t, df, dimValue).v))
		}
	}
	return out
}

// TestStructure decodes the exported protobuf and checks it field by field.
func TestStructure(t *testing.T) {
	m := seedModel(t, 69, 69, []int{2}, 6, 4, 1)
	om, err := Export(m)
	if err != nil {
		t.Fatal(err)
	}
	b, err := om.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	mp := decode(t, b)
	if v := one(t, mp, modelIRVersion).v; v != 8 {
		t.Errorf("ir_version %d", v)
	}
	if s := string(one(t, mp, modelProducerName).b); s != "galaxy" {
		t.Errorf("producer_name %q", s)
	}
	op := decode(t, one(t, mp, modelOpsetImport).b)
	if v := one(t, op, opsetVersion).v; v != Opset {
		t.Errorf("opset %d", v)
	}
	if doc := string(one(t, mp, modelDocString).b); !strings.Contains(doc, "0..255") {
		t.Errorf("doc_string does not describe the input: %q", doc)
	}
	meta := map[string]string{}
	for _, e := range get(mp, modelMetadataProps) {
		ef := decode(t, e.b)
		meta[string(one(t, ef, entryKey).b)] = string(one(t, ef, entryValue).b)
	}
	var classes []string
	if err := json.Unmarshal([]byte(meta["classes"]), &classes); err != nil || strings.Join(classes, ",") != "smooth,face-on spiral,edge-on disk,merger" {
		t.Errorf("metadata classes %q (%v)", meta["classes"], err)
	}
	if meta["scheme"] != "test" || meta["channels"] != "[2]" || meta["arch"] != "seed-mlp" {
		t.Errorf("metadata %v", meta)
	}

	g := decode(t, one(t, mp, modelGraph).b)
	var ops []string
	for _, n := range get(g, graphNode) {
		nf := decode(t, n.b)
		ops = append(ops, string(one(t, nf, nodeOpType).b))
		if string(one(t, nf, nodeOpType).b) == "Gemm" {
			a := decode(t, one(t, nf, nodeAttribute).b)
			if string(one(t, a, attrName).b) != "transB" || one(t, a, attrI).v != 1 || one(t, a, attrType).v != attrInt {
				t.Errorf("Gemm attribute %v", a)
			}
		}
	}
	if got := strings.Join(ops, " "); got != "Mul Reshape Gemm Tanh Gemm Sigmoid ReduceSum Div" {
		t.Errorf("nodes %s", got)
	}
	in := get(g, graphInput)
	if len(in) != 1 {
		t.Fatalf("%d inputs", len(in))
	}
	inf := decode(t, in[0].b)
	if name, d := string(one(t, inf, valueName).b), strings.Join(dims(t, inf), ","); name != "image" || d != "N,69,69,1" {
		t.Errorf("input %s [%s]", name, d)
	}
	var outs []string
	for _, o := range get(g, graphOutput) {
		of := decode(t, o.b)
		outs = append(outs, string(one(t, of, valueName).b)+"["+strings.Join(dims(t, of), ",")+"]")
	}
	if got := strings.Join(outs, " "); got != "logits[N,4] scores[N,4] probabilities[N,4]" {
		t.Errorf("outputs %s", got)
	}
	p := m.Net.(*seed.Net).Params()
	found := 0
	for _, in := range get(g, graphInitializer) {
		tf := decode(t, in.b)
		if string(one(t, tf, tensorName).b) != "W1" {
			continue
		}
		found++
		var shape []uint64
		for pk := one(t, tf, tensorDims).b; len(pk) > 0; { // packed varints
			v, n := binary.Uvarint(pk)
			shape, pk = append(shape, v), pk[n:]
		}
		if fmt.Sprint(shape) != "[6 4761]" || one(t, tf, tensorDataType).v != Float32 {
			t.Errorf("W1 dims %v, data_type %d", shape, one(t, tf, tensorDataType).v)
		}
		raw := one(t, tf, tensorRawData).b
		if len(raw) != 4*len(p.W1) {
			t.Fatalf("W1 raw_data %d bytes, want %d", len(raw), 4*len(p.W1))
		}
		for i, w := range p.W1 {
			if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); got != w {
				t.Fatalf("W1[%d] = %g, want %g", i, got, w)
			}
		}
	}
	if found != 1 {
		t.Errorf("W1 initializer found %d times", found)
	}
}

func TestUnknownArchitecture(t *testing.T) {
	m := seedModel(t, 5, 5, []int{0}, 2, 2, 1)
	m.Meta.Arch = "cnn"
	_, err := Export(m)
	if err == nil || !strings.Contains(err.Error(), `"cnn"`) {
		t.Fatalf("err = %v, want one naming the architecture", err)
	}
}

func TestGraphCheck(t *testing.T) {
	g := &Graph{Name: "g"}
	x := g.Input("x", "", Dim{Param: "N"})
	g.Op("Tanh", "y", []string{x, "missing"})
	g.Output("y", "")
	if err := g.Check(); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("err = %v", err)
	}
}

// TestPythonONNXChecker runs onnx.checker.check_model (Debian's python3-onnx)
// on an exported model when it is installed.
func TestPythonONNXChecker(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import onnx").Run(); err != nil {
		t.Skip("python3-onnx not installed (apt-get install python3-onnx); structure checked by TestStructure only")
	}
	m := seedModel(t, 69, 69, []int{0, 1, 2}, 5, 3, 2)
	path := filepath.Join(t.TempDir(), "m.onnx")
	writeModel(t, m, path)
	out, err := exec.Command(py, "-c", `import onnx, sys
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
print(m.ir_version, m.opset_import[0].version, [o.name for o in m.graph.output])`, path).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx.checker: %v\n%s", err, out)
	}
	t.Logf("onnx.checker: ok: %s", bytes.TrimSpace(out))
}

func writeModel(t *testing.T, m *model.Model, path string) {
	t.Helper()
	om, err := Export(m)
	if err != nil {
		t.Fatal(err)
	}
	b, err := om.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ortDir returns the folder where onnxruntime-node is installed, or "".
func ortDir() string {
	dir := os.Getenv("GALAXY_ONNXRUNTIME_NODE_DIR")
	if dir == "" {
		dir, _ = filepath.Abs(filepath.Join("..", "..", ".cache-onnx"))
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		return ""
	}
	return dir
}

type ortTensor struct {
	Dims []int     `json:"dims"`
	Data []float64 `json:"data"`
}

// TestONNXRuntimeMatches runs exported models in ONNX Runtime and compares
// their outputs with the Model's own to 1e-5.
func TestONNXRuntimeMatches(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: the ONNX Runtime comparison needs Node.js and onnxruntime-node")
	}
	dir := ortDir()
	if dir == "" {
		t.Skip("onnxruntime-node not found: set GALAXY_ONNXRUNTIME_NODE_DIR to a folder where `npm install --ignore-scripts onnxruntime-node` was run (.ci/run does), or install it in .cache-onnx")
	}
	script, _ := filepath.Abs(filepath.Join("testdata", "run_ort.js"))
	worst := 0.0
	for _, c := range []struct {
		name       string
		h, w       int
		chans      []int
		d, k, b    int
		seed       uint64
		pixelRange int
	}{
		{"g-band 69x69", 69, 69, []int{2}, 8, 4, 3, 1, 256},
		{"irg 69x69", 69, 69, []int{0, 1, 2}, 5, 3, 2, 2, 256},
		{"tiny batch 1", 4, 3, []int{1, 0}, 3, 5, 1, 3, 256},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := seedModel(t, c.h, c.w, c.chans, c.d, c.k, c.seed)
			tmp := t.TempDir()
			mpath := filepath.Join(tmp, "m.onnx")
			writeModel(t, m, mpath)
			n := m.Dim()
			rng := rand.New(rand.NewPCG(c.seed, 99))
			pix := make([]float32, c.b*n)
			x := make([]float32, c.b*n)
			for i := range pix {
				pix[i] = float32(rng.IntN(c.pixelRange))
				x[i] = pix[i] * float32(m.Meta.Input.Scale)
			}
			in, _ := json.Marshal(map[string]any{"dims": []int{c.b, c.h, c.w, len(c.chans)}, "data": pix})
			ipath := filepath.Join(tmp, "in.json")
			if err := os.WriteFile(ipath, in, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(node, script, mpath, ipath)
			cmd.Env = append(os.Environ(), "GALAXY_ONNXRUNTIME_NODE_DIR="+dir)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("node run_ort.js: %v\n%s", err, stderr.String())
			}
			var res struct {
				InputNames  []string             `json:"inputNames"`
				OutputNames []string             `json:"outputNames"`
				Outputs     map[string]ortTensor `json:"outputs"`
			}
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("run_ort.js output: %v", err)
			}
			if strings.Join(res.InputNames, ",") != "image" || strings.Join(res.OutputNames, ",") != "logits,scores,probabilities" {
				t.Fatalf("ONNX Runtime sees inputs %v, outputs %v", res.InputNames, res.OutputNames)
			}
			k := m.K()
			logits := make([]float32, c.b*k)
			m.Net.Logits(x, c.b, logits)
			want := map[string][]float32{"logits": logits, "scores": make([]float32, c.b*k), "probabilities": make([]float32, c.b*k)}
			for r := 0; r < c.b; r++ {
				for j := 0; j < k; j++ {
					want["scores"][r*k+j] = seed.Sigmoid(logits[r*k+j])
				}
				m.Probabilities(logits[r*k:(r+1)*k], want["probabilities"][r*k:(r+1)*k])
			}
			for name, w := range want {
				got := res.Outputs[name]
				if fmt.Sprint(got.Dims) != fmt.Sprint([]int{c.b, k}) || len(got.Data) != len(w) {
					t.Fatalf("%s: dims %v, %d values; want [%d %d]", name, got.Dims, len(got.Data), c.b, k)
				}
				diff := 0.0
				for i := range w {
					diff = max(diff, math.Abs(got.Data[i]-float64(w[i])))
				}
				t.Logf("%s: max |ONNX Runtime - galaxy| = %.3g", name, diff)
				if diff > 1e-5 {
					t.Errorf("%s differs by %g (ORT %v, galaxy %v)", name, diff, got.Data, w)
				}
				worst = max(worst, diff)
			}
		})
	}
	t.Logf("largest difference over all outputs: %.3g", worst)
}

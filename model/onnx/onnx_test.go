package onnx_test

import (
	"bytes"
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
	"galaxy/model/cnn"
	"galaxy/model/modelfile"
	"galaxy/model/onnx"
	"galaxy/model/seed"
	"galaxy/num"
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
	return &model.Model{Net: net, Meta: modelfile.Meta{Arch: seed.Name, Scheme: "test",
		Classes: classes,
		Input:   modelfile.Input{Height: h, Width: w, Channels: chans, ChannelSpec: "test", SourceChannels: 3, Scale: 1.0 / 256},
		Hyper:   map[string]int{"hidden": d}}}
}

// TestStructure reads an exported seed model with the test's own ONNX reader
// (spec_test.go: field numbers from onnx.proto3, not proto.go's) and checks
// it field by field.
func TestStructure(t *testing.T) {
	m := seedModel(t, 69, 69, []int{2}, 6, 4, 1)
	om, err := onnx.Export(m)
	if err != nil {
		t.Fatal(err)
	}
	b, err := om.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	mp := readModel(t, b)
	if v := mp.int(t, "ir_version"); v != 8 {
		t.Errorf("ir_version %d", v)
	}
	if s := mp.str(t, "producer_name"); s != "galaxy" {
		t.Errorf("producer_name %q", s)
	}
	op := mp.all("opset_import")
	if len(op) != 1 || op[0].m.int(t, "version") != 13 || (op[0].m.has("domain") && op[0].m.str(t, "domain") != "") {
		t.Errorf("opset_import %d entries, want one: the default domain, version 13", len(op))
	}
	if doc := mp.str(t, "doc_string"); !strings.Contains(doc, "0..255") {
		t.Errorf("doc_string does not describe the input: %q", doc)
	}
	meta := mp.metadata(t)
	var classes []string
	if err := json.Unmarshal([]byte(meta["classes"]), &classes); err != nil || strings.Join(classes, ",") != "smooth,face-on spiral,edge-on disk,merger" {
		t.Errorf("metadata classes %q (%v)", meta["classes"], err)
	}
	if meta["scheme"] != "test" || meta["channels"] != "[2]" || meta["arch"] != "seed-mlp" || meta["height"] != "69" || meta["scale"] != "0.00390625" {
		t.Errorf("metadata %v", meta)
	}

	g := mp.msg(t, "graph")
	if name := g.str(t, "name"); name != "galaxy_seed-mlp" {
		t.Errorf("graph name %q", name)
	}
	inits := checkGraph(t, g)
	var ops, names []string
	for _, n := range g.all("node") {
		ops = append(ops, n.m.str(t, "op_type"))
		names = append(names, n.m.str(t, "name"))
		a := n.m.attrs(t)
		switch n.m.str(t, "op_type") {
		case "Gemm":
			if len(a) != 1 || a["transB"] == nil || a["transB"].int(t, "i") != 1 {
				t.Errorf("%s attributes %v", n.m.str(t, "name"), a)
			}
		case "ReduceSum":
			if len(a) != 1 || a["keepdims"] == nil || a["keepdims"].int(t, "i") != 1 {
				t.Errorf("ReduceSum attributes %v", a)
			}
			if in := n.m.strs("input"); len(in) != 2 || fmt.Sprint(int64s(t, inits[in[1]])) != "[1]" {
				t.Errorf("ReduceSum inputs %v: want the axes [1] second", in)
			}
		case "Reshape":
			if in := n.m.strs("input"); len(in) != 2 || fmt.Sprint(int64s(t, inits[in[1]])) != "[-1 4761]" {
				t.Errorf("Reshape inputs %v: want the shape [-1 4761] second", in)
			}
		default:
			if len(a) != 0 {
				t.Errorf("%s has attributes", n.m.str(t, "name"))
			}
		}
	}
	if got := strings.Join(ops, " "); got != "Mul Reshape Gemm Tanh Gemm Sigmoid ReduceSum Div" {
		t.Errorf("nodes %s", got)
	}
	if got := strings.Join(names, " "); got != "Mul_scaled Reshape_features Gemm_hidden_pre Tanh_hidden Gemm_logits Sigmoid_scores ReduceSum_scores_sum Div_probabilities" {
		t.Errorf("node names %s", got)
	}
	in := g.all("input")
	if len(in) != 1 {
		t.Fatalf("%d inputs", len(in))
	}
	if name, d := in[0].m.str(t, "name"), in[0].m.shape(t); name != "image" || d != "N,69,69,1" {
		t.Errorf("input %s [%s]", name, d)
	}
	if doc := in[0].m.str(t, "doc_string"); !strings.Contains(doc, "0..255") {
		t.Errorf("input doc_string %q", doc)
	}
	var outs []string
	for _, o := range g.all("output") {
		outs = append(outs, o.m.str(t, "name")+"["+o.m.shape(t)+"]")
	}
	if got := strings.Join(outs, " "); got != "logits[N,4] scores[N,4] probabilities[N,4]" {
		t.Errorf("outputs %s", got)
	}
	p := m.Net.(*seed.Net).Params()
	for name, want := range map[string]struct {
		dims string
		data []float32
	}{"W1": {"[6 4761]", p.W1}, "b1": {"[6]", p.B1}, "W2": {"[4 6]", p.W2}, "b2": {"[4]", p.B2}, "scale": {"[]", []float32{1.0 / 256}}} {
		tm := inits[name]
		if tm == nil {
			t.Errorf("no initializer %s", name)
			continue
		}
		if d := fmt.Sprint(tm.ints("dims")); d != want.dims {
			t.Errorf("%s dims %s, want %s", name, d, want.dims)
		}
		got := float32s(t, tm)
		if len(got) != len(want.data) {
			t.Fatalf("%s: %d values, want %d", name, len(got), len(want.data))
		}
		for i, w := range want.data {
			if got[i] != w {
				t.Fatalf("%s[%d] = %g, want %g", name, i, got[i], w)
			}
		}
	}
	if len(inits) != 7 {
		t.Errorf("%d initializers, want 7", len(inits))
	}
}

func TestUnknownArchitecture(t *testing.T) {
	m := seedModel(t, 5, 5, []int{0}, 2, 2, 1)
	m.Meta.Arch = "resnet"
	_, err := onnx.Export(m)
	if err == nil || !strings.Contains(err.Error(), `"resnet"`) {
		t.Fatalf("err = %v, want one naming the architecture", err)
	}
}

func TestGraphCheck(t *testing.T) {
	g := &onnx.Graph{Name: "g"}
	x := g.Input("x", "", onnx.Dim{Param: "N"})
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
	dir := t.TempDir()
	var paths []string
	for i, m := range []*model.Model{
		seedModel(t, 69, 69, []int{0, 1, 2}, 5, 3, 2),
		cnnModel(t, cnn.Spec{InC: 3, H: 21, W: 21, K: 4, Widths: []int{4, 6, 8}}, []int{0, 1, 2}, 1),
		cnnModel(t, cnn.Spec{InC: 1, H: 69, W: 69, K: 5, Widths: []int{4, 6, 8, 8}, Dropout: 0.3, TTA: true}, []int{2}, 2),
		cnnModel(t, cnn.Spec{InC: 3, H: 25, W: 25, K: 4, Widths: []int{4, 6, 8}, Convs: []int{1, 2, 1}, Crop: 17, TTA: true}, []int{0, 1, 2}, 1),
		customCNN(t, true),
	} {
		paths = append(paths, filepath.Join(dir, fmt.Sprintf("m%d.onnx", i)))
		writeModel(t, m, paths[i])
	}
	out, err := exec.Command(py, append([]string{"-c", `import onnx, sys
for p in sys.argv[1:]:
    m = onnx.load(p)
    onnx.checker.check_model(m, full_check=True)
    print(m.graph.name, m.ir_version, m.opset_import[0].version, [o.name for o in m.graph.output])`}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("onnx.checker: %v\n%s", err, out)
	}
	t.Logf("onnx.checker: ok:\n%s", bytes.TrimSpace(out))
}

func writeModel(t *testing.T, m *model.Model, path string) {
	t.Helper()
	om, err := onnx.Export(m)
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

// ortRun runs the model file mpath in ONNX Runtime on the raw pixels pix of
// b images and returns its outputs; it skips the test when Node.js or
// onnxruntime-node is missing.
func ortRun(t *testing.T, mpath string, pix []float32, dims []int) map[string]ortTensor {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: the ONNX Runtime comparison needs Node.js and onnxruntime-node")
	}
	dir := ortDir()
	if dir == "" {
		t.Skip("onnxruntime-node not found: set GALAXY_ONNXRUNTIME_NODE_DIR to a folder where `npm install --ignore-scripts onnxruntime-node` was run (.ci/run does), or install it in .cache-onnx")
	}
	script, _ := filepath.Abs(filepath.Join("testdata", "run_ort.js"))
	in, _ := json.Marshal(map[string]any{"dims": dims, "data": pix})
	ipath := filepath.Join(filepath.Dir(mpath), "in.json")
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
	return res.Outputs
}

// galaxyOutputs returns what the exported outputs should hold for b images
// of scaled features x: the Model's logits and probabilities, and the scores
// (sigmoids for seed-mlp, the probabilities otherwise).
func galaxyOutputs(m *model.Model, x []float32, b int) map[string][]float32 {
	k := m.K()
	logits := make([]float32, b*k)
	m.Net.Logits(x, b, logits)
	want := map[string][]float32{"logits": logits, "scores": make([]float32, b*k), "probabilities": make([]float32, b*k)}
	for r := 0; r < b; r++ {
		m.Probabilities(logits[r*k:(r+1)*k], want["probabilities"][r*k:(r+1)*k])
		for j := 0; j < k; j++ {
			if m.Meta.Arch == seed.Name {
				want["scores"][r*k+j] = num.Sigmoid(logits[r*k+j])
			} else {
				want["scores"][r*k+j] = want["probabilities"][r*k+j]
			}
		}
	}
	return want
}

// ortCompare exports m, runs it in ONNX Runtime on b random images and
// returns the largest difference of its outputs from the Model's own,
// failing above 1e-5.
func ortCompare(t *testing.T, m *model.Model, b int, seed uint64) float64 {
	t.Helper()
	in := m.Meta.Input
	mpath := filepath.Join(t.TempDir(), "m.onnx")
	writeModel(t, m, mpath)
	n, k := m.Dim(), m.K()
	rng := rand.New(rand.NewPCG(seed, 99))
	pix := make([]float32, b*n)
	x := make([]float32, b*n)
	for i := range pix {
		pix[i] = float32(rng.IntN(256))
		x[i] = pix[i] * float32(in.Scale)
	}
	got := ortRun(t, mpath, pix, []int{b, in.Height, in.Width, len(in.Channels)})
	worst := 0.0
	for _, name := range []string{"logits", "scores", "probabilities"} {
		w, g := galaxyOutputs(m, x, b)[name], got[name]
		if fmt.Sprint(g.Dims) != fmt.Sprint([]int{b, k}) || len(g.Data) != len(w) {
			t.Fatalf("%s: dims %v, %d values; want [%d %d]", name, g.Dims, len(g.Data), b, k)
		}
		diff := 0.0
		for i := range w {
			diff = max(diff, math.Abs(g.Data[i]-float64(w[i])))
		}
		t.Logf("%s: max |ONNX Runtime - galaxy| = %.3g", name, diff)
		if diff > 1e-5 {
			t.Errorf("%s differs by %g (ORT %v, galaxy %v)", name, diff, g.Data, w)
		}
		worst = max(worst, diff)
	}
	return worst
}

// TestONNXRuntimeMatches runs exported seed networks in ONNX Runtime and
// compares their outputs with the Model's own to 1e-5.
func TestONNXRuntimeMatches(t *testing.T) {
	worst := 0.0
	for _, c := range []struct {
		name    string
		h, w    int
		chans   []int
		d, k, b int
		seed    uint64
	}{
		{"g-band 69x69", 69, 69, []int{2}, 8, 4, 3, 1},
		{"irg 69x69", 69, 69, []int{0, 1, 2}, 5, 3, 2, 2},
		{"tiny batch 1", 4, 3, []int{1, 0}, 3, 5, 1, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			worst = max(worst, ortCompare(t, seedModel(t, c.h, c.w, c.chans, c.d, c.k, c.seed), c.b, c.seed))
		})
	}
	t.Logf("largest difference over all outputs: %.3g", worst)
}

// cnnModel returns an untrained model/cnn network of spec s whose batch
// normalisations have non-trivial running statistics and affine maps, so
// that folding them into the convolutions is tested.
func cnnModel(t *testing.T, s cnn.Spec, chans []int, seed uint64) *model.Model {
	t.Helper()
	net, err := cnn.New(s, rand.New(rand.NewPCG(seed, 5)))
	if err != nil {
		t.Fatal(err)
	}
	return cnnWrap(t, net, chans, seed)
}

// cnnWrap randomises net's batch normalisations and dense biases and
// wraps it in a cnn Model on the given source channels.
func cnnWrap(t *testing.T, net *cnn.Net, chans []int, seed uint64) *model.Model {
	t.Helper()
	s := net.Spec
	if len(chans) != s.InC {
		t.Fatalf("%d channels for a %d-channel network", len(chans), s.InC)
	}
	rng := rand.New(rand.NewPCG(seed, 11))
	u := func(lo, hi float64) float32 { return float32(lo + (hi-lo)*rng.Float64()) }
	for _, l := range net.Layers {
		switch l := l.(type) {
		case *cnn.BatchNorm[float32]:
			for c := range l.C {
				l.Gamma.W[c], l.Beta.W[c] = u(0.5, 1.5), u(-0.3, 0.3)
				l.RunMean.W[c], l.RunVar.W[c] = u(-0.2, 0.4), u(0.05, 2)
			}
		case *cnn.Dense[float32]:
			for i := range l.B.W {
				l.B.W[i] = u(-0.5, 0.5)
			}
		case *cnn.Conv2D[float32]:
			if l.B != nil {
				for i := range l.B.W {
					l.B.W[i] = u(-0.2, 0.2)
				}
			}
		}
	}
	classes := []string{"smooth", "face-on spiral", "edge-on disk", "merger", "other", "odd"}[:s.K]
	return &model.Model{Net: net, Meta: modelfile.Meta{Arch: cnn.Name, Scheme: "test", Classes: classes,
		Input: modelfile.Input{Height: s.H, Width: s.W, Channels: chans, ChannelSpec: "test", SourceChannels: 3, Scale: 1.0 / 256},
		Hyper: s.Hyper()}}
}

// customCNN builds a network of every layer kind and arrangement the
// exporter handles beyond cnn.Build's: a convolution with bias, stride 2 and
// no padding before a batch norm; average pooling; a batch norm on its own
// (on maps and after a dense layer); a 1x1 convolution without batch norm;
// a global pool and dense layers after a dense layer.
func customCNN(t *testing.T, tta bool) *model.Model {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 3))
	s := cnn.Spec{InC: 2, H: 21, W: 21, K: 4, TTA: tta}
	q := &cnn.Seq[float32]{Layers: []cnn.Layer[float32]{
		cnn.NewConv2D[float32]("c1", 2, 5, 3, 2, 0, true, rng), cnn.NewBatchNorm[float32]("bn1", 5), &cnn.ReLU[float32]{}, // 21 -> 10
		&cnn.Pool2D[float32]{K: 2, Stride: 2}, cnn.NewBatchNorm[float32]("bn2", 5), // 10 -> 5
		cnn.NewConv2D[float32]("c2", 5, 6, 1, 1, 0, false, rng), &cnn.ReLU[float32]{},
		&cnn.Pool2D[float32]{Max: true, K: 2, Stride: 2}, // 5 -> 2
		&cnn.GlobalAvgPool[float32]{},
		cnn.NewDense[float32]("d1", 6, 7, rng), cnn.NewBatchNorm[float32]("bn3", 7), &cnn.ReLU[float32]{},
		&cnn.Dropout[float32]{P: 0.5, Rng: rand.New(rand.NewPCG(1, 1))},
		&cnn.GlobalAvgPool[float32]{}, // back to maps: Reshape, then a 1x1 pool
		cnn.NewDense[float32]("d2", 7, 4, rng),
	}}
	return cnnWrap(t, &cnn.Net{Spec: s, Seq: q}, []int{2, 0}, 4)
}

// TestCNNONNXRuntimeMatches runs exported model/cnn networks in ONNX Runtime
// and compares their outputs with the Model's own to 1e-5, with and without
// test-time augmentation (the mean of the logits over the 8 symmetries).
func TestCNNONNXRuntimeMatches(t *testing.T) {
	worst := map[bool]float64{}
	for _, c := range []struct {
		name  string
		make  func(t *testing.T) *model.Model
		b     int
		tta   bool
		check bool // compare with the logits without TTA: they must differ
	}{
		{"irg 21x21 4,6,8", func(t *testing.T) *model.Model {
			return cnnModel(t, cnn.Spec{InC: 3, H: 21, W: 21, K: 4, Widths: []int{4, 6, 8}}, []int{0, 1, 2}, 1)
		}, 3, false, false},
		{"irg 21x21 4,6,8 TTA", func(t *testing.T) *model.Model {
			return cnnModel(t, cnn.Spec{InC: 3, H: 21, W: 21, K: 4, Widths: []int{4, 6, 8}, TTA: true}, []int{0, 1, 2}, 1)
		}, 3, true, true},
		{"g 69x69 4,6,8,8 dropout TTA", func(t *testing.T) *model.Model {
			return cnnModel(t, cnn.Spec{InC: 1, H: 69, W: 69, K: 5, Widths: []int{4, 6, 8, 8}, Dropout: 0.3, TTA: true}, []int{2}, 2)
		}, 2, true, true},
		{"gr 17x23 TTA (non-square: none)", func(t *testing.T) *model.Model {
			return cnnModel(t, cnn.Spec{InC: 2, H: 17, W: 23, K: 3, Widths: []int{4, 6, 8}, TTA: true}, []int{1, 2}, 3)
		}, 2, false, false},
		{"irg 25x25 crop 17, 2 convs in block 2, TTA", func(t *testing.T) *model.Model {
			return cnnModel(t, cnn.Spec{InC: 3, H: 25, W: 25, K: 4, Widths: []int{4, 6, 8}, Convs: []int{1, 2, 1}, Crop: 17, TTA: true}, []int{0, 1, 2}, 1)
		}, 3, true, true},
		{"gr 17x23 crop 13 (a square window: TTA)", func(t *testing.T) *model.Model {
			return cnnModel(t, cnn.Spec{InC: 2, H: 17, W: 23, K: 3, Widths: []int{4, 6, 8}, Crop: 13, TTA: true}, []int{1, 2}, 3)
		}, 2, true, true},
		{"custom layers", func(t *testing.T) *model.Model { return customCNN(t, false) }, 3, false, false},
		{"custom layers TTA", func(t *testing.T) *model.Model { return customCNN(t, true) }, 3, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.make(t)
			d := ortCompare(t, m, c.b, 7)
			worst[c.tta] = max(worst[c.tta], d)
			if c.check { // the test would see a wrong or missing TTA
				net := m.Net.(*cnn.Net)
				rng := rand.New(rand.NewPCG(7, 99))
				x := make([]float32, c.b*m.Dim())
				for i := range x {
					x[i] = float32(rng.IntN(256)) * float32(m.Meta.Input.Scale)
				}
				with, without := make([]float32, c.b*m.K()), make([]float32, c.b*m.K())
				net.Logits(x, c.b, with)
				(&cnn.Net{Spec: cnn.Spec{InC: net.Spec.InC, H: net.Spec.H, W: net.Spec.W, K: net.Spec.K, Crop: net.Spec.Crop}, Seq: net.Seq}).Logits(x, c.b, without)
				diff := 0.0
				for i := range with {
					diff = max(diff, math.Abs(float64(with[i]-without[i])))
				}
				t.Logf("logits with and without TTA differ by up to %.3g", diff)
				if diff < 1e-3 {
					t.Errorf("TTA changes the logits by only %g: the comparison cannot tell", diff)
				}
			}
		})
	}
	t.Logf("largest difference over all outputs: without TTA %.3g, with TTA %.3g", worst[false], worst[true])
}

// fakeLayer is a layer type the exporter does not know.
type fakeLayer struct{ cnn.ReLU[float32] }

func TestCNNUnsupportedLayer(t *testing.T) {
	m := cnnModel(t, cnn.Spec{InC: 1, H: 9, W: 9, K: 2, Widths: []int{2, 2}}, []int{0}, 1)
	net := m.Net.(*cnn.Net)
	net.Layers = append(net.Layers[:3], append([]cnn.Layer[float32]{&fakeLayer{}}, net.Layers[3:]...)...)
	_, err := onnx.Export(m)
	if err == nil || !strings.Contains(err.Error(), "layer 4, onnx_test.fakeLayer, not supported") {
		t.Fatalf("err = %v, want one naming the layer", err)
	}
	// A network that does not end in K logits (2 channels, 3 classes).
	m = cnnModel(t, cnn.Spec{InC: 1, H: 9, W: 9, K: 3, Widths: []int{2, 2}}, []int{0}, 1)
	net = m.Net.(*cnn.Net)
	net.Layers = net.Layers[:len(net.Layers)-1]
	if _, err := onnx.Export(m); err == nil || !strings.Contains(err.Error(), "ends in 2x1x1 values per image, not 3 logits") {
		t.Fatalf("err = %v", err)
	}
}

// TestCNNStructure checks the nodes of an exported cnn with TTA: batch norm
// folded into the convolutions, the 8 symmetries batched and averaged.
func TestCNNStructure(t *testing.T) {
	m := cnnModel(t, cnn.Spec{InC: 3, H: 21, W: 21, K: 4, Widths: []int{4, 6, 8}, Dropout: 0.2, TTA: true}, []int{0, 1, 2}, 1)
	om, err := onnx.Export(m)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, n := range om.Graph.Nodes {
		ops = append(ops, n.Op)
	}
	want := "Mul Transpose Gather Concat Gather Concat Transpose Concat " +
		"Conv Relu MaxPool Conv Relu MaxPool Conv Relu GlobalAveragePool Flatten Gemm Reshape ReduceMean Softmax Identity"
	if got := strings.Join(ops, " "); got != want {
		t.Errorf("nodes\n%s\nwant\n%s", got, want)
	}
	meta := map[string]string{}
	for _, kv := range om.Metadata {
		meta[kv[0]] = kv[1]
	}
	if meta["arch"] != "cnn" || meta["tta"] != "true" {
		t.Errorf("metadata %v", meta)
	}
	b, err := om.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// The file as the test's own reader (spec_test.go) sees it: the same
	// nodes, and the list attributes (packed ints) the cnn graph uses.
	mp := readModel(t, b)
	if fm := mp.metadata(t); fm["arch"] != "cnn" || fm["tta"] != "true" {
		t.Errorf("metadata in the file %v", fm)
	}
	g := mp.msg(t, "graph")
	checkGraph(t, g)
	attrs := map[string]string{}
	var fops []string
	for _, n := range g.all("node") {
		op := n.m.str(t, "op_type")
		fops = append(fops, op)
		var as []string
		for _, a := range n.m.all("attribute") {
			if a.m.has("ints") {
				as = append(as, fmt.Sprintf("%s=%v", a.m.str(t, "name"), a.m.ints("ints")))
			} else {
				as = append(as, fmt.Sprintf("%s=%d", a.m.str(t, "name"), a.m.int(t, "i")))
			}
		}
		n.m.attrs(t) // each attribute's type names the one value field it has
		if _, seen := attrs[op]; !seen {
			attrs[op] = strings.Join(as, " ")
		}
	}
	if got := strings.Join(fops, " "); got != want {
		t.Errorf("nodes in the file\n%s\nwant\n%s", got, want)
	}
	for op, a := range map[string]string{
		"Transpose":  "perm=[0 3 1 2]",
		"Gather":     "axis=3",
		"Conv":       "kernel_shape=[3 3] strides=[1 1] pads=[1 1 1 1]",
		"MaxPool":    "kernel_shape=[2 2] strides=[2 2]",
		"Flatten":    "axis=1",
		"Gemm":       "transB=1",
		"ReduceMean": "axes=[0] keepdims=0",
		"Softmax":    "axis=1",
	} {
		if attrs[op] != a {
			t.Errorf("first %s: attributes %q, want %q", op, attrs[op], a)
		}
	}
}

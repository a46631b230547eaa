// Package onnx exports trained galaxy models as ONNX files, so that they run
// in ONNX Runtime (Python, C++, ...) without this toolkit. The protobuf is
// written by hand (proto.go); there is no protobuf dependency.
//
// # The exported graph
//
// The graph takes raw pixels and does the model's own scaling:
//
//	input  image          float32 [N, H, W, C]  pixel values 0..255 (as read from
//	                                            8-bit cutouts, not yet scaled), the
//	                                            model's channels in its order, HWC
//	output logits         float32 [N, K]        the class logits, as Model.Net.Logits
//	output scores         float32 [N, K]        seed-mlp: sigmoid(logits); cnn:
//	                                            softmax(logits), as probabilities
//	output probabilities  float32 [N, K]        as Model.Probabilities: for seed-mlp
//	                                            the scores divided by their sum, for
//	                                            cnn the softmax of the logits
//
// N is symbolic (any batch size). H, W and C are the model's image size and
// number of channels (the channels the model was trained on, already picked
// out of the source image: metadata "channels" lists their indices in it).
// For the seed network the nodes are
//
//	Mul(image, scale) -> Reshape [N, H*W*C] -> Gemm(W1, b1, transB) -> Tanh
//	-> Gemm(W2, b2, transB) = logits -> Sigmoid = scores
//	-> Div(scores, ReduceSum(scores, axis 1)) = probabilities
//
// For cnn and cnn-ref (model/cnn, see cnn.go) they are
//
//	Mul(image, scale) -> Transpose to [N, C, H, W]
//	[-> TTA: Gather (reversed indices) and Transpose make the 8 symmetries of
//	    the square, Concat along N to [8N, C, H, W]]
//	-> per block: Conv (3x3, pad 1, the BatchNorm folded into its weights and
//	   bias) -> Relu [-> MaxPool 2x2 stride 2, floor]
//	-> GlobalAveragePool -> Flatten -> Gemm(W, b, transB)
//	[-> TTA: Reshape [8, N, K] -> ReduceMean over the 8] = logits
//	-> Softmax = probabilities, Identity = scores
//
// The layers are walked from the network's own sequence (Dropout is left
// out, the identity in inference); a layer type the exporter does not know
// is an error. Folding batch normalisation into the convolution is the
// standard inference rewrite: it changes the logits only by float32
// rounding (the ONNX Runtime test checks 1e-5).
//
// The model's metadata_props carry "classes" (JSON list of class names, in
// logit order), "scheme", "arch", "channels" (JSON list of source channel
// indices), "channel_spec", "scale", the image "height" and "width", and for
// cnn models "tta" ("true" when the logits are the mean over the 8
// symmetries, as galaxy classifies).
//
// New architectures add an exporter to Export: a function that adds their
// initializers and nodes to a Graph (see exportSeed, exportCNN).
package onnx

import (
	"encoding/json"
	"fmt"
	"strconv"

	"galaxy/model"
	"galaxy/model/cnn"
	"galaxy/model/seed"
)

// Versions written: ONNX IR version 8 and the default-domain operator set 13
// (ONNX Runtime 1.10 and later read both).
const (
	IRVersion = 8
	Opset     = 13
)

// Export builds the ONNX model of m. It reads the network's weights, so it
// must not run while m is being trained or used elsewhere.
func Export(m *model.Model) (*Model, error) {
	in := m.Meta.Input
	if in.Height < 1 || in.Width < 1 || len(in.Channels) < 1 || m.K() < 1 || in.Scale <= 0 {
		return nil, fmt.Errorf("onnx export: the model describes no usable input or classes")
	}
	g := &Graph{Name: "galaxy_" + m.Meta.Arch}
	image := g.Input("image", "raw pixel values 0..255, float32, HWC; the graph scales them itself",
		Dim{Param: "N"}, Dim{Value: int64(in.Height)}, Dim{Value: int64(in.Width)}, Dim{Value: int64(len(in.Channels))})
	k := int64(m.K())
	var logits string
	var extra [][2]string
	switch m.Meta.Arch {
	case model.ArchSeed:
		net, ok := m.Net.(*seed.Net)
		if !ok {
			return nil, fmt.Errorf("onnx export: model says %q but holds a %T", m.Meta.Arch, m.Net)
		}
		logits = exportSeed(g, features(g, image, m), net)
	case model.ArchCNN, model.ArchCNNRef:
		net, ok := m.Net.(*cnn.Net)
		if !ok {
			return nil, fmt.Errorf("onnx export: model says %q but holds a %T", m.Meta.Arch, m.Net)
		}
		s := net.Spec
		if s.InC != len(in.Channels) || s.H != in.Height || s.W != in.Width || s.K != m.K() {
			return nil, fmt.Errorf("onnx export: network for %dx%dx%d images and %d classes, model file says %dx%dx%d and %d",
				s.H, s.W, s.InC, s.K, in.Height, in.Width, len(in.Channels), m.K())
		}
		var err error
		if logits, err = exportCNN(g, image, in.Scale, net); err != nil {
			return nil, err
		}
		extra = append(extra, [2]string{"tta", strconv.FormatBool(s.AveragesSymmetries())})
	default:
		return nil, fmt.Errorf("onnx export: architecture %q cannot be exported (supported: %s, %s, %s)",
			m.Meta.Arch, model.ArchSeed, model.ArchCNN, model.ArchCNNRef)
	}
	batch := []Dim{{Param: "N"}, {Value: k}}
	g.Output(logits, "class logits, higher = more likely", batch...)
	probabilities(g, m.Meta.Arch, logits, batch)

	classes, _ := json.Marshal(m.Meta.Classes)
	chans, _ := json.Marshal(in.Channels)
	doc := fmt.Sprintf("galaxy %s classifier, scheme %s, classes %s. Input \"image\": float32 [N, %d, %d, %d], "+
		"raw pixel values 0..255 of channels %s (%q) of the source cutouts, HWC order; the graph multiplies them by %g itself. "+
		"Outputs: \"logits\" [N, %d], \"scores\" and \"probabilities\" (sum 1 per image).",
		m.Meta.Arch, m.Meta.Scheme, classes, in.Height, in.Width, len(in.Channels), chans, in.ChannelSpec, in.Scale, k)
	return &Model{
		IRVersion:    IRVersion,
		Opset:        Opset,
		ProducerName: "galaxy",
		Doc:          doc,
		Graph:        g,
		Metadata: append([][2]string{
			{"classes", string(classes)},
			{"scheme", m.Meta.Scheme},
			{"arch", m.Meta.Arch},
			{"channels", string(chans)},
			{"channel_spec", in.ChannelSpec},
			{"scale", strconv.FormatFloat(in.Scale, 'g', -1, 64)},
			{"height", strconv.Itoa(in.Height)},
			{"width", strconv.Itoa(in.Width)},
		}, extra...),
	}, nil
}

// features scales the raw image as the model's data preparation does
// (feature = float32(pixel) * scale) and flattens it to [N, H*W*C]; HWC
// row-major order is the order of the flattened features.
func features(g *Graph, image string, m *model.Model) string {
	scale := g.Floats("scale", []float32{float32(m.Meta.Input.Scale)})
	scaled := g.Op("Mul", "scaled", []string{image, scale})
	shape := g.Int64s("flat_shape", []int64{-1, int64(m.Dim())}, 2)
	return g.Op("Reshape", "features", []string{scaled, shape})
}

// exportSeed adds the seed network, logits = W2 tanh(W1 x + b1) + b2, and
// returns the name of the logits.
func exportSeed(g *Graph, x string, net *seed.Net) string {
	p := net.Params()
	n, d, k := int64(p.N), int64(p.D), int64(p.K)
	w1 := g.Floats("W1", p.W1, d, n)
	b1 := g.Floats("b1", p.B1, d)
	w2 := g.Floats("W2", p.W2, k, d)
	b2 := g.Floats("b2", p.B2, k)
	u := g.Op("Gemm", "hidden_pre", []string{x, w1, b1}, AttrInt("transB", 1))
	h := g.Op("Tanh", "hidden", []string{u})
	return g.Op("Gemm", "logits", []string{h, w2, b2}, AttrInt("transB", 1))
}

// probabilities adds the outputs "scores" and "probabilities", computed from
// the logits as Model.Probabilities does. For seed-mlp the scores are the
// independent sigmoids; other networks are softmax classifiers, whose
// scores are their probabilities.
func probabilities(g *Graph, arch, logits string, dims []Dim) {
	if arch == model.ArchSeed {
		scores := g.Op("Sigmoid", "scores", []string{logits})
		g.Output(scores, "independent sigmoid scores of the classes", dims...)
		axes := g.Int64s("sum_axes", []int64{1}, 1)
		total := g.Op("ReduceSum", "scores_sum", []string{scores, axes}, AttrInt("keepdims", 1))
		g.Op("Div", "probabilities", []string{scores, total})
	} else {
		g.Op("Softmax", "probabilities", []string{logits}, AttrInt("axis", 1))
		scores := g.Op("Identity", "scores", []string{"probabilities"})
		g.Output(scores, "softmax class scores (the same values as probabilities)", dims...)
	}
	g.Output("probabilities", "class probabilities, summing to 1 per image", dims...)
}

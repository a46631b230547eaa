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
// An architecture is exported when its network implements Exporter (model/seed
// and model/cnn do, in their onnx.go): it adds its initializers and nodes to
// the Graph; Export adds the input, the outputs and the metadata around them.
package onnx

import (
	"encoding/json"
	"fmt"
	"strconv"

	"galaxy/model"
)

// Exporter is a network that can write itself into an ONNX graph.
type Exporter interface {
	// ExportONNX adds the network's nodes to g, reading the input image
	// (float32 [N, H, W, C], raw pixel values that the network multiplies
	// by scale itself), and returns the name of its logits [N, K] and any
	// metadata entries of its own.
	ExportONNX(g *Graph, image string, scale float64) (logits string, meta [][2]string, err error)
}

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
	ex, ok := m.Net.(Exporter)
	if !ok {
		return nil, fmt.Errorf("onnx export: architecture %q cannot be exported", m.Meta.Arch)
	}
	arch, err := model.Lookup(m.Meta.Arch)
	if err != nil {
		return nil, fmt.Errorf("onnx export: %w", err)
	}
	logits, extra, err := ex.ExportONNX(g, image, in.Scale)
	if err != nil {
		return nil, err
	}
	batch := []Dim{{Param: "N"}, {Value: k}}
	g.Output(logits, "class logits, higher = more likely", batch...)
	probabilities(g, arch.Output, logits, batch)

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

// probabilities adds the outputs "scores" and "probabilities", computed from
// the logits as Model.Probabilities does. For an architecture of
// independent sigmoid outputs (seed-mlp) the scores are the sigmoids;
// softmax classifiers' scores are their probabilities.
func probabilities(g *Graph, out model.Output, logits string, dims []Dim) {
	if out == model.Sigmoids {
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

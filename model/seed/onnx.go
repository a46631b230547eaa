package seed

import "galaxy/model/onnx"

// ExportONNX implements onnx.Exporter: the raw image is scaled as the data
// preparation does (feature = float32(pixel) * scale), flattened to
// [N, H*W*C] (HWC row-major is the order of the features), and
// logits = W2 tanh(W1 x + b1) + b2 follow as two Gemms.
func (m *Net) ExportONNX(g *onnx.Graph, image string, scale float64) (string, [][2]string, error) {
	p := m.Params()
	n, d, k := int64(p.N), int64(p.D), int64(p.K)
	sc := g.Floats("scale", []float32{float32(scale)})
	scaled := g.Op("Mul", "scaled", []string{image, sc})
	shape := g.Int64s("flat_shape", []int64{-1, n}, 2)
	x := g.Op("Reshape", "features", []string{scaled, shape})
	w1 := g.Floats("W1", p.W1, d, n)
	b1 := g.Floats("b1", p.B1, d)
	w2 := g.Floats("W2", p.W2, k, d)
	b2 := g.Floats("b2", p.B2, k)
	u := g.Op("Gemm", "hidden_pre", []string{x, w1, b1}, onnx.AttrInt("transB", 1))
	h := g.Op("Tanh", "hidden", []string{u})
	return g.Op("Gemm", "logits", []string{h, w2, b2}, onnx.AttrInt("transB", 1)), nil, nil
}

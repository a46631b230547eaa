package cnn

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"galaxy/model/onnx"
)

// The network as an ONNX graph (package model/onnx writes the file around
// it; its package doc draws the whole graph).

// ExportONNX implements onnx.Exporter: the scaled HWC image is transposed to
// NCHW (the layout of ONNX Conv; galaxy's C×N×H×W holds the same planes),
// with TTA the 8 symmetries of the square are stacked along the batch axis,
// then the layers are walked in order (cnnLayers). It returns the name of the
// logits [N, K], and the metadata "tta" ("true" when the logits are the mean
// over the 8 symmetries, as galaxy classifies).
func (net *Net) ExportONNX(g *onnx.Graph, image string, scale float64) (string, [][2]string, error) {
	s := net.Spec
	sc := g.Floats("scale", []float32{float32(scale)})
	x := g.Op("Mul", "scaled", []string{image, sc})
	x = g.Op("Transpose", "nchw", []string{x}, onnx.AttrInts("perm", 0, 3, 1, 2))
	ih, iw := s.In()
	if ih != s.H || iw != s.W { // the central crop the network sees
		y0, x0 := int64(s.H-ih)/2, int64(s.W-iw)/2
		starts := g.Int64s("crop_starts", []int64{y0, x0}, 2)
		ends := g.Int64s("crop_ends", []int64{y0 + int64(ih), x0 + int64(iw)}, 2)
		axes := g.Int64s("crop_axes", []int64{2, 3}, 2)
		x = g.Op("Slice", "crop", []string{x, starts, ends, axes})
	}
	// As Net.Logits: TTA on square inputs only.
	tta := s.AveragesSymmetries()
	if tta {
		x = d4Batch(g, x, ih)
	}
	z, err := cnnLayers(g, x, net.Layers, Shape{C: s.InC, N: 1, H: ih, W: iw}, s.K)
	if err != nil {
		return "", nil, err
	}
	meta := [][2]string{{"tta", strconv.FormatBool(tta)}}
	if !tta {
		return g.Rename(z, "logits"), meta, nil
	}
	// [8N, K] -> [8, N, K] -> mean over the 8 symmetries.
	shape := g.Int64s("tta_shape", []int64{Symmetries, -1, int64(s.K)}, 3)
	z = g.Op("Reshape", "tta_logits", []string{z, shape})
	return g.Op("ReduceMean", "logits", []string{z}, onnx.AttrInts("axes", 0), onnx.AttrInt("keepdims", 0)), meta, nil
}

// d4Batch stacks the 8 symmetries of the square images x [N, C, S, S] into
// [8N, C, S, S]: x and its mirror along W; those two and their mirrors
// along H; those four and their transposes (the swap of H and W). The eight
// maps (y, x) -> (±y, ±x) and (±x, ±y), ± a reversal, are the whole dihedral
// group D4, the set Net.Logits averages over (its d4), so the mean of
// the logits over the blocks is the same. Reversals are Gathers with the
// indices S-1..0.
func d4Batch(g *onnx.Graph, x string, s int) string {
	rev := make([]int64, s)
	for i := range rev {
		rev[i] = int64(s - 1 - i)
	}
	r := g.Int64s("tta_reverse", rev, int64(s))
	fw := g.Op("Gather", "tta_flip_w", []string{x, r}, onnx.AttrInt("axis", 3))
	x2 := g.Op("Concat", "tta_x2", []string{x, fw}, onnx.AttrInt("axis", 0))
	fh := g.Op("Gather", "tta_flip_h", []string{x2, r}, onnx.AttrInt("axis", 2))
	x4 := g.Op("Concat", "tta_x4", []string{x2, fh}, onnx.AttrInt("axis", 0))
	tr := g.Op("Transpose", "tta_transpose", []string{x4}, onnx.AttrInts("perm", 0, 1, 3, 2))
	return g.Op("Concat", "tta_x8", []string{x4, tr}, onnx.AttrInt("axis", 0))
}

// cnnLayers adds the nodes of layers applied to x, an NCHW value of shape in
// (N ignored), and returns the logits [N, k]. Every layer's OutShape checks
// the sizes as the network itself would. A layer type not handled here is an
// error, never a silently wrong graph.
//
//	Conv2D         Conv (bias when it has one); a BatchNorm right after it is
//	               folded in: weight·γ/√(var+ε) and bias β + (b-mean)·γ/√(var+ε)
//	BatchNorm      otherwise Mul and Add with those per-channel factors
//	ReLU           Relu
//	Pool2D         MaxPool / AveragePool, no padding, floor mode
//	GlobalAvgPool  GlobalAveragePool
//	Dropout        nothing (the identity in inference)
//	Dense          Flatten (if still [N, C, 1, 1]) and Gemm(x, W, b, transB)
func cnnLayers(g *onnx.Graph, x string, layers []Layer[float32], in Shape, k int) (string, error) {
	flat := false // x is [N, C] (after a Dense) rather than [N, C, H, W]
	unflatten := func(name string) {
		if flat {
			shape := g.Int64s(name+"_shape", []int64{-1, int64(in.C), 1, 1}, 4)
			x = g.Op("Reshape", name+"_nchw", []string{x, shape})
			flat = false
		}
	}
	for i := 0; i < len(layers); i++ {
		name := fmt.Sprintf("l%d", i+1)
		out, err := layers[i].OutShape(in)
		if err != nil {
			return "", fmt.Errorf("onnx export: layer %d: %w", i+1, err)
		}
		switch l := layers[i].(type) {
		case *Conv2D[float32]:
			unflatten(name)
			w := make([]float32, len(l.Wt.W))
			copy(w, l.Wt.W)
			var b []float32
			if l.B != nil {
				b = append([]float32(nil), l.B.W...)
			}
			if i+1 < len(layers) {
				if bn, ok := layers[i+1].(*BatchNorm[float32]); ok {
					if _, err := bn.OutShape(out); err != nil {
						return "", fmt.Errorf("onnx export: layer %d: %w", i+2, err)
					}
					if b == nil {
						b = make([]float32, l.Cout)
					}
					scale, shift := bnAffine(bn)
					per := len(w) / l.Cout
					for o := range l.Cout {
						for j := o * per; j < (o+1)*per; j++ {
							w[j] = float32(float64(w[j]) * scale[o])
						}
						b[o] = float32(float64(b[o])*scale[o] + shift[o])
					}
					i++
					name += "_bn"
				}
			}
			kk := int64(l.K)
			inputs := []string{x, g.Floats(name+"_conv_weight", w, int64(l.Cout), int64(l.Cin), kk, kk)}
			if b != nil {
				inputs = append(inputs, g.Floats(name+"_conv_bias", b, int64(l.Cout)))
			}
			p, st := int64(l.Pad), int64(l.Stride)
			x = g.Op("Conv", name+"_conv", inputs, onnx.AttrInts("kernel_shape", kk, kk), onnx.AttrInts("strides", st, st),
				onnx.AttrInts("pads", p, p, p, p))
		case *BatchNorm[float32]:
			scale, shift := bnAffine(l)
			sc, sh := make([]float32, l.C), make([]float32, l.C)
			for c := range l.C {
				sc[c], sh[c] = float32(scale[c]), float32(shift[c])
			}
			dims := []int64{int64(l.C), 1, 1}
			if flat {
				dims = dims[:1]
			}
			x = g.Op("Mul", name+"_bn_scaled", []string{x, g.Floats(name+"_bn_scale", sc, dims...)})
			x = g.Op("Add", name+"_bn", []string{x, g.Floats(name+"_bn_shift", sh, dims...)})
		case *ReLU[float32]:
			x = g.Op("Relu", name+"_relu", []string{x})
		case *Pool2D[float32]:
			unflatten(name)
			op := "AveragePool"
			if l.Max {
				op = "MaxPool"
			}
			kk, st := int64(l.K), int64(l.Stride)
			x = g.Op(op, name+"_pool", []string{x}, onnx.AttrInts("kernel_shape", kk, kk), onnx.AttrInts("strides", st, st))
		case *GlobalAvgPool[float32]:
			unflatten(name)
			x = g.Op("GlobalAveragePool", name+"_gap", []string{x})
		case *Dropout[float32]:
			// Identity in inference.
		case *Dense[float32]:
			if !flat {
				x = g.Op("Flatten", name+"_flat", []string{x}, onnx.AttrInt("axis", 1))
				flat = true
			}
			w := g.Floats(name+"_dense_weight", append([]float32(nil), l.Wt.W...), int64(l.Out), int64(l.In))
			b := g.Floats(name+"_dense_bias", append([]float32(nil), l.B.W...), int64(l.Out))
			x = g.Op("Gemm", name+"_dense", []string{x, w, b}, onnx.AttrInt("transB", 1))
		default:
			return "", fmt.Errorf("onnx export: layer %d, %s, not supported", i+1, strings.TrimPrefix(fmt.Sprintf("%T", layers[i]), "*"))
		}
		in = out
	}
	if in.H != 1 || in.W != 1 || in.C != k {
		return "", fmt.Errorf("onnx export: the network ends in %dx%dx%d values per image, not %d logits", in.C, in.H, in.W, k)
	}
	if !flat {
		x = g.Op("Flatten", "flat_logits", []string{x}, onnx.AttrInt("axis", 1))
	}
	return x, nil
}

// bnAffine returns batch normalisation's inference map y = scale·x + shift
// per channel, computed in float64 as BatchNorm.Forward does.
func bnAffine(b *BatchNorm[float32]) (scale, shift []float64) {
	scale, shift = make([]float64, b.C), make([]float64, b.C)
	for c := range b.C {
		inv := 1 / math.Sqrt(float64(b.RunVar.W[c])+b.Eps)
		g := float64(b.Gamma.W[c])
		scale[c] = g * inv
		shift[c] = float64(b.Beta.W[c]) - g*inv*float64(b.RunMean.W[c])
	}
	return scale, shift
}

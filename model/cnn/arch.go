package cnn

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"galaxy/model"
)

// The registered names: the default convolutional network, and the
// reference architecture of speed comparisons (bench/pytorch/cnnref.py),
// the same network with PyTorch's plain recipe.
const (
	Name    = "cnn"
	RefName = "cnn-ref"
)

func init() {
	spec := model.Spec{Widths: Widths, Dropout: 0.3, TTA: true}
	// Tensors are named blockN.conv..., blockN.M.conv..., blockN.bn... in
	// the trunk and fc... in the head.
	block := func(tensor string) int {
		rest, ok := strings.CutPrefix(tensor, "block")
		if !ok {
			return 0
		}
		n, _ := strconv.Atoi(rest[:strings.IndexFunc(rest+".", func(r rune) bool { return r < '0' || r > '9' })])
		return n
	}
	newNet := func(s model.Spec, rng *rand.Rand) (model.Network, error) { return New(specOf(s), rng) }
	model.Register(model.Arch{
		Name: Name,
		Summary: "convolutional network: blocks of conv3x3-batch norm-ReLU with 2x2 max-pools between them, global average pool, " +
			"dropout, dense; epochs of Adam with cosine decay and D4 augmentation, the last epoch kept, then a logit adjustment " +
			"for the rare classes and a temperature fitted on a validation part, test-time averaging over the 8 symmetries " +
			"(the epoch flags give the numbers)",
		Output:   model.Softmax,
		Defaults: model.Defaults{Spec: spec, Channels: "all", Batch: 64, Epochs: 25, KeepLast: true, LogitAdjust: "auto", Calibrate: true},
		New:      newNet,
		Load:     load,
		Block:    block,
	})
	model.Register(model.Arch{
		Name: RefName,
		Summary: "the reference network of speed comparisons (bench/pytorch/cnnref.py): cnn's, trained with PyTorch's plain recipe " +
			"(shifts, one epoch of warm-up, the best validation epoch, no logit adjustment or temperature)",
		Output:   model.Softmax,
		Defaults: model.Defaults{Spec: spec, Channels: "all", Batch: 64, Epochs: 25, Shift: 3, Warmup: 1, LogitAdjust: "none"},
		New:      newNet,
		Load:     load,
		Block:    block,
	})
}

// specOf returns the cnn spec of a model spec.
func specOf(s model.Spec) Spec {
	return Spec{InC: s.InC, H: s.H, W: s.W, K: s.K, Widths: s.Widths, Convs: s.Convs, Crop: s.Crop, Dropout: s.Dropout, TTA: s.TTA}
}

func load(s model.Spec, hyper map[string]int, get func(string, ...int) ([]float32, error)) (model.Network, error) {
	spec, err := SpecFromHyper(hyper, s.InC, s.H, s.W, s.K)
	if err != nil {
		return nil, err
	}
	net, err := New(spec, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		return nil, err
	}
	return net, net.Load(get)
}

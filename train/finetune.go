package train

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"galaxy/data"
	"galaxy/model"
	"galaxy/model/builtin"
)

// Fine-tuning: a network that starts from another model's trunk
// (Config.Init), with blocks of it frozen (Config.Freeze) or trained at
// their own rate (Config.TrunkLR), and runs on part of the training
// labels (Config.TrainN) to measure how many a task needs.

// initTrunk copies the trunk of the model cfg.Init names (a model file or
// builtin.Name) into net, a fresh network of architecture arch for the data
// set ds: every tensor arch.Block places in the trunk, by name, which must
// exist with the same shape; the head keeps its fresh weights, so the
// classes may differ. It returns how many values it copied.
func initTrunk(net model.Network, arch *model.Arch, cfg Config, ds *data.Dataset) (int, error) {
	init, err := builtin.Load(cfg.Init)
	if err != nil {
		return 0, fmt.Errorf("the network to start from: %w", err)
	}
	in := init.Meta.Input
	if in.Height != ds.H || in.Width != ds.W || len(in.Channels) != ds.C {
		return 0, fmt.Errorf("the network to start from, %s, takes %dx%dx%d images; these are %dx%dx%d", cfg.Init, in.Height, in.Width, len(in.Channels), ds.H, ds.W, ds.C)
	}
	have := map[string][]float32{}
	shapes := map[string][]int{}
	for _, t := range init.Net.Tensors() {
		have[t.Name], shapes[t.Name] = t.Data, t.Shape
	}
	copied := 0
	for _, t := range net.Tensors() {
		if arch.Block != nil && arch.Block(t.Name) == 0 {
			continue
		}
		src, ok := have[t.Name]
		switch {
		case !ok:
			return 0, fmt.Errorf("the network to start from, %s (%s), has no tensor %s: its architecture differs from %s's", cfg.Init, init.Meta.Arch, t.Name, cfg.Arch)
		case !slices.Equal(shapes[t.Name], t.Shape):
			return 0, fmt.Errorf("the network to start from, %s, has %s of shape %v; these settings build %v (widths and convolutions must match it)", cfg.Init, t.Name, shapes[t.Name], t.Shape)
		}
		copy(t.Data, src)
		copied += len(src)
	}
	return copied, nil
}

// lrScale returns the factor of the learning rate of each parameter (by
// name) that cfg asks for: 0 for the first Freeze blocks of the trunk,
// TrunkLR for the rest of the trunk, 1 for the head; nil when all are 1.
func (c Config) lrScale(arch *model.Arch) func(name string) float64 {
	if (c.Freeze == 0 && c.TrunkLR == 1) || arch.Block == nil {
		return nil
	}
	return func(name string) float64 {
		switch b := arch.Block(name); {
		case b == 0:
			return 1
		case b <= c.Freeze:
			return 0
		}
		return c.TrunkLR
	}
}

// limitTrain returns about n images of s, stratified by class and chosen
// with seed (all of s when n is 0 or at least its size).
func limitTrain(s *data.Split, k, n int, seed uint64) *data.Split {
	if n <= 0 || n >= s.Len() {
		return s
	}
	all := make([]int, s.Len())
	for i := range all {
		all[i] = i
	}
	return subset(s, limitIndex(s, all, k, n, seed), "train")
}

// limitIndex returns about n of the images idx of s (all of them when n is
// 0 or at least their number), stratified by class and chosen with seed.
func limitIndex(s *data.Split, idx []int, k, n int, seed uint64) []int {
	if n <= 0 || n >= len(idx) {
		return idx
	}
	frac := float64(n) / float64(len(idx))
	_, keep := data.Stratify(idx, s.Labels, k, frac, rand.New(rand.NewPCG(seed, 0x1abe15)))
	return keep
}

// checkFinetune reports fine-tuning settings that cannot work.
func (c Config) checkFinetune(arch *model.Arch, depth int) error {
	switch {
	case c.TrainN < 0:
		return fmt.Errorf("%d training images: want 0 (all) or more", c.TrainN)
	case c.Probe && (c.Init == "" || !ByEpochs(c.Arch)):
		return errors.New("a probe fits the output layer on a trunk that was trained before: it needs a model to start from, of an epoch-trained architecture")
	case c.Freeze < 0:
		return fmt.Errorf("freezing %d blocks: want 0 or more", c.Freeze)
	case !(c.TrunkLR >= 0 && c.TrunkLR <= 10) || math.IsNaN(c.TrunkLR):
		return fmt.Errorf("trunk learning-rate factor %v: want 0 to 10", c.TrunkLR)
	case c.Init == "" && (c.Freeze > 0 || c.TrunkLR != 1):
		return fmt.Errorf("freezing blocks or a trunk learning rate needs a network to start from (a model file or %s)", builtin.Name)
	case (c.Freeze > 0 || c.TrunkLR != 1) && !ByEpochs(c.Arch):
		return fmt.Errorf("freezing blocks and a trunk learning rate need an architecture trained by epochs (cnn); %s fine-tunes all of its weights", c.Arch)
	case c.Freeze > depth:
		return fmt.Errorf("freezing %d blocks of a trunk of %d", c.Freeze, depth)
	}
	return nil
}

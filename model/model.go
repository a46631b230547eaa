// Package model ties a trained network to what it needs to classify images
// later: the class scheme, the input it expects, and the saved-model file
// (package modelfile). Every architecture the project trains is a
// Classifier; commands load a Model and never need to know which one.
package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"galaxy/data"
	"galaxy/model/cnn"
	"galaxy/model/modelfile"
	"galaxy/model/seed"
)

// Arch names.
const (
	ArchSeed   = "seed-mlp"
	ArchCNN    = "cnn"     // convolutional network, default widths (model/cnn)
	ArchCNNRef = "cnn-ref" // the reference CNN of speed comparisons (model/cnn)
)

// Classifier scores images: for b images in x (b x Dim, row-major, scaled
// features) it writes b x K class logits into out (higher = more likely;
// ranking by logits avoids the ties that saturated probabilities would make).
// Implementations need not be safe for concurrent use; Model serialises calls.
type Classifier interface {
	Logits(x []float32, b int, out []float32)
}

// Model is a trained classifier and its description.
type Model struct {
	Meta modelfile.Meta
	Net  Classifier
	mu   sync.Mutex
}

// K returns the number of classes.
func (m *Model) K() int { return len(m.Meta.Classes) }

// Dim returns the length of the flattened input.
func (m *Model) Dim() int {
	in := m.Meta.Input
	return in.Height * in.Width * len(in.Channels)
}

// NewSeed wraps a seed network with the description of the data it learns from.
func NewSeed(net *seed.Net, ds *data.Dataset, channelSpec string, srcChannels int) *Model {
	_, d, _ := net.Sizes()
	return &Model{Net: net, Meta: modelfile.Meta{
		Arch:    ArchSeed,
		Scheme:  ds.Scheme.Name,
		Classes: append([]string(nil), ds.Scheme.Classes...),
		Input: modelfile.Input{Height: ds.H, Width: ds.W, Channels: ds.Channels, ChannelSpec: channelSpec,
			SourceChannels: srcChannels, Scale: data.Scale},
		Hyper: map[string]int{"hidden": d},
		Info:  map[string]string{},
	}}
}

// Save writes the model file atomically.
func (m *Model) Save(path string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	tensors, err := m.Tensors()
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return modelfile.Write(path, m.Meta, tensors)
}

// Tensors returns the network's weights (and buffers) as the model file
// stores them; they share memory with the network.
func (m *Model) Tensors() ([]modelfile.Tensor, error) {
	switch net := m.Net.(type) {
	case *seed.Net:
		p := net.Params()
		return []modelfile.Tensor{
			{Name: "W1", Shape: []int{p.D, p.N}, Data: p.W1},
			{Name: "b1", Shape: []int{p.D}, Data: p.B1},
			{Name: "W2", Shape: []int{p.K, p.D}, Data: p.W2},
			{Name: "b2", Shape: []int{p.K}, Data: p.B2},
		}, nil
	case *cnn.Net:
		var tensors []modelfile.Tensor
		for _, p := range net.Tensors() {
			tensors = append(tensors, modelfile.Tensor{Name: p.Name, Shape: p.Shape, Data: p.W})
		}
		return tensors, nil
	}
	return nil, fmt.Errorf("architecture %T cannot be saved", m.Net)
}

// Load reads a model file and rebuilds its network.
func Load(path string) (*Model, error) {
	meta, tensors, err := modelfile.Read(path)
	if err != nil {
		return nil, err
	}
	return FromTensors(path, meta, tensors)
}

// FromTensors rebuilds a model from a model file's header and tensors, as
// read by modelfile.Read (path names the file in messages); tensors the
// network does not use are ignored.
func FromTensors(path string, meta modelfile.Meta, tensors []modelfile.Tensor) (*Model, error) {
	var err error
	in := meta.Input
	if in.Height < 1 || in.Width < 1 || len(in.Channels) < 1 || len(meta.Classes) < 1 || in.Scale <= 0 {
		return nil, fmt.Errorf("model %s: header describes no usable input or classes", path)
	}
	m := &Model{Meta: meta}
	switch meta.Arch {
	case ArchSeed:
		n, d, k := m.Dim(), meta.Hyper["hidden"], len(meta.Classes)
		p := seed.NewParams[float32](n, d, k)
		for _, b := range []struct {
			dst   *[]float32
			name  string
			shape []int
		}{{&p.W1, "W1", []int{d, n}}, {&p.B1, "b1", []int{d}}, {&p.W2, "W2", []int{k, d}}, {&p.B2, "b2", []int{k}}} {
			if *b.dst, err = modelfile.Find(tensors, b.name, b.shape...); err != nil {
				return nil, fmt.Errorf("model %s: %w", path, err)
			}
		}
		if m.Net, err = seed.FromParams(p); err != nil {
			return nil, fmt.Errorf("model %s: %w", path, err)
		}
	case ArchCNN, ArchCNNRef:
		spec, err := cnn.SpecFromHyper(meta.Hyper, len(in.Channels), in.Height, in.Width, len(meta.Classes))
		if err != nil {
			return nil, fmt.Errorf("model %s: architecture %q: %w", path, meta.Arch, err)
		}
		net, err := cnn.New(spec, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", path, err)
		}
		if err := net.Load(func(name string, shape ...int) ([]float32, error) { return modelfile.Find(tensors, name, shape...) }); err != nil {
			return nil, fmt.Errorf("model %s: %w", path, err)
		}
		m.Net = net
	default:
		return nil, fmt.Errorf("model %s: unknown architecture %q", path, meta.Arch)
	}
	return m, nil
}

// Check reports whether the prepared data set fits the model: same image
// size, channels and class scheme.
func (m *Model) Check(ds *data.Dataset) error {
	in := m.Meta.Input
	if ds.H != in.Height || ds.W != in.Width {
		return fmt.Errorf("%s: images are %dx%d, the model takes %dx%d", ds.Source, ds.H, ds.W, in.Height, in.Width)
	}
	if ds.C != len(in.Channels) {
		return fmt.Errorf("%s: %d channels chosen, the model takes %d", ds.Source, ds.C, len(in.Channels))
	}
	if ds.Scheme.Name != m.Meta.Scheme || ds.Scheme.K() != m.K() {
		return fmt.Errorf("%s: data prepared for scheme %s, the model classifies %s", ds.Source, ds.Scheme.Name, m.Meta.Scheme)
	}
	return nil
}

// Probabilities turns one image's logits into class probabilities that sum
// to 1: a softmax for networks trained with it, and for the seed network (K
// independent sigmoid outputs, as the assignment defines it) the sigmoid
// scores divided by their sum. The order of classes is the logits' order.
func (m *Model) Probabilities(logits, out []float32) {
	var sum float64
	switch m.Meta.Arch {
	case ArchSeed:
		for c, z := range logits {
			out[c] = seed.Sigmoid(z)
			sum += float64(out[c])
		}
	default:
		mx := logits[0]
		for _, z := range logits {
			mx = max(mx, z)
		}
		for c, z := range logits {
			out[c] = float32(math.Exp(float64(z - mx)))
			sum += float64(out[c])
		}
	}
	for c := range logits {
		out[c] = float32(float64(out[c]) / sum)
	}
}

// LogitSplit returns the class logits of every image of s (Len x K).
func (m *Model) LogitSplit(s *data.Split) []float32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return BatchLogits(m.Net, s, m.K())
}

// EvalBatch is how many images BatchLogits scores at once.
const EvalBatch = 512

// BatchLogits scores every image of s with c in batches of EvalBatch images,
// the features of each batch made in parallel over the cores. Training and
// galaxy eval both score through it, so their figures agree to the bit.
func BatchLogits(c Classifier, s *data.Split, k int) []float32 {
	n := s.Dim()
	out := make([]float32, s.Len()*k)
	x := make([]float32, min(EvalBatch, s.Len())*n)
	for lo := 0; lo < s.Len(); lo += EvalBatch {
		hi := min(lo+EvalBatch, s.Len())
		featuresParallel(s, lo, hi, x)
		c.Logits(x[:(hi-lo)*n], hi-lo, out[lo*k:hi*k])
	}
	return out
}

// featuresParallel fills x with the features of images [lo, hi) of s.
func featuresParallel(s *data.Split, lo, hi int, x []float32) {
	n := s.Dim()
	w := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	per := (hi - lo + w - 1) / w
	for a := lo; a < hi; a += per {
		b := min(a+per, hi)
		wg.Add(1)
		go func(a, b int) {
			defer wg.Done()
			for i := a; i < b; i++ {
				s.Features(i, x[(i-lo)*n:(i-lo+1)*n])
			}
		}(a, b)
	}
	wg.Wait()
}

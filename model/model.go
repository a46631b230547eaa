// Package model ties a trained network to what it needs to classify images
// later: the class scheme, the input it expects, and the saved-model file
// (package modelfile). Commands load a Model and never need to know which
// architecture it holds.
//
// Architectures register themselves (Register, in the architecture's own
// package, the way image formats register with image.RegisterFormat):
// model/seed registers the assignment's network, model/cnn the
// convolutional ones. Package model/archs links every architecture galaxy
// ships; a program that loads models by name imports it. Adding an
// architecture is one package plus one line in model/archs.
package model

import (
	"fmt"
	"runtime"
	"strconv"
	"sync"

	"galaxy/data"
	"galaxy/model/modelfile"
	"galaxy/num"
)

// Model is a trained classifier and its description.
type Model struct {
	Meta    modelfile.Meta
	Net     Network
	Novelty *Novelty // nil: the model says nothing of how unusual an input is
	mu      sync.Mutex
}

// New describes net, of architecture arch, trained on the prepared data
// set ds whose channels were chosen by channelSpec out of srcChannels.
func New(arch string, net Network, ds *data.Dataset, channelSpec string, srcChannels int) *Model {
	return &Model{Net: net, Meta: modelfile.Meta{
		Arch:    arch,
		Scheme:  ds.Scheme.Name,
		Classes: append([]string(nil), ds.Scheme.Classes...),
		Input: modelfile.Input{Height: ds.H, Width: ds.W, Channels: ds.Channels, ChannelSpec: channelSpec,
			SourceChannels: srcChannels, Scale: data.Scale, SourceSize: ds.SourceSize},
		Hyper: net.Hyper(),
		Info:  map[string]string{},
	}}
}

// K returns the number of classes.
func (m *Model) K() int { return len(m.Meta.Classes) }

// Dim returns the length of the flattened input.
func (m *Model) Dim() int {
	in := m.Meta.Input
	return in.Height * in.Width * len(in.Channels)
}

// Spec returns the shape of the model's input and output, with the
// architecture's settings left zero.
func (m *Model) Spec() Spec {
	in := m.Meta.Input
	return Spec{InC: len(in.Channels), H: in.Height, W: in.Width, K: m.K()}
}

// Save writes the model file atomically.
func (m *Model) Save(path string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.Net.Tensors()
	if m.Novelty != nil {
		ts = append(ts, m.Novelty.tensors()...)
	}
	return modelfile.Write(path, m.Meta, ts)
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
	in := meta.Input
	if in.Height < 1 || in.Width < 1 || len(in.Channels) < 1 || len(meta.Classes) < 1 || in.Scale <= 0 {
		return nil, fmt.Errorf("model %s: header describes no usable input or classes", path)
	}
	a, err := Lookup(meta.Arch)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	m := &Model{Meta: meta}
	if m.Net, err = a.Load(m.Spec(), meta.Hyper, func(name string, shape ...int) ([]float32, error) {
		return modelfile.Find(tensors, name, shape...)
	}); err != nil {
		return nil, fmt.Errorf("model %s: architecture %s: %w", path, meta.Arch, err)
	}
	if m.Novelty, err = readNovelty(meta, tensors); err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return m, nil
}

// Preparation returns how a data file's images are prepared for m, as its
// training images were: its channels, area-averaged to its size when it
// was trained on resized ones (no scheme or split).
func (m *Model) Preparation() data.Options {
	in := m.Meta.Input
	opt := data.Options{Channels: data.ChannelSpec(in.Channels, in.SourceChannels)}
	if in.SourceSize > 0 {
		opt.Resize = in.Height
	}
	return opt
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

// InfoTemperature is the model file's Info key of the temperature T its
// logits were divided by when it was calibrated (absent: none): the
// logits times T are the uncalibrated ones.
const InfoTemperature = "temperature"

// Temperature returns the temperature the model's logits were calibrated
// with (1 when they were not).
func (m *Model) Temperature() float64 {
	if t, err := strconv.ParseFloat(m.Meta.Info[InfoTemperature], 64); err == nil && t > 0 {
		return t
	}
	return 1
}

// Probabilities turns one image's logits into class probabilities that sum
// to 1, as the architecture's Output says: a softmax, or for the seed
// network (K independent sigmoid outputs, as the assignment defines it) the
// sigmoid scores divided by their sum. The order of classes is the logits'.
func (m *Model) Probabilities(logits, out []float32) {
	a, err := Lookup(m.Meta.Arch)
	if err == nil && a.Output == Sigmoids {
		var sum float64
		for c, z := range logits {
			out[c] = num.Sigmoid(z)
			sum += float64(out[c])
		}
		for c := range logits {
			out[c] = float32(float64(out[c]) / sum)
		}
		return
	}
	var buf [16]float64 // no allocation per image for up to 16 classes
	p := buf[:0]
	if len(logits) > len(buf) {
		p = make([]float64, 0, len(logits))
	}
	p = p[:len(logits)]
	_, sum := num.SoftmaxExp(logits, len(logits), 1, p)
	for c := range logits {
		out[c] = float32(p[c] / sum)
	}
}

// LogitSplit returns the class logits of every image of s (Len x K).
func (m *Model) LogitSplit(s *data.Split) []float32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return BatchLogits(m.Net, s, m.K())
}

// EvalBatch is how many images BatchLogits scores at once, at most: fewer
// (not under 64) where their features would take more than evalBytes.
const EvalBatch = 512

// evalBytes bounds the features buffer of one batch: 64 images of
// 128x128x3 (196 KB of features each; the default training batch, so that
// scoring after training grows no layer's buffers beyond what training
// used: at 170 images it raised the peak RSS of a 128-pixel run by 1 GB),
// 220 of 69x69x3. A cnn's logits agree across batch sizes to float32
// rounding (cnn.TestLogitsBatchIndependent), to the bit with the AVX2
// kernels for batches of two or more: the default run's curve and eval
// output did not change when this went from 512 images to 220.
const evalBytes = 12 << 20

// evalBatch is the batch for images of n features.
func evalBatch(n int) int { return max(64, min(EvalBatch, evalBytes/(4*max(n, 1)))) }

// BatchLogits scores every image of s with c in batches of EvalBatch images,
// the features of each batch made in parallel over the cores. Training and
// galaxy eval both score through it, so their figures agree to the bit.
func BatchLogits(c Classifier, s *data.Split, k int) []float32 { return batched(s, k, c.Logits) }

// batched applies fn, which maps b images of scaled features to b x k
// values, to every image of s in batches of EvalBatch.
func batched(s *data.Split, k int, fn func(x []float32, b int, out []float32)) []float32 {
	n := s.Dim()
	bs := evalBatch(n)
	out := make([]float32, s.Len()*k)
	x := make([]float32, min(bs, s.Len())*n)
	for lo := 0; lo < s.Len(); lo += bs {
		hi := min(lo+bs, s.Len())
		featuresParallel(s, lo, hi, x)
		fn(x[:(hi-lo)*n], hi-lo, out[lo*k:hi*k])
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

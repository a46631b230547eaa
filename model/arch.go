package model

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"galaxy/model/modelfile"
)

// Classifier scores images: for b images in x (b x Dim, row-major, scaled
// features) it writes b x K class logits into out (higher = more likely;
// ranking by logits avoids the ties that saturated probabilities would make).
// Implementations need not be safe for concurrent use; Model serialises calls.
type Classifier interface {
	Logits(x []float32, b int, out []float32)
}

// Network is a network of a registered architecture: a Classifier that can
// be saved.
type Network interface {
	Classifier
	// Tensors returns the weights and buffers as the model file stores
	// them, in a fixed order; they share memory with the network.
	Tensors() []modelfile.Tensor
	// Hyper returns the sizes the model file header records, from which the
	// architecture's Load rebuilds the network.
	Hyper() map[string]int
}

// Embedder is a network that also gives a representation of each image:
// the features its output layer classifies from, EmbedDim values per image
// (for b images of x, b x EmbedDim into out). galaxy embed writes them and
// galaxy similar searches them.
type Embedder interface {
	EmbedDim() int
	Embed(x []float32, b int, out []float32)
}

// Spec is what a network is built from: the shape of its input and output,
// and the settings of its architecture. It is the union of every
// architecture's settings; each reads its own and ignores the rest.
type Spec struct {
	InC, H, W, K int `json:"-"` // input channels and size; classes (from the data)

	Hidden int `json:"hidden"` // seed-mlp: hidden units d

	Widths  []int   `json:"widths"`  // cnn: output channels of each block
	Convs   []int   `json:"convs"`   // cnn: convolutions in each block (nil: one each)
	Crop    int     `json:"crop"`    // cnn: the network sees the central Crop×Crop pixels (0: all)
	Dropout float64 `json:"dropout"` // cnn: before the dense layer
	TTA     bool    `json:"tta"`     // cnn: classify by averaging the 8 symmetries of the square
}

// Output says how an architecture's logits become probabilities.
type Output int

const (
	// Softmax: the probabilities are the softmax of the logits.
	Softmax Output = iota
	// Sigmoids: K independent sigmoid scores, divided by their sum (the
	// assignment's network).
	Sigmoids
)

// Defaults are an architecture's settings and training recipe when the
// user does not choose them. Package train reads the recipe fields.
type Defaults struct {
	Spec           Spec    // architecture settings (the shape fields are ignored)
	Channels       string  // channels it trains on, as data.ParseChannels reads them
	Batch          int     // images per step
	Steps          int     // trained by steps of stochastic gradient descent (seed-mlp) ...
	Epochs         int     // ... or by epochs of mini-batches (cnn)
	LabelSmoothing float64 // epochs: of the cross-entropy
	Shift          int     // epochs: largest augmentation shift in pixels
	Warmup         float64 // epochs: of linear learning-rate warm-up before the cosine decay
	KeepLast       bool    // epochs: keep the last epoch's weights, not the best validation epoch's
	LogitAdjust    string  // epochs: "auto", "none" or a tau
	Calibrate      bool    // epochs: fit a temperature to the validation part
}

// Arch is an architecture: how to build, load and read a network of it.
type Arch struct {
	Name     string
	Summary  string // one line for help texts
	Output   Output
	Defaults Defaults
	// New builds an untrained network of spec s, weights drawn from rng.
	New func(s Spec, rng *rand.Rand) (Network, error)
	// Load rebuilds a trained network for the input and classes of s (the
	// architecture's fields zero) from a model file's hyper sizes and
	// tensors (get returns a tensor by name, checking its shape).
	Load func(s Spec, hyper map[string]int, get func(name string, shape ...int) ([]float32, error)) (Network, error)
	// Block says where a tensor (by its model-file name) of a network of
	// this architecture sits, for fine-tuning: in block 1, 2, ... of the
	// trunk (1 nearest the input), or 0 in the head, the layers that map
	// the trunk's features to classes and are drawn afresh when a network
	// starts from another model's trunk. nil: all of it is trunk.
	Block func(tensor string) int
}

// The registry is written only by Register, from the architectures'
// package initialisers, and read afterwards.
var registry struct {
	sync.RWMutex
	archs []*Arch
}

// Register makes an architecture available by name. It panics on an
// incomplete Arch or a name registered twice: both are programming errors.
func Register(a Arch) {
	if a.Name == "" || a.New == nil || a.Load == nil {
		panic("model: Register of an incomplete architecture " + a.Name)
	}
	registry.Lock()
	defer registry.Unlock()
	for _, b := range registry.archs {
		if b.Name == a.Name {
			panic("model: architecture " + a.Name + " registered twice")
		}
	}
	registry.archs = append(registry.archs, &a)
}

// Lookup returns the architecture registered as name.
func Lookup(name string) (*Arch, error) {
	registry.RLock()
	defer registry.RUnlock()
	for _, a := range registry.archs {
		if a.Name == name {
			return a, nil
		}
	}
	return nil, fmt.Errorf("unknown architecture %q (known: %s)", name, strings.Join(names(), ", "))
}

// Archs returns the registered architectures in registration order.
func Archs() []*Arch {
	registry.RLock()
	defer registry.RUnlock()
	return slices.Clone(registry.archs)
}

func names() []string {
	var out []string
	for _, a := range registry.archs {
		out = append(out, a.Name)
	}
	return out
}

package seed

import (
	"fmt"
	"math/rand/v2"

	"galaxy/model"
	"galaxy/model/modelfile"
)

// Name is the architecture's registered name.
const Name = "seed-mlp"

func init() {
	model.Register(model.Arch{
		Name:    Name,
		Summary: "the assignment's network, sigmoid(W2 tanh(W1 v + b1) + b2), trained by SGD on the summed binary cross-entropy",
		Output:  model.Sigmoids,
		// The hidden layer is the trunk, the output layer the head.
		Block: func(tensor string) int {
			if tensor == "W1" || tensor == "b1" {
				return 1
			}
			return 0
		},
		Defaults: model.Defaults{Spec: model.Spec{Hidden: 100}, Channels: "g", Batch: 1, Steps: 100000},
		New: func(s model.Spec, rng *rand.Rand) (model.Network, error) {
			return New(s.H*s.W*s.InC, s.Hidden, s.K, rng)
		},
		Load: func(s model.Spec, hyper map[string]int, get func(string, ...int) ([]float32, error)) (model.Network, error) {
			n, d, k := s.H*s.W*s.InC, hyper["hidden"], s.K
			p := NewParams[float32](n, d, k)
			names, _ := p.Blocks()
			blocks := []*[]float32{&p.W1, &p.B1, &p.W2, &p.B2}
			for i, shape := range p.shapes() {
				var err error
				if *blocks[i], err = get(names[i], shape...); err != nil {
					return nil, err
				}
			}
			return FromParams(p)
		},
	})
}

// shapes returns the shapes of the blocks, in Blocks' order.
func (p *Params[F]) shapes() [][]int {
	return [][]int{{p.D, p.N}, {p.D}, {p.K, p.D}, {p.K}}
}

// Tensors implements model.Network: W1, b1, W2, b2 with every update applied.
func (m *Net) Tensors() []modelfile.Tensor {
	p := m.Params()
	names, blocks := p.Blocks()
	var ts []modelfile.Tensor
	for i, shape := range p.shapes() {
		ts = append(ts, modelfile.Tensor{Name: names[i], Shape: shape, Data: blocks[i]})
	}
	return ts
}

// Hyper implements model.Network: the hidden units.
func (m *Net) Hyper() map[string]int { return map[string]int{"hidden": m.p.D} }

// Check reports whether the network has n inputs, d hidden units and k
// classes.
func (m *Net) Check(n, d, k int) error {
	if m.p.N != n || m.p.D != d || m.p.K != k {
		return fmt.Errorf("the network has n=%d, d=%d, k=%d; want n=%d, d=%d, k=%d", m.p.N, m.p.D, m.p.K, n, d, k)
	}
	return nil
}

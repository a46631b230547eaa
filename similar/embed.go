package similar

import (
	"fmt"
	"math"
	"strconv"

	"galaxy/data"
	"galaxy/model"
)

// embedBatch is how many images Embed passes to the network at once.
const embedBatch = 256

// Embedder returns m's network as a model.Embedder, or an error saying that
// its architecture gives no representations.
func Embedder(m *model.Model) (model.Embedder, error) {
	e, ok := m.Net.(model.Embedder)
	if !ok {
		return nil, fmt.Errorf("a %s model gives no representations of images (cnn and seed-mlp models do)", m.Meta.Arch)
	}
	return e, nil
}

// Embed returns the representations m gives every image of ds's training
// and test splits, each row recorded with its part, id, class (in ds's
// scheme, which need not be the model's) and position in the file;
// modelName and dataPath are recorded as where they came from.
func Embed(m *model.Model, ds *data.Dataset, modelName, dataPath string) (*Index, error) {
	e, err := Embedder(m)
	if err != nil {
		return nil, err
	}
	if in := m.Meta.Input; ds.H != in.Height || ds.W != in.Width || ds.C != len(in.Channels) {
		return nil, fmt.Errorf("%s: images are %dx%dx%d, the model takes %dx%dx%d", ds.Source, ds.H, ds.W, ds.C, in.Height, in.Width, len(in.Channels))
	}
	d := e.EmbedDim()
	ix := &Index{Dim: d, Classes: ds.Scheme.Classes, Model: modelName, Data: dataPath}
	dim := ds.Dim()
	x := make([]float32, embedBatch*dim)
	for _, p := range []struct {
		s    *data.Split
		part int
	}{{ds.Train, PartTrain}, {ds.Test, PartTest}} {
		s := p.s
		for lo := 0; lo < s.Len(); lo += embedBatch {
			b := min(embedBatch, s.Len()-lo)
			for i := range b {
				s.Features(lo+i, x[i*dim:(i+1)*dim])
			}
			out := make([]float32, b*d)
			e.Embed(x[:b*dim], b, out)
			ix.Vectors = append(ix.Vectors, out...)
		}
		for i := range s.Len() {
			id, file := "", ""
			if s.IDs != nil {
				id = strconv.FormatInt(s.IDs[i], 10)
			}
			if s.Files != nil {
				file = s.Files[i]
			}
			row := i
			if i < len(s.Index) {
				row = s.Index[i]
			}
			ix.IDs, ix.Files = append(ix.IDs, id), append(ix.Files, file)
			ix.Labels, ix.Rows, ix.Parts = append(ix.Labels, s.Labels[i]), append(ix.Rows, row), append(ix.Parts, p.part)
		}
	}
	ix.Novelty = make([]float64, ix.Len())
	if m.Novelty != nil && m.Novelty.D == d {
		m.Novelty.Scores(ix.Vectors, ix.Len(), ix.Novelty)
	} else {
		for i := range ix.Novelty {
			ix.Novelty[i] = math.NaN()
		}
	}
	ix.SetCenter()
	return ix, ix.Check()
}

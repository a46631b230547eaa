package similar

import (
	"fmt"
	"math"
	"strconv"

	"galaxy/data"
	"galaxy/data/cutout"
	"galaxy/model"
	"galaxy/predict"
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
	return ix, ix.finish(m)
}

// Unreadable is an input EmbedInputs could not read or prepare.
type Unreadable struct {
	File string
	Err  error
}

// EmbedInputs returns the representations m gives every readable image
// items yields (predict.Inputs: files, folders, catalogs of cutouts,
// unlabelled), prepared as predict prepares them, in batches of embedBatch
// images, so that only a batch of images is in memory at a time. Rows keep
// the items' ids and paths, part PartNone and no label; an image that
// cannot be read is left out and listed in the second result. modelName and
// source are recorded as where the rows came from.
func EmbedInputs(m *model.Model, items func(func(predict.Item) bool), modelName, source string, lim cutout.Limits) (*Index, []Unreadable, error) {
	e, err := Embedder(m)
	if err != nil {
		return nil, nil, err
	}
	prep, err := predict.NewPreparer(m, lim)
	if err != nil {
		return nil, nil, err
	}
	d, dim := e.EmbedDim(), prep.Dim()
	ix := &Index{Dim: d, Model: modelName, Data: source}
	var bad []Unreadable
	x := make([]float32, embedBatch*dim)
	n, row := 0, 0
	flush := func() {
		if n == 0 {
			return
		}
		out := make([]float32, n*d)
		e.Embed(x[:n*dim], n, out)
		ix.Vectors = append(ix.Vectors, out...)
		n = 0
	}
	for it := range items {
		if err := prep.FileFeatures(it.Path, x[n*dim:(n+1)*dim]); err != nil {
			bad = append(bad, Unreadable{it.File, err})
			row++
			continue
		}
		ix.IDs, ix.Files = append(ix.IDs, it.ID), append(ix.Files, it.Path)
		ix.Labels, ix.Rows, ix.Parts = append(ix.Labels, -1), append(ix.Rows, row), append(ix.Parts, PartNone)
		row++
		if n++; n == embedBatch {
			flush()
		}
	}
	flush()
	if ix.Len() == 0 {
		return nil, bad, fmt.Errorf("%s: no image could be read", source)
	}
	return ix, bad, ix.finish(m)
}

// finish scores the rows' novelty with m (NaN without its statistics),
// centres the index and checks it.
func (ix *Index) finish(m *model.Model) error {
	ix.Novelty = make([]float64, ix.Len())
	if m.Novelty != nil && m.Novelty.D == ix.Dim {
		m.Novelty.Scores(ix.Vectors, ix.Len(), ix.Novelty)
	} else {
		for i := range ix.Novelty {
			ix.Novelty[i] = math.NaN()
		}
	}
	ix.SetCenter()
	return ix.Check()
}

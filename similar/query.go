package similar

import (
	"fmt"
	"image"
	"io"
	"strconv"

	"galaxy/data"
	"galaxy/data/cutout"
	"galaxy/model/builtin"
	"galaxy/predict"
	"galaxy/render"
)

// ByID returns the k rows most like the row with object id id, without
// that row itself.
func (ix *Index) ByID(id string, k int) ([]Hit, error) {
	r, err := ix.Row(id)
	if err != nil {
		return nil, err
	}
	return ix.Search(ix.Vectors[r*ix.Dim:(r+1)*ix.Dim], k, func(x int) bool { return x != r }), nil
}

// ByImage returns the k rows most like the image file at path (JPEG, PNG
// or FITS), prepared and embedded as the index's model (ix.Model, a model
// file or builtin.Name) prepares and embeds its inputs, and that image as
// the model sees it.
func (ix *Index) ByImage(path string, k int) ([]Hit, image.Image, error) {
	m, err := builtin.Load(ix.Model)
	if err != nil {
		return nil, nil, fmt.Errorf("the index's model: %w", err)
	}
	e, err := Embedder(m)
	if err != nil {
		return nil, nil, err
	}
	if e.EmbedDim() != ix.Dim {
		return nil, nil, fmt.Errorf("the model %s gives %d values per image, the index holds %d: it was made by another model", ix.Model, e.EmbedDim(), ix.Dim)
	}
	prep, err := predict.NewPreparer(m, cutout.Limits{})
	if err != nil {
		return nil, nil, err
	}
	x := make([]float32, prep.Dim())
	if err := prep.FileFeatures(path, x); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	q := make([]float32, ix.Dim)
	e.Embed(x, 1, q)
	img, err := prep.Picture(x)
	if err != nil {
		return nil, nil, err
	}
	return ix.Search(q, k, nil), img, nil
}

// WriteText writes the hits one a line: rank, similarity, id, class, file.
func WriteText(w io.Writer, hits []Hit) {
	for i, h := range hits {
		label := ""
		if h.Label != nil {
			label = *h.Label
		}
		fmt.Fprintf(w, "%3d  %.4f  %-20s %-16s %s\n", i+1, h.Similarity, h.ID, label, h.File)
	}
}

// Gallery draws the query image (nil: none) and the hits, each titled with
// its rank and similarity and its class or id beneath, the hits' images
// taken from raw, the index's data file (Index.Data) as read.
func (ix *Index) Gallery(hits []Hit, query image.Image, raw *data.Raw, scale int) (*image.RGBA, error) {
	var tiles []render.Tile
	if query != nil {
		tiles = append(tiles, render.Tile{Img: query, Title: "query"})
	}
	for i, h := range hits {
		row := ix.Rows[h.Row]
		if row < 0 || row >= raw.N {
			return nil, fmt.Errorf("%s has %d images; the index names image %d: it was made from another file", ix.Data, raw.N, row)
		}
		img, err := render.Galaxy(raw.Image(row), raw.H, raw.W, raw.C, scale)
		if err != nil {
			return nil, err
		}
		sub := h.ID
		if h.Label != nil {
			sub = *h.Label
		}
		tiles = append(tiles, render.Tile{Img: img, Title: "#" + strconv.Itoa(i+1) + " " + strconv.FormatFloat(h.Similarity, 'f', 3, 64), Sub: sub})
	}
	return render.Gallery(tiles, 0), nil
}

package similar

import (
	"fmt"
	"image"
	"io"
	"strconv"

	"galaxy/data"
	"galaxy/data/cutout"
	"galaxy/model"
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
	img, err := prep.Picture(x, 1)
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

// Images gives the picture of an index row (its position in the index).
type Images func(row int) (image.Image, error)

// RawImages draws the index's rows from raw, the data file it was made from
// (Index.Data) as read, scale pixels per image pixel.
func (ix *Index) RawImages(raw *data.Raw, scale int) Images {
	return func(r int) (image.Image, error) {
		row := ix.Rows[r]
		if row < 0 || row >= raw.N {
			return nil, fmt.Errorf("%s has %d images; the index names image %d: it was made from another file", ix.Data, raw.N, row)
		}
		return render.Galaxy(raw.Image(row), raw.H, raw.W, raw.C, scale)
	}
}

// FileImages draws the index's rows from their files (an index of cutouts,
// EmbedInputs), as m sees them, scale pixels per image pixel.
func (ix *Index) FileImages(m *model.Model, scale int) (Images, error) {
	prep, err := predict.NewPreparer(m, cutout.Limits{})
	if err != nil {
		return nil, err
	}
	return func(r int) (image.Image, error) {
		x := make([]float32, prep.Dim())
		if err := prep.FileFeatures(ix.Files[r], x); err != nil {
			return nil, fmt.Errorf("%s: %w", ix.Files[r], err)
		}
		return prep.Picture(x, scale)
	}, nil
}

// Gallery draws the query image (nil: none) and the hits, each titled with
// its rank and similarity and its class or id beneath.
func (ix *Index) Gallery(hits []Hit, query image.Image, images Images) (*image.RGBA, error) {
	var tiles []render.Tile
	if query != nil {
		tiles = append(tiles, render.Tile{Img: query, Title: "query"})
	}
	for i, h := range hits {
		img, err := images(h.Row)
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

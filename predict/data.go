package predict

import (
	"fmt"
	"strconv"

	"galaxy/data"
	"galaxy/data/scheme"
	"galaxy/model"
)

// DataInputs prepares every image of raw, a data file's images (labelled
// or not, in file order; read with m.Preparation, so that a reader that can
// resize while reading does), as m's training data was prepared (its
// channels and size), and returns the items (DataItems) and their number.
// Images of other channels or size than m takes are an error, as is a
// label code that raw's label space does not have.
func DataInputs(m *model.Model, raw *data.Raw) (func(yield func(Item) bool), int, error) {
	s, err := dataImages(m, raw)
	if err != nil {
		return nil, 0, err
	}
	var labels []string
	if raw.Codes != nil {
		if sch, err := scheme.Get(raw.Space); err == nil {
			labels = sch.Classes
		}
		for i, c := range raw.Codes {
			if labels != nil && c >= len(labels) {
				return nil, 0, fmt.Errorf("%s: image %d has label code %d, which %s labels do not have (codes 0-%d)", raw.Path, i, c, raw.Space, len(labels)-1)
			}
		}
	}
	return DataItems(s, raw.Path, labels), s.Len(), nil
}

// DataImage prepares image i of raw for m into dst, as DataInputs does.
func DataImage(m *model.Model, raw *data.Raw, i int, dst []float32) error {
	if i < 0 || i >= raw.N {
		return fmt.Errorf("%s has %d images, not an image %d", raw.Path, raw.N, i)
	}
	one := *raw
	one.N, one.Pixels, one.Codes, one.IDs, one.Files = 1, raw.Image(i), nil, nil, nil
	s, err := dataImages(m, &one)
	if err != nil {
		return err
	}
	s.Features(0, dst)
	return nil
}

// dataImages prepares every image of raw for m (data.Images), checking that
// they come out at m's input size.
func dataImages(m *model.Model, raw *data.Raw) (*data.Split, error) {
	if in := m.Meta.Input; in.SourceChannels > 0 && raw.C != in.SourceChannels {
		return nil, fmt.Errorf("%s: images have %d channels, the model was trained on images of %d", raw.Path, raw.C, in.SourceChannels)
	}
	s, err := data.Images(raw, m.Preparation())
	if err != nil {
		return nil, err
	}
	if in := m.Meta.Input; s.H != in.Height || s.W != in.Width || s.C != len(in.Channels) {
		return nil, fmt.Errorf("%s: images are %dx%dx%d, the model takes %dx%dx%d", raw.Path, s.H, s.W, s.C, in.Height, in.Width, len(in.Channels))
	}
	return s, nil
}

// DataColumns are the columns DataItems' rows carry: the image's position
// in its data file and its label there (the class name in the file's label
// space; empty when the file has none).
var DataColumns = []string{"row", "label"}

// DataItems returns an iterator over the images of s (data.Images: every
// image of a data file, prepared for the model), in s's order. Each item's
// id is the file's object id (the image's position in the file when it has
// none), its file is file, and it carries DataColumns: the position and
// the label, named by labels (the class names of the file's label space;
// nil or a code past its end: the code).
func DataItems(s *data.Split, file string, labels []string) func(yield func(Item) bool) {
	return func(yield func(Item) bool) {
		for i := range s.Len() {
			row := strconv.Itoa(s.Index[i])
			id := row
			if s.IDs != nil {
				id = strconv.FormatInt(s.IDs[i], 10)
			}
			label := ""
			if c := s.Labels[i]; c >= 0 && c < len(labels) {
				label = labels[c]
			} else if c >= 0 {
				label = strconv.Itoa(c) // a label space without names
			}
			it := Item{ID: id, File: file, Carry: []string{row, label}, Features: func(dst []float32) error {
				s.Features(i, dst)
				return nil
			}}
			if !yield(it) {
				return
			}
		}
	}
}

// DataOutputColumns returns the output columns of model m's rows for
// DataItems: DataColumns, then novelty and warning when m has novelty
// statistics.
func DataOutputColumns(m *model.Model) []Option {
	return append([]Option{WithCarried(DataColumns)}, noveltyColumns(m)...)
}

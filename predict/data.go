package predict

import (
	"fmt"
	"strconv"

	"galaxy/data"
	"galaxy/data/scheme"
	"galaxy/model"
)

// Data is every image of a data file prepared for a model: what predict
// classifies for a data file, through Run with Items and Features.
type Data struct {
	s      *data.Split
	file   string
	labels []string // the class names of the file's label space (nil: none known)
}

// DataInputs prepares every image of raw, a data file's images (labelled
// or not, in file order; read with m.Preparation, so that a reader that can
// resize while reading does), as m's training data was prepared (its
// channels and size). Images of other channels or size than m takes are an
// error, as is a label code that raw's label space does not have.
func DataInputs(m *model.Model, raw *data.Raw) (*Data, error) {
	s, err := dataImages(m, raw)
	if err != nil {
		return nil, err
	}
	d := &Data{s: s, file: raw.Path}
	if raw.Codes != nil {
		if sch, err := scheme.Get(raw.Space); err == nil {
			d.labels = sch.Classes
			for i, c := range raw.Codes {
				if c >= len(d.labels) {
					return nil, fmt.Errorf("%s: image %d has label code %d, which %s labels do not have (codes 0-%d)", raw.Path, i, c, raw.Space, len(d.labels)-1)
				}
			}
		}
	}
	return d, nil
}

// Len returns the number of images.
func (d *Data) Len() int { return d.s.Len() }

// Features writes the prepared features of item it (one of Items) into
// dst: Config.Features for Run.
func (d *Data) Features(it Item, dst []float32) error {
	if it.Image < 0 || it.Image >= d.s.Len() {
		return fmt.Errorf("%s has %d images, not an image %d", d.file, d.s.Len(), it.Image)
	}
	d.s.Features(it.Image, dst)
	return nil
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

// DataColumns are the columns Data's items carry: the image's position
// in its data file and its label there (the class name in the file's label
// space; empty when the file has none).
var DataColumns = []string{"row", "label"}

// Items returns an iterator over the images, in file order. Each item's id
// is the file's object id (the image's position in the file when it has
// none), its file is the data file, and it carries DataColumns: the
// position and the label (the class name in the file's label space; the
// code in a space without names; empty without labels).
func (d *Data) Items() func(yield func(Item) bool) {
	s := d.s
	return func(yield func(Item) bool) {
		for i := range s.Len() {
			row := strconv.Itoa(s.Index[i])
			id := row
			if s.IDs != nil {
				id = strconv.FormatInt(s.IDs[i], 10)
			}
			label := ""
			if c := s.Labels[i]; c >= 0 && c < len(d.labels) {
				label = d.labels[c]
			} else if c >= 0 {
				label = strconv.Itoa(c)
			}
			if !yield(Item{ID: id, File: d.file, Carry: []string{row, label}, Image: i}) {
				return
			}
		}
	}
}

// DataOutputColumns returns the output columns of model m's rows for
// Data's items: DataColumns, then novelty and warning when m has novelty
// statistics.
func DataOutputColumns(m *model.Model) []Option {
	return append([]Option{WithCarried(DataColumns)}, noveltyColumns(m)...)
}

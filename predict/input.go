// Package predict classifies new galaxy images with a saved model: it lists
// the inputs (image files, folders, catalog CSVs, or every image of a data
// file: Data), prepares each image the way the model's training data
// was prepared, scores them in batches and writes one output row per input,
// in input order, streaming.
package predict

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"galaxy/data"
	"galaxy/data/cutout"
	"galaxy/data/fits"
	"galaxy/model"
	"galaxy/render"
)

// Item is one input: the file to read, its id and the file as the user
// named it (in the catalog or on the command line).
type Item struct {
	ID    string
	File  string   // as written in the catalog or given
	Path  string   // where to read it
	Carry []string // the values of the carried columns ("" where the input has none)
	// Image is the item's position among a data file's images (Data.Items),
	// which Config.Features prepares; unused for files.
	Image int
}

// CatalogOptions name a catalog's columns.
type CatalogOptions struct {
	FileColumn string   // default "file"
	IDColumn   string   // default: id, objid or galaxy_id when present, else the file's base name
	Carry      []string // columns copied to the output row (CarriedColumns)
}

// Carried are the catalog columns predict copies to its output when a
// catalog has them: where the galaxy is, as Galaxy10 DECaLS and survey
// catalogs give it.
var Carried = []string{"ra", "dec", "redshift"}

// CarriedColumns returns those of Carried that the catalogs among args
// have (in Carried's order), the columns their output rows carry.
func CarriedColumns(args []string) ([]string, error) {
	have := map[string]bool{}
	for _, a := range args {
		if !IsCatalog(a) {
			continue
		}
		f, err := os.Open(a)
		if err != nil {
			return nil, fmt.Errorf("%s: no such catalog", a)
		}
		head, err := csv.NewReader(f).Read()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: read header: %w", a, err)
		}
		for _, h := range head {
			have[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = true
		}
	}
	var out []string
	for _, c := range Carried {
		if have[c] {
			out = append(out, c)
		}
	}
	return out, nil
}

// imageExts are the file names a folder is searched for.
var imageExts = []string{".jpg", ".jpeg", ".png", ".fits", ".fit", ".fts"}

// IsCatalog reports whether path names a catalog CSV.
func IsCatalog(path string) bool { return strings.EqualFold(filepath.Ext(path), ".csv") }

// baseID is a file's name without folder and extension.
func baseID(p string) string {
	b := filepath.Base(p)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// Inputs returns an iterator over the items named by args, in order: a
// catalog CSV yields its rows (paths relative to the catalog's folder), a
// folder its image files (by name, not recursive), anything else is taken
// as an image file (if it is missing, its row says so). The iterator stops
// at the first command-level error (an unreadable catalog or folder), which
// it returns through *err.
func Inputs(args []string, opt CatalogOptions, errp *error) func(yield func(Item) bool) {
	return func(yield func(Item) bool) {
		for _, a := range args {
			fi, statErr := os.Stat(a)
			switch {
			case statErr == nil && fi.IsDir():
				ents, err := os.ReadDir(a)
				if err != nil {
					*errp = err
					return
				}
				var names []string
				for _, e := range ents {
					if !e.IsDir() && slices.Contains(imageExts, strings.ToLower(filepath.Ext(e.Name()))) {
						names = append(names, e.Name())
					}
				}
				slices.Sort(names)
				for _, n := range names {
					p := filepath.Join(a, n)
					if !yield(Item{ID: baseID(n), File: p, Path: p}) {
						return
					}
				}
			case IsCatalog(a):
				if err := catalog(a, opt, yield); err != nil {
					if !errors.Is(err, errStop) {
						*errp = err
					}
					return
				}
			default:
				if !yield(Item{ID: baseID(a), File: a, Path: a}) {
					return
				}
			}
		}
	}
}

var errStop = errors.New("stop")

func catalog(path string, opt CatalogOptions, yield func(Item) bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dir := filepath.Dir(path)
	return readCatalog(f, path, opt, func(file string) string {
		if file != "" && !filepath.IsAbs(file) {
			return filepath.Join(dir, file)
		}
		return file
	}, yield)
}

// readCatalog reads the catalog CSV in rd (path names it in messages),
// resolving each row's file to the path to read with resolve. It returns
// errStop when yield returns false.
func readCatalog(rd io.Reader, path string, opt CatalogOptions, resolve func(file string) string, yield func(Item) bool) error {
	r := csv.NewReader(rd)
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return fmt.Errorf("%s: read header: %w", path, err)
	}
	cols, fi, idi, err := data.CatalogColumns(path, slices.Clone(head), opt.FileColumn, opt.IDColumn)
	if err != nil {
		return err
	}
	carry := make([]int, len(opt.Carry))
	for j, c := range opt.Carry {
		carry[j] = -1
		for name, i := range cols {
			if strings.EqualFold(name, c) {
				carry[j] = i
			}
		}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		it := Item{}
		if fi < len(rec) {
			it.File = strings.TrimSpace(rec[fi])
		}
		it.Path = resolve(it.File)
		if idi >= 0 && idi < len(rec) {
			it.ID = strings.TrimSpace(rec[idi])
		} else {
			it.ID = baseID(it.File)
		}
		if len(carry) > 0 {
			it.Carry = make([]string, len(carry))
			for j, i := range carry {
				if i >= 0 && i < len(rec) {
					it.Carry[j] = strings.TrimSpace(rec[i])
				}
			}
		}
		if !yield(it) {
			return errStop
		}
	}
}

// Count returns how many items args name, reading catalogs once quickly
// (for a progress bar); -1 when it cannot tell.
func Count(args []string, opt CatalogOptions) int {
	var err error
	n := 0
	for range Inputs(args, opt, &err) {
		n++
	}
	if err != nil {
		return -1
	}
	return n
}

// Preparer turns an image file into the model's input features.
type Preparer struct {
	H, W     int
	Channels []int   // channels of the prepared RGB image, in order
	Scale    float32 // feature = pixel * Scale
	Limits   cutout.Limits
	// Galaxy10 says the images are made as Galaxy10 SDSS's 69x69 were
	// (cutout.Prepare), then area-averaged to H x W if that differs; else
	// the central square is area-averaged to H x W (cutout.PrepareSquare),
	// as for surveys whose files hold the whole cutout (Galaxy10 DECaLS).
	Galaxy10 bool
}

// NewPreparer reads what the model expects. A model trained on 69x69
// images (resized or not) gets the Galaxy10 recipe; one trained on larger
// or smaller square images gets the central square of each cutout at its
// size. A model whose source images did not have 3 channels is refused.
func NewPreparer(m *model.Model, lim cutout.Limits) (*Preparer, error) {
	in := m.Meta.Input
	source := in.SourceSize
	if source == 0 {
		source = in.Height
	}
	if in.Height != in.Width || in.Height < 1 {
		return nil, fmt.Errorf("the model takes %dx%d images; predict prepares square cutouts", in.Height, in.Width)
	}
	src := in.SourceChannels
	if src == 0 {
		src = 3
	}
	if src != 3 && src != 1 {
		return nil, fmt.Errorf("the model was trained on %d-channel images; predict makes RGB (i, r, g) cutouts", src)
	}
	ch := in.Channels
	if src == 1 { // a one-channel file was taken as the g band: channel 2 of RGB
		ch = []int{2}
	}
	for _, c := range ch {
		if c < 0 || c > 2 {
			return nil, fmt.Errorf("the model reads channel %d; cutouts have channels 0..2", c)
		}
	}
	return &Preparer{H: in.Height, W: in.Width, Channels: ch, Scale: float32(in.Scale), Limits: lim, Galaxy10: source == cutout.Size}, nil
}

// Dim is the length of one image's features.
func (p *Preparer) Dim() int { return p.H * p.W * len(p.Channels) }

// ErrFormat is Decode's error for bytes in none of the formats it reads. It
// matches cutout.ErrFormat with errors.Is.
var ErrFormat error = formatError{}

type formatError struct{}

func (formatError) Error() string        { return "not a JPEG, PNG or FITS image" }
func (formatError) Is(target error) bool { return target == cutout.ErrFormat }

// Decode reads an image from b: JPEG, PNG or FITS, recognised by content.
// FITS flux is stretched to 8 bits (see package fits).
func Decode(b []byte, lim cutout.Limits) (image.Image, error) {
	if bytes.HasPrefix(b, fits.Magic) {
		fm, err := fits.Decode(bytes.NewReader(b), fits.Limits{MaxPixels: lim.MaxPixels})
		if err != nil {
			return nil, err
		}
		return fm.Stretch(), nil
	}
	img, err := cutout.Decode(bytes.NewReader(b), lim)
	if errors.Is(err, cutout.ErrFormat) {
		if len(b) == 0 {
			return nil, fmt.Errorf("empty input: %w", ErrFormat)
		}
		return nil, ErrFormat
	}
	return img, err
}

// Features prepares the image in b (a whole file) into dst (len Dim()).
func (p *Preparer) Features(b []byte, dst []float32) error {
	img, err := Decode(b, p.Limits)
	if err != nil {
		return err
	}
	p.Prepare(img, dst)
	return nil
}

// Prepare prepares a decoded image into dst (len Dim()).
func (p *Preparer) Prepare(img image.Image, dst []float32) {
	var px []uint8
	switch {
	case !p.Galaxy10:
		px = cutout.PrepareSquare(img, p.H)
	case p.H == cutout.Size:
		px = cutout.Prepare(img)
	default:
		px = make([]uint8, p.H*p.W*3)
		cutout.Resize(px, cutout.Prepare(img), cutout.Size, cutout.Size, 3, p.H, p.W)
	}
	nc := len(p.Channels)
	for i := 0; i < p.H*p.W; i++ {
		for j, c := range p.Channels {
			dst[i*nc+j] = float32(px[i*3+c]) * p.Scale
		}
	}
}

// Picture draws prepared features x (len Dim()) as the model sees them:
// viridis for one channel, colour for three (render.GalaxyFloat), scale
// pixels per input pixel.
func (p *Preparer) Picture(x []float32, scale int) (*image.RGBA, error) {
	px := make([]float32, len(x))
	for i, v := range x {
		px[i] = v / p.Scale
	}
	return render.GalaxyFloat(px, p.H, p.W, len(p.Channels), scale)
}

// FileFeatures reads and prepares the file at path into dst.
func (p *Preparer) FileFeatures(path string, dst []float32) error {
	if path == "" {
		return errors.New("no file named")
	}
	b, err := ReadFile(path, p.Limits)
	if err != nil {
		return err
	}
	return p.Features(b, dst)
}

// ReadFile reads a whole image file, refusing files far larger than any image
// within the pixel limit could be.
func ReadFile(path string, lim cutout.Limits) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s is a folder", path)
	}
	if err := CheckFileSize(path, fi.Size(), lim); err != nil {
		return nil, err
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// Columns returns the output columns of model m's rows for the inputs
// args: novelty and warning when m has novelty statistics, and those of
// Carried that the catalogs among args have, which it sets opt.Carry to
// copy. A catalog that cannot be read is an error.
func Columns(m *model.Model, args []string, opt *CatalogOptions) ([]Option, error) {
	carried, err := CarriedColumns(args)
	if err != nil {
		return nil, err
	}
	opt.Carry = carried
	var opts []Option
	if len(carried) > 0 {
		opts = append(opts, WithCarried(carried))
	}
	return append(opts, noveltyColumns(m)...), nil
}

// noveltyColumns returns the novelty and warning columns when m has novelty
// statistics.
func noveltyColumns(m *model.Model) []Option {
	if m.Novelty != nil {
		return []Option{WithNovelty()}
	}
	return nil
}

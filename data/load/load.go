// Package load reads labelled galaxy images from the files the field uses
// into a data.Raw: HDF5 files in the Galaxy10 layout, the course's pickle
// (dataG.pkl.gz), NumPy .npy/.npz files and catalogs (CSV) of JPEG/PNG/FITS
// cutouts. It is the one package that links the file readers (data/hdf5,
// data/pickle, data/npy); models, serve and the ONNX export do not import
// it.
package load

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"galaxy/data"
	"galaxy/data/array"
	"galaxy/data/cutout"
	"galaxy/data/fetch"
	"galaxy/data/hdf5"
	"galaxy/data/npy"
	"galaxy/data/pickle"
	"galaxy/data/scheme"
	"galaxy/data/synth"
	"galaxy/num"
)

// Options say how to read a file.
type Options struct {
	// Labels names the label space of the file's codes ("galaxy10", "gz1",
	// "spiral", "course5"); "" guesses it from the file.
	Labels string `json:"labels"`
	// FileColumn and LabelColumn name a catalog's columns ("file" and
	// "label" when empty; a catalog without "label" may use gz1_class,
	// galaxy10_class, class or ans). IDColumn names an optional id column.
	FileColumn  string `json:"file_column"`
	LabelColumn string `json:"label_column"`
	IDColumn    string `json:"id_column,omitempty"`
}

// File reads a data file, choosing the reader by the file's name:
// .h5/.hdf5 (Galaxy10 layout), .pkl/.pickle (optionally .gz: the course's
// tuple), .npz, .npy (images only) and .csv (a catalog of cutouts).
func File(path string, opt Options) (*data.Raw, error) { return file(path, opt, 0) }

// IsDataFile reports whether path names a file that File reads as a data
// set of arrays (HDF5, pickle, NumPy) rather than a catalog of cutouts.
func IsDataFile(path string) bool {
	r := readerFor(path)
	return r != nil && !r.catalog
}

// reader is a data format File reads, chosen by the file name's ending.
type reader struct {
	exts    []string
	catalog bool // a CSV catalog of cutout files
	read    func(path string, opt Options, size int) (*data.Raw, error)
}

var readers = []reader{
	{exts: []string{".h5", ".hdf5", ".he5"}, read: func(p string, _ Options, size int) (*data.Raw, error) { return loadHDF5(p, size) }},
	{exts: []string{".pkl", ".pkl.gz", ".pickle", ".pickle.gz"}, read: func(p string, _ Options, _ int) (*data.Raw, error) { return loadPickle(p) }},
	{exts: []string{".npz"}, read: func(p string, _ Options, _ int) (*data.Raw, error) { return loadNPZ(p) }},
	{exts: []string{".npy"}, read: func(p string, _ Options, _ int) (*data.Raw, error) {
		a, err := npy.ReadFile(p)
		if err != nil {
			return nil, err
		}
		return fromArrays(p, a, nil)
	}},
	{exts: []string{".csv"}, catalog: true, read: func(p string, opt Options, _ int) (*data.Raw, error) { return loadCatalog(p, opt) }},
}

// readerFor returns the reader of path's format, nil when none reads it.
func readerFor(path string) *reader {
	lower := strings.ToLower(path)
	for i, r := range readers {
		for _, ext := range r.exts {
			if strings.HasSuffix(lower, ext) {
				return &readers[i]
			}
		}
	}
	return nil
}

// file is File, reading an HDF5 file's images already area-averaged to
// size x size (0: as stored) when data.Prepare would resize them to that,
// a slab at a time, so that a large file never has all its full-size
// pixels in memory at once.
func file(path string, opt Options, size int) (*data.Raw, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such file", path)
		}
		return nil, err
	}
	r := readerFor(path)
	if r == nil {
		return nil, fmt.Errorf("%s: unknown data format (want .h5, .pkl[.gz], .npz, .npy or a .csv catalog)", path)
	}
	raw, err := r.read(path, opt, size)
	if err != nil {
		return nil, err
	}
	if opt.Labels != "" {
		known := false
		for _, s := range scheme.Spaces() {
			known = known || s == opt.Labels
		}
		if !known {
			return nil, fmt.Errorf("unknown label space %q (known: %s)", opt.Labels, strings.Join(scheme.Spaces(), ", "))
		}
		raw.Space = opt.Labels
	}
	if raw.Space == "" {
		raw.Space = guessSpace(raw.Codes)
	}
	return raw, nil
}

// isDECaLS reports whether a Galaxy10-layout file is Galaxy10 DECaLS
// (Galaxy10_DECals.h5: 256x256x3 g, r, z cutouts with datasets ans, ra, dec,
// redshift and pxscale), whose ten classes are not Galaxy10 SDSS's; a
// Galaxy10 SDSS file (69x69) stays galaxy10.
func isDECaLS(raw *data.Raw, source int, has func(string) bool) bool {
	side := raw.H
	if source > 0 {
		side = source
	}
	return side == 256 && raw.W == raw.H && raw.C == 3 && has("ans") && has("pxscale") && has("ra") && has("dec")
}

// slabRows is how many images readImages reads at a time when it resizes.
const slabRows = 256

// readImages reads dataset "images" of f. When size > 0 and the images are
// square uint8 of another side, it reads them slab at a time and
// area-averages each to size x size (cutout.Resize, as data.Prepare would),
// returning the side they had (else 0).
func readImages(f *hdf5.File, size, slab int) (*array.Array, int, error) {
	info, err := f.Info("images")
	if err != nil {
		return nil, 0, err
	}
	sh := info.Shape
	if size <= 0 || size > data.MaxResize || info.DType != array.Uint8 || (len(sh) != 3 && len(sh) != 4) || sh[1] != sh[2] || sh[1] == size || sh[1] == 0 {
		a, err := f.Read("images")
		return a, 0, err
	}
	n, side, c := sh[0], sh[1], 1
	if len(sh) == 4 {
		c = sh[3]
	}
	if c < 1 || c > 16 {
		a, err := f.Read("images") // fromArrays says what is wrong
		return a, 0, err
	}
	in, out := side*side*c, size*size*c
	shape := slices.Clone(sh)
	shape[1], shape[2] = size, size
	res := &array.Array{Shape: shape, DType: array.Uint8, Data: make([]byte, n*out)}
	for lo := 0; lo < n; lo += slab {
		hi := min(n, lo+slab)
		a, err := f.ReadRows("images", lo, hi)
		if err != nil {
			return nil, 0, err
		}
		num.Parallel(hi-lo, 4, func(a0, a1 int) {
			for i := a0; i < a1; i++ {
				cutout.Resize(res.Data[(lo+i)*out:(lo+i+1)*out], a.Data[i*in:(i+1)*in], side, side, c, size, size)
			}
		})
	}
	return res, side, nil
}

// guessSpace takes codes 0..1 for the binary spiral flag and anything else
// for Galaxy10 class numbers.
func guessSpace(codes []int) string {
	mx := 0
	for _, c := range codes {
		mx = max(mx, c)
	}
	if len(codes) > 0 && mx <= 1 {
		return "spiral"
	}
	return "galaxy10"
}

func loadHDF5(path string, size int) (*data.Raw, error) {
	f, err := hdf5.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names := f.Names()
	has := func(n string) bool {
		for _, x := range names {
			if x == n {
				return true
			}
		}
		return false
	}
	if !has("images") {
		return nil, fmt.Errorf("%s: no dataset \"images\" (datasets: %s)", path, strings.Join(names, ", "))
	}
	img, source, err := readImages(f, size, slabRows)
	if err != nil {
		return nil, err
	}
	var lab *array.Array
	if has("ans") {
		if lab, err = f.Read("ans"); err != nil {
			return nil, err
		}
	}
	raw, err := fromArrays(path, img, lab)
	if err != nil {
		return nil, err
	}
	raw.SourceSize = source
	for _, idName := range []string{"objid", "galaxy_id", "id", "ids"} {
		if !has(idName) {
			continue
		}
		a, err := f.Read(idName)
		if err != nil {
			return nil, err
		}
		ids, err := a.Int64s()
		if err != nil || len(ids) != raw.N {
			return nil, fmt.Errorf("%s: dataset %q: want %d integer ids, have %d", path, idName, raw.N, len(ids))
		}
		raw.IDs = ids
		break
	}
	if names, err := f.AttrStrings("class_names"); err == nil && len(names) == 6 && strings.HasPrefix(strings.ToLower(names[0]), "elliptical") {
		raw.Space = "gz1"
	}
	if isDECaLS(raw, source, has) {
		raw.Space = "galaxy10-decals"
	}
	return raw, nil
}

func loadPickle(path string) (*data.Raw, error) {
	arrs, err := pickle.ReadArrays(path)
	if err != nil {
		return nil, err
	}
	switch len(arrs) {
	case 4: // (train_images, train_labels, test_images, test_labels)
		return fromSplitArrays(path, arrs[0], arrs[1], arrs[2], arrs[3])
	case 2:
		return fromArrays(path, arrs[0], arrs[1])
	}
	return nil, fmt.Errorf("%s: want a tuple (train_images, train_labels, test_images, test_labels) or (images, labels), got %d arrays", path, len(arrs))
}

func loadNPZ(path string) (*data.Raw, error) {
	names, arrs, err := npy.ReadNPZ(path)
	if err != nil {
		return nil, err
	}
	get := func(keys ...string) *array.Array {
		for _, k := range keys {
			if a, ok := arrs[k]; ok {
				return a
			}
		}
		return nil
	}
	if xtr, xte := get("x_train", "train_images"), get("x_test", "test_images"); xtr != nil && xte != nil {
		ytr, yte := get("y_train", "train_labels"), get("y_test", "test_labels")
		if ytr == nil || yte == nil {
			return nil, fmt.Errorf("%s: has train/test images but not both label arrays (arrays: %s)", path, strings.Join(names, ", "))
		}
		return fromSplitArrays(path, xtr, ytr, xte, yte)
	}
	img := get("images", "x", "X")
	if img == nil {
		return nil, fmt.Errorf("%s: no images array (want images/ans, x/y or x_train/y_train/x_test/y_test; arrays: %s)", path, strings.Join(names, ", "))
	}
	raw, err := fromArrays(path, img, get("ans", "labels", "y", "Y"))
	if err != nil {
		return nil, err
	}
	if ids := get("objid", "galaxy_id", "ids"); ids != nil {
		v, err := ids.Int64s()
		if err == nil && len(v) == raw.N {
			raw.IDs = v
		}
	}
	return raw, nil
}

func fromSplitArrays(path string, xtr, ytr, xte, yte *array.Array) (*data.Raw, error) {
	a, err := fromArrays(path, xtr, ytr)
	if err != nil {
		return nil, fmt.Errorf("train part: %w", err)
	}
	b, err := fromArrays(path, xte, yte)
	if err != nil {
		return nil, fmt.Errorf("test part: %w", err)
	}
	if a.H != b.H || a.W != b.W || a.C != b.C {
		return nil, fmt.Errorf("%s: train images are %dx%dx%d but test images %dx%dx%d", path, a.H, a.W, a.C, b.H, b.W, b.C)
	}
	if a.N == 0 {
		return nil, fmt.Errorf("%s: the training part is empty", path)
	}
	a.Pixels = append(a.Pixels, b.Pixels...)
	a.Codes = append(a.Codes, b.Codes...)
	a.NTrain = a.N
	a.N += b.N
	if a.Space == "" {
		a.Space = b.Space
	}
	return a, nil
}

// fromArrays checks an image array (N,H,W[,C]) and an optional label array:
// codes (N,) or one-hot rows (N,K), the latter taken as the course's classes.
func fromArrays(path string, img, lab *array.Array) (*data.Raw, error) {
	if err := img.Check(); err != nil {
		return nil, fmt.Errorf("%s: images: %w", path, err)
	}
	raw := &data.Raw{Path: path}
	switch len(img.Shape) {
	case 3:
		raw.N, raw.H, raw.W, raw.C = img.Shape[0], img.Shape[1], img.Shape[2], 1
	case 4:
		raw.N, raw.H, raw.W, raw.C = img.Shape[0], img.Shape[1], img.Shape[2], img.Shape[3]
	default:
		return nil, fmt.Errorf("%s: images have shape %v, want (N, height, width) or (N, height, width, channels)", path, img.Shape)
	}
	if raw.H == 0 || raw.W == 0 || raw.C == 0 {
		return nil, fmt.Errorf("%s: images have an empty dimension: shape %v", path, img.Shape)
	}
	if raw.C > 16 {
		return nil, fmt.Errorf("%s: images have shape %v: %d channels is not an image (want channels last)", path, img.Shape, raw.C)
	}
	switch img.DType {
	case array.Uint8:
		raw.Pixels = img.Data
	case array.Float32, array.Float64, array.Int64, array.Int32, array.Int16, array.Uint16:
		v := img.Float64s()
		raw.Pixels = make([]uint8, len(v))
		for i, x := range v {
			if !(x >= 0 && x <= 255) {
				return nil, fmt.Errorf("%s: images: pixel %d is %v; %v images must hold values 0..255", path, i, x, img.DType)
			}
			raw.Pixels[i] = uint8(math.Round(x))
		}
	default:
		return nil, fmt.Errorf("%s: images of type %v are not supported (want uint8, or 0..255 in float32/float64/int)", path, img.DType)
	}
	if lab == nil {
		return raw, nil
	}
	if err := lab.Check(); err != nil {
		return nil, fmt.Errorf("%s: labels: %w", path, err)
	}
	if len(lab.Shape) == 0 || lab.Shape[0] != raw.N {
		return nil, fmt.Errorf("%s: %d images but labels of shape %v", path, raw.N, lab.Shape)
	}
	switch len(lab.Shape) {
	case 1:
		codes, err := lab.Int64s()
		if err != nil {
			return nil, fmt.Errorf("%s: labels: %w", path, err)
		}
		raw.Codes = make([]int, len(codes))
		for i, c := range codes {
			if c < 0 || c > math.MaxInt32 {
				return nil, fmt.Errorf("%s: label %d of image %d is not a class code", path, c, i)
			}
			raw.Codes[i] = int(c)
		}
	case 2:
		k := lab.Shape[1]
		if k == 0 {
			return nil, fmt.Errorf("%s: one-hot labels of shape %v have no classes", path, lab.Shape)
		}
		v := lab.Float64s()
		raw.Codes = make([]int, raw.N)
		for i := 0; i < raw.N; i++ {
			row := v[i*k : (i+1)*k]
			best, ones := 0, 0
			for j, x := range row {
				if x != 0 && x != 1 {
					return nil, fmt.Errorf("%s: label row %d is not one-hot (value %v)", path, i, x)
				}
				if x == 1 {
					ones++
					best = j
				}
			}
			if ones != 1 {
				return nil, fmt.Errorf("%s: label row %d is not one-hot (%d ones)", path, i, ones)
			}
			raw.Codes[i] = best
		}
		if k == 5 {
			raw.Space = "course5"
		}
	default:
		return nil, fmt.Errorf("%s: labels have shape %v, want (N,) codes or (N, classes) one-hot", path, lab.Shape)
	}
	return raw, nil
}

// labelColumnFallbacks are tried, in order, when a catalog has no "label" column.
var labelColumnFallbacks = []string{"gz1_class", "galaxy10_class", "class", "ans"}

// loadCatalog reads a CSV catalog of cutout files (paths relative to the
// catalog's folder) and prepares each with the Galaxy10 recipe.
func loadCatalog(path string, opt Options) (*data.Raw, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = false
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read header: %w", path, err)
	}
	col, fi, idi, err := data.CatalogColumns(path, head, opt.FileColumn, opt.IDColumn)
	if err != nil {
		return nil, err
	}
	hasID := idi >= 0
	labelCol := opt.LabelColumn
	li, ok := col[labelCol]
	if labelCol == "" {
		labelCol = "label"
		li, ok = col[labelCol]
		for _, alt := range labelColumnFallbacks {
			if ok {
				break
			}
			labelCol = alt
			li, ok = col[alt]
		}
	}
	if !ok {
		return nil, fmt.Errorf("%s: no label column %q (columns: %s); name the column that holds the labels", path, opt.LabelColumn, strings.Join(head, ", "))
	}
	raw := &data.Raw{Path: path, H: cutout.Size, W: cutout.Size, C: 3}
	switch labelCol {
	case "gz1_class":
		raw.Space = "gz1"
	case "galaxy10_class":
		raw.Space = "galaxy10"
	}
	dir := filepath.Dir(path)
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if fi >= len(rec) || li >= len(rec) {
			return nil, fmt.Errorf("%s: line %d: too few fields", path, line)
		}
		code, err := strconv.Atoi(strings.TrimSpace(rec[li]))
		if err != nil || code < 0 {
			return nil, fmt.Errorf("%s: line %d: label %q is not a class code", path, line, rec[li])
		}
		file := rec[fi]
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		raw.Files = append(raw.Files, file)
		raw.Codes = append(raw.Codes, code)
		if hasID {
			id, err := strconv.ParseInt(strings.TrimSpace(rec[idi]), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: id %q is not an integer", path, line, rec[idi])
			}
			raw.IDs = append(raw.IDs, id)
		}
	}
	raw.N = len(raw.Files)
	if raw.N == 0 {
		return nil, fmt.Errorf("%s: the catalog lists no files", path)
	}
	raw.Pixels = make([]uint8, raw.N*raw.H*raw.W*raw.C)
	if err := prepareFiles(raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return raw, nil
}

// prepareFiles decodes and prepares every cutout of a catalog, in parallel
// over the cores; the first error (in catalog order) wins.
func prepareFiles(raw *data.Raw) error {
	errs := make([]error, raw.N)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				img, err := cutout.DecodeFile(raw.Files[i], cutout.Limits{})
				if err != nil {
					errs[i] = err
					continue
				}
				copy(raw.Image(i), cutout.Prepare(img))
			}
		}()
	}
	for i := 0; i < raw.N; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Source names a data file and how to read and prepare it: what every
// command that reads a data set is told, and what a training run records.
type Source struct {
	Path    string       `json:"path"`    // a file, or a name the caller resolves (synth, galaxy10, ...)
	Read    Options      `json:"read"`    // label space and catalog columns
	Prepare data.Options `json:"prepare"` // scheme, channels, split
}

// DefaultSource returns the reading and preparation every command starts
// from (data.DefaultOptions), with no file named.
func DefaultSource() Source {
	return Source{Read: Options{FileColumn: "file"}, Prepare: data.DefaultOptions()}
}

// Open reads and prepares the data set src names (see Source.Path): a data
// file; synth.BuiltinName, the built-in synthetic galaxies (prepared with
// the course's five classes unless a scheme is given); or a published data
// set by name (package data/fetch), read from the cache of fe and
// downloaded first when missing (fe nil: the default cache). It logs to
// log what was read and what the scheme dropped.
func Open(ctx context.Context, src Source, fe *fetch.Fetcher, log io.Writer) (*data.Raw, *data.Dataset, error) {
	raw, err := src.Raw(ctx, fe)
	if err != nil {
		return nil, nil, err
	}
	opt := src.Prepare
	if opt.Scheme == "" && raw.Path == synth.BuiltinName {
		opt.Scheme = synth.DefaultScheme // Galaxy10 codes of the course's classes
	}
	ds, err := data.Prepare(raw, opt)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintln(log, ds.Describe(raw))
	return raw, ds, nil
}

// Raw reads the data set src names, as Open does, without preparing it:
// every image, labelled or not, at the size src.Prepare.Resize asks for
// when the reader can resize while reading (HDF5), else as stored.
func (src Source) Raw(ctx context.Context, fe *fetch.Fetcher) (*data.Raw, error) {
	if src.Path == "" {
		return nil, fmt.Errorf("no data file named (a file, %s, or one of %s)", synth.BuiltinName, strings.Join(fetch.Names(), ", "))
	}
	if src.Path == synth.BuiltinName {
		return synth.Builtin()
	}
	pub, ok := fetch.Lookup(src.Path)
	if !ok || src.Path != pub.Name {
		return file(src.Path, src.Read, src.Prepare.Resize)
	}
	if fe == nil {
		dir, err := fetch.DefaultDir()
		if err != nil {
			return nil, fmt.Errorf("data set %s: %w", src.Path, err)
		}
		fe = &fetch.Fetcher{Dir: dir}
	}
	path, err := fe.Ensure(ctx, pub)
	if err != nil {
		return nil, err
	}
	return file(path, src.Read, src.Prepare.Resize)
}

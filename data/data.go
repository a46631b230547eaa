// Package data holds the in-memory galaxy images every other package shares:
// Raw (a file's uint8 images in HWC order and label codes in the file's label
// space), Dataset and Split (the prepared form), and the preparation itself.
// It reads no files (package data/load does) and imports nothing above it, so
// readers, models and commands can all depend on it.
//
// Preparing (Prepare) applies a class scheme (codes a scheme drops are left
// out and counted), chooses channels, and makes the deterministic stratified
// train/test split, so that every command naming the same file and split
// seed sees the same split. Pixel scaling (1/256, as the assignment does)
// happens when a model asks for features.
package data

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"galaxy/data/cutout"
	"galaxy/data/scheme"
)

// Scale is the factor the assignment applies to pixel values (v/256).
const Scale = 1.0 / 256

// DefaultTestFrac and DefaultSplitSeed are the split every command uses
// unless told otherwise.
const (
	DefaultTestFrac  = 0.1
	DefaultSplitSeed = 2020
)

// Raw is what a data file holds: images and label codes, before a scheme,
// channel choice or split is applied.
type Raw struct {
	Path       string
	N, H, W, C int
	Pixels     []uint8  // N*H*W*C bytes; image i starts at i*H*W*C, rows top to bottom, channels interleaved
	Codes      []int    // label codes in Space, one per image; nil when the file has no labels
	Space      string   // label space of Codes: "galaxy10", "gz1", "spiral" or "course5"
	IDs        []int64  // object ids when the file has them (objid, galaxy_id, a catalog's id column)
	Files      []string // source file per image, for catalogs
	NTrain     int      // > 0 when the file carries its own split: images [0,NTrain) train, the rest test
	SourceSize int      // the side of the file's images when the reader resized them to H x W already (0: as stored)
}

// Image returns the pixels of image i (a sub-slice, not a copy).
func (r *Raw) Image(i int) []uint8 {
	sz := r.H * r.W * r.C
	return r.Pixels[i*sz : (i+1)*sz]
}

// Options say how to prepare a Raw for a model.
type Options struct {
	Scheme    string  `json:"scheme"`           // class scheme name; "" = the default for the file's label space
	Channels  string  `json:"channels"`         // "all", "g", "r", "i", or comma-separated indices; "" = all
	TestFrac  float64 `json:"test_frac"`        // fraction of each class held out for testing (ignored when the file carries its split)
	SplitSeed uint64  `json:"split_seed"`       // seed of the stratified split
	Resize    int     `json:"resize,omitempty"` // side of the square images a model sees, area-averaged from the file's (0: as stored)
}

// MaxResize is the largest side Options.Resize accepts.
const MaxResize = 1024

// DefaultOptions returns the options every command starts from.
func DefaultOptions() Options {
	return Options{TestFrac: DefaultTestFrac, SplitSeed: DefaultSplitSeed, Channels: "all"}
}

// Dataset is a prepared data set: images with chosen channels and class
// numbers of one scheme, split into train and test.
type Dataset struct {
	Source   string
	Scheme   *scheme.Scheme
	H, W, C  int   // C counts the chosen channels
	Channels []int // chosen channels of the file, in order
	Read     int   // images in the file
	Dropped  map[int]int
	Train    *Split
	Test     *Split
	Preset   bool // the split came from the file
	// SourceSize is the side of the file's square images when they were
	// resized to H x W (Options.Resize), 0 when they were used as stored.
	SourceSize int
}

// Dim returns the length of a flattened image, H*W*C.
func (d *Dataset) Dim() int { return d.H * d.W * d.C }

// DroppedCount returns how many images the scheme left out.
func (d *Dataset) DroppedCount() int {
	n := 0
	for _, c := range d.Dropped {
		n += c
	}
	return n
}

// Split is a list of prepared images and their classes.
type Split struct {
	Name    string
	H, W, C int
	Pixels  []uint8 // Len()*H*W*C, chosen channels only, HWC
	Labels  []int   // class numbers
	Index   []int   // position of each image in the file
	IDs     []int64 // object ids, when the file has them
	Files   []string
}

// Len returns the number of images.
func (s *Split) Len() int { return len(s.Labels) }

// Dim returns the length of a flattened image.
func (s *Split) Dim() int { return s.H * s.W * s.C }

// Image returns image i's bytes (a sub-slice).
func (s *Split) Image(i int) []uint8 {
	n := s.Dim()
	return s.Pixels[i*n : (i+1)*n]
}

// Features writes image i flattened and scaled by Scale into dst (len Dim()).
func (s *Split) Features(i int, dst []float32) {
	for j, p := range s.Image(i) {
		dst[j] = float32(p) * Scale
	}
}

// Matrix returns every image's features as a Len() x Dim() row-major matrix.
func (s *Split) Matrix() []float32 {
	n := s.Dim()
	m := make([]float32, s.Len()*n)
	for i := 0; i < s.Len(); i++ {
		s.Features(i, m[i*n:(i+1)*n])
	}
	return m
}

// Counts returns the number of images of each of k classes.
func (s *Split) Counts(k int) []int {
	c := make([]int, k)
	for _, l := range s.Labels {
		c[l]++
	}
	return c
}

// ParseChannels turns a --channels value into channel indices of a file with
// c channels. "g", "r" and "i" name the bands of SDSS colour composites
// (channels 2, 1, 0 of a 3-channel file); a 1-channel file is taken to be the
// g band already, as the course's file is.
func ParseChannels(spec string, c int) ([]int, error) {
	spec = strings.TrimSpace(strings.ToLower(spec))
	all := make([]int, c)
	for i := range all {
		all[i] = i
	}
	band := map[string]int{"i": 0, "r": 1, "g": 2}
	switch {
	case spec == "" || spec == "all":
		return all, nil
	case band[spec] != 0 || spec == "i":
		if c == 1 {
			if spec != "g" {
				return nil, fmt.Errorf("channels %q: the file has 1 channel (taken as g)", spec)
			}
			return []int{0}, nil
		}
		if c != 3 {
			return nil, fmt.Errorf("channels %q: band names need a 3-channel (i, r, g) file, this one has %d channels", spec, c)
		}
		return []int{band[spec]}, nil
	}
	var out []int
	seen := map[int]bool{}
	for _, f := range strings.Split(spec, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("channels %q: want all, g, r, i or indices like 0,2", spec)
		}
		if v < 0 || v >= c {
			return nil, fmt.Errorf("channels %q: channel %d out of range (the file has %d)", spec, v, c)
		}
		if seen[v] {
			return nil, fmt.Errorf("channels %q: channel %d named twice", spec, v)
		}
		seen[v] = true
		out = append(out, v)
	}
	return out, nil
}

// ChannelSpec writes channel indices back in the form ParseChannels reads.
func ChannelSpec(ch []int, c int) string {
	if len(ch) == c {
		all := true
		for i, v := range ch {
			all = all && v == i
		}
		if all {
			return "all"
		}
	}
	s := make([]string, len(ch))
	for i, v := range ch {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

// Prepare applies a scheme, a channel choice and the train/test split.
func Prepare(raw *Raw, opt Options) (*Dataset, error) {
	if raw.Codes == nil {
		return nil, fmt.Errorf("%s: the file has no labels", raw.Path)
	}
	name := opt.Scheme
	if name == "" {
		name = scheme.DefaultFor(raw.Space)
	}
	sch, err := scheme.Get(name)
	if err != nil {
		return nil, err
	}
	if !sch.CanRead(raw.Space) {
		return nil, fmt.Errorf("%s: holds %s labels, which scheme %s cannot read (schemes for it: %s)", raw.Path, raw.Space, sch.Name, strings.Join(schemesFor(raw.Space), ", "))
	}
	ch, err := ParseChannels(opt.Channels, raw.C)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", raw.Path, err)
	}
	if opt.TestFrac < 0 || opt.TestFrac >= 1 || math.IsNaN(opt.TestFrac) {
		return nil, fmt.Errorf("test fraction %v: want a value in [0, 1)", opt.TestFrac)
	}
	ds := &Dataset{Source: raw.Path, Scheme: sch, H: raw.H, W: raw.W, C: len(ch), Channels: ch, Read: raw.N, Dropped: map[int]int{}, SourceSize: raw.SourceSize}
	if err := ds.resize(raw, opt.Resize); err != nil {
		return nil, err
	}
	kept := make([]int, 0, raw.N)
	labels := make([]int, raw.N)
	for i, code := range raw.Codes {
		cls, keep, err := sch.Class(raw.Space, code)
		if err != nil {
			where := fmt.Sprintf("image %d", i)
			if raw.Files != nil {
				where = fmt.Sprintf("row for %s", raw.Files[i])
			}
			return nil, fmt.Errorf("%s: %s: %w", raw.Path, where, err)
		}
		if !keep {
			ds.Dropped[code]++
			continue
		}
		labels[i] = cls
		kept = append(kept, i)
	}
	var train, test []int
	if raw.NTrain > 0 {
		ds.Preset = true
		for _, i := range kept {
			if i < raw.NTrain {
				train = append(train, i)
			} else {
				test = append(test, i)
			}
		}
	} else {
		train, test = stratify(kept, labels, sch.K(), opt.TestFrac, opt.SplitSeed)
	}
	ds.Train = ds.gather(raw, "train", train, labels)
	ds.Test = ds.gather(raw, "test", test, labels)
	return ds, nil
}

// Images prepares every image of raw, in file order and whatever its label
// (a scheme's dropped codes too), with the channels and size opt names; its
// scheme and split are not used. It is what a model is given to classify a
// whole file, labelled or not. The split's Labels are raw's label codes,
// in raw's label space (-1 for every image of a file without labels). When
// opt keeps every channel in order at the file's size, the split shares
// raw's pixels (a large file is held once); otherwise it holds its own.
func Images(raw *Raw, opt Options) (*Split, error) {
	ch, err := ParseChannels(opt.Channels, raw.C)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", raw.Path, err)
	}
	d := &Dataset{Source: raw.Path, H: raw.H, W: raw.W, C: len(ch), Channels: ch}
	if err := d.resize(raw, opt.Resize); err != nil {
		return nil, err
	}
	idx, codes := make([]int, raw.N), make([]int, raw.N)
	for i := range idx {
		idx[i], codes[i] = i, -1
	}
	if raw.Codes != nil {
		copy(codes, raw.Codes)
	}
	if d.H == raw.H && d.W == raw.W && slices.Equal(ch, identityChannels(raw.C)) {
		return &Split{Name: "all", H: d.H, W: d.W, C: d.C, Pixels: raw.Pixels[:raw.N*raw.H*raw.W*raw.C], Labels: codes, Index: idx, IDs: raw.IDs, Files: raw.Files}, nil
	}
	return d.gather(raw, "all", idx, codes), nil
}

// identityChannels returns 0, 1, ..., n-1.
func identityChannels(n int) []int {
	ch := make([]int, n)
	for i := range ch {
		ch[i] = i
	}
	return ch
}

// resize sets the prepared size to side x side (Options.Resize; 0 keeps
// the file's), checking that raw's images can be resized to it.
func (d *Dataset) resize(raw *Raw, side int) error {
	switch {
	case side == 0 || (side == raw.H && side == raw.W):
		return nil
	case side < 0 || side > MaxResize:
		return fmt.Errorf("resize to %d pixels: want 1 to %d", side, MaxResize)
	case raw.H != raw.W:
		return fmt.Errorf("%s: resize to %dx%d: the images are %dx%d, not square", raw.Path, side, side, raw.H, raw.W)
	}
	d.H, d.W, d.SourceSize = side, side, raw.H
	return nil
}

// All returns every kept image in file order: the training and test splits
// merged, a new copy each call (a large data set is held once, as its two
// splits).
func (d *Dataset) All() *Split {
	a, b := d.Train, d.Test
	s := &Split{Name: "all", H: d.H, W: d.W, C: d.C}
	ids, files := a.IDs != nil || b.IDs != nil, a.Files != nil || b.Files != nil
	i, j := 0, 0
	for i < a.Len() || j < b.Len() {
		from, k := a, i
		if i >= a.Len() || (j < b.Len() && b.Index[j] < a.Index[i]) {
			from, k = b, j
			j++
		} else {
			i++
		}
		s.Pixels = append(s.Pixels, from.Image(k)...)
		s.Labels = append(s.Labels, from.Labels[k])
		s.Index = append(s.Index, from.Index[k])
		if ids {
			s.IDs = append(s.IDs, from.IDs[k])
		}
		if files {
			s.Files = append(s.Files, from.Files[k])
		}
	}
	return s
}

// Split returns the named split: "train", "test" or "all".
func (d *Dataset) Split(name string) (*Split, error) {
	switch name {
	case "train":
		return d.Train, nil
	case "test":
		return d.Test, nil
	case "all":
		return d.All(), nil
	}
	return nil, fmt.Errorf("unknown split %q (want train, test or all)", name)
}

// MajorityClass is the most common class of the training split (of the
// test split when there is no training split): what a majority-class guesser
// answers.
func (d *Dataset) MajorityClass() int {
	ref := d.Train
	if ref.Len() == 0 {
		ref = d.Test
	}
	cnt := ref.Counts(d.Scheme.K())
	best := 0
	for c := range cnt {
		if cnt[c] > cnt[best] {
			best = c
		}
	}
	return best
}

// MajorityAccuracy is the accuracy of always answering MajorityClass,
// measured on s.
func (d *Dataset) MajorityAccuracy(s *Split) float64 {
	if s.Len() == 0 {
		return 0
	}
	return float64(s.Counts(d.Scheme.K())[d.MajorityClass()]) / float64(s.Len())
}

// stratify splits the kept images class by class with the split's own
// random stream (seed, fixed stream constant); see Stratify.
func stratify(kept, labels []int, k int, frac float64, seed uint64) (train, test []int) {
	return Stratify(kept, labels, k, frac, rand.New(rand.NewPCG(seed, 0x6a09e667f3bcc908)))
}

// Stratify splits items (indices into labels, which holds classes 0..k-1)
// class by class: each class's items, in the given order, are shuffled by rng
// and the first round(frac*count) are held out. Both lists come back sorted.
// The file's train/test split and the validation split carved from training
// data are both made this way.
func Stratify(items, labels []int, k int, frac float64, rng *rand.Rand) (rest, held []int) {
	byClass := make([][]int, k)
	for _, i := range items {
		byClass[labels[i]] = append(byClass[labels[i]], i)
	}
	for _, idx := range byClass {
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		nh := int(math.Round(frac * float64(len(idx))))
		held = append(held, idx[:nh]...)
		rest = append(rest, idx[nh:]...)
	}
	sort.Ints(rest)
	sort.Ints(held)
	return rest, held
}

// gather copies images idx of raw, with d's channels and at d's size, into
// a split.
func (d *Dataset) gather(raw *Raw, name string, idx, labels []int) *Split {
	ch := d.Channels
	s := &Split{Name: name, H: d.H, W: d.W, C: len(ch), Index: idx, Labels: make([]int, len(idx))}
	n := raw.H * raw.W
	dim := s.Dim()
	s.Pixels = make([]uint8, len(idx)*dim)
	identity := slices.Equal(ch, identityChannels(raw.C))
	resized := d.H != raw.H || d.W != raw.W
	var sel []uint8 // the chosen channels at the file's size, before resizing
	if resized && !identity {
		sel = make([]uint8, n*len(ch))
	}
	for j, i := range idx {
		s.Labels[j] = labels[i]
		src := raw.Image(i)
		dst := s.Pixels[j*dim : (j+1)*dim]
		switch {
		case identity && !resized:
			copy(dst, src)
			continue
		case !identity:
			to := dst
			if resized {
				to = sel
			}
			for p := 0; p < n; p++ {
				for q, c := range ch {
					to[p*len(ch)+q] = src[p*raw.C+c]
				}
			}
			src = sel
		}
		if resized {
			cutout.Resize(dst, src, raw.H, raw.W, len(ch), d.H, d.W)
		}
	}
	if raw.IDs != nil {
		s.IDs = make([]int64, len(idx))
		for j, i := range idx {
			s.IDs[j] = raw.IDs[i]
		}
	}
	if raw.Files != nil {
		s.Files = make([]string, len(idx))
		for j, i := range idx {
			s.Files[j] = raw.Files[i]
		}
	}
	return s
}

func schemesFor(space string) []string {
	var out []string
	for _, n := range scheme.Names() {
		if s, _ := scheme.Get(n); s.CanRead(space) {
			out = append(out, n)
		}
	}
	return out
}

// Describe says in one line what was read from raw and what the scheme
// dropped: "FILE: N images read (HxWxC, SPACE labels), D dropped by
// scheme S (code 4 "Don't know": D)".
func (d *Dataset) Describe(raw *Raw) string {
	var b strings.Builder
	size := fmt.Sprintf("%dx%dx%d", raw.H, raw.W, raw.C)
	if d.SourceSize > 0 {
		size = fmt.Sprintf("%dx%dx%d resized to %dx%d", d.SourceSize, d.SourceSize, raw.C, d.H, d.W)
	}
	fmt.Fprintf(&b, "%s: %d images read (%s, %s labels), %d dropped by scheme %s", raw.Path, raw.N, size, raw.Space, d.DroppedCount(), d.Scheme.Name)
	if n := d.DroppedCount(); n > 0 {
		src, _ := scheme.Get(raw.Space)
		sep := " ("
		for code := 0; code < 1<<16 && n > 0; code++ {
			if c := d.Dropped[code]; c > 0 {
				name := fmt.Sprintf("code %d", code)
				if src != nil && code < len(src.Classes) {
					name = fmt.Sprintf("code %d %q", code, src.Classes[code])
				}
				fmt.Fprintf(&b, "%s%s: %d", sep, name, c)
				sep = ", "
				n -= c
			}
		}
		b.WriteString(")")
	}
	return b.String()
}

// Summary is what galaxy info reports of a prepared data set; it marshals
// as the command's JSON.
type Summary struct {
	File             string         `json:"file"`
	Read             int            `json:"read"`
	N                int            `json:"n"`
	Dropped          int            `json:"dropped"`
	Height           int            `json:"height"`
	Width            int            `json:"width"`
	Channels         int            `json:"channels"`
	FileChannels     int            `json:"file_channels"`
	Scheme           string         `json:"scheme"`
	LabelSpace       string         `json:"label_space"`
	PresetSplit      bool           `json:"preset_split"`
	Train            int            `json:"train"`
	Test             int            `json:"test"`
	Classes          []ClassSummary `json:"classes"`
	MajorityAccuracy float64        `json:"majority_accuracy"`
}

// ClassSummary counts one class's images in each split.
type ClassSummary struct {
	Name  string `json:"name"`
	Train int    `json:"train"`
	Test  int    `json:"test"`
}

// Summarize describes d, prepared from raw.
func (d *Dataset) Summarize(raw *Raw) Summary {
	s := Summary{File: raw.Path, Read: raw.N, N: d.Train.Len() + d.Test.Len(), Dropped: d.DroppedCount(), Height: d.H, Width: d.W,
		Channels: d.C, FileChannels: raw.C, Scheme: d.Scheme.Name, LabelSpace: raw.Space, PresetSplit: d.Preset,
		Train: d.Train.Len(), Test: d.Test.Len(), MajorityAccuracy: d.MajorityAccuracy(d.Test)}
	k := d.Scheme.K()
	tr, te := d.Train.Counts(k), d.Test.Counts(k)
	for c, name := range d.Scheme.Classes {
		s.Classes = append(s.Classes, ClassSummary{Name: name, Train: tr[c], Test: te[c]})
	}
	return s
}

// WriteText writes the summary as galaxy info prints it.
func (s Summary) WriteText(w io.Writer) {
	how := "stratified split"
	if s.PresetSplit {
		how = "the file's own split"
	}
	fmt.Fprintf(w, "%d images kept, %dx%d pixels, %d channel(s); %d train, %d test (%s)\n", s.N, s.Height, s.Width, s.Channels, s.Train, s.Test, how)
	fmt.Fprintf(w, "majority-class accuracy on the test split: %.4f\n", s.MajorityAccuracy)
	fmt.Fprintf(w, "\n%-3s %-32s %7s %7s %7s\n", "", "class ("+s.Scheme+")", "train", "test", "all")
	for c, cl := range s.Classes {
		fmt.Fprintf(w, "%-3d %-32s %7d %7d %7d\n", c, cl.Name, cl.Train, cl.Test, cl.Train+cl.Test)
	}
}

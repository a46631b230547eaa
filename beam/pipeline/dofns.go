package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"galaxy/data/cutout"
	"galaxy/model"
	_ "galaxy/model/archs" // every architecture galaxy ships, for model.Load
	"galaxy/predict"
)

func init() {
	register.DoFn3x1[context.Context, string, func(predict.Item), error](&readCatalogFn{})
	register.DoFn4x1[context.Context, predict.Item, func(int, string), func(int, int), error](&classifyFn{})
	register.DoFn3x3[context.Context, int, func(*string) bool, string, int, error](&writeShardFn{})
	register.DoFn4x1[context.Context, []byte, func(*int, *int) bool, func(*string, *int) bool, error](&summaryFn{})
	register.Emitter1[predict.Item]()
	register.Emitter2[int, string]()
	register.Emitter2[int, int]()
	register.Iter1[string]()
	register.Iter2[int, int]()
	register.Iter2[string, int]()
}

// readCatalogFn emits one predict.Item per row of a catalog CSV, parsed by
// predict.ReadCatalog. A catalog that cannot be read or parsed fails the
// job, as it fails galaxy predict: it is not one bad row but a bad input.
type readCatalogFn struct {
	FileColumn, IDColumn string
}

func (f *readCatalogFn) ProcessElement(ctx context.Context, catalog string, emit func(predict.Item)) error {
	fs, err := fileSystem(ctx, catalog)
	if err != nil {
		return err
	}
	r, err := fs.OpenRead(ctx, catalog)
	if err != nil {
		return fmt.Errorf("%s: %w", catalog, err)
	}
	defer r.Close()
	return predict.ReadCatalog(bufio.NewReaderSize(r, 1<<20), catalog,
		predict.CatalogOptions{FileColumn: f.FileColumn, IDColumn: f.IDColumn}, resolver(catalog), emit)
}

// classifier is a loaded model with its preparation, shared by every
// classify DoFn instance of a worker process.
type classifier struct {
	m    *model.Model
	prep *predict.Preparer
	mu   sync.Mutex // the network is not safe for concurrent use
}

var classifiers struct {
	sync.Mutex
	m map[string]*classifier
}

// loadClassifier loads the model file once per process (and per pixel
// limit) and checks it suits predict's preparation.
func loadClassifier(ctx context.Context, path string, maxPixels int) (*classifier, error) {
	key := path + "\x00" + strconv.Itoa(maxPixels)
	classifiers.Lock()
	defer classifiers.Unlock()
	if c := classifiers.m[key]; c != nil {
		return c, nil
	}
	local := path
	if isRemote(path) { // model.Load reads a local file: copy it to one
		b, err := ReadFile(ctx, path)
		if err != nil {
			return nil, err
		}
		tmp, err := os.CreateTemp("", "galaxy-model-*")
		if err != nil {
			return nil, err
		}
		defer os.Remove(tmp.Name())
		_, err = tmp.Write(b)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		local = tmp.Name()
	}
	m, err := model.Load(local)
	if err != nil {
		return nil, err
	}
	prep, err := predict.NewPreparer(m, cutout.Limits{MaxPixels: maxPixels})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if prep.Dim() != m.Dim() {
		return nil, fmt.Errorf("%s: prepared images have %d features, the model takes %d", path, prep.Dim(), m.Dim())
	}
	c := &classifier{m: m, prep: prep}
	if classifiers.m == nil {
		classifiers.m = map[string]*classifier{}
	}
	classifiers.m[key] = c
	return c, nil
}

// features prepares the image at p into dst: a local file exactly as
// galaxy predict reads it, a gs:// or s3:// one through Beam's file
// systems with the same size limit.
func (c *classifier) features(ctx context.Context, p string, dst []float32) error {
	if !isRemote(p) {
		return c.prep.FileFeatures(p, dst)
	}
	lim := c.prep.Limits
	b, err := readRemote(ctx, p, predict.MaxFileBytes(lim), func(size int64) error { return predict.CheckFileSize(p, size, lim) })
	if err != nil {
		return err
	}
	return c.prep.Features(b, dst)
}

// logits scores b prepared images.
func (c *classifier) logits(x []float32, b int, out []float32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.Net.Logits(x, b, out)
}

// classifyFn is the batching DoFn. Runners call a DoFn with one element at
// a time, so it buffers Batch rows, prepares them on Workers goroutines,
// scores them in one call, and emits their rows from the calling goroutine;
// FinishBundle classifies what is left. Each row goes out as its CSV line
// (predict.Writer's formatting, no header) keyed by its shard; the counts
// per class (key -1: error rows) go out once per bundle.
type classifyFn struct {
	Model     string
	MaxPixels int
	Batch     int
	Workers   int
	Shards    int

	c      *classifier
	buf    []predict.Item
	x      []float32
	z      []float32
	probs  []float32
	errs   []error
	counts map[int]int
	line   bytes.Buffer
	w      *predict.Writer
}

func (f *classifyFn) Setup(ctx context.Context) error {
	c, err := loadClassifier(ctx, f.Model, f.MaxPixels)
	if err != nil {
		return err
	}
	f.c = c
	f.w, err = predict.NewWriter(&f.line, predict.FormatCSV, c.m.Meta.Classes, false)
	f.counts = map[int]int{}
	f.probs = make([]float32, c.m.K())
	return err
}

func (f *classifyFn) ProcessElement(ctx context.Context, it predict.Item, emit func(int, string), count func(int, int)) error {
	f.buf = append(f.buf, it)
	if len(f.buf) >= max(f.Batch, 1) {
		return f.flush(ctx, emit)
	}
	return nil
}

func (f *classifyFn) FinishBundle(ctx context.Context, emit func(int, string), count func(int, int)) error {
	if err := f.flush(ctx, emit); err != nil {
		return err
	}
	keys := make([]int, 0, len(f.counts))
	for k := range f.counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		count(k, f.counts[k])
	}
	clear(f.counts)
	return nil
}

// flush classifies the buffered rows.
func (f *classifyFn) flush(ctx context.Context, emit func(int, string)) error {
	n := len(f.buf)
	if n == 0 {
		return nil
	}
	dim, k := f.c.prep.Dim(), f.c.m.K()
	f.x = slices.Grow(f.x[:0], n*dim)[:n*dim]
	f.z = slices.Grow(f.z[:0], n*k)[:n*k]
	f.errs = slices.Grow(f.errs[:0], n)[:n]
	workers := f.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f.errs[i] = f.c.features(ctx, f.buf[i].Path, f.x[i*dim:(i+1)*dim])
			}
		})
	}
	wg.Wait()
	ok := 0 // the prepared images, packed at the front
	for i := range n {
		if f.errs[i] == nil {
			if ok != i {
				copy(f.x[ok*dim:(ok+1)*dim], f.x[i*dim:(i+1)*dim])
			}
			ok++
		}
	}
	if ok > 0 {
		f.c.logits(f.x[:ok*dim], ok, f.z[:ok*k])
	}
	j := 0
	for i, it := range f.buf {
		row := predict.Row{ID: it.ID, File: it.File, Class: -1}
		if f.errs[i] != nil {
			row.Err = f.errs[i].Error()
		} else {
			z := f.z[j*k : (j+1)*k]
			j++
			best := 0
			for c := range z {
				if z[c] > z[best] {
					best = c
				}
			}
			f.c.m.Probabilities(z, f.probs)
			row.Class, row.ClassName, row.Probs = best, f.c.m.Meta.Classes[best], f.probs
		}
		f.line.Reset()
		if err := f.w.Write(row); err != nil {
			return err
		}
		if err := f.w.Flush(); err != nil {
			return err
		}
		emit(shardOf(it, f.Shards), f.line.String())
		f.counts[row.Class]++
		f.errs[i] = nil
	}
	f.buf = f.buf[:0]
	return nil
}

// writeShardFn writes one shard: predict's header, then the shard's rows
// (in the order the runner gives them), to a temporary file renamed into
// place, so a retried bundle rewrites the whole shard and a reader never
// sees half of one. It emits the shard's name and row count.
type writeShardFn struct {
	Output  string
	Shards  int
	Classes []string
}

func (f *writeShardFn) ProcessElement(ctx context.Context, shard int, lines func(*string) bool) (string, int, error) {
	name := ShardName(shard, f.Shards)
	rows := 0
	err := writeFile(ctx, joinOutput(f.Output, name), func(w io.Writer) error {
		pw, err := predict.NewWriter(w, predict.FormatCSV, f.Classes, true)
		if err != nil {
			return err
		}
		if err := pw.Flush(); err != nil { // the header
			return err
		}
		var line string
		for lines(&line) {
			if line == "" { // the shard's placeholder
				continue
			}
			if _, err := io.WriteString(w, line); err != nil {
				return err
			}
			rows++
		}
		return nil
	})
	return name, rows, err
}

// Summary is summary.json: what a run classified.
type Summary struct {
	Input    string       `json:"input"`
	Catalogs int          `json:"catalogs"`
	Model    string       `json:"model"`
	Rows     int          `json:"rows"`       // inputs, each once
	Errors   int          `json:"error_rows"` // rows whose error column is set
	Classes  []ClassCount `json:"classes"`
	Shards   []ShardCount `json:"shards"`
}

// ClassCount is how many rows a class got.
type ClassCount struct {
	Class  int    `json:"class"`
	Name   string `json:"class_name"`
	Column string `json:"column"`
	Rows   int    `json:"rows"`
}

// ShardCount is how many rows a shard holds.
type ShardCount struct {
	File string `json:"file"`
	Rows int    `json:"rows"`
}

// summaryFn writes summary.json once every shard is written (the shards'
// names come in as a side input): rows per class and error rows, summed
// over the classify DoFn's per-bundle counts, and rows per shard. The two
// totals must agree.
type summaryFn struct {
	Output   string
	Model    string
	Input    string
	Catalogs int
	Classes  []string
	Shards   int
}

func (f *summaryFn) ProcessElement(ctx context.Context, _ []byte, counts func(*int, *int) bool, shards func(*string, *int) bool) error {
	s := Summary{Input: f.Input, Catalogs: f.Catalogs, Model: f.Model, Classes: []ClassCount{}}
	head := predict.Header(f.Classes)
	for c, name := range f.Classes {
		s.Classes = append(s.Classes, ClassCount{Class: c, Name: name, Column: head[4+c]})
	}
	var class, n int
	for counts(&class, &n) {
		switch {
		case class == -1:
			s.Errors += n
		case class >= 0 && class < len(f.Classes):
			s.Classes[class].Rows += n
		default:
			return fmt.Errorf("class %d out of range", class)
		}
		s.Rows += n
	}
	var name string
	inShards := 0
	for shards(&name, &n) {
		s.Shards = append(s.Shards, ShardCount{File: name, Rows: n})
		inShards += n
	}
	slices.SortFunc(s.Shards, func(a, b ShardCount) int {
		if a.File < b.File {
			return -1
		}
		if a.File > b.File {
			return 1
		}
		return 0
	})
	if inShards != s.Rows || len(s.Shards) != f.Shards {
		return fmt.Errorf("the %d shards hold %d rows but %d were classified", len(s.Shards), inShards, s.Rows)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(ctx, joinOutput(f.Output, SummaryName), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

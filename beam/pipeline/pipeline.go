// Package pipeline runs galaxy predict's classification as an Apache Beam
// pipeline, so that a survey catalog far larger than one machine handles can
// be classified on Flink, Spark or Google Dataflow (and locally on prism).
//
// It owns only the Beam plumbing: the DoFns are thin adapters over the main
// module's plain-Go code, so rows are the ones galaxy predict writes for the
// same inputs. The catalogs are parsed by predict.ReadCatalog, images are
// prepared by predict.Preparer, scored by the model file's network (loaded
// once per worker process) and formatted by predict.Writer.
//
// The pipeline: catalog CSVs (a glob, expanded when the pipeline is built;
// local paths, gs:// or s3://) -> one element per row -> Reshuffle (spreads
// the rows of a large catalog over the workers) -> classify in batches (a
// DoFn that buffers Batch rows, prepares them on a goroutine pool and scores
// them together) -> rows keyed by a hash of id and file into Shards groups ->
// one CSV per group, out-SSSSS-of-NNNNN.csv with predict's header, written
// to a temporary name and renamed (object stores commit on close) -> and a
// summary.json (rows per class, error rows, the shards) written last.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"path"
	"reflect"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"galaxy/data/cutout"
	"galaxy/predict"

	// File systems: local paths, gs:// and s3://.
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"
)

// Options configure the pipeline.
type Options struct {
	// Input is a glob of catalog CSVs (local, gs:// or s3://). Each
	// match is read as galaxy predict reads a catalog: --file-column and
	// --id-column as there, relative files joined to the catalog's folder.
	Input   string
	Catalog predict.CatalogOptions
	// Model is the model file (local path, gs:// or s3://), read once by
	// the launcher (to check it) and once per worker process.
	Model string
	// Output is the folder the shards and summary.json are written to.
	Output string
	// Shards is the number of output CSVs (default 4); about one per
	// million rows keeps them a convenient size.
	Shards int
	// Batch is how many rows the classify DoFn buffers, prepares in
	// parallel and scores together (default 256).
	Batch int
	// Workers is how many goroutines of each classify DoFn instance decode
	// images (default GOMAXPROCS of the worker).
	Workers int
	// MaxPixels is predict's --max-pixels (default cutout.DefaultMaxPixels).
	MaxPixels int
}

// SummaryName is the summary's file name in the output folder.
const SummaryName = "summary.json"

// ShardName is the name of shard i of n: out-00002-of-00016.csv.
func ShardName(i, n int) string { return fmt.Sprintf("out-%05d-of-%05d.csv", i, n) }

// ShardGlob matches every shard name.
const ShardGlob = "out-*-of-*.csv"

// Plan is a checked Options: the catalogs the glob matched and the model's
// classes, known before the pipeline is submitted.
type Plan struct {
	Options
	Catalogs []string
	Classes  []string
}

// Check validates o on the launcher, before anything is submitted: the glob
// must match at least one file (a glob that matches nothing is an error,
// not an empty success), the model must load and suit predict's
// preparation, and the output folder must not already hold shards.
func Check(ctx context.Context, o Options) (*Plan, error) {
	if o.Input == "" {
		return nil, errors.New("no --input: give a glob of catalog CSVs")
	}
	if o.Model == "" {
		return nil, errors.New("no --model: give the model file galaxy train wrote")
	}
	if o.Output == "" {
		return nil, errors.New("no --output: give the folder for the output shards")
	}
	if o.Shards <= 0 {
		o.Shards = 4
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = cutout.DefaultMaxPixels
	}
	if o.Catalog.FileColumn == "" {
		o.Catalog.FileColumn = "file"
	}
	cats, err := Expand(ctx, o.Input)
	if err != nil {
		return nil, err
	}
	c, err := loadClassifier(ctx, o.Model, o.MaxPixels)
	if err != nil {
		return nil, err
	}
	if err := prepareOutput(ctx, o.Output); err != nil {
		return nil, err
	}
	return &Plan{Options: o, Catalogs: cats, Classes: slices.Clone(c.m.Meta.Classes)}, nil
}

// Expand lists the files the glob matches, sorted; none is an error.
func Expand(ctx context.Context, glob string) ([]string, error) {
	fs, err := filesystem.New(ctx, glob)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	files, err := fs.List(ctx, glob)
	if err != nil {
		return nil, fmt.Errorf("--input %s: %w", glob, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("--input %s matches no file", glob)
	}
	slices.Sort(files)
	return files, nil
}

// Build adds the pipeline to s.
func Build(s beam.Scope, p *Plan) {
	s = s.Scope("galaxy")
	cats := beam.CreateList(s.Scope("catalogs"), p.Catalogs)
	items := beam.ParDo(s.Scope("read catalogs"), &readCatalogFn{FileColumn: p.Catalog.FileColumn, IDColumn: p.Catalog.IDColumn}, cats)
	items = beam.Reshuffle(s.Scope("spread rows"), items)
	rows, counts := beam.ParDo2(s.Scope("classify"), &classifyFn{Model: p.Model, MaxPixels: p.MaxPixels,
		Batch: p.Batch, Workers: p.Workers, Shards: p.Shards}, items)

	// One placeholder per shard, so that every shard is written, even empty.
	idx := make([]int, p.Shards)
	for i := range idx {
		idx[i] = i
	}
	empty := beam.ParDo(s.Scope("shard placeholders"), shardPlaceholder, beam.CreateList(s.Scope("shard numbers"), idx))
	groups := beam.GroupByKey(s.Scope("group shards"), beam.Flatten(s, rows, empty))
	written := beam.ParDo(s.Scope("write shards"), &writeShardFn{Output: p.Output, Shards: p.Shards, Classes: p.Classes}, groups)

	sums := stats.SumPerKey(s.Scope("count classes"), counts)
	beam.ParDo0(s.Scope("write summary"), &summaryFn{Output: p.Output, Model: p.Model, Input: p.Input,
		Catalogs: len(p.Catalogs), Classes: p.Classes, Shards: p.Shards},
		beam.Impulse(s), beam.SideInput{Input: sums}, beam.SideInput{Input: written})
}

// shardPlaceholder keys an empty line to shard i; the writer skips it.
func shardPlaceholder(i int) (int, string) { return i, "" }

// shardOf is the shard of an input: a hash of its id and file, so that a
// retried bundle sends each row where it went before.
func shardOf(it predict.Item, n int) int {
	h := fnv.New64a()
	h.Write([]byte(it.ID))
	h.Write([]byte{0})
	h.Write([]byte(it.File))
	return int(h.Sum64() % uint64(n))
}

// isRemote says whether p names a file through a Beam file system other
// than the local one (scheme://...).
func isRemote(p string) bool { return strings.Index(p, "://") > 0 }

// resolver returns how a catalog's relative file names are resolved: joined
// to the catalog's folder, as galaxy predict does for local catalogs and
// URL-wise for gs:// and s3:// ones. Absolute paths and URLs are kept.
func resolver(catalog string) func(file string) string {
	if !isRemote(catalog) {
		dir := localDir(catalog)
		return func(f string) string {
			if f == "" || isRemote(f) || isAbs(f) {
				return f
			}
			return localJoin(dir, f)
		}
	}
	i := strings.Index(catalog, "://") + 3
	j := strings.IndexByte(catalog[i:], '/')
	if j < 0 {
		j = len(catalog) - i
	}
	root, key := catalog[:i+j], catalog[i+j:] // gs://bucket, /dir/cat.csv
	dir := path.Dir(key)
	return func(f string) string {
		if f == "" || isRemote(f) || strings.HasPrefix(f, "/") {
			return f
		}
		return root + path.Join(dir, f)
	}
}

// joinOutput is a file in the output folder.
func joinOutput(dir, name string) string {
	if isRemote(dir) {
		return strings.TrimSuffix(dir, "/") + "/" + name
	}
	return localJoin(dir, name)
}

func init() {
	beam.RegisterType(reflect.TypeOf((*predict.Item)(nil)).Elem())
	register.Function1x2(shardPlaceholder)
}

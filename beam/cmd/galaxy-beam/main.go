// Command galaxy-beam classifies the galaxy cutouts listed in catalog CSVs
// with a galaxy model file on an Apache Beam runner: prism (local, for
// tests and small catalogs), Flink or Spark through their portable job
// servers, or Google Dataflow. Rows are those galaxy predict writes for the
// same catalog, in sharded CSVs, plus a summary.json; see docs/beam.md.
//
//	galaxy-beam --runner=prism --input='cats/*.csv' --model=run/model.gmf --output=out/
//
// The same binary is the worker: runners start it again in worker mode, so
// main calls flag.Parse and beam.Init before anything else.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"galaxy/beam/pipeline"
	"galaxy/data/cutout"
	"galaxy/predict"
)

var (
	input      = flag.String("input", "", "glob of catalog CSVs (local, gs:// or s3://); a glob that matches nothing is an error")
	modelPath  = flag.String("model", "", "model file written by galaxy train (local, gs:// or s3://; read by every worker)")
	output     = flag.String("output", "", "folder for out-SSSSS-of-NNNNN.csv and summary.json (local, gs:// or s3://)")
	numShards  = flag.Int("num_shards", 4, "number of output CSVs (about one per million rows)")
	batch      = flag.Int("batch", 256, "rows each classify DoFn buffers, prepares in parallel and scores together")
	prepare    = flag.Int("prepare_workers", 0, "goroutines decoding images in each classify DoFn (default: the worker's cores)")
	fileColumn = flag.String("file_column", "file", "catalog column with the cutout's path (relative to the catalog)")
	idColumn   = flag.String("id_column", "", "catalog column with the id (default id, objid or galaxy_id when present, else the file's name)")
	maxPixels  = flag.Int("max_pixels", cutout.DefaultMaxPixels, "largest image (width*height) decoded; larger ones become error rows")
)

func main() {
	flag.Parse()
	beam.Init() // in worker mode this runs the worker and never returns
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "galaxy-beam:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: inputs are given with --input", flag.Args())
	}
	// Without --worker_binary the portable runners try to go build the
	// source; this binary is its own worker (a static Linux binary).
	if *jobopts.WorkerBinary == "" && runtime.GOOS == "linux" {
		if exe, err := os.Executable(); err == nil {
			*jobopts.WorkerBinary = exe
		}
	}
	plan, err := pipeline.Check(ctx, pipeline.Options{Input: *input, Model: *modelPath, Output: *output,
		Shards: *numShards, Batch: *batch, Workers: *prepare, MaxPixels: *maxPixels,
		Catalog: predict.CatalogOptions{FileColumn: *fileColumn, IDColumn: *idColumn}})
	if err != nil {
		return err
	}
	p, s := beam.NewPipelineWithRoot()
	pipeline.Build(s, plan)
	start := time.Now()
	if err := beamx.Run(ctx, p); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	b, err := pipeline.ReadFile(ctx, *output+"/"+pipeline.SummaryName)
	if err != nil { // an async submission (--async) has not written it yet
		fmt.Fprintf(os.Stderr, "pipeline submitted/finished in %.1fs; no summary yet: %v\n", secs, err)
		return nil
	}
	var sum pipeline.Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d images classified in %.1fs (%.0f images/s), %d could not be read; %d shards in %s\n",
		sum.Rows, secs, float64(sum.Rows)/secs, sum.Errors, len(sum.Shards), *output)
	return nil
}

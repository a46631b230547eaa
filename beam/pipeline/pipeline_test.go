package pipeline_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"galaxy/beam/internal/fixture"
	"galaxy/beam/pipeline"
)

// The tests run on prism, in process.
func TestMain(m *testing.M) { ptest.Main(m) }

// TestMatchesPredict runs the pipeline on 1,000 catalog rows in three
// catalogs (with garbage, truncated, empty, missing and folder files and an
// empty file column) and checks that the shards hold exactly galaxy
// predict's rows for the same catalogs, each input once, and that the
// summary adds up.
func TestMatchesPredict(t *testing.T) {
	// The SDK's loopback launcher leaves an empty beamloopbackworker-* file
	// in the temporary folder: keep it in the test's.
	t.Setenv("TMPDIR", t.TempDir())
	dir := t.TempDir()
	modelPath, err := fixture.Model(dir)
	if err != nil {
		t.Fatal(err)
	}
	glob, bad, err := fixture.Catalogs(dir, 1000, 3)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out := filepath.Join(dir, "out")
	plan, err := pipeline.Check(ctx, pipeline.Options{Input: glob, Model: modelPath, Output: out, Shards: 3, Batch: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Catalogs) != 3 {
		t.Fatalf("glob matched %q, want 3 catalogs", plan.Catalogs)
	}
	p, s := beam.NewPipelineWithRoot()
	pipeline.Build(s, plan)
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}

	want, err := fixture.Predict(modelPath, plan.Catalogs)
	if err != nil {
		t.Fatal(err)
	}
	shards, _ := filepath.Glob(filepath.Join(out, pipeline.ShardGlob))
	if len(shards) != 3 {
		t.Fatalf("shards %q, want 3", shards)
	}
	rep, err := fixture.Compare(want, shards, 1e-6)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 1000 || rep.ErrorRows != bad || bad < 6 {
		t.Fatalf("reference has %d rows, %d error rows; want 1000 and %d", rep.Rows, rep.ErrorRows, bad)
	}
	t.Logf("%d rows (%d error rows), %d byte-for-byte equal, largest probability difference %g", rep.Rows, rep.ErrorRows, rep.Exact, rep.MaxProbDiff)

	b, err := os.ReadFile(filepath.Join(out, pipeline.SummaryName))
	if err != nil {
		t.Fatal(err)
	}
	var sum pipeline.Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	perClass := 0
	for _, c := range sum.Classes {
		perClass += c.Rows
	}
	if sum.Rows != 1000 || sum.Errors != bad || perClass+sum.Errors != 1000 || len(sum.Shards) != 3 || sum.Classes[1].Column != "p_face_on_spiral" {
		t.Errorf("summary %s", b)
	}

	// A second run into the same folder is refused before it starts.
	if _, err := pipeline.Check(ctx, pipeline.Options{Input: glob, Model: modelPath, Output: out}); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Errorf("second run into %s: %v, want a refusal", out, err)
	}
}

// TestEmptyGlob: a glob that matches nothing is an error, not an empty
// success.
func TestEmptyGlob(t *testing.T) {
	dir := t.TempDir()
	modelPath, err := fixture.Model(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pipeline.Check(context.Background(), pipeline.Options{Input: filepath.Join(dir, "nothing-*.csv"), Model: modelPath, Output: filepath.Join(dir, "out")})
	if err == nil || !strings.Contains(err.Error(), "matches no file") {
		t.Fatalf("got %v, want 'matches no file'", err)
	}
}

package predict

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"galaxy/model"
	"galaxy/num"
)

// Config says how Run works.
type Config struct {
	Model *model.Model
	// Prep prepares the items' image files. Features, when set, prepares
	// every item instead (a data file's images: Data.Features).
	Prep     *Preparer
	Features func(it Item, dst []float32) error
	// Workers decode and prepare images in parallel (default GOMAXPROCS).
	Workers int
	// Batch is how many prepared images are scored together (default 64).
	Batch int
	// Skip is how many leading inputs to pass over (rows already written
	// by an interrupted run); SkipLastFile, when not empty, must be the
	// file of the last skipped input, a check that the inputs are the same.
	Skip         int
	SkipLastFile string
	// Progress, if set, is called after each batch with the rows written
	// so far by this run.
	Progress func(done int)
}

// Stats sum up a run.
type Stats struct {
	Rows, Errors, Skipped int
}

// Run reads the items, prepares them on Workers goroutines, scores them in
// batches and writes one row per item to w in the items' order. Memory is
// bounded: at most 4*Batch images are in flight. When ctx is cancelled it
// stops reading items, writes the rows of those in flight and returns
// ctx's error. A per-file problem becomes an error row; the error returned
// is a command-level one (the item iterator's *iterErr, the writer's).
func Run(ctx context.Context, cfg Config, items func(func(Item) bool), iterErr *error, w *Writer) (Stats, error) {
	m, prep := cfg.Model, cfg.Prep
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	bs := cfg.Batch
	if bs <= 0 {
		bs = 64
	}
	dim, k := m.Dim(), m.K()
	if prep != nil && prep.Dim() != dim {
		return Stats{}, fmt.Errorf("prepared images have %d features, the model takes %d", prep.Dim(), dim)
	}
	type job struct {
		seq int
		it  Item
	}
	type result struct {
		seq int
		it  Item
		x   []float32
		err error
	}
	inflight := 4 * bs
	tokens := make(chan struct{}, inflight)
	jobs := make(chan job, bs)
	results := make(chan result, bs)
	pool := sync.Pool{New: func() any { return make([]float32, dim) }}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var st Stats
	var skipErr error
	go func() { // producer
		defer close(jobs)
		seq := 0
		for it := range items {
			if st.Skipped < cfg.Skip {
				st.Skipped++
				if st.Skipped == cfg.Skip && cfg.SkipLastFile != "" && it.File != cfg.SkipLastFile {
					skipErr = fmt.Errorf("the output's last row is for %q but input %d is %q: not the same inputs, cannot resume", cfg.SkipLastFile, cfg.Skip, it.File)
					cancel()
					return
				}
				continue
			}
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			jobs <- job{seq, it}
			seq++
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				x := pool.Get().([]float32)
				var err error
				switch {
				case cfg.Features != nil:
					err = cfg.Features(j.it, x)
				case prep == nil:
					err = errors.New("no preparer for image files")
				default:
					err = prep.FileFeatures(j.it.Path, x)
				}
				results <- result{j.seq, j.it, x, err}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	X := make([]float32, bs*dim)
	logits := make([]float32, bs*k)
	nov := make([]float64, bs)
	probs := make([]float32, k)
	var batch []result
	var werr error
	flush := func() {
		n := 0
		for _, r := range batch {
			if r.err == nil {
				copy(X[n*dim:(n+1)*dim], r.x)
				n++
			}
		}
		hasNov := false
		if n > 0 {
			m.Net.Logits(X[:n*dim], n, logits[:n*k])
			hasNov = m.NoveltyScores(X[:n*dim], n, nov)
		}
		i := 0
		for _, r := range batch {
			row := Row{ID: r.it.ID, File: r.it.File, Carry: r.it.Carry, Class: -1, Novelty: math.NaN()}
			if r.err != nil {
				row.Err = r.err.Error()
				st.Errors++
			} else {
				z := logits[i*k : (i+1)*k]
				i++
				best := num.Argmax(z)
				m.Probabilities(z, probs)
				row.Class, row.ClassName, row.Probs = best, m.Meta.Classes[best], probs
				if hasNov {
					row.Novelty, row.Warning = nov[i-1], m.Novelty.Warning(nov[i-1])
				}
			}
			if werr == nil {
				werr = w.Write(row)
			}
			st.Rows++
			pool.Put(r.x)
			<-tokens
		}
		if werr == nil {
			werr = w.Flush()
		}
		if werr != nil {
			cancel()
		}
		batch = batch[:0]
		if cfg.Progress != nil {
			cfg.Progress(st.Rows)
		}
	}
	pending := map[int]result{}
	next := 0
	for r := range results {
		pending[r.seq] = r
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			batch = append(batch, r)
			if len(batch) == bs {
				flush()
			}
		}
	}
	if len(batch) > 0 {
		flush()
	}
	switch {
	case werr != nil:
		return st, fmt.Errorf("write output: %w", werr)
	case skipErr != nil:
		return st, skipErr
	case iterErr != nil && *iterErr != nil:
		return st, *iterErr
	case st.Skipped < cfg.Skip && ctx.Err() == nil:
		return st, fmt.Errorf("the output has %d rows but there are only %d inputs: not the same inputs, cannot resume", cfg.Skip, st.Skipped)
	}
	return st, ctx.Err()
}

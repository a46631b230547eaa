package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"galaxy/internal/atomicfile"
)

func localDir(p string) string     { return filepath.Dir(p) }
func localJoin(a, b string) string { return filepath.Join(a, b) }
func isAbs(p string) bool          { return filepath.IsAbs(p) }

// fileSystems keeps one Beam file system per scheme for the process: a
// gs:// or s3:// one holds a client that is costly to make and safe to
// share.
var fileSystems struct {
	sync.Mutex
	m map[string]filesystem.Interface
}

func fileSystem(ctx context.Context, p string) (filesystem.Interface, error) {
	scheme := "default"
	if isRemote(p) {
		scheme = p[:indexScheme(p)]
	}
	fileSystems.Lock()
	defer fileSystems.Unlock()
	if fs := fileSystems.m[scheme]; fs != nil {
		return fs, nil
	}
	fs, err := filesystem.New(context.WithoutCancel(ctx), p)
	if err != nil {
		return nil, err
	}
	if fileSystems.m == nil {
		fileSystems.m = map[string]filesystem.Interface{}
	}
	fileSystems.m[scheme] = fs
	return fs, nil
}

// indexScheme is where "://" starts in a remote path.
func indexScheme(p string) int {
	for i := 0; i+3 <= len(p); i++ {
		if p[i:i+3] == "://" {
			return i
		}
	}
	return len(p)
}

// readRemote reads a whole file through its Beam file system, refusing it
// when it is larger than max bytes.
func readRemote(ctx context.Context, p string, max int64, check func(size int64) error) ([]byte, error) {
	fs, err := fileSystem(ctx, p)
	if err != nil {
		return nil, err
	}
	if check != nil {
		size, err := fs.Size(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if err := check(size); err != nil {
			return nil, err
		}
	}
	r, err := fs.OpenRead(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", p, max)
	}
	return b, nil
}

// writeFile creates p with what fill writes so that readers never see a
// partial file: locally a temporary file in the same folder renamed over p
// (package atomicfile); on object stores (gs://, s3://) an object is only
// committed when its writer closes, so it is written in place.
func writeFile(ctx context.Context, p string, fill func(w io.Writer) error) error {
	if !isRemote(p) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return atomicfile.Write(p, fill)
	}
	fs, err := fileSystem(ctx, p)
	if err != nil {
		return err
	}
	w, err := fs.OpenWrite(ctx, p)
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := fill(w); err != nil {
		w.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// prepareOutput makes a local output folder and refuses one that already
// holds shards or a summary (a new run would mix with them).
func prepareOutput(ctx context.Context, dir string) error {
	if !isRemote(dir) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	fs, err := fileSystem(ctx, dir)
	if err != nil {
		return err
	}
	for _, g := range []string{ShardGlob, SummaryName} {
		old, err := fs.List(ctx, joinOutput(dir, g))
		if err != nil {
			return fmt.Errorf("--output %s: %w", dir, err)
		}
		if len(old) > 0 {
			return fmt.Errorf("--output %s already holds %s (and %d more): remove them or choose another folder", dir, old[0], len(old)-1)
		}
	}
	return nil
}

// ReadFile reads a whole file, local or through a Beam file system.
func ReadFile(ctx context.Context, p string) ([]byte, error) {
	if !isRemote(p) {
		return os.ReadFile(p)
	}
	return readRemote(ctx, p, 1<<40, nil)
}

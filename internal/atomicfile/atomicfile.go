// Package atomicfile writes files so that readers see either the old content
// or the complete new content, never a half-written file: it writes a
// temporary file in the same folder, syncs it, and renames it over the target.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write creates path atomically with what fill writes. If fill or any step
// fails, the temporary file is removed and path is left as it was.
func Write(path string, fill func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// An error on the temporary file is reported as one on path, whose
	// name the user knows ("write out/model: no space left on device").
	bare := func(err error) error {
		if pe, ok := err.(*fs.PathError); ok && pe.Path == tmp {
			return pe.Err
		}
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	if err = fill(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, bare(err))
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, bare(err))
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, bare(err))
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, bare(err))
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: close: %w", path, bare(err))
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// WriteBytes creates path atomically with the content b.
func WriteBytes(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// syncDir makes a rename durable; failure is not an error on file systems that
// do not support syncing a folder.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

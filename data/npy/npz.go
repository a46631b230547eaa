package npy

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"strings"

	"galaxy/data/array"
)

// maxDeflateRatio bounds how many bytes a deflate stream can expand to per
// compressed byte (the format's limit is about 1032:1); it caps the buffers
// sized from a member's claimed length.
const maxDeflateRatio = 1032

// ReadNPZ reads the .npz archive at path (np.savez or np.savez_compressed):
// the names of its arrays in archive order, without the ".npy" suffix, and
// the arrays by name.
func ReadNPZ(path string) (names []string, arrays map[string]*array.Array, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	names, arrays, err = readNPZ(f, st.Size())
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return names, arrays, nil
}

// ReaderNPZ is ReadNPZ for an archive of size bytes read from r.
func ReaderNPZ(r io.ReaderAt, size int64) (names []string, arrays map[string]*array.Array, err error) {
	return readNPZ(r, size)
}

func readNPZ(r io.ReaderAt, size int64) ([]string, map[string]*array.Array, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, nil, fmt.Errorf("npz: %w", err)
	}
	var names []string
	arrays := map[string]*array.Array{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue // a directory entry
		}
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			return nil, nil, fmt.Errorf("npz: member %q is not a .npy file", f.Name)
		}
		if _, dup := arrays[name]; dup {
			return nil, nil, fmt.Errorf("npz: duplicate member %q", f.Name)
		}
		a, err := readMember(f, size)
		if err != nil {
			return nil, nil, fmt.Errorf("npz: member %q: %w", f.Name, err)
		}
		names = append(names, name)
		arrays[name] = a
	}
	return names, arrays, nil
}

func readMember(f *zip.File, archiveSize int64) (*array.Array, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// An upper bound on what the member can deliver: archive/zip fails a
	// member that inflates past its recorded size, and the recorded size
	// itself is capped by what its compressed bytes could expand to.
	avail := int64(-1)
	if f.UncompressedSize64 <= 1<<62 {
		avail = int64(f.UncompressedSize64)
		comp := min(f.CompressedSize64, uint64(archiveSize))
		if f.Method != zip.Store && comp < 1<<40 {
			avail = min(avail, int64(comp)*maxDeflateRatio+1024)
		} else if f.Method == zip.Store {
			avail = min(avail, int64(comp))
		}
	}
	a, err := read(rc, avail)
	if err != nil {
		return nil, err
	}
	// Drain to the end so that archive/zip verifies the CRC.
	var one [1]byte
	if n, err := io.ReadFull(rc, one[:]); n != 0 {
		return nil, fmt.Errorf("trailing data after the array")
	} else if err != io.EOF {
		return nil, err
	}
	return a, nil
}

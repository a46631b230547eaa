package npy

import (
	"archive/zip"
	"fmt"
	"io"
	"strconv"
	"strings"

	"galaxy/data/array"
)

// Write writes a as a version 1.0 .npy stream, as np.save does: C order,
// little-endian elements, the header padded with spaces to a multiple of 64
// bytes.
func Write(w io.Writer, a *array.Array) error {
	descr := a.DType.NumPy()
	if descr == "" {
		return fmt.Errorf("npy: cannot write arrays of type %v", a.DType)
	}
	if err := a.Check(); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	dims := make([]string, len(a.Shape))
	for i, d := range a.Shape {
		dims[i] = strconv.Itoa(d)
	}
	shape := strings.Join(dims, ", ")
	if len(a.Shape) == 1 {
		shape += ","
	}
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape)
	total := len(magic) + 4 + len(hdr) + 1
	pad := (64 - total%64) % 64
	hdr += strings.Repeat(" ", pad) + "\n"
	if len(hdr) > 65535 {
		return fmt.Errorf("npy: a header of %d bytes does not fit format 1.0", len(hdr))
	}
	b := append([]byte(magic), 1, 0, byte(len(hdr)), byte(len(hdr)>>8))
	b = append(b, hdr...)
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err := w.Write(a.Data)
	return err
}

// WriteNPZ writes arrays as an .npz archive, as np.savez does (members
// NAME.npy, stored uncompressed), in the order of names.
func WriteNPZ(w io.Writer, names []string, arrays map[string]*array.Array) error {
	z := zip.NewWriter(w)
	for _, n := range names {
		a, ok := arrays[n]
		if !ok {
			return fmt.Errorf("npz: no array %q", n)
		}
		f, err := z.CreateHeader(&zip.FileHeader{Name: n + ".npy", Method: zip.Store})
		if err != nil {
			return err
		}
		if err := Write(f, a); err != nil {
			return fmt.Errorf("npz: %s: %w", n, err)
		}
	}
	return z.Close()
}

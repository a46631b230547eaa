package predict

// Entry points for running predict's preparation on other engines (the
// Apache Beam pipeline in the separate module galaxy/beam): the same catalog
// parsing and file-size rule as Inputs and FileFeatures, for catalogs and
// images read through another file system than the local one.

import (
	"fmt"
	"io"

	"galaxy/data/cutout"
)

// ReadCatalog reads the catalog CSV in r as Inputs reads a catalog file:
// the same columns (opt), ids and trimming. name is the catalog's name in
// messages; resolve turns a row's file column into the path to read
// (Inputs joins a relative file to the catalog's folder). each is called
// for every row, in order. The error is a catalog-level one (an unreadable
// header, a missing column, malformed CSV).
func ReadCatalog(r io.Reader, name string, opt CatalogOptions, resolve func(file string) string, each func(Item)) error {
	return readCatalog(r, name, opt, resolve, func(it Item) bool { each(it); return true })
}

// MaxFileBytes is the size above which FileFeatures refuses a file without
// reading it: larger than any image within lim's pixel limit could be.
func MaxFileBytes(lim cutout.Limits) int64 {
	maxPix := lim.MaxPixels
	if maxPix <= 0 {
		maxPix = cutout.DefaultMaxPixels
	}
	return int64(maxPix)*24 + 1<<20
}

// CheckFileSize returns FileFeatures' error for a file of size bytes at
// path, or nil when FileFeatures would read it.
func CheckFileSize(path string, size int64, lim cutout.Limits) error {
	if size > MaxFileBytes(lim) {
		maxPix := lim.MaxPixels
		if maxPix <= 0 {
			maxPix = cutout.DefaultMaxPixels
		}
		return fmt.Errorf("%s: file of %d bytes is larger than any image within the %d-pixel limit", path, size, maxPix)
	}
	return nil
}

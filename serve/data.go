package serve

import (
	"fmt"
	"image"
	"net/http"
	"path/filepath"
	"strconv"

	"galaxy/data"
	"galaxy/model"
	"galaxy/predict"
	"galaxy/render"
	"galaxy/similar"
)

// DataFile returns the data file whose images the rows of catalog c
// (predict's output for a data file) or of index ix (galaxy embed of a
// data file) are, for the caller to read for Options.Data (with the
// model's Preparation): the catalog's, else the index's; "" when neither is
// of a data file (c and ix may be nil). A catalog and an index of two files
// are an error.
func DataFile(c *Catalog, ix *similar.Index) (string, error) {
	var fromCatalog, fromIndex string
	if c != nil {
		fromCatalog = c.DataFile()
	}
	if ix != nil && ix.Len() > 0 && !ix.FromCutouts() {
		fromIndex = ix.Data
	}
	if fromCatalog != "" && fromIndex != "" && filepath.Clean(fromCatalog) != filepath.Clean(fromIndex) {
		return "", fmt.Errorf("the catalog's images are in %s, the index's in %s: name the data file to show", fromCatalog, fromIndex)
	}
	if fromCatalog != "" {
		return fromCatalog, nil
	}
	return fromIndex, nil
}

// CheckData reports a data file (Options.Data) that m cannot take, or that
// has fewer images than the catalog's or the index's rows name.
func CheckData(m *model.Model, raw *data.Raw, c *Catalog, ix *similar.Index) error {
	if raw.N == 0 {
		return fmt.Errorf("%s holds no images", raw.Path)
	}
	if err := predict.DataImage(m, raw, 0, make([]float32, m.Dim())); err != nil {
		return err
	}
	if c != nil && c.dataFile != "" {
		for r := range c.Len() {
			i, err := c.dataRow(r)
			if err == nil && i >= raw.N {
				err = fmt.Errorf("catalog row %d is image %d of %s, which has %d: the catalog was made from another file", r, i, raw.Path, raw.N)
			}
			if err != nil {
				return err
			}
		}
	}
	if ix != nil {
		for r, i := range ix.Rows {
			if ix.Files[r] == "" && i >= raw.N {
				return fmt.Errorf("index row %d is image %d of %s, which has %d: the index was made from another file", r, i, raw.Path, raw.N)
			}
		}
	}
	return nil
}

// picture is where the image of a catalog or index row is: a cutout file,
// or an image of the served data file (Options.Data).
type picture struct {
	path string // the cutout file; "" for an image of the data file
	row  int    // with path "": the image's position in the data file
}

// key names the picture in the image cache.
func (p picture) key() string {
	if p.path != "" {
		return p.path
	}
	return "\x00data\x00" + strconv.Itoa(p.row)
}

// catalogPicture returns where catalog row n's image is.
func (s *Server) catalogPicture(n int) (picture, error) {
	c := s.opt.Catalog
	if c.dataFile != "" {
		if s.opt.Data == nil {
			return picture{}, &httpError{http.StatusNotFound, fmt.Sprintf("row %d is an image of %s, which the server did not read", n, c.dataFile)}
		}
		i, err := c.dataRow(n)
		if err != nil {
			return picture{}, &httpError{http.StatusNotFound, err.Error()}
		}
		return picture{row: i}, nil
	}
	path, err := c.FilePath(n)
	if err != nil {
		return picture{}, &httpError{http.StatusNotFound, err.Error()}
	}
	return picture{path: path}, nil
}

// indexPicture returns where index row n's image is: its file, or with a
// data file served, its image there.
func (s *Server) indexPicture(n int) (picture, bool) {
	ix := s.opt.Index
	switch {
	case ix.Files[n] != "":
		return picture{path: ix.Files[n]}, true
	case s.opt.Data != nil && ix.Rows[n] >= 0 && ix.Rows[n] < s.opt.Data.N:
		return picture{row: ix.Rows[n]}, true
	}
	return picture{}, false
}

// original returns the picture as stored: a cutout decoded, a data file's
// image as read.
func (s *Server) original(p picture) (image.Image, error) {
	if p.path == "" {
		d := s.opt.Data
		return render.Galaxy(d.Image(p.row), d.H, d.W, d.C, 1)
	}
	b, err := predict.ReadFile(p.path, s.prep.Limits)
	if err != nil {
		return nil, fileError(p.path, err)
	}
	img, err := predict.Decode(b, s.prep.Limits)
	if err != nil {
		return nil, fileError(p.path, err)
	}
	return img, nil
}

// features prepares the picture as the model sees it into x.
func (s *Server) features(p picture, x []float32) error {
	if p.path == "" {
		return predict.DataImage(s.m, s.opt.Data, p.row, x)
	}
	if err := s.prep.FileFeatures(p.path, x); err != nil {
		return fileError(p.path, err)
	}
	return nil
}

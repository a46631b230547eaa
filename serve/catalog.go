package serve

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"galaxy/predict"
)

// Catalog is a catalog's predictions (predict's CSV output) that the web
// page browses (GET /v1/catalog).
type Catalog struct {
	*predict.Predictions
	Path   string
	dir    string         // the folder relative file paths are also tried from
	images string         // the folder relative file paths are from ("": see OpenCatalog)
	rowOf  map[string]int // id -> its first row
	counts []int          // rows predicted as each class
	// dataFile is the one data file every row is an image of (predict's
	// output for a data file: the carried columns are predict.DataColumns,
	// the image's position first), as the rows name it; "" for a catalog of
	// cutouts.
	dataFile string
}

// OpenCatalog reads the predictions at path. A relative file path in it
// is taken from imageDir when that is given (predict writes a catalog's
// paths as the catalog has them, relative to its folder); else from the
// working folder when the file is there, else from the predictions' folder.
func OpenCatalog(path, imageDir string) (*Catalog, error) {
	p, err := predict.ReadPredictionsFile(path)
	if err != nil {
		return nil, err
	}
	c := &Catalog{Predictions: p, Path: path, dir: filepath.Dir(path), images: imageDir, rowOf: make(map[string]int, p.Len())}
	for r, id := range p.ID {
		if _, ok := c.rowOf[id]; !ok && id != "" {
			c.rowOf[id] = r
		}
	}
	c.counts = make([]int, len(p.Classes))
	for _, k := range p.Class {
		if k >= 0 {
			c.counts[k]++
		}
	}
	if slices.Equal(p.Carried, predict.DataColumns) && p.Len() > 0 && !slices.ContainsFunc(p.File, func(f string) bool { return f != p.File[0] }) {
		c.dataFile = p.File[0]
	}
	return c, nil
}

// DataFile returns where the data file is whose images the rows are
// (predict's output for a data file), found as FilePath finds a row's
// file; "" for a catalog of cutouts.
func (c *Catalog) DataFile() string {
	if c.dataFile == "" {
		return ""
	}
	p, _ := c.FilePath(0)
	return p
}

// dataRow returns the position of row r's image in DataFile.
func (c *Catalog) dataRow(r int) (int, error) {
	v := c.Carry[r][0] // predict.DataColumns[0], the row
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return 0, fmt.Errorf("catalog row %d: image row %q is not a position in %s", r, v, c.dataFile)
	}
	return i, nil
}

// RowOf returns the first row with object id id.
func (c *Catalog) RowOf(id string) (int, bool) {
	r, ok := c.rowOf[id]
	return r, ok
}

// FilePath returns where row r's image file is.
func (c *Catalog) FilePath(r int) (string, error) {
	f := c.File[r]
	if f == "" {
		return "", errors.New("the catalog names no file for this row")
	}
	if filepath.IsAbs(f) {
		return f, nil
	}
	if c.images != "" {
		return filepath.Join(c.images, f), nil
	}
	if _, err := os.Stat(f); err == nil {
		return f, nil
	}
	return filepath.Join(c.dir, f), nil
}

// Query selects and orders a catalog's rows.
type Query struct {
	Class      int     // only rows predicted as this class; -1: all rows
	PMin, PMax float64 // only rows whose P is in [PMin, PMax]
	Warned     bool    // only rows with a novelty warning
	Sort       string  // SortRow, SortP or SortNovelty
	Desc       bool    // largest first
	Offset     int
	Limit      int
}

// The orders of a Query.
const (
	SortRow     = "row"
	SortP       = "p"       // the probability of the predicted class
	SortNovelty = "novelty" // rows without a score last
)

// Check reports a query that cannot be answered.
func (q Query) Check(k int) error {
	switch {
	case q.Class < -1 || q.Class >= k:
		return fmt.Errorf("class %d: the catalog has classes 0..%d", q.Class, k-1)
	case !(q.PMin >= 0 && q.PMin <= q.PMax && q.PMax <= 1):
		return fmt.Errorf("probability range [%v, %v]: want 0 <= min <= max <= 1", q.PMin, q.PMax)
	case q.Sort != SortRow && q.Sort != SortP && q.Sort != SortNovelty:
		return fmt.Errorf("sort %q: want row, p or novelty", q.Sort)
	case q.Offset < 0 || q.Limit < 1 || q.Limit > MaxPage:
		return fmt.Errorf("offset %d, limit %d: want offset >= 0 and 1 <= limit <= %d", q.Offset, q.Limit, MaxPage)
	}
	return nil
}

// MaxPage is the most rows one catalog query returns.
const MaxPage = 500

// Top returns row r's predicted probability (that of its class; NaN for an
// error row).
func (c *Catalog) Top(r int) float64 {
	if c.Class[r] < 0 {
		return math.NaN()
	}
	return float64(c.P(r, c.Class[r]))
}

// Select returns the rows q matches, in q's order, and how many match.
func (c *Catalog) Select(q Query) (rows []int, matched int) {
	var sel []int
	for r := range c.Len() {
		if q.Class >= 0 && c.Class[r] != q.Class {
			continue
		}
		if q.Warned && c.Warning[r] == "" {
			continue
		}
		if q.PMin > 0 || q.PMax < 1 {
			if p := c.Top(r); !(p >= q.PMin && p <= q.PMax) {
				continue
			}
		}
		sel = append(sel, r)
	}
	key := func(r int) float64 { return float64(r) }
	switch q.Sort {
	case SortP:
		key = c.Top
	case SortNovelty:
		key = func(r int) float64 { return float64(c.Novelty[r]) }
	}
	if q.Sort != SortRow || q.Desc {
		slices.SortStableFunc(sel, func(a, b int) int {
			ka, kb := key(a), key(b)
			if na, nb := math.IsNaN(ka), math.IsNaN(kb); na || nb { // missing keys last either way
				return cmp.Compare(btoi(na), btoi(nb))
			}
			if q.Desc {
				return cmp.Compare(kb, ka)
			}
			return cmp.Compare(ka, kb)
		})
	}
	lo := min(q.Offset, len(sel))
	return sel[lo:min(lo+q.Limit, len(sel))], len(sel)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

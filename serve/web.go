package serve

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strconv"

	"galaxy/model"
	"galaxy/similar"
)

// The web page: web/index.html, its script and style, served at / and
// /ui/, embedded in the binary (no external URL: it works offline).
//
//go:embed web
var webFiles embed.FS

// DefaultThumb is the thumbnail size (pixels, the longer side) GET
// /v1/catalog/{row}/thumb gives without ?size; MinThumb and MaxThumb bound
// what it accepts.
const (
	DefaultThumb = 96
	MinThumb     = 16
	MaxThumb     = 256
	// OriginalView is the longer side of the original image classify
	// returns with ?images=1.
	OriginalView = 256
	// DefaultNeighbours is how many similar galaxies a detail view lists.
	DefaultNeighbours = 10
	maxNeighbours     = 100
)

func (s *Server) routeWeb() {
	sub, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err) // the embedded folder is part of the build
	}
	files := http.FileServerFS(sub)
	s.mux.Handle("/{$}", get(files.ServeHTTP))
	s.mux.Handle("/ui/", get(http.StripPrefix("/ui/", files).ServeHTTP))
	s.mux.Handle("/v1/catalog", get(s.catalogPage))
	s.mux.Handle("/v1/catalog/{row}", get(s.catalogRow))
	s.mux.Handle("/v1/catalog/{row}/thumb", get(s.catalogThumb))
	s.mux.Handle("/v1/catalog/{row}/prepared", get(s.catalogPrepared))
	s.mux.Handle("/v1/catalog/{row}/similar", get(s.catalogSimilar))
	s.mux.Handle("/v1/index/{row}/thumb", get(s.indexThumb))
}

// get answers only GET (and HEAD); other methods get 405 as JSON.
func get(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, &httpError{http.StatusMethodNotAllowed, "use GET"})
			return
		}
		h(w, r)
	}
}

func writeError(w http.ResponseWriter, err error) {
	writeJSON(w, statusOf(err), map[string]string{"error": err.Error()})
}

var (
	errNoCatalog = &httpError{http.StatusNotFound, "the server has no catalog (start it with one to browse)"}
	errNoIndex   = &httpError{http.StatusNotFound, "the server has no index of representations (start it with one for similar galaxies)"}
)

// intParam reads query parameter name as an int (def when absent).
func intParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, &httpError{http.StatusBadRequest, fmt.Sprintf("%s %q: not a whole number", name, v)}
	}
	return n, nil
}

// boolParam reads query parameter name as 1/true or 0/false (false when
// absent).
func boolParam(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "1", "true":
		return true, nil
	case "", "0", "false":
		return false, nil
	default:
		return false, &httpError{http.StatusBadRequest, fmt.Sprintf("%s %q: want true or false", name, v)}
	}
}

func floatParam(r *http.Request, name string, def float64) (float64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, &httpError{http.StatusBadRequest, fmt.Sprintf("%s %q: not a number", name, v)}
	}
	return f, nil
}

// CatalogRow is one row of a catalog page.
type CatalogRow struct {
	Row       int      `json:"row"`
	ID        string   `json:"id"`
	File      string   `json:"file"`
	Class     *int     `json:"class"` // null on an error row
	ClassName string   `json:"class_name"`
	P         *float64 `json:"p"` // the predicted class's probability
	Novelty   *float64 `json:"novelty"`
	Warning   string   `json:"warning,omitempty"`
	Error     string   `json:"error,omitempty"`
	Thumb     string   `json:"thumb"` // URL of its thumbnail
}

// CatalogPage is the answer of GET /v1/catalog.
type CatalogPage struct {
	Catalog string       `json:"catalog"`
	Total   int          `json:"total"`   // rows in the catalog
	Matched int          `json:"matched"` // rows the query selects
	Offset  int          `json:"offset"`
	Classes []string     `json:"classes"`
	Counts  []int        `json:"counts"` // rows predicted as each class, whole catalog
	Rows    []CatalogRow `json:"rows"`
}

// rowURL is the URL of catalog row r's endpoint part ("" for the row).
func rowURL(r int, part string) string {
	u := "/v1/catalog/" + strconv.Itoa(r)
	if part != "" {
		u += "/" + part
	}
	return u
}

func (s *Server) row(r int) CatalogRow {
	c := s.opt.Catalog
	cr := CatalogRow{Row: r, ID: c.ID[r], File: c.File[r], Warning: c.Warning[r], Error: c.Err[r],
		Thumb: rowURL(r, "thumb")}
	if k := c.Class[r]; k >= 0 {
		p := c.Top(r)
		cr.Class, cr.ClassName, cr.P = &k, c.Classes[k], &p
	}
	if nv := float64(c.Novelty[r]); nv == nv {
		cr.Novelty = &nv
	}
	return cr
}

// catalogPage: GET /v1/catalog?class=&pmin=&pmax=&warned=&sort=&order=&offset=&limit=
func (s *Server) catalogPage(w http.ResponseWriter, r *http.Request) {
	c := s.opt.Catalog
	if c == nil {
		writeError(w, errNoCatalog)
		return
	}
	q := Query{Sort: SortRow}
	var err error
	for _, p := range []struct {
		name string
		dst  *int
		def  int
	}{{"class", &q.Class, -1}, {"offset", &q.Offset, 0}, {"limit", &q.Limit, 60}} {
		if err == nil {
			*p.dst, err = intParam(r, p.name, p.def)
		}
	}
	if err == nil {
		q.PMin, err = floatParam(r, "pmin", 0)
	}
	if err == nil {
		q.PMax, err = floatParam(r, "pmax", 1)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	qv := r.URL.Query()
	if v := qv.Get("sort"); v != "" {
		q.Sort = v
	}
	switch o := qv.Get("order"); o {
	case "desc":
		q.Desc = true
	case "", "asc":
	default:
		writeError(w, &httpError{http.StatusBadRequest, fmt.Sprintf("order %q: want asc or desc", o)})
		return
	}
	if q.Warned, err = boolParam(r, "warned"); err != nil {
		writeError(w, err)
		return
	}
	if err := q.Check(len(c.Classes)); err != nil {
		writeError(w, &httpError{http.StatusBadRequest, err.Error()})
		return
	}
	rows, matched := c.Select(q)
	page := CatalogPage{Catalog: c.Path, Total: c.Len(), Matched: matched, Offset: q.Offset, Classes: c.Classes, Counts: c.counts,
		Rows: make([]CatalogRow, len(rows))}
	for i, r := range rows {
		page.Rows[i] = s.row(r)
	}
	writeJSON(w, http.StatusOK, page)
}

// pathRow reads the {row} of a URL: a row of a table of n rows (what names
// the table).
func pathRow(r *http.Request, n int, what string) (int, error) {
	v := r.PathValue("row")
	i, err := strconv.Atoi(v)
	if err != nil {
		return 0, &httpError{http.StatusBadRequest, fmt.Sprintf("row %q: not a whole number", v)}
	}
	if i < 0 || i >= n {
		return 0, &httpError{http.StatusNotFound, fmt.Sprintf("row %d: the %s has rows 0..%d", i, what, n-1)}
	}
	return i, nil
}

// rowParam reads the {row} of a catalog URL.
func (s *Server) rowParam(r *http.Request) (int, error) {
	if s.opt.Catalog == nil {
		return 0, errNoCatalog
	}
	return pathRow(r, s.opt.Catalog.Len(), "catalog")
}

// CatalogDetail is the answer of GET /v1/catalog/{row}.
type CatalogDetail struct {
	CatalogRow
	Carried  map[string]string `json:"carried,omitempty"` // the catalog's carried columns (ra, dec, redshift)
	Ranked   []Ranked          `json:"ranked"`
	Prepared string            `json:"prepared"`          // URL of the image as the model sees it
	Similar  string            `json:"similar,omitempty"` // URL of its similar galaxies (with an index)
}

func (s *Server) catalogRow(w http.ResponseWriter, r *http.Request) {
	n, err := s.rowParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	c := s.opt.Catalog
	d := CatalogDetail{CatalogRow: s.row(n), Ranked: []Ranked{}, Prepared: rowURL(n, "prepared")}
	if len(c.Carried) > 0 {
		d.Carried = map[string]string{}
		for j, name := range c.Carried {
			d.Carried[name] = c.Carry[n][j]
		}
	}
	if c.Class[n] >= 0 {
		d.Ranked = ranked(c.Classes, c.Probs[n*len(c.Classes):(n+1)*len(c.Classes)])
	}
	if s.opt.Index != nil {
		d.Similar = rowURL(n, "similar")
	}
	writeJSON(w, http.StatusOK, d)
}

func writeImage(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(b)
}

// fileError gives a missing file 404 and other file errors their status.
func fileError(path string, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return &httpError{http.StatusNotFound, fmt.Sprintf("%s: no such file", path)}
	}
	return fmt.Errorf("%s: %w", path, err)
}

// thumb returns the thumbnail of picture p.
func (s *Server) thumb(p picture, size int) ([]byte, error) {
	return s.images.load("thumb\x00"+strconv.Itoa(size)+"\x00"+p.key(), func() ([]byte, error) {
		img, err := s.original(p)
		if err != nil {
			return nil, err
		}
		return encodePNG(fitImage(img, size))
	})
}

func (s *Server) thumbSize(r *http.Request) (int, error) {
	size, err := intParam(r, "size", DefaultThumb)
	if err == nil && (size < MinThumb || size > MaxThumb) {
		err = &httpError{http.StatusBadRequest, fmt.Sprintf("size %d: want %d to %d pixels", size, MinThumb, MaxThumb)}
	}
	return size, err
}

func (s *Server) catalogThumb(w http.ResponseWriter, r *http.Request) {
	n, err := s.rowParam(r)
	var size int
	if err == nil {
		size, err = s.thumbSize(r)
	}
	var p picture
	if err == nil {
		p, err = s.catalogPicture(n)
	}
	var b []byte
	if err == nil {
		b, err = s.thumb(p, size)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeImage(w, b)
}

func (s *Server) catalogPrepared(w http.ResponseWriter, r *http.Request) {
	n, err := s.rowParam(r)
	var p picture
	if err == nil {
		p, err = s.catalogPicture(n)
	}
	var b []byte
	if err == nil {
		b, err = s.images.load("prepared\x00"+p.key(), func() ([]byte, error) {
			x := make([]float32, s.prep.Dim())
			if err := s.features(p, x); err != nil {
				return nil, err
			}
			return preparedPNG(s.prep, x)
		})
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeImage(w, b)
}

// Neighbour is one similar galaxy.
type Neighbour struct {
	ID         string  `json:"id"`
	File       string  `json:"file,omitempty"`
	Similarity float64 `json:"similarity"`
	Label      string  `json:"label,omitempty"` // its class in the index, when known
	Row        *int    `json:"row"`             // its catalog row, when it is in the catalog
	Thumb      string  `json:"thumb,omitempty"` // URL of its thumbnail, when there is an image
}

// Neighbours is the answer of GET /v1/catalog/{row}/similar.
type Neighbours struct {
	Row        int         `json:"row"`
	ID         string      `json:"id"`
	Neighbours []Neighbour `json:"neighbours"`
}

// catalogSimilar: GET /v1/catalog/{row}/similar?k=10, by the row's id in
// the index (similar.Index.ByID).
func (s *Server) catalogSimilar(w http.ResponseWriter, r *http.Request) {
	n, err := s.rowParam(r)
	if err != nil {
		writeError(w, err)
		return
	}
	ix := s.opt.Index
	if ix == nil {
		writeError(w, errNoIndex)
		return
	}
	k, err := intParam(r, "k", DefaultNeighbours)
	if err == nil && (k < 1 || k > maxNeighbours) {
		err = &httpError{http.StatusBadRequest, fmt.Sprintf("k %d: want 1 to %d", k, maxNeighbours)}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	c := s.opt.Catalog
	hits, err := ix.ByID(c.ID[n], k)
	if err != nil {
		hits, err = s.similarByImage(n, k)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	out := Neighbours{Row: n, ID: c.ID[n], Neighbours: make([]Neighbour, 0, len(hits))}
	for _, h := range hits {
		nb := neighbour(h)
		if cr, ok := c.RowOf(h.ID); ok && h.ID != "" {
			nb.Row, nb.Thumb = &cr, rowURL(cr, "thumb")
		} else if _, ok := s.indexPicture(h.Row); ok {
			nb.Thumb = "/v1/index/" + strconv.Itoa(h.Row) + "/thumb"
		}
		out.Neighbours = append(out.Neighbours, nb)
	}
	writeJSON(w, http.StatusOK, out)
}

// similarByImage finds the galaxies like catalog row n that is not in the
// index, from its image, when the index was made by the served model.
func (s *Server) similarByImage(n, k int) ([]similar.Hit, error) {
	c, ix := s.opt.Catalog, s.opt.Index
	e, ok := s.m.Net.(model.Embedder)
	if !ok || ix.Model != s.opt.ModelName || e.EmbedDim() != ix.Dim {
		return nil, &httpError{http.StatusNotFound, fmt.Sprintf("galaxy %q is not in the index, which another model made", c.ID[n])}
	}
	p, err := s.catalogPicture(n)
	if err != nil {
		return nil, &httpError{http.StatusNotFound, fmt.Sprintf("galaxy %q is not in the index and %v", c.ID[n], err)}
	}
	x := make([]float32, s.prep.Dim())
	if err := s.features(p, x); err != nil {
		return nil, err
	}
	q := make([]float32, ix.Dim)
	s.net.Lock()
	e.Embed(x, 1, q)
	s.net.Unlock()
	return ix.Search(q, k, nil), nil
}

func neighbour(h similar.Hit) Neighbour {
	nb := Neighbour{ID: h.ID, File: h.File, Similarity: h.Similarity}
	if h.Label != nil {
		nb.Label = *h.Label
	}
	return nb
}

// indexThumb: GET /v1/index/{row}/thumb, a thumbnail of an index row's
// image file (a neighbour not in the catalog).
func (s *Server) indexThumb(w http.ResponseWriter, r *http.Request) {
	ix := s.opt.Index
	if ix == nil {
		writeError(w, errNoIndex)
		return
	}
	n, err := pathRow(r, ix.Len(), "index")
	var p picture
	if err == nil {
		var ok bool
		if p, ok = s.indexPicture(n); !ok {
			err = &httpError{http.StatusNotFound, fmt.Sprintf("index row %d has no image file, and the server did not read the data file it comes from (%s)", n, ix.Data)}
		}
	}
	var size int
	if err == nil {
		size, err = s.thumbSize(r)
	}
	var b []byte
	if err == nil {
		b, err = s.thumb(p, size)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeImage(w, b)
}

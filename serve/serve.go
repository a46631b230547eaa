// Package serve is galaxy's HTTP service: the classification API and the
// web page that uses it.
//
//	POST /v1/classify   one image as the body (JPEG, PNG or FITS), or
//	                    multipart/form-data with several (any field names);
//	                    ?images=1 adds each image as the model sees it and
//	                    the original, as PNG data URLs
//	GET  /v1/model      classes, input, scheme, architecture, version, and
//	                    the model's card (model.Card)
//	GET  /healthz       {"status":"ok"}
//
// With a catalog (Options.Catalog: predict's CSV output) and an index of
// representations (Options.Index: galaxy embed's), the endpoints the web
// page browses with:
//
//	GET /v1/catalog                  a page of rows: ?class= (predicted
//	                                 class), pmin=, pmax= (its probability),
//	                                 warned=true, sort=row|p|novelty,
//	                                 order=asc|desc, offset=, limit= (<= 500)
//	GET /v1/catalog/{row}            one row: ranked classes, carried columns
//	GET /v1/catalog/{row}/thumb      its image, at most ?size= pixels (PNG)
//	GET /v1/catalog/{row}/prepared   its image as the model sees it (PNG)
//	GET /v1/catalog/{row}/similar    its ?k= nearest galaxies in the index
//	GET /v1/index/{row}/thumb        an index row's image (PNG)
//	GET /                            the web page (embedded; works offline)
//
// A single image gets {"class", "class_name", "ranked": [{"class", "name",
// "p"}...]} (classes by decreasing probability); a multipart request gets
// {"results": [...]}, one per part in order, each that object plus "name"
// (the part's file name) or {"name", "error"} for a part that could not be
// read. Errors are JSON {"error": "..."} with a 4xx status: 413 for a body
// over the limit or an image over the pixel limit (checked from the image
// header before decoding), 415 for a body that is no image, 422 for a
// corrupt one, 400 for a bad request or parameter, 404 for an unknown
// endpoint, row or file, 405 for a wrong method.
//
// Images are decoded and prepared on the request's goroutine; the prepared
// features go to one batching goroutine that scores up to MaxBatch of them
// at once, waiting at most BatchWait for a batch to fill. Thumbnails and
// prepared views are rendered on request and kept in a cache of
// ImageCacheBytes.
package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"galaxy/data"
	"galaxy/data/cutout"
	"galaxy/data/fits"
	"galaxy/model"
	"galaxy/num"
	"galaxy/predict"
	"galaxy/similar"
)

// Version is reported by GET /v1/model.
const Version = "1"

// Options configure a Server. Zero values take the defaults.
type Options struct {
	MaxBodyBytes int64         // default 8 MiB
	MaxPixels    int           // width*height per image, default 4096*4096
	MaxImages    int           // parts of a multipart request, default 64
	MaxBatch     int           // images scored together, default 64
	BatchWait    time.Duration // longest wait for a batch to fill, default 2ms
	Logger       *slog.Logger  // request logs; default discards

	ModelName       string         // what GET /v1/model calls the model (a path, or builtin)
	Catalog         *Catalog       // predictions the web page browses; nil: none
	Index           *similar.Index // representations for similar galaxies; nil: none
	Data            *data.Raw      // the data file (DataFile, read with the model's Preparation) whose images the catalog's rows, or the index's rows without a file, are; nil: none
	ImageCacheBytes int64          // rendered thumbnails and views kept, default 64 MiB
}

func (o *Options) defaults() {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 8 << 20
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = 4096 * 4096
	}
	if o.MaxImages <= 0 {
		o.MaxImages = 64
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 64
	}
	if o.BatchWait <= 0 {
		o.BatchWait = 2 * time.Millisecond
	}
	if o.ImageCacheBytes <= 0 {
		o.ImageCacheBytes = 64 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Server classifies images with a model.
type Server struct {
	m    *model.Model
	prep *predict.Preparer
	opt  Options
	reqs chan *request
	done chan struct{}
	mux  *http.ServeMux

	images *imageCache
	net    sync.Mutex // held while the network runs (it keeps buffers)
}

type request struct {
	x       []float32
	logits  []float32
	novelty float64 // NaN when the model has no novelty statistics
	ready   chan struct{}
}

// New returns a server for m and starts its batching goroutine; Close stops
// it.
func New(m *model.Model, opt Options) (*Server, error) {
	opt.defaults()
	prep, err := predict.NewPreparer(m, cutout.Limits{MaxPixels: opt.MaxPixels})
	if err != nil {
		return nil, err
	}
	if opt.Data != nil {
		if err := CheckData(m, opt.Data, opt.Catalog, opt.Index); err != nil {
			return nil, err
		}
	}
	s := &Server{m: m, prep: prep, opt: opt, reqs: make(chan *request, 4*opt.MaxBatch), done: make(chan struct{}), mux: http.NewServeMux(),
		images: newImageCache(opt.ImageCacheBytes)}
	s.mux.HandleFunc("/v1/classify", s.classify)
	s.mux.HandleFunc("/v1/model", s.modelInfo)
	s.mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.routeWeb()
	go s.batcher()
	return s, nil
}

// Close stops the batching goroutine (after the handlers have finished).
func (s *Server) Close() { close(s.done) }

// batcher scores requests in batches.
func (s *Server) batcher() {
	dim, k := s.prep.Dim(), s.m.K()
	X := make([]float32, s.opt.MaxBatch*dim)
	out := make([]float32, s.opt.MaxBatch*k)
	nov := make([]float64, s.opt.MaxBatch)
	batch := make([]*request, 0, s.opt.MaxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-s.done:
			return
		case r := <-s.reqs:
			batch = append(batch[:0], r)
			timer.Reset(s.opt.BatchWait)
		fill:
			for len(batch) < s.opt.MaxBatch {
				select {
				case r := <-s.reqs:
					batch = append(batch, r)
				case <-timer.C:
					break fill
				}
			}
			timer.Stop()
			for i, r := range batch {
				copy(X[i*dim:], r.x)
			}
			n := len(batch)
			s.net.Lock()
			s.m.Net.Logits(X[:n*dim], n, out[:n*k])
			hasNov := s.m.NoveltyScores(X[:n*dim], n, nov)
			s.net.Unlock()
			for i, r := range batch {
				r.logits = append([]float32(nil), out[i*k:(i+1)*k]...)
				r.novelty = math.NaN()
				if hasNov {
					r.novelty = nov[i]
				}
				close(r.ready)
			}
		}
	}
}

// Ranked is one class and its probability.
type Ranked struct {
	Class int     `json:"class"`
	Name  string  `json:"name"`
	P     float32 `json:"p"`
}

// Result is the classification of one image.
type Result struct {
	Name      string   `json:"name,omitempty"`
	Class     *int     `json:"class,omitempty"`
	ClassName string   `json:"class_name,omitempty"`
	Ranked    []Ranked `json:"ranked,omitempty"`
	// Novelty is the model's novelty score (model.Novelty) and Warning
	// why the image looks unlike the galaxies the model knows ("": it
	// does not); both absent for a model without novelty statistics.
	Novelty *float64 `json:"novelty,omitempty"`
	Warning string   `json:"warning,omitempty"`
	Error   string   `json:"error,omitempty"`
	// Images are the image as the model sees it and the original (at
	// most OriginalView pixels), as PNG data URLs; only with ?images=1.
	Images *Images `json:"images,omitempty"`
}

// Images are the pictures of a classified image.
type Images struct {
	Prepared string `json:"prepared"`
	Original string `json:"original"`
}

// httpError is an error with its status.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func statusOf(err error) int {
	var he *httpError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.status
	case errors.As(err, &mb), errors.Is(err, cutout.ErrTooLarge), errors.Is(err, fits.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, cutout.ErrFormat), errors.Is(err, fits.ErrFormat):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, cutout.ErrCorrupt), errors.Is(err, fits.ErrCorrupt), errors.Is(err, fits.ErrNoImage):
		return http.StatusUnprocessableEntity
	}
	return http.StatusBadRequest
}

// score prepares and classifies one image's bytes, with its pictures when
// images is set.
func (s *Server) score(ctx context.Context, b []byte, images bool) (Result, error) {
	r := &request{x: make([]float32, s.prep.Dim()), ready: make(chan struct{})}
	img, err := predict.Decode(b, s.prep.Limits)
	if err != nil {
		return Result{}, err
	}
	s.prep.Prepare(img, r.x)
	var pics *Images
	if images {
		prep, err := preparedPNG(s.prep, r.x)
		if err != nil {
			return Result{}, err
		}
		orig, err := encodePNG(fitImage(img, OriginalView))
		if err != nil {
			return Result{}, err
		}
		pics = &Images{Prepared: dataURL(prep), Original: dataURL(orig)}
	}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		return Result{}, &httpError{http.StatusServiceUnavailable, "request cancelled"}
	}
	<-r.ready // the batcher always answers what it took
	k := s.m.K()
	probs := make([]float32, k)
	s.m.Probabilities(r.logits, probs)
	best := num.Argmax(r.logits)
	res := Result{Class: &best, ClassName: s.m.Meta.Classes[best], Images: pics}
	if nv := r.novelty; !math.IsNaN(nv) {
		res.Novelty, res.Warning = &nv, s.m.Novelty.Warning(nv)
	}
	res.Ranked = ranked(s.m.Meta.Classes, probs)
	return res, nil
}

// ranked returns the classes by decreasing probability p (by class
// number; ties keep the classes' order).
func ranked(classes []string, p []float32) []Ranked {
	r := make([]Ranked, len(p))
	for c, v := range p {
		r[c] = Ranked{c, classes[c], v}
	}
	sort.SliceStable(r, func(i, j int) bool { return r[i].P > r[j].P })
	return r
}

func (s *Server) classify(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	status, images := http.StatusOK, 0
	defer func() {
		s.opt.Logger.Info("request", "method", r.Method, "path", r.URL.Path, "status", status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000, "images", images, "remote", r.RemoteAddr)
	}()
	fail := func(err error) {
		status = statusOf(err)
		writeJSON(w, status, map[string]string{"error": err.Error()})
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		fail(&httpError{http.StatusMethodNotAllowed, "use POST with an image as the body"})
		return
	}
	pictures, err := boolParam(r, "images")
	if err != nil {
		fail(err)
		return
	}
	body := http.MaxBytesReader(w, r.Body, s.opt.MaxBodyBytes)
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		var results []Result
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				fail(fmt.Errorf("read multipart body: %w", err))
				return
			}
			if len(results) >= s.opt.MaxImages {
				fail(&httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("more than %d images in one request", s.opt.MaxImages)})
				return
			}
			b, err := io.ReadAll(part)
			if err != nil {
				fail(fmt.Errorf("read part %q: %w", part.FileName(), err))
				return
			}
			name := part.FileName()
			if name == "" {
				name = part.FormName()
			}
			res, err := s.score(r.Context(), b, pictures)
			if err != nil {
				res = Result{Error: err.Error()}
			} else {
				images++
			}
			res.Name = name
			results = append(results, res)
		}
		if len(results) == 0 {
			fail(&httpError{http.StatusBadRequest, "multipart body holds no images"})
			return
		}
		writeJSON(w, status, map[string]any{"results": results})
		return
	}
	b, err := io.ReadAll(body)
	if err != nil {
		fail(fmt.Errorf("read body: %w", err))
		return
	}
	res, err := s.score(r.Context(), b, pictures)
	if err != nil {
		fail(err)
		return
	}
	images = 1
	writeJSON(w, status, res)
}

func (s *Server) modelInfo(w http.ResponseWriter, r *http.Request) {
	in := s.m.Meta.Input
	writeJSON(w, http.StatusOK, map[string]any{
		"version": Version,
		"arch":    s.m.Meta.Arch,
		"scheme":  s.m.Meta.Scheme,
		"classes": s.m.Meta.Classes,
		"input": map[string]any{"height": in.Height, "width": in.Width, "channels": in.Channels,
			"channel_spec": in.ChannelSpec, "scale": in.Scale,
			"formats": []string{"image/jpeg", "image/png", "application/fits"}, "max_pixels": s.opt.MaxPixels, "max_body_bytes": s.opt.MaxBodyBytes},
		"name":    s.opt.ModelName,
		"card":    s.m.Card(),
		"catalog": s.opt.Catalog != nil,
		"index":   s.opt.Index != nil,
	})
}

// ServeHTTP routes requests; /healthz and /v1/model are logged at debug level.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/classify" {
		start := time.Now()
		defer func() {
			s.opt.Logger.Debug("request", "method", r.Method, "path", r.URL.Path, "duration_ms", float64(time.Since(start).Microseconds())/1000)
		}()
		if _, pat := s.mux.Handler(r); pat == "" {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint (POST /v1/classify, GET /v1/model, GET /v1/catalog, GET /healthz, GET / for the web page)"})
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// HTTPServer returns an http.Server for s on addr with read, write and idle
// timeouts.
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{Addr: addr, Handler: s, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
}

// ListenAndServe serves on addr until ctx is done, then shuts down
// gracefully: no new connections, requests in progress finish (within
// grace).
func (s *Server) ListenAndServe(ctx context.Context, addr string, grace time.Duration, ready func(addr string)) error {
	hs := s.HTTPServer(addr)
	ln, err := netListen(addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err = hs.Shutdown(sctx)
	s.Close()
	return err
}

func netListen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

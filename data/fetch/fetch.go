// Package fetch downloads the public galaxy data sets into a local cache:
// Galaxy10 SDSS and Galaxy10 DECaLS (astroNN, on Zenodo) and the course's
// dataG.pkl.gz, from the URLs where they are published.
//
// A download goes to NAME.part beside its final name and is resumed with an
// HTTP range request when that file is there (after an interruption, a
// dropped connection, or Ctrl-C); a dropped connection is retried a few times
// at once. The file's checksum (SHA-256, or MD5 where only that is published)
// is verified before it takes its final name; a mismatch removes the partial
// file and is an error. The course file has no published checksum: only its
// being a gzip stream is checked, and its SHA-256 is written beside it
// (NAME.sha256) and printed, so that a later download can be compared.
//
// The cache is $XDG_CACHE_HOME/galaxy, or ~/.cache/galaxy.
package fetch

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Source is a published data file.
type Source struct {
	Name   string // what --data and `galaxy fetch` call it
	URL    string // canonical address
	File   string // name in the cache
	Size   int64  // bytes; 0 = not published
	SHA256 string // hex; "" = not published
	MD5    string // hex; used when there is no SHA256
	About  string
}

// The canonical sources.
const (
	Galaxy10URL       = "https://zenodo.org/records/10844811/files/Galaxy10.h5"
	Galaxy10Size      = 210234548
	Galaxy10SHA256    = "969a6b1cefcc36e09fffa86febd2f699a4aa19b837ba0427f01b0bc6ded458af"
	Galaxy10DECaLSURL = "https://zenodo.org/records/10845026/files/Galaxy10_DECals.h5"
	Galaxy10DECaLSMD5 = "c6b7b4db82b3a5d63d6a7e3e5249b51c"
	CourseURL         = "https://courses.physics.illinois.edu/phys246/fa2020/code/dataG.pkl.gz"
)

var sources = []Source{
	{Name: "galaxy10", URL: Galaxy10URL, File: "Galaxy10.h5", Size: Galaxy10Size, SHA256: Galaxy10SHA256,
		About: "Galaxy10 SDSS: 21,785 galaxies, 69x69x3, 10 classes (210 MB)"},
	{Name: "galaxy10-decals", URL: Galaxy10DECaLSURL, File: "Galaxy10_DECals.h5", MD5: Galaxy10DECaLSMD5,
		About: "Galaxy10 DECaLS: 17,736 galaxies, 256x256x3, 10 classes (about 2.5 GB)"},
	{Name: "course", URL: CourseURL, File: "dataG.pkl.gz",
		About: "the course's dataG.pkl.gz: Galaxy10 classes 0, 1, 2, 4, 7, g band, its own split (no published checksum)"},
}

// Sources lists the known data sets.
func Sources() []Source { return append([]Source(nil), sources...) }

// Names lists the names of the known data sets.
func Names() []string {
	var n []string
	for _, s := range sources {
		n = append(n, s.Name)
	}
	return n
}

// Lookup returns the source of the given name.
func Lookup(name string) (Source, bool) {
	for _, s := range sources {
		if s.Name == strings.ToLower(name) {
			return s, true
		}
	}
	return Source{}, false
}

// DefaultDir returns the cache folder: $XDG_CACHE_HOME/galaxy, else
// ~/.cache/galaxy.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "galaxy"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", errors.New("no cache folder: neither $XDG_CACHE_HOME nor $HOME is set (name a cache folder)")
	}
	return filepath.Join(home, ".cache", "galaxy"), nil
}

// Progress is told how many bytes of a file are there (done) out of total
// (0 when unknown), as a download advances; final is true once.
type Progress func(done, total int64, final bool)

// Fetcher downloads sources into a folder.
type Fetcher struct {
	Dir string // cache folder; created when missing
	// BaseURL, when set, replaces the scheme and host of every source's URL
	// (a mirror with the same paths, or a test server).
	BaseURL string
	Client  *http.Client // nil: a client with connection and idle timeouts
	// Log receives one-line messages (resuming, retrying, the course
	// file's checksum); nil discards them.
	Log      io.Writer
	Progress Progress
	// Retries is how many times a dropped connection is resumed at once
	// (default 3; negative: none). StallTimeout aborts a transfer that
	// receives nothing for that long (default 60 s).
	Retries      int
	StallTimeout time.Duration
}

// Path returns where the source lives in the cache.
func (f *Fetcher) Path(src Source) string { return filepath.Join(f.Dir, src.File) }

// Have reports whether the source's file is in the cache (and, when its size
// is published, has that size).
func (f *Fetcher) Have(src Source) bool {
	st, err := os.Stat(f.Path(src))
	return err == nil && st.Mode().IsRegular() && (src.Size == 0 || st.Size() == src.Size)
}

// Ensure returns the cached file of the source, downloading it first when it
// is missing.
func (f *Fetcher) Ensure(ctx context.Context, src Source) (string, error) {
	if f.Have(src) {
		return f.Path(src), nil
	}
	return f.Fetch(ctx, src)
}

// Error is a failed fetch; its message is one line.
type Error struct {
	Name string
	Err  error
}

func (e *Error) Error() string { return "fetch " + e.Name + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ErrChecksum is wrapped by the error of a download whose checksum is wrong.
var ErrChecksum = errors.New("checksum mismatch")

// ErrOffline is wrapped by the error of a fetch that cannot reach the server.
var ErrOffline = errors.New("cannot reach the server")

// Fetch downloads the source (resuming a partial download), verifies it and
// moves it to its final name, which it returns. An existing final file is
// replaced.
func (f *Fetcher) Fetch(ctx context.Context, src Source) (string, error) {
	p, err := f.fetch(ctx, src)
	if err != nil {
		return "", &Error{Name: src.Name, Err: err}
	}
	return p, nil
}

func (f *Fetcher) logf(format string, args ...any) {
	if f.Log != nil {
		fmt.Fprintf(f.Log, format+"\n", args...)
	}
}

// URL returns the address the source is fetched from (BaseURL applied).
func (f *Fetcher) URL(src Source) (string, error) {
	if f.BaseURL == "" {
		return src.URL, nil
	}
	u, err := url.Parse(src.URL)
	if err != nil {
		return "", err
	}
	b, err := url.Parse(f.BaseURL)
	if err != nil || b.Scheme == "" || b.Host == "" {
		return "", fmt.Errorf("base URL %q: want scheme://host[/path]", f.BaseURL)
	}
	b.Path = strings.TrimSuffix(b.Path, "/") + u.Path
	return b.String(), nil
}

func (f *Fetcher) client() *http.Client {
	if f.Client != nil {
		return f.Client
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 60 * time.Second
	return &http.Client{Transport: tr}
}

func (f *Fetcher) fetch(ctx context.Context, src Source) (string, error) {
	if f.Dir == "" {
		return "", errors.New("no cache folder")
	}
	if err := os.MkdirAll(f.Dir, 0o755); err != nil {
		return "", fmt.Errorf("cache folder: %w", err)
	}
	addr, err := f.URL(src)
	if err != nil {
		return "", err
	}
	f.logf("fetch %s: downloading %s into %s", src.Name, addr, f.Dir)
	final := f.Path(src)
	part := final + ".part"
	retries := f.Retries
	if retries == 0 {
		retries = 3
	}
	for attempt := 0; ; attempt++ {
		err = f.download(ctx, src, addr, part)
		if err == nil || !errors.Is(err, errDropped) || attempt >= retries || ctx.Err() != nil {
			break
		}
		f.logf("fetch %s: %v; resuming (try %d of %d)", src.Name, err, attempt+1, retries)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt+1) * 500 * time.Millisecond):
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("interrupted; run again to resume from %s", part)
		}
		if errors.Is(err, errDropped) {
			return "", fmt.Errorf("%w; run again to resume from %s", err, part)
		}
		return "", err
	}
	sum, err := f.verify(src, part)
	if err != nil {
		os.Remove(part)
		return "", err
	}
	if err := os.Rename(part, final); err != nil {
		return "", err
	}
	if src.SHA256 == "" && src.MD5 == "" {
		side := final + ".sha256"
		line := sum + "  " + src.File + "\n"
		if err := os.WriteFile(side, []byte(line), 0o644); err != nil {
			return "", err
		}
		st, _ := os.Stat(final)
		f.logf("fetch %s: no published checksum; recorded SHA-256 %s (%d bytes) in %s", src.Name, sum, st.Size(), side)
	}
	return final, nil
}

// errDropped marks a transfer cut short (retried by resuming).
var errDropped = errors.New("connection dropped")

// download brings part up to the whole file, resuming from its length.
func (f *Fetcher) download(parent context.Context, src Source, addr, part string) error {
	have := int64(0)
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	if src.Size > 0 && have > src.Size {
		f.logf("fetch %s: the partial file is larger than the data set; starting again", src.Name)
		os.Remove(part)
		have = 0
	}
	if src.Size > 0 && have == src.Size {
		return nil // complete: verify it
	}
	ctx, cancel := context.WithCancel(parent) // cancelled by the stall watchdog too
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, addr, nil)
	if err != nil {
		return err
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := f.client().Do(req)
	if err != nil {
		if parent.Err() != nil {
			return parent.Err()
		}
		return offline(req.URL.Host, err)
	}
	defer resp.Body.Close()
	total := src.Size
	flags := os.O_WRONLY | os.O_CREATE
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		start, size, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != have {
			return fmt.Errorf("%s: the server resumed at %q, not at byte %d", addr, resp.Header.Get("Content-Range"), have)
		}
		if size > 0 {
			if src.Size > 0 && size != src.Size {
				return fmt.Errorf("%s: the server has %d bytes, the data set is %d", addr, size, src.Size)
			}
			total = size
		}
		flags |= os.O_APPEND
		f.logf("fetch %s: resuming at %s", src.Name, mb(have))
	case resp.StatusCode == http.StatusOK:
		if have > 0 {
			f.logf("fetch %s: the server does not resume downloads; starting again", src.Name)
		}
		have = 0
		flags |= os.O_TRUNC
		if resp.ContentLength > 0 {
			if src.Size > 0 && resp.ContentLength != src.Size {
				return fmt.Errorf("%s: the server offers %d bytes, the data set is %d", addr, resp.ContentLength, src.Size)
			}
			total = resp.ContentLength
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		// The partial file may hold the whole file already: let the
		// checksum decide; without one, start again.
		if src.SHA256 != "" || src.MD5 != "" {
			return nil
		}
		os.Remove(part)
		return fmt.Errorf("%w: the server refused to resume", errDropped)
	default:
		return fmt.Errorf("%s: %s", addr, resp.Status)
	}
	out, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return err
	}
	stall := f.StallTimeout
	if stall <= 0 {
		stall = 60 * time.Second
	}
	watchdog := time.AfterFunc(stall, cancel)
	defer watchdog.Stop()
	done := have
	report := func(final bool) {
		if f.Progress != nil {
			f.Progress(done, total, final)
		}
	}
	report(false)
	buf := make([]byte, 256<<10)
	var copyErr error
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			watchdog.Reset(stall)
			if _, werr := out.Write(buf[:n]); werr != nil {
				copyErr = werr
				break
			}
			done += int64(n)
			report(false)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if parent.Err() != nil {
				copyErr = parent.Err()
			} else { // a dropped connection, or a stall the watchdog cut
				copyErr = fmt.Errorf("%w after %s: %v", errDropped, mb(done), rerr)
			}
			break
		}
	}
	if err := out.Close(); err != nil && copyErr == nil {
		copyErr = err
	}
	report(true)
	if copyErr != nil {
		return copyErr
	}
	if total > 0 && done != total {
		return fmt.Errorf("%w after %s of %s", errDropped, mb(done), mb(total))
	}
	return nil
}

// contentRange parses "bytes START-END/SIZE" (SIZE may be *, giving 0).
func contentRange(h string) (start, size int64, ok bool) {
	rest, found := strings.CutPrefix(h, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, sz, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	a, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if sz != "*" {
		if size, err = strconv.ParseInt(sz, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, size, true
}

// offline turns a failure to connect into one clear line.
func offline(host string, err error) error {
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(err, &dns), errors.As(err, &op), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENETUNREACH):
		return &offlineError{host: host, err: rootCause(err)}
	}
	return err
}

// offlineError reads "cannot reach HOST (offline?): CAUSE" and is ErrOffline.
type offlineError struct {
	host string
	err  error
}

func (e *offlineError) Error() string {
	return "cannot reach " + e.host + " (offline?): " + e.err.Error()
}
func (e *offlineError) Is(target error) bool { return target == ErrOffline }
func (e *offlineError) Unwrap() error        { return e.err }

// rootCause strips net/http's "Get URL:" wrapper.
func rootCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// verify checks the file's size and checksum and returns its SHA-256 (hex).
func (f *Fetcher) verify(src Source, path string) (string, error) {
	fp, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fp.Close()
	sh := sha256.New()
	var check hash.Hash // the published checksum's hash, when there is one
	want, kind := src.SHA256, "SHA-256"
	switch {
	case src.SHA256 != "":
		check = sh
	case src.MD5 != "":
		check, want, kind = md5.New(), src.MD5, "MD5"
	}
	w := io.Writer(sh)
	if check != nil && check != sh {
		w = io.MultiWriter(sh, check)
	}
	head := &prefix{b: make([]byte, 2)}
	n, err := io.Copy(w, io.TeeReader(fp, head))
	if err != nil {
		return "", err
	}
	if src.Size > 0 && n != src.Size {
		return "", fmt.Errorf("%w: %d bytes, want %d (file removed; run again to download afresh)", ErrChecksum, n, src.Size)
	}
	if check != nil {
		if got := hex.EncodeToString(check.Sum(nil)); !strings.EqualFold(got, want) {
			return "", fmt.Errorf("%w: %s %s, want %s (file removed; run again to download afresh)", ErrChecksum, kind, got, want)
		}
	}
	if strings.HasSuffix(src.File, ".gz") && (head.n < 2 || head.b[0] != 0x1f || head.b[1] != 0x8b) {
		return "", errors.New("the download is not a gzip file (an error page?); file removed")
	}
	return hex.EncodeToString(sh.Sum(nil)), nil
}

// prefix keeps the first len(b) bytes written to it.
type prefix struct {
	b []byte
	n int
}

func (p *prefix) Write(q []byte) (int, error) {
	if p.n < len(p.b) {
		p.n += copy(p.b[p.n:], q)
	}
	return len(q), nil
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// Describe lists the sources, one line each, for help texts.
func Describe() string {
	var lines []string
	for _, s := range sources {
		lines = append(lines, fmt.Sprintf("  %-16s %s", s.Name, s.About))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

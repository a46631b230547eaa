package predict

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Row is one output row: an input's id and file, and either the predicted
// class and the probability of each class, or the reason it failed.
type Row struct {
	ID, File  string
	Carry     []string // values of the WithCarried columns
	Class     int      // -1 when Err is set
	ClassName string
	Probs     []float32 // by class number; nil when Err is set
	Novelty   float64   // the model's novelty score (WithNovelty; NaN when Err is set)
	Warning   string    // why the input looks unlike the model's galaxies, or ""
	Err       string
}

// Option adds columns to the output.
type Option func(*columns)

type columns struct {
	novelty bool
	carried []string
}

// WithCarried adds columns whose values the items carry, after file
// (Item.Carry: a catalog's Carried columns, or DataColumns).
func WithCarried(names []string) Option { return func(c *columns) { c.carried = names } }

// WithNovelty adds the columns novelty (the model's novelty score, see
// model.Novelty) and warning (empty, or why the input looks unlike the
// galaxies the model knows), before error.
func WithNovelty() Option { return func(c *columns) { c.novelty = true } }

func columnsOf(opts []Option) columns {
	var c columns
	for _, o := range opts {
		o(&c)
	}
	return c
}

// ColumnName makes a class name safe as a column name: lower case, every
// run of characters other than a-z and 0-9 becomes one "_", none at either
// end ("face-on spiral" -> "face_on_spiral", "Don't know" -> "don_t_know").
// An empty result becomes the class number.
func ColumnName(name string, class int) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
		} else {
			under = true
		}
	}
	if b.Len() == 0 {
		return strconv.Itoa(class)
	}
	return b.String()
}

// Header returns the output columns for the classes: id, file, class,
// class_name, p_<ColumnName> per class (a repeated name gets _2, _3, ...),
// novelty and warning with WithNovelty, error.
func Header(classes []string, opts ...Option) []string {
	h := append([]string{"id", "file"}, columnsOf(opts).carried...)
	h = append(h, "class", "class_name")
	seen := map[string]int{}
	for c, n := range classes {
		col := "p_" + ColumnName(n, c)
		seen[col]++
		if k := seen[col]; k > 1 {
			col += "_" + strconv.Itoa(k)
		}
		h = append(h, col)
	}
	if columnsOf(opts).novelty {
		h = append(h, "novelty", "warning")
	}
	return append(h, "error")
}

// Formats of the output.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// Writer writes rows as CSV (with a header line) or JSON lines (one object
// a line, keys the CSV columns; class is null and the probabilities absent
// on an error row).
type Writer struct {
	format string
	header []string
	k      int // classes
	cols   columns
	bw     *bufio.Writer
	cw     *csv.Writer
	buf    []byte
}

// NewWriter returns a writer for the classes; header says whether to write
// the CSV header first.
func NewWriter(w io.Writer, format string, classes []string, header bool, opts ...Option) (*Writer, error) {
	wr := &Writer{format: format, header: Header(classes, opts...), k: len(classes), cols: columnsOf(opts), bw: bufio.NewWriterSize(w, 64<<10)}
	switch format {
	case FormatCSV:
		wr.cw = csv.NewWriter(wr.bw)
		if header {
			wr.cw.Write(wr.header)
		}
	case FormatJSONL:
	default:
		return nil, fmt.Errorf("unknown output format %q (want csv or jsonl)", format)
	}
	return wr, nil
}

func fmtProb(p float32) string { return strconv.FormatFloat(float64(p), 'g', 6, 32) }

// carried returns the row's value of carried column j ("" when none).
func carried(r Row, j int) string {
	if j < len(r.Carry) {
		return r.Carry[j]
	}
	return ""
}

func fmtNovelty(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// oneLine keeps error messages to one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

// Write writes one row (buffered; Flush writes it out).
func (w *Writer) Write(r Row) error {
	if w.cw != nil {
		rec := make([]string, 0, len(w.header))
		cls := ""
		if r.Err == "" {
			cls = strconv.Itoa(r.Class)
		}
		rec = append(rec, r.ID, r.File)
		for j := range w.cols.carried {
			rec = append(rec, carried(r, j))
		}
		rec = append(rec, cls, r.ClassName)
		for c := 0; c < w.k; c++ {
			if r.Probs != nil {
				rec = append(rec, fmtProb(r.Probs[c]))
			} else {
				rec = append(rec, "")
			}
		}
		if w.cols.novelty {
			nov := ""
			if r.Err == "" {
				nov = fmtNovelty(r.Novelty)
			}
			rec = append(rec, nov, r.Warning)
		}
		rec = append(rec, oneLine(r.Err))
		return w.cw.Write(rec)
	}
	b := w.buf[:0]
	str := func(s string) { q, _ := json.Marshal(s); b = append(b, q...) }
	b = append(b, `{"id":`...)
	str(r.ID)
	b = append(b, `,"file":`...)
	str(r.File)
	for j, c := range w.cols.carried {
		b = append(b, ',')
		str(c)
		b = append(b, ':')
		str(carried(r, j))
	}
	if r.Err == "" {
		b = append(b, `,"class":`...)
		b = strconv.AppendInt(b, int64(r.Class), 10)
		b = append(b, `,"class_name":`...)
		str(r.ClassName)
		for c, p := range r.Probs {
			b = append(b, ',')
			str(w.header[4+len(w.cols.carried)+c])
			b = append(b, ':')
			b = append(b, fmtProb(p)...)
		}
		if w.cols.novelty {
			b = append(b, `,"novelty":`...)
			b = append(b, fmtNovelty(r.Novelty)...)
			b = append(b, `,"warning":`...)
			str(r.Warning)
		}
		b = append(b, `,"error":""}`...)
	} else {
		b = append(b, `,"class":null,"class_name":"","error":`...)
		str(r.Err)
		b = append(b, '}')
	}
	b = append(b, '\n')
	w.buf = b
	_, err := w.bw.Write(b)
	return err
}

// Flush writes buffered rows out.
func (w *Writer) Flush() error {
	if w.cw != nil {
		w.cw.Flush()
		if err := w.cw.Error(); err != nil {
			return err
		}
	}
	return w.bw.Flush()
}

// Resume prepares an output file for --resume: it drops a partial last line
// (a run killed mid-write), checks the header, and returns how many rows are
// complete, the file of the last one, and whether a header is there. The
// file is opened for appending by the caller afterwards.
func Resume(path, format string, classes []string, opts ...Option) (rows int, lastFile string, hasHeader bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if os.IsNotExist(err) {
		return 0, "", false, nil
	}
	if err != nil {
		return 0, "", false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, "", false, err
	}
	// Find the end of the last complete line, reading backwards.
	end := fi.Size()
	buf := make([]byte, 64<<10)
	for end > 0 {
		lo := max(0, end-int64(len(buf)))
		b := buf[:end-lo]
		if _, err := f.ReadAt(b, lo); err != nil {
			return 0, "", false, err
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			end = lo + int64(i) + 1
			break
		}
		end = lo
	}
	if end != fi.Size() {
		if err := f.Truncate(end); err != nil {
			return 0, "", false, fmt.Errorf("%s: drop the partial last line: %w", path, err)
		}
	}
	r := io.NewSectionReader(f, 0, end)
	want := Header(classes, opts...)
	if format == FormatJSONL {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var v struct {
				File string `json:"file"`
			}
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				return 0, "", false, fmt.Errorf("%s: line %d is not a JSON row: cannot resume", path, rows+1)
			}
			rows++
			lastFile = v.File
		}
		return rows, lastFile, false, sc.Err()
	}
	cr := csv.NewReader(bufio.NewReader(r))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, "", false, fmt.Errorf("%s: %w: cannot resume", path, err)
		}
		if !hasHeader {
			if !slices.Equal(rec, want) {
				return 0, "", false, fmt.Errorf("%s: header %q is not this model's output header %q: cannot resume", path, strings.Join(rec, ","), strings.Join(want, ","))
			}
			hasHeader = true
			continue
		}
		if len(rec) != len(want) {
			return 0, "", false, fmt.Errorf("%s: row %d has %d fields, want %d: cannot resume", path, rows+1, len(rec), len(want))
		}
		rows++
		lastFile = rec[1]
	}
	return rows, lastFile, hasHeader, nil
}

// Output is where a run's rows go: a file (resumed or new) or a stream.
type Output struct {
	*Writer
	Skip     int    // rows already in a resumed file: their inputs are skipped
	LastFile string // the file of the last of them
	file     *os.File
}

// OpenOutput opens path for the rows of a model with these classes: with
// resume, an interrupted run's file keeps its complete rows (see Resume),
// else the file is created or emptied. path "" writes to stdout (which
// cannot be resumed).
func OpenOutput(path, format string, classes []string, resume bool, stdout io.Writer, opts ...Option) (*Output, error) {
	if format != FormatCSV && format != FormatJSONL {
		return nil, fmt.Errorf("output format %q: want csv or jsonl", format)
	}
	o := &Output{}
	w, hasHead := stdout, false
	if path == "" && resume {
		return nil, fmt.Errorf("standard output cannot be resumed: name an output file")
	}
	if path != "" {
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if resume {
			var err error
			if o.Skip, o.LastFile, hasHead, err = Resume(path, format, classes, opts...); err != nil {
				return nil, err
			}
			flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		f, err := os.OpenFile(path, flags, 0o644)
		if err != nil {
			return nil, err
		}
		o.file, w = f, f
	}
	var err error
	if o.Writer, err = NewWriter(w, format, classes, format == FormatCSV && !hasHead, opts...); err != nil {
		o.Close()
		return nil, err
	}
	return o, nil
}

// Close closes the output file (nothing for a stream).
func (o *Output) Close() error {
	if o.file == nil {
		return nil
	}
	return o.file.Close()
}

package predict

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Predictions is a CSV file that predict wrote (Writer), read back column
// by column: a catalog's classifications, as the web page browses them.
type Predictions struct {
	Classes []string   // class names by number: the rows' class_name, else the p_ column less "p_"
	Carried []string   // the carried columns' names (WithCarried)
	ID      []string   // per row
	File    []string   // per row, as predict wrote it
	Carry   [][]string // per row, the carried values (nil without carried columns)
	Class   []int      // per row; -1 for an error row
	Probs   []float32  // rows x len(Classes); zeros on an error row
	Novelty []float32  // per row; NaN where the file has no novelty column or the row none
	Warning []string   // per row
	Err     []string   // per row
	Header  []string   // the file's header
}

// Len returns the number of rows.
func (p *Predictions) Len() int { return len(p.ID) }

// P returns row r's probability of class c.
func (p *Predictions) P(r, c int) float32 { return p.Probs[r*len(p.Classes)+c] }

// ReadPredictionsFile reads predict's CSV output at path (ReadPredictions).
func ReadPredictionsFile(path string) (*Predictions, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := ReadPredictions(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ReadPredictions reads predict's CSV output: the header id, file, carried
// columns, class, class_name, p_<class>..., optionally novelty and
// warning, then error (Header); any number of classes.
func ReadPredictions(r io.Reader) (*Predictions, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("empty file: want predict's CSV output (header id,file,...,class,class_name,p_...,error)")
	}
	if err != nil {
		return nil, err
	}
	head = append([]string(nil), head...)
	p := &Predictions{Header: head}
	bad := func(why string) error {
		return fmt.Errorf("header %q is not predict's CSV output (id,file,...,class,class_name,p_<class>...,[novelty,warning,]error): %s", strings.Join(head, ","), why)
	}
	if len(head) < 5 || head[0] != "id" || head[1] != "file" || head[len(head)-1] != "error" {
		return nil, bad("it must start with id,file and end with error")
	}
	ci := 2
	for ci < len(head) && head[ci] != "class" {
		ci++
	}
	if ci+1 >= len(head) || head[ci+1] != "class_name" {
		return nil, bad("no class,class_name columns")
	}
	p.Carried = head[2:ci]
	p0, end := ci+2, len(head)-1
	novelty := end-p0 >= 2 && head[end-2] == "novelty" && head[end-1] == "warning"
	if novelty {
		end -= 2
	}
	if end <= p0 {
		return nil, bad("no p_ columns")
	}
	for j := p0; j < end; j++ {
		if !strings.HasPrefix(head[j], "p_") {
			return nil, bad(fmt.Sprintf("column %q is not a probability (p_...)", head[j]))
		}
		p.Classes = append(p.Classes, strings.TrimPrefix(head[j], "p_"))
	}
	k := len(p.Classes)
	named := make([]bool, k)
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err // csv.ParseError names the line
		}
		rowErr := func(format string, a ...any) error {
			return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, a...))
		}
		p.ID, p.File = append(p.ID, rec[0]), append(p.File, rec[1])
		if len(p.Carried) > 0 {
			p.Carry = append(p.Carry, append([]string(nil), rec[2:ci]...))
		}
		p.Err = append(p.Err, rec[len(rec)-1])
		nv, warn := float32(math.NaN()), ""
		if novelty {
			if s := rec[end]; s != "" {
				v, err := strconv.ParseFloat(s, 32) // NaN: no score
				if err != nil {
					return nil, rowErr("novelty %q is not a number", s)
				}
				nv = float32(v)
			}
			warn = rec[end+1]
		}
		p.Novelty, p.Warning = append(p.Novelty, nv), append(p.Warning, warn)
		probs := make([]float32, k)
		class := -1
		if rec[ci] != "" {
			c, err := strconv.Atoi(rec[ci])
			if err != nil || c < 0 || c >= k {
				return nil, rowErr("class %q is not a class number 0..%d", rec[ci], k-1)
			}
			class = c
			if !named[c] && rec[ci+1] != "" {
				p.Classes[c], named[c] = rec[ci+1], true
			}
			for j := range k {
				v, err := strconv.ParseFloat(rec[p0+j], 32)
				if err != nil || !(v >= 0 && v <= 1) {
					return nil, rowErr("%s %q is not a probability", head[p0+j], rec[p0+j])
				}
				probs[j] = float32(v)
			}
		}
		p.Class = append(p.Class, class)
		p.Probs = append(p.Probs, probs...)
	}
	return p, nil
}

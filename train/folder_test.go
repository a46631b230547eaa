package train

import (
	"encoding/csv"
	"galaxy/data"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestFolderRead(t *testing.T) {
	dir := t.TempDir()
	if _, err := Folder(filepath.Join(dir, "nope")).Read(); err == nil || !strings.Contains(err.Error(), "no such folder") {
		t.Errorf("missing folder: %v", err)
	}
	if _, err := Folder(dir).Read(); err == nil || !strings.Contains(err.Error(), "has no model") {
		t.Errorf("folder without a model: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "curve.csv"), []byte("step,train_loss,test_loss,test_accuracy\n10,1.5,1.4,0.5\n20,1.2,1.3,x\n"), 0o644)
	if _, err := ReadCurve(filepath.Join(dir, "curve.csv")); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("bad curve: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "curve.csv"), []byte("step,train_loss,test_loss,test_accuracy\n10,1.5,1.4,0.5\n20,1.2,1.3,0.75\n"), 0o644)
	c, err := ReadCurve(filepath.Join(dir, "curve.csv"))
	if err != nil || len(c) != 2 || c[1].Step != 20 || c[1].TestAccuracy != 0.75 {
		t.Errorf("curve %+v %v", c, err)
	}
}

// TestWriteSplit: every image of a prepared set appears once, in the part a
// run uses it for; the validation part is the one the epoch trainer carves.
func TestWriteSplit(t *testing.T) {
	raw := &data.Raw{Path: "x", N: 60, H: 2, W: 2, C: 1, Space: "gz1", Pixels: make([]uint8, 60*4), Codes: make([]int, 60)}
	raw.IDs = make([]int64, 60)
	for i := range raw.Codes {
		raw.Codes[i], raw.IDs[i] = []int{0, 1, 3}[i%3], int64(1000+i)
	}
	ds, err := data.Prepare(raw, data.Options{Scheme: "morph4", Channels: "all", TestFrac: 0.2, SplitSeed: 3})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "split.csv")
	if err := WriteSplit(path, raw, ds, 0.25, 9); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 61 || strings.Join(rows[0], ",") != "index,id,label,part" {
		t.Fatalf("%d rows %v, %v", len(rows), rows[:1], err)
	}
	_, val := CarveValidation(ds.Train, 4, 0.25, 9)
	inVal := map[string]bool{}
	for _, i := range val.Index {
		inVal[strconv.Itoa(i)] = true
	}
	seen, parts := map[string]bool{}, map[string]int{}
	for _, r := range rows[1:] {
		if seen[r[0]] {
			t.Errorf("image %s twice", r[0])
		}
		seen[r[0]] = true
		parts[r[3]]++
		i, _ := strconv.Atoi(r[0])
		if r[1] != strconv.Itoa(1000+i) || (r[3] == "val") != inVal[r[0]] {
			t.Errorf("row %v: id or part wrong", r)
		}
	}
	if parts["test"] != ds.Test.Len() || parts["val"] != val.Len() || parts["train"]+parts["val"] != ds.Train.Len() {
		t.Errorf("parts %v for %d train (%d val) and %d test", parts, ds.Train.Len(), val.Len(), ds.Test.Len())
	}
}

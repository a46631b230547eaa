package train

import (
	"os"
	"path/filepath"
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

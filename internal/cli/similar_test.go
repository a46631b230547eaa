package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"galaxy/internal/shared"
	"galaxy/similar"
)

// TestEmbedSimilar embeds gz1 with a quickly trained seed network, then
// asks for the galaxies like one of them (by id and by its JPEG cutout).
func TestEmbedSimilar(t *testing.T) {
	h5 := shared.File(t, "gz1_sdss_69.h5")
	cutouts := shared.File(t, "gz1_cutouts")
	dir := t.TempDir()
	run1 := filepath.Join(dir, "run")
	if code, _, stderr := run(t, "train", "--data", h5, "--scheme", "morph4", "--channels", "g", "--steps", "3000", "--out", run1); code != 0 {
		t.Fatal(stderr)
	}
	emb := filepath.Join(dir, "emb.npz")
	if code, stdout, stderr := run(t, "embed", "--model", filepath.Join(run1, "model"), "--out", emb); code != 0 || !strings.Contains(stdout, "5618 images, 100 values each") {
		t.Fatalf("embed: %d %s %s", code, stdout, stderr)
	}
	ix, err := similar.Load(emb)
	if err != nil {
		t.Fatal(err)
	}
	id := ix.IDs[0]
	code, stdout, stderr := run(t, "similar", "--index", emb, "--id", id, "--k", "7", "--json", "--gallery", filepath.Join(dir, "g.png"))
	if code != 0 {
		t.Fatal(stderr)
	}
	var hits []similar.Hit
	if err := json.Unmarshal([]byte(stdout), &hits); err != nil {
		t.Fatal(err)
	}
	if len(hits) != 7 {
		t.Fatalf("%d hits, want 7", len(hits))
	}
	for i, h := range hits {
		if h.ID == id || h.Label == nil || (i > 0 && hits[i-1].Similarity < h.Similarity) {
			t.Errorf("hit %d %+v: the query itself, no label, or out of order", i, h)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "g.png")); err != nil || st.Size() == 0 {
		t.Errorf("no gallery: %v", err)
	}
	// A galaxy's own cutout finds the galaxy first.
	ents, _ := os.ReadDir(cutouts)
	var jpeg string
	for _, e := range ents {
		if _, err := ix.Row(strings.TrimSuffix(e.Name(), ".jpeg")); err == nil && strings.HasSuffix(e.Name(), ".jpeg") {
			jpeg = e.Name()
			break
		}
	}
	code, stdout, stderr = run(t, "similar", "--index", emb, "--query", filepath.Join(cutouts, jpeg), "--k", "3")
	if code != 0 || !strings.Contains(strings.SplitN(stdout, "\n", 2)[0], strings.TrimSuffix(jpeg, ".jpeg")) {
		t.Errorf("query by the cutout of %s: %d\n%s%s", jpeg, code, stdout, stderr)
	}
	for _, bad := range [][]string{{"similar", "--index", emb}, {"similar", "--index", emb, "--id", "nope"}, {"similar", "--index", filepath.Join(dir, "none.npz"), "--id", id}} {
		if code, _, stderr := run(t, bad...); code == 0 || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want a one-line error", bad, code, stderr)
		}
	}
}

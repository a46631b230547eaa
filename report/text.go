package report

import (
	"fmt"
	"io"

	"galaxy/data"
	"galaxy/eval"
	"galaxy/render"
)

// Mistakes is galaxy errors' answer: the mistakes on a split, the worst of
// them and the gallery that shows them. It marshals as the command's JSON.
type Mistakes struct {
	Split    string            `json:"split"`
	Accuracy float64           `json:"accuracy"`
	Mistakes *eval.Mistakes    `json:"mistakes"`
	Worst    []eval.Prediction `json:"worst"`
	Gallery  string            `json:"gallery,omitempty"`
	a        *Analysis
}

// ReportMistakes picks the worst mistakes (at most worst) of the analysis
// of split, and with gallery set draws them there as a PNG of cols tiles a
// row (MistakeGallery).
func ReportMistakes(a *Analysis, split string, worst, cols int, gallery string) (*Mistakes, error) {
	if worst < 0 || cols < 0 {
		return nil, fmt.Errorf("%d worst mistakes in %d columns: must not be negative", worst, cols)
	}
	r := &Mistakes{Split: split, Accuracy: a.Metrics.Accuracy, Mistakes: a.Mistakes, a: a}
	if gallery == "" || worst == 0 {
		r.Worst = eval.Worst(a.Preds, worst)
		return r, nil
	}
	img, shown, err := MistakeGallery(a, worst, cols)
	if err != nil {
		return nil, err
	}
	if img != nil {
		if err := render.WritePNG(gallery, img); err != nil {
			return nil, err
		}
	}
	r.Worst = shown
	if len(shown) > 0 {
		r.Gallery = gallery
	}
	return r, nil
}

// WriteText writes what galaxy errors prints: the count of mistakes and
// how many had the true class second, the rank of the true class, the
// pairs most confused (at most pairs), the worst mistakes and the gallery.
func (r *Mistakes) WriteText(w io.Writer, pairs int) {
	a, worst, split := r.a, r.Worst, r.Split
	mk, classes := a.Mistakes, a.Model.Meta.Classes
	fmt.Fprintf(w, "%d %s images: %d misclassified (%.1f%%), accuracy %.4f\n", mk.N, split, mk.Wrong, 100*float64(mk.Wrong)/float64(mk.N), a.Metrics.Accuracy)
	if mk.Wrong == 0 {
		fmt.Fprintln(w, "no mistakes")
		return
	}
	fmt.Fprintf(w, "second choice right in %d of %d mistakes (%.1f%%)\n\n", mk.SecondRight, mk.Wrong, 100*mk.SecondFrac)
	fmt.Fprintf(w, "rank of the true class\n%6s %8s %9s\n", "rank", "images", "top-k acc")
	for r, n := range mk.RankCounts {
		fmt.Fprintf(w, "%6d %8d %9.4f\n", r+1, n, mk.TopK[r])
	}
	width := len("true class")
	for _, c := range classes {
		width = max(width, len(c))
	}
	if pairs > 0 && len(mk.Pairs) > 0 {
		fmt.Fprintf(w, "\nmost confused (true -> predicted)\n")
		for i, p := range mk.Pairs {
			if i == pairs {
				break
			}
			fmt.Fprintf(w, "  %-*s -> %-*s %5d  (%.1f%% of %s, %.1f%% of mistakes)\n", width, classes[p.True], width, classes[p.Pred], p.Count,
				100*p.OfTrue, classes[p.True], 100*p.OfErrors)
		}
	}
	if len(worst) > 0 {
		fmt.Fprintf(w, "\nworst mistakes (most confident wrong; --index for galaxy inspect --split %s)\n", split)
		fmt.Fprintf(w, "%6s  %-*s  %-*s  %6s  %s\n", "index", width, "true class", width, "predicted", "p", "second choice")
		for _, p := range worst {
			second := classes[p.Second]
			if p.SecondHit {
				second += " (right)"
			}
			fmt.Fprintf(w, "%6d  %-*s  %-*s  %6.3f  %s\n", p.Index, width, classes[p.True], width, classes[p.Pred], p.Conf, second)
		}
	}
	if r.Gallery != "" { // set only when it shows mistakes
		fmt.Fprintf(w, "wrote %s (%d worst mistakes)\n", r.Gallery, len(worst))
	}
}

// Inspection is galaxy inspect's answer for one galaxy of a split: the
// model's ranked classes beside the true one. It marshals as the command's
// JSON; WriteText prints it.
type Inspection struct {
	Split     string   `json:"split"`
	Index     int      `json:"index"`
	FileIndex int      `json:"file_index"`
	ID        *int64   `json:"id,omitempty"`
	True      int      `json:"true"`
	TrueName  string   `json:"true_name"`
	Predicted int      `json:"predicted"`
	Correct   bool     `json:"correct"`
	TrueRank  int      `json:"true_rank"`
	Ranked    []Ranked `json:"ranked"`
	Picture   string   `json:"picture"`
}

// Ranked is one class of an Inspection, best first.
type Ranked struct {
	Rank        int     `json:"rank"`
	Class       int     `json:"class"`
	Name        string  `json:"name"`
	Probability float32 `json:"probability"`
	Logit       float32 `json:"logit"`
}

// NewInspection describes one (Inspect of image one.Index of s, the split
// named split) with the model's class names; picture names its PNG.
func NewInspection(one *One, s *data.Split, classes []string, split, picture string) *Inspection {
	in := &Inspection{Split: split, Index: one.Index, FileIndex: s.Index[one.Index], True: one.True, TrueName: classes[one.True],
		Predicted: one.Ranking[0], Correct: one.Ranking[0] == one.True, Picture: picture}
	if s.IDs != nil {
		in.ID = &s.IDs[one.Index]
	}
	for pos, c := range one.Ranking {
		in.Ranked = append(in.Ranked, Ranked{pos + 1, c, classes[c], one.Probs[c], one.Logits[c]})
		if c == one.True {
			in.TrueRank = pos + 1
		}
	}
	return in
}

// Title is the picture's title: the galaxy, its true and predicted class.
func (in *Inspection) Title() string {
	verdict := "right"
	if !in.Correct {
		verdict = "wrong"
	}
	return fmt.Sprintf("%s galaxy %d: true %s, predicted %s (%s)", in.Split, in.Index, in.TrueName, in.Ranked[0].Name, verdict)
}

// WriteText writes the inspection as galaxy inspect prints it.
func (in *Inspection) WriteText(w io.Writer) {
	fmt.Fprintf(w, "galaxy %d of the %s split (image %d of the file", in.Index, in.Split, in.FileIndex)
	if in.ID != nil {
		fmt.Fprintf(w, ", id %d", *in.ID)
	}
	fmt.Fprintf(w, "); true class: %s\n", in.TrueName)
	width := len("class")
	for _, r := range in.Ranked {
		width = max(width, len(r.Name))
	}
	fmt.Fprintf(w, "%4s  %-*s  %11s  %9s\n", "rank", width, "class", "probability", "logit")
	for _, r := range in.Ranked {
		mark := ""
		if r.Class == in.True {
			mark = "  <- true class"
		}
		fmt.Fprintf(w, "%4d  %-*s  %11.4f  %9.4f%s\n", r.Rank, width, r.Name, r.Probability, r.Logit, mark)
	}
	best := in.Ranked[0]
	if in.Correct {
		fmt.Fprintf(w, "right: predicted %s with probability %.4f\n", best.Name, best.Probability)
	} else {
		fmt.Fprintf(w, "wrong: predicted %s with probability %.4f; the true class is ranked %s\n", best.Name, best.Probability, ordinal(in.TrueRank))
	}
	fmt.Fprintf(w, "wrote %s\n", in.Picture)
}

// ordinal writes 1st, 2nd, 3rd, 4th, ...
func ordinal(n int) string {
	suf := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suf = "st"
		case 2:
			suf = "nd"
		case 3:
			suf = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suf)
}

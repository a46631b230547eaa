package cli

import (
	"encoding/json"
	"fmt"
	"image"

	"github.com/spf13/cobra"

	"galaxy/data/load"
	"galaxy/render"
	"galaxy/similar"
)

func newEmbedCmd(env Env) *cobra.Command {
	var (
		df         dataFlags
		mpath, out string
	)
	cmd := &cobra.Command{
		Use:   "embed [--model M|builtin] [--data FILE] --out emb.npz",
		Short: "Write a model's representation of every image of a data file, for galaxy similar",
		Long: `embed runs every image of a data file (both splits) through a model and writes, per image,
the features its output layer classifies from: for a cnn the pooled features of its last
block (averaged over the 8 rotations and flips with TTA), for seed-mlp its hidden layer.
--out is a NumPy .npz: embedding float32 (N, D), label, row (the image's position in the
file), part (0 train, 1 test), novelty (the model's novelty score of the image; NaN for a
model without novelty statistics), and as UTF-8 text, one per line: id_utf8, file_utf8,
classes_utf8, source_utf8 (the model, the data file). The data file, scheme and channels
default to the model's own; another file's images must have the model's size and
channels, its classes may differ.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadModel(&mpath, env.Stderr)
			if err != nil {
				return err
			}
			ds, err := loadDataFor(cmd, env, &df, m)
			if err != nil {
				return err
			}
			ix, err := similar.Embed(m, ds, mpath, ds.Source)
			if err != nil {
				return err
			}
			if err := ix.Save(out); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "wrote %s: %d images, %d values each\n", out, ix.Len(), ix.Dim)
			return nil
		},
	}
	df.register(cmd, "all")
	fl := cmd.Flags()
	modelFlag(fl, &mpath)
	fl.StringVar(&out, "out", "", "the .npz file to write")
	cmd.MarkFlagRequired("out")
	return cmd
}

func newSimilarCmd(env Env) *cobra.Command {
	var (
		index, id, query, gallery string
		k, scale                  int
		asJSON                    bool
	)
	cmd := &cobra.Command{
		Use:   "similar --index emb.npz (--id ID | --query IMAGE) [--k 10] [--json] [--gallery F.png]",
		Short: "List the galaxies most like one, by cosine similarity of a model's representations",
		Long: `similar searches an index that galaxy embed wrote for the k images most like one of its
own (--id, the image itself left out) or like an image file (--query: JPEG, PNG or FITS,
prepared and embedded by the index's model), by cosine similarity, exactly. It prints
rank, similarity, id, class and file, or with --json a list of {row, id, file,
similarity, label}; --gallery draws the query and its neighbours.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (id == "") == (query == "") {
				return fmt.Errorf("give one of --id ID and --query IMAGE")
			}
			ix, err := similar.Load(index)
			if err != nil {
				return err
			}
			var hits []similar.Hit
			var q image.Image
			if id != "" {
				hits, err = ix.ByID(id, k)
			} else {
				hits, q, err = ix.ByImage(query, k)
			}
			if err != nil {
				return err
			}
			if gallery != "" {
				raw, err := load.File(ix.Data, load.Options{})
				if err != nil {
					return fmt.Errorf("the images of the index: %w", err)
				}
				img, err := ix.Gallery(hits, q, raw, scale)
				if err == nil {
					err = render.WritePNG(gallery, img)
				}
				if err != nil {
					return err
				}
			}
			if asJSON {
				return json.NewEncoder(env.Stdout).Encode(hits)
			}
			similar.WriteText(env.Stdout, hits)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&index, "index", "", "the .npz galaxy embed wrote")
	fl.StringVar(&id, "id", "", "the object id of an image in the index")
	fl.StringVar(&query, "query", "", "an image file to find galaxies like")
	fl.IntVar(&k, "k", 10, "how many neighbours")
	fl.BoolVar(&asJSON, "json", false, "print the neighbours as a JSON list")
	fl.StringVar(&gallery, "gallery", "", "also draw the query and neighbours into this PNG")
	fl.IntVar(&scale, "scale", 2, "upscaling of the gallery's images")
	cmd.MarkFlagRequired("index")
	return cmd
}

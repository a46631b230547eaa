package cli

import (
	"encoding/json"
	"fmt"
	"image"
	"strings"

	"github.com/spf13/cobra"

	"galaxy/data"
	"galaxy/data/cutout"
	"galaxy/data/load"
	"galaxy/model/builtin"
	"galaxy/predict"
	"galaxy/render"
	"galaxy/similar"
)

func newEmbedCmd(env Env) *cobra.Command {
	var (
		df         dataFlags
		mpath, out string
		cat        predict.CatalogOptions
	)
	cmd := &cobra.Command{
		Use:   "embed [--model M|builtin] (--data FILE | INPUT...) --out emb.npz",
		Short: "Write a model's representation of every image of a data file or of cutouts, for galaxy similar",
		Long: `embed runs through a model every image of a data file (--data; both splits) or the
JPEG, PNG or FITS cutouts named as INPUT (files, folders, catalog CSVs as predict reads
them; no labels needed; prepared as predict prepares them, a batch in memory at a time;
an unreadable one is left out with a message), and writes, per image, the features its
output layer classifies from: for a cnn the pooled features of its last block (averaged
over the 8 rotations and flips with TTA), for seed-mlp its hidden layer. --out is a
NumPy .npz: embedding float32 (N, D), label (-1: none), row (the image's position in the
file or among the inputs), part (0 train, 1 test, -1 an input), novelty (the model's
novelty score of the image; NaN for a model without novelty statistics), and as UTF-8
text, one per line: id_utf8, file_utf8, classes_utf8, source_utf8 (the model, the data).
The data file, scheme and channels default to the model's own; another file's images
must have the model's size and channels, its classes may differ.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadModel(&mpath, env.Stderr)
			if err != nil {
				return err
			}
			var ix *similar.Index
			if len(args) > 0 {
				if cmd.Flags().Changed("data") {
					return fmt.Errorf("give --data FILE (a labelled data set) or INPUT... (cutouts), not both")
				}
				if err := noDataFiles(args); err != nil {
					return err
				}
				var iterErr error
				var bad []similar.Unreadable
				cat.FileColumn = df.Source.Read.FileColumn
				ix, bad, err = similar.EmbedInputs(m, predict.Inputs(args, cat, &iterErr), mpath, strings.Join(args, " "), cutout.Limits{})
				if iterErr != nil {
					return iterErr
				}
				for _, b := range bad {
					fmt.Fprintf(env.Stderr, "%s: %v (left out)\n", b.File, b.Err)
				}
			} else {
				var ds *data.Dataset
				if ds, err = loadDataFor(cmd, env, &df, m); err != nil {
					return err
				}
				ix, err = similar.Embed(m, ds, mpath, ds.Source)
			}
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
	fl.StringVar(&cat.IDColumn, "id-column", "", "catalog column with the id (default id, objid or galaxy_id when present, else the file's name)")
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
				images, err := indexImages(ix, scale)
				if err != nil {
					return fmt.Errorf("the images of the index: %w", err)
				}
				img, err := ix.Gallery(hits, q, images)
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

// indexImages draws an index's rows: from their cutout files (an index of
// inputs) as the index's model sees them, else from its data file.
func indexImages(ix *similar.Index, scale int) (similar.Images, error) {
	if ix.FromCutouts() {
		m, err := builtin.Load(ix.Model)
		if err != nil {
			return nil, err
		}
		return ix.FileImages(m, scale)
	}
	raw, err := load.File(ix.Data, load.Options{})
	if err != nil {
		return nil, err
	}
	return ix.RawImages(raw, scale), nil
}

package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"galaxy/render"
)

func newShowCmd(env Env) *cobra.Command {
	var (
		df    dataFlags
		index int
		split string
		out   string
		scale int
	)
	cmd := &cobra.Command{
		Use:   "show --data FILE --index I [--split train|test|all] [--out img.png]",
		Short: "Draw one galaxy as a PNG and print its label",
		Long: `show draws galaxy I of a split as a PNG a person can look at: upscaled, row 0 at the
top as matplotlib's matshow draws it, with the viridis colour map (normalised from the
image's minimum to maximum) for one channel and true colour for three. It prints the
label as a one-hot vector, the class number and the class name.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, ds, err := df.load(env.Stderr)
			if err != nil {
				return err
			}
			s, err := ds.Split(split)
			if err != nil {
				return err
			}
			if index < 0 || index >= s.Len() {
				return fmt.Errorf("--index %d out of range: the %s split of %s has %d images (0..%d)", index, split, raw.Path, s.Len(), s.Len()-1)
			}
			if scale < 1 || scale > 64 {
				return fmt.Errorf("--scale %d: want 1..64", scale)
			}
			img, err := render.Galaxy(s.Image(index), s.H, s.W, s.C, scale)
			if err != nil {
				return fmt.Errorf("show: %w (choose --channels g or all)", err)
			}
			if out == "" {
				out = fmt.Sprintf("galaxy-%s-%d.png", split, index)
			}
			if err := render.WritePNG(out, img); err != nil {
				return err
			}
			y := s.Labels[index]
			onehot := make([]string, ds.Scheme.K())
			for c := range onehot {
				onehot[c] = "0"
				if c == y {
					onehot[c] = "1"
				}
			}
			fileIdx := s.Index[index]
			fmt.Fprintf(env.Stdout, "image %d of the %s split (image %d of the file)", index, split, fileIdx)
			if s.IDs != nil {
				fmt.Fprintf(env.Stdout, ", id %d", s.IDs[index])
			}
			fmt.Fprintln(env.Stdout)
			fmt.Fprintf(env.Stdout, "label: [%s]  code %d (%s labels)  class %d %q (scheme %s)\n",
				strings.Join(onehot, " "), raw.Codes[fileIdx], raw.Space, y, ds.Scheme.Classes[y], ds.Scheme.Name)
			fmt.Fprintf(env.Stdout, "wrote %s (%dx%d)\n", out, img.Bounds().Dx(), img.Bounds().Dy())
			return nil
		},
	}
	df.register(cmd, "all")
	fl := cmd.Flags()
	fl.IntVar(&index, "index", 0, "index of the galaxy within the split")
	fl.StringVar(&split, "split", "all", "train, test, or all (every kept image in file order)")
	fl.StringVar(&out, "out", "", "PNG to write (default galaxy-SPLIT-INDEX.png)")
	fl.IntVar(&scale, "scale", 6, "upscaling factor")
	return cmd
}

package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"galaxy/data/synth"
	"galaxy/render"
)

func newSynthCmd(env Env) *cobra.Command {
	var job synth.Job
	cmd := &cobra.Command{
		Use:   "synth [--scheme course5|galaxy10|galaxy10-decals] [--n N] [--seed S] [--size PX] --out F.h5 [--montage F.png]",
		Short: "Render synthetic galaxies of known classes (Galaxy10 HDF5 layout)",
		Long: `synth renders realistic synthetic SDSS cutouts from physical models: Sersic spheroids and
bulges, exponential disks at random inclination and position angle, edge-on disks with
and without bulges (and dust lanes), face-on disks with and without bars and logarithmic
spiral arms of the class's tightness, band colours that differ for bulge, disk and arms,
a point-spread function, sky with Poisson and read noise, and now and then stars and
neighbouring galaxies. Same seed, same bytes.

--out writes HDF5 in the Galaxy10 layout: images uint8 (N,69,69,3) with channels i, r, g
(as the SDSS composites' R, G, B: --channels g picks the g band), ans uint8 (N,) Galaxy10
class codes, attribute class_names. --size draws the same galaxies on a finer (or
coarser) pixel grid. --scheme course5 renders the assignment's classes (Galaxy10 0, 1, 2,
4, 7), galaxy10 all ten, in equal numbers; galaxy10-decals the ten Galaxy10 DECaLS classes
(mergers and disturbed galaxies too) in the layout of Galaxy10_DECals.h5: --size 256 only,
DECaLS class numbers in ans, and ra, dec, redshift and pxscale. --montage draws the first
--per-class galaxies of each class, one row per class.

With the defaults (course5, 6000 galaxies, seed 1) the set is the built-in one that
` + "`galaxy train`" + ` uses without --data and that --data synth names.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := job.Check(); err != nil {
				return err
			}
			start := time.Now()
			raw, err := synth.Generate(job.Options)
			if err != nil {
				return err
			}
			el := time.Since(start)
			fmt.Fprintf(env.Stderr, "rendered %d %s galaxies (%dx%d, seed %d) in %.2fs: %.0f galaxies/s\n", raw.N, job.Scheme, raw.H, raw.W, job.Seed, el.Seconds(), float64(raw.N)/el.Seconds())
			if job.Out != "" {
				if err := synth.WriteFile(job.Out, raw, job.Options); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "wrote %s (%d galaxies, scheme %s, seed %d)\n", job.Out, raw.N, job.Scheme, job.Seed)
			}
			if job.Montage != "" {
				img, err := render.Montage(raw, job.PerClass, job.Scale)
				if err != nil {
					return err
				}
				if err := render.WritePNG(job.Montage, img); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "wrote %s (%dx%d)\n", job.Montage, img.Bounds().Dx(), img.Bounds().Dy())
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&job.Scheme, "scheme", synth.DefaultScheme, "classes to render: course5 (Galaxy10 0, 1, 2, 4, 7), galaxy10 or galaxy10-decals")
	fl.IntVar(&job.N, "n", synth.DefaultN, "number of galaxies")
	fl.Uint64Var(&job.Seed, "seed", synth.DefaultSeed, "random seed")
	fl.IntVar(&job.Size, "size", synth.DefaultSize, fmt.Sprintf("side of the cutouts in pixels (%d to %d)", synth.MinSize, synth.MaxSize))
	fl.StringVar(&job.Out, "out", "", "HDF5 file to write (Galaxy10 layout)")
	fl.StringVar(&job.Montage, "montage", "", "PNG of the first --per-class galaxies of each class")
	fl.IntVar(&job.PerClass, "per-class", 8, "galaxies per class in the montage")
	fl.IntVar(&job.Scale, "scale", 2, "upscaling of the montage's galaxies")
	return cmd
}

package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"galaxy/data/synth"
	"galaxy/render"
)

func newSynthCmd(env Env) *cobra.Command {
	var (
		schemeName string
		n          int
		seed       uint64
		out        string
		montage    string
		perClass   int
		scale      int
	)
	cmd := &cobra.Command{
		Use:   "synth [--scheme course5|galaxy10] [--n N] [--seed S] --out F.h5 [--montage F.png]",
		Short: "Render synthetic galaxies of known classes (Galaxy10 HDF5 layout)",
		Long: `synth renders realistic synthetic SDSS cutouts from physical models: Sersic spheroids and
bulges, exponential disks at random inclination and position angle, edge-on disks with
and without bulges (and dust lanes), face-on disks with and without logarithmic spiral
arms of the class's tightness, band colours that differ for bulge, disk and arms, a
point-spread function, sky with Poisson and read noise, and now and then stars and
neighbouring galaxies. Same seed, same bytes.

--out writes HDF5 in the Galaxy10 layout: images uint8 (N,69,69,3) with channels i, r, g
(as the SDSS composites' R, G, B: --channels g picks the g band), ans uint8 (N,) Galaxy10
class codes, attribute class_names. --scheme course5 renders the assignment's classes
(Galaxy10 0, 1, 2, 4, 7), galaxy10 all ten, in equal numbers. --montage draws the first
--per-class galaxies of each class, one row per class.

With the defaults (course5, 6000 galaxies, seed 1) the set is the built-in one that
` + "`galaxy train`" + ` uses without --data and that --data synth names.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" && montage == "" {
				return fmt.Errorf("nothing to write: give --out FILE.h5 and/or --montage FILE.png")
			}
			codes, err := synth.Codes(schemeName)
			if err != nil {
				return fmt.Errorf("--scheme %q: want course5 or galaxy10", schemeName)
			}
			if n < len(codes) || n > synth.MaxN {
				return fmt.Errorf("--n %d: want %d (one galaxy per class) to %d galaxies", n, len(codes), synth.MaxN)
			}
			if perClass < 1 || perClass > 100 {
				return fmt.Errorf("--per-class %d: want 1 to 100", perClass)
			}
			if scale < 1 || scale > 16 {
				return fmt.Errorf("--scale %d: want 1 to 16", scale)
			}
			for _, p := range []string{out, montage} {
				if p == "" {
					continue
				}
				if st, err := os.Stat(filepath.Dir(p)); err != nil || !st.IsDir() {
					return fmt.Errorf("cannot write %s: no folder %s", p, filepath.Dir(p))
				}
			}
			start := time.Now()
			raw, err := synth.Generate(synth.Options{Scheme: schemeName, N: n, Seed: seed})
			if err != nil {
				return err
			}
			el := time.Since(start)
			fmt.Fprintf(env.Stderr, "rendered %d %s galaxies (seed %d) in %.2fs: %.0f galaxies/s\n", n, schemeName, seed, el.Seconds(), float64(n)/el.Seconds())
			if out != "" {
				src := fmt.Sprintf("galaxy synth --scheme %s --n %d --seed %d", schemeName, n, seed)
				if err := synth.WriteFile(out, raw, src); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "wrote %s (%d galaxies, scheme %s, seed %d)\n", out, n, schemeName, seed)
			}
			if montage != "" {
				img, err := render.Montage(raw, perClass, scale)
				if err != nil {
					return err
				}
				if err := render.WritePNG(montage, img); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "wrote %s (%dx%d)\n", montage, img.Bounds().Dx(), img.Bounds().Dy())
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&schemeName, "scheme", synth.DefaultScheme, "classes to render: course5 (Galaxy10 0, 1, 2, 4, 7) or galaxy10")
	fl.IntVar(&n, "n", synth.DefaultN, "number of galaxies")
	fl.Uint64Var(&seed, "seed", synth.DefaultSeed, "random seed")
	fl.StringVar(&out, "out", "", "HDF5 file to write (Galaxy10 layout)")
	fl.StringVar(&montage, "montage", "", "PNG of the first --per-class galaxies of each class")
	fl.IntVar(&perClass, "per-class", 8, "galaxies per class in the montage")
	fl.IntVar(&scale, "scale", 2, "upscaling of the montage's galaxies")
	return cmd
}

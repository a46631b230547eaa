package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func newInfoCmd(env Env) *cobra.Command {
	var df dataFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info --data FILE [--scheme S] [--json]",
		Short: "Print a data file's shapes, class counts per split and the majority-class accuracy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			log := env.Stderr
			if !asJSON {
				log = env.Stdout
			}
			raw, ds, err := df.load(log)
			if err != nil {
				return err
			}
			type class struct {
				Name  string `json:"name"`
				Train int    `json:"train"`
				Test  int    `json:"test"`
			}
			out := struct {
				File             string  `json:"file"`
				Read             int     `json:"read"`
				N                int     `json:"n"`
				Dropped          int     `json:"dropped"`
				Height           int     `json:"height"`
				Width            int     `json:"width"`
				Channels         int     `json:"channels"`
				FileChannels     int     `json:"file_channels"`
				Scheme           string  `json:"scheme"`
				LabelSpace       string  `json:"label_space"`
				PresetSplit      bool    `json:"preset_split"`
				Train            int     `json:"train"`
				Test             int     `json:"test"`
				Classes          []class `json:"classes"`
				MajorityAccuracy float64 `json:"majority_accuracy"`
			}{File: raw.Path, Read: raw.N, N: ds.All.Len(), Dropped: ds.DroppedCount(), Height: ds.H, Width: ds.W,
				Channels: ds.C, FileChannels: raw.C, Scheme: ds.Scheme.Name, LabelSpace: raw.Space, PresetSplit: ds.Preset,
				Train: ds.Train.Len(), Test: ds.Test.Len(), MajorityAccuracy: ds.MajorityAccuracy(ds.Test)}
			k := ds.Scheme.K()
			tr, te := ds.Train.Counts(k), ds.Test.Counts(k)
			for c, name := range ds.Scheme.Classes {
				out.Classes = append(out.Classes, class{Name: name, Train: tr[c], Test: te[c]})
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			printInfo(env.Stdout, out.N, out.Height, out.Width, out.Channels, out.Train, out.Test, ds.Preset, out.MajorityAccuracy)
			fmt.Fprintf(env.Stdout, "\n%-3s %-32s %7s %7s %7s\n", "", "class ("+ds.Scheme.Name+")", "train", "test", "all")
			for c, cl := range out.Classes {
				fmt.Fprintf(env.Stdout, "%-3d %-32s %7d %7d %7d\n", c, cl.Name, cl.Train, cl.Test, cl.Train+cl.Test)
			}
			return nil
		},
	}
	df.register(cmd, "all")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func printInfo(w io.Writer, n, h, wd, c, train, test int, preset bool, majority float64) {
	how := "stratified split"
	if preset {
		how = "the file's own split"
	}
	fmt.Fprintf(w, "%d images kept, %dx%d pixels, %d channel(s); %d train, %d test (%s)\n", n, h, wd, c, train, test, how)
	fmt.Fprintf(w, "majority-class accuracy on the test split: %.4f\n", majority)
}

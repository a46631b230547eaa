package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"galaxy/internal/atomicfile"
	"galaxy/model/builtin"
	"galaxy/model/onnx"
)

func newExportCmd(env Env) *cobra.Command {
	var mpath, format, out string
	cmd := &cobra.Command{
		Use:   "export --model M --format onnx --out model.onnx",
		Short: "Write a saved model as an ONNX file, to run in ONNX Runtime without galaxy",
		Long: `export writes a saved model in another format. --format onnx (the only one so far)
writes an ONNX model (IR version 8, opset 13) that ONNX Runtime runs from Python, C++,
Node.js, ...:

  input  "image"          float32 [N, H, W, C]: raw pixel values 0..255 of the model's
                          channels, HWC order (the graph scales them by 1/256 itself)
  output "logits"         float32 [N, K]: the class logits, as galaxy computes them
                          (for a cnn trained with TTA, the mean over the 8 rotations
                          and flips, done inside the graph)
  output "scores"         float32 [N, K]: sigmoid(logits) for seed-mlp; for cnn the
                          softmax, the same as probabilities
  output "probabilities"  float32 [N, K]: as galaxy predict reports them, summing to 1

The file's metadata_props hold the class names ("classes", a JSON list in output order),
the scheme, the channels taken from the source cutouts, the image size and, for cnn,
"tta". Architectures: seed-mlp, cnn and cnn-ref (batch normalisation folded into the
convolutions; outputs equal galaxy's to float32 rounding). The file is written atomically.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if mpath == "" {
				return fmt.Errorf("no model: give --model M (a model saved by galaxy train)")
			}
			if out == "" {
				return fmt.Errorf("no output file: give --out model.onnx")
			}
			if f := strings.ToLower(format); f != "onnx" {
				return fmt.Errorf("--format %q: the only export format is onnx", format)
			}
			m, err := builtin.Load(mpath)
			if err != nil {
				return err
			}
			om, err := onnx.Export(m)
			if err != nil {
				return fmt.Errorf("%s: %w", mpath, err)
			}
			b, err := om.Marshal()
			if err != nil {
				return fmt.Errorf("%s: %w", mpath, err)
			}
			if err := atomicfile.WriteBytes(out, b); err != nil {
				return err
			}
			in := m.Meta.Input
			arch := m.Meta.Arch
			for _, kv := range om.Metadata {
				if kv[0] == "tta" && kv[1] == "true" {
					arch += " with TTA (mean over 8 symmetries)"
				}
			}
			fmt.Fprintf(env.Stdout, "wrote %s: ONNX (IR %d, opset %d), %s, input image [N, %d, %d, %d] raw pixels, %d classes, %d bytes\n",
				out, om.IRVersion, om.Opset, arch, in.Height, in.Width, len(in.Channels), m.K(), len(b))
			return nil
		},
	}
	fl := cmd.Flags()
	modelFlag(fl, &mpath)
	fl.StringVar(&format, "format", "onnx", "output format: onnx")
	fl.StringVar(&out, "out", "", "file to write, e.g. model.onnx")
	return cmd
}
